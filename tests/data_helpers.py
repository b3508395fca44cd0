"""Small hand-made data files for the loader tests, and the catalogue of bad inputs.

Every bad input is a :class:`BadCase`: a file name and content, the options it is
loaded with, and the pieces the one-line error must contain (the file, the row as
``line N`` with the header as line 1, the field, what was expected).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MT5_BARS_HEADER = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"
MT5_TICKS_HEADER = "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>"
BIDASK_HEADER = "time,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close"

M = 60_000_000_000
H = 60 * M


def ns(*stamps: str) -> np.ndarray:
    """ISO stamps (UTC, no zone suffix) -> int64 ns."""
    return np.array(stamps, dtype="datetime64[ns]").astype(np.int64)


def write(path: Path, lines: list[str] | str | bytes, newline: str = "\n") -> Path:
    if isinstance(lines, bytes):
        path.write_bytes(lines)
    elif isinstance(lines, str):
        path.write_text(lines)
    else:
        path.write_text(newline.join(lines) + newline)
    return path


def mt5_bar(
    date: str, time: str, o: str, h: str, lo: str, c: str, tickvol: int = 10, spread: int = 12
) -> str:
    return "\t".join([date, time, o, h, lo, c, str(tickvol), "0", str(spread)])


def bidask_row(time: str, bid: tuple[str, str, str, str], ask: tuple[str, str, str, str]) -> str:
    return ",".join([time, *bid, *ask])


# a valid generic file: 4 bars
GOOD_BIDASK = [
    BIDASK_HEADER,
    bidask_row(
        "2014-05-01T00:00:00Z",
        ("1.38676", "1.38686", "1.38669", "1.38686"),
        ("1.38686", "1.38697", "1.3868", "1.38697"),
    ),
    bidask_row(
        "2014-05-01T00:01:00Z",
        ("1.38688", "1.38688", "1.38685", "1.38685"),
        ("1.387", "1.387", "1.38696", "1.38698"),
    ),
    bidask_row(
        "2014-05-01T00:02:00Z",
        ("1.38686", "1.3869", "1.38686", "1.38689"),
        ("1.38698", "1.38702", "1.38697", "1.38702"),
    ),
    bidask_row(
        "2014-05-01T00:03:00Z",
        ("1.38689", "1.38689", "1.38685", "1.38685"),
        ("1.387", "1.38701", "1.38696", "1.38697"),
    ),
]

GOOD_MT5 = [
    MT5_BARS_HEADER,
    mt5_bar("2014.05.01", "03:00:00", "1.38676", "1.38686", "1.38669", "1.38686", 5, 11),
    mt5_bar("2014.05.01", "03:01:00", "1.38688", "1.38688", "1.38685", "1.38685", 7, 13),
    mt5_bar("2014.05.01", "03:02:00", "1.38686", "1.3869", "1.38686", "1.38689", 3, 13),
    mt5_bar("2014.05.01", "03:03:00", "1.38689", "1.38689", "1.38685", "1.38685", 4, 12),
]

TICKS = [
    "time,bid,ask",
    "2014-05-01T00:00:00.292Z,1.38676,1.38686",
    "2014-05-01T00:00:09.222Z,1.38673,1.38687",
    "2014-05-01T00:00:31.000Z,1.38690,1.38699",
]


# text the mangling and fuzz tests insert into valid files: separators, signs, NaN/inf, control
# characters, a BOM, a quote, a header cell, a very long number
MANGLE_PIECES = [
    "", "\t", ",", ";", ".", ":", "-", "+", "Z", "T", "nan", "inf", "abc", "\x00", "é", "\r", "\n",
    "<DATE>", "9" * 30, '"', "\ufeff",
]  # fmt: skip


def replace_line(lines: list[str], number: int, text: str) -> list[str]:
    """A copy of ``lines`` with file line ``number`` (1-based, header = 1) replaced."""
    out = list(lines)
    out[number - 1] = text
    return out


def replace_field(lines: list[str], number: int, column: int, value: str, sep: str = ",") -> list[str]:
    parts = lines[number - 1].split(sep)
    parts[column] = value
    return replace_line(lines, number, sep.join(parts))


@dataclass(frozen=True)
class BadCase:
    id: str
    filename: str
    content: list[str] | str | bytes
    expect: tuple[str, ...]  # substrings of the error line (the file name is checked separately)
    cli_args: tuple[str, ...] = ()
    api: dict[str, object] = field(default_factory=dict)  # keyword arguments of load_bars / load_ticks
    ticks: bool = False  # load with load_ticks in the API test
    cli: bool = True  # also run through the CLI (False: a variant of a kind the CLI tests already cover)

    def write(self, folder: Path) -> Path:
        return write(folder / self.filename, self.content)


BAD_CASES: list[BadCase] = [
    BadCase("empty_file", "empty.csv", "", ("file is empty",)),
    BadCase("blank_lines_only", "blank.csv", "\n\n  \n", ("file is empty",), cli=False),
    BadCase("header_only", "header_only.csv", [BIDASK_HEADER], ("no data rows after the header (line 1)",)),
    BadCase("json_file", "bars.csv", '{"time": [1, 2], "bid": [1.1, 1.2]}\n', ("line 1", "looks like JSON")),
    BadCase("binary_file", "bars.bin", bytes(range(256)) * 8, ("binary content",)),
    BadCase(
        "csv_claimed_parquet",
        "bars_p.csv",
        GOOD_BIDASK,
        ("not a Parquet file",),
        cli_args=("--format", "parquet"),
        api={"fmt": "parquet"},
        cli=False,
    ),
    BadCase(
        "csv_claimed_mt5",
        "bars_m.csv",
        GOOD_BIDASK,
        ("line 1", "not MT5 'Export bars'", "<DATE>"),
        cli_args=("--format", "mt5-bars"),
        api={"fmt": "mt5-bars"},
    ),
    BadCase(
        "missing_column",
        "missing_col.csv",
        [line.rsplit(",", 1)[0] for line in GOOD_BIDASK],
        ("line 1", "missing column(s) ask_close", "expected time, bid_open", "found 'time'"),
    ),
    BadCase(
        "misnamed_time_column",
        "zeit.csv",
        ["Zeit" + GOOD_BIDASK[0][4:], *GOOD_BIDASK[1:]],
        ("line 1", "no time column", "expected one of time, timestamp, datetime, date", "found 'Zeit'"),
    ),
    BadCase(
        "mt5_missing_spread",
        "mt5_nospread.csv",
        [line.rsplit("\t", 1)[0] for line in GOOD_MT5],
        ("line 1", "missing column(s) <SPREAD>", "found '<DATE>'"),
        cli=False,
    ),
    BadCase(
        "no_header",
        "noheader.csv",
        GOOD_BIDASK[1:],
        ("line 1", "is not a header", "expected a header row"),
        cli=False,
    ),
    BadCase(
        "unparsable_time",
        "badtime.csv",
        replace_field(GOOD_BIDASK, 4, 0, "2014-05-01T00:0x:00Z"),
        (
            "line 4",
            "field 'time'",
            "cannot read '2014-05-01T00:0x:00Z' as a time",
            "expected an ISO 8601 time",
        ),
    ),
    BadCase(
        "mt5_unparsable_date",
        "mt5_baddate.csv",
        replace_field(GOOD_MT5, 3, 0, "2014.13.01", sep="\t"),
        ("line 3", "field '<DATE> <TIME>'", "cannot read '2014.13.01 03:01:00'", "expected a server time"),
        cli_args=("--tz", "Europe/Helsinki"),
        api={"tz": "Europe/Helsinki"},
        cli=False,
    ),
    BadCase(
        "empty_time",
        "emptytime.csv",
        replace_field(GOOD_BIDASK, 3, 0, ""),
        ("line 3", "field 'time'", "is empty"),
        cli=False,
    ),
    BadCase(
        "duplicate_time",
        "dup.csv",
        replace_field(GOOD_BIDASK, 4, 0, "2014-05-01T00:01:00Z"),
        ("line 4", "field 'time'", "duplicate time", "line 3", "expected strictly increasing times"),
    ),
    BadCase(
        "time_backwards",
        "backwards.csv",
        replace_field(GOOD_BIDASK, 5, 0, "2014-05-01T00:00:30Z"),
        ("line 5", "field 'time'", "time goes backwards", "expected strictly increasing times"),
    ),
    BadCase(
        "non_numeric_price",
        "abc.csv",
        replace_field(GOOD_BIDASK, 3, 2, "abc"),
        ("line 3", "field 'bid_high'", "'abc' is not a number", "expected a price"),
    ),
    BadCase(
        "empty_price",
        "nanprice.csv",
        replace_field(GOOD_BIDASK, 4, 7, ""),
        ("line 4", "field 'ask_low'", "is empty or NaN", "expected a price"),
        cli=False,
    ),
    BadCase(
        "nan_price",
        "nanprice2.csv",
        replace_field(GOOD_BIDASK, 2, 4, "NaN"),
        ("line 2", "field 'bid_close'", "is empty or NaN", "expected a price"),
    ),
    BadCase(
        "inf_price",
        "inf.csv",
        replace_field(GOOD_BIDASK, 3, 6, "inf"),
        ("line 3", "field 'ask_high'", "not finite", "expected a price"),
    ),
    BadCase(
        "zero_price",
        "zero.mt5.csv",
        replace_field(GOOD_MT5, 5, 4, "0", sep="\t"),
        ("line 5", "field '<LOW>'", "is not > 0", "expected a price"),
        cli=False,
    ),
    BadCase(
        "decimal_comma",
        "comma.csv",
        replace_field([line.replace(",", ";") for line in GOOD_BIDASK], 3, 1, "1,38688", sep=";"),
        ("line 3", "field 'bid_open'", "'1,38688' is not a number", "decimal comma"),
        cli=False,
    ),
    BadCase(
        "high_below_low",
        "hilo.csv",
        replace_field(GOOD_BIDASK, 3, 2, "1.38600"),
        ("line 3", "field 'bid_high'", "high 1.386 < low 1.38685", "expected high >= low"),
    ),
    BadCase(
        "open_outside_range",
        "open.csv",
        replace_field(GOOD_BIDASK, 4, 5, "1.39"),
        (
            "line 4",
            "field 'ask_open'",
            "open 1.39 is outside [low 1.38697, high 1.38702]",
            "expected low <= open <= high",
        ),
    ),
    BadCase(
        "close_outside_range",
        "close.mt5.csv",
        replace_field(GOOD_MT5, 2, 5, "1.38600", sep="\t"),
        ("line 2", "field '<CLOSE>'", "close 1.386 is outside", "expected low <= close <= high"),
        cli=False,
    ),
    BadCase(
        "ask_below_bid",
        "askbid.csv",
        replace_line(
            GOOD_BIDASK,
            5,
            bidask_row(
                "2014-05-01T00:03:00Z",
                ("1.38689", "1.38689", "1.38685", "1.38685"),
                ("1.387", "1.38701", "1.38680", "1.38681"),
            ),
        ),
        ("line 5", "field 'ask_low'", "ask 1.3868 < bid 1.38685", "expected ask >= bid"),
    ),
    BadCase(
        "negative_spread",
        "negspread.mt5.csv",
        replace_field(GOOD_MT5, 4, 8, "-3", sep="\t"),
        ("line 4", "field '<SPREAD>'", "-3 is negative", "expected a spread in points >= 0"),
    ),
    BadCase(
        "negative_volume",
        "negvol.mt5.csv",
        replace_field(GOOD_MT5, 3, 6, "-1", sep="\t"),
        ("line 3", "field '<TICKVOL>'", "-1 is negative", "expected a volume >= 0"),
        cli=False,
    ),
    BadCase(
        "wrong_field_count",
        "fields.csv",
        replace_line(GOOD_BIDASK, 4, GOOD_BIDASK[3] + ",1.0"),
        ("line 4", "10 fields", "expected 9 fields like the header (line 1)"),
    ),
    BadCase(
        "first_bad_row_wins",
        "first.csv",
        replace_field(replace_field(GOOD_BIDASK, 5, 2, "1.0"), 3, 0, "2014-05-01T00:00:00Z"),
        ("line 3", "field 'time'", "duplicate time"),
        cli=False,
    ),
    BadCase(
        "unknown_tz",
        "tz1.mt5.csv",
        GOOD_MT5,
        ("tz 'Europe/Helsinkii'", "unknown time zone", "expected an IANA zone name"),
        cli_args=("--tz", "Europe/Helsinkii"),
        api={"tz": "Europe/Helsinkii"},
    ),
    BadCase(
        "bad_offset_range",
        "tz2.mt5.csv",
        GOOD_MT5,
        ("tz '+25:00'", "offset out of range", "expected -14:00 .. +14:00"),
        cli_args=("--tz", "+25:00"),
        api={"tz": "+25:00"},
    ),
    BadCase(
        "bad_offset_syntax",
        "tz3.mt5.csv",
        GOOD_MT5,
        ("tz 'UTC+3x'", "not a valid offset", "'+02:00'"),
        cli_args=("--tz", "UTC+3x"),
        api={"tz": "UTC+3x"},
        cli=False,
    ),
    BadCase(
        "dst_nonexistent_local_time",
        "dst.mt5.csv",
        [
            MT5_BARS_HEADER,
            mt5_bar("2014.03.30", "02:59:00", "1.37", "1.37", "1.37", "1.37"),
            mt5_bar("2014.03.30", "03:30:00", "1.37", "1.37", "1.37", "1.37"),
        ],
        (
            "line 3",
            "field '<DATE> <TIME>'",
            "'2014.03.30 03:30:00' does not exist in Europe/Helsinki",
            "DST starts",
        ),
        cli_args=("--tz", "Europe/Helsinki"),
        api={"tz": "Europe/Helsinki"},
    ),
    BadCase(
        "dst_ambiguous_local_time",
        "dst2.mt5.csv",
        [
            MT5_BARS_HEADER,
            mt5_bar("2014.10.26", "02:59:00", "1.37", "1.37", "1.37", "1.37"),
            mt5_bar("2014.10.26", "03:30:00", "1.37", "1.37", "1.37", "1.37"),
            mt5_bar("2014.10.26", "04:30:00", "1.37", "1.37", "1.37", "1.37"),
        ],
        ("line 3", "'2014.10.26 03:30:00' occurs twice in Europe/Helsinki", "DST ends"),
        cli_args=("--tz", "Europe/Helsinki"),
        api={"tz": "Europe/Helsinki"},
        cli=False,
    ),
    BadCase(
        "bad_timeframe",
        "tf.csv",
        GOOD_BIDASK,
        ("timeframe '7x'", "not a bar size", "expected e.g. 1min"),
        cli_args=("--timeframe", "7x"),
        api={"timeframe": "7x"},
        cli=False,
    ),
    BadCase(
        "ticks_ask_below_bid",
        "ticks_ab.csv",
        [
            "time,bid,ask",
            "2014-05-01T00:00:00.292Z,1.38676,1.38686",
            "2014-05-01T00:00:00.920Z,1.38676,1.38670",
        ],
        ("line 3", "field 'ask'", "ask 1.3867 < bid 1.38676", "expected ask >= bid"),
        ticks=True,
    ),
    BadCase(
        "ticks_time_backwards",
        "ticks_back.csv",
        [
            "time,bid,ask",
            "2014-05-01T00:00:00.292Z,1.38676,1.38686",
            "2014-05-01T00:00:00.920Z,1.38676,1.38687",
            "2014-05-01T00:00:00.900Z,1.38676,1.38687",
        ],
        ("line 4", "field 'time'", "time goes backwards", "expected times in order"),
        ticks=True,
        cli=False,
    ),
    BadCase(
        "mt5_ticks_non_numeric",
        "mt5_ticks.csv",
        [
            MT5_TICKS_HEADER,
            "2014.05.01\t03:00:00.292\t1.38676\t1.38686\t\t\t6",
            "2014.05.01\t03:00:00.920\t\t1.3868x\t\t\t4",
        ],
        ("line 3", "field '<ASK>'", "'1.3868x' is not a number"),
        ticks=True,
        cli=False,
    ),
    BadCase(
        "bars_given_as_ticks",
        "bars_as_ticks.csv",
        GOOD_BIDASK,
        ("line 1", "not a tick file", "expected columns time, bid, ask"),
        cli_args=("--format", "ticks"),
        api={"fmt": "ticks"},
        cli=False,
    ),
]
