"""``simlab challenge``: how likely is this strategy to pass the program, how fast, and what breaks it.

With no options it runs the bundled default: 20 attempts of FTMO's 2-step
$100k challenge for the moving-average cross on the bundled synthetic EURUSD
minute bars, with the shipped EURUSD execution model and the default governors.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from simlab.commands import _common as C

if TYPE_CHECKING:
    from challenges.rules import Program


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("program")
    g.add_argument("--runs", type=int, default=20, help="number of attempts (default 20)")
    g.add_argument(
        "--program", default="ftmo-2step", help="rule preset name or rule file (see `simlab programs`)"
    )
    g.add_argument("--size", type=float, default=100_000.0, help="account size (default 100000)")
    g.add_argument(
        "--program-param",
        action="append",
        default=[],
        metavar="K=V",
        help="program parameter, e.g. target_pct=8",
    )
    g.add_argument(
        "--risk", type=float, default=0.01, help="fraction of equity risked per trade (default 0.01)"
    )
    g.add_argument("--seed", type=int, default=7, help="run seed (default 7)")
    g.add_argument(
        "--workers", type=int, default=None, help="threads (default: all cores); results do not depend on it"
    )
    g.add_argument(
        "--horizon-days",
        type=int,
        default=None,
        help="calendar days one attempt may take over all phases (default: the program's time limits, else 180)",
    )
    g.add_argument(
        "--bootstrap-days",
        type=int,
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
        help="trade-list mode: bootstrap trades from an MT5 report / CSV",
    )
    g.add_argument(
        "--json",
        default=None,
        metavar="FILE",
        help="write the full result as JSON (schema simlab.challenge/1)",
    )
    g.add_argument("--html", default=None, metavar="FILE", help="write an HTML report")
    g.add_argument(
        "--allow-no-trades",
        action="store_true",
        help="accept a run in which no attempt traded (default: an error naming the refused orders)",
    )
    g.add_argument(
        "--min-pass-rate",
        type=float,
        default=None,
        help="exit 1 when the pass rate is below this (a CI gate)",
    )
    C.add_data_arguments(p)
    C.add_strategy_arguments(p)
    C.add_cost_arguments(p)
    from challenges.governors import add_governor_arguments

    add_governor_arguments(p)


def run(args: argparse.Namespace) -> int:
    from challenges.governors import governors_from_args
    from challenges.rules import load_program
    from simlab.errors import ConfigError

    if args.runs < 1:
        raise ConfigError("--runs", f"{args.runs}: expected a positive number of attempts")
    if not 0.0 < args.risk <= 0.2:
        raise ConfigError("--risk", f"{args.risk} is outside (0, 0.2]; give a fraction, e.g. 0.01 for 1%")
    if args.bootstrap_days < 0:
        raise ConfigError(
            "--bootstrap-days",
            f"{args.bootstrap_days}: expected 0 (off) or a mean block length of 1 or more days",
        )
    program = load_program(
        args.program,
        params={k: float(v) for k, v in C.parse_params(args.program_param, "--program-param").items()},
    )
    size = program.check_size(args.size)
    gov = governors_from_args(args)
    if args.trades:
        return _run_trade_list(args, program, size)
    from simlab.bootstrap import MarketSettings, run_bootstrap_challenge
    from simlab.montecarlo import ChallengeSetup, run_challenge

    spec = C.load_symbol(args)
    strategy = C.load_strategy_from_args(args)
    bars, data_name = C.load_data(args)
    costs, cost_name = C.cost_setup_from_args(args, spec)
    calendar = MarketSettings.of(program, spec, gov)
    market = calendar.build(bars)
    horizon = args.horizon_days or _default_horizon(program)
    # a strategy that reads its own account (an RL policy) plays each attempt in the closed loop instead
    closed_loop = getattr(strategy, "run_challenge", None)
    if closed_loop is not None and args.bootstrap_days:
        raise ConfigError(
            "--bootstrap-days",
            f"{args.strategy} plays each attempt in the closed loop; drop --bootstrap-days",
        )
    if closed_loop is None and not args.bootstrap_days:
        intents = strategy.signals(bars)
    else:  # the signals are computed on each attempt's resampled history (or decided in the closed loop) instead
        from strategies.base import Intents

        intents = Intents.hold(len(bars))
    setup = ChallengeSetup(
        market=market,
        intents=intents,
        spec=spec,
        phase_rules=program.rule_matrix(),
        phase_names=[ph.name for ph in program.phases],
        gov=gov.to_vector(),
        costs=costs,
        initial_balance=size,
        risk=args.risk,
        horizon_days=horizon,
        warmup_bars=int(getattr(strategy, "warmup", 0) or 0),
        seed=args.seed,
        meta={
            "program": program.name,
            "size": size,
            "symbol": spec.name,
            "strategy": args.strategy,
            "params": C.parse_params(args.param),
            "data": data_name,
            "exec_model": cost_name,
            "governors": args.governors,
        },
    )
    where = str(args.data)
    if args.bootstrap_days:
        result = run_bootstrap_challenge(
            setup, args.runs, strategy, args.bootstrap_days, calendar, workers=args.workers, where=where
        )
    elif closed_loop is not None:
        result = closed_loop(setup, args.runs, workers=args.workers)
    else:
        result = run_challenge(setup, args.runs, workers=args.workers, where=where)
    _check_orders(result, spec, args)
    payload = result.to_json()
    print(result.format_table(payload))
    if args.json:
        from simlab.atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(payload, indent=1, allow_nan=False, default=_json_default))
        print(f"\n  wrote {args.json}")
    if args.html:
        from reports.challenge_html import write_challenge_report

        write_challenge_report(payload, args.html)
        print(f"  wrote {args.html}")
    if args.min_pass_rate is not None and payload["pass_rate"]["rate"] < args.min_pass_rate:
        print(
            f"\n  pass rate {payload['pass_rate']['rate']:.3f} is below --min-pass-rate {args.min_pass_rate}"
        )
        return 1
    return 0


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


def _json_default(v: object) -> object:
    import numpy as np

    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def _default_horizon(program: object) -> int:
    limits = [int(getattr(ph, "max_calendar_days", 0) or 0) for ph in program.phases]  # type: ignore[attr-defined]
    if all(lim > 0 for lim in limits):
        return sum(limits) + 7 * (len(limits) - 1)
    return 180


def _run_trade_list(args: argparse.Namespace, program: Program, size: float) -> int:
    from challenges.trade_list import evaluate_trades, load_trades
    from simlab.errors import ConfigError

    if args.allow_no_trades:
        raise ConfigError(
            "--allow-no-trades", "applies to strategy runs; trade-list mode replays the trades given"
        )

    trades = load_trades(args.trades, tz=args.tz or "UTC")
    result = evaluate_trades(
        trades,
        program,
        size,
        seed=args.seed,
        n_runs=args.runs,
        block_days=max(1, args.bootstrap_days),
        workers=args.workers or 1,
        progress=None,
    )
    print(result.format())
    payload = result.to_json()
    if args.json:
        from simlab.atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(payload, indent=1, allow_nan=False, default=_json_default))
        print(f"\n  wrote {args.json}")
    rate = payload["summary"]["pass_rate"] or 0.0
    if args.min_pass_rate is not None and rate < args.min_pass_rate:
        print(f"\n  pass rate {rate:.3f} is below --min-pass-rate {args.min_pass_rate}")
        return 1
    return 0
