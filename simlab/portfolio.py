"""A portfolio: several symbols traded at once under one account, each leg with its own data and strategy.

A leg is one symbol: its data file, the strategy that trades it (with its parameters), how it sizes
(a fraction of the account's equity risked per trade, or fixed lots), its execution model and how
its file is read. The legs come from the command line (``--data SYMBOL=FILE``, repeated, sharing the
run's ``--strategy``, ``--param``, ``--risk`` ...) or from a portfolio file (``--portfolio FILE``)::

    [[legs]]
    symbol = "EURUSD"
    data = "eurusd_h1.csv"          # relative to the portfolio file's folder
    strategy = "ma_cross"
    params = { fast = 12, slow = 48 }
    risk = 0.005

    [[legs]]
    symbol = "GER40"
    data = "de30eur_h1.csv"
    strategy = "donchian"
    volume = 0.5                     # fixed lots instead of risk sizing
    tz = "UTC"
    exec_model = "none"

    [convert]                        # series that convert a leg's profit into the account currency
    EURUSD = "eurusd_h1.csv"         # or { data = "...", tz = "...", format = "..." }

A leg leaves a field out to take the run's option of the same meaning (``--strategy``, ``--risk``,
``--exec-model``, ``--tz`` ...). The file is validated with msgspec: an unknown field, a wrong type
or a bad value is one line naming the file and the field. One symbol is one leg (one position per
symbol, as on a netting account).

Nothing here reads market data: ``simlab.align`` puts the loaded legs on one time grid,
``simlab.currency`` converts their profit, the kernel (``simlab.portfolio_nb``) runs them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgspec

from simlab.errors import ConfigError

__all__ = [
    "ConvertSource",
    "Leg",
    "PortfolioSpec",
    "is_leg_item",
    "load_portfolio",
    "parse_assignment",
]

# SYMBOL in SYMBOL=FILE: a broker's symbol name ("EURUSD", "US30.cash", "#GER40", "EURUSDm")
_SYMBOL_RE = re.compile(r"^[A-Za-z0-9#][A-Za-z0-9._#+!$-]{0,31}$")


def parse_assignment(item: str, option: str, what: str = "FILE") -> tuple[str, str]:
    """``"EURUSD=eurusd.csv"`` -> ``("EURUSD", "eurusd.csv")``; one line naming ``option`` otherwise."""
    name, sep, value = item.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not _SYMBOL_RE.fullmatch(name) or not value:
        raise ConfigError(option, f"{item!r}: expected SYMBOL={what}, e.g. EURUSD={what.lower()}")
    return name, value


def is_leg_item(item: str) -> bool:
    """Does a ``--data`` value name its symbol (``SYMBOL=FILE``)? A path that exists as it is never does."""
    name, sep, value = item.partition("=")
    return (
        bool(sep)
        and bool(value)
        and _SYMBOL_RE.fullmatch(name.strip()) is not None
        and not Path(item).exists()
    )


@dataclass(frozen=True)
class ConvertSource:
    """A series that converts profit: its pair (``EURUSD``), file and how it is read."""

    pair: str
    data: str
    tz: str | None = None
    fmt: str | None = None
    where: str = "--convert"  # the option or file field that gave it (for messages)


@dataclass(frozen=True)
class Leg:
    """One symbol of a portfolio. ``None``: the run's option of the same meaning applies."""

    symbol: str
    data: str
    strategy: str | None = None
    params: dict[str, Any] | None = None
    params_file: str | None = None
    risk: float | None = None
    volume: float | None = None
    exec_model: str | None = None
    tz: str | None = None
    fmt: str | None = None
    timeframe: str | None = None
    currency: str | None = None  # the currency its profit is in, where simlab.currency cannot tell
    where: str = "--data"  # the option or file field that gave it (for messages)


@dataclass(frozen=True)
class PortfolioSpec:
    """The legs of a run and the series that convert their profit; ``source``: the portfolio file."""

    legs: tuple[Leg, ...]
    convert: tuple[ConvertSource, ...] = ()
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def symbols(self) -> list[str]:
        return [leg.symbol for leg in self.legs]

    def check(self) -> PortfolioSpec:
        """One symbol per leg, a conversion pair given once: a one-line error otherwise."""
        seen: dict[str, Leg] = {}
        for leg in self.legs:
            key = leg.symbol.upper()
            if key in seen:
                raise ConfigError(
                    leg.where,
                    f"symbol {leg.symbol} is in two legs; a portfolio holds one position per symbol "
                    "(one leg each)",
                )
            seen[key] = leg
        pairs: set[str] = set()
        for c in self.convert:
            if c.pair.upper() in pairs:
                raise ConfigError(c.where, f"{c.pair} is given twice")
            pairs.add(c.pair.upper())
        return self

    def with_defaults(self, **defaults: Any) -> PortfolioSpec:
        """Every leg's unset fields (None) filled from ``defaults`` (the run's options)."""
        legs = []
        for leg in self.legs:
            changes = {k: v for k, v in defaults.items() if getattr(leg, k) is None and v is not None}
            legs.append(replace(leg, **changes))
        return replace(self, legs=tuple(legs))


