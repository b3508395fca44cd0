"""``simlab check-strategy NAME --data F``: do the strategy's decisions change when the future is added?

Computes the strategy's intents on the whole data and on many prefixes of it
and prints ``OK`` or the first bar whose decision differs (index, UTC time,
field). Exit code 0: no look-ahead found; 1: look-ahead (or non-determinism)
found; 2: bad input (unknown strategy, bad parameter, unreadable data, a
strategy that fails to run).
"""

from __future__ import annotations

import argparse

from simlab_cli.commands import _common as C


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("strategy", metavar="NAME", help="strategy: name, module:Class or path.py[:Class]")
    p.add_argument(
        "--param", action="append", default=[], metavar="K=V", help="strategy parameter (repeatable)"
    )
    p.add_argument("--params-file", default=None, metavar="TOML", help="strategy parameters from a TOML file")
    C.add_data_arguments(p)
    p.add_argument(
        "--prefixes",
        type=int,
        default=32,
        metavar="N",
        help="random prefixes to check, besides the fixed ones (default 32)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random cut points (default 0)")
    p.add_argument(
        "--debug", action="store_true", help="let an exception inside the strategy show its traceback"
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from simlab.errors import ConfigError, SimlabError
    from strategies.lookahead import check_lookahead
    from strategies.registry import load_strategy, parse_param_args

    if args.prefixes < 0:
        raise ConfigError("--prefixes", f"expected a count >= 0, got {args.prefixes}")
    params = parse_param_args(args.param)
    strategy = load_strategy(args.strategy, params, Path(args.params_file) if args.params_file else None)
    bars, data_name = C.load_data(args)
    try:
        report = check_lookahead(strategy, bars, n_prefixes=args.prefixes, seed=args.seed)
    except SimlabError:
        raise
    except Exception as exc:
        if args.debug:
            raise
        lines = str(exc).strip().splitlines()
        msg = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
        raise ConfigError(
            strategy.name, f"signals() failed on {data_name}: {msg} (--debug shows the traceback)"
        ) from None
    print(report)
    return 0 if report.ok else 1
