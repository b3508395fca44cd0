"""Calibration: learn an :class:`~execution_models.model.ExecutionModel` from real data.

Three kinds of source merge into one model; each (kind, session) table pools the
samples of every source that has some, and records which (``source``).

Tick files (``--ticks``; anything ``simlab.loaders.load_ticks`` reads)
-----------------------------------------------------------------------
**Spread**, in points: ``round((ask - bid) / point, 3)`` (the rounding only
removes float noise; quotes on the point grid give whole points). Two
weightings, chosen by ``spread_weighting``:

* ``"time"`` (default): one sample per whole UTC second ``s`` at which a quote is
  in force — the last tick with ``time <= s`` — counting only inter-tick
  intervals ``[t_i, t_i+1)`` of at most ``max_gap_s`` (600 s) seconds; a longer
  interval (the weekend, a feed outage) is taken as the market closed and
  contributes nothing, and the last tick of a file none. The sample's session
  is that of ``s`` (``simlab.calendar.sessions``). This is the spread an order
  placed at a random instant meets — what a bar simulator does when it fills
  at a bar's open.
* ``"tick"``: one sample per tick, in the tick's session. This over-weights
  bursts of quotes: in the shipped EURUSD ticks the news minutes (NFP, ECB)
  hold ~1 % of the overlap session's ticks at spreads of 100-150 points but
  only a few hundred of its ~160,000 seconds, so the overlap p99 is 148 points
  per tick against 18 per second (the data README quotes the per-tick numbers).

Where ``hour_of_week`` is on, the same samples also build spread tables per
hour of the week (New York wall clock, hour 0 = Monday 00:00 New York) for the
hours with at least ``MIN_HOUR_SAMPLES`` samples.

**Stop slippage from ticks** (``stop_slippage_from_ticks``, default on; used
for a session only where no fill or deal gives stop slippage there): a stop
order triggers at the first quote through its level and fills there. For a
level on the point grid crossed by a quote jump of d points between consecutive
ticks (bid down-moves for sell stops, ask up-moves for buy stops, in the later
tick's session; jumps across intervals longer than ``max_gap_s`` excluded),
the overshoot is level - fill: every crossed level is one sample, so a jump of d
points adds one sample each of 0, 1, ..., d - 1 points. It is the slippage of a
zero-latency stop: a lower bound (real fills also move with the price during the
order's latency).

Fill records (``--fills``; CSV)
-------------------------------
Columns (case-insensitive): ``time`` (ISO 8601 or MT5 ``2024.01.15 10:23:45``;
naive times are in ``tz``), ``symbol`` (optional; rows of other symbols are
skipped; a broker suffix is accepted: EURUSD.raw), ``side`` (buy|sell: the side
of the *order* that filled — a long's stop loss is a sell), ``order_type``,
``requested_price``, ``filled_price``, ``latency_ms``, and an optional
``entry`` (in|out, as MT5's deal entry). ``order_type`` maps to a slippage kind:

* entry: market, market_entry, entry, open, buy, sell (market + entry=out: exit)
* exit: market_exit, exit, close, limit, take_profit, tp
* stop: stop, stop_loss, sl, stop_market, stop_limit

Slippage, points, adverse positive: ``round(+-(filled - requested) / point, 3)``
(+ for buys, - for sells). A row without a requested price gives no slippage
sample; a row without latency no latency sample. Latency (ms) pools all rows.

MT5 deal history (``--mt5-deals``; the Deals table of a History report, HTML or CSV)
-------------------------------------------------------------------------------------
A deal has no requested price, so slippage is extracted only where one is known:

* a deal whose comment is ``[sl PRICE]`` (MT5 writes it when a stop loss
  closed the position): stop slippage, requested = PRICE, side = the deal's type;
* a deal whose comment is ``[tp PRICE]``: exit slippage (a limit fill, usually 0
  or price improvement), requested = PRICE;
* a deal in a file that has a ``requested_price`` column (added by the user):
  entry slippage for direction in / in/out, exit for out ([sl]/[tp] win).

Only buy / sell deals of the symbol count (balance, credit, ... rows are
skipped). Commission: ``-(sum(commission) + sum(fee)) / sum(volume)`` over the
symbol's buy/sell deals — account currency per lot per side (a broker that
charges the round trip on the entry deal averages out over entries and exits) —
stored in the model's ``commission`` record, not in a table (the symbol spec's
``commission_per_lot`` is where the kernel takes it from). No latency is known.

Point
-----
``point`` is given, else the symbol spec's point (``spec``; the command looks the
symbol up in ``--symbol-file`` and the presets): a run with the model uses the
spec's point, and the model must be in the same points. Only for a symbol without
a spec is it inferred from the tick prices (the most decimals seen: 5 -> 0.00001),
else from the fill / deal prices; a 5-digit feed whose last digit is always 0 would
infer 0.0001, so give ``point`` (or a spec) then.
"""

