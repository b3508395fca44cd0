"""Causal indicators over float64 numpy arrays: TA-Lib where it has them, numba/numpy where it does not.

Every function here is *causal*: output row ``t`` depends on input rows
``0..t`` only, and leading rows without enough history are NaN. All take and
return float64 arrays of the input's length.

From TA-Lib (C, fast, causal): :func:`sma`, :func:`ema`, :func:`atr`,
:func:`rsi`, :func:`rolling_max`, :func:`rolling_min`. TA-Lib's conventions,
which the tests pin against plain pandas references:

* ``sma(x, n)``: first value at row ``n-1``.
* ``ema(x, n)``: ``k = 2/(n+1)``, seeded with the SMA of the first ``n`` values
  at row ``n-1``, then ``e[t] = e[t-1] + k (x[t] - e[t-1])``.
* ``atr(h, l, c, n)``: Wilder smoothing of the true range. The true range
  needs the previous close, so row 0 has none; the seed at row ``n`` is the
  plain mean of the true ranges of rows ``1..n``, then
  ``a[t] = (a[t-1] (n-1) + tr[t]) / n``.
* ``rsi(x, n)``: Wilder's RSI. Seed at row ``n``: mean gain and mean loss of
  the changes of rows ``1..n``; then both smoothed like the ATR;
  ``rsi = 100 g / (g + l)`` (0 where ``g + l == 0``).

The recursive ones (EMA, ATR, RSI) depend, ever more weakly, on where the
data starts: a live runner that computes them on the latest window gets the
backtest's values only once the seed has decayed, so give such strategies a
warm-up of several periods. TA-Lib's global "unstable period" settings
(``talib.set_unstable_period``) must stay at their default, 0. A NaN inside
the input propagates to every later row of TA-Lib's recursive and running
outputs; bars never contain NaN.

Written here (numba / numpy): :func:`donchian` (rolling high/low of the
*previous* bars, excluding the current one), :func:`run_range` (high/low of the
current or last run of bars in a session mask: the Asian range), crossings and
small helpers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from simlab.bars import Bars

__all__ = [
    "atr",
    "crossed_above",
    "crossed_below",
    "donchian",
    "ema",
    "last_event",
    "mid_ohlc",
    "rolling_max",
    "rolling_min",
    "rsi",
    "run_range",
    "shift",
    "signal_exits",
    "sma",
    "true_range",
]


def _f64(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


def mid_ohlc(bars: Bars) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mid open, high, low, close as four contiguous float64 arrays.

    Mid high/low are the means of the bid and ask highs/lows (the two may
    come from different ticks; the difference is a fraction of the spread).
    """
    m = (bars.bid + bars.ask) * 0.5
    return (
        np.ascontiguousarray(m[:, 0]),
        np.ascontiguousarray(m[:, 1]),
        np.ascontiguousarray(m[:, 2]),
        np.ascontiguousarray(m[:, 3]),
    )


# ------------------------------------------------------------------ TA-Lib wrappers
def sma(x: np.ndarray, period: int) -> np.ndarray:
    """Simple moving average (TA-Lib ``SMA``); NaN for the first ``period-1`` rows.

    >>> sma(np.array([1.0, 2.0, 3.0, 4.0]), 2).tolist()
    [nan, 1.5, 2.5, 3.5]
    """
    import talib

    return np.asarray(talib.SMA(_f64(x), timeperiod=int(period)))


def ema(x: np.ndarray, period: int) -> np.ndarray:
    """Exponential moving average (TA-Lib ``EMA``), seeded with the SMA of the first ``period`` values.

    >>> ema(np.array([1.0, 2.0, 3.0, 4.0]), 2).round(6).tolist()
    [nan, 1.5, 2.5, 3.5]
    """
    import talib

    return np.asarray(talib.EMA(_f64(x), timeperiod=int(period)))


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Average true range (TA-Lib ``ATR``, Wilder smoothing); first value at row ``period``."""
    import talib

    return np.asarray(talib.ATR(_f64(high), _f64(low), _f64(close), timeperiod=int(period)))


def rsi(x: np.ndarray, period: int) -> np.ndarray:
    """Wilder's relative strength index, 0..100 (TA-Lib ``RSI``); first value at row ``period`` (>= 2)."""
    import talib

    return np.asarray(talib.RSI(_f64(x), timeperiod=int(period)))


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """True range (TA-Lib ``TRANGE``); NaN at row 0 (no previous close)."""
    import talib

    return np.asarray(talib.TRANGE(_f64(high), _f64(low), _f64(close)))


def rolling_max(x: np.ndarray, period: int) -> np.ndarray:
    """Highest value of rows ``t-period+1..t`` (TA-Lib ``MAX``), current row included."""
    if int(period) == 1:  # TA-Lib wants a period >= 2
        return _f64(x).copy()
    import talib

    return np.asarray(talib.MAX(_f64(x), timeperiod=int(period)))


def rolling_min(x: np.ndarray, period: int) -> np.ndarray:
    """Lowest value of rows ``t-period+1..t`` (TA-Lib ``MIN``), current row included."""
    if int(period) == 1:
        return _f64(x).copy()
    import talib

    return np.asarray(talib.MIN(_f64(x), timeperiod=int(period)))


