"""The HTML report of a sweep (``simlab sweep --html``, ``simlab report SWEEP.json``), on the shared page.

Drawn from the sweep's ``simlab.result/1`` document (kind ``sweep``) alone, with the page shell and
provenance header of :mod:`reports.page` and the deterministic figure divs of :mod:`reports.figures`,
so a report rebuilt later from the JSON is the same bytes. Top to bottom: the best cell and its
selection check as headline numbers; a heat map of the objective over the first two axes (rows: the
first, columns: the second; further axes held at the best cell's values, and the title says so), and
one of the pass rate when the objective is another; the selection check side by side with the
in-sample figure; what the EV assumes; every cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reports import figures as F
from reports.page import caption, cards, esc, page, percent, section, table


def _v(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else ("off" if x is None else str(x))


def _ci(pr: Mapping[str, Any]) -> str:
    return f"{percent(pr['ci95'][0])} .. {percent(pr['ci95'][1])}"


def _objective(obj: Mapping[str, Any], value: Any, currency: str = "") -> str:
    if value is None:
        return "-"
    if obj["name"] == "pass_rate":
        return percent(value)
    if obj["name"] == "days":
        return f"{value:.0f} days"
    return f"{value:,.0f} {currency}".rstrip()


def _currency(r: Mapping[str, Any]) -> str:
    return next((str(c["ev"]["currency"]) for c in r["cells"] if c.get("ev")), "")


def _settings(s: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={_v(v)}" for k, v in s.items())


def _grid(doc: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The heat map's rows, columns, values and hover texts over the first two axes."""
    r = doc["result"]
    axes, cells, obj = r["axes"], r["cells"], r["objective"]
    best = r.get("best") or {}
    fixed = {a["name"]: (best.get("settings") or cells[0]["settings"])[a["name"]] for a in axes[2:]}
    ya, xa = axes[0], (axes[1] if len(axes) > 1 else None)
    ys = [_v(v) for v in ya["values"]]
    xs = [_v(v) for v in xa["values"]] if xa else [""]
    z: list[list[Any]] = [[None] * len(xs) for _ in ys]
    text = [[""] * len(xs) for _ in ys]
    for c in cells:
        s = c["settings"]
        if any(s[k] != v for k, v in fixed.items()):
            continue
        i, j = ys.index(_v(s[ya["name"]])), (xs.index(_v(s[xa["name"]])) if xa else 0)
        pr = c["summary"]["pass_rate"]
        z[i][j] = pr["rate"] if key == "pass_rate" else c["objective"]
        text[i][j] = (
            f"cell #{c['cell']}<br>pass rate {percent(pr['rate'])} ({pr['passed']} of {pr['runs']})<br>95% CI {_ci(pr)}"
            + (
                ""
                if obj["name"] == "pass_rate"
                else f"<br>{obj['label']}: {_objective(obj, c['objective'], _currency(r))}"
            )
            + ("" if c.get("traded", True) else "<br>no trade")
        )
    note = ", ".join(f"{k}={_v(v)}" for k, v in fixed.items())
    return {
        "y": ya["name"],
        "ys": ys,
        "x": xa["name"] if xa else "",
        "xs": xs,
        "z": z,
        "text": text,
        "note": note,
    }


def heatmap_figure(doc: Mapping[str, Any], key: str) -> Any:
    """The heat map of ``key`` (``pass_rate`` or the objective's name) over the first two axes."""
    import plotly.graph_objects as go

    r = doc["result"]
    g = _grid(doc, key)
    label = "pass rate" if key == "pass_rate" else r["objective"]["label"]
    fig = go.Figure(
        go.Heatmap(
            z=g["z"],
            x=g["xs"],
            y=g["ys"],
            text=g["text"],
            hoverinfo="text",
            colorscale="Viridis",
            reversescale=key == "days",  # fewer days is better: the same colour for "good"
            colorbar={"title": {"text": label}, "tickformat": ".0%" if key == "pass_rate" else ",.0f"},
            xgap=2,
            ygap=2,
        )
    )
    best = r.get("best")
    if best:
        s = best["settings"]
        # by position: a category named "10" given as x would be read as the 11th category
        fig.add_annotation(
            x=g["xs"].index(_v(s[g["x"]])) if g["x"] else 0,
            y=g["ys"].index(_v(s[g["y"]])),
            text="best",
            showarrow=False,
            font={"color": "white", "size": 13},
        )
    title = label + (f" (other axes at the best cell: {g['note']})" if g["note"] else "")
    fig.update_layout(F.layout(title, g["x"], g["y"], height=max(320, 110 + 42 * len(g["ys"])), legend=False))
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def headline(doc: Mapping[str, Any]) -> str:
    r = doc["result"]
    best, sc = r.get("best"), r["selection_check"]
    if not best:
        return cards([("best cell", "none", "no cell traded", "fail")])
    items = [
        ("best cell", f"#{best['cell']}", _settings(best["settings"]), ""),
        ("in sample", percent(best["pass_rate"]["rate"]), "its pass rate where it was chosen", ""),
        ("fresh seeds", percent(sc["fresh_seeds"]["pass_rate"]["rate"]), "the same cell, new draws", ""),
    ]
    wf = sc["walk_forward"]
    if wf.get("ran", True) is not False:
        items.append(
            ("walk-forward", percent(wf["later"]["pass_rate"]["rate"]), "chosen earlier, run later", "")
        )
    return cards(items)


