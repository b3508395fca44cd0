"""The HTML report of a challenge run (every mode), drawn from its ``simlab.result/1`` document alone.

What a trader looks at, top to bottom: the pass rate and its interval; the equity paths of the
traced attempts against the target and the firm's limits, with percentile bands; a few attempts
day by day against their own daily-loss and max-loss levels; the chance of having passed by day d;
pass rates per phase; what ended the failed attempts; days to pass; the worst daily and total
drawdowns against the limits; costs per session and trade statistics.

Figures that need the traced sample (``equity_paths``, ``equity_bands``, ``session_costs``,
``trade_stats``: see :mod:`simlab.sample`) are left out, with a line saying why, for a document
without it (written before it existed, or by a closed-loop policy run).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from reports import figures as F
from reports.page import caption, cards, esc, money, number, page, percent, section, table
from simlab.stats import wilson_interval


class _Ctx:
    """What every figure of one report reads: the document, its currency, size and phase rules."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.prov: Mapping[str, Any] = doc.get("provenance") or {}
        self.r: Mapping[str, Any] = doc["result"]
        prog = self.prov.get("program") or {}
        self.prog: Mapping[str, Any] = prog
        self.currency = str(prog.get("currency") or "USD")
        self.size = float(prog.get("size") or 0.0)
        self.rules = {str(ph.get("name")): ph for ph in prog.get("phases") or []}
        self.attempts: Sequence[Mapping[str, Any]] = self.r.get("attempts") or []
        self.runs = int(self.r["runs"])
        sample = self.r.get("sample") or {}
        self.k = int(sample.get("attempts") or 0)

    def money(self, v: Any, cents: bool | None = None) -> str:
        return money(v, self.currency, cents)

    def target(self, phase: str) -> float | None:
        pct = (self.rules.get(phase) or {}).get("profit_target_pct")
        return self.size * (1.0 + float(pct) / 100.0) if pct and self.size else None


def _go() -> Any:
    import plotly.graph_objects as go

    return go


def _joined(paths: Sequence[Mapping[str, Any]], xkey: str, ykey: str, extra: Sequence[str] = ()) -> dict:
    """Many paths as one trace: x / y joined with None gaps (one trace draws fast; 100 do not)."""
    xs: list[Any] = []
    ys: list[Any] = []
    cd: list[Any] = []
    for p in paths:
        xs += list(p[xkey]) + [None]
        ys += list(p[ykey]) + [None]
        for i in range(len(p[xkey])):
            cd.append([p["attempt"], *[p[k][i] for k in extra]])
        cd.append([None] * (1 + len(extra)))
    return {"x": xs, "y": ys, "customdata": cd}


# ----------------------------------------------------------------------------- equity fan


def _phase_paths(ctx: _Ctx) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for item in ctx.r.get("equity_paths") or []:
        for ph in item.get("phases") or []:
            out.setdefault(str(ph["phase"]), []).append({"attempt": item["attempt"], **ph})
    return out


