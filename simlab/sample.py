"""The traced sample of a challenge run: the first attempts again, with a ledger and a daily curve.

The Monte Carlo kernel keeps no ledger and no curve (a result vector per phase is all 20,000
attempts need). A report wants pictures: equity paths against the firm's limits, percentile bands
over time, the costs paid per session, trade statistics. Every attempt is a pure function of
(inputs, seed, attempt index), and the attempts are i.i.d., so the first ``K`` of them are a random
sample; they are run again here through the same kernel (``simlab.engine.run_backtest``, which runs
``simulate_nb`` with a ledger and a curve, on the same seed and attempt keys) after the run, and
each traced phase is checked against the run's own result vector: the sample never changes a result.

The curve records the rule levels as the kernel holds them (``CURVE_DAILY_LIMIT``,
``CURVE_MAXLOSS_LIMIT``), so the limits drawn are the kernel's, never recomputed here.

The members this module builds (optional members of the ``simlab.result/1`` challenge body, see
:mod:`simlab.results`): ``sample``, ``equity_paths``, ``equity_bands``, ``session_costs`` and
``trade_stats``. Trade-list mode builds the same ``equity_paths`` / ``equity_bands`` from its own
kernel's day rows (``challenges.trade_list``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simlab import layout as L

if TYPE_CHECKING:
    from simlab.engine import IntentArrays, Market
    from simlab.montecarlo import ChallengeSetup

SAMPLE_ATTEMPTS = 100  # attempts traced: the first K (paths, bands, costs, trade statistics)
BAND_PERCENTILES = (10, 25, 50, 75, 90)
_MONEY_DECIMALS = 2


def _money(a: np.ndarray) -> list[float | None]:
    """Cents, as JSON numbers; -inf / NaN (no such limit) -> None."""
    r = np.round(np.asarray(a, dtype=np.float64), _MONEY_DECIMALS)
    return [float(x) if math.isfinite(x) else None for x in r.tolist()]


@dataclass(frozen=True)
class PhasePath:
    """One phase of one attempt, a row per calendar day that had bars (or trades)."""

    phase: str
    status: str  # passed | breached | halted | running
    start_day: int  # calendar day of the attempt on which the phase started (0: the attempt's first)
    day: np.ndarray  # int (D,): calendar day of the phase, 1 = its first day
    balance: np.ndarray  # at the day's end
    equity: np.ndarray  # at the day's last close
    worst_equity: np.ndarray  # the day's worst intrabar equity
    daily_limit: np.ndarray  # the daily-loss level at the day's end (-inf: no daily rule)
    max_loss_limit: np.ndarray  # the max-loss level at the day's end (-inf: none)

    def to_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "status": self.status,
            "start_day": int(self.start_day),
            "day": [int(d) for d in self.day.tolist()],
            "balance": _money(self.balance),
            "equity": _money(self.equity),
            "worst_equity": _money(self.worst_equity),
            "daily_limit": _money(self.daily_limit),
            "max_loss_limit": _money(self.max_loss_limit),
        }


@dataclass(frozen=True)
class AttemptTrace:
    """An attempt traced: its phases' daily paths and the ledger rows of every phase (``TR_*``)."""

    attempt: int
    phases: list[PhasePath]
    trades: np.ndarray  # (n, TR_SIZE), all phases
    hold_ns: np.ndarray  # (n,) exit time - entry time of each trade


def daily_path(curve: np.ndarray, day: np.ndarray, phase: str, status: str, start_day: int) -> PhasePath:
    """A phase's bar curve (``CURVE_*`` columns) cut to one row per trading day ``day`` (its bars' ids)."""
    day = np.asarray(day, dtype=np.int64)
    last = np.flatnonzero(np.r_[day[1:] != day[:-1], True])
    first = np.r_[0, last[:-1] + 1]
    worst = np.minimum.reduceat(np.minimum(curve[:, L.CURVE_WORST_EQUITY], curve[:, L.CURVE_EQUITY]), first)
    at = curve[last]
    return PhasePath(
        phase=phase,
        status=status,
        start_day=int(start_day),
        day=day[last] - day[0] + 1,
        balance=at[:, L.CURVE_BALANCE],
        equity=at[:, L.CURVE_EQUITY],
        worst_equity=worst,
        daily_limit=at[:, L.CURVE_DAILY_LIMIT],
        max_loss_limit=at[:, L.CURVE_MAXLOSS_LIMIT],
    )


# the result slots a traced phase must reproduce: all but the ledger-overflow flag (the run keeps no
# ledger, so every trade "overflows" its empty buffer there)
_CHECKED = np.array([k for k in range(L.RES_SIZE) if k != L.RES_N_TRADES_OVERFLOW])


