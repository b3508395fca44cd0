"""The page shell of every simlab report: one self-contained HTML file, provenance at the top.

A report is a pure function of a ``simlab.result/1`` document: no timestamps, no random ids, fixed
number formats, so a report built later from the JSON file has the same bytes as the one written
during the run. The page inlines plotly's JavaScript once (``reports.figures``) and loads nothing
from the network: it opens from disk, in a mail attachment or a CI artefact.

Reusable pieces for any report (challenge, backtest, sweep): :func:`page` (the shell),
:func:`provenance_header` (what reproduces the run), :func:`money` / :func:`percent` (number formats),
:func:`table`, :func:`cards` and :func:`section`.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

_CSS = """
:root{--ink:#1d2430;--muted:#5b6575;--line:#dde2ea;--pass:#1a8a4a;--fail:#c0392b;--warn:#b9770e;--accent:#2f5fb3}
*{box-sizing:border-box}
body{font-family:"Liberation Sans",Arial,Helvetica,sans-serif;margin:0;color:var(--ink);background:#f6f7fa}
main{max-width:1180px;margin:0 auto;padding:1.5rem 1.5rem 3rem}
h1{font-size:1.55rem;margin:.2rem 0 .3rem} h2{font-size:1.15rem;margin:2rem 0 .4rem;padding-bottom:.25rem;border-bottom:1px solid var(--line)}
p{line-height:1.45} .sub{color:var(--muted);margin:.1rem 0 .8rem} code,pre{font-family:"DejaVu Sans Mono",monospace;font-size:.82rem}
.box{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.8rem 1rem;margin:.6rem 0}
.cards{display:flex;flex-wrap:wrap;gap:.7rem;margin:.8rem 0}
.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.6rem .9rem;min-width:10.5rem;flex:1}
.card .k{font-size:.78rem;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
.card .v{font-size:1.55rem;font-weight:700;margin-top:.15rem} .card .n{font-size:.8rem;color:var(--muted)}
.v.pass{color:var(--pass)} .v.fail{color:var(--fail)}
table{border-collapse:collapse;background:#fff;font-size:.88rem}
td,th{padding:.3rem .7rem;text-align:right;border-bottom:1px solid var(--line)} th{background:#eef1f6;font-weight:600}
td.l,th.l{text-align:left}
table.prov{width:100%} table.prov td{text-align:left;vertical-align:top} table.prov td:first-child{color:var(--muted);white-space:nowrap;width:11rem}
.note{color:#6b4a00;background:#fff6e0;border:1px solid #f0dca8;padding:.5rem .8rem;border-radius:5px}
.plot{background:#fff;border:1px solid var(--line);border-radius:6px;margin:.6rem 0;width:100%}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:.8rem} .grid2 .plot{margin:0}
.grid32{display:grid;grid-template-columns:3fr 2fr;gap:1.2rem;align-items:start} .grid32 table{width:100%}
h3{font-size:1rem;margin:.6rem 0 .4rem}
.cap{font-size:.84rem;color:var(--muted);margin:.2rem 0 .8rem}
details summary{cursor:pointer;color:var(--accent)} pre{white-space:pre-wrap;word-break:break-all;max-height:28rem;overflow:auto}
footer{color:var(--muted);font-size:.8rem;margin-top:2.5rem}
"""


def esc(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _num(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def money(v: Any, currency: str = "USD", cents: bool | None = None) -> str:
    """``$100,000``, ``-$1,234.50``, ``€5,000``, ``12,000 CHF``; cents only where there are some
    (or always with ``cents=True``); "-" for a missing value."""
    x = _num(v)
    if x is None:
        return "-"
    show_cents = (not float(round(x, 2)).is_integer()) if cents is None else cents
    text = f"{abs(x):,.2f}" if show_cents else f"{abs(round(x)):,.0f}"
    sign = "-" if x < 0 and text.strip("0.,") else ""
    cur = str(currency or "")
    if cur in CURRENCY_SIGNS:
        return f"{sign}{CURRENCY_SIGNS[cur]}{text}"
    return f"{sign}{text} {cur}".rstrip()


def percent(v: Any, nd: int = 1) -> str:
    """A fraction as a percentage: 0.1234 -> ``12.3%``; "-" for a missing value."""
    x = _num(v)
    return "-" if x is None else f"{100.0 * x:.{nd}f}%"


def number(v: Any, spec: str = ",.2f") -> str:
    x = _num(v)
    return "-" if x is None else format(x, spec)


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], left: int = 1, cls: str = "", header: bool = True
) -> str:
    """An HTML table; the first ``left`` columns are left-aligned, cells are escaped; ``header=False``:
    no header row (a key / value table)."""

    def cell(tag: str, i: int, v: Any) -> str:
        c = ' class="l"' if i < left else ""
        return f"<{tag}{c}>{esc(v)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows)
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}>{f'<tr>{head}</tr>' if header else ''}{body}</table>"


def cards(items: Iterable[tuple[str, str, str, str]]) -> str:
    """Headline numbers: (label, value, note, css class of the value: ``pass`` / ``fail`` / "")."""
    out = []
    for label, value, note, klass in items:
        out.append(
            f'<div class="card"><div class="k">{esc(label)}</div><div class="v {klass}">{esc(value)}</div>'
            f'<div class="n">{esc(note)}</div></div>'
        )
    return '<div class="cards">' + "".join(out) + "</div>"


def section(title: str, *parts: str, anchor: str = "") -> str:
    a = f' id="{esc(anchor)}"' if anchor else ""
    return f"<section{a}><h2>{esc(title)}</h2>" + "".join(parts) + "</section>"


def caption(text: str) -> str:
    return f'<p class="cap">{esc(text)}</p>'


# ----------------------------------------------------------------------------- provenance


def _short(h: Any, n: int = 16) -> str:
    return str(h or "")[:n]


def _kv(d: Mapping[str, Any] | None, *keys: str) -> str:
    d = d or {}
    return ", ".join(f"{k} {d[k]}" for k in keys if d.get(k) is not None)


def describe_governors(gov: Mapping[str, Any] | None) -> str:
    from simlab.results import describe_governors as describe

    return describe(gov)


def provenance_rows(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) rows of what reproduces the run, in a trader's order."""
    prov = doc.get("provenance") or {}
    rows: list[tuple[str, str]] = [("simlab", f"version {prov.get('simlab_version', '?')}")]
    if prov.get("command"):
        rows.append(("command", str(prov["command"])))
    if "seed" in prov:
        rows.append(
            ("seed", "none (nothing is drawn at random)" if prov["seed"] is None else str(prov["seed"]))
        )
    prog = prov.get("program") or {}
    if prog:
        cur = str(prog.get("currency") or "USD")
        text = f"{prog.get('title') or prog.get('name')} ({prog.get('name')}), account {money(prog.get('size'), cur)}"
        if prog.get("verified"):
            text += f"; rules verified {prog['verified']}"
        if prog.get("file"):
            text += f"; {prog['file']}"
        if prog.get("sha256"):
            text += f", sha256 {_short(prog['sha256'])}"
        if prog.get("params"):
            text += "; params " + ", ".join(f"{k}={v}" for k, v in prog["params"].items())
        rows.append(("rule set", text))
        for ph in prog.get("phases") or []:
            rows.append((f"  {ph.get('name')}", describe_phase(ph)))
    for name, rec in (prov.get("programs") or {}).items():  # a sweep: every program of its grid
        text = f"{rec.get('title') or name}; rules verified {rec.get('verified')}; {rec.get('file')}"
        fee, split = rec.get("fee"), rec.get("profit_split")
        if fee:
            text += f"; fee {fee.get('currency')} " + ", ".join(
                f"{k}: {v:g}" for k, v in (fee.get("amounts") or {}).items()
            )
        if split:
            text += f"; profit split {split.get('pct'):g}%"
        rows.append((f"program {name}", text))
    h = prov.get("horizon") or {}
    if h:
        rows.append(("horizon", f"{h.get('days')} calendar days per attempt ({h.get('source')})"))
    if "runs" in prov:
        rows.append(("attempts", f"{int(prov['runs']):,}"))
    if "balance" in prov:
        rows.append(("balance", money(prov["balance"])))
    data = prov.get("data") or {}
    if data:
        rows.append(
            (
                "data",
                f"{data.get('name')} ({int(data.get('rows') or 0):,} bars, {data.get('first')} .. {data.get('last')}), "
                f"sha256 {_short(data.get('sha256'))}"
                + (f" of the {data['sha256_of']}" if data.get("sha256_of") else ""),
            )
        )
    tr = prov.get("trades") or {}
    if tr:
        rows.append(
            (
                "trade list",
                f"{tr.get('name')} ({tr.get('trades')} trades, {tr.get('first')} .. {tr.get('last')}), "
                f"sha256 {_short(tr.get('sha256'))}"
                + (f"; every P/L x{prov['trade_scale']:g}" if prov.get("trade_scale", 1.0) != 1.0 else ""),
            )
        )
    tz = prov.get("time_zone") or {}
    if tz:
        rows.append(("time zone", f"{tz.get('tz')} ({tz.get('source')})"))
    sym = prov.get("symbol") or {}
    if sym:
        rows.append(
            (
                "symbol",
                f"{sym.get('name')}: "
                + _kv(
                    sym, "digits", "point", "contract_size", "commission_per_lot", "swap_long", "swap_short"
                ),
            )
        )
    em = prov.get("exec_model") or {}
    if em:
        text = f"{em.get('ident')}"
        if em.get("sha256"):
            text += f" (sha256 {_short(em.get('sha256'), 12)})"
        text += f"; spread: {em.get('spread_mode')}, slippage: {'on' if em.get('slippage') else 'off'}"
        if em.get("latency_budget_ms"):
            text += f", latency budget {em['latency_budget_ms']:g} ms"
        rows.append(("execution model", text))
    if prov.get("governors"):
        rows.append(("governors", describe_governors(prov["governors"])))
    st = prov.get("strategy") or {}
    if st:
        varied = set(st.get("params_varied") or [])  # a sweep's axes
        params = ", ".join(
            f"{k}={'<grid>' if k in varied else v}" for k, v in (st.get("params") or {}).items()
        )
        rows.append(("strategy", f"{st.get('spec')} ({params})" if params else str(st.get("spec"))))
    if prov.get("volume"):
        rows.append(("sizing", f"fixed volume {prov['volume']:g} lots"))
    elif prov.get("risk") is not None:
        rows.append(("sizing", f"risk {100 * float(prov['risk']):.2f}% of equity per trade"))
    la = prov.get("lookahead_check") or {}
    if la:
        rows.append(
            (
                "look-ahead check",
                f"passed ({la.get('prefixes')} prefixes)"
                if la.get("ran")
                else f"skipped ({la.get('reason', '')})",
            )
        )
    if prov.get("bootstrap_block_days") and doc.get("mode") != "trade_list":
        rows.append(("day bootstrap", f"mean block {prov['bootstrap_block_days']} days"))
    if prov.get("legs"):
        from simlab.results import portfolio_lines

        # a portfolio: its legs as the terminal table states them (data, strategy, sizing, costs, conversion)
        rows.extend(
            ("portfolio" if i == 0 else "", line.strip()) for i, line in enumerate(portfolio_lines(prov))
        )
        for leg in (doc.get("result") or {}).get("legs") or []:
            note = (leg.get("conversion") or {}).get("note")
            if note:
                rows.append(("conversion", str(note)))
    return rows


def describe_phase(ph: Mapping[str, Any]) -> str:
    """One phase's rules in words, from its provenance record."""
    parts = []
    if ph.get("profit_target_pct"):
        parts.append(f"target +{ph['profit_target_pct']:g}%")
    dl = ph.get("daily_loss") or {}
    if dl.get("pct"):
        parts.append(
            f"daily loss {dl['pct']:g}% of the {dl.get('size_of', 'initial')} ({dl.get('basis', 'balance')} basis"
            + (", floating counts" if dl.get("floating") else "")
            + ")"
        )
    ml = ph.get("max_loss") or {}
    if ml.get("pct"):
        parts.append(f"max loss {ml['pct']:g}% ({ml.get('mode', 'static')})")
    md = ph.get("min_days") or {}
    if md.get("count"):
        parts.append(f"min {md['count']} days ({md.get('counts', 'trade_opened')})")
    if ph.get("max_calendar_days"):
        parts.append(f"time limit {ph['max_calendar_days']} days")
    if ph.get("best_day_max_share_pct"):
        parts.append(f"best day at most {float(ph['best_day_max_share_pct']):g}% of the profit")
    hold = ph.get("holding") or {}
    if hold.get("weekend") is False:
        parts.append("no weekend holding")
    if hold.get("overnight") is False:
        parts.append("no overnight holding")
    return "; ".join(parts) or "no rules"


def provenance_header(doc: Mapping[str, Any]) -> str:
    """The provenance box at the top of a report: a table of what reproduces the run, and the whole
    ``provenance`` member as JSON below it (folded)."""
    rows = "".join(
        f"<tr><td>{esc(k)}</td><td>{'<code>' + esc(v) + '</code>' if k == 'command' else esc(v)}</td></tr>"
        for k, v in provenance_rows(doc)
    )
    full = json.dumps(doc.get("provenance") or {}, indent=1, ensure_ascii=False)
    return (
        '<div class="box"><table class="prov">' + rows + "</table>"
        "<details><summary>Full provenance (JSON)</summary><pre>" + esc(full) + "</pre></details></div>"
    )


# ----------------------------------------------------------------------------- the page


def page(title: str, subtitle: str, body: str, doc: Mapping[str, Any], *, figures: bool = True) -> str:
    """The whole HTML file: head (styles, plotly's JavaScript once when ``figures``), title, the
    provenance header, ``body``, and a footer naming the schema."""
    from reports.figures import plotly_script

    script = plotly_script() if figures else ""
    foot = f"simlab {esc((doc.get('provenance') or {}).get('simlab_version', ''))} · {esc(doc.get('schema', ''))} · {esc(doc.get('kind', ''))}/{esc(doc.get('mode', ''))}"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_CSS}</style>{script}</head>\n<body><main>"
        f'<h1>{esc(title)}</h1><p class="sub">{esc(subtitle)}</p>'
        f"{provenance_header(doc)}{body}<footer>{foot}</footer></main></body></html>\n"
    )


__all__ = [
    "CURRENCY_SIGNS",
    "caption",
    "cards",
    "describe_phase",
    "esc",
    "money",
    "number",
    "page",
    "percent",
    "provenance_header",
    "provenance_rows",
    "section",
    "table",
]
