"""Monte Carlo challenge runs: N independent attempts through every phase, and what they tell.

An attempt starts on a trading day drawn from the history (every day that
leaves a full horizon of data after it is equally likely), runs phase after
phase with a fresh account each, and ends at the first phase it does not pass:
breached (with the rule that broke it) or out of its horizon. Costs are fresh
samples for every attempt. Results are a pure function of (inputs, seed): the
attempts are spread over threads by numba, and 1 or 16 workers give the same
bytes.
With ``--bootstrap-days`` (``simlab.bootstrap``) each attempt runs instead on
its own block-bootstrapped history, through the same kernel.

JSON schema (``ChallengeResult.to_json()``; all rates are fractions, money in
account currency, drawdowns as fractions of the initial balance)::

    {
      "schema": "simlab.challenge/1",
      "setup": {program, size, symbol, strategy, params, data, exec_model, risk,
                governors, seed, runs, horizon_days, phases: [names],
                bootstrap_block_days (day-bootstrap runs only)},
      "pass_rate": {"rate", "passed", "runs", "ci95": [lo, hi]},
      "phases": [{"name", "reached", "passed", "rate", "ci95": [lo, hi]}],
      "days_to_pass": {"median", "p10", "p90", "n"} | null,
      "breach_reasons": {reason: count},      # reason of the phase that ended each failed attempt
      "max_daily_drawdown": {"p50", "p90", "max"},
      "max_total_drawdown": {"p50", "p90", "max"},
      "trades_per_day": float,
      "entry_decisions": int,                 # entries the strategy decided, over every phase run
      "refused_orders": {reason: count},      # of those, refused (simlab.refusals; layout.BLOCK_NAMES)
      "excluded_starts": {"count", "of", "rule", "min_hole_days", "n_holes", "holes": [...]},
                                              # the hole rule (simlab.holes): start days it excluded
      "attempts": [{"start", "phases": [{"status", "reason", "days", "trades", ...}]}]
                                              # day-bootstrap runs add "source_start", "blocks"
    }
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simlab import layout as L
from simlab.engine import CostSetup, IntentArrays, Market, SymbolLike, config_vector, readonly, reason_name
from simlab.errors import InputError
from simlab.holes import HOLE_MIN_DAYS, RULE, Exclusion, Holes, longest_clear_horizon, window_clear
from simlab.refusals import Refusals
from simlab.stats import wilson_interval

NOT_PASSED_IN_HORIZON = "no_pass_within_horizon"


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


def start_days(m: Market, horizon_days: int, warmup_bars: int, where: str) -> tuple[np.ndarray, Exclusion]:
    """The start bars of a run under the hole rule (``simlab.holes``), and what the rule excluded.

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
    holes = Holes.of(m.bars)
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
        from simlab.kernel_nb import cost_index_nb

        f8 = np.float64
        if cost_index is None:
            cost_index = cost_index_nb(readonly(costs.cost_q, f8), readonly(costs.cost_probs, f8))
        guide, lut = cost_index
        args = (
            readonly(market.bars.bid, f8), readonly(market.bars.ask, f8), readonly(market.session, np.int8),
            readonly(market.day, np.int64), readonly(market.swap_nights, np.int8), readonly(market.flags, np.uint8),
            readonly(market.vol_ratio, f8), readonly(intents.dir, np.int8), readonly(intents.sl, f8),
            readonly(intents.tp, f8), readonly(intents.size, f8), readonly(sym, f8), readonly(cfg, f8),
            readonly(phase_rules, f8), readonly(gov, f8), readonly(costs.cost_q, f8), readonly(costs.cost_probs, f8),
            readonly(guide), readonly(lut), int(seed), readonly(start_bars, np.int64), int(horizon_days),
        )  # fmt: skip
        return cls(args)

    @property
    def n_phases(self) -> int:
        return int(self.args[13].shape[0])

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
    return ChallengeResult(setup, out, first_bars, exclusion=exclusion)


