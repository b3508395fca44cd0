"""Monte Carlo challenge runs: N independent attempts through every phase, and what they tell.

An attempt starts on a trading day drawn from the history (every day that
leaves a full horizon of data after it is equally likely), runs phase after
phase with a fresh account each, and ends at the first phase it does not pass:
breached (with the rule that broke it) or out of its horizon. Costs are fresh
samples for every attempt. Results are a pure function of (inputs, seed): the
attempts are spread over threads (``simlab.runner``), and 1 or 16 workers give
the same bytes. Start days whose window holds a hole in the data are excluded
(``simlab.holes``).
With ``--bootstrap-days`` (``simlab.bootstrap``) each attempt runs instead on
its own block-bootstrapped history, through the same kernel.

The result (``ChallengeResult.to_json()``: the ``result`` body; ``document()``: the
whole file) follows the one schema of :mod:`simlab.results`, built from
:meth:`ChallengeResult.attempts` so that every attempt is counted exactly once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from simlab import layout as L
from simlab.engine import (
    CostSetup,
    IntentArrays,
    Market,
    SymbolLike,
    _intent_arrays,
    config_vector,
    kernel_params,
    readonly,
    reason_name,
)
from simlab.errors import InputError
from simlab.holes import RULE, Exclusion, Holes, longest_clear_horizon, window_clear
from simlab.refusals import Refusals
from simlab.results import (
    NOT_PASSED_IN_HORIZON,
    challenge_result,
    envelope,
    failure_label,
    format_challenge_table,
)

if TYPE_CHECKING:
    from simlab.sample import AttemptTrace


def eligible_starts(
    day: np.ndarray, horizon_days: int, warmup_bars: int = 0, hole_after: np.ndarray | None = None
) -> np.ndarray:
    """First bars of the trading days that leave ``horizon_days`` of data after them.

    ``hole_after`` (``simlab.holes.Holes.after``): also drop the days whose window holds a hole.
    """
    first = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    ok = (day[first] + horizon_days <= day[-1]) & (first >= warmup_bars)
    out = first[ok].astype(np.int64)
    if hole_after is not None:
        out = out[window_clear(day, out, horizon_days, warmup_bars, hole_after)]
    return out


def start_days(
    m: Market, horizon_days: int, warmup_bars: int, where: str, holes: Holes | None = None
) -> tuple[np.ndarray, Exclusion]:
    """The start bars of a run under the hole rule (``simlab.holes``), and what the rule excluded.

    ``holes``: those of the market's bars unless given (a portfolio's: any leg's, on its grid).
    One-line input errors when the data are too short for one attempt, or when every start day's
    window holds a hole.
    """
    h, w = int(horizon_days), int(warmup_bars)
    candidates = eligible_starts(m.day, h, w)
    if candidates.shape[0] == 0:
        span = int(m.day[-1] - m.day[0] + 1)
        raise InputError(
            where,
            f"the data cover {span} trading-day ids after a {w}-bar warm-up; one attempt needs "
            f"{h} days (lower --horizon-days or give more data)",
        )
    holes = Holes.of(m.bars) if holes is None else holes
    starts = candidates[window_clear(m.day, candidates, h, w, holes.after)]
    if starts.shape[0] == 0:
        fit = longest_clear_horizon(m.day, holes.after, w)
        lower = f"lower --horizon-days to {fit} or less, " if fit > 0 else ""
        raise InputError(
            where,
            f"every start day's {h}-day window (with a {w}-bar warm-up) crosses a hole in the data: "
            f"{holes.describe()}; {lower}fill the hole or cut the data at it",
        )
    return starts, Exclusion(
        int(candidates.shape[0] - starts.shape[0]), int(candidates.shape[0]), RULE, holes
    )


@dataclass
class ChallengeSetup:
    market: Market
    intents: IntentArrays
    spec: SymbolLike
    phase_rules: np.ndarray  # (n_phases, RULE_SIZE)
    phase_names: list[str]
    gov: np.ndarray
    costs: CostSetup
    initial_balance: float = 100_000.0
    risk: float = 0.01
    fixed_volume: float = 0.0
    horizon_days: int = 120
    warmup_bars: int = 0
    seed: int = 7
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AttemptKernel:
    """The Monte Carlo kernel's inputs, fixed for a run; ``run(lo, hi, out, starts)`` runs attempts lo .. hi-1."""

    args: tuple[Any, ...]

    @classmethod
    def build(
        cls,
        market: Market,
        intents: IntentArrays,
        sym: np.ndarray,
        cfg: np.ndarray,
        phase_rules: np.ndarray,
        gov: np.ndarray,
        costs: CostSetup,
        seed: int,
        start_bars: np.ndarray,
        horizon_days: int,
        cost_index: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> AttemptKernel:
        """``cost_index``: ``kernel_nb.cost_index_nb(cost_q, cost_probs)`` when the caller has it already."""
        args = (
            market.clock(), market.quotes(), _intent_arrays(intents, len(market.bars)),
            kernel_params(sym, cfg, phase_rules, gov), costs.tables(cost_index), int(seed),
            readonly(start_bars, np.int64), int(horizon_days),
        )  # fmt: skip
        return cls(args)

    @property
    def n_phases(self) -> int:
        return int(self.args[3].rules.shape[0])

    def run_into(self, first: int, out: np.ndarray, starts: np.ndarray) -> None:
        """Attempts first .. first + len(out) - 1 into ``out`` and ``starts``, in this thread."""
        from simlab.montecarlo_nb import run_attempts_nb

        run_attempts_nb(int(first), int(out.shape[0]), *self.args, out, starts)  # type: ignore[call-arg]  # a star-args call: mypy cannot count it

    def run_all(
        self, first: int, n: int, *, workers: int = 1, progress: bool | None = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Attempts first .. first+n-1 on ``workers`` threads: (out (n, n_phases, RES_SIZE), starts (n,))."""
        from simlab.runner import run_range

        out = np.zeros((n, self.n_phases, L.RES_SIZE))
        starts = np.zeros(n, dtype=np.int64)

        def work(lo: int, hi: int) -> None:
            self.run_into(first + lo, out[lo:hi], starts[lo:hi])

        run_range(work, n, workers=workers, progress=progress)
        return out, starts


def default_workers(workers: int | None) -> int:
    """Threads for a run: ``workers``, or every core."""
    import os

    return max(1, int(workers)) if workers is not None else max(1, os.cpu_count() or 1)


def run_challenge(
    setup: ChallengeSetup,
    runs: int,
    *,
    workers: int | None = None,
    progress: bool | None = None,
    where: str = "data",
) -> ChallengeResult:
    """Run ``runs`` attempts; ``workers`` threads (default: all cores)."""
    m = setup.market
    starts, exclusion = start_days(m, setup.horizon_days, setup.warmup_bars, where)
    cfg = config_vector(
        initial_balance=setup.initial_balance,
        risk=setup.risk,
        fixed_volume=setup.fixed_volume,
        costs=setup.costs,
    )
    kernel = AttemptKernel.build(
        m, setup.intents, setup.spec.to_vector(), cfg, setup.phase_rules, setup.gov, setup.costs, setup.seed,
        starts, setup.horizon_days,
    )  # fmt: skip
    out, first_bars = kernel.run_all(0, runs, workers=default_workers(workers), progress=progress)

    def tracer(a: int) -> AttemptTrace:
        from simlab.sample import trace_attempt

        return trace_attempt(setup, m, setup.intents, a, int(first_bars[a]), out[a])

    return ChallengeResult(setup, out, first_bars, exclusion=exclusion, tracer=tracer)


@dataclass
class ChallengeResult:
    setup: ChallengeSetup
    out: np.ndarray  # (runs, n_phases, RES_SIZE); status -1: phase not reached
    starts: np.ndarray  # (runs,) start bars
    # Day-bootstrap runs (simlab.bootstrap): each attempt has its own history, so its start time,
    # days to pass (NaN: not passed) and a few notes for its JSON entry are stored here; None: read
    # them from setup.market.
    start_times: np.ndarray | None = None  # (runs,) int64 UTC ns
    pass_days: np.ndarray | None = None  # (runs,) float
    attempt_notes: list[dict[str, Any]] | None = None
    exclusion: Exclusion | None = None  # what the hole rule (simlab.holes) did: start days excluded
    # attempt a again with a ledger and a curve (simlab.sample); None: no sample (a closed-loop policy)
    tracer: Callable[[int], AttemptTrace] | None = field(default=None, repr=False)
    _sample: dict[str, Any] | None = field(default=None, init=False, repr=False)

    @property
    def runs(self) -> int:
        return int(self.out.shape[0])

    def passed_all(self) -> np.ndarray:
        return np.all(self.out[:, :, L.RES_STATUS] == L.STATUS_PASSED, axis=1)

    def days_to_pass(self) -> np.ndarray:
        """Calendar days from each passing attempt's first day to the day it passed the last phase."""
        return self._days_to_pass_all()[self.passed_all()]

    def _days_to_pass_all(self) -> np.ndarray:
        """(runs,) calendar days to pass, NaN for attempts that did not pass."""
        ok = self.passed_all()
        if self.pass_days is not None:
            return np.where(ok, np.asarray(self.pass_days, dtype=np.float64), math.nan)
        day = self.setup.market.day
        end = self.out[:, -1, L.RES_END_BAR].astype(np.int64).clip(0, day.shape[0] - 1)
        return np.where(ok, (day[end] - day[self.starts] + 1).astype(np.float64), math.nan)

    @property
    def mode(self) -> str:
        """``"bars"`` (starts on the real history) or ``"day_bootstrap"`` (an own history per attempt)."""
        return "bars" if self.pass_days is None else "day_bootstrap"

    def attempts(self) -> list[dict[str, Any]]:
        """One entry per attempt in the ``simlab.result`` layout: each phase it reached, and its failure.

        A phase counts as reached when the one before it passed, even when the horizon ended that very
        day (the kernel then never started it): it is "running" with 0 days, not passed within the
        horizon. So every attempt is accounted for exactly once.
        """
        names = self.setup.phase_names
        ok = self.passed_all()
        dtp = self._days_to_pass_all()
        times = self.setup.market.bars.time
        init = float(self.setup.initial_balance)
        out = []
        for a in range(self.runs):
            phases: list[dict[str, Any]] = []
            failure = None
            for p in range(self.out.shape[1]):
                r = self.out[a, p]
                st = int(r[L.RES_STATUS])
                entry: dict[str, Any]
                if st < 0:  # never started: the horizon ended on the day the phase before passed
                    entry = {
                        "phase": names[p], "status": "running", "reason": NOT_PASSED_IN_HORIZON,
                        "via_gap_or_slippage": False, "calendar_days": 0, "trading_days": 0, "trades": 0,
                        "final_balance": round(init, 2), "max_daily_drawdown": 0.0, "max_total_drawdown": 0.0,
                    }  # fmt: skip
                else:
                    status = L.STATUS_NAMES[st]
                    entry = {
                        "phase": names[p],
                        "status": status,
                        "reason": NOT_PASSED_IN_HORIZON if status == "running" else reason_name(r),
                        "via_gap_or_slippage": bool(r[L.RES_BREACH_VIA_GAP] > 0),
                        "calendar_days": int(r[L.RES_CAL_DAYS]),
                        "trading_days": int(r[L.RES_TRADING_DAYS]),
                        "trades": int(r[L.RES_N_TRADES]),
                        "final_balance": round(float(r[L.RES_BALANCE]), 2),
                        "max_daily_drawdown": round(float(r[L.RES_MAX_DAILY_DD]), 6),
                        "max_total_drawdown": round(float(r[L.RES_MAX_TOTAL_DD]), 6),
                    }
                phases.append(entry)
                if entry["status"] != "passed":
                    failure = failure_label(
                        names[p], entry["status"], entry["reason"], entry["via_gap_or_slippage"]
                    )
                    break
            t0 = times[self.starts[a]] if self.start_times is None else self.start_times[a]
            start_iso = np.datetime_as_string(np.int64(t0).astype("datetime64[ns]"), unit="m") + "Z"
            item: dict[str, Any] = {
                "attempt": a,
                "start": start_iso,
                "passed": bool(ok[a]),
                "days_to_pass": None if math.isnan(dtp[a]) else int(dtp[a]),
                "failure": failure,
                "calendar_days": sum(ph["calendar_days"] for ph in phases),
                "trades": sum(ph["trades"] for ph in phases),
                "max_daily_drawdown": max(ph["max_daily_drawdown"] for ph in phases),
                "max_total_drawdown": max(ph["max_total_drawdown"] for ph in phases),
                "phases": phases,
            }
            if self.attempt_notes is not None:
                item |= self.attempt_notes[a]
            out.append(item)
        return out

    def breach_reasons(self) -> dict[str, int]:
        """``"<phase>: <reason>"`` -> count over the failed attempts (each counted once)."""
        counts: dict[str, int] = {}
        for a in self.attempts():
            if a["failure"] is not None:
                counts[a["failure"]] = counts.get(a["failure"], 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def refusals(self) -> Refusals:
        """Entry decisions and refused orders over every phase run."""
        return Refusals.from_results(self.out, self.out[:, :, L.RES_STATUS] >= 0)

    def n_trades(self) -> int:
        return int(np.where(self.out[:, :, L.RES_STATUS] >= 0, self.out[:, :, L.RES_N_TRADES], 0.0).sum())

    def sample(self) -> dict[str, Any]:
        """The traced first attempts' members of the body (``simlab.sample``); {} without a tracer."""
        if self._sample is None:
            from simlab.sample import sample_members, trace_first

            self._sample = (
                {}
                if self.tracer is None
                else sample_members(trace_first(self.runs, self.tracer), self.setup.phase_names, self.runs)
            )
        return self._sample

    def to_json(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``result`` body of the ``simlab.result`` schema (see :mod:`simlab.results`)."""
        refusals = self.refusals()
        found: dict[str, Any] = {
            "entry_decisions": refusals.decisions,
            "refused_orders": refusals.to_json(),
        }
        if self.exclusion is not None:
            found["excluded_starts"] = self.exclusion.to_json()
        found |= self.sample()
        return challenge_result(
            self.attempts(), self.setup.phase_names, self.setup.horizon_days, extra=found | (extra or {})
        )

    def document(self, provenance: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The whole result file: envelope, ``provenance`` (``simlab_cli.provenance``) and body."""
        return envelope("challenge", self.mode, provenance, self.to_json(extra))

    def basic_provenance(self) -> dict[str, Any]:
        """What the run itself knows (seed, runs, horizon, the setup's notes), for a document built
        outside the CLI."""
        meta = dict(self.setup.meta)
        for key in ("program", "strategy"):  # names in the setup's notes; provenance holds records
            if key in meta and not isinstance(meta[key], dict):
                meta[key] = {"name": meta[key], "spec": meta[key]}
        if "program" in meta:
            meta["program"].setdefault("size", self.setup.initial_balance)
        return meta | {
            "argv": [],
            "seed": self.setup.seed,
            "runs": self.runs,
            "risk": self.setup.risk,
            "horizon": {"days": self.setup.horizon_days, "source": "setup", "program_time_limited": False},
        }

    def format_table(self, doc: dict[str, Any] | None = None) -> str:
        """The terminal table, drawn from the result document (built here when not given)."""
        return format_challenge_table(self.document(self.basic_provenance()) if doc is None else doc)
