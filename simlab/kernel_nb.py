"""The simulation kernel: one account, one symbol, one challenge phase, bar by bar (numba).

Plain arrays in, plain arrays out; every slot is named in ``simlab.layout``.
``step_nb`` advances one bar: prices, fills, stops and costs of one symbol are
here; every rule of the firm, the account's books and the glue of the governors'
answers are ``simlab.account_nb``'s (the trade-list kernel and the live runner
call the same functions), the governors ``simlab.governors_nb``'s, a position's
money ``simlab.position_nb``'s. ``simulate_nb`` loops ``step_nb`` over a range of
bars, and the Python ``Stepper`` (``simlab.engine``) calls it one bar at a time
for RL and stateful strategies, so all three run the same code.

Conventions (each has a test in tests/test_kernel_scenarios.py):

* A decision taken on bar t (its intent row t, data up to t's close) is filled
  at bar t+1's open — never inside the bar that produced it.
* Buys fill at the ask, sells at the bid, plus sampled slippage (adverse > 0).
* Stop-loss / take-profit are checked against the bar's bid extremes for a
  long and ask extremes for a short. A stop the bar gaps through fills at the
  open, not at the stop (the gap is its slippage: no stop slippage is added);
  a stop hit inside the bar fills at the stop plus sampled stop slippage; a
  target gapped through fills at the (better) open. When both lie inside one bar, the stop is assumed first
  (``CFG_SL_FIRST``; 0 assumes the target first).
* The rules see the *worst* equity inside the bar (floating P/L, swaps and
  commissions included). For trailing-intraday rules the bar's path is taken
  as open-high-low-close for a down bar and open-low-high-close for an up bar,
  so a bar's high raises the trailing limit before its low is tested only when
  the high came first.
* Commission is charged per lot per side: at entry into the balance, at exit
  with the trade. Swap accrues on the position at each rollover it is held
  through (``swap_nights``) and is realised with the trade.
* Volume: fixed, or sized from risk % of equity and the stop distance,
  rounded down to the volume step, refused below the minimum.
* Randomness: ``uniform_nb(seed, attempt, bar * N_DRAWS_PER_BAR + purpose)``,
  so a draw never depends on what happened before it. Cost draws go through
  ``cost_index_nb``'s guide and spread table: faster, and bit for bit the draws
  of ``simlab.costs_nb.sample_cost_nb``.

Speed vs compile time: helpers that run on every bar are inlined into
``step_nb`` at numba-IR level (``inline="always"``: LLVM does not inline them
across numba functions, and the calls cost about a third of the bar). Helpers on
event paths (fills, stop slippage, limit updates, a spread drawn late) are
ordinary calls: every inlined copy costs about a second of cold compile.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from simlab.account_nb import (
    after_floor_exit_nb,
    begin_account_nb,
    book_close_nb,
    book_closed_equity_nb,
    book_open_nb,
    breach_limit_nb,
    breach_nb,
    decide_nb,
    end_phase_nb,
    lock_after_close_nb,
    mark_close_nb,
    open_breach_nb,
    open_flatten_reason_nb,
    peak_balance_nb,
    peak_equity_nb,
    track_drawdowns_nb,
)
from simlab.costs_nb import quantile_at_nb
from simlab.governors_nb import entry_block_nb, governor_floor_nb
from simlab.layout import (
    ACC_BALANCE,
    ACC_BEST_EQUITY,
    ACC_DAILY_LIMIT,
    ACC_DAY,
    ACC_DAY_COUNTED,
    ACC_DAY_HAD_TRADE,
    ACC_DAYS_COUNTED,
    ACC_EQUITY,
    ACC_MAX_DAILY_DD,
    ACC_MAX_TOTAL_DD,
    ACC_MAXLOSS_LIMIT,
    ACC_N_TRADES,
    ACC_PEAK_BALANCE,
    ACC_PEAK_EQUITY,
    ACC_PHASE_START_DAY,
    ACC_SIZE,
    ACC_TRADE_DAYS,
    ACC_WORST_EQUITY,
    BLOCK_NONE,
    BREACH_NONE,
    CFG_INITIAL_BALANCE,
    CFG_LATENCY_BUDGET_MS,
    CFG_SL_FIRST,
    CFG_SLIPPAGE,
    CFG_SPREAD_MODE,
    COST_ENTRY_SLIP,
    COST_EXIT_SLIP,
    COST_LATENCY,
    COST_SPREAD,
    COST_STOP_SLIP,
    CURVE_BALANCE,
    CURVE_DAILY_LIMIT,
    CURVE_EQUITY,
    CURVE_MAXLOSS_LIMIT,
    CURVE_WORST_EQUITY,
    DIR_LONG,
    DIR_SHORT,
    DRAW_ENTRY_SLIP,
    DRAW_EXIT_SLIP,
    DRAW_LATENCY,
    DRAW_SPREAD,
    DRAW_STOP_SLIP,
    EXIT_BREACH,
    EXIT_END,
    EXIT_GOV_MAXLOSS,
    EXIT_KILL_SWITCH,
    EXIT_STOP_LOSS,
    EXIT_TAKE_PROFIT,
    GOV_KILL_SWITCH,
    JUDGE_CLOSED,
    JUDGE_FLOATING,
    N_DRAWS_PER_BAR,
    POS_COMMISSION,
    POS_DIR,
    POS_ENTRY_BAR,
    POS_ENTRY_PRICE,
    POS_ENTRY_SLIP,
    POS_ENTRY_SPREAD,
    POS_PENDING_DIR,
    POS_PENDING_FLATTEN,
    POS_PENDING_REASON,
    POS_PENDING_SIZE,
    POS_PENDING_SL,
    POS_PENDING_TP,
    POS_RISK,
    POS_SIZE,
    POS_SL,
    POS_SWAP,
    POS_TP,
    POS_VOLUME,
    RES_BALANCE,
    RES_CAL_DAYS,
    RES_DAYS_COUNTED,
    RES_END_BAR,
    RES_EQUITY,
    RES_MAX_DAILY_DD,
    RES_MAX_TOTAL_DD,
    RES_N_TRADES,
    RES_N_TRADES_OVERFLOW,
    RES_REFUSED,
    RES_SIZE,
    RES_STATUS,
    RES_TRADING_DAYS,
    SPREAD_FROM_DATA,
    SPREAD_FROM_MODEL,
    STATUS_BREACHED,
    STATUS_HALTED,
    STATUS_PASSED,
    STATUS_RUNNING,
    SYM_COMMISSION,
    SYM_POINT,
    SYM_SWAP_LONG,
    SYM_SWAP_SHORT,
    TR_COMMISSION,
    TR_DIR,
    TR_ENTRY_BAR,
    TR_ENTRY_PRICE,
    TR_ENTRY_SESSION,
    TR_ENTRY_SLIP,
    TR_ENTRY_SPREAD,
    TR_EXIT_BAR,
    TR_EXIT_PRICE,
    TR_EXIT_REASON,
    TR_EXIT_SESSION,
    TR_EXIT_SLIP,
    TR_EXIT_SPREAD,
    TR_GROSS,
    TR_PNL,
    TR_RISK,
    TR_SIZE,
    TR_SL,
    TR_SLIP_COST,
    TR_SPREAD_COST,
    TR_SWAP,
    TR_TP,
    TR_VOLUME,
    Clock,
    Costs,
    Params,
    Quotes,
    Signals,
    State,
)
from simlab.position_nb import (
    clear_position_nb,
    floating_nb,
    floor_price_nb,
    open_position_nb,
    price_pnl_nb,
    value_per_price_nb,
)
from simlab.rng_nb import key_hash_nb, uniform_from_hash_nb

# ------------------------------------------------------------------ borrowed views


@intrinsic
def _borrowed(typingctx, arr):
    """The same array without a meminfo: numba's reference counting skips it.

    ``simulate_nb`` runs ``step_nb`` (inlined) once per bar; every array it
    touches would otherwise be incref'ed and decref'ed on each bar, atomic
    operations that cost more than the bar's arithmetic and that two threads of
    the Monte Carlo runner contend for when they share the market arrays. The
    view is only used inside the call that owns the original, so it can never
    outlive it.
    """
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, sig, args):
        src = cgutils.create_struct_proxy(sig.args[0])(context, builder, value=args[0])
        dst = cgutils.create_struct_proxy(sig.return_type)(context, builder)
        dst.meminfo = cgutils.get_null_value(dst.meminfo.type)
        dst.parent = cgutils.get_null_value(dst.parent.type)
        dst.nitems = src.nitems
        dst.itemsize = src.itemsize
        dst.data = src.data
        dst.shape = src.shape
        dst.strides = src.strides
        return dst._getvalue()

    return arr(arr), codegen


# ------------------------------------------------------------------ state


def new_state(n_trades_capacity: int = 0) -> State:
    """Fresh state buffers (acc, pos, res, trades) for ``begin_nb`` / ``step_nb``."""
    acc = np.zeros(ACC_SIZE, dtype=np.float64)
    pos = np.zeros(POS_SIZE, dtype=np.float64)
    res = np.zeros(RES_SIZE, dtype=np.float64)
    trades = np.zeros((n_trades_capacity, TR_SIZE), dtype=np.float64)
    return State(acc, pos, res, trades)


@njit(cache=True)
def begin_nb(st: State, prm: Params, first_day: int) -> None:
    """Reset the state buffers for a phase (``prm.rules``: its rule vector) that starts on trading day ``first_day``."""
    begin_account_nb(st.acc, prm.rules, prm.cfg[CFG_INITIAL_BALANCE], first_day)
    st.pos[:] = 0.0
    st.res[:] = 0.0
    st.res[RES_STATUS] = STATUS_RUNNING
    st.res[RES_END_BAR] = -1.0


# ------------------------------------------------------------------ the per-bar spread draw

COST_GUIDE_SIZE = 2048  # buckets of the cost-probability guide (``cost_guide_nb``): 2**11
_BUCKET_SHIFT = np.uint64(64 - 11)  # a hash's bucket: its top log2(COST_GUIDE_SIZE) bits


@njit(cache=True)
def cost_guide_nb(cost_probs: np.ndarray) -> np.ndarray:
    """A bucket guide to ``cost_probs``: ``guide[g]`` = the last knot i with probs[i] <= g / G (>= 0).

    ``quantile_at_nb`` finds a draw's bracketing knots by binary search: eleven
    unpredictable steps on the shipped EURUSD model's ~1,400 knots, the larger
    part of a bar's cost when the spread is sampled every bar. Starting from
    ``guide[int(u * G)]`` and stepping forward finds the very same bracket in
    about one step (``_sample_guided_nb``), so the draws are bit for bit those of
    ``sample_cost_nb``.
    """
    k = cost_probs.shape[0]
    guide = np.zeros(COST_GUIDE_SIZE + 1, dtype=np.int64)
    i = 0
    for g in range(COST_GUIDE_SIZE + 1):
        x = g / COST_GUIDE_SIZE
        while i + 1 < k and cost_probs[i + 1] <= x:
            i += 1
        guide[g] = i
    return guide


@njit(cache=True)
def spread_lut_nb(cost_q: np.ndarray, cost_probs: np.ndarray, cost_guide: np.ndarray) -> np.ndarray:
    """The sampled spread per session and guide bucket where the bucket decides it, NaN where it does not.

    ``lut[s, g]`` float64 (N_SESSIONS, COST_GUIDE_SIZE): every u in [g / G, (g + 1) / G)
    draws this same spread in session s (all knots that can bracket such a u carry
    one value), so ``_sample_guided_nb`` would return it bit for bit (``v + w * 0.0``
    is ``v + 0.0``, stored as such). Spread tables are step tables of whole points:
    on the shipped EURUSD model 96-99% of the buckets are decided, and a draw is one
    table load instead of a search and an interpolation (about 4 vs 19 ns).
    """
    k = cost_probs.shape[0]
    n_sess = cost_q.shape[1]
    lut = np.full((n_sess, COST_GUIDE_SIZE), np.nan)
    run_end = np.empty(k, dtype=np.int64)  # the last knot of the run of equal values knot i is in
    for s in range(n_sess):
        v = cost_q[COST_SPREAD, s]
        run_end[k - 1] = k - 1
        for i in range(k - 2, -1, -1):
            run_end[i] = run_end[i + 1] if v[i] == v[i + 1] else i
        for g in range(COST_GUIDE_SIZE):
            lo = cost_guide[g]  # probs[lo] <= g / G: the lowest knot a u in the bucket starts from
            # hi: the first knot with probs >= b = (g + 1) / G (or the last knot): a u < b brackets at most to it
            b = (g + 1) / COST_GUIDE_SIZE
            hi = cost_guide[g + 1]  # the last knot with probs <= b
            if cost_probs[hi] < b:
                hi = min(hi + 1, k - 1)
            else:
                while hi > 0 and cost_probs[hi - 1] == b:  # a step at exactly b: its first knot
                    hi -= 1
            if run_end[lo] >= hi:
                lut[s, g] = v[lo] + 0.0
    return lut


@njit(cache=True)
def cost_index_nb(cost_q: np.ndarray, cost_probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(cost_guide, spread_lut)``: the sampling indexes ``simulate_nb`` and ``step_nb`` take."""
    guide = cost_guide_nb(cost_probs)
    return guide, spread_lut_nb(cost_q, cost_probs, guide)


