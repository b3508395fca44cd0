"""The HTML report of a backtest, drawn from its ``simlab.result/1`` document alone: headline numbers,
the equity and drawdown curves with every trade's exit marked, costs per session, trade statistics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from reports import figures as F
from reports.challenge import costs_table, stats_table
from reports.page import caption, cards, money, number, page, percent, section


class _Ctx:
    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.prov: Mapping[str, Any] = doc.get("provenance") or {}
        self.r: Mapping[str, Any] = doc["result"]
        self.currency = "USD"  # a backtest account is in USD, as every simlab account (simlab.layout)
        self.balance = float(self.prov.get("balance") or 0.0)

    def money(self, v: Any, cents: bool | None = None) -> str:
        return money(v, self.currency, cents)


def equity_figure(ctx: _Ctx) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ec = ctx.r["equity_curve"]
    t = [s[:-1] if s.endswith("Z") else s for s in ec["time"]]  # plotly reads ISO times without the Z
    eq = np.asarray(ec["equity"], dtype=np.float64)
    worst = np.minimum(np.asarray(ec["worst_equity"], dtype=np.float64), eq)
    peak = np.maximum.accumulate(np.maximum(eq, ctx.balance)) if eq.shape[0] else eq
    dd = -100.0 * (peak - worst) / np.where(peak > 0, peak, 1.0)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.06)
    per = "day" if ec.get("resolution") == "daily" else "bar"
    fig.add_trace(
        go.Scatter(x=t, y=F.rounded(ec["balance"], 2), mode="lines", line={"color": "#1d2430", "width": 1.3},
                   name="balance", hovertemplate="%{x}<br>balance %{y:,.2f}<extra></extra>"),
        row=1, col=1,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=t, y=F.rounded(eq, 2), mode="lines", line={"color": F.ACCENT, "width": 1.8},
                   name=f"equity at the {per}'s close", hovertemplate="%{x}<br>equity %{y:,.2f}<extra></extra>"),
        row=1, col=1,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=t, y=F.rounded(worst, 2), mode="lines", line={"color": "#95a5a6", "width": 1, "dash": "dot"},
                   name=f"worst equity of the {per}", hovertemplate="%{x}<br>worst %{y:,.2f}<extra></extra>"),
        row=1, col=1,
    )  # fmt: skip
    trades = ctx.r.get("trades") or []
    if trades:
        pnl = np.asarray([float(x["pnl"]) for x in trades], dtype=np.float64)
        after = ctx.balance + np.cumsum(pnl)
        for win in (True, False):
            idx = [i for i in range(len(trades)) if (pnl[i] > 0) == win]
            if not idx:
                continue
            fig.add_trace(
                go.Scatter(
                    x=[trades[i]["exit_time"].rstrip("Z") for i in idx], y=F.rounded(after[idx], 2), mode="markers",
                    marker={"symbol": "triangle-up" if win else "triangle-down", "size": 7,
                            "color": F.PASS if win else F.FAIL, "line": {"width": 0}},
                    name=f"{'winning' if win else 'losing'} trade closed ({len(idx):,})",
                    customdata=[[trades[i]["side"], trades[i]["entry_time"], round(float(pnl[i]), 2),
                                 trades[i].get("exit_reason", "")] for i in idx],
                    hovertemplate="%{customdata[0]} from %{customdata[1]}<br>closed %{x}: %{customdata[2]:,.2f}"
                    " (%{customdata[3]})<br>balance after %{y:,.2f}<extra></extra>",
                ),
                row=1, col=1,
            )  # fmt: skip
    F.hline(fig, ctx.balance, f"initial balance {ctx.money(ctx.balance)}", "#7f8c8d", dash="dot", position="top right",
            row=1, col=1)  # fmt: skip
    fig.add_trace(
        go.Scatter(x=t, y=F.rounded(dd, 3), mode="lines", fill="tozeroy", line={"color": F.FAIL, "width": 1},
                   fillcolor="rgba(192,57,43,0.25)", name="drawdown from the peak",
                   hovertemplate="%{x}<br>drawdown %{y:.2f}%<extra></extra>"),
        row=2, col=1,
    )  # fmt: skip
    fig.update_layout(**F.layout("Equity, trades and drawdown", "", "", height=620))
    fig.update_yaxes(title_text=f"account ({ctx.currency})", row=1, col=1, **F.money_axis(ctx.currency))
    fig.update_yaxes(title_text="drawdown", row=2, col=1, **F.percent_axis(1))
    fig.update_xaxes(title_text="time (UTC)", row=2, col=1)
    return fig


def headline(ctx: _Ctx) -> str:
    s = ctx.r["summary"]
    net = s.get("net_pnl")
    items = [
        ("net P/L", ctx.money(net), f"final balance {ctx.money(s.get('final_balance'))}",
         "pass" if (net or 0) > 0 else "fail"),
        ("max drawdown", percent(s.get("max_drawdown_pct"), 2), ctx.money(s.get("max_drawdown")), ""),
        ("trades", f"{int(s.get('trades') or 0):,}", f"win rate {percent(s.get('win_rate'))}", ""),
        ("profit factor", number(s.get("profit_factor"), ".2f"), f"Sharpe {number(s.get('sharpe'), '.2f')} (daily, annualised)", ""),
        ("costs paid", ctx.money(s.get("total_costs")), f"{ctx.money(s.get('avg_cost_per_trade'), True)} per trade", ""),
    ]  # fmt: skip
    return cards(items)


def render_backtest(doc: Mapping[str, Any]) -> str:
    """The report page of a backtest document, as a string."""
    ctx = _Ctx(doc)
    st = ctx.prov.get("strategy") or {}
    data = ctx.prov.get("data") or {}
    title = f"Backtest · {st.get('name') or st.get('spec') or 'strategy'} on {data.get('name', '')}"
    subtitle = f"{int(data.get('rows') or 0):,} bars, {data.get('first')} .. {data.get('last')} · balance {ctx.money(ctx.balance)}"
    body = [headline(ctx)]
    s = ctx.r["summary"]
    if s.get("status") not in (None, "running"):
        body.append(f'<p class="note">The run ended early: {s.get("status")} ({s.get("breach_reason")}).</p>')
    body.append(
        section(
            "Equity and drawdown",
            F.figure_div(equity_figure(ctx), "fig-equity"),
            caption(
                "Balance, equity at each close and the worst equity inside it; triangles mark each trade's close at "
                "the balance after it (green: a win, red: a loss). Below: the drawdown of the worst equity from the "
                "highest equity before it."
            ),
            anchor="equity",
        )
    )
    parts = []
    costs = ctx.r.get("session_costs")
    if costs:
        parts.append(
            "<div><h3>Costs paid per session</h3>"
            + costs_table(ctx.money, costs, points=ctx.r.get("costs_by_session") or {})
            + caption(
                "By the session the trade was opened in; money in the account currency, positive = paid."
            )
            + "</div>"
        )
    stats = ctx.r.get("trade_stats")
    if stats:
        parts.append("<div><h3>Trade statistics</h3>" + stats_table(ctx.money, stats) + "</div>")
    if parts:
        body.append(section("Costs and trades", "".join(parts), anchor="costs"))
    return page(title, subtitle, "".join(body), doc)


__all__ = ["render_backtest"]
