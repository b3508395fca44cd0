"""The market half of an observation: normalised, causal per-bar features, computed once per dataset.

Row t uses bars t-``WARMUP`` .. t only: every indicator is a trailing TA-Lib
one with a *finite* memory (simple averages, no exponential smoothing), so the
environment on a whole history, the exported policy's strategy on a prefix
(the look-ahead checker) and the live runner on a window of ``WARMUP + window``
bars all compute the same rows. Prices are mid prices, distances are in units
of the bar's ATR (here the simple average of the true range over
``ATR_PERIOD`` bars), so one policy reads EURUSD and an index alike. Columns
(``FEATURE_NAMES``), each clipped to [-``CLIP``, ``CLIP``]:

* ``ret_1``, ``ret_6``, ``ret_24``: close-to-close change over 1, 6, 24 bars,
  in ATRs (divided by sqrt(k) so the three have the same scale);
* ``range``, ``body``, ``close_loc``: the bar's high-low and open-close in ATRs,
  and where it closed inside its range (-0.5 low .. 0.5 high);
* ``spread``: the close's bid-ask spread in ATRs;
* ``vol_regime``: log of the ATR over its own ``VOL_AVG``-bar average;
* ``sess_*``: the bar's session, one-hot (``simlab.calendar``'s codes);
* ``tod_sin``, ``tod_cos``, ``dow_sin``, ``dow_cos``: UTC time of day and day of week.

Rows before ``WARMUP`` are zeros (never observed: episodes start after it).

>>> from simlab.synthetic import synthetic_eurusd
>>> from simlab.engine import Market
>>> m = Market.build(synthetic_eurusd(n_days=20, timeframe="1h", seed=1))
>>> f = market_features(m)
>>> f.values.shape == (len(m.bars), len(FEATURE_NAMES)), f.values.dtype.name
(True, 'float32')
>>> bool((f.values[:WARMUP] == 0).all()), bool((abs(f.values) <= CLIP).all())
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simlab import layout as L
from simlab.calendar import NS_DAY, NS_WEEK, ns_into_week
from simlab.engine import Market

FEATURES_VERSION = 1  # bump when a column changes: a policy names the version it was trained on
ATR_PERIOD = 14
VOL_AVG = 96
WARMUP = ATR_PERIOD + VOL_AVG  # the first row whose every column is defined; row t reads bars t-WARMUP .. t
CLIP = 5.0

FEATURE_NAMES: tuple[str, ...] = (
    "ret_1",
    "ret_6",
    "ret_24",
    "range",
    "body",
    "close_loc",
    "spread",
    "vol_regime",
    *(f"sess_{s}" for s in L.SESSION_NAMES),
    "tod_sin",
    "tod_cos",
    "dow_sin",
    "dow_cos",
)


@dataclass(frozen=True)
class MarketFeatures:
    """``values`` float32 (n, F); ``atr`` float64 (n,): the mid-price ATR the stops are sized from."""

    values: np.ndarray
    atr: np.ndarray


def _lag_change(c: np.ndarray, k: int) -> np.ndarray:
    out = np.full(c.shape[0], np.nan)
    out[k:] = c[k:] - c[:-k]
    return out


def market_features(market: Market) -> MarketFeatures:
    """The feature matrix of ``market`` (see the module docstring)."""
    from strategies import indicators as ind

    bars = market.bars
    o, h, low, c = ind.mid_ohlc(bars)
    atr = ind.sma(ind.true_range(h, low, c), ATR_PERIOD)  # bars t-ATR_PERIOD .. t
    n = c.shape[0]
    cols: list[np.ndarray] = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in (1, 6, 24):
            cols.append(_lag_change(c, k) / (atr * np.sqrt(k)))
        rng = h - low
        cols.append(rng / atr)
        cols.append((c - o) / atr)
        cols.append(np.where(rng > 0.0, (c - low) / rng - 0.5, 0.0))
        cols.append((bars.ask[:, 3] - bars.bid[:, 3]) / atr)
        cols.append(np.log(atr / ind.sma(atr, VOL_AVG)))
    for s in range(L.N_SESSIONS):
        cols.append((market.session == s).astype(np.float64))
    t = bars.time.astype(np.int64)
    tod = 2.0 * np.pi * (t % NS_DAY) / NS_DAY
    dow = 2.0 * np.pi * ns_into_week(t) / NS_WEEK  # UTC, from Monday 00:00
    cols += [np.sin(tod), np.cos(tod), np.sin(dow), np.cos(dow)]
    x = np.stack(cols, axis=1)
    x[: min(WARMUP, n)] = 0.0
    x = np.clip(np.nan_to_num(x, nan=0.0, posinf=CLIP, neginf=-CLIP), -CLIP, CLIP)
    return MarketFeatures(np.ascontiguousarray(x, dtype=np.float32), np.ascontiguousarray(atr))
