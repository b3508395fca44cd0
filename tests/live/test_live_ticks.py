"""Tick-by-tick replay: the fake terminal quotes tick after tick, serves bars built from the ticks, and fills an
order at the tick it arrives on — for the runner, the first tick after the bar close it decided on."""

from __future__ import annotations

import numpy as np
import pytest
from live_helpers import make_setup, zero_cost_eurusd

from live import mt5_api as A
from live.fake import FakeTerminal
from strategies.base import Intents, Strategy
from strategies.ma_cross import MaCross

NS_S = 1_000_000_000
T0 = int(np.datetime64("2024-01-15T08:00", "ns").astype(np.int64))


def _t(minute: int, sec: float) -> int:
    return T0 + minute * 60 * NS_S + int(round(sec * 1e3)) * 1_000_000


# (minute, second, bid, ask): four bars of ticks; bar 1 has no tick in its first two seconds
TICKS = [
    (0, 0.5, 1.10000, 1.10010),
    (0, 20.0, 1.10020, 1.10030),
    (0, 59.9, 1.10010, 1.10022),
    (1, 0.3, 1.10030, 1.10041),
    (1, 30.0, 1.10045, 1.10052),
    (1, 59.0, 1.10040, 1.10049),
    (2, 1.7, 1.10050, 1.10058),  # the first tick after bar 1's close: the long fills at its ask
    (2, 40.0, 1.10060, 1.10068),
    (3, 0.2, 1.10035, 1.10044),
    (3, 10.0, 1.10019, 1.10027),  # through the stop (1.10020) by a point: the stop fills at this bid
    (3, 50.0, 1.10030, 1.10038),
    (4, 5.0, 1.10030, 1.10040),
]


class LongAtBar1(Strategy):
    name = "long_at_bar_1"

    def signals(self, bars):
        it = Intents.hold(len(bars))
        if int((bars.time[-1] - T0) // (60 * NS_S)) == 1:
            it.dir[-1], it.sl[-1] = 1, 0.00038  # the stop at 1.10058 - 0.00038 = 1.10020
        return it


def _term(**kw):
    t = np.array([_t(m, s) for m, s, _, _ in TICKS], dtype=np.int64)
    bid = np.array([x[2] for x in TICKS])
    ask = np.array([x[3] for x in TICKS])
    return FakeTerminal.from_ticks(t, bid, ask, zero_cost_eurusd(), **kw), t


def test_tick_replay_serves_bars_built_from_the_ticks():
    term, t = _term()
    term.initialize()
    assert term.k == 0 and term.now_utc_ns() == t[0]
    for _ in range(4):
        term.advance()  # to the second tick of bar 1
    assert term.k == 1
    r = term.copy_rates_from_pos("EURUSD", A.TIMEFRAME_M1, 0, 5)
    assert r["time"].tolist() == [T0 // NS_S, T0 // NS_S + 60]
    assert [r["open"][0], r["high"][0], r["low"][0], r["close"][0]] == [1.1, 1.1002, 1.1, 1.1001]
    assert r["spread"][0] == 12 and r["tick_volume"][0] == 3  # the close tick's spread; three ticks
    # the forming bar: its two ticks so far
    assert [r["open"][1], r["high"][1], r["low"][1], r["close"][1]] == [1.1003, 1.10045, 1.1003, 1.10045]
    assert r["spread"][1] == 7 and r["tick_volume"][1] == 2
    tick = term.symbol_info_tick("EURUSD")
    assert (tick.bid, tick.ask, tick.time_msc) == (1.10045, 1.10052, _t(1, 30.0) // 1_000_000)


def test_runner_on_tick_replay_fills_at_the_next_tick_after_the_bar_close(tmp_path, transport):
    term, t = _term()
    s = make_setup(term.bars, LongAtBar1(), tmp_path, terminal=term, fixed_volume=1.0, transport=transport)
    s.run()  # one poll per tick
    ins = [d for d in s.term.deals if d.entry == A.DEAL_ENTRY_IN]
    outs = [d for d in s.term.deals if d.entry == A.DEAL_ENTRY_OUT]
    # decided on bar 1's close, seen at the first tick of bar 2 (08:02:01.7): filled at that tick's ask
    assert len(ins) == 1 and ins[0].price == 1.10058 and ins[0].time_msc == _t(2, 1.7) // 1_000_000
    # the stop (1.10020) is reached by the tick at 08:03:10 (bid 1.10019): filled at that tick's bid
    assert len(outs) == 1 and outs[0].reason == A.DEAL_REASON_SL
    assert outs[0].price == 1.10019 and outs[0].time_msc == _t(3, 10.0) // 1_000_000
    assert ins[0].volume == 1.0 and s.term.balance == pytest.approx(100_000.0 - 39.0)
    # the runner's bars were the ticks' bars (bid OHLC), each bar seen once
    assert [e["bar"] for e in s.events("bar")] == [0, 1, 2, 3]


@pytest.mark.shared_data
def test_tick_replay_of_the_shared_ticks_fills_every_order_at_the_first_tick_after_its_bar(
    shared_data_dir, tmp_path
):
    from simlab.loaders import load_ticks

    t, bid, ask = load_ticks(shared_data_dir / "eurusd_ticks_2014-05.csv.gz")
    lo, hi = np.searchsorted(t, [np.datetime64("2014-05-06T07:00", "ns").astype(np.int64),
                                 np.datetime64("2014-05-06T09:00", "ns").astype(np.int64)])  # fmt: skip
    term = FakeTerminal.from_ticks(t[lo:hi], bid[lo:hi], ask[lo:hi], zero_cost_eurusd())
    strategy = MaCross(fast=3, slow=8, atr_stop=2.0, atr_target=0.0)
    s = make_setup(term.bars, strategy, tmp_path, terminal=term, fixed_volume=1.0)
    s.run()
    tt, tb, ta = t[lo:hi], bid[lo:hi], ask[lo:hi]
    market = [d for d in s.term.deals if d.reason == A.DEAL_REASON_EXPERT]
    stops = [d for d in s.term.deals if d.reason == A.DEAL_REASON_SL]
    assert len([d for d in market if d.entry == A.DEAL_ENTRY_IN]) > 5 and stops
    bar_ns = 60 * NS_S
    for d in market:
        j = int(np.searchsorted(tt, d.time_msc * 1_000_000, "left"))
        assert tt[j] == d.time_msc * 1_000_000
        assert (
            j == 0 or tt[j - 1] // bar_ns < tt[j] // bar_ns
        )  # the first tick of its bar: right after the close
        assert d.price == (ta[j] if d.type == A.DEAL_TYPE_BUY else tb[j])
    beyond = 0
    for d in stops:  # at the first tick through the level, at that tick's price
        j = int(np.searchsorted(tt, d.time_msc * 1_000_000, "left"))
        px = tb[j] if d.type == A.DEAL_TYPE_SELL else ta[j]
        level = float(d.comment.strip("[]").split()[1])
        sign = (
            1 if d.type == A.DEAL_TYPE_SELL else -1
        )  # a long's stop sells at the bid: at or below the level
        prev = tb[j - 1] if sign > 0 else ta[j - 1]
        assert d.price == px and sign * (px - level) <= 0 < sign * (prev - level)
        beyond += px != level
    assert beyond >= 1  # a quote jumped through a level: filled where the market was, not at the level
