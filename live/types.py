"""Domain types of the live runner: sides, orders, fills, positions, and what a return code means.

Plain frozen dataclasses and enums, free of any broker library: the ``Broker``
protocol (``live.broker``) speaks them, the MT5 adapter converts the terminal's
records to them, and the journal stores them.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

from live import mt5_api as A


class Side(enum.IntEnum):
    BUY = 1
    SELL = -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class Action(enum.Enum):
    """What the runner does with a trade server return code (the issue's table, in one place)."""

    FILLED = "filled"  # 10009 done, 10008 placed (a market order: confirmed from deals)
    PARTIAL = "partial"  # 10010: book what filled, never chase the rest
    RETRY_PRICE = (
        "retry_price"  # 10004 requote, 10020 price changed, 10021 no quotes: refresh, retry (bounded)
    )
    SWITCH_FILLING = "switch_filling"  # 10030: the next filling mode the symbol allows
    RECONCILE = "reconcile"  # 10012 timeout, 10031 no connection, None, IPC error: look before resending
    BACKOFF = "backoff"  # 10024 too many requests
    WAIT_SESSION = "wait_session"  # 10018 market closed: keep the order for the next session
    STOP = "stop"  # 10019 no money, 10006 rejected, 10017 trade disabled, 10026/10027 autotrading off
    REJECTED = (
        "rejected"  # invalid request (10013-10016, 10036, ...): a bug or a stale state; alert, no retry
    )


RETCODE_ACTIONS: dict[int, Action] = {
    A.TRADE_RETCODE_DONE: Action.FILLED,
    A.TRADE_RETCODE_PLACED: Action.FILLED,
    A.TRADE_RETCODE_DONE_PARTIAL: Action.PARTIAL,
    A.TRADE_RETCODE_REQUOTE: Action.RETRY_PRICE,
    A.TRADE_RETCODE_PRICE_CHANGED: Action.RETRY_PRICE,
    A.TRADE_RETCODE_PRICE_OFF: Action.RETRY_PRICE,
    A.TRADE_RETCODE_INVALID_FILL: Action.SWITCH_FILLING,
    A.TRADE_RETCODE_TIMEOUT: Action.RECONCILE,
    A.TRADE_RETCODE_CONNECTION: Action.RECONCILE,
    A.TRADE_RETCODE_TOO_MANY_REQUESTS: Action.BACKOFF,
    A.TRADE_RETCODE_MARKET_CLOSED: Action.WAIT_SESSION,
    A.TRADE_RETCODE_NO_MONEY: Action.STOP,
    A.TRADE_RETCODE_REJECT: Action.STOP,
    A.TRADE_RETCODE_TRADE_DISABLED: Action.STOP,
    A.TRADE_RETCODE_SERVER_DISABLES_AT: Action.STOP,
    A.TRADE_RETCODE_CLIENT_DISABLES_AT: Action.STOP,
}

RETCODE_REASONS: dict[int, str] = {
    A.TRADE_RETCODE_REQUOTE: "requote",
    A.TRADE_RETCODE_REJECT: "request rejected",
    A.TRADE_RETCODE_CANCEL: "request canceled by trader",
    A.TRADE_RETCODE_PLACED: "order placed",
    A.TRADE_RETCODE_DONE: "request completed",
    A.TRADE_RETCODE_DONE_PARTIAL: "only part of the request was completed",
    A.TRADE_RETCODE_ERROR: "request processing error",
    A.TRADE_RETCODE_TIMEOUT: "request canceled by timeout",
    A.TRADE_RETCODE_INVALID: "invalid request",
    A.TRADE_RETCODE_INVALID_VOLUME: "invalid volume",
    A.TRADE_RETCODE_INVALID_PRICE: "invalid price",
    A.TRADE_RETCODE_INVALID_STOPS: "invalid stops",
    A.TRADE_RETCODE_TRADE_DISABLED: "trade is disabled",
    A.TRADE_RETCODE_MARKET_CLOSED: "market is closed",
    A.TRADE_RETCODE_NO_MONEY: "not enough money",
    A.TRADE_RETCODE_PRICE_CHANGED: "prices changed",
    A.TRADE_RETCODE_PRICE_OFF: "no quotes to process the request",
    A.TRADE_RETCODE_TOO_MANY_REQUESTS: "too frequent requests",
    A.TRADE_RETCODE_SERVER_DISABLES_AT: "autotrading disabled by server",
    A.TRADE_RETCODE_CLIENT_DISABLES_AT: "autotrading disabled by client terminal",
    A.TRADE_RETCODE_INVALID_FILL: "unsupported filling mode",
    A.TRADE_RETCODE_CONNECTION: "no connection with the trade server",
    A.TRADE_RETCODE_POSITION_CLOSED: "position already closed",
}


def action_for(retcode: int | None) -> Action:
    """The runner's action for a return code; ``None`` (no answer) is an uncertain outcome."""
    if retcode is None:
        return Action.RECONCILE
    return RETCODE_ACTIONS.get(int(retcode), Action.REJECTED)


def retcode_reason(retcode: int | None) -> str:
    if retcode is None:
        return "no answer (None)"
    return RETCODE_REASONS.get(int(retcode), f"return code {retcode}")


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class Quote:
    time_ns: int  # server clock, ns (as the terminal reports it)
    bid: float
    ask: float


@dataclass(frozen=True)
class SymbolMeta:
    """What the runner needs from ``symbol_info``."""

    name: str
    digits: int
    point: float
    contract_size: float
    volume_min: float
    volume_step: float
    volume_max: float
    stops_level: int
    filling_mask: int  # SYMBOL_FILLING_* bits
    trade_mode: int
    visible: bool
    bid: float = math.nan
    ask: float = math.nan


@dataclass(frozen=True)
class AccountState:
    login: int
    server: str
    currency: str
    balance: float
    equity: float
    trade_allowed: bool
    trade_expert: bool
    margin_mode: int = A.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING


@dataclass(frozen=True)
class TerminalState:
    connected: bool
    trade_allowed: bool
    build: int = 0


@dataclass(frozen=True)
class Position:
    ticket: int
    symbol: str
    side: Side
    volume: float
    price_open: float
    sl: float  # 0.0: none (as MT5 reports it)
    tp: float
    magic: int
    comment: str
    time_ns: int  # server clock
    swap: float = 0.0
    profit: float = 0.0


@dataclass(frozen=True)
class Deal:
    ticket: int
    order: int
    position_id: int
    symbol: str
    side: Side  # the deal's own direction (a long's exit is a SELL)
    entry: int  # DEAL_ENTRY_*
    volume: float
    price: float
    profit: float
    commission: float
    swap: float
    magic: int
    comment: str
    reason: int  # DEAL_REASON_*
    time_ns: int  # server clock


@dataclass(frozen=True)
class OrderRecord:
    """A history order (``history_orders_get``): found by comment when an outcome is uncertain."""

    ticket: int
    symbol: str
    state: int
    magic: int
    comment: str
    position_id: int
    volume_initial: float
    volume_current: float


@dataclass(frozen=True)
class OrderRequest:
    """A market order (open, or close a position by ticket) or a stop/target change."""

    symbol: str
    side: Side
    volume: float
    magic: int
    comment: str
    price: float = 0.0
    sl: float = 0.0
    tp: float = 0.0
    deviation: int = 0
    filling: int = A.ORDER_FILLING_IOC
    position: int = 0  # ticket of the position this closes (hedging accounts)
    action: int = A.TRADE_ACTION_DEAL

    def to_mt5(self) -> dict[str, object]:
        """The request dict ``order_send`` takes (plain Python values only: it travels over RPyC as text)."""
        d: dict[str, object] = {
            "action": int(self.action),
            "symbol": self.symbol,
            "magic": int(self.magic),
            "comment": self.comment,
        }
        if self.action == A.TRADE_ACTION_SLTP:
            d.update(position=int(self.position), sl=float(self.sl), tp=float(self.tp))
            return d
        d.update(
            volume=float(self.volume),
            type=A.ORDER_TYPE_BUY if self.side is Side.BUY else A.ORDER_TYPE_SELL,
            price=float(self.price),
            deviation=int(self.deviation),
            type_time=A.ORDER_TIME_GTC,
            type_filling=int(self.filling),
        )
        if self.sl:
            d["sl"] = float(self.sl)
        if self.tp:
            d["tp"] = float(self.tp)
        if self.position:
            d["position"] = int(self.position)
        return d


@dataclass(frozen=True)
class OrderResult:
    retcode: int
    deal: int
    order: int
    volume: float
    price: float
    bid: float
    ask: float
    comment: str

    @property
    def action(self) -> Action:
        return action_for(self.retcode)


@dataclass
class Fill:
    """One executed order as the journal and ``simlab calibrate --fills`` see it."""

    time_ns: int  # UTC
    symbol: str
    side: Side
    order_type: str  # market_entry | market_exit | stop_loss | take_profit
    requested_price: float
    filled_price: float
    volume: float
    spread: float  # price units at the request
    latency_ms: float
    session: str
    ticket: int = 0
    deal: int = 0
    extra: dict[str, object] = field(default_factory=dict)
