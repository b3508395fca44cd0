"""A portfolio's market: the legs on one time grid with the calendar the kernel reads, as kernel arrays.

``PortfolioMarket.build`` takes each leg's own bars (``simlab.align`` puts them on the grid), its
symbol spec and its profit conversion (``simlab.currency``). The account's calendar (sessions, rule
days, the governors' flatten windows, the weekend gap) is the grid's: it is a property of the time,
the same for every leg. What belongs to a leg stays the leg's: its swap nights are counted between
its own bars and charged on its bars (as a single-symbol run charges them), its intents are placed
on the rows of its bars, and its value of a price move follows its conversion series row by row.

The kernel's groups (``simlab.layout``) gain a leading leg axis: ``Quotes`` (bid, ask (L, n, 4),
swap nights (L, n), vol ratio (L, 0)), ``Signals`` (L, n), ``Params.sym`` / ``cfg`` (L, ...),
``Costs`` (L, ...: every leg's tables padded to one knot count by repeating its last knot, which
changes no draw), and ``Legs`` (has_bar, own, next_row, value per price).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from simlab import layout as L
from simlab.align import Grid
from simlab.bars import Bars
from simlab.currency import Conversion
from simlab.engine import CostSetup, Market, readonly

__all__ = ["PortfolioMarket", "stack_costs"]


@dataclass(frozen=True, eq=False)
class PortfolioMarket:
    """The legs on the grid (``grid``), the grid's calendar (``calendar``: a ``Market`` of the grid's
    times, holding the first leg's prices) and each leg's bars, spec, conversion and swap nights."""

    grid: Grid
    calendar: Market
    names: tuple[str, ...]
    bars: tuple[Bars, ...]
    specs: tuple[Any, ...]
    conversions: tuple[Conversion, ...]
    swap_nights: np.ndarray  # int8 (L, n)

    @classmethod
    def build(
        cls,
        grid: Grid,
        bars: Sequence[Bars],
        names: Sequence[str],
        specs: Sequence[Any],
        conversions: Sequence[Conversion],
        *,
        day_zone: str = "Europe/Prague",
        day_reset: str = "00:00",
        reset_window_min: float = 0.0,
        weekend_window_min: float = 0.0,
    ) -> PortfolioMarket:
        from simlab.calendar import swap_nights

        first = grid.legs[0]
        grid_bars = Bars(
            time=grid.time, bid=first.bid, ask=first.ask, volume=np.zeros(len(grid)), symbol="portfolio"
        )
        calendar = Market.build(
            grid_bars,
            day_zone=day_zone,
            day_reset=day_reset,
            reset_window_min=reset_window_min,
            weekend_window_min=weekend_window_min,
        )
        nights = np.zeros((len(specs), len(grid)), dtype=np.int8)
        for i, (b, spec, rows) in enumerate(zip(bars, specs, grid.legs)):
            nights[i] = rows.scatter(swap_nights(b.time, int(spec.triple_swap_day)), 0)
        return cls(grid, calendar, tuple(names), tuple(bars), tuple(specs), tuple(conversions), nights)

    def __len__(self) -> int:
        return len(self.grid)

    @property
    def n_legs(self) -> int:
        return len(self.names)

    # ------------------------------------------------------------------ kernel groups

    def clock(self) -> L.Clock:
        return self.calendar.clock()

    def quotes(self) -> L.Quotes:
        return self._quotes

    @cached_property
    def _quotes(self) -> L.Quotes:
        # the market's own arrays: built once (read-only, so every run and thread can share them)
        g = self.grid.legs
        f8 = np.float64
        return L.Quotes(
            by_row([leg.bid for leg in g], f8),
            by_row([leg.ask for leg in g], f8),
            by_row(self.swap_nights, np.int8),
            readonly(np.zeros((self.n_legs, 0)), f8),
        )

    def legs(self, seeds: np.ndarray) -> L.Legs:
        """Where each leg has a bar, its own bar index, its next bar's row, its value per price (converted
        legs), and ``seeds``: each leg's cost-draw seed (``simlab.portfolio_nb.leg_seeds``)."""
        return self._legs._replace(seeds=readonly(seeds, np.int64))

    @cached_property
    def _legs(self) -> L.Legs:
        g = self.grid.legs
        vpp = np.zeros((self.n_legs, len(self)))
        for i, c in enumerate(self.conversions):
            if c.converts:
                vpp[i] = c.value_per_price
        return L.Legs(
            by_row([x.has_bar for x in g], np.bool_),
            by_row([x.own for x in g], np.int64),
            by_row([x.next_row for x in g], np.int64),
            by_row(vpp, np.float64),
            readonly(np.array([c.converts for c in self.conversions]), np.bool_),
            readonly(np.zeros(0), np.int64),
        )

    def sym_matrix(self) -> np.ndarray:
        """(L, SYM_SIZE): each leg's symbol vector; a converted leg is a fixed-value symbol of tick size 1
        whose tick value the kernel sets from its value per price on every row."""
        out = np.stack([s.to_vector() for s in self.specs])
        for i, c in enumerate(self.conversions):
            if c.converts:
                out[i, L.SYM_PROFIT_MODE] = L.PROFIT_FIXED
                out[i, L.SYM_TICK_SIZE] = 1.0
                out[i, L.SYM_TICK_VALUE] = c.value_per_price[self.grid.legs[i].first_row]
        return out

    def signals(self, intents: Sequence[Any]) -> L.Signals:
        """Each leg's intents (computed on its own bars) on the rows of its bars; hold elsewhere."""
        from simlab.engine import _intent_arrays

        n, k = len(self), self.n_legs
        out = L.Signals(
            np.full((n, k), L.DIR_HOLD, dtype=np.int8),
            np.full((n, k), np.nan),
            np.full((n, k), np.nan),
            np.full((n, k), np.nan),
        )
        for i, (leg, it, b) in enumerate(zip(self.grid.legs, intents, self.bars)):
            # a leg with a bar on every row (its rows are 0 .. n - 1) needs no gather
            at = slice(None) if leg.rows.shape[0] == n else leg.rows
            for a, v in zip(out, _intent_arrays(it, len(b))):
                a[at, i] = v
        return L.Signals(*(leg_major(a) for a in out))

    def holes(self) -> Any:
        """The holes of every leg's own data (``simlab.holes.Holes``) on the grid: a hole after a leg's
        bar i is one after its row (the grid itself may have bars there, from the other legs)."""
        from simlab.holes import Holes

        after = np.zeros(len(self), dtype=bool)
        gaps: list[Any] = []
        for b, leg in zip(self.bars, self.grid.legs):
            h = Holes.of(b)
            gaps.extend(h.gaps)
            after[leg.rows[h.after]] = True
        return Holes(tuple(gaps), after)

    def warmup_row(self, warmups: Sequence[int]) -> int:
        """The first row at which every leg has its strategy's warm-up bars behind it."""
        row = 0
        for leg, w in zip(self.grid.legs, warmups):
            k = min(int(w), leg.rows.shape[0] - 1)
            row = max(row, int(leg.rows[k]))
        return row


