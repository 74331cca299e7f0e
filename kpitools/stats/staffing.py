"""Queueing models for contact-centre staffing: Erlang B, Erlang C and Erlang A.

Traffic ``A = arrival rate x AHT`` in Erlangs. Erlang C assumes callers wait for ever, so it is
defined only with more agents than Erlangs of traffic (otherwise the queue grows without bound and
no probability exists); Erlang A lets callers abandon after an exponential patience, which keeps
the queue finite for any number of agents. Formulas and reference values:
docs/methods.md#staffing.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special

from kpitools.stats._common import StatsInputError, as_float_array, unwrap

__all__ = [
    "erlang_b",
    "erlang_c",
    "erlang_a",
    "required_agents",
    "staffing_by_interval",
    "UnstableQueueError",
]


class UnstableQueueError(StatsInputError):
    """Erlang C asked for agents <= offered traffic: the queue has no steady state."""


# --------------------------------------------------------------------------- checks
def _positive(name: str, value) -> np.ndarray:
    arr = as_float_array(name, value)
    if np.any(~(arr > 0)) or np.any(np.isinf(arr)):
        raise StatsInputError(f"{name} must be positive and finite, got {value!r}")
    return arr


def _nonnegative(name: str, value) -> np.ndarray:
    arr = as_float_array(name, value)
    if np.any(~(arr >= 0)) or np.any(np.isinf(arr)):
        raise StatsInputError(f"{name} must be non-negative and finite, got {value!r}")
    return arr


def _agents(value, *, whole: bool = False) -> np.ndarray:
    arr = as_float_array("agents", value)
    if np.any(~(arr >= 0)) or np.any(np.isinf(arr)):
        raise StatsInputError(f"agents must be non-negative and finite, got {value!r}")
    if whole and np.any(arr != np.round(arr)):
        raise StatsInputError(f"agents must be whole numbers here, got {value!r}")
    return arr


def _check_share(name: str, value, *, upper_open: bool = True) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise StatsInputError(f"{name} must be a number in [0, 1), got {value!r}") from None
    if not (0.0 <= v < 1.0 if upper_open else 0.0 < v < 1.0):
        allowed = "[0, 1)" if upper_open else "(0, 1)"
        raise StatsInputError(f"{name} must be in {allowed} (a share, e.g. 0.3 for 30%), got {value!r}")
    return v


# --------------------------------------------------------------------------- Erlang B / C
def erlang_b(traffic, agents):
    """Erlang B blocking probability (loss system, no queue).

    Parameters
    ----------
    traffic : float or array-like
        Offered traffic A in Erlangs (arrival rate x AHT).
    agents : float or array-like
        Number of agents (servers), broadcast with ``traffic``. Whole numbers normally;
        non-integer values (agents averaged over an interval) use the continuous extension.

    Returns
    -------
    float or ndarray
        B(N, A), the share of arrivals finding every agent busy in a loss system.

    Notes
    -----
    Recursion ``1/B_k = 1 + (k / A) (1 / B_(k-1))``, ``B_0 = 1`` (docs/methods.md#erlang-b), computed as
    ``B_k = A B_(k-1) / (k + A B_(k-1))``, numerically stable for thousands of agents. For
    non-integer N = m + f the recursion starts from ``1/B(f, A) = int_0^inf e^-s (1 + s/A)^f ds``
    (Jagerman 1974; the incomplete gamma function for A <= 50, 60-point Gauss-Laguerre above), which reproduces the integer values exactly.

    References
    ----------
    Jagerman, D. L. (1974). Some properties of the Erlang loss function. Bell System Technical
    Journal 53, 525-551.
    """
    a = _nonnegative("traffic", traffic)
    n = _agents(agents)
    scalar = a.ndim == 0 and n.ndim == 0
    a, n = np.broadcast_arrays(a, n)
    return unwrap(_erlang_b(a.astype(float), n), scalar)


# Gauss-Laguerre rule for the continuous extension of Erlang B to non-integer agents
_LAG_NODES, _LAG_WEIGHTS = np.polynomial.laguerre.laggauss(60)


def _erlang_b(a: np.ndarray, n: np.ndarray) -> np.ndarray:
    a, n = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(n, dtype=float))
    whole = np.floor(n)
    frac = n - whole
    # start value B(frac, A): 1/B = int_0^inf e^-s (1 + s/A)^frac ds (Jagerman 1974); 1 for frac = 0
    b = np.ones(a.shape)
    small = (frac > 0) & (a > 0) & (a <= 50)
    if np.any(small):  # closed form e^A A^-f Gamma(f + 1, A), no overflow for A <= 50
        fa, aa = frac[small], a[small]
        b[small] = 1.0 / (special.gammaincc(fa + 1, aa) * special.gamma(fa + 1) * np.exp(aa) * aa**-fa)
    large = (frac > 0) & (a > 50)
    if np.any(large):  # smooth integrand: Gauss-Laguerre
        s = _LAG_NODES[:, None]
        integral = (_LAG_WEIGHTS[:, None] * (1.0 + s / a[large][None, :]) ** frac[large][None, :]).sum(axis=0)
        b[large] = 1.0 / integral
    kmax = int(np.max(whole)) if whole.size else 0
    for k in range(1, kmax + 1):
        step = a * b / (frac + k + a * b)
        b = np.where(k <= whole, step, b)
    return np.where((a == 0) & (n > 0), 0.0, b)


def _erlang_c_core(a, n, t_s, aht):
    """Erlang C quantities for N > A (caller guarantees); arrays broadcast."""
    b = _erlang_b(a, n)
    p_wait = n * b / (n - a * (1.0 - b))
    sl = 1.0 - p_wait * np.exp(-(n - a) * t_s / aht)
    asa = p_wait * aht / (n - a)
    return p_wait, sl, asa


def _unstable_message(a, n) -> str:
    return (
        f"agents must exceed the offered traffic A = {a:.4g} Erlangs (calls x aht_s / interval_s), "
        f"got agents = {n:g}; the queue grows without bound, so Erlang C has no answer. "
        "Add agents, or use erlang_a with a caller patience"
    )


def erlang_c(calls, interval_s, aht_s, agents, target_s):
    """Erlang C waiting probability, service level, ASA and occupancy.

    Parameters
    ----------
    calls : float or array-like
        Calls offered in the interval.
    interval_s : float
        Interval length in seconds (e.g. 1800).
    aht_s : float or array-like
        Average handling time in seconds.
    agents : int or array-like
        Agents answering calls (after shrinkage). Non-integer values use the continuous
        extension of Erlang B (see :func:`erlang_b`).
    target_s : float
        Service-level threshold T in seconds (e.g. 20 for "80/20").

    Returns
    -------
    dict
        - ``traffic``: A = calls x aht_s / interval_s (Erlangs).
        - ``p_wait``: probability that a call waits.
        - ``service_level``: share answered within ``target_s``.
        - ``asa_s``: average speed of answer over all calls, seconds.
        - ``occupancy``: A / N.
        Floats for scalar input, arrays otherwise.

    Raises
    ------
    UnstableQueueError
        (a ValueError) when any agents <= traffic.

    Notes
    -----
    ``P_wait = N B / (N - A (1 - B))``, ``SL(T) = 1 - P_wait exp(-(N - A) T / AHT)``,
    ``ASA = P_wait AHT / (N - A)``. Reference (docs/methods.md#erlang-c): 100 calls / 1800 s, AHT 180 s,
    T = 20 s: N = 13 gives P_wait 0.2853, SL 0.7956, ASA 17.1 s; N = 14 gives 0.1741, 0.8884,
    7.84 s, occupancy 0.714.

    Examples
    --------
    >>> r = erlang_c(100, 1800, 180, 14, 20)
    >>> round(r["service_level"], 4)
    0.8884
    """
    c = _nonnegative("calls", calls)
    iv = _positive("interval_s", interval_s)
    aht = _positive("aht_s", aht_s)
    n = _agents(agents)
    t = _nonnegative("target_s", target_s)
    scalar = all(x.ndim == 0 for x in (c, iv, aht, n, t))
    c, iv, aht, n, t = np.broadcast_arrays(c, iv, aht, n, t)
    a = c * aht / iv
    bad = ~(n > a)
    if np.any(bad):
        i = np.flatnonzero(bad.ravel())[0]
        raise UnstableQueueError(_unstable_message(a.ravel()[i], n.ravel()[i]))
    p_wait, sl, asa = _erlang_c_core(a, n, t, aht)
    out = {"traffic": a, "p_wait": p_wait, "service_level": sl, "asa_s": asa, "occupancy": a / n}
    return {k: unwrap(v, scalar) for k, v in out.items()}


def _erlang_c_from_b(a, n, t_s, aht, b):
    """Erlang C quantities for N > A from B(N, A); the formulas of :func:`_erlang_c_core`."""
    p_wait = n * b / (n - a * (1.0 - b))
    sl = 1.0 - p_wait * np.exp(-(n - a) * t_s / aht)
    asa = p_wait * aht / (n - a)
    return p_wait, sl, asa


def _required_n(a, aht, t, service_level, asa_s):
    """Smallest N > A meeting the targets, vectorised over arrays of traffic.

    Candidates N = floor(A) + 1, ... are checked in windows. Erlang B for every candidate comes
    from one pass of the recursion ``B_k = A B_(k-1) / (k + A B_(k-1))``, which yields B_k for
    each k on the way (the same operations :func:`_erlang_b` performs for one N, so the values
    are bit-for-bit those of ``_erlang_c_core``); the state carries over to the next window.
    """
    a = np.asarray(a, dtype=float)
    result = np.where(a == 0, 0.0, np.nan)
    todo = a > 0
    if not np.any(todo):
        return result
    at, ah, tt = a[todo], np.broadcast_to(aht, a.shape)[todo], np.broadcast_to(t, a.shape)[todo]
    start = np.floor(at) + 1.0
    width = int(np.max(np.ceil(10.0 * np.sqrt(at))) + 20)
    found = np.full(at.shape, np.nan)
    # B_(start - 1) per row: recursion from B_0 = 1, each row stopping at its own start - 1
    b = np.ones(at.shape)
    for k in range(1, int(np.max(start))):
        b = np.where(k < start, at * b / (0.0 + k + at * b), b)
    ac, ahc, ttc = at[:, None], ah[:, None], tt[:, None]
    while np.any(np.isnan(found)):
        cand = start[:, None] + np.arange(width)[None, :]
        table = np.empty(cand.shape)
        for j in range(width):  # k = start + j for every row at once
            b = at * b / (0.0 + cand[:, j] + at * b)
            table[:, j] = b
        _, sl, asa = _erlang_c_from_b(ac, cand, ttc, ahc, table)
        ok = np.ones(cand.shape, dtype=bool)
        if service_level is not None:
            ok &= sl >= service_level - 1e-12
        if asa_s is not None:
            ok &= asa <= asa_s + 1e-12
        first = np.where(ok.any(axis=1), cand[np.arange(cand.shape[0]), ok.argmax(axis=1)], np.nan)
        found = np.where(np.isnan(found), first, found)
        start = start + width
        width *= 2
        if width > 1_000_000:  # pragma: no cover - targets are always reachable as N grows
            raise RuntimeError("required agents search did not converge")
    result[todo] = found
    return result


def _required_n_reference(a, aht, t, service_level, asa_s):
    """The former search (Erlang B recomputed for each candidate); kept for tests and benchmarks."""
    a = np.asarray(a, dtype=float)
    result = np.where(a == 0, 0.0, np.nan)
    todo = a > 0
    if not np.any(todo):
        return result
    at, ah, tt = a[todo], np.broadcast_to(aht, a.shape)[todo], np.broadcast_to(t, a.shape)[todo]
    start = np.floor(at) + 1.0
    width = int(np.max(np.ceil(10.0 * np.sqrt(at))) + 20)
    found = np.full(at.shape, np.nan)
    while np.any(np.isnan(found)):
        cand = start[:, None] + np.arange(width)[None, :]
        p_wait, sl, asa = _erlang_c_core(at[:, None], cand, tt[:, None], ah[:, None])
        ok = np.ones(cand.shape, dtype=bool)
        if service_level is not None:
            ok &= sl >= service_level - 1e-12
        if asa_s is not None:
            ok &= asa <= asa_s + 1e-12
        first = np.where(ok.any(axis=1), cand[np.arange(cand.shape[0]), ok.argmax(axis=1)], np.nan)
        found = np.where(np.isnan(found), first, found)
        start = start + width
        width *= 2
        if width > 1_000_000:  # pragma: no cover
            raise RuntimeError("required agents search did not converge")
    result[todo] = found
    return result


def _scheduled(n_required, shrinkage: float):
    # the small tolerance keeps 14 / 0.7 = 20.000000000000004 at 20
    return np.ceil(n_required / (1.0 - shrinkage) - 1e-9)


def required_agents(
    calls, interval_s, aht_s, target_s, *, service_level=0.8, shrinkage=0.0, asa_s=None
):
    """Agents to schedule so that Erlang C meets a service-level (and/or ASA) target.

    Parameters
    ----------
    calls : float
        Calls offered in the interval.
    interval_s : float
        Interval length in seconds.
    aht_s : float
        Average handling time in seconds.
    target_s : float
        Service-level threshold T in seconds.
    service_level : float or None, default 0.8
        Required share answered within ``target_s``; None to use only ``asa_s``.
    shrinkage : float, default 0.0
        Share of paid time not available for calls (breaks, training, absence), in [0, 1).
    asa_s : float, optional
        Maximum average speed of answer in seconds; both targets apply when both are given.

    Returns
    -------
    int
        ``ceil(N / (1 - shrinkage))`` where N is the smallest number of agents (> A) meeting the
        targets; 0 when there are no calls.

    Notes
    -----
    Reference (docs/methods.md#staffing-shrinkage): 100 calls / 1800 s, AHT 180 s, 80/20: N = 14; with 30% shrinkage
    20 agents must be scheduled.
    """
    if service_level is None and asa_s is None:
        raise StatsInputError("give service_level, asa_s or both; got neither")
    sl = None if service_level is None else _check_share("service_level", service_level, upper_open=False)
    shr = _check_share("shrinkage", shrinkage)
    asa = None if asa_s is None else float(_positive("asa_s", asa_s))
    c = float(_nonnegative("calls", calls))
    iv = float(_positive("interval_s", interval_s))
    aht = float(_positive("aht_s", aht_s))
    t = float(_nonnegative("target_s", target_s))
    n = _required_n(np.array(c * aht / iv), aht, t, sl, asa)
    return int(_scheduled(n, shr))


# --------------------------------------------------------------------------- Erlang A
def _erlang_a_chain(lam, mu, theta, n):
    """Stationary distribution of the M/M/N+M birth-death chain, truncated where negligible."""
    log_r = math.log(lam / mu)
    k = np.arange(n + 1)
    from scipy.special import gammaln

    log_low = k * log_r - gammaln(k + 1)  # states 0..N
    # queue part: log pi_{N+i} = log pi_N + sum_{l<=i} log(lam / (N mu + l theta))
    j = 1024
    while True:
        i = np.arange(1, j + 1)
        log_q = log_low[-1] + np.cumsum(np.log(lam) - np.log(n * mu + i * theta))
        peak = max(log_low.max(), log_q.max())
        decreasing = n * mu + j * theta > lam
        if decreasing and log_q[-1] < peak - 45.0:
            break
        j *= 2
        if j > 4_000_000:
            raise StatsInputError(
                "patience_s is too long for this understaffed queue: the truncated chain would need "
                "more than 4 million states; use erlang_c (with more agents) instead"
            )
    log_all = np.concatenate([log_low, log_q])
    w = np.exp(log_all - log_all.max())
    pi = w / w.sum()
    keep = np.flatnonzero(log_all >= log_all.max() - 45.0)
    last = max(int(keep[-1]), n)  # drop the negligible tail
    return pi[: last + 1] / pi[: last + 1].sum()


def erlang_a(calls, interval_s, aht_s, agents, target_s, patience_s):
    """Erlang A (M/M/N+M): callers abandon after an exponential patience.

    Parameters
    ----------
    calls : float
        Calls offered in the interval.
    interval_s : float
        Interval length in seconds.
    aht_s : float
        Average handling time in seconds.
    agents : int
        Agents answering calls; any number >= 1 (abandonment keeps the queue finite).
    target_s : float
        Service-level threshold T in seconds.
    patience_s : float
        Mean caller patience in seconds (exponential).

    Returns
    -------
    dict
        - ``traffic``: A in Erlangs.
        - ``p_wait``: probability that an arriving call finds every agent busy.
        - ``p_abandon``: probability that a call abandons.
        - ``service_level``: answered within T / (answered + abandoned after T), the docs/methods.md#staffing
          definition (abandons within T are excluded).
        - ``answered_within_target``: share of all offered calls answered within T.
        - ``asa_s``: mean wait of answered calls (those answered at once count 0 s).
        - ``mean_wait_s``: mean time in queue over all calls, abandoned ones included.
        - ``occupancy``: busy agents / N.
        - ``states``: size of the truncated chain.

    Notes
    -----
    Birth rate lambda, death rate ``min(k, N) mu + max(k - N, 0) theta``, truncated where the
    stationary probabilities fall below e^-45 of the largest. ``P_wait = P(K >= N)`` (PASTA);
    ``P(abandon) = theta E[queue] / lambda``. The waiting time is exact, not approximate: a call
    arriving in position j moves forward at rate ``N mu + (i - 1) theta`` and abandons at rate
    theta while in position i, so the probability of being answered within T is the absorption
    probability of that small chain, ``expm(Q' T) p0``: by uniformisation for queues of up to 80
    positions with (largest rate x T) <= 100 (well under 1 ms), else
    ``scipy.sparse.linalg.expm_multiply`` (the two agree to 1e-12 relative, tested).
    Reference (docs/methods.md#erlang-a): N = 14 of the Erlang C example with 10 min patience gives
    P_wait 0.1559, P(abandon) 0.0088; 3 min gives 0.1355 and 0.0187; as patience grows the
    results converge to Erlang C (tested).

    References
    ----------
    Mandelbaum, A. and Zeltyn, S. (2007). Service engineering in action: the Palm/Erlang-A queue,
    with applications to call centers. In Advances in Services Innovations, 17-45.
    """
    lam, mu, theta, n, t, aht = _erlang_a_args(calls, interval_s, aht_s, agents, target_s, patience_s)
    return _erlang_a_solve(lam, mu, theta, n, t, aht, dense=None)


def _erlang_a_args(calls, interval_s, aht_s, agents, target_s, patience_s):
    c = float(_positive("calls", calls))
    iv = float(_positive("interval_s", interval_s))
    aht = float(_positive("aht_s", aht_s))
    n_arr = _agents(agents, whole=True)
    if n_arr.ndim or n_arr < 1:
        raise StatsInputError(f"agents must be one whole number >= 1 for erlang_a, got {agents!r}")
    t = float(_nonnegative("target_s", target_s))
    patience = float(_positive("patience_s", patience_s))
    return c / iv, 1.0 / aht, 1.0 / patience, int(n_arr), t, aht


def _erlang_a_sparse(calls, interval_s, aht_s, agents, target_s, patience_s):
    """:func:`erlang_a` always through sparse ``expm_multiply`` (the former path; tests, benchmarks)."""
    lam, mu, theta, n, t, aht = _erlang_a_args(calls, interval_s, aht_s, agents, target_s, patience_s)
    return _erlang_a_solve(lam, mu, theta, n, t, aht, dense=False)


# short queues over a short target use uniformisation (plain numpy on vectors, no BLAS threads;
# 0.1-0.5 ms per call); longer ones the sparse Krylov-type expm_multiply (1.5-3 ms)
_DENSE_MAX_POSITIONS = 80
_DENSE_MAX_RATE_T = 100.0


def _absorbed_by(forward, theta, n_mu, start, t, *, dense):
    """P(answered by t), P(abandoned by t) for callers starting at queue positions 1..J.

    Absorbing chain: states 0..J-1 = positions 1..J, J = answered, J+1 = abandoned; the
    probability vector at t is ``expm(Q' t) p0``. ``dense=True`` computes it by uniformisation,
    ``sum_k Poisson(k; L t) P^k p0`` with ``P = I + Q / L`` and L the largest exit rate (all terms
    non-negative, so no cancellation; the Poisson tail left out is below 1e-18), stepping the
    bidiagonal P with vector operations; ``dense=False`` with ``scipy.sparse.linalg.expm_multiply``.
    """
    jmax = start.size
    if t <= 0:
        return 0.0, 0.0
    if dense:
        rate_total = forward + theta  # exit rate of each position
        lam_max = float(rate_total.max())
        lt = lam_max * t
        kmax = int(2.0 * lt + 10.0 * math.sqrt(lt) + 60.0)
        k = np.arange(kmax + 1)
        w = np.exp(-lt + k * math.log(lt) - special.gammaln(k + 1.0))
        beyond = np.flatnonzero((k >= 2.0 * lt) & (w < 1e-18))
        steps = int(beyond[0]) if beyond.size else kmax
        stay = 1.0 - rate_total / lam_max
        move = forward[1:] / lam_max
        c_ans, c_ab = n_mu / lam_max, theta / lam_max
        head, mass = np.empty(steps), np.empty(steps)
        p, m = start.copy(), float(start.sum())
        for i in range(steps):
            h = float(p[0])
            head[i], mass[i] = h, m
            m = m - c_ans * h - c_ab * m  # mass still queued after the step
            nxt = stay * p
            nxt[:-1] += move * p[1:]
            p = nxt
        # absorbed after step k: sum of what left in steps 0..k-1
        answered_k = np.concatenate([[0.0], np.cumsum(c_ans * head)])
        abandoned_k = np.concatenate([[0.0], np.cumsum(c_ab * mass)])
        ws = w[: steps + 1]
        return float(ws @ answered_k), float(ws @ abandoned_k)
    from scipy import sparse  # the sparse path only (tests, benchmarks, long intervals)
    from scipy.sparse.linalg import expm_multiply

    p0 = np.concatenate([start, [0.0, 0.0]])
    pos = np.arange(1, jmax + 1)
    rows = np.concatenate([pos[1:] - 1, pos - 1, [0]])
    cols = np.concatenate([pos[1:] - 2, np.full(jmax, jmax + 1), [jmax]])
    vals = np.concatenate([forward[1:], np.full(jmax, theta), [n_mu]])
    gen = sparse.csr_matrix((vals, (rows, cols)), shape=(jmax + 2, jmax + 2))
    gen = gen - sparse.diags(np.asarray(gen.sum(axis=1)).ravel())
    p_t = expm_multiply(gen.T.tocsr() * t, p0)
    return float(p_t[jmax]), float(p_t[jmax + 1])


def _erlang_a_solve(lam, mu, theta, n, t, aht, *, dense):
    """Erlang A quantities; ``dense=None`` picks the dense path for short queues."""
    pi = _erlang_a_chain(lam, mu, theta, n)
    k = np.arange(pi.size)
    p_wait = float(pi[n:].sum())
    queue_len = float(((k - n).clip(min=0) * pi).sum())
    p_abandon = theta * queue_len / lam
    busy = float((np.minimum(k, n) * pi).sum())
    # arrivals finding k = N + j - 1 customers are at position j = 1..J
    start = pi[n:]
    jmax = start.size
    pos = np.arange(1, jmax + 1)
    rate_total = n * mu + pos * theta
    forward = n * mu + (pos - 1) * theta
    p_served = np.cumprod(forward / rate_total)  # answered eventually, from position j
    mean_time = np.cumsum(1.0 / rate_total)  # expected time in queue from position j
    answered = (1.0 - p_wait) + float((start * p_served).sum())
    asa = float((start * p_served * mean_time).sum()) / answered
    if dense is None:
        dense = jmax <= _DENSE_MAX_POSITIONS and float(rate_total.max()) * t <= _DENSE_MAX_RATE_T
    ans_t, ab_t = _absorbed_by(forward, theta, n * mu, start, t, dense=dense)
    answered_by_t = (1.0 - p_wait) + ans_t
    abandoned_after_t = p_abandon - ab_t
    sl = answered_by_t / (answered + abandoned_after_t)
    return {
        "traffic": lam * aht,
        "p_wait": p_wait,
        "p_abandon": p_abandon,
        "service_level": sl,
        "answered_within_target": answered_by_t,
        "asa_s": asa,
        "mean_wait_s": queue_len / lam,
        "occupancy": busy / n,
        "states": int(pi.size),
    }


# --------------------------------------------------------------------------- per interval
def staffing_by_interval(
    arrivals: pd.DataFrame, *, interval_s, target_s=20.0, service_level=0.8, shrinkage=0.0
):
    """Erlang C staffing per interval, compared with the agents actually staffed.

    Parameters
    ----------
    arrivals : pandas.DataFrame
        One row per interval with ``interval_start``, ``calls`` (offered), ``aht_s`` and optionally
        ``agents_observed`` (agents available for calls in the interval).
    interval_s : float
        Interval length in seconds (1800 for half-hours).
    target_s : float, default 20
        Service-level threshold T in seconds.
    service_level : float, default 0.8
        Target share answered within ``target_s``.
    shrinkage : float, default 0.0
        Share of paid time unavailable, in [0, 1).

    Returns
    -------
    pandas.DataFrame
        One row per interval, in input order:

        - ``interval_start``, ``calls``, ``aht_s``: echoed.
        - ``traffic``: offered Erlangs.
        - ``required_agents``: smallest N meeting the target (nullable Int64; NA without AHT).
        - ``scheduled_agents``: ``ceil(required / (1 - shrinkage))``.
        - ``agents_observed``: echoed (NA when the column is absent); may be fractional
          (averaged over the interval), handled by the continuous Erlang B extension.
        - ``service_level_observed``: Erlang C service level with the observed agents; 0.0 where
          they do not exceed the traffic (the queue grows without bound), NaN with no calls.
        - ``understaffed``: observed agents <= traffic.
        - ``gap``: agents_observed - required_agents (negative = short).
        - ``target_s``, ``service_level_target``, ``shrinkage``: the settings used.

    Notes
    -----
    ``agents_observed`` are agents on the floor, so they are compared with ``required_agents``
    (before shrinkage); ``scheduled_agents`` is what a roster must pay for.
    """
    if not isinstance(arrivals, pd.DataFrame):
        raise StatsInputError(f"arrivals must be a pandas DataFrame, got {type(arrivals).__name__}")
    missing = [c for c in ("interval_start", "calls", "aht_s") if c not in arrivals.columns]
    if missing:
        raise StatsInputError(
            f"arrivals needs columns interval_start, calls, aht_s (agents_observed optional); "
            f"missing {missing}"
        )
    iv = float(_positive("interval_s", interval_s))
    t = float(_nonnegative("target_s", target_s))
    sl_target = _check_share("service_level", service_level, upper_open=False)
    shr = _check_share("shrinkage", shrinkage)
    calls = arrivals["calls"].to_numpy(dtype=float, na_value=np.nan)
    aht = arrivals["aht_s"].to_numpy(dtype=float, na_value=np.nan)
    if np.any(calls[~np.isnan(calls)] < 0):
        raise StatsInputError("arrivals['calls'] must be non-negative")
    if np.any(~(aht[~np.isnan(aht)] > 0)):
        raise StatsInputError("arrivals['aht_s'] must be positive seconds")
    calls0 = np.where(np.isnan(calls), 0.0, calls)
    aht_safe = np.where(np.isnan(aht) | (aht <= 0), 1.0, aht)
    traffic = np.where(np.isnan(aht), np.where(calls0 == 0, 0.0, np.nan), calls0 * aht_safe / iv)
    valid = ~np.isnan(traffic) & ~np.isnan(calls)
    required = np.full(traffic.shape, np.nan)
    required[valid] = _required_n(traffic[valid], aht_safe[valid], t, sl_target, None)
    scheduled = _scheduled(required, shr)
    if "agents_observed" in arrivals.columns:
        observed = arrivals["agents_observed"].to_numpy(dtype=float, na_value=np.nan)
    else:
        observed = np.full(traffic.shape, np.nan)
    stable = valid & ~np.isnan(observed) & (observed > traffic) & (calls0 > 0)
    sl_obs = np.full(traffic.shape, np.nan)
    if np.any(stable):
        _, sl_vals, _ = _erlang_c_core(traffic[stable], observed[stable], t, aht_safe[stable])
        sl_obs[stable] = sl_vals
    under = valid & ~np.isnan(observed) & (calls0 > 0) & ~(observed > traffic)
    sl_obs[under] = 0.0
    out = pd.DataFrame(
        {
            "interval_start": arrivals["interval_start"].to_numpy(),
            "calls": calls,
            "aht_s": aht,
            "traffic": traffic,
            "required_agents": pd.array(np.where(np.isnan(required), None, required), dtype="Int64"),
            "scheduled_agents": pd.array(np.where(np.isnan(scheduled), None, scheduled), dtype="Int64"),
            "agents_observed": observed,
            "service_level_observed": sl_obs,
            "understaffed": under,
            "gap": observed - required,
            "target_s": t,
            "service_level_target": sl_target,
            "shrinkage": shr,
        },
        index=arrivals.index,
    )
    out["interval_start"] = arrivals["interval_start"]
    return out
