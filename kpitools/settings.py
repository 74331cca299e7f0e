"""Dataset settings: the ``dataset.yml`` file that sits beside the tables.

Every key is optional; :data:`DEFAULTS` documents the defaults. Example::

    timezone: Europe/Berlin
    currency: EUR
    business_hours:
      weekly:                        # split shifts: several [start, end) intervals a day
        mon: [["08:00", "12:00"], ["13:00", "18:00"]]
        sat: []
      holidays: ["2026-12-25", "2026-12-26"]
    sla:                             # per target and priority: limit and clock
      first_response:
        urgent: {target: 1h, clock: business}
        normal: {target: 8h, clock: business}
      resolution:
        normal: {target: 5d, clock: calendar}
    targets:                         # KPI targets; direction comes from the KPI catalogue
      csat: 0.85
      nps: 30
    surveys:
      csat: {min: 1, max: 5, higher_is_better: true, top_box: 4}
      ces:  {min: 1, max: 7, higher_is_better: false, low_effort_max: 3}
    short_abandon_s: 5
    repeat_window_days: 7
    service_level_s: 20
    mapping:                         # your export's column names -> contract names
      tickets: {"Ticket ID": ticket_id, "Created": created_at}
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Settings", "SettingsError", "DEFAULTS", "parse_duration", "WEEKDAYS"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class SettingsError(ValueError):
    """``dataset.yml`` holds a value kpitools cannot use."""


_OFFICE = [["09:00", "17:00"]]

DEFAULTS: dict[str, Any] = {
    "name": "dataset",
    "timezone": "UTC",
    "currency": "USD",
    "business_hours": {
        "weekly": {d: (_OFFICE if d not in ("sat", "sun") else []) for d in WEEKDAYS},
        "holidays": [],
    },
    "sla": {
        "first_response": {
            "urgent": {"target": "1h", "clock": "business"},
            "high": {"target": "4h", "clock": "business"},
            "normal": {"target": "8h", "clock": "business"},
            "low": {"target": "24h", "clock": "business"},
        },
        "next_reply": {
            "urgent": {"target": "2h", "clock": "business"},
            "high": {"target": "8h", "clock": "business"},
            "normal": {"target": "16h", "clock": "business"},
            "low": {"target": "24h", "clock": "business"},
        },
        "resolution": {
            "urgent": {"target": "1d", "clock": "calendar"},
            "high": {"target": "3d", "clock": "calendar"},
            "normal": {"target": "5d", "clock": "calendar"},
            "low": {"target": "10d", "clock": "calendar"},
        },
    },
    "targets": {},
    "surveys": {
        "csat": {"min": 1, "max": 5, "higher_is_better": True, "top_box": 4},
        "nps": {"min": 0, "max": 10, "higher_is_better": True},
        "ces": {"min": 1, "max": 7, "higher_is_better": False, "low_effort_max": 3},
        "esat": {"min": 1, "max": 5, "higher_is_better": True, "top_box": 4},
        "qa": {"min": 0, "max": 1, "higher_is_better": True},
    },
    "short_abandon_s": 5,
    "repeat_window_days": 7,
    "service_level_s": 20,
    "self_service_window_days": 3,
    "gross_margin": 0.7,
    "utilization_burnout": 0.7,
    "exported_at": None,
    "csv": {"sep": ",", "encoding": "utf-8"},
    "mapping": {},
}

_DUR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)\s*$")
_UNIT_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any, *, where: str = "duration") -> float:
    """Parse ``"90m"``, ``"8h"``, ``"5d"`` or a number of seconds into seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m = _DUR.match(str(value))
    if not m:
        raise SettingsError(
            f"{where}: {value!r} is not a duration; write a number with a unit s, m, h, d or w "
            "(for example 90m, 8h, 5d)"
        )
    return float(m.group(1)) * _UNIT_S[m.group(2)]


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in ("mapping",):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _hhmm(s: Any, where: str) -> int:
    """'08:30' -> seconds after midnight; '24:00' allowed as end of day."""
    m = re.match(r"^(\d{1,2}):(\d{2})$", str(s).strip())
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59:
        raise SettingsError(f"{where}: {s!r} is not a time of day HH:MM")
    sec = int(m.group(1)) * 3600 + int(m.group(2)) * 60
    if sec > 86400:
        raise SettingsError(f"{where}: {s!r} is after 24:00")
    return sec


