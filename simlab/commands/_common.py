"""Arguments and wiring shared by the commands that run strategies (backtest, challenge)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from simlab.errors import ConfigError, one_line
from simlab.timezones import TZ_HELP

BUNDLED = "bundled"  # --data value meaning the synthetic default that ships with simlab (H1)
BUNDLED_M1 = "bundled-m1"  # the same synthetic path as one-minute bars


def add_data_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    g.add_argument(
        "--data",
        default=BUNDLED,
        metavar="FILE",
        help="bars or ticks: MT5 export, CSV/Parquet with bid/ask OHLC, tick file; 'bundled' (default): two years "
        "of synthetic EURUSD H1, 'bundled-m1': the same as minute bars",
    )
    g.add_argument(
        "--tz",
        default=None,
        metavar="ZONE",
        help=f"server time zone of the file's times: {TZ_HELP}; default: UTC, with a warning for MT5 exports",
    )
    g.add_argument(
        "--format",
        dest="fmt",
        default=None,
        help="force the file format (mt5-bars, mt5-ticks, csv, parquet, ticks)",
    )
    g.add_argument("--timeframe", default=None, help="bar size when --data holds ticks (default 1min)")
    g.add_argument(
        "--symbol",
        default=None,
        help="symbol spec: a preset (EURUSD, XAUUSD, GER40, ...) or a --symbol-file section; default: the "
        "symbol an MT5 export's file name starts with (XAUUSD_H1_...), else EURUSD",
    )
    g.add_argument(
        "--symbol-file",
        default=None,
        metavar="TOML",
        help="symbol specs of your broker: overrides of presets (digits, commission, swaps, ...) or new symbols",
    )


def add_strategy_arguments(p: argparse.ArgumentParser, default: str = "ma_cross") -> None:
    g = p.add_argument_group("strategy")
    g.add_argument(
        "--strategy", default=default, help=f"name, module:Class or path.py[:Class] (default {default})"
    )
    g.add_argument(
        "--param", action="append", default=[], metavar="K=V", help="strategy parameter (repeatable)"
    )
    g.add_argument("--params-file", default=None, metavar="TOML", help="strategy parameters from a TOML file")


def add_cost_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("costs")
    g.add_argument(
        "--exec-model",
        default="auto",
        metavar="M",
        help="execution model: path, SYMBOL@YYYY-MM-DD, SYMBOL (newest), 'none' (data spread, no slippage); "
        "default: the newest shipped model of the symbol, else none",
    )
    g.add_argument("--model-dir", default=None, help="folder of user execution models (SYMBOL/DATE.json)")
    g.add_argument(
        "--spread",
        choices=("data", "model", "wider"),
        default="wider",
        help="ask = bid + the data's spread, the model's sampled spread, or the wider of both (default)",
    )
    g.add_argument("--no-slippage", action="store_true", help="do not sample slippage")
    g.add_argument(
        "--latency-budget-ms",
        type=float,
        default=0.0,
        help="decisions slower than this fill at the session's p90 slippage",
    )


def parse_params(items: list[str], where: str = "--param") -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(where, f"'{item}' is not KEY=VALUE")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def warn(args: argparse.Namespace, message: str) -> None:
    """One warning line on stderr, as ``simlab COMMAND: warning: ...`` (never in --json output)."""
    import sys

    print(
        f"simlab {getattr(args, 'command', None) or 'simlab'}: warning: {one_line(message)}", file=sys.stderr
    )


def _data_path(args: argparse.Namespace) -> str | None:
    return None if args.data in (BUNDLED, BUNDLED_M1) else str(args.data)


def load_data(args: argparse.Namespace) -> tuple[Any, str]:
    """The bars of --data (or the bundled default) and a short description of them.

    The loader's warnings (no --tz on an MT5 export, a last row that may be cut off) go to stderr.
    """
    if args.data in (BUNDLED, BUNDLED_M1):
        from simlab.symbol_match import check_plausible
        from simlab.synthetic import default_bars

        tf = "1h" if args.data == BUNDLED else "1min"
        bars = default_bars(tf)
        check_plausible(bars.bid, symbol_choice(args), f"--data {args.data} (synthetic EURUSD prices)")
        return bars, f"bundled synthetic EURUSD {'H1' if tf == '1h' else 'M1'} (not real prices)"
    from simlab.loaders import load_bars  # it reports a missing file as one line itself

    bars = load_bars(
        args.data,
        fmt=args.fmt,
        tz=args.tz,
        symbol=args.symbol,
        timeframe=args.timeframe,
        symbol_file=args.symbol_file,
    )
    warnings = bars.meta.get("warnings")
    for message in warnings if isinstance(warnings, list) else []:
        warn(args, str(message))
    return bars, str(args.data)


def symbol_choice(args: argparse.Namespace) -> Any:
    """The :class:`~simlab.symbol_match.SymbolChoice` of --symbol / the --data file name / the default."""
    from simlab.symbol_match import choose_symbol

    return choose_symbol(args.symbol, _data_path(args), args.symbol_file)


def load_symbol(args: argparse.Namespace) -> Any:
    """The spec of the run's symbol (see :func:`symbol_choice`); an unknown one is a one-line error."""
    from simlab.symbols import get_symbol

    choice = symbol_choice(args)
    return choice.spec if choice.spec is not None else get_symbol(choice.name, args.symbol_file)


def load_strategy_from_args(args: argparse.Namespace) -> Any:
    from strategies.registry import load_strategy

    params = parse_params(args.param)
    return load_strategy(args.strategy, params, Path(args.params_file) if args.params_file else None)


def cost_setup_from_args(args: argparse.Namespace, spec: Any) -> tuple[Any, str]:
    """A ``CostSetup`` and the exact name of the calibration it uses."""
    from simlab import layout as L
    from simlab.engine import CostSetup

    name = args.exec_model
    if name == "none":
        return CostSetup.fixed(), "none (data spread, no slippage)"
    from execution_models import available_models, load_model

    if name == "auto":
        if not available_models(spec.name, model_dir=args.model_dir):
            return CostSetup.fixed(), "none (no execution model for this symbol: data spread, no slippage)"
        model = load_model(spec.name, model_dir=args.model_dir)  # a broken file is an error, not "no costs"
    else:
        model = load_model(name, model_dir=args.model_dir)
    q, probs = model.to_kernel_tables(spec.point)
    mode = {"data": L.SPREAD_FROM_DATA, "model": L.SPREAD_FROM_MODEL, "wider": L.SPREAD_WIDER}[args.spread]
    label = f"{model.ident} (spread: {args.spread}, slippage: {'off' if args.no_slippage else 'on'})"
    setup = CostSetup(
        cost_q=q,
        cost_probs=probs,
        spread_mode=mode,
        slippage=not args.no_slippage,
        latency_budget_ms=float(args.latency_budget_ms),
        name=label,
    )
    return setup, label
