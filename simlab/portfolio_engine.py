"""The friendly face of the portfolio kernel: legs in, the account's trades, curve and statistics out.

``run_portfolio_backtest`` runs ``simlab.portfolio_nb.simulate_portfolio_nb`` over the grid;
``run_portfolio_challenge`` runs Monte Carlo attempts through every phase of a program, starting on
days of the shared grid as a single-symbol run does (``simlab.montecarlo``), on threads
(``simlab.runner``): any number of workers gives the same bytes.

The account-level result is a ``simlab.engine.BacktestResult`` on the grid (its ``bars`` hold the
grid's times), so every statistic of a single-symbol backtest means the same for a portfolio; what
belongs to a leg (its trades, costs and their sessions) comes from ``leg_result(i)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simlab import layout as L
from simlab.engine import (
    BacktestResult,
    CostSetup,
    IntentArrays,
    check_range,
    config_vector,
    kernel_params,
    no_rules,
    readonly,
)
from simlab.portfolio_market import PortfolioMarket, stack_costs

__all__ = ["LegSettings", "PortfolioBacktest", "run_portfolio_backtest", "run_portfolio_challenge"]


@dataclass(frozen=True)
class LegSettings:
    """How each leg trades: its cost setup, risk (fraction of the account's equity) or fixed volume."""

    costs: tuple[CostSetup, ...]
    risk: tuple[float, ...]
    volume: tuple[float, ...]

    def cfg(self, initial_balance: float, sl_first: bool = True) -> np.ndarray:
        """(L, CFG_SIZE): every leg's engine vector."""
        return np.stack(
            [
                config_vector(
                    initial_balance=initial_balance, risk=r, fixed_volume=v, sl_first=sl_first, costs=c
                )
                for c, r, v in zip(self.costs, self.risk, self.volume)
            ]
        )


def _legs(market: PortfolioMarket, seed: int) -> L.Legs:
    from simlab.portfolio_nb import leg_seeds

    return market.legs(leg_seeds(seed, market.n_legs))


@dataclass
class PortfolioBacktest:
    """A portfolio run: the account on the grid (``account``) and the leg of each of its trades."""

    market: PortfolioMarket
    account: BacktestResult
    trade_leg: np.ndarray  # (n_trades,) leg index of each row of account.trades_raw
    leg_counts: np.ndarray  # (L, LEG_SIZE)

    def leg_result(self, i: int) -> BacktestResult:
        """Leg i's trades as a result of their own (its symbol and point: costs in its points)."""
        a = self.account
        spec = self.market.specs[i]
        return BacktestResult(
            bars=a.bars,
            market=a.market,
            trades_raw=a.trades_raw[self.trade_leg == i],
            curve=a.curve,
            res=a.res,
            start=a.start,
            symbol=self.market.names[i],
            point=float(spec.point),
            initial_balance=a.initial_balance,
            cost_name=a.cost_name,
            seed=a.seed,
        )


def run_portfolio_backtest(
    market: PortfolioMarket,
    intents: Sequence[IntentArrays],
    legs: LegSettings,
    *,
    rules: np.ndarray | None = None,
    gov: np.ndarray | None = None,
    initial_balance: float = 100_000.0,
    sl_first: bool = True,
    seed: int = 0,
    attempt: int = 0,
    start: int = 0,
    end: int | None = None,
    record_curve: bool = True,
    close_at_end: bool = True,
) -> PortfolioBacktest:
    """Run the portfolio over grid rows [start, end) and collect the result."""
    from simlab.governors_nb import no_governors
    from simlab.portfolio_nb import new_book, simulate_portfolio_nb

    end = check_range(len(market), start, end, "row")
    sig = market.signals(intents)
    cap = int(
        np.count_nonzero((sig.dir[:, start:end] == L.DIR_LONG) | (sig.dir[:, start:end] == L.DIR_SHORT))
    )
    bk = new_book(market.n_legs, cap + market.n_legs)
    prm = kernel_params(
        market.sym_matrix(),
        legs.cfg(initial_balance, sl_first),
        no_rules() if rules is None else rules,
        no_governors() if gov is None else gov,
    )
    curve = np.zeros((end - start if record_curve else 0, L.CURVE_SIZE))
    simulate_portfolio_nb(
        market.clock(), market.quotes(), _legs(market, seed), sig, prm, stack_costs(legs.costs), int(attempt),
        int(start), int(end), bk, curve, bool(close_at_end),
    )  # fmt: skip
    res = bk.res
    n_tr = int(min(res[L.RES_N_TRADES], bk.trades.shape[0]))
    ran = int(res[L.RES_END_BAR]) - start + 1
    account = BacktestResult(
        bars=market.calendar.bars,
        market=market.calendar,
        trades_raw=bk.trades[:n_tr].copy(),
        curve=curve[:ran] if record_curve else curve,
        res=res,
        start=start,
        symbol="+".join(market.names),
        point=float("nan"),
        initial_balance=initial_balance,
        cost_name=", ".join(c.name for c in legs.costs),
        seed=seed,
    )
    return PortfolioBacktest(market, account, bk.trade_leg[:n_tr].copy(), bk.legs.copy())


@dataclass
class _Hold:
    """No intents on the grid: the account-level setup's (each leg's intents are the legs')."""

    dir: np.ndarray
    sl: np.ndarray
    tp: np.ndarray
    size: np.ndarray

    @classmethod
    def of(cls, n: int) -> _Hold:
        nan = np.full(n, np.nan)
        return cls(np.zeros(n, dtype=np.int8), nan, nan, nan)


@dataclass
class PortfolioChallengeSetup:
    """A portfolio's Monte Carlo run: the market, each leg's intents and settings, the program."""

    market: PortfolioMarket
    intents: Sequence[IntentArrays]
    legs: LegSettings
    phase_rules: np.ndarray  # (n_phases, RULE_SIZE)
    phase_names: list[str]
    gov: np.ndarray
    initial_balance: float = 100_000.0
    horizon_days: int = 120
    warmups: Sequence[int] = ()
    seed: int = 7
    meta: dict[str, Any] = field(default_factory=dict)


def run_portfolio_challenge(
    setup: PortfolioChallengeSetup,
    runs: int,
    *,
    workers: int | None = None,
    progress: bool | None = None,
    where: str = "data",
) -> tuple[Any, np.ndarray]:
    """Run ``runs`` attempts; returns the ``simlab.montecarlo.ChallengeResult`` of the account and each
    attempt's per-leg counts (runs, n_phases, L, LEG_SIZE)."""
    from simlab.montecarlo import ChallengeResult, ChallengeSetup, default_workers, start_days
    from simlab.portfolio_nb import run_portfolio_attempts_nb
    from simlab.runner import run_range

    m = setup.market
    warmup = m.warmup_row(setup.warmups or [0] * m.n_legs)
    starts, exclusion = start_days(m.calendar, setup.horizon_days, warmup, where, holes=m.holes())
    args = (
        m.clock(), m.quotes(), _legs(m, setup.seed), m.signals(setup.intents),
        kernel_params(m.sym_matrix(), setup.legs.cfg(setup.initial_balance), setup.phase_rules, setup.gov),
        stack_costs(setup.legs.costs), int(setup.seed), readonly(starts, np.int64), int(setup.horizon_days),
    )  # fmt: skip
    n_phases = int(setup.phase_rules.shape[0])
    out = np.zeros((runs, n_phases, L.RES_SIZE))
    leg_out = np.zeros((runs, n_phases, m.n_legs, L.LEG_SIZE))
    first = np.zeros(runs, dtype=np.int64)

    def work(lo: int, hi: int) -> None:
        run_portfolio_attempts_nb(lo, hi - lo, *args, out[lo:hi], leg_out[lo:hi], first[lo:hi])  # type: ignore[call-arg]

    run_range(work, runs, workers=default_workers(workers), progress=progress)
    account = ChallengeSetup(
        market=m.calendar,
        intents=_Hold.of(len(m)),
        spec=m.specs[0],
        phase_rules=setup.phase_rules,
        phase_names=setup.phase_names,
        gov=setup.gov,
        costs=setup.legs.costs[0],
        initial_balance=setup.initial_balance,
        horizon_days=setup.horizon_days,
        warmup_bars=warmup,
        seed=setup.seed,
        meta=dict(setup.meta),
    )

    def tracer(a: int) -> Any:
        from simlab.sample import trace_phases

        def run_phase(p: int, s: int, end: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            r = run_portfolio_backtest(
                m, setup.intents, setup.legs, rules=setup.phase_rules[p], gov=setup.gov,
                initial_balance=setup.initial_balance, seed=setup.seed, attempt=a, start=s, end=end,
            )  # fmt: skip
            return r.account.res, r.account.curve, r.account.trades_raw

        return trace_phases(setup, m.calendar.day, m.calendar.bars.time, a, int(first[a]), out[a], run_phase)

    return ChallengeResult(account, out, first, exclusion=exclusion, tracer=tracer), leg_out