def leg_major(rows: np.ndarray) -> np.ndarray:
    """A read-only (L, T, ...) view of a C-contiguous (T, L, ...) array: indexed [leg, row] as the kernel
    reads it, stored row by row (element [i, t] sits next to [i + 1, t]).

    The portfolio kernel reads every leg's entries of a row together; stored leg by leg, each (array,
    leg) pair was its own memory stream, more than the hardware prefetcher follows, and the row loop
    waited on cache misses. The values are the same, so are the results.
    """
    v = np.swapaxes(rows, 0, 1)
    v.flags.writeable = False
    return v


def by_row(per_leg: Sequence[np.ndarray] | np.ndarray, dtype: Any) -> np.ndarray:
    """The legs' per-row arrays (each (T, ...)) as one read-only (L, T, ...) array stored row by row
    (``leg_major``)."""
    first = np.asarray(per_leg[0])
    rows = np.empty((first.shape[0], len(per_leg), *first.shape[1:]), dtype=dtype)
    for i, a in enumerate(per_leg):
        rows[:, i] = a
    return leg_major(rows)


def stack_costs(costs: Sequence[CostSetup]) -> L.Costs:
    """Every leg's cost tables and sampling indexes with a leading leg axis.

    The tables are padded to the largest knot count by repeating each one's last knot: a draw at or
    past a table's last probability returns its last value either way, and no search below it reaches
    the padding, so every draw is the unpadded table's, bit for bit.
    """
    k = max(int(c.cost_probs.shape[0]) for c in costs)
    qs, ps, guides, luts = [], [], [], []
    for c in costs:
        q = np.asarray(c.cost_q, dtype=np.float64)
        p = np.asarray(c.cost_probs, dtype=np.float64)
        pad = k - p.shape[0]
        if pad:
            q = np.concatenate([q, np.repeat(q[..., -1:], pad, axis=-1)], axis=-1)
            p = np.concatenate([p, np.repeat(p[-1:], pad)])
        t = CostSetup(q, p).tables()
        qs.append(t.q)
        ps.append(t.probs)
        guides.append(t.guide)
        luts.append(t.lut)
    return L.Costs(
        readonly(np.stack(qs), np.float64),
        readonly(np.stack(ps), np.float64),
        readonly(np.stack(guides), np.int64),
        readonly(np.stack(luts), np.float64),
    )
