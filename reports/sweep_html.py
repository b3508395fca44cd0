"""The HTML report of a sweep (``simlab sweep --html out.html``): heat maps of the grid, drawn with plotly.

One self-contained file: plotly.js is inlined once, every figure is drawn from the sweep's result
document (schema ``simlab.result/1``, kind ``sweep``) and nothing else, and the bytes are a function
of the document (fixed element ids, no timestamps), so a report rebuilt later from the JSON file is
the same file. The heat map spans the first two axes (rows: the first, columns: the second); further
axes are held at the best cell's values, and the title says so. A second map shows the pass rate when
the objective is another one. Below: the best cell, the selection check, every cell.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from simlab.atomic import atomic_write_text

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2430}
h1{font-size:1.4rem;margin-bottom:.2rem} h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #dde;padding-bottom:.2rem}
.sub{color:#667;margin-top:0} table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem} td,th{padding:.2rem .7rem;text-align:right}
th{background:#f2f4f8} td.l,th.l{text-align:left} tr.best td{font-weight:600;background:#fff6e0}
code{font-size:.85rem;background:#f4f5f7;padding:.1rem .3rem;border-radius:3px;word-break:break-all}
.note{color:#8a5a00;background:#fff6e0;padding:.5rem .8rem;border-radius:4px}
"""


def _v(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else ("off" if x is None else str(x))


def _pct(x: Any) -> str:
    return "-" if x is None else f"{100 * float(x):.1f}%"


def _ci(pr: Mapping[str, Any]) -> str:
    return f"{100 * pr['ci95'][0]:.1f}% .. {100 * pr['ci95'][1]:.1f}%"


def _objective(obj: Mapping[str, Any], value: Any, currency: str = "") -> str:
    if value is None:
        return "-"
    if obj["name"] == "pass_rate":
        return _pct(value)
    if obj["name"] == "days":
        return f"{value:.0f} days"
    return f"{value:,.0f} {currency}".rstrip()


def _grid(
    doc: Mapping[str, Any], key: str
) -> tuple[str, list[str], str, list[str], list[list[Any]], list[list[str]], str]:
    """(row axis, row labels, column axis, column labels, z, hover text, title note) over the first two axes."""
    r = doc["result"]
    axes = r["axes"]
    cells = r["cells"]
    best = r.get("best") or {}
    fixed = {a["name"]: (best.get("settings") or cells[0]["settings"])[a["name"]] for a in axes[2:]}
    ya = axes[0]
    xa = axes[1] if len(axes) > 1 else None
    ys = [_v(v) for v in ya["values"]]
    xs = [_v(v) for v in xa["values"]] if xa else [""]
    z: list[list[Any]] = [[None] * len(xs) for _ in ys]
    text = [[""] * len(xs) for _ in ys]
    obj = r["objective"]
    for c in cells:
        s = c["settings"]
        if any(s[k] != v for k, v in fixed.items()):
            continue
        i = ys.index(_v(s[ya["name"]]))
        j = xs.index(_v(s[xa["name"]])) if xa else 0
        pr = c["summary"]["pass_rate"]
        z[i][j] = pr["rate"] if key == "pass_rate" else c["objective"]
        cur = (c.get("ev") or {}).get("currency", "")
        text[i][j] = (
            f"cell #{c['cell']}<br>pass rate {_pct(pr['rate'])} ({pr['passed']} of {pr['runs']})"
            f"<br>95% CI {_ci(pr)}"
            + (
                ""
                if obj["name"] == "pass_rate"
                else f"<br>{obj['label']}: {_objective(obj, c['objective'], cur)}"
            )
            + ("" if c.get("traded", True) else "<br>no trade")
        )
    note = ", ".join(f"{k}={_v(v)}" for k, v in fixed.items())
    return (
        ya["name"],
        ys,
        (xa["name"] if xa else ""),
        xs,
        z,
        text,
        (f"other axes at the best cell: {note}" if note else ""),
    )


def _heatmap_div(doc: Mapping[str, Any], key: str, div_id: str) -> str:
    import plotly.graph_objects as go

    r = doc["result"]
    obj = r["objective"]
    yname, ys, xname, xs, z, text, note = _grid(doc, key)
    label = "pass rate" if key == "pass_rate" else obj["label"]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=xs,
            y=ys,
            text=text,
            hoverinfo="text",
            colorscale="Viridis",
            reversescale=key == "days",
            colorbar={"title": {"text": label}, "tickformat": ".0%" if key == "pass_rate" else ""},
            xgap=2,
            ygap=2,
        )
    )
    best = r.get("best")
    if best:
        s = best["settings"]
        # by position: a category named "10" given as x would be read as the 11th category
        fig.add_annotation(
            x=xs.index(_v(s[xname])) if xname else 0,
            y=ys.index(_v(s[yname])),
            text="best",
            showarrow=False,
            font={"color": "white", "size": 13},
        )
    fig.update_layout(
        title={"text": f"{label}" + (f" <span style='font-size:12px'>({note})</span>" if note else "")},
        xaxis={"title": {"text": xname}, "type": "category"},
        yaxis={"title": {"text": yname}, "type": "category"},
        margin={"l": 70, "r": 20, "t": 50, "b": 60},
        height=max(320, 60 + 40 * len(ys)),
        template="plotly_white",
    )
    return str(
        fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            config={"displaylogo": False, "responsive": True},
        )
    )


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], left: int, marks: Sequence[str] = ()) -> str:
    th = "".join(
        f"<th class='l'>{html.escape(h)}</th>" if i < left else f"<th>{html.escape(h)}</th>"
        for i, h in enumerate(head)
    )
    out = [f"<table><tr>{th}</tr>"]
    for k, row in enumerate(rows):
        cls = f" class='{marks[k]}'" if k < len(marks) and marks[k] else ""
        tds = "".join(
            f"<td class='l'>{html.escape(c)}</td>" if i < left else f"<td>{html.escape(c)}</td>"
            for i, c in enumerate(row)
        )
        out.append(f"<tr{cls}>{tds}</tr>")
    out.append("</table>")
    return "".join(out)


