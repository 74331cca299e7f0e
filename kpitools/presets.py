"""Presets: ``dataset.yml`` settings for the standard exports of common helpdesks.

``preset: <name>`` in ``dataset.yml`` loads ``PRESETS[name]``, a dict with the same keys as the
file itself (``mapping``, ``durations``, ``values``, ``defaults``, ``ratings``, ``csv``). The
user's own keys are merged over it (a nested dict merge), so a preset is a starting point that
``dataset.yml`` refines. Columns a preset maps but an export lacks are ignored; columns the user
maps must exist. docs/real-exports.md describes which export each preset expects.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["PRESETS", "preset"]

#: Preset settings by lower-case name (see the module docstring for the keys).
PRESETS: dict[str, dict[str, Any]] = {}


def preset(name: str) -> dict[str, Any]:
    """The settings of preset ``name`` (a deep copy, safe to modify).

    Raises
    ------
    SettingsError
        ``name`` is not a known preset; the message lists the known ones.
    """
    from kpitools.settings import SettingsError

    key = str(name).strip().casefold()
    if key not in PRESETS:
        known = ", ".join(sorted(PRESETS)) or "none"
        raise SettingsError(f"preset {name!r} is not known; known presets: {known}")
    return copy.deepcopy(PRESETS[key])
