"""The kernel's contract: integer codes and the index layout of its plain arrays.

Every numba kernel in simlab takes plain numpy arrays. The meaning of each slot
of those arrays is fixed here, once, so that the kernel, the Python wrappers,
the challenge compiler, the Monte Carlo runner and the live runner all read and
write the same positions. Nothing in this module imports numpy at call time
beyond the constants themselves; it is cheap to import.

Conventions (all prices in quote currency, all money in account currency, USD):

* ``bid`` / ``ask`` are float64 arrays of shape (n, 4): open, high, low, close.
* ``session`` int8 (n,): one of the ``SESSION_*`` codes.
* ``day`` int64 (n,): trading-day id under the rule set's day boundary
  (days since 1970-01-01 in the boundary's zone, shifted by its reset time).
* ``swap_nights`` int8 (n,): swap nights charged to a position held from bar
  t-1 into bar t (0, 1, or 3 on the triple-swap day).
* ``flags`` uint8 (n,): bit mask of ``FLAG_*``.
* intents: ``sig_dir`` int8 (n,) of ``DIR_*``; ``sig_sl`` and ``sig_tp`` float64
  (n,), distances in price from the fill price (NaN: none); ``sig_size``
  float64 (n,), a size multiplier (NaN or 1.0: plain).
"""

from __future__ import annotations

from typing import Any, NamedTuple

# ---------------------------------------------------------------- the kernels' argument groups
# numba takes these NamedTuples of arrays as arguments (each distinct combination of member types is
# one compiled signature). Account-wide groups (Clock, the rules and governors of Params, State.acc)
# stay as they are for several symbols; the per-symbol ones (Quotes, Signals, Costs, Params.sym,
# State.pos) are one symbol's arrays today and gain a leading symbol axis in a portfolio.


class Clock(NamedTuple):
    """The time grid every symbol of the account shares, one row per bar."""

    session: Any  # int8 (n,): SESSION_*
    day: Any  # int64 (n,): rule-day id
    flags: Any  # uint8 (n,): FLAG_*


class Quotes(NamedTuple):
    """One symbol's market on the grid."""

    bid: Any  # float64 (n, 4): open, high, low, close
    ask: Any  # float64 (n, 4)
    swap_nights: Any  # int8 (n,): swap nights charged to a position held from bar t-1 into bar t
    vol_ratio: Any  # float64 (n,) or (0,): volatility relative to its norm (the volatility pause)


class Signals(NamedTuple):
    """One symbol's intents, one row per bar (decided at its close, filled at the next open)."""

    dir: Any  # int8 (n,): DIR_*
    sl: Any  # float64 (n,): stop distance in price (NaN: none)
    tp: Any  # float64 (n,): target distance in price (NaN: none)
    size: Any  # float64 (n,): size multiplier (NaN or 1.0: plain)


class Costs(NamedTuple):
    """One symbol's cost tables and their sampling indexes (``simlab.kernel_nb.cost_index_nb``)."""

    q: Any  # float64 (N_COST_KINDS, N_SESSIONS, K): quantile values at ``probs``
    probs: Any  # float64 (K,)
    guide: Any  # int64 (COST_GUIDE_SIZE + 1,)
    lut: Any  # float64 (N_SESSIONS, COST_GUIDE_SIZE): the spread decided by a guide bucket (NaN: not)


class Params(NamedTuple):
    """The run's settings: the symbol, the engine, the firm's rules and the trader's governors."""

    sym: Any  # float64 (SYM_SIZE,): per symbol
    cfg: Any  # float64 (CFG_SIZE,)
    rules: Any  # float64 (RULE_SIZE,) one phase, or (n_phases, RULE_SIZE) a whole program (attempts)
    gov: Any  # float64 (GOV_SIZE,)


class State(NamedTuple):
    """What a run changes: the account, the position, the phase's result, the trade ledger."""

    acc: Any  # float64 (ACC_SIZE,): account-wide
    pos: Any  # float64 (POS_SIZE,): one symbol's position row
    res: Any  # float64 (RES_SIZE,)
    trades: Any  # float64 (capacity, TR_SIZE)


# A portfolio (simlab.portfolio_nb) runs the same groups with a leading leg axis: Quotes (L, n, ...),
# Signals (L, n), Costs (L, ...), Params.sym and Params.cfg (L, ...), and these two of its own.


