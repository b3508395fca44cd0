"""Symbol specifications: what MetaTrader 5's ``symbol_info`` says about a symbol.

Presets for common symbols live in ``symbols.toml`` next to this module; they are
typical values, and a user overrides them from their own terminal with a TOML
file of the same shape::

    [EURUSD]
    commission_per_lot = 3.0
    swap_long = -7.1

    ["US30.cash"]            # a symbol that is not a preset: give every field
    digits = 2
    ...

A symbol is looked up by its exact name, then upper-cased, then without its broker
decorations ("EURUSD.raw", "US30.cash", "#GER40", "EURUSDm" -> "EURUSD", "US30",
"GER40", "EURUSD") and through :data:`ALIASES` ("DE40", "DE30EUR", "DAX" -> "GER40");
the spec returned keeps the name that was asked for, so a live runner trades the
broker's symbol. ``price_range`` (optional) is the range of plausible bid prices:
data outside it is not this symbol (see :mod:`simlab.symbol_match`).

>>> eurusd = get_symbol("EURUSD")
>>> round(eurusd.value_per_price(1.1) * 0.0001, 6)  # 1 lot, 1 pip
10.0
>>> round(get_symbol("USDJPY").value_per_price(150.0) * 0.01, 4)  # 1 lot, 1 pip at 150.00
6.6667
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simlab import layout
from simlab.errors import ConfigError

PRESETS_PATH = Path(__file__).with_name("symbols.toml")

PROFIT_MODES = {
    "quote": layout.PROFIT_QUOTE_IS_ACCOUNT,
    "base": layout.PROFIT_BASE_IS_ACCOUNT,
    "fixed": layout.PROFIT_FIXED,
}

# field -> (python type, what the message says is expected). Every field but
# ``description`` and ``triple_swap_day`` is required when a symbol is defined from scratch.
FIELDS: dict[str, tuple[type, str]] = {
    "digits": (int, "an integer 0 .. 10"),
    "point": (float, "a number > 0 equal to 10**-digits"),
    "contract_size": (float, "a number > 0"),
    "tick_size": (float, "a number > 0, a multiple of point"),
    "tick_value": (float, "a number > 0 (USD per tick per lot)"),
    "profit_mode": (str, "one of 'quote', 'base', 'fixed'"),
    "volume_min": (float, "a number > 0 (lots)"),
    "volume_step": (float, "a number > 0 (lots)"),
    "volume_max": (float, "a number >= volume_min (lots)"),
    "stops_level": (int, "an integer >= 0 (points)"),
    "commission_per_lot": (float, "a number >= 0 (USD per lot per side)"),
    "swap_long": (float, "a number (points per lot per night, negative = paid)"),
    "swap_short": (float, "a number (points per lot per night, negative = paid)"),
    "triple_swap_day": (int, "an integer 0 (Monday) .. 6 (Sunday)"),
    "description": (str, "a string"),
    "price_range": (tuple, "[low, high]: two numbers 0 < low < high, the prices plausible for the symbol"),
}
_OPTIONAL: dict[str, Any] = {"description": "", "triple_swap_day": 2, "price_range": None}


@dataclass(frozen=True)
class SymbolSpec:
    """One symbol's trading specification, in MT5's units (see ``symbols.toml`` for each field)."""

    name: str
    digits: int
    point: float
    contract_size: float
    tick_size: float
    tick_value: float
    profit_mode: str
    volume_min: float
    volume_step: float
    volume_max: float
    stops_level: int
    commission_per_lot: float
    swap_long: float
    swap_short: float
    triple_swap_day: int = 2
    description: str = ""
    # (low, high): bid prices outside it are not this symbol (gold run as EURUSD); None: not checked
    price_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        values = {f: getattr(self, f) for f in FIELDS}
        _check_types(values, f"symbol {self.name}", self.name)
        _check_values(values, f"symbol {self.name}", self.name)
        if self.price_range is not None and not isinstance(self.price_range, tuple):
            object.__setattr__(self, "price_range", _convert("price_range", self.price_range))

    @property
    def profit_code(self) -> int:
        """The ``layout.PROFIT_*`` code of ``profit_mode``."""
        return PROFIT_MODES[self.profit_mode]

    def to_vector(self) -> np.ndarray:
        """The kernel's symbol vector: float64 (``layout.SYM_SIZE``,), slots ``layout.SYM_*``."""
        v = np.zeros(layout.SYM_SIZE, dtype=np.float64)
        v[layout.SYM_POINT] = self.point
        v[layout.SYM_CONTRACT] = self.contract_size
        v[layout.SYM_TICK_SIZE] = self.tick_size
        v[layout.SYM_TICK_VALUE] = self.tick_value
        v[layout.SYM_PROFIT_MODE] = self.profit_code
        v[layout.SYM_VOL_MIN] = self.volume_min
        v[layout.SYM_VOL_STEP] = self.volume_step
        v[layout.SYM_VOL_MAX] = self.volume_max
        v[layout.SYM_STOPS_LEVEL] = self.stops_level
        v[layout.SYM_COMMISSION] = self.commission_per_lot
        v[layout.SYM_SWAP_LONG] = self.swap_long
        v[layout.SYM_SWAP_SHORT] = self.swap_short
        return v

    def value_per_price(self, price: float | None = None) -> float:
        """USD P/L of a 1.0 move of the price, for 1 lot.

        quote: ``contract_size``; base: ``contract_size / price`` (``price`` required);
        fixed: ``tick_value / tick_size``.
        """
        if self.profit_mode == "quote":
            return float(self.contract_size)
        if self.profit_mode == "fixed":
            return float(self.tick_value / self.tick_size)
        if price is None or not price > 0:
            raise ValueError(f"{self.name}: profit mode 'base' needs the price (> 0), got {price!r}")
        return float(self.contract_size / price)

    def with_overrides(self, **changes: Any) -> SymbolSpec:
        """A copy with some fields changed (validated like a TOML override)."""
        unknown = sorted(set(changes) - set(FIELDS) - {"name"})
        if unknown:
            raise ConfigError(
                f"symbol {self.name}", f"unknown field {unknown[0]!r}; known: {', '.join(FIELDS)}"
            )
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mt5(
        cls, info: Any, *, commission_per_lot: float = 0.0, account_currency: str = "USD"
    ) -> SymbolSpec:
        """Build a spec from a ``MetaTrader5.symbol_info(name)`` record (commission is not in it).

        The profit mode follows the currencies: profit currency = account -> "quote",
        base currency = account -> "base", otherwise "fixed" at the terminal's current
        tick value. Swaps in points (swap_mode 1) are taken as they are, swaps in
        account currency per lot (swap_mode 4) are converted to points at the current bid;
        other swap modes raise ConfigError (set swap_long / swap_short by hand).
        """
        name = str(info.name)
        acc = account_currency.upper()
        if str(getattr(info, "currency_profit", "")).upper() == acc:
            mode = "quote"
        elif str(getattr(info, "currency_base", "")).upper() == acc:
            mode = "base"
        else:
            mode = "fixed"
        spec = cls(
            name=name,
            digits=int(info.digits),
            point=float(info.point),
            contract_size=float(info.trade_contract_size),
            tick_size=float(info.trade_tick_size),
            tick_value=float(info.trade_tick_value),
            profit_mode=mode,
            volume_min=float(info.volume_min),
            volume_step=float(info.volume_step),
            volume_max=float(info.volume_max),
            stops_level=int(info.trade_stops_level),
            commission_per_lot=float(commission_per_lot),
            swap_long=0.0,
            swap_short=0.0,
            triple_swap_day=(int(getattr(info, "swap_rollover3days", 3)) - 1) % 7,  # MT5: 0 = Sunday
            description=str(getattr(info, "description", "")),
        )
        swap_mode = int(getattr(info, "swap_mode", 1))
        long_, short_ = float(info.swap_long), float(info.swap_short)
        if swap_mode == 0:
            long_ = short_ = 0.0
        elif swap_mode == 4:
            per_point = spec.point * spec.value_per_price(float(getattr(info, "bid", 0.0)) or None)
            long_, short_ = long_ / per_point, short_ / per_point
        elif swap_mode != 1:
            raise ConfigError(
                f"symbol_info {name}",
                f"swap_mode {swap_mode} is not supported (only points = 1 and account currency = 4); "
                "set swap_long / swap_short in points by hand",
            )
        return dataclasses.replace(spec, swap_long=long_, swap_short=short_)


