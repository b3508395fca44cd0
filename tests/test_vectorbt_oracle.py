"""vectorbt as an independent oracle for the kernel's fills (issue 2, acceptance 2).

On twelve years of real EURUSD hourly bid/ask bars, with fixed costs (the data's
own spread), no randomness, a fixed volume of 1 lot, no commission or swap and no
rules or governors, the kernel and ``vectorbt.Portfolio.from_signals`` are given
the same decisions (a moving-average cross on mid prices) and must agree on every
trade's entry and exit time and price and on the final equity, to 1e-9 relative.

How the kernel's conventions are expressed in vectorbt:

* a decision on bar t fills at bar t+1's open: the signals are shifted by one bar
  and ``price`` is a per-row array, the ask open where the order buys (long entry,
  short exit) and the bid open where it sells;
* 1 lot of EURUSD is 100,000 euros: ``size=100_000, size_type='amount'``; the P/L
  vectorbt computes in "cash" is then USD, the account currency; ``init_cash`` is
  large so cash never binds, no fees;
* stops: vectorbt's ``sl_stop`` / ``tp_stop`` are fractions of the entry price
  (``stop_entry_price='fillprice'``), the kernel's are distances in price from the
  fill, so the test sets the kernel's distance to ``frac * fill`` (the fill is the
  known next open). vectorbt checks stops on the one high/low it is given: the bid
  extremes while long, the ask extremes while short, as the kernel does.

One convention cannot be expressed bar for bar: the kernel checks a new position's
stop on the very bar it was filled on (the open is before the rest of the bar),
while vectorbt processes one signal per row and first checks a stop on the row after
the entry. With stops, each bar therefore becomes three vectorbt rows: the open
(the old position's stops, at the open price), the orders (at the open price), and
the body (the bar's own OHLC, the new position's stops). With that, agreement is
exact. ``test_stop_on_the_entry_bar_needs_the_open_as_its_own_row`` shows the
difference on a hand-made bar, and ``test_gapped_stop_fill_conventions`` shows how
vectorbt 1.2 fills a stop the bar gaps through (at the open, like simlab, only when
it is given the ``open``; at the close when it is not, or with
``stop_exit_price='close'``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _builders import ma_cross

from simlab import layout as L
from simlab.bars import Bars
from simlab.engine import CostSetup, run_backtest
from simlab.symbols import get_symbol

vbt = pytest.importorskip("vectorbt")

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "eurusd_h1_bidask_2007_2018.csv.gz"
LOT = 100_000.0
INIT = 100_000.0
VBT_CASH = 1e8  # never binds; P/L is compared, not cash
SPEC = get_symbol("EURUSD").with_overrides(commission_per_lot=0.0, swap_long=0.0, swap_short=0.0)


@dataclass
class Plan:
    dir: np.ndarray
    sl: np.ndarray
    tp: np.ndarray
    size: np.ndarray


def _plan(d: np.ndarray, sl: np.ndarray | None = None, tp: np.ndarray | None = None) -> Plan:
    n = d.shape[0]
    nan = np.full(n, np.nan)
    return Plan(
        d.astype(np.int8), nan.copy() if sl is None else sl, nan.copy() if tp is None else tp, nan.copy()
    )


def _vbt(
    close,
    entries,
    exits,
    short_entries,
    short_exits,
    price,
    open_,
    high,
    low,
    sl_stop,
    tp_stop,
    stop_exit_price: str = "stoplimit",
):
    """One call shape for every test (same array types: vectorbt's simulator compiles once per process)."""
    return vbt.Portfolio.from_signals(
        close=np.ascontiguousarray(close, np.float64),
        entries=np.ascontiguousarray(entries, np.bool_),
        exits=np.ascontiguousarray(exits, np.bool_),
        short_entries=np.ascontiguousarray(short_entries, np.bool_),
        short_exits=np.ascontiguousarray(short_exits, np.bool_),
        price=np.ascontiguousarray(price, np.float64),
        open=np.ascontiguousarray(open_, np.float64),
        high=np.ascontiguousarray(high, np.float64),
        low=np.ascontiguousarray(low, np.float64),
        sl_stop=np.ascontiguousarray(sl_stop, np.float64),
        tp_stop=np.ascontiguousarray(tp_stop, np.float64),
        stop_entry_price="fillprice",
        stop_exit_price=stop_exit_price,
        size=LOT,
        size_type="amount",
        init_cash=VBT_CASH,
        fees=0.0,
        freq="1h",
    )


def _kernel(bars: Bars, p: Plan):
    return run_backtest(bars, p, SPEC, costs=CostSetup.fixed(), fixed_volume=1.0, initial_balance=INIT)


# ----------------------------------------------------------------------------- three rows per bar


def vbt_three_rows(bars: Bars, d: np.ndarray, sl_frac: float = math.nan, tp_frac: float = math.nan):
    """Run the kernel's decisions ``d`` (DIR_* per bar, decided at the close) through vectorbt.

    Bar t becomes rows 3t (open: stops of the position held into the bar, at the
    open price), 3t+1 (the orders decided at bar t-1's close, at the open price)
    and 3t+2 (the bar's OHLC: stops of the position held after the open). Prices
    are the bid side while the position is long and the ask side while short.
    """
    n = len(bars)
    bid, ask = bars.bid, bars.ask
    is_entry = (d == L.DIR_LONG) | (d == L.DIR_SHORT)
    # side of the last entry decided at or before bar k (long before the first: its prices are unused)
    last = pd.Series(np.where(is_entry, d, 0).astype(np.float64)).replace(0.0, np.nan).ffill().fillna(1.0)
    last = last.to_numpy()
    side_after = np.r_[1.0, last[:-1]]  # the side held in bar t after its open's orders
    side_before = np.r_[1.0, 1.0, last[:-2]]  # the side held into bar t

    def side_px(side, col):
        return np.where(side > 0, bid[:, col], ask[:, col])

    rows = 3 * n
    o, h, lo, c = (np.empty(rows) for _ in range(4))
    open_before = side_px(side_before, 0)
    for k in (0, 1):
        o[k::3] = h[k::3] = lo[k::3] = c[k::3] = open_before
    o[2::3], h[2::3], lo[2::3], c[2::3] = (side_px(side_after, j) for j in range(4))
    dec = np.r_[0, d[:-1]]  # the order filled at bar t's open
    le, se, fx = (np.zeros(rows, bool) for _ in range(3))
    le[1::3] = dec == L.DIR_LONG
    se[1::3] = dec == L.DIR_SHORT
    fx[1::3] = dec == L.DIR_FLAT
    buys = (dec == L.DIR_LONG) | ((dec == L.DIR_FLAT) & (side_before < 0))
    price = c.copy()
    price[1::3] = np.where(buys, ask[:, 0], bid[:, 0])
    pf = _vbt(c, le, fx, se, fx, price, o, h, lo, np.full(rows, sl_frac), np.full(rows, tp_frac))
    return pf


def kernel_stop_distances(bars: Bars, d: np.ndarray, frac: float) -> np.ndarray:
    """The kernel's stop (or target) distance for a decision at bar t: frac * the fill at t+1's open."""
    n = len(bars)
    fill = np.full(n, np.nan)
    fill[:-1] = np.where(d[:-1] == L.DIR_LONG, bars.ask[1:, 0], bars.bid[1:, 0])
    return frac * fill


def assert_same_trades(kernel_res, pf, rows_per_bar: int) -> None:
    tr = kernel_res.trades_raw
    rec = pf.positions.records_arr
    assert rec.shape[0] == tr.shape[0], (rec.shape[0], tr.shape[0])
    t = kernel_res.bars.time
    np.testing.assert_array_equal(
        t[rec["entry_idx"] // rows_per_bar], t[tr[:, L.TR_ENTRY_BAR].astype(np.int64)]
    )
    np.testing.assert_array_equal(
        t[rec["exit_idx"] // rows_per_bar], t[tr[:, L.TR_EXIT_BAR].astype(np.int64)]
    )
    np.testing.assert_array_equal(np.where(rec["direction"] == 0, 1.0, -1.0), tr[:, L.TR_DIR])
    np.testing.assert_allclose(rec["entry_price"], tr[:, L.TR_ENTRY_PRICE], rtol=1e-9, atol=0)
    np.testing.assert_allclose(rec["exit_price"], tr[:, L.TR_EXIT_PRICE], rtol=1e-9, atol=0)
    np.testing.assert_allclose(rec["size"], tr[:, L.TR_VOLUME] * LOT, rtol=1e-12)
    np.testing.assert_allclose(rec["pnl"], tr[:, L.TR_GROSS], rtol=1e-9, atol=1e-6)
    assert (rec["status"] == 1).all()  # every position closed
    vbt_final = float(pf.final_value()) - VBT_CASH + INIT
    assert kernel_res.res[L.RES_BALANCE] == pytest.approx(vbt_final, rel=1e-9)


# ----------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def h1() -> Bars:
    if not DATA.exists():
        pytest.skip(f"shared data not found: {DATA} (only in the development checkout)")
    df = pd.read_csv(DATA)
    t = pd.to_datetime(df["time"], utc=True).dt.as_unit("ns").astype("int64").to_numpy()
    bid = df[["bid_open", "bid_high", "bid_low", "bid_close"]].to_numpy(np.float64)
    ask = df[["ask_open", "ask_high", "ask_low", "ask_close"]].to_numpy(np.float64)
    return Bars(
        t, np.ascontiguousarray(bid), np.ascontiguousarray(ask), np.zeros(t.shape[0]), symbol="EURUSD"
    )


def decisions(bars: Bars, long_only: bool) -> np.ndarray:
    up, dn = ma_cross(bars)
    d = np.zeros(len(bars), np.int8)
    d[up] = L.DIR_LONG
    d[dn] = L.DIR_FLAT if long_only else L.DIR_SHORT
    d[-2] = L.DIR_FLAT  # both end flat: the last order closes at the last bar's open
    d[-1] = L.DIR_HOLD
    return d


@pytest.mark.shared_data
def test_long_only_ma_cross_shifted_signals(h1):
    """The plain form: one vectorbt row per bar, signals shifted by one bar, price = the fill side's open."""
    d = decisions(h1, long_only=True)
    res = _kernel(h1, _plan(d))
    assert res.trades_raw.shape[0] > 400
    n = len(h1)
    entries = np.zeros(n, bool)
    exits = np.zeros(n, bool)
    entries[1:] = d[:-1] == L.DIR_LONG
    exits[1:] = d[:-1] == L.DIR_FLAT
    price = np.where(entries, h1.ask[:, 0], h1.bid[:, 0])  # buy at the ask open, sell at the bid open
    nan = np.full(n, np.nan)
    never = np.zeros(n, bool)
    pf = _vbt(
        h1.bid[:, 3], entries, exits, never, never, price, h1.bid[:, 0], h1.bid[:, 1], h1.bid[:, 2], nan, nan
    )
    assert_same_trades(res, pf, rows_per_bar=1)
    # and the equity curve at every close (a long is marked at the bid close)
    vbt_value = pf.value().to_numpy() - VBT_CASH + INIT
    np.testing.assert_allclose(res.curve[:, L.CURVE_EQUITY], vbt_value, rtol=1e-9)


@pytest.mark.shared_data
def test_long_short_ma_cross_with_reversals(h1):
    """Long and short: a reversal is one sell (or buy) of 2 lots at one open in both engines."""
    d = decisions(h1, long_only=False)
    res = _kernel(h1, _plan(d))
    assert (res.trades_raw[:, L.TR_DIR] < 0).sum() > 400
    pf = vbt_three_rows(h1, d)
    assert_same_trades(res, pf, rows_per_bar=3)
    # equity at each bar's close (row 3t+2): longs marked at the bid close, shorts at the ask close
    vbt_value = pf.value().to_numpy()[2::3] - VBT_CASH + INIT
    np.testing.assert_allclose(res.curve[:, L.CURVE_EQUITY], vbt_value, rtol=1e-9)


@pytest.mark.shared_data
@pytest.mark.parametrize(("sl_frac", "tp_frac"), [(0.003, 0.006), (0.0004, math.nan), (0.0008, 0.0015)])
def test_long_short_with_stop_loss_and_take_profit(h1, sl_frac, tp_frac):
    d = decisions(h1, long_only=False)
    sl = kernel_stop_distances(h1, d, sl_frac)
    tp = kernel_stop_distances(h1, d, tp_frac)
    res = _kernel(h1, _plan(d, sl, tp))
    reasons = res.trades_raw[:, L.TR_EXIT_REASON]
    assert (reasons == L.EXIT_STOP_LOSS).sum() > 50
    if not math.isnan(tp_frac):
        assert (reasons == L.EXIT_TAKE_PROFIT).sum() > 50
    # stops filled on their entry bar exist (the case one row per bar cannot express)
    assert (res.trades_raw[:, L.TR_ENTRY_BAR] == res.trades_raw[:, L.TR_EXIT_BAR]).any()
    pf = vbt_three_rows(h1, d, sl_frac, tp_frac)
    assert_same_trades(res, pf, rows_per_bar=3)


# ----------------------------------------------------------------------------- conventions on hand-made bars


def _hand_bars(bid_rows: list[tuple[float, float, float, float]], spread: float = 0.0001) -> Bars:
    n = len(bid_rows)
    t = pd.date_range("2024-01-16 08:00", periods=n, freq="1h", tz="UTC").as_unit("ns").asi8
    b = np.array(bid_rows, np.float64)
    return Bars(np.asarray(t, np.int64), b, b + spread, np.zeros(n))


def test_gapped_stop_fill_conventions():
    """A long's stop at 1.0950; the next bar's bid opens at 1.0900, below it, and closes at 1.0905.

    simlab fills at the open, 1.0900 (a stop order becomes a market order when the price
    jumps past it; the first price available is the open). vectorbt 1.2 with the default
    ``stop_exit_price='stoplimit'`` does the same *when it is given the open*
    (``get_stop_price_nb``: "if hit before open, returns open"). It differs on purpose in
    two configurations: without ``open`` it substitutes the close for the open, so the
    gap fills at the close (1.0905); with ``stop_exit_price='close'`` every stop fills at
    the bar's close (1.0905), never at the stop or the open.
    """
    bars = _hand_bars(
        [
            (1.0999, 1.0999, 1.0999, 1.0999),
            (1.0999, 1.1005, 1.0990, 1.1000),  # long fills at the ask open 1.1000
            (1.0900, 1.0910, 1.0880, 1.0905),  # gap: bid opens 1.0900 below the stop 1.0950
            (1.0905, 1.0905, 1.0905, 1.0905),
        ]
    )
    d = np.array([L.DIR_LONG, 0, 0, 0], np.int8)
    sl = np.array([0.0050, np.nan, np.nan, np.nan])
    res = _kernel(bars, _plan(d, sl))
    assert res.trades_raw[0, L.TR_EXIT_PRICE] == 1.0900
    assert res.trades_raw[0, L.TR_EXIT_REASON] == L.EXIT_STOP_LOSS

    # the same stop as a fraction of the fill: 1.1000 * (1 - frac) = 1.0950
    frac = np.full(4, 0.0050 / 1.1000)
    entries = np.array([False, True, False, False])
    never = np.zeros(4, bool)
    price = np.where(entries, bars.ask[:, 0], bars.bid[:, 0])
    nan = np.full(4, np.nan)
    b = bars.bid

    def exit_price(open_, stop_exit_price):
        pf = _vbt(
            b[:, 3], entries, never, never, never, price, open_, b[:, 1], b[:, 2], frac, nan, stop_exit_price
        )
        rec = pf.positions.records_arr
        assert rec.shape[0] == 1 and rec["exit_idx"][0] == 2
        return float(rec["exit_price"][0])

    assert exit_price(b[:, 0], "stoplimit") == 1.0900  # given the open: at the open, same as simlab
    assert exit_price(b[:, 0], "stopmarket") == 1.0900
    assert exit_price(nan, "stoplimit") == 1.0905  # no open: the close stands in for it
    assert exit_price(b[:, 0], "close") == 1.0905  # fills at the close


def test_stop_on_the_entry_bar_needs_the_open_as_its_own_row():
    """simlab fills at bar 1's open and checks the new stop against the rest of bar 1.

    Bar 1's bid trades down to 1.0940 through the stop at 1.0950: simlab exits on bar 1 at
    1.0950. vectorbt processes one signal per row and checks a stop from the row after the
    entry, so with one row per bar it sees the stop only on bar 2 (which opens at 1.0960,
    above the stop, and never trades below 1.0955): it holds and is still long at the end.
    Splitting each bar into (open, orders, body) rows lets vectorbt see bar 1's low after
    the fill, and the two agree.
    """
    bars = _hand_bars(
        [
            (1.0999, 1.0999, 1.0999, 1.0999),
            (1.0999, 1.1005, 1.0940, 1.0960),  # fill at ask 1.1000, then down through 1.0950
            (1.0960, 1.0970, 1.0955, 1.0965),
            (1.0965, 1.0965, 1.0965, 1.0965),
        ]
    )
    d = np.array([L.DIR_LONG, 0, 0, 0], np.int8)
    sl = kernel_stop_distances(bars, d, 0.0050 / 1.1000)
    res = _kernel(bars, _plan(d, sl))
    tr = res.trades_raw[0]
    assert tr[L.TR_ENTRY_BAR] == 1 and tr[L.TR_EXIT_BAR] == 1
    assert tr[L.TR_EXIT_PRICE] == pytest.approx(1.0950, abs=1e-12)

    entries = np.array([False, True, False, False])
    never = np.zeros(4, bool)
    price = np.where(entries, bars.ask[:, 0], bars.bid[:, 0])
    nan = np.full(4, np.nan)
    one_row = _vbt(
        bars.bid[:, 3],
        entries,
        never,
        never,
        never,
        price,
        bars.bid[:, 0],
        bars.bid[:, 1],
        bars.bid[:, 2],
        np.full(4, 0.0050 / 1.1000),
        nan,
    )
    rec = one_row.positions.records_arr
    assert rec.shape[0] == 1 and rec["status"][0] == 0  # still open: the entry bar's low was never checked

    three = vbt_three_rows(bars, d, 0.0050 / 1.1000)
    rec = three.positions.records_arr
    assert rec["exit_idx"][0] == 3 * 1 + 2 and rec["exit_price"][0] == pytest.approx(1.0950, abs=1e-12)
