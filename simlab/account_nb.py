"""The account: the firm's rules and the account's books, written once (numba).

Pure functions over the account state vector ``acc`` (``ACC_*`` in ``simlab.layout``) and the rule
vector ``rules`` (``RULE_*``): the limits, the day roll, the objectives, the breach tests with their
reasons, drawdown tracking, the target, the end of a phase, and the glue that turns the governors'
answers (``simlab.governors_nb``, the trader's guard rails, kept apart from the firm's judge as the
design has it) into orders on a position. Every host calls these and nothing else for a rule:

* the bar kernel (``simlab.kernel_nb.step_nb``): prices, fills and stops of one symbol around them;
* the trade-list kernel (``challenges._trade_list_nb``): an account-state vector driven by trade
  opens and closes instead of bars;
* the live runner (``live.guard``): broker balances and prices fed to ``live_*_nb`` below, which
  compose the same pieces in the kernel's order.

The account is account-wide: one ``acc`` whatever the number of symbols. What a symbol adds is a
position row (``simlab.position_nb``); the functions here that touch a position (``decide_nb``,
``open_flatten_reason_nb``) act on one row, and a portfolio calls them per row.

Speed: the helpers on the per-bar path of the kernel are ``inline="always"`` (a call per bar costs
about a third of the bar); the ones on event paths (a new day, a new peak, a decision to enter) are
ordinary calls, each inlined copy costing about a second of cold compile.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from simlab.governors_nb import (
    entry_block_nb,
    governor_floor_nb,
    must_flatten_on_flags_nb,
    on_trade_closed_nb,
    profit_cap_hit_nb,
    risk_fraction_nb,
    size_volume_nb,
)
from simlab.layout import (
    ACC_BALANCE,
    ACC_BEST_DAY_PNL,
    ACC_BEST_EQUITY,
    ACC_DAILY_BASIS,
    ACC_DAILY_LIMIT,
    ACC_DAY,
    ACC_DAY_COUNTED,
    ACC_DAY_HAD_TRADE,
    ACC_DAY_HALTED,
    ACC_DAY_START_BALANCE,
    ACC_DAY_START_EQUITY,
    ACC_DAY_TRADES,
    ACC_DAYS_COUNTED,
    ACC_EQUITY,
    ACC_FIRST_DAY,
    ACC_HALTED,
    ACC_INITIAL,
    ACC_MAX_DAILY_DD,
    ACC_MAX_TOTAL_DD,
    ACC_MAXLOSS_LIMIT,
    ACC_N_TRADES,
    ACC_PEAK_BALANCE,
    ACC_PEAK_EOD_BALANCE,
    ACC_PEAK_EQUITY,
    ACC_PHASE_START_DAY,
    ACC_TARGET_BANKED,
    ACC_TARGET_LEVEL,
    ACC_TRADE_DAYS,
    ACC_WORST_EQUITY,
    BASIS_BALANCE,
    BASIS_EQUITY,
    BLOCK_DAY_HALTED,
    BLOCK_NO_STOP,
    BLOCK_NONE,
    BLOCK_STOPS_LEVEL,
    BLOCK_VOLUME,
    BREACH_DAILY_LOSS,
    BREACH_MAX_LOSS,
    BREACH_NONE,
    BREACH_OVERNIGHT_HOLDING,
    BREACH_TIME_LIMIT,
    BREACH_WEEKEND_HOLDING,
    CFG_FIXED_VOLUME,
    CFG_RISK_PCT,
    DAYCOUNT_PROFITABLE,
    DIR_FLAT,
    DIR_LONG,
    DIR_SHORT,
    EXIT_GOV_DAILY,
    EXIT_GOV_MAXLOSS,
    EXIT_GOV_PROFIT_CAP,
    EXIT_GOV_RESET,
    EXIT_GOV_TARGET,
    EXIT_GOV_WEEKEND,
    EXIT_KILL_SWITCH,
    EXIT_SIGNAL,
    FLAG_WEEKEND_GAP,
    GOV_HALT_AT_TARGET,
    GOV_KILL_SWITCH,
    JUDGE_CLOSED,
    JUDGE_FLOATING,
    MAXLOSS_STATIC,
    MAXLOSS_TRAILING_EOD,
    MAXLOSS_TRAILING_INTRADAY,
    MAXLOSS_TRAILING_LOCK,
    POS_DIR,
    POS_PENDING_DIR,
    POS_PENDING_SIZE,
    POS_PENDING_SL,
    POS_PENDING_TP,
    RES_BREACH_VIA_GAP,
    RES_END_BAR,
    RES_ENTRY_DECISIONS,
    RES_REASON,
    RES_REFUSED,
    RES_STATUS,
    RULE_BEST_DAY_MAX_SHARE,
    RULE_DAILY_BASIS,
    RULE_DAILY_FLOATING,
    RULE_DAILY_PCT,
    RULE_DAILY_SIZE_OF,
    RULE_DAY_COUNT_MODE,
    RULE_MAX_DAYS,
    RULE_MAXLOSS_FLOATING,
    RULE_MAXLOSS_MODE,
    RULE_MAXLOSS_PCT,
    RULE_MIN_DAY_PROFIT_PCT,
    RULE_MIN_DAYS,
    RULE_NO_OVERNIGHT_HOLDING,
    RULE_NO_WEEKEND_HOLDING,
    RULE_TARGET_PCT,
    SIZE_OF_INITIAL,
    STATUS_PASSED,
    STATUS_RUNNING,
    SYM_COMMISSION,
    SYM_POINT,
    SYM_STOPS_LEVEL,
    SYM_VOL_MAX,
    SYM_VOL_MIN,
    SYM_VOL_STEP,
)
from simlab.position_nb import (
    clear_position_nb,
    open_position_nb,
    value_per_price_nb,
)

# ------------------------------------------------------------------ limits and the phase's start


@njit(cache=True, inline="always")
def daily_basis_nb(acc: np.ndarray, rules: np.ndarray) -> float:
    """The daily rule's basis at the day's start: the balance, the equity, or the higher of both.

    ``update_limits_nb`` keeps it in ``ACC_DAILY_BASIS`` (the day-start references only change where
    the limits are recomputed: a phase's start, a day's roll).
    """
    b = int(rules[RULE_DAILY_BASIS])
    if b == BASIS_BALANCE:
        basis = acc[ACC_DAY_START_BALANCE]
    elif b == BASIS_EQUITY:
        basis = acc[ACC_DAY_START_EQUITY]
    else:
        basis = max(acc[ACC_DAY_START_BALANCE], acc[ACC_DAY_START_EQUITY])
    return basis


@njit(cache=True)  # an event (a new peak, a new day): an ordinary call
def update_limits_nb(acc: np.ndarray, rules: np.ndarray) -> None:
    """Recompute the daily and max-loss limits from the current references (the max-loss limit never falls)."""
    init = acc[ACC_INITIAL]
    basis = daily_basis_nb(acc, rules)
    acc[ACC_DAILY_BASIS] = basis
    # daily: basis at the day's start minus its size
    if rules[RULE_DAILY_PCT] > 0.0:
        ref = init if int(rules[RULE_DAILY_SIZE_OF]) == SIZE_OF_INITIAL else basis
        acc[ACC_DAILY_LIMIT] = basis - rules[RULE_DAILY_PCT] * ref
    else:
        acc[ACC_DAILY_LIMIT] = -math.inf
    # max loss
    m = rules[RULE_MAXLOSS_PCT]
    if m > 0.0:
        mode = int(rules[RULE_MAXLOSS_MODE])
        if mode == MAXLOSS_STATIC:
            lim = init - m * init
        elif mode == MAXLOSS_TRAILING_EOD:
            lim = max(init, acc[ACC_PEAK_EOD_BALANCE]) - m * init
        elif mode == MAXLOSS_TRAILING_INTRADAY:
            lim = max(init, acc[ACC_PEAK_EQUITY]) - m * init
        else:  # MAXLOSS_TRAILING_LOCK
            lim = min(max(init, acc[ACC_PEAK_BALANCE]) - m * init, init)
        if lim > acc[ACC_MAXLOSS_LIMIT]:
            acc[ACC_MAXLOSS_LIMIT] = lim
    else:
        acc[ACC_MAXLOSS_LIMIT] = -math.inf


@njit(cache=True, inline="always")  # called from ordinary calls only: no compile unit of its own
def begin_account_nb(acc: np.ndarray, rules: np.ndarray, initial: float, first_day: int) -> None:
    """A fresh account of ``initial`` for a phase that starts on trading day ``first_day``."""
    acc[:] = 0.0
    init = initial
    acc[ACC_INITIAL] = init
    acc[ACC_BALANCE] = init
    acc[ACC_EQUITY] = init
    acc[ACC_DAY_START_BALANCE] = init
    acc[ACC_DAY_START_EQUITY] = init
    acc[ACC_PEAK_BALANCE] = init
    acc[ACC_PEAK_EOD_BALANCE] = init
    acc[ACC_PEAK_EQUITY] = init
    acc[ACC_DAY] = first_day
    acc[ACC_FIRST_DAY] = first_day
    acc[ACC_PHASE_START_DAY] = first_day
    acc[ACC_MAXLOSS_LIMIT] = -math.inf
    acc[ACC_BEST_DAY_PNL] = -math.inf
    acc[ACC_WORST_EQUITY] = init
    acc[ACC_BEST_EQUITY] = init
    t = rules[RULE_TARGET_PCT]
    # init + t * init, less a micro-cent: 1.1 * 100000 is 110000.00000000001 in floats,
    # and a balance of exactly 110,000 has reached a 10 % target
    acc[ACC_TARGET_LEVEL] = init + t * init - 1e-6 if t > 0.0 else math.inf
    update_limits_nb(acc, rules)


# ------------------------------------------------------------------ the trading day


@njit(cache=True)
def day_counts_nb(acc: np.ndarray, rules: np.ndarray) -> bool:
    """Does the current day count toward the minimum days, as of now?"""
    if int(rules[RULE_DAY_COUNT_MODE]) == DAYCOUNT_PROFITABLE:
        return (
            acc[ACC_BALANCE] - acc[ACC_DAY_START_BALANCE] >= rules[RULE_MIN_DAY_PROFIT_PCT] * acc[ACC_INITIAL]
        )
    return acc[ACC_DAY_COUNTED] > 0.0


@njit(cache=True, inline="always")  # called from ordinary calls only: no compile unit of its own
def new_day_nb(acc: np.ndarray, rules: np.ndarray, new_day: int) -> None:
    """Close the books of the finished day and open the new one (the equity at the reset is ACC_EQUITY)."""
    day_pnl = acc[ACC_BALANCE] - acc[ACC_DAY_START_BALANCE]
    if day_pnl > acc[ACC_BEST_DAY_PNL]:
        acc[ACC_BEST_DAY_PNL] = day_pnl
    if day_counts_nb(acc, rules):
        acc[ACC_DAYS_COUNTED] += 1.0
    if acc[ACC_DAY_HAD_TRADE] > 0.0:
        acc[ACC_TRADE_DAYS] += 1.0
    if acc[ACC_BALANCE] > acc[ACC_PEAK_EOD_BALANCE]:
        acc[ACC_PEAK_EOD_BALANCE] = acc[ACC_BALANCE]
    acc[ACC_DAY] = new_day
    acc[ACC_DAY_START_BALANCE] = acc[ACC_BALANCE]
    acc[ACC_DAY_START_EQUITY] = acc[ACC_EQUITY]  # marked at the previous bar's close
    acc[ACC_DAY_TRADES] = 0.0
    acc[ACC_DAY_COUNTED] = 0.0
    acc[ACC_DAY_HAD_TRADE] = 0.0
    acc[ACC_DAY_HALTED] = 0.0
    update_limits_nb(acc, rules)


@njit(cache=True)
def roll_day_nb(acc: np.ndarray, rules: np.ndarray, day: int) -> int:
    """A new rule day ``day``: the books of the finished one closed (``new_day_nb``); ``BREACH_TIME_LIMIT``
    when it is past the phase's calendar-day limit, else ``BREACH_NONE``."""
    new_day_nb(acc, rules, day)
    over = rules[RULE_MAX_DAYS] > 0.0 and day - acc[ACC_PHASE_START_DAY] >= rules[RULE_MAX_DAYS]
    return BREACH_TIME_LIMIT if over else BREACH_NONE


