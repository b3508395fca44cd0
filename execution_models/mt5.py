"""Read the "Deals" table of a MetaTrader 5 account History report (HTML or CSV).

MT5 (Toolbox > History > right click > Report > HTML) writes one big HTML table,
usually UTF-16 encoded, with sections "Positions", "Orders", "Deals" ... Each
section is a title row, a header row and data rows. The Deals header is::

    Time | Deal | Symbol | Type | Direction | Volume | Price | Order | [Cost] | Commission | Fee | Swap | Profit | Balance | Comment

(the hidden "Cost" and the "Fee" columns exist in newer builds only). A CSV of
the same table (any of , ; or tab separated, header names as above, case and
spaces ignored) is read as well. Only the Deals section is read; other sections
are ignored.

:func:`read_deals_table` returns the table as strings with normalised column
names (lower case, no spaces: ``time``, ``deal``, ``symbol``, ``type``,
``direction``, ``volume``, ``price``, ``order``, ``commission``, ``fee``,
``swap``, ``profit``, ``balance``, ``comment`` and, when the user added one,
``requested_price``) and the file line (CSV) or table row (HTML) of each row.
Decoding, HTML rows and name normalising are :mod:`simlab.mt5_report`'s.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from simlab.errors import InputError
from simlab.files import read_bytes
from simlab.mt5_report import decode_report, html_rows, norm_name

REQUIRED = ("time", "symbol", "type", "volume", "price")
_ALIASES = {
    "requested": "requested_price",
    "requestedprice": "requested_price",
    "requestprice": "requested_price",
    "pricerequested": "requested_price",
    "orderprice": "requested_price",
}


def _norm(name: str) -> str:
    n = norm_name(name, drop="/")
    return _ALIASES.get(n, n)


def _is_deals_header(cells: list[str]) -> bool:
    names = {_norm(c) for c in cells}
    return {"time", "deal", "symbol", "type", "direction"} <= names


def _from_html(text: str, where: str) -> tuple[pd.DataFrame, list[str]]:
    rows = html_rows(text)
    start = next((i for i, r in enumerate(rows) if _is_deals_header(r)), None)
    if start is None:
        raise InputError(
            where,
            "no Deals table found; expected an MT5 History report (HTML) with a header row "
            "Time, Deal, Symbol, Type, Direction, Volume, Price, Order, Commission, ...",
        )
    header = [_norm(c) for c in rows[start]]
    data: list[list[str]] = []
    labels: list[str] = []
    for j in range(start + 1, len(rows)):
        r = rows[j]
        if len(r) != len(header) or not any(c.strip() for c in r):
            break  # end of the section: totals row, a blank row or the next section's title
        data.append(r)
        labels.append(f"table row {j + 1}")
    df = pd.DataFrame(data, columns=_dedupe(header), dtype=object)
    return df, labels


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        n = n or "unnamed"
        k = seen.get(n, 0)
        seen[n] = k + 1
        out.append(n if k == 0 else f"{n}_{k}")
    return out


def _from_csv(text: str, where: str) -> tuple[pd.DataFrame, list[str]]:
    lines = text.splitlines()
    # the header may follow a few title lines (a report pasted from a spreadsheet)
    start = None
    for i, line in enumerate(lines[:50]):
        cells = re.split(r"[,;\t]", line)
        if {"time", "symbol", "type", "price"} <= {_norm(c) for c in cells}:
            start = i
            break
    if start is None:
        raise InputError(
            where,
            "no Deals header found; expected a CSV with columns Time, Deal, Symbol, Type, Direction, "
            "Volume, Price, Order, Commission, Swap, Profit (an MT5 History report's Deals table)",
        )
    sep = max((",", ";", "\t"), key=lambda s: lines[start].count(s))
    reader = csv.reader(io.StringIO("\n".join(lines[start:])), delimiter=sep)
    rows = list(reader)
    header = [_norm(c) for c in rows[0]]
    data, labels = [], []
    for k, r in enumerate(rows[1:]):
        if not any(c.strip() for c in r):
            continue
        r = (r + [""] * len(header))[: len(header)]
        data.append([c.strip() for c in r])
        labels.append(f"line {start + k + 2}")
    return pd.DataFrame(data, columns=_dedupe(header), dtype=object), labels


def read_deals_table(path: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """The Deals table of an MT5 History report (HTML or CSV): string columns, and a row label each."""
    p = Path(path)
    where = str(path)
    raw = read_bytes(p, where)  # a FIFO, a directory or stdin: one line, never a hang
    if not raw.strip():
        raise InputError(where, "empty file; expected an MT5 History report (HTML or CSV) with a Deals table")
    text = decode_report(raw)
    looks_html = "<table" in text[:200_000].lower() or text.lstrip().startswith("<")
    df, labels = _from_html(text, where) if looks_html else _from_csv(text, where)
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(
            where,
            f"Deals table lacks column(s) {', '.join(missing)}; found {', '.join(df.columns)}",
        )
    if df.empty:
        raise InputError(where, "the Deals table has no rows")
    return df, labels