# ------------------------------------------------------------------ written here
def shift(x: np.ndarray, k: int = 1, fill: float = np.nan) -> np.ndarray:
    """``x`` delayed by ``k >= 0`` rows (row t holds x[t-k]); the first ``k`` rows are ``fill``.

    >>> shift(np.array([1.0, 2.0, 3.0]), 1).tolist()
    [nan, 1.0, 2.0]
    """
    if k < 0:
        raise ValueError("shift(k < 0) would look ahead")
    x = np.asarray(x)
    k = min(k, x.shape[0])
    out = np.empty(x.shape, dtype=np.result_type(x.dtype, np.asarray(fill).dtype))
    out[:k] = fill
    out[k:] = x[: x.shape[0] - k]
    return out


def donchian(high: np.ndarray, low: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray]:
    """Donchian channel of the ``period`` bars *before* bar t (bar t excluded).

    Returns ``(upper, lower)``: ``upper[t] = max(high[t-period..t-1])``, NaN for
    the first ``period`` rows. Excluding the current bar is what a breakout
    needs: "the close broke the high of the previous N bars".

    >>> up, lo = donchian(np.array([1.0, 3.0, 2.0, 5.0]), np.array([0.0, 1.0, 1.0, 2.0]), 2)
    >>> up.tolist(), lo.tolist()
    ([nan, nan, 3.0, 3.0], [nan, nan, 0.0, 1.0])
    """
    return shift(rolling_max(high, period), 1), shift(rolling_min(low, period), 1)


def run_range(
    mask: np.ndarray, high: np.ndarray, low: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """High and low of the current (or most recent) run of consecutive ``mask`` bars.

    With ``mask = session == SESSION_ASIA`` this is the Asian range: inside the
    session it grows bar by bar (row t includes bar t), after the session it
    holds the finished range until the next session starts a new one.
    Returns ``(high, low, start)``: ``start`` is the row where the run began
    (-1 and NaN before the first run).

    >>> m = np.array([False, True, True, False, False, True])
    >>> hi, lo, st = run_range(m, np.array([9.0, 2, 3, 9, 9, 4]), np.array([0.0, 1, 0.5, 0, 0, 3]))
    >>> hi.tolist(), lo.tolist(), st.tolist()
    ([nan, 2.0, 3.0, 3.0, 3.0, 4.0], [nan, 1.0, 0.5, 0.5, 0.5, 3.0], [-1, 1, 1, 1, 1, 5])
    """
    m = np.ascontiguousarray(mask, dtype=np.bool_)
    n = m.shape[0]
    hi = np.empty(n)
    lo = np.empty(n)
    start = np.empty(n, np.int64)
    from strategies._indicators_nb import run_range_nb

    run_range_nb(m, _f64(high), _f64(low), hi, lo, start)
    return hi, lo, start


def crossed_above(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """True where ``a > b`` on row t and ``a <= b`` on row t-1 (both rows defined).

    >>> crossed_above(np.array([1.0, 2.0, 3.0, 1.0, 4.0]), 2.5).tolist()
    [False, False, True, False, True]
    """
    a = np.asarray(a, np.float64)
    bb = np.broadcast_to(np.asarray(b, np.float64), a.shape)
    now = a > bb
    before = a <= bb
    out = np.zeros(a.shape, bool)
    out[1:] = now[1:] & before[:-1]
    return out


def crossed_below(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """True where ``a < b`` on row t and ``a >= b`` on row t-1 (both rows defined)."""
    a = np.asarray(a, np.float64)
    bb = np.broadcast_to(np.asarray(b, np.float64), a.shape)
    now = a < bb
    before = a >= bb
    out = np.zeros(a.shape, bool)
    out[1:] = now[1:] & before[:-1]
    return out


def last_event(codes: np.ndarray) -> np.ndarray:
    """Forward-fill of the last non-zero code: row t holds the latest non-zero ``codes[0..t]`` (0 before).

    >>> last_event(np.array([0, 1, 0, 0, -1, 0], np.int8)).tolist()
    [0, 1, 1, 1, -1, -1]
    """
    c = np.asarray(codes)
    idx = np.where(c != 0, np.arange(c.shape[0]), -1)
    np.maximum.accumulate(idx, out=idx)
    out = np.where(idx >= 0, c[np.maximum(idx, 0)], 0)
    return out.astype(c.dtype, copy=False)


def signal_exits(entry_dir: np.ndarray, exit_long: np.ndarray, exit_short: np.ndarray) -> np.ndarray:
    """Rows where the *signal position* (the strategy's own entries, stops ignored) is closed.

    ``entry_dir`` holds 1 (long entry), -1 (short entry) or 0 per row. The
    signal position is the last entry's direction until the first later row
    where ``exit_long`` (for a long) or ``exit_short`` (for a short) holds;
    that row is True in the result, and the position is flat until the next
    entry. A row with an entry is never an exit. Causal: row t depends on rows
    0..t only.

    >>> e = np.array([0, 1, 0, 0, 0, -1, 0], np.int8)
    >>> xl = np.array([1, 0, 0, 1, 1, 0, 0], bool)
    >>> xs = np.array([0, 0, 0, 0, 0, 0, 1], bool)
    >>> signal_exits(e, xl, xs).astype(int).tolist()
    [0, 0, 0, 1, 0, 0, 1]
    """
    e = np.ascontiguousarray(entry_dir, dtype=np.int8)
    out = np.zeros(e.shape[0], np.bool_)
    from strategies._indicators_nb import signal_exits_nb

    signal_exits_nb(
        e,
        np.ascontiguousarray(exit_long, dtype=np.bool_),
        np.ascontiguousarray(exit_short, dtype=np.bool_),
        out,
    )
    return out
