"""Load market data files into :class:`~simlab.bars.Bars` (or tick arrays), validated, times in UTC.

Formats (auto-detected from the file's first bytes and header when ``fmt`` is None):

``mt5-bars``
    MetaTrader 5 "Export bars": tab separated, header
    ``<DATE> <TIME> <OPEN> <HIGH> <LOW> <CLOSE> <TICKVOL> <VOL> <SPREAD>``, dates like
    ``2014.05.01``, times like ``03:00:00`` (daily exports: ``<DATE>`` alone, with or
    without a time in it), bid prices, spread in points of the symbol's spec (see
    :func:`ask_from_spread`). Decimal commas (``1,08123``, European locales) are read
    where the separator is not a comma.
``mt5-ticks``
    MetaTrader 5 "Export ticks": ``<DATE> <TIME> <BID> <ASK> <LAST> <VOLUME> <FLAGS>``,
    times with milliseconds. An empty bid or ask means "unchanged" (forward filled);
    rows before both are known, and rows with neither (last-price-only ticks), are dropped.
``csv`` (generic bars, ``.csv`` or ``.csv.gz``, any of ``,`` ``;`` tab as separator)
    a time column (``time``, ``timestamp``, ``datetime`` or ``date``, any case; or
    ``date`` + ``time``), then bid and ask OHLC (``bid_open .. ask_close``) or bid OHLC
    and a spread in points (``open, high, low, close, spread``); optional ``volume``
    (or ``tickvol``). Times: ISO 8601 with ``Z`` or an offset, or naive (then ``tz``
    applies), or epoch seconds/ms/us/ns.
``ticks``
    ``time, bid, ask`` (csv, .gz, or Parquet).
``parquet``
    the same columns as ``csv`` or ``ticks``, in a Parquet file.

Times in the file are converted to UTC with ``tz``: a named zone (``Europe/Helsinki``,
DST-aware), a fixed offset (``+02:00``, ``UTC+3``, ``-05:00``) or ``UTC``. Without
``tz`` naive times are taken as UTC and ``bars.meta["tz_assumed"]`` is True. Local
times repeated when DST ends are resolved from the order of the rows
(``ambiguous="infer"``); where the rows do not tell, or a local time does not exist
(skipped when DST starts), the error names the row.

Every problem raises :class:`~simlab.errors.InputError` with one line naming the file,
the row (``line N``: the file's own line number, header = line 1; ``row N``, 1-based,
for Parquet), the field and what was expected. The first bad row is reported.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simlab.bars import Bars
from simlab.calendar import NS_DAY, NS_HOUR, NS_MIN, NS_S, weekday
from simlab.errors import InputError
from simlab.files import sha256_of
from simlab.symbol_match import (
    PointChoice,
    SymbolChoice,
    check_plausible,
    choose_symbol,
    infer_digits,
    resolve_point,
)
from simlab.tables import (
    _KNOWN_FORMATS_TEXT,
    _OHLC,
    _TIME_NAMES,
    FORMATS,
    Source,
    Table,
    clip,
    detect_format,
    find_column,
    one_line_exc,
    open_source,
    read_table,
)
from simlab.timezones import TzSpec, parse_tz
from simlab.validate import (
    Problems,
    RowLabels,
    check_ask_ge_bid,
    check_non_negative,
    check_ohlc,
    check_prices,
    check_time_order,
    first_true,
    fmt_ns,
)

if TYPE_CHECKING:  # pandas is imported where a file is actually read: bad headers fail fast
    import pandas as pd

    from simlab.symbols import SymbolSpec

__all__ = [
    "FORMATS",
    "ask_from_spread",
    "Gap",
    "GapReport",
    "Ticks",
    "detect_format",
    "format_duration",
    "gap_report",
    "infer_bar_ns",
    "infer_digits",
    "load_bars",
    "load_ticks",
    "load_ticks_info",
    "parse_timeframe",
    "parse_tz",
    "resample_ticks",
]

_VOLUME_NAMES = ("tickvol", "tickvolume", "volume", "vol", "realvolume")
_MIN_NS = 0  # 1970-01-01
_MAX_NS = int(np.datetime64("2200-01-01", "ns").astype(np.int64))


# ====================================================================== times


class _Cells:
    """A column's values as written, fetched one at a time (for error messages)."""

    def __init__(self, series: pd.Series) -> None:
        self._series = series

    def __len__(self) -> int:
        return len(self._series)

    def __getitem__(self, i: int) -> object:
        v = self._series.iloc[int(i)]
        return None if v is None or (isinstance(v, float) and v != v) else v


@dataclass
class _Times:
    ns: np.ndarray  # int64, UTC after _localize; garbage where not valid
    valid: np.ndarray  # bool
    aware: bool  # the file said its offset (Z, +02:00, tz-aware Parquet)
    raw: Any  # the values as written (indexable: raw[i]), for messages; None where not kept
    field: str


_MT5_DT_RE = re.compile(r"^\d{4}\.\d{1,2}\.\d{1,2}(?:[ T](\d{1,2}:\d{2})(:\d{2})?(\.\d+)?)?$")
_AWARE_RE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


