"""The numba kernel of trade-list mode: one challenge attempt at trade granularity.

Kept apart from :mod:`challenges.trade_list` so that editing the import and
report code does not invalidate numba's on-disk cache of this kernel.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from simlab import layout as L
from simlab.rng_nb import key_hash_nb


@njit(cache=True)
def uniform_nb(seed: int, attempt: int, draw: int) -> float:
    """``simlab.rng_nb.uniform_nb`` (same bits), as a plain call: inlining it at every call site
    of the kernel below tripled its compile time."""
    return float(key_hash_nb(seed, attempt, draw) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


# per-run result columns
(
    R_STATUS,
    R_REASON,
    R_PHASES_PASSED,
    R_CAL_DAYS,
    R_TRADING_DAYS,
    R_N_TRADES,
    R_MAX_DAILY_DD,
    R_MAX_TOTAL_DD,
) = range(8)
R_BREACH_PHASE = 8
R_SIZE = 9

# per-day path columns (``_attempt_nb``'s optional ``path`` buffer: one row per simulated day run)
(
    P_PHASE,  # phase index
    P_DAY,  # calendar day of the phase, 1 = its first day
    P_CAL,  # calendar day of the attempt, 0 = its first day
    P_BALANCE,  # closed balance at the day's end
    P_WORST,  # the day's worst point: the lowest closed balance, or balance - MAE at an open
    P_DAILY_LIMIT,  # the daily-loss level in force at the day's end (-inf: no daily rule)
    P_MAXLOSS_LIMIT,  # the max-loss level in force at the day's end (-inf: none)
) = range(7)
P_SIZE = 7


_MODE_CODES = {"bootstrap": 0, "trades": 1, "sequential": 2, "replay": 3}
_BIG = np.int64(2**62)


@njit(cache=True)
def _limits_nb(
    rules: np.ndarray,
    init: float,
    day_start_bal: float,
    peak_eod: float,
    peak_eq: float,
    peak_bal: float,
    ml: float,
) -> tuple[float, float]:
    """(daily limit, max-loss limit) as in ``simlab.kernel_nb._update_limits_nb``; the max-loss limit never falls.

    Equity-based daily bases use the day-start balance: the floating P/L at the reset is unknown here.
    """
    daily = -math.inf
    if rules[L.RULE_DAILY_PCT] > 0.0:
        basis = day_start_bal
        ref = init if int(rules[L.RULE_DAILY_SIZE_OF]) == L.SIZE_OF_INITIAL else basis
        daily = basis - rules[L.RULE_DAILY_PCT] * ref
    m = rules[L.RULE_MAXLOSS_PCT]
    if m > 0.0:
        mode = int(rules[L.RULE_MAXLOSS_MODE])
        if mode == L.MAXLOSS_STATIC:
            lim = init - m * init
        elif mode == L.MAXLOSS_TRAILING_EOD:
            lim = max(init, peak_eod) - m * init
        elif mode == L.MAXLOSS_TRAILING_INTRADAY:
            lim = max(init, peak_eq) - m * init
        else:  # trailing, locked at the initial balance
            lim = min(max(init, peak_bal) - m * init, init)
        if lim > ml:
            ml = lim
    return daily, ml


@njit(cache=True)
def _day_counts_nb(rules: np.ndarray, init: float, bal: float, day_start_bal: float, traded: bool) -> bool:
    if int(rules[L.RULE_DAY_COUNT_MODE]) == L.DAYCOUNT_PROFITABLE:
        return bal - day_start_bal >= rules[L.RULE_MIN_DAY_PROFIT_PCT] * init
    return traded


@njit(cache=True)
def _objectives_met_nb(
    rules: np.ndarray,
    init: float,
    bal: float,
    day_start_bal: float,
    best_day: float,
    counted: int,
    traded: bool,
) -> bool:
    days = counted + (1 if _day_counts_nb(rules, init, bal, day_start_bal, traded) else 0)
    if days < rules[L.RULE_MIN_DAYS]:
        return False
    share = rules[L.RULE_BEST_DAY_MAX_SHARE]
    if share > 0.0:
        total = bal - init
        best = max(best_day, bal - day_start_bal)
        if total <= 0.0 or best > share * total:
            return False
    return True


@njit(cache=True)
def _attempt_nb(
    run: int,
    seed: int,
    mode: int,
    block_days: int,
    max_trading_days: int,
    risk: float,
    post_mult: float,
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
    """One attempt through every phase at trade granularity; fills ``out`` (``R_SIZE``).

    ``path`` (rows, ``P_SIZE``), or (0, ``P_SIZE``) to skip it: one row per day run, at its end, as
    long as rows are left (reports draw the attempt against its limits). Returns the rows written.

    The mechanics follow ``simlab.kernel_nb`` (limits, day books, objectives),
    evaluated at trade opens and closes instead of bars. Random draws come from
    ``uniform_nb(seed, run, draw)``: a pure function of the run index.
    ``horizon_days`` > 0: the attempt ends before the first simulated day whose calendar day
    (0 = its first day) is at or past it, as ``simlab.montecarlo_nb.attempt_nb`` counts its horizon.
    """
    n_hist = day_start.shape[0] - 1
    n_src = pnl.shape[0]
    n_phases = rules_all.shape[0]
    draw = 0
    pos = 0
    block_left = 0
    if mode == 2:  # sequential: a random start day
        pos = min(int(uniform_nb(seed, run, draw) * n_hist), n_hist - 1)
        draw += 1
    limit = max_trading_days if mode <= 1 else n_hist - pos
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
    bal = init
    day_start_bal = init
    peak_eod = init
    peak_bal = init
    peak_eq = init
    best_day = -math.inf
    counted = 0
    traded = False
    banked = False
    fresh_phase = False
    phase_start_cal = 0
    max_daily_dd = 0.0
    max_total_dd = 0.0
    n_trades = 0
    status = L.STATUS_RUNNING
    reason = L.BREACH_NONE
    first_wd = 0
    last_j = -1
    last_cal = -1
    t_pct = rules[L.RULE_TARGET_PCT]
    target = init * (1.0 + t_pct) if t_pct > 0.0 else math.inf
    daily, ml = _limits_nb(rules, init, day_start_bal, peak_eod, peak_eq, peak_bal, -math.inf)
    n_rec = 0
    day_worst = init

    j = -1
    while status == L.STATUS_RUNNING:
        j += 1
        if j >= limit:
            break
        # ---- the trades of this simulated day (indices, sorted by open time)
        if mode == 1:  # i.i.d. trades, the count drawn from a history day
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
            if mode == 0 and block_left <= 0:  # a new block at a random day
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
            fresh_phase = False
            phase_start_cal = cal
        elif j > 0:
            # close the books of the previous day (kernel: _new_day_nb), then the time limit
            if bal - day_start_bal > best_day:
                best_day = bal - day_start_bal
            if _day_counts_nb(rules, init, bal, day_start_bal, traded):
                counted += 1
            if bal > peak_eod:
                peak_eod = bal
            day_start_bal = bal
            traded = False
            daily, ml = _limits_nb(rules, init, day_start_bal, peak_eod, peak_eq, peak_bal, ml)
            if rules[L.RULE_MAX_DAYS] > 0.0 and cal - phase_start_cal >= rules[L.RULE_MAX_DAYS]:
                status = L.STATUS_BREACHED
                reason = L.BREACH_TIME_LIMIT
                break

        day_worst = bal
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
                # a close
                o_act[best_k] = False
                n_active -= 1
                bal += o_pnl[best_k]
                day_worst = min(day_worst, bal)
                if (day_start_bal - bal) / init > max_daily_dd:
                    max_daily_dd = (day_start_bal - bal) / init
                if (init - bal) / init > max_total_dd:
                    max_total_dd = (init - bal) / init
                if rules[L.RULE_MAXLOSS_PCT] > 0.0 and bal < ml:
                    status = L.STATUS_BREACHED
                    reason = L.BREACH_MAX_LOSS
                    break
                if rules[L.RULE_DAILY_PCT] > 0.0 and bal < daily:
                    status = L.STATUS_BREACHED
                    reason = L.BREACH_DAILY_LOSS
                    break
                if bal > peak_bal:
                    peak_bal = bal
                if bal > peak_eq:
                    peak_eq = bal
                daily, ml = _limits_nb(rules, init, day_start_bal, peak_eod, peak_eq, peak_bal, ml)
                if bal >= target and n_active == 0:
                    if _objectives_met_nb(rules, init, bal, day_start_bal, best_day, counted, traded):
                        passed_today = True
                        break
                    banked = True
                continue
            # an open
            ref = day_idx[oi]
            oi += 1
            scale = risk * (post_mult if banked else 1.0)
            n_trades += 1
            traded = True
            sp = span[ref]
            if rules[L.RULE_NO_OVERNIGHT_HOLDING] > 0.0 and sp >= 1:  # closed on a later day
                status = L.STATUS_BREACHED
                reason = L.BREACH_OVERNIGHT_HOLDING
                break
            if rules[L.RULE_NO_WEEKEND_HOLDING] > 0.0 and wd + sp >= 5:
                status = L.STATUS_BREACHED
                reason = L.BREACH_WEEKEND_HOLDING
                break
            if has_mae:
                worst = bal - mae[ref] * scale
                day_worst = min(day_worst, worst)
                if (day_start_bal - worst) / init > max_daily_dd:
                    max_daily_dd = (day_start_bal - worst) / init
                if (init - worst) / init > max_total_dd:
                    max_total_dd = (init - worst) / init
                if rules[L.RULE_MAXLOSS_PCT] > 0.0 and rules[L.RULE_MAXLOSS_FLOATING] > 0.0 and worst < ml:
                    status = L.STATUS_BREACHED
                    reason = L.BREACH_MAX_LOSS
                    break
                if rules[L.RULE_DAILY_PCT] > 0.0 and rules[L.RULE_DAILY_FLOATING] > 0.0 and worst < daily:
                    status = L.STATUS_BREACHED
                    reason = L.BREACH_DAILY_LOSS
                    break
            if has_mfe:
                best_eq = bal + mfe[ref] * scale
                if best_eq > peak_eq:
                    peak_eq = best_eq
                    daily, ml = _limits_nb(rules, init, day_start_bal, peak_eod, peak_eq, peak_bal, ml)
            o_cs[n_open] = j + sp
            o_ctod[n_open] = close_tod[ref]
            o_pnl[n_open] = pnl[ref] * scale
            o_act[n_open] = True
            n_open += 1
            n_active += 1
        if n_rec < path.shape[0]:
            path[n_rec, P_PHASE] = phase
            path[n_rec, P_DAY] = cal - phase_start_cal + 1
            path[n_rec, P_CAL] = cal
            path[n_rec, P_BALANCE] = bal
            path[n_rec, P_WORST] = day_worst
            path[n_rec, P_DAILY_LIMIT] = daily
            path[n_rec, P_MAXLOSS_LIMIT] = ml
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
            if phase >= n_phases:
                status = L.STATUS_PASSED
                break
            # the next phase: a fresh account of the same size from the next weekday; open trades dropped
            rules = rules_all[phase]
            t_pct = rules[L.RULE_TARGET_PCT]
            target = init * (1.0 + t_pct) if t_pct > 0.0 else math.inf
            bal = init
            day_start_bal = init
            peak_eod = init
            peak_bal = init
            peak_eq = init
            best_day = -math.inf
            counted = 0
            traded = False
            banked = False
            n_open = 0
            n_active = 0
            fresh_phase = True
            daily, ml = _limits_nb(rules, init, day_start_bal, peak_eod, peak_eq, peak_bal, -math.inf)

    out[R_STATUS] = status
    out[R_REASON] = reason
    out[R_PHASES_PASSED] = phase
    out[R_CAL_DAYS] = last_cal + 1
    out[R_TRADING_DAYS] = last_j + 1
    out[R_N_TRADES] = n_trades
    out[R_MAX_DAILY_DD] = max_daily_dd
    out[R_MAX_TOTAL_DD] = max_total_dd
    out[R_BREACH_PHASE] = phase if status == L.STATUS_BREACHED else -1
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
    post_mult: float,
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
    out = np.zeros((hi - lo, R_SIZE), dtype=np.float64)
    no_path = np.zeros((0, P_SIZE), dtype=np.float64)
    for i in range(lo, hi):
        _attempt_nb(
            i,
            seed,
            mode,
            block_days,
            max_trading_days,
            risk,
            post_mult,
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