class Legs(NamedTuple):
    """Where each leg of a portfolio is on the grid (``simlab.align``), and its profit conversion."""

    has_bar: Any  # bool (L, n): the leg has a bar on the row (it may fill, its strategy decided there)
    own: Any  # int64 (L, n): the leg's own bar index of its last bar at or before the row (-1: absent)
    next_row: Any  # int64 (L, n): the row of the leg's next bar (n: none): where an order decided fills
    vpp: Any  # float64 (L, n): value of a 1.0 price move per lot on the row (converted legs only)
    converted: Any  # bool (L,): the leg's profit converts at vpp (simlab.currency)
    seeds: Any  # int64 (L,): the seed of each leg's cost draws (leg 0: the run's seed)


class Book(NamedTuple):
    """What a portfolio run changes: the account, each leg's position, the phase's result, the ledger."""

    acc: Any  # float64 (ACC_SIZE,): account-wide
    pos: Any  # float64 (L, POS_SIZE): one position row per leg
    res: Any  # float64 (RES_SIZE,)
    trades: Any  # float64 (capacity, TR_SIZE): every leg's trades in the order they closed
    trade_leg: Any  # int64 (capacity,): the leg of each trade
    legs: Any  # float64 (L, LEG_SIZE): each leg's trades and costs (LEG_*)
    mark: Any  # float64 (L, 2): each leg's bid and ask close as its last bar was priced (its carried price)
    sym: Any  # float64 (L, SYM_SIZE): the legs' symbol vectors as run (a converted leg's tick value per row)


# each leg's counts in a portfolio phase (Book.legs): its share of the account's trades and costs
LEG_TRADES = 0
LEG_PNL = 1  # net
LEG_GROSS = 2
LEG_COMMISSION = 3
LEG_SWAP = 4  # signed, negative = paid
LEG_SPREAD_COST = 5
LEG_SLIP_COST = 6
LEG_SIZE = 8


# ---------------------------------------------------------------- intents
DIR_HOLD = 0  # no change: keep whatever is open (the default of a zeros array)
DIR_LONG = 1  # be long: open, or reverse a short
DIR_SHORT = -1  # be short: open, or reverse a long
DIR_FLAT = 2  # close whatever is open

# ---------------------------------------------------------------- sessions
SESSION_ASIA = 0
SESSION_LONDON = 1
SESSION_OVERLAP = 2  # London and New York both open
SESSION_NEWYORK = 3
SESSION_ROLLOVER = 4  # 17:00-18:00 New York: the daily rollover hour
N_SESSIONS = 5
SESSION_NAMES = ("asia", "london", "overlap", "newyork", "rollover")

# ---------------------------------------------------------------- bar flags
FLAG_PRE_RESET = 1  # bar opens in the governor's flatten window before the rule-day reset
FLAG_PRE_WEEKEND = 2  # bar opens in the governor's flatten window before the weekend close
FLAG_WEEKEND_GAP = 4  # first bar after a weekend close (holding into it = held over the weekend)

# ---------------------------------------------------------------- symbol vector (float64)
SYM_POINT = 0
SYM_CONTRACT = 1  # contract size (units of base per lot)
SYM_TICK_SIZE = 2
SYM_TICK_VALUE = 3  # account ccy per tick per lot (used by PROFIT_FIXED)
SYM_PROFIT_MODE = 4  # PROFIT_* below
SYM_VOL_MIN = 5
SYM_VOL_STEP = 6
SYM_VOL_MAX = 7
SYM_STOPS_LEVEL = 8  # points: minimum stop / target distance from the fill
SYM_COMMISSION = 9  # account ccy per lot per side
SYM_SWAP_LONG = 10  # points per lot per night (negative: paid)
SYM_SWAP_SHORT = 11
SYM_SIZE = 12

PROFIT_QUOTE_IS_ACCOUNT = 0  # EURUSD, XAUUSD, US30: 1.0 of price = contract USD per lot
PROFIT_BASE_IS_ACCOUNT = 1  # USDJPY: quote-ccy P/L divided by the price
PROFIT_FIXED = 2  # index CFDs in EUR etc.: tick_value per tick_size, constant

