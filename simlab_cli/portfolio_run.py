"""``simlab backtest`` and ``simlab challenge`` on a portfolio: several symbols under one account.

The legs are resolved and checked before any data is read (``simlab_cli.portfolio``), then read,
aligned on one grid and run by the portfolio kernel (``simlab.portfolio_engine``). The result is the
one schema of a single-symbol run (``simlab.results``) with a ``legs`` member: each leg's trades,
P/L and costs, its costs by session and how its profit reached the account currency; a backtest's
ledger rows name their ``symbol``. The provenance holds every leg (symbol spec, data file and sha256,
strategy, execution model, sizing) in place of the single run's ``symbol`` / ``data`` / ``strategy``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from simlab import layout as L
from simlab.errors import ConfigError
from simlab_cli import portfolio as PF
from simlab_cli.commands import _common as C

__all__ = ["run_backtest", "run_challenge"]


def _settings(setup: PF.PortfolioSetup) -> Any:
    from simlab.portfolio_engine import LegSettings

    return LegSettings(
        tuple(s.costs.setup for s in setup.legs),
        tuple(s.risk for s in setup.legs),
        tuple(s.volume for s in setup.legs),
    )


def _refuse_seed_without_models(args: argparse.Namespace, setup: PF.PortfolioSetup, given: set[str]) -> None:
    if "seed" in given and not any(s.costs.has_model for s in setup.legs) and args.command == "backtest":
        raise ConfigError(
            "--seed", "nothing is drawn at random: no leg has an execution model (--exec-model none)"
        )


def _check_orders(
    args: argparse.Namespace, setup: PF.PortfolioSetup, n_trades: int, refusals: Any, what: str
) -> None:
    """No trade in the whole portfolio is an error (as for one symbol); mostly refused orders a warning."""
    from simlab.refusals import OrderContext, check_traded, warning

    s = setup.legs[0]
    ctx = OrderContext.of(s.spec, s.risk, s.volume, volume_option=args.command == "backtest")
    if not args.allow_no_trades:
        check_traded(n_trades, refusals, ctx, what)
    loud = warning(refusals, ctx)
    if loud:
        print(f"simlab {args.command}: WARNING: {loud}", file=sys.stderr)


def _leg_json(
    name: str, counts: np.ndarray, conversion: Any, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One leg's member of ``legs``: its trades, P/L and costs (money, account currency)."""
    c = counts
    total = c[L.LEG_SPREAD_COST] + c[L.LEG_SLIP_COST] + c[L.LEG_COMMISSION] - min(c[L.LEG_SWAP], 0.0)
    d: dict[str, Any] = {
        "symbol": name,
        "trades": int(c[L.LEG_TRADES]),
        "net_pnl": round(float(c[L.LEG_PNL]), 6),
        "gross_pnl": round(float(c[L.LEG_GROSS]), 6),
        "costs": {
            "spread": round(float(c[L.LEG_SPREAD_COST]), 6),
            "slippage": round(float(c[L.LEG_SLIP_COST]), 6),
            "commission": round(float(c[L.LEG_COMMISSION]), 6),
            "swap": round(float(c[L.LEG_SWAP]), 6),
            "total": round(float(total), 6),
        },
        "conversion": conversion.to_json(),
    }
    return d | (extra or {})


def _sizing(args: argparse.Namespace, setup: PF.PortfolioSetup) -> dict[str, Any]:
    """The run's --risk / --volume as recorded: only where a leg takes it (the legs record their own)."""
    takes_risk = any(s.leg.risk is None and s.leg.volume is None and s.volume <= 0 for s in setup.legs)
    return {"risk": args.risk if takes_risk else None, "volume": getattr(args, "volume", None)}


# ----------------------------------------------------------------------------- backtest


