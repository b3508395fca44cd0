"""The portfolio kernel: several symbols (legs) on one time grid under one account, bar by bar (numba).

One account (``acc``), one position row per leg (``pos[i]``), one phase result, one ledger. A row of
the grid (``simlab.align``) is one bar of every leg that has one there; a leg without a bar on the
row carries its last close: it cannot fill, its stops are not tested and its strategy decided
nothing there (its intents sit on the rows of its own bars), and what it holds is valued at that
close. What a leg does on its own bar is the single-symbol kernel's, through the same helpers
(``simlab.kernel_nb``: prices and cost draws, the orders at the open, the stop / target exits,
closes into the ledger); every rule, the account's books and the governors are
``simlab.account_nb``'s and ``simlab.governors_nb``'s, as for one symbol. Nothing here decides a rule.

The account across legs (each has a test in tests/test_portfolio_kernel.py and tests/test_conventions.py):

* **Equity** is the balance plus every leg's floating P/L; the close's mark values each leg at its
  bid close (long) or ask close (short), a carried leg at its last close.
* **Worst intrabar equity** is the balance plus the sum of the legs' worst floating P/L: every leg
  at its adverse extreme at the same moment (or at its exit fill when it leaves the bar), the
  conservative reading of bars whose paths inside are unknown. The best equity likewise; the best
  comes before the worst (for trailing-intraday limits) only when every leg with a position and a
  bar had a down bar (each one's high first, as for one symbol).
* **The governors' equity floor** (``governor_floor_nb``) is an account level. With one leg moving
  in the bar it is that leg's price stop, exactly as for one symbol (``floor_price_nb`` with the
  others' values held). With several, the legs move together from their opens toward their adverse
  extremes (a shared fraction ``lam`` of each one's way): the floor is reached at the smallest
  ``lam`` at which the account's liquidation equity (exit commissions included, a leg stopped earlier
  at its fill) is at the floor, found by bisection, and every leg still moving closes there as at a
  stop (gapped at ``lam = 0``: at its open). A leg without a bar cannot fill: it gets the flatten
  for its next bar.
* **Ending a phase** (a breach, the time limit, a holding rule, the kill switch, the max-loss
  buffer) closes every leg: one with a bar at the price of the event, one without at its last close.
* **Randomness**: leg i's cost draws are keyed by its own bar index and its own seed
  (``leg_seeds``: leg 0 runs on the run's seed), so a leg draws what it draws alone.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from simlab.account_nb import (
    after_floor_exit_nb,
    begin_account_nb,
    book_closed_equity_nb,
    book_equity_point_nb,
    breach_nb,
    decide_nb,
    end_phase_nb,
    holding_breach_nb,
    mark_close_nb,
    open_flatten_reason_nb,
    peak_balance_nb,
    peak_equity_nb,
    roll_day_nb,
    track_drawdowns_nb,
)
from simlab.governors_nb import governor_floor_nb
from simlab.kernel_nb import (
    _borrowed,
    _close_position_nb,
    _end_flat_breach_nb,
    _model_ask_nb,
    bar_exit_nb,
    curve_row_nb,
    orders_at_open_nb,
    result_nb,
)
from simlab.layout import (
    ACC_BALANCE,
    ACC_BEST_EQUITY,
    ACC_DAY,
    ACC_EQUITY,
    ACC_N_TRADES,
    ACC_PEAK_BALANCE,
    ACC_PEAK_EQUITY,
    ACC_SIZE,
    ACC_WORST_EQUITY,
    BREACH_NONE,
    BREACH_TIME_LIMIT,
    CFG_INITIAL_BALANCE,
    CFG_SPREAD_MODE,
    CURVE_BALANCE,
    CURVE_EQUITY,
    CURVE_SIZE,
    DIR_LONG,
    DIR_SHORT,
    EXIT_BREACH,
    EXIT_END,
    EXIT_GOV_MAXLOSS,
    EXIT_KILL_SWITCH,
    EXIT_STOP_LOSS,
    EXIT_TAKE_PROFIT,
    FLAG_WEEKEND_GAP,
    JUDGE_CLOSED,
    JUDGE_FLOATING,
    LEG_COMMISSION,
    LEG_GROSS,
    LEG_PNL,
    LEG_SIZE,
    LEG_SLIP_COST,
    LEG_SPREAD_COST,
    LEG_SWAP,
    LEG_TRADES,
    POS_DIR,
    POS_ENTRY_BAR,
    POS_ENTRY_PRICE,
    POS_PENDING_DIR,
    POS_PENDING_FLATTEN,
    POS_PENDING_REASON,
    POS_SIZE,
    POS_SL,
    POS_SWAP,
    POS_TP,
    POS_VOLUME,
    RES_END_BAR,
    RES_SIZE,
    RES_STATUS,
    SPREAD_FROM_DATA,
    STATUS_BREACHED,
    STATUS_HALTED,
    STATUS_PASSED,
    STATUS_RUNNING,
    SYM_COMMISSION,
    SYM_POINT,
    SYM_SIZE,
    SYM_SWAP_LONG,
    SYM_SWAP_SHORT,
    SYM_TICK_VALUE,
    TR_COMMISSION,
    TR_GROSS,
    TR_PNL,
    TR_SIZE,
    TR_SLIP_COST,
    TR_SPREAD_COST,
    TR_SWAP,
    Book,
    Clock,
    Costs,
    Legs,
    Params,
    Quotes,
    Signals,
)
from simlab.montecarlo_nb import _CLOSE_AT_END, attempt_window_nb, phase_done_nb
from simlab.position_nb import floating_nb, floor_price_nb, price_pnl_nb, value_per_price_nb
from simlab.rng_nb import key_hash_nb

LEG_SEED_DRAW = 1 << 61  # the key of a leg's seed (far from any bar's or start's draw counter)
FLOOR_STEPS = 60  # bisection steps of the shared floor point: 2**-60 of a bar's move, far below a tick

# a leg's row of the per-bar scratch (float64 (L, X_SIZE)): its prices as priced, and how it leaves the bar
X_BO, X_BH, X_BL, X_BC, X_AO, X_AH, X_AL, X_AC = 0, 1, 2, 3, 4, 5, 6, 7
X_KIND = 8  # 0 it stays, 1 stop (its own or the floor), 2 target
X_FILL = 9
X_SLIP = 10
X_VIA_GAP = 11
X_WORST = 12  # its worst price of the bar (its fill when it leaves)
X_BEST = 13
X_AT_OPEN = 14  # 1: its exit fills at the open
X_XO = 15  # its open and extremes on the exit side (a long sells at the bid, a short buys at the ask)
X_XFAV = 16
X_XADV = 17
X_LAM = 18  # the shared fraction of the bar's adverse way at which its own stop fills (0: the open; 2: never)
X_REASON = 19  # EXIT_* of a stop exit: its own stop, or the governors' floor
X_FLOOR = 20  # the price at which the governors' floor stops it in this bar (NaN: none)
X_MOVING = 21  # 1: it holds a position and has a bar that it does not leave at the open
X_SIZE = 24


@njit(cache=True)
def leg_seed_nb(seed: int, leg: int) -> int:
    """The seed of leg ``leg``'s cost draws: the run's seed for leg 0, a key of (seed, leg) for the others."""
    if leg == 0:
        return seed
    return int(key_hash_nb(seed, leg, LEG_SEED_DRAW) >> np.uint64(1))


def leg_seeds(seed: int, n_legs: int) -> np.ndarray:
    """int64 (n_legs,): every leg's seed (``leg_seed_nb``)."""
    return np.array([leg_seed_nb(int(seed), i) for i in range(n_legs)], dtype=np.int64)


