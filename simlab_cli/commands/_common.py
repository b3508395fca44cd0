"""Arguments and wiring shared by the commands that run strategies (backtest, challenge)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from simlab.bundled import BUNDLED, BUNDLED_M1
from simlab.errors import ConfigError, one_line
from simlab.timezones import TZ_HELP

SEED_MAX = 2**63 - 1  # seeds are 0 .. 2**63-1: the generator keys on a signed 64-bit integer


# ----------------------------------------------------------------------------- option value types
# argparse calls these on the text of an option; an ArgumentTypeError becomes one line, exit 2
# (simlab_cli.main.OneLineParser), before anything runs.


def _finite(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a finite number")
    return x


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _within(text: str, x: float, lo: float, hi: float, expected: str) -> None:
    if not lo <= x <= hi:
        raise argparse.ArgumentTypeError(f"{text!r}: expected {expected}")


def finite_float(text: str) -> float:
    """Any finite number (NaN and inf refused)."""
    return _finite(text)


def positive_float(text: str) -> float:
    """A finite number > 0."""
    x = _finite(text)
    _within(text, x, math.ulp(0.0), math.inf, "a number > 0")
    return x


def account_size(text: str) -> float:
    """An account size: > 0 and at most a billion (rule files are held to the same bound)."""
    x = positive_float(text)
    _within(text, x, 0.0, 1e9, "an account size up to 1e9")
    return x


def nonnegative_float(text: str) -> float:
    """A finite number >= 0."""
    x = _finite(text)
    _within(text, x, 0.0, math.inf, "a number >= 0")
    return x


def fraction(text: str) -> float:
    """A number in [0, 1] (a rate, not a percent)."""
    x = _finite(text)
    _within(text, x, 0.0, 1.0, "a fraction in [0, 1], e.g. 0.7 for 70%")
    return x


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    n = _int(text)
    _within(text, n, 1, math.inf, "a whole number >= 1")
    return n


def nonnegative_int(text: str) -> int:
    """A whole number >= 0."""
    n = _int(text)
    _within(text, n, 0, math.inf, "a whole number >= 0")
    return n


def seed(text: str) -> int:
    """A seed in 0 .. 2**63-1 (two different seeds never give the same attempts)."""
    n = _int(text)
    _within(text, n, 0, SEED_MAX, f"a seed in 0 .. 2**63-1 ({SEED_MAX})")
    return n


# ----------------------------------------------------------------------------- given options


def given(args: argparse.Namespace) -> set[str]:
    """The dests of the options given on the command line (``simlab_cli.main.main`` records the words).

    Without the words (a namespace built by hand), the options whose value differs from the default.
    A namespace may carry the answer already (``_given``: a sweep asks it once for all its cells).
    """
    from simlab_cli.main import command_parser, given_options

    known = getattr(args, "_given", None)
    if known is not None:
        return set(known)

    words = getattr(args, "_argv", None)
    if words is not None:
        return given_options(args.command, words)
    parser = command_parser(args.command)
    return {
        a.dest for a in parser._actions if a.option_strings and getattr(args, a.dest, a.default) != a.default
    }


def refuse_given(args: argparse.Namespace, dests: dict[str, str], mode: str) -> None:
    """One-line ConfigError for the first option of ``dests`` (dest -> why) that was given."""
    got = given(args)
    from simlab_cli.main import command_parser

    parser = command_parser(args.command)
    for action in parser._actions:
        if action.dest in dests and action.dest in got:
            opt = max(action.option_strings, key=len)
            raise ConfigError(opt, f"does not apply in {mode}: {dests[action.dest]}")


def is_bundled(args: argparse.Namespace) -> bool:
    return args.data in (BUNDLED, BUNDLED_M1)


def refuse_given_on_bundled(args: argparse.Namespace) -> None:
    """The reading options of --data mean nothing for the bundled data: refuse them there."""
    if is_bundled(args):
        refuse_given(
            args,
            {
                "tz": "the bundled data are generated in UTC",
                "fmt": "the bundled data are not read from a file",
                "timeframe": "the bundled data are H1 ('bundled') or M1 ('bundled-m1')",
            },
            f"--data {args.data}",
        )


def parse_number_params(items: list[str], where: str) -> dict[str, float]:
    """``["target_pct=8"]`` -> ``{"target_pct": 8.0}``; one line for a value that is not a finite number."""
    out: dict[str, float] = {}
    for k, v in parse_params(items, where).items():
        try:
            x = float(v)
        except ValueError:
            raise ConfigError(where, f"{k}={v}: expected a number") from None
        if not math.isfinite(x):
            raise ConfigError(where, f"{k}={v}: expected a finite number")
        out[k] = x
    return out


def input_paths(args: argparse.Namespace) -> dict[str, str | None]:
    """Option -> path of every input file a command reads (for simlab.atomic.check_output_paths)."""
    out: dict[str, str | None] = {}
    if not is_bundled(args):
        out["--data"] = args.data
    for dest, opt in (
        ("trades", "--trades"),
        ("symbol_file", "--symbol-file"),
        ("params_file", "--params-file"),
    ):
        out[opt] = getattr(args, dest, None)
    for dest, opt in (("program", "--program"), ("governors", "--governors"), ("exec_model", "--exec-model")):
        v = getattr(args, dest, None)
        if v and Path(v).is_file():
            out[opt] = v
    strat = getattr(args, "strategy", None)
    if strat:
        head = strat.rpartition(":")[0] if strat.rpartition(":")[2].isidentifier() and ":" in strat else strat
        if head.endswith(".py"):
            out["--strategy"] = head
    return out


class _Once(str):
    """A ``--data`` / ``--exec-model`` value given once (a plain str is the default)."""

    __slots__ = ()


class LegValues(argparse.Action):
    """``--data`` / ``--exec-model`` of the commands that run portfolios: given once as a plain value,
    a str (what it always was); given again, or as ``SYMBOL=VALUE``, the list of the values given
    (a portfolio's legs: ``simlab_cli.portfolio``)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: Any = None,
    ) -> None:
        from simlab.portfolio import is_leg_item

        prev = getattr(namespace, self.dest, None)
        value = str(values)
        if isinstance(prev, list):
            setattr(namespace, self.dest, [*prev, value])
        elif (
            isinstance(prev, _Once)
            or (self.dest == "data" and is_leg_item(value))
            or (self.dest != "data" and "=" in value)
        ):
            setattr(namespace, self.dest, [str(prev), value] if isinstance(prev, _Once) else [value])
        else:
            setattr(namespace, self.dest, _Once(value))