@njit(cache=True)  # only on a bar that opens a new day or follows a weekend close, holding: a call
def holding_breach_nb(rules: np.ndarray, into_new_day: bool, into_weekend: bool) -> int:
    """The holding rule a position held into a new rule day / over a weekend close breaks (``BREACH_*``)."""
    breach = BREACH_NONE
    if rules[RULE_NO_OVERNIGHT_HOLDING] > 0.0 and into_new_day:
        breach = BREACH_OVERNIGHT_HOLDING
    elif rules[RULE_NO_WEEKEND_HOLDING] > 0.0 and into_weekend:
        breach = BREACH_WEEKEND_HOLDING
    return breach


@njit(cache=True, inline="always")  # every bar's open: inlined; the rare day roll and holding test are calls
def open_breach_nb(acc: np.ndarray, rules: np.ndarray, day: int, flags: int, holding: bool) -> int:
    """The rules judged at a bar's open, before any order (``BREACH_*``, or ``BREACH_NONE``).

    A bar of a new rule day ``day`` closes the books of the finished one and checks the time limit
    (``roll_day_nb``); then a position held into this bar (``holding``) breaks a holding ban when the bar
    opens a new rule day or is the first after a weekend close (``FLAG_WEEKEND_GAP`` in ``flags``,
    ``holding_breach_nb``). The bar kernel and the live runner both judge an open with it.
    """
    new_day = day != acc[ACC_DAY]
    if new_day:
        code = roll_day_nb(acc, rules, day)
        if code != BREACH_NONE:
            return code
    if holding:
        weekend = (flags & FLAG_WEEKEND_GAP) != 0
        if new_day or weekend:
            return holding_breach_nb(rules, new_day, weekend)
    return BREACH_NONE