def new_book(n_legs: int, n_trades_capacity: int = 0) -> Book:
    """Fresh state buffers of a portfolio run (``simlab.layout.Book``)."""
    return new_book_nb(int(n_legs), int(n_trades_capacity))  # type: ignore[no-any-return]


@njit(cache=True)
def begin_portfolio_nb(bk: Book, prm: Params, first_day: int) -> None:
    """Reset the buffers for a phase (``prm.rules``: its rule vector) that starts on trading day ``first_day``."""
    begin_account_nb(bk.acc, prm.rules, prm.cfg[0, CFG_INITIAL_BALANCE], first_day)
    for i in range(bk.pos.shape[0]):
        for k in range(POS_SIZE):
            bk.pos[i, k] = 0.0
        for k in range(LEG_SIZE):
            bk.legs[i, k] = 0.0
        for k in range(SYM_SIZE):
            bk.sym[i, k] = prm.sym[i, k]
        bk.mark[i, 0] = math.nan
        bk.mark[i, 1] = math.nan
    for k in range(RES_SIZE):
        bk.res[k] = 0.0
    bk.res[RES_STATUS] = STATUS_RUNNING
    bk.res[RES_END_BAR] = -1.0


@njit(cache=True, inline="always")
def _leg_costs(costs: Costs, i: int) -> Costs:
    """Leg i's cost tables and indexes, as the single-symbol helpers take them."""
    return Costs(costs.q[i], costs.probs[i], costs.guide[i], costs.lut[i])


