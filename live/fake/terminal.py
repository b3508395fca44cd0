"""A fake MetaTrader 5 terminal: the official Python API's surface over replayed history.

``FakeTerminal`` answers the ``MetaTrader5`` package's functions under their real
names (``initialize``, ``account_info``, ``symbol_info``, ``copy_rates_from_pos``,
``positions_get``, ``history_deals_get``, ``order_send``, ...) with the real record
shapes (named tuples from ``live.mt5_api``; numpy structured arrays for rates), the
real constants as attributes, and ``None`` plus ``last_error()`` on failure. An
instance can stand in for the module itself (``sys.modules["MetaTrader5"] = term``),
which is how ``live.fake.server`` serves it to the real ``mt5linux`` client over RPyC.

The market: one symbol's bid/ask bars (``simlab.bars.Bars``), replayed bar by bar —
or quote ticks replayed tick by tick (``FakeTerminal.from_ticks``: bars built from the
ticks for ``copy_rates_*``, the forming bar from the ticks seen so far, every order and
every stop at the quote of the tick it meets).
The terminal sits at the *open* of bar ``k`` (the forming bar): its quote is bar k's
open bid/ask, bars before k are closed. ``advance()`` runs the rest of bar k — stops
and targets of open positions against its bid (longs) or ask (shorts) extremes; a
level the open already passed fills at the open, one reached inside the bar at the
level; both inside one bar: the stop first unless ``sl_first=False`` — and moves to
bar k+1's open. A market order fills at the current quote (buy at the ask, sell at
the bid) plus the slippage of the fill model (``live.fills.FillModel``: an execution
model's spread and slippage drawn from a seed; none by default, the zero-cost option
used for parity with the backtest). The fill price therefore comes from the data at
the moment the order arrives, never from the strategy. Bars without an ask (bid only)
get theirs from the model's spread (``spread="model"``).

Times are reported on the server clock (``server_tz``, see ``live.clock``): bar and
deal times are seconds since 1970 on the server's wall clock, as MT5 reports them.

Faults are injected on demand (``inject``) to test the runner's handling of what
real terminals do: requotes, an unsupported filling mode, partial fills, timeouts
whose order did or did not execute, IPC failures (-10004/-10005) until the client
reconnects, a closed market, a position closed by hand (``close_by_hand``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import fnmatch
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from live import mt5_api as A
from live.clock import ServerClock
from live.fills import FillModel, bar_exit, inside_bar_time
from simlab import layout as L
from simlab.bars import Bars
from simlab.calendar import NS_S

FAULT_KINDS = (
    "requote",  # 10004, nothing executed
    "price_changed",  # 10020
    "reject_filling",  # 10030 for this filling mode (kw: filling), whatever the mask says
    "partial",  # 10010: only `fraction` of the volume fills
    "timeout_executed",  # 10012 returned, but the order executed
    "timeout_lost",  # 10012 returned, nothing executed
    "ipc_executed",  # None + last_error -10005, the order executed; the link stays down until initialize()
    "ipc_lost",  # None + last_error -10004, nothing executed; down until initialize()
    "market_closed",  # 10018
    "no_money",  # 10019
    "too_many_requests",  # 10024
    "disconnect",  # any call (kw: on="positions_get" ...): None + -10004 until initialize()
)


@dataclass
class Fault:
    kind: str
    times: int = 1
    on: str = "order_send"
    kw: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Pos:
    ticket: int
    side: int  # +1 buy, -1 sell
    volume: float
    price_open: float
    sl: float
    tp: float
    magic: int
    comment: str
    time_ns: int  # UTC
    identifier: int
    swap: float = 0.0
    reason: int = A.DEAL_REASON_EXPERT


@dataclass
class _Ticks:
    """A tick replay's quotes, the bar of each tick and the first tick of each bar; ``j``: the current tick."""

    time: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    bar_of: np.ndarray
    first: np.ndarray
    j: int


