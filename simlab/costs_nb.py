"""Inverse-CDF sampling of per-session cost quantile tables (numba).

A cost table is ``cost_q`` float64 (N_COST_KINDS, N_SESSIONS, K): for each cost
kind (spread, entry / exit / stop slippage, latency; see ``simlab.layout``) and
session, the values at the cumulative probabilities ``cost_probs`` float64 (K,),
which rise from 0.0 to 1.0. A uniform u maps to the value by linear
interpolation between the bracketing quantiles, so the sampled distribution
reproduces the table's quantiles exactly and is continuous between them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simlab.rng_nb import uniform_nb


@njit(cache=True, inline="always")
def quantile_at_nb(values: np.ndarray, probs: np.ndarray, u: float) -> float:
    """Value of the piecewise-linear inverse CDF at probability ``u`` (values, probs: (K,))."""
    k = probs.shape[0]
    if u <= probs[0]:
        return values[0]
    if u >= probs[k - 1]:
        return values[k - 1]
    lo = 0
    hi = k - 1
    while hi - lo > 1:  # binary search: probs[lo] <= u < probs[hi]
        mid = (lo + hi) >> 1
        if probs[mid] <= u:
            lo = mid
        else:
            hi = mid
    w = (u - probs[lo]) / (probs[hi] - probs[lo])
    return values[lo] + w * (values[hi] - values[lo])


@njit(cache=True, inline="always")
def sample_cost_nb(
    cost_q: np.ndarray, cost_probs: np.ndarray, kind: int, session: int, seed: int, attempt: int, draw: int
) -> float:
    """One draw of cost ``kind`` in ``session``, keyed by (seed, attempt, draw)."""
    return quantile_at_nb(cost_q[kind, session], cost_probs, uniform_nb(seed, attempt, draw))


@njit(cache=True)
def sample_many_nb(
    cost_q: np.ndarray,
    cost_probs: np.ndarray,
    kind: int,
    session: int,
    seed: int,
    attempt: int,
    first_draw: int,
    n: int,
) -> np.ndarray:
    """``n`` draws (consecutive draw counters) — for fidelity tests and reports."""
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = sample_cost_nb(cost_q, cost_probs, kind, session, seed, attempt, first_draw + i)
    return out


def zero_cost_tables(n_probs: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Tables that sample 0 for every kind and session: fixed costs (the data's own spread only)."""
    from simlab.layout import N_COST_KINDS, N_SESSIONS

    probs = np.linspace(0.0, 1.0, n_probs)
    return np.zeros((N_COST_KINDS, N_SESSIONS, n_probs)), probs
