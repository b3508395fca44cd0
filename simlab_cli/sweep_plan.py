"""A sweep from its options to its result document: the cells, their runs, the choice and its check.

:func:`plan_sweep` resolves everything before any work (one-line errors naming the axis, the option or
the cell): the shared data, every cell's ``simlab challenge`` settings as a ``BarRun`` /
``TradeListRun`` and its canonical command, the EV terms, the look-ahead check of every strategy
configuration, and the walk-forward split (both parts must hold an attempt of every cell). The
:class:`SweepPlan` then hands out the tasks in two batches (the grid on all the data and on the
earlier part; then the fresh-seed and the later-part runs of the chosen cells) and builds the
``simlab.result/1`` document of kind ``sweep`` (layout: ``simlab.sweep``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from simlab.errors import ConfigError, InputError
from simlab_cli.commands import _common as C
from simlab_cli.commands import challenge as CH
from simlab_cli.sweep_cells import CellTask
from simlab_cli.sweep_grid import TypedAxis, cell_label, cell_namespace, json_value

T = TypeVar("T")
DASK_OPTIONS = ("dask", "dask_workers", "scheduler")


@dataclass
class Cell:
    index: int
    settings: dict[str, Any]  # axis -> value (as the JSON records it)
    run: Any  # BarRun | TradeListRun
    argv: list[str]  # the canonical simlab challenge command of the cell
    ev: Any = None  # simlab.sweep.EvTerms with --objective ev
    outcome: dict[str, Any] | None = None  # on all the data (simlab_cli.sweep_cells.run_cell)
    earlier: dict[str, Any] | None = None  # on the walk-forward's earlier part


@dataclass
class SweepPlan:
    args: argparse.Namespace
    axes: list[TypedAxis]
    cells: list[Cell]
    data: Any  # Bars, or a TradeList
    times: Any  # the rows' times (bars' open times, trades' open times)
    provenance: dict[str, Any]
    mode: str
    split: tuple[int, str] | None  # (first later row, the rule in words); None: --split off
    best: int | None = None
    chosen: int | None = None  # the walk-forward's choice on the earlier part
    fresh: dict[str, Any] | None = None
    later: dict[str, Any] | None = None
    n_rows: int = 0
    where: str = "data"
    _second: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ batches
    def first_batch(self) -> list[CellTask]:
        """The grid on all the data, then (walk-forward) the grid on the earlier part."""
        tasks = [CellTask(c.run, None, self.where) for c in self.cells]
        if self.split is not None:
            tasks += [CellTask(c.run, (0, self.split[0]), self.where) for c in self.cells]
        return tasks

    def take_first(self, outcomes: Sequence[dict[str, Any]]) -> None:
        """Keep the grid's outcomes and choose; no cell that traded at all is an error, as in a challenge."""
        from simlab.errors import SimlabError

        n = len(self.cells)
        for c, o in zip(self.cells, outcomes[:n]):
            c.outcome = o
        if not self.args.allow_no_trades and not any(o["traded"] for o in outcomes[:n]):
            raise SimlabError(f"no cell traded; cell #0: {outcomes[0]['no_trades']}")
        self.best = self._choose([c.outcome for c in self.cells])
        if self.split is not None:
            for c, o in zip(self.cells, outcomes[n:]):
                c.earlier = o
            self.chosen = self._choose([c.earlier for c in self.cells])

    def second_batch(self) -> list[CellTask]:
        """The best cell with fresh seeds; the walk-forward's choice on the later part."""
        from simlab.sweep import fresh_seed

        tasks, self._second = [], []
        if self.best is not None:
            run = self.cells[self.best].run.with_seed(fresh_seed(self.args.seed))
            tasks.append(CellTask(run, None, self.where))
            self._second.append("fresh")
        if self.split is not None and self.chosen is not None:
            tasks.append(CellTask(self.cells[self.chosen].run, (self.split[0], self.n_rows), self.where))
            self._second.append("later")
        return tasks

    def take_second(self, outcomes: Sequence[dict[str, Any]]) -> None:
        for what, o in zip(self._second, outcomes):
            setattr(self, what, o)

    # ------------------------------------------------------------------ choice
    def _eligible(self, o: dict[str, Any] | None) -> bool:
        return o is not None and (bool(o["traded"]) or bool(self.args.allow_no_trades))

    def _value(self, c: Cell, o: dict[str, Any] | None) -> float | None:
        from simlab.sweep import objective_value

        return None if o is None else objective_value(self.args.objective, o["summary"], c.ev)

    def _choose(self, outcomes: Sequence[dict[str, Any] | None]) -> int | None:
        from simlab.sweep import choose_best

        return choose_best(
            self.args.objective,
            [self._value(c, o) for c, o in zip(self.cells, outcomes)],
            [0.0 if o is None else float(o["summary"]["pass_rate"]["rate"]) for o in outcomes],
            [self._eligible(o) for o in outcomes],
        )

    # ------------------------------------------------------------------ document
    def _figures(self, c: Cell, o: dict[str, Any]) -> dict[str, Any]:
        from simlab.sweep import rate_record

        s = o["summary"]
        return {
            "pass_rate": rate_record(s),
            "objective": self._value(c, o),
            "days_to_pass": s["days_to_pass"],
            "result_sha256": o["result_sha256"],
        }

    def _cell_record(self, c: Cell) -> dict[str, Any]:
        from simlab_cli import provenance as P

        assert c.outcome is not None
        rec: dict[str, Any] = {
            "cell": c.index,
            "settings": c.settings,
            "command": P.command_line(c.argv),
            "objective": self._value(c, c.outcome),
            "traded": bool(c.outcome["traded"]),
        }
        if c.outcome["no_trades"]:
            rec["no_trades"] = c.outcome["no_trades"]
        if c.ev is not None:
            rec["ev"] = c.ev.to_json()
        rec["result_sha256"] = c.outcome["result_sha256"]
        rec["summary"] = c.outcome["summary"]
        return rec

    def _selection_check(self) -> dict[str, Any]:
        from simlab.sweep import fresh_seed, part_info

        eligible = sum(self._eligible(c.outcome) for c in self.cells)
        if self.best is None:
            return {
                "cells": eligible,
                "ran": False,
                "reason": "no cell traded (--allow-no-trades counts them)",
            }
        b = self.cells[self.best]
        assert b.outcome is not None and self.fresh is not None
        check: dict[str, Any] = {
            "cells": eligible,
            "in_sample": {"cell": b.index} | self._figures(b, b.outcome),
            "fresh_seeds": {"seed": fresh_seed(self.args.seed)} | self._figures(b, self.fresh),
        }
        if self.split is None:
            check["walk_forward"] = {"ran": False, "reason": "--split off"}
            return check
        k, rule = self.split
        split = {
            "at": part_info(self.times, k, k + 1)["first"],
            "rule": rule,
            "earlier": part_info(self.times, 0, k),
            "later": part_info(self.times, k, self.n_rows),
        }
        if self.chosen is None:
            check["walk_forward"] = {
                "ran": False,
                "split": split,
                "reason": "no cell traded on the earlier part",
            }
            return check
        c = self.cells[self.chosen]
        assert c.earlier is not None and self.later is not None
        check["walk_forward"] = {
            "split": split,
            "chosen": {"cell": c.index, "settings": c.settings} | self._figures(c, c.earlier),
            "later": self._figures(c, self.later),
        }
        return check

    def document(self) -> dict[str, Any]:
        from simlab.results import envelope
        from simlab.sweep import OBJECTIVES

        goal, label = OBJECTIVES[self.args.objective]
        objective: dict[str, Any] = {"name": self.args.objective, "label": label, "goal": goal}
        if self.args.objective == "ev":
            objective["assumes"] = ev_assumptions(self.args)
        best = None
        if self.best is not None:
            b = self.cells[self.best]
            assert b.outcome is not None
            best = {
                "cell": b.index,
                "settings": b.settings,
                "command": self.provenance_command(b),
                "objective": self._value(b, b.outcome),
                "pass_rate": b.outcome["summary"]["pass_rate"],
            }
        body = {
            "runs": int(self.args.runs),
            "objective": objective,
            "axes": [a.to_json() for a in self.axes],
            "cells": [self._cell_record(c) for c in self.cells],
            "best": best,
            "selection_check": self._selection_check(),
        }
        return envelope("sweep", self.mode, self.provenance, body)

    @staticmethod
    def provenance_command(c: Cell) -> str:
        from simlab_cli import provenance as P

        return P.command_line(c.argv)