def json_safe(v: Any) -> Any:
    """Replace NaN / inf by None and numpy scalars by Python ones, recursively (strict JSON)."""
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [json_safe(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _pct(a: np.ndarray, q: float) -> float:
    return float(np.percentile(a, q)) if a.shape[0] else math.nan


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

    @property
    def runs(self) -> int:
        return int(self.out.shape[0])

    def passed_all(self) -> np.ndarray:
        return np.all(self.out[:, :, L.RES_STATUS] == L.STATUS_PASSED, axis=1)

    def days_to_pass(self) -> np.ndarray:
        """Calendar days from each passing attempt's first day to the day it passed the last phase."""
        ok = self.passed_all()
        if self.pass_days is not None:
            return np.asarray(self.pass_days, dtype=np.float64)[ok]
        day = self.setup.market.day
        end = self.out[ok, -1, L.RES_END_BAR].astype(np.int64)
        return (day[end] - day[self.starts[ok]] + 1).astype(np.float64)

    def breach_reasons(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for a in range(self.runs):
            st = self.out[a, :, L.RES_STATUS]
            failed = np.flatnonzero((st != L.STATUS_PASSED) & (st >= 0))
            if failed.shape[0] == 0:
                continue
            p = int(failed[0])
            if st[p] == L.STATUS_BREACHED:
                name = reason_name(self.out[a, p])
                if self.out[a, p, L.RES_BREACH_VIA_GAP] > 0 and name in ("daily_loss", "max_loss"):
                    name += " (gap/slippage past the stop)"
            elif st[p] == L.STATUS_HALTED:
                name = reason_name(self.out[a, p]) + " (account kept, attempt given up)"
            else:
                name = NOT_PASSED_IN_HORIZON
            key = f"{self.setup.phase_names[p]}: {name}"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def phase_stats(self) -> list[dict[str, Any]]:
        rows = []
        for p, name in enumerate(self.setup.phase_names):
            st = self.out[:, p, L.RES_STATUS]
            reached = int(np.count_nonzero(st >= 0))
            passed = int(np.count_nonzero(st == L.STATUS_PASSED))
            lo, hi = wilson_interval(passed, reached)
            rows.append(
                {
                    "name": name,
                    "reached": reached,
                    "passed": passed,
                    "rate": passed / reached if reached else math.nan,
                    "ci95": [lo, hi],
                }
            )
        return rows

    def refusals(self) -> Refusals:
        """Entry decisions and refused orders over every phase run."""
        return Refusals.from_results(self.out, self.out[:, :, L.RES_STATUS] >= 0)

    def n_trades(self) -> int:
        return int(np.where(self.out[:, :, L.RES_STATUS] >= 0, self.out[:, :, L.RES_N_TRADES], 0.0).sum())

    def to_json(self) -> dict[str, Any]:
        ok = self.passed_all()
        k = int(ok.sum())
        lo, hi = wilson_interval(k, self.runs)
        reached = self.out[:, :, L.RES_STATUS] >= 0
        daily_dd = np.where(reached, self.out[:, :, L.RES_MAX_DAILY_DD], 0.0).max(axis=1)
        total_dd = np.where(reached, self.out[:, :, L.RES_MAX_TOTAL_DD], 0.0).max(axis=1)
        trades = float(np.where(reached, self.out[:, :, L.RES_N_TRADES], 0.0).sum())
        days = float(np.where(reached, self.out[:, :, L.RES_CAL_DAYS], 0.0).sum())
        dtp = self.days_to_pass()
        refusals = self.refusals()
        attempts = []
        times = self.setup.market.bars.time
        for a in range(self.runs):
            phases = []
            for p in range(self.out.shape[1]):
                r = self.out[a, p]
                if r[L.RES_STATUS] < 0:
                    break
                phases.append(
                    {
                        "phase": self.setup.phase_names[p],
                        "status": L.STATUS_NAMES[int(r[L.RES_STATUS])],
                        "reason": reason_name(r),
                        "via_gap_or_slippage": bool(r[L.RES_BREACH_VIA_GAP] > 0),
                        "calendar_days": int(r[L.RES_CAL_DAYS]),
                        "trading_days": int(r[L.RES_TRADING_DAYS]),
                        "trades": int(r[L.RES_N_TRADES]),
                        "final_balance": round(float(r[L.RES_BALANCE]), 2),
                        "max_daily_drawdown": round(float(r[L.RES_MAX_DAILY_DD]), 6),
                        "max_total_drawdown": round(float(r[L.RES_MAX_TOTAL_DD]), 6),
                    }
                )
            t0 = times[self.starts[a]] if self.start_times is None else self.start_times[a]
            start_iso = np.datetime_as_string(np.int64(t0).astype("datetime64[ns]"), unit="m") + "Z"
            entry = {"attempt": a, "start": start_iso, "passed": bool(ok[a]), "phases": phases}
            if self.attempt_notes is not None:
                entry |= self.attempt_notes[a]
            attempts.append(entry)
        return json_safe(
            {
                "schema": "simlab.challenge/1",
                "setup": self.setup.meta
                | {
                    "seed": self.setup.seed,
                    "runs": self.runs,
                    "horizon_days": self.setup.horizon_days,
                    "phases": list(self.setup.phase_names),
                    "initial_balance": self.setup.initial_balance,
                    "risk": self.setup.risk,
                },
                "pass_rate": {"rate": k / self.runs, "passed": k, "runs": self.runs, "ci95": [lo, hi]},
                "phases": self.phase_stats(),
                "days_to_pass": (
                    {
                        "median": _pct(dtp, 50),
                        "p10": _pct(dtp, 10),
                        "p90": _pct(dtp, 90),
                        "n": int(dtp.shape[0]),
                    }
                    if dtp.shape[0]
                    else None
                ),
                "breach_reasons": self.breach_reasons(),
                "max_daily_drawdown": {
                    "p50": _pct(daily_dd, 50),
                    "p90": _pct(daily_dd, 90),
                    "max": float(daily_dd.max()),
                },
                "max_total_drawdown": {
                    "p50": _pct(total_dd, 50),
                    "p90": _pct(total_dd, 90),
                    "max": float(total_dd.max()),
                },
                "trades_per_day": trades / days if days else 0.0,
                "entry_decisions": refusals.decisions,
                "refused_orders": refusals.to_json(),
                "excluded_starts": None if self.exclusion is None else self.exclusion.to_json(),
                "attempts": attempts,
            }
        )

    def format_table(self, payload: dict[str, Any] | None = None) -> str:
        """The terminal table; pass ``to_json()``'s payload when you have it, to build it only once."""
        j = self.to_json() if payload is None else payload
        s = j["setup"]
        pr = j["pass_rate"]
        lines = [
            f"simlab challenge: {s.get('program', '?')} {s.get('size', '')} | {s.get('strategy', '?')} on {s.get('data', '?')}",
            f"  costs: {s.get('exec_model', '?')} | risk {100 * self.setup.risk:.2f}% per trade | governors: "
            f"{s.get('governors', '?')} | seed {self.setup.seed} | horizon {self.setup.horizon_days} days"
            + (
                f" | day bootstrap, mean block {s['bootstrap_block_days']} days"
                if "bootstrap_block_days" in s
                else ""
            ),
            "",
            f"  PASS RATE   {100 * pr['rate']:5.1f}%   ({pr['passed']} of {pr['runs']} attempts)   "
            f"95% CI {100 * pr['ci95'][0]:.1f}% .. {100 * pr['ci95'][1]:.1f}%",
        ]
        if self.runs < 100:
            width = 100 * (pr["ci95"][1] - pr["ci95"][0])
            lines.append(
                f"              {self.runs} attempts pin the rate down only to a {width:.0f}-point-wide interval; "
                "use --runs 1000 for a tight one."
            )
        lines.append("")
        lines.append("  phase               reached   passed    rate     95% CI")
        for ph in j["phases"]:
            rate = "   -  " if not ph["reached"] else f"{100 * ph['rate']:5.1f}%"
            lines.append(
                f"  {ph['name']:<18} {ph['reached']:>7} {ph['passed']:>8}   {rate}   "
                f"{100 * ph['ci95'][0]:5.1f}% .. {100 * ph['ci95'][1]:5.1f}%"
            )
        d = j["days_to_pass"]
        lines.append("")
        if d:
            lines.append(
                f"  days to pass (calendar)   median {d['median']:.0f}   p10 {d['p10']:.0f}   p90 {d['p90']:.0f}   (n={d['n']})"
            )
        else:
            lines.append("  days to pass: no attempt passed")
        dd = j["max_daily_drawdown"]
        td = j["max_total_drawdown"]
        lines.append(
            f"  worst daily drawdown      p50 {100 * dd['p50']:.2f}%   p90 {100 * dd['p90']:.2f}%   max {100 * dd['max']:.2f}%"
        )
        lines.append(
            f"  worst total drawdown      p50 {100 * td['p50']:.2f}%   p90 {100 * td['p90']:.2f}%   max {100 * td['max']:.2f}%"
        )
        lines.append(f"  trades per day            {j['trades_per_day']:.2f}")
        lines.append(f"  refused orders            {self.refusals().summary_line()}")
        ex = self.exclusion
        if ex is not None and len(ex.holes):
            what = (
                f"{ex.count:,} of {ex.candidates:,} start days excluded (their window holds one)"
                if ex.rule == RULE
                else "day-bootstrap blocks never continue across one"
            )
            lines.append(
                f"  data holes                {len(ex.holes)} of more than {HOLE_MIN_DAYS} days without bars; {what}"
            )
        lines.append("")
        reasons = j["breach_reasons"]
        if reasons:
            lines.append("  what ended the failed attempts")
            for r, c in reasons.items():
                lines.append(f"    {c:>6}  {r}")
        else:
            lines.append("  no attempt failed")
        return "\n".join(lines)