from __future__ import annotations

import csv
import datetime as _dt
import gzip
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from execution_models.model import (
    DEFAULT_PROBS,
    KINDS,
    MAX_STEP_VALUES,
    MIN_HOUR_SAMPLES,
    SCHEMA_VERSION,
    SESSIONS,
    ExecutionModel,
    Table,
)
from simlab.calendar import NS_S, hour_of_week
from simlab.errors import ConfigError, InputError
from simlab.files import check_input_file, sha256_of
from simlab.symbols import SymbolSpec

SPREAD_DECIMALS = 3
SLIP_DECIMALS = 3
DEFAULT_MAX_GAP_S = 600.0
WEIGHTINGS = ("time", "tick")

ORDER_TYPES: dict[str, str] = {
    **dict.fromkeys(("market", "market_entry", "entry", "open", "buy", "sell"), "entry_slippage"),
    **dict.fromkeys(("market_exit", "exit", "close", "limit", "take_profit", "tp"), "exit_slippage"),
    **dict.fromkeys(("stop", "stop_loss", "sl", "stop_market", "stop_limit"), "stop_slippage"),
}
_SIDES = {"buy": 1, "long": 1, "b": 1, "sell": -1, "short": -1, "s": -1}
_ENTRY_OUT = {"out", "exit", "close"}
_SLTP_RE = re.compile(r"^\s*\[?\s*(sl|tp)\s+([0-9]+(?:\.[0-9]+)?)", re.IGNORECASE)
_TIME_FORMATS = ("ISO8601", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M:%S.%f", "%Y.%m.%d %H:%M")


# ----------------------------------------------------------------------------- small helpers


def iso_ns(ns: int) -> str:
    """UTC ns -> '2014-05-01T00:00:00.292Z'."""
    return str(np.datetime64(int(ns), "ns").astype("datetime64[ms]")) + "Z"


def symbol_matches(name: str, symbol: str) -> bool:
    """Same symbol, ignoring case and a broker suffix: 'EURUSD.raw', 'EURUSDm', 'eurusd#' match 'EURUSD'."""
    a, b = str(name).strip().upper(), symbol.strip().upper()
    return a == b or (a.startswith(b) and 0 < len(a) - len(b) <= 4 and not a[len(b)].isdigit())


def _sessions(time_ns: np.ndarray) -> np.ndarray:
    from simlab.calendar import sessions

    return sessions(np.ascontiguousarray(time_ns, dtype=np.int64))


def _tz(tz: str | None, where: str = "--tz") -> Any:
    from simlab.timezones import parse_tz

    return None if tz is None else parse_tz(tz, where)


def parse_times(raw: pd.Series, labels: Sequence[str], where: str, field: str, tz: str | None) -> np.ndarray:
    """int64 UTC ns of a column of time strings; naive times are in ``tz`` (None: UTC)."""
    s = raw.astype(str).str.strip()
    dt = None
    for fmt in _TIME_FORMATS:
        try:
            dt = pd.to_datetime(s, format=fmt)
            break
        except (ValueError, TypeError, OverflowError):
            continue
    if dt is None:
        for i, v in enumerate(s):
            if not _parses(v):
                raise InputError(
                    where,
                    f"{labels[i]}, field '{field}': cannot read time {v!r}; expected ISO 8601 "
                    "(2024-01-15T10:23:45Z) or MT5's 2024.01.15 10:23:45",
                )
        raise InputError(where, f"field '{field}': mixed time formats (and/or mixed offsets); use one")
    idx = pd.DatetimeIndex(dt)
    if idx.tz is not None:
        return np.asarray(idx.tz_convert("UTC").tz_localize(None).as_unit("ns").asi8, dtype=np.int64)
    spec = _tz(tz)
    local = idx.as_unit("ns")
    if spec is None or spec.offset_ns is not None:
        off = 0 if spec is None else int(spec.offset_ns)
        return np.asarray(local.asi8, dtype=np.int64) - np.int64(off)
    try:
        utc = spec.localize(local, ambiguous="raise", nonexistent="raise")
    except Exception:
        bad = _first_dst_problem(local, spec)
        raise InputError(
            where,
            f"{labels[bad]}, field '{field}': time {s.iloc[bad]!r} does not exist or is ambiguous in "
            f"{spec.text} (daylight saving change); give times with an offset or in UTC",
        ) from None
    return np.asarray(utc.tz_convert("UTC").tz_localize(None).as_unit("ns").asi8, dtype=np.int64)


def _parses(v: str) -> bool:
    for fmt in _TIME_FORMATS:
        try:
            pd.to_datetime(v, format=fmt)
            return True
        except (ValueError, TypeError, OverflowError):
            continue
    return False


def _first_dst_problem(local: pd.DatetimeIndex, spec: Any) -> int:
    for i in range(len(local)):
        try:
            spec.localize(local[i : i + 1], ambiguous="raise", nonexistent="raise")
        except Exception:
            return i
    return 0


def _numbers(
    raw: pd.Series,
    labels: Sequence[str],
    where: str,
    field: str,
    *,
    optional: bool,
    positive: bool = False,
    nonnegative: bool = False,
) -> np.ndarray:
    """float64 of a string column (MT5 number formats accepted: '10 000.00', '0.1 / 0.1'); NaN for
    empty cells where ``optional``; the first bad cell is an InputError naming its line."""
    s = raw.astype(str).str.strip()
    empty = (s.eq("") | s.str.lower().isin(["nan", "none", "null", "-"])).to_numpy()
    cleaned = s.str.replace("\xa0", "", regex=False).str.replace(" ", "", regex=False).str.split("/").str[0]
    x = pd.to_numeric(cleaned.where(~empty, "nan"), errors="coerce").to_numpy(dtype=np.float64)
    if not optional and empty.any():
        i = int(np.argmax(empty))
        raise InputError(where, f"{labels[i]}, field '{field}': empty; expected a number")
    bad = ~empty & ~np.isfinite(x)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(where, f"{labels[i]}, field '{field}': expected a number, got {raw.iloc[i]!r}")
    if positive or nonnegative:
        out_of_range = ~empty & ((x <= 0) if positive else (x < 0))
        if out_of_range.any():
            i = int(np.argmax(out_of_range))
            want = "a number > 0" if positive else "a number >= 0"
            raise InputError(where, f"{labels[i]}, field '{field}': expected {want}, got {raw.iloc[i]!r}")
    return x


def infer_point(prices: np.ndarray, where: str) -> float:
    from simlab.symbol_match import infer_digits

    d = infer_digits(np.asarray(prices, dtype=np.float64))
    if d is None:
        raise InputError(where, "cannot infer the point from the prices (more than 8 decimals); give --point")
    return float(10.0**-d)


# ----------------------------------------------------------------------------- sample pool


@dataclass
class _Pool:
    """Weighted samples per (kind, session, source) and per (kind, hour of week)."""

    parts: dict[tuple[str, str, str], list[tuple[np.ndarray, np.ndarray]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    how: dict[tuple[str, int], list[tuple[np.ndarray, np.ndarray]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    first: int | None = None
    last: int | None = None

    def seen(self, time_ns: np.ndarray) -> None:
        if time_ns.size:
            lo, hi = int(time_ns.min()), int(time_ns.max())
            self.first = lo if self.first is None else min(self.first, lo)
            self.last = hi if self.last is None else max(self.last, hi)

    def add(self, kind: str, source: str, sess: np.ndarray, values: np.ndarray) -> None:
        for code, name in enumerate(SESSIONS):
            v = values[sess == code]
            if v.size:
                u, c = np.unique(v, return_counts=True)
                self.parts[(kind, name, source)].append((u, c.astype(np.int64)))

    def add_counts(
        self, kind: str, source: str, session: str, values: np.ndarray, counts: np.ndarray
    ) -> None:
        keep = counts > 0
        if keep.any():
            self.parts[(kind, session, source)].append((values[keep], counts[keep].astype(np.int64)))

    def add_how(self, kind: str, how: np.ndarray, values: np.ndarray) -> None:
        key = how.astype(np.int64)
        order = np.lexsort((values, key))
        k, v = key[order], values[order]
        # unique (hour, value) pairs with counts
        new = np.ones(k.size, dtype=bool)
        new[1:] = (k[1:] != k[:-1]) | (v[1:] != v[:-1])
        starts = np.flatnonzero(new)
        counts = np.diff(np.append(starts, k.size))
        for h in np.unique(k[starts]):
            m = k[starts] == h
            self.how[(kind, int(h))].append((v[starts][m], counts[m]))

    def sources(self, kind: str, session: str) -> list[str]:
        return sorted({src for (k, s, src) in self.parts if k == kind and s == session})

    def merged(
        self, keys: list[tuple[Any, ...]], store: dict[Any, list[tuple[np.ndarray, np.ndarray]]]
    ) -> tuple[np.ndarray, np.ndarray]:
        parts = [p for key in keys for p in store.get(key, [])]
        if not parts:
            return np.empty(0), np.empty(0, dtype=np.int64)
        v = np.concatenate([p[0] for p in parts])
        c = np.concatenate([p[1] for p in parts])
        u, inv = np.unique(v, return_inverse=True)
        return u, np.bincount(inv, weights=c, minlength=u.size).astype(np.int64)


def _merge(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    v = np.concatenate([p[0] for p in parts])
    c = np.concatenate([p[1] for p in parts])
    u, inv = np.unique(v, return_inverse=True)
    return u, np.bincount(inv, weights=c, minlength=u.size).astype(np.int64)


# ----------------------------------------------------------------------------- ticks


def spread_points(bid: np.ndarray, ask: np.ndarray, point: float) -> np.ndarray:
    """ask - bid in points, rounded to 0.001 point."""
    return np.round(
        (np.asarray(ask, dtype=np.float64) - np.asarray(bid, dtype=np.float64)) / point, SPREAD_DECIMALS
    )


def time_weighted_samples(
    time_ns: np.ndarray, values: np.ndarray, max_gap_s: float = DEFAULT_MAX_GAP_S, chunk_ticks: int = 500_000
) -> tuple[np.ndarray, np.ndarray]:
    """(second_ns, value) for every whole UTC second inside an inter-tick interval of at most
    ``max_gap_s``: the value of the last tick at or before the second (see the module docstring)."""
    t = np.ascontiguousarray(time_ns, dtype=np.int64)
    n = t.size
    if n < 2:
        return np.empty(0, dtype=np.int64), np.empty(0)
    gap_ok = np.diff(t) <= np.int64(round(max_gap_s * NS_S))  # interval i = [t_i, t_i+1)
    out_t: list[np.ndarray] = []
    out_v: list[np.ndarray] = []
    for a in range(0, n - 1, chunk_ticks):
        b = min(a + chunk_ticks, n - 1)  # intervals a .. b-1 cover [t_a, t_b)
        first = -((-t[a]) // NS_S) * NS_S
        if first >= t[b]:
            continue
        secs = np.arange(first, t[b], NS_S, dtype=np.int64)
        i = np.searchsorted(t, secs, side="right") - 1
        keep = gap_ok[i]
        out_t.append(secs[keep])
        out_v.append(values[i[keep]])
    if not out_t:
        return np.empty(0, dtype=np.int64), np.empty(0)
    return np.concatenate(out_t), np.concatenate(out_v)


def stop_overshoot_counts(
    time_ns: np.ndarray, bid: np.ndarray, ask: np.ndarray, point: float, max_gap_s: float = DEFAULT_MAX_GAP_S
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per session: (overshoot points 0..D-1, number of crossed levels with that overshoot)."""
    t = np.ascontiguousarray(time_ns, dtype=np.int64)
    if t.size < 2:
        return {}
    b = np.rint(np.asarray(bid) / point).astype(np.int64)
    a = np.rint(np.asarray(ask) / point).astype(np.int64)
    ok = np.diff(t) <= np.int64(round(max_gap_s * NS_S))
    down = np.where(ok, b[:-1] - b[1:], 0)  # sell stops: bid falls through
    up = np.where(ok, a[1:] - a[:-1], 0)  # buy stops: ask rises through
    sess = _sessions(t[1:])
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for code, name in enumerate(SESSIONS):
        m = sess == code
        d = np.concatenate([down[m & (down > 0)], up[m & (up > 0)]])
        if d.size == 0:
            continue
        hist = np.bincount(d)  # hist[j]: jumps of j points
        # a jump of j points has overshoots 0 .. j-1: count(k) = number of jumps with j > k
        count = np.cumsum(hist[::-1])[::-1][1:]
        out[name] = (np.arange(count.size, dtype=np.float64), count.astype(np.int64))
    return out


# ----------------------------------------------------------------------------- executions (fills, deals)


@dataclass
class _Executions:
    """Fill-like records: time, slippage kind, order sign (+1 buy), requested and filled price, latency."""

    source: str
    time_ns: np.ndarray
    kind: np.ndarray  # object: a KINDS name
    sign: np.ndarray
    requested: np.ndarray  # NaN: unknown
    filled: np.ndarray
    latency_ms: np.ndarray  # NaN: unknown


def _read_csv_strings(path: str | Path, what: str, expected: str) -> tuple[pd.DataFrame, list[str]]:
    where = str(path)
    check_input_file(path, where)  # a FIFO, a directory or stdin: one line, never a hang
    try:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "rb") as fh:
            head = fh.readline().decode("utf-8", errors="replace")
        sep = max((",", ";", "\t"), key=head.count)
        df = pd.read_csv(
            path, dtype=str, keep_default_na=False, skipinitialspace=True, sep=sep, encoding_errors="replace"
        )
    except pd.errors.EmptyDataError:
        raise InputError(where, f"empty file; expected a CSV with a header: {expected}") from None
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(where, f"cannot read as CSV: {' '.join(str(exc).split())}") from None
    df.columns = [re.sub(r"[\s\-]+", "_", str(c).strip().lower()) for c in df.columns]
    if df.empty:
        raise InputError(where, f"no {what} (the file has a header but no rows)")
    return df, [f"line {i + 2}" for i in range(len(df))]


def _col(df: pd.DataFrame, *names: str) -> str | None:
    return next((n for n in names if n in df.columns), None)


def read_fills(path: str | Path, symbol: str, tz: str | None = None) -> tuple[_Executions, dict[str, Any]]:
    """Fill records of ``symbol`` from a CSV (see the module docstring) and a source record."""
    where = str(path)
    expected = "time, symbol, side, order_type, requested_price, filled_price, latency_ms"
    df, labels = _read_csv_strings(path, "fill records", expected)
    cols = {
        "time": _col(df, "time", "fill_time", "timestamp"),
        "side": _col(df, "side", "direction"),
        "order_type": _col(df, "order_type", "type", "ordertype"),
        "filled_price": _col(df, "filled_price", "fill_price", "filled", "price_filled"),
    }
    missing = [k for k, v in cols.items() if v is None]
    if missing:
        raise InputError(where, f"line 1: missing column(s) {', '.join(missing)}; expected {expected}")
    rows = len(df)
    sym_col = _col(df, "symbol")
    if sym_col is not None:
        keep = df[sym_col].map(lambda s: symbol_matches(s, symbol)).to_numpy(dtype=bool)
        if not keep.any():
            present = ", ".join(sorted(set(df[sym_col]))[:10])
            raise InputError(where, f"no fills for symbol {symbol} (symbols in the file: {present})")
        df = df[keep].reset_index(drop=True)
        labels = [lab for lab, k in zip(labels, keep) if k]
    t = parse_times(df[cols["time"]], labels, where, cols["time"] or "time", tz)
    side_raw = df[cols["side"]]
    side = side_raw.astype(str).str.strip().str.lower().map(_SIDES)
    if side.isna().any():
        i = int(np.argmax(side.isna().to_numpy()))
        raise InputError(where, f"{labels[i]}, field 'side': expected buy or sell, got {side_raw.iloc[i]!r}")
    sign = side.to_numpy(dtype=np.int64)
    type_raw = df[cols["order_type"]]
    key = type_raw.astype(str).str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    kind_s = key.map(ORDER_TYPES)
    if kind_s.isna().any():
        i = int(np.argmax(kind_s.isna().to_numpy()))
        raise InputError(
            where,
            f"{labels[i]}, field 'order_type': unknown order type {type_raw.iloc[i]!r}; expected one of "
            + ", ".join(sorted(ORDER_TYPES)),
        )
    kind = kind_s.to_numpy(dtype=object)
    entry_col = _col(df, "entry", "position_effect", "effect")
    if entry_col is not None:
        out = df[entry_col].astype(str).str.strip().str.lower().isin(_ENTRY_OUT).to_numpy()
        kind[out & (kind == "entry_slippage")] = "exit_slippage"
    req_col = _col(df, "requested_price", "requested", "request_price", "price_requested")
    lat_col = _col(df, "latency_ms", "latency")
    requested = (
        _numbers(df[req_col], labels, where, req_col, optional=True, positive=True)
        if req_col
        else np.full(len(df), np.nan)
    )
    filled = _numbers(df[cols["filled_price"]], labels, where, "filled_price", optional=False, positive=True)
    latency = (
        _numbers(df[lat_col], labels, where, "latency_ms", optional=True, nonnegative=True)
        if lat_col
        else np.full(len(df), np.nan)
    )
    ex = _Executions("fills", t, kind, sign, requested, filled, latency)
    rec = {
        "type": "fills",
        "file": Path(path).name,
        "sha256": sha256_of(path),
        "rows": rows,
        "rows_of_symbol": len(df),
        "slippage_samples": int(np.isfinite(requested).sum()),
        "latency_samples": int(np.isfinite(latency).sum()),
        "first": iso_ns(int(t.min())),
        "last": iso_ns(int(t.max())),
    }
    return ex, rec


@dataclass
class _Commission:
    paid: float = 0.0  # account currency, positive = paid (commission + fee)
    lots: float = 0.0
    deals: int = 0
    files: list[str] = field(default_factory=list)


def read_mt5_deals(
    path: str | Path, symbol: str, tz: str | None = None, commission: _Commission | None = None
) -> tuple[_Executions, dict[str, Any]]:
    """Slippage records and commission sums from an MT5 Deals table (see the module docstring)."""
    from execution_models.mt5 import read_deals_table

    where = str(path)
    df, labels = read_deals_table(path)
    rows = len(df)
    typ = df["type"].astype(str).str.strip().str.lower()
    keep = typ.isin(("buy", "sell")).to_numpy() & df["symbol"].map(
        lambda s: symbol_matches(s, symbol)
    ).to_numpy(dtype=bool)
    if not keep.any():
        present = ", ".join(sorted({s for s in df["symbol"] if s})[:10]) or "none"
        raise InputError(
            where, f"no buy/sell deals for symbol {symbol} (symbols in the Deals table: {present})"
        )
    df = df[keep].reset_index(drop=True)
    labels = [lab for lab, k in zip(labels, keep) if k]
    t = parse_times(df["time"], labels, where, "time", tz)
    sign = np.where(df["type"].astype(str).str.strip().str.lower() == "buy", 1, -1).astype(np.int64)
    price = _numbers(df["price"], labels, where, "price", optional=False, positive=True)
    volume = _numbers(df["volume"], labels, where, "volume", optional=False, positive=True)
    comm = (
        _numbers(df["commission"], labels, where, "commission", optional=True) if "commission" in df else None
    )
    fee = _numbers(df["fee"], labels, where, "fee", optional=True) if "fee" in df else None
    if comm is not None or fee is not None:
        c = commission if commission is not None else _Commission()
        paid = -(np.nansum(comm) if comm is not None else 0.0) - (np.nansum(fee) if fee is not None else 0.0)
        c.paid += float(paid)
        c.lots += float(volume.sum())
        c.deals += len(df)
        c.files.append(Path(path).name)
    requested = np.full(len(df), np.nan)
    kind = np.empty(len(df), dtype=object)
    direction = df["direction"].astype(str).str.strip().str.lower() if "direction" in df else None
    if "requested_price" in df:
        requested = _numbers(
            df["requested_price"], labels, where, "requested_price", optional=True, positive=True
        )
        for i in range(len(df)):
            out = direction is not None and direction.iloc[i] == "out"
            kind[i] = "exit_slippage" if out else "entry_slippage"
    comments = df["comment"].astype(str) if "comment" in df else pd.Series([""] * len(df))
    n_sl = n_tp = 0
    for i, cmt in enumerate(comments):
        m = _SLTP_RE.match(cmt)
        if m is None:
            continue
        kind[i] = "stop_slippage" if m.group(1).lower() == "sl" else "exit_slippage"
        if not np.isfinite(requested[i]):
            requested[i] = float(m.group(2))
        n_sl += m.group(1).lower() == "sl"
        n_tp += m.group(1).lower() == "tp"
    ex = _Executions("mt5_deals", t, kind, sign, requested, price, np.full(len(df), np.nan))
    rec = {
        "type": "mt5_deals",
        "file": Path(path).name,
        "sha256": sha256_of(path),
        "rows": rows,
        "deals_of_symbol": len(df),
        "stop_loss_fills": n_sl,
        "take_profit_fills": n_tp,
        "slippage_samples": int(np.isfinite(requested).sum()),
        "first": iso_ns(int(t.min())),
        "last": iso_ns(int(t.max())),
    }
    return ex, rec


# ----------------------------------------------------------------------------- calibration


def calibrate(
    symbol: str,
    *,
    ticks: Sequence[str | Path] = (),
    fills: Sequence[str | Path] = (),
    mt5_deals: Sequence[str | Path] = (),
    tz: str | None = None,
    point: float | None = None,
    spec: SymbolSpec | None = None,
    created: str | None = None,
    spread_weighting: str = "time",
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    stop_slippage_from_ticks: bool = True,
    hour_of_week_tables: bool = True,
    min_hour_samples: int = MIN_HOUR_SAMPLES,
    probs: Sequence[float] = DEFAULT_PROBS,
    max_step_values: int = MAX_STEP_VALUES,
    notes: Sequence[str] = (),
) -> ExecutionModel:
    """Learn a model of ``symbol`` from the given files (see the module docstring for every definition).

    The model's point is ``point`` if given, else the point of ``spec`` (the symbol's spec: a run
    with this model uses that point, so the model must be in the same points), and only where no
    spec is known the one inferred from the prices. With ``spec``, tick bid prices outside its
    plausible range are refused (gold ticks calibrated as EURUSD).

    Raises InputError for bad data (naming file, line and field) and ConfigError for bad settings.
    """
    from simlab.loaders import load_ticks_info

    if not (ticks or fills or mt5_deals):
        raise ConfigError("calibrate", "no data: give at least one of --ticks, --fills, --mt5-deals")
    if spread_weighting not in WEIGHTINGS:
        raise ConfigError(
            "--spread-weighting", f"expected one of {', '.join(WEIGHTINGS)}, got {spread_weighting!r}"
        )
    if not (max_gap_s > 0):
        raise ConfigError("--max-gap-s", f"expected a number of seconds > 0, got {max_gap_s!r}")
    if point is not None and not (point > 0):
        raise ConfigError("--point", f"expected a number > 0, got {point!r}")
    if created is None:
        created = _dt.datetime.now(_dt.UTC).date().isoformat()
    try:
        _dt.date.fromisoformat(created)
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", created):
            raise ValueError
    except ValueError:
        raise ConfigError("--date", f"expected a date YYYY-MM-DD, got {created!r}") from None
    if tz is not None:
        _tz(tz)

    pool = _Pool()
    sources: list[dict[str, Any]] = []

    # ---- read everything first: the point may come from any of the prices
    tick_data = []
    for path in ticks:
        tk = load_ticks_info(path, tz=tz, spec=spec)
        t, bid, ask = tk.time, tk.bid, tk.ask
        if t.size == 0:
            raise InputError(str(path), "no ticks")
        tick_data.append((path, t, bid, ask))
    executions: list[_Executions] = []
    commission = _Commission()
    for path in fills:
        ex, rec = read_fills(path, symbol, tz)
        executions.append(ex)
        sources.append(rec)
    for path in mt5_deals:
        ex, rec = read_mt5_deals(path, symbol, tz, commission)
        executions.append(ex)
        sources.append(rec)
    point_source = "given"
    if point is None and spec is not None:
        point = spec.point
        point_source = f"the {spec.name} symbol spec"
    if point is None:
        if tick_data:
            point = infer_point(
                np.concatenate([d[2] for d in tick_data] + [d[3] for d in tick_data]), str(ticks[0])
            )
            point_source = "inferred from the tick prices"
        else:
            prices = np.concatenate(
                [np.concatenate([e.filled, e.requested[np.isfinite(e.requested)]]) for e in executions]
            )
            point = infer_point(prices, str((list(fills) + list(mt5_deals))[0]))
            point_source = "inferred from the fill / deal prices"

    # ---- ticks: spread (+ hour of week), stop overshoot
    tick_records = []
    for path, t, bid, ask in tick_data:
        sp = spread_points(bid, ask, point)
        if spread_weighting == "time":
            st, sv = time_weighted_samples(t, sp, max_gap_s)
        else:
            st, sv = t, sp
        if sv.size == 0:
            raise InputError(
                str(path), f"no spread samples: fewer than 2 ticks within {max_gap_s:g} s of each other"
            )
        pool.add("spread", "ticks", _sessions(st), sv)
        if hour_of_week_tables:
            pool.add_how("spread", hour_of_week(st).astype(np.int16), sv)
        pool.seen(st if spread_weighting == "tick" else t)
        if stop_slippage_from_ticks:
            for sess_name, (v, c) in stop_overshoot_counts(t, bid, ask, point, max_gap_s).items():
                pool.add_counts("stop_slippage", "ticks_overshoot", sess_name, v, c)
        tick_records.append(
            {
                "type": "ticks",
                "file": Path(path).name,
                "sha256": sha256_of(path),
                "rows": int(t.size),
                "spread_samples": int(sv.size),
                "first": iso_ns(int(t[0])),
                "last": iso_ns(int(t[-1])),
            }
        )
    sources = tick_records + sources

    # ---- fills and deals: slippage and latency
    for ex in executions:
        sess = _sessions(ex.time_ns)
        pool.seen(ex.time_ns)
        has_req = np.isfinite(ex.requested)
        slip = np.round(ex.sign * (ex.filled - ex.requested) / point, SLIP_DECIMALS)
        for kind in ("entry_slippage", "exit_slippage", "stop_slippage"):
            m = has_req & (ex.kind == kind)
            if m.any():
                pool.add(kind, ex.source, sess[m], slip[m])
        lat = np.isfinite(ex.latency_ms)
        if lat.any():
            pool.add("latency", ex.source, sess[lat], ex.latency_ms[lat])

    if pool.first is None:
        raise InputError(
            ", ".join(str(p) for p in (*ticks, *fills, *mt5_deals)),
            "no samples: the files hold no spread, slippage or latency data for " + symbol,
        )

    # ---- tables
    pr = np.array(list(probs), dtype=np.float64)
    tables: dict[str, dict[str, Table]] = {k: {} for k in KINDS}
    auto_notes: list[str] = []
    for kind in KINDS:
        missing: list[str] = []
        overshoot: list[str] = []
        for s in SESSIONS:
            srcs = pool.sources(kind, s)
            observed = [x for x in srcs if x in ("fills", "mt5_deals")]
            use = observed if (kind == "stop_slippage" and observed) else srcs
            if kind == "stop_slippage" and not observed and "ticks_overshoot" in srcs:
                overshoot.append(s)
            if not use:
                missing.append(s)
                continue
            v, c = pool.merged([(kind, s, x) for x in use], pool.parts)
            tables[kind][s] = Table.from_counts(v, c, "+".join(use), pr, max_step_values)
        if missing and kind == "spread":
            allv = [(kind, s, x) for s in SESSIONS for x in pool.sources(kind, s)]
            if allv:
                v, c = pool.merged(allv, pool.parts)
                overall = Table.from_counts(v, c, "overall", pr, max_step_values)
                for s in missing:
                    tables[kind][s] = overall
                auto_notes.append(
                    f"spread: no samples in {', '.join(missing)}: the symbol's overall spread table "
                    "(all sessions pooled) is used there (source 'overall')"
                )
                missing = []
        for s in missing:
            tables[kind][s] = Table.constant(0.0, pr.size, "default")
        if missing:
            where_ = "in every session" if len(missing) == len(SESSIONS) else "in " + ", ".join(missing)
            unit = "ms" if kind == "latency" else "points"
            why = (
                "no tick data" if kind == "spread" else "no fill records or MT5 deals with a requested price"
            )
            if kind == "latency":
                why = "no fill records with latency_ms"
            auto_notes.append(f"{kind}: {why}: 0 {unit} {where_} (source 'default')")
        if overshoot:
            auto_notes.append(
                f"stop_slippage in {', '.join(overshoot)}: from the ticks' quote jumps (source 'ticks_overshoot'): "
                "a stop on the point grid fills at the first quote through it; every crossed level is one sample "
                "of level - fill (a jump of d points gives 0 .. d-1); zero-latency lower bound"
            )

    how: dict[str, dict[int, Table]] = {}
    if hour_of_week_tables:
        for (kind, h), parts in sorted(pool.how.items()):
            v, c = _merge(parts)
            if int(c.sum()) >= min_hour_samples:
                t_ = Table.from_counts(v, c, "ticks", pr, max_step_values=0)  # linear: q only
                how.setdefault(kind, {})[h] = t_

    if tick_data:
        if spread_weighting == "time":
            auto_notes.insert(
                0,
                "spread: ask - bid in points (rounded to 0.001), time-weighted: one sample per whole UTC second "
                f"inside an inter-tick interval of at most {max_gap_s:g} s, valued at the last tick at or before "
                "that second (longer gaps: market closed, no samples); session of the second by "
                "simlab.calendar.sessions",
            )
        else:
            auto_notes.insert(
                0,
                "spread: ask - bid in points (rounded to 0.001), one sample per tick, in the tick's session "
                "(simlab.calendar.sessions)",
            )
    comm_rec = None
    if commission.lots > 0:
        comm_rec = {
            "per_lot_per_side": round(commission.paid / commission.lots, 6),
            "currency": "account",
            "deals": commission.deals,
            "lots": round(commission.lots, 6),
            "paid": round(commission.paid, 6),
            "files": commission.files,
            "definition": "-(sum(commission) + sum(fee)) / sum(volume) over the symbol's buy/sell deals",
        }
    settings = {
        "spread_weighting": spread_weighting,
        "max_gap_s": max_gap_s,
        "stop_slippage_from_ticks": bool(stop_slippage_from_ticks),
        "tz": tz or "UTC",
        "point_source": point_source,
        "sessions": "simlab.calendar.sessions (rollover 17-18 New York, london 08-17 London, newyork 08-17 "
        "New York, overlap both, asia else)",
        "quantiles": "type 1 (inverse empirical CDF): smallest value with cumulative count >= p * n",
        "spread_decimals": SPREAD_DECIMALS,
        "slippage_decimals": SLIP_DECIMALS,
        "slippage_sign": "adverse positive: buys (filled - requested) / point, sells (requested - filled) / point",
        "max_step_values": max_step_values,
        "min_hour_samples": min_hour_samples,
        "schema_version": SCHEMA_VERSION,
    }
    return ExecutionModel(
        symbol=symbol,
        point=float(point),
        tables=tables,
        created=created,
        probs=pr,
        window={"start": iso_ns(pool.first), "end": iso_ns(pool.last or pool.first)},
        sources=sources,
        settings=settings,
        hour_of_week=how,
        commission=comm_rec,
        notes=auto_notes + list(notes),
    )


def model_path(out_dir: str | Path, symbol: str, created: str) -> Path:
    """``<out_dir>/<SYMBOL>/<YYYY-MM-DD>.json``."""
    return Path(out_dir) / symbol / f"{created}.json"