def _selection_html(doc: Mapping[str, Any]) -> str:
    r = doc["result"]
    sc = r["selection_check"]
    obj = r["objective"]
    if not r.get("best"):
        return "<p>No cell traded: nothing was chosen.</p>"
    cur = next((c["ev"]["currency"] for c in r["cells"] if c.get("ev")), "")

    def row(label: str, fig: Mapping[str, Any]) -> list[str]:
        return [
            label,
            _pct(fig["pass_rate"]["rate"]),
            _ci(fig["pass_rate"]),
            _objective(obj, fig["objective"], cur),
        ]

    ins = sc["in_sample"]
    rows = [
        row(f"in sample: cell #{ins['cell']} on the attempts it was chosen on", ins),
        row(f"fresh seeds: cell #{ins['cell']}, seed {sc['fresh_seeds']['seed']}", sc["fresh_seeds"]),
    ]
    wf = sc["walk_forward"]
    split = ""
    if wf.get("ran", True) is False:
        split = f"<p>Walk-forward: not run ({html.escape(str(wf['reason']))}).</p>"
    else:
        sp = wf["split"]
        e, later = sp["earlier"], sp["later"]
        rows.append(
            row(
                f"walk-forward: chosen on {e['first'][:10]} .. {e['last'][:10]} (cell #{wf['chosen']['cell']})",
                wf["chosen"],
            )
        )
        rows.append(
            row(f"walk-forward: reported on {later['first'][:10]} .. {later['last'][:10]}", wf["later"])
        )
        split = f"<p class='sub'>Split at {html.escape(sp['at'])}: {html.escape(sp['rule'])}.</p>"
    intro = (
        f"<p>The best of {sc['cells']} cells flatters its own figure (some cells are best by luck of the draw). "
        "The same choice on attempts it was not chosen on:</p>"
    )
    return intro + _table(["", "pass rate", "95% CI", obj["label"]], rows, 1) + split


