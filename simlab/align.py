"""Several markets on one time grid: the rows a portfolio's kernel steps through.

The grid is the union of the legs' bar times. At a time where a leg has a bar, its row holds that bar;
where it has none (its market is closed, or its file has a gap) the leg *carries* its last price: a
flat bar at its last bid and ask close, on which it cannot fill (no entry, no exit, no stop), whose
strategy is not asked (its intents are computed on its own bars and placed on the rows of those
bars), and where its open position is valued at that last close. Before its first bar a leg is
*absent*: nothing of it exists yet.

The legs must share one bar size: a row of the grid is one bar of every leg that has one there. An
hourly bar placed on a row of minute bars would show the minute its whole hour's high, low and close
(a look into the future), so mixed bar sizes are refused in one line (``timeframe`` resamples a leg
to a coarser bar size). A conversion series (``simlab.currency``) is read at the open of its latest
bar at or before a row's time, which is known at that time whatever its bar size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simlab.bars import Bars
from simlab.errors import InputError

__all__ = ["Grid", "LegRows", "align", "bar_size_ns"]


def bar_size_ns(bars: Bars) -> int:
    """The bar size of ``bars`` in ns (what the loader measured, else the most common step)."""
    from simlab.loaders import infer_bar_ns

    known = bars.meta.get("bar_ns") if bars.meta else None
    return int(known) if isinstance(known, int | np.integer) and int(known) > 0 else infer_bar_ns(bars.time)


@dataclass(frozen=True, eq=False)
class LegRows:
    """One leg on the grid.

    ``has_bar[t]``: the leg has a bar at the grid's time t. ``own[t]``: the index of its last bar at
    or before t (-1 before its first: absent). ``rows[i]``: the grid row of its bar i. ``bid`` /
    ``ask`` (n, 4): its bar where it has one, else flat at its last close (before its first bar: flat
    at its first open, never traded on). ``next_row[t]``: the row of its first bar after t (n: none),
    the bar an order decided at t fills on.
    """

    has_bar: np.ndarray
    own: np.ndarray
    rows: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    next_row: np.ndarray

    @property
    def first_row(self) -> int:
        return int(self.rows[0])

    def scatter(self, values: np.ndarray, fill: float | int) -> np.ndarray:
        """Per-bar ``values`` of the leg (its own rows) on the grid: at its bars, ``fill`` elsewhere."""
        v = np.asarray(values)
        out = np.full(self.has_bar.shape[0], fill, dtype=v.dtype)
        out[self.rows] = v
        return out

    def carry(self, values: np.ndarray, fill: float | int) -> np.ndarray:
        """Per-bar ``values`` on the grid, each row holding the value of the leg's last bar (``fill`` before its first)."""
        v = np.asarray(values)
        out = np.full(self.has_bar.shape[0], fill, dtype=v.dtype)
        seen = self.own >= 0
        out[seen] = v[self.own[seen]]
        return out


@dataclass(frozen=True, eq=False)
class Grid:
    """The union of the legs' bar times (int64 ns, strictly increasing) and each leg on it."""

    time: np.ndarray
    legs: tuple[LegRows, ...]
    bar_ns: int

    def __len__(self) -> int:
        return int(self.time.shape[0])


def _leg_rows(grid_time: np.ndarray, t: np.ndarray, bid: np.ndarray, ask: np.ndarray) -> LegRows:
    n = grid_time.shape[0]
    rows = np.searchsorted(grid_time, t).astype(np.int64)  # every leg time is on the grid
    has_bar = np.zeros(n, dtype=bool)
    has_bar[rows] = True
    own = np.searchsorted(t, grid_time, side="right").astype(np.int64) - 1
    # carried rows: flat at the last close; rows before the first bar: flat at the first open
    src = np.maximum(own, 0)
    out_bid = np.repeat(bid[src, 3:4], 4, axis=1)
    out_ask = np.repeat(ask[src, 3:4], 4, axis=1)
    before = own < 0
    out_bid[before] = bid[0, 0]
    out_ask[before] = ask[0, 0]
    out_bid[rows] = bid
    out_ask[rows] = ask
    nxt = own + 1  # the leg's next bar after row t
    next_row = np.full(n, n, dtype=np.int64)
    ok = nxt < t.shape[0]
    next_row[ok] = rows[nxt[ok]]
    for a in (has_bar, own, rows, out_bid, out_ask, next_row):
        a.setflags(write=False)
    return LegRows(has_bar, own, rows, out_bid, out_ask, next_row)


def align(bars: Sequence[Bars], names: Sequence[str]) -> Grid:
    """The grid of several legs' bars (``names``: how each is called in messages).

    One line naming the leg when its bar size differs from the first leg's, or when it has no bars.
    """
    if not bars:
        raise ValueError("align() needs at least one leg")
    sizes = []
    for b, name in zip(bars, names):
        if len(b) == 0:
            raise InputError(name, "holds no bars")
        sizes.append(bar_size_ns(b))
    from simlab.loaders import format_duration

    for name, size in zip(names[1:], sizes[1:]):
        if size != sizes[0]:
            raise InputError(
                name,
                f"bars of {format_duration(size)}, but {names[0]}'s are {format_duration(sizes[0])}: the legs of "
                "a portfolio share one bar size (resample the finer one with timeframe = "
                f'"{format_duration(max(size, sizes[0]))}")',
            )
    time = np.unique(np.concatenate([np.asarray(b.time, dtype=np.int64) for b in bars]))
    time.setflags(write=False)
    legs = tuple(
        _leg_rows(time, np.asarray(b.time, dtype=np.int64), np.asarray(b.bid), np.asarray(b.ask))
        for b in bars
    )
    return Grid(time, legs, int(sizes[0]))