# ----------------------------------------------------------------------------- planning


def _in_cell(axes: Sequence[str], label: str, fn: Callable[..., T], *fn_args: Any) -> T:
    """``fn(*fn_args)``; a ConfigError names the first axis involved and the cell (when an axis is involved)."""
    try:
        return fn(*fn_args)
    except ConfigError as exc:
        if axes:
            raise ConfigError(f"--grid {axes[0]}", f"cell {label}: {exc}") from None
        raise


def ev_terms(args: argparse.Namespace, program: Any, size: float) -> Any:
    """The EV objective's fee, payout and refund of one cell (one-line error naming what is missing)."""
    from simlab.sweep import EvTerms

    fee_rec = program.fee
    if args.fee is not None:
        fee, fee_src = float(args.fee), "--fee"
    else:
        if fee_rec is None:
            raise ConfigError(
                "--objective", f"ev: {program.name}'s rule file gives no fee; give --fee ({program.currency})"
            )
        amount = fee_rec.for_size(size)
        if amount is None:
            raise ConfigError(
                "--objective",
                f"ev: {program.name}'s rule file gives no fee for the {size:,.0f} account; give --fee",
            )
        if fee_rec.currency != program.currency:
            raise ConfigError(
                "--objective",
                f"ev: {program.name}'s fee is {amount:,.0f} {fee_rec.currency} and its accounts are in "
                f"{program.currency}; give --fee in {program.currency} (no exchange rate is assumed)",
            )
        fee = float(amount)
        fee_src = f"{program.name} rule file ({fee_rec.source}, verified {fee_rec.verified.isoformat()})"
    refund = fee if (fee_rec is not None and fee_rec.refunded) else 0.0
    if args.payout is not None:
        payout, pay_src = float(args.payout), "--payout"
    else:
        split = program.profit_split
        if split is None:
            raise ConfigError(
                "--objective",
                f"ev: {program.name}'s rule file gives no profit split; give --payout (money paid once funded)",
            )
        target = float(program.phases[0].profit_target_pct)
        payout = size * target / 100.0 * split.pct / 100.0
        pay_src = (
            f"{split.pct:g}% profit split of the first phase's {target:g}% target on {size:,.0f} "
            f"({program.name} rule file, verified {split.verified.isoformat()})"
        )
    return EvTerms(
        fee=fee,
        payout=round(payout, 2),
        refund=refund,
        currency=program.currency,
        fee_source=fee_src,
        payout_source=pay_src,
    )


