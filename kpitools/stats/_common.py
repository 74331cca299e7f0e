"""Shared pieces of the estimate layer: the warning class and input checks.

Every check raises a :class:`StatsInputError` (a ``ValueError``) whose message names the
parameter, what is allowed and what came, so a user can fix the call without reading code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "StatisticalWarning",
    "StatsInputError",
    "check_confidence",
    "check_choice",
    "check_positive_int",
    "as_counts",
    "as_float_array",
    "z_value",
    "unwrap",
]


class StatisticalWarning(UserWarning):
    """A result is computed but rests on thin data (small samples, many censored values).

    Filter it like any warning: ``warnings.simplefilter("ignore", StatisticalWarning)``.
    """


class StatsInputError(ValueError):
    """A statistics function got an argument outside what it accepts."""


def check_confidence(confidence: Any) -> float:
    """Return ``confidence`` as a float strictly between 0 and 1, or raise.

    Parameters
    ----------
    confidence : float
        Confidence level of an interval, e.g. 0.95.

    Returns
    -------
    float
    """
    try:
        value = float(confidence)
    except (TypeError, ValueError):
        raise StatsInputError(
            f"confidence must be a number strictly between 0 and 1 (e.g. 0.95), got {confidence!r}"
        ) from None
    if not 0.0 < value < 1.0:
        raise StatsInputError(
            f"confidence must be strictly between 0 and 1 (e.g. 0.95, not 95), got {confidence!r}"
        )
    return value


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise naming ``name``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise StatsInputError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def check_positive_int(name: str, value: Any) -> int:
    """Return ``value`` as a positive int, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise StatsInputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def as_float_array(name: str, value: Any) -> np.ndarray:
    """Convert ``value`` to a float array, raising a named error for non-numeric input."""
    try:
        if hasattr(value, "to_numpy") and hasattr(value, "dtype"):  # pandas, incl. nullable/arrow
            arr = value.to_numpy(dtype=float, na_value=np.nan)
        else:
            arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise StatsInputError(f"{name} must be numeric (a number or an array of numbers), got {value!r}") from None
    return arr


def as_counts(name: str, value: Any) -> np.ndarray:
    """Convert ``value`` to a float array of non-negative whole numbers, or raise.

    NaN is allowed (it propagates to NaN results); negative or fractional counts are not.
    """
    arr = as_float_array(name, value)
    finite = arr[np.isfinite(arr)]
    if np.any(finite < 0) or np.any(finite != np.round(finite)):
        bad = finite[(finite < 0) | (finite != np.round(finite))][:3]
        raise StatsInputError(
            f"{name} must be non-negative whole numbers (counts); got values such as {bad.tolist()}"
        )
    if np.any(np.isinf(arr)):
        raise StatsInputError(f"{name} must be finite counts; got an infinite value")
    return arr


def z_value(confidence: float) -> float:
    """Two-sided standard normal quantile for ``confidence`` (1.959964 for 0.95).

    ``scipy.special.ndtri``, the function behind ``scipy.stats.norm.ppf`` (same value), imported
    on first use: ``scipy.stats`` itself costs about a second to import.
    """
    from scipy.special import ndtri

    return float(ndtri(0.5 + confidence / 2.0))


def unwrap(x: np.ndarray, scalar: bool) -> Any:
    """Return a Python float for scalar input, else the array unchanged."""
    if scalar:
        return float(np.asarray(x).reshape(()))
    return x
