"""``simlab sweep``: with which risk, parameters, governors and firm would this strategy pass most often?

The options of ``simlab challenge`` (every one of them, in every mode), plus grid axes
(``--grid risk=0.0025:0.02:8``, ``--grid fast=10,20,30``, ``--grid program=ftmo-2step,e8-one``,
``--grid gov.daily_buffer_pct=1,1.5,2``, ``--grid size=...``, ``--grid horizon=...``), an objective
(``--objective pass_rate|ev|days``) and where to run (threads here, ``--dask local``, or
``--scheduler tcp://host:8786``). Every cell is exactly the ``simlab challenge`` run of its settings
and seed (its ``command`` is recorded). The best cell is then checked on attempts it was not chosen
on: fresh seeds, and a walk-forward split of the data (``simlab.sweep``).
"""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Any

from simlab_cli.commands import _common as C
from simlab_cli.commands import challenge as CH

EV_ONLY = {"fee": "only the ev objective uses it (--objective ev)", "payout": "only --objective ev uses it"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    CH.add_arguments(p)  # every option of simlab challenge, as it is there
    g = p.add_argument_group("sweep")
    g.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=VALUES",
        help="an axis of the grid (repeatable): lo:hi:n (n values, both ends included) or a,b,c; NAME is "
        "risk, program, size, horizon, trade_scale (--trades), gov.<governor field> or a strategy parameter",
    )
    g.add_argument(
        "--objective",
        choices=("pass_rate", "ev", "days"),
        default="pass_rate",
        help="what the best cell maximises: pass_rate (default), ev (expected money per attempt given the "
        "program's fee and payout), days (the median days to pass, lowest wins)",
    )
    g.add_argument(
        "--fee",
        type=C.nonnegative_float,
        default=None,
        metavar="MONEY",
        help="--objective ev: the fee of every cell, in the account currency (default: the rule file's)",
    )
    g.add_argument(
        "--payout",
        type=C.nonnegative_float,
        default=None,
        metavar="MONEY",
        help="--objective ev: the money paid once funded, per pass (default: one payout of the profit split "
        "of the first phase's target)",
    )
    g.add_argument(
        "--split",
        default="0.5",
        metavar="F|DATE|off",
        help="walk-forward check: choose on the data before this point, report on the data after it: a "
        "fraction of the time span (default 0.5, moved to the next weekend), a date, or off",
    )
    g.add_argument(
        "--dask",
        choices=("local",),
        default=None,
        help="run the cells on a local Dask cluster of worker processes (the dask extra)",
    )
    g.add_argument(
        "--dask-workers",
        type=C.positive_int,
        default=None,
        metavar="N",
        help="--dask local: worker processes (default: every core)",
    )
    g.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the cells on an existing Dask cluster, e.g. tcp://host:8786 (the dask extra; every worker "
        "needs the same simlab and reads nothing from disk: the data are sent once to each)",
    )


def _target(args: argparse.Namespace) -> Any:
    from simlab.errors import ConfigError
    from simlab.scaleout import Target, require_dask

    given = C.given(args)
    if args.dask and args.scheduler:
        raise ConfigError("--scheduler", "give --dask local or --scheduler, not both")
    if "dask_workers" in given and not args.dask:
        raise ConfigError("--dask-workers", "sets the workers of --dask local; --dask local is not given")
    if args.dask or args.scheduler:
        if "workers" in given:
            raise ConfigError(
                "--workers", "the Dask workers run the cells (--dask-workers N with --dask local)"
            )
        require_dask("--dask" if args.dask else "--scheduler")
        return Target.local(args.dask_workers) if args.dask else Target.scheduler(args.scheduler)
    return Target("threads", args.workers)