# ------------------------------------------------------------------ the judge


@njit(cache=True, inline="always")
def breach_nb(acc: np.ndarray, rules: np.ndarray, value: float, judge: int) -> int:
    """Which loss limit ``value`` (an equity or a balance) is under: ``BREACH_MAX_LOSS`` first, then
    ``BREACH_DAILY_LOSS``, else ``BREACH_NONE``.

    ``judge`` (``JUDGE_*``, a bit mask) picks the rules that judge this value: ``JUDGE_FLOATING``
    the rules that count floating P/L (a bar's worst equity), ``JUDGE_CLOSED`` those that count the
    closed balance only, both for a value that is a balance under either (a trade list's closes).
    """
    # nested tests, the limit first: it is false on almost every bar, and the fewer branches compile faster
    breach = BREACH_NONE
    if value < acc[ACC_MAXLOSS_LIMIT]:
        if rules[RULE_MAXLOSS_PCT] > 0.0:
            if judge & (JUDGE_FLOATING if rules[RULE_MAXLOSS_FLOATING] > 0.0 else JUDGE_CLOSED):
                breach = BREACH_MAX_LOSS
    if breach == BREACH_NONE and value < acc[ACC_DAILY_LIMIT]:
        if rules[RULE_DAILY_PCT] > 0.0:
            if judge & (JUDGE_FLOATING if rules[RULE_DAILY_FLOATING] > 0.0 else JUDGE_CLOSED):
                breach = BREACH_DAILY_LOSS
    return breach