# ---------------------------------------------------------------- cost tables
# cost_q: float64 (N_COST_KINDS, N_SESSIONS, K) quantile values at cost_probs (K,)
# Spread and slippage are in price units (already multiplied by point); latency in ms.
COST_SPREAD = 0
COST_ENTRY_SLIP = 1  # adverse positive
COST_EXIT_SLIP = 2
COST_STOP_SLIP = 3
COST_LATENCY = 4
N_COST_KINDS = 5

# draw purposes: the RNG counter is draw = bar * N_DRAWS_PER_BAR + purpose
DRAW_SPREAD = 0
DRAW_ENTRY_SLIP = 1
DRAW_EXIT_SLIP = 2
DRAW_STOP_SLIP = 3
DRAW_LATENCY = 4
N_DRAWS_PER_BAR = 8

SPREAD_FROM_DATA = 0
SPREAD_FROM_MODEL = 1
SPREAD_WIDER = 2  # the wider of the data's and the model's

# ---------------------------------------------------------------- engine config vector (float64)
CFG_INITIAL_BALANCE = 0
CFG_RISK_PCT = 1  # fraction of equity risked per trade (0.01 = 1 %)
CFG_FIXED_VOLUME = 2  # > 0: trade this volume, ignore risk sizing
CFG_SL_FIRST = 3  # 1: when SL and TP both lie inside one bar, SL is assumed first
CFG_SPREAD_MODE = 4  # SPREAD_*
CFG_SLIPPAGE = 5  # 1: sample slippage from cost tables; 0: none
CFG_LATENCY_BUDGET_MS = 6  # > 0: a decision slower than this fills at the session's p90 slippage
CFG_SIZE = 7

# ---------------------------------------------------------------- rule vector (float64)
# The firm's judge. Percentages are fractions (0.05 = 5 %).
RULE_TARGET_PCT = 0  # profit target, fraction of initial; 0 = none
RULE_DAILY_PCT = 1  # daily loss size; 0 = no daily rule
RULE_DAILY_BASIS = 2  # BASIS_*
RULE_DAILY_SIZE_OF = 3  # SIZE_OF_*: the daily size is a fraction of the initial or of the basis
RULE_DAILY_FLOATING = 4  # 1: equity incl. floating P/L is checked; 0: closed balance only
RULE_MAXLOSS_PCT = 5  # fraction of initial; 0 = none
RULE_MAXLOSS_MODE = 6  # MAXLOSS_*
RULE_MAXLOSS_FLOATING = 7  # 1: equity incl. floating; 0: closed balance
RULE_MIN_DAYS = 8  # minimum days counted under RULE_DAY_COUNT_MODE
RULE_DAY_COUNT_MODE = 9  # DAYCOUNT_*
RULE_MIN_DAY_PROFIT_PCT = 10  # for DAYCOUNT_PROFITABLE: a day counts if its P/L >= this * initial
RULE_BEST_DAY_MAX_SHARE = 11  # 0 = off; 0.5: best day <= 50 % of total profit before target counts
RULE_MAX_DAYS = 12  # calendar days for the phase; 0 = unlimited
RULE_NO_WEEKEND_HOLDING = 13  # 1: a position held into a FLAG_WEEKEND_GAP bar is a breach
RULE_NO_OVERNIGHT_HOLDING = 14  # 1: a position held into the first bar of a new rule day is a breach
RULE_SIZE = 15

BASIS_BALANCE = 0
BASIS_EQUITY = 1
BASIS_MAX_BALANCE_EQUITY = 2

SIZE_OF_INITIAL = 0
SIZE_OF_BASIS = 1

MAXLOSS_STATIC = 0  # initial - pct * initial
MAXLOSS_TRAILING_EOD = 1  # max(initial, highest day-end balance) - pct * initial
MAXLOSS_TRAILING_INTRADAY = 2  # highest equity seen - pct * initial (only rises)
MAXLOSS_TRAILING_LOCK = 3  # highest closed balance - pct * initial, capped at the initial

DAYCOUNT_TRADE_OPENED = 0  # a day counts when a trade is opened on it
DAYCOUNT_PROFITABLE = 1  # a day counts when its closed P/L >= RULE_MIN_DAY_PROFIT_PCT * initial