def _finite(values: Sequence[Any]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def fan_figure(ctx: _Ctx, phase: str, paths: list[dict[str, Any]], band: Mapping[str, Any] | None) -> Any:
    go = _go()
    fig = go.Figure()
    if band:
        x = band["day"]
        F.band(fig, x, band["p90"], band["p10"], F.BAND, "10-90% of attempts")
        F.band(fig, x, band["p75"], band["p25"], F.BAND_INNER, "25-75%")
        fig.add_trace(
            go.Scatter(
                x=x, y=band["p50"], mode="lines", line={"color": F.ACCENT, "width": 2.6}, name="median",
                hovertemplate="day %{x}: median %{y:$,.0f}<extra></extra>",
            )
        )  # fmt: skip
    labels = {"passed": "passed the phase", "breached": "breached a rule", "halted": "given up by governors",
              "running": "still trading at the horizon"}  # fmt: skip
    for status in ("passed", "breached", "halted", "running"):
        group = [p for p in paths if p["status"] == status]
        if not group:
            continue
        j = _joined(group, "day", "equity", ("worst_equity", "daily_limit", "max_loss_limit"))
        fig.add_trace(
            go.Scatter(
                x=j["x"], y=j["y"], customdata=j["customdata"], mode="lines",
                line={"color": F.STATUS_COLORS[status], "width": 1}, opacity=0.45,
                name=f"{labels[status]} ({len(group)})",
                hovertemplate="attempt %{customdata[0]}, day %{x}<br>equity at close %{y:,.2f}"
                "<br>worst equity %{customdata[1]:,.2f}<br>daily-loss level %{customdata[2]:,.2f}"
                "<br>max-loss level %{customdata[3]:,.2f}<extra></extra>",
            )
        )  # fmt: skip
    ml = [v for p in paths for v in _finite(p["max_loss_limit"])]
    if ml and max(ml) - min(ml) < 0.005:
        F.hline(fig, ml[0], f"max loss {ctx.money(ml[0])}", F.LIMIT, dash="solid", position="bottom left")
    elif ml:
        j = _joined(paths, "day", "max_loss_limit")
        fig.add_trace(
            go.Scatter(
                x=j["x"], y=j["y"], mode="lines", line={"color": F.LIMIT, "width": 1, "dash": "dot", "shape": "hv"},
                opacity=0.6, name="max-loss level of each attempt (trailing)", hoverinfo="skip",
            )
        )  # fmt: skip
    first_daily = _finite([p["daily_limit"][0] for p in paths if p["daily_limit"]])
    if first_daily:
        F.hline(
            fig, first_daily[0],
            f"daily-loss level on day 1: {ctx.money(first_daily[0])} (moves with each day's start; hover a path)",
            F.FAIL, dash="dot", position="bottom right",
        )  # fmt: skip
    tgt = ctx.target(phase)
    if tgt:
        pct = ctx.rules[phase]["profit_target_pct"]
        F.hline(fig, tgt, f"profit target {ctx.money(tgt)} (+{pct:g}%)", F.TARGET, position="top left")
    fig.update_layout(
        **F.layout(f"{phase}: equity of the first {len(paths)} attempts that reached it", "calendar day of the phase",
                   f"equity ({ctx.currency})", height=480)
    )  # fmt: skip
    fig.update_yaxes(**F.money_axis(ctx.currency))
    return fig


def fan_section(ctx: _Ctx) -> str:
    paths = _phase_paths(ctx)
    if not paths:
        return section(
            "Equity paths",
            '<p class="note">This result carries no traced attempts (written by an older simlab, or a '
            "closed-loop policy run): no equity paths to draw.</p>",
        )
    bands = {str(b["phase"]): b for b in ctx.r.get("equity_bands") or []}
    parts = []
    for i, (phase, ph_paths) in enumerate(paths.items()):
        parts.append(F.figure_div(fan_figure(ctx, phase, ph_paths, bands.get(phase)), f"fig-fan-{i}"))
    trade_list = ctx.doc.get("mode") == "trade_list"
    what = "closed balance at each day's end (a trade list has no prices between trades)" if trade_list else (
        "equity at each day's last close")  # fmt: skip
    text = (
        f"Thin lines: the {what} of each of the first {ctx.k} attempts (of {ctx.runs:,}; attempts are independent, "
        "so these are a random sample), coloured by how the phase ended. Bands: percentiles over the same "
        "attempts; an attempt that ended keeps its last equity, so the bands show where the attempts stand on "
        "day d, not only the survivors. The limit levels are the simulator's own, day by day."
    )
    return section("Equity paths against the limits", *parts, caption(text), anchor="paths")


# ----------------------------------------------------------------------------- example attempts


def _examples(ctx: _Ctx) -> list[tuple[str, Mapping[str, Any]]]:
    """Up to four traced attempts worth looking at: the first that passed, and the first of each way
    of failing (most frequent first)."""
    by_attempt = {int(a["attempt"]): a for a in ctx.attempts}
    traced = [p for p in ctx.r.get("equity_paths") or [] if p.get("phases")]
    picked: list[tuple[str, Mapping[str, Any]]] = []
    seen: set[str] = set()
    order = ["passed", *list((ctx.r.get("failure_reasons") or {}).keys())]
    for want in order:
        for p in traced:
            a = by_attempt.get(int(p["attempt"]), {})
            label = "passed" if a.get("passed") else str(a.get("failure"))
            if label == want and label not in seen:
                picked.append((label, p))
                seen.add(label)
                break
        if len(picked) == 4:
            break
    return picked


def examples_figure(ctx: _Ctx, picked: list[tuple[str, Mapping[str, Any]]]) -> Any:
    go = _go()
    from plotly.subplots import make_subplots

    cols = 2 if len(picked) > 1 else 1
    rows = math.ceil(len(picked) / cols)
    titles = [f"attempt {p['attempt']}: {plain_ending(label)}" for label, p in picked]
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.09, vertical_spacing=0.16
    )
    fig.update_layout(**F.layout("", "", "", height=300 * rows + 70, axes=False))
    fig.update_layout(margin={"l": 78, "r": 24, "t": 86, "b": 50}, legend={"y": 1.0 + 40 / (300 * rows)})
    styles = {
        "balance": ("balance", {"color": "#1d2430", "width": 1.4}),
        "equity": ("equity at close", {"color": F.ACCENT, "width": 1.8}),
        "worst_equity": ("worst equity of the day", {"color": "#95a5a6", "width": 1, "dash": "dot"}),
        "daily_limit": ("daily-loss level", {"color": F.FAIL, "width": 1.2, "shape": "hv"}),
        "max_loss_limit": ("max-loss level", {"color": F.LIMIT, "width": 1.8, "shape": "hv"}),
        "target": ("profit target", {"color": F.TARGET, "width": 1.2, "dash": "dash", "shape": "hv"}),
    }
    for n, (_label, p) in enumerate(picked):
        row, col = n // cols + 1, n % cols + 1
        series: dict[str, list[Any]] = {k: [] for k in styles}
        xs: list[Any] = []
        for ph in p["phases"]:
            x = [int(ph["start_day"]) + int(d) for d in ph["day"]]
            tgt = ctx.target(str(ph["phase"]))
            xs += x + [None]
            for k in styles:
                vals = [tgt] * len(x) if k == "target" else list(ph[k])
                series[k] += vals + [None]
        for k, (name, line) in styles.items():
            if not _finite(series[k]):
                continue
            fig.add_trace(
                go.Scatter(
                    x=xs, y=series[k], mode="lines", line=line, name=name, legendgroup=k, showlegend=n == 0,
                    hovertemplate=f"{name}: %{{y:,.2f}}<br>day %{{x}}<extra></extra>",
                ),
                row=row, col=col,
            )  # fmt: skip
        for ph in p["phases"][1:]:
            fig.add_vline(
                x=int(ph["start_day"]) + 0.5, line={"color": "#7f8c8d", "width": 1, "dash": "dot"},
                annotation={"text": f"{ph['phase']} starts", "font": {"size": 10, "color": "#5b6575"}},
                annotation_position="top right", row=row, col=col,
            )  # fmt: skip
        fig.update_xaxes(title_text="calendar day of the attempt", row=row, col=col)
        fig.update_yaxes(title_text=f"{ctx.currency}", row=row, col=col, **F.money_axis(ctx.currency))
    fig.update_annotations(font_size=13)
    return fig