# ----------------------------------------------------------------------------- validation


def _check_types(values: dict[str, Any], where: str, section: str) -> None:
    for field, value in values.items():
        typ, expected = FIELDS[field]
        if typ is tuple:
            if value is not None and not _is_range(value):
                raise ConfigError(where, f"[{section}] {field}: expected {expected}, got {value!r}")
            continue
        ok = (
            isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
            if typ is float
            else isinstance(value, int | np.integer) and not isinstance(value, bool)
            if typ is int
            else isinstance(value, str)
        )
        if typ is float and ok and not math.isfinite(float(value)):
            ok = False
        if not ok:
            raise ConfigError(where, f"[{section}] {field}: expected {expected}, got {value!r}")


def _is_range(value: Any) -> bool:
    if not isinstance(value, list | tuple) or len(value) != 2:
        return False
    if any(isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) for x in value):
        return False
    return 0 < value[0] < value[1]


def _check_values(v: dict[str, Any], where: str, section: str) -> None:
    def bad(field: str, detail: str = "") -> ConfigError:
        got = f"got {v[field]!r}" + (f" ({detail})" if detail else "")
        return ConfigError(where, f"[{section}] {field}: expected {FIELDS[field][1]}, {got}")

    if not 0 <= v["digits"] <= 10:
        raise bad("digits")
    for f in ("point", "contract_size", "tick_size", "tick_value", "volume_min", "volume_step"):
        if not v[f] > 0:
            raise bad(f)
    if not math.isclose(v["point"], 10.0 ** -v["digits"], rel_tol=1e-9):
        raise bad("point", f"digits = {v['digits']}")
    ratio = v["tick_size"] / v["point"]
    if ratio < 1 - 1e-9 or abs(ratio - round(ratio)) > 1e-6:
        raise bad("tick_size", f"point = {v['point']!r}")
    if v["profit_mode"] not in PROFIT_MODES:
        raise bad("profit_mode")
    if not v["volume_max"] >= v["volume_min"]:
        raise bad("volume_max", f"volume_min = {v['volume_min']!r}")
    if v["stops_level"] < 0:
        raise bad("stops_level")
    if v["commission_per_lot"] < 0:
        raise bad("commission_per_lot")
    if not 0 <= v["triple_swap_day"] <= 6:
        raise bad("triple_swap_day")