def _mt5_formats(sample: str) -> list[str]:
    m = _MT5_DT_RE.match(sample.strip())
    first = "%Y.%m.%d"
    if m and m.group(1):
        first += " %H:%M"
        if m.group(2):
            first += ":%S"
            if m.group(3):
                first += ".%f"
    others = ["%Y.%m.%d %H:%M:%S.%f", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y.%m.%d"]
    return [first] + [f for f in others if f != first]


def _parse_times(table: Table, problems: Problems) -> _Times:
    import pandas as pd

    df, src = table.df, table.src
    cols = list(df.columns)
    mt5 = src.kind.startswith("mt5")
    date_col = find_column(cols, "date")
    time_col = find_column(cols, "time")
    combine = False
    if mt5:
        main = date_col or cols[0]
        combine = time_col is not None
    else:
        main = find_column(cols, *_TIME_NAMES) or cols[0]
        if date_col is not None and time_col is not None and main in (date_col, time_col):
            present = df[time_col].dropna()
            s0 = str(present.iloc[0]) if len(present) else ""
            if re.match(r"^\d{1,2}:\d{2}", s0.strip()):
                main, combine = date_col, True
    series = df[main]
    field_name = main
    if combine:
        assert time_col is not None
        series = series.astype("str") + " " + df[time_col].astype("str")
        either_na = df[main].isna().to_numpy() | df[time_col].isna().to_numpy()
        series = series.mask(either_na)
        field_name = f"{main} {time_col}"
    n = len(series)
    raw: Any = None
    aware = False
    expected = "a time like 2014-05-01T03:00:00Z"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        dt = series
        aware = getattr(series.dtype, "tz", None) is not None
    elif pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        raw = series.to_numpy(dtype=object)
        finite = values[np.isfinite(values)]
        mag = float(np.median(np.abs(finite))) if finite.size else 0.0
        if mag < 1e8:
            i = first_true(np.isfinite(values))
            i = max(i, 0)
            problems.add(
                i,
                field_name,
                f"{raw[i]!r} is not a time; expected ISO 8601 like 2014-05-01T03:00:00Z or epoch seconds/ms",
            )
            return _Times(np.zeros(n, np.int64), np.zeros(n, bool), True, raw, field_name)
        unit_ns = 1 if mag >= 1e17 else 1_000 if mag >= 1e14 else 1_000_000 if mag >= 1e11 else NS_S
        with np.errstate(invalid="ignore"):
            ns_f = values * unit_ns
        valid = np.isfinite(ns_f) & (ns_f >= _MIN_NS) & (ns_f < _MAX_NS)
        ns = np.zeros(n, dtype=np.int64)
        if pd.api.types.is_integer_dtype(series.dtype):  # exact: float64 cannot hold ns since the epoch
            ns[valid] = series.to_numpy(dtype=np.int64)[valid] * unit_ns
        else:
            ns[valid] = np.rint(ns_f[valid]).astype(np.int64)
        _bad_times(problems, ~valid, raw, field_name, "epoch time between 1970 and 2200")
        return _Times(ns, valid, True, raw, field_name)
    else:
        strings = series.astype("str") if series.dtype != object else series
        raw = _Cells(strings)  # converting the whole column to objects costs ~0.2 s per 500k rows
        notna = series.notna()
        nonnull = strings[notna]
        sample = str(nonnull.iloc[0]).strip() if len(nonnull) else ""
        if _MT5_DT_RE.match(sample):
            formats = _mt5_formats(sample)
            expected = "a server time like 2014.05.01 03:00:00"
            dt = _no_offsets(pd.to_datetime(strings, format=formats[0], errors="coerce"))
            for f in formats[1:]:
                retry = dt.isna() & notna
                if not retry.any():
                    break
                dt = dt.where(~retry, _no_offsets(pd.to_datetime(strings[retry], format=f, errors="coerce")))
        else:
            aware = bool(_AWARE_RE.search(sample))
            expected = "an ISO 8601 time like 2014-05-01T03:00:00Z"
            if _mixed_offsets(nonnull, aware, raw, field_name, problems):
                return _Times(np.zeros(n, np.int64), np.zeros(n, bool), aware, raw, field_name)
            try:
                dt = pd.to_datetime(strings, format="ISO8601", errors="coerce", utc=aware)
            except (ValueError, TypeError):  # mixed offsets without utc=True
                aware = True
                dt = pd.to_datetime(strings, format="ISO8601", errors="coerce", utc=True)
    if getattr(dt.dtype, "tz", None) is not None:  # offsets in the file, whatever the first row said
        aware = True
        dt = dt.dt.tz_convert("UTC").dt.tz_localize(None)
    lo, hi = pd.Timestamp("1970-01-01"), pd.Timestamp("2200-01-01")
    in_range = ((dt >= lo) & (dt < hi)).to_numpy(dtype=bool, na_value=False)
    arr = dt.where(in_range).to_numpy(dtype="datetime64[ns]")
    valid = ~np.isnat(arr)
    ns = arr.view(np.int64).copy()
    bad = ~valid
    _bad_times(problems, bad, raw, field_name, expected, parsed=~dt.isna().to_numpy())
    return _Times(ns, valid, aware, raw, field_name)


def _mixed_offsets(
    nonnull: pd.Series, first_aware: bool, raw: Any, field_name: str, problems: Problems
) -> bool:
    """Times with and without a UTC offset in one column cannot be read one way (naive ones would
    silently be taken as UTC while ``--tz`` is ignored): report the first row unlike the first one."""
    has_offset = nonnull.str.strip().str.contains(_AWARE_RE.pattern, regex=True, na=False).to_numpy()
    differs = has_offset != first_aware
    if not differs.any():
        return False
    k = int(np.argmax(differs))
    i = int(nonnull.index[k])
    first = int(nonnull.index[0])
    value = str(raw[i]).strip()
    if first_aware:
        what = (
            f"{value!r} has no UTC offset but {problems.labels(first)}'s {str(raw[first]).strip()!r} has one"
        )
    else:
        what = (
            f"{value!r} has a UTC offset but {problems.labels(first)}'s {str(raw[first]).strip()!r} has none"
        )
    problems.add(
        i, field_name, f"{what}; expected every time with an offset (or Z), or none (then --tz applies)"
    )
    return True


def _no_offsets(dt: pd.Series) -> pd.Series:
    """MT5 times never carry an offset: a parse that found one found garbage (all NaT)."""
    import pandas as pd

    if getattr(dt.dtype, "tz", None) is not None:
        return pd.Series(pd.NaT, index=dt.index, dtype="datetime64[ns]")
    return dt


def _bad_times(
    problems: Problems,
    bad: np.ndarray,
    raw: Any,
    field_name: str,
    expected: str,
    parsed: np.ndarray | None = None,
) -> None:
    i = first_true(bad)
    if i < 0:
        return
    value = raw[i] if raw is not None else None
    if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() in ("", "nan"):
        problems.add(i, field_name, f"is empty; expected {expected}")
    elif parsed is not None and parsed[i]:
        problems.add(i, field_name, f"{value!r} is out of range; expected a time between 1970 and 2200")
    else:
        problems.add(i, field_name, f"cannot read {str(value)!r} as a time; expected {expected}")


def _localize(times: _Times, tz: TzSpec | None, problems: Problems, meta: dict[str, object]) -> None:
    """Convert ``times.ns`` from file-local (naive) time to UTC in place."""
    import pandas as pd

    if times.aware:
        meta["tz"] = meta["tz_source"] = "file offsets"
        meta["tz_assumed"] = False
        if tz is not None and not tz.is_utc:
            meta["tz_ignored"] = tz.text
        return
    if tz is None:
        meta["tz"] = "UTC (assumed)"
        meta["tz_source"] = "assumed"
        meta["tz_assumed"] = True
        return
    meta["tz"] = tz.text
    meta["tz_source"] = "--tz"
    meta["tz_assumed"] = False
    if tz.offset_ns is not None:
        times.ns[times.valid] -= tz.offset_ns
        return
    idx_valid = np.flatnonzero(times.valid)
    local = pd.DatetimeIndex(times.ns[idx_valid].view("datetime64[ns]"))
    try:
        utc = tz.localize(local, ambiguous="infer", nonexistent="raise")
    except Exception:
        _dst_problem(times, tz, local, idx_valid, problems)
        times.valid[:] = False
        return
    times.ns[idx_valid] = utc.tz_localize(None).to_numpy("datetime64[ns]").view(np.int64)


def _dst_problem(
    times: _Times, tz: TzSpec, local: pd.DatetimeIndex, idx_valid: np.ndarray, problems: Problems
) -> None:
    def shown(k: int) -> str:
        i = int(idx_valid[k])
        if times.raw is not None and times.raw[i] is not None:
            return repr(str(times.raw[i]))
        return str(local[k])

    nonexistent = tz.localize(local, ambiguous=np.ones(len(local), dtype=bool), nonexistent="NaT")
    k = first_true(np.asarray(nonexistent.isna()))
    if k >= 0:
        problems.add(
            int(idx_valid[k]),
            times.field,
            f"local time {shown(k)} does not exist in {tz.text} (clocks skip it when DST starts); "
            "expected the file's server time zone (is the tz right? a fixed offset like '+02:00'?)",
        )
        return
    ambiguous = tz.localize(local, ambiguous="NaT", nonexistent="shift_forward")
    k = first_true(np.asarray(ambiguous.isna()))
    k = max(k, 0)
    problems.add(
        int(idx_valid[k]),
        times.field,
        f"local time {shown(k)} occurs twice in {tz.text} (DST ends) and the order of the rows does not "
        "tell which; expected the repeated hour to appear twice in order, or a fixed-offset tz",
    )


# ====================================================================== numbers


def _float_column(df: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray | None]:
    import pandas as pd

    s = df[col]
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=np.float64, na_value=np.nan), None
    values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return values, s.to_numpy(dtype=object)


