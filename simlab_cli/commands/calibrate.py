"""``simlab calibrate``: learn a per-session spread / slippage / latency model and write it as JSON.

Examples::

    simlab calibrate --ticks eurusd_ticks.csv.gz --symbol EURUSD
    simlab calibrate --ticks t1.csv --ticks t2.csv --fills fills.csv --mt5-deals ReportHistory.html \\
        --symbol EURUSD --tz Europe/Helsinki --out-dir my_models --date 2026-11-21
    simlab calibrate --show EURUSD            # print the newest EURUSD model's table
    simlab calibrate --show EURUSD@2026-11-21 --model-dir my_models

The file goes to ``<out-dir>/<SYMBOL>/<YYYY-MM-DD>.json`` (written atomically);
an existing file of the same date is kept unless ``--force``: older dates stay
for rollback. The definitions of every number are in
``execution_models.calibrate`` and in the file's ``notes``.
"""

from __future__ import annotations

import argparse
import shlex

from simlab.timezones import TZ_HELP


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_argument_group("sources (one or more; repeat a flag for several files)")
    src.add_argument(
        "--ticks", action="append", default=[], metavar="FILE", help="bid/ask tick file: spread per session"
    )
    src.add_argument(
        "--fills",
        action="append",
        default=[],
        metavar="FILE",
        help="fill records CSV: time, symbol, side, order_type, requested_price, filled_price, latency_ms",
    )
    src.add_argument(
        "--mt5-deals",
        action="append",
        default=[],
        metavar="FILE",
        help="MT5 History report (HTML or CSV) Deals table: commission, and slippage of [sl]/[tp] fills",
    )
    p.add_argument("--symbol", default=None, help="symbol the model is for (required unless --show)")
    p.add_argument(
        "--symbol-file",
        default=None,
        metavar="TOML",
        help="symbol specs of your broker (as for backtest): the model's point is the spec's",
    )
    p.add_argument(
        "--tz",
        default=None,
        metavar="ZONE",
        help=f"zone of naive times in the files: {TZ_HELP} (default UTC)",
    )
    p.add_argument(
        "--point",
        type=float,
        default=None,
        help="price of one point (default: the symbol spec's; inferred from the prices only for a symbol "
        "without a spec)",
    )
    p.add_argument(
        "--out-dir",
        default="execution_models",
        metavar="DIR",
        help="models folder (default ./execution_models)",
    )
    p.add_argument(
        "--date",
        default=None,
        metavar="YYYY-MM-DD",
        help="calibration date in the file name (default today, UTC)",
    )
    p.add_argument("--force", action="store_true", help="overwrite a model of the same symbol and date")
    p.add_argument(
        "--spread-weighting",
        choices=("time", "tick"),
        default="time",
        help="spread samples: one per second a quote is in force (default) or one per tick",
    )
    p.add_argument(
        "--max-gap-s",
        type=float,
        default=600.0,
        help="inter-tick gaps longer than this are the market closed (default 600)",
    )
    p.add_argument(
        "--stop-slippage-from-ticks",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="derive stop slippage from the ticks' quote jumps where no fills give it (default on)",
    )
    p.add_argument(
        "--hour-of-week",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also store spread tables per hour of the week (default on)",
    )
    p.add_argument("--note", action="append", default=[], help="a note to store in the file (repeatable)")
    p.add_argument(
        "--show",
        default=None,
        metavar="MODEL",
        help="print an existing model (path, SYMBOL or SYMBOL@DATE) and exit",
    )
    p.add_argument(
        "--model-dir",
        default=None,
        metavar="DIR",
        help="user models folder searched by --show before the shipped ones",
    )


def run(args: argparse.Namespace) -> int:
    from execution_models.model import load_model, model_summary
    from simlab.errors import ConfigError

    if args.show is not None:
        print(model_summary(load_model(args.show, model_dir=args.model_dir)))
        return 0
    if not args.symbol:
        raise ConfigError("--symbol", "required: the symbol the model is for (e.g. --symbol EURUSD)")
    from execution_models.calibrate import calibrate, model_path
    from execution_models.model import _SYMBOL_RE

    if not _SYMBOL_RE.match(args.symbol):
        raise ConfigError("--symbol", f"expected a symbol name like EURUSD, got {args.symbol!r}")
    import datetime as dt

    from simlab.atomic import check_output_paths

    # where the model will go, checked before the calibration runs (the date is today's unless given)
    planned = model_path(args.out_dir, args.symbol, args.date or dt.datetime.now(dt.UTC).date().isoformat())
    sources = {f"{opt} {f}": f for opt, files in (("--ticks", args.ticks), ("--fills", args.fills),
               ("--mt5-deals", args.mt5_deals)) for f in files}  # fmt: skip
    check_output_paths({"--out-dir": planned}, sources, create_folders=True)
    from simlab.symbol_match import choose_symbol

    spec = choose_symbol(args.symbol, None, args.symbol_file).spec  # None: no spec of that name
    model = calibrate(
        args.symbol,
        ticks=args.ticks,
        fills=args.fills,
        mt5_deals=args.mt5_deals,
        tz=args.tz,
        point=args.point,
        spec=spec,
        created=args.date,
        spread_weighting=args.spread_weighting,
        max_gap_s=args.max_gap_s,
        stop_slippage_from_ticks=args.stop_slippage_from_ticks,
        hour_of_week_tables=args.hour_of_week,
        notes=args.note,
    )
    path = model_path(args.out_dir, model.symbol, model.created)
    if path.exists() and not args.force:
        raise ConfigError(
            str(path), "a model of this symbol and date exists; pass --force to replace it or --date"
        )
    model.save(path)
    model.path = str(path)
    print(model_summary(model))
    cost_q, _ = model.to_kernel_tables()
    print(f"kernel tables: {cost_q.shape[2]} quantile knots per (kind, session)")
    print(f"wrote {path}")
    print(f"use it with: {use_command(args, path, spec is not None)}")
    print(
        f"  (or in any run of {args.symbol}: --model-dir {shlex.quote(args.out_dir)} --exec-model {model.name})"
    )
    return 0


def use_command(args: argparse.Namespace, model_path: object, known_symbol: bool) -> str:
    """A command that runs as printed: a backtest of the calibrated symbol on the first tick file with
    the new model (without tick files: the same with a placeholder for the user's bars)."""
    data = shlex.quote(str(args.ticks[0])) if args.ticks else "YOUR_BARS.csv"
    parts = ["simlab", "backtest", "--data", data]
    if args.tz:
        parts += ["--tz", shlex.quote(args.tz)]
    parts += ["--symbol", shlex.quote(args.symbol)]
    if args.symbol_file:
        parts += ["--symbol-file", shlex.quote(str(args.symbol_file))]
    parts += ["--exec-model", shlex.quote(str(model_path))]
    text = " ".join(parts)
    if not known_symbol:
        text += f"  ({args.symbol} has no spec: define it in a --symbol-file first)"
    return text