@njit(cache=True, inline="always")  # a call per bar costs as much as the draw
def _sample_guided_nb(costs: Costs, kind: int, sess: int, seed: int, attempt: int, draw: int) -> float:
    """``sample_cost_nb(costs.q, costs.probs, kind, sess, seed, attempt, draw)``, found through the guide.

    A spread draw first looks in ``costs.lut`` (``spread_lut_nb``); only a bucket
    with a step inside it is searched.
    """
    cost_q, cost_probs, cost_guide, spread_lut = costs
    h = key_hash_nb(seed, attempt, draw)
    if kind == COST_SPREAD:
        # the bucket int(u * G) of u = (h >> 11) * 2**-53 is h's top 11 bits (G = 2**11): no float on this path
        x = spread_lut[sess, h >> _BUCKET_SHIFT]
        if x == x:  # decided by the bucket (not NaN)
            return x
    u = uniform_from_hash_nb(h)
    k = cost_probs.shape[0]
    if u <= cost_probs[0]:
        return cost_q[kind, sess, 0]
    if u >= cost_probs[k - 1]:
        return cost_q[kind, sess, k - 1]
    lo = cost_guide[int(u * COST_GUIDE_SIZE)]
    while cost_probs[lo + 1] <= u:  # stops before k - 1: probs[k - 1] > u
        lo += 1
    hi = lo + 1
    w = (u - cost_probs[lo]) / (cost_probs[hi] - cost_probs[lo])
    return cost_q[kind, sess, lo] + w * (cost_q[kind, sess, hi] - cost_q[kind, sess, lo])