# ====================================================================== bars from a table


def _resolve_columns(src: Source, cols: list[str]) -> dict[str, object]:
    """Map roles (bid/ask OHLC, spread, volume) to the file's column names; raise on missing ones."""
    where = src.where
    row = f"line {src.header_line}" if src.container == "text" else "schema"
    found = ", ".join(repr(c) for c in cols)
    roles: dict[str, object] = {}
    if src.kind == "mt5-bars":
        need = {"open": "<OPEN>", "high": "<HIGH>", "low": "<LOW>", "close": "<CLOSE>", "spread": "<SPREAD>"}
        got = {k: find_column(cols, k) for k in need}
        missing = [v for k, v in need.items() if got[k] is None]
        if missing:
            raise InputError(
                where,
                f"{row}: missing column(s) {', '.join(missing)}; expected MT5 'Export bars' columns "
                f"<DATE> <TIME> <OPEN> <HIGH> <LOW> <CLOSE> <TICKVOL> <VOL> <SPREAD>; found {found}",
            )
        roles["bid"] = tuple(got[c] for c in _OHLC)
        roles["spread"] = got["spread"]
        roles["volume"] = find_column(cols, "tickvol", "vol")
        return roles
    bid = [find_column(cols, f"bid{c}", f"{c}bid", f"bid{c[0]}") for c in _OHLC]
    ask = [find_column(cols, f"ask{c}", f"{c}ask", f"ask{c[0]}") for c in _OHLC]
    plain = [find_column(cols, c) for c in _OHLC]
    spread = find_column(cols, "spread", "spreadpoints", "spreadpts")
    roles["volume"] = find_column(cols, *_VOLUME_NAMES)
    if any(bid) or any(ask):
        if all(bid) and all(ask):
            roles["bid"], roles["ask"] = tuple(bid), tuple(ask)
            return roles
        if all(bid) and spread:
            roles["bid"], roles["spread"] = tuple(bid), spread
            return roles
        missing = [f"bid_{c}" for c, x in zip(_OHLC, bid) if x is None]
        missing += [f"ask_{c}" for c, x in zip(_OHLC, ask) if x is None]
        raise InputError(
            where,
            f"{row}: missing column(s) {', '.join(missing)}; expected time, bid_open, bid_high, bid_low, "
            f"bid_close, ask_open, ask_high, ask_low, ask_close (or open, high, low, close, spread); found {found}",
        )
    if any(plain):
        missing = [c for c, x in zip(_OHLC, plain) if x is None]
        if spread is None:
            missing.append("spread")
        if missing:
            raise InputError(
                where,
                f"{row}: missing column(s) {', '.join(missing)}; expected time, open, high, low, close, "
                f"spread (bid prices, spread in points), or bid_open..ask_close; found {found}",
            )
        roles["bid"], roles["spread"] = tuple(plain), spread
        return roles
    raise InputError(
        where,
        f"{row}: no price columns; expected time, bid_open, bid_high, bid_low, bid_close, ask_open, "
        f"ask_high, ask_low, ask_close (or open, high, low, close, spread; or time, bid, ask for ticks); "
        f"found {found}",
    )