def ev_assumptions(args: argparse.Namespace) -> list[str]:
    """What the EV objective assumes, in words (the table and the JSON say it)."""
    payout = (
        f"payout: {args.payout:g} per pass, as given (--payout)"
        if args.payout is not None
        else "payout: one payout once funded, the program's profit split of the first phase's profit target "
        "(the funded account is assumed to make that target once, then nothing more, and never to be lost)"
    )
    return [
        "EV per attempt = P(pass) x (payout + refund) - fee, in the account currency; every attempt pays the fee",
        payout,
        "refund: the fee comes back with the first payout where the rule file says it is refunded, else nothing",
        "fee: "
        + ("as given (--fee)" if args.fee is not None else "the rule file's published fee for the size"),
        "not counted: taxes, payment and exchange fees, later payouts, scaling plans; P(pass) is the cell's own "
        "in-sample rate (see the selection check for how much choosing overstates it)",
    ]


def _programs(args: argparse.Namespace, names: Sequence[str]) -> dict[str, Any]:
    from challenges.rules import load_program

    params = C.parse_number_params(args.program_param, "--program-param")
    return {n: load_program(n, params=params) for n in dict.fromkeys(names)}


def plan_sweep(
    args: argparse.Namespace, axes: list[TypedAxis], grid: list[dict[str, Any]], trade_mode: bool
) -> SweepPlan:
    """Everything a sweep runs, resolved and checked before any work (see the module doc)."""
    import itertools

    from simlab_cli.challenge_run import BarRun, TradeListRun

    names = [a.name for a in axes]
    combos = list(itertools.product(*(a.values for a in axes)))
    program_axis = next((a for a in axes if a.name == "program"), None)
    programs = _programs(args, program_axis.values if program_axis else [args.program])
    costs = spec = bars = trades = None
    if trade_mode:
        from challenges.trade_list import load_trades

        trades = load_trades(args.trades, tz=args.tz or "UTC")
        data: Any = trades
        times = trades.open_ns
        where, data_name = str(args.trades), str(args.trades)
    else:
        spec = C.load_symbol(args)
        costs = C.costs_from_args(args, spec)
        bars, data_name = C.load_data(args)
        data, times, where = bars, bars.time, str(args.data)
    size_axes = [n for n in ("size", "program") if n in names]
    gov_axes = [n for n in names if n.startswith("gov.")]
    param_axes = [a.name for a in axes if a.option == "--param"]
    cells: list[Cell] = []
    for i, values in enumerate(combos):
        ns = cell_namespace(args, axes, values)
        settings = {a.name: json_value(v) for a, v in zip(axes, values)}
        label = cell_label(settings)
        program = programs[ns.program]
        size = _in_cell(size_axes, label, program.check_size, ns.size)
        horizon, hinfo = CH._horizon(ns, program)
        gov, _ = _in_cell(gov_axes, label, CH._governors, ns, trade_mode)
        run: Any
        if trade_mode:
            run = TradeListRun.from_args(ns, program=program, size=size, horizon=horizon, gov=gov)
            resolved: dict[str, Any] = {}
        else:
            assert costs is not None
            strategy = _in_cell(param_axes, label, C.load_strategy_from_args, ns)
            run = BarRun.from_args(
                ns,
                program=program,
                size=size,
                horizon=horizon,
                gov=gov,
                spec=spec,
                strategy=strategy,
                costs=costs.setup,
            )
            resolved = {"exec_model": costs.resolved}
        ev = ev_terms(args, program, size) if args.objective == "ev" else None
        argv = CH.challenge_argv(ns, hinfo, resolved)
        cells.append(Cell(i, settings, run, argv, ev))
    split = None
    if args.split.strip().lower() != "off":
        from simlab.sweep import split_index

        split = split_index(times, args.split, weekend=not trade_mode)
        if not trade_mode and not args.bootstrap_days:
            _check_parts(cells, bars, split[0], where)
    prov = _provenance(args, axes, cells, programs, trade_mode, data, costs, spec, data_name)
    mode = "trade_list" if trade_mode else ("day_bootstrap" if args.bootstrap_days else "bars")
    plan = SweepPlan(
        args=args,
        axes=axes,
        cells=cells,
        data=data,
        times=times,
        provenance=prov,
        mode=mode,
        split=split,
        n_rows=int(len(times)),
        where=where,
    )
    return plan