@njit(cache=True, inline="always")
def _model_ask_nb(
    costs: Costs,
    smode: int,
    sess: int,
    seed: int,
    attempt: int,
    t: int,
    bo: float,
    bh: float,
    bl: float,
    bc: float,
    ao: float,
    ah: float,
    al: float,
    ac: float,
) -> tuple[float, float, float, float]:
    """Bar t's ask OHLC under spread mode ``smode`` (model or wider) from its sampled spread."""
    s = _sample_guided_nb(costs, COST_SPREAD, sess, seed, attempt, t * N_DRAWS_PER_BAR + DRAW_SPREAD)
    if smode == SPREAD_FROM_MODEL:
        return bo + s, bh + s, bl + s, bc + s
    return bo + max(ao - bo, s), bh + max(ah - bh, s), bl + max(al - bl, s), bc + max(ac - bc, s)


@njit(cache=True)
def _model_ask_outlined_nb(
    costs: Costs,
    smode: int,
    sess: int,
    seed: int,
    attempt: int,
    t: int,
    bo: float,
    bh: float,
    bl: float,
    bc: float,
    ao: float,
    ah: float,
    al: float,
    ac: float,
) -> tuple[float, float, float, float]:
    """``_model_ask_nb`` as an ordinary call, for the rare paths (a close on a bar that skipped its draw)."""
    return _model_ask_nb(costs, smode, sess, seed, attempt, t, bo, bh, bl, bc, ao, ah, al, ac)


@njit(cache=True)
def _sample_outlined_nb(costs: Costs, kind: int, sess: int, seed: int, attempt: int, draw: int) -> float:
    """``_sample_guided_nb`` as an ordinary call, for the rare paths (a stop's slippage)."""
    return _sample_guided_nb(costs, kind, sess, seed, attempt, draw)


# ------------------------------------------------------------------ codes as int64 arguments
# The codes handed to the outlined helpers below are numpy int64 globals, not the layout's plain ints:
# numba compiles a separate copy of a callee for every distinct literal argument (a bare constant is
# one), and _end_phase_nb was compiled 7 times, _close_and_end_nb and _close_position_nb 4 times each,
# seconds of every cold start. A global holding a numpy integer is typed int64.


def _i64(code: int) -> int:
    return cast(int, np.int64(code))


