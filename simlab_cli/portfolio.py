"""Portfolio runs of ``simlab backtest`` and ``simlab challenge``: the legs from the options, checked before any work.

A run is a portfolio when it is given ``--portfolio FILE``, ``--data`` as ``SYMBOL=FILE`` (or more than
once) or ``--convert``. Each leg (``simlab.portfolio.Leg``) takes the run's option of the same
meaning where it leaves a field out: ``--strategy`` / ``--param`` / ``--params-file``, ``--risk`` /
``--volume``, ``--exec-model``, ``--tz`` / ``--format`` / ``--timeframe``. An option that no leg
takes is refused in one line, as is an option that means nothing for a portfolio (``--symbol`` where
the legs name their symbols, ``--bootstrap-days``).

:func:`resolve` checks everything that needs no market data (the legs, their symbols, strategies,
execution models and fixed volumes, every input file) and :func:`load` then reads the data, puts the
legs on one grid (``simlab.align``) and plans their profit conversion (``simlab.currency``).
:func:`canonical_values` gives what the recorded command line holds instead of the options as given
(``--data SYMBOL=FILE`` per leg, ``--exec-model SYMBOL=MODEL`` with every model resolved), so that
``simlab rerun`` runs the very same portfolio.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from typing import Any

from simlab.errors import ConfigError
from simlab.portfolio import ConvertSource, Leg, PortfolioSpec
from simlab_cli.commands import _common as C

__all__ = [
    "LegSetup",
    "LoadedPortfolio",
    "PortfolioSetup",
    "canonical_values",
    "is_portfolio",
    "load",
    "refuse_leg_options",
    "resolve",
]

# options that make a run a portfolio (dest -> option)
PORTFOLIO_OPTIONS = {"portfolio": "--portfolio", "convert": "--convert"}


def is_portfolio(args: argparse.Namespace) -> bool:
    """Does ``args`` ask for a portfolio run (see the module doc)?"""
    return bool(getattr(args, "portfolio", None) or getattr(args, "convert", None)) or isinstance(
        getattr(args, "data", None), list
    )


def refuse_leg_options(args: argparse.Namespace, mode: str) -> None:
    """One line for a portfolio option (``--portfolio``, ``--convert``, a repeated ``--data`` or
    ``--exec-model SYMBOL=M``) in a mode that runs one symbol (``mode``: its name)."""
    if getattr(args, "portfolio", None):
        raise ConfigError("--portfolio", f"does not apply in {mode}: it runs one symbol")
    if getattr(args, "convert", None):
        raise ConfigError("--convert", f"does not apply in {mode}: it runs one symbol")
    if isinstance(getattr(args, "data", None), list):
        raise ConfigError("--data", f"give one data file in {mode}: SYMBOL=FILE legs make a portfolio")
    if isinstance(getattr(args, "exec_model", None), list):
        raise ConfigError(
            "--exec-model", f"give one execution model in {mode}: SYMBOL=MODEL names a leg of a portfolio"
        )


# ----------------------------------------------------------------------------- the legs, resolved


@dataclass(frozen=True)
class LegSetup:
    """A leg with every setting resolved, before its data are read."""

    leg: Leg
    spec: Any  # simlab.symbols.SymbolSpec
    strategy: Any  # strategies.base.Strategy
    costs: Any  # execution_models.setup.Costs
    risk: float  # fraction of equity per trade (0 with a fixed volume)
    volume: float  # fixed lots (0: risk sizing)

    @property
    def name(self) -> str:
        return self.leg.symbol

    @property
    def bundled(self) -> bool:
        from simlab.bundled import is_bundled

        return is_bundled(self.leg.data)


@dataclass(frozen=True)
class PortfolioSetup:
    spec: PortfolioSpec
    legs: tuple[LegSetup, ...]
    from_file: bool  # the legs came from --portfolio

    def input_paths(self) -> dict[str, str | None]:
        """Option -> path of every input file (for ``simlab.atomic.check_output_paths``)."""
        out: dict[str, str | None] = {}
        if self.spec.source:
            out["--portfolio"] = self.spec.source
        for s in self.legs:
            if not s.bundled:
                out[f"--data {s.name}"] = s.leg.data
            if s.leg.params_file:
                out[f"{s.leg.where} params_file"] = s.leg.params_file
        for c in self.spec.convert:
            out[f"--convert {c.pair}"] = c.data
        return out


def _cli_legs(args: argparse.Namespace, given: set[str]) -> PortfolioSpec:
    from simlab.portfolio import is_leg_item, parse_assignment

    items = args.data if isinstance(args.data, list) else [str(args.data)]
    named = [is_leg_item(x) for x in items]
    legs = []
    for item, is_named in zip(items, named):
        if is_named:
            sym, path = parse_assignment(item, "--data")
        elif len(items) > 1:
            raise ConfigError(
                "--data", f"{item!r}: name the symbol of each leg of a portfolio, as --data SYMBOL={item}"
            )
        else:  # one plain --data FILE with --convert: a portfolio of one leg, its symbol as a run's
            sym, path = C.symbol_choice(args).name, item
        legs.append(Leg(symbol=sym, data=path, where=f"--data {item}"))
    if any(named) and "symbol" in given:
        raise ConfigError(
            "--symbol", "does not apply to a portfolio: the legs name their symbols (--data SYMBOL=FILE)"
        )
    return PortfolioSpec(tuple(legs))


def _convert_sources(args: argparse.Namespace) -> tuple[ConvertSource, ...]:
    from simlab.currency import check_pair
    from simlab.portfolio import parse_assignment

    out = []
    for item in getattr(args, "convert", None) or []:
        pair, path = parse_assignment(item, "--convert", "FILE")
        out.append(ConvertSource(check_pair(pair, "--convert"), path, where=f"--convert {pair}"))
    return tuple(out)


def _exec_models(args: argparse.Namespace, symbols: list[str]) -> tuple[str | None, dict[str, str]]:
    """``--exec-model`` as the default of every leg, and the SYMBOL=MODEL entries by leg symbol."""
    from simlab.portfolio import parse_assignment

    values = args.exec_model if isinstance(args.exec_model, list) else [str(args.exec_model)]
    default: str | None = None
    per: dict[str, str] = {}
    known = {s.upper(): s for s in symbols}
    for v in values:
        if "=" in v:
            sym, model = parse_assignment(v, "--exec-model", "MODEL")
            if sym.upper() not in known:
                raise ConfigError(
                    "--exec-model", f"{v}: {sym} is not a leg of this portfolio ({', '.join(symbols)})"
                )
            per[known[sym.upper()]] = model
        elif default is not None:
            raise ConfigError(
                "--exec-model", f"{v}: one model for every leg is given twice; name a leg, SYMBOL={v}"
            )
        else:
            default = v
    return default, per


def _refuse_unused(
    args: argparse.Namespace, given: set[str], spec: PortfolioSpec, exec_default_given: bool, command: str
) -> None:
    """An option of the run that no leg takes is refused (it would be silently ignored)."""
    legs = spec.legs
    unused: dict[str, str] = {}
    if all(leg.strategy is not None for leg in legs):
        unused["strategy"] = "every leg of the portfolio file names its own strategy"
    if all(leg.strategy is not None for leg in legs):
        unused["param"] = unused["params_file"] = "every leg of the portfolio file names its own strategy"
    sized = all(leg.risk is not None or leg.volume is not None for leg in legs)
    if sized:
        unused["risk"] = "every leg of the portfolio file sets its own risk or volume"
        unused["volume"] = unused["risk"]
    reads = [leg for leg in legs if not _bundled(leg.data)] + list(spec.convert)
    for dest, field in (("tz", "tz"), ("fmt", "fmt"), ("timeframe", "timeframe")):
        takers = [
            x
            for x in reads
            if getattr(x, field, None) is None and (dest != "timeframe" or isinstance(x, Leg))
        ]
        if not takers:
            unused[dest] = (
                "every leg is bundled data"
                if not reads
                else f"every leg of the portfolio file sets its own {field}"
            )
    if exec_default_given and all(leg.exec_model is not None for leg in legs):
        unused["exec_model"] = "every leg has its own execution model (SYMBOL=MODEL or the portfolio file)"
    if "bootstrap_days" in given:
        unused["bootstrap_days"] = (
            "day bootstrap of a portfolio is not built; attempts start on days of the real history"
        )
    if unused:
        C.refuse_given(args, unused, "this portfolio")


def _bundled(path: str) -> bool:
    from simlab.bundled import is_bundled

    return is_bundled(path)


def resolve(args: argparse.Namespace) -> PortfolioSetup:
    """Every leg of the run with its settings resolved and checked; no market data is read."""
    from execution_models.setup import resolve_costs
    from simlab.files import check_input_file
    from simlab.portfolio import load_portfolio
    from simlab.symbols import get_symbol
    from strategies.registry import load_strategy

    given = C.given(args)
    if args.portfolio:
        if "data" in given:
            raise ConfigError(
                "--data", f"does not apply with --portfolio {args.portfolio}: the legs come from the file"
            )
        if "symbol" in given:
            raise ConfigError(
                "--symbol", "does not apply to a portfolio: the legs name their symbols in the file"
            )
        spec = load_portfolio(args.portfolio)
    else:
        spec = _cli_legs(args, given)
    spec = replace(spec, convert=spec.convert + _convert_sources(args)).check()
    default_model, per_model = _exec_models(args, spec.symbols)
    legs = []
    for leg in spec.legs:
        model = per_model.get(leg.symbol)
        if model is not None and leg.exec_model is not None and model != leg.exec_model:
            # a recorded run names the resolved model: the same one passes, another contradicts the file
            if _resolved_model(leg, args) != model:
                raise ConfigError(
                    "--exec-model",
                    f"{leg.symbol}={model} contradicts {leg.where}: exec_model = {leg.exec_model!r}",
                )
        legs.append(replace(leg, exec_model=model or leg.exec_model))
    spec = replace(spec, legs=tuple(legs))
    _refuse_unused(args, given, spec, "exec_model" in given and default_model is not None, args.command)
    volume_opt = getattr(args, "volume", None)
    params = C.parse_params(args.param)
    spec = spec.with_defaults(
        strategy=args.strategy,
        exec_model=default_model or "auto",
        tz=args.tz,
        fmt=args.fmt,
        timeframe=args.timeframe,
    )
    for c in spec.convert:
        if not _bundled(c.data):
            check_input_file(c.data, c.where)
    out = []
    for leg in spec.legs:
        if not _bundled(leg.data):
            check_input_file(leg.data, leg.where)
        elif leg.fmt or leg.tz or leg.timeframe:
            what = "tz" if leg.tz else "format" if leg.fmt else "timeframe"
            raise ConfigError(leg.where, f"{what}: the bundled data are not read from a file")
        sym_spec = get_symbol(leg.symbol, args.symbol_file)
        if leg.params is not None:  # the leg names its strategy: its own parameters
            strategy = load_strategy(str(leg.strategy), leg.params, leg.params_file)
        else:
            strategy = load_strategy(str(leg.strategy), params, args.params_file)
        if getattr(strategy, "run_challenge", None) is not None:
            raise ConfigError(
                leg.where,
                f"{leg.strategy} decides in the closed loop of one account; it cannot be a leg of a portfolio",
            )
        costs = resolve_costs(
            sym_spec,
            str(leg.exec_model),
            model_dir=args.model_dir,
            spread=args.spread,
            slippage=not args.no_slippage,
            latency_budget_ms=args.latency_budget_ms,
        )
        volume = float(
            leg.volume if leg.volume is not None else (volume_opt if leg.risk is None else 0.0) or 0.0
        )
        risk = 0.0 if volume > 0 else float(leg.risk if leg.risk is not None else args.risk)
        if volume > 0:
            from simlab_cli.commands.backtest import check_volume

            try:
                check_volume(volume, sym_spec)
            except ConfigError as exc:
                raise ConfigError(leg.where if leg.volume is not None else "--volume", exc.what) from None
        out.append(LegSetup(leg, sym_spec, strategy, costs, risk, volume))
    if not any(s.costs.has_model for s in out):
        checks = {
            "spread": "no leg has an execution model",
            "no_slippage": "no leg has an execution model: there is no slippage to switch off",
            "latency_budget_ms": "needs an execution model's latency; no leg has one",
        }
        if getattr(args, "spread", "data") == "data":
            checks.pop("spread")
        C.refuse_given(args, checks, "this portfolio")
    return PortfolioSetup(spec, tuple(out), bool(args.portfolio))


def _resolved_model(leg: Leg, args: argparse.Namespace) -> str:
    from execution_models.setup import resolve_costs
    from simlab.symbols import get_symbol

    return resolve_costs(
        get_symbol(leg.symbol, args.symbol_file), str(leg.exec_model), model_dir=args.model_dir
    ).resolved


def canonical_values(setup: PortfolioSetup) -> dict[str, Any]:
    """The recorded command line's values of a portfolio run (``simlab_cli.provenance.canonical_argv``)."""
    values: dict[str, Any] = {
        "symbol": None,
        "exec_model": [f"{s.name}={s.costs.resolved}" for s in setup.legs],
    }
    if setup.from_file:
        values["data"] = None
    else:
        values["data"] = [f"{s.name}={s.leg.data}" for s in setup.legs]
    return values