def selection_section(doc: Mapping[str, Any]) -> str:
    r = doc["result"]
    sc, obj = r["selection_check"], r["objective"]
    if not r.get("best"):
        return section("Selection check", "<p>No cell traded: nothing was chosen.</p>", anchor="selection")
    cur = _currency(r)

    with_objective = obj["name"] != "pass_rate"  # the pass rate has its own columns

    def row(label: str, fig: Mapping[str, Any]) -> list[str]:
        return [
            label,
            percent(fig["pass_rate"]["rate"]),
            _ci(fig["pass_rate"]),
            *([_objective(obj, fig["objective"], cur)] if with_objective else []),
        ]

    ins = sc["in_sample"]
    rows = [
        row(f"in sample: cell #{ins['cell']} on the attempts it was chosen on", ins),
        row(f"fresh seeds: cell #{ins['cell']}, seed {sc['fresh_seeds']['seed']}", sc["fresh_seeds"]),
    ]
    wf = sc["walk_forward"]
    if wf.get("ran", True) is False:
        split = caption(f"Walk-forward: not run ({wf['reason']}).")
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
        split = caption(f"Split at {sp['at']}: {sp['rule']}.")
    intro = (
        f"<p>The best of {sc['cells']} cells flatters its own figure: some cells are best by luck of the draw. "
        "The same choice on attempts it was not chosen on:</p>"
    )
    return section(
        "Selection check",
        intro,
        table(["", "pass rate", "95% CI", *([obj["label"]] if with_objective else [])], rows),
        split,
        anchor="selection",
    )


def cells_section(doc: Mapping[str, Any]) -> str:
    r = doc["result"]
    obj, best = r["objective"], (r.get("best") or {}).get("cell")
    names = [a["name"] for a in r["axes"]]
    with_objective = obj["name"] == "ev"  # pass rate and median days have their own columns
    head = ["", "#", *names, "pass rate", "95% CI", "median days"] + (
        [obj["label"]] if with_objective else []
    )
    rows = []
    for c in r["cells"]:
        s, d = c["summary"], c["summary"].get("days_to_pass")
        rows.append(
            [
                "best" if c["cell"] == best else ("no trade" if not c.get("traded", True) else ""),
                str(c["cell"]),
                *(_v(c["settings"][k]) for k in names),
                percent(s["pass_rate"]["rate"]),
                _ci(s["pass_rate"]),
                "-" if not d else f"{d['median']:.0f}",
                *([_objective(obj, c["objective"], _currency(r))] if with_objective else []),
            ]
        )
    return section(
        "Every cell",
        table(head, rows, left=2 + len(names)),
        caption(
            "Every cell is the simlab challenge run of its settings and seed; its command line and the sha256 of its "
            "whole result are in the JSON (--json)."
        ),
        anchor="cells",
    )


def render_sweep(doc: Mapping[str, Any]) -> str:
    """The report page of a sweep document, as a string."""
    r = doc["result"]
    prov, obj = doc.get("provenance") or {}, r["objective"]
    st = prov.get("strategy") or {}
    data = prov.get("data") or prov.get("trades") or {}
    title = f"simlab sweep: {len(r['cells'])} cells x {r['runs']:,} attempts"
    subtitle = f"{st.get('spec') or 'trade list'} on {data.get('name')} | objective: {obj['label']}"
    grid = " x ".join(f"{a['name']} {a['given']}" for a in r["axes"])
    maps = F.figure_div(heatmap_figure(doc, obj["name"]), "fig-sweep-objective")
    if obj["name"] != "pass_rate":
        maps += F.figure_div(heatmap_figure(doc, "pass_rate"), "fig-sweep-pass-rate")
    body = [
        headline(doc),
        section("The grid", caption(f"{grid} = {len(r['cells'])} cells"), maps, anchor="grid"),
        selection_section(doc),
    ]
    best = r.get("best")
    if best:
        body.append(
            section(
                "The best cell alone",
                f"<p>Run it alone: <code>{esc(best['command'])}</code></p>",
                anchor="best",
            )
        )
    if obj.get("assumes"):
        body.append(
            section(
                "What the EV assumes",
                "<ul>" + "".join(f"<li>{esc(a)}</li>" for a in obj["assumes"]) + "</ul>",
                anchor="ev",
            )
        )
    body.append(cells_section(doc))
    return page(title, subtitle, "".join(body), doc)


__all__ = ["heatmap_figure", "render_sweep"]