@njit(cache=True)
def _tag_nb(bk: Book, i: int, k0: int) -> None:
    """The trades closed since ledger row ``k0`` were leg ``i``'s: their leg, and the leg's counts."""
    lg = bk.legs[i]
    for k in range(k0, int(bk.acc[ACC_N_TRADES])):
        lg[LEG_TRADES] += 1.0
        if k < bk.trades.shape[0]:
            row = bk.trades[k]
            bk.trade_leg[k] = i
            lg[LEG_PNL] += row[TR_PNL]
            lg[LEG_GROSS] += row[TR_GROSS]
            lg[LEG_COMMISSION] += row[TR_COMMISSION]
            lg[LEG_SWAP] += row[TR_SWAP]
            lg[LEG_SPREAD_COST] += row[TR_SPREAD_COST]
            lg[LEG_SLIP_COST] += row[TR_SLIP_COST]


@njit(cache=True)
def _close_leg_nb(
    bk: Book,
    gov: np.ndarray,
    session: np.ndarray,
    i: int,
    fill: float,
    spread: float,
    slip: float,
    t: int,
    reason: int,
) -> None:
    """Close leg i's position at ``fill`` into the ledger and the books (``simlab.kernel_nb``'s close)."""
    k0 = int(bk.acc[ACC_N_TRADES])
    es = int(session[int(bk.pos[i, POS_ENTRY_BAR])])
    _close_position_nb(
        bk.pos[i],
        bk.acc,
        bk.sym[i],
        gov,
        bk.trades,
        bk.res,
        fill,
        spread,
        slip,
        t,
        reason,
        es,
        int(session[t]),
    )
    _tag_nb(bk, i, k0)


@njit(cache=True)
def _close_all_nb(
    bk: Book, gov: np.ndarray, scratch: np.ndarray, session: np.ndarray, t: int, at: int, reason: int
) -> None:
    """Close every open leg ``at`` X_WORST (its worst price of the bar, with its slippage), X_BO (the
    open: bid for a long, ask for a short) or X_BC (the close); the equity is the balance after."""
    for i in range(bk.pos.shape[0]):
        d = bk.pos[i, POS_DIR]
        if d == 0.0:
            continue
        x = scratch[i]
        if at == X_WORST:
            _close_leg_nb(bk, gov, session, i, x[X_WORST], x[X_AO] - x[X_BO], x[X_SLIP], t, reason)
        elif at == X_BO:
            _close_leg_nb(
                bk, gov, session, i, x[X_BO] if d > 0 else x[X_AO], x[X_AO] - x[X_BO], 0.0, t, reason
            )
        else:
            _close_leg_nb(
                bk, gov, session, i, x[X_BC] if d > 0 else x[X_AC], x[X_AC] - x[X_BC], 0.0, t, reason
            )
    bk.acc[ACC_EQUITY] = bk.acc[ACC_BALANCE]


@njit(cache=True)
def _end_at_open_nb(
    bk: Book,
    rules: np.ndarray,
    gov: np.ndarray,
    scratch: np.ndarray,
    session: np.ndarray,
    t: int,
    status: int,
    code: int,
) -> int:
    """Close every leg at the bar's open and end the phase: ``status``, ``code``; the balance is the bar's only point."""
    reason = EXIT_KILL_SWITCH if code == EXIT_KILL_SWITCH else EXIT_BREACH
    _close_all_nb(bk, gov, scratch, session, t, X_BO, reason)
    bk.acc[ACC_WORST_EQUITY] = bk.acc[ACC_BALANCE]
    bk.acc[ACC_BEST_EQUITY] = bk.acc[ACC_BALANCE]
    book_closed_equity_nb(bk.acc, rules)
    end_phase_nb(bk.res, bk.acc, status, code, t, 0.0)
    return status


# ------------------------------------------------------------------ the governors' floor across legs


@njit(cache=True)
def _leg_value_nb(bk: Book, x: np.ndarray, i: int, lam: float) -> float:
    """What closing leg i at the shared fraction ``lam`` of its bar's adverse way would book (exit
    commission paid): at its own stop's fill once that came, else at the point of its way."""
    pos = bk.pos[i]
    sym = bk.sym[i]
    px = x[X_FILL] if (x[X_KIND] == 1.0 and lam >= x[X_LAM]) else x[X_XO] + lam * (x[X_XADV] - x[X_XO])
    pnl = price_pnl_nb(sym, pos[POS_DIR], pos[POS_ENTRY_PRICE], pos[POS_VOLUME], px)
    return pnl + pos[POS_SWAP] - sym[SYM_COMMISSION] * pos[POS_VOLUME]


@njit(cache=True)
def _liquidation_nb(bk: Book, scratch: np.ndarray, lam: float) -> float:
    """The account's liquidation equity at the shared fraction ``lam``: the balance plus every leg's value."""
    e = bk.acc[ACC_BALANCE]
    for i in range(bk.pos.shape[0]):
        if bk.pos[i, POS_DIR] != 0.0:
            e += _leg_value_nb(bk, scratch[i], i, lam)
    return e


