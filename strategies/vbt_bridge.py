"""Intents to a ``vectorbt.Portfolio``, for research in vectorbt.

simlab's convention is that the decision on bar t (made at its close) is
acted on at bar t+1's open. vectorbt acts on a signal in the bar that carries
it, at the ``price`` given, so the bridge expresses the convention by
**shifting every signal one bar later and filling at the open**:

* ``entries[t+1]`` = ``dir[t] == LONG``, ``short_entries[t+1]`` = ``dir[t] == SHORT``;
  an entry against an open position reverses it (``upon_opposite_entry="reverse"``);
  an entry in the direction already held is ignored (no pyramiding), as in the kernel;
* ``exits[t+1]`` = ``short_exits[t+1]`` = ``dir[t] == FLAT``;
* ``price`` = the open of bar t+1 (mid by default);
* ``sl_stop[t+1]`` = ``sl[t] / open[t+1]`` and likewise ``tp_stop``: vectorbt wants
  stops as fractions of the entry price, simlab gives price distances;
  ``stop_entry_price="fillprice"`` measures them from the fill, as the kernel
  does; ``stop_exit_price="stopmarket"`` fills a stop at its price, or at the
  open when the bar gaps through it, as the kernel does;
* ``size[t+1]`` = ``size * intents.size[t]`` (NaN multiplier: 1);
* with ``spread=True`` each order pays half the bar's opening spread through
  ``slippage`` (a fraction of the mid open), a stand-in for buying at the ask and
  selling at the bid.

Known differences from the simlab kernel, all vectorbt's design: a stop is
never checked in the bar the position was opened in (vectorbt processes one
signal per bar), and when a signal and a stop fall in the same bar vectorbt
takes the stop, where the kernel acts on the signal at the open first. No
prop-firm rules, governors, swaps or sampled costs: for those, use
``simlab backtest``.

vectorbt is imported lazily: it takes seconds to import, and its first
``from_signals`` in a process JIT-compiles for tens of seconds. Example::

    from strategies.ma_cross import MaCross
    from strategies.vbt_bridge import intents_to_portfolio

    pf = intents_to_portfolio(bars, MaCross().signals(bars), size=100_000, fees=0.00002)
    pf.stats()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from simlab.errors import ConfigError
from simlab.layout import DIR_FLAT, DIR_LONG, DIR_SHORT

if TYPE_CHECKING:
    from simlab.bars import Bars
    from strategies.base import Intents


def _shift1(x: np.ndarray, fill: Any) -> np.ndarray:
    out = np.empty_like(x)
    out[0] = fill
    out[1:] = x[:-1]
    return out


def shifted_signals(bars: Bars, intents: Intents, *, price: str = "mid") -> dict[str, np.ndarray]:
    """The arrays handed to ``Portfolio.from_signals``, shifted to t+1 (see the module docstring).

    Keys: entries, exits, short_entries, short_exits, price, open, high, low,
    close, sl_stop, tp_stop, size_mult, half_spread (fraction of the open).
    """
    n = len(bars)
    intents.validate(n, where="intents")
    if price == "mid":
        ohlc = (bars.bid + bars.ask) * 0.5
    elif price == "bid":
        ohlc = np.asarray(bars.bid, dtype=np.float64)
    else:
        raise ConfigError("price", f"expected 'mid' or 'bid', got {price!r}")
    o = np.ascontiguousarray(ohlc[:, 0])
    d = _shift1(intents.dir, 0)
    sl = _shift1(intents.sl, np.nan)
    tp = _shift1(intents.tp, np.nan)
    mult = _shift1(intents.size, 1.0)
    mult = np.where(np.isnan(mult), 1.0, mult)
    half = (bars.ask[:, 0] - bars.bid[:, 0]) * 0.5 / o
    return {
        "entries": d == DIR_LONG,
        "short_entries": d == DIR_SHORT,
        "exits": d == DIR_FLAT,
        "short_exits": d == DIR_FLAT,
        "price": o,
        "open": o,
        "high": np.ascontiguousarray(ohlc[:, 1]),
        "low": np.ascontiguousarray(ohlc[:, 2]),
        "close": np.ascontiguousarray(ohlc[:, 3]),
        "sl_stop": sl / o,
        "tp_stop": tp / o,
        "size_mult": mult,
        "half_spread": np.maximum(half, 0.0),
    }


def _freq(time_ns: np.ndarray) -> Any:
    import pandas as pd

    if time_ns.shape[0] < 2:
        return None
    return pd.Timedelta(int(np.median(np.diff(time_ns[: min(time_ns.shape[0], 10_001)]))), unit="ns")


def intents_to_portfolio(
    bars: Bars,
    intents: Intents,
    *,
    size: float = 1.0,
    size_type: str = "amount",
    init_cash: float = 100_000.0,
    fees: float = 0.0,
    fixed_fees: float = 0.0,
    spread: bool = True,
    price: str = "mid",
    freq: Any = None,
    **kwargs: Any,
) -> Any:
    """A ``vectorbt.Portfolio`` of ``intents`` over ``bars``, acting at the next bar's open.

    ``size`` (units of the base currency with ``size_type="amount"``: 100_000
    is one standard FX lot) is multiplied by each entry's ``intents.size``.
    ``fees`` is a fraction of the traded value, ``fixed_fees`` money per order.
    ``spread=True`` charges half the opening spread per order as slippage.
    ``price`` is ``"mid"`` (default) or ``"bid"``. Extra keyword arguments go
    to ``vectorbt.Portfolio.from_signals`` and override the bridge's settings.
    """
    import pandas as pd
    import vectorbt as vbt

    a = shifted_signals(bars, intents, price=price)
    index = pd.DatetimeIndex(np.asarray(bars.time).astype("datetime64[ns]"), tz="UTC", name="time")

    def s(x: np.ndarray) -> pd.Series:
        return pd.Series(x, index=index)

    settings: dict[str, Any] = {
        "entries": s(a["entries"]),
        "exits": s(a["exits"]),
        "short_entries": s(a["short_entries"]),
        "short_exits": s(a["short_exits"]),
        "price": s(a["price"]),
        "open": s(a["open"]),
        "high": s(a["high"]),
        "low": s(a["low"]),
        "sl_stop": s(a["sl_stop"]),
        "tp_stop": s(a["tp_stop"]),
        "stop_entry_price": "fillprice",
        "stop_exit_price": "stopmarket",
        "upon_opposite_entry": "reverse",
        "accumulate": False,
        "size": s(size * a["size_mult"]),
        "size_type": size_type,
        "init_cash": init_cash,
        "fees": fees,
        "fixed_fees": fixed_fees,
        "slippage": s(a["half_spread"]) if spread else 0.0,
        "freq": freq if freq is not None else _freq(np.asarray(bars.time)),
    }
    settings.update(kwargs)
    return vbt.Portfolio.from_signals(s(a["close"]), **settings)
