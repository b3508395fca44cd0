"""Hand-computed kernel scenarios: a few bars each, the expected numbers written out.

Every scenario builds its bars by hand (UTC open times, bid and ask OHLC), runs
them through ``simlab.engine.run_backtest`` with fixed costs (the data's own
spread, no slippage, no randomness) and checks the ledger, the balance and the
equity curve against arithmetic written in the test. The conventions pinned
here are those of DESIGN.md, "The simulation kernel":

* a decision on bar t fills at bar t+1's open (buy at the ask, sell at the bid);
* stops and targets are checked against the bid extremes (long) / ask extremes
  (short); a stop gapped through fills at the open; SL first when both are inside
  one bar (``sl_first=False``: TP first); a target gapped through fills at the
  (better) open;
* swap at the 17:00 New York rollover, three nights on the triple-swap day;
* commission per lot per side, the entry side charged to the balance at entry;
* USD-base symbols (USDJPY) convert the yen P/L at the exit price;
* risk sizing rounds down to the volume step and refuses below the minimum;
* the curve's worst-equity column is the bar's adverse extreme;
* a breach of the daily loss on floating equity ends the run at that bar.

Unless a test says otherwise: EURUSD with commission and swaps set to zero,
100,000 USD, a fixed volume, a spread of 1 pip (0.0001).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from simlab import layout as L
from simlab.bars import Bars
from simlab.engine import CostSetup, run_backtest
from simlab.symbols import get_symbol

PIP = 0.0001
EURUSD = get_symbol("EURUSD").with_overrides(commission_per_lot=0.0, swap_long=0.0, swap_short=0.0)
USDJPY = get_symbol("USDJPY").with_overrides(commission_per_lot=0.0, swap_long=0.0, swap_short=0.0)


# ----------------------------------------------------------------------------- helpers


@dataclass
class Plan:
    """Per-bar intents in the shape ``run_backtest`` reads (dir, sl, tp, size)."""

    dir: np.ndarray
    sl: np.ndarray
    tp: np.ndarray
    size: np.ndarray


def make_bars(
    start: str,
    bid: list[tuple[float, float, float, float]],
    spread: float = PIP,
    ask: list[tuple[float, float, float, float]] | None = None,
    freq: str = "1h",
) -> Bars:
    """Bars opening at ``start`` (UTC) every ``freq``; ask = bid + spread unless given."""
    n = len(bid)
    t = pd.date_range(start, periods=n, freq=freq, tz="UTC").as_unit("ns").asi8
    b = np.array(bid, dtype=np.float64)
    a = b + spread if ask is None else np.array(ask, dtype=np.float64)
    assert b.shape == (n, 4) and a.shape == (n, 4)
    return Bars(time=np.asarray(t, dtype=np.int64), bid=b, ask=a, volume=np.zeros(n), symbol="TEST")


def flat_bar(price: float) -> tuple[float, float, float, float]:
    return (price, price, price, price)


def plan(n: int, decisions: dict[int, tuple]) -> Plan:
    """decisions: {bar: (dir,) | (dir, sl) | (dir, sl, tp) | (dir, sl, tp, size)}; other bars hold."""
    p = Plan(np.zeros(n, np.int8), np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan))
    for t, d in decisions.items():
        p.dir[t] = d[0]
        if len(d) > 1:
            p.sl[t] = d[1]
        if len(d) > 2:
            p.tp[t] = d[2]
        if len(d) > 3:
            p.size[t] = d[3]
    return p


def run(bars: Bars, p: Plan, spec=EURUSD, **kw):
    kw.setdefault("costs", CostSetup.fixed())
    kw.setdefault("fixed_volume", 1.0)
    return run_backtest(bars, p, spec, **kw)


def only_trade(res) -> np.ndarray:
    assert res.trades_raw.shape[0] == 1, res.trades()
    return res.trades_raw[0]


# ----------------------------------------------------------------------------- act at next open


def test_decision_on_bar_t_fills_at_next_open_buy_at_ask_sell_at_bid():
    # bar 1 decides long; its own prices (bid 1.1010 .. 1.0990) must not be traded.
    bars = make_bars(
        "2024-01-16 08:00",
        [
            flat_bar(1.1000),
            (1.1000, 1.1010, 1.0990, 1.1005),  # decision bar
            (1.1020, 1.1030, 1.1015, 1.1025),  # fill: ask open = 1.1020 + 0.0001 = 1.1021
            (1.1040, 1.1045, 1.1035, 1.1040),  # decides flat at this close
            (1.1050, 1.1050, 1.1050, 1.1050),  # exit: bid open = 1.1050
        ],
    )
    res = run(bars, plan(5, {1: (L.DIR_LONG,), 3: (L.DIR_FLAT,)}))
    tr = only_trade(res)
    assert tr[L.TR_ENTRY_BAR] == 2 and tr[L.TR_EXIT_BAR] == 4
    assert tr[L.TR_ENTRY_PRICE] == pytest.approx(1.1021, abs=1e-12)
    assert tr[L.TR_EXIT_PRICE] == 1.1050
    assert tr[L.TR_EXIT_REASON] == L.EXIT_SIGNAL
    # gross = (1.1050 - 1.1021) * 1 lot * 100,000 = 290.00 USD
    assert tr[L.TR_GROSS] == pytest.approx(290.0, abs=1e-6)
    # nothing is open on the decision bar: its equity and worst equity stay at 100,000
    assert res.curve[1, L.CURVE_EQUITY] == 100_000.0
    assert res.curve[1, L.CURVE_WORST_EQUITY] == 100_000.0
    # bar 2 marks the long at its bid close: (1.1025 - 1.1021) * 100,000 = 40
    assert res.curve[2, L.CURVE_EQUITY] == pytest.approx(100_040.0, abs=1e-6)
    assert res.res[L.RES_BALANCE] == pytest.approx(100_290.0, abs=1e-6)


def test_decision_on_the_last_bar_is_never_filled():
    bars = make_bars("2024-01-16 08:00", [flat_bar(1.1), flat_bar(1.1), flat_bar(1.1)])
    res = run(bars, plan(3, {2: (L.DIR_LONG,)}))
    assert res.trades_raw.shape[0] == 0
    assert res.res[L.RES_BALANCE] == 100_000.0


def test_short_fills_at_bid_and_exits_at_ask():
    bars = make_bars(
        "2024-01-16 08:00",
        [
            flat_bar(1.1000),
            (1.0990, 1.0995, 1.0980, 1.0985),  # short fills at the bid open 1.0990
            (1.0970, 1.0975, 1.0965, 1.0970),  # flat: buys back at the ask open 1.0970 + 0.0001 = 1.0971
        ],
    )
    res = run(bars, plan(3, {0: (L.DIR_SHORT,), 1: (L.DIR_FLAT,)}))
    tr = only_trade(res)
    assert tr[L.TR_DIR] == -1.0
    assert tr[L.TR_ENTRY_PRICE] == 1.0990
    assert tr[L.TR_EXIT_PRICE] == pytest.approx(1.0971, abs=1e-12)
    # gross = (1.0990 - 1.0971) * 100,000 = 190.00
    assert tr[L.TR_GROSS] == pytest.approx(190.0, abs=1e-6)
    # spread cost: half the entry spread + half the exit spread = 1 pip * 100,000 = 10 USD
    assert tr[L.TR_SPREAD_COST] == pytest.approx(10.0, abs=1e-6)


def test_reversal_long_to_short_closes_then_opens_at_the_same_open():
    bars = make_bars(
        "2024-01-16 08:00",
        [
            flat_bar(1.1000),
            flat_bar(1.1000),  # long fills at ask 1.1001; decides short at the close
            (1.1030, 1.1035, 1.1025, 1.1030),  # reversal at this open: sell 1 lot at bid 1.1030, sell 1 more
            (1.1010, 1.1010, 1.1010, 1.1010),  # flat: short buys back at ask 1.1011
        ],
    )
    res = run(bars, plan(4, {0: (L.DIR_LONG,), 1: (L.DIR_SHORT,), 2: (L.DIR_FLAT,)}))
    tr = res.trades_raw
    assert tr.shape[0] == 2
    long_, short = tr
    assert long_[L.TR_DIR] == 1.0 and short[L.TR_DIR] == -1.0
    assert long_[L.TR_EXIT_BAR] == 2 and short[L.TR_ENTRY_BAR] == 2
    assert long_[L.TR_EXIT_PRICE] == 1.1030 and short[L.TR_ENTRY_PRICE] == 1.1030
    assert long_[L.TR_EXIT_REASON] == L.EXIT_SIGNAL
    # long: (1.1030 - 1.1001) * 1e5 = 290; short: (1.1030 - 1.1011) * 1e5 = 190
    assert long_[L.TR_GROSS] == pytest.approx(290.0, abs=1e-6)
    assert short[L.TR_GROSS] == pytest.approx(190.0, abs=1e-6)
    assert res.res[L.RES_BALANCE] == pytest.approx(100_480.0, abs=1e-6)


# ----------------------------------------------------------------------------- stops and targets


def test_long_stop_gapped_through_fills_at_the_open_not_the_stop():
    # long at ask 1.1000 (bid 1.0999); SL 50 pips below the fill: 1.0950.
    # the next bar's bid opens at 1.0900, below the stop: fill 1.0900, not 1.0950.
    bars = make_bars(
        "2024-01-16 08:00",
        [
            flat_bar(1.0999),
            (1.0999, 1.1005, 1.0990, 1.1000),  # entry bar: bid low 1.0990 stays above 1.0950
            (1.0900, 1.0910, 1.0880, 1.0905),
            flat_bar(1.0905),
        ],
    )
    res = run(bars, plan(4, {0: (L.DIR_LONG, 0.0050)}))
    tr = only_trade(res)
    assert tr[L.TR_ENTRY_PRICE] == 1.1000
    assert tr[L.TR_SL] == pytest.approx(1.0950, abs=1e-12)
    assert tr[L.TR_EXIT_BAR] == 2
    assert tr[L.TR_EXIT_PRICE] == 1.0900
    assert tr[L.TR_EXIT_REASON] == L.EXIT_STOP_LOSS
    # gross = (1.0900 - 1.1000) * 1e5 = -1000 (the stop would have said -500)
    assert tr[L.TR_GROSS] == pytest.approx(-1000.0, abs=1e-6)


def test_short_stop_gapped_through_fills_at_the_ask_open():
    # short at bid 1.1000; SL 50 pips above: 1.1050. Next bar's ask opens 1.1100: fill 1.1100.
    bars = make_bars(
        "2024-01-16 08:00",
        [
            flat_bar(1.1000),
            (1.1000, 1.1010, 1.0995, 1.1000),  # entry bar: ask high 1.1011 stays below 1.1050
            (1.1099, 1.1120, 1.1090, 1.1110),  # ask open = 1.1099 + 0.0001 = 1.1100
            flat_bar(1.1110),
        ],
    )
    res = run(bars, plan(4, {0: (L.DIR_SHORT, 0.0050)}))
    tr = only_trade(res)
    assert tr[L.TR_ENTRY_PRICE] == 1.1000
    assert tr[L.TR_SL] == pytest.approx(1.1050, abs=1e-12)
    assert tr[L.TR_EXIT_PRICE] == pytest.approx(1.1100, abs=1e-12)
    assert tr[L.TR_EXIT_REASON] == L.EXIT_STOP_LOSS
    # gross = (1.1000 - 1.1100) * 1e5 = -1000
    assert tr[L.TR_GROSS] == pytest.approx(-1000.0, abs=1e-6)


def test_stop_touched_inside_the_bar_fills_at_the_stop():
    # the contrast to the gap: the bar opens above the stop and trades through it -> fill at 1.0950
    bars = make_bars(
        "2024-01-16 08:00",
        [
            flat_bar(1.0999),
            flat_bar(1.0999),
            (1.0980, 1.0985, 1.0900, 1.0910),
            flat_bar(1.0910),
        ],
    )
    res = run(bars, plan(4, {0: (L.DIR_LONG, 0.0050)}))
    tr = only_trade(res)
    assert tr[L.TR_EXIT_PRICE] == pytest.approx(1.0950, abs=1e-12)
    assert tr[L.TR_GROSS] == pytest.approx(-500.0, abs=1e-6)


@pytest.mark.parametrize(
    ("sl_first", "price", "reason", "gross"),
    [
        (True, 1.0980, L.EXIT_STOP_LOSS, -200.0),  # (1.0980 - 1.1000) * 1e5
        (False, 1.1020, L.EXIT_TAKE_PROFIT, 200.0),  # (1.1020 - 1.1000) * 1e5
    ],
)
def test_sl_and_tp_inside_one_bar(sl_first, price, reason, gross):
    # long at ask 1.1000, SL 1.0980, TP 1.1020; the next bar's bid spans 1.0970 .. 1.1030
    bars = make_bars(
        "2024-01-16 08:00",
        [
            flat_bar(1.0999),
            flat_bar(1.0999),
            (1.1000, 1.1030, 1.0970, 1.1000),
            flat_bar(1.1000),
        ],
    )
    res = run(bars, plan(4, {0: (L.DIR_LONG, 0.0020, 0.0020)}), sl_first=sl_first)
    tr = only_trade(res)
    assert tr[L.TR_EXIT_BAR] == 2
    assert tr[L.TR_EXIT_PRICE] == pytest.approx(price, abs=1e-12)
    assert tr[L.TR_EXIT_REASON] == reason
    assert tr[L.TR_GROSS] == pytest.approx(gross, abs=1e-6)


def test_take_profit_gapped_fills_at_the_better_open_long_and_short():
    # long at ask 1.1000, TP 1.1020; the bid opens at 1.1050 -> fill 1.1050 (+500, not +200)
    bars = make_bars(
        "2024-01-16 08:00",
        [
            flat_bar(1.0999),
            flat_bar(1.0999),
            (1.1050, 1.1060, 1.1040, 1.1055),
            flat_bar(1.1055),
        ],
    )
    tr = only_trade(run(bars, plan(4, {0: (L.DIR_LONG, math.nan, 0.0020)})))
    assert tr[L.TR_EXIT_PRICE] == 1.1050
    assert tr[L.TR_EXIT_REASON] == L.EXIT_TAKE_PROFIT
    assert tr[L.TR_GROSS] == pytest.approx(500.0, abs=1e-6)
    # short at bid 1.1000, TP 1.0980; the ask opens at 1.0950 -> fill 1.0950 (+500)
    bars = make_bars(
        "2024-01-16 08:00",
        [
            flat_bar(1.1000),
            flat_bar(1.1000),
            (1.0949, 1.0960, 1.0940, 1.0950),  # ask open 1.0950
            flat_bar(1.0950),
        ],
    )
    tr = only_trade(run(bars, plan(4, {0: (L.DIR_SHORT, math.nan, 0.0020)})))
    assert tr[L.TR_EXIT_PRICE] == pytest.approx(1.0950, abs=1e-12)
    assert tr[L.TR_EXIT_REASON] == L.EXIT_TAKE_PROFIT
    assert tr[L.TR_GROSS] == pytest.approx(500.0, abs=1e-6)


# ----------------------------------------------------------------------------- swap and commission


def _hourly_flat(start: str, end: str, price: float = 1.1000) -> Bars:
    t = pd.date_range(start, end, freq="1h", tz="UTC")
    return make_bars(start, [flat_bar(price)] * len(t))


def test_triple_swap_on_wednesday():
    # Hourly flat bars from Tue 2024-01-16 12:00 to Fri 2024-01-19 12:00 UTC (New York on EST, UTC-5):
    # the 17:00 NY rollovers held through are Tue 22:00 UTC (1), Wed 22:00 UTC (3, the triple day),
    # Thu 22:00 UTC (1): 5 nights. swap_long = -10 points per lot per night, 2 lots:
    # swap = (1 + 3 + 1) * -10 points * 0.00001 * 2 lots * 100,000 = -100.00 USD
    spec = EURUSD.with_overrides(swap_long=-10.0, swap_short=5.0, triple_swap_day=2)
    bars = _hourly_flat("2024-01-16 12:00", "2024-01-19 12:00")
    n = len(bars)
    res = run(bars, plan(n, {0: (L.DIR_LONG,), n - 2: (L.DIR_FLAT,)}), spec=spec, fixed_volume=2.0)
    mkt = res.market
    times = pd.to_datetime(bars.time, utc=True)
    nights = {str(times[i]): int(mkt.swap_nights[i]) for i in np.flatnonzero(mkt.swap_nights)}
    assert nights == {
        "2024-01-16 22:00:00+00:00": 1,
        "2024-01-17 22:00:00+00:00": 3,
        "2024-01-18 22:00:00+00:00": 1,
    }
    tr = only_trade(res)
    assert tr[L.TR_SWAP] == pytest.approx(-100.0, abs=1e-9)
    # flat prices: gross = -spread = -0.0001 * 2 * 1e5 = -20; net = -20 - 100 = -120
    assert tr[L.TR_PNL] == pytest.approx(-120.0, abs=1e-6)
    # a short over the same nights earns swap_short: 5 * 5 points * 1e-5 * 2 * 1e5 = +50
    res = run(bars, plan(n, {0: (L.DIR_SHORT,), n - 2: (L.DIR_FLAT,)}), spec=spec, fixed_volume=2.0)
    assert only_trade(res)[L.TR_SWAP] == pytest.approx(50.0, abs=1e-9)
    # the swap is in the floating equity while held: after Wednesday's rollover, -4 nights * 20 = -80
    wed_roll = int(np.flatnonzero(mkt.swap_nights == 3)[0])
    res = run(bars, plan(n, {0: (L.DIR_LONG,), n - 2: (L.DIR_FLAT,)}), spec=spec, fixed_volume=2.0)
    # equity = 100,000 - 20 (spread at the bid mark) - 80 (swap so far)
    assert res.curve[wed_roll, L.CURVE_EQUITY] == pytest.approx(100_000 - 20 - 80, abs=1e-6)


def test_triple_swap_day_follows_the_symbol_spec():
    # an index CFD that charges the triple on Friday (triple_swap_day = 4): the same Tue..Fri hold
    # sees Tue 1 + Wed 1 + Thu 1 = 3 nights (Friday's rollover is after the exit).
    spec = EURUSD.with_overrides(swap_long=-10.0, triple_swap_day=4)
    bars = _hourly_flat("2024-01-16 12:00", "2024-01-19 12:00")
    n = len(bars)
    res = run(bars, plan(n, {0: (L.DIR_LONG,), n - 2: (L.DIR_FLAT,)}), spec=spec, fixed_volume=2.0)
    # swap = 3 * -10 * 1e-5 * 2 * 1e5 = -60
    assert only_trade(res)[L.TR_SWAP] == pytest.approx(-60.0, abs=1e-9)
    # held over the weekend into Monday (no quotes from Fri 22:00 to Sun 22:00 UTC): + Friday's
    # rollover, the triple one (3) = 6 nights -> 6 * -10 * 1e-5 * 2 * 1e5 = -120
    full = _hourly_flat("2024-01-16 12:00", "2024-01-22 12:00")
    ts = pd.to_datetime(full.time, utc=True)
    keep = np.asarray(
        (ts < pd.Timestamp("2024-01-19 22:00", tz="UTC")) | (ts >= pd.Timestamp("2024-01-21 22:00", tz="UTC"))
    )
    bars = Bars(full.time[keep], full.bid[keep], full.ask[keep], full.volume[keep])
    n = len(bars)
    res = run(bars, plan(n, {0: (L.DIR_LONG,), n - 2: (L.DIR_FLAT,)}), spec=spec, fixed_volume=2.0)
    assert only_trade(res)[L.TR_SWAP] == pytest.approx(-120.0, abs=1e-9)


def test_commission_round_trip_entry_side_charged_at_entry():
    # 2 lots, 3.50 USD per lot per side: entry 7.00 into the balance at the fill, exit 7.00 with the
    # trade; round trip 2 * 3.50 * 2 = 14.00.
    spec = EURUSD.with_overrides(commission_per_lot=3.5)
    bars = make_bars(
        "2024-01-16 08:00",
        [
            flat_bar(1.1000),
            flat_bar(1.1000),  # long 2 lots at ask 1.1001
            flat_bar(1.1011),  # exit at bid 1.1011 -> gross (1.1011 - 1.1001) * 2e5 = 200
            flat_bar(1.1011),
        ],
    )
    res = run(bars, plan(4, {0: (L.DIR_LONG,), 1: (L.DIR_FLAT,)}), spec=spec, fixed_volume=2.0)
    tr = only_trade(res)
    assert res.curve[1, L.CURVE_BALANCE] == pytest.approx(100_000 - 7.0, abs=1e-9)
    assert tr[L.TR_COMMISSION] == pytest.approx(14.0, abs=1e-9)
    assert tr[L.TR_GROSS] == pytest.approx(200.0, abs=1e-6)
    assert tr[L.TR_PNL] == pytest.approx(200.0 - 14.0, abs=1e-6)
    assert res.res[L.RES_BALANCE] == pytest.approx(100_000 + 200 - 14, abs=1e-6)


# ----------------------------------------------------------------------------- money conversion


def test_jpy_quoted_tick_value_converts_at_the_exit_price():
    """USDJPY in a USD account: the P/L is in yen, converted to USD at the *exit* price.

    ``price_pnl_nb`` computes dir * (exit - entry) * volume * contract / exit, which is
    how MT5 books a USD-base deal (profit in JPY / the closing rate). So a +0.50 yen move
    of 1 lot ending at 150.00 is 100,000 * 0.50 / 150.00 = 333.33 USD, and the same move
    from 150.00 to 150.50 is 100,000 * 0.50 / 150.50 = 332.23 USD, not 333.33.
    """
    bars = make_bars(
        "2024-01-16 08:00",
        [
            flat_bar(149.490),
            flat_bar(149.490),  # long at ask 149.490 + 0.010 = 149.500
            flat_bar(150.000),  # exit at bid 150.000
            flat_bar(150.000),
        ],
        spread=0.010,
    )
    tr = only_trade(run(bars, plan(4, {0: (L.DIR_LONG,), 1: (L.DIR_FLAT,)}), spec=USDJPY))
    assert tr[L.TR_ENTRY_PRICE] == pytest.approx(149.5, abs=1e-9)
    assert tr[L.TR_GROSS] == pytest.approx(100_000 * 0.5 / 150.0, rel=1e-12)  # 333.333...
    bars = make_bars(
        "2024-01-16 08:00",
        [
            flat_bar(149.990),
            flat_bar(149.990),
            flat_bar(150.500),
            flat_bar(150.500),
        ],
        spread=0.010,
    )
    tr = only_trade(run(bars, plan(4, {0: (L.DIR_LONG,), 1: (L.DIR_FLAT,)}), spec=USDJPY))
    assert tr[L.TR_GROSS] == pytest.approx(100_000 * 0.5 / 150.5, rel=1e-12)  # 332.2259...
    # a short of 1 lot from bid 150.000 bought back at ask 149.500: +0.50 yen at 149.50
    bars = make_bars(
        "2024-01-16 08:00",
        [
            flat_bar(150.000),
            flat_bar(150.000),
            flat_bar(149.490),
            flat_bar(149.490),
        ],
        spread=0.010,
    )
    tr = only_trade(run(bars, plan(4, {0: (L.DIR_SHORT,), 1: (L.DIR_FLAT,)}), spec=USDJPY))
    assert tr[L.TR_GROSS] == pytest.approx(100_000 * 0.5 / 149.5, rel=1e-12)  # 334.448...


# ----------------------------------------------------------------------------- sizing


def test_volume_rounds_down_to_the_step():
    # risk 1 % of 100,000 = 1,000 USD; stop 23.7 pips = 0.00237; 1 lot risks 0.00237 * 100,000 = 237 USD
    # lots = 1,000 / 237 = 4.2194... -> rounded down to the 0.01 step: 4.21 (4.22 would risk 1,000.14)
    bars = make_bars("2024-01-16 08:00", [flat_bar(1.1000)] * 4)
    res = run(bars, plan(4, {0: (L.DIR_LONG, 0.00237)}), fixed_volume=0.0, risk=0.01)
    tr = only_trade(res)
    assert tr[L.TR_VOLUME] == 4.21
    # money at risk to the stop: 0.00237 * 4.21 * 100,000 = 997.77
    assert tr[L.TR_RISK] == pytest.approx(997.77, abs=1e-6)
    # a coarser step of 0.1 lots: 4.2
    res = run(
        bars,
        plan(4, {0: (L.DIR_LONG, 0.00237)}),
        spec=EURUSD.with_overrides(volume_step=0.1),
        fixed_volume=0.0,
        risk=0.01,
    )
    assert only_trade(res)[L.TR_VOLUME] == pytest.approx(4.2, abs=1e-12)


def test_volume_below_the_minimum_is_refused():
    # 1,000 USD account, risk 0.5 % = 5 USD, stop 100 pips: 1 lot risks 1,000 USD -> 0.005 lots < 0.01
    bars = make_bars("2024-01-16 08:00", [flat_bar(1.1000)] * 4)
    res = run(bars, plan(4, {0: (L.DIR_LONG, 0.0100)}), fixed_volume=0.0, risk=0.005, initial_balance=1_000.0)
    assert res.trades_raw.shape[0] == 0
    assert res.res[L.RES_BALANCE] == 1_000.0
    # at exactly the minimum it trades: risk 1 % = 10 USD -> 0.01 lots
    res = run(bars, plan(4, {0: (L.DIR_LONG, 0.0100)}), fixed_volume=0.0, risk=0.01, initial_balance=1_000.0)
    assert only_trade(res)[L.TR_VOLUME] == pytest.approx(0.01, abs=1e-12)
    # a minimum of 0.1 lots refuses the 4.21 lots' cousin: 100,000 * 0.0005 / 237 = 0.21 -> ok at 0.21,
    # but 100,000 * 0.0001 / 237 = 0.042 < 0.1 -> refused
    spec = EURUSD.with_overrides(volume_min=0.1)
    res = run(bars, plan(4, {0: (L.DIR_LONG, 0.00237)}), spec=spec, fixed_volume=0.0, risk=0.0001)
    assert res.trades_raw.shape[0] == 0


# ----------------------------------------------------------------------------- worst intrabar equity


def test_worst_intrabar_equity_long_at_the_bid_low_short_at_the_ask_high():
    bars = make_bars(
        "2024-01-16 08:00",
        [
            flat_bar(1.0999),
            (1.0999, 1.1010, 1.0990, 1.1005),  # long at ask 1.1000; worst at bid low 1.0990
            (1.1005, 1.1020, 1.0950, 1.1010),  # worst at bid low 1.0950
            flat_bar(1.1010),
        ],
    )
    res = run(bars, plan(4, {0: (L.DIR_LONG,)}))
    w = res.curve[:, L.CURVE_WORST_EQUITY]
    assert w[0] == 100_000.0
    assert w[1] == pytest.approx(100_000 + (1.0990 - 1.1000) * 1e5, abs=1e-6)  # 99,900
    assert w[2] == pytest.approx(100_000 + (1.0950 - 1.1000) * 1e5, abs=1e-6)  # 99,500
    assert res.curve[2, L.CURVE_EQUITY] == pytest.approx(100_000 + (1.1010 - 1.1000) * 1e5, abs=1e-6)
    # a short at bid 1.0999 suffers at the ask high: bar 2's ask high 1.1021 -> (1.0999 - 1.1021) * 1e5 = -220
    res = run(bars, plan(4, {0: (L.DIR_SHORT,)}))
    w = res.curve[:, L.CURVE_WORST_EQUITY]
    assert w[1] == pytest.approx(100_000 + (1.0999 - 1.1011) * 1e5, abs=1e-6)  # 99,880
    assert w[2] == pytest.approx(100_000 + (1.0999 - 1.1021) * 1e5, abs=1e-6)  # 99,780


# ----------------------------------------------------------------------------- rule basics


def _ftmo_like_daily() -> np.ndarray:
    from simlab.engine import no_rules

    r = no_rules()
    r[L.RULE_DAILY_PCT] = 0.05
    r[L.RULE_DAILY_BASIS] = L.BASIS_BALANCE
    r[L.RULE_DAILY_SIZE_OF] = L.SIZE_OF_INITIAL
    r[L.RULE_DAILY_FLOATING] = 1.0
    r[L.RULE_MAXLOSS_PCT] = 0.10
    r[L.RULE_MAXLOSS_MODE] = L.MAXLOSS_STATIC
    r[L.RULE_MAXLOSS_FLOATING] = 1.0
    return r


@pytest.mark.parametrize(("low", "breached"), [(1.0940, True), (1.0951, False)])
def test_daily_loss_breach_on_floating_equity_ends_the_run_at_that_bar(low, breached):
    # 10 lots long at ask 1.1000; daily limit = 100,000 - 5 % * 100,000 = 95,000 (equity, floating).
    # bar 2 dips to bid low 1.0940: worst equity = 100,000 + (1.0940 - 1.1000) * 1e6 = 94,000 < 95,000
    # -> breached at bar 2 although it closes at 1.0990 (99,000). At 1.0951: 95,100, no breach.
    bars = make_bars(
        "2024-01-16 08:00",
        [
            flat_bar(1.0999),
            flat_bar(1.0999),
            (1.0990, 1.0995, low, 1.0990),
            flat_bar(1.0990),
            flat_bar(1.0990),
        ],
    )
    res = run(bars, plan(5, {0: (L.DIR_LONG,)}), fixed_volume=10.0, rules=_ftmo_like_daily())
    if breached:
        assert res.status == "breached" and res.breach_reason == "daily_loss"
        assert res.res[L.RES_END_BAR] == 2
        assert res.curve.shape[0] == 3
        tr = only_trade(res)
        assert tr[L.TR_EXIT_BAR] == 2 and tr[L.TR_EXIT_REASON] == L.EXIT_BREACH
        assert tr[L.TR_EXIT_PRICE] == 1.0940
        assert res.curve[2, L.CURVE_WORST_EQUITY] == pytest.approx(94_000.0, abs=1e-6)
        assert res.res[L.RES_BALANCE] == pytest.approx(94_000.0, abs=1e-6)
    else:
        assert res.status == "running" and res.breach_reason == "none"
        assert res.res[L.RES_END_BAR] == 4
        assert res.curve[2, L.CURVE_WORST_EQUITY] == pytest.approx(95_100.0, abs=1e-6)
        assert res.res[L.RES_MAX_DAILY_DD] == pytest.approx(0.049, abs=1e-9)


# ----------------------------------------------------------------------------- modelled spread at the end


def _constant_spread_model(spread: float) -> CostSetup:
    """A cost table whose spread is ``spread`` in every session (no slippage): SPREAD_FROM_MODEL."""
    q = np.zeros((L.N_COST_KINDS, L.N_SESSIONS, 2))
    q[L.COST_SPREAD] = spread
    return CostSetup(q, np.array([0.0, 1.0]), spread_mode=L.SPREAD_FROM_MODEL, name="constant 5 pips")


def test_end_of_data_close_uses_the_modelled_spread():
    """With the spread from the model, every ask is bid + the model's spread, the last bar's close too.

    A short of 1 lot from bid 1.1000 still open at the end is bought back at the last bar's bid
    close 1.0980 + the modelled 5 pips = 1.0985 (not the data's ask 1.0981): gross
    (1.1000 - 1.0985) * 1e5 = 150, and the final balance equals the equity marked at that close.
    """
    bars = make_bars(
        "2024-01-16 08:00",
        [flat_bar(1.1000), flat_bar(1.1000), (1.0990, 1.0995, 1.0975, 1.0980)],
    )
    res = run(bars, plan(3, {0: (L.DIR_SHORT,)}), costs=_constant_spread_model(0.0005))
    tr = only_trade(res)
    assert tr[L.TR_EXIT_REASON] == L.EXIT_END
    assert tr[L.TR_ENTRY_PRICE] == 1.1000
    assert tr[L.TR_EXIT_PRICE] == pytest.approx(1.0985, abs=1e-12)
    assert tr[L.TR_EXIT_SPREAD] == pytest.approx(0.0005, abs=1e-12)
    assert tr[L.TR_GROSS] == pytest.approx(150.0, abs=1e-6)
    assert res.res[L.RES_BALANCE] == pytest.approx(100_150.0, abs=1e-6)


def test_time_limit_close_records_the_entry_session():
    """A phase with a 1-day time limit ends at the first bar of the next day, closing what is open;
    the ledger keeps the session the trade was opened in (the London-New York overlap, 13:00 UTC),
    not that of the closing bar (23:00 UTC, Prague midnight: Asia)."""
    from simlab.engine import no_rules

    r = no_rules()
    r[L.RULE_MAX_DAYS] = 1
    bars = _hourly_flat("2024-01-16 12:00", "2024-01-17 00:00")
    n = len(bars)
    res = run(bars, plan(n, {0: (L.DIR_LONG,)}), rules=r)
    assert res.status == "breached" and res.breach_reason == "time_limit"
    tr = only_trade(res)
    assert tr[L.TR_ENTRY_BAR] == 1 and res.market.session[1] == L.SESSION_OVERLAP
    assert res.market.session[int(tr[L.TR_EXIT_BAR])] == L.SESSION_ASIA
    assert tr[L.TR_ENTRY_SESSION] == L.SESSION_OVERLAP
    assert tr[L.TR_EXIT_SESSION] == L.SESSION_ASIA


# ----------------------------------------------------------------------------- closing costs in the drawdown


def test_a_stop_fills_commission_counts_in_the_reported_drawdown():
    """The judge counts the closing commission, so the reported worst equity and drawdowns do too.

    10 lots long at ask 1.1000 (bid 1.0999 + 1 pip), commission 7 USD per lot per side: the entry
    books 70, balance 99,930. Bar 2 trades down to 1.0940 through the stop at 1.1000 - 0.0049 = 1.0951:
    the position at its fill is worth (1.0951 - 1.1000) * 10 * 100,000 = -4,900, equity 95,030, above
    the daily limit of 100,000 - 5 % = 95,000. Closing books another 70: balance 94,960, under the
    limit, so the judge breaches (daily_loss, flat). The reported worst equity is that 94,960 and the
    drawdowns are (100,000 - 94,960) / 100,000 = 5.04 %, past the 5 % limit (they read 4.97 % when
    the closing commission was left out).
    """
    spec = EURUSD.with_overrides(commission_per_lot=7.0)
    bars = make_bars(
        "2024-01-16 08:00",
        [flat_bar(1.0999), flat_bar(1.0999), (1.0990, 1.0995, 1.0940, 1.0950), flat_bar(1.0950)],
    )
    res = run(
        bars, plan(4, {0: (L.DIR_LONG, 0.0049)}), spec=spec, fixed_volume=10.0, rules=_ftmo_like_daily()
    )
    tr = only_trade(res)
    assert tr[L.TR_EXIT_REASON] == L.EXIT_STOP_LOSS and tr[L.TR_EXIT_BAR] == 2
    assert tr[L.TR_EXIT_PRICE] == pytest.approx(1.0951, abs=1e-12)
    assert tr[L.TR_COMMISSION] == pytest.approx(140.0, abs=1e-9)
    assert res.status == "breached" and res.breach_reason == "daily_loss"
    assert res.res[L.RES_END_BAR] == 2
    assert res.res[L.RES_BALANCE] == pytest.approx(94_960.0, abs=1e-6)
    assert res.curve[2, L.CURVE_WORST_EQUITY] == pytest.approx(94_960.0, abs=1e-6)
    assert res.res[L.RES_MAX_DAILY_DD] == pytest.approx(0.0504, abs=1e-9)
    assert res.res[L.RES_MAX_TOTAL_DD] == pytest.approx(0.0504, abs=1e-9)
    assert res.res[L.RES_MAX_DAILY_DD] >= 0.05


def test_a_close_at_the_open_that_ends_the_phase_counts_in_the_drawdown():
    """A time-limit close at the open books the gap and the commission: the bar's only equity point.

    Long 10 lots at 1.1000 (commission 7 per lot per side, balance 99,930 after the entry); the phase
    has a 1-day limit, so the first bar of the next day (bid open 1.0960) closes it and ends the
    phase: balance 99,930 + (1.0960 - 1.1000) * 1e6 - 70 = 95,860; the drawdowns are 4.14 % of the
    initial (total) and of the new day's start balance (daily: 99,930 - 95,860 = 4,070 -> 4.07 %).
    """
    from simlab.engine import no_rules

    spec = EURUSD.with_overrides(commission_per_lot=7.0)
    r = no_rules()
    r[L.RULE_MAX_DAYS] = 1
    bars = make_bars(
        "2024-01-16 21:00",
        [flat_bar(1.0999), flat_bar(1.0999), (1.0960, 1.0965, 1.0955, 1.0960), flat_bar(1.0960)],
    )
    res = run(bars, plan(4, {0: (L.DIR_LONG,)}), spec=spec, fixed_volume=10.0, rules=r)
    assert res.status == "breached" and res.breach_reason == "time_limit"
    assert res.res[L.RES_END_BAR] == 2
    assert res.res[L.RES_BALANCE] == pytest.approx(95_860.0, abs=1e-6)
    assert res.curve[2, L.CURVE_WORST_EQUITY] == pytest.approx(95_860.0, abs=1e-6)
    assert res.res[L.RES_MAX_TOTAL_DD] == pytest.approx(0.0414, abs=1e-9)
    assert res.res[L.RES_MAX_DAILY_DD] == pytest.approx(0.0407, abs=1e-9)


# ----------------------------------------------------------------------------- refused orders


def test_entry_decisions_and_refusals_are_counted_by_reason():
    """Each long / short decision while not on that side counts; each refusal counts under its reason.

    Risk sizing at 1 % of 100,000 with EURUSD's 10-point stops level (0.0001), on flat bars at 1.1:
    bar 0 has no stop (no_stop_for_risk_sizing); bar 1 a 0.00005 stop, under the stops level
    (stops_level); bar 2 a 20.0 stop: 1,000 / (20.0 * 100,000) = 0.0005 lots < 0.01 (volume_below_minimum);
    bar 3 a 0.0050 stop: 1,000 / 500 = 2 lots, filled at bar 4; bar 4 long again while long: not a
    decision; bar 5 short with no stop: refused (no stop), and the long is closed instead (a reversal
    that cannot open still stops holding the wrong side). 5 decisions, 4 refused, 1 trade.
    """
    spec = EURUSD.with_overrides(stops_level=10)
    bars = make_bars("2024-01-16 08:00", [flat_bar(1.1)] * 8)
    p = plan(
        8,
        {0: (L.DIR_LONG,), 1: (L.DIR_LONG, 0.00005), 2: (L.DIR_LONG, 20.0), 3: (L.DIR_LONG, 0.0050),
         4: (L.DIR_LONG, 0.0050), 5: (L.DIR_SHORT,)},
    )  # fmt: skip
    res = run(bars, p, spec=spec, fixed_volume=0.0, risk=0.01)
    assert res.res[L.RES_ENTRY_DECISIONS] == 5
    refused = {L.BLOCK_NAMES[b]: res.res[L.RES_REFUSED + b - 1] for b in range(1, L.N_BLOCKS)}
    assert {k: v for k, v in refused.items() if v} == {
        "no_stop_for_risk_sizing": 2,
        "stops_level": 1,
        "volume_below_minimum": 1,
    }
    tr = only_trade(res)
    assert tr[L.TR_VOLUME] == pytest.approx(2.0) and tr[L.TR_ENTRY_BAR] == 4 and tr[L.TR_EXIT_BAR] == 6
    assert res.refusals().to_json() == {
        "no_stop_for_risk_sizing": 2,
        "stops_level": 1,
        "volume_below_minimum": 1,
    }


def test_an_order_vetoed_at_the_open_counts_as_refused_by_the_governor():
    """A reversal accepted at the close can be vetoed at the next open: closing the losing long there
    (1 lot from ask 1.1001 to bid 1.1000: -10) is the first loss of a 1-loss cool-down for the rest of
    the day, so the short is not opened. 2 decisions, 1 refused (governor_stopped_for_the_day), 1 trade.
    """
    from simlab.governors_nb import no_governors

    gov = no_governors()
    gov[L.GOV_COOLDOWN_LOSSES] = 1.0
    bars = make_bars("2024-01-16 08:00", [flat_bar(1.1)] * 4)
    res = run(bars, plan(4, {0: (L.DIR_LONG,), 1: (L.DIR_SHORT,)}), gov=gov)
    tr = only_trade(res)
    assert tr[L.TR_PNL] == pytest.approx(-10.0, abs=1e-6) and tr[L.TR_EXIT_BAR] == 2
    assert res.res[L.RES_ENTRY_DECISIONS] == 2
    assert res.refusals().to_json() == {"governor_stopped_for_the_day": 1}
