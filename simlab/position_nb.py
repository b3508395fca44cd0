"""One symbol's position: its money (P/L in account currency) and its bookkeeping (numba).

Per-symbol functions over a position row ``pos`` (``POS_*``) and a symbol vector ``sym``
(``SYM_*``), laid out in ``simlab.layout``. What a position does to the *account* (commission into
the balance, a closed trade into the day's books and the governors' loss streak) is
``simlab.account_nb``'s; what fills it at which price is the bar kernel's (``simlab.kernel_nb``)
or the broker's (``live``). A portfolio holds one such row per symbol.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from simlab.layout import (
    POS_COMMISSION,
    POS_DIR,
    POS_ENTRY_BAR,
    POS_ENTRY_PRICE,
    POS_ENTRY_SLIP,
    POS_ENTRY_SPREAD,
    POS_RISK,
    POS_SL,
    POS_SWAP,
    POS_TP,
    POS_VOLUME,
    PROFIT_BASE_IS_ACCOUNT,
    PROFIT_FIXED,
    SYM_COMMISSION,
    SYM_CONTRACT,
    SYM_PROFIT_MODE,
    SYM_TICK_SIZE,
    SYM_TICK_VALUE,
)


@njit(cache=True, inline="always")
def value_per_price_nb(sym: np.ndarray, price: float) -> float:
    """Account currency per 1.0 move of price, per lot, at ``price``."""
    mode = int(sym[SYM_PROFIT_MODE])
    if mode == PROFIT_BASE_IS_ACCOUNT:
        return sym[SYM_CONTRACT] / price
    if mode == PROFIT_FIXED:
        return sym[SYM_TICK_VALUE] / sym[SYM_TICK_SIZE]
    return sym[SYM_CONTRACT]


@njit(cache=True, inline="always")
def price_pnl_nb(sym: np.ndarray, direction: float, entry: float, volume: float, price: float) -> float:
    """P/L in account currency of ``volume`` lots opened at ``entry`` and valued at ``price``.

    For a base-currency account (USDJPY in USD) the quote-currency P/L is
    converted at the valuation price, as MT5 does at the deal.
    """
    return direction * (price - entry) * volume * value_per_price_nb(sym, price)


@njit(cache=True, inline="always")
def price_for_pnl_nb(sym: np.ndarray, direction: float, entry: float, volume: float, pnl: float) -> float:
    """The price at which the position's price P/L equals ``pnl`` (inverse of ``price_pnl_nb``)."""
    if int(sym[SYM_PROFIT_MODE]) == PROFIT_BASE_IS_ACCOUNT:
        k = volume * sym[SYM_CONTRACT]
        den = k - direction * pnl
        if den <= 0.0:
            return math.inf if direction > 0 else 0.0
        return entry * k / den
    return entry + direction * pnl / (volume * value_per_price_nb(sym, entry))


@njit(cache=True, inline="always")
def floating_nb(pos: np.ndarray, sym: np.ndarray, price: float) -> float:
    """The open position's floating P/L at ``price``, swap included (0 when flat)."""
    if pos[POS_DIR] == 0.0:
        return 0.0
    return price_pnl_nb(sym, pos[POS_DIR], pos[POS_ENTRY_PRICE], pos[POS_VOLUME], price) + pos[POS_SWAP]


@njit(cache=True, inline="always")
def floor_price_nb(pos: np.ndarray, sym: np.ndarray, balance: float, floor: float) -> float:
    """The price at which closing the open position (exit commission included) books ``balance`` at ``floor``.

    The governors' equity floor (``simlab.governors_nb.governor_floor_nb``) as a price stop.
    """
    vol = pos[POS_VOLUME]
    return price_for_pnl_nb(
        sym,
        pos[POS_DIR],
        pos[POS_ENTRY_PRICE],
        vol,
        floor - balance - pos[POS_SWAP] + sym[SYM_COMMISSION] * vol + 1e-9,
    )


@njit(cache=True, inline="always")  # called from ordinary calls only: no compile unit of its own
def open_position_nb(
    pos: np.ndarray,
    sym: np.ndarray,
    direction: float,
    volume: float,
    fill: float,
    spread: float,
    slip: float,
    sl_dist: float,
    tp_dist: float,
    t: int,
) -> float:
    """Open ``volume`` lots at ``fill`` with stop / target ``sl_dist`` / ``tp_dist`` from it; returns the
    entry commission (the account books it: ``simlab.account_nb.book_open_nb``)."""
    pos[POS_DIR] = direction
    pos[POS_VOLUME] = volume
    pos[POS_ENTRY_PRICE] = fill
    pos[POS_SL] = fill - direction * sl_dist if not math.isnan(sl_dist) else math.nan
    pos[POS_TP] = fill + direction * tp_dist if not math.isnan(tp_dist) else math.nan
    pos[POS_ENTRY_BAR] = t
    pos[POS_SWAP] = 0.0
    comm = sym[SYM_COMMISSION] * volume
    pos[POS_COMMISSION] = comm
    pos[POS_ENTRY_SPREAD] = spread
    pos[POS_ENTRY_SLIP] = slip
    pos[POS_RISK] = sl_dist * volume * value_per_price_nb(sym, fill) if not math.isnan(sl_dist) else math.nan
    return comm


@njit(cache=True, inline="always")  # called from ordinary calls only: no compile unit of its own
def clear_position_nb(pos: np.ndarray) -> None:
    """The position is closed: flat, nothing accrued."""
    pos[POS_DIR] = 0.0
    pos[POS_VOLUME] = 0.0
    pos[POS_SWAP] = 0.0
    pos[POS_COMMISSION] = 0.0