@njit(cache=True)
def _floor_stops_nb(bk: Book, scratch: np.ndarray, n_moving: int, floor: float) -> None:
    """The price at which the governors' floor stops each moving leg (``X_FLOOR``; NaN: it does not).

    One leg moving: its price stop at the floor with the others' values held (``floor_price_nb``, as
    for one symbol). Several: the smallest shared fraction of the legs' adverse ways at which the
    liquidation equity is at the floor (bisection; 0 when the open is past it), each leg's point there.
    """
    for i in range(bk.pos.shape[0]):
        scratch[i, X_FLOOR] = math.nan
    if n_moving == 1:
        for i in range(bk.pos.shape[0]):
            if scratch[i, X_MOVING] > 0.0:
                pos = bk.pos[i]
                held = _liquidation_nb(bk, scratch, 0.0) - _leg_value_nb(bk, scratch[i], i, 0.0)
                # floor_price_nb takes the balance before this leg's exit commission, which it adds
                scratch[i, X_FLOOR] = floor_price_nb(pos, bk.sym[i], held, floor)
        return
    if _liquidation_nb(bk, scratch, 1.0) > floor:
        return
    lam = 0.0
    if _liquidation_nb(bk, scratch, 0.0) > floor:
        lo = 0.0
        hi = 1.0
        for _ in range(FLOOR_STEPS):
            mid = 0.5 * (lo + hi)
            if _liquidation_nb(bk, scratch, mid) <= floor:
                hi = mid
            else:
                lo = mid
        lam = hi
    for i in range(bk.pos.shape[0]):
        if scratch[i, X_MOVING] > 0.0:
            x = scratch[i]
            scratch[i, X_FLOOR] = x[X_XO] + lam * (x[X_XADV] - x[X_XO])


# ------------------------------------------------------------------ one leg in a bar


@njit(cache=True, inline="always")  # every row
def _price_legs_nb(
    t: int,
    sess: int,
    quotes: Quotes,
    legs: Legs,
    cfg: np.ndarray,
    costs: Costs,
    attempt: int,
    bk: Book,
    scratch: np.ndarray,
) -> None:
    """Every leg's prices on row t (its bar with the ask as its spread mode makes it, or flat at its last
    close as priced), and a converted leg's value of a price move on the row."""
    for i in range(bk.pos.shape[0]):
        x = scratch[i]
        if legs.converted[i] and legs.own[i, t] >= 0:
            bk.sym[i, SYM_TICK_VALUE] = legs.vpp[i, t]  # its tick size is 1 (simlab.portfolio_market)
        b = quotes.bid[i, t]
        a = quotes.ask[i, t]
        bo, bh, bl, bc, ao, ah, al, ac = b[0], b[1], b[2], b[3], a[0], a[1], a[2], a[3]
        if legs.has_bar[i, t]:
            smode = int(cfg[i, CFG_SPREAD_MODE])
            if smode != SPREAD_FROM_DATA:
                ao, ah, al, ac = _model_ask_nb(
                    _leg_costs(costs, i), smode, sess, legs.seeds[i], attempt, int(legs.own[i, t]),
                    bo, bh, bl, bc, ao, ah, al, ac,
                )  # fmt: skip
        elif bk.mark[i, 0] == bk.mark[i, 0]:  # carried: flat at its last close as it was priced
            bo = bh = bl = bc = bk.mark[i, 0]
            ao = ah = al = ac = bk.mark[i, 1]
        x[X_BO], x[X_BH], x[X_BL], x[X_BC] = bo, bh, bl, bc
        x[X_AO], x[X_AH], x[X_AL], x[X_AC] = ao, ah, al, ac


@njit(cache=True, inline="always")  # every row with a position
def _leg_exit_nb(
    x: np.ndarray,
    d: float,
    stop_px: float,
    tp_px: float,
    cfg: np.ndarray,
    costs: Costs,
    sess: int,
    seed: int,
    attempt: int,
    own: int,
) -> None:
    """Leg's exit in its bar by ``stop_px`` / ``tp_px`` (``simlab.kernel_nb.bar_exit_nb``) into its scratch row."""
    kind, fill, slip, via, worst, best, at_open = bar_exit_nb(
        d, stop_px, tp_px, x[X_XO], x[X_XFAV], x[X_XADV], cfg, costs, sess, seed, attempt, own
    )
    x[X_KIND] = kind
    x[X_FILL] = fill
    x[X_SLIP] = slip
    x[X_VIA_GAP] = via
    x[X_WORST] = worst
    x[X_BEST] = best
    x[X_AT_OPEN] = 1.0 if at_open else 0.0
    x[X_LAM] = 2.0
    if at_open:
        x[X_LAM] = 0.0
    elif kind == 1:
        x[X_LAM] = (stop_px - x[X_XO]) / (x[X_XADV] - x[X_XO])


# ------------------------------------------------------------------ one row