def examples_section(ctx: _Ctx) -> str:
    picked = _examples(ctx)
    if not picked:
        return ""
    text = (
        "Each attempt day by day, every phase on a fresh account: balance, equity at the last close and the "
        "day's worst equity, against the daily-loss level (it resets with each day's starting balance) and the "
        "max-loss level (a trailing rule moves it). A rule is breached when the worst equity crosses a level."
    )
    return section(
        "Attempts against their own limits",
        F.figure_div(examples_figure(ctx, picked), "fig-examples"),
        caption(text),
        anchor="examples",
    )


# ----------------------------------------------------------------------------- pass over time


def pass_by_day_figure(ctx: _Ctx) -> Any:
    go = _go()
    horizon = int((ctx.prov.get("horizon") or {}).get("days") or 0)
    dtp = np.asarray([float(a["days_to_pass"]) for a in ctx.attempts if a.get("passed")], dtype=np.float64)
    top = max(horizon, int(dtp.max()) if dtp.shape[0] else 1, 1)
    days = np.arange(0, top + 1)
    k = np.searchsorted(np.sort(dtp), days, side="right")
    ci = [wilson_interval(int(x), ctx.runs) for x in k.tolist()]
    rate = F.rounded(100.0 * k / ctx.runs, 3)
    lo = F.rounded([100.0 * c[0] for c in ci], 3)
    hi = F.rounded([100.0 * c[1] for c in ci], 3)
    x = days.tolist()
    fig = go.Figure()
    F.band(fig, x, hi, lo, F.BAND, "95% Wilson interval", shape="hv")
    fig.add_trace(
        go.Scatter(
            x=x, y=rate, mode="lines", line={"color": F.PASS, "width": 2.4, "shape": "hv"}, name="passed by day d",
            customdata=[[a, b] for a, b in zip(lo, hi)],
            hovertemplate="by day %{x}: %{y:.1f}% (95% CI %{customdata[0]:.1f}% .. %{customdata[1]:.1f}%)<extra></extra>",
        )
    )  # fmt: skip
    if horizon:
        F.vline(fig, horizon, f"horizon: day {horizon}", F.RUNNING, dash="dot", position="top left")
    fig.update_layout(
        **F.layout("Chance of having passed the whole program by day d", "calendar days since the attempt's first day",
                   "attempts passed (%)", height=400)
    )  # fmt: skip
    fig.update_yaxes(**F.percent_axis(), rangemode="tozero")
    fig.update_xaxes(range=[0, top + 1], **F.whole_axis(top + 1))
    return fig


