"""The trader's governors: pure numba functions of the account state.

Written once and called by both the simulation kernel (``simlab.kernel_nb``)
and the live runner (``live``), so that the guard rails a trader tested are
exactly the ones that trade. Inputs are the plain vectors laid out in
``simlab.layout``: ``acc`` (account state), ``gov`` (governor settings),
``rules`` (the firm's rules). Nothing here mutates its inputs except
``on_trade_closed_nb``, which books a closed trade into the account state.

They live in ``simlab`` rather than ``challenges`` because the kernel calls
them: ``challenges`` holds the *configuration* (presets, TOML, CLI) and
re-exports these functions for live use, which keeps the dependency arrow
pointing from ``challenges`` to ``simlab`` and never back.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from simlab.layout import (
    ACC_BALANCE,
    ACC_CONSEC_LOSSES,
    ACC_COOLDOWN_UNTIL,
    ACC_DAILY_LIMIT,
    ACC_DAY_HALTED,
    ACC_DAY_START_BALANCE,
    ACC_DAY_TRADES,
    ACC_EQUITY,
    ACC_HALTED,
    ACC_INITIAL,
    ACC_MAXLOSS_LIMIT,
    ACC_PEAK_EOD_BALANCE,
    ACC_TARGET_BANKED,
    BASIS_EQUITY,
    BLOCK_COOLDOWN,
    BLOCK_DAY_HALTED,
    BLOCK_HALTED,
    BLOCK_KILL_SWITCH,
    BLOCK_MAX_TRADES,
    BLOCK_NONE,
    BLOCK_PRE_RESET,
    BLOCK_PRE_WEEKEND,
    BLOCK_VOLATILITY,
    EXIT_GOV_DAILY,
    EXIT_GOV_MAXLOSS,
    FLAG_PRE_RESET,
    FLAG_PRE_WEEKEND,
    GOV_COOLDOWN_BARS,
    GOV_COOLDOWN_LOSSES,
    GOV_DAILY_BUFFER_PCT,
    GOV_DAILY_PROFIT_CAP_PCT,
    GOV_FLATTEN_BEFORE_RESET,
    GOV_FLATTEN_BEFORE_WEEKEND,
    GOV_KILL_SWITCH,
    GOV_LOCK_LEVEL_PCT,
    GOV_LOCK_SIZE_MULT,
    GOV_MAX_OPEN_RISK_PCT,
    GOV_MAX_TRADES_PER_DAY,
    GOV_MAXLOSS_BUFFER_PCT,
    GOV_POST_TARGET_RISK_MULT,
    GOV_SIZE,
    GOV_VOL_PAUSE_K,
    MAXLOSS_TRAILING_EOD,
    RULE_DAILY_BASIS,
    RULE_DAILY_PCT,
    RULE_DAILY_SIZE_OF,
    RULE_MAXLOSS_MODE,
    RULE_MAXLOSS_PCT,
    SIZE_OF_INITIAL,
)


def no_governors() -> np.ndarray:
    """A governor vector with every governor off (a plain backtest)."""
    g = np.zeros(GOV_SIZE, dtype=np.float64)
    g[GOV_DAILY_BUFFER_PCT] = -1.0
    g[GOV_MAXLOSS_BUFFER_PCT] = -1.0
    g[GOV_LOCK_SIZE_MULT] = 1.0
    g[GOV_POST_TARGET_RISK_MULT] = 1.0
    return g


@njit(cache=True)
def entry_block_nb(acc: np.ndarray, gov: np.ndarray, flags_t: int, vol_ratio_t: float, bar: int) -> int:
    """Why a new position may not be opened now (``BLOCK_*``), or ``BLOCK_NONE``.

    ``flags_t`` are the calendar flags of the bar the order would fill on,
    ``vol_ratio_t`` the volatility relative to its norm known at decision time
    (NaN: unknown, never blocks).
    """
    if gov[GOV_KILL_SWITCH] > 0.0:
        return BLOCK_KILL_SWITCH
    if acc[ACC_HALTED] > 0.0:
        return BLOCK_HALTED
    if acc[ACC_DAY_HALTED] > 0.0:
        return BLOCK_DAY_HALTED
    if gov[GOV_FLATTEN_BEFORE_RESET] > 0.0 and (flags_t & FLAG_PRE_RESET) != 0:
        return BLOCK_PRE_RESET
    if gov[GOV_FLATTEN_BEFORE_WEEKEND] > 0.0 and (flags_t & FLAG_PRE_WEEKEND) != 0:
        return BLOCK_PRE_WEEKEND
    if bar < acc[ACC_COOLDOWN_UNTIL]:
        return BLOCK_COOLDOWN
    if gov[GOV_VOL_PAUSE_K] > 0.0 and vol_ratio_t > gov[GOV_VOL_PAUSE_K]:
        return BLOCK_VOLATILITY
    if gov[GOV_MAX_TRADES_PER_DAY] > 0.0 and acc[ACC_DAY_TRADES] >= gov[GOV_MAX_TRADES_PER_DAY]:
        return BLOCK_MAX_TRADES
    return BLOCK_NONE


@njit(cache=True)
def reset_floor_nb(acc: np.ndarray, gov: np.ndarray, rules: np.ndarray) -> tuple[float, int]:
    """The floor that the limits set by a daily reset *now* would give, and its exit reason.

    A position held over the reset meets the new day's limits at once: FTMO's
    daily limit becomes the balance at midnight minus 5 % of the initial, so a
    floating loss of more than that, measured from the balance, breaches the
    moment the day rolls, with no price move. The caller applies this floor
    (``governor_floor_nb`` takes the higher of it and the floor now) on the last bar before a reset.
    A day-start basis of equity moves with the equity and never binds here;
    for ``max(balance, equity)`` the balance is the binding case. The end-of-day
    trailing max loss rises to the balance at the reset likewise. ``-inf``: none.
    """
    floor = -math.inf
    reason = 0
    init = acc[ACC_INITIAL]
    bal = acc[ACC_BALANCE]
    if (
        gov[GOV_DAILY_BUFFER_PCT] >= 0.0
        and rules[RULE_DAILY_PCT] > 0.0
        and int(rules[RULE_DAILY_BASIS]) != BASIS_EQUITY
    ):
        ref = init if int(rules[RULE_DAILY_SIZE_OF]) == SIZE_OF_INITIAL else bal
        floor = bal - rules[RULE_DAILY_PCT] * ref + gov[GOV_DAILY_BUFFER_PCT] * init
        reason = EXIT_GOV_DAILY
    if (
        gov[GOV_MAXLOSS_BUFFER_PCT] >= 0.0
        and rules[RULE_MAXLOSS_PCT] > 0.0
        and int(rules[RULE_MAXLOSS_MODE]) == MAXLOSS_TRAILING_EOD
    ):
        f = max(init, acc[ACC_PEAK_EOD_BALANCE], bal) - rules[RULE_MAXLOSS_PCT] * init
        f += gov[GOV_MAXLOSS_BUFFER_PCT] * init
        if f > floor:
            floor = f
            reason = EXIT_GOV_MAXLOSS
    return floor, reason


@njit(cache=True, inline="always")  # on every bar with a position: a call would cost more than the floor
def governor_floor_nb(
    acc: np.ndarray, gov: np.ndarray, rules: np.ndarray, before_reset: bool
) -> tuple[float, int]:
    """The equity level at which the governors flatten, and the exit reason it books.

    The daily buffer sits ``GOV_DAILY_BUFFER_PCT`` of the initial balance above
    the firm's daily limit, the max-loss buffer likewise above the max-loss
    limit; the higher of the two is the floor. On the last bar before a daily
    reset (``before_reset``), the higher of that and ``reset_floor_nb``'s: hold on
    over the reset only above the floor the reset will set. ``-inf`` when no floor
    is on. The bar kernel and the live runner turn it into a price stop
    (``simlab.position_nb.floor_price_nb``); an entry whose own costs would take
    the equity to it is refused (``simlab.account_nb.entry_check_nb``).
    """
    floor = -math.inf
    reason = 0
    init = acc[ACC_INITIAL]
    if gov[GOV_DAILY_BUFFER_PCT] >= 0.0 and rules[RULE_DAILY_PCT] > 0.0:
        f = acc[ACC_DAILY_LIMIT] + gov[GOV_DAILY_BUFFER_PCT] * init
        if f > floor:
            floor = f
            reason = EXIT_GOV_DAILY
    if gov[GOV_MAXLOSS_BUFFER_PCT] >= 0.0 and rules[RULE_MAXLOSS_PCT] > 0.0:
        f = acc[ACC_MAXLOSS_LIMIT] + gov[GOV_MAXLOSS_BUFFER_PCT] * init
        if f > floor:
            floor = f
            reason = EXIT_GOV_MAXLOSS
    if before_reset:
        rfloor, rreason = reset_floor_nb(acc, gov, rules)
        if rfloor > floor:
            floor = rfloor
            reason = rreason
    return floor, reason


@njit(cache=True)
def profit_cap_hit_nb(acc: np.ndarray, gov: np.ndarray) -> bool:
    """True when today's P/L (equity against the day-start balance) reached the daily cap."""
    cap = gov[GOV_DAILY_PROFIT_CAP_PCT]
    if cap <= 0.0:
        return False
    return acc[ACC_EQUITY] - acc[ACC_DAY_START_BALANCE] >= cap * acc[ACC_INITIAL]