# ---------------------------------------------------------------- governor vector (float64)
# The trader's guard rails. 0 switches a governor off unless said otherwise.
GOV_DAILY_BUFFER_PCT = 0  # flatten + stop for the day at daily limit + this * initial; <0: off
GOV_MAXLOSS_BUFFER_PCT = 1  # flatten + stop for the day at max-loss limit + this * initial; <0: off
GOV_HALT_AT_TARGET = 2  # 1: flatten when equity reaches the target, stop risking it
GOV_FLATTEN_BEFORE_RESET = 3  # 1: flatten + no entries on FLAG_PRE_RESET bars
GOV_FLATTEN_BEFORE_WEEKEND = 4  # 1: flatten + no entries on FLAG_PRE_WEEKEND bars
GOV_DAILY_PROFIT_CAP_PCT = 5  # >0: flatten + stop for the day when the day's P/L >= this * initial
GOV_KILL_SWITCH = 6  # 1: flatten, never open again
GOV_COOLDOWN_LOSSES = 7  # >0: after this many consecutive losses ...
GOV_COOLDOWN_BARS = 8  # ... no entries for this many bars (0: rest of the day)
GOV_VOL_PAUSE_K = 9  # >0: no entries while vol_ratio > k
GOV_LOCK_LEVEL_PCT = 10  # >0: once equity profit >= this * initial ...
GOV_LOCK_SIZE_MULT = 11  # ... risk is multiplied by this
GOV_MAX_TRADES_PER_DAY = 12  # >0: cap
GOV_MAX_OPEN_RISK_PCT = 13  # >0: cap on the risk of the open position, fraction of equity
GOV_POST_TARGET_RISK_MULT = 14  # risk multiplier once the target is banked but min days are not met
GOV_SIZE = 15

# entry refusal reasons returned by the governor
BLOCK_NONE = 0
BLOCK_KILL_SWITCH = 1
BLOCK_HALTED = 2  # phase over or halted for good
BLOCK_DAY_HALTED = 3  # stopped for the day (buffer, profit cap)
BLOCK_COOLDOWN = 4
BLOCK_VOLATILITY = 5
BLOCK_MAX_TRADES = 6
BLOCK_PRE_RESET = 7
BLOCK_PRE_WEEKEND = 8
BLOCK_VOLUME = 9  # sized volume below the symbol minimum
BLOCK_STOPS_LEVEL = 10  # stop or target closer than the symbol's stops level
BLOCK_NO_STOP = 11  # risk sizing needs a stop distance
N_BLOCKS = 12  # BLOCK_* codes run 0 .. N_BLOCKS - 1
BLOCK_NAMES = {
    BLOCK_KILL_SWITCH: "governor_kill_switch",
    BLOCK_HALTED: "governor_halted",
    BLOCK_DAY_HALTED: "governor_stopped_for_the_day",
    BLOCK_COOLDOWN: "governor_cooldown",
    BLOCK_VOLATILITY: "governor_volatility_pause",
    BLOCK_MAX_TRADES: "governor_max_trades_per_day",
    BLOCK_PRE_RESET: "governor_before_reset",
    BLOCK_PRE_WEEKEND: "governor_before_weekend",
    BLOCK_VOLUME: "volume_below_minimum",
    BLOCK_STOPS_LEVEL: "stops_level",
    BLOCK_NO_STOP: "no_stop_for_risk_sizing",
}
# refusals that are not the trader's governors choosing to stand aside: the order could never be placed
# as the strategy asked (see simlab.refusals, which explains them)
ORDER_BLOCKS = (BLOCK_VOLUME, BLOCK_STOPS_LEVEL, BLOCK_NO_STOP)