# ----------------------------------------------------------------------------- the data


@dataclass(frozen=True, eq=False)
class LoadedPortfolio:
    """The legs' data read and checked, on one grid: what the kernel runs, and what provenance records."""

    setup: PortfolioSetup
    bars: tuple[Any, ...]
    data: tuple[dict[str, Any], ...]  # provenance records of each leg's data
    convert: tuple[tuple[ConvertSource, Any, dict[str, Any]], ...]  # each conversion series, its bars, record
    grid: Any  # simlab.align.Grid
    conversions: tuple[Any, ...]  # simlab.currency.Conversion per leg

    def market(self, **calendar: Any) -> Any:
        """The ``simlab.portfolio_market.PortfolioMarket`` of the legs under ``calendar`` settings."""
        from simlab.portfolio_market import PortfolioMarket

        return PortfolioMarket.build(
            self.grid,
            self.bars,
            [s.name for s in self.setup.legs],
            [s.spec for s in self.setup.legs],
            self.conversions,
            **calendar,
        )


def _read(
    path: str, *, fmt: str | None, tz: str | None, symbol: str, timeframe: str | None, args: Any
) -> Any:
    from simlab.bundled import bundled_bars, is_bundled
    from simlab.loaders import load_bars

    if is_bundled(path):
        from simlab.symbol_match import check_plausible, choose_symbol

        bars = bundled_bars(path)
        check_plausible(
            bars.bid,
            choose_symbol(symbol, None, args.symbol_file),
            f"{symbol}={path} (synthetic EURUSD prices)",
        )
        return bars
    bars = load_bars(path, fmt=fmt, tz=tz, symbol=symbol, timeframe=timeframe, symbol_file=args.symbol_file)
    warnings = bars.meta.get("warnings")
    for message in warnings if isinstance(warnings, list) else []:
        C.warn(args, f"{symbol}: {message}")
    return bars