class FakeTerminal:
    """One account, one symbol, bars replayed from ``start``; see the module docstring."""

    def __init__(
        self,
        bars: Bars,
        spec: Any,
        *,
        server_tz: str = "UTC",
        start: int = 0,
        balance: float = 100_000.0,
        login: int = 5_000_001,
        server: str = "SimLab-Fake",
        password: str | None = None,
        currency: str = "USD",
        company: str = "simlab fake terminal",
        filling_mask: int = A.SYMBOL_FILLING_FOK | A.SYMBOL_FILLING_IOC,
        sl_first: bool = True,
        round_profit: bool = True,
        fills: FillModel | None = None,
        swap_nights: np.ndarray | None = None,
        bar_ns: int | None = None,
    ) -> None:
        # the constants, under their real names, as attributes (``mt5.ORDER_TYPE_BUY`` ...)
        for name in dir(A):
            if name.isupper():
                setattr(self, name, getattr(A, name))
        self._lock = threading.RLock()
        self.spec = spec
        self.clock = ServerClock.parse(server_tz)
        tf = int(np.median(np.diff(bars.time[: min(len(bars), 1001)]))) if len(bars) > 1 else 60 * NS_S
        tf = int(bar_ns) if bar_ns else tf
        self.bar_ns = tf
        # the execution model: the replay's spread (bid-only bars: spread "model") and the fills' slippage
        self.fills = fills if fills is not None else FillModel(bar_ns=tf, digits=int(spec.digits))
        if self.fills.spread_mode != L.SPREAD_FROM_DATA:
            ask = self.fills.ask(bars.time, bars.bid, bars.ask)
            bars = Bars(time=bars.time, bid=bars.bid, ask=ask, volume=bars.volume, symbol=bars.symbol)
        self.bars = bars
        self._server_ns = self.clock.to_server(bars.time)  # server wall clock of every bar open
        self.timeframe = next((code for code, sec in A.TIMEFRAMES.values() if sec * NS_S == tf), 0)
        self.k = int(start)
        if not 0 <= self.k < len(bars):
            raise ValueError(f"start = {self.k}: the replay has {len(bars)} bars")
        self.login_id = int(login)
        self.server_name = server
        self.password = password
        self.currency = currency
        self.company = company
        self.balance = float(balance)
        self.filling_mask = int(filling_mask)
        self.sl_first = sl_first
        self.round_profit = round_profit
        if swap_nights is None:
            from simlab.calendar import swap_nights as _nights

            swap_nights = _nights(bars.time, int(getattr(spec, "triple_swap_day", 2)))
        self._nights = np.asarray(swap_nights)
        self.initialized = False
        self.connected = True  # the terminal's link to the trade server
        self.trade_allowed = True  # the terminal's AutoTrading button
        self.account_trade_allowed = True
        self.account_trade_expert = True
        self.trade_mode = A.SYMBOL_TRADE_MODE_FULL
        self.visible = True
        self.positions: dict[int, _Pos] = {}
        self.deals: list[Any] = []  # TradeDeal
        self._deals_of: dict[int, list[Any]] = {}  # position id -> its deals (the server's index)
        self.history_orders: list[Any] = []  # TradeOrder
        self.faults: list[Fault] = []
        self.sent: list[dict[str, Any]] = []  # every order_send request that reached the "server"
        self._ipc_down = False
        self._error: tuple[int, str] = (A.RES_S_OK, A.ERROR_TEXT[A.RES_S_OK])
        self._ticket = 1000
        self._request_id = 0
        self.calls: dict[str, int] = {}
        self.ticks: _Ticks | None = None  # tick-by-tick replay (``from_ticks``)

    @classmethod
    def from_ticks(
        cls,
        time_ns: np.ndarray,
        bid: np.ndarray,
        ask: np.ndarray,
        spec: Any,
        *,
        timeframe: str = "M1",
        **kw: Any,
    ) -> FakeTerminal:
        """A terminal that replays quote ticks one by one (``advance()``: the next tick).

        The bars ``copy_rates_*`` serves are built from the ticks (``simlab.loaders.resample_ticks``: UTC
        buckets of ``timeframe``, bid OHLC from the bids, the spread of the bar's last tick); the forming bar
        holds the ticks seen so far. The quote is the current tick's bid and ask: a market order fills there
        (plus the fill model's slippage, if any), a stop or target fills at the first tick through its level,
        at that tick's price. ``start``: the bar whose first tick the replay starts on.
        """
        from simlab.loaders import parse_timeframe, resample_ticks

        fills = kw.get("fills")
        if fills is not None and fills.spread_mode != L.SPREAD_FROM_DATA:
            raise ValueError(
                "a tick replay quotes the ticks' own bid and ask: the fill model's spread must be 'data'"
            )
        t = np.asarray(time_ns, dtype=np.int64)
        b, a = np.asarray(bid, dtype=np.float64), np.asarray(ask, dtype=np.float64)
        bars = resample_ticks(t, b, a, timeframe, getattr(spec, "name", "EURUSD"))
        term = cls(bars, spec, bar_ns=parse_timeframe(timeframe), **kw)
        bar_of = np.searchsorted(bars.time, t, "right") - 1
        first = np.searchsorted(bar_of, np.arange(len(bars)), "left")
        term.ticks = _Ticks(t, b, a, bar_of, first, int(first[term.k]))
        return term

    # ------------------------------------------------------------------ replay control
    @property
    def done(self) -> bool:
        if self.ticks is not None:
            return self.ticks.j >= len(self.ticks.time) - 1
        return self.k >= len(self.bars) - 1

    def now_utc_ns(self) -> int:
        if self.ticks is not None:
            return int(self.ticks.time[self.ticks.j])
        return int(self.bars.time[self.k])

    def quote(self) -> tuple[float, float]:
        if self.ticks is not None:
            j = self.ticks.j
            return float(self.ticks.bid[j]), float(self.ticks.ask[j])
        return float(self.bars.bid[self.k, 0]), float(self.bars.ask[self.k, 0])

    def advance(self) -> bool:
        """Bars: run the rest of the forming bar (stops, targets) and move to the next bar's open.
        Ticks: move to the next tick (a new bar when it is in the next bucket) and fill the stops and targets
        it reaches."""
        with self._lock:
            if self.done:
                return False
            if self.ticks is not None:
                self.ticks.j += 1
                k = int(self.ticks.bar_of[self.ticks.j])
                if k != self.k:
                    self.k = k
                    self._swap_at_open(k)
                self._run_tick()
                return True
            self._run_bar_range(self.k)
            self.k += 1
            self._swap_at_open(self.k)
            return True

    def _swap_at_open(self, k: int) -> None:
        nights = int(self._nights[k])
        if nights > 0 and self.positions:
            for p in self.positions.values():
                pts = self.spec.swap_long if p.side > 0 else self.spec.swap_short
                bo = float(self.bars.bid[k, 0])
                p.swap += nights * pts * self.spec.point * p.volume * self.spec.value_per_price(bo)

    def _run_tick(self) -> None:
        """Stops and targets against the current tick: a long's on the bid, a short's on the ask; the fill is
        the tick's price (the market through the level: the overshoot is real, no model slippage added)."""
        bid, ask = self.quote()
        now = self.now_utc_ns()
        for p in sorted(self.positions.values(), key=lambda q: q.ticket):
            px = bid if p.side > 0 else ask
            kind = ""
            if p.sl > 0.0 and p.side * (px - p.sl) <= 0.0:
                kind = "sl"
            elif p.tp > 0.0 and p.side * (px - p.tp) >= 0.0:
                kind = "tp"
            if kind:
                level = p.sl if kind == "sl" else p.tp
                reason = A.DEAL_REASON_SL if kind == "sl" else A.DEAL_REASON_TP
                self._close(p, p.volume, px, now, reason, f"[{kind} {level:.{self.spec.digits}f}]", order=0)

    def _run_bar_range(self, k: int) -> None:
        bid, ask = self.bars.bid[k], self.bars.ask[k]
        t_bar = int(self.bars.time[k])
        for p in sorted(self.positions.values(), key=lambda q: q.ticket):
            kind, price, gapped = bar_exit(p.side, p.sl, p.tp, bid, ask, self.sl_first)
            if kind:
                px = self.fills.stop_fill(p.side, price, gapped, t_bar) if kind == "sl" else price
                reason = A.DEAL_REASON_SL if kind == "sl" else A.DEAL_REASON_TP
                level = p.sl if kind == "sl" else p.tp
                comment = f"[{kind} {level:.{self.spec.digits}f}]"
                self._close(
                    p, p.volume, px, inside_bar_time(t_bar, self.bar_ns, gapped), reason, comment, order=0
                )

    # ------------------------------------------------------------------ faults and manual actions
    def inject(self, kind: str, times: int = 1, on: str = "order_send", **kw: Any) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        self.faults.append(Fault(kind, times, on, kw))

    def _take_fault(self, on: str, pred: Callable[[Fault], bool] | None = None) -> Fault | None:
        for f in self.faults:
            if f.on == on and (pred is None or pred(f)):
                f.times -= 1
                if f.times <= 0:
                    self.faults.remove(f)
                return f
        return None

    def close_by_hand(self, ticket: int) -> None:
        """The trader closes a position in the terminal (reason CLIENT, at the current quote)."""
        with self._lock:
            p = self.positions[ticket]
            bid, ask = self.quote()
            self._close(
                p, p.volume, bid if p.side > 0 else ask, self.now_utc_ns(), A.DEAL_REASON_CLIENT, "", 0
            )

    # ------------------------------------------------------------------ helpers
    def _fail(self, code: int) -> None:
        self._error = (code, A.ERROR_TEXT.get(code, "error"))
        return None

    def _ok(self) -> None:
        self._error = (A.RES_S_OK, A.ERROR_TEXT[A.RES_S_OK])

    def _gate(self, name: str) -> bool:
        """False (and last_error set) when the IPC link is down or a fault cuts it on this call."""
        self.calls[name] = self.calls.get(name, 0) + 1
        if name not in ("initialize", "last_error", "shutdown", "version") and self._take_fault(
            name, lambda f: f.kind == "disconnect"
        ):
            self._ipc_down = True
        if self._ipc_down and name not in ("initialize", "last_error", "shutdown", "version"):
            self._fail(A.RES_E_INTERNAL_FAIL_CONNECT)
            return False
        if not self.initialized and name not in ("initialize", "last_error", "version"):
            self._fail(A.RES_E_INTERNAL_FAIL_INIT)
            return False
        return True

    def _next_ticket(self) -> int:
        self._ticket += 1
        return self._ticket

    def _sec(self, utc_ns: int) -> int:
        return int(self.clock.to_server(utc_ns)[0] // NS_S)

    def _msc(self, utc_ns: int) -> int:
        return int(self.clock.to_server(utc_ns)[0] // 1_000_000)

    def _pnl(self, side: int, entry: float, volume: float, price: float) -> float:
        v = side * (price - entry) * volume * self.spec.value_per_price(price)
        return round(v, 2) if self.round_profit else v

    def _commission(self, volume: float) -> float:
        c = -self.spec.commission_per_lot * volume
        return round(c, 2) if self.round_profit else c

    def _deal(
        self,
        *,
        order: int,
        side: int,
        entry: int,
        magic: int,
        position_id: int,
        reason: int,
        volume: float,
        price: float,
        commission: float,
        swap: float,
        profit: float,
        comment: str,
        utc_ns: int,
    ) -> Any:
        d = A.TradeDeal(
            ticket=self._next_ticket(),
            order=order,
            time=self._sec(utc_ns),
            time_msc=self._msc(utc_ns),
            type=A.DEAL_TYPE_BUY if side > 0 else A.DEAL_TYPE_SELL,
            entry=entry,
            magic=magic,
            position_id=position_id,
            reason=reason,
            volume=volume,
            price=price,
            commission=commission,
            swap=swap,
            profit=profit,
            fee=0.0,
            symbol=self.spec.name,
            comment=comment,
            external_id="",
        )
        self.deals.append(d)
        self._deals_of.setdefault(position_id, []).append(d)
        self.balance += profit + commission + swap
        return d

    def _order(self, req: dict[str, Any], state: int, volume: float, position_id: int, utc_ns: int) -> int:
        ticket = self._next_ticket()
        self.history_orders.append(
            A.TradeOrder(
                ticket=ticket,
                time_setup=self._sec(utc_ns),
                time_setup_msc=self._msc(utc_ns),
                time_done=self._sec(utc_ns),
                time_done_msc=self._msc(utc_ns),
                time_expiration=0,
                type=int(req.get("type", 0)),
                type_time=A.ORDER_TIME_GTC,
                type_filling=int(req.get("type_filling", 0)),
                state=state,
                magic=int(req.get("magic", 0)),
                position_id=position_id,
                position_by_id=0,
                reason=A.ORDER_REASON_EXPERT,
                volume_initial=float(req.get("volume", 0.0)),
                volume_current=float(req.get("volume", 0.0)) - volume,
                price_open=0.0,
                sl=float(req.get("sl", 0.0)),
                tp=float(req.get("tp", 0.0)),
                price_current=0.0,
                price_stoplimit=0.0,
                symbol=self.spec.name,
                comment=str(req.get("comment", "")),
                external_id="",
            )
        )
        return ticket

    def _close(
        self, p: _Pos, volume: float, price: float, utc_ns: int, reason: int, comment: str, order: int
    ) -> Any:
        vol = min(volume, p.volume)
        swap = p.swap if vol >= p.volume - 1e-12 else 0.0
        deal = self._deal(
            order=order,
            side=-p.side,
            entry=A.DEAL_ENTRY_OUT,
            magic=p.magic,
            position_id=p.identifier,
            reason=reason,
            volume=vol,
            price=price,
            commission=self._commission(vol),
            swap=round(swap, 2) if self.round_profit else swap,
            profit=self._pnl(p.side, p.price_open, vol, price),
            comment=comment,
            utc_ns=utc_ns,
        )
        p.volume = round(p.volume - vol, 8)
        if p.volume <= 1e-12:
            del self.positions[p.ticket]
        return deal

    def _position_record(self, p: _Pos) -> Any:
        bid, ask = self.quote()
        cur = bid if p.side > 0 else ask
        return A.TradePosition(
            ticket=p.ticket,
            time=self._sec(p.time_ns),
            time_msc=self._msc(p.time_ns),
            time_update=self._sec(p.time_ns),
            time_update_msc=self._msc(p.time_ns),
            type=A.POSITION_TYPE_BUY if p.side > 0 else A.POSITION_TYPE_SELL,
            magic=p.magic,
            identifier=p.identifier,
            reason=p.reason,
            volume=p.volume,
            price_open=p.price_open,
            sl=p.sl,
            tp=p.tp,
            price_current=cur,
            swap=round(p.swap, 2),
            profit=self._pnl(p.side, p.price_open, p.volume, cur),
            symbol=self.spec.name,
            comment=p.comment,
            external_id="",
        )

    def equity(self) -> float:
        bid, ask = self.quote()
        fl = sum(
            self._pnl(p.side, p.price_open, p.volume, bid if p.side > 0 else ask) + p.swap
            for p in self.positions.values()
        )
        return self.balance + fl

    @staticmethod
    def _group_ok(symbol: str, group: str | None) -> bool:
        if not group:
            return True
        ok = False
        for pat in str(group).split(","):
            pat = pat.strip()
            if pat.startswith("!"):
                if fnmatch.fnmatchcase(symbol, pat[1:]):
                    return False
            elif fnmatch.fnmatchcase(symbol, pat):
                ok = True
        return ok

    @staticmethod
    def _to_server_sec(x: Any) -> int:
        """A history bound as MT5 takes it: seconds since 1970 (server clock) or a datetime."""
        if isinstance(x, dt.datetime):
            if x.tzinfo is not None:
                return int(x.timestamp())
            return calendar.timegm(x.timetuple())
        return int(x)

    # ================================================================== the MetaTrader5 API
    def initialize(self, path: str | None = None, **kw: Any) -> bool:
        with self._lock:
            self.calls["initialize"] = self.calls.get("initialize", 0) + 1
            if self._take_fault("initialize", lambda f: f.kind == "disconnect"):
                self._fail(A.RES_E_INTERNAL_FAIL_INIT)
                return False
            if "login" in kw and int(kw["login"]) != self.login_id:
                self._fail(A.RES_E_AUTH_FAILED)
                return False
            if self.password is not None and "password" in kw and kw["password"] != self.password:
                self._fail(A.RES_E_AUTH_FAILED)
                return False
            self.initialized = True
            self._ipc_down = False
            self._ok()
            return True

    def login(
        self, login: int, password: str | None = None, server: str | None = None, timeout: int = 0
    ) -> bool:
        return self.initialize(login=login, password=password, server=server)

    def shutdown(self) -> None:
        with self._lock:
            self.initialized = False
            return None

    def version(self) -> tuple[int, int, str]:
        return (500, 4000, "01 Jan 2025")

    def last_error(self) -> tuple[int, str]:
        return self._error

    def terminal_info(self) -> Any:
        with self._lock:
            if not self._gate("terminal_info"):
                return None
            self._ok()
            return A.TerminalInfo(
                community_account=False,
                community_connection=False,
                connected=self.connected,
                dlls_allowed=False,
                trade_allowed=self.trade_allowed,
                tradeapi_disabled=False,
                email_enabled=False,
                ftp_enabled=False,
                notifications_enabled=False,
                mqid=False,
                build=4000,
                maxbars=100000,
                codepage=0,
                ping_last=1000,
                community_balance=0.0,
                retransmission=0.0,
                company=self.company,
                name="SimLab fake MetaTrader 5",
                language="English",
                path="/fake",
                data_path="/fake",
                commondata_path="/fake",
            )

    def account_info(self) -> Any:
        with self._lock:
            if not self._gate("account_info"):
                return None
            self._ok()
            eq = self.equity()
            return A.AccountInfo(
                login=self.login_id,
                trade_mode=A.ACCOUNT_TRADE_MODE_DEMO,
                leverage=100,
                limit_orders=200,
                margin_so_mode=0,
                trade_allowed=self.account_trade_allowed,
                trade_expert=self.account_trade_expert,
                margin_mode=A.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING,
                currency_digits=2,
                fifo_close=False,
                balance=round(self.balance, 2),
                credit=0.0,
                profit=round(eq - self.balance, 2),
                equity=round(eq, 2),
                margin=0.0,
                margin_free=round(eq, 2),
                margin_level=0.0,
                margin_so_call=50.0,
                margin_so_so=30.0,
                margin_initial=0.0,
                margin_maintenance=0.0,
                assets=0.0,
                liabilities=0.0,
                commission_blocked=0.0,
                name="simlab",
                server=self.server_name,
                currency=self.currency,
                company=self.company,
            )

    def symbols_total(self) -> int:
        return 1

    def symbols_get(self, group: str | None = None) -> Any:
        info = self.symbol_info(self.spec.name)
        return (info,) if info is not None and self._group_ok(self.spec.name, group) else ()

    def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        with self._lock:
            if not self._gate("symbol_select"):
                return False
            if symbol != self.spec.name:
                self._fail(A.RES_E_NOT_FOUND)
                return False
            self.visible = bool(enable)
            self._ok()
            return True

    def symbol_info(self, symbol: str) -> Any:
        with self._lock:
            if not self._gate("symbol_info"):
                return None
            if symbol != self.spec.name:
                self._fail(A.RES_E_NOT_FOUND)
                return None
            self._ok()
            s = self.spec
            bid, ask = self.quote()
            name_fields: dict[str, Any] = {f: 0 for f in A.SymbolInfo._fields}
            name_fields.update(
                custom=False,
                select=self.visible,
                visible=self.visible,
                time=self._sec(self.now_utc_ns()),
                digits=s.digits,
                spread=int(round((ask - bid) / s.point)),
                spread_float=True,
                trade_calc_mode=0,
                trade_mode=self.trade_mode,
                trade_stops_level=s.stops_level,
                trade_exemode=A.SYMBOL_TRADE_EXECUTION_MARKET,
                swap_mode=1,
                swap_rollover3days=(int(getattr(s, "triple_swap_day", 2)) + 1) % 7,
                filling_mode=self.filling_mask,
                bid=bid,
                ask=ask,
                point=s.point,
                trade_tick_value=s.tick_value,
                trade_tick_value_profit=s.tick_value,
                trade_tick_value_loss=s.tick_value,
                trade_tick_size=s.tick_size,
                trade_contract_size=s.contract_size,
                volume_min=s.volume_min,
                volume_max=s.volume_max,
                volume_step=s.volume_step,
                volume_limit=0.0,
                swap_long=s.swap_long,
                swap_short=s.swap_short,
                margin_initial=0.0,
                margin_maintenance=0.0,
                currency_base=s.name[:3],
                currency_profit=s.name[3:6] if len(s.name) >= 6 else self.currency,
                currency_margin=s.name[:3],
                description=s.description,
                name=s.name,
                path=f"Forex\\{s.name}",
            )
            return A.SymbolInfo(**name_fields)

    def symbol_info_tick(self, symbol: str) -> Any:
        with self._lock:
            if not self._gate("symbol_info_tick"):
                return None
            if symbol != self.spec.name:
                self._fail(A.RES_E_NOT_FOUND)
                return None
            self._ok()
            bid, ask = self.quote()
            t = self.now_utc_ns()
            return A.Tick(self._sec(t), bid, ask, 0.0, 0, self._msc(t), 6, 0.0)

    def _rates(self, lo: int, hi: int) -> np.ndarray:
        """Rates of bars [lo, hi) (hi may include the forming bar k: open only)."""
        n = max(0, hi - lo)
        out = np.zeros(n, dtype=A.RATES_DTYPE)
        if n == 0:
            return out
        idx = np.arange(lo, hi)
        out["time"] = self._server_ns[idx] // NS_S
        b, a = self.bars.bid[idx], self.bars.ask[idx]
        out["open"], out["high"], out["low"], out["close"] = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
        out["spread"] = np.rint((a[:, 3] - b[:, 3]) / self.spec.point).astype(np.int32)
        out["tick_volume"] = np.maximum(self.bars.volume[idx], 0).astype(np.uint64)
        if hi > self.k:  # the forming bar: what has been seen of it
            j = self.k - lo
            if self.ticks is not None:  # its ticks so far
                tk = self.ticks
                f, now = int(tk.first[self.k]), tk.j + 1
                tb = tk.bid[f:now]
                out["open"][j], out["high"][j], out["low"][j], out["close"][j] = (
                    tb[0],
                    tb.max(),
                    tb.min(),
                    tb[-1],
                )
                out["spread"][j] = int(round((tk.ask[tk.j] - tk.bid[tk.j]) / self.spec.point))
                out["tick_volume"][j] = now - f
            else:  # only its open tick
                o = b[j, 0]
                out["high"][j] = out["low"][j] = out["close"][j] = o
                out["spread"][j] = int(round((a[j, 0] - o) / self.spec.point))
                out["tick_volume"][j] = 1
        return out

    def copy_rates_from_pos(self, symbol: str, timeframe: int, start_pos: int, count: int) -> Any:
        with self._lock:
            if not self._gate("copy_rates_from_pos"):
                return None
            if symbol != self.spec.name or int(timeframe) != self.timeframe or count <= 0 or start_pos < 0:
                self._fail(A.RES_E_INVALID_PARAMS)
                return None
            hi = self.k - int(start_pos) + 1
            lo = max(0, hi - int(count))
            self._ok()
            return self._rates(lo, max(lo, hi))

    def copy_rates_range(self, symbol: str, timeframe: int, date_from: Any, date_to: Any) -> Any:
        with self._lock:
            if not self._gate("copy_rates_range"):
                return None
            if symbol != self.spec.name or int(timeframe) != self.timeframe:
                self._fail(A.RES_E_INVALID_PARAMS)
                return None
            sec = self._server_ns[: self.k + 1] // NS_S
            lo = int(np.searchsorted(sec, self._to_server_sec(date_from), "left"))
            hi = int(np.searchsorted(sec, self._to_server_sec(date_to), "right"))
            self._ok()
            return self._rates(lo, hi)

    def copy_rates_from(self, symbol: str, timeframe: int, date_from: Any, count: int) -> Any:
        with self._lock:
            if not self._gate("copy_rates_from"):
                return None
            sec = self._server_ns[: self.k + 1] // NS_S
            hi = int(np.searchsorted(sec, self._to_server_sec(date_from), "right"))
            self._ok()
            return self._rates(max(0, hi - int(count)), hi)

    def positions_total(self) -> int:
        with self._lock:
            return len(self.positions) if self._gate("positions_total") else 0

    def positions_get(
        self, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> Any:
        with self._lock:
            if not self._gate("positions_get"):
                return None
            self._ok()
            out = []
            for p in sorted(self.positions.values(), key=lambda q: q.ticket):
                if symbol is not None and symbol != self.spec.name:
                    continue
                if ticket is not None and int(ticket) != p.ticket:
                    continue
                if not self._group_ok(self.spec.name, group):
                    continue
                out.append(self._position_record(p))
            return tuple(out)

    def orders_total(self) -> int:
        return 0

    def orders_get(
        self, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> Any:
        with self._lock:
            if not self._gate("orders_get"):
                return None
            self._ok()
            return ()  # market orders only: nothing stays pending

    def _history(self, items: list[Any], time_field: str, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
        rows = list(items)
        if len(args) >= 2:
            lo, hi = self._to_server_sec(args[0]), self._to_server_sec(args[1])
            rows = [r for r in rows if lo <= getattr(r, time_field) <= hi]
        if kw.get("group"):
            rows = [r for r in rows if self._group_ok(r.symbol, kw["group"])]
        if kw.get("ticket") is not None:
            rows = [r for r in rows if r.ticket == int(kw["ticket"])]
        if kw.get("position") is not None:
            rows = [r for r in rows if r.position_id == int(kw["position"])]
        self._ok()
        return tuple(rows)

    def history_deals_get(self, *args: Any, **kw: Any) -> Any:
        with self._lock:
            if not self._gate("history_deals_get"):
                return None
            if kw.get("position") is not None:  # a position's deals: looked up, not scanned
                return self._history(self._deals_of.get(int(kw["position"]), []), "time", args, kw)
            return self._history(self.deals, "time", args, kw)

    def history_orders_get(self, *args: Any, **kw: Any) -> Any:
        with self._lock:
            if not self._gate("history_orders_get"):
                return None
            return self._history(self.history_orders, "time_setup", args, kw)

    def history_deals_total(self, date_from: Any, date_to: Any) -> int:
        r = self.history_deals_get(date_from, date_to)
        return 0 if r is None else len(r)

    def history_orders_total(self, date_from: Any, date_to: Any) -> int:
        r = self.history_orders_get(date_from, date_to)
        return 0 if r is None else len(r)

    def order_calc_profit(
        self, action: int, symbol: str, volume: float, price_open: float, price_close: float
    ) -> Any:
        side = 1 if action == A.ORDER_TYPE_BUY else -1
        return self._pnl(side, price_open, volume, price_close)

    # ------------------------------------------------------------------ order_send
    def _result(self, retcode: int, req: dict[str, Any], *, deal: int = 0, order: int = 0, volume: float = 0.0,
                price: float = 0.0, comment: str = "") -> Any:  # fmt: skip
        bid, ask = self.quote()
        self._request_id += 1
        request = A.TradeRequest(
            **{f: req.get(f, 0 if f != "symbol" and f != "comment" else "") for f in A.TradeRequest._fields}
        )
        return A.OrderSendResult(
            retcode, deal, order, volume, price, bid, ask, comment, self._request_id, 0, request
        )

    def _check_volume(self, v: float) -> bool:
        s = self.spec
        steps = v / s.volume_step
        return s.volume_min - 1e-9 <= v <= s.volume_max + 1e-9 and abs(steps - round(steps)) < 1e-6

    def _stops_ok(self, side: int, price: float, sl: float, tp: float) -> bool:
        """MT5's check: stops on the right side of the fill side's price, at least the stops level away."""
        bid, ask = self.quote()
        ref = bid if side > 0 else ask  # a long's stops trigger on the bid
        min_d = self.spec.stops_level * self.spec.point
        if sl > 0.0 and side * (ref - sl) < min_d - 1e-12:
            return False
        if tp > 0.0 and side * (tp - ref) < min_d - 1e-12:
            return False
        return not (sl > 0.0 and side * (ref - sl) <= 0.0) and not (tp > 0.0 and side * (tp - ref) <= 0.0)

    def order_check(self, request: dict[str, Any]) -> Any:
        return None

    def order_send(self, request: Any) -> Any:
        with self._lock:
            if not self._gate("order_send"):
                return None
            req = dict(request)
            self.sent.append(req)
            action = int(req.get("action", 0))
            if action == A.TRADE_ACTION_SLTP:
                return self._modify(req)
            if action != A.TRADE_ACTION_DEAL:
                return self._result(A.TRADE_RETCODE_INVALID, req, comment="Invalid request")
            if req.get("symbol") != self.spec.name:
                return self._result(A.TRADE_RETCODE_INVALID, req, comment="Invalid request")
            f = self._take_fault(
                "order_send",
                lambda f: f.kind != "reject_filling" or f.kw.get("filling") == req.get("type_filling"),
            )
            kind = f.kind if f else ""
            simple = {
                "requote": (A.TRADE_RETCODE_REQUOTE, "Requote"),
                "price_changed": (A.TRADE_RETCODE_PRICE_CHANGED, "Prices changed"),
                "market_closed": (A.TRADE_RETCODE_MARKET_CLOSED, "Market closed"),
                "no_money": (A.TRADE_RETCODE_NO_MONEY, "No money"),
                "too_many_requests": (A.TRADE_RETCODE_TOO_MANY_REQUESTS, "Too many requests"),
                "timeout_lost": (A.TRADE_RETCODE_TIMEOUT, "Request canceled by timeout"),
                "reject_filling": (A.TRADE_RETCODE_INVALID_FILL, "Unsupported filling mode"),
            }
            if kind in simple:
                code, text = simple[kind]
                return self._result(code, req, comment=text)
            if kind == "ipc_lost":
                self._ipc_down = True
                return self._fail(A.RES_E_INTERNAL_FAIL_CONNECT)
            if not self.connected:
                return self._result(A.TRADE_RETCODE_CONNECTION, req, comment="No connection")
            if not self.trade_allowed:
                return self._result(
                    A.TRADE_RETCODE_CLIENT_DISABLES_AT, req, comment="AutoTrading disabled by client"
                )
            filling = int(req.get("type_filling", A.ORDER_FILLING_FOK))
            allowed = {A.ORDER_FILLING_FOK: A.SYMBOL_FILLING_FOK, A.ORDER_FILLING_IOC: A.SYMBOL_FILLING_IOC}
            if filling not in allowed or not (self.filling_mask & allowed[filling]):
                return self._result(A.TRADE_RETCODE_INVALID_FILL, req, comment="Unsupported filling mode")
            volume = float(req.get("volume", 0.0))
            if not self._check_volume(volume):
                return self._result(A.TRADE_RETCODE_INVALID_VOLUME, req, comment="Invalid volume")
            side = 1 if int(req.get("type", -1)) == A.ORDER_TYPE_BUY else -1
            if int(req.get("type", -1)) not in (A.ORDER_TYPE_BUY, A.ORDER_TYPE_SELL):
                return self._result(A.TRADE_RETCODE_INVALID, req, comment="Invalid order type")
            fill_vol = volume
            if kind == "partial":
                frac = float(f.kw.get("fraction", 0.5)) if f else 0.5
                fill_vol = math.floor(volume * frac / self.spec.volume_step + 1e-9) * self.spec.volume_step
                fill_vol = round(max(fill_vol, self.spec.volume_min), 8)
            result = self._execute(req, side, fill_vol)
            if kind == "timeout_executed":
                return self._result(A.TRADE_RETCODE_TIMEOUT, req, comment="Request canceled by timeout")
            if kind == "ipc_executed":
                self._ipc_down = True
                return self._fail(A.RES_E_INTERNAL_FAIL_TIMEOUT)
            if kind == "partial" and result.retcode == A.TRADE_RETCODE_DONE:
                return result._replace(
                    retcode=A.TRADE_RETCODE_DONE_PARTIAL, comment="Request partially executed"
                )
            return result

    def _execute(self, req: dict[str, Any], side: int, volume: float) -> Any:
        bid, ask = self.quote()
        now = self.now_utc_ns()
        pos_ticket = int(req.get("position", 0) or 0)
        magic = int(req.get("magic", 0))
        comment = str(req.get("comment", ""))[:31]
        if pos_ticket:  # close (part of) a position
            p = self.positions.get(pos_ticket)
            if p is None:
                return self._result(A.TRADE_RETCODE_POSITION_CLOSED, req, comment="Position closed")
            if side != -p.side or volume > p.volume + 1e-9:
                return self._result(A.TRADE_RETCODE_INVALID, req, comment="Invalid close")
            price, _ = self.fills.market(side, bid, ask, now, "exit")
            order = self._order(req, A.ORDER_STATE_FILLED, volume, p.identifier, now)
            deal = self._close(p, volume, price, now, A.DEAL_REASON_EXPERT, comment, order)
            return self._result(A.TRADE_RETCODE_DONE, req, deal=deal.ticket, order=order, volume=volume,
                                price=price, comment="Request executed")  # fmt: skip
        sl, tp = float(req.get("sl", 0.0) or 0.0), float(req.get("tp", 0.0) or 0.0)
        if not self._stops_ok(side, ask if side > 0 else bid, sl, tp):
            return self._result(A.TRADE_RETCODE_INVALID_STOPS, req, comment="Invalid stops")
        price, _ = self.fills.market(side, bid, ask, now, "entry")
        # the opening order's ticket is the position's ticket and identifier, as on MT5
        order = self._order(req, A.ORDER_STATE_FILLED, volume, 0, now)
        p = _Pos(order, side, volume, price, sl, tp, magic, comment, now, order)
        self.positions[order] = p
        # the order's position id is known once it executed
        self.history_orders[-1] = self.history_orders[-1]._replace(position_id=order)
        deal = self._deal(order=order, side=side, entry=A.DEAL_ENTRY_IN, magic=magic, position_id=order,
                          reason=A.DEAL_REASON_EXPERT, volume=volume, price=price,
                          commission=self._commission(volume), swap=0.0, profit=0.0, comment=comment, utc_ns=now)  # fmt: skip
        return self._result(A.TRADE_RETCODE_DONE, req, deal=deal.ticket, order=order, volume=volume, price=price,
                            comment="Request executed")  # fmt: skip

    def _modify(self, req: dict[str, Any]) -> Any:
        p = self.positions.get(int(req.get("position", 0) or 0))
        if p is None:
            return self._result(A.TRADE_RETCODE_POSITION_CLOSED, req, comment="Position closed")
        sl, tp = float(req.get("sl", 0.0) or 0.0), float(req.get("tp", 0.0) or 0.0)
        if sl == p.sl and tp == p.tp:
            return self._result(A.TRADE_RETCODE_NO_CHANGES, req, comment="No changes")
        bid, ask = self.quote()
        if not self._stops_ok(p.side, bid if p.side > 0 else ask, sl, tp):
            return self._result(A.TRADE_RETCODE_INVALID_STOPS, req, comment="Invalid stops")
        p.sl, p.tp = sl, tp
        return self._result(A.TRADE_RETCODE_DONE, req, comment="Request executed")
