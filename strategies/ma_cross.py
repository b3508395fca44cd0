"""Moving-average cross with an ATR stop and an ATR target (``ma_cross``, the ``simlab backtest`` default).

Long when the fast moving average of the mid close crosses above the slow one,
short when it crosses below; each entry carries a stop of ``atr_stop`` ATRs
and a target of ``atr_target`` ATRs (0: none). Between crosses the intents are
HOLD, so a position stays until its stop, its target or the opposite cross.

>>> from strategies.synthetic import random_walk_bars
>>> bars = random_walk_bars(3_000, seed=1)
>>> s = MaCross(fast=10, slow=30)
>>> it = s.signals(bars)
>>> int((it.dir[: s.warmup] != 0).sum()), bool((it.dir == 1).any() and (it.dir == -1).any())
(0, True)
>>> entry = it.dir != 0
>>> import numpy as np
>>> bool(np.isfinite(it.sl[entry]).all() and (it.tp[entry] > it.sl[entry]).all())
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from strategies import indicators as ind
from strategies.base import Intents, Param, Strategy

if TYPE_CHECKING:
    from simlab.bars import Bars


class MaCross(Strategy):
    """Fast/slow moving-average cross on mid closes, ATR stop and target."""

    name = "ma_cross"
    price = "mid"

    fast = Param(20, bounds=(1, 100_000), help="fast moving-average period, bars")
    slow = Param(50, bounds=(2, 100_000), help="slow moving-average period, bars")
    ma = Param("sma", choices=("sma", "ema"), help="moving-average kind")
    atr_period = Param(14, bounds=(1, 10_000), help="ATR period, bars (Wilder)")
    atr_stop = Param(2.0, bounds=(0.0, 1_000.0), help="stop distance in ATRs (0: no stop)")
    atr_target = Param(3.0, bounds=(0.0, 1_000.0), help="target distance in ATRs (0: no target)")

    def validate(self) -> None:
        if self.fast >= self.slow:
            raise self.error(f"fast ({self.fast}) must be smaller than slow ({self.slow})")

    @property
    def warmup(self) -> int:
        # the slow MA is defined from row slow-1, a cross needs the row before too;
        # the ATR from row atr_period.
        return max(self.slow, self.atr_period)

    def signals(self, bars: Bars) -> Intents:
        _, h, low, c = ind.mid_ohlc(bars)
        ma = ind.sma if self.ma == "sma" else ind.ema
        spread = ma(c, self.fast) - ma(c, self.slow)
        a = ind.atr(h, low, c, self.atr_period)
        return Intents.from_signals(
            len(bars),
            long=ind.crossed_above(spread, 0.0),
            short=ind.crossed_below(spread, 0.0),
            sl=self.atr_stop * a if self.atr_stop > 0 else None,
            tp=self.atr_target * a if self.atr_target > 0 else None,
            warmup=self.warmup,
        )


__all__ = ["MaCross"]