def load(setup: PortfolioSetup, args: argparse.Namespace) -> LoadedPortfolio:
    """Read every leg's data and every conversion series; the grid and the conversions."""
    from simlab.align import align
    from simlab.bundled import describe, is_bundled
    from simlab.currency import plan_conversions
    from simlab.symbols import name_candidates
    from simlab_cli import provenance as P

    bars, records = [], []
    for s in setup.legs:
        leg = s.leg
        b = _read(leg.data, fmt=leg.fmt, tz=leg.tz, symbol=leg.symbol, timeframe=leg.timeframe, args=args)
        name = describe(leg.data) if is_bundled(leg.data) else leg.data
        rec = P.data_info(b, name, None if is_bundled(leg.data) else leg.data)
        rec["time_zone"] = P.time_zone_info(b, leg.tz, is_bundled(leg.data))
        bars.append(b)
        records.append(rec)
    names = [s.leg.where for s in setup.legs]
    grid = align(bars, names)
    series: dict[str, tuple[Any, str]] = {}
    for s, b in zip(setup.legs, bars):
        for cand in name_candidates(s.name):
            if len(cand) == 6 and cand not in series:
                series[cand] = (b, f"leg {s.name}")
    conv = []
    for c in setup.spec.convert:
        if c.pair in series:
            raise ConfigError(
                c.where, f"{c.pair} is a leg of this portfolio: its own series converts already"
            )
        b = _read(c.data, fmt=c.fmt or args.fmt, tz=c.tz or args.tz, symbol=c.pair, timeframe=None, args=args)
        rec = P.data_info(b, c.data, c.data) | {"time_zone": P.time_zone_info(b, c.tz or args.tz, False)}
        series[c.pair] = (b, c.where)
        conv.append((c, b, rec))
    conversions = plan_conversions(
        [s.spec for s in setup.legs],
        [s.leg.currency for s in setup.legs],
        grid.time,
        [leg.first_row for leg in grid.legs],
        series,
        names,
    )
    for plan in conversions:
        if plan.note:
            C.warn(args, plan.note)
    return LoadedPortfolio(setup, tuple(bars), tuple(records), tuple(conv), grid, tuple(conversions))