# ----------------------------------------------------------------------------- phases and endings


def phases_figure(ctx: _Ctx) -> Any:
    go = _go()
    names, rate, plus, minus, text = [], [], [], [], []
    for ph in ctx.r["phases"]:
        names.append(f"{esc(ph['name'])}<br>{ph['passed']:,} of {ph['reached']:,}")
        r = 0.0 if ph.get("rate") is None else 100.0 * float(ph["rate"])
        lo, hi = (100.0 * float(c) for c in ph["ci95"])
        rate.append(round(r, 3))
        plus.append(round(hi - r, 3))
        minus.append(round(r - lo, 3))
        text.append(f"{ph['passed']:,} of {ph['reached']:,}")
    pr = ctx.r["pass_rate"]
    r = 100.0 * float(pr["rate"])
    names.append(f"whole program<br>{pr['passed']:,} of {pr['runs']:,}")
    rate.append(round(r, 3))
    plus.append(round(100.0 * float(pr["ci95"][1]) - r, 3))
    minus.append(round(r - 100.0 * float(pr["ci95"][0]), 3))
    text.append(f"{pr['passed']:,} of {pr['runs']:,}")
    colors = [F.ACCENT] * (len(names) - 1) + [F.PASS]
    fig = go.Figure(
        go.Bar(
            x=names, y=rate, marker_color=colors, customdata=text,
            error_y={"type": "data", "array": plus, "arrayminus": minus, "color": "#1d2430", "thickness": 1.2},
            hovertemplate="%{y:.1f}% passed (%{customdata})<extra></extra>",
        )
    )  # fmt: skip
    top = max((a + b for a, b in zip(rate, plus)), default=100.0)
    fig.update_layout(**F.layout("Pass rate per phase, with 95% Wilson intervals", "", "passed of those who reached it (%)",
                                 height=400, legend=False))  # fmt: skip
    fig.update_yaxes(**F.percent_axis(), range=[0, min(100.0, top) * 1.18 + 2])
    return fig