# ---------------------------------------------------------------- account state vector (float64)
# Account-wide: one per account, whatever the number of symbols.
ACC_BALANCE = 0
ACC_EQUITY = 1  # marked at the last close
ACC_INITIAL = 2
ACC_DAY_START_BALANCE = 3
ACC_DAY_START_EQUITY = 4
ACC_DAILY_LIMIT = 5  # equity (or balance) level that breaches the daily rule
ACC_MAXLOSS_LIMIT = 6
ACC_TARGET_LEVEL = 7  # balance level of the profit target (inf: none)
ACC_PEAK_BALANCE = 8  # highest closed balance (for trailing-lock)
ACC_PEAK_EOD_BALANCE = 9  # highest day-end balance (for trailing EOD)
ACC_PEAK_EQUITY = 10  # highest equity seen (for trailing intraday)
ACC_DAY = 11  # current trading-day id
ACC_DAY_TRADES = 12  # entries opened today
ACC_DAY_COUNTED = 13  # 1 if today already counts toward minimum days
ACC_DAYS_COUNTED = 14  # days counted so far (excluding today)
ACC_BEST_DAY_PNL = 15  # best finished day's closed P/L
ACC_CONSEC_LOSSES = 16
ACC_COOLDOWN_UNTIL = 17  # bar index before which no entries (cooldown)
ACC_DAY_HALTED = 18  # 1: no entries for the rest of the day
ACC_HALTED = 19  # 1: no entries for good (kill switch, phase passed)
ACC_TARGET_BANKED = 20  # 1: target reached, waiting for minimum days
ACC_MAX_DAILY_DD = 21  # worst (day-start basis - worst equity) / initial seen
ACC_MAX_TOTAL_DD = 22  # worst (initial - worst equity) / initial seen
ACC_PHASE_START_DAY = 23
ACC_N_TRADES = 24
ACC_WORST_EQUITY = 25  # worst intrabar equity of the last bar
ACC_FIRST_DAY = 26  # day id of the first bar
ACC_TRADE_DAYS = 27  # finished days on which a trade was opened
ACC_DAY_HAD_TRADE = 28  # 1 if a trade was opened today
ACC_BEST_EQUITY = 29  # best intrabar equity of the last bar
ACC_DAILY_BASIS = (
    30  # the daily rule's basis at the day's start (RULE_DAILY_BASIS): the daily drawdown's reference
)
ACC_SIZE = 32

# ---------------------------------------------------------------- position state vector (float64)
# Per symbol. One row per symbol in a (n_symbols, POS_SIZE) array.
POS_DIR = 0  # 1 long, -1 short, 0 flat
POS_VOLUME = 1
POS_ENTRY_PRICE = 2
POS_SL = 3  # price, NaN: none
POS_TP = 4
POS_ENTRY_BAR = 5
POS_SWAP = 6  # accumulated swap, account ccy
POS_COMMISSION = 7  # entry commission paid, account ccy
POS_ENTRY_SPREAD = 8  # spread at entry (price)
POS_ENTRY_SLIP = 9  # slippage at entry (price, adverse positive)
POS_PENDING_DIR = 10  # order decided at the previous close: DIR_* to execute at this open
POS_PENDING_SL = 11
POS_PENDING_TP = 12
POS_PENDING_SIZE = 13
POS_PENDING_FLATTEN = 14  # 1: close at the next open (governor or target)
POS_PENDING_REASON = 15  # exit reason for a pending flatten
POS_RISK = 16  # money at risk at entry (to the stop), account ccy
POS_SIZE = 20

# ---------------------------------------------------------------- trade record (float64 row)
TR_ENTRY_BAR = 0
TR_EXIT_BAR = 1
TR_DIR = 2
TR_VOLUME = 3
TR_ENTRY_PRICE = 4
TR_EXIT_PRICE = 5
TR_SL = 6
TR_TP = 7
TR_PNL = 8  # net: price P/L + swap - commissions (round trip)
TR_GROSS = 9  # price P/L only
TR_COMMISSION = 10  # round trip, positive = paid
TR_SWAP = 11  # signed, negative = paid
TR_SPREAD_COST = 12  # half the entry spread + half the exit spread, money, positive = paid
TR_SLIP_COST = 13  # entry + exit slippage, money, positive = paid
TR_EXIT_REASON = 14  # EXIT_*
TR_ENTRY_SESSION = 15
TR_EXIT_SESSION = 16
TR_RISK = 17  # money at risk at entry
TR_ENTRY_SPREAD = 18  # price
TR_EXIT_SPREAD = 19
TR_ENTRY_SLIP = 20  # price, adverse positive
TR_EXIT_SLIP = 21
TR_SIZE = 22

