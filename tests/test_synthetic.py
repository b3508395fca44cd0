"""Synthetic EURUSD: deterministic, valid bars whose statistics match the constants derived from real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simlab import layout as L
from simlab.calendar import (
    NEW_YORK,
    NS_MIN,
    bar_flags,
    hours_since_week_open,
    local_time_ns,
    sessions,
    trading_days,
)
from simlab.errors import ConfigError
from simlab.synthetic import (
    HOUR_OF_WEEK_VOL,
    SPREAD_AR,
    SPREAD_QUANTILES_POINTS,
    SPREAD_SLOW_WEIGHT,
    SPREAD_TICK_WEIGHTED_POINTS,
    default_bars,
    derive_hour_of_week_profile,
    derive_spread_autocorrelation,
    derive_spread_quantiles,
    synthetic_eurusd,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TICKS = SHARED / "eurusd_ticks_2014-05.csv.gz"
H1 = SHARED / "eurusd_h1_bidask_2007_2018.csv.gz"


@pytest.fixture(scope="module")
def bars():
    return default_bars()


# ----------------------------------------------------------------------------- determinism


def test_same_seed_same_arrays_other_seed_other_arrays():
    a = synthetic_eurusd(6, seed=11)
    b = synthetic_eurusd(6, seed=11)
    c = synthetic_eurusd(6, seed=12)
    for x, y in ((a.time, b.time), (a.bid, b.bid), (a.ask, b.ask), (a.volume, b.volume)):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.time, c.time)
    assert not np.array_equal(a.bid, c.bid)


def test_default_bars_are_cached_read_only_and_labelled(bars):
    again = default_bars()
    assert again.bid is bars.bid  # cached in-process
    assert bars.meta["synthetic"] is True and bars.symbol == "EURUSD"
    assert "synthetic" in bars.source
    assert 700_000 <= len(bars) <= 800_000
    with pytest.raises(ValueError):
        bars.bid[0, 0] = 2.0
    again.meta["x"] = 1  # each caller gets its own meta dict
    assert "x" not in default_bars().meta


def test_hourly_bars_are_the_minute_bars_aggregated():
    m = synthetic_eurusd(5, "1min", seed=4)
    h = synthetic_eurusd(5, "1h", seed=4)
    assert len(h) * 60 == len(m)
    np.testing.assert_array_equal(h.time, m.time[::60])
    mb = m.bid.reshape(-1, 60, 4)
    np.testing.assert_array_equal(h.bid[:, 0], mb[:, 0, 0])
    np.testing.assert_array_equal(h.bid[:, 1], mb[:, :, 1].max(axis=1))
    np.testing.assert_array_equal(h.bid[:, 2], mb[:, :, 2].min(axis=1))
    np.testing.assert_array_equal(h.bid[:, 3], mb[:, -1, 3])
    np.testing.assert_array_equal(h.ask[:, 0], m.ask[::60, 0])
    assert h.volume.sum() == m.volume.sum()
    assert len(synthetic_eurusd(5, "M15", seed=4)) == 5 * 96


@pytest.mark.parametrize("bad", ["7min", "1d", "fast", "0min", "25h"])
def test_bad_timeframe(bad):
    with pytest.raises(ConfigError, match="timeframe"):
        synthetic_eurusd(1, bad)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_n_days(bad):
    with pytest.raises(ConfigError, match="n_days"):
        synthetic_eurusd(bad)


# ----------------------------------------------------------------------------- validity


def test_bars_are_valid(bars):
    bid, ask, t = bars.bid, bars.ask, bars.time
    assert bid.dtype == np.float64 and bid.shape == (len(bars), 4) and t.dtype == np.int64
    assert (np.diff(t) > 0).all()
    assert (ask > bid).all()
    for side in (bid, ask):
        assert (side[:, 2] <= np.minimum(side[:, 0], side[:, 3])).all()
        assert (side[:, 1] >= np.maximum(side[:, 0], side[:, 3])).all()
    spread = ask - bid
    np.testing.assert_allclose(spread, spread[:, :1].repeat(4, axis=1), atol=1e-9)  # one spread per bar
    pts = bid * 1e5
    np.testing.assert_allclose(pts, np.rint(pts), atol=1e-6)  # whole points
    assert (bars.volume >= 1).all()
    assert bid.min() > 0.9 and bid.max() < 1.5


def test_trading_week_calendar(bars):
    t = bars.time
    utc_dow = ((t // (86400 * 10**9)) + 3) % 7  # Monday = 0
    assert not (utc_dow == 5).any(), "a bar on Saturday"
    ny = local_time_ns(t, NEW_YORK)
    ny_dow = ((ny // (86400 * 10**9)) + 3) % 7
    ny_min = (ny // NS_MIN) % 1440
    assert not (ny_dow == 5).any()
    assert not ((ny_dow == 4) & (ny_min >= 17 * 60)).any(), "a bar after the Friday 17:00 NY close"
    assert not ((ny_dow == 6) & (ny_min < 17 * 60)).any(), "a bar before the Sunday 17:00 NY open"
    first = np.flatnonzero(bar_flags(t, trading_days(t)) & L.FLAG_WEEKEND_GAP)
    assert len(first) >= 100  # two years of weekends
    assert set(ny_min[first].tolist()) == {17 * 60} and set(ny_dow[first].tolist()) == {6}
    # Sunday opens at 22:00 UTC in winter and 21:00 UTC in summer
    utc_hour = (t[first] // (3600 * 10**9)) % 24
    assert set(utc_hour.tolist()) == {21, 22}
    assert np.all(np.diff(first) == 5 * 1440)  # 7200 one-minute bars a week, no holes
    gaps = bars.bid[first, 0] - bars.bid[first - 1, 3]
    assert np.count_nonzero(gaps) > 0.9 * len(gaps)


# ----------------------------------------------------------------------------- statistics


def test_session_spreads_match_the_derived_quantiles(bars):
    sess = sessions(bars.time)
    sp = np.rint((bars.ask[:, 0] - bars.bid[:, 0]) * 1e5)
    for k, name in enumerate(L.SESSION_NAMES):
        x = sp[sess == k]
        med, p90, p99 = np.quantile(x, [0.5, 0.9, 0.99])
        qmed, q90, q99 = SPREAD_QUANTILES_POINTS[k][[5, 7, 9]]
        assert abs(med - qmed) <= 1, (name, med, qmed)
        assert abs(p90 - q90) <= 1 + 0.1 * q90, (name, p90, q90)
        assert abs(p99 - q99) <= 1 + 0.15 * q99, (name, p99, q99)
    # the rollover hour is the widest, as in the ticks
    meds = [np.median(sp[sess == k]) for k in range(L.N_SESSIONS)]
    assert meds[L.SESSION_ROLLOVER] == max(meds)


def test_hour_of_week_volatility_profile_is_reproduced(bars):
    mid = bars.mid.reshape(-1, 60, 4)  # hourly bars: the weeks open on the hour
    hw = hours_since_week_open(bars.time[::60])
    assert hw.max() < 120
    r = np.abs(np.log(mid[:, -1, 3] / mid[:, 0, 0]))
    prof = np.bincount(hw, weights=r, minlength=120) / np.bincount(hw, minlength=120)
    assert np.corrcoef(prof, HOUR_OF_WEEK_VOL)[0, 1] > 0.8


def test_fat_tails_and_volatility_clustering(bars):
    r = np.diff(np.log(bars.mid[:, 3]))
    z = r - r.mean()
    kurt = float(np.mean(z**4) / np.mean(z**2) ** 2)
    assert kurt > 3.0
    a = np.abs(z)
    a = a - a.mean()
    denom = float(np.dot(a, a))
    acf = [float(np.dot(a[:-k], a[k:])) / denom for k in range(1, 51)]
    assert min(acf) > 0.0


def test_daily_ranges_are_realistic(bars):
    d = trading_days(bars.time, "America/New_York", "17:00")
    starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
    hi = np.maximum.reduceat(bars.bid[:, 1], starts)
    lo = np.minimum.reduceat(bars.bid[:, 2], starts)
    pips = (hi - lo) / 1e-4
    assert 60 <= np.median(pips) <= 90
    assert np.percentile(pips, 90) > 1.3 * np.median(pips)  # quiet and busy days


# ----------------------------------------------------------------------------- the constants are reproducible

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data (real OANDA quotes) is absent")


@pytest.mark.shared_data
@needs_shared
def test_spread_constants_are_what_the_ticks_give():
    import pandas as pd

    df = pd.read_csv(TICKS)
    np.testing.assert_array_equal(derive_spread_quantiles(df), SPREAD_QUANTILES_POINTS)
    ac = derive_spread_autocorrelation(df, lags=(1, 30))
    assert ac[1] == pytest.approx(SPREAD_SLOW_WEIGHT * SPREAD_AR, abs=0.02)
    assert ac[30] == pytest.approx(SPREAD_SLOW_WEIGHT * SPREAD_AR**30, abs=0.02)
    # the per-quote figures of the data README
    t = np.asarray(
        pd.to_datetime(df["time"], utc=True).dt.tz_localize(None).astype("datetime64[ns]").astype(np.int64)
    )
    sp = np.rint((df["ask"].to_numpy() - df["bid"].to_numpy()) * 1e5)
    sess = sessions(t)
    for k, name in enumerate(L.SESSION_NAMES):
        q = np.quantile(sp[sess == k], [0.5, 0.9, 0.99], method="inverted_cdf")
        assert tuple(int(v) for v in q) == SPREAD_TICK_WEIGHTED_POINTS[name]


@pytest.mark.shared_data
@needs_shared
def test_hour_of_week_profile_is_what_the_hourly_bars_give():
    np.testing.assert_allclose(derive_hour_of_week_profile(H1), HOUR_OF_WEEK_VOL, atol=5e-4)
