"""Indicators against plain pandas references (exact, or to 1e-12)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies import indicators as ind

TOL = 1e-12


def _ohlc(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = 1.1 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    o = np.concatenate([c[:1], c[:-1]])
    h = np.maximum(o, c) + rng.exponential(3e-4, n)
    low = np.minimum(o, c) - rng.exponential(3e-4, n)
    return o, h, low, c


# ----------------------------------------------------------------- pandas references
def ref_sma(x: np.ndarray, n: int) -> np.ndarray:
    return pd.Series(x).rolling(n).mean().to_numpy()


def ref_ema(x: np.ndarray, n: int) -> np.ndarray:
    """Seeded with the SMA of the first n values at row n-1, then the usual recursion."""
    s = pd.Series(np.nan, index=range(len(x)))
    if len(x) < n:
        return s.to_numpy()
    s.iloc[n - 1] = x[:n].mean()
    s.iloc[n:] = x[n:]
    return s.ewm(alpha=2.0 / (n + 1), adjust=False).mean().to_numpy()


def _wilder(values: pd.Series, n: int) -> np.ndarray:
    """Wilder smoothing of values[1:]: seed = mean of values[1..n] at row n, alpha = 1/n."""
    s = pd.Series(np.nan, index=values.index)
    if len(values) <= n:
        return s.to_numpy()
    s.iloc[n] = values.iloc[1 : n + 1].mean()
    s.iloc[n + 1 :] = values.iloc[n + 1 :]
    return s.ewm(alpha=1.0 / n, adjust=False).mean().to_numpy()


def ref_true_range(h: np.ndarray, low: np.ndarray, c: np.ndarray) -> np.ndarray:
    pc = pd.Series(c).shift(1)
    tr = pd.concat([pd.Series(h - low), (pd.Series(h) - pc).abs(), (pd.Series(low) - pc).abs()], axis=1).max(
        axis=1
    )
    tr.iloc[0] = np.nan
    return tr.to_numpy()


def ref_atr(h: np.ndarray, low: np.ndarray, c: np.ndarray, n: int) -> np.ndarray:
    return _wilder(pd.Series(ref_true_range(h, low, c)), n)


def ref_rsi(x: np.ndarray, n: int) -> np.ndarray:
    d = pd.Series(x).diff()
    g = _wilder(d.clip(lower=0.0), n)
    loss = _wilder((-d).clip(lower=0.0), n)
    tot = g + loss
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(tot > 0, 100.0 * g / tot, 0.0)
    r[np.isnan(g)] = np.nan
    return r


def assert_close(a: np.ndarray, b: np.ndarray, tol: float = TOL) -> None:
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    m = ~np.isnan(a)
    np.testing.assert_allclose(a[m], b[m], rtol=tol, atol=tol)


# ----------------------------------------------------------------- TA-Lib wrappers
@pytest.mark.parametrize("n", [1, 2, 14, 50])
def test_sma_matches_pandas(n):
    _, _, _, c = _ohlc(3000)
    assert_close(ind.sma(c, n), ref_sma(c, n))


@pytest.mark.parametrize("n", [2, 12, 50])
def test_ema_matches_pandas_seeded_with_sma(n):
    _, _, _, c = _ohlc(3000, 1)
    assert_close(ind.ema(c, n), ref_ema(c, n))


@pytest.mark.parametrize("n", [1, 5, 14])
def test_atr_matches_wilder_reference(n):
    _, h, low, c = _ohlc(3000, 2)
    out = ind.atr(h, low, c, n)
    assert np.isnan(out[:n]).all() and not np.isnan(out[n])
    assert_close(out, ref_atr(h, low, c, n))


def test_true_range_matches_pandas():
    _, h, low, c = _ohlc(500, 3)
    assert_close(ind.true_range(h, low, c), ref_true_range(h, low, c))


@pytest.mark.parametrize("n", [2, 14, 30])
def test_rsi_matches_wilder_reference(n):
    _, _, _, c = _ohlc(3000, 4)
    out = ind.rsi(c, n)
    assert np.isnan(out[:n]).all() and not np.isnan(out[n])
    assert_close(out, ref_rsi(c, n), tol=1e-9 * 100)  # RSI is on a 0..100 scale: 1e-12 relative


def test_rsi_of_constant_prices_is_zero_not_nan():
    out = ind.rsi(np.full(40, 1.1), 14)
    assert np.isnan(out[:14]).all() and (out[14:] == 0.0).all()


@pytest.mark.parametrize("n", [1, 3, 20])
def test_rolling_max_min_match_pandas_exactly(n):
    _, h, low, _ = _ohlc(2000, 5)
    np.testing.assert_array_equal(ind.rolling_max(h, n), pd.Series(h).rolling(n).max().to_numpy())
    np.testing.assert_array_equal(ind.rolling_min(low, n), pd.Series(low).rolling(n).min().to_numpy())


def test_wrappers_accept_non_contiguous_and_int_input():
    _, _, _, c = _ohlc(200, 6)
    two = np.column_stack([c, c])
    assert_close(ind.sma(two[:, 0], 5), ref_sma(c, 5))
    assert_close(ind.sma(np.arange(10), 3), ref_sma(np.arange(10.0), 3))


# ----------------------------------------------------------------- written here
@pytest.mark.parametrize("n", [1, 2, 20, 55])
def test_donchian_excludes_current_bar_exactly(n):
    _, h, low, _ = _ohlc(2000, 7)
    up, lo = ind.donchian(h, low, n)
    np.testing.assert_array_equal(up, pd.Series(h).rolling(n).max().shift(1).to_numpy())
    np.testing.assert_array_equal(lo, pd.Series(low).rolling(n).min().shift(1).to_numpy())


def ref_run_range(mask: np.ndarray, h: np.ndarray, low: np.ndarray):
    m = pd.Series(mask)
    run = (m & ~m.shift(1, fill_value=False)).cumsum()
    idx = pd.Series(np.arange(len(mask)))
    hi = pd.Series(h).where(m).groupby(run).cummax().where(m).ffill()
    lo = pd.Series(low).where(m).groupby(run).cummin().where(m).ffill()
    start = idx.where(m & ~m.shift(1, fill_value=False)).ffill().fillna(-1).astype(np.int64)
    return hi.to_numpy(), lo.to_numpy(), start.to_numpy()


def _masks():
    rng = np.random.default_rng(11)
    yield np.zeros(0, bool)
    yield np.zeros(50, bool)
    yield np.ones(50, bool)
    yield np.arange(50) % 2 == 0
    yield np.r_[True, np.zeros(30, bool)]
    yield np.r_[np.zeros(30, bool), True]
    for p in (0.1, 0.5, 0.9):
        yield rng.random(500) < p
    # session-like: runs of 9 then 15
    yield (np.arange(1000) % 24) < 9


@pytest.mark.parametrize("mask", list(_masks()), ids=lambda m: f"n{m.size}-{int(m.sum())}")
def test_run_range_matches_pandas_groupby(mask):
    _, h, low, _ = _ohlc(len(mask), len(mask))
    hi, lo, start = ind.run_range(mask, h, low)
    rhi, rlo, rstart = ref_run_range(mask, h, low)
    np.testing.assert_array_equal(hi, rhi)
    np.testing.assert_array_equal(lo, rlo)
    np.testing.assert_array_equal(start, rstart)


def ref_signal_exits(entry, xl, xs):
    out = []
    pos = 0
    for e, a, b in zip(entry, xl, xs):
        if e != 0:
            pos = e
            out.append(False)
        elif (pos == 1 and a) or (pos == -1 and b):
            out.append(True)
            pos = 0
        else:
            out.append(False)
    return np.array(out, dtype=bool)


@settings(deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0, 0, 0, 1, -1]), st.booleans(), st.booleans()), max_size=120))
def test_signal_exits_matches_python_loop(rows):
    e = np.array([r[0] for r in rows], np.int8)
    xl = np.array([r[1] for r in rows], bool)
    xs = np.array([r[2] for r in rows], bool)
    np.testing.assert_array_equal(ind.signal_exits(e, xl, xs), ref_signal_exits(e, xl, xs))


def test_crossings_match_pandas():
    _, _, _, c = _ohlc(2000, 8)
    m = ind.sma(c, 20)
    s, ms = pd.Series(c), pd.Series(m)
    up = ((s > ms) & (s.shift(1) <= ms.shift(1))).to_numpy()
    dn = ((s < ms) & (s.shift(1) >= ms.shift(1))).to_numpy()
    np.testing.assert_array_equal(ind.crossed_above(c, m), up)
    np.testing.assert_array_equal(ind.crossed_below(c, m), dn)
    assert ind.crossed_above(c, m).sum() > 10


def test_shift_and_last_event():
    x = np.arange(5.0)
    np.testing.assert_array_equal(ind.shift(x, 2), pd.Series(x).shift(2).to_numpy())
    np.testing.assert_array_equal(ind.shift(x, 0), x)
    assert np.isnan(ind.shift(x, 7)).all() and ind.shift(x, 7).shape == (5,)
    with pytest.raises(ValueError):
        ind.shift(x, -1)
    codes = np.array([0, 0, 1, 0, -1, 0, 0, 1], np.int8)
    ref = pd.Series(codes).replace(0, np.nan).ffill().fillna(0).astype(np.int8).to_numpy()
    np.testing.assert_array_equal(ind.last_event(codes), ref)


def test_mid_ohlc_is_mean_of_bid_and_ask():
    from strategies.synthetic import random_walk_bars

    b = random_walk_bars(100)
    o, h, low, c = ind.mid_ohlc(b)
    np.testing.assert_array_equal(np.column_stack([o, h, low, c]), (b.bid + b.ask) / 2)