# ----------------------------------------------------------------------------- provenance


def provenance(
    loaded: LoadedPortfolio, args: argparse.Namespace, lookahead: list[dict[str, Any]]
) -> dict[str, Any]:
    """The portfolio members of a run's provenance: the file (if any), every leg as run, the conversions."""
    from simlab.currency import ACCOUNT_CURRENCY
    from simlab.files import sha256_of
    from simlab_cli import provenance as P

    setup = loaded.setup
    legs = []
    for s, rec, la, conv in zip(setup.legs, loaded.data, lookahead, loaded.conversions):
        legs.append(
            {
                "symbol": P.symbol_info(s.spec, args.symbol_file),
                "data": rec,
                "strategy": P.strategy_info(s.strategy, str(s.leg.strategy)),
                "exec_model": s.costs.info,
                "risk": s.risk if s.volume <= 0 else None,
                "volume": s.volume if s.volume > 0 else None,
                "conversion": conv.to_json(),
                "lookahead_check": la,
            }
        )
    out: dict[str, Any] = {
        "portfolio": {
            "file": setup.spec.source,
            "sha256": sha256_of(setup.spec.source) if setup.spec.source else None,
            "account_currency": ACCOUNT_CURRENCY,
            "bar": loaded.grid.bar_ns and _duration(loaded.grid.bar_ns),
            "rows": len(loaded.grid),
        },
        "legs": legs,
    }
    if loaded.convert:
        out["convert"] = [{"pair": c.pair, "data": rec} for c, _, rec in loaded.convert]
    return out


def _duration(ns: int) -> str:
    from simlab.loaders import format_duration

    return format_duration(ns)


def lookahead_records(loaded: LoadedPortfolio, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The look-ahead gate of every leg's strategy on its own data (a one-line error for a leak)."""
    if args.no_lookahead_check:
        return [{"ran": False, "reason": "--no-lookahead-check"} for _ in loaded.setup.legs]
    from strategies.lookahead import lookahead_gate

    return [
        lookahead_gate(s.strategy, b, rec["sha256"], data_name=f"{s.name}: {rec['name']}")
        for s, b, rec in zip(loaded.setup.legs, loaded.bars, loaded.data)
    ]
