"""Synthetic bid/ask bars (a seeded random walk) for examples, doctests and benchmarks.

>>> bars = random_walk_bars(500, seed=3)
>>> len(bars), bool((bars.ask >= bars.bid).all())
(500, True)
"""

from __future__ import annotations

import numpy as np

from simlab.bars import Bars
from simlab.calendar import NS_MIN


def random_walk_bars(
    n: int,
    *,
    seed: int = 0,
    start: str = "2020-01-06T00:00",
    minutes: int = 60,
    price: float = 1.10,
    vol: float = 0.0015,
    spread: float = 0.00012,
    skip_weekends: bool = True,
) -> Bars:
    """``n`` bars of a geometric random walk on a ``minutes`` grid (UTC), mid +- half a spread.

    ``vol`` is the per-hour standard deviation of log returns (scaled by the
    square root of the bar length). With ``skip_weekends`` the grid leaves out
    Friday 21:00 UTC .. Sunday 21:00 UTC, as FX data does.
    """
    rng = np.random.default_rng(seed)
    step = np.int64(minutes) * NS_MIN
    t0 = np.datetime64(start, "ns").astype(np.int64)
    if skip_weekends:
        # generate enough grid points, then drop the weekend ones
        m = int(n * 1.45) + 16
        t = t0 + np.arange(m, dtype=np.int64) * step
        week = (t // NS_MIN - (1440 + 21 * 60)) % (
            7 * 1440
        )  # minutes since Friday 21:00 UTC (epoch: Thursday)
        t = t[week >= 2 * 1440][:n]
    else:
        t = t0 + np.arange(n, dtype=np.int64) * step
    sigma = vol * np.sqrt(minutes / 60.0)
    # open -> close inside the bar: a few sub-steps give consistent highs and lows
    k = 4
    steps = rng.normal(0.0, sigma / np.sqrt(k), size=(n, k))
    path = np.log(price) + np.concatenate([[0.0], np.cumsum(steps)])
    mid_px = np.exp(path[np.arange(n)[:, None] * k + np.arange(k + 1)[None, :]])  # (n, k+1)
    mid = np.column_stack([mid_px[:, 0], mid_px.max(1), mid_px.min(1), mid_px[:, -1]])
    half = np.full(n, spread / 2.0) * (1.0 + rng.exponential(0.3, n))
    bid = mid - half[:, None]
    ask = mid + half[:, None]
    volume = rng.integers(50, 500, n).astype(np.float64)
    return Bars(time=t, bid=bid, ask=ask, volume=volume, symbol="SYNTH", source=f"random_walk(seed={seed})")
