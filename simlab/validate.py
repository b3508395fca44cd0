"""Checks on market data arrays that name the first bad row, field and what was expected.

Every check is vectorised (numpy). A :class:`Problems` collector keeps, for each
check, the first row it found; :meth:`Problems.raise_first` raises the problem at
the *earliest* row of all as one :class:`~simlab.errors.InputError`, so a user
fixing a file from the top sees problems in file order.

Rows are named the way a user finds them: ``line N`` for text files (the file's
own line number, the header being line 1), ``row N`` (1-based) for Parquet, and
``index N (0-based)`` for arrays handed in from Python.

>>> import numpy as np
>>> p = Problems("bars.csv", RowLabels.text(np.arange(3) + 2))
>>> check_high_low(p, np.array([1.0, 1.0, 0.5]), np.array([0.9, 1.1, 0.4]), "bid_high", "bid_low")
>>> str(p.first())
"bars.csv: line 3, field 'bid_high': high 1 < low 1.1; expected high >= low"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simlab.calendar import NS_HOUR
from simlab.errors import InputError


def fmt_num(x: object) -> str:
    """A price or count as a user wrote it, near enough: 10 significant digits, no trailing zeros."""
    try:
        return f"{float(x):.10g}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return repr(x)


def fmt_ns(ns: int) -> str:
    """UTC nanoseconds as 'YYYY-MM-DD HH:MM:SS[.fff] UTC'."""
    d = np.datetime64(int(ns), "ns")
    text = str(d.astype("datetime64[ms]")).replace("T", " ")
    if text.endswith(".000"):
        text = text[:-4]
    return text + " UTC"


def first_true(mask: np.ndarray) -> int:
    """Index of the first True in ``mask``, or -1."""
    if mask.size == 0:
        return -1
    i = int(np.argmax(mask))
    return i if bool(mask[i]) else -1


@dataclass(frozen=True)
class RowLabels:
    """How a row index is shown to the user."""

    numbers: np.ndarray | None  # user-facing number per row (None: 0-based index)
    word: str

    @classmethod
    def text(cls, line_numbers: np.ndarray) -> RowLabels:
        return cls(np.asarray(line_numbers, dtype=np.int64), "line")

    @classmethod
    def table(cls, n: int) -> RowLabels:
        return cls(np.arange(1, n + 1, dtype=np.int64), "row")

    @classmethod
    def array(cls) -> RowLabels:
        return cls(None, "index")

    def __call__(self, i: int) -> str:
        if self.numbers is None:
            return f"index {i} (0-based)"
        return f"{self.word} {int(self.numbers[i])}"


class Problems:
    """Collects problems as (row index, field, what); raises the one at the earliest row."""

    def __init__(self, where: str, labels: RowLabels) -> None:
        self.where = where
        self.labels = labels
        self._items: list[tuple[int, int, str, str]] = []

    def add(self, i: int, field: str, what: str) -> None:
        if i >= 0:
            self._items.append((i, len(self._items), field, what))

    def add_first(self, mask: np.ndarray, field: str, what) -> None:  # what: Callable[[int], str]
        """Add the first row where ``mask`` is True; ``what(i)`` builds its message."""
        i = first_true(mask)
        if i >= 0:
            self.add(i, field, what(i))

    def __bool__(self) -> bool:
        return bool(self._items)

    def first_index(self) -> int:
        return min(self._items)[0] if self._items else -1

    def first(self) -> InputError | None:
        if not self._items:
            return None
        i, _, field, what = min(self._items)
        where_row = self.labels(i)
        head = f"{where_row}, field '{field}'" if field else where_row
        return InputError(self.where, f"{head}: {what}")

    def raise_first(self) -> None:
        err = self.first()
        if err is not None:
            raise err


# ---------------------------------------------------------------- checks


def check_prices(p: Problems, values: np.ndarray, field: str, raw: Any = None) -> None:
    """Prices must be finite and > 0. ``raw`` (strings as written) is used in messages where given."""
    bad = ~(values > 0) | ~np.isfinite(values)  # NaN compares False: caught by the first term

    def what(i: int) -> str:
        v = values[i]
        shown = raw[i] if raw is not None else None
        if shown is None or (isinstance(shown, float) and np.isnan(shown)) or str(shown).strip() == "":
            if np.isnan(v):
                empty = "is empty" if raw is not None else "is empty or NaN"
                return f"{empty}; expected a price (a finite number > 0)"
            shown = fmt_num(v)
        shown = str(shown)
        if np.isnan(v):
            hint = " (a decimal comma? use '.')" if _looks_decimal_comma(shown) else ""
            return f"{shown!r} is not a number{hint}; expected a price (a finite number > 0)"
        if not np.isfinite(v):
            return f"{shown!r} is not finite; expected a price (a finite number > 0)"
        return f"{shown} is not > 0; expected a price (a finite number > 0)"

    p.add_first(bad, field, what)


def _looks_decimal_comma(s: str) -> bool:
    s = s.strip()
    return s.count(",") == 1 and s.replace(",", "").replace("-", "").isdigit()


def check_high_low(p: Problems, high: np.ndarray, low: np.ndarray, f_high: str, f_low: str) -> None:
    p.add_first(
        high < low,
        f_high,
        lambda i: f"high {fmt_num(high[i])} < low {fmt_num(low[i])}; expected high >= low",
    )


def check_inside(
    p: Problems, value: np.ndarray, high: np.ndarray, low: np.ndarray, field: str, name: str
) -> None:
    """``low <= value <= high`` (rows where high < low are reported by :func:`check_high_low`)."""
    bad = ((value > high) | (value < low)) & (high >= low)
    p.add_first(
        bad,
        field,
        lambda i: (
            f"{name} {fmt_num(value[i])} is outside [low {fmt_num(low[i])}, high {fmt_num(high[i])}]; "
            f"expected low <= {name} <= high"
        ),
    )


def check_ohlc(p: Problems, ohlc: np.ndarray, fields: tuple[str, str, str, str]) -> None:
    o, h, lo, c = (ohlc[:, j] for j in range(4))
    check_high_low(p, h, lo, fields[1], fields[2])
    check_inside(p, o, h, lo, fields[0], "open")
    check_inside(p, c, h, lo, fields[3], "close")


def check_ask_ge_bid(p: Problems, bid: np.ndarray, ask: np.ndarray, f_ask: str, f_bid: str) -> None:
    p.add_first(
        ask < bid,
        f_ask,
        lambda i: f"ask {fmt_num(ask[i])} < bid {fmt_num(bid[i])} ('{f_bid}'); expected ask >= bid",
    )


def check_non_negative(p: Problems, values: np.ndarray, field: str, expected: str) -> None:
    """Finite and >= 0 (spread, volume)."""
    bad = ~(values >= 0)  # NaN, -x and -inf
    bad |= np.isposinf(values)

    def what(i: int) -> str:
        v = values[i]
        if np.isnan(v):
            return f"is empty or not a number; expected {expected}"
        if v < 0:
            return f"{fmt_num(v)} is negative; expected {expected}"
        return f"{fmt_num(v)} is not finite; expected {expected}"

    p.add_first(bad, field, what)


def check_time_order(
    p: Problems,
    time_ns: np.ndarray,
    valid: np.ndarray,
    field: str,
    *,
    strict: bool = True,
    raw: Any = None,
    dst_hint: bool = False,
) -> None:
    """Times (int64 ns UTC) must increase (``strict``) or never decrease; rows not ``valid`` are skipped.

    ``dst_hint``: the times are local times read without a zone; a step back of at most an
    hour is then most likely the hour repeated when DST ends, and the message says to pass --tz.
    """
    idx = np.flatnonzero(valid)
    if idx.size < 2:
        return
    t = time_ns[idx]
    d = np.diff(t)
    bad = d <= 0 if strict else d < 0
    k = first_true(bad)
    if k < 0:
        return
    i, j = int(idx[k + 1]), int(idx[k])  # the row that breaks the order, and the one before it

    def shown(r: int) -> str:
        s = fmt_ns(int(time_ns[r]))
        if raw is not None and raw[r] is not None:
            rs = str(raw[r]).strip()
            if rs and rs.replace("T", " ").rstrip("Z") not in s:
                s = f"{rs!r} (= {s})"
        return s

    if time_ns[i] == time_ns[j]:
        kind = "duplicate time"
    else:
        kind = "time goes backwards"
    order = "strictly increasing times (one row per bar)" if strict else "times in order (never decreasing)"
    hint = ""
    if dst_hint and 0 <= time_ns[j] - time_ns[i] <= NS_HOUR:
        hint = (
            "; a repeated hour when daylight saving time ends? the file is in a local (server) time: "
            "pass --tz with its zone, e.g. Europe/Helsinki or America/New_York+7"
        )
    p.add(i, field, f"{shown(i)} is not after {p.labels(j)}'s {shown(j)} ({kind}); expected {order}{hint}")


def validate_bars(bars, where: str = "bars") -> None:
    """Check a :class:`~simlab.bars.Bars` built in Python; raise InputError naming the first bad index.

    >>> import numpy as np
    >>> from simlab.bars import Bars
    >>> b = Bars(time=np.array([0, 0]), bid=np.ones((2, 4)), ask=np.ones((2, 4)), volume=np.zeros(2))
    >>> try:
    ...     validate_bars(b)
    ... except InputError as e:
    ...     print(e)
    bars: index 1 (0-based), field 'time': 1970-01-01 00:00:00 UTC is not after index 0 (0-based)'s 1970-01-01 00:00:00 UTC (duplicate time); expected strictly increasing times (one row per bar)
    """
    n = len(bars)
    for name in ("bid", "ask"):
        arr = getattr(bars, name)
        if arr.shape != (n, 4):
            raise InputError(
                where, f"field '{name}': shape {arr.shape}; expected ({n}, 4) (open, high, low, close)"
            )
    if bars.volume.shape != (n,):
        raise InputError(where, f"field 'volume': shape {bars.volume.shape}; expected ({n},)")
    p = Problems(where, RowLabels.array())
    t = np.asarray(bars.time, dtype=np.int64)
    check_time_order(p, t, np.ones(n, dtype=bool), "time")
    cols = ("open", "high", "low", "close")
    for side in ("bid", "ask"):
        arr = np.asarray(getattr(bars, side), dtype=np.float64)
        for j, c in enumerate(cols):
            check_prices(p, arr[:, j], f"{side}_{c}")
        check_ohlc(p, arr, tuple(f"{side}_{c}" for c in cols))  # type: ignore[arg-type]
    for j, c in enumerate(cols):
        check_ask_ge_bid(p, bars.bid[:, j], bars.ask[:, j], f"ask_{c}", f"bid_{c}")
    check_non_negative(p, np.asarray(bars.volume, dtype=np.float64), "volume", "a volume >= 0")
    p.raise_first()