_REASONS = {
    "daily_loss": "daily-loss limit breached",
    "max_loss": "max-loss limit breached",
    "time_limit": "time limit reached",
    "weekend_holding": "position held over a weekend",
    "overnight_holding": "position held overnight",
    "no_pass_within_horizon": "not passed within the horizon",
    "history_or_horizon_ended": "history or horizon ended first",
}


def plain_ending(label: str) -> str:
    """A ``failure_reasons`` key in words: ``"Challenge: halted: governor_max_loss_buffer (account kept,
    attempt given up)"`` -> ``"Challenge: given up by a governor (max loss buffer)"``."""
    if label == "passed":
        return "passed every phase"
    phase, _, rest = label.partition(": ")
    if rest.startswith("halted: "):
        gov = rest[len("halted: ") :].split(" (")[0].removeprefix("governor_").replace("_", " ")
        return f"{phase}: given up by a governor ({gov})"
    base, _, more = rest.partition(" (")
    return f"{phase}: {_REASONS.get(base, base.replace('_', ' '))}" + (f" ({more}" if more else "")


def _ending_color(label: str) -> str:
    if label == "passed":
        return F.PASS
    if "account kept" in label:
        return F.HALT
    if "no_pass_within_horizon" in label or "history_or_horizon" in label:
        return F.RUNNING
    return F.FAIL


def endings_figure(ctx: _Ctx) -> Any:
    go = _go()
    items = [("passed", int(ctx.r["pass_rate"]["passed"]))]
    items += [(str(k), int(v)) for k, v in (ctx.r.get("failure_reasons") or {}).items()]
    items = [it for it in items if it[1] > 0] or items
    labels = [_wrap(plain_ending(k), 40) for k, _ in items][::-1]
    counts = [c for _, c in items][::-1]
    share = [f"{c:,} ({100.0 * c / ctx.runs:.1f}%)" for c in counts]
    fig = go.Figure(
        go.Bar(
            y=labels, x=counts, orientation="h", marker_color=[_ending_color(k) for k, _ in items][::-1],
            text=share, textposition="outside", cliponaxis=False, customdata=[esc(k) for k, _ in items][::-1],
            hovertemplate="%{customdata}: %{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        **F.layout(
            "How the attempts ended", "attempts", "", height=max(300, 90 + 46 * len(items)), legend=False
        )
    )
    fig.update_yaxes(automargin=True)
    fig.update_xaxes(range=[0, max(counts) * 1.35 + 1])
    return fig


def _wrap(text: str, width: int = 34) -> str:
    """A long label on several lines (plotly breaks lines at <br>)."""
    words, lines, cur = text.split(" "), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    lines.append(cur)
    return "<br>".join(esc(x) for x in lines)


# ----------------------------------------------------------------------------- distributions


def days_to_pass_figure(ctx: _Ctx) -> Any:
    go = _go()
    vals = [float(a["days_to_pass"]) for a in ctx.attempts if a.get("passed")]
    fig = go.Figure()
    if vals:
        width = max(1.0, F.nice_width(max(vals) - min(vals) + 1, 40, (1, 2, 5)))  # whole days per bin
        left, counts = F.bins(vals, width)
        fig.add_trace(
            go.Bar(
                x=F.rounded(left + width / 2, 6), y=counts.tolist(), width=width * 0.92, marker_color=F.PASS,
                customdata=[[round(a, 6), round(a + width, 6)] for a in left.tolist()],
                hovertemplate="%{customdata[0]:g} .. %{customdata[1]:g} days: %{y} attempts<extra></extra>",
                name="attempts",
            )
        )  # fmt: skip
        d = ctx.r.get("days_to_pass") or {}
        if d.get("median") is not None:
            F.vline(fig, float(d["median"]), f"median {float(d['median']):.0f} days", "#1d2430")
        # half a bin of room each side, so that one bar has its whole-day edges on the axis as ticks
        lo, hi = float(left[0]) - width / 2, float(left[-1]) + 1.5 * width
        fig.update_xaxes(range=[lo, hi], **F.whole_axis(hi - lo))
    else:
        fig.add_annotation(text="no attempt passed", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                           font={"size": 15})  # fmt: skip
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
    fig.update_layout(**F.layout(f"Days to pass ({len(vals):,} attempts that passed)", "calendar days from the first day",
                                 "attempts", height=380, legend=False))  # fmt: skip
    return fig


