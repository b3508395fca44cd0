"""Hand-made bars, markets, intents and symbols for the rule, governor and Monte Carlo tests.

Everything here is plain numpy so that a test can state its prices bar by bar
and compute the expected money by hand. Prices are EURUSD-like (quote currency
= USD), so with ``plain_symbol()`` one lot moves 100,000 USD per 1.0 of price:
10 lots make 100 USD per 0.0001 ("a pip").
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simlab import layout as L
from simlab.bars import Bars
from simlab.engine import Market
from simlab.symbols import get_symbol

NS_MIN = 60_000_000_000
NS_HOUR = 60 * NS_MIN
NS_DAY = 24 * NS_HOUR


def utc(*stamps: str) -> np.ndarray:
    """UTC ISO stamps ("2024-03-04T10:00") -> int64 ns since the epoch."""
    return np.array(stamps, dtype="datetime64[ns]").astype(np.int64)


def day_id(date: str) -> int:
    """The trading-day id of a local date under a midnight boundary (days since 1970-01-01)."""
    return int(np.datetime64(date, "D").astype(np.int64))


def hourly(start: str, n: int, step_min: int = 60) -> np.ndarray:
    """``n`` bar open times from ``start`` (UTC), ``step_min`` minutes apart."""
    t0 = int(utc(start)[0])
    return t0 + np.arange(n, dtype=np.int64) * np.int64(step_min * NS_MIN)


def make_bars(
    times: Sequence[int] | np.ndarray,
    bid: Sequence[Sequence[float]] | np.ndarray,
    spread: float | Sequence[float] = 0.0,
    symbol: str = "EURUSD",
) -> Bars:
    """Bars from bid OHLC rows; the ask is the bid plus ``spread`` (a constant or one per bar)."""
    b = np.asarray(bid, dtype=np.float64).reshape(-1, 4)
    s = np.broadcast_to(np.asarray(spread, dtype=np.float64), (b.shape[0],))[:, None]
    t = np.asarray(times, dtype=np.int64)
    assert t.shape[0] == b.shape[0], "one time per bar"
    assert np.all(b[:, 1] >= b.max(axis=1) - 1e-15) and np.all(b[:, 2] <= b.min(axis=1) + 1e-15), "OHLC"
    return Bars(time=t, bid=b.copy(), ask=b + s, volume=np.zeros(b.shape[0]), symbol=symbol)


def flat_bar(p: float) -> list[float]:
    return [p, p, p, p]


def hand_market(
    bars: Bars,
    day: Sequence[int] | np.ndarray,
    *,
    flags: Sequence[int] | np.ndarray | None = None,
    session: int = L.SESSION_LONDON,
) -> Market:
    """A Market with explicit trading-day ids (and flags); no swaps, one session."""
    n = len(bars)
    return Market(
        bars=bars,
        session=np.full(n, session, dtype=np.int8),
        day=np.asarray(day, dtype=np.int64),
        swap_nights=np.zeros(n, dtype=np.int8),
        flags=np.zeros(n, dtype=np.uint8) if flags is None else np.asarray(flags, dtype=np.uint8),
    )


@dataclass
class Intents:
    """What the kernel reads from a strategy: one row per bar, acted on at the next bar's open."""

    dir: np.ndarray
    sl: np.ndarray
    tp: np.ndarray
    size: np.ndarray

    @classmethod
    def empty(cls, n: int) -> Intents:
        return cls(
            np.zeros(n, dtype=np.int8), np.full(n, math.nan), np.full(n, math.nan), np.full(n, math.nan)
        )


def intents(n: int, rows: Mapping[int, int | tuple[float, ...]] | Iterable[tuple[int, int]] = ()) -> Intents:
    """Intents with ``rows[t] = dir`` or ``(dir, sl, tp[, size])`` decided at bar t's close."""
    out = Intents.empty(n)
    items = rows.items() if isinstance(rows, Mapping) else rows
    for t, v in items:
        if isinstance(v, tuple):
            out.dir[t] = int(v[0])
            out.sl[t] = v[1] if len(v) > 1 else math.nan
            out.tp[t] = v[2] if len(v) > 2 else math.nan
            out.size[t] = v[3] if len(v) > 3 else math.nan
        else:
            out.dir[t] = int(v)
    return out


def plain_symbol(**changes: object):
    """EURUSD with no commission and no swap (money = price move x 100,000 x lots), overridable."""
    base = {"commission_per_lot": 0.0, "swap_long": 0.0, "swap_short": 0.0}
    base.update(changes)
    return get_symbol("EURUSD").with_overrides(**base)


def quiet_symbol(name: str):
    """A preset with no commission and no swap (XAUUSD: 1,000 USD per 1.0 for 10 lots; US30: 10 USD a point)."""
    return get_symbol(name).with_overrides(commission_per_lot=0.0, swap_long=0.0, swap_short=0.0)


