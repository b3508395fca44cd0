"""``simlab challenge``: how likely is this strategy to pass the program, how fast, and what breaks it.

With no options it runs the bundled default: 20 attempts of FTMO's 2-step
$100k challenge for the moving-average cross on the bundled synthetic EURUSD
hourly bars, with the shipped EURUSD execution model and the default governors.

Three modes write one result schema (``simlab.results``): bar mode (attempts
start on days of the real history), day-bootstrap mode (``--bootstrap-days``:
each attempt on its own resampled history) and trade-list mode (``--trades``:
a report's trades bootstrapped). Every option either applies in a mode or is
refused there with one line; :data:`TRADE_LIST_ONLY` and :data:`BAR_ONLY` say
which.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from simlab_cli.commands import _common as C

if TYPE_CHECKING:
    from challenges.rules import Program

DEFAULT_HORIZON = 180  # calendar days, for programs without a time limit in every phase

# options that mean nothing for a list of past trades -> why (refused in trade-list mode)
BAR_ONLY: dict[str, str] = {
    "risk": "the trades' P/L is replayed in money; scale it with --trade-scale",
    "data": "the trades come from --trades; no bars are read",
    "fmt": "no bars are read (--trades)",
    "timeframe": "no bars are read (--trades)",
    "symbol": "the trades' P/L is already in money; no symbol spec is used",
    "symbol_file": "no symbol spec is used with --trades",
    "strategy": "the trades are already taken; no strategy runs",
    "param": "no strategy runs with --trades",
    "params_file": "no strategy runs with --trades",
    "exec_model": "the trades' costs are those in the report",
    "model_dir": "the trades' costs are those in the report",
    "spread": "the trades' costs are those in the report",
    "no_slippage": "the trades' costs are those in the report",
    "latency_budget_ms": "the trades' costs are those in the report",
    "no_lookahead_check": "no strategy runs with --trades",
    "allow_no_trades": "trade-list mode replays the trades given: no order is placed or refused",
    "portfolio": "the trades are already taken; a portfolio runs strategies on bars",
    "convert": "the trades' P/L is already in money; nothing is converted",
}
TRADE_LIST_ONLY: dict[str, str] = {
    "trade_scale": "it scales the P/L of --trades; size bar-mode trades with --risk",
}
# governor fields trade-list mode can apply (the rest act inside trades, which are already taken)
TRADE_LIST_GOVERNORS = ("post_target_risk_mult",)


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("program")
    g.add_argument("--runs", type=C.positive_int, default=20, help="number of attempts (default 20)")
    g.add_argument(
        "--program", default="ftmo-2step", help="rule preset name or rule file (see `simlab programs`)"
    )
    g.add_argument("--size", type=C.account_size, default=100_000.0, help="account size (default 100000)")
    g.add_argument(
        "--program-param",
        action="append",
        default=[],
        metavar="K=V",
        help="program parameter, e.g. target_pct=8",
    )
    g.add_argument(
        "--risk",
        type=C.finite_float,
        default=0.01,
        help="fraction of equity risked per trade (default 0.01); bar modes only; in a portfolio, by every leg "
        "that sets no risk or volume of its own",
    )
    g.add_argument("--seed", type=C.seed, default=7, help="run seed, 0 .. 2**63-1 (default 7)")
    g.add_argument(
        "--workers",
        type=C.positive_int,
        default=None,
        help="threads (default: all cores); results do not depend on it",
    )
    g.add_argument(
        "--horizon-days",
        type=C.positive_int,
        default=None,
        help="calendar days one attempt may take over all its phases, counted from its first day, in every "
        f"mode (default: the program's time limits, else {DEFAULT_HORIZON})",
    )
    g.add_argument(
        "--bootstrap-days",
        type=C.nonnegative_int,
        default=0,
        metavar="BLOCK",
        help="give each attempt its own history: trading days resampled by a stationary block bootstrap "
        "with a mean block of BLOCK days (default 0: off, attempts start on days of the real history); "
        "with --trades: the trade bootstrap's block of days (default 1)",
    )
    g.add_argument(
        "--trades",
        default=None,
        metavar="FILE",
        help="trade-list mode: bootstrap trades from an MT5 report / CSV (times in --tz)",
    )
    g.add_argument(
        "--trade-scale",
        type=C.positive_float,
        default=1.0,
        metavar="X",
        help="trade-list mode: multiply every trade's P/L (and MAE/MFE) by X (default 1: as traded)",
    )
    g.add_argument(
        "--json",
        default=None,
        metavar="FILE",
        help="write the full result as JSON (schema simlab.result/1)",
    )
    g.add_argument(
        "--html",
        default=None,
        metavar="FILE",
        help="write the HTML report (self-contained; the same bytes as `simlab report` of the JSON)",
    )
    g.add_argument(
        "--allow-no-trades",
        action="store_true",
        help="accept a run in which no attempt traded (default: an error naming the refused orders)",
    )
    g.add_argument(
        "--min-pass-rate",
        type=C.fraction,
        default=None,
        help="exit 1 when the pass rate is below this fraction in [0, 1] (a CI gate)",
    )
    g.add_argument(
        "--no-lookahead-check",
        action="store_true",
        help="skip the look-ahead check of the strategy that runs before the attempts",
    )
    C.add_data_arguments(p, portfolio=True)
    C.add_strategy_arguments(p)
    C.add_cost_arguments(p, portfolio=True)
    C.add_governor_arguments(p)


def run(args: argparse.Namespace) -> int:
    from challenges.rules import load_program
    from simlab.atomic import check_output_paths
    from simlab.errors import ConfigError
    from simlab_cli import portfolio as PF

    trade_mode = bool(args.trades)
    mode = "trade-list mode (--trades)" if trade_mode else "bar mode (no --trades)"
    C.refuse_given(args, BAR_ONLY if trade_mode else TRADE_LIST_ONLY, mode)
    if trade_mode:
        PF.refuse_leg_options(args, mode)
    if PF.is_portfolio(args):
        from simlab_cli.portfolio_run import run_challenge as run_portfolio

        program = load_program(
            args.program, params=C.parse_number_params(args.program_param, "--program-param")
        )
        size = program.check_size(args.size)
        horizon, horizon_info = _horizon(args, program)
        return run_portfolio(args, program, size, horizon, horizon_info)
    PF.refuse_leg_options(args, "a run of one symbol")
    if not trade_mode:
        if not 0.0 < args.risk <= 0.2:
            raise ConfigError("--risk", f"{args.risk} is outside (0, 0.2]; give a fraction, e.g. 0.01 for 1%")
        C.refuse_given_on_bundled(args)
    check_output_paths({"--json": args.json, "--html": args.html}, C.input_paths(args))
    program = load_program(args.program, params=C.parse_number_params(args.program_param, "--program-param"))
    size = program.check_size(args.size)
    horizon, horizon_info = _horizon(args, program)
    if trade_mode:
        return _run_trade_list(args, program, size, horizon, horizon_info)
    return _run_bars(args, program, size, horizon, horizon_info)


def _horizon(args: argparse.Namespace, program: Program) -> tuple[int, dict[str, Any]]:
    limits = [int(ph.max_calendar_days or 0) for ph in program.phases]
    limited = all(lim > 0 for lim in limits)
    if limited:
        # the next phase starts on the next rule day: a week between phases covers a weekend and a gap
        days = sum(limits) + 7 * (len(limits) - 1)
        src = (
            "the program's time limits " + " + ".join(str(x) for x in limits) + " days, a week between phases"
        )
    else:
        days, src = DEFAULT_HORIZON, f"default {DEFAULT_HORIZON}: the program has no time limit"
    # the recorded command always names the horizon; the same number given again keeps its reason
    if args.horizon_days is not None and args.horizon_days != days:
        days, src = int(args.horizon_days), "--horizon-days"
    return days, {"days": days, "source": src, "program_time_limited": limited}


def _governors(args: argparse.Namespace, trade_mode: bool) -> tuple[Any, dict[str, Any]]:
    from challenges.governors import load_governors
    from simlab.errors import ConfigError
    from simlab_cli.provenance import governors_info

    given = C.given(args)
    preset = args.governors if (not trade_mode or "governors" in given) else "none"
    cfg = load_governors(preset, list(args.gov))
    info = governors_info(cfg, preset, list(args.gov))
    if trade_mode:
        bad = [f for f in info["active"] if f not in TRADE_LIST_GOVERNORS]
        if bad:
            raise ConfigError(
                "--governors",
                f"trade-list mode can apply only {', '.join(TRADE_LIST_GOVERNORS)} to past trades; "
                f"{preset!r} also sets {', '.join(bad)} (use --governors none, or --gov post_target_risk_mult=X)",
            )
    return cfg, info


def _provenance(
    args: argparse.Namespace,
    program: Program,
    size: float,
    horizon_info: dict[str, Any],
    gov_info: dict[str, Any],
    resolved: dict[str, Any],
) -> dict[str, Any]:
    """The provenance members of every mode: the canonical command line (this mode's options only,
    ``resolved`` values in place of the given ones), seed, runs, horizon, rules, governors."""
    from simlab_cli import provenance as P

    return P.base(challenge_argv(args, horizon_info, resolved)) | {
        "seed": args.seed,
        "runs": args.runs,
        "horizon": horizon_info,
        "program": P.program_info(program, size),
        "governors": gov_info,
    }


def challenge_argv(
    args: argparse.Namespace, horizon_info: dict[str, Any], resolved: dict[str, Any]
) -> list[str]:
    """The canonical command line of a challenge run (``simlab_cli.provenance.canonical_argv``): this
    mode's options, the horizon as a number of days, ``resolved`` values in place of the given ones."""
    from simlab_cli import provenance as P

    return P.canonical_argv(
        "challenge",
        args,
        always=("program", "size", "runs", "seed", "horizon_days"),
        values={"horizon_days": horizon_info["days"], **resolved},
        skip=BAR_ONLY if args.trades else TRADE_LIST_ONLY,
    )