def _bars_from_table(
    table: Table, tz: TzSpec | None, point: float | None, choice: SymbolChoice, fmt_name: str
) -> Bars:
    src, df = table.src, table.df
    where = src.where
    roles = _resolve_columns(src, list(df.columns))
    problems = Problems(where, table.labels)
    meta: dict[str, object] = {"format": fmt_name}
    times = _parse_times(table, problems)
    bid_cols: tuple[str, str, str, str] = roles["bid"]  # type: ignore[assignment]
    n = len(df)
    bid = np.empty((n, 4), dtype=np.float64)
    for j, c in enumerate(bid_cols):
        values, raw = _float_column(df, c)
        check_prices(problems, values, c, raw)
        bid[:, j] = values
    ask_cols = roles.get("ask")
    spread_col = roles.get("spread")
    ask = np.empty((n, 4), dtype=np.float64)
    if ask_cols is not None:
        for j, c in enumerate(ask_cols):  # type: ignore[arg-type]
            values, raw = _float_column(df, c)
            check_prices(problems, values, c, raw)
            ask[:, j] = values
        meta["ask_from_spread"] = False
    else:
        assert isinstance(spread_col, str)
        spread, raw = _float_column(df, spread_col)
        check_non_negative(problems, spread, spread_col, "a spread in points >= 0")
    check_ohlc(problems, bid, bid_cols)
    ask_names: tuple[str, str, str, str] = ask_cols if ask_cols is not None else bid_cols  # type: ignore[assignment]
    if ask_cols is not None:
        check_ohlc(problems, ask, ask_names)
        for j in range(4):
            check_ask_ge_bid(problems, bid[:, j], ask[:, j], ask_names[j], bid_cols[j])
    vol_col = roles.get("volume")
    if isinstance(vol_col, str):
        volume, _ = _float_column(df, vol_col)
        check_non_negative(problems, volume, vol_col, "a volume >= 0")
    else:
        volume = np.zeros(n, dtype=np.float64)
    _localize(times, tz, problems, meta)
    naive_unzoned = tz is None and not times.aware
    check_time_order(
        problems, times.ns, times.valid, times.field, strict=True, raw=times.raw, dst_hint=naive_unzoned
    )
    problems.raise_first()  # every value is valid from here on: the point and symbol checks see real prices
    check_plausible(bid, choice, where, table.labels, (bid_cols[2], bid_cols[1]))
    pc = resolve_point(
        bid, choice, where, point=point, strict=spread_col is not None and ask_cols is None, labels=table.labels,
        fields=bid_cols,
    )  # fmt: skip
    if ask_cols is None:
        ask[:] = ask_from_spread(times.ns, bid, spread, pc.point, max(pc.file_digits or 0, pc.digits))
        meta["ask_from_spread"] = True
    _point_meta(meta, pc)
    meta["rows"] = n
    return Bars(
        time=times.ns, bid=bid, ask=ask, volume=volume, symbol=choice.name, source=str(src.path), meta=meta
    )


def ask_from_spread(
    time_ns: np.ndarray,
    bid: np.ndarray,
    spread: np.ndarray,
    point: float,
    digits: int,
    *,
    bar_ns: int | None = None,
    prev: tuple[int, float] | None = None,
) -> np.ndarray:
    """Ask OHLC from bid OHLC and a spread column in points (an MT5 export's ``<SPREAD>``, or the
    ``spread`` field of the rates ``copy_rates_*`` returns): the one rule the loaders and the live runner share.

    The spread a file gives is the one at the bar's *close*: high, low and close get
    ``bid + spread * point``. The open of a bar comes right after the previous bar's close,
    so where the bars are contiguous (one bar size apart) the open gets the previous bar's
    spread: on hourly EURUSD the open is where fills happen, and the spread at 21:00 UTC
    (rollover) is the 20:00 bar's close spread, not the 21:00 bar's, which is normal again.
    After a gap (a weekend, missing bars) the open gets the wider of the previous bar's and
    its own: the first quotes of a week are wide. High and low widen to hold the open.
    Rounded to ``digits``.

    ``bar_ns``: the bar size (default: the most common step of ``time_ns``). ``prev``: the
    ``(time_ns, spread)`` of the bar just before the first row, for rows that continue a series
    (the live runner's new bars after its window); without it the first row's open takes its
    own spread, as the first bar of a file does.

    >>> t = np.array([0, 60, 180]) * 1_000_000_000  # 1-minute bars, a gap before the third
    >>> bid = np.full((3, 4), 1.0)
    >>> ask_from_spread(t, bid, np.array([10.0, 20.0, 15.0]), 0.00001, 5)[:, [0, 3]].tolist()
    [[1.0001, 1.0001], [1.0001, 1.0002], [1.0002, 1.00015]]
    >>> ask_from_spread(t[2:], bid[2:], np.array([15.0]), 0.00001, 5, bar_ns=60_000_000_000,
    ...                 prev=(60_000_000_000, 20.0))[:, [0, 3]].tolist()  # the third row alone, as above
    [[1.0002, 1.00015]]
    """
    t = np.asarray(time_ns, dtype=np.int64)
    spread = np.asarray(spread, dtype=np.float64)
    step = infer_bar_ns(t) if bar_ns is None else int(bar_ns)
    if prev is not None:  # the row before the first: it decides the first row's open like any other
        t = np.concatenate([np.array([prev[0]], dtype=np.int64), t])
        spread = np.concatenate([np.array([prev[1]], dtype=np.float64), spread])
    at_open = spread.copy()
    if t.shape[0] > 1 and step > 0:
        contiguous = np.diff(t) == step
        before = spread[:-1]
        at_open[1:] = np.where(contiguous, before, np.maximum(before, spread[1:]))
    if prev is not None:
        spread, at_open = spread[1:], at_open[1:]
    ask = np.round(bid + spread[:, None] * point, digits)
    ask[:, 0] = np.round(bid[:, 0] + at_open * point, digits)
    ask[:, 1] = np.maximum(ask[:, 1], ask[:, 0])
    ask[:, 2] = np.minimum(ask[:, 2], ask[:, 0])
    return ask


def _point_meta(meta: dict[str, object], pc: PointChoice) -> None:
    meta["point"] = pc.point
    meta["point_source"] = pc.source
    meta["digits"] = pc.digits
    meta["file_digits"] = pc.file_digits


# ====================================================================== ticks


@dataclass(frozen=True)
class Ticks:
    """Quote ticks: UTC int64 ns times (non-decreasing), bid and ask float64, and what was read."""

    time: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    source: str = ""
    meta: dict[str, object] = field(default_factory=dict, compare=False)

    def __len__(self) -> int:
        return int(self.time.shape[0])