def _convert(field: str, value: Any) -> Any:
    typ = FIELDS[field][0]
    if typ is float:
        return float(value)
    if typ is tuple and value is not None:
        return (float(value[0]), float(value[1]))
    return value


def _spec_from_table(table: Any, where: str, section: str, base: SymbolSpec | None, name: str) -> SymbolSpec:
    if not isinstance(table, dict):
        raise ConfigError(where, f"[{section}]: expected a table of fields, got {table!r}")
    unknown = [k for k in table if k not in FIELDS]
    if unknown:
        raise ConfigError(
            where, f"[{section}] {unknown[0]}: unknown field; expected one of {', '.join(FIELDS)}"
        )
    _check_types(dict(table), where, section)
    if base is not None:
        values = {f: getattr(base, f) for f in FIELDS} | dict(table)
    else:
        missing = [f for f in FIELDS if f not in table and f not in _OPTIONAL]
        if missing:
            raise ConfigError(
                where,
                f"[{section}]: unknown symbol (not a preset); "
                f"to define it give every field, missing: {', '.join(missing)}",
            )
        values = _OPTIONAL | dict(table)
    values = {f: _convert(f, x) for f, x in values.items()}
    _check_values(values, where, section)
    return SymbolSpec(name=name, **values)


def _read_toml(path: Path) -> dict[str, Any]:
    from simlab.files import read_toml

    return read_toml(path)


# ----------------------------------------------------------------------------- lookup


@functools.lru_cache(maxsize=1)
def _presets() -> dict[str, SymbolSpec]:
    raw = _read_toml(PRESETS_PATH)
    return {sec: _spec_from_table(tbl, str(PRESETS_PATH), sec, None, sec) for sec, tbl in raw.items()}


def preset_names() -> list[str]:
    """The names of the bundled presets."""
    return list(_presets())