@njit(cache=True)
def risk_fraction_nb(acc: np.ndarray, gov: np.ndarray, base_risk: float, size_mult: float) -> float:
    """The fraction of equity to risk on the next trade after the sizing governors."""
    r = base_risk
    if not math.isnan(size_mult):
        r *= size_mult
    init = acc[ACC_INITIAL]
    if gov[GOV_LOCK_LEVEL_PCT] > 0.0 and acc[ACC_EQUITY] - init >= gov[GOV_LOCK_LEVEL_PCT] * init:
        r *= gov[GOV_LOCK_SIZE_MULT]
    if acc[ACC_TARGET_BANKED] > 0.0:
        r *= gov[GOV_POST_TARGET_RISK_MULT]
    if gov[GOV_MAX_OPEN_RISK_PCT] > 0.0 and r > gov[GOV_MAX_OPEN_RISK_PCT]:
        r = gov[GOV_MAX_OPEN_RISK_PCT]
    return r


@njit(cache=True)
def size_volume_nb(
    equity: float,
    risk_frac: float,
    stop_dist: float,
    value_per_price: float,
    vol_min: float,
    vol_step: float,
    vol_max: float,
) -> float:
    """Lots that lose at most ``risk_frac`` of ``equity`` if the stop ``stop_dist`` away is hit.

    Rounded *down* to the volume step, capped at the maximum; 0.0 (refused)
    when the result is below the minimum. The tiny epsilon only absorbs
    float noise such as 0.3 / 0.1 = 2.9999999999999996.
    """
    if stop_dist <= 0.0 or math.isnan(stop_dist) or value_per_price <= 0.0:
        return 0.0
    lots = equity * risk_frac / (stop_dist * value_per_price)
    steps = math.floor(lots / vol_step + 1e-9)
    vol = steps * vol_step
    if vol > vol_max:
        vol = math.floor(vol_max / vol_step + 1e-9) * vol_step
    if vol < vol_min - 1e-12:
        return 0.0
    return vol