def run_backtest(args: argparse.Namespace) -> int:
    from simlab.atomic import check_output_paths
    from simlab.portfolio_engine import run_portfolio_backtest
    from simlab.results import envelope
    from simlab_cli import provenance as P
    from simlab_cli.commands.backtest import _body

    got = C.given(args)
    if args.volume is not None and "risk" in got:
        raise ConfigError("--risk", "give --risk or --volume, not both (--volume trades fixed lots)")
    if args.volume is None and not 0.0 < args.risk <= 0.2:
        raise ConfigError("--risk", f"{args.risk} is outside (0, 0.2]; give a fraction, e.g. 0.01 for 1%")
    setup = PF.resolve(args)
    check_output_paths({"--json": args.json, "--html": args.html}, setup.input_paths())
    _refuse_seed_without_models(args, setup, got)
    loaded = PF.load(setup, args)
    lookahead = PF.lookahead_records(loaded, args)
    market = loaded.market()
    intents = [s.strategy.signals(b) for s, b in zip(setup.legs, loaded.bars)]
    run = run_portfolio_backtest(
        market,
        intents,
        _settings(setup),
        initial_balance=args.balance,
        sl_first=not args.tp_first,
        seed=args.seed,
    )
    has_model = any(s.costs.has_model for s in setup.legs)
    argv = P.canonical_argv("backtest", args, values=PF.canonical_values(setup))
    prov = P.base(argv) | {
        "seed": args.seed if has_model else None,
        "balance": args.balance,
        **_sizing(args, setup),
        "tp_first": bool(args.tp_first),
    }
    prov |= PF.provenance(loaded, args, lookahead)
    account = run.account
    _check_orders(
        args, setup, int(account.summary()["trades"]), account.refusals(), f"in {len(market):,} rows"
    )
    body = _body(account, args.curve)
    names = market.names
    for row, leg in zip(body["trades"], run.trade_leg.tolist()):
        row["symbol"] = names[leg]
    body["costs_by_session"] = {}  # points of different symbols do not add up: each leg has its own
    body["legs"] = [
        _leg_json(
            name,
            run.leg_counts[i],
            market.conversions[i],
            {"costs_by_session": run.leg_result(i).costs_by_session()},
        )
        for i, name in enumerate(names)
    ]
    doc = envelope("backtest", "bars", prov, body)
    C.show_and_write(args, doc, gap="")
    return 0


# ----------------------------------------------------------------------------- challenge


def run_challenge(
    args: argparse.Namespace, program: Any, size: float, horizon: int, horizon_info: dict[str, Any]
) -> int:
    from simlab.atomic import check_output_paths
    from simlab.portfolio_engine import PortfolioChallengeSetup, run_portfolio_challenge
    from simlab_cli.commands import challenge as CH

    if not 0.0 < args.risk <= 0.2:
        raise ConfigError("--risk", f"{args.risk} is outside (0, 0.2]; give a fraction, e.g. 0.01 for 1%")
    setup = PF.resolve(args)
    check_output_paths({"--json": args.json, "--html": args.html}, setup.input_paths())
    gov, gov_info = CH._governors(args, False)
    loaded = PF.load(setup, args)
    lookahead = PF.lookahead_records(loaded, args)
    zone, reset = program.day_boundary
    market = loaded.market(
        day_zone=zone,
        day_reset=reset,
        reset_window_min=gov.reset_window_min,
        weekend_window_min=gov.weekend_window_min,
    )
    pc = PortfolioChallengeSetup(
        market=market,
        intents=[s.strategy.signals(b) for s, b in zip(setup.legs, loaded.bars)],
        legs=_settings(setup),
        phase_rules=program.rule_matrix(),
        phase_names=[ph.name for ph in program.phases],
        gov=gov.to_vector(),
        initial_balance=size,
        horizon_days=horizon,
        warmups=[int(getattr(s.strategy, "warmup", 0) or 0) for s in setup.legs],
        seed=args.seed,
        meta={
            "program": program.name,
            "strategy": "+".join(f"{s.name}:{s.leg.strategy}" for s in setup.legs),
        },
    )
    where = "+".join(s.leg.data for s in setup.legs)
    result, leg_out = run_portfolio_challenge(pc, args.runs, workers=args.workers, where=where)
    reached = result.out[:, :, L.RES_STATUS] >= 0
    _check_orders(args, setup, result.n_trades(), result.refusals(), f"in {result.runs} attempts")
    prov = CH._provenance(args, program, size, horizon_info, gov_info, PF.canonical_values(setup))
    prov |= {"risk": _sizing(args, setup)["risk"]}
    prov |= PF.provenance(loaded, args, lookahead)
    legs = []
    for i, name in enumerate(market.names):
        counts = np.where(reached[:, :, None], leg_out[:, :, i, :], 0.0).sum(axis=(0, 1))
        legs.append(_leg_json(name, counts, market.conversions[i]))
    return CH._finish(args, result.document(prov, extra={"legs": legs}))