def _finish(args: argparse.Namespace, doc: dict[str, Any]) -> int:
    C.show_and_write(args, doc)
    rate = doc["result"]["pass_rate"]["rate"]
    if args.min_pass_rate is not None and rate < args.min_pass_rate:
        print(f"\n  pass rate {rate:.3f} is below --min-pass-rate {args.min_pass_rate}")
        return 1
    return 0


def _run_bars(
    args: argparse.Namespace, program: Program, size: float, horizon: int, horizon_info: dict[str, Any]
) -> int:
    from simlab_cli import provenance as P
    from simlab_cli.challenge_run import BarRun

    gov, gov_info = _governors(args, False)
    spec = C.load_symbol(args)
    strategy = C.load_strategy_from_args(args)
    costs = C.costs_from_args(args, spec)
    bars, data_name = C.load_data(args)
    C.warn_fixed_conversion(args, spec)  # once the data passed its checks: an error stays one line
    data = P.data_info(bars, data_name, None if C.is_bundled(args) else args.data)
    run = BarRun.from_args(
        args,
        program=program,
        size=size,
        horizon=horizon,
        gov=gov,
        spec=spec,
        strategy=strategy,
        costs=costs.setup,
    )
    lookahead = lookahead_record(run, args, bars, data["sha256"], data_name)
    result = run.execute(bars, workers=args.workers, where=str(args.data))
    _check_orders(result, spec, args)
    prov = _provenance(args, program, size, horizon_info, gov_info, {"exec_model": costs.resolved}) | {
        "symbol": P.symbol_info(spec, args.symbol_file),
        "exec_model": costs.info,
        "time_zone": P.time_zone_info(bars, args.tz, C.is_bundled(args)),
        "data": data,
        "strategy": P.strategy_info(strategy, args.strategy),
        "risk": args.risk,
        "lookahead_check": lookahead,
    }
    if args.bootstrap_days:
        prov["bootstrap_block_days"] = int(args.bootstrap_days)
    return _finish(args, result.document(prov))


