"""Block-bootstrapped challenge attempts: ``simlab challenge --bootstrap-days BLOCK``.

In the normal mode every attempt starts on a different day of the *one* real
history. Here every attempt gets its own price history, resampled from the
real one by a stationary block bootstrap of trading days (Politis & Romano,
1994): whole days, in blocks of random length with mean ``BLOCK`` days, so that
the volatility clustering and intraday patterns inside a block survive while
the order of blocks is new. Large ``BLOCK`` keeps long stretches of the real
history (contiguous days, wrapping at its end); ``BLOCK = 1`` draws the days
i.i.d.

How an attempt's history is made
--------------------------------

* **Day segments.** The market's bars are split by trading day (``Market.day``,
  the rule set's day boundary). Only complete days are used: a day with fewer
  than half the median bar count is dropped (Sunday-evening stubs when the
  boundary is midnight Prague, holidays, data holes), and the first and last
  day of the data are kept only when they hold at least the median count of
  the days between them (the data may start or end inside them). Stubs are *dropped*, not merged into the
  following day: merged, they would start before the day boundary and collide
  with the previous day whenever that day is placed anywhere but on a Monday.
  The cost is the hour or two of thin Sunday trading per week.
* **The day sequence.** Attempt ``a`` draws its days with
  ``simlab.rng_nb.uniform_nb(seed, a, BOOT_DRAW + 2 i [+ 1])``: the first day
  uniform; then with probability ``1 / BLOCK`` a uniform random day, else the
  day after the previous one (the last wraps to the first). The sequence is a
  pure function of (seed, a), and its prefix does not depend on its length.
  It covers the warm-up (whole days holding at least the strategy's
  ``warmup`` bars) and then every trading day of ``horizon_days`` calendar days.
* **The calendar.** The days are laid on consecutive trading days from the
  first complete day of the data, on the weekdays that the data's complete days
  fall on (Monday .. Friday under a midnight boundary, Sunday .. Thursday under
  a 17:00 New York one), so the resampled history has real weekends. Every bar
  keeps its elapsed time from its own day's start, so sessions and the rule-day
  boundary keep their meaning. A bar that would land past the end of its new
  day (a 25-hour DST day on a 24-hour one) is dropped, and so is a bar that
  would land in the FX weekend closure (Friday 17:00 to Sunday 17:00 New York;
  e.g. the last hour of a Thursday placed on a Friday) when the data itself have
  no bars there. Times are strictly increasing; there are no Saturday bars.
* **Prices.** Each day is shifted (bid and ask OHLC by the same constant) so
  that its first open mid equals the previous day's last close mid: the
  intraday path and the spreads are the source day's exactly, the level is
  continuous. Volumes (and a market's ``vol_ratio``, if any) are copied. The
  weekend gap of the real Monday opens is therefore *not* reproduced: gap risk
  over weekends is understated in this mode.

Then, per attempt: ``Market.build`` with the main run's calendar settings,
``strategy.signals`` on the resampled history, and the attempt through
``simlab.montecarlo_nb.run_attempts_nb`` (``simlab.montecarlo.AttemptKernel``) starting at
the first bar after the warm-up: the same kernel, rules, governors and cost
sampling as the normal mode, keyed by the same (seed, attempt). Attempts run on
a thread pool; results are identical for any number of workers.

>>> from simlab.synthetic import synthetic_eurusd
>>> from simlab.engine import Market
>>> bars = synthetic_eurusd(n_days=15, timeframe="1h", seed=1)
>>> seg = day_segments(Market.build(bars), "Europe/Prague", "00:00")
>>> seq = bootstrap_sequence(7, 0, 10, len(seg), 3)
>>> r = resample_days(seg, seq)
>>> bool((r.bars.time[1:] > r.bars.time[:-1]).all()), r.seq.tolist() == seq.tolist()
(True, True)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simlab import layout as L
from simlab.bars import Bars
from simlab.calendar import NS_DAY, in_weekend_closure, local_time_ns, parse_reset, weekday
from simlab.engine import Market, _intent_arrays, config_vector
from simlab.errors import ConfigError, InputError
from simlab.holes import BOOTSTRAP_RULE, Exclusion, Holes
from simlab.kernel_nb import cost_index_nb
from simlab.montecarlo import AttemptKernel, ChallengeResult, ChallengeSetup, default_workers, readonly
from simlab.rng_nb import uniforms_nb
from simlab.runner import run_range

if TYPE_CHECKING:
    from simlab.sample import AttemptTrace

BOOT_DRAW = 1 << 61  # draws of the day sequence: far from the bars' cost draws and START_DRAW (1 << 60)


@dataclass(frozen=True)
class MarketSettings:
    """The calendar settings of ``Market.build``: each resampled history is built with the main run's."""

    day_zone: str = "Europe/Prague"
    day_reset: str = "00:00"
    triple_day: int = 2
    reset_window_min: float = 0.0
    weekend_window_min: float = 0.0

    @classmethod
    def of(cls, program: Any, spec: Any, gov: Any) -> MarketSettings:
        """The calendar of a run: the program's rule-day boundary, the symbol's triple-swap day and the
        governors' flatten windows (``challenges.rules.Program``, a symbol spec, a ``GovernorConfig``)."""
        zone, reset = program.day_boundary
        return cls(
            day_zone=zone,
            day_reset=reset,
            triple_day=spec.triple_swap_day,
            reset_window_min=gov.reset_window_min,
            weekend_window_min=gov.weekend_window_min,
        )

    def build(self, bars: Bars, vol_ratio: np.ndarray | None = None) -> Market:
        return Market.build(
            bars,
            day_zone=self.day_zone,
            day_reset=self.day_reset,
            triple_day=self.triple_day,
            reset_window_min=self.reset_window_min,
            weekend_window_min=self.weekend_window_min,
            vol_ratio=vol_ratio if vol_ratio is not None and vol_ratio.shape[0] else None,
        )