_COST_ENTRY_SLIP = _i64(COST_ENTRY_SLIP)
_COST_EXIT_SLIP = _i64(COST_EXIT_SLIP)
_DRAW_ENTRY_SLIP = _i64(DRAW_ENTRY_SLIP)
_DRAW_EXIT_SLIP = _i64(DRAW_EXIT_SLIP)
_EXIT_BREACH = _i64(EXIT_BREACH)
_EXIT_END = _i64(EXIT_END)
_EXIT_GOV_MAXLOSS = _i64(EXIT_GOV_MAXLOSS)
_EXIT_KILL_SWITCH = _i64(EXIT_KILL_SWITCH)
_STATUS_BREACHED = _i64(STATUS_BREACHED)
_STATUS_HALTED = _i64(STATUS_HALTED)
_STATUS_PASSED = _i64(STATUS_PASSED)
_ZERO = _i64(0)


# ------------------------------------------------------------------ fills


@njit(cache=True)  # fills are rare: an ordinary call keeps the kernel small to compile
def _slip_nb(
    kind: int,
    sess: int,
    t: int,
    purpose: int,
    cfg: np.ndarray,
    costs: Costs,
    seed: int,
    attempt: int,
) -> float:
    """Sampled adverse slippage (price) for a market fill on bar t; latency budget applied."""
    if cfg[CFG_SLIPPAGE] <= 0.0:
        return 0.0
    budget = cfg[CFG_LATENCY_BUDGET_MS]
    if budget > 0.0:
        lat = _sample_guided_nb(costs, COST_LATENCY, sess, seed, attempt, t * N_DRAWS_PER_BAR + DRAW_LATENCY)
        if lat > budget:
            return quantile_at_nb(costs.q[kind, sess], costs.probs, 0.9)
    return _sample_guided_nb(costs, kind, sess, seed, attempt, t * N_DRAWS_PER_BAR + purpose)


@njit(cache=True)
def _close_position_nb(
    pos: np.ndarray,
    acc: np.ndarray,
    sym: np.ndarray,
    gov: np.ndarray,
    trades: np.ndarray,
    res: np.ndarray,
    fill: float,
    spread: float,
    slip: float,
    t: int,
    reason: int,
    entry_session: int,
    exit_session: int,
) -> float:
    """Close the open position at ``fill``; book it into the account and the trade ledger. Returns net P/L."""
    d = pos[POS_DIR]
    vol = pos[POS_VOLUME]
    entry = pos[POS_ENTRY_PRICE]
    gross = price_pnl_nb(sym, d, entry, vol, fill)
    exit_comm = sym[SYM_COMMISSION] * vol
    swap = pos[POS_SWAP]
    net = gross + swap - pos[POS_COMMISSION] - exit_comm
    k = int(acc[ACC_N_TRADES])
    if k < trades.shape[0]:
        vpp = value_per_price_nb(sym, fill)
        row = trades[k]
        row[TR_ENTRY_BAR] = pos[POS_ENTRY_BAR]
        row[TR_EXIT_BAR] = t
        row[TR_DIR] = d
        row[TR_VOLUME] = vol
        row[TR_ENTRY_PRICE] = entry
        row[TR_EXIT_PRICE] = fill
        row[TR_SL] = pos[POS_SL]
        row[TR_TP] = pos[POS_TP]
        row[TR_PNL] = net
        row[TR_GROSS] = gross
        row[TR_COMMISSION] = pos[POS_COMMISSION] + exit_comm
        row[TR_SWAP] = swap
        row[TR_SPREAD_COST] = 0.5 * (pos[POS_ENTRY_SPREAD] + spread) * vol * vpp
        row[TR_SLIP_COST] = (pos[POS_ENTRY_SLIP] + slip) * vol * vpp
        row[TR_EXIT_REASON] = reason
        row[TR_ENTRY_SESSION] = entry_session
        row[TR_EXIT_SESSION] = exit_session
        row[TR_RISK] = pos[POS_RISK]
        row[TR_ENTRY_SPREAD] = pos[POS_ENTRY_SPREAD]
        row[TR_EXIT_SPREAD] = spread
        row[TR_ENTRY_SLIP] = pos[POS_ENTRY_SLIP]
        row[TR_EXIT_SLIP] = slip
    else:
        res[RES_N_TRADES_OVERFLOW] = 1.0
    book_close_nb(acc, gov, acc[ACC_BALANCE] + (gross + swap - exit_comm), net, t)
    clear_position_nb(pos)
    return net


@njit(cache=True)
def _close_and_end_nb(
    pos: np.ndarray,
    acc: np.ndarray,
    sym: np.ndarray,
    gov: np.ndarray,
    rules: np.ndarray,
    trades: np.ndarray,
    res: np.ndarray,
    fill: float,
    spread: float,
    slip: float,
    t: int,
    exit_reason: int,
    entry_sess: int,
    sess: int,
    status: int,
    code: int,
) -> int:
    """Close what is open at ``fill`` (booked as ``exit_reason``) and end the phase: ``status``, ``code``.

    It acts at the bar's open, so the balance it books is the bar's only equity point.
    """
    if pos[POS_DIR] != 0.0:
        _close_position_nb(
            pos, acc, sym, gov, trades, res, fill, spread, slip, t, exit_reason, entry_sess, sess
        )
    acc[ACC_EQUITY] = acc[ACC_BALANCE]
    acc[ACC_WORST_EQUITY] = acc[ACC_BALANCE]
    acc[ACC_BEST_EQUITY] = acc[ACC_BALANCE]
    book_closed_equity_nb(acc, rules)
    end_phase_nb(res, acc, status, code, t, 0.0)
    return status