# ----------------------------------------------------------------------------- the portfolio file


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class _LegFile(_Strict):
    symbol: str
    data: str
    strategy: str | None = None
    params: dict[str, str | int | float | bool] | None = None
    params_file: str | None = None
    risk: float | None = None
    volume: float | None = None
    exec_model: str | None = None
    tz: str | None = None
    format: str | None = None
    timeframe: str | None = None
    currency: str | None = None


class _ConvertFile(_Strict):
    data: str
    tz: str | None = None
    format: str | None = None


class _PortfolioFile(_Strict):
    legs: list[_LegFile]
    convert: dict[str, str | _ConvertFile] = msgspec.field(default_factory=dict)


def _relative(base: Path, value: str | None) -> str | None:
    """A path named in the file, read from the file's folder (an absolute path or a bundled name as it is)."""
    from simlab.bundled import is_bundled

    if value is None or is_bundled(value) or Path(value).is_absolute():
        return value
    return str(base / value)


def load_portfolio(path: str | Path) -> PortfolioSpec:
    """The portfolio of a TOML file (see the module doc); one ``ConfigError`` line per mistake."""
    from simlab.files import read_toml

    where = str(path)
    raw = read_toml(path, where)
    try:
        pf = msgspec.convert(raw, type=_PortfolioFile)
    except msgspec.ValidationError as exc:
        # msgspec says "Expected `float`, got `str` - at `$.legs[1].risk`": the field is named
        raise ConfigError(where, str(exc).splitlines()[0].replace("$.", "")) from None
    if not pf.legs:
        raise ConfigError(where, "legs: expected at least one [[legs]] table")
    base = Path(path).parent
    legs = []
    for i, lf in enumerate(pf.legs):
        at = f"{where}: legs[{i}]"
        if not _SYMBOL_RE.fullmatch(lf.symbol):
            raise ConfigError(at, f"symbol = {lf.symbol!r}: expected a symbol name such as EURUSD")
        if lf.risk is not None and lf.volume is not None:
            raise ConfigError(at, "give risk or volume, not both (volume trades fixed lots)")
        if lf.risk is not None and not (math.isfinite(lf.risk) and 0.0 < lf.risk <= 0.2):
            raise ConfigError(at, f"risk = {lf.risk}: expected a fraction in (0, 0.2], e.g. 0.01 for 1%")
        if lf.volume is not None and not (math.isfinite(lf.volume) and lf.volume > 0.0):
            raise ConfigError(at, f"volume = {lf.volume}: expected lots > 0")
        if lf.params is not None and lf.strategy is None:
            raise ConfigError(at, "params: name the leg's strategy too (strategy = ...)")
        if lf.params_file is not None and lf.strategy is None:
            raise ConfigError(at, "params_file: name the leg's strategy too (strategy = ...)")
        legs.append(
            Leg(
                symbol=lf.symbol,
                data=str(_relative(base, lf.data)),
                strategy=lf.strategy,
                params=dict(lf.params) if lf.params is not None else ({} if lf.strategy else None),
                params_file=_relative(base, lf.params_file),
                risk=lf.risk,
                volume=lf.volume,
                exec_model=_relative(base, lf.exec_model)
                if lf.exec_model and lf.exec_model.endswith(".json")
                else lf.exec_model,
                tz=lf.tz,
                fmt=lf.format,
                timeframe=lf.timeframe,
                currency=lf.currency.upper() if lf.currency else None,
                where=at,
            )
        )
    convert = []
    for pair, entry in pf.convert.items():
        at = f"{where}: convert.{pair}"
        if isinstance(entry, str):
            convert.append(ConvertSource(pair, str(_relative(base, entry)), where=at))
        else:
            convert.append(ConvertSource(pair, str(_relative(base, entry.data)), entry.tz, entry.format, at))
    return PortfolioSpec(tuple(legs), tuple(convert), source=where).check()