def trace_attempt(
    setup: ChallengeSetup,
    market: Market,
    intents: IntentArrays,
    attempt: int,
    start: int,
    expect: np.ndarray,
) -> AttemptTrace:
    """Attempt ``attempt`` again from bar ``start`` of ``market``, phase after phase, as
    ``simlab.montecarlo_nb.attempt_nb`` runs it, with a ledger and a curve.

    ``expect``: the run's (n_phases, RES_SIZE) result of the attempt; a traced phase that differs
    from it is a bug (RuntimeError), never a silently different picture.
    """
    from simlab.engine import run_backtest

    def run_phase(p: int, s: int, end: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r = run_backtest(
            market.bars, intents, setup.spec, market=market, costs=setup.costs, rules=setup.phase_rules[p],
            gov=setup.gov, initial_balance=setup.initial_balance, risk=setup.risk,
            fixed_volume=setup.fixed_volume, seed=setup.seed, attempt=attempt, start=s, end=end,
        )  # fmt: skip
        return r.res, r.curve, r.trades_raw

    return trace_phases(setup, market.day, market.bars.time, attempt, start, expect, run_phase)


def trace_phases(
    setup: Any,
    day: np.ndarray,
    time: np.ndarray,
    attempt: int,
    start: int,
    expect: np.ndarray,
    run_phase: Callable[[int, int, int], tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> AttemptTrace:
    """An attempt's phases from bar ``start`` of a history (``day``, ``time``), as the Monte Carlo kernels
    run them: ``run_phase(p, s, end)`` runs phase p over bars [s, end) with a ledger and a curve and
    returns its (RES_* vector, curve, ledger). ``setup``: its ``phase_rules``, ``phase_names`` and
    ``horizon_days``. A phase whose result differs from ``expect[p]`` is a RuntimeError."""
    from simlab.montecarlo_nb import first_at_or_after_nb, next_day_start_nb

    day = np.asarray(day, dtype=np.int64)
    s = int(start)
    end = int(first_at_or_after_nb(day, s, day[s] + setup.horizon_days))
    phases: list[PhasePath] = []
    ledgers: list[np.ndarray] = []
    for p in range(setup.phase_rules.shape[0]):
        if s >= end:
            break
        res, curve, trades = run_phase(p, s, end)
        if not np.array_equal(res[_CHECKED], np.asarray(expect[p])[_CHECKED]):
            raise RuntimeError(
                f"attempt {attempt}, phase {p}: the traced run differs from the Monte Carlo run "
                "(the sample must re-run the same kernel on the same keys)"
            )
        n = curve.shape[0]
        status = L.STATUS_NAMES[int(res[L.RES_STATUS])]
        phases.append(
            daily_path(curve, day[s : s + n], setup.phase_names[p], status, int(day[s] - day[start]))
        )
        ledgers.append(trades)
        if int(res[L.RES_STATUS]) != L.STATUS_PASSED:
            break
        s = int(next_day_start_nb(day, int(res[L.RES_END_BAR])))
    trades = np.concatenate(ledgers) if ledgers else np.zeros((0, L.TR_SIZE))
    hold = time[trades[:, L.TR_EXIT_BAR].astype(np.int64)] - time[trades[:, L.TR_ENTRY_BAR].astype(np.int64)]
    return AttemptTrace(attempt, phases, trades, hold.astype(np.int64))


# ----------------------------------------------------------------------------- summaries


def equity_bands(paths: Sequence[Sequence[PhasePath]], phase_names: Sequence[str]) -> list[dict[str, Any]]:
    """Percentiles of the close equity per calendar day of each phase, over the sampled attempts that
    reached it. An attempt that ended (passed, breached, out of time) keeps its last equity, so the
    bands show where the attempts stand by day d, not only the survivors."""
    out = []
    for name in phase_names:
        ph = [pp for attempt in paths for pp in attempt if pp.phase == name and pp.day.shape[0]]
        if not ph:
            continue
        top = int(max(int(pp.day[-1]) for pp in ph))
        grid = np.arange(1, top + 1)
        vals = np.empty((len(ph), grid.shape[0]))
        for i, pp in enumerate(ph):
            idx = np.searchsorted(pp.day, grid, side="right") - 1
            vals[i] = pp.equity[np.clip(idx, 0, None)]
        q = np.percentile(vals, BAND_PERCENTILES, axis=0)
        band: dict[str, Any] = {"phase": name, "attempts": len(ph), "day": grid.tolist()}
        for k, pct in enumerate(BAND_PERCENTILES):
            band[f"p{pct}"] = _money(q[k])
        out.append(band)
    return out


def session_costs(trades: np.ndarray) -> dict[str, dict[str, Any]]:
    """Money paid per session of the entry: spread, slippage, commission, swap (positive: paid)."""
    out: dict[str, dict[str, Any]] = {}
    ses = trades[:, L.TR_ENTRY_SESSION].astype(np.int64)
    for code, name in enumerate(L.SESSION_NAMES):
        t = trades[ses == code]
        if not t.shape[0]:
            continue
        row = {
            "spread": float(t[:, L.TR_SPREAD_COST].sum()),
            "slippage": float(t[:, L.TR_SLIP_COST].sum()),
            "commission": float(t[:, L.TR_COMMISSION].sum()),
            "swap": float(-t[:, L.TR_SWAP].sum()),  # the ledger's swap is signed, negative = paid
        }
        total = sum(row.values())
        # + 0.0: no "-0.0" in the file for a session that paid no swap
        out[name] = {"trades": int(t.shape[0])} | {k: round(v, 2) + 0.0 for k, v in row.items()}
        out[name]["total"] = round(total, 2) + 0.0
        out[name]["per_trade"] = round(total / t.shape[0], 2) + 0.0
    return out


def trade_stats(
    pnl: np.ndarray,
    hold_ns: np.ndarray | None = None,
    side: np.ndarray | None = None,
    exit_reason: np.ndarray | None = None,
) -> dict[str, Any]:
    """Win rate, average win / loss, profit factor, expectancy (money), holding time, sides, exits."""
    pnl = np.asarray(pnl, dtype=np.float64)
    n = int(pnl.shape[0])
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    gross_win, gross_loss = float(wins.sum()), float(-losses.sum())
    out: dict[str, Any] = {
        "trades": n,
        "wins": int(wins.shape[0]),
        "losses": int(losses.shape[0]),
        "win_rate": wins.shape[0] / n if n else None,
        "avg_win": round(float(wins.mean()), 2) if wins.shape[0] else None,
        "avg_loss": round(float(losses.mean()), 2) if losses.shape[0] else None,
        "largest_win": round(float(wins.max()), 2) if wins.shape[0] else None,
        "largest_loss": round(float(losses.min()), 2) if losses.shape[0] else None,
        "expectancy": round(float(pnl.mean()), 2) if n else None,
        "profit_factor": round(gross_win / gross_loss, 4) if gross_loss > 0 else None,
        "net_pnl": round(float(pnl.sum()), 2),
    }
    if hold_ns is not None and n:
        out["avg_hold_hours"] = round(float(np.mean(hold_ns)) / 3.6e12, 2)
    if side is not None:
        out["long"] = int(np.count_nonzero(side > 0))
        out["short"] = int(np.count_nonzero(side < 0))
    if exit_reason is not None:
        codes, counts = np.unique(exit_reason.astype(np.int64), return_counts=True)
        pairs = sorted(
            ((L.EXIT_NAMES.get(int(c), "?"), int(k)) for c, k in zip(codes, counts)),
            key=lambda x: (-x[1], x[0]),
        )
        out["exit_reasons"] = dict(pairs)
    return out


def ledger_stats(trades: np.ndarray, hold_ns: np.ndarray) -> dict[str, Any]:
    """:func:`trade_stats` of kernel ledger rows (``TR_*``)."""
    return trade_stats(trades[:, L.TR_PNL], hold_ns, trades[:, L.TR_DIR], trades[:, L.TR_EXIT_REASON])


def sample_members(traces: Sequence[AttemptTrace], phase_names: Sequence[str], runs: int) -> dict[str, Any]:
    """The optional challenge-body members of a bar-mode sample (see the module docstring)."""
    k = len(traces)
    trades = np.concatenate([t.trades for t in traces]) if traces else np.zeros((0, L.TR_SIZE))
    hold = np.concatenate([t.hold_ns for t in traces]) if traces else np.zeros(0, dtype=np.int64)
    return {
        "sample": sample_note(k, runs),
        "equity_paths": [{"attempt": t.attempt, "phases": [p.to_json() for p in t.phases]} for t in traces],
        "equity_bands": equity_bands([t.phases for t in traces], phase_names),
        "session_costs": session_costs(trades),
        "trade_stats": ledger_stats(trades, hold) | {"from": f"the first {k} attempts"},
    }


def sample_note(k: int, runs: int) -> dict[str, Any]:
    return {
        "attempts": int(k),
        "of": int(runs),
        "which": f"the first {k} attempts (0 .. {k - 1}): attempts are i.i.d., so they are a random sample; "
        "each is re-run with a ledger and a daily curve, checked against the run's own result",
    }


def trace_first(
    runs: int, tracer: Callable[[int], AttemptTrace], k: int = SAMPLE_ATTEMPTS
) -> list[AttemptTrace]:
    """Attempts 0 .. min(runs, k) - 1 through ``tracer``."""
    return [tracer(a) for a in range(min(int(runs), int(k)))]


def paths_by_phase(paths_json: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """``equity_paths`` regrouped: phase name -> [{"attempt", phase path...}] (for drawing)."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for item in paths_json:
        for ph in item.get("phases", []):
            out.setdefault(str(ph["phase"]), []).append({"attempt": item["attempt"], **ph})
    return out


__all__ = [
    "SAMPLE_ATTEMPTS",
    "AttemptTrace",
    "PhasePath",
    "daily_path",
    "equity_bands",
    "ledger_stats",
    "paths_by_phase",
    "sample_members",
    "sample_note",
    "session_costs",
    "trace_attempt",
    "trace_first",
    "trace_phases",
    "trade_stats",
]
