"""``simlab rerun RESULT.json``: run the settings a result file recorded, again.

The file's ``provenance.argv`` is the canonical command line of its run (see
``simlab_cli.provenance``); rerun executes it with new output options. With the same
inputs (the recorded sha256 of the data, rules, models) the new file has the same
bytes as the old one, which is how a result is checked.
"""

from __future__ import annotations

import argparse

from simlab_cli.commands import _common as C


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("result", metavar="RESULT", help="a result file (schema simlab.result/1)")
    p.add_argument("--json", default=None, metavar="FILE", help="write the new result as JSON")
    p.add_argument("--html", default=None, metavar="FILE", help="write the HTML report of the new result")
    p.add_argument(
        "--workers",
        type=C.positive_int,
        default=None,
        help="threads (default: all cores); results do not depend on it",
    )


def run(args: argparse.Namespace) -> int:
    from simlab.atomic import check_output_paths
    from simlab.errors import ConfigError
    from simlab.results import read_result
    from simlab_cli.main import main

    check_output_paths({"--json": args.json, "--html": args.html}, {"RESULT": args.result})
    doc = read_result(args.result)
    argv = [str(a) for a in doc["provenance"]["argv"]]
    if not argv or argv[0] not in ("challenge", "backtest", "sweep"):
        raise ConfigError(args.result, "field 'provenance.argv': no simlab command recorded")
    extra: list[str] = []
    if args.json:
        extra += ["--json", args.json]
    if args.html:
        extra += ["--html", args.html]
    if args.workers is not None and argv[0] in ("challenge", "sweep"):
        extra += ["--workers", str(args.workers)]
    elif args.workers is not None:
        raise ConfigError("--workers", "a backtest runs on one thread")
    return main([*argv, *extra])