@njit(cache=True, inline="always")
def breach_limit_nb(acc: np.ndarray, breach: int) -> float:
    """The limit a ``breach_nb`` answer names."""
    return acc[ACC_MAXLOSS_LIMIT] if breach == BREACH_MAX_LOSS else acc[ACC_DAILY_LIMIT]


@njit(cache=True)
def end_phase_nb(res: np.ndarray, acc: np.ndarray, status: int, reason: int, t: int, via_gap: float) -> None:
    """The phase ends at bar (or event) ``t``: ``status`` (``STATUS_*``) with ``reason``; no more entries."""
    res[RES_STATUS] = status
    res[RES_REASON] = reason
    res[RES_END_BAR] = t
    res[RES_BREACH_VIA_GAP] = via_gap
    acc[ACC_HALTED] = 1.0


# ------------------------------------------------------------------ equity points and drawdowns


@njit(cache=True, inline="always")
def track_drawdowns_nb(acc: np.ndarray, rules: np.ndarray, worst_eq: float) -> None:
    """Widen the worst daily (from the day-start basis) and total (from the initial) drawdowns to ``worst_eq``."""
    init = acc[ACC_INITIAL]
    dd = (acc[ACC_DAILY_BASIS] - worst_eq) / init
    if dd > acc[ACC_MAX_DAILY_DD]:
        acc[ACC_MAX_DAILY_DD] = dd
    tdd = (init - worst_eq) / init
    if tdd > acc[ACC_MAX_TOTAL_DD]:
        acc[ACC_MAX_TOTAL_DD] = tdd