@njit(cache=True)
def on_trade_closed_nb(acc: np.ndarray, gov: np.ndarray, net_pnl: float, bar: int) -> None:
    """Book a closed trade into the loss-streak / cool-down state."""
    if net_pnl < 0.0:
        acc[ACC_CONSEC_LOSSES] += 1.0
        n = gov[GOV_COOLDOWN_LOSSES]
        if n > 0.0 and acc[ACC_CONSEC_LOSSES] >= n:
            acc[ACC_CONSEC_LOSSES] = 0.0
            if gov[GOV_COOLDOWN_BARS] > 0.0:
                acc[ACC_COOLDOWN_UNTIL] = bar + 1 + gov[GOV_COOLDOWN_BARS]
            else:
                acc[ACC_DAY_HALTED] = 1.0  # rest of the day
    else:
        acc[ACC_CONSEC_LOSSES] = 0.0


@njit(cache=True)
def must_flatten_on_flags_nb(gov: np.ndarray, flags_t: int) -> int:
    """1 when the calendar flags of this bar require being flat at its open (reset / weekend)."""
    if gov[GOV_FLATTEN_BEFORE_RESET] > 0.0 and (flags_t & FLAG_PRE_RESET) != 0:
        return 1
    if gov[GOV_FLATTEN_BEFORE_WEEKEND] > 0.0 and (flags_t & FLAG_PRE_WEEKEND) != 0:
        return 2
    return 0