@njit(cache=True, inline="always")  # inlined into simulate_portfolio_nb's loop: no per-row call
def portfolio_step_nb(
    t: int,
    clock: Clock,
    quotes: Quotes,
    legs: Legs,
    sig: Signals,
    prm: Params,
    costs: Costs,
    attempt: int,
    bk: Book,
    scratch: np.ndarray,
    end: int,
) -> int:
    """Advance the account through row t: every leg with a bar there, then the decisions at its close.

    ``end``: the row the run stops before (a decision whose fill row is not before it is not taken).
    Returns the phase status (``STATUS_*``); does nothing once the phase has ended.
    """
    session, day, flags = clock
    rules, gov = prm.rules, prm.gov
    acc, res = bk.acc, bk.res
    if res[RES_STATUS] != STATUS_RUNNING:
        return int(res[RES_STATUS])
    n_legs = bk.pos.shape[0]
    sess = int(session[t])
    fl = int(flags[t])
    _price_legs_nb(t, sess, quotes, legs, prm.cfg, costs, attempt, bk, scratch)
    eq_prev = acc[ACC_EQUITY]  # marked at the previous row's close
    peak_bal_open = acc[ACC_PEAK_BALANCE]

    # ---- a new trading day, the holding rules: the account's, whatever leg holds
    d_t = day[t]
    new_day = d_t != acc[ACC_DAY]
    if new_day and roll_day_nb(acc, rules, d_t) != BREACH_NONE:
        return _end_at_open_nb(bk, rules, gov, scratch, session, t, STATUS_BREACHED, BREACH_TIME_LIMIT)
    holding = False
    for i in range(n_legs):
        holding = holding or bk.pos[i, POS_DIR] != 0.0
    weekend = (fl & FLAG_WEEKEND_GAP) != 0
    if holding and (new_day or weekend):
        held = holding_breach_nb(rules, new_day, weekend)
        if held != BREACH_NONE:
            return _end_at_open_nb(bk, rules, gov, scratch, session, t, STATUS_BREACHED, held)

    # ---- each leg with a bar: its swap, its orders at the open
    closed_at_open = False
    for i in range(n_legs):
        if not legs.has_bar[i, t]:
            continue
        x = scratch[i]
        pos = bk.pos[i]
        sym = bk.sym[i]
        if pos[POS_DIR] != 0.0:
            nights = quotes.swap_nights[i, t]
            if nights > 0:
                pts = sym[SYM_SWAP_LONG] if pos[POS_DIR] > 0 else sym[SYM_SWAP_SHORT]
                pos[POS_SWAP] += (
                    nights * pts * sym[SYM_POINT] * pos[POS_VOLUME] * value_per_price_nb(sym, x[X_BO])
                )
        pdir = int(pos[POS_PENDING_DIR])
        pending = int(pos[POS_PENDING_REASON]) if pos[POS_PENDING_FLATTEN] > 0.0 else 0
        flat_reason = open_flatten_reason_nb(gov, fl, pending, pdir, pos[POS_DIR])
        if flat_reason == EXIT_KILL_SWITCH:
            return _end_at_open_nb(bk, rules, gov, scratch, session, t, STATUS_HALTED, EXIT_KILL_SWITCH)
        k0 = int(acc[ACC_N_TRADES])
        es = int(session[int(pos[POS_ENTRY_BAR])]) if pos[POS_DIR] != 0.0 else sess
        closed, _ = orders_at_open_nb(
            pos, acc, sym, prm.cfg[i], rules, gov, _leg_costs(costs, i), bk.trades, res, legs.seeds[i], attempt,
            t, int(legs.own[i, t]), sess, fl, flat_reason, pdir, x[X_BO], x[X_AO], x[X_AO] - x[X_BO], es,
        )  # fmt: skip
        if acc[ACC_N_TRADES] != k0:
            _tag_nb(bk, i, k0)
        closed_at_open = closed_at_open or closed

    # ---- inside the bar: each leg's own stop and target, then the governors' floor on the account
    n_moving = 0
    high_first = True
    for i in range(n_legs):
        x = scratch[i]
        x[X_KIND] = 0.0
        x[X_SLIP] = 0.0
        x[X_VIA_GAP] = 0.0
        x[X_AT_OPEN] = 0.0
        x[X_LAM] = 2.0
        x[X_REASON] = EXIT_STOP_LOSS
        x[X_MOVING] = 0.0
        d = bk.pos[i, POS_DIR]
        if d == 0.0:
            continue
        if d > 0:
            x[X_XO], x[X_XFAV], x[X_XADV] = x[X_BO], x[X_BH], x[X_BL]
        else:
            x[X_XO], x[X_XFAV], x[X_XADV] = x[X_AO], x[X_AL], x[X_AH]
        x[X_WORST] = x[X_XO]  # a carried leg does not move
        x[X_BEST] = x[X_XO]
        if legs.has_bar[i, t]:
            if not x[X_BC] < x[X_BO]:
                high_first = False
            _leg_exit_nb(
                x, d, bk.pos[i, POS_SL], bk.pos[i, POS_TP], prm.cfg[i], _leg_costs(costs, i), sess, legs.seeds[i],
                attempt, int(legs.own[i, t]),
            )  # fmt: skip
            if x[X_AT_OPEN] == 0.0:
                x[X_MOVING] = 1.0
                n_moving += 1
    floor, floor_reason = governor_floor_nb(acc, gov, rules, t + 1 < day.shape[0] and day[t + 1] != d_t)
    if floor > -math.inf and n_moving > 0:
        _floor_stops_nb(bk, scratch, n_moving, floor)
        for i in range(n_legs):
            x = scratch[i]
            fpx = x[X_FLOOR]
            d = bk.pos[i, POS_DIR]
            sl = bk.pos[i, POS_SL]
            if x[X_MOVING] > 0.0 and fpx == fpx and (math.isnan(sl) or d * (fpx - sl) > 0.0):
                _leg_exit_nb(
                    x, d, fpx, bk.pos[i, POS_TP], prm.cfg[i], _leg_costs(costs, i), sess, legs.seeds[i], attempt,
                    int(legs.own[i, t]),
                )  # fmt: skip
                x[X_REASON] = floor_reason

    # ---- the account's worst and best points of the bar: every leg at its extreme at once
    bal = acc[ACC_BALANCE]
    worst_eq = bal
    best_eq = bal
    via_gap = 0.0
    for i in range(n_legs):
        pos = bk.pos[i]
        if pos[POS_DIR] != 0.0:
            x = scratch[i]
            entry, vol = pos[POS_ENTRY_PRICE], pos[POS_VOLUME]
            worst_eq += price_pnl_nb(bk.sym[i], pos[POS_DIR], entry, vol, x[X_WORST]) + pos[POS_SWAP]
            best_eq += price_pnl_nb(bk.sym[i], pos[POS_DIR], entry, vol, x[X_BEST]) + pos[POS_SWAP]
            via_gap = max(via_gap, x[X_VIA_GAP])
    high_first = high_first and n_moving > 0
    if high_first and best_eq > acc[ACC_PEAK_EQUITY]:
        peak_equity_nb(acc, rules, best_eq)
    breach = breach_nb(acc, rules, worst_eq, JUDGE_FLOATING)
    acc[ACC_WORST_EQUITY] = worst_eq
    acc[ACC_BEST_EQUITY] = best_eq
    track_drawdowns_nb(acc, rules, worst_eq)
    if breach != 0:
        _close_all_nb(bk, gov, scratch, session, t, X_WORST, EXIT_BREACH)
        book_closed_equity_nb(acc, rules)
        end_phase_nb(res, acc, STATUS_BREACHED, breach, t, via_gap)
        return STATUS_BREACHED
    exited = False
    floor_exit = False
    for i in range(n_legs):
        x = scratch[i]
        if bk.pos[i, POS_DIR] != 0.0 and x[X_KIND] != 0.0:
            reason = int(x[X_REASON]) if x[X_KIND] == 1.0 else EXIT_TAKE_PROFIT
            _close_leg_nb(bk, gov, session, i, x[X_FILL], x[X_AO] - x[X_BO], x[X_SLIP], t, reason)
            exited = True
            floor_exit = floor_exit or (x[X_KIND] == 1.0 and reason != EXIT_STOP_LOSS)
    if exited:
        # the closes booked their exit commissions: one more equity point, with what is still open
        point = acc[ACC_BALANCE]
        for i in range(n_legs):
            pos = bk.pos[i]
            if pos[POS_DIR] != 0.0:
                px = scratch[i, X_WORST]
                point += (
                    price_pnl_nb(bk.sym[i], pos[POS_DIR], pos[POS_ENTRY_PRICE], pos[POS_VOLUME], px)
                    + pos[POS_SWAP]
                )
        book_equity_point_nb(acc, rules, point)
        if floor_exit:
            if after_floor_exit_nb(acc, rules, floor_reason):
                # the max-loss buffer saved the account: the attempt is over; what could not fill closes at its price
                _close_all_nb(bk, gov, scratch, session, t, X_WORST, EXIT_GOV_MAXLOSS)
                end_phase_nb(res, acc, STATUS_HALTED, EXIT_GOV_MAXLOSS, t, via_gap)
                return STATUS_HALTED
            for i in range(n_legs):  # a leg without a bar closes at its next one
                if bk.pos[i, POS_DIR] != 0.0:
                    bk.pos[i, POS_PENDING_FLATTEN] = 1.0
                    bk.pos[i, POS_PENDING_REASON] = floor_reason
    if not high_first and best_eq > acc[ACC_PEAK_EQUITY]:
        peak_equity_nb(acc, rules, best_eq)

    # ---- flat now: the floating rules judge the balance; the closed-balance rules judge it always
    holding = False
    for i in range(n_legs):
        holding = holding or bk.pos[i, POS_DIR] != 0.0
    bal = acc[ACC_BALANCE]
    if not holding:
        breach = breach_nb(acc, rules, bal, JUDGE_FLOATING)
        if breach != 0:
            _end_flat_breach_nb(acc, res, breach, t, via_gap, closed_at_open, eq_prev)
            return STATUS_BREACHED
    breach = breach_nb(acc, rules, bal, JUDGE_CLOSED)
    if breach != 0:
        _close_all_nb(bk, gov, scratch, session, t, X_BC, EXIT_BREACH)
        book_closed_equity_nb(acc, rules)
        end_phase_nb(res, acc, STATUS_BREACHED, breach, t, via_gap)
        return STATUS_BREACHED
    peak_balance_nb(acc, rules, peak_bal_open)

    # ---- the close: the account marked, the target, the governors' flatten of every leg
    equity = bal
    for i in range(n_legs):
        x = scratch[i]
        equity += floating_nb(bk.pos[i], bk.sym[i], x[X_BC] if bk.pos[i, POS_DIR] > 0 else x[X_AC])
    status, flatten = mark_close_nb(acc, rules, gov, equity, holding)
    if status == STATUS_PASSED:
        end_phase_nb(res, acc, STATUS_PASSED, 0, t, 0.0)
        return STATUS_PASSED
    for i in range(n_legs):
        if flatten != 0 and bk.pos[i, POS_DIR] != 0.0:
            bk.pos[i, POS_PENDING_FLATTEN] = 1.0
            bk.pos[i, POS_PENDING_REASON] = flatten

    # ---- each leg with a bar: its close's price, and its strategy's decision (filled at its next bar)
    for i in range(n_legs):
        if not legs.has_bar[i, t]:
            continue
        x = scratch[i]
        bk.mark[i, 0] = x[X_BC]
        bk.mark[i, 1] = x[X_AC]
        nxt = legs.next_row[i, t]
        if nxt < end:
            decide_nb(
                acc, bk.pos[i], res, rules, gov, bk.sym[i], prm.cfg[i], int(flags[nxt]), quotes.vol_ratio[i], t,
                int(sig.dir[i, t]), sig.sl[i, t], sig.tp[i, t], sig.size[i, t], x[X_BC], x[X_AC],
            )  # fmt: skip
    return STATUS_RUNNING