@njit(cache=True)  # fills are rare: an ordinary call
def _open_position_nb(
    pos: np.ndarray,
    acc: np.ndarray,
    sym: np.ndarray,
    direction: float,
    fill: float,
    spread: float,
    slip: float,
    t: int,
) -> None:
    """Open the order decided at the previous close (``POS_PENDING_*``) at ``fill``; its commission into the books."""
    comm = open_position_nb(
        pos,
        sym,
        direction,
        pos[POS_PENDING_SIZE],
        fill,
        spread,
        slip,
        pos[POS_PENDING_SL],
        pos[POS_PENDING_TP],
        t,
    )
    book_open_nb(acc, comm)


@njit(cache=True)
def _end_flat_breach_nb(
    acc: np.ndarray,
    res: np.ndarray,
    breach: int,
    t: int,
    via_gap: float,
    closed_at_open: bool,
    eq_prev: float,
) -> None:
    """A flat account under a floating limit at bar t: the phase ends breached, equity at the balance.

    The loss came through a gap or slippage when the bar's stop fill did (``via_gap``), or, for a
    close at the open, when the previous close's equity was not below the limit (otherwise a day
    reset moved the limit past it).
    """
    lim = breach_limit_nb(acc, breach)
    acc[ACC_EQUITY] = acc[ACC_BALANCE]
    via = 1.0 if via_gap > 0.0 or (closed_at_open and eq_prev >= lim) else 0.0
    end_phase_nb(res, acc, _STATUS_BREACHED, breach, t, via)


# ------------------------------------------------------------------ one bar