EXIT_SIGNAL = 1
EXIT_STOP_LOSS = 2
EXIT_TAKE_PROFIT = 3
EXIT_GOV_DAILY = 4
EXIT_GOV_MAXLOSS = 5
EXIT_GOV_TARGET = 6
EXIT_GOV_RESET = 7
EXIT_GOV_WEEKEND = 8
EXIT_GOV_PROFIT_CAP = 9
EXIT_KILL_SWITCH = 10
EXIT_BREACH = 11
EXIT_END = 12
EXIT_NAMES = {
    EXIT_SIGNAL: "signal",
    EXIT_STOP_LOSS: "stop_loss",
    EXIT_TAKE_PROFIT: "take_profit",
    EXIT_GOV_DAILY: "governor_daily_buffer",
    EXIT_GOV_MAXLOSS: "governor_max_loss_buffer",
    EXIT_GOV_TARGET: "governor_target",
    EXIT_GOV_RESET: "governor_before_reset",
    EXIT_GOV_WEEKEND: "governor_before_weekend",
    EXIT_GOV_PROFIT_CAP: "governor_profit_cap",
    EXIT_KILL_SWITCH: "kill_switch",
    EXIT_BREACH: "rule_breach",
    EXIT_END: "end_of_data",
}

# ---------------------------------------------------------------- phase result vector (float64)
RES_STATUS = 0  # STATUS_*
RES_REASON = 1  # BREACH_* when breached
RES_END_BAR = 2  # bar at which the phase ended (pass, breach) or the last bar run
RES_N_TRADES = 3
RES_DAYS_COUNTED = 4
RES_BALANCE = 5
RES_EQUITY = 6
RES_MAX_DAILY_DD = 7
RES_MAX_TOTAL_DD = 8
RES_BREACH_VIA_GAP = 9  # 1: the breach came through a gap or slippage past a stop
RES_CAL_DAYS = 10  # calendar (rule) days from the phase start to its end, inclusive
RES_TRADING_DAYS = 11  # days on which a trade was opened
RES_N_TRADES_OVERFLOW = 12  # 1: more trades than the trade buffer held (extra ones not recorded)
RES_ENTRY_DECISIONS = 16  # entries decided: a long / short intent while not already on that side
RES_REFUSED = 17  # RES_REFUSED + b - 1: entries refused for BLOCK_* reason b (1 .. N_BLOCKS - 1)
RES_SIZE = 32

STATUS_RUNNING = 0  # out of data before pass or breach
STATUS_PASSED = 1
STATUS_BREACHED = 2
STATUS_HALTED = 3  # the trader's governors stopped trading for good (RES_REASON holds the EXIT_* code)
STATUS_NAMES = ("running", "passed", "breached", "halted")

BREACH_NONE = 0
BREACH_DAILY_LOSS = 1
BREACH_MAX_LOSS = 2
BREACH_TIME_LIMIT = 3
BREACH_WEEKEND_HOLDING = 4
BREACH_OVERNIGHT_HOLDING = 5
# which rules judge a value (simlab.account_nb.breach_nb): a bit mask
JUDGE_FLOATING = 1  # the rules that count floating P/L (RULE_*_FLOATING = 1) judge it: an equity point
JUDGE_CLOSED = 2  # the rules that count the closed balance only
JUDGE_ALL = 3  # both: a balance judged by every rule (a trade list's closes)

BREACH_NAMES = {
    BREACH_NONE: "none",
    BREACH_DAILY_LOSS: "daily_loss",
    BREACH_MAX_LOSS: "max_loss",
    BREACH_TIME_LIMIT: "time_limit",
    BREACH_WEEKEND_HOLDING: "weekend_holding",
    BREACH_OVERNIGHT_HOLDING: "overnight_holding",
}

# curve columns (float64 (n, CURVE_SIZE)), filled when a curve buffer is given
CURVE_BALANCE = 0
CURVE_EQUITY = 1  # at the close
CURVE_WORST_EQUITY = 2  # worst intrabar
CURVE_DAILY_LIMIT = 3  # acc[ACC_DAILY_LIMIT] after the bar: the daily rule's breach level (-inf: none)
CURVE_MAXLOSS_LIMIT = 4  # acc[ACC_MAXLOSS_LIMIT] after the bar (-inf: none); trailing modes move it
CURVE_SIZE = 5