def _ticks_from_table(table: Table, tz: TzSpec | None, fmt_name: str) -> Ticks:
    src, df = table.src, table.df
    where = src.where
    bid_col, ask_col = _tick_columns(src, list(df.columns))
    mt5 = src.kind == "mt5-ticks"
    problems = Problems(where, table.labels)
    meta: dict[str, object] = {"format": fmt_name}
    times = _parse_times(table, problems)
    bid, bid_raw = _float_column(df, bid_col)
    ask, ask_raw = _float_column(df, ask_col)
    keep = np.ones(len(df), dtype=bool)
    if mt5:
        # empty = unchanged; a value that is there but not a number is still an error
        bid_empty = np.isnan(bid) & (_empty(bid_raw) if bid_raw is not None else True)
        ask_empty = np.isnan(ask) & (_empty(ask_raw) if ask_raw is not None else True)
        bid = _ffill(np.where(bid_empty, np.nan, bid), bid_empty)
        ask = _ffill(np.where(ask_empty, np.nan, ask), ask_empty)
        known = ~(np.isnan(bid) & bid_empty) & ~(np.isnan(ask) & ask_empty)
        keep = known & ~(bid_empty & ask_empty)
    check_prices(problems, np.where(keep, bid, 1.0), bid_col, bid_raw)
    check_prices(problems, np.where(keep, ask, 1.0), ask_col, ask_raw)
    check_ask_ge_bid(problems, np.where(keep, bid, 0.0), np.where(keep, ask, 1.0), ask_col, bid_col)
    _localize(times, tz, problems, meta)
    check_time_order(
        problems,
        times.ns,
        times.valid & keep,
        times.field,
        strict=False,
        raw=times.raw,
        dst_hint=tz is None and not times.aware,
    )
    problems.raise_first()
    t = times.ns[keep]
    meta["rows"] = len(df)
    meta["n_ticks"] = int(t.shape[0])
    meta["dropped_rows"] = int(len(df) - t.shape[0])
    return Ticks(time=t, bid=bid[keep], ask=ask[keep], source=str(src.path), meta=meta)


def _tick_columns(src: Source, cols: list[str]) -> tuple[str, str]:
    bid_col, ask_col = find_column(cols, "bid"), find_column(cols, "ask")
    if bid_col is None or ask_col is None:
        row = f"line {src.header_line}" if src.container == "text" else "schema"
        missing = [n for n, c in (("bid", bid_col), ("ask", ask_col)) if c is None]
        raise InputError(
            src.where,
            f"{row}: missing column(s) {', '.join(missing)}; expected time, bid, ask "
            f"(MT5: <DATE> <TIME> <BID> <ASK> ...); found {', '.join(repr(c) for c in cols)}",
        )
    return bid_col, ask_col


def _empty(raw: np.ndarray) -> np.ndarray:
    return np.fromiter(
        (v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "" for v in raw),
        dtype=bool,
        count=len(raw),
    )


