"""Holes in the data: an attempt never crosses one and never ends at one.

A *hole* is a stretch without bars of more than ``HOLE_MIN_DAYS`` days that is neither a weekend nor
a holiday (``simlab.loaders.gap_report`` tells them apart; ``simlab inspect`` lists them). An attempt
that ran across a hole would hold positions through days that have no prices, and one whose horizon
ends inside a hole stops early and is counted as "no pass within the horizon": the horizon would not
mean what it says (an export holding two 2018 days after four years of nothing ran "180-day"
attempts of 1 to 7 days).

The rule:

* **start dates** (``simlab challenge``): a start day is excluded when its window holds a hole; the
  window is the strategy's warm-up bars before the start and every bar up to the first bar of the day
  on which the horizon ends. The run says how many start days were excluded and why (table and JSON
  ``excluded_starts``), and refuses to run when none is left, naming the hole and the longest horizon
  that fits between holes.
* **day bootstrap** (``--bootstrap-days``): a block of consecutive days never continues across a
  hole; where it would, the next day is a fresh random day (a new block), drawn with the draw the
  sequence already holds for that day, so data without holes give the very same sequences as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simlab.calendar import NS_DAY

HOLE_MIN_DAYS = 2  # days without bars, beyond weekends and holidays, that make a hole

RULE = (
    f"a start day is excluded when its window (the warm-up bars before it and the horizon after it) holds a hole: "
    f"more than {HOLE_MIN_DAYS} days without bars that are not a weekend or a holiday"
)
BOOTSTRAP_RULE = (
    f"a block of days never continues across a hole (more than {HOLE_MIN_DAYS} days without bars that are not a "
    "weekend or a holiday): the day after it starts a new block"
)


@dataclass(frozen=True, eq=False)
class Holes:
    """The holes of a history: ``gaps`` (``simlab.loaders.Gap``) and ``after[i]``: a hole follows bar i."""

    gaps: tuple[Any, ...]
    after: np.ndarray  # (n,) bool

    @classmethod
    def of(cls, bars: Any, min_days: float = HOLE_MIN_DAYS) -> Holes:
        from simlab.loaders import gap_report

        n = len(bars)
        after = np.zeros(n, dtype=bool)
        if n < 2:
            return cls((), after)
        gaps = tuple(g for g in gap_report(bars).holes if g.missing_ns > min_days * NS_DAY)
        if gaps:
            t = np.asarray(bars.time, dtype=np.int64)
            after[np.searchsorted(t, np.array([g.last_ns for g in gaps], dtype=np.int64))] = True
        return cls(gaps, after)

    def __len__(self) -> int:
        return len(self.gaps)

    def to_json(self, limit: int = 20) -> list[dict[str, object]]:
        return [g.to_dict() for g in self.gaps[:limit]]

    def describe(self, limit: int = 2) -> str:
        text = "; ".join(str(g) for g in self.gaps[:limit])
        return text + (f"; and {len(self.gaps) - limit} more" if len(self.gaps) > limit else "")


def window_clear(
    day: np.ndarray, starts: np.ndarray, horizon_days: int, warmup_bars: int, after: np.ndarray
) -> np.ndarray:
    """For each start bar: True when no hole follows a bar of its window.

    The window of start bar s runs from bar s - warmup_bars to bar e - 1, where e is the first bar of
    a day at or after day[s] + horizon_days (the bar the attempt stops before): a hole after bar e - 1
    is a horizon that ends inside the hole.
    """
    s = np.asarray(starts, dtype=np.int64)
    if not after.any() or s.shape[0] == 0:
        return np.ones(s.shape[0], dtype=bool)
    count = np.r_[0, np.cumsum(after)]  # count[i]: holes after bars 0 .. i-1
    lo = np.maximum(s - int(warmup_bars), 0)
    end = np.searchsorted(day, day[s] + int(horizon_days), side="left")
    return (count[end] - count[lo]) == 0


def longest_clear_horizon(day: np.ndarray, after: np.ndarray, warmup_bars: int) -> int:
    """The longest horizon (calendar days) that leaves at least one start day clear of holes (0: none)."""
    n = day.shape[0]
    cut = np.flatnonzero(after)
    seg_lo = np.r_[0, cut + 1]
    seg_hi = np.r_[cut, n - 1]  # the last bar before each hole (or of the data)
    best = 0
    first = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    for lo, hi in zip(seg_lo, seg_hi):
        # the first day start after the warm-up inside this stretch; the horizon may reach its last day
        cand = first[(first >= lo + warmup_bars) & (first <= hi)]
        if cand.shape[0]:
            best = max(best, int(day[hi] - day[cand[0]]))
    return best


@dataclass(frozen=True, eq=False)
class Exclusion:
    """What the hole rule did to a run (the ``excluded_starts`` member of the result JSON)."""

    count: int  # start days excluded
    candidates: int  # start days that had a full horizon of data after them
    rule: str
    holes: Holes

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "of": self.candidates,
            "rule": self.rule,
            "min_hole_days": HOLE_MIN_DAYS,
            "n_holes": len(self.holes),
            "holes": self.holes.to_json(),
        }
