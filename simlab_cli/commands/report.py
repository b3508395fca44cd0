"""``simlab report RESULT.json -o report.html``: the HTML report of a result file, written later.

The report is a pure function of the result document (``reports.report``), so the page written
here has the same bytes as the one ``--html`` wrote during the run. A file of another schema version,
a truncated or garbled one: one line, exit code 2 (``simlab.results.read_result``).
"""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "result", metavar="RESULT", help="a result file (schema simlab.result/1, any command or mode)"
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="the HTML report to write (self-contained, no network)",
    )


def run(args: argparse.Namespace) -> int:
    from reports.report import write_report
    from simlab.atomic import check_output_paths
    from simlab.results import read_result

    check_output_paths({"--output": args.output}, {"RESULT": args.result})
    doc = read_result(args.result)
    write_report(doc, args.output)
    print(f"wrote {args.output}")
    return 0
