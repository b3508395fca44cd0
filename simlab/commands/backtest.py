"""``simlab backtest``: one run of a strategy over a data file — trades, P/L, drawdown, costs paid."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from simlab.commands import _common as C


def add_arguments(p: argparse.ArgumentParser) -> None:
    C.add_data_arguments(p)
    C.add_strategy_arguments(p)
    C.add_cost_arguments(p)
    g = p.add_argument_group("account")
    g.add_argument(
        "--risk", type=float, default=0.01, help="fraction of equity risked per trade (default 0.01 = 1%%)"
    )
    g.add_argument("--volume", type=float, default=0.0, help="fixed lots per trade instead of risk sizing")
    g.add_argument("--balance", type=float, default=100_000.0, help="initial balance (default 100000)")
    g.add_argument(
        "--tp-first", action="store_true", help="when SL and TP both lie inside one bar, assume TP first"
    )
    g.add_argument("--seed", type=int, default=7, help="seed of sampled costs (default 7)")
    g.add_argument(
        "--allow-no-trades",
        action="store_true",
        help="accept a run in which no trade happened (default: an error naming the refused orders)",
    )
    p.add_argument(
        "--json", default=None, metavar="FILE", help="write summary, trade ledger and equity curve as JSON"
    )
    p.add_argument(
        "--curve",
        choices=("daily", "bars"),
        default="daily",
        help="equity curve in the JSON: one point per trading day (default) or per bar",
    )


def _fmt(v: float, spec: str = ",.2f") -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def run(args: argparse.Namespace) -> int:
    from simlab.engine import Market, run_backtest
    from simlab.errors import ConfigError

    if not 0.0 < args.risk <= 0.2 and args.volume <= 0.0:
        raise ConfigError("--risk", f"{args.risk} is outside (0, 0.2]; give a fraction, e.g. 0.01 for 1%")
    spec = C.load_symbol(args)
    strategy = C.load_strategy_from_args(args)
    bars, data_name = C.load_data(args)
    costs, cost_name = C.cost_setup_from_args(args, spec)
    intents = strategy.signals(bars)
    market = Market.build(bars, triple_day=getattr(spec, "triple_swap_day", 2))
    result = run_backtest(
        bars,
        intents,
        spec,
        market=market,
        costs=costs,
        initial_balance=args.balance,
        risk=args.risk,
        fixed_volume=args.volume,
        sl_first=not args.tp_first,
        seed=args.seed,
    )
    s = result.summary()
    ref = result.refusals()
    from simlab.refusals import OrderContext, check_traded, warning

    ctx = OrderContext.of(spec, args.risk, args.volume, volume_option=True)
    if not args.allow_no_trades:
        check_traded(s["trades"], ref, ctx, f"in {len(bars):,} bars")
    loud = warning(ref, ctx)
    if loud:
        print(f"simlab backtest: WARNING: {loud}", file=sys.stderr)
    print(
        f"simlab backtest: {getattr(strategy, 'name', args.strategy)} on {data_name} ({len(bars):,} bars, {spec.name})"
    )
    print(f"  costs: {cost_name} | seed {args.seed}")
    rows = [
        ("trades", f"{s['trades']:,}"),
        ("win rate", _fmt(100 * s["win_rate"], ".1f") + " %"),
        ("net P/L", _fmt(s["net_pnl"])),
        ("final balance", _fmt(s["final_balance"])),
        ("max drawdown", f"{_fmt(s['max_drawdown'])} ({_fmt(100 * s['max_drawdown_pct'], '.2f')} %)"),
        ("profit factor", _fmt(s["profit_factor"], ".2f")),
        ("Sharpe (daily, annualised)", _fmt(s["sharpe"], ".2f")),
        ("average cost paid per trade", _fmt(s["avg_cost_per_trade"])),
        ("total costs paid", _fmt(s["total_costs"])),
        ("refused orders", f"{ref.total:,} of {ref.decisions:,}"),
    ]
    for k, v in rows:
        print(f"  {k:<30} {v:>18}")
    if ref.total:
        print(f"    {', '.join(f'{k} {v:,}' for k, v in ref.to_json().items())}")
    by_session = result.costs_by_session()
    if by_session:
        print("  costs paid per session (points)   fills   avg spread   avg slippage")
        for name, c in by_session.items():
            print(
                f"    {name:<31} {c['fills']:>5}   {c['avg_spread_points']:>10.2f}   {c['avg_slippage_points']:>12.2f}"
            )
    if args.json:
        from simlab.atomic import atomic_write_text

        atomic_write_text(
            args.json,
            json.dumps(_json_payload(result, s, args, data_name, cost_name), indent=1, allow_nan=False),
        )
        print(f"  wrote {args.json}")
    return 0


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _json_payload(
    result: Any, summary: dict[str, Any], args: argparse.Namespace, data_name: str, cost_name: str
) -> dict[str, Any]:
    import numpy as np

    trades = result.trades()
    for col in ("entry_time", "exit_time"):
        trades[col] = trades[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    ledger = [{k: _clean(v) for k, v in row.items()} for row in trades.to_dict(orient="records")]
    n = result.curve.shape[0]
    times = result.bars.time[result.start : result.start + n]
    curve = result.curve
    worst = curve[:, 2]
    if args.curve == "daily":
        # the last bar of each trading day, with that day's worst intrabar equity
        day = result.market.day[result.start : result.start + n]
        last = np.flatnonzero(np.r_[day[1:] != day[:-1], True])
        first = np.r_[0, last[:-1] + 1]
        worst = np.minimum.reduceat(np.minimum(curve[:, 2], curve[:, 1]), first)
        times, curve = times[last], curve[last]
    iso = np.datetime_as_string(times.astype("datetime64[ns]"), unit="s")
    return {
        "schema": "simlab.backtest/1",
        "setup": {
            "strategy": args.strategy,
            "params": C.parse_params(args.param),
            "data": data_name,
            "symbol": result.symbol,
            "costs": cost_name,
            "risk": args.risk,
            "volume": args.volume,
            "balance": args.balance,
            "seed": args.seed,
        },
        "summary": {k: _clean(v) for k, v in summary.items()},
        "costs_by_session": result.costs_by_session(),
        "entry_decisions": result.refusals().decisions,
        "refused_orders": result.refusals().to_json(),
        "trades": ledger,
        "equity_curve": {
            "resolution": args.curve,
            "time": [s + "Z" for s in iso.tolist()],
            "balance": np.round(curve[:, 0], 6).tolist(),
            "equity": np.round(curve[:, 1], 6).tolist(),
            "worst_equity": np.round(worst, 6).tolist(),
        },
    }