def _limit_pcts(ctx: _Ctx, key: str) -> list[tuple[float, str]]:
    """Distinct limit percentages of the phases' ``daily_loss`` / ``max_loss`` rules, with their phases."""
    found: dict[float, list[str]] = {}
    for name, ph in ctx.rules.items():
        pct = (ph.get(key) or {}).get("pct")
        if pct:
            found.setdefault(float(pct), []).append(name)
    return [(p, ", ".join(n)) for p, n in sorted(found.items())]


def drawdown_figure(ctx: _Ctx, field: str, rule: str, title: str, color: str) -> Any:
    go = _go()
    vals = [100.0 * float(a[field]) for a in ctx.attempts if a.get(field) is not None]
    limits = _limit_pcts(ctx, rule)
    fig = go.Figure()
    if vals:
        span = max(max(vals), *(p for p, _ in limits)) if limits else max(vals)
        width = F.nice_width(span, 40, (1, 2, 2.5, 5))
        left, counts = F.bins(vals, width, lo=0.0)
        fig.add_trace(
            go.Bar(
                x=F.rounded(left + width / 2, 6), y=counts.tolist(), width=width * 0.92, marker_color=color,
                customdata=[[round(a, 6), round(a + width, 6)] for a in left.tolist()],
                hovertemplate="%{customdata[0]:.2f}% .. %{customdata[1]:.2f}%: %{y} attempts<extra></extra>",
                name="attempts",
            )
        )  # fmt: skip
    several = len(limits) > 1
    for pct, phases in limits:
        label = f"limit {pct:g}%" + (f" ({phases})" if several else "")
        F.vline(fig, pct, label, F.LIMIT, dash="solid", position="top left")
    fig.update_layout(**F.layout(title, "% of the initial balance", "attempts", height=380, legend=False))
    fig.update_xaxes(**F.percent_axis(1), rangemode="tozero")
    return fig


# ----------------------------------------------------------------------------- tables


def costs_table(
    m: Callable[..., str], costs: Mapping[str, Mapping[str, Any]], *, points: Mapping[str, Any] | None = None
) -> str:
    """Money paid per session of the entry (plus average spread / slippage in points when given);
    ``m(value, cents)`` formats money."""
    rows = []
    tot = {k: 0.0 for k in ("trades", "spread", "slippage", "commission", "swap", "total")}
    for name, c in costs.items():
        row = [name, f"{int(c['trades']):,}"]
        if points is not None:
            pt = points.get(name) or {}
            row += [number(pt.get("avg_spread_points"), ".1f"), number(pt.get("avg_slippage_points"), ".2f")]
        row += [m(c["spread"], True), m(c["slippage"], True), m(c["commission"], True), m(c["swap"], True),
                m(c["total"], True), m(c["per_trade"], True)]  # fmt: skip
        rows.append(row)
        for k in tot:
            tot[k] += float(c[k])
    if rows:
        last = ["all sessions", f"{int(tot['trades']):,}"] + (["", ""] if points is not None else [])
        per = tot["total"] / tot["trades"] if tot["trades"] else None
        last += [m(tot[k], True) for k in ("spread", "slippage", "commission", "swap", "total")] + [
            m(per, True)
        ]
        rows.append(last)
    head = ["session of entry", "trades"] + (
        ["avg spread (pts)", "avg slippage (pts)"] if points is not None else []
    )
    head += ["spread", "slippage", "commission", "swap (net)", "total", "per trade"]
    return table(head, rows)


