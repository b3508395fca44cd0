"""RSI mean reversion with a session filter (``rsi_reversion``).

Long when Wilder's RSI of the mid close crosses down into oversold
(``< lower``), short when it crosses up into overbought (``> upper``), only on
bars whose session (:func:`simlab.calendar.sessions` of the bar's open time)
is one of ``sessions``. The signal position is closed by a FLAT when the RSI
gets back to ``exit_level`` (at or above it for a long, at or below it for a
short). Each entry carries a stop of ``atr_stop`` ATRs and, optionally, a
target of ``atr_target`` ATRs.

Mean reversion tends to work in quiet hours, hence the default
``sessions="asia"``; names are ``asia, london, overlap, newyork, rollover``
(comma separated) or ``all``.

>>> from strategies.synthetic import random_walk_bars
>>> from simlab.calendar import sessions
>>> bars = random_walk_bars(5_000, seed=4)
>>> it = RsiReversion().signals(bars)
>>> entries = (it.dir == 1) | (it.dir == -1)
>>> bool(entries.any()), set(sessions(bars.time)[entries].tolist())
(True, {0})
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simlab.layout import DIR_LONG, DIR_SHORT, SESSION_NAMES
from strategies import indicators as ind
from strategies.base import Intents, Param, Strategy

if TYPE_CHECKING:
    from simlab.bars import Bars


def parse_sessions(text: str, where: str = "sessions") -> tuple[int, ...]:
    """``"asia,london"`` -> session codes; ``"all"`` -> every session. ConfigError on an unknown name."""
    from simlab.errors import ConfigError

    names = [s.strip().lower() for s in text.split(",") if s.strip()]
    if names == ["all"]:
        return tuple(range(len(SESSION_NAMES)))
    codes = []
    for s in names:
        if s not in SESSION_NAMES:
            raise ConfigError(
                where, f"unknown session {s!r}; expected names from {', '.join(SESSION_NAMES)} or 'all'"
            )
        codes.append(SESSION_NAMES.index(s))
    if not codes:
        raise ConfigError(where, "no session given; expected e.g. 'asia' or 'asia,london' or 'all'")
    return tuple(sorted(set(codes)))


class RsiReversion(Strategy):
    """RSI mean reversion: fade oversold/overbought crossings inside chosen sessions, exit at the mid level."""

    name = "rsi_reversion"
    price = "mid"

    period = Param(14, bounds=(2, 10_000), help="RSI period, bars (Wilder)")
    lower = Param(30.0, bounds=(0.0, 100.0), help="oversold level: long on a cross below it")
    upper = Param(70.0, bounds=(0.0, 100.0), help="overbought level: short on a cross above it")
    exit_level = Param(50.0, bounds=(0.0, 100.0), help="close the position when the RSI gets back here")
    sessions = Param("asia", help="sessions in which entries are allowed, comma separated, or 'all'")
    atr_period = Param(14, bounds=(1, 10_000), help="ATR period, bars (Wilder)")
    atr_stop = Param(2.0, bounds=(0.0, 1_000.0), help="stop distance in ATRs (0: no stop)")
    atr_target = Param(0.0, bounds=(0.0, 1_000.0), help="target distance in ATRs (0: no target)")

    def validate(self) -> None:
        if not (self.lower < self.exit_level < self.upper):
            raise self.error(
                f"expected lower < exit_level < upper, got {self.lower} / {self.exit_level} / {self.upper}"
            )
        self._codes = np.array(parse_sessions(self.sessions, f"{self.name}: parameter 'sessions'"), np.int8)

    @property
    def warmup(self) -> int:
        # RSI is defined from row `period`; a crossing needs the row before too.
        return max(self.period + 1, self.atr_period)

    def signals(self, bars: Bars) -> Intents:
        from simlab.calendar import sessions

        n = len(bars)
        _, h, low, c = ind.mid_ohlc(bars)
        r = ind.rsi(c, self.period)
        allowed = np.isin(sessions(bars.time), self._codes)
        long = ind.crossed_below(r, self.lower) & allowed
        short = ind.crossed_above(r, self.upper) & allowed
        entry_dir = np.zeros(n, np.int8)
        entry_dir[long] = DIR_LONG
        entry_dir[short] = DIR_SHORT
        entry_dir[: self.warmup] = 0
        flat = ind.signal_exits(entry_dir, r >= self.exit_level, r <= self.exit_level)
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
