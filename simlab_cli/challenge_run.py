"""One challenge run resolved from the options, apart from its data: what ``simlab challenge`` runs, and
what every cell of ``simlab sweep`` runs (in this process, or on a Dask worker that holds the data).

A :class:`BarRun` (bar and day-bootstrap modes) or :class:`TradeListRun` (trade-list mode) holds every
setting of a run as resolved objects (the program, the governors, the symbol, the strategy, the cost
tables), small and picklable; ``execute(data)`` builds the calendar, the signals and the setup and runs
the attempts through the public Monte Carlo API (``simlab.montecarlo.run_challenge``,
``simlab.bootstrap.run_bootstrap_challenge``, ``challenges.trade_list.evaluate_trades``). Both commands
go through here, so a sweep's cell is the ``simlab challenge`` run of its settings by construction.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from challenges.governors import GovernorConfig
    from challenges.rules import Program
    from challenges.trade_list import TradeList, TradeListResult
    from simlab.bars import Bars
    from simlab.engine import CostSetup
    from simlab.montecarlo import ChallengeResult


@dataclass(frozen=True)
class BarRun:
    """A bar-mode (or day-bootstrap) challenge run: everything but the bars."""

    program: Program
    size: float
    horizon: int
    gov: GovernorConfig
    spec: Any  # simlab.symbols.SymbolSpec
    strategy: Any  # strategies.base.Strategy
    strategy_spec: str  # the strategy as named (--strategy): messages and the setup's notes
    costs: CostSetup
    risk: float
    seed: int
    runs: int
    bootstrap_days: int = 0

    @classmethod
    def from_args(
        cls,
        args: Any,
        *,
        program: Program,
        size: float,
        horizon: int,
        gov: GovernorConfig,
        spec: Any,
        strategy: Any,
        costs: CostSetup,
    ) -> BarRun:
        """The run of ``simlab challenge``'s options ``args`` (risk, seed, runs, bootstrap days, the
        strategy's name) with the pieces resolved from them."""
        return cls(
            program=program,
            size=size,
            horizon=horizon,
            gov=gov,
            spec=spec,
            strategy=strategy,
            strategy_spec=args.strategy,
            costs=costs,
            risk=args.risk,
            seed=args.seed,
            runs=args.runs,
            bootstrap_days=int(args.bootstrap_days),
        )

    def with_seed(self, seed: int) -> BarRun:
        return dataclasses.replace(self, seed=int(seed))

    @property
    def closed_loop(self) -> bool:
        """A strategy that reads its own account (an RL policy) plays each attempt in the closed loop."""
        return getattr(self.strategy, "run_challenge", None) is not None

    def execute(
        self, bars: Bars, *, workers: int | None = None, progress: bool | None = None, where: str = "data"
    ) -> ChallengeResult:
        """Run the attempts on ``bars`` with ``workers`` threads (results do not depend on it)."""
        from simlab.bootstrap import MarketSettings, run_bootstrap_challenge
        from simlab.errors import ConfigError
        from simlab.montecarlo import ChallengeSetup, run_challenge
        from strategies.base import Intents

        calendar = MarketSettings.of(self.program, self.spec, self.gov)
        market = calendar.build(bars)
        closed_loop = getattr(self.strategy, "run_challenge", None)
        if closed_loop is not None and self.bootstrap_days:
            raise ConfigError(
                "--bootstrap-days",
                f"{self.strategy_spec} plays each attempt in the closed loop; drop --bootstrap-days",
            )
        if closed_loop is None and not self.bootstrap_days:
            intents = self.strategy.signals(bars)
        else:  # computed on each attempt's resampled history (or decided in the closed loop) instead
            intents = Intents.hold(len(bars))
        setup = ChallengeSetup(
            market=market,
            intents=intents,
            spec=self.spec,
            phase_rules=self.program.rule_matrix(),
            phase_names=[ph.name for ph in self.program.phases],
            gov=self.gov.to_vector(),
            costs=self.costs,
            initial_balance=self.size,
            risk=self.risk,
            horizon_days=self.horizon,
            warmup_bars=int(getattr(self.strategy, "warmup", 0) or 0),
            seed=self.seed,
            meta={"program": self.program.name, "strategy": self.strategy_spec},
        )
        if self.bootstrap_days:
            return run_bootstrap_challenge(
                setup,
                self.runs,
                self.strategy,
                self.bootstrap_days,
                calendar,
                workers=workers,
                progress=progress,
                where=where,
            )
        if closed_loop is not None:
            return closed_loop(setup, self.runs, workers=workers)  # type: ignore[no-any-return]
        return run_challenge(setup, self.runs, workers=workers, progress=progress, where=where)


@dataclass(frozen=True)
class TradeListRun:
    """A trade-list challenge run: everything but the trades."""

    program: Program
    size: float
    horizon: int
    post_target_risk_mult: float
    trade_scale: float
    seed: int
    runs: int
    block_days: int = 1

    @classmethod
    def from_args(
        cls, args: Any, *, program: Program, size: float, horizon: int, gov: GovernorConfig
    ) -> TradeListRun:
        """The run of ``simlab challenge --trades`` options ``args`` (trade scale, seed, runs, block)."""
        return cls(
            program=program,
            size=size,
            horizon=horizon,
            post_target_risk_mult=gov.post_target_risk_mult,
            trade_scale=args.trade_scale,
            seed=args.seed,
            runs=args.runs,
            block_days=max(1, args.bootstrap_days),
        )

    def with_seed(self, seed: int) -> TradeListRun:
        return dataclasses.replace(self, seed=int(seed))

    def execute(
        self, trades: TradeList, *, workers: int | None = None, progress: bool | None = None
    ) -> TradeListResult:
        import os

        from challenges.trade_list import evaluate_trades

        return evaluate_trades(
            trades,
            self.program,
            self.size,
            seed=self.seed,
            n_runs=self.runs,
            block_days=self.block_days,
            risk=self.trade_scale,
            post_target_risk_mult=self.post_target_risk_mult,
            max_trading_days=self.horizon,  # weekdays never outnumber calendar days: the horizon binds
            horizon_days=self.horizon,
            workers=workers or os.cpu_count() or 1,
            progress=progress,
        )


__all__ = ["BarRun", "TradeListRun"]
