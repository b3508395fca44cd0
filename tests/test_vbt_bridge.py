"""The vectorbt bridge: signals act at the next bar's open, stops are fractions of the fill, sizes multiply."""

from __future__ import annotations

import numpy as np
import pytest

vbt = pytest.importorskip("vectorbt")

# vectorbt takes ~5-10 s to import and its first Portfolio.from_signals JIT-compiles for ~20 s
pytestmark = pytest.mark.slow

from simlab.bars import Bars  # noqa: E402
from simlab.errors import ConfigError  # noqa: E402
from strategies.base import Intents  # noqa: E402
from strategies.ma_cross import MaCross  # noqa: E402
from strategies.synthetic import random_walk_bars  # noqa: E402
from strategies.vbt_bridge import intents_to_portfolio, shifted_signals  # noqa: E402

H = 3_600_000_000_000
HALF = 0.0001  # half spread


def make_bars(o: list[float], h: list[float], low: list[float], c: list[float]) -> Bars:
    n = len(o)
    t = np.datetime64("2021-03-01", "ns").astype(np.int64) + np.arange(n, dtype=np.int64) * H
    m = np.column_stack([o, h, low, c]).astype(float)
    return Bars(time=t, bid=m - HALF, ask=m + HALF, volume=np.zeros(n))


def trades(pf) -> list[tuple]:
    r = pf.trades.records_arr
    return [
        (int(x["entry_idx"]), round(float(x["entry_price"]), 10), int(x["exit_idx"]), round(float(x["exit_price"]), 10), int(x["direction"]), float(x["size"]))
        for x in r
    ]  # fmt: skip


LINE = [1.00, 1.01, 1.02, 1.03, 1.04, 1.05, 1.04, 1.03, 1.02, 1.01, 1.00, 0.99]


def line_bars() -> Bars:
    o = LINE
    c = [x + 0.001 for x in LINE]
    return make_bars(
        o, [max(a, b) + 0.002 for a, b in zip(o, c)], [min(a, b) - 0.002 for a, b in zip(o, c)], c
    )


def test_entries_reversals_and_flats_fill_at_the_next_open():
    bars = line_bars()
    n = len(bars)
    d = np.zeros(n, np.int8)
    d[1], d[3], d[5], d[8] = 1, 1, -1, 2  # long, long again (ignored: already long), reverse, flat
    it = Intents.from_signals(n, long=d == 1, short=d == -1, flat=d == 2)
    pf = intents_to_portfolio(bars, it, size=1000, spread=False)
    # (entry bar, entry price, exit bar, exit price, direction 0 long / 1 short, size)
    assert trades(pf) == [(2, 1.02, 6, 1.04, 0, 1000.0), (6, 1.04, 9, 1.01, 1, 1000.0)]


def test_stop_loss_inside_a_bar_and_through_a_gap():
    o = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.99]
    h = [1.001] * 7
    low = [0.999, 0.999, 0.999, 0.999, 0.994, 0.999, 0.985]
    c = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.99]
    bars = make_bars(o, h, low, c)
    d = np.zeros(7, bool)
    d[1] = True
    # stop 0.005 below the fill at open[2] = 1.0: touched inside bar 4 at 0.995
    pf = intents_to_portfolio(bars, Intents.from_signals(7, long=d, sl=0.005), size=1, spread=False)
    assert trades(pf) == [(2, 1.0, 4, 0.995, 0, 1.0)]
    # stop 0.008: bar 6 opens at 0.99, below the stop at 0.992: filled at the open
    pf = intents_to_portfolio(bars, Intents.from_signals(7, long=d, sl=0.008), size=1, spread=False)
    assert trades(pf) == [(2, 1.0, 6, 0.99, 0, 1.0)]


def test_take_profit_and_short_stops():
    bars = line_bars()
    n = len(bars)
    d = np.zeros(n, bool)
    d[0] = True
    pf = intents_to_portfolio(bars, Intents.from_signals(n, long=d, tp=0.022), size=1, spread=False)
    assert trades(pf) == [(1, 1.01, 3, 1.032, 0, 1.0)]  # bar 3's high (1.033) reaches 1.01 + 0.022
    pf = intents_to_portfolio(bars, Intents.from_signals(n, long=d, tp=0.025), size=1, spread=False)
    assert trades(pf) == [(1, 1.01, 4, 1.04, 0, 1.0)]  # 1.035 is never traded: bar 4 opens above it
    d = np.zeros(n, bool)
    d[5] = True
    pf = intents_to_portfolio(bars, Intents.from_signals(n, short=d, tp=0.021), size=1, spread=False)
    assert trades(pf) == [(6, 1.04, 8, 1.019, 1, 1.0)]
    pf = intents_to_portfolio(bars, Intents.from_signals(n, short=d, sl=0.005), size=1, spread=False)
    assert trades(pf) == [(6, 1.04, 11, 0.991, 1, 1.0)]  # prices only fall: no stop, still open at the end
    assert int(pf.trades.records_arr["status"][0]) == 0  # open


def test_size_multiplier_fees_and_spread():
    bars = line_bars()
    n = len(bars)
    d = np.zeros(n, np.int8)
    d[1], d[6] = 1, 2
    it = Intents.from_signals(n, long=d == 1, flat=d == 2, size=2.5)
    pf = intents_to_portfolio(bars, it, size=100, spread=True, fees=0.001)
    (t,) = trades(pf)
    assert t[0] == 2 and t[2] == 7 and t[5] == 250.0
    assert t[1] == pytest.approx(1.02 + HALF, rel=1e-12)  # bought at the ask
    assert t[3] == pytest.approx(1.03 - HALF, rel=1e-12)  # sold at the bid
    assert float(pf.trades.records_arr["entry_fees"][0]) == pytest.approx(250 * (1.02 + HALF) * 0.001)


def test_shifted_signals_are_one_bar_later():
    bars = random_walk_bars(300, seed=3)
    it = MaCross(fast=5, slow=20).signals(bars)
    a = shifted_signals(bars, it)
    assert not a["entries"][0] and not a["short_entries"][0]
    np.testing.assert_array_equal(a["entries"][1:], it.dir[:-1] == 1)
    np.testing.assert_array_equal(a["short_entries"][1:], it.dir[:-1] == -1)
    m = (bars.bid + bars.ask) / 2
    np.testing.assert_allclose(a["sl_stop"][1:], it.sl[:-1] / m[1:, 0], rtol=1e-15)
    np.testing.assert_array_equal(a["price"], m[:, 0])
    with pytest.raises(ConfigError, match="expected 'mid' or 'bid'"):
        shifted_signals(bars, it, price="ask")


def test_shipped_strategy_through_vectorbt():
    bars = random_walk_bars(3000, seed=4)
    it = MaCross(fast=10, slow=40).signals(bars)
    pf = intents_to_portfolio(bars, it, size=10_000)
    rec = pf.trades.records_arr
    assert len(rec) > 10
    entries = set(np.flatnonzero((it.dir == 1) | (it.dir == -1)) + 1)
    assert set(rec["entry_idx"].tolist()) <= entries  # every trade opens the bar after a decision
    assert np.isfinite(float(pf.total_return()))
