"""``simlab inspect --data FILE``: what a data file holds before anything is run on it.

Rows, UTC span, bar size, spread by session (median / p99 in points) and the gap
report. Bad input ends with one line naming the file, row and field (exit 2); with
``--json OUT`` the summary is written atomically, and only once the file has passed
every check, so a bad input never leaves a partial or stale-looking output behind.
"""

from __future__ import annotations

import argparse
import json

from simlab.loaders import FORMATS
from simlab.timezones import TZ_HELP


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", required=True, metavar="FILE", help="bars or ticks: MT5 export, CSV(.gz), Parquet"
    )
    parser.add_argument(
        "--tz",
        default=None,
        metavar="ZONE",
        help=f"time zone of naive times in the file: {TZ_HELP} (default: UTC, flagged as assumed)",
    )
    parser.add_argument(
        "--symbol",
        default=None,
        help="symbol spec (its point scales the <SPREAD> column); default: the symbol an MT5 export's "
        "file name starts with, else EURUSD",
    )
    parser.add_argument(
        "--symbol-file", default=None, metavar="TOML", help="symbol specs of your broker (as for backtest)"
    )
    parser.add_argument(
        "--format", dest="fmt", default=None, choices=FORMATS, help="force the format (default: detect)"
    )
    parser.add_argument(
        "--timeframe",
        default=None,
        help="bar size: of the bars made from ticks (default 1min), or to resample bars to",
    )
    parser.add_argument(
        "--point",
        type=float,
        default=None,
        help="point size, e.g. 0.00001 (default: the symbol spec's; the prices' digits where no spec is known)",
    )
    parser.add_argument("--json", default=None, metavar="OUT", help="also write the summary as JSON to OUT")


def _quantiles(values, codes) -> dict[str, dict[str, float | int | None]]:
    import numpy as np

    from simlab.layout import N_SESSIONS, SESSION_NAMES

    out: dict[str, dict[str, float | int | None]] = {}
    groups = [("all", np.ones(values.shape[0], dtype=bool))]
    groups += [(SESSION_NAMES[k], codes == k) for k in range(N_SESSIONS)]
    for name, mask in groups:
        v = values[mask]
        if v.size == 0:
            out[name] = {"n": 0, "median": None, "p99": None, "max": None}
            continue
        out[name] = {
            "n": int(v.size),
            "median": round(float(np.median(v)), 2),
            "p99": round(float(np.quantile(v, 0.99)), 2),
            "max": round(float(v.max()), 2),
        }
    return out


def summarize(args: argparse.Namespace) -> dict[str, object]:
    """Load ``args.data`` (raising InputError on bad input) and build the summary dictionary."""
    import numpy as np

    from simlab.calendar import sessions
    from simlab.loaders import (
        detect_format,
        format_duration,
        gap_report,
        infer_bar_ns,
        load_bars,
        load_ticks_info,
        parse_timeframe,
        resample_ticks,
    )
    from simlab.symbol_match import check_plausible, choose_symbol, resolve_point
    from simlab.validate import fmt_ns

    if args.timeframe is not None:
        parse_timeframe(args.timeframe, str(args.data))  # a bad one is reported with the file's name
    fmt = detect_format(args.data, args.fmt)
    choice = choose_symbol(args.symbol, args.data, args.symbol_file)
    if fmt in ("mt5-ticks", "ticks"):
        ticks = load_ticks_info(args.data, fmt=args.fmt, tz=args.tz)
        check_plausible(ticks.bid, choice, str(args.data))
        bars = resample_ticks(ticks.time, ticks.bid, ticks.ask, args.timeframe or "1min", choice.name)
        meta = dict(ticks.meta)
        pc = resolve_point(ticks.bid, choice, str(args.data), point=args.point, strict=False)
        meta.update(point=pc.point, point_source=pc.source, digits=pc.digits, file_digits=pc.file_digits)
        spread_t, spread_bid, spread_ask = ticks.time, ticks.bid, ticks.ask
        spread_basis = "every tick"
        summary_extra: dict[str, object] = {"ticks": len(ticks)}
        if ticks.meta.get("dropped_rows"):
            summary_extra["dropped_rows"] = ticks.meta["dropped_rows"]
        tick_span = [fmt_ns(int(ticks.time[0])), fmt_ns(int(ticks.time[-1]))] if len(ticks) else None
        summary_extra["tick_span_utc"] = tick_span
    else:
        bars = load_bars(
            args.data,
            fmt=args.fmt,
            tz=args.tz,
            symbol=args.symbol,
            symbol_file=args.symbol_file,
            timeframe=args.timeframe,
            point=args.point,
        )
        meta = dict(bars.meta)
        spread_t, spread_bid, spread_ask = bars.time, bars.bid_close, bars.ask_close
        spread_basis = "bar close"
        summary_extra = {}
    summary: dict[str, object] = {
        "file": str(args.data),
        "format": fmt,
        "symbol": choice.name,
        "symbol_source": choice.source,
        "spec": choice.spec_key,
        **summary_extra,
    }
    point = meta.get("point")
    bar_ns = infer_bar_ns(bars.time)
    summary.update(
        {
            "tz": meta.get("tz"),
            "tz_source": meta.get("tz_source"),
            "tz_assumed": bool(meta.get("tz_assumed", False)),
            "rows": len(bars),
            "rows_in_file": meta.get("rows"),
            "start_utc": fmt_ns(int(bars.time[0])) if len(bars) else None,
            "end_utc": fmt_ns(int(bars.time[-1])) if len(bars) else None,
            "bar_size": format_duration(bar_ns) if bar_ns else None,
            "point": point,
            "point_source": meta.get("point_source"),
            "digits": meta.get("digits"),
            "file_digits": meta.get("file_digits"),
            "ask_from_spread": bool(meta.get("ask_from_spread", False)),
            "sha256": meta.get("sha256"),
            "warnings": list(meta.get("warnings", [])),  # type: ignore[call-overload]
        }
    )
    if meta.get("tz_ignored"):
        summary["tz_ignored"] = meta["tz_ignored"]
    if point:
        spread_pts = np.rint((spread_ask - spread_bid) / float(point))  # type: ignore[arg-type]
        summary["spread_points"] = {
            "basis": spread_basis,
            "by_session": _quantiles(spread_pts, sessions(spread_t)),
        }
    report = gap_report(bars)
    summary["gaps"] = report.to_dict()
    summary["_report"] = report
    return summary


