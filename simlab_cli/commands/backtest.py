"""``simlab backtest``: one run of a strategy over a data file — trades, P/L, drawdown, costs paid.

The result is a ``simlab.result/1`` document of kind ``backtest`` (``simlab.results``):
the same envelope and provenance as a challenge, its own body.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from simlab_cli.commands import _common as C


def add_arguments(p: argparse.ArgumentParser) -> None:
    C.add_data_arguments(p, portfolio=True)
    C.add_strategy_arguments(p)
    C.add_cost_arguments(p, portfolio=True)
    g = p.add_argument_group("account")
    g.add_argument(
        "--risk",
        type=C.finite_float,
        default=0.01,
        help="fraction of equity risked per trade (default 0.01 = 1%%); in a portfolio, by every leg that sets no "
        "risk or volume of its own",
    )
    g.add_argument(
        "--volume",
        type=C.positive_float,
        default=None,
        help="fixed lots per trade instead of risk sizing (within the symbol's volume min/step/max); in a portfolio, "
        "every leg that sets no risk or volume of its own",
    )
    g.add_argument(
        "--balance", type=C.account_size, default=100_000.0, help="initial balance (default 100000)"
    )
    g.add_argument(
        "--tp-first", action="store_true", help="when SL and TP both lie inside one bar, assume TP first"
    )
    g.add_argument(
        "--seed",
        type=C.seed,
        default=7,
        help="seed of sampled costs, 0 .. 2**63-1 (default 7); needs an execution model",
    )
    g.add_argument(
        "--no-lookahead-check",
        action="store_true",
        help="skip the look-ahead check of the strategy that runs before the backtest",
    )
    g.add_argument(
        "--allow-no-trades",
        action="store_true",
        help="accept a run in which no trade happened (default: an error naming the refused orders)",
    )
    p.add_argument(
        "--json", default=None, metavar="FILE", help="write the result as JSON (schema simlab.result/1)"
    )
    p.add_argument(
        "--html",
        default=None,
        metavar="FILE",
        help="write the HTML report (self-contained; the same bytes as `simlab report` of the JSON)",
    )
    p.add_argument(
        "--curve",
        choices=("daily", "bars"),
        default="daily",
        help="equity curve in the JSON: one point per trading day (default) or per bar",
    )


def check_volume(volume: float, spec: Any) -> None:
    """A fixed volume must be one MT5 would accept: within [min, max] and on the step grid (refused,
    not rounded, so the run trades exactly what was asked)."""
    from simlab.errors import ConfigError

    lo, step, hi = float(spec.volume_min), float(spec.volume_step), float(spec.volume_max)
    if volume < lo - 1e-12:
        raise ConfigError("--volume", f"{volume:g} lots is below {spec.name}'s minimum volume {lo:g}")
    if volume > hi + 1e-12:
        raise ConfigError("--volume", f"{volume:g} lots is above {spec.name}'s maximum volume {hi:g}")
    k = volume / step
    if step > 0 and abs(k - round(k)) > 1e-9 * max(1.0, k):
        below = math.floor(k) * step
        raise ConfigError(
            "--volume",
            f"{volume:g} lots is not a multiple of {spec.name}'s volume step {step:g} "
            f"(e.g. {below:g} or {below + step:g})",
        )


def run(args: argparse.Namespace) -> int:
    from simlab.atomic import check_output_paths
    from simlab.engine import Market, run_backtest
    from simlab.errors import ConfigError
    from simlab.results import envelope
    from simlab_cli import portfolio as PF
    from simlab_cli import provenance as P

    if PF.is_portfolio(args):
        from simlab_cli.portfolio_run import run_backtest as run_portfolio

        return run_portfolio(args)
    PF.refuse_leg_options(args, "a run of one symbol")
    got = C.given(args)
    if args.volume is not None and "risk" in got:
        raise ConfigError("--risk", "give --risk or --volume, not both (--volume trades fixed lots)")
    if args.volume is None and not 0.0 < args.risk <= 0.2:
        raise ConfigError("--risk", f"{args.risk} is outside (0, 0.2]; give a fraction, e.g. 0.01 for 1%")
    C.refuse_given_on_bundled(args)
    check_output_paths({"--json": args.json, "--html": args.html}, C.input_paths(args))
    spec = C.load_symbol(args)
    if args.volume is not None:
        check_volume(args.volume, spec)
    strategy = C.load_strategy_from_args(args)
    costs = C.costs_from_args(args, spec)
    if costs.resolved == "none" and "seed" in got:
        raise ConfigError(
            "--seed", "nothing is drawn at random without an execution model (--exec-model none)"
        )
    bars, data_name = C.load_data(args)
    C.warn_fixed_conversion(args, spec)  # once the data passed its checks: an error stays one line
    data = P.data_info(bars, data_name, None if C.is_bundled(args) else args.data)
    if args.no_lookahead_check:
        lookahead: dict[str, Any] = {"ran": False, "reason": "--no-lookahead-check"}
    else:
        from strategies.lookahead import lookahead_gate

        lookahead = lookahead_gate(strategy, bars, data["sha256"], data_name=data_name)
    intents = strategy.signals(bars)
    market = Market.build(bars, triple_day=getattr(spec, "triple_swap_day", 2))
    result = run_backtest(
        bars,
        intents,
        spec,
        market=market,
        costs=costs.setup,
        initial_balance=args.balance,
        risk=args.risk,
        fixed_volume=args.volume or 0.0,
        sl_first=not args.tp_first,
        seed=args.seed,
    )
    argv = P.canonical_argv("backtest", args, values={"exec_model": costs.resolved})
    prov = P.base(argv) | {
        "seed": args.seed if costs.resolved != "none" else None,
        "balance": args.balance,
        "risk": None if args.volume is not None else args.risk,
        "volume": args.volume,
        "tp_first": bool(args.tp_first),
        "symbol": P.symbol_info(spec, args.symbol_file),
        "exec_model": costs.info,
        "time_zone": P.time_zone_info(bars, args.tz, C.is_bundled(args)),
        "data": data,
        "strategy": P.strategy_info(strategy, args.strategy),
        "lookahead_check": lookahead,
    }
    _check_orders(result, spec, args, len(bars))
    doc = envelope("backtest", "bars", prov, _body(result, args.curve))
    C.show_and_write(args, doc, gap="")
    return 0


def _check_orders(result: Any, spec: Any, args: argparse.Namespace, n_bars: int) -> None:
    """A run that could not trade is an error; one whose orders were mostly refused gets a loud warning."""
    from simlab.refusals import OrderContext, check_traded, warning

    ref = result.refusals()
    ctx = OrderContext.of(spec, args.risk, args.volume or 0.0, volume_option=True)
    if not args.allow_no_trades:
        check_traded(int(result.summary()["trades"]), ref, ctx, f"in {n_bars:,} bars")
    loud = warning(ref, ctx)
    if loud:
        print(f"simlab backtest: WARNING: {loud}", file=sys.stderr)


def _body(result: Any, resolution: str) -> dict[str, Any]:
    import numpy as np

    from simlab import layout as L

    trades = result.trades()
    for col in ("entry_time", "exit_time"):
        trades[col] = trades[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    ledger = trades.to_dict(orient="records")
    n = result.curve.shape[0]
    times = result.bars.time[result.start : result.start + n]
    curve = result.curve
    worst = curve[:, 2]
    if resolution == "daily":
        # the last bar of each trading day, with that day's worst intrabar equity
        day = result.market.day[result.start : result.start + n]
        last = np.flatnonzero(np.r_[day[1:] != day[:-1], True])
        first = np.r_[0, last[:-1] + 1]
        worst = np.minimum.reduceat(np.minimum(curve[:, 2], curve[:, 1]), first)
        times, curve = times[last], curve[last]
    iso = np.datetime_as_string(times.astype("datetime64[ns]"), unit="s")
    from simlab.sample import ledger_stats, session_costs

    tr = result.trades_raw
    t = result.bars.time
    hold = t[tr[:, L.TR_EXIT_BAR].astype(np.int64)] - t[tr[:, L.TR_ENTRY_BAR].astype(np.int64)]
    body: dict[str, Any] = {
        "summary": result.summary(),
        "costs_by_session": result.costs_by_session(),
        "entry_decisions": result.refusals().decisions,
        "refused_orders": result.refusals().to_json(),
        "trades": ledger,
        "equity_curve": {
            "resolution": resolution,
            "time": [s + "Z" for s in iso.tolist()],
            "balance": np.round(curve[:, 0], 6).tolist(),
            "equity": np.round(curve[:, 1], 6).tolist(),
            "worst_equity": np.round(worst, 6).tolist(),
        },
        "session_costs": session_costs(tr),
        "trade_stats": ledger_stats(tr, hold),
    }
    refused = getattr(result, "refused_orders", None)
    if refused:
        body["refused_orders"] = refused
    return body