# ------------------------------------------------------------------ many rows


@njit(cache=True)
def simulate_portfolio_nb(
    clock: Clock,
    quotes: Quotes,
    legs: Legs,
    sig: Signals,
    prm: Params,
    costs: Costs,
    attempt: int,
    start: int,
    end: int,
    bk: Book,
    curve: np.ndarray,
    close_at_end: bool,
) -> int:
    """Run rows [start, end) from a fresh account; fill ``bk`` (and ``curve`` if sized). Returns the status.

    ``prm.rules``: one phase's rule vector; ``prm.sym`` / ``prm.cfg``: (L, ...) per leg.
    """
    begin_portfolio_nb(bk, prm, clock.day[start])
    owned = np.zeros((bk.pos.shape[0], X_SIZE))  # the rows' scratch: read again after the loop (kept alive)
    record = curve.shape[0] > 0
    # borrowed views (simlab.kernel_nb._borrowed): no reference counting of the arrays (and of the legs'
    # rows cut from them) on every row; same data, same results
    b = _borrowed
    clock = Clock(b(clock.session), b(clock.day), b(clock.flags))  # type: ignore[call-arg]  # numba intrinsic
    quotes = Quotes(b(quotes.bid), b(quotes.ask), b(quotes.swap_nights), b(quotes.vol_ratio))  # type: ignore[call-arg]  # numba intrinsic
    legs = Legs(b(legs.has_bar), b(legs.own), b(legs.next_row), b(legs.vpp), b(legs.converted), b(legs.seeds))  # type: ignore[call-arg]  # numba intrinsic
    sig = Signals(b(sig.dir), b(sig.sl), b(sig.tp), b(sig.size))  # type: ignore[call-arg]  # numba intrinsic
    prm = Params(b(prm.sym), b(prm.cfg), b(prm.rules), b(prm.gov))  # type: ignore[call-arg]  # numba intrinsic
    costs = Costs(b(costs.q), b(costs.probs), b(costs.guide), b(costs.lut))  # type: ignore[call-arg]  # numba intrinsic
    bk = Book(
        b(bk.acc), b(bk.pos), b(bk.res), b(bk.trades), b(bk.trade_leg), b(bk.legs), b(bk.mark), b(bk.sym)
    )  # type: ignore[call-arg]  # numba intrinsic
    scratch = b(owned)  # type: ignore[call-arg]  # numba intrinsic
    curve = b(curve)  # type: ignore[call-arg]  # numba intrinsic
    last = start
    for t in range(start, end):
        status = portfolio_step_nb(t, clock, quotes, legs, sig, prm, costs, attempt, bk, scratch, end)
        last = t
        if record:
            curve_row_nb(curve, t - start, bk.acc)
        if status != STATUS_RUNNING:
            break
    res = bk.res
    if res[RES_STATUS] == STATUS_RUNNING:
        if close_at_end:
            _close_all_nb(bk, prm.gov, owned, clock.session, last, X_BC, EXIT_END)
            if record:
                curve[last - start, CURVE_BALANCE] = bk.acc[ACC_BALANCE]
                curve[last - start, CURVE_EQUITY] = bk.acc[ACC_EQUITY]
        res[RES_END_BAR] = last
    result_nb(bk.acc, res, clock.day)
    return int(res[RES_STATUS])


