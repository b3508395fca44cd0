"""Profit in the account's currency: which legs need converting, and at which rate on each row of the grid.

The account's money is US dollars: the symbol presets' tick values and commissions are USD
(``simlab.symbols``). A symbol whose profit is in USD (EURUSD, XAUUSD, US30: ``profit_mode =
"quote"``) needs nothing, nor does one whose *base* is USD (USDJPY: its yen profit is divided by its
own price, ``"base"``). The others (``"fixed"``: GER40 / DE30EUR in EUR, EURGBP in GBP, EURJPY in JPY)
earn in a third currency that MT5 converts at the current rate of a conversion pair; the preset's
``tick_value`` freezes one such rate (GER40: EURUSD 1.0800).

When the conversion pair's series is loaded — a leg of the portfolio, or ``--convert PAIR=FILE`` — a
leg's profit converts at that pair's price on every row: one lot's value of a 1.0 price move is
``contract_size x rate`` (EURUSD: 1 EUR = rate USD) or ``contract_size / rate`` (USDJPY: 1 JPY =
1 / rate USD). The rate of a row is the mid price at the open of the pair's latest bar that opens at
or before the row's time: known at that time whatever the pair's bar size, never a later price.
Without a series the preset's fixed tick value is used, and the run says so (``Conversion.note``,
on the terminal and in the result's ``legs`` section).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simlab.errors import ConfigError, InputError

__all__ = [
    "ACCOUNT_CURRENCY",
    "CURRENCIES",
    "Conversion",
    "check_pair",
    "conversion_pair",
    "plan_conversions",
    "profit_currency",
]

ACCOUNT_CURRENCY = "USD"
CURRENCIES = frozenset(
    [
        "USD",
        "EUR",
        "GBP",
        "JPY",
        "CHF",
        "CAD",
        "AUD",
        "NZD",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "HUF",
        "CZK",
        "TRY",
        "ZAR",
        "MXN",
        "SGD",
        "HKD",
        "CNH",
    ]
)
# presets whose names do not say the currency their prices are in
PRICED_IN: dict[str, str] = {"GER40": "EUR"}


def _fx_pair(name: str) -> tuple[str, str] | None:
    n = name.upper()
    if len(n) == 6 and n[:3] in CURRENCIES and n[3:] in CURRENCIES and n[:3] != n[3:]:
        return n[:3], n[3:]
    return None


def profit_currency(spec: Any, override: str | None = None) -> str | None:
    """The currency ``spec``'s profit is in (``override``: a portfolio leg's ``currency``); None: unknown."""
    from simlab.symbols import name_candidates

    if override:
        return override.upper()
    if spec.profit_mode == "quote":
        return ACCOUNT_CURRENCY
    for cand in name_candidates(spec.name):
        if cand in PRICED_IN:
            return PRICED_IN[cand]
        pair = _fx_pair(cand)
        if pair is not None:
            return pair[1]
    return None


def conversion_pair(currency: str) -> tuple[str, str]:
    """The pairs that convert ``currency`` into the account's: ``(CCYUSD, USDCCY)`` (one of them is quoted)."""
    return currency + ACCOUNT_CURRENCY, ACCOUNT_CURRENCY + currency


def check_pair(pair: str, where: str) -> str:
    """A ``--convert`` pair: the account currency and another, e.g. EURUSD or USDJPY (upper-cased)."""
    fx = _fx_pair(pair)
    if fx is None or ACCOUNT_CURRENCY not in fx:
        raise ConfigError(
            where,
            f"{pair!r}: expected a currency pair of {ACCOUNT_CURRENCY} (the account's currency) and another, "
            f"e.g. EUR{ACCOUNT_CURRENCY} or {ACCOUNT_CURRENCY}JPY",
        )
    return pair.upper()


@dataclass(frozen=True, eq=False)
class Conversion:
    """How one leg's profit reaches the account currency.

    ``value_per_price``: per grid row, the account money of a 1.0 price move per lot (empty: the
    spec's own rule, a fixed tick value or none needed). ``source``: ``"none needed"``, ``"own
    price"`` (base is USD), the pair's series (``"leg EURUSD"``, ``"--convert EURUSD"``) or ``"fixed
    tick value"``; ``note``: what the run says about it (empty when nothing needs saying).
    """

    symbol: str
    currency: str | None
    pair: str | None
    source: str
    value_per_price: np.ndarray
    note: str = ""

    @property
    def converts(self) -> bool:
        return self.value_per_price.shape[0] > 0

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"currency": self.currency, "pair": self.pair, "source": self.source}
        if self.note:
            d["note"] = self.note
        return d


