"""Acceptance 3: the governors on live equity, on scripted price paths through the fake terminal."""

from __future__ import annotations

import numpy as np
from live_helpers import NS_MIN, make_setup

from challenges.governors import GovernorConfig
from live import mt5_api as A
from simlab import layout as L
from simlab.bars import Bars
from simlab.engine import no_rules
from strategies.base import Intents, Strategy


class AlwaysLong(Strategy):
    """Be long from the first bar on, with a far stop (risk sizing needs one)."""

    name = "always_long"

    def signals(self, bars):
        it = Intents.hold(len(bars))
        it.dir[-1] = L.DIR_LONG
        it.sl[-1] = 0.0100
        return it


def _bars(start: str, closes: list[float]) -> Bars:
    c = np.asarray(closes)
    o = np.r_[c[0], c[:-1]]
    bid = np.column_stack([o, np.maximum(o, c), np.minimum(o, c), c])
    t = int(np.datetime64(start, "ns").astype(np.int64)) + np.arange(len(c), dtype=np.int64) * NS_MIN
    return Bars(time=t, bid=bid, ask=np.round(bid + 0.0001, 5), volume=np.ones(len(c)))


def test_stops_for_the_day_at_the_daily_buffer(tmp_path, transport):
    # FTMO-like daily 5 %, buffer 1 %: the floor is 96,000; 10 lots lose 1,000 per 0.0010
    rules = no_rules()
    rules[L.RULE_DAILY_PCT] = 0.05
    gov = GovernorConfig(daily_buffer_pct=1.0).to_vector()
    closes = [1.1000] * 3 + [1.1000 - 0.0005 * i for i in range(1, 12)] + [1.0945] * 5
    s = make_setup(
        _bars("2024-01-16T09:00", closes),
        AlwaysLong(),
        tmp_path,
        rules=rules,
        gov=gov,
        fixed_volume=10.0,
        transport=transport,
    )
    s.run()
    outs = [d for d in s.term.deals if d.entry == A.DEAL_ENTRY_OUT]
    assert len(outs) == 1 and outs[0].reason == A.DEAL_REASON_SL  # the floor placed as the position's stop
    ins = [d for d in s.term.deals if d.entry == A.DEAL_ENTRY_IN]
    assert len(ins) == 1  # and no entry for the rest of the day
    # floor 96,000 = balance + 10 lots x (floor_px - entry) -> 0.0040 below the 1.1001 entry, on the grid
    assert ins[0].price == 1.1001 and outs[0].price == 1.0961
    assert s.term.balance == 96_000.0
    assert s.runner.guard.acc[L.ACC_DAY_HALTED] == 1.0
    assert any(e["block"] == L.BLOCK_DAY_HALTED for e in s.events("bar"))


def test_flattens_before_the_daily_reset_and_reopens_after_it(tmp_path, transport):
    # the rule day rolls at 00:00 Prague = 23:00 UTC in January; flat 30 minutes before it
    gov = GovernorConfig(flatten_before_reset_min=30).to_vector()
    s = make_setup(_bars("2024-01-16T22:00", [1.1] * 120), AlwaysLong(), tmp_path, gov=gov, fixed_volume=1.0,
                   reset_window_min=30, transport=transport)  # fmt: skip
    s.run()
    deals = s.term.deals
    outs = [d for d in deals if d.entry == A.DEAL_ENTRY_OUT]
    t = lambda d: str(np.datetime64(int(s.term.clock.to_utc(d.time_msc * 1_000_000)[0]), "ns"))[:16]  # noqa: E731
    assert [t(d) for d in outs] == ["2024-01-16T22:30"]
    ins = [d for d in deals if d.entry == A.DEAL_ENTRY_IN]
    assert [t(d) for d in ins] == ["2024-01-16T22:01", "2024-01-16T23:00"]


def test_flattens_before_the_weekend(tmp_path, transport):
    # the weekly close is Friday 17:00 New York = 22:00 UTC in January; flat 60 minutes before it
    gov = GovernorConfig(flatten_before_weekend_min=60).to_vector()
    s = make_setup(_bars("2024-01-19T20:00", [1.1] * 119), AlwaysLong(), tmp_path, gov=gov, fixed_volume=1.0,
                   weekend_window_min=60, transport=transport)  # fmt: skip
    s.run()
    outs = [d for d in s.term.deals if d.entry == A.DEAL_ENTRY_OUT]
    t = lambda d: str(np.datetime64(int(s.term.clock.to_utc(d.time_msc * 1_000_000)[0]), "ns"))[:16]  # noqa: E731
    assert [t(d) for d in outs] == ["2024-01-19T21:00"]
    assert not s.term.positions
