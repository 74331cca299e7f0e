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

Keys for real helpdesk exports (``mapping``, ``durations``, ``values``, ``defaults``, ``ratings``,
per-table ``csv``, ``preset``, ``sla.default_priority``, ``max_excluded_share``) are described with a
worked example in docs/real-exports.md.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Settings", "SettingsError", "DEFAULTS", "parse_duration", "WEEKDAYS", "fold", "DURATION_UNITS",
           "CSV_OPTIONS"]

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
        "csat": {"min": 1, "max": 5, "step": 1, "higher_is_better": True, "top_box": 4},
        "nps": {"min": 0, "max": 10, "step": 1, "higher_is_better": True},
        "ces": {"min": 1, "max": 7, "step": 1, "higher_is_better": False, "low_effort_max": 3},
        "esat": {"min": 1, "max": 5, "step": 1, "higher_is_better": True, "top_box": 4},
        "qa": {"min": 0, "max": 1, "higher_is_better": True},  # no step: any value in 0-1
    },
    "short_abandon_s": 5,
    "repeat_window_days": 7,
    "service_level_s": 20,
    "self_service_window_days": 3,
    "gross_margin": 0.7,
    "utilization_burnout": 0.7,
    # fewer answers (or items) than this: the report shows the value greyed, "n too small", and
    # neither judges it against its target nor tests its change nor draws it in a sparkline
    "min_n": 30,
    "exported_at": None,
    "csv": {"sep": ",", "encoding": "utf-8"},
    "mapping": {},
    "durations": {},
    "values": {},
    "defaults": {},
    "ratings": {},
    "preset": None,
    "ignore_case": True,
    "max_excluded_share": 0.05,
}

#: Units of ``durations:`` and their length in seconds.
DURATION_UNITS = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0}
#: Options of a ``csv:`` block (folder-wide or per table).
CSV_OPTIONS = ("sep", "encoding", "datetime_format")
#: Keys a preset may set (the same keys as dataset.yml).
PRESET_KEYS = ("mapping", "durations", "values", "defaults", "ratings", "csv")
_MISSING_LEVEL = "(missing)"  # kpitools.kpis._core.MISSING: the level of a blank segment value


def fold(value: Any) -> str:
    """The matching form of a categorical value or settings key: trimmed and case-folded."""
    return str(value).strip().casefold()


def _closest(name: Any, choices, n: int = 3) -> str:
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=n, cutoff=0.5)
    return ("closest: " + ", ".join(close)) if close else "no close match"

_DUR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)\s*$")
_UNIT_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