# ---------------------------------------------------------------- trade-list mode (challenges.trade_list)
# One attempt's outcome at trade granularity: float64 (n_runs, TL_SIZE).
TL_STATUS = 0  # STATUS_* of the attempt
TL_REASON = 1  # BREACH_* when breached
TL_PHASES_PASSED = 2
TL_CAL_DAYS = 3  # calendar days of the attempt (weekends count)
TL_TRADING_DAYS = 4  # simulated weekdays
TL_N_TRADES = 5
TL_MAX_DAILY_DD = 6
TL_MAX_TOTAL_DD = 7
TL_BREACH_PHASE = 8  # phase index of a breach, -1 otherwise
TL_SIZE = 9
# One attempt's path, a row per simulated day at its end (reports): float64 (rows, TLP_SIZE).
TLP_PHASE = 0  # phase index
TLP_DAY = 1  # calendar day of the phase, 1 = its first day
TLP_CAL = 2  # calendar day of the attempt, 0 = its first day
TLP_BALANCE = 3  # closed balance at the day's end
TLP_WORST = 4  # the day's worst point: the lowest closed balance, or balance - MAE at an open
TLP_DAILY_LIMIT = 5  # acc[ACC_DAILY_LIMIT] at the day's end (-inf: no daily rule)
TLP_MAXLOSS_LIMIT = 6  # acc[ACC_MAXLOSS_LIMIT] at the day's end (-inf: none)
TLP_SIZE = 7

# how the simulated days follow one another (challenges.trade_list's start_mode)
TL_MODE_BOOTSTRAP = 0  # circular block bootstrap of history days
TL_MODE_TRADES = 1  # a day's trade count drawn from the history, its trades i.i.d.
TL_MODE_SEQUENTIAL = 2  # the real order from a random start day
TL_MODE_REPLAY = 3  # the real order from the first day
TL_MODES = {
    "bootstrap": TL_MODE_BOOTSTRAP,
    "trades": TL_MODE_TRADES,
    "sequential": TL_MODE_SEQUENTIAL,
    "replay": TL_MODE_REPLAY,
}

# ---------------------------------------------------------------- RL environment (rl)
# The batched environment's integer state, one row per sub-environment: int64 (n_envs, RLI_SIZE).
RLI_T = 0  # the bar the next action is taken on (its close has been observed)
RLI_END = 1  # first bar past the attempt's horizon
RLI_PHASE = 2  # index of the phase being run
RLI_ATTEMPT = 3  # attempt id: keys the start draw and every cost draw, as in the Monte Carlo runner
RLI_EPISODE = 4  # episodes finished by this sub-environment since its last seeding
RLI_START = 5  # first bar of the attempt
RLI_OFFSET = 6  # attempt id of episode k = OFFSET + k * STRIDE
RLI_STRIDE = 7
RLI_FIXED_START = 8  # >= 0: start the next attempt on this bar instead of drawing one
RLI_DONE = 9  # 1: the last step ended an episode (1 terminated, 2 truncated); auto-reset already done
RLI_SIZE = 10

# The environment's settings: float64 (RLP_SIZE,).
RLP_SL_ATR = 0  # stop distance in ATRs (0: no stop)
RLP_TP_ATR = 1  # target distance in ATRs (0: no target)
RLP_PNL_SCALE = 2  # reward per step = equity change / initial balance * this
RLP_PASS_BONUS = 3  # added when a phase is passed
RLP_BREACH_PENALTY = 4  # subtracted when a phase ends breached or halted
RLP_WINDOW = 5  # bars of market features in an observation
RLP_HORIZON_DAYS = 6  # calendar (rule) days an attempt may take over all its phases
RLP_AUTORESET = 7  # 1: a finished sub-environment starts its next attempt in the same step
RLP_SIZE = 8

# The account half of an observation (after the window of market features), float32.
RLO_DAILY_ROOM = 0  # (equity - daily limit) / initial balance (no daily rule: RLO_NO_LIMIT)
RLO_MAXLOSS_ROOM = 1  # (equity - max-loss limit) / initial balance
RLO_TO_TARGET = 2  # (target level - balance) / initial balance (no target: 0)
RLO_DAYS = 3  # days counted toward the minimum so far / the minimum (capped at 2; 1 when none is required)
RLO_POSITION = 4  # the side held at the observed close: 1 long, -1 short, 0 flat
RLO_FLOATING = 5  # floating P/L / initial balance
RLO_DAY_PNL = 6  # (equity - the day's starting equity) / initial balance
RLO_PHASE = 7  # phase index / number of phases
RLO_SIZE = 8
RLO_NO_LIMIT = 1.0  # what a distance to a limit that does not exist reads as