@njit(cache=True)
def book_closed_equity_nb(acc: np.ndarray, rules: np.ndarray) -> None:
    """A close inside this bar: the balance it booked (exit commission included) is one of the bar's equity points.

    The worst equity seen before the close counts the position at its fill but not the commission of
    closing it; the judge counts that commission in the balance, so the drawdown statistics must too
    (a stop fill whose commission takes the balance under the daily limit reports a drawdown past it).
    """
    b = acc[ACC_BALANCE]
    if b < acc[ACC_WORST_EQUITY]:
        acc[ACC_WORST_EQUITY] = b
    track_drawdowns_nb(acc, rules, b)


@njit(cache=True)  # only on a new high (the caller tests it first): a call
def peak_equity_nb(acc: np.ndarray, rules: np.ndarray, best_eq: float) -> None:
    """A bar's best equity point: a new high moves the limits that follow it (trailing intraday).

    Every limit is recomputed, not only the intraday one: a close inside the same bar may have raised
    the closed-balance high that a locking trailing limit follows, and the flat-account checks that
    come next in the bar judge against that limit.
    """
    if best_eq > acc[ACC_PEAK_EQUITY]:
        acc[ACC_PEAK_EQUITY] = best_eq
        update_limits_nb(acc, rules)


@njit(cache=True, inline="always")
def peak_balance_nb(acc: np.ndarray, rules: np.ndarray, peak_at_open: float) -> None:
    """The closed balance after a bar's closes: its high, and the locking trailing limit that follows it."""
    bal = acc[ACC_BALANCE]
    if bal > acc[ACC_PEAK_BALANCE]:
        acc[ACC_PEAK_BALANCE] = bal
    if int(rules[RULE_MAXLOSS_MODE]) == MAXLOSS_TRAILING_LOCK and acc[ACC_PEAK_BALANCE] != peak_at_open:
        update_limits_nb(acc, rules)  # the lock follows the closed-balance high (closes in this bar move it)


@njit(cache=True, inline="always")
def lock_after_close_nb(acc: np.ndarray, rules: np.ndarray) -> None:
    """A close at a bar's open: a locking trailing limit follows the closed-balance high at once."""
    if int(rules[RULE_MAXLOSS_MODE]) == MAXLOSS_TRAILING_LOCK:
        update_limits_nb(acc, rules)


# ------------------------------------------------------------------ trades into the books


@njit(cache=True, inline="always")
def book_open_nb(acc: np.ndarray, commission: float) -> None:
    """An entry: its commission into the balance, the day's trade counts."""
    acc[ACC_BALANCE] -= commission
    acc[ACC_DAY_TRADES] += 1.0
    acc[ACC_DAY_COUNTED] = 1.0
    acc[ACC_DAY_HAD_TRADE] = 1.0


@njit(cache=True, inline="always")  # called from ordinary calls only: no compile unit of its own
def book_close_nb(acc: np.ndarray, gov: np.ndarray, balance: float, net: float, t: int) -> None:
    """A closed trade (net P/L ``net``) leaves the balance at ``balance``: its high, the trade count, the
    governors' loss streak."""
    acc[ACC_BALANCE] = balance
    if acc[ACC_BALANCE] > acc[ACC_PEAK_BALANCE]:
        acc[ACC_PEAK_BALANCE] = acc[ACC_BALANCE]
    acc[ACC_N_TRADES] += 1.0
    on_trade_closed_nb(acc, gov, net, t)


