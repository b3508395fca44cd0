"""Reading a data file's text into a table: format sniffing, encodings, gzip, and field checks.

:func:`open_source` sniffs a file (Parquet, gzip, UTF-8 / UTF-16 LE or BE with or without
BOM, Latin-1; tab, ``;`` or ``,`` separated; decimal point or, where unambiguous, decimal
comma) and reads its header; :func:`read_table` reads the rows into a DataFrame with each
row's line number in the file. Problems of the file as a whole -- not a regular file, a
corrupt gzip, a row with too few or too many fields, a last row cut off -- are one-line
:class:`~simlab.errors.InputError` s here; the values are checked by :mod:`simlab.loaders`.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simlab.errors import InputError
from simlab.files import check_input_file
from simlab.validate import RowLabels

if TYPE_CHECKING:  # pandas is imported where a file is actually read: bad headers fail fast
    import pandas as pd

FORMATS = ("mt5-bars", "mt5-ticks", "csv", "parquet", "ticks")
_OHLC = ("open", "high", "low", "close")
_TIME_NAMES = ("time", "timestamp", "datetime", "date", "timeutc", "datetimeutc", "gmttime")
_KNOWN_FORMATS_TEXT = (
    "expected an MT5 export (header <DATE>\\t<TIME>\\t<OPEN>... or <DATE>\\t<TIME>\\t<BID>\\t<ASK>...), "
    "a CSV with a time column and bid/ask prices, or a Parquet file"
)
_SNIFF_BYTES = 1 << 16
# a number written with a decimal comma (1,38676) or a decimal point (1.38676); dates (2014.05.01) are neither
_COMMA_NUM = re.compile(r"^[+-]?\d+,\d+$")
_POINT_NUM = re.compile(r"^[+-]?\d*\.\d+(?:[eE][+-]?\d+)?$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what pandas' C parser ends a row at


@dataclass
class Source:
    """A sniffed data file: where it is, how its text is encoded and separated, its header and kind."""

    path: Path
    where: str
    container: str  # "text" | "parquet"
    compression: str | None = None
    encoding: str = "utf-8"
    sep: str = ","
    decimal: str = "."
    header: str = ""
    header_line: int = 1  # the header's line number in the file
    columns: list[str] = field(default_factory=list)
    kind: str = ""  # "mt5-bars" | "mt5-ticks" | "bars" | "ticks" | "" (parquet: decided later)
    payload: bytes | str = b""  # the text file's content (decompressed); str where decoded up front
    warnings: list[str] = field(default_factory=list)


def norm(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def clip(text: str, n: int = 80) -> str:
    text = text.replace("\t", "\\t")
    return text if len(text) <= n else text[: n - 3] + "..."


def one_line_exc(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {clip(text[0], 160) if text else ''}"


def _looks_binary(head: bytes) -> bool:
    if not head:
        return False
    ctrl = sum(1 for b in head[:4096] if b < 9 or 13 < b < 32)
    return ctrl > max(2, len(head[:4096]) // 100)


def _encoding(head: bytes, where: str) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"  # MT5 can write "Unicode" (UTF-16 LE with BOM) files; the BOM says the byte order
    if b"\x00" in head[:4096]:
        sample = head[:4096]
        odd, even = sample[1::2], sample[0::2]
        if odd and odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le"  # ASCII text as UTF-16 without a BOM: every second byte is 0
        if even and even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be"
        raise InputError(where, f"binary content, not a text data file; {_KNOWN_FORMATS_TEXT}")
    return "utf-8"


def _decompress(raw: bytes, where: str) -> bytes:
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(
            where,
            f"corrupt gzip file ({one_line_exc(exc)}): it does not decompress completely; "
            "expected a valid .gz (download or compress it again)",
        ) from None


def _sniff(path: Path, where: str) -> Source:
    check_input_file(path, where)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
            if magic == b"PAR1":
                return Source(path, where, "parquet")
            raw = magic + fh.read()
    except OSError as exc:
        raise InputError(where, f"cannot read: {exc.strerror or exc}") from None
    if not raw:
        raise InputError(where, f"file is empty (0 bytes); {_KNOWN_FORMATS_TEXT}")
    if raw[:2] == b"PK":
        raise InputError(where, "is a zip archive; unzip it first (.csv and .csv.gz files are read directly)")
    compression = None
    if raw[:2] == b"\x1f\x8b":
        compression = "gzip"
        raw = _decompress(raw, where)
    head = raw[:_SNIFF_BYTES]
    if not head:
        raise InputError(where, f"file is empty (no header, no data); {_KNOWN_FORMATS_TEXT}")
    encoding = _encoding(head, where)
    payload: bytes | str = raw
    if encoding.startswith("utf-16"):
        # a damaged code unit (a file cut at an odd byte, a stray byte) becomes U+FFFD, which no
        # number or time parses: the row checks then name the line it is on
        payload = raw.decode(encoding, errors="replace")
        text = payload[:_SNIFF_BYTES]
    else:
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            if _looks_binary(head):
                raise InputError(
                    where, f"binary content, not a text data file; {_KNOWN_FORMATS_TEXT}"
                ) from None
            encoding = "latin-1"
            text = head.decode(encoding)
        if encoding == "utf-8" and _looks_binary(head):
            raise InputError(where, f"binary content, not a text data file; {_KNOWN_FORMATS_TEXT}")
    text = text.lstrip("\ufeff")
    lines = _LINE_BREAK.split(text)
    if len(raw) > _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    k = next((i for i, line in enumerate(lines) if line.strip()), None)
    if k is None:
        raise InputError(where, f"file is empty (only blank lines); {_KNOWN_FORMATS_TEXT}")
    header = lines[k].strip()
    src = Source(
        path, where, "text", compression=compression, encoding=encoding, header=header, payload=payload
    )
    src.header_line = k + 1
    if header[:1] in "{[":
        raise InputError(where, f"line {k + 1}: looks like JSON, not a data file; {_KNOWN_FORMATS_TEXT}")
    if "\t" in header:
        src.sep = "\t"
    elif header.count(";") > header.count(","):
        src.sep = ";"
    else:
        src.sep = ","
    src.columns = [c.strip().strip('"').strip("'").strip() for c in header.split(src.sep)]
    src.kind = _kind_of_columns(src.columns)
    src.decimal = _decimal_mark(lines[k + 1 : k + 201], src.sep)
    return src


def _decimal_mark(sample: list[str], sep: str) -> str:
    """ "," where the sample rows write every decimal number with a comma (a European-locale export)
    and the separator is not a comma (so "1,08123" cannot be two fields); else "."."""
    if sep == ",":
        return "."
    comma = point = 0
    for line in sample:
        for cell in line.split(sep):
            c = cell.strip().strip('"')
            if _COMMA_NUM.match(c):
                comma += 1
            elif _POINT_NUM.match(c):
                point += 1
    return "," if comma and not point else "."


def _kind_of_columns(columns: list[str]) -> str:
    raw = [c.upper() for c in columns]
    norms = {norm(c) for c in columns}
    if raw and raw[0].startswith("<DATE>"):
        if "bid" in norms or "ask" in norms:
            return "mt5-ticks"
        return "mt5-bars"
    if not any(n in norms for n in _TIME_NAMES):
        return ""
    has_ohlc = any(
        n in norms for n in (*_OHLC, *(f"bid{c}" for c in _OHLC), *(f"ask{c}" for c in _OHLC))
    ) or any(n in norms for n in (f"{c}bid" for c in _OHLC))
    if has_ohlc:
        return "bars"
    if "bid" in norms or "ask" in norms:
        return "ticks"
    return "bars"  # a time column but no prices: the bar checks say what is missing


def detect_format(path: str | Path, fmt: str | None = None) -> str:
    """The format name of ``path`` (one of :data:`FORMATS`), checking a claimed ``fmt``.

    A Parquet file holding ticks is reported as ``"ticks"``.
    """
    src = open_source(Path(path), str(path), fmt)
    if src.container == "parquet":
        return "ticks" if src.kind == "ticks" else "parquet"
    return {"bars": "csv"}.get(src.kind, src.kind)


_FORMAT_KINDS = {
    "mt5-bars": ("mt5-bars",),
    "mt5-ticks": ("mt5-ticks",),
    "csv": ("bars",),
    "ticks": ("ticks",),
    "parquet": ("bars", "ticks"),
}


def open_source(path: Path, where: str, fmt: str | None) -> Source:
    if fmt is not None and fmt not in FORMATS:
        raise InputError(where, f"format {fmt!r} unknown; expected one of {', '.join(FORMATS)}")
    src = _sniff(path, where)
    if src.container == "parquet":
        if fmt is not None and fmt not in ("parquet", "ticks"):
            raise InputError(where, f"is a Parquet file, not {fmt}; use format 'parquet' (or leave it out)")
        try:
            import pyarrow.parquet as pq

            names = [str(n) for n in pq.read_schema(path).names]
        except Exception as exc:
            raise InputError(where, f"not a readable Parquet file ({one_line_exc(exc)})") from None
        src.columns = [n for n in names if not n.startswith("__index_level_")]
        src.kind = _kind_of_columns(src.columns)
        if fmt == "ticks" and src.kind != "ticks":
            raise InputError(
                where, f"schema: columns {', '.join(src.columns)} are not ticks; expected time, bid, ask"
            )
        if not src.kind:
            _missing_time(src)
        return src
    if fmt == "parquet":
        raise InputError(where, f"not a Parquet file (line 1 is {clip(src.header)!r}); expected format {fmt}")
    if fmt is not None and src.kind not in _FORMAT_KINDS[fmt]:
        raise InputError(where, _claimed_mismatch(src, fmt))
    if not src.kind:
        if src.header.startswith("<"):
            raise InputError(
                where,
                f"line {src.header_line}: header {clip(src.header)!r} is not an MT5 export header; "
                "expected <DATE>\\t<TIME>\\t<OPEN>\\t<HIGH>\\t<LOW>\\t<CLOSE>\\t<TICKVOL>\\t<VOL>\\t<SPREAD> "
                "or <DATE>\\t<TIME>\\t<BID>\\t<ASK>\\t<LAST>\\t<VOLUME>\\t<FLAGS>",
            )
        _missing_time(src)
    return src


def _claimed_mismatch(src: Source, fmt: str) -> str:
    line = f"line {src.header_line}"
    found = clip(src.header)
    if fmt == "mt5-bars":
        return (
            f"{line}: header {found!r} is not MT5 'Export bars'; expected "
            "<DATE>\\t<TIME>\\t<OPEN>\\t<HIGH>\\t<LOW>\\t<CLOSE>\\t<TICKVOL>\\t<VOL>\\t<SPREAD>"
        )
    if fmt == "mt5-ticks":
        return (
            f"{line}: header {found!r} is not MT5 'Export ticks'; expected "
            "<DATE>\\t<TIME>\\t<BID>\\t<ASK>\\t<LAST>\\t<VOLUME>\\t<FLAGS>"
        )
    actual = {"mt5-bars": "mt5-bars", "mt5-ticks": "mt5-ticks", "bars": "csv", "ticks": "ticks"}.get(src.kind)
    hint = f" (it looks like {actual}; use that format or leave it out)" if actual else ""
    if fmt == "ticks":
        return f"{line}: header {found!r} is not a tick file{hint}; expected columns time, bid, ask"
    return (
        f"{line}: header {found!r} is not a generic bar CSV{hint}; expected columns time, "
        "bid_open..bid_close, ask_open..ask_close (or open, high, low, close, spread)"
    )


def _missing_time(src: Source) -> None:
    where_row = f"line {src.header_line}" if src.container == "text" else "schema"
    first = src.columns[0] if src.columns else ""
    if src.container == "text" and re.match(r"^\s*[\d.+-]", first):
        raise InputError(
            src.where,
            f"{where_row}: {clip(src.header)!r} is not a header (it starts with a value); "
            f"expected a header row naming the columns, like 'time,bid_open,...' or MT5's '<DATE>\\t<TIME>...'",
        )
    found = ", ".join(repr(c) for c in src.columns[:20]) or "nothing"
    raise InputError(
        src.where,
        f"{where_row}: no time column; expected one of time, timestamp, datetime, date "
        f"(or an MT5 export header); found {found}",
    )


# ====================================================================== reading tables


@dataclass
class Table:
    """A text or Parquet file's rows: ``df`` (raw columns) and ``labels`` (each row's line / row number)."""

    src: Source
    df: pd.DataFrame
    labels: RowLabels


def _field_count_error(src: Source, line: int, saw: int, expected: int, *, last: bool = False) -> InputError:
    what = ""
    fields = "field" if saw == 1 else "fields"
    if saw < expected:
        what = ", too few" + (
            " (the file ends without a newline: the last row looks cut off, e.g. an interrupted download)"
            if last
            else " (a field is missing)"
        )
    return InputError(
        src.where,
        f"line {line}: {saw} {fields}{what}; expected {expected} fields like the header (line {src.header_line})",
    )


def _line_texts(src: Source) -> list[str]:
    text = src.payload if isinstance(src.payload, str) else src.payload.decode(src.encoding, errors="replace")
    return _LINE_BREAK.split(text)


def _check_short_rows(src: Source, df: pd.DataFrame, lines: np.ndarray) -> None:
    """A row with fewer fields than the header is read with empty trailing cells: name it instead.

    Only rows whose last cell is empty are candidates (a missing middle field shifts the
    rest left, so the last cell is empty); their raw lines are counted.
    """
    if df.shape[1] < 2 or len(df) == 0:
        return
    cand = np.flatnonzero(df.iloc[:, -1].isna().to_numpy())
    if cand.size == 0:
        return
    texts = _line_texts(src)
    expected = len(src.columns)
    for i in cand[:1000]:
        n = int(lines[i])
        if n - 1 >= len(texts):
            continue
        text = texts[n - 1]
        if not text.strip():
            continue
        saw = len(text.split(src.sep))
        if saw < expected:
            last = n == len(texts)  # without a final newline the last row is the last piece
            raise _field_count_error(src, n, saw, expected, last=last)


def _ends_with_newline(src: Source) -> bool:
    tail = src.payload[-2:]
    if isinstance(tail, str):
        return tail.endswith(("\n", "\r"))
    return tail.endswith((b"\n", b"\r"))


def _check_last_row(src: Source) -> None:
    """Without a final newline the last row may be cut inside its last field (a spread of 15 written as 1):
    warn where that field is shorter than in every one of the rows before it."""
    if _ends_with_newline(src):
        return
    tail = src.payload[-8192:]
    text = tail if isinstance(tail, str) else tail.decode(src.encoding, errors="replace")
    rows = [r for r in _LINE_BREAK.split(text)[1:] if r.strip()]
    if len(rows) < 3:
        return
    last = rows[-1].split(src.sep)[-1].strip()
    before = [r.split(src.sep)[-1].strip() for r in rows[-51:-1]]
    if before and all(len(last) < len(b) for b in before):
        col = src.columns[-1] if src.columns else "last field"
        src.warnings.append(
            f"the file ends without a newline and the last row's {col} {last!r} is shorter than in the "
            f"{len(before)} rows before it: it may be cut off (check the file's last line)"
        )


def read_table(src: Source) -> Table:
    import pandas as pd

    where = src.where
    if src.container == "parquet":
        try:
            df = pd.read_parquet(src.path)
        except Exception as exc:
            raise InputError(where, f"not a readable Parquet file ({one_line_exc(exc)})") from None
        df = df.reset_index(drop=not isinstance(df.index, pd.DatetimeIndex))
        df.columns = [str(c) for c in df.columns]
        if len(df) == 0:
            raise InputError(where, "no data rows; expected at least one row")
        return Table(src, df, RowLabels.table(len(df)))
    kwargs: dict[str, object] = dict(
        sep=src.sep,
        header=0,
        skiprows=src.header_line - 1,
        skip_blank_lines=False,
        skipinitialspace=True,
        engine="c",
        low_memory=False,
        decimal=src.decimal,
    )
    try:
        if isinstance(src.payload, str):
            df = pd.read_csv(io.StringIO(src.payload), **kwargs)  # type: ignore[arg-type,call-overload]
        else:
            df = pd.read_csv(io.BytesIO(src.payload), encoding=src.encoding, **kwargs)  # type: ignore[arg-type,call-overload]
    except pd.errors.ParserError as exc:
        msg = str(exc)
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
        if m:
            line = int(m.group(2))  # the file's own line number (skipped leading lines included)
            raise _field_count_error(src, line, int(m.group(3)), int(m.group(1))) from None
        m = re.search(r"EOF inside string starting at row (\d+)", msg)
        if m:  # the row is 0-based over the whole file
            raise InputError(
                where,
                f'line {int(m.group(1)) + 1}: a quote (") opens a field that is never closed; '
                "expected fields without quotes, or each quote closed on its line",
            ) from None
        raise InputError(where, f"cannot read as CSV ({one_line_exc(exc)})") from None
    except pd.errors.EmptyDataError:
        raise InputError(where, f"file is empty; {_KNOWN_FORMATS_TEXT}") from None
    except (UnicodeDecodeError, EOFError, OSError, ValueError) as exc:
        raise InputError(where, f"cannot read ({one_line_exc(exc)})") from None
    df.columns = [str(c).strip() for c in df.columns]
    lines = np.arange(len(df), dtype=np.int64) + src.header_line + 1
    blank = df.isna().all(axis=1).to_numpy()
    _check_short_rows(src, df, lines)
    if blank.any():
        df = df.loc[~blank].reset_index(drop=True)
        lines = lines[~blank]
    if len(df) == 0:
        raise InputError(
            where, f"no data rows after the header (line {src.header_line}); expected at least one row"
        )
    _check_last_row(src)
    return Table(src, df, RowLabels.text(lines))


def find_column(columns: list[str], *names: str) -> str | None:
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(norm(c), c)
    for n in names:
        if n in by_norm:
            return by_norm[n]
    return None