def sweep_report_html(doc: Mapping[str, Any]) -> str:
    """The whole report as one HTML string (deterministic for a given document)."""
    from plotly.offline import get_plotlyjs

    prov = doc["provenance"]
    r = doc["result"]
    obj = r["objective"]
    st = prov.get("strategy") or {}
    data = prov.get("data") or prov.get("trades") or {}
    title = f"simlab sweep: {len(r['cells'])} cells x {r['runs']} attempts"
    what = f"{st.get('spec') or 'trade list'} on {data.get('name')} | seed {prov.get('seed')} | objective: {obj['label']}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style>",
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>",
        f"<h1>{html.escape(title)}</h1><p class='sub'>{html.escape(what)}</p>",
        f"<p class='sub'>Reproduce: <code>{html.escape(str(prov.get('command', '')))}</code></p>",
        "<h2>Heat map</h2>",
        _heatmap_div(doc, obj["name"], "simlab-sweep-objective"),
    ]
    if obj["name"] != "pass_rate":
        parts.append(_heatmap_div(doc, "pass_rate", "simlab-sweep-pass-rate"))
    best = r.get("best")
    if best:
        pr = best["pass_rate"]
        settings = " ".join(f"{k}={_v(v)}" for k, v in best["settings"].items())
        parts.append(
            f"<h2>Best cell</h2><p>#{best['cell']} {html.escape(settings)}: pass rate {_pct(pr['rate'])} "
            f"({pr['passed']} of {pr['runs']}, 95% CI {_ci(pr)})</p><p>Run it alone: <code>{html.escape(best['command'])}</code></p>"
        )
    parts.append("<h2>Selection check</h2>" + _selection_html(doc))
    if obj.get("assumes"):
        parts.append(
            "<h2>What the EV assumes</h2><ul>"
            + "".join(f"<li>{html.escape(a)}</li>" for a in obj["assumes"])
            + "</ul>"
        )
    names = [a["name"] for a in r["axes"]]
    with_objective = obj["name"] == "ev"  # pass rate and median days have their own columns
    head = ["#", *names, "pass rate", "95% CI", "median days"] + ([obj["label"]] if with_objective else [])
    rows, marks = [], []
    for c in r["cells"]:
        s = c["summary"]
        d = s.get("days_to_pass")
        cur = (c.get("ev") or {}).get("currency", "")
        rows.append(
            [
                str(c["cell"]),
                *(_v(c["settings"][k]) for k in names),
                _pct(s["pass_rate"]["rate"]),
                _ci(s["pass_rate"]),
                ("-" if not d else f"{d['median']:.0f}") + ("" if c.get("traded", True) else " (no trade)"),
                *([_objective(obj, c["objective"], cur)] if with_objective else []),
            ]
        )
        marks.append("best" if best and c["cell"] == best["cell"] else "")
    parts.append("<h2>Every cell</h2>" + _table(head, rows, 1 + len(names), marks))
    parts.append(
        "<p class='sub'>Every cell is the <code>simlab challenge</code> run of its settings and seed; its command and "
        "the sha256 of its full result are in the JSON (<code>--json</code>).</p>"
    )
    record = json.dumps(prov, sort_keys=True).replace("</", "<\\/")  # no "</script>" inside the element
    parts.append(f"<script type='application/json' id='simlab-provenance'>{record}</script>")
    parts.append("</body></html>\n")
    return "".join(parts)


def write_sweep_report(doc: Mapping[str, Any], path: str | Path) -> None:
    """Write the report atomically (a reader sees the old file or the whole new one)."""
    atomic_write_text(path, sweep_report_html(doc))


__all__ = ["sweep_report_html", "write_sweep_report"]