# ----------------------------------------------------------------------------- calendar helpers


def day_start_utc(day_id: np.ndarray, zone: str, reset: str) -> np.ndarray:
    """UTC ns of the boundary at which each trading day begins: local date ``day_id`` at ``reset`` in ``zone``."""
    local = np.asarray(day_id, dtype=np.int64) * NS_DAY + np.int64(parse_reset(reset, "day_reset"))
    u = local - (
        local_time_ns(local, zone) - local
    )  # first guess: the offset at the local instant read as UTC
    return local - (local_time_ns(u, zone) - u)  # fixed point: the offset in force at the answer


# ----------------------------------------------------------------------------- day segments


@dataclass(frozen=True, eq=False)
class DaySegments:
    """The complete trading days of a history, the units the bootstrap draws."""

    bars: Bars
    vol_ratio: np.ndarray  # the market's vol_ratio (empty if none), resampled along with the bars
    day_id: np.ndarray  # (K,) trading-day id of each complete day
    first: np.ndarray  # (K,) its first bar
    stop: np.ndarray  # (K,) one past its last bar
    offset: np.ndarray  # (n,) int64: ns from each bar's day start (valid inside complete days)
    trading_weekdays: tuple[int, ...]  # weekdays (0 = Monday) of the day ids that hold trading days
    weekend_closed: bool  # the data have no bars in the FX weekend closure
    median_bars: float
    day_zone: str
    day_reset: str
    holes: Holes  # of the source history (simlab.holes)
    hole_after: np.ndarray  # (K,) bool: a hole lies between complete day k and day k + 1

    def __len__(self) -> int:
        return int(self.day_id.shape[0])

    def slot_ids(self, n: int) -> np.ndarray:
        """The first ``n`` trading-day ids of the resampled calendar, from the first complete day on."""
        wd = np.zeros(7, dtype=bool)
        wd[list(self.trading_weekdays)] = True
        start = int(self.day_id[0])
        span = (n // len(self.trading_weekdays) + 2) * 7
        ids = np.arange(start, start + span, dtype=np.int64)
        return ids[wd[weekday(ids)]][:n]


def day_segments(market: Market, day_zone: str, day_reset: str, min_fraction: float = 0.5) -> DaySegments:
    """Split ``market`` by trading day and keep the complete days (see the module docstring).

    ``day_zone`` / ``day_reset`` must be those ``market.day`` was computed with.
    """
    day = np.asarray(market.day, dtype=np.int64)
    n = day.shape[0]
    if n == 0:
        raise InputError("data", "no bars to resample")
    first = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    stop = np.r_[first[1:], n]
    count = stop - first
    med = float(np.median(count[1:-1] if count.shape[0] > 2 else count))  # edge days may be cut short
    keep = count >= min_fraction * med
    keep[0] &= count[0] >= med
    keep[-1] &= count[-1] >= med
    ids = day[first[keep]]
    if ids.shape[0] < 2:
        raise InputError(
            "data",
            f"the data hold {int(keep.sum())} complete trading day(s) (of {count.shape[0]}); "
            "the day bootstrap needs at least 2",
        )
    per_wd = np.bincount(weekday(ids), minlength=7)
    weekdays = tuple(int(w) for w in np.flatnonzero(per_wd >= 0.5 * per_wd.max()))
    start = day_start_utc(day[first], day_zone, day_reset)  # per day, complete or not
    offset = market.bars.time - np.repeat(start, count)
    closed = bool(in_weekend_closure(market.bars.time).mean() < 1e-3)
    holes = Holes.of(market.bars)
    kf, ks = first[keep].astype(np.int64), stop[keep].astype(np.int64)
    count = np.r_[0, np.cumsum(holes.after)]  # holes after bars 0 .. i-1
    hole_after = np.zeros(kf.shape[0], dtype=bool)
    hole_after[:-1] = count[kf[1:]] - count[ks[:-1] - 1] > 0  # after the day's last bar, before the next day
    return DaySegments(
        bars=market.bars,
        vol_ratio=np.asarray(market.vol_ratio, dtype=np.float64),
        day_id=ids,
        first=first[keep].astype(np.int64),
        stop=stop[keep].astype(np.int64),
        offset=offset,
        trading_weekdays=weekdays,
        weekend_closed=closed,
        median_bars=med,
        day_zone=day_zone,
        day_reset=day_reset,
        holes=holes,
        hole_after=hole_after,
    )


# ----------------------------------------------------------------------------- the day sequence


def bootstrap_sequence(
    seed: int,
    attempt: int,
    n_days: int,
    n_segments: int,
    block_days: float,
    hole_after: np.ndarray | None = None,
) -> np.ndarray:
    """Stationary-bootstrap day indices (int64, (n_days,)) of one attempt.

    Draw ``2 i`` decides whether day ``i`` starts a new block (probability
    ``1 / block_days``; day 0 always does), draw ``2 i + 1`` picks its day; a
    day that does not start a block is the day after its predecessor, wrapping.
    ``hole_after[k]``: a hole follows day k, so a block never continues past it
    (the next day is the one its draw picks, a new block; ``simlab.holes``).

    >>> bootstrap_sequence(7, 3, 6, 100, 1e12).tolist() == list(range(bootstrap_sequence(7, 3, 1, 100, 1)[0], 100))[:6]
    True
    """
    if n_days <= 0:
        return np.zeros(0, dtype=np.int64)
    u = uniforms_nb(seed, attempt, BOOT_DRAW, 2 * n_days)
    pick = np.minimum((u[1::2] * n_segments).astype(np.int64), n_segments - 1)
    jump = u[0::2] < 1.0 / float(block_days)
    jump[0] = True
    out = np.empty(n_days, dtype=np.int64)
    prev = 0
    for i in range(n_days):
        if jump[i] or (hole_after is not None and hole_after[prev]):
            prev = int(pick[i])
        else:
            prev = (prev + 1) % n_segments
        out[i] = prev
    return out


# ----------------------------------------------------------------------------- resampled history


@dataclass(frozen=True, eq=False)
class Resampled:
    """One resampled history: the bars and where each placed day came from."""

    bars: Bars
    vol_ratio: np.ndarray  # (n,) or empty
    seq: np.ndarray  # (D,) source segment of each placed day
    slot_id: np.ndarray  # (D,) trading-day id of each placed day on the new calendar
    first: np.ndarray  # (D,) first bar of each placed day (== stop when a day kept no bar)
    stop: np.ndarray  # (D,)
    src_bar: np.ndarray  # (n,) source bar of each bar
    shift: np.ndarray  # (D,) price shift applied to each placed day


def resample_days(seg: DaySegments, seq: np.ndarray, slot_id: np.ndarray | None = None) -> Resampled:
    """Lay the source days ``seq`` on consecutive trading days, re-levelled to a continuous mid."""
    seq = np.asarray(seq, dtype=np.int64)
    d = seq.shape[0]
    slot = seg.slot_ids(d) if slot_id is None else np.asarray(slot_id, dtype=np.int64)[:d]
    lengths = seg.stop[seq] - seg.first[seq]
    total = int(lengths.sum())
    label = np.repeat(np.arange(d, dtype=np.int64), lengths)
    base = np.r_[0, np.cumsum(lengths)[:-1]]
    src = np.arange(total, dtype=np.int64) - np.repeat(base - seg.first[seq], lengths)
    start = day_start_utc(slot, seg.day_zone, seg.day_reset)
    next_start = day_start_utc(slot + 1, seg.day_zone, seg.day_reset)
    t = start[label] + seg.offset[src]
    keep = (t >= start[label]) & (t < next_start[label])
    if seg.weekend_closed:
        keep &= ~in_weekend_closure(t)
    t, src, label = t[keep], src[keep], label[keep]
    first = np.searchsorted(label, np.arange(d), side="left")
    stop = np.searchsorted(label, np.arange(d), side="right")
    bars = seg.bars
    bid = bars.bid[src]
    ask = bars.ask[src]
    # continuity of the mid: each non-empty day opens at the previous non-empty day's close
    full = np.flatnonzero(stop > first)
    open_mid = 0.5 * (bid[first[full], 0] + ask[first[full], 0])
    close_mid = 0.5 * (bid[stop[full] - 1, 3] + ask[stop[full] - 1, 3])
    shift = np.zeros(d)
    if full.shape[0]:
        level = np.r_[0.0, np.cumsum(close_mid[:-1] - open_mid[1:])]
        last = np.searchsorted(full, np.arange(d), side="right") - 1  # an empty day: its predecessor's shift
        shift = np.where(last >= 0, level[last.clip(min=0)], 0.0)
    per_bar = shift[label][:, None]
    out = Bars(
        time=np.ascontiguousarray(t),
        bid=np.ascontiguousarray(bid + per_bar),
        ask=np.ascontiguousarray(ask + per_bar),
        volume=np.ascontiguousarray(bars.volume[src]),
        symbol=bars.symbol,
        source=f"{bars.source} (day bootstrap)" if bars.source else "day bootstrap",
        meta=dict(bars.meta),
    )
    vr = seg.vol_ratio[src] if seg.vol_ratio.shape[0] else np.empty(0)
    return Resampled(out, vr, seq, slot, first, stop, src, shift)


# ----------------------------------------------------------------------------- one attempt


@dataclass(frozen=True, eq=False)
class BootstrapContext:
    """Everything an attempt needs; ``attempt(a)`` is a pure function of it and ``a``."""

    setup: ChallengeSetup
    segments: DaySegments
    settings: MarketSettings
    signals: Callable[[Bars], Any]
    block_days: int
    cfg: np.ndarray
    cost_index: tuple[np.ndarray, np.ndarray]  # kernel_nb.cost_index_nb of the run's cost tables

    def history(self, a: int) -> tuple[Resampled, int]:
        """Attempt ``a``'s resampled history, cut after its horizon, and the index of its first placed day."""
        seg = self.segments
        setup = self.setup
        per_week = len(seg.trading_weekdays)
        warm = setup.warmup_bars
        n_warm = 0 if warm <= 0 else math.ceil(warm / max(1.0, 0.5 * seg.median_bars)) + 1
        n_days = n_warm + math.ceil(setup.horizon_days * per_week / 7) + 2
        while True:
            slots = seg.slot_ids(n_days + 1)
            r = resample_days(
                seg,
                bootstrap_sequence(setup.seed, a, n_days, len(seg), self.block_days, seg.hole_after),
                slots,
            )
            before = r.first  # bars before each placed day == its first bar index
            ok = np.flatnonzero((before >= warm) & (r.stop > r.first))
            if ok.shape[0]:
                i_s = int(ok[0])
                need = int(slots[i_s]) + setup.horizon_days
                if slots[n_days] >= need:  # every trading day before the horizon's end is placed
                    i_e = int(np.searchsorted(slots[:n_days], need))
                    return _cut(r, i_e), i_s
            n_days *= 2

    def market(self, a: int) -> tuple[Resampled, int, Market, Any, int]:
        """Attempt ``a``'s history, the index of its first placed day, its market, intents and start bar."""
        r, i_s = self.history(a)
        m = self.settings.build(r.bars, r.vol_ratio)
        intents = self.signals(r.bars)
        _intent_arrays(intents, len(r.bars))  # the shapes, checked
        return r, i_s, m, intents, int(r.first[i_s])

    def trace(self, a: int, expect: np.ndarray) -> AttemptTrace:
        """Attempt ``a`` again on its own history, with a ledger and a curve (``simlab.sample``)."""
        from simlab.sample import trace_attempt

        _, _, m, intents, start = self.market(a)
        return trace_attempt(self.setup, m, intents, a, start, expect)

    def attempt(self, a: int) -> tuple[np.ndarray, int, int, float, dict[str, Any]]:
        """(out (n_phases, RES_SIZE), start bar, start time ns, days to pass or NaN, notes) of attempt ``a``."""
        s = self.setup
        r, i_s, m, intents, start = self.market(a)
        out = np.zeros((1, s.phase_rules.shape[0], L.RES_SIZE))
        kernel = AttemptKernel.build(
            m, intents, s.spec.to_vector(), self.cfg, s.phase_rules, s.gov, s.costs, s.seed,
            np.array([start], dtype=np.int64), s.horizon_days, cost_index=self.cost_index,
        )  # fmt: skip
        kernel.run_into(a, out, np.zeros(1, dtype=np.int64))
        out = out[0]
        passed = bool(np.all(out[:, L.RES_STATUS] == L.STATUS_PASSED))
        dtp = float(m.day[int(out[-1, L.RES_END_BAR])] - m.day[start] + 1) if passed else math.nan
        seq = r.seq[i_s:]
        blocks = 1 + int(np.count_nonzero(seq[1:] != (seq[:-1] + 1) % len(self.segments)))
        src_day = int(self.segments.day_id[int(r.seq[i_s])])
        notes = {"source_start": str(np.datetime64(src_day, "D")), "blocks": blocks}
        return out, start, int(r.bars.time[start]), dtp, notes


def _cut(r: Resampled, i_e: int) -> Resampled:
    """The first ``i_e`` placed days of ``r``."""
    n = int(r.first[i_e]) if i_e < r.first.shape[0] else len(r.bars)
    return Resampled(
        bars=r.bars.slice(0, n),
        vol_ratio=r.vol_ratio[:n] if r.vol_ratio.shape[0] else r.vol_ratio,
        seq=r.seq[:i_e],
        slot_id=r.slot_id[:i_e],
        first=r.first[:i_e],
        stop=r.stop[:i_e],
        src_bar=r.src_bar[:n],
        shift=r.shift[:i_e],
    )


def bootstrap_context(
    setup: ChallengeSetup,
    strategy: Any,
    block_days: int,
    settings: MarketSettings,
    *,
    where: str = "data",
) -> BootstrapContext:
    """Check the inputs and split the history into days (once per run)."""
    if isinstance(block_days, bool) or not isinstance(block_days, int | np.integer) or block_days < 1:
        raise ConfigError(
            "--bootstrap-days", f"{block_days!r}: expected a mean block length of 1 or more days"
        )
    try:
        seg = day_segments(setup.market, settings.day_zone, settings.day_reset)
    except InputError as exc:
        raise InputError(where, exc.what) from None
    signals = getattr(strategy, "intents", None) or strategy.signals
    cfg = config_vector(
        initial_balance=setup.initial_balance,
        risk=setup.risk,
        fixed_volume=setup.fixed_volume,
        costs=setup.costs,
    )
    f8 = np.float64
    cost_index = cost_index_nb(readonly(setup.costs.cost_q, f8), readonly(setup.costs.cost_probs, f8))
    return BootstrapContext(setup, seg, settings, signals, int(block_days), cfg, cost_index)


def run_bootstrap_challenge(
    setup: ChallengeSetup,
    runs: int,
    strategy: Any,
    block_days: int,
    settings: MarketSettings,
    *,
    workers: int | None = None,
    progress: bool | None = None,
    where: str = "data",
) -> ChallengeResult:
    """``runs`` attempts, each on its own block-bootstrapped history; ``workers`` threads (default: all cores).

    ``setup.market`` is the real history (its ``day`` must follow ``settings``);
    ``setup.intents`` is not used: the strategy's signals are recomputed on
    every resampled history. The result has the shape of ``run_challenge``'s;
    its start times and days to pass are each attempt's own, and its JSON setup
    names ``bootstrap_block_days``.
    """
    ctx = bootstrap_context(setup, strategy, block_days, settings, where=where)
    n_workers = default_workers(workers)
    if hasattr(strategy, "step") and hasattr(strategy, "reset"):
        n_workers = 1  # a step strategy keeps its state on itself: one history at a time
    n_phases = setup.phase_rules.shape[0]
    out = np.zeros((runs, n_phases, L.RES_SIZE))
    starts = np.zeros(runs, dtype=np.int64)
    start_times = np.zeros(runs, dtype=np.int64)
    pass_days = np.full(runs, math.nan)
    notes: list[dict[str, Any]] = [{} for _ in range(runs)]

    def work(lo: int, hi: int) -> None:
        for a in range(lo, hi):
            out[a], starts[a], start_times[a], pass_days[a], notes[a] = ctx.attempt(a)

    # one attempt per chunk: an attempt builds its own history and signals (milliseconds at least)
    run_range(work, runs, workers=n_workers, progress=progress, max_chunk=1)
    boot_setup = dataclasses.replace(setup, meta=setup.meta | {"bootstrap_block_days": int(block_days)})
    exclusion = Exclusion(0, len(ctx.segments), BOOTSTRAP_RULE, ctx.segments.holes)
    return ChallengeResult(
        boot_setup,
        out,
        starts,
        start_times=start_times,
        pass_days=pass_days,
        attempt_notes=notes,
        exclusion=exclusion,
        tracer=lambda a: ctx.trace(a, out[a]),
    )
