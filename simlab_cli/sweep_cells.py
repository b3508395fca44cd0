"""The task of one sweep cell: a challenge run on the shared data, reduced to what the sweep keeps.

:func:`run_cell` is what ``simlab.scaleout.run_tasks`` calls, in this process or on a Dask worker: it
takes a :class:`CellTask` (a resolved ``BarRun`` or ``TradeListRun``, and which rows of the data it
runs on) and the shared data (bars, or a trade list), runs the challenge exactly as ``simlab
challenge`` does (``simlab_cli.challenge_run``), and returns the result body's summary and sha256
(``simlab.sweep.cell_summary``) and whether it traded. :func:`warm_kernels` compiles (or loads from
numba's cache) the kernels a sweep needs, once per Dask worker, on a few days of synthetic data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from simlab_cli.challenge_run import BarRun, TradeListRun


@dataclass(frozen=True)
class CellTask:
    """One challenge run of a sweep: ``run`` on rows ``part`` (lo, hi) of the shared data (None: all)."""

    run: BarRun | TradeListRun
    part: tuple[int, int] | None = None
    where: str = "data"


def slice_trades(trades: Any, lo: int, hi: int) -> Any:
    """Trades lo .. hi-1 of a ``challenges.trade_list.TradeList`` (sorted by open time), as a TradeList."""

    def cut(a: Any) -> Any:
        return None if a is None else a[lo:hi]

    return dataclasses.replace(
        trades,
        open_ns=trades.open_ns[lo:hi],
        close_ns=trades.close_ns[lo:hi],
        pnl=trades.pnl[lo:hi],
        mae=cut(trades.mae),
        mfe=cut(trades.mfe),
        symbol=None if trades.symbol is None else trades.symbol[lo:hi],
    )


def run_cell(task: CellTask, data: Any, threads: int) -> dict[str, Any]:
    """``{"summary", "result_sha256", "traded", "no_trades"}`` of the cell's challenge run.

    ``no_trades``: the one-line reason when no attempt traded (``simlab challenge`` refuses such a run
    without ``--allow-no-trades``; the sweep keeps the cell and leaves it out of the choice).
    """
    from simlab.errors import SimlabError
    from simlab.sweep import cell_summary

    run = task.run
    traded, reason = True, None
    if isinstance(run, TradeListRun):
        trades = data if task.part is None else slice_trades(data, *task.part)
        result: Any = run.execute(trades, workers=threads, progress=False)
    else:
        bars = data if task.part is None else data.slice(*task.part)
        result = run.execute(bars, workers=threads, progress=False, where=task.where)
        from simlab.refusals import OrderContext, check_traded

        try:
            check_traded(
                result.n_trades(),
                result.refusals(),
                OrderContext.of(run.spec, run.risk),
                f"in {run.runs} attempts",
            )
        except SimlabError as exc:
            traded, reason = False, str(exc)
    summary, sha = cell_summary(result.to_json())
    return {"summary": summary, "result_sha256": sha, "traded": traded, "no_trades": reason}


def ship_user_code(runs: list[BarRun | TradeListRun]) -> None:
    """Strategies loaded from a file (``--strategy my.py``) live in a module only this process can
    import (``strategies.registry`` names it ``simlab_user_strategy_<hash>``): their code travels with
    the tasks to the Dask workers (pickled by value) instead of being looked up there by name."""
    import sys

    import cloudpickle

    for run in runs:
        module = sys.modules.get(type(getattr(run, "strategy", None)).__module__)
        if module is not None and module.__name__.startswith("simlab_user_strategy_"):
            cloudpickle.register_pickle_by_value(module)


def warm_kernels(run: BarRun | TradeListRun) -> None:
    """Run ``run``'s kind of challenge on a few weeks of synthetic data: the kernels it needs get
    compiled, or loaded from numba's cache, before the worker's first task (never fails: the real
    task reports any problem)."""
    import contextlib

    with contextlib.suppress(Exception):
        if isinstance(run, TradeListRun):
            from challenges.trade_list import trades_from_arrays
            from simlab.calendar import NS_DAY, NS_HOUR, NS_S

            t0 = 1_704_067_200 * NS_S + 9 * NS_HOUR  # 2024-01-01 09:00 UTC, a Monday
            opens = [t0 + k * NS_DAY for k in range(10)]
            trades = trades_from_arrays(opens, [t + NS_HOUR for t in opens], [50.0, -30.0] * 5)
            dataclasses.replace(run, runs=2, horizon=min(run.horizon, 30)).execute(trades, workers=1)
            return
        from simlab.synthetic import synthetic_eurusd

        bars = synthetic_eurusd(n_days=60, timeframe="1h", seed=1)
        dataclasses.replace(run, runs=2, horizon=20).execute(bars, workers=1, progress=False)


__all__ = ["CellTask", "run_cell", "ship_user_code", "slice_trades", "warm_kernels"]