@njit(cache=True)
def after_floor_exit_nb(acc: np.ndarray, rules: np.ndarray, reason: int) -> bool:
    """A close by the governors' floor (``EXIT_GOV_DAILY`` / ``EXIT_GOV_MAXLOSS``): True when it ends the attempt.

    The daily buffer stops trading for the day. The max-loss buffer saves the account and ends the
    attempt: trading on from there would only bleed costs into the firm's limit (a fill slipped so
    far that the booked balance is under a floating limit saved nothing: the firm's judge ends it).
    """
    if reason == EXIT_GOV_DAILY:
        acc[ACC_DAY_HALTED] = 1.0  # the daily buffer: done for the day
        return False
    return (
        reason == EXIT_GOV_MAXLOSS and breach_nb(acc, rules, acc[ACC_BALANCE], JUDGE_FLOATING) == BREACH_NONE
    )


# ------------------------------------------------------------------ the close of a bar


@njit(cache=True)
def objectives_met_nb(acc: np.ndarray, rules: np.ndarray) -> bool:
    """Minimum days and the best-day consistency rule, counting today as it stands."""
    days = acc[ACC_DAYS_COUNTED] + (1.0 if day_counts_nb(acc, rules) else 0.0)
    if days < rules[RULE_MIN_DAYS]:
        return False
    share = rules[RULE_BEST_DAY_MAX_SHARE]
    if share > 0.0:
        total = acc[ACC_BALANCE] - acc[ACC_INITIAL]
        best = max(acc[ACC_BEST_DAY_PNL], acc[ACC_BALANCE] - acc[ACC_DAY_START_BALANCE])
        if total <= 0.0 or best > share * total:
            return False
    return True


@njit(cache=True, inline="always")
def mark_close_nb(
    acc: np.ndarray, rules: np.ndarray, gov: np.ndarray, equity: float, holding: bool
) -> tuple[int, int]:
    """The account marked at a bar's close (``equity``: balance + what is open at the close prices).

    Returns ``(status, flatten)``: ``STATUS_PASSED`` when the phase is passed (the caller ends it),
    else ``STATUS_RUNNING``; ``flatten`` the governors' reason (``EXIT_*``) to close what is open at
    the next open (the target reached with ``GOV_HALT_AT_TARGET``, the day's profit cap), or 0.
    """
    acc[ACC_EQUITY] = equity
    if equity > acc[ACC_PEAK_EQUITY]:
        acc[ACC_PEAK_EQUITY] = equity
        if int(rules[RULE_MAXLOSS_MODE]) == MAXLOSS_TRAILING_INTRADAY:
            update_limits_nb(acc, rules)
    status = STATUS_RUNNING
    flatten = 0
    # the target: passed when flat at or above it with the other objectives met; flat at it without
    # them banks it (ACC_TARGET_BANKED: the post-target sizing applies)
    if acc[ACC_BALANCE] >= acc[ACC_TARGET_LEVEL] and not holding and objectives_met_nb(acc, rules):
        status = STATUS_PASSED
    else:
        if acc[ACC_BALANCE] >= acc[ACC_TARGET_LEVEL] and not holding:
            acc[ACC_TARGET_BANKED] = 1.0
        if holding and gov[GOV_HALT_AT_TARGET] > 0.0 and equity >= acc[ACC_TARGET_LEVEL]:
            flatten = EXIT_GOV_TARGET
        if profit_cap_hit_nb(acc, gov):
            acc[ACC_DAY_HALTED] = 1.0
            if holding:
                flatten = EXIT_GOV_PROFIT_CAP
    return status, flatten


# ------------------------------------------------------------------ orders: the open and the close


