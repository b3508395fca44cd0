"""The firm's rules end the phase live as they end it in the simulator: a breach of the daily or max loss on
live equity, or the target passed, is judged on the bar the simulator judges it; the runner then flattens
what is open, opens nothing again (also after a restart: the journal holds it), logs and alerts.

Scripted price paths whose opens are the previous closes, so that the runner's flatten at the next open fills
at the very price the simulator books the breach at; the simulator's result on the same bars and decisions
(``run_backtest``) is the reference for the bar and the reason.
"""

from __future__ import annotations

import numpy as np
import pytest
from live_helpers import NS_MIN, make_setup

from live import mt5_api as A
from live.runner import Runner
from simlab import layout as L
from simlab.bars import Bars
from simlab.engine import CostSetup, no_rules, reason_name, run_backtest
from strategies.base import Intents, Strategy

T0 = "2024-01-16T09:00"


def _bars(closes: list[float]) -> Bars:
    c = np.round(np.asarray(closes), 5)
    o = np.r_[c[0], c[:-1]]
    bid = np.column_stack([o, np.maximum(o, c), np.minimum(o, c), c])
    t = int(np.datetime64(T0, "ns").astype(np.int64)) + np.arange(len(c), dtype=np.int64) * NS_MIN
    return Bars(time=t, bid=bid, ask=np.round(bid + 0.0001, 5), volume=np.ones(len(c)), symbol="EURUSD")


