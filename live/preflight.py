"""The preflight: a deployment handshake before the first order; each failure is one line (exit 2).

Checks, in order: the terminal answers and is connected to the trade server with
AutoTrading on; the account is the configured one (login, server) and may trade with
experts; the symbol exists, is selected, trades fully, has the expected digits and
contract size, sane volume limits and a filling mode the runner can use; the server
clock's offset to UTC (from the last tick's time against this machine's UTC clock)
matches the configured ``server_tz`` now.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from live import mt5_api as A
from live.broker import BrokerError
from live.clock import ServerClock
from simlab.calendar import NS_MIN
from simlab.errors import InputError


class PreflightError(InputError):
    """One failed preflight check (one line, exit 2)."""

    def __init__(self, check: str, what: str) -> None:
        super().__init__(f"preflight: {check}", what)


def _hours(ns: int) -> str:
    m = ns // NS_MIN
    sign = "+" if m >= 0 else "-"
    m = abs(m)
    return f"UTC{sign}{m // 60}" + (f":{m % 60:02d}" if m % 60 else "")


def preflight(
    broker: Any,
    *,
    symbol: str,
    clock: ServerClock,
    now_utc_ns: Callable[[], int],
    login: int | None = None,
    server: str | None = None,
    digits: int | None = None,
    contract_size: float | None = None,
    fixed_volume: float = 0.0,
    max_tick_age_s: float = 120.0,
) -> list[str]:
    """Raise ``PreflightError`` on the first failed check; return the notes of checks that could not run."""
    notes: list[str] = []
    try:
        term = broker.terminal()
    except BrokerError as exc:
        raise PreflightError(
            "terminal", f"the terminal does not answer (last_error {exc.code} {exc.text})".rstrip()
        ) from None
    if not term.connected:
        raise PreflightError("terminal", "the terminal is not connected to the trade server")
    if not term.trade_allowed:
        raise PreflightError("terminal", "AutoTrading is off in the terminal (Algo Trading button)")
    acc = broker.account()
    if login is not None and acc.login != login:
        raise PreflightError("account", f"logged in to account {acc.login}, expected {login}")
    if server is not None and acc.server != server:
        raise PreflightError("account", f"connected to server {acc.server!r}, expected {server!r}")
    if not acc.trade_allowed or not acc.trade_expert:
        raise PreflightError("account", "trading (or trading by experts) is not allowed on this account")
    if not broker.select(symbol):
        raise PreflightError(
            "symbol", f"{symbol} cannot be selected in Market Watch (wrong name or broker suffix?)"
        )
    try:
        meta = broker.symbol(symbol)
    except BrokerError:
        raise PreflightError("symbol", f"{symbol}: symbol_info returned nothing") from None
    if not meta.visible:
        raise PreflightError("symbol", f"{symbol} is not visible in Market Watch")
    if meta.trade_mode != A.SYMBOL_TRADE_MODE_FULL:
        raise PreflightError(
            "symbol", f"{symbol} trade mode is {meta.trade_mode}, expected {A.SYMBOL_TRADE_MODE_FULL} (full)"
        )
    if digits is not None and meta.digits != digits:
        raise PreflightError("symbol", f"{symbol} has {meta.digits} digits, expected {digits}")
    if contract_size is not None and abs(meta.contract_size - contract_size) > 1e-9 * max(1.0, contract_size):
        raise PreflightError(
            "symbol", f"{symbol} contract size is {meta.contract_size:g}, expected {contract_size:g}"
        )
    if not (0 < meta.volume_min <= meta.volume_max and meta.volume_step > 0):
        raise PreflightError(
            "symbol",
            f"{symbol} volume limits min {meta.volume_min} step {meta.volume_step} max {meta.volume_max} are not usable",
        )
    if fixed_volume > 0 and not meta.volume_min <= fixed_volume <= meta.volume_max:
        raise PreflightError(
            "symbol", f"fixed volume {fixed_volume} is outside {meta.volume_min} .. {meta.volume_max}"
        )
    if not meta.filling_mask & (A.SYMBOL_FILLING_FOK | A.SYMBOL_FILLING_IOC):
        notes.append("filling: the symbol allows neither FOK nor IOC; RETURN will be used")
    # the server clock: the last tick's server time against UTC now
    q = broker.quote(symbol)
    now = int(now_utc_ns())
    raw = q.time_ns - now
    measured = int(round(raw / (15 * NS_MIN))) * 15 * NS_MIN
    if abs(raw - measured) > max_tick_age_s * 1e9:
        notes.append("server clock: the last tick is stale (market closed?): offset not checked")
    else:
        expected = clock.offset_ns(now)
        if measured != expected:
            raise PreflightError(
                "server clock",
                f"the server's clock reads {_hours(measured)} but server_tz {clock.text!r} is {_hours(expected)} now",
            )
    return notes