def stats_table(m: Callable[..., str], s: Mapping[str, Any]) -> str:
    """Trade statistics (``simlab.sample.trade_stats``) as a two-column table."""
    rows = [
        ("trades", f"{int(s.get('trades') or 0):,}"),
        ("win rate", percent(s.get("win_rate"))),
        ("average win", m(s.get("avg_win"), True)),
        ("average loss", m(s.get("avg_loss"), True)),
        ("expectancy per trade", m(s.get("expectancy"), True)),
        ("profit factor", number(s.get("profit_factor"), ".2f")),
        ("largest win / loss", f"{m(s.get('largest_win'), True)} / {m(s.get('largest_loss'), True)}"),
    ]
    if s.get("avg_hold_hours") is not None:
        rows.append(("average holding time", f"{float(s['avg_hold_hours']):.1f} hours"))
    if s.get("long") is not None:
        rows.append(("long / short", f"{int(s['long']):,} / {int(s['short']):,}"))
    for reason, c in (s.get("exit_reasons") or {}).items():
        rows.append((f"exits: {reason}", f"{int(c):,}"))
    return table(["", ""], rows, header=False)


def costs_and_stats_section(ctx: _Ctx) -> str:
    costs = ctx.r.get("session_costs")
    stats = ctx.r.get("trade_stats")
    parts = []
    if costs:
        parts.append(
            "<div><h3>Costs paid per session</h3>"
            + costs_table(ctx.money, costs)
            + caption(
                f"From the trades of the first {ctx.k} attempts (of {ctx.runs:,}), by the session the trade was "
                "opened in; money in the account currency, positive = paid. Swap is net (a credit lowers it)."
            )
            + "</div>"
        )
    elif ctx.doc.get("mode") == "trade_list":
        parts.append(
            "<div><h3>Costs paid per session</h3><p>A trade list replays the P/L in its report: the "
            "spread, commission and swap it paid are already in every trade, and no cost is sampled.</p></div>"
        )
    if stats:
        parts.append(
            "<div><h3>Trade statistics</h3>" + stats_table(ctx.money, stats) + caption(f"From {stats.get('from', 'the sample')}.")
            + "</div>"
        )  # fmt: skip
    if not parts:
        return ""
    return section("Costs and trades", '<div class="grid32">' + "".join(parts) + "</div>", anchor="costs")


# ----------------------------------------------------------------------------- the page


def _title(ctx: _Ctx) -> tuple[str, str]:
    prog = ctx.prog
    name = str(prog.get("title") or prog.get("name") or "challenge")
    if ctx.doc.get("mode") == "trade_list":
        subject = f"trade list {(ctx.prov.get('trades') or {}).get('name', '')}"
    else:
        st = ctx.prov.get("strategy") or {}
        subject = f"{st.get('name') or st.get('spec') or 'strategy'} on {(ctx.prov.get('data') or {}).get('name', '')}"
    how = {
        "bars": "attempts start on days of the real history",
        "day_bootstrap": f"day bootstrap (mean block {ctx.prov.get('bootstrap_block_days')} days)",
        "trade_list": "trades bootstrapped from the list",
    }.get(str(ctx.doc.get("mode")), "")
    title = f"{name} · {ctx.money(ctx.size)}" if ctx.size else name
    return title, f"{subject} · {ctx.runs:,} attempts · {how}"