# Other names brokers and data vendors use for a preset. A name is matched after its broker
# decorations are removed (see ``name_candidates``), so "DE40.cash" and "#GER40" find GER40.
ALIASES: dict[str, str] = {
    **dict.fromkeys(
        (
            "DE40",
            "DE30",
            "DAX",
            "DAX40",
            "DAX30",
            "GER30",
            "DE30EUR",
            "DE40EUR",
            "GER40EUR",
            "GDAXI",
            "DEU40",
        ),
        "GER40",
    ),
    **dict.fromkeys(("DJ30", "WS30", "DJI", "DJI30", "DOW", "DOW30", "US30USD", "USA30", "YM"), "US30"),
    **dict.fromkeys(("USTEC", "NAS100", "NDX", "NDX100", "NQ100", "NAS100USD", "USA100", "NQ"), "US100"),
    "GOLD": "XAUUSD",
}
_DECORATION = re.compile(r"[._\-+#!$/ ]")


def name_candidates(name: str) -> list[str]:
    """The spellings under which ``name`` is looked up, most specific first.

    Broker decorations are peeled off in turn: a prefix ("#EURUSD"), a suffix after
    a separator ("GER40.cash", "EURUSD.r", "EURUSD-ECN", "EURUSD_i"), and trailing
    lower-case letters after an upper-case name ("EURUSDm", "EURUSDpro"); each
    spelling is also tried upper-cased and through :data:`ALIASES`.

    >>> name_candidates("GER40.cash")[:3]
    ['GER40.cash', 'GER40.CASH', 'GER40']
    >>> "EURUSD" in name_candidates("EURUSDm") and "GER40" in name_candidates("DE30EUR")
    True
    """
    raw = str(name).strip()
    forms = [raw]
    core = raw.lstrip("#.!_-+$ ")
    if core != raw:
        forms.append(core)
    head = _DECORATION.split(core, maxsplit=1)[0] if core else ""
    if head and head != core:
        forms.append(head)
    m = re.fullmatch(r"([A-Z0-9]{3,})[a-z]+", head)
    if m:
        forms.append(m.group(1))
    out: list[str] = []
    for f in forms:
        for g in (f, f.upper()):
            for h in (g, ALIASES.get(g, "")):
                if h and h not in out:
                    out.append(h)
    return out


def _resolve(name: str, table: dict[str, Any]) -> str | None:
    for key in name_candidates(name):
        if key in table:
            return key
    return None


def load_symbol_overrides(path: str | Path) -> dict[str, SymbolSpec]:
    """The symbols a user TOML file defines or changes, as complete specs keyed by section name.

    A section named like a preset changes only the fields it gives; any other section
    defines a new symbol and must give every field but ``description`` and
    ``triple_swap_day`` (default 2, Wednesday). Unknown fields, wrong types and
    inconsistent values raise ``ConfigError(file, "[SECTION] field: expected ...")``.
    """
    p = Path(path)
    raw = _read_toml(p)
    presets = _presets()
    out: dict[str, SymbolSpec] = {}
    for section, table in raw.items():
        key = _resolve(section, presets)
        base = presets[key] if key is not None else None
        out[section] = _spec_from_table(table, str(p), section, base, section)
    return out


def get_symbol(name: str, overrides_toml: str | Path | None = None) -> SymbolSpec:
    """The spec of ``name``: the user's override file first (if given), then the presets.

    >>> get_symbol("US30.cash").name, get_symbol("US30.cash").contract_size
    ('US30.cash', 1.0)
    """
    overrides = load_symbol_overrides(overrides_toml) if overrides_toml is not None else {}
    key = _resolve(name, overrides)
    if key is not None:
        spec = overrides[key]
    else:
        presets = _presets()
        key = _resolve(name, presets)
        if key is None:
            sources = f"{overrides_toml} nor the presets" if overrides_toml is not None else "the presets"
            raise ConfigError(
                str(overrides_toml) if overrides_toml is not None else "symbols",
                f"unknown symbol {name!r}: not in {sources} ({', '.join(presets)}); "
                "define it in a symbols TOML file with every field",
            )
        spec = presets[key]
    return spec if spec.name == name else dataclasses.replace(spec, name=name)
