"""Trade-list mode: will a list of past trades pass a prop challenge? Bootstrapped, at trade granularity.

For traders who have results (an MT5 Strategy Tester report, an account
history export) but no Python strategy. The trades are resampled into many
attempts and each attempt is judged by the program's rules, phase after phase.

Accepted input (:func:`load_trades`)
------------------------------------
* **CSV** (comma, semicolon or tab separated; UTF-8 or the UTF-16 MT5 writes)
  with a header row. Column names are matched case-insensitively, ignoring
  spaces, ``_`` and ``-``:

  =============  ==========================================================================
  field          accepted column names
  =============  ==========================================================================
  open time      ``open time``, ``open_time``, ``time open``, ``entry time``, ``open date``,
                 or the first ``Time`` of an MT5 Positions table
  close time     ``close time``, ``close_time``, ``time close``, ``exit time``,
                 ``close date``, or the second ``Time`` (``Time.1``) of a Positions table
  profit         ``profit``, ``net profit``, ``pnl``, ``p/l``, ``p&l``  (required, money)
  commission     ``commission``, ``commissions``, ``comm``  (optional, added to profit)
  swap           ``swap``, ``swaps``  (optional, added to profit)
  fee            ``fee``, ``fees``  (optional, added to profit)
  MAE            ``mae``, ``max adverse excursion``, ``maximum adverse excursion``,
                 ``mae money``, ``mae $``  (optional: the worst floating loss of the
                 trade in money; its sign is ignored)
  MFE            ``mfe``, ``max favorable excursion``, ``max favourable excursion``,
                 ``mfe money``, ``mfe $``  (optional: best floating profit, money)
  symbol         ``symbol``, ``instrument``  (optional, informative)
  =============  ==========================================================================

  Times: ``2024.03.15 10:23:45`` (MT5), ``2024-03-15 10:23[:45]``, ISO 8601;
  in the ``tz`` given (MT5 writes *server* time: e.g. ``tz="UTC+2"`` or
  ``tz="America/New_York"``-anchored servers, see ``challenges/presets``).
  Numbers may use spaces as thousands separators (``-1 234.56``).

* An MT5 **Deals** table (CSV, or HTML as below), recognised by its
  ``Direction`` column (in / out / in/out): deals are paired into trades
  first-in first-out per symbol; commissions, fees and swaps of both legs are
  added. Deals carry no MAE.

* The **HTML** report MT5 writes (Strategy Tester report, or the account
  history report ``ReportHistory-*.html``): the ``Positions`` table is used when
  present, else ``Deals``.

Rows with no close time (positions still open) and balance / credit rows are
skipped and counted.

How an attempt is built (:func:`evaluate_trades`)
-------------------------------------------------
Trades are grouped into the program's trading days (its day boundary) by their
open time; the history is the run of weekdays from the first to the last
trading day, empty weekdays included (they are days the trader did not trade).
Trades opened on a weekend trading day are moved to the following Monday.
Each trade keeps its time of day, its P/L (x ``risk``), its MAE/MFE and how
many weekdays it stayed open. ``start_mode`` picks how the days follow one
another:

* ``"bootstrap"`` (default): circular block bootstrap of history weekdays,
  blocks of ``block_days`` consecutive days (1: days drawn i.i.d.), until the
  attempt ends or ``max_trading_days`` weekdays have passed;
* ``"trades"``: each simulated day draws its number of trades from the
  history's trades-per-weekday counts, then that many trades i.i.d. from all
  trades (breaks within-day clustering, keeps the trade frequency);
* ``"sequential"``: the real order of days from a random start day to the end
  of the history (an attempt that runs out of history is "unfinished");
* ``"replay"``: the real order from the first day; every run is the same.

The simulated calendar is Monday-to-Friday slots; a trade open across a
Friday->Monday slot boundary is held over the weekend; calendar days (time
limits, days to pass) count the weekends.

Rule checks at trade granularity: at each close the balance is checked
against the daily and max-loss limits; with an MAE column, at each open the
point ``balance - MAE`` is checked too (when the rule counts floating P/L).
Target, minimum days (a trade opened that day / a day's closed P/L >= the
threshold), best-day share and time limit follow the kernel's rules
(``simlab.kernel_nb``): the phase passes at a close, flat, at or above the
target, with the other objectives met; otherwise the target is *banked* and
later trades are scaled by ``post_target_risk_mult``. A passed phase ends
the day; the next phase starts the next weekday on a fresh account of the
same size; trades still open are dropped.

Determinism: run ``i`` draws from ``numpy.random.Generator(Philox(key=(seed, i)))``,
so results are identical for any ``workers``.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from challenges._trade_list_nb import _attempt_nb, _runs_nb
from challenges.rules import Program, load_program
from challenges.stats import quantiles, wilson_interval
from simlab import layout as L
from simlab.calendar import NS_HOUR, weekday
from simlab.errors import ConfigError, InputError
from simlab.files import read_bytes
from simlab.mt5_report import decode_report, norm_name, titled_tables
from simlab.results import (
    NOT_PASSED_IN_HORIZON,
    challenge_result,
    envelope,
    failure_label,
    format_challenge_table,
)
from simlab.runner import run_range

START_MODES = tuple(L.TL_MODES)  # "bootstrap", "trades", "sequential", "replay"

# ---------------------------------------------------------------- column names
_ALIASES: dict[str, tuple[str, ...]] = {
    "open_time": ("opentime", "timeopen", "entrytime", "opendate", "openingtime", "entrydate"),
    "close_time": ("closetime", "timeclose", "exittime", "closedate", "closingtime", "exitdate"),
    "profit": ("profit", "netprofit", "pnl", "p/l", "p&l", "profitloss"),
    "commission": ("commission", "commissions", "comm"),
    "swap": ("swap", "swaps"),
    "fee": ("fee", "fees"),
    "mae": ("mae", "maxadverseexcursion", "maximumadverseexcursion", "maemoney", "mae$", "mae($)"),
    "mfe": (
        "mfe",
        "maxfavorableexcursion",
        "maxfavourableexcursion",
        "maximumfavorableexcursion",
        "maximumfavourableexcursion",
        "mfemoney",
        "mfe$",
        "mfe($)",
    ),
    "symbol": ("symbol", "instrument"),
    "direction": ("direction", "entry"),
    "volume": ("volume", "lots", "size"),
    "type": ("type",),
}


_TIME_RE = re.compile(
    r"^\s*(\d{4})[.\-/](\d{1,2})[.\-/](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*$"
)


# ---------------------------------------------------------------- the trade list
@dataclass(frozen=True)
class TradeList:
    """Closed trades, UTC times, net money P/L; MAE/MFE (money, >= 0) when the source had them."""

    open_ns: np.ndarray  # int64, UTC
    close_ns: np.ndarray  # int64, UTC
    pnl: np.ndarray  # float64: profit + commission + swap + fee
    mae: np.ndarray | None = None  # float64 >= 0
    mfe: np.ndarray | None = None  # float64 >= 0
    symbol: tuple[str, ...] | None = None
    source: str = "<trades>"
    columns: dict[str, str] = field(default_factory=dict)  # field -> source column used
    skipped: int = 0  # rows not used (still open, balance operations)

    def __len__(self) -> int:
        return int(self.pnl.shape[0])

    @property
    def has_mae(self) -> bool:
        return self.mae is not None


def trades_from_arrays(
    open_time: Sequence[Any] | np.ndarray,
    close_time: Sequence[Any] | np.ndarray,
    pnl: Sequence[float] | np.ndarray,
    mae: Sequence[float] | np.ndarray | None = None,
    mfe: Sequence[float] | np.ndarray | None = None,
    *,
    tz: str = "UTC",
    source: str = "<arrays>",
) -> TradeList:
    """Build a :class:`TradeList` from arrays (times as strings, datetime64 or UTC int64 ns)."""
    o = _times_to_utc(list(open_time), tz, source, "open time")
    c = _times_to_utc(list(close_time), tz, source, "close time")
    p = np.asarray(pnl, dtype=np.float64)
    m = None if mae is None else np.abs(np.asarray(mae, dtype=np.float64))
    f = None if mfe is None else np.abs(np.asarray(mfe, dtype=np.float64))
    return _finish(o, c, p, m, f, None, source, {}, 0)


def _finish(
    o: np.ndarray,
    c: np.ndarray,
    p: np.ndarray,
    m: np.ndarray | None,
    f: np.ndarray | None,
    sym: list[str] | None,
    source: str,
    columns: dict[str, str],
    skipped: int,
) -> TradeList:
    n = p.shape[0]
    if n == 0:
        raise InputError(source, "no closed trades found")
    for name, arr in (("open time", o), ("close time", c), ("pnl", p)):
        if arr.shape[0] != n:
            raise InputError(source, f"field '{name}': {arr.shape[0]} values for {n} trades")
    if not np.all(np.isfinite(p)):
        i = int(np.flatnonzero(~np.isfinite(p))[0])
        raise InputError(source, f"trade {i + 1}, field 'profit': not a number")
    bad = np.flatnonzero(c < o)
    if bad.size:
        i = int(bad[0])
        raise InputError(source, f"trade {i + 1}, field 'close time': before the open time")
    if m is not None:
        # the worst point of a losing trade is at least its final loss
        m = np.maximum(np.nan_to_num(m, nan=0.0), np.maximum(-p, 0.0))
    if f is not None:
        f = np.maximum(np.nan_to_num(f, nan=0.0), np.maximum(p, 0.0))
    order = np.argsort(o, kind="stable")
    return TradeList(
        open_ns=o[order],
        close_ns=c[order],
        pnl=p[order],
        mae=None if m is None else m[order],
        mfe=None if f is None else f[order],
        symbol=None if sym is None else tuple(sym[i] for i in order),
        source=source,
        columns=columns,
        skipped=skipped,
    )


# ---------------------------------------------------------------- parsing helpers
def _times_to_utc(
    values: list[Any], tz: str, source: str, fname: str, rows: list[int] | None = None
) -> np.ndarray:
    """Times (MT5 strings, datetime64, int ns) -> int64 UTC ns; strings are wall times in ``tz``."""
    from simlab.calendar import check_zone

    try:
        check_zone(tz, "tz")
    except ConfigError as exc:
        raise ConfigError(source, exc.what) from None
    n = len(values)
    local = np.empty(n, dtype=np.int64)
    for i, v in enumerate(values):
        if isinstance(v, np.integer | int) and not isinstance(v, bool):
            local[i] = int(v)
            continue
        if isinstance(v, np.datetime64):
            local[i] = int(v.astype("datetime64[ns]").astype(np.int64))
            continue
        s = str(v)
        mt = _TIME_RE.match(s)
        if mt is None:
            row = rows[i] if rows is not None else i + 1
            raise InputError(
                source, f"row {row}, field '{fname}': expected a time like 2024.03.15 10:23:45, got {s!r}"
            )
        y, mo, d = int(mt.group(1)), int(mt.group(2)), int(mt.group(3))
        hh, mi, ss = int(mt.group(4) or 0), int(mt.group(5) or 0), int(mt.group(6) or 0)
        frac = mt.group(7) or ""
        try:
            base = np.datetime64(f"{y:04d}-{mo:02d}-{d:02d}T{hh:02d}:{mi:02d}:{ss:02d}", "ns")
        except ValueError:
            row = rows[i] if rows is not None else i + 1
            raise InputError(source, f"row {row}, field '{fname}': not a valid date/time {s!r}") from None
        local[i] = int(base.astype(np.int64)) + (int(frac.ljust(9, "0")) if frac else 0)
    if all(isinstance(v, np.integer | int) and not isinstance(v, bool) for v in values):
        return local  # already UTC ns
    from simlab.timezones import parse_tz  # the one --tz parser (America/New_York+7 too)

    return parse_tz(tz, source).to_utc(local, ambiguous=np.zeros(n, dtype=bool), nonexistent="shift_forward")


def _number(v: Any, source: str, row: int, fname: str, *, empty: float | None = 0.0) -> float:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(v)
    s = str(v).strip().replace("\u00a0", "").replace(" ", "").replace("\u2212", "-")
    if s == "" or s == "-":
        if empty is None:
            raise InputError(source, f"row {row}, field '{fname}': empty; expected a number")
        return empty
    if "," in s and "." not in s:
        s = s.replace(",", ".")  # decimal comma
    else:
        s = s.replace(",", "")  # thousands separator
    try:
        return float(s)
    except ValueError:
        raise InputError(source, f"row {row}, field '{fname}': expected a number, got {str(v)!r}") from None


def _map_columns(header: list[str], source: str) -> dict[str, int]:
    """field -> column index, from a header row (MT5's duplicate "Time" columns included)."""
    normed = [norm_name(h) for h in header]
    found: dict[str, int] = {}
    for fname, aliases in _ALIASES.items():
        for j, h in enumerate(normed):
            if h in aliases and fname not in found:
                found[fname] = j
    # MT5 Positions: Time ... Time (open, close); pandas would call the second "Time.1"
    times = [j for j, h in enumerate(normed) if h in ("time", "time.1", "time1", "date", "datetime")]
    if "open_time" not in found and times:
        found["open_time"] = times[0]
    if "close_time" not in found and len(times) >= 2 and "direction" not in found:
        found["close_time"] = times[1]
    if "direction" in found and "close_time" not in found:
        found["time"] = found.pop("open_time")  # a Deals table: one time per deal
    return found


def _rows_to_trades(
    header: list[str], rows: list[list[str]], source: str, tz: str, first_row: int
) -> TradeList:
    cols = _map_columns(header, source)
    colnames = {k: header[j] for k, j in cols.items()}
    if "direction" in cols:
        return _deals_to_trades(cols, colnames, rows, source, tz, first_row)
    missing = [f for f in ("open_time", "close_time", "profit") if f not in cols]
    if missing:
        need = {
            "open_time": "open time (e.g. 'Open Time')",
            "close_time": "close time (e.g. 'Close Time')",
            "profit": "profit (e.g. 'Profit')",
        }
        raise InputError(
            source,
            f"no column for {need[missing[0]]}; columns found: {', '.join(h for h in header if h) or '(none)'}",
        )
    opens: list[str] = []
    closes: list[str] = []
    rownums: list[int] = []
    pnl: list[float] = []
    mae: list[float] = []
    mfe: list[float] = []
    sym: list[str] = []
    skipped = 0
    width = max(cols.values()) + 1
    for k, r in enumerate(rows):
        rown = first_row + k
        if len(r) < width or not "".join(r).strip():
            skipped += 1
            continue
        c_time = r[cols["close_time"]].strip()
        o_time = r[cols["open_time"]].strip()
        if not c_time or not o_time:
            skipped += 1  # still open
            continue
        profit = _number(r[cols["profit"]], source, rown, colnames["profit"], empty=None)
        for extra in ("commission", "swap", "fee"):
            if extra in cols:
                profit += _number(r[cols[extra]], source, rown, colnames[extra])
        opens.append(o_time)
        closes.append(c_time)
        rownums.append(rown)
        pnl.append(profit)
        if "mae" in cols:
            mae.append(abs(_number(r[cols["mae"]], source, rown, colnames["mae"])))
        if "mfe" in cols:
            mfe.append(abs(_number(r[cols["mfe"]], source, rown, colnames["mfe"])))
        if "symbol" in cols:
            sym.append(r[cols["symbol"]].strip())
    o = _times_to_utc(list(opens), tz, source, colnames["open_time"], rownums)
    c = _times_to_utc(list(closes), tz, source, colnames["close_time"], rownums)
    return _finish(
        o,
        c,
        np.asarray(pnl, dtype=np.float64),
        np.asarray(mae, dtype=np.float64) if "mae" in cols else None,
        np.asarray(mfe, dtype=np.float64) if "mfe" in cols else None,
        sym if "symbol" in cols else None,
        source,
        colnames,
        skipped,
    )


def _deals_to_trades(
    cols: dict[str, int],
    colnames: dict[str, str],
    rows: list[list[str]],
    source: str,
    tz: str,
    first_row: int,
) -> TradeList:
    """Pair MT5 deals (in / out / in/out) into trades, first-in first-out per symbol."""
    for need in ("time", "profit", "volume", "symbol"):
        if need not in cols:
            raise InputError(
                source, f"Deals table without a '{need}' column; columns: {', '.join(colnames.values())}"
            )
    # symbol -> list of open lots [time_str, row, volume_left, cost_per_lot(commission+fee of the in-leg)]
    book: dict[str, list[list[Any]]] = {}
    out_o: list[str] = []
    out_c: list[str] = []
    out_rows: list[int] = []
    pnl: list[float] = []
    syms: list[str] = []
    skipped = 0
    width = max(cols.values()) + 1
    for k, r in enumerate(rows):
        rown = first_row + k
        if len(r) < width:
            skipped += 1
            continue
        symbol = r[cols["symbol"]].strip()
        direction = norm_name(r[cols["direction"]])
        if not symbol or direction not in ("in", "out", "in/out", "inout", "out/in"):
            skipped += 1  # balance, credit, ...
            continue
        t = r[cols["time"]].strip()
        vol = _number(r[cols["volume"]], source, rown, colnames["volume"], empty=None)
        cost = 0.0
        for extra in ("commission", "fee"):
            if extra in cols:
                cost += _number(r[cols[extra]], source, rown, colnames[extra])
        swap = _number(r[cols["swap"]], source, rown, colnames["swap"]) if "swap" in cols else 0.0
        profit = _number(r[cols["profit"]], source, rown, colnames["profit"])
        lots = book.setdefault(symbol, [])
        if direction == "in":
            lots.append([t, rown, vol, cost / vol if vol > 0 else 0.0])
            continue
        # out (or reversal): close FIFO, the rest (in/out) opens the other way
        left = vol
        total = vol if vol > 0 else 1.0
        while left > 1e-12 and lots:
            lot = lots[0]
            q = min(left, lot[2])
            share = q / total
            out_o.append(lot[0])
            out_c.append(t)
            out_rows.append(rown)
            pnl.append(profit * share + swap * share + cost * share + lot[3] * q)
            syms.append(symbol)
            lot[2] -= q
            left -= q
            if lot[2] <= 1e-12:
                lots.pop(0)
        if left > 1e-12 and direction != "out":
            lots.append([t, rown, left, 0.0])
    skipped += sum(1 for lots in book.values() for _ in lots)  # still open at the end
    if not pnl:
        raise InputError(source, "no closed trades found in the Deals table (no 'out' deals)")
    o = _times_to_utc(list(out_o), tz, source, colnames["time"], out_rows)
    c = _times_to_utc(list(out_c), tz, source, colnames["time"], out_rows)
    return _finish(
        o, c, np.asarray(pnl), None, None, syms, source, colnames | {"pairing": "deals FIFO"}, skipped
    )


def load_trades(path: str | Path, *, tz: str = "UTC") -> TradeList:
    """Load closed trades from a CSV or an MT5 HTML report; times in ``tz`` (MT5: the server's zone)."""
    from simlab.calendar import check_zone

    p = Path(path)
    source = str(path)
    try:
        check_zone(tz, "tz")
    except ConfigError as exc:
        raise ConfigError(source, exc.what) from None
    raw = read_bytes(p, source)  # a FIFO, a directory or stdin: one line, never a hang
    text = decode_report(raw)
    head = text.lstrip()[:2000].lower()
    if p.suffix.lower() in (".html", ".htm") or head.startswith(("<!doctype", "<html")) or "<table" in head:
        tables = titled_tables(text)
        for name in ("positions", "deals"):
            if name in tables and tables[name].rows:
                header, body, first = tables[name]
                return _rows_to_trades(header, body, f"{source} ({name.capitalize()})", tz, first)
        raise InputError(source, "no Positions or Deals table found in this HTML report")
    lines = text.splitlines()
    sample = "\n".join(lines[:20])
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    all_rows = [r for r in reader]
    # the header is the first row that maps to a time and a profit column
    for k, r in enumerate(all_rows[:50]):
        cols = _map_columns(r, source)
        if "profit" in cols and ("open_time" in cols or "time" in cols):
            return _rows_to_trades(r, all_rows[k + 1 :], source, tz, k + 2)
    header = all_rows[0] if all_rows else []
    raise InputError(
        source,
        "no header row with a time and a profit column; expected e.g. 'Open Time,Close Time,Profit[,Commission,Swap,MAE]'"
        f"; first row: {', '.join(header)[:200] or '(empty file)'}",
    )


# ---------------------------------------------------------------- preparation
@dataclass(frozen=True)
class _Prepared:
    """The trade history laid out on the program's trading weekdays (plain arrays, picklable)."""

    n_slots: int  # history weekdays, first to last trading day
    first_weekday: np.ndarray  # int64 (n_slots,): weekday 0..4 of each history slot
    day_start: np.ndarray  # int64 (n_slots + 1,): trades of slot h are [day_start[h], day_start[h+1])
    open_tod: np.ndarray  # ns since the trading day's start, sorted within each slot
    close_tod: np.ndarray
    span: np.ndarray  # int64: weekday slots from open to close (0: same day)
    pnl: np.ndarray
    mae: np.ndarray  # zeros when absent
    mfe: np.ndarray
    has_mae: bool
    has_mfe: bool
    n_moved: int  # trades opened on a weekend trading day, moved to Monday


def _prepare(trades: TradeList, program: Program) -> _Prepared:
    db = program.day_boundary
    od, otod = db.day_and_time(trades.open_ns)
    cd, ctod = db.day_and_time(trades.close_ns)
    shift = 1 if db.reset_ns >= 12 * NS_HOUR else 0
    # business-day index of a trading day; weekend days roll forward to Monday
    dates = (od + shift).astype("datetime64[D]")
    cdates = (cd + shift).astype("datetime64[D]")
    is_bd = np.is_busday(dates)
    n_moved = int((~is_bd).sum())
    origin = np.busday_offset(dates.min(), 0, roll="forward")
    obd = np.busday_count(origin, np.busday_offset(dates, 0, roll="forward"))
    cbd = np.busday_count(origin, np.busday_offset(cdates, 0, roll="forward"))
    otod = np.where(is_bd, otod, 0)
    c_is_bd = np.is_busday(cdates)
    ctod = np.where(c_is_bd, ctod, 0)
    span = np.maximum(cbd - obd, 0)
    same = span == 0
    ctod = np.where(same, np.maximum(ctod, otod), ctod)
    n_slots = int(obd.max()) + 1
    order = np.lexsort((otod, obd))
    obd, otod, ctod, span = obd[order], otod[order], ctod[order], span[order]
    pnl = trades.pnl[order]
    mae = trades.mae[order] if trades.mae is not None else np.zeros_like(pnl)
    mfe = trades.mfe[order] if trades.mfe is not None else np.zeros_like(pnl)
    day_start = np.searchsorted(obd, np.arange(n_slots + 1)).astype(np.int64)
    slot_dates = np.busday_offset(origin, np.arange(n_slots))
    first_weekday = weekday(slot_dates.astype(np.int64))
    return _Prepared(
        n_slots=n_slots,
        first_weekday=first_weekday,
        day_start=day_start,
        open_tod=otod.astype(np.int64),
        close_tod=ctod.astype(np.int64),
        span=span.astype(np.int64),
        pnl=pnl.astype(np.float64),
        mae=mae.astype(np.float64),
        mfe=mfe.astype(np.float64),
        has_mae=trades.mae is not None,
        has_mfe=trades.mfe is not None,
        n_moved=n_moved,
    )


# ---------------------------------------------------------------- one attempt
# per-run result columns


@dataclass(frozen=True)
class _Job:
    prep: _Prepared
    rules: np.ndarray  # (n_phases, RULE_SIZE)
    size: float
    seed: int
    start_mode: str
    block_days: int
    risk: float
    post_target_risk_mult: float
    max_trading_days: int
    horizon_days: int = 0  # calendar days per attempt; 0: none (max_trading_days only)


# ---------------------------------------------------------------- the traced sample (reports)
def _trace(job: _Job, a: int, phase_names: Sequence[str], expect: np.ndarray) -> list[Any]:
    """Attempt ``a`` again through the same kernel, keeping a row per day (``TLP_*``): its phases' daily
    paths (``simlab.sample.PhasePath``; equity is the closed balance: open trades have no price here).
    ``expect``: the run's row of the attempt (``TL_*``); a trace that differs from it is a bug (RuntimeError)."""
    from simlab.sample import PhasePath

    p = job.prep
    rows = np.zeros((max(job.max_trading_days, p.n_slots) + 1, L.TLP_SIZE))
    out = np.zeros(L.TL_SIZE)
    n = _attempt_nb(
        int(a), int(job.seed) & 0x7FFFFFFFFFFFFFFF, L.TL_MODES[job.start_mode], job.block_days,
        job.max_trading_days, job.risk, _sizing_governors(job.post_target_risk_mult), job.size,
        np.ascontiguousarray(job.rules, dtype=np.float64), p.day_start, p.first_weekday, p.open_tod, p.close_tod,
        p.span, p.pnl, p.mae, p.mfe, p.has_mae, p.has_mfe, int(job.horizon_days), out, rows,
    )  # fmt: skip
    if not np.array_equal(out, expect):
        raise RuntimeError(f"attempt {a}: the traced trade-list run differs from the Monte Carlo run")
    rows = rows[:n]
    done = int(out[L.TL_PHASES_PASSED])
    last = "passed" if int(out[L.TL_STATUS]) == L.STATUS_PASSED else L.STATUS_NAMES[int(out[L.TL_STATUS])]
    paths = []
    for k in range(min(done + 1, len(phase_names))):
        r = rows[rows[:, L.TLP_PHASE] == k]
        if not r.shape[0]:
            continue
        paths.append(
            PhasePath(
                phase=phase_names[k],
                status="passed" if k < done else last,
                start_day=int(r[0, L.TLP_CAL]),
                day=r[:, L.TLP_DAY].astype(np.int64),
                balance=r[:, L.TLP_BALANCE],
                equity=r[:, L.TLP_BALANCE],
                worst_equity=r[:, L.TLP_WORST],
                daily_limit=r[:, L.TLP_DAILY_LIMIT],
                max_loss_limit=r[:, L.TLP_MAXLOSS_LIMIT],
            )
        )
    return paths


def _sample_members(job: _Job, runs: np.ndarray, phase_names: Sequence[str]) -> dict[str, Any]:
    """The traced first attempts' members of the result body (see ``simlab.sample``)."""
    from simlab.sample import SAMPLE_ATTEMPTS, equity_bands, sample_note

    k = min(int(runs.shape[0]), SAMPLE_ATTEMPTS)
    traced = [_trace(job, a, phase_names, runs[a]) for a in range(k)]
    return {
        "sample": sample_note(k, int(runs.shape[0])),
        "equity_paths": [{"attempt": a, "phases": [p.to_json() for p in ph]} for a, ph in enumerate(traced)],
        "equity_bands": equity_bands(traced, phase_names),
    }


# ---------------------------------------------------------------- many attempts
def _sizing_governors(post_target_risk_mult: float) -> np.ndarray:
    """The governor vector of trade-list mode: every governor off but the post-target risk multiplier
    (the others act inside trades, which are already taken)."""
    from simlab.governors_nb import no_governors

    gov = no_governors()
    gov[L.GOV_POST_TARGET_RISK_MULT] = post_target_risk_mult
    return gov


def _run_range(job: _Job, lo: int, hi: int) -> np.ndarray:
    """Outcomes of runs ``lo .. hi-1`` (one row each); a pure function of (job, run index)."""
    p = job.prep
    return _runs_nb(
        int(lo),
        int(hi),
        int(job.seed) & 0x7FFFFFFFFFFFFFFF,
        L.TL_MODES[job.start_mode],
        job.block_days,
        job.max_trading_days,
        job.risk,
        _sizing_governors(job.post_target_risk_mult),
        job.size,
        np.ascontiguousarray(job.rules, dtype=np.float64),
        p.day_start,
        p.first_weekday,
        p.open_tod,
        p.close_tod,
        p.span,
        p.pnl,
        p.mae,
        p.mfe,
        p.has_mae,
        p.has_mfe,
        int(job.horizon_days),
    )


@dataclass
class TradeListResult:
    """Per-attempt outcomes (arrays, one row per run) and what is needed to summarise them."""

    program: str
    phases: tuple[str, ...]
    size: float
    currency: str
    seed: int
    n_runs: int
    start_mode: str
    block_days: int
    risk: float
    post_target_risk_mult: float
    max_trading_days: int
    source: str
    n_trades_source: int
    n_days_source: int  # history weekdays
    n_active_days_source: int  # weekdays with at least one trade opened
    has_mae: bool
    has_mfe: bool
    n_moved: int
    skipped: int
    runs: np.ndarray  # (n_runs, L.TL_SIZE)
    rules: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, L.RULE_SIZE)))
    horizon_days: int = 0  # calendar days per attempt (0: none, max_trading_days only)
    job: _Job | None = field(default=None, repr=False)  # what traces the sample (None: no sample)
    trade_stats: dict[str, Any] | None = None  # of the list's trades, as scaled
    _sample: dict[str, Any] | None = field(default=None, init=False, repr=False)

    # ------------------------------------------------------------ summary
    def summary(self) -> dict[str, Any]:
        r = self.runs
        n = int(r.shape[0])
        status = r[:, L.TL_STATUS].astype(int)
        passed = status == L.STATUS_PASSED
        k = int(passed.sum())
        lo, hi = wilson_interval(k, n)
        phases = []
        pp = r[:, L.TL_PHASES_PASSED].astype(int)
        for i, name in enumerate(self.phases):
            reached = int((pp >= i).sum())
            ok = int((pp >= i + 1).sum())
            plo, phi = wilson_interval(ok, reached)
            phases.append(
                {
                    "phase": name,
                    "reached": reached,
                    "passed": ok,
                    "pass_rate": ok / reached if reached else None,
                    "wilson95": [plo, phi],
                }
            )
        reasons: dict[str, int] = {"passed": k}
        for code, name in L.BREACH_NAMES.items():
            if code == L.BREACH_NONE:
                continue
            c = int(((status == L.STATUS_BREACHED) & (r[:, L.TL_REASON].astype(int) == code)).sum())
            if c:
                reasons[name] = c
        unfinished = int((status == L.STATUS_RUNNING).sum())
        if unfinished:
            reasons["unfinished"] = unfinished
        cal = r[passed, L.TL_CAL_DAYS].tolist()
        trd = r[passed, L.TL_TRADING_DAYS].tolist()
        days_q = quantiles(cal)
        tdays_q = quantiles(trd)
        dd_daily = quantiles(r[:, L.TL_MAX_DAILY_DD].tolist(), (0.5, 0.9, 1.0))
        dd_total = quantiles(r[:, L.TL_MAX_TOTAL_DD].tolist(), (0.5, 0.9, 1.0))
        tdays_all = r[:, L.TL_TRADING_DAYS].sum()
        return {
            "runs": n,
            "passed": k,
            "pass_rate": k / n if n else None,
            "wilson95": [lo, hi],
            "phases": phases,
            "days_to_pass": {
                "p10": days_q[0],
                "median": days_q[1],
                "p90": days_q[2],
                "unit": "calendar days",
            },
            "trading_days_to_pass": {"p10": tdays_q[0], "median": tdays_q[1], "p90": tdays_q[2]},
            "ended_by": reasons,
            "max_daily_drawdown": {"median": dd_daily[0], "p90": dd_daily[1], "max": dd_daily[2]},
            "max_total_drawdown": {"median": dd_total[0], "p90": dd_total[1], "max": dd_total[2]},
            "trades_per_trading_day": float(r[:, L.TL_N_TRADES].sum() / tdays_all) if tdays_all else 0.0,
        }

    def caveats(self) -> list[str]:
        """What trade granularity cannot see, for this program and this input."""
        out = []
        floating = self.rules.shape[0] and bool(
            np.any((self.rules[:, L.RULE_DAILY_FLOATING] > 0) | (self.rules[:, L.RULE_MAXLOSS_FLOATING] > 0))
        )
        if not self.has_mae:
            out.append(
                "No MAE column: the floating drawdown inside a trade is invisible, only closed P/L is checked"
                + (" - optimistic for this program, whose limits count floating P/L." if floating else ".")
            )
        else:
            out.append(
                "MAE is applied as each trade's worst point on the closed balance at its open: the dips of "
                "concurrent trades are not added up, and the dip is judged on the day the trade opened."
            )
        bases = set(self.rules[:, L.RULE_DAILY_BASIS].astype(int).tolist()) if self.rules.shape[0] else set()
        if bases - {L.BASIS_BALANCE}:
            out.append(
                "Equity-based daily bases use the day-start balance: the floating P/L at the reset is unknown."
            )
        modes = set(self.rules[:, L.RULE_MAXLOSS_MODE].astype(int).tolist()) if self.rules.shape[0] else set()
        if L.MAXLOSS_TRAILING_INTRADAY in modes:
            out.append(
                "Intraday trailing max loss sees closed-balance highs"
                + (" and MFE." if self.has_mfe else " only (no MFE column): optimistic.")
            )
        out.append(
            "Costs are those in the report (no fresh spread/slippage samples); governors are not applied"
            + (
                f", except risk x{self.post_target_risk_mult:g} once the target is banked."
                if self.post_target_risk_mult != 1.0
                else "."
            )
        )
        if self.n_moved:
            out.append(f"{self.n_moved} trades opened on a weekend trading day were moved to the Monday.")
        out.append(
            f"The interval is the simulation's error only: {self.n_trades_source} trades over "
            f"{self.n_days_source} weekdays are one sample of the strategy - a short history is the bigger uncertainty."
        )
        return out

    # ------------------------------------------------------------ output (schema simlab.result/1)
    @property
    def effective_horizon_days(self) -> int:
        """The calendar days an attempt may last: ``horizon_days``, else what ``max_trading_days`` allows."""
        if self.horizon_days > 0:
            return self.horizon_days
        return (self.max_trading_days // 5) * 7 + self.max_trading_days % 5

    def attempts(self) -> list[dict[str, Any]]:
        """One entry per attempt in the ``simlab.result`` layout (see :mod:`simlab.results`)."""
        unfinished = (
            NOT_PASSED_IN_HORIZON
            if self.start_mode in ("bootstrap", "trades")
            else "history_or_horizon_ended"
        )
        out = []
        for a, row in enumerate(self.runs):
            st = int(row[L.TL_STATUS])
            done = min(int(row[L.TL_PHASES_PASSED]), len(self.phases))
            phases: list[dict[str, Any]] = [
                {"phase": self.phases[p], "status": "passed", "reason": "none"} for p in range(done)
            ]
            failure = None
            if st != L.STATUS_PASSED:
                status = "breached" if st == L.STATUS_BREACHED else "running"
                reason = L.BREACH_NAMES[int(row[L.TL_REASON])] if status == "breached" else unfinished
                phases.append({"phase": self.phases[done], "status": status, "reason": reason})
                failure = failure_label(self.phases[done], status, reason)
            out.append(
                {
                    "attempt": a,
                    "passed": st == L.STATUS_PASSED,
                    "days_to_pass": int(row[L.TL_CAL_DAYS]) if st == L.STATUS_PASSED else None,
                    "failure": failure,
                    "calendar_days": int(row[L.TL_CAL_DAYS]),
                    "trading_days": int(row[L.TL_TRADING_DAYS]),
                    "trades": int(row[L.TL_N_TRADES]),
                    "max_daily_drawdown": round(float(row[L.TL_MAX_DAILY_DD]), 6),
                    "max_total_drawdown": round(float(row[L.TL_MAX_TOTAL_DD]), 6),
                    "phases": phases,
                }
            )
        return out

    def sample(self) -> dict[str, Any]:
        """The traced first attempts' members of the body and the list's trade statistics."""
        if self._sample is None:
            self._sample = {} if self.job is None else _sample_members(self.job, self.runs, self.phases)
            if self.trade_stats is not None:
                self._sample["trade_stats"] = self.trade_stats
        return self._sample

    def to_json(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``result`` body of the ``simlab.result`` schema, the same layout as bar mode's."""
        return challenge_result(
            self.attempts(),
            self.phases,
            self.effective_horizon_days,
            caveats=self.caveats(),
            extra=self.sample() | (extra or {}),
        )

    def document(self, provenance: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The whole result file: envelope, ``provenance`` and body."""
        return envelope("challenge", "trade_list", provenance, self.to_json(extra))

    def basic_provenance(self) -> dict[str, Any]:
        """What the run itself knows, for a document built outside the CLI."""
        return {
            "argv": [],
            "seed": self.seed,
            "runs": self.n_runs,
            "horizon": {
                "days": self.effective_horizon_days,
                "source": "--horizon-days" if self.horizon_days else f"{self.max_trading_days} trading days",
                "program_time_limited": False,
            },
            "program": {"name": self.program, "size": self.size, "currency": self.currency},
            "trades": {"name": self.source, "trades": self.n_trades_source},
            "bootstrap_block_days": self.block_days,
            "start_mode": self.start_mode,
            "trade_scale": self.risk,
        }

    def format(self, doc: dict[str, Any] | None = None) -> str:
        """The terminal table, drawn from the result document (built here when not given)."""
        return format_challenge_table(self.document(self.basic_provenance()) if doc is None else doc)


def format_result(res: TradeListResult) -> str:
    """The terminal table of a trade-list run (the one challenge table of :mod:`simlab.results`)."""
    return res.format()


def to_json(res: TradeListResult) -> dict[str, Any]:
    """The ``result`` body of a trade-list run in the ``simlab.result`` schema."""
    return res.to_json()


def evaluate_trades(
    trades: TradeList,
    program: Program | str,
    size: float,
    *,
    seed: int = 7,
    n_runs: int = 1000,
    start_mode: str = "bootstrap",
    block_days: int = 1,
    risk: float = 1.0,
    post_target_risk_mult: float = 1.0,
    max_trading_days: int = 260,
    workers: int = 1,
    horizon_days: int = 0,
    progress: bool | None = False,
) -> TradeListResult:
    """Bootstrap ``n_runs`` challenge attempts from ``trades`` and judge them by ``program``'s rules.

    ``size``: an account size the program sells. ``risk``: every trade's P/L
    (and MAE/MFE) is multiplied by it (0.5 = as if traded at half the volume;
    P/L is replayed in money, not compounded). ``post_target_risk_mult``: the
    same for trades opened after the target is banked while other objectives
    are not met yet (pass a GovernorConfig's ``post_target_risk_mult`` to
    mirror the governors). ``start_mode`` / ``block_days``: see the module
    docstring. ``workers`` > 1 spreads runs over threads (the numba kernel
    releases the GIL); results do not depend on it. ``horizon_days`` > 0: each
    attempt ends after that many calendar days (weekends count), as in bar mode.
    ``progress``: a progress bar on stderr for a run longer than a second (None: when
    stderr is a terminal).
    """
    prog = program if isinstance(program, Program) else load_program(program)
    size = prog.check_size(size)
    if start_mode not in START_MODES:
        raise ConfigError(
            "start_mode", f"unknown start mode {start_mode!r}; expected one of {', '.join(START_MODES)}"
        )
    if n_runs < 1:
        raise ConfigError("n_runs", f"expected at least 1 run, got {n_runs}")
    if block_days < 1:
        raise ConfigError("block_days", f"expected a whole number >= 1, got {block_days}")
    if not (risk > 0 and math.isfinite(risk)):
        raise ConfigError("risk", f"expected a positive multiplier, got {risk}")
    if not (post_target_risk_mult >= 0 and math.isfinite(post_target_risk_mult)):
        raise ConfigError("post_target_risk_mult", f"expected a multiplier >= 0, got {post_target_risk_mult}")
    if max_trading_days < 1:
        raise ConfigError("max_trading_days", f"expected a whole number >= 1, got {max_trading_days}")
    if horizon_days < 0:
        raise ConfigError("horizon_days", f"expected a whole number >= 0 (0: none), got {horizon_days}")
    prep = _prepare(trades, prog)
    job = _Job(
        prep=prep,
        rules=prog.rule_matrix(),
        size=size,
        seed=int(seed),
        start_mode=start_mode,
        block_days=int(block_days),
        risk=float(risk),
        post_target_risk_mult=float(post_target_risk_mult),
        max_trading_days=int(max_trading_days),
        horizon_days=int(horizon_days),
    )
    runs = np.zeros((n_runs, L.TL_SIZE))

    def work(lo: int, hi: int) -> None:
        runs[lo:hi] = _run_range(job, lo, hi)

    # the kernel releases the GIL: threads run attempts in parallel, in short chunks (Ctrl-C acts
    # within one, and a terminal shows progress); each run is a pure function of its index
    run_range(work, n_runs, workers=max(1, int(workers)), label="runs", progress=progress)
    counts = np.diff(prep.day_start)
    return TradeListResult(
        program=prog.name,
        phases=tuple(p.name for p in prog.phases),
        size=size,
        currency=prog.currency,
        seed=int(seed),
        n_runs=int(n_runs),
        start_mode=start_mode,
        block_days=int(block_days),
        risk=float(risk),
        post_target_risk_mult=float(post_target_risk_mult),
        max_trading_days=int(max_trading_days),
        source=trades.source,
        n_trades_source=len(trades),
        n_days_source=prep.n_slots,
        n_active_days_source=int((counts > 0).sum()),
        has_mae=prep.has_mae,
        has_mfe=prep.has_mfe,
        n_moved=prep.n_moved,
        skipped=trades.skipped,
        runs=runs,
        rules=prog.rule_matrix(),
        horizon_days=int(horizon_days),
        job=job,
        trade_stats=_list_stats(trades, float(risk)),
    )


def _list_stats(trades: TradeList, scale: float) -> dict[str, Any]:
    """Trade statistics of the list itself, P/L scaled as the attempts replay it."""
    from simlab.sample import trade_stats

    return trade_stats(trades.pnl * scale, trades.close_ns - trades.open_ns) | {
        "from": f"the trade list ({len(trades)} trades" + (f", P/L x{scale:g})" if scale != 1.0 else ")")
    }


__all__ = [
    "START_MODES",
    "TradeList",
    "TradeListResult",
    "evaluate_trades",
    "format_result",
    "load_trades",
    "to_json",
    "trades_from_arrays",
]