def headline(ctx: _Ctx) -> str:
    pr = ctx.r["pass_rate"]
    d = ctx.r.get("days_to_pass") or {}
    reasons = ctx.r.get("failure_reasons") or {}
    top = next(iter(reasons.items()), None)
    items = [
        ("pass rate", percent(pr["rate"]), f"95% CI {percent(pr['ci95'][0])} .. {percent(pr['ci95'][1])}", ""),
        ("passed", f"{pr['passed']:,} of {pr['runs']:,}", "attempts", ""),
        ("median days to pass", f"{float(d['median']):.0f}" if d else "-",
         f"p10 {float(d['p10']):.0f} · p90 {float(d['p90']):.0f}" if d else "no attempt passed", ""),
        ("worst daily drawdown p90", percent(ctx.r["max_daily_drawdown"]["p90"], 2),
         f"max {percent(ctx.r['max_daily_drawdown']['max'], 2)}", ""),
        ("worst total drawdown p90", percent(ctx.r["max_total_drawdown"]["p90"], 2),
         f"max {percent(ctx.r['max_total_drawdown']['max'], 2)}", ""),
    ]  # fmt: skip
    out = cards(items)
    if top:
        out += f"<p>Most attempts that failed ended by <b>{esc(top[0])}</b> ({top[1]:,} of {ctx.runs:,}).</p>"
    if ctx.runs < 100:
        width = 100 * (pr["ci95"][1] - pr["ci95"][0])
        out += (
            f'<p class="note">{ctx.runs} attempts pin the pass rate down only to a {width:.0f}-point-wide 95% '
            "interval. Run more attempts (<code>--runs 1000</code>) before paying for a challenge on this number.</p>"
        )
    return out


def notes_section(ctx: _Ctx) -> str:
    items = [f"<li>{esc(c)}</li>" for c in ctx.r.get("caveats") or []]
    if "entry_decisions" in ctx.r:
        from simlab.results import refused_line

        items.append(
            f"<li>Refused orders: {esc(refused_line(ctx.r['entry_decisions'], ctx.r.get('refused_orders') or {}))}.</li>"
        )
    ex = ctx.r.get("excluded_starts") or {}
    if ex.get("n_holes"):
        items.append(
            f"<li>Data holes: {ex['n_holes']} of more than {ex.get('min_hole_days')} days without bars; "
            f"{int(ex.get('count') or 0):,} of {int(ex.get('of') or 0):,} start days excluded.</li>"
        )
    h = ctx.prov.get("horizon") or {}
    if h and not h.get("program_time_limited"):
        items.append(
            f"<li>The program has no time limit: an attempt still trading on day {h.get('days')} counts as not "
            "passed, so a longer <code>--horizon-days</code> gives a higher pass rate.</li>"
        )
    return section("What this run cannot see", "<ul>" + "".join(items) + "</ul>") if items else ""


def render_challenge(doc: Mapping[str, Any]) -> str:
    """The report page of a challenge document, as a string."""
    ctx = _Ctx(doc)
    title, subtitle = _title(ctx)
    body = [
        headline(ctx),
        fan_section(ctx),
        examples_section(ctx),
        section(
            "When the attempts pass",
            F.figure_div(pass_by_day_figure(ctx), "fig-pass-by-day"),
            caption(
                f"Share of all {ctx.runs:,} attempts that had passed every phase by calendar day d, with the 95% "
                "Wilson interval of that share."
            ),
            '<div class="grid2">'
            + F.figure_div(phases_figure(ctx), "fig-phases")
            + F.figure_div(days_to_pass_figure(ctx), "fig-days-to-pass")
            + "</div>",
            anchor="pass",
        ),
        section(
            "What ended the attempts", F.figure_div(endings_figure(ctx), "fig-endings"), anchor="endings"
        ),
        section(
            "Worst drawdowns against the limits",
            '<div class="grid2">'
            + F.figure_div(
                drawdown_figure(
                    ctx, "max_daily_drawdown", "daily_loss", "Worst daily drawdown of each attempt", F.HALT
                ),
                "fig-daily-dd",
            )
            + F.figure_div(
                drawdown_figure(
                    ctx, "max_total_drawdown", "max_loss", "Worst total drawdown of each attempt", F.FAIL
                ),
                "fig-total-dd",
            )
            + "</div>",
            caption(
                "The deepest point of each attempt below its day's starting balance (daily) and below the initial "
                "balance (total), floating losses and closing costs included, as a share of the initial balance; "
                "the lines are the firm's limits."
            ),
            anchor="drawdowns",
        ),
        costs_and_stats_section(ctx),
        notes_section(ctx),
    ]
    return page(title, subtitle, "".join(body), doc)


__all__ = ["costs_table", "render_challenge", "stats_table"]