@njit(cache=True, inline="always")
def open_flatten_reason_nb(
    gov: np.ndarray, flags_t: int, pending_flatten: int, pending_dir: int, holding_dir: float
) -> int:
    """Why what is open must close at this bar's open (``EXIT_*``), or 0.

    ``EXIT_KILL_SWITCH`` first (flat now, trading over, whether or not anything is open); then the
    governors' calendar windows (reset / weekend, from the bar's ``flags_t``); then a flatten decided at
    the previous close (``pending_flatten``, an ``EXIT_*``); then the previous close's decision
    ``pending_dir`` to be flat or on the other side (``EXIT_SIGNAL``).
    """
    reason = 0
    if gov[GOV_KILL_SWITCH] > 0.0:
        reason = EXIT_KILL_SWITCH
    else:
        fw = must_flatten_on_flags_nb(gov, flags_t)
        if fw == 1:
            reason = EXIT_GOV_RESET
        elif fw == 2:
            reason = EXIT_GOV_WEEKEND
        elif pending_flatten != 0:
            reason = pending_flatten
        elif pending_dir == DIR_FLAT or (
            (pending_dir == DIR_LONG or pending_dir == DIR_SHORT)
            and holding_dir != 0.0
            and holding_dir != pending_dir
        ):
            reason = EXIT_SIGNAL
    return reason


@njit(cache=True)
def entry_check_nb(
    acc: np.ndarray,
    gov: np.ndarray,
    rules: np.ndarray,
    sym: np.ndarray,
    cfg: np.ndarray,
    next_flags: int,
    vol_ratio_t: float,
    t: int,
    i_dir: int,
    i_sl: float,
    i_tp: float,
    i_size: float,
    bc: float,
    ac: float,
) -> tuple[int, float]:
    """Governors, stops level and sizing of an entry decided at bar t's close: ``(BLOCK_*, volume)``."""
    block = entry_block_nb(acc, gov, next_flags, vol_ratio_t, t + 1)
    if block != BLOCK_NONE:
        return block, 0.0
    min_dist = sym[SYM_STOPS_LEVEL] * sym[SYM_POINT]
    if min_dist > 0.0 and (
        (not math.isnan(i_sl) and i_sl < min_dist) or (not math.isnan(i_tp) and i_tp < min_dist)
    ):
        return BLOCK_STOPS_LEVEL, 0.0
    price = ac if i_dir == DIR_LONG else bc
    fixed = cfg[CFG_FIXED_VOLUME]
    if fixed > 0.0:
        vol = fixed
    else:
        if math.isnan(i_sl) or i_sl <= 0.0:
            return BLOCK_NO_STOP, 0.0
        # equity after closing what is open (a reversal) is the best estimate of the sizing equity
        r = risk_fraction_nb(acc, gov, cfg[CFG_RISK_PCT], i_size)
        vol = size_volume_nb(
            acc[ACC_EQUITY],
            r,
            i_sl,
            value_per_price_nb(sym, price),
            sym[SYM_VOL_MIN],
            sym[SYM_VOL_STEP],
            sym[SYM_VOL_MAX],
        )
        if vol <= 0.0:
            return BLOCK_VOLUME, 0.0
    # the governors' floor: no entry whose own costs (commission both ways, the spread) would already
    # take the equity to it - the floor would flatten it at once, with the costs booked
    floor, _ = governor_floor_nb(acc, gov, rules, False)
    if floor > -math.inf:
        cost = 2.0 * sym[SYM_COMMISSION] * vol + (ac - bc) * vol * value_per_price_nb(sym, price)
        if acc[ACC_EQUITY] - cost <= floor:
            return BLOCK_DAY_HALTED, 0.0
    return BLOCK_NONE, vol


