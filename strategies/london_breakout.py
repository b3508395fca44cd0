"""London breakout of the Asian range (``london_breakout``).

The Asian range is the high and low (mid prices) of the run of Asian-session
bars before London opens (:func:`simlab.calendar.sessions`: ASIA is 18:00 New
York .. 08:00 London, DST-aware). From the London open until
``entry_end_hour`` (London wall clock), the first mid close above the range
high goes long, the first close below the range low goes short: at most one
entry per range. The stop is at the other side of the range (a distance of
close - range low for a long, range high - close for a short, measured from
the deciding close: the fill at the next open is a little different), the
target ``target_range`` range widths (0: none). The first bar that opens at
or after ``flat_hour`` London time closes whatever is open (FLAT), once per
day; the kernel acts on it at the next bar's open.

>>> from strategies.synthetic import random_walk_bars
>>> bars = random_walk_bars(24 * 60, seed=5)
>>> it = LondonBreakout().signals(bars)
>>> entries = (it.dir == 1) | (it.dir == -1)
>>> bool(entries.any()), int(entries.sum()) <= 60, bool((it.dir == 2).any())
(True, True, True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simlab.layout import SESSION_ASIA, SESSION_LONDON, SESSION_OVERLAP
from strategies import indicators as ind
from strategies.base import Intents, Param, Strategy

if TYPE_CHECKING:
    from simlab.bars import Bars


def _first_per_group(rows: np.ndarray, group: np.ndarray) -> np.ndarray:
    """The first of ``rows`` (ascending indices) in each distinct ``group[rows]``."""
    if rows.size == 0:
        return rows
    _, first = np.unique(group[rows], return_index=True)
    return rows[first]


class LondonBreakout(Strategy):
    """Breakout of the Asian range at the London open, stop at the range's other side, flat by a set hour."""

    name = "london_breakout"
    price = "mid"

    entry_end_hour = Param(12, bounds=(9, 22), help="no new entries from this hour, London wall clock")
    flat_hour = Param(
        16,
        bounds=(9, 22),
        help="close by this hour, London wall clock (FLAT on the first bar opening at or after it)",
    )
    target_range = Param(
        1.0, bounds=(0.0, 100.0), help="target distance in Asian-range widths (0: no target)"
    )
    min_range_bars = Param(3, bounds=(1, 10_000), help="ignore Asian ranges of fewer bars (thin data)")

    def validate(self) -> None:
        if self.entry_end_hour > self.flat_hour:
            raise self.error(
                f"entry_end_hour ({self.entry_end_hour}) must not be after flat_hour ({self.flat_hour})"
            )

    @property
    def warmup(self) -> int:
        return 0  # the range restarts every day; before the first Asian run there is nothing to trade

    def signals(self, bars: Bars) -> Intents:
        from simlab.calendar import LONDON, NS_HOUR, local_time_ns, sessions

        n = len(bars)
        _, h, low, c = ind.mid_ohlc(bars)
        sess = sessions(bars.time)
        asia = sess == SESSION_ASIA
        hi, lo, start = ind.run_range(asia, h, low)
        london_hour = (local_time_ns(bars.time, LONDON) // NS_HOUR) % 24
        idx = np.arange(n)
        # the run [start, end) must have ended (this bar is not Asian) and be long enough
        run_len = np.zeros(n, np.int64)
        ended = ~asia & (start >= 0)
        # length of the finished run: bars of the run = rows start..(first non-asia row after start)-1
        last_asia = np.where(asia, idx, -1)
        np.maximum.accumulate(last_asia, out=last_asia)
        run_len[ended] = last_asia[ended] - start[ended] + 1
        in_london = (sess == SESSION_LONDON) | (sess == SESSION_OVERLAP)
        window = ended & in_london & (london_hour < self.entry_end_hour) & (run_len >= self.min_range_bars)
        up = window & (c > hi)
        dn = window & (c < lo)
        first = _first_per_group(np.flatnonzero(up | dn), start)
        long = np.zeros(n, bool)
        short = np.zeros(n, bool)
        long[first[up[first]]] = True
        short[first[dn[first]]] = True
        flat_rows = _first_per_group(np.flatnonzero(ended & (london_hour >= self.flat_hour)), start)
        flat = np.zeros(n, bool)
        flat[flat_rows] = True
        sl = np.where(long, c - lo, hi - c)
        tp = self.target_range * (hi - lo) if self.target_range > 0 else None
        return Intents.from_signals(n, long=long, short=short, flat=flat, sl=sl, tp=tp, warmup=self.warmup)