# ------------------------------------------------------------------ Monte Carlo attempts


@njit(cache=True)
def _trade_bound_nb(sig: Signals, s: int, end: int) -> int:
    """An exact upper bound on the trades of rows [s, end): every entry needs its own long/short row."""
    n = sig.dir.shape[0]
    for i in range(sig.dir.shape[0]):
        for t in range(s, end):
            v = sig.dir[i, t]
            if v == DIR_LONG or v == DIR_SHORT:
                n += 1
    return n


@njit(cache=True)
def portfolio_attempt_nb(
    a: int,
    clock: Clock,
    quotes: Quotes,
    legs: Legs,
    sig: Signals,
    prm: Params,
    costs: Costs,
    seed: int,
    start_bars: np.ndarray,
    horizon_days: int,
    out: np.ndarray,
    leg_out: np.ndarray,
) -> int:
    """One attempt of a portfolio: phases in order from a sampled start (``simlab.montecarlo_nb``'s draw).

    ``out[p]``: phase p's RES_* vector (status -1: not reached); ``leg_out[p]``: its (L, LEG_SIZE)
    counts. Returns the start row.
    """
    day = clock.day
    n_legs = prm.sym.shape[0]
    start, s, end = attempt_window_nb(a, day, seed, start_bars, horizon_days, out)
    for p in range(leg_out.shape[0]):
        for i in range(n_legs):
            for k in range(LEG_SIZE):
                leg_out[p, i, k] = 0.0
    cap = _trade_bound_nb(sig, s, end) if s < end else 0
    bk = new_book_nb(n_legs, cap)
    curve = np.zeros((0, CURVE_SIZE))
    for p in range(prm.rules.shape[0]):
        if s >= end:
            break
        simulate_portfolio_nb(
            clock, quotes, legs, sig, Params(prm.sym, prm.cfg, prm.rules[p], prm.gov), costs, a, s, end, bk, curve,
            _CLOSE_AT_END,
        )  # fmt: skip
        for i in range(n_legs):
            for k in range(LEG_SIZE):
                leg_out[p, i, k] = bk.legs[i, k]
        s = phase_done_nb(out, p, bk.res, day)
        if s < 0:
            break
    return start


