"""A self-contained HTML report of a challenge run (``simlab challenge --html out.html``).

One file, no scripts, no external assets: the charts are inline SVG drawn from
the run's result document (schema ``simlab.result/1``, any challenge mode) and
nothing else, so the report opens anywhere
and can be attached to an e-mail or a CI artefact.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from simlab.atomic import atomic_write_text

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:960px;color:#1d2430}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #dde;padding-bottom:.2rem}
.sub{color:#667;margin-top:0} table{border-collapse:collapse;margin:.5rem 0} td,th{padding:.25rem .8rem;text-align:right}
th{background:#f2f4f8} td:first-child,th:first-child{text-align:left}
.big{font-size:2.4rem;font-weight:600} .ci{color:#556} .note{color:#8a5a00;background:#fff6e0;padding:.5rem .8rem;border-radius:4px}
.grid{display:flex;flex-wrap:wrap;gap:1.5rem} figure{margin:0} figcaption{font-size:.85rem;color:#556}
"""


def _histogram_svg(
    values: list[float], *, title: str, unit: str = "", bins: int = 20, width: int = 300, height: int = 150
) -> str:
    if not values:
        return f"<figure><figcaption>{html.escape(title)}: no data</figcaption></figure>"
    lo, hi = min(values), max(values)
    if hi == lo:
        hi = lo + 1.0
    counts = [0] * bins
    for v in values:
        i = min(bins - 1, int((v - lo) / (hi - lo) * bins))
        counts[i] += 1
    top = max(counts)
    bw = width / bins
    bars = []
    for i, c in enumerate(counts):
        h = (height - 20) * c / top if top else 0
        bars.append(
            f'<rect x="{i * bw + 1:.1f}" y="{height - 15 - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" fill="#4a78c2">'
            f"<title>{c}</title></rect>"
        )
    axis = (
        f'<text x="0" y="{height - 2}" font-size="10">{lo:.3g}{unit}</text>'
        f'<text x="{width}" y="{height - 2}" font-size="10" text-anchor="end">{hi:.3g}{unit}</text>'
    )
    return (
        f'<figure><svg width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}">'
        f"{''.join(bars)}{axis}</svg><figcaption>{html.escape(title)} (n={len(values)})</figcaption></figure>"
    )


def _bar_rows(counts: dict[str, int], total: int) -> str:
    rows = []
    for name, c in counts.items():
        w = 300 * c / total if total else 0
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td>{c}</td>"
            f'<td><svg width="300" height="12"><rect width="{w:.1f}" height="12" fill="#c24a4a"/></svg></td></tr>'
        )
    return "".join(rows)


def _prov_rows(prov: dict[str, Any]) -> str:
    """Every provenance member as a table row (nested members as compact JSON)."""
    import json

    rows = []
    for k, v in prov.items():
        text = v if isinstance(v, str) else json.dumps(v, sort_keys=False)
        rows.append(f"<tr><td>{html.escape(str(k))}</td><td><code>{html.escape(str(text))}</code></td></tr>")
    return "".join(rows)


def render_challenge_report(doc: dict[str, Any]) -> str:
    """The report as an HTML string, drawn from a ``simlab.result`` challenge document alone."""
    prov = doc["provenance"]
    r = doc["result"]
    pr = r["pass_rate"]
    runs = pr["runs"]
    attempts = r.get("attempts", [])
    passed_days = [float(a["days_to_pass"]) for a in attempts if a.get("passed")]
    daily_dd = [100 * a["max_daily_drawdown"] for a in attempts]
    total_dd = [100 * a["max_total_drawdown"] for a in attempts]
    phase_rows = "".join(
        f"<tr><td>{html.escape(p['name'])}</td><td>{p['reached']}</td><td>{p['passed']}</td>"
        f"<td>{'-' if not p['reached'] else format(100 * p['rate'], '.1f') + '%'}</td>"
        f"<td>{100 * p['ci95'][0]:.1f}% .. {100 * p['ci95'][1]:.1f}%</td></tr>"
        for p in r["phases"]
    )
    within_rows = "".join(
        f"<tr><td>{p['days']}</td><td>{p['passed']}</td><td>{100 * p['rate']:.1f}%</td>"
        f"<td>{100 * p['ci95'][0]:.1f}% .. {100 * p['ci95'][1]:.1f}%</td></tr>"
        for p in r["pass_within_days"]
    )
    width = 100 * (pr["ci95"][1] - pr["ci95"][0])
    note = (
        f'<p class="note">{runs} attempts pin the pass rate down only to a {width:.0f}-point-wide 95% interval. '
        "Run more attempts (<code>--runs 1000</code>) before paying for a challenge on this number.</p>"
        if runs < 100
        else ""
    )
    dtp = r.get("days_to_pass")
    dtp_text = (
        f"median {dtp['median']:.0f}, p10 {dtp['p10']:.0f}, p90 {dtp['p90']:.0f} calendar days (n={dtp['n']})"
        if dtp
        else "no attempt passed"
    )
    reasons = r.get("failure_reasons", {})
    prog = prov.get("program") or {}
    if doc.get("mode") == "trade_list":
        subject = f"trade list {(prov.get('trades') or {}).get('name', '')}"
    else:
        subject = str((prov.get("strategy") or {}).get("name", ""))
    title = f"{prog.get('name', '')} {prog.get('size', '')} — {subject}"
    horizon = prov.get("horizon") or {}
    caveats = "".join(f"<li>{html.escape(c)}</li>" for c in r.get("caveats", []))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>simlab challenge: {html.escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>Will it pass? {html.escape(title)}</h1>
<p class="sub"><code>{html.escape(str(prov.get("command", "")))}</code></p>
<p><span class="big">{100 * pr["rate"]:.1f}%</span> passed ({pr["passed"]} of {runs})
<span class="ci">· 95% Wilson interval {100 * pr["ci95"][0]:.1f}% .. {100 * pr["ci95"][1]:.1f}%</span></p>
{note}
<p>Horizon: {horizon.get("days")} calendar days per attempt ({html.escape(str(horizon.get("source", "")))}).</p>
<h2>Passed within</h2>
<table><tr><th>days</th><th>passed</th><th>rate</th><th>95% CI</th></tr>{within_rows}</table>
<h2>Phases</h2>
<table><tr><th>phase</th><th>reached</th><th>passed</th><th>rate</th><th>95% CI</th></tr>{phase_rows}</table>
<p>Days to pass: {dtp_text}. Trades per day: {r.get("trades_per_day", 0):.2f}.</p>
<h2>What ended the failed attempts</h2>
<table>{_bar_rows(reasons, runs) or "<tr><td>no attempt failed</td></tr>"}</table>
<h2>Distributions</h2>
<div class="grid">
{_histogram_svg(passed_days, title="calendar days to pass")}
{_histogram_svg(daily_dd, title="worst daily drawdown", unit="%")}
{_histogram_svg(total_dd, title="worst total drawdown", unit="%")}
</div>
{"<h2>What this mode cannot see</h2><ul>" + caveats + "</ul>" if caveats else ""}
<h2>Provenance</h2>
<table>{_prov_rows(prov)}</table>
<p class="sub">simlab · schema {html.escape(doc.get("schema", ""))} · mode {html.escape(str(doc.get("mode", "")))}</p>
</body></html>
"""


def write_challenge_report(doc: dict[str, Any], path: str | Path) -> None:
    """Render and write atomically."""
    atomic_write_text(path, render_challenge_report(doc))