@njit(cache=True, inline="always")  # inlined into simulate_nb's loop: no per-bar call
def step_nb(
    t: int,
    clock: Clock,
    quotes: Quotes,
    i_dir: int,
    i_sl: float,
    i_tp: float,
    i_size: float,
    prm: Params,
    costs: Costs,
    seed: int,
    attempt: int,
    st: State,
    is_last: bool,
) -> int:
    """Advance the account through bar t and take the decision (i_dir, i_sl, i_tp, i_size) made at its close.

    ``prm.rules``: one phase's rule vector. Returns the phase status (``STATUS_*``). Does nothing once
    the phase has ended.
    """
    session, day, flags = clock
    bid, ask, swap_nights, vol_ratio = quotes
    sym, cfg, rules, gov = prm
    acc, pos, res, trades = st
    if res[RES_STATUS] != STATUS_RUNNING:
        return int(res[RES_STATUS])
    sess = int(session[t])
    fl = int(flags[t])

    # ---- prices of this bar: the data's bid, the ask from the data, the model or the wider
    bo = bid[t, 0]
    bh = bid[t, 1]
    bl = bid[t, 2]
    bc = bid[t, 3]
    ao = ask[t, 0]
    ah = ask[t, 1]
    al = ask[t, 2]
    ac = ask[t, 3]
    smode = int(cfg[CFG_SPREAD_MODE])
    # A sampled spread is drawn only on a bar that uses the ask (the draw is keyed by the bar, so
    # when it is drawn changes nothing): not on a bar that starts flat or long with no order at its
    # open, no calendar flag, no new day, no kill switch and no entry decided at its close, unless
    # something closes inside it (a trade records the spread; see the draws further down).
    lazy_ask = (
        smode != SPREAD_FROM_DATA
        and pos[POS_DIR] >= 0.0
        and pos[POS_PENDING_DIR] == 0.0
        and pos[POS_PENDING_FLATTEN] <= 0.0
        and fl == 0
        and day[t] == acc[ACC_DAY]
        and gov[GOV_KILL_SWITCH] <= 0.0
        and (is_last or (i_dir != DIR_LONG and i_dir != DIR_SHORT))
    )
    if smode != SPREAD_FROM_DATA and not lazy_ask:
        ao, ah, al, ac = _model_ask_nb(costs, smode, sess, seed, attempt, t, bo, bh, bl, bc, ao, ah, al, ac)
    spread_open = ao - bo

    eq_prev = acc[ACC_EQUITY]  # marked at the previous bar's close
    peak_bal_open = acc[ACC_PEAK_BALANCE]  # the limits already follow it (see the trailing lock below)

    # ---- the rules at the open (open_breach_nb, the live runner's too): a new trading day closes the books
    # of the old one and checks the time limit; a position held into a new day or over a weekend close
    d_t = day[t]
    held = open_breach_nb(acc, rules, d_t, fl, pos[POS_DIR] != 0.0)
    if held != BREACH_NONE:
        fill = bo if pos[POS_DIR] > 0 else ao
        entry_sess = int(session[int(pos[POS_ENTRY_BAR])])  # the trade's entry session
        return _close_and_end_nb(
            pos, acc, sym, gov, rules, trades, res, fill, spread_open, 0.0, t, _EXIT_BREACH, entry_sess, sess,
            _STATUS_BREACHED, held,
        )  # fmt: skip

    entry_sess_pos = int(session[int(pos[POS_ENTRY_BAR])]) if pos[POS_DIR] != 0.0 else sess

    # ---- swap, at the open
    if pos[POS_DIR] != 0.0:
        nights = swap_nights[t]
        if nights > 0:
            pts = sym[SYM_SWAP_LONG] if pos[POS_DIR] > 0 else sym[SYM_SWAP_SHORT]
            pos[POS_SWAP] += nights * pts * sym[SYM_POINT] * pos[POS_VOLUME] * value_per_price_nb(sym, bo)

    # ---- orders at the open: governor flattening first, then the decision of bar t-1
    pdir = int(pos[POS_PENDING_DIR])
    flat_reason = open_flatten_reason_nb(
        gov, fl, int(pos[POS_PENDING_REASON]) if pos[POS_PENDING_FLATTEN] > 0.0 else 0, pdir, pos[POS_DIR]
    )
    if flat_reason == EXIT_KILL_SWITCH:
        # the kill switch wins over everything: flat now, and trading is over
        slip = 0.0
        if pos[POS_DIR] != 0.0:
            slip = _slip_nb(_COST_EXIT_SLIP, sess, t, _DRAW_EXIT_SLIP, cfg, costs, seed, attempt)
        fill = bo - slip if pos[POS_DIR] > 0 else ao + slip
        return _close_and_end_nb(
            pos, acc, sym, gov, rules, trades, res, fill, spread_open, slip, t, _EXIT_KILL_SWITCH, entry_sess_pos, sess,
            _STATUS_HALTED, _EXIT_KILL_SWITCH,
        )  # fmt: skip
    closed_at_open = False
    if flat_reason != 0 and pos[POS_DIR] != 0.0:
        slip = _slip_nb(_COST_EXIT_SLIP, sess, t, _DRAW_EXIT_SLIP, cfg, costs, seed, attempt)
        fill = bo - slip if pos[POS_DIR] > 0 else ao + slip
        _close_position_nb(
            pos, acc, sym, gov, trades, res, fill, spread_open, slip, t, flat_reason, entry_sess_pos, sess
        )
        closed_at_open = True
        lock_after_close_nb(acc, rules)  # the closed-balance high moves a locking trailing limit at once
    if (pdir == DIR_LONG or pdir == DIR_SHORT) and pos[POS_DIR] == 0.0:
        # the order was sized at the decision; the calendar or kill switch may still veto it at the open
        veto = entry_block_nb(acc, gov, fl, math.nan, t)
        if veto != BLOCK_NONE:
            res[RES_REFUSED + veto - 1] += 1.0
        else:
            slip = _slip_nb(_COST_ENTRY_SLIP, sess, t, _DRAW_ENTRY_SLIP, cfg, costs, seed, attempt)
            fill = ao + slip if pdir == DIR_LONG else bo - slip
            _open_position_nb(pos, acc, sym, float(pdir), fill, spread_open, slip, t)
            entry_sess_pos = sess
    pos[POS_PENDING_DIR] = 0.0
    pos[POS_PENDING_FLATTEN] = 0.0
    pos[POS_PENDING_REASON] = 0.0

    # ---- inside the bar: stops, targets, the governors' equity floor, worst and best equity
    via_gap = 0.0
    d = pos[POS_DIR]
    if d != 0.0:
        vol = pos[POS_VOLUME]
        entry = pos[POS_ENTRY_PRICE]
        # the exit side's prices: a long sells at the bid, a short buys at the ask
        if d > 0:
            xo = bo
            xfav = bh
            xadv = bl
        else:
            xo = ao
            xfav = al
            xadv = ah
        bal = acc[ACC_BALANCE]
        # the governors' floor, as a price stop on the position; on the last bar before a daily reset,
        # hold on only above the floor the reset will set
        floor, floor_reason = governor_floor_nb(acc, gov, rules, t + 1 < day.shape[0] and day[t + 1] != d_t)
        stop_px = pos[POS_SL]
        stop_reason = EXIT_STOP_LOSS
        if floor > -math.inf:
            # the price at which closing (exit commission included) books the balance at the floor
            fpx = floor_price_nb(pos, sym, bal, floor)
            if math.isnan(stop_px) or d * (fpx - stop_px) > 0.0:
                stop_px = fpx
                stop_reason = floor_reason
        tp_px = pos[POS_TP]
        has_stop = not math.isnan(stop_px)
        has_tp = not math.isnan(tp_px)
        stop_hit = has_stop and d * (xadv - stop_px) <= 0.0
        tp_hit = has_tp and d * (xfav - tp_px) >= 0.0
        stop_gap = has_stop and d * (xo - stop_px) <= 0.0
        tp_gap = has_tp and d * (xo - tp_px) >= 0.0
        exit_kind = 0  # 1 stop, 2 target
        if stop_gap:
            exit_kind = 1
        elif tp_gap:
            exit_kind = 2
        elif stop_hit and tp_hit:
            exit_kind = 1 if cfg[CFG_SL_FIRST] > 0.0 else 2
        elif stop_hit:
            exit_kind = 1
        elif tp_hit:
            exit_kind = 2
        fill = math.nan
        slip = 0.0
        if exit_kind == 1:
            slip = 0.0
            if cfg[CFG_SLIPPAGE] > 0.0 and not stop_gap:
                slip = _sample_outlined_nb(
                    costs, COST_STOP_SLIP, sess, seed, attempt, t * N_DRAWS_PER_BAR + DRAW_STOP_SLIP
                )
            # a stop gapped through fills at the open: the gap is its slippage (the calibrated
            # stop slippage is the overshoot of quotes through the level, so adding it would count it twice)
            fill = xo if stop_gap else stop_px - d * slip
            if stop_gap or slip > 0.0:
                via_gap = 1.0
        elif exit_kind == 2:
            fill = xo if tp_gap else tp_px
        # worst / best equity inside the bar: an exit at the open sees nothing of the bar;
        # otherwise the adverse extreme may have come before a target (assumed so: conservative)
        worst_px = xadv
        best_px = xfav
        if exit_kind == 1:
            worst_px = fill
            if stop_gap:
                best_px = fill
        elif exit_kind == 2:
            best_px = fill
            if tp_gap:
                worst_px = fill
        worst_eq = bal + price_pnl_nb(sym, d, entry, vol, worst_px) + pos[POS_SWAP]
        best_eq = bal + price_pnl_nb(sym, d, entry, vol, best_px) + pos[POS_SWAP]
        high_first = bc < bo  # a down bar: open-high-low-close
        if high_first and best_eq > acc[ACC_PEAK_EQUITY]:
            peak_equity_nb(acc, rules, best_eq)
        # the rules judge the worst point of the bar
        breach = breach_nb(acc, rules, worst_eq, JUDGE_FLOATING)
        acc[ACC_WORST_EQUITY] = worst_eq
        acc[ACC_BEST_EQUITY] = best_eq
        track_drawdowns_nb(acc, rules, worst_eq)
        if lazy_ask and (breach != 0 or exit_kind != 0):  # a close records the bar's spread
            ao, ah, al, ac = _model_ask_outlined_nb(
                costs, smode, sess, seed, attempt, t, bo, bh, bl, bc, ao, ah, al, ac
            )
            spread_open = ao - bo
            lazy_ask = False
        if breach != 0:
            bfill = worst_px
            _close_position_nb(
                pos,
                acc,
                sym,
                gov,
                trades,
                res,
                bfill,
                spread_open,
                slip,
                t,
                _EXIT_BREACH,
                entry_sess_pos,
                sess,
            )
            acc[ACC_EQUITY] = acc[ACC_BALANCE]
            book_closed_equity_nb(acc, rules)
            end_phase_nb(res, acc, _STATUS_BREACHED, breach, t, via_gap)
            return STATUS_BREACHED
        if exit_kind != 0:
            reason = stop_reason if exit_kind == 1 else EXIT_TAKE_PROFIT
            _close_position_nb(
                pos, acc, sym, gov, trades, res, fill, spread_open, slip, t, reason, entry_sess_pos, sess
            )
            book_closed_equity_nb(acc, rules)
            if after_floor_exit_nb(acc, rules, reason):
                # the max-loss buffer saved the account: the attempt is over (see after_floor_exit_nb)
                acc[ACC_EQUITY] = acc[ACC_BALANCE]
                end_phase_nb(res, acc, _STATUS_HALTED, _EXIT_GOV_MAXLOSS, t, via_gap)
                return STATUS_HALTED
        if not high_first and best_eq > acc[ACC_PEAK_EQUITY]:
            peak_equity_nb(acc, rules, best_eq)
    else:
        acc[ACC_WORST_EQUITY] = acc[ACC_BALANCE]
        acc[ACC_BEST_EQUITY] = acc[ACC_BALANCE]
        track_drawdowns_nb(acc, rules, acc[ACC_BALANCE])

    # flat now: equity is the balance, and the floating rules judge it too. A close in this bar books
    # its exit commission; a close at this open may have booked a gap. The loss came through a gap or
    # slippage when the bar's stop fill did (via_gap), or, for a close at the open, when the previous
    # close's equity was not below the limit (otherwise a day reset moved the limit past it).
    if pos[POS_DIR] == 0.0:
        bal = acc[ACC_BALANCE]
        breach = breach_nb(acc, rules, bal, JUDGE_FLOATING)
        if breach != 0:
            _end_flat_breach_nb(acc, res, breach, t, via_gap, closed_at_open, eq_prev)
            return STATUS_BREACHED

    # closed-balance rules (floating not counted) judge the balance after this bar's closes
    bal = acc[ACC_BALANCE]
    breach = breach_nb(acc, rules, bal, JUDGE_CLOSED)
    if breach != 0:
        if lazy_ask:  # the close below records the bar's spread
            ao, ah, al, ac = _model_ask_outlined_nb(
                costs, smode, sess, seed, attempt, t, bo, bh, bl, bc, ao, ah, al, ac
            )
        _close_open_at_close_nb(pos, acc, sym, gov, trades, res, bc, ac, t, entry_sess_pos, sess)
        book_closed_equity_nb(acc, rules)
        end_phase_nb(res, acc, _STATUS_BREACHED, breach, t, via_gap)
        return STATUS_BREACHED
    peak_balance_nb(acc, rules, peak_bal_open)

    # ---- the close: mark to market; the target, the governors' flatten for the next open
    mark = bc if pos[POS_DIR] > 0 else ac
    status, flatten = mark_close_nb(acc, rules, gov, bal + floating_nb(pos, sym, mark), pos[POS_DIR] != 0.0)
    if status == STATUS_PASSED:
        end_phase_nb(res, acc, _STATUS_PASSED, _ZERO, t, 0.0)
        return STATUS_PASSED
    if flatten != 0:
        pos[POS_PENDING_FLATTEN] = 1.0
        pos[POS_PENDING_REASON] = flatten

    # ---- the decision made at this close, to be filled at the next open
    if is_last:
        return STATUS_RUNNING
    decide_nb(
        acc,
        pos,
        res,
        rules,
        gov,
        sym,
        cfg,
        int(flags[t + 1]),
        vol_ratio,
        t,
        i_dir,
        i_sl,
        i_tp,
        i_size,
        bc,
        ac,
    )
    return STATUS_RUNNING