def run_portfolio(tapes, names, *, rules=None, gov=None, lots=10.0, costs=None, seed=0):
    """Hand-written tapes run as the legs of one account (``quiet_symbol`` specs, fixed ``lots`` each)."""
    from simlab.align import align
    from simlab.currency import plan_conversions
    from simlab.engine import CostSetup
    from simlab.portfolio_engine import LegSettings, run_portfolio_backtest
    from simlab.portfolio_market import PortfolioMarket

    built = [tp.build() for tp in tapes]
    bars = [b for b, _ in built]
    specs = [quiet_symbol(n) for n in names]
    grid = align(bars, names)
    conv = plan_conversions(
        specs, [None] * len(names), grid.time, [g.first_row for g in grid.legs], {}, names
    )
    market = PortfolioMarket.build(grid, bars, names, specs, conv)
    settings = LegSettings(
        tuple(costs or [CostSetup.fixed()] * len(names)),
        tuple(0.0 for _ in names),
        tuple(lots for _ in names),
    )
    return run_portfolio_backtest(market, [it for _, it in built], settings, rules=rules, gov=gov, seed=seed)


def rule_vector(**kw: float) -> np.ndarray:
    """A hand-built RULE_* vector; keys are the layout names without the RULE_ prefix, lower case."""
    v = np.zeros(L.RULE_SIZE, dtype=np.float64)
    for k, x in kw.items():
        v[getattr(L, "RULE_" + k.upper())] = x
    return v


def gov_vector(**kw: float) -> np.ndarray:
    """A GOV_* vector starting from every governor off; keys are layout names without GOV_, lower case."""
    from simlab.governors_nb import no_governors

    g = no_governors()
    for k, x in kw.items():
        g[getattr(L, "GOV_" + k.upper())] = x
    return g


class Tape:
    """Bars written one at a time, each with the decision taken at its close.

    >>> tp = Tape()
    >>> i = tp.bar("2024-03-05T08:00", 1.1, decide=L.DIR_LONG)
    >>> j = tp.bar("2024-03-05T09:00", (1.1, 1.102, 1.099, 1.101))
    >>> bars, it = tp.build()
    >>> len(bars), int(it.dir[0])
    (2, 1)
    """

    def __init__(self) -> None:
        self.times: list[int] = []
        self.rows: list[list[float]] = []
        self.decisions: dict[int, int | tuple[float, ...]] = {}

    def bar(
        self,
        when: str,
        ohlc: float | Sequence[float],
        decide: int | tuple[float, ...] | None = None,
    ) -> int:
        """Append a bar opening at ``when`` (UTC); a number is a flat bar. Returns its index."""
        row = flat_bar(float(ohlc)) if isinstance(ohlc, int | float) else [float(x) for x in ohlc]
        self.times.append(int(utc(when)[0]))
        self.rows.append(row)
        if decide is not None:
            self.decisions[len(self.rows) - 1] = decide
        return len(self.rows) - 1

    def build(self, spread: float = 0.0) -> tuple[Bars, Intents]:
        bars = make_bars(self.times, self.rows, spread)
        return bars, intents(len(bars), self.decisions)


def ma_cross(bars: Bars, fast: int = 24, slow: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """Cross up / cross down of two SMAs of the mid close, known at each bar's close."""
    mid = 0.5 * (bars.bid[:, 3] + bars.ask[:, 3])
    c = np.cumsum(np.r_[0.0, mid])

    def sma(k: int) -> np.ndarray:
        out = np.full(mid.shape[0], np.nan)
        out[k - 1 :] = (c[k:] - c[:-k]) / k
        return out

    f, s = sma(fast), sma(slow)
    valid = ~np.isnan(s)
    above = f > s
    up = np.zeros(mid.shape[0], bool)
    dn = np.zeros(mid.shape[0], bool)
    up[1:] = above[1:] & ~above[:-1] & valid[:-1]
    dn[1:] = ~above[1:] & above[:-1] & valid[:-1]
    return up, dn


def run_simlab(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``python -m simlab_cli *args`` in a subprocess, as a user runs it: exit code, stdout, stderr."""
    return subprocess.run(
        [sys.executable, "-m", "simlab_cli", *args], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )


def run_simlab_here(*args: str) -> tuple[int, str, str]:
    """``simlab *args`` in this process (``simlab_cli.main.main``): exit code, stdout, stderr.

    Much cheaper than a process when a test runs many commands; the behaviour is the same code path.
    """
    import contextlib
    import io

    from simlab_cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def drain_pty(master: int, proc: subprocess.Popen) -> bytes:
    """Everything written to a pseudo-terminal (its ``master`` end) until ``proc`` ends and it closes."""
    import os
    import select

    seen = bytearray()
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    return bytes(seen)