def _print(summary: dict[str, object]) -> None:
    def line(label: str, value: object) -> None:
        print(f"{label:<10} {value}")

    line("file", summary["file"])
    fmt = str(summary["format"])
    tz = summary.get("tz")
    if summary.get("tz_assumed"):
        tz_text = "UTC ASSUMED (no --tz given; MT5 files are in broker server time: pass --tz)"
    elif summary.get("tz_source") == "file offsets":
        tz_text = "the file gives its UTC offsets"
    else:
        tz_text = f"{tz} -> UTC"
    if summary.get("tz_ignored"):
        tz_text += f" (--tz {summary['tz_ignored']} ignored: the file gives its offsets)"
    line("format", fmt)
    line("time zone", tz_text)
    spec = summary.get("spec")
    spec_text = f"spec {spec}" if spec else "no spec of this name: point from the prices' digits"
    line("symbol", f"{summary['symbol']} (from {summary['symbol_source']}; {spec_text})")
    if "ticks" in summary:
        dropped = (
            f" ({summary['dropped_rows']:,} rows without a quote change dropped)"
            if summary.get("dropped_rows")
            else ""
        )
        line("ticks", f"{summary['ticks']:,}{dropped}")
        line("bars", f"{summary['rows']:,} made from the ticks")
    else:
        line("rows", f"{summary['rows']:,} bars")
    line("span", f"{summary['start_utc']} .. {summary['end_utc']}")
    line("bar size", summary["bar_size"] or "unknown (one bar)")
    if summary.get("point"):
        how = {
            "--point": "--point",
            "spec": f"the {spec} spec's",
            "file digits": "from the prices' digits (no spec)",
        }.get(str(summary.get("point_source")), str(summary.get("point_source")))
        decimals = summary.get("file_digits")
        seen = (
            f"; prices have {decimals} decimal{'' if decimals == 1 else 's'}" if decimals is not None else ""
        )
        line("point", f"{float(summary['point']):.10f}".rstrip("0").rstrip(".") + f" ({how}{seen})")  # type: ignore[arg-type]
        if summary.get("ask_from_spread"):
            line("ask", "bid + spread * point at the close; the open takes the previous bar's spread")
    spread = summary.get("spread_points")
    if isinstance(spread, dict):
        print(f"\nspread in points ({spread['basis']}):")
        print(f"  {'session':<10} {'n':>9} {'median':>8} {'p99':>8} {'max':>8}")
        for name, q in spread["by_session"].items():
            if q["n"]:
                print(f"  {name:<10} {q['n']:>9,} {q['median']:>8g} {q['p99']:>8g} {q['max']:>8g}")
    print("\ngaps:")
    for text in str(summary["_report"]).splitlines():
        print(f"  {text}")


def run(args: argparse.Namespace) -> int:
    from simlab.atomic import atomic_write_text
    from simlab_cli.commands._common import warn

    summary = summarize(args)
    _print(summary)
    for message in summary.get("warnings", ()):  # type: ignore[attr-defined]
        warn(args, message)
    if args.json:
        data = {k: v for k, v in summary.items() if not k.startswith("_")}
        atomic_write_text(args.json, json.dumps(data, indent=2) + "\n")
    return 0