def _ffill(values: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Forward-fill ``values`` where ``fill`` is True (leading ones stay NaN)."""
    if not fill.any():
        return values
    idx = np.where(fill, 0, np.arange(values.shape[0]))
    np.maximum.accumulate(idx, out=idx)
    out = values[idx]
    lead = fill & (np.cumsum(~fill) == 0)
    out[lead] = np.nan
    return out


# ====================================================================== timeframes and resampling

_TF_UNITS = {
    "s": NS_S,
    "sec": NS_S,
    "secs": NS_S,
    "second": NS_S,
    "seconds": NS_S,
    "m": NS_MIN,
    "t": NS_MIN,
    "min": NS_MIN,
    "mins": NS_MIN,
    "minute": NS_MIN,
    "minutes": NS_MIN,
    "h": NS_HOUR,
    "hr": NS_HOUR,
    "hour": NS_HOUR,
    "hours": NS_HOUR,
    "d": NS_DAY,
    "day": NS_DAY,
    "days": NS_DAY,
}
_MT5_TF = {"S": NS_S, "M": NS_MIN, "H": NS_HOUR, "D": NS_DAY}


def parse_timeframe(timeframe: str | int, where: str = "timeframe") -> int:
    """A bar size in nanoseconds from ``1min``, ``5min``, ``1h``, ``30s``, ``1d`` or MT5's ``M1``, ``H1``, ``D1``.

    >>> parse_timeframe("5min") // 60_000_000_000, parse_timeframe("H4") // 3_600_000_000_000
    (5, 4)
    """
    if isinstance(timeframe, int | np.integer) and not isinstance(timeframe, bool) and timeframe > 0:
        return int(timeframe) * NS_S
    text = str(timeframe).strip()
    m = re.fullmatch(r"([SMHDsmhd])(\d+)", text)
    if m and int(m.group(2)) > 0:
        return int(m.group(2)) * _MT5_TF[m.group(1).upper()]
    m = re.fullmatch(r"(\d+)\s*([A-Za-z]+)", text)
    if m and int(m.group(1)) > 0 and m.group(2).lower() in _TF_UNITS:
        return int(m.group(1)) * _TF_UNITS[m.group(2).lower()]
    raise InputError(
        where,
        f"timeframe {text!r}: not a bar size; expected e.g. 1min, 5min, 15min, 1h, 4h, 1d or M1, H1, D1",
    )


def format_duration(ns: int) -> str:
    """``60_000_000_000`` -> ``'1min'``; ``90_000_000_000`` -> ``'1min30s'``."""
    ns = int(ns)
    if ns <= 0:
        return "?"
    if ns % NS_S:
        return f"{ns / 1e6:g}ms"
    s = ns // NS_S
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if s >= size:
            parts.append(f"{s // size}{unit}")
            s %= size
    return "".join(parts)


def infer_bar_ns(time_ns: np.ndarray) -> int:
    """The most common step between consecutive times (0 where fewer than 2 rows)."""
    t = np.asarray(time_ns, dtype=np.int64)
    if t.shape[0] < 2:
        return 0
    d = np.diff(t)
    d = d[d > 0]
    if d.size == 0:
        return 0
    vals, counts = np.unique(d, return_counts=True)
    return int(vals[int(np.argmax(counts))])


def _group_starts(time_ns: np.ndarray, tf_ns: int) -> tuple[np.ndarray, np.ndarray]:
    bucket = (time_ns // tf_ns) * tf_ns
    n = bucket.shape[0]
    if n == 0:
        return np.empty(0, np.int64), bucket
    starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
    return starts, bucket


def resample_ticks(
    time_ns: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    timeframe: str | int = "1min",
    symbol: str = "EURUSD",
) -> Bars:
    """Bars of ``timeframe`` from ticks: bid OHLC from bid ticks, ask OHLC from ask ticks.

    Bar times are bucket starts (multiples of the bar size since the epoch, UTC); bars
    with no ticks are omitted; ``volume`` is the number of ticks.

    >>> t = np.array([0, 30, 61, 65]) * 1_000_000_000
    >>> b = resample_ticks(t, np.array([1.0, 1.2, 1.1, 0.9]), np.array([1.1, 1.3, 1.2, 1.0]))
    >>> b.time.tolist(), b.bid.tolist()[0], b.volume.tolist()
    ([0, 60000000000], [1.0, 1.2, 1.0, 1.2], [2.0, 2.0])
    """
    return _resample_ticks_ns(time_ns, bid, ask, parse_timeframe(timeframe, "resample_ticks"), symbol)


def _resample_ticks_ns(
    time_ns: np.ndarray, bid: np.ndarray, ask: np.ndarray, tf_ns: int, symbol: str
) -> Bars:
    where = "resample_ticks"
    t = np.asarray(time_ns, dtype=np.int64)
    b = np.asarray(bid, dtype=np.float64)
    a = np.asarray(ask, dtype=np.float64)
    if not (t.ndim == b.ndim == a.ndim == 1 and t.shape == b.shape == a.shape):
        raise InputError(
            where, f"time {t.shape}, bid {b.shape}, ask {a.shape}; expected three 1-d arrays of one length"
        )
    problems = Problems(where, RowLabels.array())
    check_time_order(problems, t, np.ones(t.shape[0], dtype=bool), "time", strict=False)
    check_prices(problems, b, "bid")
    check_prices(problems, a, "ask")
    check_ask_ge_bid(problems, b, a, "ask", "bid")
    problems.raise_first()
    starts, bucket = _group_starts(t, tf_ns)
    n = t.shape[0]
    ends = np.concatenate((starts[1:], [n])) - 1 if n else starts

    def ohlc(x: np.ndarray) -> np.ndarray:
        out = np.empty((starts.shape[0], 4), dtype=np.float64)
        if n:
            out[:, 0] = x[starts]
            out[:, 1] = np.maximum.reduceat(x, starts)
            out[:, 2] = np.minimum.reduceat(x, starts)
            out[:, 3] = x[ends]
        return out

    counts = np.diff(np.concatenate((starts, [n]))).astype(np.float64) if n else np.zeros(0)
    meta = {"timeframe": format_duration(tf_ns), "bar_ns": tf_ns, "resampled_from_ticks": True, "n_ticks": n}
    return Bars(
        time=bucket[starts].copy(),
        bid=ohlc(b),
        ask=ohlc(a),
        volume=counts,
        symbol=symbol,
        meta=meta,
    )


def _resample_bars(bars: Bars, tf_ns: int) -> Bars:
    t = bars.time
    starts, bucket = _group_starts(t, tf_ns)
    n = t.shape[0]
    ends = np.concatenate((starts[1:], [n])) - 1

    def ohlc(x: np.ndarray) -> np.ndarray:
        out = np.empty((starts.shape[0], 4), dtype=np.float64)
        out[:, 0] = x[starts, 0]
        out[:, 1] = np.maximum.reduceat(x[:, 1], starts)
        out[:, 2] = np.minimum.reduceat(x[:, 2], starts)
        out[:, 3] = x[ends, 3]
        return out

    meta = dict(bars.meta)
    meta["resampled_from"] = meta.get("timeframe")
    meta["timeframe"] = format_duration(tf_ns)
    meta["bar_ns"] = tf_ns
    return Bars(
        time=bucket[starts].copy(),
        bid=ohlc(bars.bid),
        ask=ohlc(bars.ask),
        volume=np.add.reduceat(bars.volume, starts) if n else bars.volume.copy(),
        symbol=bars.symbol,
        source=bars.source,
        meta=meta,
    )


# ====================================================================== public loaders


@contextlib.contextmanager
def _reading(where: str) -> Iterator[None]:
    """Errors of the parsing libraries on odd input become one-line InputErrors too (chained, for debugging)."""
    try:
        yield
    except InputError:
        raise
    except (ValueError, TypeError, OverflowError, KeyError, IndexError, OSError, EOFError) as exc:
        raise InputError(
            where, f"cannot read this file ({one_line_exc(exc)}); {_KNOWN_FORMATS_TEXT}"
        ) from exc


def _tz_or_none(tz: str | None, where: str) -> TzSpec | None:
    if tz is None or str(tz).strip() == "":
        return None
    return parse_tz(tz, where)


# The warning `inspect`, `backtest` and `challenge` print (stderr) when an MT5 export is read without --tz.
TZ_WARNING = (
    "no --tz given: the MT5 export's times (broker server time) are read as UTC; pass the server's zone, "
    "e.g. --tz America/New_York+7 (New York + 7 h) or --tz Europe/Helsinki"
)


def _file_meta(meta: dict[str, object], src: Source, path: Path) -> None:
    """What every loader records about the file itself: its hash, the decimal mark, warnings."""
    meta["sha256"] = sha256_of(path)
    if src.decimal != ".":
        meta["decimal"] = src.decimal
    warnings = list(src.warnings)
    if src.kind.startswith("mt5") and meta.get("tz_source") == "assumed":
        warnings.insert(0, TZ_WARNING)
    meta["warnings"] = warnings


def load_ticks_info(
    path: str | Path,
    *,
    fmt: str | None = None,
    tz: str | None = None,
    symbol: str | None = None,
    symbol_file: str | Path | None = None,
    spec: SymbolSpec | None = None,
) -> Ticks:
    """Like :func:`load_ticks`, returning a :class:`Ticks` with ``meta`` (format, tz, rows read, sha256).

    With ``symbol`` or ``spec`` (and only then) the bid prices must be plausible for the spec
    (see :func:`simlab.symbol_match.check_plausible`).
    """
    with _reading(str(path)):
        p = Path(path)
        where = str(path)
        tzs = _tz_or_none(tz, where)
        src = open_source(p, where, fmt)
        if src.kind in ("mt5-bars", "bars"):
            raise InputError(
                where,
                f"{'line ' + str(src.header_line) if src.container == 'text' else 'schema'}: "
                f"columns {clip(', '.join(src.columns))} are bars, not ticks; expected time, bid, ask "
                "(or MT5 <DATE> <TIME> <BID> <ASK> ...); load it with load_bars",
            )
        _tick_columns(src, src.columns)
        table = read_table(src)
        name = src.kind if src.container == "text" else "parquet"
        ticks = _ticks_from_table(table, tzs, name)
        if symbol is not None or spec is not None:
            check_plausible(ticks.bid, choose_symbol(symbol, p, symbol_file, spec=spec), where)
        _file_meta(ticks.meta, src, p)
        return ticks


def load_ticks(
    path: str | Path, *, fmt: str | None = None, tz: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quote ticks from an MT5 "Export ticks" file, a ``time, bid, ask`` CSV (.gz) or Parquet.

    Returns ``(time_ns, bid, ask)``: int64 UTC nanoseconds (non-decreasing; equal
    times are allowed), float64, float64.
    """
    ticks = load_ticks_info(path, fmt=fmt, tz=tz)
    return ticks.time, ticks.bid, ticks.ask


def load_bars(
    path: str | Path,
    *,
    fmt: str | None = None,
    tz: str | None = None,
    symbol: str | None = None,
    timeframe: str | None = None,
    point: float | None = None,
    symbol_file: str | Path | None = None,
    spec: SymbolSpec | None = None,
) -> Bars:
    """Bars from an MT5 export, a generic CSV/Parquet, or a tick file (resampled to ``timeframe``).

    ``timeframe`` on a bar file resamples it to a multiple of its bar size (M1 -> H1);
    on a tick file it is the bar size (default ``1min``).

    The symbol (:func:`simlab.symbol_match.choose_symbol`): ``spec``, else ``symbol``
    (looked up in ``symbol_file``, then the presets), else the symbol an MT5 export's
    file name starts with (``XAUUSD_H1_...``), else EURUSD. Its spec decides the point:
    a file with a spread column (``<SPREAD>``, in points of the exporting symbol) gets
    its ask from :func:`ask_from_spread`, and its prices must fit the spec's digits; ``point``
    overrides the spec's point; without a spec the point comes from the prices'
    decimals. Prices outside the spec's ``price_range`` are refused.

    ``bars.meta`` says what was read and decided (the result writers record it):

    ``format``      mt5-bars, mt5-ticks, csv, parquet or ticks
    ``tz``          the zone string used (``--tz``), ``"UTC (assumed)"`` or ``"file offsets"``
    ``tz_source``   ``"--tz"``, ``"assumed"`` (no tz, naive times read as UTC) or ``"file offsets"``
    ``tz_assumed``  True where ``tz_source`` is ``"assumed"``
    ``tz_ignored``  a tz given for a file that states its own offsets (only then)
    ``symbol``      the symbol's name (as asked or as in the file name: ``GER40.cash``)
    ``symbol_source`` ``"--symbol"``, ``"file name"`` or ``"default"``
    ``point``       the price of one point used (spread columns are scaled by it)
    ``point_source`` ``"spec"``, ``"--point"`` or ``"file digits"`` (no spec known)
    ``digits``      the decimals of ``point``; ``file_digits``: the most decimals in the prices
    ``ask_from_spread`` the ask was built from a spread column
    ``decimal``     ``","`` where the file writes decimal commas (only then)
    ``sha256``      SHA-256 of the data file's bytes
    ``warnings``    one-line warnings for the user (no --tz on an MT5 export; a last row
                    that may be cut off), printed by the commands on stderr
    ``timeframe``, ``bar_ns``, ``rows``
    """
    with _reading(str(path)):
        return _load_bars(
            path,
            fmt=fmt,
            tz=tz,
            choice=choose_symbol(symbol, path, symbol_file, spec=spec),
            timeframe=timeframe,
            point=point,
        )


def _load_bars(
    path: str | Path,
    *,
    fmt: str | None,
    tz: str | None,
    choice: SymbolChoice,
    timeframe: str | None,
    point: float | None,
) -> Bars:
    p = Path(path)
    where = str(path)
    tzs = _tz_or_none(tz, where)
    tf_ns = parse_timeframe(timeframe, where) if timeframe is not None else None
    src = open_source(p, where, fmt)
    if src.kind in ("mt5-ticks", "ticks"):
        _tick_columns(src, src.columns)
        table = read_table(src)
        name = src.kind if src.container == "text" else "parquet"
        ticks = _ticks_from_table(table, tzs, name)
        check_plausible(ticks.bid, choice, where)
        pc = resolve_point(np.concatenate((ticks.bid, ticks.ask)), choice, where, point=point, strict=False)
        bars = _resample_ticks_ns(ticks.time, ticks.bid, ticks.ask, tf_ns or NS_MIN, choice.name)
        meta = dict(ticks.meta)
        meta.update(bars.meta)
        _point_meta(meta, pc)
        bars = Bars(
            time=bars.time,
            bid=bars.bid,
            ask=bars.ask,
            volume=bars.volume,
            symbol=choice.name,
            source=str(p),
            meta=meta,
        )
    else:
        _resolve_columns(src, src.columns)  # a bad header fails before the data are read
        table = read_table(src)
        name = {"mt5-bars": "mt5-bars", "bars": "csv"}[src.kind] if src.container == "text" else "parquet"
        bars = _bars_from_table(table, tzs, point, choice, name)
        bar_ns = infer_bar_ns(bars.time)
        bars.meta["bar_ns"] = bar_ns
        bars.meta["timeframe"] = format_duration(bar_ns) if bar_ns else "?"
        if tf_ns is not None and tf_ns != bar_ns:
            if bar_ns and (tf_ns < bar_ns or tf_ns % bar_ns):
                raise InputError(
                    where,
                    f"timeframe {timeframe!r}: cannot make {format_duration(tf_ns)} bars from "
                    f"{format_duration(bar_ns)} bars; expected a multiple of {format_duration(bar_ns)}",
                )
            bars = _resample_bars(bars, tf_ns)
    bars.meta["symbol"] = choice.name
    bars.meta["symbol_source"] = choice.source
    _file_meta(bars.meta, src, p)
    return bars


# ====================================================================== gaps

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _show_time(ns: int) -> str:
    d = _dt.datetime.fromtimestamp(ns / 1e9, tz=_dt.UTC)
    return f"{_WEEKDAYS[d.weekday()]} {d:%Y-%m-%d %H:%M}"


def _show_span(ns: int) -> str:
    days, rem = divmod(int(ns), NS_DAY)
    hours, rem = divmod(rem, NS_HOUR)
    minutes = rem // NS_MIN
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}min"
    return f"{minutes}min"