class ByBar(Strategy):
    """Long (stop 100 points away) from ``long_from`` on, FLAT on the bars in ``flat``, by the bar's index."""

    name = "by_bar"

    def __init__(self, long_from: int = 0, flat: tuple[int, ...] = (), long_again: int = 10**9) -> None:
        super().__init__()
        self.long_from, self.flat, self.long_again = long_from, flat, long_again

    def intents(self, n: int) -> Intents:
        it = Intents.hold(n)
        for i in range(n):
            if i in self.flat:
                it.dir[i] = L.DIR_FLAT
            elif self.long_from <= i < (self.flat[0] if self.flat else n) or i >= self.long_again:
                it.dir[i], it.sl[i] = L.DIR_LONG, 0.0100
        return it

    def signals(self, bars):
        i = int((bars.time[-1] - int(np.datetime64(T0, "ns").astype(np.int64))) // NS_MIN)
        full = self.intents(i + 1)
        it = Intents.hold(len(bars))
        it.dir[-1], it.sl[-1] = full.dir[-1], full.sl[-1]
        return it


def _simulated(bars, strategy, rules):
    res = run_backtest(bars, strategy.intents(len(bars)), _spec(), costs=CostSetup.fixed(), rules=rules,
                       fixed_volume=10.0, initial_balance=100_000.0)  # fmt: skip
    return res


def _spec():
    from live_helpers import zero_cost_eurusd

    return zero_cost_eurusd()


def test_daily_loss_breach_flattens_stops_journals_and_alerts(tmp_path, transport):
    # daily loss 5 % of 100,000 on equity (floating P/L counts); 10 lots long from 1.1001 lose 1,000 per 0.0010:
    # the bar whose low is 1.0950 marks 94,900 < 95,000
    rules = no_rules()
    rules[L.RULE_DAILY_PCT] = 0.05
    rules[L.RULE_DAILY_FLOATING] = 1.0
    rules[L.RULE_MAXLOSS_PCT] = 0.10
    rules[L.RULE_MAXLOSS_FLOATING] = 1.0
    closes = [1.1000] * 3 + [1.1000 - 0.0005 * i for i in range(1, 16)] + [1.0925] * 6
    bars = _bars(closes)
    strategy = ByBar()
    sim = _simulated(bars, strategy, rules)
    assert reason_name(sim.res) == "daily_loss" and int(sim.res[L.RES_END_BAR]) == 12
    s = make_setup(bars, strategy, tmp_path, rules=rules, fixed_volume=10.0, transport=transport)
    s.run()
    phase = s.runner.state.phase
    assert phase is not None and (phase["status"], phase["reason"], phase["bar"]) == (
        "breached",
        "daily_loss",
        12,
    )
    assert phase["worst_equity"] == pytest.approx(94_900.0) and phase["limit"] == pytest.approx(95_000.0)
    ins = [d for d in s.term.deals if d.entry == A.DEAL_ENTRY_IN]
    outs = [d for d in s.term.deals if d.entry == A.DEAL_ENTRY_OUT]
    assert len(ins) == 1 and len(outs) == 1  # the strategy still says long on every later bar: nothing opens
    assert outs[0].reason == A.DEAL_REASON_EXPERT and outs[0].price == bars.bid[13, 0] == 1.0950
    assert not s.term.positions and s.term.balance == pytest.approx(94_900.0)
    assert s.term.balance == pytest.approx(float(sim.res[L.RES_BALANCE]))  # the simulator books the same loss
    assert s.runner.state.halted == "phase breached: daily_loss"
    assert [a["event"] for a in s.alerts.sent] == ["phase_ended"]
    assert [e["reason"] for e in s.events("phase_ended")] == ["daily_loss"]
    assert s.runner.health()["phase"]["status"] == "breached"
    # the journal holds it: a restarted runner stays stopped
    saved = s.runner.journal.load_state()
    assert saved["phase"]["reason"] == "daily_loss" and saved["halted"] == "phase breached: daily_loss"
    sent = len(s.term.sent)
    r2 = Runner(s.broker, strategy, s.runner.guard, s.runner.clock, type(s.runner.journal)(s.journal_path),
                s.runner.cfg, log=s.runner.log, alerts=s.alerts)  # fmt: skip
    r2.poll()
    assert r2.state.phase == phase and len(s.term.sent) == sent


def test_max_loss_on_the_closed_balance_ends_the_phase_at_the_close(tmp_path):
    # max loss 1 % on the closed balance only: the floating loss does not count; the stop's fill does
    rules = no_rules()
    rules[L.RULE_MAXLOSS_PCT] = 0.01
    closes = [1.1000] * 3 + [1.1000 - 0.0005 * i for i in range(1, 8)] + [1.0965] * 6
    bars = _bars(closes)
    strategy = ByBar(flat=(6,), long_again=8)  # out at bar 7's open, 1.0980: -2,100 booked, under the 99,000
    sim = _simulated(bars, strategy, rules)
    s = make_setup(bars, strategy, tmp_path, rules=rules, fixed_volume=10.0)
    s.run()
    phase = s.runner.state.phase
    assert phase is not None and phase["status"] == "breached"
    assert (phase["reason"], phase["bar"]) == (reason_name(sim.res), int(sim.res[L.RES_END_BAR]))


def test_passed_phase_stops_opening(tmp_path, transport):
    # target 0.5 %: long 10 lots from 1.1001, out at bar 8's open (1.1012): +1,100 > 500; passed at bar 8's close
    rules = no_rules()
    rules[L.RULE_TARGET_PCT] = 0.005
    closes = [1.1000] * 2 + [1.1000 + 0.0002 * i for i in range(1, 8)] + [1.1014] * 8
    bars = _bars(closes)
    strategy = ByBar(flat=(7,), long_again=10)
    sim = _simulated(bars, strategy, rules)
    assert L.STATUS_NAMES[int(sim.res[L.RES_STATUS])] == "passed"
    s = make_setup(bars, strategy, tmp_path, rules=rules, fixed_volume=10.0, transport=transport)
    s.run()
    phase = s.runner.state.phase
    assert phase is not None and (phase["status"], phase["bar"]) == ("passed", int(sim.res[L.RES_END_BAR]))
    assert phase["balance"] == pytest.approx(float(sim.res[L.RES_BALANCE]))
    ins = [d for d in s.term.deals if d.entry == A.DEAL_ENTRY_IN]
    assert len(ins) == 1  # the strategy goes long again at bar 10: the phase is over, nothing opens
    assert not s.term.positions and s.runner.state.halted == "phase passed"
    assert [a["event"] for a in s.alerts.sent] == ["phase_ended"]


def test_dry_run_ends_the_phase_too(tmp_path):
    rules = no_rules()
    rules[L.RULE_DAILY_PCT] = 0.05
    rules[L.RULE_DAILY_FLOATING] = 1.0
    closes = [1.1000] * 3 + [1.1000 - 0.0005 * i for i in range(1, 16)] + [1.0925] * 6
    bars = _bars(closes)
    s = make_setup(bars, ByBar(), tmp_path, rules=rules, fixed_volume=10.0, dry_run=True)
    s.run()
    phase = s.runner.state.phase
    assert (phase["status"], phase["reason"], phase["bar"]) == ("breached", "daily_loss", 12)
    assert s.runner.state.held is None and s.runner.state.virtual_balance == pytest.approx(94_900.0)
    assert not s.term.sent and [e["kind"] for e in s.events("order_dryrun")] == ["open", "close"]
