"""Which symbol a data file holds, which point its prices and spreads are in, and whether they fit the spec.

Three rules, each a one-line error rather than a silent guess:

* **The symbol**: ``--symbol`` when given; else the symbol an MT5 export names in
  its file name (``XAUUSD_H1_202401020000_202412312300.csv``, ``GER40.cash_M1_...``,
  ``EURUSDm_...``, ``DE30EUR_M1_...``: broker decorations and aliases are resolved
  by :func:`simlab.symbols.name_candidates`); else EURUSD, the default.
* **The point**: an MT5 "Export bars" ``<SPREAD>`` column counts points of the
  *exporting* symbol, so the spread is ``<SPREAD> x point`` with the point of the
  symbol's spec (or ``--point`` where a command has it). Only where no spec is known
  is the point taken from the prices' decimals. A file whose prices have more
  decimals than the spec's digits, or (over many prices) fewer decimals than its
  tick size, was exported from a symbol with other digits: refused, with the spec
  override that would fit.
* **The prices**: each preset has a plausible price range (``price_range``); bars
  outside it are not that symbol (gold run as EURUSD), and the error suggests the
  presets whose range fits.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simlab.errors import ConfigError, InputError

if TYPE_CHECKING:
    from simlab.symbols import SymbolSpec
    from simlab.validate import RowLabels

__all__ = [
    "DEFAULT_SYMBOL",
    "PointChoice",
    "SymbolChoice",
    "check_plausible",
    "choose_symbol",
    "infer_digits",
    "resolve_point",
    "symbol_from_filename",
]

DEFAULT_SYMBOL = "EURUSD"
# A file has "too few decimals for the spec" only when this many distinct prices all sit on a
# coarser grid: with true digits D, k distinct prices all ending in 0 happen with odds ~10**-k.
MIN_DISTINCT_FOR_COARSE = 20

# MT5 names exports SYMBOL_TIMEFRAME_FROM_TO.csv (timeframes M1..M30, H1..H12, D1, W1, MN1).
_MT5_NAME_RE = re.compile(r"^(?P<sym>[^_\s][^\s]*?)_(?:MN|M|H|D|W)\d{1,2}(?=[_.]|$)", re.IGNORECASE)


def infer_digits(prices: np.ndarray, max_digits: int = 8) -> int | None:
    """The most decimals seen in ``prices`` (5 for 1.38686), or None where more than ``max_digits``.

    >>> infer_digits(np.array([1.38686, 1.3869, 1.4]))
    5
    >>> infer_digits(np.array([101.25, 99.5]))
    2
    """
    x = np.asarray(prices, dtype=np.float64)
    x = np.unique(np.abs(x[np.isfinite(x)]))
    if x.size == 0:
        return None
    for d in range(max_digits + 1):
        s = x * 10.0**d
        tol = np.maximum(1e-6, 16 * np.finfo(np.float64).eps * s)
        if bool(np.all(np.abs(s - np.rint(s)) <= tol)):
            return d
    return None


def _off_grid(x: np.ndarray, digits: int) -> np.ndarray:
    """True where a price has more than ``digits`` decimals (the same tolerance as :func:`infer_digits`)."""
    s = np.abs(x) * 10.0**digits
    tol = np.maximum(1e-6, 16 * np.finfo(np.float64).eps * s)
    return np.isfinite(s) & (np.abs(s - np.rint(s)) > tol)


def _g(x: float) -> str:
    return f"{x:.10g}"


# ----------------------------------------------------------------------------- the symbol


def symbol_from_filename(path: str | Path) -> str | None:
    """The symbol an MT5 export's file name starts with, as written (``GER40.cash``), or None.

    >>> symbol_from_filename("data/XAUUSD_H1_202401020000_202412312300.csv")
    'XAUUSD'
    >>> symbol_from_filename("GER40.cash_M1_202401020000_202401312359.csv")
    'GER40.cash'
    >>> symbol_from_filename("prices.csv") is None
    True
    """
    m = _MT5_NAME_RE.match(Path(str(path)).name)
    return m.group("sym") if m else None


@dataclass(frozen=True)
class SymbolChoice:
    """The symbol a run uses for a data file, and why.

    ``source``: ``"--symbol"`` (given), ``"file name"`` (an MT5 export's name) or
    ``"default"`` (EURUSD). ``spec`` is None where no spec of that name is known (the
    loaders then take the point from the prices). ``file_symbol`` is a symbol-like
    name in the file name that matched no spec (shown in hints).
    """

    name: str
    source: str
    spec: SymbolSpec | None
    file_symbol: str | None = None
    spec_key: str | None = (
        None  # the preset or --symbol-file section the spec came from ("GER40" for DE30EUR)
    )

    def describe(self) -> str:
        return f"{self.name} (from {self.source})"


def _known_spec(name: str, symbol_file: str | Path | None) -> tuple[SymbolSpec | None, str | None]:
    """The spec of ``name`` and the preset / file section it came from; (None, None) where there is none."""
    from simlab.symbols import _resolve as resolve
    from simlab.symbols import get_symbol, load_symbol_overrides, preset_names

    table = dict.fromkeys(preset_names())
    if symbol_file is not None:
        table.update(dict.fromkeys(load_symbol_overrides(symbol_file)))
    key = resolve(name, table)
    if key is None:
        return None, None
    return get_symbol(name, symbol_file), key


def choose_symbol(
    symbol: str | None,
    path: str | Path | None = None,
    symbol_file: str | Path | None = None,
    *,
    spec: SymbolSpec | None = None,
) -> SymbolChoice:
    """Decide the symbol of ``path`` (see the module docstring); an explicit name or ``spec`` always wins."""
    if spec is not None:
        return SymbolChoice(symbol or spec.name, "--symbol", spec, spec_key=spec.name)
    token = symbol_from_filename(path) if path is not None else None
    if symbol is not None and str(symbol).strip():
        name = str(symbol).strip()
        found, key = _known_spec(name, symbol_file)
        return SymbolChoice(name, "--symbol", found, spec_key=key)
    if token is not None:
        found, key = _known_spec(token, symbol_file)
        if found is not None:
            return SymbolChoice(token, "file name", found, spec_key=key)
    found, key = _known_spec(DEFAULT_SYMBOL, symbol_file)
    return SymbolChoice(DEFAULT_SYMBOL, "default", found, token, key)


# ----------------------------------------------------------------------------- plausible prices


def _suggestions(price: float, exclude: str) -> list[str]:
    """Presets whose price range holds ``price``, the closest to the middle of its range (in log) first."""
    from simlab.symbols import get_symbol, preset_names

    scored = []
    for name in preset_names():
        rng = get_symbol(name).price_range
        if name == exclude or rng is None or not rng[0] <= price <= rng[1]:
            continue
        scored.append((abs(math.log(price) - 0.5 * (math.log(rng[0]) + math.log(rng[1]))), name))
    return [name for _, name in sorted(scored)]


def check_plausible(
    bid: np.ndarray,
    choice: SymbolChoice,
    where: str,
    labels: RowLabels | None = None,
    fields: tuple[str, str] = ("low", "high"),
) -> None:
    """Raise InputError unless the bid prices fit ``choice.spec.price_range`` (skipped without a range).

    ``bid``: (n, 4) OHLC or (n,) prices. Where the median price is outside the range the
    file is another symbol (the message suggests presets that fit); where only some
    rows are, the first such row is named.
    """
    spec = choice.spec
    if spec is None or spec.price_range is None:
        return
    b = np.asarray(bid, dtype=np.float64)
    if b.size == 0:
        return
    lo_col = b[:, 2] if b.ndim == 2 else b
    hi_col = b[:, 1] if b.ndim == 2 else b
    ref = b[:, 3] if b.ndim == 2 else b
    lo, hi = spec.price_range
    bad = (lo_col < lo) | (hi_col > hi)
    if not bad.any():
        return
    med = float(np.median(ref[np.isfinite(ref)]))
    rng = f"{_g(lo)} .. {_g(hi)}"
    if not lo <= med <= hi:
        fits = _suggestions(med, spec.name)
        how = {
            "--symbol": f"--symbol {choice.name}",
            "file name": f"the file name's symbol {choice.name}",
            "default": f"the default symbol {choice.name} (no --symbol given)",
        }.get(choice.source, choice.name)
        if fits:
            hint = f"pass --symbol {fits[0]}" + (f" (or {', '.join(fits[1:3])})" if len(fits) > 1 else "")
        elif choice.file_symbol:
            hint = f"the file name says {choice.file_symbol}, which has no spec: define it in a --symbol-file"
        else:
            hint = "pass the right --symbol (define it in a --symbol-file if it is not a preset)"
        raise InputError(
            where,
            f"prices {_g(float(np.nanmin(lo_col)))} .. {_g(float(np.nanmax(hi_col)))} (median {_g(med)}) "
            f"are not {spec.name} prices ({rng}) for {how}; {hint}",
        )
    i = int(np.argmax(bad))
    row = labels(i) if labels is not None else f"index {i} (0-based)"
    value, field = (lo_col[i], fields[0]) if lo_col[i] < lo else (hi_col[i], fields[1])
    raise InputError(
        where,
        f"{row}, field '{field}': {_g(float(value))} is outside the plausible {spec.name} prices ({rng}); "
        f"expected {spec.name} prices (a bad quote? or set price_range in a --symbol-file)",
    )


# ----------------------------------------------------------------------------- the point


@dataclass(frozen=True)
class PointChoice:
    """The point in use: ``point``, its ``source`` ("--point", "spec" or "file digits"), ``digits`` of that point,
    and ``file_digits``, the most decimals seen in the prices (None: more than 8)."""

    point: float
    source: str
    digits: int
    file_digits: int | None


def _override_hint(spec: SymbolSpec, digits: int) -> str:
    point = 10.0**-digits
    fields = [f"digits = {digits}", f"point = {_g(point)}"]
    if spec.tick_size < point * (1 - 1e-9):
        fields += [f"tick_size = {_g(point)}", f"tick_value = {_g(spec.tick_value * point / spec.tick_size)}"]
    return f"a --symbol-file with [{spec.name}] {', '.join(fields)}"


def resolve_point(
    bid: np.ndarray,
    choice: SymbolChoice,
    where: str,
    *,
    point: float | None = None,
    strict: bool = True,
    labels: RowLabels | None = None,
    fields: tuple[str, ...] = ("open", "high", "low", "close"),
    option: str = "--point",
) -> PointChoice:
    """The point for the prices ``bid`` ((n, 4) or (n,)): ``point`` if given, else the spec's, else the prices' decimals.

    ``strict`` (the file's spread is in points, so the point scales data): prices with
    more decimals than the point's digits, or with fewer decimals than the spec's tick
    size over at least :data:`MIN_DISTINCT_FOR_COARSE` distinct prices, raise InputError
    naming both and the override that fits.
    """
    b = np.asarray(bid, dtype=np.float64)
    b2 = b.reshape(b.shape[0], -1) if b.ndim > 1 else b.reshape(-1, 1)
    file_digits = infer_digits(b2)
    spec = choice.spec
    if point is not None:
        if not (isinstance(point, int | float) and math.isfinite(point) and point > 0):
            raise ConfigError(option, f"{point!r}: expected a positive number like 0.00001")
        digits = infer_digits(np.array([point]))
        if digits is None:
            raise ConfigError(option, f"{point!r}: expected a power of ten like 0.00001 or 0.1")
        pc = PointChoice(float(point), "--point", digits, file_digits)
        named = f"{option} is {_g(float(point))}"
    elif spec is not None:
        pc = PointChoice(spec.point, "spec", spec.digits, file_digits)
        named = f"the {choice.name} spec's point is {_g(spec.point)} ({spec.digits} digits; symbol from {choice.source})"
    else:
        if file_digits is None:
            if strict:
                raise InputError(
                    where,
                    f"prices have more than 8 decimals, so their point is unknown and no spec of {choice.name} "
                    f"gives it; expected prices on a point grid, or {option} / a known --symbol",
                )
            return PointChoice(1e-8, "file digits", 8, None)
        return PointChoice(10.0**-file_digits, "file digits", file_digits, file_digits)
    if not strict:
        return pc
    fix = _override_hint(spec, file_digits) if spec is not None and file_digits is not None else None
    override = f"; give the right spec: {fix}" if fix else f"; give the right {option} or spec"
    if file_digits is None or file_digits > pc.digits:
        off = _off_grid(b2, pc.digits)
        i, j = np.unravel_index(int(np.argmax(off)), off.shape)
        row = labels(int(i)) if labels is not None else f"index {int(i)} (0-based)"
        field = fields[int(j)] if int(j) < len(fields) else fields[-1]
        shown = "more than 8" if file_digits is None else str(file_digits)
        raise InputError(
            where,
            f"{row}, field '{field}': {_g(float(b2[i, j]))} has {shown} decimals but {named}; the file's "
            f"spreads are in points of the symbol it was exported from{override}",
        )
    if spec is not None and pc.source == "spec":
        tick_digits = infer_digits(np.array([spec.tick_size])) or 0
        distinct = np.unique(b2[np.isfinite(b2)]).size
        if file_digits < tick_digits and distinct >= MIN_DISTINCT_FOR_COARSE:
            raise InputError(
                where,
                f"all {distinct:,} distinct prices have at most {file_digits} decimal{'s' if file_digits != 1 else ''} "
                f"but {named}: the file's "
                f"spreads are probably in points of {_g(10.0**-file_digits)}, "
                f"{_g(10.0**-file_digits / spec.point)}x the spec's{override}",
            )
    return pc
