"""The terminal table of a sweep result, drawn from the result document alone (``simlab.sweep``).

Plain text when stdout is not a terminal (pipes, files, tests); a ``rich`` table on a terminal. Both
show the same cells, figures and lines: a header (data, costs, strategy, governors, programs, grid),
one row per cell (the best one marked), the best cell and its ``simlab challenge`` command, and the
selection check side by side with the in-sample figure.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import IO, Any

from simlab.results import describe_governors

MAX_ROWS = 60  # a larger grid shows its best cells only (the JSON holds all)
SHOWN_WHEN_CUT = 30


def _v(x: Any) -> str:
    """An axis value as short text."""
    if isinstance(x, float):
        return f"{x:g}"
    return "off" if x is None else str(x)


def _pct(x: Any) -> str:
    return "-" if x is None else f"{100 * float(x):.1f}%"


def _ci(pr: Mapping[str, Any]) -> str:
    lo, hi = pr["ci95"]
    return f"{100 * lo:5.1f}% .. {100 * hi:5.1f}%"


def _objective_text(name: str, value: Any, currency: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if name == "pass_rate":
        return _pct(value)
    if name == "days":
        return f"{value:.0f} d"
    return f"{value:,.0f} {currency}".rstrip()


def _days(summary: Mapping[str, Any]) -> str:
    d = summary.get("days_to_pass")
    return "-" if not d else f"{d['median']:.0f}"


def header_lines(doc: Mapping[str, Any]) -> list[str]:
    prov = doc["provenance"]
    r = doc["result"]
    n = len(r["cells"])
    st = prov.get("strategy") or {}
    what = (
        f"trade list {(prov.get('trades') or {}).get('name')}"
        if doc["mode"] == "trade_list"
        else f"{st.get('spec')} on {(prov.get('data') or {}).get('name')}"
    )
    obj = r["objective"]
    lines = [
        f"simlab sweep: {n} cells x {r['runs']} attempts | {what} | seed {prov.get('seed')}",
        f"  objective: {obj['label']} ({'highest' if obj['goal'] == 'max' else 'lowest'} wins)",
    ]
    data = prov.get("data")
    if data:
        em = prov.get("exec_model") or {}
        lines.append(
            f"  data: {data.get('rows', 0):,} bars, {data.get('first')} .. {data.get('last')} "
            f"(sha256 {str(data.get('sha256', ''))[:12]}) | costs: {em.get('ident')}"
        )
        varied = set(st.get("params_varied") or [])
        params = ", ".join(
            f"{k}=<grid>" if k in varied else f"{k}={v}" for k, v in (st.get("params") or {}).items()
        )
        risk = prov.get("risk")
        sizing = "risk <grid>" if risk is None else f"risk {100 * risk:.2f}% per trade"
        lines.append(f"  strategy: {st.get('spec')} ({params}) | {sizing}")
    tr = prov.get("trades")
    if tr:
        lines.append(f"  trades: {tr.get('trades')} trades, {tr.get('first')} .. {tr.get('last')}")
    lines.append(f"  governors: {describe_governors(prov.get('governors'))}")
    progs = prov.get("programs") or {}
    lines.append(
        "  programs: " + ", ".join(f"{k} (rules verified {v.get('verified')})" for k, v in progs.items())
    )
    grid = " x ".join(f"{a['name']} {a['given']}" for a in r["axes"])
    lines.append(
        f"  grid: {grid} = {n} cells, each the simlab challenge run of its settings, seed {prov.get('seed')}"
    )
    return lines


def _rows(doc: Mapping[str, Any]) -> tuple[list[str], list[list[str]], str]:
    """Column names, one row of text per shown cell, and a note when rows were left out."""
    r = doc["result"]
    obj = r["objective"]
    names = [a["name"] for a in r["axes"]]
    best = (r.get("best") or {}).get("cell")
    cols = ["", "#", *names, "pass rate", "95% CI", "median days"]
    show_obj = obj["name"] != "pass_rate" and obj["name"] != "days"
    if show_obj:
        cols.append("EV")
    cells = list(r["cells"])
    note = ""
    if len(cells) > MAX_ROWS:
        goal = 1.0 if obj["goal"] == "max" else -1.0
        ranked = sorted(
            cells,
            key=lambda c: (c["objective"] is None, -goal * (c["objective"] or 0.0), c["cell"]),
        )
        keep = {c["cell"] for c in ranked[:SHOWN_WHEN_CUT]}
        cells = [c for c in cells if c["cell"] in keep]
        note = f"  ... the best {SHOWN_WHEN_CUT} of {len(r['cells'])} cells shown; every cell is in the JSON (--json)"
    rows = []
    for c in cells:
        s = c["summary"]
        row = [
            "*" if c["cell"] == best else ("-" if not c.get("traded", True) else ""),
            str(c["cell"]),
            *(_v(c["settings"][k]) for k in names),
            _pct(s["pass_rate"]["rate"]),
            _ci(s["pass_rate"]),
            _days(s),
        ]
        if show_obj:
            row.append(_objective_text(obj["name"], c["objective"], (c.get("ev") or {}).get("currency", "")))
        rows.append(row)
    return cols, rows, note


def _settings(s: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={_v(v)}" for k, v in s.items())


def footer_lines(doc: Mapping[str, Any]) -> list[str]:
    """The best cell, the selection check, what the objective assumes, the cells that did not trade."""
    r = doc["result"]
    obj = r["objective"]
    cur = next((c["ev"]["currency"] for c in r["cells"] if c.get("ev")), "")
    lines: list[str] = []
    no_trades = [c for c in r["cells"] if not c.get("traded", True)]
    if no_trades:
        lines.append(
            f"  - {len(no_trades)} cell(s) placed no trade and are left out of the choice, e.g. cell "
            f"#{no_trades[0]['cell']}: {no_trades[0].get('no_trades', '')}"
        )
    best = r.get("best")
    lines.append("")
    if not best:
        lines.append("  best cell: none (no cell traded)")
        return lines
    pr = best["pass_rate"]
    lines.append(
        f"  best cell #{best['cell']}: {_settings(best['settings'])} | pass rate {_pct(pr['rate'])} "
        f"({pr['passed']} of {pr['runs']}), 95% CI {_ci(pr).strip()}"
        + (
            ""
            if obj["name"] == "pass_rate"
            else f" | {obj['label']} {_objective_text(obj['name'], best['objective'], cur)}"
        )
    )
    lines.append(f"    run it alone: {best['command']}")
    sc = r["selection_check"]
    lines.append("")
    lines.append(
        f"  selection check: the best of {sc['cells']} cells flatters its own figure; here is that choice on "
        "attempts it was not chosen on"
    )
    extra = "" if obj["name"] == "pass_rate" else f"   {obj['label']}"
    lines.append(f"    {'':<58} pass rate   95% CI{extra}")

    def row(label: str, fig: Mapping[str, Any]) -> str:
        p = fig["pass_rate"]
        tail = (
            "" if obj["name"] == "pass_rate" else f"   {_objective_text(obj['name'], fig['objective'], cur)}"
        )
        return f"    {label:<58} {_pct(p['rate']):>9}   {_ci(p)}{tail}"

    ins = sc["in_sample"]
    lines.append(row(f"in sample: cell #{ins['cell']} on the attempts it was chosen on", ins))
    fr = sc["fresh_seeds"]
    lines.append(row(f"fresh seeds: cell #{ins['cell']}, seed {fr['seed']}", fr))
    wf = sc["walk_forward"]
    if wf.get("ran", True) is False:
        lines.append(f"    walk-forward: not run ({wf['reason']})")
    else:
        sp = wf["split"]
        ch = wf["chosen"]
        lines.append(f"    walk-forward, split at {sp['at']} ({sp['rule']}):")
        e, later = sp["earlier"], sp["later"]
        lines.append(row(f"  chosen on {e['first'][:10]} .. {e['last'][:10]}: cell #{ch['cell']}", ch))
        lines.append(
            row(f"  reported on {later['first'][:10]} .. {later['last'][:10]}: the same cell", wf["later"])
        )
        lines.append(f"      (cell #{ch['cell']}: {_settings(ch['settings'])})")
    if obj.get("assumes"):
        lines.append("")
        lines.append("  What the EV assumes:")
        lines.extend(f"    - {a}" for a in obj["assumes"])
        terms: dict[str, str] = {}
        for c in r["cells"]:
            ev = c.get("ev")
            if not ev:
                continue
            key = " ".join(f"{k}={_v(v)}" for k, v in c["settings"].items() if k in ("program", "size"))
            terms.setdefault(
                key,
                f"fee {ev['fee']:,.2f}, payout {ev['payout']:,.2f}, refund {ev['refund']:,.2f} {ev['currency']} "
                f"(fee: {ev['fee_source']}; payout: {ev['payout_source']})",
            )
        for key, text in terms.items():
            lines.append(f"    {key + ': ' if key else ''}{text}")
    return lines


def format_sweep_table(doc: Mapping[str, Any]) -> str:
    """The plain-text table of a sweep document."""
    cols, rows, note = _rows(doc)
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
    left = 2 + len(doc["result"]["axes"])  # the mark, the number and the axes: left-aligned

    def fmt_row(cells: list[str]) -> str:
        return (
            "  "
            + "  ".join(
                cell.ljust(w) if i < left else cell.rjust(w) for i, (cell, w) in enumerate(zip(cells, widths))
            ).rstrip()
        )

    lines = [*header_lines(doc), "", fmt_row(cols), *(fmt_row(r) for r in rows)]
    if note:
        lines.append(note)
    lines.extend(footer_lines(doc))
    return "\n".join(lines)


def print_sweep_table(doc: Mapping[str, Any], *, rich: bool = False, out: IO[str] | None = None) -> None:
    """Print the table on ``out`` (stdout): a rich table (on a terminal), else :func:`format_sweep_table`."""
    out = sys.stdout if out is None else out
    if not rich:
        print(format_sweep_table(doc), file=out)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, highlight=False, soft_wrap=False)
    console.print("\n".join(header_lines(doc)), markup=False)
    cols, rows, note = _rows(doc)
    n_axes = len(doc["result"]["axes"])
    table = Table(box=None, pad_edge=False, padding=(0, 1), show_edge=False)
    for i, c in enumerate(cols):
        table.add_column(c, justify="left" if i < 2 + n_axes else "right")
    for r in rows:
        table.add_row(*r, style="bold" if r[0] == "*" else None)
    console.print(table)
    if note:
        console.print(note, markup=False)
    console.print("\n".join(footer_lines(doc)), markup=False)


__all__ = ["format_sweep_table", "print_sweep_table"]
