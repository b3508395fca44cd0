"""``simlab live``: run a strategy live on MetaTrader 5 (or a fake terminal), or export its fill records."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="live_action", metavar="ACTION", required=True)
    r = sub.add_parser("run", help="run the strategy of a live.toml (preflight first; exit 2 on any failure)")
    r.add_argument(
        "--config", required=True, metavar="TOML", help="the runner's configuration (see live/README.md)"
    )
    r.add_argument("--dry-run", action="store_true", help="the full pipeline, orders logged and not sent")
    f = sub.add_parser("fills", help="write the journal's fills as the CSV `simlab calibrate --fills` reads")
    f.add_argument("--journal", required=True, metavar="DB")
    f.add_argument("--out", required=True, metavar="CSV")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from simlab.errors import InputError

    if args.live_action == "fills":
        from live.journal import Journal
        from simlab.atomic import atomic_write_text

        if not Path(args.journal).is_file():
            raise InputError(args.journal, "no such journal")
        if Path(args.out).resolve() == Path(args.journal).resolve():
            raise InputError(args.out, "is the journal itself; choose another output path")
        journal = Journal(args.journal)
        atomic_write_text(args.out, journal.fills_csv())
        n_virtual = len(journal.fills(virtual=True))
        left_out = (
            f" ({n_virtual} virtual fills of a dry run left out: not measurements)" if n_virtual else ""
        )
        print(f"simlab live: wrote {args.out}{left_out}")
        return 0
    from live.app import run as run_live
    from live.config import load_config

    cfg = load_config(args.config)
    return run_live(cfg, args.config, dry_run=args.dry_run)
