"""Many challenge attempts, each phase after phase on the same kernel (``simlab.runner`` spreads them on threads).

Attempt ``a`` draws its start day from ``uniform_nb(seed, a, START_DRAW)`` and
its costs from ``uniform_nb(seed, a, bar * N_DRAWS_PER_BAR + purpose)``: an
attempt's result is a pure function of (inputs, seed, a), so any number of
threads gives byte-identical results.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from numba import njit

from simlab.kernel_nb import simulate_nb
from simlab.layout import (
    ACC_SIZE,
    CURVE_SIZE,
    POS_SIZE,
    RES_END_BAR,
    RES_SIZE,
    RES_STATUS,
    STATUS_PASSED,
    TR_SIZE,
    Clock,
    Costs,
    Params,
    Quotes,
    Signals,
    State,
)
from simlab.rng_nb import uniform_nb

START_DRAW = 1 << 60  # far from any bar's draw counters
# a numpy bool global, typed bool: a plain True is a literal, for which numba would compile a copy of
# simulate_nb of its own (the backtest calls it with a run-time bool)
_CLOSE_AT_END = cast(bool, np.bool_(True))


@njit(cache=True)
def next_day_start_nb(day: np.ndarray, t: int) -> int:
    """The first bar after bar t whose trading day differs from bar t's (len(day) if none)."""
    n = day.shape[0]
    d = day[t]
    i = t + 1
    while i < n and day[i] == d:
        i += 1
    return i


@njit(cache=True)
def first_at_or_after_nb(day: np.ndarray, lo: int, value: int) -> int:
    """The first bar i >= lo with day[i] >= value (len(day) if none); ``day`` never decreases.

    ``np.searchsorted`` does this too, but numba compiles string handling for its ``side`` argument
    along with it: over a second of every cold start.
    """
    hi = day.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if day[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def attempt_nb(
    a: int,
    clock: Clock,
    quotes: Quotes,
    sig: Signals,
    prm: Params,
    costs: Costs,
    seed: int,
    start_bars: np.ndarray,
    horizon_days: int,
    out: np.ndarray,
) -> int:
    """One attempt: phases in order from a sampled start until a phase is not passed.

    ``prm.rules``: the program's (n_phases, RULE_SIZE) rule matrix. ``out[p]`` receives phase p's
    RES_* vector; phases not reached keep status -1. The attempt ends at the first trading day at or
    after ``start day + horizon_days`` (the horizon caps programs with no time limit).
    ``costs``: the tables with ``simlab.kernel_nb.cost_index_nb``'s indexes. Returns the start bar.
    """
    day = clock.day
    phase_rules = prm.rules
    start, s, end = attempt_window_nb(a, day, seed, start_bars, horizon_days, out)
    st = State(np.zeros(ACC_SIZE), np.zeros(POS_SIZE), np.zeros(RES_SIZE), np.zeros((0, TR_SIZE)))
    curve = np.zeros((0, CURVE_SIZE))  # an attempt's ledger is not kept (trades: counts only)
    for p in range(phase_rules.shape[0]):
        if s >= end:
            break
        simulate_nb(
            clock, quotes, sig, Params(prm.sym, prm.cfg, phase_rules[p], prm.gov), costs, seed, a, s, end, st,
            curve, _CLOSE_AT_END,
        )  # fmt: skip
        s = phase_done_nb(out, p, st.res, day)
        if s < 0:
            break
    return start


@njit(cache=True, inline="always")  # called from ordinary calls only: no compile unit of its own
def attempt_window_nb(
    a: int, day: np.ndarray, seed: int, start_bars: np.ndarray, horizon_days: int, out: np.ndarray
) -> tuple[int, int, int]:
    """Attempt ``a``'s drawn start bar, its first bar and the bar it stops before; ``out`` cleared
    (every phase not reached: status -1)."""
    k = start_bars.shape[0]
    j = int(uniform_nb(seed, a, START_DRAW) * k)
    if j >= k:
        j = k - 1
    s = int(start_bars[j])
    end = first_at_or_after_nb(day, s, day[s] + horizon_days)
    # element loops, not slice assignments: numba's slice copy compiles its shape-mismatch error
    # message (string formatting), two seconds of every cold start
    for p in range(out.shape[0]):
        for k in range(RES_SIZE):
            out[p, k] = 0.0
        out[p, RES_STATUS] = -1.0
    return s, s, end


@njit(cache=True, inline="always")
def phase_done_nb(out: np.ndarray, p: int, res: np.ndarray, day: np.ndarray) -> int:
    """Phase p ended with ``res``: into ``out[p]``; the first bar of the next phase (the next trading
    day, with a fresh account), or -1 when this one was not passed."""
    for k in range(RES_SIZE):
        out[p, k] = res[k]
    if res[RES_STATUS] != STATUS_PASSED:
        return -1
    return next_day_start_nb(day, int(res[RES_END_BAR]))


@njit(cache=True, nogil=True)
def run_attempts_nb(
    first_attempt: int,
    n_attempts: int,
    clock: Clock,
    quotes: Quotes,
    sig: Signals,
    prm: Params,
    costs: Costs,
    seed: int,
    start_bars: np.ndarray,
    horizon_days: int,
    out: np.ndarray,
    starts: np.ndarray,
) -> None:
    """Attempts first_attempt .. first_attempt + n_attempts - 1 into ``out[i]`` (n_phases, RES_SIZE), ``starts[i]``.

    Serial and ``nogil``: ``simlab.runner`` spreads ranges of attempts over threads (an attempt is a
    pure function of its index, so how the range is cut changes nothing). ``prm.rules``: the
    program's rule matrix; ``costs`` with its indexes built once per run.
    """
    for i in range(n_attempts):
        starts[i] = attempt_nb(
            first_attempt + i, clock, quotes, sig, prm, costs, seed, start_bars, horizon_days, out[i]
        )