def _rate_on(grid_time: np.ndarray, t: np.ndarray, bid: np.ndarray, ask: np.ndarray) -> np.ndarray:
    """The mid open of the series' latest bar opening at or before each grid time (NaN before its first)."""
    idx = np.searchsorted(t, grid_time, side="right") - 1
    mid = (bid[:, 0] + ask[:, 0]) / 2.0
    out = np.full(grid_time.shape[0], np.nan)
    ok = idx >= 0
    out[ok] = mid[idx[ok]]
    return out


MAX_RATE_AGE_DAYS = 4  # a weekend and a holiday: an older rate is a series that stopped, not a closed market


def _stale_rate(grid_time: np.ndarray, t: np.ndarray, first: int) -> tuple[int, int]:
    """The first grid time from row ``first`` on whose latest series bar is over MAX_RATE_AGE_DAYS old, and
    that bar's time; (-1, -1) when the series keeps up."""
    from simlab.calendar import NS_DAY

    g = grid_time[first:]
    idx = np.searchsorted(t, g, side="right") - 1
    bar = t[np.maximum(idx, 0)]
    old = np.flatnonzero((idx >= 0) & (g - bar > MAX_RATE_AGE_DAYS * NS_DAY))
    return (int(g[old[0]]), int(bar[old[0]])) if old.shape[0] else (-1, -1)


def plan_conversions(
    specs: Sequence[Any],
    currencies: Sequence[str | None],
    grid_time: np.ndarray,
    first_rows: Sequence[int],
    series: dict[str, tuple[Any, str]],
    where: Sequence[str],
) -> list[Conversion]:
    """Each leg's conversion (see the module doc).

    ``currencies``: the legs' ``currency`` overrides; ``series``: pair -> (its bars, how it was given:
    ``"leg EURUSD"`` / ``"--convert EURUSD"``); ``first_rows``: each leg's first row on the grid.
    A series that starts after a leg it converts, or one that converts no leg, is a one-line error.
    """
    out = []
    used: set[str] = set()
    for spec, override, first, at in zip(specs, currencies, first_rows, where):
        ccy = profit_currency(spec, override)
        if override and spec.profit_mode != "fixed" and ccy != _own(spec):
            raise ConfigError(
                at,
                f"currency = {override}: {spec.name}'s spec has profit_mode = {spec.profit_mode!r} "
                f"(profit in {_own(spec)}); a leg priced in another currency has profit_mode = 'fixed'",
            )
        if spec.profit_mode == "quote":
            out.append(Conversion(spec.name, ccy, None, "none needed", np.empty(0)))
            continue
        if spec.profit_mode == "base":
            out.append(Conversion(spec.name, ccy, spec.name, "own price", np.empty(0)))
            continue
        fixed = (
            f"{spec.name}: profit converted at the spec's fixed tick value {spec.tick_value:g} "
            f"{ACCOUNT_CURRENCY} per {spec.tick_size:g}"
        )
        if ccy is None:
            note = f"{fixed} (its profit currency is unknown: give the leg's currency in a portfolio file)"
            out.append(Conversion(spec.name, None, None, "fixed tick value", np.empty(0), note))
            continue
        direct, inverse = conversion_pair(ccy)
        pair = direct if direct in series else inverse if inverse in series else None
        if pair is None:
            note = f"{fixed}: no {direct} series loaded (add --convert {direct}=FILE, or a {direct} leg)"
            out.append(Conversion(spec.name, ccy, direct, "fixed tick value", np.empty(0), note))
            continue
        bars, given = series[pair]
        used.add(pair)
        rate = _rate_on(grid_time, np.asarray(bars.time, dtype=np.int64), bars.bid, bars.ask)
        if np.isnan(rate[first:]).any():
            raise InputError(
                given,
                f"{pair} starts at {_iso(int(bars.time[0]))}, after {spec.name}'s first bar "
                f"{_iso(int(grid_time[first]))}: a conversion series must cover the leg it converts",
            )
        stale, last_bar = _stale_rate(grid_time, np.asarray(bars.time, dtype=np.int64), first)
        if stale >= 0:
            raise InputError(
                given,
                f"{pair} has no bar from {_iso(last_bar)} to {_iso(stale)}, where {spec.name} trades (more "
                f"than {MAX_RATE_AGE_DAYS} days): a conversion series must cover the leg it converts",
            )
        rate[:first] = rate[first]  # never read: the leg is absent there
        contract = float(spec.contract_size)
        vpp = contract * rate if pair == direct else contract / rate
        vpp.setflags(write=False)
        out.append(Conversion(spec.name, ccy, pair, given, vpp))
    for pair, (_, given) in series.items():
        if given.startswith("--convert") and pair not in used:
            raise ConfigError(
                given, f"converts nothing: no leg's profit is in {pair.replace(ACCOUNT_CURRENCY, '')}"
            )
    return out


def _iso(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns").astype("datetime64[s]")) + "Z"


def _own(spec: Any) -> str | None:
    """The profit currency ``spec``'s own profit mode implies (no override)."""
    return profit_currency(spec)