class _Loader(yaml.SafeLoader):
    """YAML with the booleans of YAML 1.2: only true/false, so an export value such as ``Yes``,
    ``No``, ``On`` or ``Off`` stays text in ``values:``, ``ratings:`` and ``mapping:``."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                  [_first])


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
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _fold_keys(d: Any, where: str) -> Any:
    """Fold the keys of a settings mapping (``High`` and ``high`` are one key); clashes are errors."""
    if not isinstance(d, dict):
        return d
    out: dict = {}
    seen: dict = {}
    for k, v in d.items():
        f = fold(k)
        if f in out:
            raise SettingsError(f"{where}: keys {seen[f]!r} and {k!r} are the same key (keys match "
                                "case-insensitively); keep one")
        out[f], seen[f] = v, k
    return out


def _normalise(data: dict, where: str) -> dict:
    """Fold the case-insensitive keys of user or preset settings (SLA priorities, targets, scales)."""
    data = dict(data)
    if isinstance(data.get("sla"), dict):
        sla = _fold_keys(data["sla"], f"{where}: sla")
        for t, per in list(sla.items()):
            if t == "default_priority":
                sla[t] = fold(per) if isinstance(per, str) else per
            else:
                sla[t] = _fold_keys(per, f"{where}: sla.{t}")
        data["sla"] = sla
    for k in ("targets", "surveys"):
        if isinstance(data.get(k), dict):
            data[k] = _fold_keys(data[k], f"{where}: {k}")
    return data


def _sources(data: dict) -> set[tuple[str, str, str]]:
    """(key, table, export column) of the mapping, durations and ratings entries of ``data``."""
    out = set()
    for key in ("mapping", "durations", "ratings"):
        for table, per in (data.get(key) or {}).items():
            if isinstance(per, dict):
                out |= {(key, str(table), str(col)) for col in per}
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
    #: (key, table, export column) entries that come from the preset only: an export without
    #: such a column is fine, whereas a column the user's own settings name must exist.
    preset_only: set = field(default_factory=set)

    def __post_init__(self) -> None:
        self.raw = _normalise(self.raw, self.source)
        self._validate()

    # --- construction -------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict | None, *, source: str = "dict") -> Settings:
        if data is not None and not isinstance(data, dict):
            raise SettingsError(f"{source}: expected a mapping of settings, got {type(data).__name__}")
        data = _normalise(data or {}, source)
        base = DEFAULTS
        preset_only: set = set()
        name = data.get("preset")
        if name not in (None, ""):
            from kpitools.presets import preset

            try:
                pre = preset(name)
            except SettingsError as e:
                raise SettingsError(f"{source}: {e}") from None
            extra = sorted(set(pre) - set(PRESET_KEYS))
            if extra:
                raise SettingsError(f"{source}: preset {name!r} sets {extra}; a preset may set only {PRESET_KEYS}")
            pre = _normalise(pre, f"preset {name!r}")
            # a user mapping onto a contract column replaces the preset's mapping onto it
            for table, per in (data.get("mapping") or {}).items():
                if isinstance(per, dict) and isinstance((pre.get("mapping") or {}).get(table), dict):
                    targets = set(per.values())
                    pre["mapping"][table] = {k: v for k, v in pre["mapping"][table].items()
                                             if v not in targets or k in per}
            preset_only = _sources(pre) - _sources(data)
            base = _merge(DEFAULTS, pre)
        return cls(_merge(base, data), source=source, preset_only=preset_only)

    @classmethod
    def from_yaml(cls, path: str | Path) -> Settings:
        path = Path(path)
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader
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

    @property
    def default_priority(self) -> str | None:
        """``sla.default_priority``: the priority whose targets apply to a blank priority."""
        return (self.raw.get("sla") or {}).get("default_priority")

    def sla(self, target: str, priority: Any) -> tuple[float, str] | None:
        """(limit in seconds, clock) for an SLA target and priority, or None if not configured.

        Priorities match case-insensitively and trimmed (``High`` finds the key ``high``). A blank
        priority (None, NaN, empty or ``(missing)``) gets the targets of ``sla.default_priority``
        when that is set, else None (reported as "no target").
        """
        blank = priority is None or (isinstance(priority, float) and priority != priority) \
            or fold(priority) in ("", "nan", "<na>", _MISSING_LEVEL)
        key = self.default_priority if blank else fold(priority)
        if key is None:
            return None
        per = (self.raw.get("sla") or {}).get(fold(target))
        spec = per.get(key) if isinstance(per, dict) else None
        if spec is None:
            return None
        return parse_duration(spec["target"], where=f"sla.{target}.{key}"), spec.get("clock", "business")

    @property
    def sla_targets(self) -> list[str]:
        return [k for k in (self.raw.get("sla") or {}) if k != "default_priority"]

    def target(self, kpi: str) -> float | None:
        v = (self.raw.get("targets") or {}).get(fold(kpi))
        return None if v is None else float(v)

    def survey(self, name: str) -> dict[str, Any]:
        try:
            return self.raw["surveys"][fold(name)]
        except KeyError:
            raise SettingsError(
                f"{self.source}: survey {name!r} has no declared scale; add it under 'surveys:' "
                "with min and max (scales are declared, never guessed)"
            ) from None

    def mapping(self, table: str) -> dict[str, str]:
        """``mapping.<table>``: export column -> contract column."""
        return {str(k): str(v) for k, v in ((self.raw.get("mapping") or {}).get(table) or {}).items()}

    def durations(self, table: str) -> dict[str, dict[str, Any]]:
        """``durations.<table>``: export column -> {start, end, unit}."""
        return dict((self.raw.get("durations") or {}).get(table) or {})

    def values(self, table: str) -> dict[str, dict[str, Any]]:
        """``values.<table>``: contract column -> {export value: contract value}."""
        return dict((self.raw.get("values") or {}).get(table) or {})

    def defaults(self, table: str) -> dict[str, Any]:
        """``defaults.<table>``: contract column -> value used when the export lacks the column."""
        return dict((self.raw.get("defaults") or {}).get(table) or {})

    def ratings(self, table: str) -> dict[str, dict[str, Any]]:
        """``ratings.<table>``: export rating column -> {survey, scores, offered, not_offered, ...}."""
        return dict((self.raw.get("ratings") or {}).get(table) or {})

    def csv(self, table: str) -> dict[str, Any]:
        """CSV options of one table: the folder-wide ``csv:`` options with the table's own over them.

        The result has ``sep``, ``encoding``, ``datetime_format`` (None: ISO 8601) and
        ``encoding_explicit`` (True when the table's own block names an encoding).
        """
        c = self.raw.get("csv") or {}
        own = c.get(table) if isinstance(c.get(table), dict) else {}
        out = {k: c.get(k) for k in CSV_OPTIONS}
        out.update({k: own[k] for k in CSV_OPTIONS if k in own})
        out["sep"] = out["sep"] or ","
        out["encoding"] = out["encoding"] or "utf-8"
        out["encoding_explicit"] = "encoding" in own
        return out

    def is_preset_only(self, key: str, table: str, column: str) -> bool:
        """True when ``key.table.column`` (mapping, durations, ratings) comes from the preset only."""
        return (key, table, column) in self.preset_only

    @property
    def min_n(self) -> int:
        """Smallest sample size the report judges (setting ``min_n``, default 30)."""
        return int(self.raw["min_n"])

    @property
    def max_excluded_share(self) -> float:
        return float(self.raw["max_excluded_share"])

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
            if target == "default_priority":
                continue
            if per is not None and not isinstance(per, dict):
                raise SettingsError(f"{src}: sla.{target} must map priorities to targets (e.g. normal: "
                                    "{target: 8h, clock: business})")
            for prio, spec in (per or {}).items():
                if not isinstance(spec, dict) or "target" not in spec:
                    raise SettingsError(f"{src}: sla.{target}.{prio} needs 'target' (e.g. 8h) and 'clock'")
                parse_duration(spec["target"], where=f"{src}: sla.{target}.{prio}.target")
                if spec.get("clock", "business") not in ("business", "calendar"):
                    raise SettingsError(f"{src}: sla.{target}.{prio}.clock must be business or calendar")
        for name, spec in self.raw["surveys"].items():
            if "min" not in spec or "max" not in spec or spec["max"] <= spec["min"]:
                raise SettingsError(f"{src}: surveys.{name} needs min < max")
            step = spec.get("step")
            if step is not None and (not isinstance(step, int | float) or isinstance(step, bool) or step <= 0):
                raise SettingsError(f"{src}: surveys.{name}.step must be a positive number (1 for a scale "
                                    f"of whole points) or empty for a continuous scale, got {step!r}")
        m = self.raw.get("max_excluded_share")
        if not isinstance(m, int | float) or isinstance(m, bool) or not 0 <= m <= 1:
            raise SettingsError(f"{src}: max_excluded_share must be a share between 0 and 1 (0.05 = 5 %), "
                                f"got {m!r}")
        self._validate_exports()
        if self.raw.get("exported_at") not in (None, ""):
            try:
                _ = self.exported_at
            except ValueError:
                raise SettingsError(
                    f"{src}: exported_at {self.raw['exported_at']!r} is not a timestamp; "
                    "write it like 2026-11-02T08:00:00+01:00"
                ) from None
        mn = self.raw.get("min_n")
        if not isinstance(mn, int) or isinstance(mn, bool) or mn < 1:
            raise SettingsError(f"{src}: min_n must be a whole number of answers, at least 1 (30 by default), "
                                f"got {mn!r}")
        for k in ("short_abandon_s", "repeat_window_days", "service_level_s"):
            if not isinstance(self.raw[k], int | float) or self.raw[k] < 0:
                raise SettingsError(f"{src}: {k} must be a non-negative number, got {self.raw[k]!r}")

    def _validate_exports(self) -> None:
        """Check the export keys (mapping, durations, values, defaults, ratings, csv) against the contract."""
        from kpitools.schema import SURVEY_KINDS, TABLES

        src = self.source

        def tables_of(key: str) -> dict:
            block = self.raw.get(key) or {}
            if not isinstance(block, dict):
                raise SettingsError(f"{src}: {key} must map table names to settings, got {block!r}")
            for table, per in block.items():
                if table not in TABLES:
                    raise SettingsError(f"{src}: {key}.{table}: {table!r} is not a table of the data contract "
                                        f"({_closest(table, TABLES)}); tables: {', '.join(TABLES)}")
                if not isinstance(per, dict):
                    raise SettingsError(f"{src}: {key}.{table} must be a mapping, got {per!r}")
            return block

        def column(key: str, table: str, name: Any, where: str, dtype: str | None = None) -> None:
            names = TABLES[table].names
            if name not in names:
                raise SettingsError(f"{src}: {where}: {name!r} is not a column of table {table!r} "
                                    f"({_closest(name, names)}); columns: {', '.join(names)}")
            if dtype and TABLES[table].column(name).dtype != dtype:
                raise SettingsError(f"{src}: {where}: {name!r} is a {TABLES[table].column(name).dtype} column; "
                                    f"{key} needs a {dtype} column")

        for table, per in tables_of("mapping").items():
            seen: dict = {}
            for exp, target in per.items():
                column("mapping", table, target, f"mapping.{table}: {exp!r} -> {target!r}")
                if target in seen:
                    raise SettingsError(f"{src}: mapping.{table}: {seen[target]!r} and {exp!r} both map onto "
                                        f"{target!r}; map one export column onto each contract column")
                seen[target] = exp
        for table, per in tables_of("durations").items():
            targets = set(self.mapping(table).values())
            for exp, spec in per.items():
                w = f"durations.{table}.{exp!r}"
                if not isinstance(spec, dict) or not {"start", "end"} <= set(spec):
                    raise SettingsError(f"{src}: {w} needs start, end and unit, e.g. "
                                        "{start: created_at, end: first_response_at, unit: minutes}")
                column("durations", table, spec["start"], f"{w}.start", "timestamp")
                column("durations", table, spec["end"], f"{w}.end", "timestamp")
                if spec.get("unit", "seconds") not in DURATION_UNITS:
                    raise SettingsError(f"{src}: {w}.unit {spec.get('unit')!r} is not one of "
                                        f"{', '.join(DURATION_UNITS)}")
                if spec["end"] in targets:
                    raise SettingsError(f"{src}: {w}: {spec['end']!r} is also a target of mapping.{table}; "
                                        "an end timestamp comes either from a column or from a duration")
        for table, per in tables_of("values").items():
            for col, vals in per.items():
                column("values", table, col, f"values.{table}.{col}")
                if not isinstance(vals, dict):
                    raise SettingsError(f"{src}: values.{table}.{col} must map export values to contract "
                                        f"values, e.g. {{P1: urgent}}, got {vals!r}")
        for table, per in tables_of("defaults").items():
            for col, v in per.items():
                column("defaults", table, col, f"defaults.{table}.{col}")
                if isinstance(v, dict | list):
                    raise SettingsError(f"{src}: defaults.{table}.{col} must be one value, got {v!r}")
        seen_surveys: dict = {}
        for table, per in tables_of("ratings").items():
            if table != "tickets":
                raise SettingsError(f"{src}: ratings.{table}: ratings are read from ticket columns only "
                                    "(ratings: {tickets: {<column>: ...}})")
            for exp, spec in per.items():
                w = f"ratings.{table}.{exp!r}"
                if not isinstance(spec, dict) or "survey" not in spec or not isinstance(spec.get("scores"), dict):
                    raise SettingsError(f"{src}: {w} needs survey and scores, e.g. "
                                        "{survey: csat, scores: {Good: 5, Bad: 1}, offered: [Offered]}")
                sv = fold(spec["survey"])
                if sv not in SURVEY_KINDS:
                    raise SettingsError(f"{src}: {w}.survey {spec['survey']!r} is not one of "
                                        f"{', '.join(SURVEY_KINDS)}")
                if sv in seen_surveys:
                    raise SettingsError(f"{src}: {w}: survey {sv!r} also comes from column "
                                        f"{seen_surveys[sv]!r}; one rating column per survey")
                seen_surveys[sv] = exp
                for k, v in spec["scores"].items():
                    if not isinstance(v, int | float) or isinstance(v, bool):
                        raise SettingsError(f"{src}: {w}.scores.{k} must be a number on the {sv} scale, got {v!r}")
                for k in ("offered", "not_offered"):
                    if not isinstance(spec.get(k, []), list):
                        raise SettingsError(f"{src}: {w}.{k} must be a list of values, got {spec[k]!r}")
                unknown = sorted(set(spec) - {"survey", "scores", "offered", "not_offered", "submitted_at", "sent_at"})
                if unknown:
                    raise SettingsError(f"{src}: {w}: unknown key(s) {unknown}; allowed: survey, scores, offered, "
                                        "not_offered, submitted_at, sent_at")
        c = self.raw.get("csv") or {}
        if not isinstance(c, dict):
            raise SettingsError(f"{src}: csv must be a mapping, e.g. {{sep: ';'}}, got {c!r}")
        for k, v in c.items():
            if k in TABLES:
                if not isinstance(v, dict):
                    raise SettingsError(f"{src}: csv.{k} must be a mapping of options ({', '.join(CSV_OPTIONS)})")
                bad = sorted(set(v) - set(CSV_OPTIONS))
                if bad:
                    raise SettingsError(f"{src}: csv.{k}: unknown option(s) {bad}; options: {', '.join(CSV_OPTIONS)}")
            elif k not in CSV_OPTIONS:
                raise SettingsError(f"{src}: csv.{k}: {k!r} is neither a csv option ({', '.join(CSV_OPTIONS)}) nor "
                                    f"a table name ({_closest(k, [*CSV_OPTIONS, *TABLES])})")
        for k in ("sep", "encoding"):
            for where, block in [("csv", c)] + [(f"csv.{t}", v) for t, v in c.items() if t in TABLES]:
                if k in block and (not isinstance(block[k], str) or not block[k]):
                    raise SettingsError(f"{src}: {where}.{k} must be a non-empty text, got {block[k]!r}")
        import codecs

        for where, block in [("csv", c)] + [(f"csv.{t}", v) for t, v in c.items() if t in TABLES]:
            if "encoding" in block:
                try:
                    codecs.lookup(block["encoding"])
                except LookupError:
                    raise SettingsError(f"{src}: {where}.encoding {block['encoding']!r} is not a known text "
                                        "encoding (for example utf-8, latin-1, cp1252)") from None
        dp = self.default_priority
        if dp is not None and not isinstance(dp, str):
            raise SettingsError(f"{src}: sla.default_priority must be a priority name, got {dp!r}")
