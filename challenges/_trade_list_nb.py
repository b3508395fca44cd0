"""The numba kernel of trade-list mode: one challenge attempt at trade granularity.

Kept apart from :mod:`challenges.trade_list` so that editing the import and
report code does not invalidate numba's on-disk cache of this kernel.

The firm's rules are the bar kernel's own (``simlab.account_nb``) over an account-state vector
(``ACC_*``) driven by trade opens and closes instead of bars: limits, the day roll, objectives,
the target, breach tests, drawdowns. The equity at a daily reset is unknown at this granularity
(open trades have no path), so the account's equity is kept equal to its closed balance: an
equity-based daily basis is the day-start balance here. The sizing governor (the post-target risk
multiplier) is ``simlab.governors_nb.risk_fraction_nb`` over a governor vector. Codes and the
result columns (``TL_*``) are named in ``simlab.layout``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from simlab import layout as L
from simlab.account_nb import (
    begin_account_nb,
    book_open_nb,
    breach_nb,
    holding_breach_nb,
    mark_close_nb,
    peak_balance_nb,
    peak_equity_nb,
    roll_day_nb,
    track_drawdowns_nb,
)
from simlab.governors_nb import risk_fraction_nb
from simlab.rng_nb import key_hash_nb


@njit(cache=True)
def uniform_nb(seed: int, attempt: int, draw: int) -> float:
    """``simlab.rng_nb.uniform_nb`` (same bits), as a plain call: inlining it at every call site
    of the kernel below tripled its compile time."""
    return float(key_hash_nb(seed, attempt, draw) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


_BIG = np.int64(2**62)


@njit(cache=True)
def _attempt_nb(
    run: int,
    seed: int,
    mode: int,
    block_days: int,
    max_trading_days: int,
    risk: float,
    gov: np.ndarray,
    init: float,
    rules_all: np.ndarray,
    day_start: np.ndarray,
    weekday: np.ndarray,
    open_tod: np.ndarray,
    close_tod: np.ndarray,
    span: np.ndarray,
    pnl: np.ndarray,
    mae: np.ndarray,
    mfe: np.ndarray,
    has_mae: bool,
    has_mfe: bool,
    horizon_days: int,
    out: np.ndarray,
    path: np.ndarray,
) -> int:
    """One attempt through every phase at trade granularity; fills ``out`` (``TL_SIZE``).

    ``path`` (rows, ``TLP_SIZE``), or (0, ``TLP_SIZE``) to skip it: one row per day run, at its end, as
    long as rows are left (reports draw the attempt against its limits). Returns the rows written.

    ``mode``: ``TL_MODE_*``. ``gov``: the governor vector whose sizing (``risk_fraction_nb``: the
    post-target multiplier) scales every trade opened, on top of ``risk``.
    Random draws come from ``uniform_nb(seed, run, draw)``: a pure function of the run index.
    ``horizon_days`` > 0: the attempt ends before the first simulated day whose calendar day
    (0 = its first day) is at or past it, as ``simlab.montecarlo_nb.attempt_nb`` counts its horizon.
    """
    n_hist = day_start.shape[0] - 1
    n_src = pnl.shape[0]
    n_phases = rules_all.shape[0]
    draw = 0
    pos = 0
    block_left = 0
    if mode == L.TL_MODE_SEQUENTIAL:  # a random start day
        pos = min(int(uniform_nb(seed, run, draw) * n_hist), n_hist - 1)
        draw += 1
    limit = max_trading_days if mode == L.TL_MODE_BOOTSTRAP or mode == L.TL_MODE_TRADES else n_hist - pos
    max_per_day = 1
    for h in range(n_hist):
        max_per_day = max(max_per_day, day_start[h + 1] - day_start[h])
    day_idx = np.empty(max_per_day, dtype=np.int64)
    max_span = 0
    for k in range(span.shape[0]):
        max_span = max(max_span, span[k])
    cap = max_per_day * (max_span + 2) + 1  # entries: open positions + today's closed ones, at most
    o_cs = np.empty(cap, dtype=np.int64)  # close slot
    o_ctod = np.empty(cap, dtype=np.int64)  # close time of day
    o_pnl = np.empty(cap, dtype=np.float64)  # scaled P/L
    o_act = np.zeros(cap, dtype=np.bool_)
    n_open = 0  # entries in the o_* arrays
    n_active = 0  # positions open now

    phase = 0
    rules = rules_all[0]
    acc = np.zeros(L.ACC_SIZE)
    begin_account_nb(acc, rules, init, 0)
    fresh_phase = False
    dd_daily = 0.0  # the worst drawdowns of the phases already passed
    dd_total = 0.0
    n_trades = 0
    status = L.STATUS_RUNNING
    reason = L.BREACH_NONE
    first_wd = 0
    last_j = -1
    last_cal = -1
    n_rec = 0
    day_worst = init

    j = -1
    while status == L.STATUS_RUNNING:
        j += 1
        if j >= limit:
            break
        # ---- the trades of this simulated day (indices, sorted by open time)
        if mode == L.TL_MODE_TRADES:  # i.i.d. trades, the count drawn from a history day
            h = min(int(uniform_nb(seed, run, draw) * n_hist), n_hist - 1)
            draw += 1
            nd = day_start[h + 1] - day_start[h]
            for k in range(nd):
                day_idx[k] = min(int(uniform_nb(seed, run, draw) * n_src), n_src - 1)
                draw += 1
            for a in range(1, nd):  # insertion sort by open time (stable)
                v = day_idx[a]
                b = a - 1
                while b >= 0 and open_tod[day_idx[b]] > open_tod[v]:
                    day_idx[b + 1] = day_idx[b]
                    b -= 1
                day_idx[b + 1] = v
            if j == 0:
                first_wd = 0
        else:
            if mode == L.TL_MODE_BOOTSTRAP and block_left <= 0:  # a new block at a random day
                pos = min(int(uniform_nb(seed, run, draw) * n_hist), n_hist - 1)
                draw += 1
                block_left = block_days
            block_left -= 1
            h = pos % n_hist
            pos += 1
            nd = day_start[h + 1] - day_start[h]
            for k in range(nd):
                day_idx[k] = day_start[h] + k
            if j == 0:
                first_wd = weekday[h]
        cal = j + 2 * ((first_wd + j) // 5)
        if horizon_days > 0 and cal >= horizon_days:
            break
        wd = (first_wd + j) % 5
        last_j = j
        last_cal = cal
        if fresh_phase:
            # the next phase: a fresh account of the same size from this weekday
            fresh_phase = False
            begin_account_nb(acc, rules, init, cal)
        elif j > 0:
            # close the books of the previous day, then the time limit
            reason = roll_day_nb(acc, rules, cal)
            if reason != L.BREACH_NONE:
                status = L.STATUS_BREACHED
                break

        day_worst = acc[L.ACC_BALANCE]
        # ---- the day's events in time order; a close before an open at the same time
        oi = 0
        passed_today = False
        while True:
            best_k = -1
            best_t = _BIG
            for k in range(n_open):
                if o_act[k] and o_cs[k] == j and o_ctod[k] < best_t:
                    best_t = o_ctod[k]
                    best_k = k
            open_t = open_tod[day_idx[oi]] if oi < nd else _BIG
            if best_k < 0 and oi >= nd:
                break
            if best_k >= 0 and best_t <= open_t:
                # a close: every rule judges the closed balance
                o_act[best_k] = False
                n_active -= 1
                acc[L.ACC_BALANCE] += o_pnl[best_k]
                acc[L.ACC_EQUITY] = acc[L.ACC_BALANCE]
                day_worst = min(day_worst, acc[L.ACC_BALANCE])
                track_drawdowns_nb(acc, rules, acc[L.ACC_BALANCE])
                reason = breach_nb(acc, rules, acc[L.ACC_BALANCE], L.JUDGE_ALL)
                if reason != L.BREACH_NONE:
                    status = L.STATUS_BREACHED
                    break
                peak_balance_nb(acc, rules, acc[L.ACC_PEAK_BALANCE])
                peak_equity_nb(acc, rules, acc[L.ACC_BALANCE])
                if mark_close_nb(acc, rules, gov, acc[L.ACC_BALANCE], n_active > 0)[0] == L.STATUS_PASSED:
                    passed_today = True
                    break
                continue
            # an open
            ref = day_idx[oi]
            oi += 1
            scale = risk_fraction_nb(acc, gov, risk, math.nan)
            n_trades += 1
            book_open_nb(acc, 0.0)
            sp = span[ref]
            # held into a later day (closed on a later weekday slot) / over a Friday -> Monday boundary
            reason = holding_breach_nb(rules, sp >= 1, wd + sp >= 5)
            if reason != L.BREACH_NONE:
                status = L.STATUS_BREACHED
                break
            if has_mae:  # the trade's worst point, judged by the rules that count floating P/L
                worst = acc[L.ACC_BALANCE] - mae[ref] * scale
                day_worst = min(day_worst, worst)
                track_drawdowns_nb(acc, rules, worst)
                reason = breach_nb(acc, rules, worst, L.JUDGE_FLOATING)
                if reason != L.BREACH_NONE:
                    status = L.STATUS_BREACHED
                    break
            if has_mfe:
                peak_equity_nb(acc, rules, acc[L.ACC_BALANCE] + mfe[ref] * scale)
            o_cs[n_open] = j + sp
            o_ctod[n_open] = close_tod[ref]
            o_pnl[n_open] = pnl[ref] * scale
            o_act[n_open] = True
            n_open += 1
            n_active += 1
        if n_rec < path.shape[0]:
            path[n_rec, L.TLP_PHASE] = phase
            path[n_rec, L.TLP_DAY] = cal - acc[L.ACC_PHASE_START_DAY] + 1
            path[n_rec, L.TLP_CAL] = cal
            path[n_rec, L.TLP_BALANCE] = acc[L.ACC_BALANCE]
            path[n_rec, L.TLP_WORST] = day_worst
            path[n_rec, L.TLP_DAILY_LIMIT] = acc[L.ACC_DAILY_LIMIT]
            path[n_rec, L.TLP_MAXLOSS_LIMIT] = acc[L.ACC_MAXLOSS_LIMIT]
            n_rec += 1
        if status != L.STATUS_RUNNING:
            break
        # drop closed entries
        w = 0
        for k in range(n_open):
            if o_act[k]:
                o_cs[w] = o_cs[k]
                o_ctod[w] = o_ctod[k]
                o_pnl[w] = o_pnl[k]
                o_act[w] = True
                w += 1
        n_open = w
        if passed_today:
            phase += 1
            dd_daily = max(dd_daily, acc[L.ACC_MAX_DAILY_DD])
            dd_total = max(dd_total, acc[L.ACC_MAX_TOTAL_DD])
            if phase >= n_phases:
                status = L.STATUS_PASSED
                break
            # the next phase starts the next weekday (fresh_phase); trades still open are dropped
            rules = rules_all[phase]
            n_open = 0
            n_active = 0
            fresh_phase = True

    out[L.TL_STATUS] = status
    out[L.TL_REASON] = reason if status == L.STATUS_BREACHED else L.BREACH_NONE
    out[L.TL_PHASES_PASSED] = phase
    out[L.TL_CAL_DAYS] = last_cal + 1
    out[L.TL_TRADING_DAYS] = last_j + 1
    out[L.TL_N_TRADES] = n_trades
    out[L.TL_MAX_DAILY_DD] = max(dd_daily, acc[L.ACC_MAX_DAILY_DD])
    out[L.TL_MAX_TOTAL_DD] = max(dd_total, acc[L.ACC_MAX_TOTAL_DD])
    out[L.TL_BREACH_PHASE] = phase if status == L.STATUS_BREACHED else -1
    return n_rec


@njit(cache=True, nogil=True)
def _runs_nb(
    lo: int,
    hi: int,
    seed: int,
    mode: int,
    block_days: int,
    max_trading_days: int,
    risk: float,
    gov: np.ndarray,
    init: float,
    rules_all: np.ndarray,
    day_start: np.ndarray,
    weekday: np.ndarray,
    open_tod: np.ndarray,
    close_tod: np.ndarray,
    span: np.ndarray,
    pnl: np.ndarray,
    mae: np.ndarray,
    mfe: np.ndarray,
    has_mae: bool,
    has_mfe: bool,
    horizon_days: int,
) -> np.ndarray:
    out = np.zeros((hi - lo, L.TL_SIZE), dtype=np.float64)
    no_path = np.zeros((0, L.TLP_SIZE), dtype=np.float64)
    for i in range(lo, hi):
        _attempt_nb(
            i,
            seed,
            mode,
            block_days,
            max_trading_days,
            risk,
            gov,
            init,
            rules_all,
            day_start,
            weekday,
            open_tod,
            close_tod,
            span,
            pnl,
            mae,
            mfe,
            has_mae,
            has_mfe,
            horizon_days,
            out[i - lo],
            no_path,
        )
    return out
