"""Reading MetaTrader 5 report files: the parts every MT5 importer shares.

MT5 writes its reports (the account History report ``ReportHistory-*.html``,
the Strategy Tester report) as one big HTML table, usually UTF-16 encoded.
The table is cut into sections: a title row whose only text is the section's
name ("Positions", "Orders", "Deals", ...), a header row, the data rows and
sometimes a totals row. Exports of one section to CSV come in whatever
encoding the user's tools picked.

* :func:`decode_report`: a report file's bytes -> text (UTF-16 with or without
  BOM, UTF-8 with or without BOM, else Latin-1);
* :func:`html_rows`: every ``<tr>`` of an HTML document as a list of cell
  texts (``colspan`` expanded, ``<br>`` read as a space, whitespace collapsed);
* :func:`titled_tables`: the titled sections of a report, each as
  (header, data rows, row number of the first data row);
* :func:`norm_name`: the key a column name (or a section title) is matched by.

Used by :mod:`execution_models.mt5` (the Deals table, for fills and
commissions) and :mod:`challenges.trade_list` (Positions or Deals, for trade
lists); what they do with the rows stays there.

>>> doc = '''<table>
... <tr><td colspan="4"><b>Deals</b></td></tr>
... <tr><td>Time</td><td>Deal</td><td>Net Profit</td><td>Comment</td></tr>
... <tr><td>2024.03.04 10:00:00</td><td>2</td><td>1&nbsp;000.00</td><td>sl<br>1.085</td></tr>
... <tr><td colspan="2"></td><td>1&nbsp;000.00</td><td></td></tr>
... </table>'''
>>> text = decode_report(doc.encode("utf-16"))  # as MT5 writes it: UTF-16 with a BOM
>>> html_rows(text)[0]
['Deals', '', '', '']
>>> deals = titled_tables(text)["deals"]
>>> [norm_name(h) for h in deals.header]
['time', 'deal', 'netprofit', 'comment']
>>> deals.rows
[['2024.03.04 10:00:00', '2', '1 000.00', 'sl 1.085']]
>>> deals.first_row
3
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import NamedTuple

__all__ = ["SECTIONS", "Table", "decode_report", "html_rows", "norm_name", "titled_tables"]


# ---------------------------------------------------------------- bytes -> text
def decode_report(raw: bytes) -> str:
    """The text of a report file, in any of the encodings MT5 and spreadsheets write.

    * a UTF-16 BOM (``FF FE`` / ``FE FF``): UTF-16, strict (MT5's HTML reports);
    * a UTF-8 BOM: UTF-8 after the BOM, undecodable bytes replaced by U+FFFD;
    * no BOM but UTF-16 by the look of it (NULs in more than a quarter of the
      first 200 bytes, or as the 2nd and 4th byte): UTF-16-LE when the 2nd
      byte is NUL, else UTF-16-BE, undecodable bytes replaced;
    * else UTF-8 when it decodes, else Latin-1 (which never fails).

    >>> decode_report("Time;Profit".encode("utf-16-le"))
    'Time;Profit'
    >>> decode_report(b"\\xef\\xbb\\xbfTime;Profit")
    'Time;Profit'
    >>> decode_report("Zürich".encode("latin-1"))
    'Zürich'
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    head = raw[:200]
    dense = head.count(b"\x00") > len(head) // 4
    ascii_le = len(raw) > 3 and raw[1:2] == b"\x00" and raw[3:4] == b"\x00"
    if head and (dense or ascii_le):
        return raw.decode("utf-16-le" if head[1:2] == b"\x00" else "utf-16-be", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# ---------------------------------------------------------------- column names
_SEPARATORS = re.compile(r"[\s_\-]+")


def norm_name(name: object, drop: str = "") -> str:
    """The key a column name or a section title is matched by.

    Lower case, surrounding whitespace stripped, whitespace, ``_`` and ``-``
    removed, and so is every character of ``drop``. Other punctuation stays
    (``P/L``, ``MAE ($)``, ``Time.1`` keep their ``/``, ``$``, ``.``).

    >>> norm_name(" Open_Time "), norm_name("Net-Profit"), norm_name("P/L"), norm_name("S / L", drop="/")
    ('opentime', 'netprofit', 'p/l', 'sl')
    """
    key = _SEPARATORS.sub("", str(name).strip().lower())
    for ch in drop:
        key = key.replace(ch, "")
    return key


# ---------------------------------------------------------------- HTML rows
class _RowParser(HTMLParser):
    """Collects every ``<tr>`` of a document; see :func:`html_rows`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._close_row()  # HTML lets a row end at the next <tr>
            self._row = []
        elif tag in ("td", "th"):
            self._close_cell()
            if self._row is None:
                self._row = []
            self._cell = []
            span = dict(attrs).get("colspan") or "1"
            self._span = int(span) if span.isdigit() and int(span) > 0 else 1
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._close_cell()
        elif tag in ("tr", "table"):
            self._close_row()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def _close_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            text = " ".join("".join(self._cell).split())
            self._row.extend([text] + [""] * (self._span - 1))
        self._cell = None
        self._span = 1

    def _close_row(self) -> None:
        self._close_cell()
        if self._row is not None:
            self.rows.append(self._row)
        self._row = None

    def close(self) -> None:
        super().close()
        self._close_row()


def html_rows(text: str) -> list[list[str]]:
    """Every table row of an HTML document, in document order, as a list of cell texts.

    A cell's text is its character data with entities resolved, ``<br>`` read
    as a space, and runs of whitespace (U+00A0 included: ``3&nbsp;007.00``,
    MT5's thousands separator, reads ``'3 007.00'``) collapsed to one plain
    space and stripped at the ends. A cell with ``colspan=k`` (k >= 1) counts k times: its text,
    then k - 1 empty cells, so that the cells of every row line up with the
    header's columns. A row ends at ``</tr>``, at the next ``<tr>``, at
    ``</table>`` or at the end of the document (so the rows of a nested table
    are rows of their own, and split the row that holds it). Tags other than ``tr``, ``td``, ``th`` and ``br`` are
    ignored.

    >>> html_rows('<tr><td colspan="2">a</td><td>b<br/>c</td></tr><tr><td> x  y </td>')
    [['a', '', 'b c'], ['x y']]
    """
    parser = _RowParser()
    parser.feed(text)
    parser.close()
    return parser.rows


# ---------------------------------------------------------------- titled sections
SECTIONS = (
    "positions",
    "deals",
    "orders",
    "openpositions",
    "workingorders",
    "summary",
    "results",
    "results:",
)
"""Section titles of MT5 reports, as :func:`norm_name` keys."""


class Table(NamedTuple):
    """One titled section of an MT5 report."""

    header: list[str]  # the row after the title, as written
    rows: list[list[str]]  # the data rows
    first_row: int  # 1-based number, among html_rows(text), of the row two below the header's title


def _title(row: list[str], sections: tuple[str, ...]) -> str | None:
    cells = [c for c in row if c]
    if len(cells) == 1 and norm_name(cells[0]) in sections:
        return norm_name(cells[0])
    return None


def titled_tables(text: str, sections: tuple[str, ...] = SECTIONS) -> dict[str, Table]:
    """The titled sections of an MT5 HTML report, by :func:`norm_name` of their title.

    A title is a row with exactly one non-empty cell whose :func:`norm_name`
    is one of ``sections``; the next row is the header. Data rows are the
    following rows that have at least ``len(header) - 1`` cells, at least 3 of
    them non-empty, and a non-empty first cell; rows before the first such row
    are passed over, and the first row after it that is not one (a totals row,
    a blank row) ends the section, as does the next title. When a title comes
    twice, the first section wins. ``first_row`` is the 1-based row number
    (among :func:`html_rows`) of the row just below the header, which is the
    first data row when no row was passed over.
    """
    rows = html_rows(text)
    out: dict[str, Table] = {}
    i = 0
    while i < len(rows):
        name = _title(rows[i], sections)
        if name is None or i + 1 >= len(rows):
            i += 1
            continue
        header = rows[i + 1]
        body: list[list[str]] = []
        j = i + 2
        while j < len(rows):
            r = rows[j]
            if _title(r, sections) is not None:
                break
            if len(r) >= len(header) - 1 and sum(1 for c in r if c) >= 3 and r[0].strip():
                body.append(r)
            elif body:
                break  # a totals line or the end of the table
            j += 1
        out.setdefault(name, Table(header, body, i + 3))
        i = j
    return out