@dataclass(frozen=True)
class Gap:
    """A stretch without bars: from the bar opening at ``last_ns`` to the one opening at ``next_ns``."""

    last_ns: int
    next_ns: int
    bar_ns: int
    kind: str  # "weekend" | "holiday" | "hole"

    @property
    def missing_ns(self) -> int:
        """Time with no bar: from the end of the last bar to the next open."""
        return self.next_ns - self.last_ns - self.bar_ns

    def __str__(self) -> str:
        return (
            f"{_show_time(self.last_ns)} -> {_show_time(self.next_ns)} UTC "
            f"({_show_span(self.missing_ns)} without bars)"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "last_bar_utc": fmt_ns(self.last_ns),
            "next_bar_utc": fmt_ns(self.next_ns),
            "missing_hours": round(self.missing_ns / NS_HOUR, 3),
            "kind": self.kind,
        }


@dataclass(frozen=True)
class GapReport:
    """Gaps between bars: weekends (normal) counted, holidays noted, abnormal holes listed.

    A *weekend* gap starts Friday 12:00 UTC or later and ends by Monday 12:00 UTC.
    A *holiday* is a weekend stretched by up to about a day on either side (Good
    Friday, Christmas on a Friday), or a mid-week gap of up to 2 days over Christmas or
    New Year. A *hole* is any other gap of at least ``threshold_ns`` without bars
    (default: 3 bars, at least 1 hour): a mid-week hole of 3 days is always one.
    """

    source: str
    n_bars: int
    bar_ns: int
    start_ns: int
    end_ns: int
    threshold_ns: int
    n_weekends: int
    n_short_gaps: int  # more than one bar missing but less than the threshold
    holidays: tuple[Gap, ...]
    holes: tuple[Gap, ...]

    @property
    def ok(self) -> bool:
        return not self.holes

    def to_dict(self) -> dict[str, object]:
        return {
            "bars": self.n_bars,
            "bar_size": format_duration(self.bar_ns),
            "start_utc": fmt_ns(self.start_ns) if self.n_bars else None,
            "end_utc": fmt_ns(self.end_ns) if self.n_bars else None,
            "hole_threshold": format_duration(self.threshold_ns),
            "weekends": self.n_weekends,
            "short_gaps": self.n_short_gaps,
            "holidays": [g.to_dict() for g in self.holidays],
            "holes": [g.to_dict() for g in self.holes],
        }

    def __str__(self) -> str:
        if self.n_bars == 0:
            return "no bars"
        lines = [
            f"{self.n_bars:,} bars of {format_duration(self.bar_ns)}, "
            f"{_show_time(self.start_ns)} .. {_show_time(self.end_ns)} UTC",
            f"weekend gaps: {self.n_weekends} (normal)",
            f"short gaps (under {format_duration(self.threshold_ns)} missing): {self.n_short_gaps}",
            f"holidays / long weekends: {len(self.holidays)}",
        ]
        for g in self.holidays[:10]:
            lines.append(f"  {g}")
        if len(self.holidays) > 10:
            lines.append(f"  ... and {len(self.holidays) - 10} more")
        if self.holes:
            lines.append(f"ABNORMAL HOLES: {len(self.holes)} (data missing outside weekends and holidays)")
            for g in self.holes[:20]:
                lines.append(f"  {g}")
            if len(self.holes) > 20:
                lines.append(f"  ... and {len(self.holes) - 20} more")
        else:
            lines.append("abnormal holes: none")
        return "\n".join(lines)