@njit(cache=True)
def _close_open_at_close_nb(
    pos: np.ndarray,
    acc: np.ndarray,
    sym: np.ndarray,
    gov: np.ndarray,
    trades: np.ndarray,
    res: np.ndarray,
    bc: float,
    ac: float,
    t: int,
    entry_sess: int,
    sess: int,
) -> None:
    if pos[POS_DIR] != 0.0:
        fill = bc if pos[POS_DIR] > 0 else ac
        _close_position_nb(
            pos, acc, sym, gov, trades, res, fill, ac - bc, 0.0, t, _EXIT_BREACH, entry_sess, sess
        )
    acc[ACC_EQUITY] = acc[ACC_BALANCE]


@njit(cache=True)
def bar_ask_close_nb(
    t: int, clock: Clock, quotes: Quotes, cfg: np.ndarray, costs: Costs, seed: int, attempt: int
) -> float:
    """Bar t's ask close as ``step_nb`` prices it: the data's, or bid + the sampled spread (model / wider)."""
    bid, ask = quotes.bid, quotes.ask
    smode = int(cfg[CFG_SPREAD_MODE])
    if smode == SPREAD_FROM_DATA:
        return ask[t, 3]
    _, _, _, ac = _model_ask_outlined_nb(
        costs, smode, int(clock.session[t]), seed, attempt, t,
        bid[t, 0], bid[t, 1], bid[t, 2], bid[t, 3], ask[t, 0], ask[t, 1], ask[t, 2], ask[t, 3],
    )  # fmt: skip
    return ac


