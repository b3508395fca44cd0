"""The ``Broker`` protocol: everything the live runner asks of a trading terminal, in domain types.

``live.mt5.MT5Broker`` implements it over any module with the ``MetaTrader5`` API
(the official package on Windows, the ``mt5linux`` RPyC client on Linux, or
``live.fake.FakeTerminal``). Prices are the terminal's; times are on the server
clock (``live.clock`` converts them).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from live.types import (
    AccountState,
    Deal,
    OrderRecord,
    OrderRequest,
    OrderResult,
    Position,
    Quote,
    SymbolMeta,
    TerminalState,
)


class BrokerError(Exception):
    """A call failed with a ``last_error()`` code (``code``) that is not an IPC failure."""

    def __init__(self, call: str, code: int, text: str = "") -> None:
        self.call = call
        self.code = code
        self.text = text
        super().__init__(f"{call} failed: last_error {code} {text}".rstrip())


class IPCError(BrokerError):
    """The link to the terminal failed (-10001 .. -10005, or the bridge's transport): reconnect, then reconcile."""


class Broker(Protocol):
    def connect(self) -> None: ...
    def reconnect(self) -> None: ...
    def terminal(self) -> TerminalState: ...
    def account(self) -> AccountState: ...
    def symbol(self, name: str) -> SymbolMeta: ...
    def select(self, name: str) -> bool: ...
    def quote(self, name: str) -> Quote: ...
    def rates(self, name: str, timeframe: int, start_pos: int, count: int) -> np.ndarray: ...
    def positions(self, symbol: str | None = None) -> list[Position]: ...
    def deals(self, from_sec: int, to_sec: int, position: int | None = None) -> list[Deal]: ...
    def history_orders(self, from_sec: int, to_sec: int) -> list[OrderRecord]: ...
    def send(self, request: OrderRequest) -> OrderResult | None:
        """``None``: no answer (the outcome is unknown); raises ``IPCError`` when the link is down."""
        ...
