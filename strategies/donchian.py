"""Donchian channel trend following with an ATR stop (``donchian``).

Long when the mid close breaks above the highest high of the previous
``entry_period`` bars, short when it breaks below the lowest low. The signal
position (the strategy's own entries, stops ignored) is closed by a FLAT on
the first close beyond the opposite ``exit_period`` channel: below the
``exit_period`` low for a long, above the high for a short (the Turtle rule).
Each entry carries a stop of ``atr_stop`` ATRs and, optionally, a target.

>>> from strategies.synthetic import random_walk_bars
>>> bars = random_walk_bars(3_000, seed=2)
>>> it = Donchian().signals(bars)
>>> sorted(set(it.dir.tolist()))
[-1, 0, 1, 2]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simlab.layout import DIR_LONG, DIR_SHORT
from strategies import indicators as ind
from strategies.base import Intents, Param, Strategy

if TYPE_CHECKING:
    from simlab.bars import Bars


class Donchian(Strategy):
    """Donchian channel breakout (Turtle-style), exit on the shorter channel, ATR stop."""

    name = "donchian"
    price = "mid"

    entry_period = Param(20, bounds=(2, 100_000), help="breakout channel: previous N bars' high/low")
    exit_period = Param(10, bounds=(1, 100_000), help="exit channel: previous N bars' low/high")
    atr_period = Param(14, bounds=(1, 10_000), help="ATR period, bars (Wilder)")
    atr_stop = Param(2.0, bounds=(0.0, 1_000.0), help="stop distance in ATRs (0: no stop)")
    atr_target = Param(0.0, bounds=(0.0, 1_000.0), help="target distance in ATRs (0: no target)")

    @property
    def warmup(self) -> int:
        return max(self.entry_period, self.exit_period, self.atr_period)

    def signals(self, bars: Bars) -> Intents:
        n = len(bars)
        _, h, low, c = ind.mid_ohlc(bars)
        up, lo = ind.donchian(h, low, self.entry_period)
        xup, xlo = ind.donchian(h, low, self.exit_period)
        long = c > up
        short = c < lo
        entry_dir = np.zeros(n, np.int8)
        entry_dir[long] = DIR_LONG
        entry_dir[short] = DIR_SHORT
        entry_dir[: self.warmup] = 0
        flat = ind.signal_exits(entry_dir, c < xlo, c > xup)
        a = ind.atr(h, low, c, self.atr_period)
        return Intents.from_signals(
            n,
            long=long,
            short=short,
            flat=flat,
            sl=self.atr_stop * a if self.atr_stop > 0 else None,
            tp=self.atr_target * a if self.atr_target > 0 else None,
            warmup=self.warmup,
        )