@njit(cache=True)
def new_book_nb(n_legs: int, capacity: int) -> Book:
    """``new_book`` inside a kernel."""
    return Book(
        np.zeros(ACC_SIZE),
        np.zeros((n_legs, POS_SIZE)),
        np.zeros(RES_SIZE),
        np.zeros((capacity, TR_SIZE)),
        np.zeros(capacity, dtype=np.int64),
        np.zeros((n_legs, LEG_SIZE)),
        np.zeros((n_legs, 2)),
        np.zeros((n_legs, SYM_SIZE)),
    )


@njit(cache=True, nogil=True)
def run_portfolio_attempts_nb(
    first_attempt: int,
    n_attempts: int,
    clock: Clock,
    quotes: Quotes,
    legs: Legs,
    sig: Signals,
    prm: Params,
    costs: Costs,
    seed: int,
    start_bars: np.ndarray,
    horizon_days: int,
    out: np.ndarray,
    leg_out: np.ndarray,
    starts: np.ndarray,
) -> None:
    """Attempts first_attempt .. + n_attempts - 1 into ``out[i]``, ``leg_out[i]``, ``starts[i]``: serial and
    ``nogil`` (``simlab.runner`` spreads ranges over threads; an attempt is a pure function of its index)."""
    for i in range(n_attempts):
        starts[i] = portfolio_attempt_nb(
            first_attempt + i,
            clock,
            quotes,
            legs,
            sig,
            prm,
            costs,
            seed,
            start_bars,
            horizon_days,
            out[i],
            leg_out[i],
        )