@njit(cache=True)
def finish_nb(
    t: int, clock: Clock, quotes: Quotes, prm: Params, st: State, close_open: bool, ask_close: float
) -> None:
    """Fill the result vector after the last bar run (t); optionally close what is open at its close.

    ``ask_close``: bar t's ask close as the kernel priced it (``bar_ask_close_nb``), so that a short
    closed at the end pays the same spread the bar was marked with.
    """
    session, day = clock.session, clock.day
    bid = quotes.bid
    acc, pos, res, trades = st
    if res[RES_STATUS] == STATUS_RUNNING:
        if close_open and pos[POS_DIR] != 0.0:
            sess = int(session[t])
            fill = bid[t, 3] if pos[POS_DIR] > 0 else ask_close
            es = int(session[int(pos[POS_ENTRY_BAR])])
            _close_position_nb(
                pos,
                acc,
                prm.sym,
                prm.gov,
                trades,
                res,
                fill,
                ask_close - bid[t, 3],
                0.0,
                t,
                _EXIT_END,
                es,
                sess,
            )
            acc[ACC_EQUITY] = acc[ACC_BALANCE]
        res[RES_END_BAR] = t
    end = int(res[RES_END_BAR])
    res[RES_N_TRADES] = acc[ACC_N_TRADES]
    res[RES_DAYS_COUNTED] = acc[ACC_DAYS_COUNTED] + (1.0 if acc[ACC_DAY_COUNTED] > 0.0 else 0.0)
    res[RES_TRADING_DAYS] = acc[ACC_TRADE_DAYS] + (1.0 if acc[ACC_DAY_HAD_TRADE] > 0.0 else 0.0)
    res[RES_BALANCE] = acc[ACC_BALANCE]
    res[RES_EQUITY] = acc[ACC_EQUITY]
    res[RES_MAX_DAILY_DD] = acc[ACC_MAX_DAILY_DD]
    res[RES_MAX_TOTAL_DD] = acc[ACC_MAX_TOTAL_DD]
    res[RES_CAL_DAYS] = day[end] - acc[ACC_PHASE_START_DAY] + 1 if end >= 0 else 0


# ------------------------------------------------------------------ many bars


@njit(cache=True)
def simulate_nb(
    clock: Clock,
    quotes: Quotes,
    sig: Signals,
    prm: Params,
    costs: Costs,
    seed: int,
    attempt: int,
    start: int,
    end: int,
    st: State,
    curve: np.ndarray,
    close_at_end: bool,
) -> int:
    """Run bars [start, end) from a fresh account; fill ``st.res`` (and ``st.trades``, ``curve`` if sized).

    ``prm.rules``: one phase's rule vector. ``curve`` is (end - start, CURVE_SIZE) or (0, CURVE_SIZE)
    to skip it. ``costs``: the tables with ``cost_index_nb``'s indexes, built once by the caller (a
    Monte Carlo run shares them across its attempts). Returns the phase status.
    """
    begin_nb(st, prm, clock.day[start])
    record = curve.shape[0] > 0
    # borrowed views: no reference counting inside the loop (see _borrowed); same data, same results.
    # Built here, not by a helper: a call per group (or an inlined one) costs compile time
    b = _borrowed
    clock = Clock(b(clock.session), b(clock.day), b(clock.flags))  # type: ignore[call-arg]  # numba intrinsic
    quotes = Quotes(b(quotes.bid), b(quotes.ask), b(quotes.swap_nights), b(quotes.vol_ratio))  # type: ignore[call-arg]  # numba intrinsic
    sig = Signals(b(sig.dir), b(sig.sl), b(sig.tp), b(sig.size))  # type: ignore[call-arg]  # numba intrinsic
    prm = Params(b(prm.sym), b(prm.cfg), b(prm.rules), b(prm.gov))  # type: ignore[call-arg]  # numba intrinsic
    costs = Costs(b(costs.q), b(costs.probs), b(costs.guide), b(costs.lut))  # type: ignore[call-arg]  # numba intrinsic
    st = State(b(st.acc), b(st.pos), b(st.res), b(st.trades))  # type: ignore[call-arg]  # numba intrinsic
    curve = b(curve)  # type: ignore[call-arg]  # numba intrinsic
    acc, res = st.acc, st.res
    sig_dir, sig_sl, sig_tp, sig_size = sig
    last = start
    for t in range(start, end):
        status = step_nb(
            t, clock, quotes, int(sig_dir[t]), sig_sl[t], sig_tp[t], sig_size[t], prm, costs, seed, attempt, st,
            t == end - 1,
        )  # fmt: skip
        last = t
        if record:
            i = t - start
            curve[i, CURVE_BALANCE] = acc[ACC_BALANCE]
            curve[i, CURVE_EQUITY] = acc[ACC_EQUITY]
            curve[i, CURVE_WORST_EQUITY] = acc[ACC_WORST_EQUITY]
            # the rule levels as the kernel holds them (reports draw them; never recomputed outside)
            curve[i, CURVE_DAILY_LIMIT] = acc[ACC_DAILY_LIMIT]
            curve[i, CURVE_MAXLOSS_LIMIT] = acc[ACC_MAXLOSS_LIMIT]
        if status != STATUS_RUNNING:
            break
    ask_close = bar_ask_close_nb(last, clock, quotes, prm.cfg, costs, seed, attempt)
    finish_nb(last, clock, quotes, prm, st, close_at_end, ask_close)
    if record and res[RES_STATUS] == STATUS_RUNNING and close_at_end:
        i = last - start
        curve[i, CURVE_BALANCE] = acc[ACC_BALANCE]
        curve[i, CURVE_EQUITY] = acc[ACC_EQUITY]
    return int(res[RES_STATUS])