@njit(cache=True, inline="always")
def decide_nb(
    acc: np.ndarray,
    pos: np.ndarray,
    res: np.ndarray,
    rules: np.ndarray,
    gov: np.ndarray,
    sym: np.ndarray,
    cfg: np.ndarray,
    next_flags: int,
    vol_ratio: np.ndarray,
    t: int,
    i_dir: int,
    i_sl: float,
    i_tp: float,
    i_size: float,
    bc: float,
    ac: float,
) -> int:
    """Register the decision taken at bar t's close on position ``pos``: the order for the next open.

    ``DIR_FLAT`` closes what is open; ``DIR_LONG`` / ``DIR_SHORT`` while not on that side is an entry
    decision (counted in ``RES_ENTRY_DECISIONS``) that the governors, the stops level and the sizing
    may refuse (counted per ``BLOCK_*`` reason from ``RES_REFUSED``; a position on the wrong side is
    then at least closed). ``vol_ratio``: the volatility series (empty: none), read at t. ``bc`` /
    ``ac``: bar t's bid and ask close as the bar was priced. Returns the ``BLOCK_*`` answer.
    """
    block = BLOCK_NONE
    if i_dir == DIR_FLAT:
        if pos[POS_DIR] != 0.0:
            pos[POS_PENDING_DIR] = DIR_FLAT
    elif i_dir == DIR_LONG or i_dir == DIR_SHORT:
        if pos[POS_DIR] != i_dir:
            res[RES_ENTRY_DECISIONS] += 1.0
            vr = vol_ratio[t] if vol_ratio.shape[0] > 0 else math.nan
            block, vol = entry_check_nb(
                acc, gov, rules, sym, cfg, next_flags, vr, t, i_dir, i_sl, i_tp, i_size, bc, ac
            )
            if block == BLOCK_NONE:
                pos[POS_PENDING_DIR] = i_dir
                pos[POS_PENDING_SL] = i_sl
                pos[POS_PENDING_TP] = i_tp
                pos[POS_PENDING_SIZE] = vol
            else:
                res[RES_REFUSED + block - 1] += 1.0
                if pos[POS_DIR] != 0.0:
                    pos[POS_PENDING_DIR] = DIR_FLAT  # cannot reverse: at least stop holding the wrong side
    return block


# ------------------------------------------------------------------ the live runner's account


@njit(cache=True)
def live_open_nb(
    acc: np.ndarray,
    pos: np.ndarray,
    sym: np.ndarray,
    direction: float,
    volume: float,
    price: float,
    sl_dist: float,
    tp_dist: float,
    bar: int,
) -> None:
    """The broker filled our entry: the position row as the kernel opens it, the day's counts booked
    (the commission is already in the broker's balance, which the next mark reads)."""
    open_position_nb(pos, sym, direction, volume, price, 0.0, 0.0, sl_dist, tp_dist, bar)
    book_open_nb(acc, 0.0)


@njit(cache=True)
def live_close_nb(
    acc: np.ndarray,
    pos: np.ndarray,
    rules: np.ndarray,
    gov: np.ndarray,
    balance: float,
    net: float,
    bar: int,
    reason: int,
) -> None:
    """Our position closed at the broker (any way) with net P/L ``net``; ``balance``: the broker's after it.

    The kernel's books of a close at an open (the lock follows at once), then the governors' floor
    exits: the daily buffer stops the day, the max-loss buffer ends the attempt.
    """
    book_close_nb(acc, gov, balance, net, bar)
    clear_position_nb(pos)
    lock_after_close_nb(acc, rules)
    if after_floor_exit_nb(acc, rules, reason):
        acc[ACC_HALTED] = 1.0


@njit(cache=True)
def live_mark_nb(
    acc: np.ndarray,
    rules: np.ndarray,
    gov: np.ndarray,
    balance: float,
    worst_eq: float,
    best_eq: float,
    equity: float,
    holding: bool,
) -> tuple[int, int]:
    """Bar t closed with the broker's ``balance``: the bar's worst / best equity and the close's mark
    (what is open valued at the bar's adverse / favourable extremes and at its close), in the kernel's
    order: extremes and drawdowns, the balance high, then ``mark_close_nb`` (its answer is returned)."""
    acc[ACC_BALANCE] = balance
    peak_at_open = acc[ACC_PEAK_BALANCE]
    acc[ACC_WORST_EQUITY] = worst_eq
    acc[ACC_BEST_EQUITY] = best_eq
    track_drawdowns_nb(acc, rules, worst_eq)
    if holding:
        peak_equity_nb(acc, rules, best_eq)
    peak_balance_nb(acc, rules, peak_at_open)
    return mark_close_nb(acc, rules, gov, equity, holding)