@dataclass
class Settings:
    """Validated dataset settings (see module docstring for the file format)."""

    raw: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULTS))
    source: str = "defaults"

    def __post_init__(self) -> None:
        self._validate()

    # --- construction -------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict | None, *, source: str = "dict") -> Settings:
        if data is not None and not isinstance(data, dict):
            raise SettingsError(f"{source}: expected a mapping of settings, got {type(data).__name__}")
        return cls(_merge(DEFAULTS, data or {}), source=source)

    @classmethod
    def from_yaml(cls, path: str | Path) -> Settings:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise SettingsError(f"{path}: not valid YAML ({e}); fix the file or remove it") from e
        return cls.from_dict(data, source=str(path))

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.raw, sort_keys=False, allow_unicode=True)

    # --- accessors ----------------------------------------------------------------
    @property
    def timezone(self) -> str:
        return self.raw["timezone"]

    @property
    def exported_at(self):
        """The export time (censoring cut-off) as a UTC pandas Timestamp, or None if not set."""
        v = self.raw.get("exported_at")
        if v in (None, ""):
            return None
        import pandas as pd

        ts = pd.Timestamp(str(v))
        ts = ts.tz_localize(self.timezone) if ts.tzinfo is None else ts
        return ts.tz_convert("UTC")

    @property
    def currency(self) -> str:
        return self.raw["currency"]

    @property
    def weekly_hours(self) -> dict[str, list[tuple[int, int]]]:
        """Opening intervals per weekday as (start_s, end_s) seconds after local midnight."""
        out = {}
        for d in WEEKDAYS:
            spans = self.raw["business_hours"]["weekly"].get(d) or []
            where = f"{self.source}: business_hours.weekly.{d}"
            out[d] = [(_hhmm(a, where), _hhmm(b, where)) for a, b in spans]
        return out

    @property
    def holidays(self) -> list[dt.date]:
        return [dt.date.fromisoformat(str(h)) for h in self.raw["business_hours"]["holidays"]]

    def sla(self, target: str, priority: str) -> tuple[float, str] | None:
        """(limit in seconds, clock) for an SLA target and priority, or None if not configured."""
        spec = (self.raw.get("sla") or {}).get(target, {}).get(priority)
        if spec is None:
            return None
        return parse_duration(spec["target"], where=f"sla.{target}.{priority}"), spec.get("clock", "business")

    @property
    def sla_targets(self) -> list[str]:
        return list((self.raw.get("sla") or {}).keys())

    def target(self, kpi: str) -> float | None:
        v = (self.raw.get("targets") or {}).get(kpi)
        return None if v is None else float(v)

    def survey(self, name: str) -> dict[str, Any]:
        try:
            return self.raw["surveys"][name]
        except KeyError:
            raise SettingsError(
                f"{self.source}: survey {name!r} has no declared scale; add it under 'surveys:' "
                "with min and max (scales are declared, never guessed)"
            ) from None

    def mapping(self, table: str) -> dict[str, str]:
        return dict((self.raw.get("mapping") or {}).get(table) or {})

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    # --- validation ---------------------------------------------------------------
    def _validate(self) -> None:
        src = self.source
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise SettingsError(
                f"{src}: timezone {self.timezone!r} is not an IANA time zone name "
                "(for example Europe/Berlin, America/New_York, UTC)"
            ) from None
        hours = self.weekly_hours
        for d, spans in hours.items():
            for a, b in spans:
                if b <= a:
                    raise SettingsError(f"{src}: business_hours.weekly.{d}: interval ends before it starts")
            ordered = sorted(spans)
            for (_a1, b1), (a2, _) in zip(ordered, ordered[1:], strict=False):
                if a2 < b1:
                    raise SettingsError(f"{src}: business_hours.weekly.{d}: intervals overlap")
        try:
            _ = self.holidays
        except ValueError as e:
            raise SettingsError(f"{src}: business_hours.holidays: {e}; write dates as YYYY-MM-DD") from None
        for target, per in (self.raw.get("sla") or {}).items():
            for prio, spec in (per or {}).items():
                if not isinstance(spec, dict) or "target" not in spec:
                    raise SettingsError(f"{src}: sla.{target}.{prio} needs 'target' (e.g. 8h) and 'clock'")
                parse_duration(spec["target"], where=f"{src}: sla.{target}.{prio}.target")
                if spec.get("clock", "business") not in ("business", "calendar"):
                    raise SettingsError(f"{src}: sla.{target}.{prio}.clock must be business or calendar")
        for name, spec in self.raw["surveys"].items():
            if "min" not in spec or "max" not in spec or spec["max"] <= spec["min"]:
                raise SettingsError(f"{src}: surveys.{name} needs min < max")
        if self.raw.get("exported_at") not in (None, ""):
            try:
                _ = self.exported_at
            except ValueError:
                raise SettingsError(
                    f"{src}: exported_at {self.raw['exported_at']!r} is not a timestamp; "
                    "write it like 2026-11-02T08:00:00+01:00"
                ) from None
        for k in ("short_abandon_s", "repeat_window_days", "service_level_s"):
            if not isinstance(self.raw[k], int | float) or self.raw[k] < 0:
                raise SettingsError(f"{src}: {k} must be a non-negative number, got {self.raw[k]!r}")