def add_data_arguments(p: argparse.ArgumentParser, portfolio: bool = False) -> None:
    """The data options; ``portfolio``: ``--data`` repeatable as ``SYMBOL=FILE``, with ``--portfolio`` and
    ``--convert`` (the commands that run several symbols under one account: backtest, challenge)."""
    g = p.add_argument_group("data")
    if portfolio:
        g.add_argument(
            "--data",
            default=BUNDLED,
            action=LegValues,
            metavar="FILE|SYMBOL=FILE",
            help="bars or ticks: MT5 export, CSV/Parquet with bid/ask OHLC, tick file; 'bundled' (default): two "
            "years of synthetic EURUSD H1, 'bundled-m1': the same as minute bars. Repeat as SYMBOL=FILE for a "
            "portfolio: several symbols on one time grid under one account",
        )
    else:
        g.add_argument(
            "--data",
            default=BUNDLED,
            metavar="FILE",
            help="bars or ticks: MT5 export, CSV/Parquet with bid/ask OHLC, tick file; 'bundled' (default): two "
            "years of synthetic EURUSD H1, 'bundled-m1': the same as minute bars",
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
    if portfolio:
        g = p.add_argument_group("portfolio (several symbols under one account)")
        g.add_argument(
            "--portfolio",
            default=None,
            metavar="TOML",
            help="the legs of a portfolio from a file: per leg its symbol, data, strategy, params, risk or volume, "
            "exec_model, tz; a field left out takes the option of the same name (see README 'Portfolios')",
        )
        g.add_argument(
            "--convert",
            action="append",
            default=[],
            metavar="PAIR=FILE",
            help="a conversion series (repeatable), e.g. EURUSD=eurusd.csv: a leg whose profit is in EUR (GER40) "
            "converts it to USD at this pair's price on every bar instead of the spec's fixed tick value",
        )


def add_strategy_arguments(p: argparse.ArgumentParser, default: str = "ma_cross") -> None:
    g = p.add_argument_group("strategy")
    g.add_argument(
        "--strategy",
        default=default,
        help=f"name, module:Class or path.py[:Class] (default {default}); in a portfolio, of every leg that names "
        "none",
    )
    g.add_argument(
        "--param", action="append", default=[], metavar="K=V", help="strategy parameter (repeatable)"
    )
    g.add_argument("--params-file", default=None, metavar="TOML", help="strategy parameters from a TOML file")


def add_cost_arguments(p: argparse.ArgumentParser, portfolio: bool = False) -> None:
    g = p.add_argument_group("costs")
    help_text = (
        "execution model: path, SYMBOL@YYYY-MM-DD, SYMBOL (newest), 'none' (data spread, no slippage); "
        "default: the newest shipped model of the symbol, else none"
    )
    if portfolio:
        g.add_argument(
            "--exec-model",
            default="auto",
            action=LegValues,
            metavar="M|SYMBOL=M",
            help=help_text
            + "; in a portfolio 'auto' or 'none' for every leg, or SYMBOL=M for one (repeatable)",
        )
    else:
        g.add_argument("--exec-model", default="auto", metavar="M", help=help_text)
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
        type=nonnegative_float,
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


def show_and_write(args: argparse.Namespace, doc: dict[str, Any], gap: str = "\n") -> None:
    """The summary of a result on stdout (rich tables on a terminal, the plain table otherwise), then
    ``--json`` and ``--html`` written (atomically), each said in a line (``gap`` before the first)."""
    from reports.terminal import print_table
    from simlab.results import write_result

    print_table(doc)
    if args.json:
        write_result(args.json, doc)
        print(f"{gap}  wrote {args.json}")
    if getattr(args, "html", None):
        from reports.report import write_report

        write_report(doc, args.html)
        print(f"  wrote {args.html}")


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
    if is_bundled(args):
        from simlab.bundled import bundled_bars, describe
        from simlab.symbol_match import check_plausible

        bars = bundled_bars(args.data)
        check_plausible(bars.bid, symbol_choice(args), f"--data {args.data} (synthetic EURUSD prices)")
        return bars, describe(args.data)
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


def warn_fixed_conversion(args: argparse.Namespace, spec: Any) -> None:
    """Say so when the run's profit is converted at the spec's fixed tick value (a quote currency other
    than the account's, no conversion series: ``simlab.currency.plan_conversions``, as a portfolio leg)."""
    import numpy as np

    from simlab.currency import plan_conversions

    plan = plan_conversions([spec], [None], np.empty(0, dtype=np.int64), [0], {}, [spec.name])[0]
    if plan.note:
        warn(args, plan.note)


def load_strategy_from_args(args: argparse.Namespace) -> Any:
    from strategies.registry import load_strategy

    params = parse_params(args.param)
    return load_strategy(args.strategy, params, Path(args.params_file) if args.params_file else None)


def costs_from_args(args: argparse.Namespace, spec: Any) -> Any:
    """The ``execution_models.setup.Costs`` of ``--exec-model`` (and ``--spread``, ``--no-slippage``,
    ``--latency-budget-ms``); an option that needs a model is refused in one line without one."""
    from execution_models.setup import resolve_costs

    costs = resolve_costs(
        spec,
        args.exec_model,
        model_dir=args.model_dir,
        spread=args.spread,
        slippage=not args.no_slippage,
        latency_budget_ms=args.latency_budget_ms,
    )
    if not costs.has_model:
        got = given(args)
        if "spread" in got and args.spread != "data":
            raise ConfigError(
                "--spread", f"'{args.spread}' needs an execution model, and --exec-model is none"
            )
        if "no_slippage" in got:
            raise ConfigError("--no-slippage", "there is no slippage to switch off: --exec-model is none")
        if "latency_budget_ms" in got:
            raise ConfigError(
                "--latency-budget-ms", "needs an execution model's latency; --exec-model is none"
            )
    return costs


def add_governor_arguments(parser: argparse.ArgumentParser, default: str = "default") -> None:
    """``--governors NAME|FILE`` and repeatable ``--gov key=value`` for a sub-command."""
    from challenges.governors import FIELD_NAMES, list_governor_presets

    parser.add_argument(
        "--governors",
        metavar="NAME|FILE",
        default=default,
        help=f"trader's guard rails: a preset ({', '.join(list_governor_presets())}) or a TOML file "
        f"(default: {default})",
    )
    parser.add_argument(
        "--gov",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override one governor, e.g. --gov daily_buffer_pct=1.5 --gov halt_at_target=false "
        "(percents are percents; 'off' switches a buffer off); KEY: " + ", ".join(FIELD_NAMES),
    )


def governors_from_args(args: argparse.Namespace) -> Any:
    """The effective governors of ``--governors`` and ``--gov`` (a ``GovernorConfig``)."""
    from challenges.governors import load_governors

    return load_governors(getattr(args, "governors", None), list(getattr(args, "gov", None) or []))