def _check_parts(cells: Sequence[Cell], bars: Any, k: int, where: str) -> None:
    """Both walk-forward parts hold an attempt of every cell: else one line, before any work."""
    from simlab.bootstrap import MarketSettings
    from simlab.montecarlo import start_days
    from simlab.sweep import part_info

    seen: set[Any] = set()
    n = len(bars)
    for c in cells:
        r = c.run
        cal = MarketSettings.of(r.program, r.spec, r.gov)
        warmup = int(getattr(r.strategy, "warmup", 0) or 0)
        key = (cal, r.horizon, warmup)
        if key in seen:
            continue
        seen.add(key)
        for name, (lo, hi) in (("earlier", (0, k)), ("later", (k, n))):
            try:
                start_days(cal.build(bars.slice(lo, hi)), r.horizon, warmup, where)
            except InputError as exc:
                p = part_info(bars.time, lo, hi)
                raise ConfigError(
                    "--split",
                    f"the walk-forward's {name} part ({p['first']} .. {p['last']}) is too short for cell "
                    f"{cell_label(c.settings) or c.index}: {exc.what}; move the split, or --split off",
                ) from None


def _provenance(
    args: argparse.Namespace,
    axes: list[TypedAxis],
    cells: list[Cell],
    programs: dict[str, Any],
    trade_mode: bool,
    data: Any,
    costs: Any,
    spec: Any,
    data_name: str,
) -> dict[str, Any]:
    """What reproduces the sweep: its canonical command and the records of its shared inputs."""
    from simlab_cli import provenance as P

    names = {a.name for a in axes}
    values: dict[str, Any] = {"grid": [f"{a.name}={a.axis.spec}" for a in axes]}
    for axis, dest in (("program", "program"), ("size", "size"), ("horizon", "horizon_days")):
        if axis in names:
            values[dest] = None  # the axis gives it
    if costs is not None:
        values["exec_model"] = costs.resolved
    argv = P.canonical_argv(
        "sweep",
        args,
        always=("program", "size", "runs", "seed", "objective", "split"),
        values=values,
        skip=(*(CH.BAR_ONLY if trade_mode else CH.TRADE_LIST_ONLY), *DASK_OPTIONS),
    )
    size = cells[0].run.size
    prog_records = {}
    for name, program in programs.items():
        rec = {k: v for k, v in P.program_info(program, size).items() if k != "size"}
        rec["fee"] = None if program.fee is None else program.fee.to_json()
        rec["profit_split"] = None if program.profit_split is None else program.profit_split.to_json()
        prog_records[name] = rec
    _, gov_info = CH._governors(args, trade_mode)
    prov: dict[str, Any] = P.base(argv) | {
        "seed": args.seed,
        "runs": args.runs,
        "programs": prog_records,
        "governors": gov_info,
    }
    if trade_mode:
        prov |= {
            "time_zone": {
                "tz": args.tz or "UTC",
                "source": "--tz" if args.tz else "assumed UTC: no --tz given",
            },
            "trades": P.trades_info(data, args.trades),
            "bootstrap_block_days": max(1, args.bootstrap_days),
            "start_mode": "bootstrap",
        }
        if "trade_scale" not in names:
            prov["trade_scale"] = args.trade_scale
        return prov
    bars = data
    data_rec = P.data_info(bars, data_name, None if C.is_bundled(args) else args.data)
    prov |= {
        "symbol": P.symbol_info(spec, args.symbol_file),
        "exec_model": costs.info,
        "time_zone": P.time_zone_info(bars, args.tz, C.is_bundled(args)),
        "data": data_rec,
        "strategy": P.strategy_info(C.load_strategy_from_args(args), args.strategy)
        if not any(a.option == "--param" for a in axes)
        else _base_strategy_info(args, axes),
        "lookahead_check": _lookahead(args, cells, bars, data_rec),
    }
    if "risk" not in names:
        prov["risk"] = args.risk
    if args.bootstrap_days:
        prov["bootstrap_block_days"] = int(args.bootstrap_days)
    return prov


def _base_strategy_info(args: argparse.Namespace, axes: list[TypedAxis]) -> dict[str, Any]:
    """The strategy record with the axis parameters marked as varied (its params are the first cell's)."""
    from simlab_cli import provenance as P

    return P.strategy_info(
        C.load_strategy_from_args(cell_namespace(args, axes, [a.values[0] for a in axes])), args.strategy
    ) | {"params_varied": [a.name for a in axes if a.option == "--param"]}


def _lookahead(
    args: argparse.Namespace, cells: list[Cell], bars: Any, data_rec: dict[str, Any]
) -> dict[str, Any]:
    """The look-ahead gate of every strategy configuration of the grid (a leak: one line, no work)."""
    records: dict[Any, dict[str, Any]] = {}
    for c in cells:
        s = c.run.strategy
        key = (type(s), tuple(sorted((k, repr(v)) for k, v in s.param_values().items())))
        if key not in records:
            records[key] = CH.lookahead_record(c.run, args, bars, data_rec["sha256"], data_rec["name"])
    first = next(iter(records.values()))
    return first | {"configurations": len(records)}


__all__ = ["Cell", "SweepPlan", "ev_terms", "ev_assumptions", "plan_sweep"]