def _is_christmas_or_new_year(s: int, e: int) -> bool:
    for ns in (s, (s + e) // 2, e - 1):
        d = _dt.datetime.fromtimestamp(ns / 1e9, tz=_dt.UTC)
        if (d.month == 12 and d.day >= 24) or (d.month == 1 and d.day <= 2):
            return True
    return False


def gap_report(bars: Bars, *, min_hole: str | int | None = None) -> GapReport:
    """Classify the gaps between consecutive bars of ``bars`` (times UTC).

    ``min_hole``: the missing time from which a non-weekend gap is a hole (a
    timeframe string like ``"2h"``); default 3 bars, at least 1 hour.
    """
    t = np.asarray(bars.time, dtype=np.int64)
    n = int(t.shape[0])
    bar = int(bars.meta.get("bar_ns") or 0) or infer_bar_ns(t) or NS_MIN  # type: ignore[call-overload]
    threshold = parse_timeframe(min_hole, "min_hole") if min_hole is not None else max(3 * bar, NS_HOUR)
    if n < 2:
        return GapReport(
            bars.source, n, bar, int(t[0]) if n else 0, int(t[-1]) if n else 0, threshold, 0, 0, (), ()
        )
    d = np.diff(t)
    cand = np.flatnonzero(d > bar)
    s = t[cand] + bar  # first missing instant
    e = t[cand + 1]  # next open
    days = s // NS_DAY
    monday = (days - weekday(days)) * NS_DAY
    fri12 = monday + 4 * NS_DAY + 12 * NS_HOUR
    sat0 = monday + 5 * NS_DAY
    sun0 = monday + 6 * NS_DAY
    mon12 = monday + 7 * NS_DAY + 12 * NS_HOUR
    weekend = (s >= fri12) & (s <= sat0) & (e >= sun0) & (e <= mon12)
    missing = e - s
    rest = np.flatnonzero(~weekend)
    holidays: list[Gap] = []
    holes: list[Gap] = []
    n_short = 0
    for k in rest:
        sk, ek, mk = int(s[k]), int(e[k]), int(missing[k])
        if mk < threshold:
            n_short += 1
            continue
        gap = Gap(int(t[cand[k]]), ek, bar, "hole")
        # the Saturday noon at or after the gap's start: does the gap cover a weekend?
        sday = sk // NS_DAY
        sat12 = (sday + (5 - int(weekday(sday))) % 7) * NS_DAY + 12 * NS_HOUR
        if sat12 < sk:
            sat12 += 7 * NS_DAY
        covers_weekend = sat12 < ek
        if covers_weekend:
            long_weekend = sk >= sat12 - (2 * NS_DAY + 12 * NS_HOUR) and ek <= sat12 + 3 * NS_DAY
            kind = "holiday" if long_weekend else "hole"
        elif mk <= 2 * NS_DAY and _is_christmas_or_new_year(sk, ek):
            kind = "holiday"
        else:
            kind = "hole"
        gap = Gap(gap.last_ns, gap.next_ns, bar, kind)
        (holidays if kind == "holiday" else holes).append(gap)
    return GapReport(
        source=bars.source,
        n_bars=n,
        bar_ns=bar,
        start_ns=int(t[0]),
        end_ns=int(t[-1]),
        threshold_ns=threshold,
        n_weekends=int(weekend.sum()),
        n_short_gaps=n_short,
        holidays=tuple(holidays),
        holes=tuple(holes),
    )
