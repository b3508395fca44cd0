"""simlab.mt5_report: report decoding, HTML rows, titled sections, column-name keys."""

from __future__ import annotations

import doctest

import pytest

from simlab import mt5_report
from simlab.mt5_report import decode_report, html_rows, norm_name, titled_tables


def test_doctests() -> None:
    res = doctest.testmod(mt5_report)
    assert res.attempted >= 5 and res.failed == 0


TEXT = "Time;Symbol;Profit\n2024.03.04 10:00:00;EURUSD;-7.00\n"


@pytest.mark.parametrize(
    "raw",
    [
        TEXT.encode("utf-16"),  # BOM, as MT5 writes its reports
        TEXT.encode("utf-16-le"),
        TEXT.encode("utf-16-be"),
        b"\xef\xbb\xbf" + TEXT.encode(),
        TEXT.encode(),
    ],
    ids=["utf16-bom", "utf16le", "utf16be", "utf8-bom", "utf8"],
)
def test_decode_report_encodings(raw: bytes) -> None:
    assert decode_report(raw) == TEXT


def test_decode_report_fallbacks() -> None:
    assert decode_report("Zürich;1".encode("cp1252")) == "Zürich;1"  # not UTF-8: Latin-1
    assert decode_report(b"\x81\x8d;1") == "\x81\x8d;1"  # Latin-1 never fails
    assert decode_report(b"\xef\xbb\xbfTime;\xff") == "Time;\ufffd"  # BOM'd UTF-8: bad bytes replaced
    # UTF-16-LE without BOM, two ASCII characters then text with no NUL bytes
    s = "ab" + "\u0412\u0440\u0435\u043c\u044f" * 30
    assert decode_report(s.encode("utf-16-le")) == s


def test_html_rows_cells() -> None:
    doc = (
        "<table><tr><th colspan=3>Deals</th></tr>"
        '<tr><td colspan="0">a</td><td colspan="x">b</td><td>c<br>d &amp; e</td></tr>'
        "<tr><td>\n 1&nbsp;000.00 \n</td></tr></table>"
    )
    assert html_rows(doc) == [["Deals", "", ""], ["a", "b", "c d & e"], ["1 000.00"]]


def test_html_rows_without_end_tags() -> None:
    # </tr> is optional in HTML: a row also ends at the next <tr>, at </table> and at the end
    doc = "<table><tr><td>a<td>b<tr><td>c</table><table><tr><td>d</td></tr></table><tr><td>e"
    assert html_rows(doc) == [["a", "b"], ["c"], ["d"], ["e"]]


REPORT = """<table>
<tr><th colspan="4">Trade History Report</th></tr>
<tr><td colspan="4"><b>Positions</b></td></tr>
<tr><td>Time</td><td>Symbol</td><td>Time</td><td>Profit</td></tr>
<tr><td>2024.03.04 10:00:00</td><td>EURUSD</td><td>2024.03.04 12:00:00</td><td>1.00</td></tr>
<tr><td>2024.03.05 10:00:00</td><td>EURUSD</td><td>2024.03.05 12:00:00</td><td>2.00</td></tr>
<tr><td colspan="3"></td><td>3.00</td></tr>
<tr><td>2024.03.06 10:00:00</td><td>EURUSD</td><td>2024.03.06 12:00:00</td><td>9.00</td></tr>
<tr><td colspan="4">Open Positions</td></tr>
<tr><td>Time</td><td>Symbol</td><td>Profit</td></tr>
<tr><td colspan="4">Positions</td></tr>
<tr><td>Other</td></tr>
<tr><td>x</td><td>y</td><td>z</td><td>w</td></tr>
</table>"""


def test_titled_tables() -> None:
    t = titled_tables(REPORT)
    assert set(t) == {"positions", "openpositions"}
    pos = t["positions"]  # the first "Positions" wins; the totals row ends it
    assert pos.header == ["Time", "Symbol", "Time", "Profit"] and pos.first_row == 4
    assert [r[3] for r in pos.rows] == ["1.00", "2.00"]
    assert t["openpositions"].rows == []  # the next title ends a section
    assert titled_tables(REPORT, sections=("openpositions",))["openpositions"].header[0] == "Time"


def test_norm_name() -> None:
    assert norm_name("  Open_Time ") == "opentime"
    assert norm_name("Net - Profit") == "netprofit"
    assert norm_name("P/L") == "p/l" and norm_name("P / L", drop="/") == "pl"
    assert norm_name("MAE ($)") == "mae($)" and norm_name("Time.1") == "time.1"
    assert norm_name(12) == "12"


def test_trade_list_reads_rows_without_end_tags(tmp_path) -> None:
    # challenges.trade_list uses these rows: a report that omits </tr> loses no trade
    from challenges.trade_list import load_trades

    f = tmp_path / "report.html"
    f.write_bytes(REPORT.replace("</tr>", "").encode("utf-16"))
    t = load_trades(f)
    assert len(t) == 2 and t.source.endswith("(Positions)")
    assert t.pnl.tolist() == [1.0, 2.0]
