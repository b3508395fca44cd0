"""``MT5Broker``: the ``Broker`` protocol over any module with the ``MetaTrader5`` package's API.

The module is injected (``MT5Broker(module)``), never imported here: the official
``MetaTrader5`` package on Windows, an ``mt5linux.MetaTrader5(host, port)`` client
on Linux, or a ``live.fake.FakeTerminal``. ``import_module(kind, ...)`` builds one
from a config when asked.

Records are read field by field (``getattr``), never pickled: over RPyC the
terminal's named tuples arrive as remote references, which cannot be serialised
on a client without the ``MetaTrader5`` package (the bridges' most reported
failure), while attribute access works on every transport. A call that returns
``None`` is looked up in ``last_error()``: an IPC failure (-10001 .. -10005, or
the bridge's own transport error) raises ``IPCError`` and the runner reconnects
(``reconnect``: shutdown, initialize, bounded back-off) and reconciles.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from live import mt5_api as A
from live.broker import BrokerError, IPCError
from live.types import (
    AccountState,
    Deal,
    OrderRecord,
    OrderRequest,
    OrderResult,
    Position,
    Quote,
    Side,
    SymbolMeta,
    TerminalState,
)

# what a bridge raises when its transport breaks (RPyC: EOFError, socket errors, its TimeoutError)
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (EOFError, ConnectionError, TimeoutError, OSError)


def _const(module: Any, name: str) -> int:
    v = getattr(module, name, None)
    return int(v) if isinstance(v, int | float) else int(getattr(A, name))


class MT5Broker:
    """See the module docstring. ``credentials`` go to ``initialize`` only and are never logged."""

    def __init__(
        self,
        module: Any,
        *,
        login: int | None = None,
        password: str | None = None,
        server: str | None = None,
        path: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff_s: Sequence[float] = (1.0, 2.0, 4.0, 8.0, 16.0),
        on_reconnect: Callable[[int, float], None] | None = None,
    ) -> None:
        self.m = module
        self._login = login
        self._password = password
        self._server = server
        self._path = path
        self.sleep = sleep
        self.backoff_s = tuple(backoff_s)
        self.on_reconnect = on_reconnect
        self.last_error: tuple[int, str] = (A.RES_S_OK, "")
        self.reconnects = 0

    # ------------------------------------------------------------------ plumbing
    def _err(self) -> tuple[int, str]:
        try:
            e = self.m.last_error()
            return int(e[0]), str(e[1])
        except TRANSPORT_ERRORS:
            return A.RES_E_INTERNAL_FAIL_CONNECT, "bridge transport error"

    def _call(self, name: str, *args: Any, none_ok: bool = False, **kw: Any) -> Any:
        try:
            out = getattr(self.m, name)(*args, **kw)
        except TRANSPORT_ERRORS as exc:
            self.last_error = (A.RES_E_INTERNAL_FAIL_CONNECT, f"{type(exc).__name__}")
            raise IPCError(name, A.RES_E_INTERNAL_FAIL_CONNECT, type(exc).__name__) from None
        if out is None and not none_ok:
            code, text = self._err()
            self.last_error = (code, text)
            if code in A.IPC_ERRORS:
                raise IPCError(name, code, text)
            raise BrokerError(name, code, text)
        return out

    def _init_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {}
        if self._login is not None:
            kw["login"] = int(self._login)
        if self._password is not None:
            kw["password"] = self._password
        if self._server is not None:
            kw["server"] = self._server
        return kw

    def connect(self) -> None:
        args = (self._path,) if self._path else ()
        try:
            ok = self.m.initialize(*args, **self._init_kwargs())
        except TRANSPORT_ERRORS as exc:
            raise IPCError("initialize", A.RES_E_INTERNAL_FAIL_CONNECT, type(exc).__name__) from None
        if not ok:
            code, text = self._err()
            self.last_error = (code, text)
            cls = IPCError if code in A.IPC_ERRORS else BrokerError
            raise cls("initialize", code, text)

    def reconnect(self) -> None:
        """shutdown + initialize with a bounded back-off; raises ``IPCError`` when every try failed."""
        last: BrokerError | None = None
        for delay in self.backoff_s:
            self.sleep(delay)
            if self.on_reconnect is not None:
                self.on_reconnect(self.reconnects + 1, delay)
            try:
                with contextlib.suppress(*TRANSPORT_ERRORS):
                    self.m.shutdown()
                self.connect()
                self.reconnects += 1
                return
            except BrokerError as exc:
                last = exc
        raise last or IPCError("initialize", A.RES_E_INTERNAL_FAIL_CONNECT)

    # ------------------------------------------------------------------ reads
    def terminal(self) -> TerminalState:
        t = self._call("terminal_info")
        return TerminalState(bool(t.connected), bool(t.trade_allowed), int(getattr(t, "build", 0)))

    def account(self) -> AccountState:
        a = self._call("account_info")
        return AccountState(
            login=int(a.login),
            server=str(a.server),
            currency=str(a.currency),
            balance=float(a.balance),
            equity=float(a.equity),
            trade_allowed=bool(a.trade_allowed),
            trade_expert=bool(a.trade_expert),
            margin_mode=int(a.margin_mode),
        )

    def balance_equity(self) -> tuple[float, float]:
        a = self._call("account_info")
        return float(a.balance), float(a.equity)

    def select(self, name: str) -> bool:
        return bool(self._call("symbol_select", name, True, none_ok=True))

    def symbol(self, name: str) -> SymbolMeta:
        s = self._call("symbol_info", name)
        return SymbolMeta(
            name=str(s.name),
            digits=int(s.digits),
            point=float(s.point),
            contract_size=float(s.trade_contract_size),
            volume_min=float(s.volume_min),
            volume_step=float(s.volume_step),
            volume_max=float(s.volume_max),
            stops_level=int(s.trade_stops_level),
            filling_mask=int(s.filling_mode),
            trade_mode=int(s.trade_mode),
            visible=bool(s.visible),
            bid=float(s.bid),
            ask=float(s.ask),
        )

    def symbol_record(self, name: str) -> Any:
        """The raw ``symbol_info`` record (for ``SymbolSpec.from_mt5``)."""
        return self._call("symbol_info", name)

    def quote(self, name: str) -> Quote:
        t = self._call("symbol_info_tick", name)
        return Quote(int(t.time_msc) * 1_000_000, float(t.bid), float(t.ask))

    def rates(self, name: str, timeframe: int, start_pos: int, count: int) -> np.ndarray:
        r = self._call("copy_rates_from_pos", name, int(timeframe), int(start_pos), int(count))
        return np.asarray(r)

    def positions(self, symbol: str | None = None) -> list[Position]:
        ps = self._call("positions_get", symbol=symbol) if symbol else self._call("positions_get")
        buy = _const(self.m, "POSITION_TYPE_BUY")
        out = []
        for p in ps:
            out.append(
                Position(
                    ticket=int(p.ticket),
                    symbol=str(p.symbol),
                    side=Side.BUY if int(p.type) == buy else Side.SELL,
                    volume=float(p.volume),
                    price_open=float(p.price_open),
                    sl=float(p.sl),
                    tp=float(p.tp),
                    magic=int(p.magic),
                    comment=str(p.comment),
                    time_ns=int(p.time_msc) * 1_000_000,
                    swap=float(p.swap),
                    profit=float(p.profit),
                )
            )
        return out

    def deals(self, from_sec: int, to_sec: int, position: int | None = None) -> list[Deal]:
        if position is not None:
            ds = self._call("history_deals_get", int(from_sec), int(to_sec), position=int(position))
        else:
            ds = self._call("history_deals_get", int(from_sec), int(to_sec))
        buy = _const(self.m, "DEAL_TYPE_BUY")
        sell = _const(self.m, "DEAL_TYPE_SELL")
        out = []
        for d in ds:
            typ = int(d.type)
            if typ not in (buy, sell):
                continue  # balance, credit, commission rows
            out.append(
                Deal(
                    ticket=int(d.ticket),
                    order=int(d.order),
                    position_id=int(d.position_id),
                    symbol=str(d.symbol),
                    side=Side.BUY if typ == buy else Side.SELL,
                    entry=int(d.entry),
                    volume=float(d.volume),
                    price=float(d.price),
                    profit=float(d.profit),
                    commission=float(d.commission),
                    swap=float(d.swap),
                    magic=int(d.magic),
                    comment=str(d.comment),
                    reason=int(d.reason),
                    time_ns=int(d.time_msc) * 1_000_000,
                )
            )
        return out

    def history_orders(self, from_sec: int, to_sec: int) -> list[OrderRecord]:
        os_ = self._call("history_orders_get", int(from_sec), int(to_sec))
        return [
            OrderRecord(
                ticket=int(o.ticket),
                symbol=str(o.symbol),
                state=int(o.state),
                magic=int(o.magic),
                comment=str(o.comment),
                position_id=int(o.position_id),
                volume_initial=float(o.volume_initial),
                volume_current=float(o.volume_current),
            )
            for o in os_
        ]

    # ------------------------------------------------------------------ orders
    def send(self, request: OrderRequest) -> OrderResult | None:
        try:
            r = self.m.order_send(request.to_mt5())
        except TRANSPORT_ERRORS as exc:
            self.last_error = (A.RES_E_INTERNAL_FAIL_CONNECT, type(exc).__name__)
            raise IPCError("order_send", A.RES_E_INTERNAL_FAIL_CONNECT, type(exc).__name__) from None
        if r is None:
            code, text = self._err()
            self.last_error = (code, text)
            if code in A.IPC_ERRORS:
                raise IPCError("order_send", code, text)
            return None
        return OrderResult(
            retcode=int(r.retcode),
            deal=int(r.deal),
            order=int(r.order),
            volume=float(r.volume),
            price=float(r.price),
            bid=float(r.bid),
            ask=float(r.ask),
            comment=str(r.comment),
        )


def import_module(kind: str, *, host: str = "127.0.0.1", port: int = 18812) -> Any:
    """The API module for a broker ``kind``: ``mt5`` (the official package) or ``mt5linux`` (its RPyC client)."""
    if kind == "mt5":
        import importlib

        return importlib.import_module("MetaTrader5")
    if kind == "mt5linux":
        from mt5linux import MetaTrader5  # type: ignore[import-not-found]

        return MetaTrader5(host=host, port=port)
    raise ValueError(f"unknown broker kind {kind!r}")
