"""plotly figures for simlab reports, written deterministically.

:func:`figure_div` turns a plotly figure into a ``<div>`` and the one ``Plotly.newPlot`` call that
draws it, with an id the caller names (plotly's own ``to_html`` makes a random uuid when it is not
given one) and the JSON written by plotly's ``json`` engine (the ``auto`` engine switches to orjson
when it is installed, whose number formats differ). :func:`plotly_script` is plotly's bundled
JavaScript, inlined once per page (``reports.page``), so a report needs no network.

The rest are small helpers every report shares: a common layout, labelled horizontal and vertical
limit lines, histograms binned in Python (a 20,000-attempt run ships bin counts, not 20,000 values)
and money / percent axes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

PASS = "#1a8a4a"
FAIL = "#c0392b"
HALT = "#d68910"
RUNNING = "#7f8c8d"
ACCENT = "#2f5fb3"
BAND = "rgba(47,95,179,0.14)"
BAND_INNER = "rgba(47,95,179,0.26)"
LIMIT = "#8e1b10"
TARGET = "#1a8a4a"
STATUS_COLORS = {"passed": PASS, "breached": FAIL, "halted": HALT, "running": RUNNING}

_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
_FONT = "Liberation Sans, Arial, Helvetica, sans-serif"


def plotly_script() -> str:
    """plotly.js, inlined: ``<script>...</script>`` (about 4.8 MB)."""
    from plotly.offline import get_plotlyjs

    return '<script type="text/javascript">' + get_plotlyjs() + "</script>"


def layout(
    title: str,
    x_title: str,
    y_title: str,
    *,
    height: int = 420,
    legend: bool = True,
    axes: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """The shared look: white, readable axis titles, a horizontal legend above the plot (in the order
    the traces were added). ``axes=False``: leave the axes alone (subplots set their own)."""
    out: dict[str, Any] = {
        "template": "plotly_white",
        # the title at the very top, the legend (up to two rows) between it and the plot
        "title": {"text": title, "x": 0.01, "xanchor": "left", "y": 0.985, "yanchor": "top", "yref": "container",
                  "font": {"size": 16}},
        "font": {"family": _FONT, "size": 12, "color": "#1d2430"},
        "height": height,
        "margin": {"l": 78, "r": 24, "t": 96 if legend else 52, "b": 56},
        "xaxis": {"title": {"text": x_title}, "zeroline": False, "showline": True, "linecolor": "#b8c0cc"},
        "yaxis": {"title": {"text": y_title}, "zeroline": False, "showline": True, "linecolor": "#b8c0cc"},
        "showlegend": legend,
        "legend": {
            "orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0.0, "font": {"size": 11},
            "traceorder": "normal",
        },
        "hovermode": "closest",
    }  # fmt: skip
    if not axes:
        del out["xaxis"], out["yaxis"]
    out.update(extra)
    return out


def money_axis(currency: str = "USD") -> dict[str, Any]:
    """Axis settings for money: thousands separators and the currency sign."""
    from reports.page import CURRENCY_SIGNS

    sign = CURRENCY_SIGNS.get(currency, "")
    return {"tickprefix": sign, "tickformat": ",.0f", "separatethousands": True}


def percent_axis(decimals: int = 0) -> dict[str, Any]:
    """Axis settings for values already in percent: up to ``max(decimals, 2)`` decimals, trailing zeros
    trimmed, so that ticks plotly spaces 0.5 or 0.25 apart keep their own labels (a fixed ".0f" wrote
    0.5 % as "1%" beside 1 %)."""
    return {"ticksuffix": "%", "tickformat": f".{max(decimals, 2)}~f"}


def whole_axis(span: float, target_ticks: int = 8) -> dict[str, Any]:
    """Axis settings for a count of whole units (days) over ``span``: ticks at whole numbers only, a round
    step of 1, 2 or 5 x 10^k (plotly's own ticks over one attempt's bar read 3.2, 3.4 days)."""
    return {"tickmode": "linear", "tick0": 0, "dtick": max(1.0, nice_width(span, target_ticks, (1, 2, 5)))}


def figure_div(fig: Any, div_id: str, *, height: int | None = None) -> str:
    """``<div id=div_id>`` and the script that draws ``fig`` into it. Deterministic: the id is the
    caller's and the JSON comes from plotly's ``json`` engine (``</`` escaped inside the script)."""
    import plotly.io as pio

    text = pio.to_json(fig, validate=True, pretty=False, engine="json").replace("</", "<\\/")
    h = height or int(fig.layout.height or 420)
    cfg = pio.json.to_json_plotly(_CONFIG, engine="json")
    return (
        f'<div id="{div_id}" class="plot" style="height:{h}px"></div>'
        f'<script type="text/javascript">(function(){{var f={text};'
        f'Plotly.newPlot("{div_id}",f.data,f.layout,{cfg});}})();</script>'
    )


def _labelled(color: str, dash: str, text: str) -> dict[str, Any]:
    return {
        "line": {"color": color, "width": 1.6, "dash": dash},
        "annotation": {
            "text": text,
            "font": {"color": color, "size": 11},
            "bgcolor": "rgba(255,255,255,0.75)",
        },
    }


def hline(
    fig: Any, y: float, text: str, color: str, *, dash: str = "dash", position: str = "top left", **where: Any
) -> None:
    """A labelled horizontal line across the plot (a limit, a target); ``where``: ``row=, col=`` of a subplot."""
    fig.add_hline(y=y, annotation_position=position, **_labelled(color, dash, text), **where)


def vline(
    fig: Any,
    x: float,
    text: str,
    color: str,
    *,
    dash: str = "dash",
    position: str = "top right",
    **where: Any,
) -> None:
    """A labelled vertical line (a limit on a distribution, a median); ``where``: as for :func:`hline`."""
    fig.add_vline(x=x, annotation_position=position, **_labelled(color, dash, text), **where)


def band(fig: Any, x: Any, upper: Any, lower: Any, color: str, name: str, *, shape: str = "linear") -> None:
    """A filled band between two lines (percentiles, an interval): the upper edge, then the lower one
    filled up to it; one legend entry."""
    import plotly.graph_objects as go

    edge = {"width": 0, "shape": shape}
    fig.add_trace(go.Scatter(x=x, y=upper, mode="lines", line=edge, showlegend=False, hoverinfo="skip"))
    fig.add_trace(
        go.Scatter(
            x=x,
            y=lower,
            mode="lines",
            line=edge,
            fill="tonexty",
            fillcolor=color,
            name=name,
            hoverinfo="skip",
        )
    )


def bins(values: Sequence[float], width: float, *, lo: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Counts of ``values`` in bins of ``width`` from ``lo`` (default: the first multiple of width at or
    below the smallest value): (bin left edges, counts). Empty input: two empty arrays."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(float(x))], dtype=np.float64)
    if not v.shape[0]:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    start = math.floor(float(v.min()) / width) * width if lo is None else float(lo)
    n = max(1, math.floor((float(v.max()) - start) / width + 1e-9) + 1)
    idx = np.clip(np.floor((v - start) / width + 1e-9).astype(np.int64), 0, n - 1)
    counts = np.bincount(idx, minlength=n)
    return np.round(start + width * np.arange(n), 10), counts


def nice_width(span: float, target_bins: int = 40, choices: Sequence[float] = (1, 2, 2.5, 5)) -> float:
    """A round bin width giving about ``target_bins`` bins over ``span`` (1, 2, 2.5, 5 x 10^k)."""
    if not span > 0:
        return 1.0
    raw = span / target_bins
    mag = 10.0 ** math.floor(math.log10(raw))
    for c in choices:
        if c * mag >= raw:
            return float(c * mag)
    return float(10 * mag)


def rounded(a: Any, decimals: int) -> list[float | None]:
    """A list for a figure: rounded floats, None for missing / infinite values (a gap in a line)."""
    out: list[float | None] = []
    for x in np.asarray(a, dtype=np.float64).tolist():
        out.append(round(x, decimals) if math.isfinite(x) else None)
    return out


__all__ = [
    "ACCENT",
    "BAND",
    "BAND_INNER",
    "FAIL",
    "HALT",
    "LIMIT",
    "PASS",
    "RUNNING",
    "STATUS_COLORS",
    "TARGET",
    "band",
    "bins",
    "figure_div",
    "hline",
    "layout",
    "money_axis",
    "nice_width",
    "percent_axis",
    "plotly_script",
    "rounded",
    "vline",
    "whole_axis",
]