def lookahead_record(
    run: Any, args: argparse.Namespace, bars: Any, data_sha256: str, data_name: str
) -> dict[str, Any]:
    """The look-ahead gate of a bar-mode run (a one-line error for a leaking strategy), as recorded."""
    if args.no_lookahead_check:
        return {"ran": False, "reason": "--no-lookahead-check"}
    # A closed-loop policy (onnx-policy) decides inside each attempt rather than from signals(), but its
    # signals() run the same market features and the same policy (on an imagined account): what could read
    # the future is checked all the same, and a leak refuses the run as for any strategy.
    from strategies.lookahead import lookahead_gate

    return lookahead_gate(run.strategy, bars, data_sha256, data_name=data_name)


def _check_orders(result: Any, spec: Any, args: argparse.Namespace) -> None:
    """A run that could not trade is an error; one whose orders were mostly refused gets a loud warning."""
    import sys

    from simlab.refusals import OrderContext, check_traded, warning

    ref = result.refusals()
    ctx = OrderContext.of(spec, args.risk)
    if not args.allow_no_trades:
        check_traded(result.n_trades(), ref, ctx, f"in {result.runs} attempts")
    loud = warning(ref, ctx)
    if loud:
        print(f"simlab challenge: WARNING: {loud}", file=sys.stderr)


def _run_trade_list(
    args: argparse.Namespace, program: Program, size: float, horizon: int, horizon_info: dict[str, Any]
) -> int:
    from challenges.trade_list import load_trades
    from simlab_cli import provenance as P
    from simlab_cli.challenge_run import TradeListRun

    gov, gov_info = _governors(args, True)
    trades = load_trades(args.trades, tz=args.tz or "UTC")
    run = TradeListRun.from_args(args, program=program, size=size, horizon=horizon, gov=gov)
    result = run.execute(trades, workers=args.workers)
    prov = _provenance(args, program, size, horizon_info, gov_info, {}) | {
        "time_zone": {"tz": args.tz or "UTC", "source": "--tz" if args.tz else "assumed UTC: no --tz given"},
        "trades": P.trades_info(trades, args.trades),
        "trade_scale": args.trade_scale,
        "bootstrap_block_days": run.block_days,
        "start_mode": "bootstrap",
    }
    return _finish(args, result.document(prov))