def run(args: argparse.Namespace) -> int:
    from simlab.atomic import check_output_paths
    from simlab.errors import ConfigError
    from simlab.grid import check_axes, grid_cells, parse_axis
    from simlab_cli.sweep_grid import type_axis

    args._given = C.given(args)  # asked once: every cell's namespace carries it
    from simlab_cli import portfolio as PF

    PF.refuse_leg_options(args, "simlab sweep")
    trade_mode = bool(args.trades)
    mode = "trade-list mode (--trades)" if trade_mode else "bar mode (no --trades)"
    C.refuse_given(args, CH.BAR_ONLY if trade_mode else CH.TRADE_LIST_ONLY, mode)
    C.refuse_given(
        args,
        {
            "min_pass_rate": "a sweep has no single pass rate; gate on a simlab challenge run of the chosen cell"
        },
        "simlab sweep",
    )
    if args.objective != "ev":
        C.refuse_given(args, EV_ONLY, f"--objective {args.objective}")
    target = _target(args)
    if not args.grid:
        raise ConfigError("--grid", "no axis given, e.g. --grid risk=0.005:0.02:4 (see simlab sweep --help)")
    axes = [parse_axis(text) for text in args.grid]
    check_axes(axes)
    strategy_cls = None
    if not trade_mode:
        from strategies.registry import load_strategy_class

        strategy_cls = load_strategy_class(args.strategy)
    typed = [type_axis(a, args, strategy_cls, trade_mode) for a in axes]
    if not trade_mode:
        if "risk" not in [a.name for a in axes] and not 0.0 < args.risk <= 0.2:
            raise ConfigError("--risk", f"{args.risk} is outside (0, 0.2]; give a fraction, e.g. 0.01 for 1%")
        C.refuse_given_on_bundled(args)
    if args.split.strip().lower() != "off":
        from simlab.sweep import parse_split

        parse_split(args.split)  # the text, before anything is read
    check_output_paths({"--json": args.json, "--html": args.html}, C.input_paths(args))
    if args.html:
        _require_plotly()
    from simlab_cli.sweep_plan import plan_sweep

    plan = plan_sweep(args, typed, grid_cells(axes), trade_mode)
    return _execute(args, plan, target)


def _require_plotly() -> None:
    from simlab.errors import ConfigError

    try:
        import plotly  # noqa: F401

        import reports.sweep  # noqa: F401  (before the work: a report that cannot be drawn fails now)
    except ImportError:
        raise ConfigError("--html", "the heat map needs plotly: pip install 'simlab[report]'") from None


def _execute(args: argparse.Namespace, plan: Any, target: Any) -> int:
    from simlab.scaleout import TasksInterrupted, run_tasks
    from simlab_cli.sweep_cells import run_cell, ship_user_code, warm_kernels

    if target.uses_dask:
        ship_user_code([c.run for c in plan.cells])
    warm = functools.partial(warm_kernels, plan.cells[0].run)
    tasks = plan.first_batch()
    try:
        outcomes = run_tasks(run_cell, tasks, plan.data, target=target, warm=warm, label="cells")
    except TasksInterrupted as exc:
        _say_finished(plan, exc.done, len(plan.cells))
        raise
    plan.take_first(outcomes)
    tasks = plan.second_batch()
    try:
        plan.take_second(run_tasks(run_cell, tasks, plan.data, target=target, warm=warm, label="checks"))
    except TasksInterrupted:
        print(
            f"simlab sweep: all {len(plan.cells)} cells finished; the selection check was interrupted",
            file=sys.stderr,
        )
        raise
    C.show_and_write(args, plan.document())
    return 0


def _say_finished(plan: Any, done: list[int], n_cells: int) -> None:
    """Ctrl-C: which cells had finished (stderr; nothing is written)."""
    from simlab_cli.sweep_grid import cell_label

    cells = [i for i in done if i < n_cells]
    print(f"simlab sweep: {len(cells)} of {n_cells} cells finished", file=sys.stderr, end="")
    if cells:
        shown = cells[:20]
        more = f", and {len(cells) - len(shown)} more" if len(cells) > len(shown) else ""
        labels = "; ".join(f"#{i} {cell_label(plan.cells[i].settings)}" for i in shown)
        print(f": {labels}{more}", file=sys.stderr)
    else:
        print(file=sys.stderr)
