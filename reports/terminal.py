"""The terminal summary of a result: ``rich`` tables on a terminal, the plain text everywhere else.

Plain text (``simlab.results.format_table``) is what pipes, files, CI logs and ``--json`` users have
always read, and it stays byte for byte the same; a person at a terminal gets the same facts in
tables with the pass rate coloured. Both are drawn from the result document alone.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import IO, Any

from simlab.results import format_table, header_lines, horizon_lines, legs_lines, refused_line, run_what


def is_terminal(out: IO[str]) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):  # a closed or stand-in stream
        return False


def print_table(doc: Mapping[str, Any], out: IO[str] | None = None) -> None:
    """Print the summary of ``doc`` on ``out`` (stdout): rich tables on a terminal, else the plain text."""
    out = sys.stdout if out is None else out
    if doc["kind"] == "sweep":
        from simlab.sweep_table import print_sweep_table

        print_sweep_table(doc, rich=is_terminal(out), out=out)
        return
    if not is_terminal(out):
        print(format_table(doc), file=out)
        return
    from rich.console import Console

    console = Console(file=out, highlight=False, soft_wrap=False)
    if doc["kind"] == "challenge":
        _challenge(console, doc)
    else:
        _backtest(console, doc)


def _pct(x: Any, nd: int = 1) -> str:
    return "-" if x is None else f"{100 * float(x):.{nd}f}%"


def _money(x: Any) -> str:
    from reports.page import money

    return money(x, "USD")


def _header(console: Any, title: str, lines: list[str]) -> None:
    from rich.text import Text

    console.print(Text(title, style="bold"))
    for line in lines:
        console.print(Text(line.strip(), style="dim"), overflow="fold")


def _challenge(console: Any, doc: Mapping[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    from reports.page import money

    prov, r = doc["provenance"], doc["result"]
    prog = prov.get("program") or {}
    cur = str(prog.get("currency") or "USD")
    if doc["mode"] == "trade_list":
        what = f"trade list {(prov.get('trades') or {}).get('name')}"
    else:
        what = run_what(prov)
    title = f"simlab challenge: {prog.get('name', '?')} {money(prog.get('size'), cur)} | {what}"
    info = [f"{r['runs']:,} attempts | seed {prov.get('seed')} | mode {doc['mode']}"]
    _header(console, title, info + header_lines(doc) + [ln for ln in horizon_lines(prov) if ln.strip()])
    pr = r["pass_rate"]
    style = "bold green" if pr["rate"] >= 0.5 else "bold red"
    line = Text("\nPASS RATE  ", style="bold")
    line.append(_pct(pr["rate"]), style=style)
    line.append(
        f"   {pr['passed']:,} of {pr['runs']:,} attempts   95% CI {_pct(pr['ci95'][0])} .. {_pct(pr['ci95'][1])}"
    )
    console.print(line)
    if r["runs"] < 100:
        width = 100 * (pr["ci95"][1] - pr["ci95"][0])
        console.print(
            Text(
                f"{r['runs']} attempts pin the rate down only to a {width:.0f}-point-wide interval; "
                "use --runs 1000 for a tight one.",
                style="yellow",
            )  # fmt: skip
        )
    pw = r["pass_within_days"]
    for i in range(0, len(pw), 8):
        t = Table(title="passed within" if i == 0 else None, title_justify="left", show_edge=False)
        t.add_column("")
        chunk = pw[i : i + 8]
        for p in chunk:
            t.add_column(f"{p['days']}d", justify="right")
        t.add_row("rate", *[_pct(p["rate"]) for p in chunk])
        t.add_row("95% CI", *[f"{_pct(p['ci95'][0], 0)}-{_pct(p['ci95'][1], 0)}" for p in chunk])
        console.print(t)
    t = Table(title="phases", title_justify="left")
    for name, just in (("phase", "left"), ("reached", "right"), ("passed", "right"), ("rate", "right"),
                       ("95% CI", "right")):  # fmt: skip
        t.add_column(name, justify=just)  # type: ignore[arg-type]
    for ph in r["phases"]:
        t.add_row(
            str(ph["name"]), f"{ph['reached']:,}", f"{ph['passed']:,}", "-" if not ph["reached"] else _pct(ph["rate"]),
            f"{_pct(ph['ci95'][0])} .. {_pct(ph['ci95'][1])}",
        )  # fmt: skip
    console.print(t)
    t = Table(title="attempts", title_justify="left", show_header=False)
    t.add_column("", style="dim")
    t.add_column("")
    d = r["days_to_pass"]
    t.add_row(
        "days to pass (calendar)",
        f"median {d['median']:.0f}   p10 {d['p10']:.0f}   p90 {d['p90']:.0f}   (n={d['n']:,})"
        if d
        else "no attempt passed",
    )
    for key, label in (
        ("max_daily_drawdown", "worst daily drawdown"),
        ("max_total_drawdown", "worst total drawdown"),
    ):
        dd = r[key]
        t.add_row(label, f"p50 {_pct(dd['p50'], 2)}   p90 {_pct(dd['p90'], 2)}   max {_pct(dd['max'], 2)}")
    t.add_row("trades per day", f"{r['trades_per_day']:.2f}")
    if "entry_decisions" in r:
        t.add_row("refused orders", refused_line(r["entry_decisions"], r.get("refused_orders") or {}))
    ex = r.get("excluded_starts")
    if ex and ex.get("n_holes"):
        t.add_row("data holes", f"{ex['n_holes']} of more than {ex['min_hole_days']} days without bars")
    console.print(t)
    reasons = r["failure_reasons"]
    if reasons:
        t = Table(title="what ended the failed attempts", title_justify="left")
        t.add_column("attempts", justify="right")
        t.add_column("share", justify="right")
        t.add_column("phase: reason")
        for reason, c in reasons.items():
            t.add_row(f"{c:,}", _pct(c / r["runs"]), str(reason), style=_ending_style(str(reason)))
        console.print(t)
    else:
        console.print("no attempt failed")
    if r.get("caveats"):
        console.print(Text("What this mode cannot see:", style="bold"))
        for c in r["caveats"]:
            console.print(f" - {c}", highlight=False)
    _legs(console, r)


def _ending_style(reason: str) -> str | None:
    """A firm's rule ended it: red; the trader's governors gave up: yellow; out of time: plain."""
    if "account kept" in reason:
        return "yellow"
    if "no_pass_within_horizon" in reason or "history_or_horizon" in reason:
        return None
    return "red"


def _backtest(console: Any, doc: Mapping[str, Any]) -> None:
    from rich.table import Table

    prov, r = doc["provenance"], doc["result"]
    s = r["summary"]
    data = prov.get("data") or prov.get("portfolio") or {}
    title = (
        f"simlab backtest: {run_what(prov)} ({int(data.get('rows') or 0):,} {'rows' if prov.get('legs') else 'bars'}) | "
        f"balance {_money(prov.get('balance'))} | seed {prov.get('seed')}"
    )
    _header(console, title, header_lines(doc))
    t = Table(show_header=False)
    t.add_column("", style="dim")
    t.add_column("", justify="right")
    pnl = s.get("net_pnl") or 0.0
    rows = [
        ("trades", f"{s['trades']:,}"),
        ("win rate", _pct(s.get("win_rate"))),
        ("net P/L", f"[{'green' if pnl > 0 else 'red'}]{_money(s.get('net_pnl'))}[/]"),
        ("final balance", _money(s.get("final_balance"))),
        ("max drawdown", f"{_money(s.get('max_drawdown'))} ({_pct(s.get('max_drawdown_pct'), 2)})"),
        ("profit factor", "-" if s.get("profit_factor") is None else f"{s['profit_factor']:.2f}"),
        ("Sharpe (daily, annualised)", "-" if s.get("sharpe") is None else f"{s['sharpe']:.2f}"),
        ("average cost paid per trade", _money(s.get("avg_cost_per_trade"))),
        ("total costs paid", _money(s.get("total_costs"))),
    ]
    if "entry_decisions" in r:
        rows.append(("refused orders", refused_line(r["entry_decisions"], r.get("refused_orders") or {})))
    for k, v in rows:
        t.add_row(k, v)
    console.print(t)
    by = r.get("costs_by_session") or {}
    if by:
        t = Table(title="costs paid per session (points)", title_justify="left")
        t.add_column("session")
        for name in ("fills", "avg spread", "avg slippage"):
            t.add_column(name, justify="right")
        for name, c in by.items():
            t.add_row(
                name, f"{c['fills']:,}", f"{c['avg_spread_points']:.2f}", f"{c['avg_slippage_points']:.2f}"
            )
        console.print(t)
    _legs(console, r)


def _legs(console: Any, r: Mapping[str, Any]) -> None:
    """A portfolio's legs (the plain text's table, its notes in yellow)."""
    for line in legs_lines(r):
        console.print(line, style="yellow" if line.strip().startswith("NOTE") else None, highlight=False)


__all__ = ["is_terminal", "print_table"]
