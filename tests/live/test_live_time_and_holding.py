"""The phase's time limit and the holding bans end a phase live as they end it in the simulator: judged at the
open of a bar (``simlab.account_nb.open_breach_nb``, the bar kernel's own function), before any order. A breach
flattens what is open at that open, stops the phase, journals and alerts, as any breach does.

Scripted price paths whose opens are the previous closes, across the firm's midnight (Europe/Prague: 23:00
UTC in January) and across a weekend close (Friday 17:00 New York: 22:00 UTC in January); the simulator's
result on the same bars and decisions (``run_backtest``) is the reference for the bar, the reason and the
balance, and the money is checked by hand too: 10 lots of EURUSD make 1,000 per 0.0010.
"""

from __future__ import annotations

import numpy as np
import pytest
from live_helpers import NS_MIN, make_setup, zero_cost_eurusd

from live import mt5_api as A
from live.guard import Guard
from live.journal import Journal
from live.runner import Runner
from simlab import layout as L
from simlab.bars import Bars
from simlab.calendar import trading_days
from simlab.engine import CostSetup, config_vector, no_rules, reason_name, run_backtest
from simlab.governors_nb import no_governors
from strategies.base import Intents, Strategy

# Tuesday 2024-01-16 22:50 UTC .. 23:09 UTC: bar 10 (23:00 UTC) opens Wednesday's rule day in Prague
MIDNIGHT = ("2024-01-16T22:50", 20)
# Friday 2024-01-19 21:50 .. 21:59 UTC, then Sunday 2024-01-21 22:00 .. 22:09 UTC: bar 10 is the first after
# the weekly close (and opens a new rule day too)
WEEKEND = (("2024-01-19T21:50", 10), ("2024-01-21T22:00", 10))


def _bars(pieces: tuple[tuple[str, int], ...], step: float = 0.0002) -> Bars:
    t = np.concatenate(
        [
            int(np.datetime64(s, "ns").astype(np.int64)) + np.arange(n, dtype=np.int64) * NS_MIN
            for s, n in pieces
        ]
    )
    c = np.round(1.1000 + step * np.arange(len(t)), 5)  # a steady rise: the long position is in profit
    o = np.r_[c[0], c[:-1]]
    bid = np.column_stack([o, np.maximum(o, c), np.minimum(o, c), c])
    return Bars(time=t, bid=bid, ask=np.round(bid + 0.0001, 5), volume=np.ones(len(t)), symbol="EURUSD")


class ByTime(Strategy):
    """Long (stop 100 points away) on the bars in ``long``, FLAT on the others, by the bar's index in ``times``."""

    name = "by_time"

    def __init__(self, times: np.ndarray, long: set[int]) -> None:
        super().__init__()
        self.times, self.long = times, long

    def intents(self, n: int) -> Intents:
        it = Intents.hold(n)
        for i in range(n):
            if i in self.long:
                it.dir[i], it.sl[i] = L.DIR_LONG, 0.0100
            else:
                it.dir[i] = L.DIR_FLAT
        return it

    def signals(self, bars: Bars) -> Intents:
        i = int(np.searchsorted(self.times, bars.time[-1]))
        full = self.intents(i + 1)
        it = Intents.hold(len(bars))
        it.dir[-1], it.sl[-1] = full.dir[-1], full.sl[-1]
        return it


def _rules(**kw: float) -> np.ndarray:
    r = no_rules()
    for k, v in kw.items():
        r[getattr(L, k)] = v
    return r


def _simulated(bars: Bars, strategy: ByTime, rules: np.ndarray):
    return run_backtest(bars, strategy.intents(len(bars)), zero_cost_eurusd(), costs=CostSetup.fixed(),
                        rules=rules, fixed_volume=10.0, initial_balance=100_000.0)  # fmt: skip


def _run(bars, strategy, rules, tmp_path, **kw):
    s = make_setup(bars, strategy, tmp_path, rules=rules, fixed_volume=10.0, **kw)
    s.run()
    return s


def _scenario(pieces, long: set[int], tmp_path, rules: dict[str, float], **kw):
    """The bars, the simulator's result and the runner's run of a strategy long on the bars ``long``."""
    bars = _bars(pieces)
    strategy = ByTime(bars.time, long)
    r = _rules(**rules)
    return bars, _simulated(bars, strategy, r), _run(bars, strategy, r, tmp_path, **kw)


def _assert_breach_as_simulated(s, sim, bars, reason: str, bar: int, balance: float) -> None:
    """The runner ended the phase on the simulator's bar, for its reason, with its balance (and the hand's)."""
    assert reason_name(sim.res) == reason and int(sim.res[L.RES_END_BAR]) == bar
    assert float(sim.res[L.RES_BALANCE]) == pytest.approx(balance, abs=1e-6)
    phase = s.runner.state.phase
    assert phase is not None and (phase["status"], phase["reason"], phase["bar"]) == ("breached", reason, bar)
    assert phase["time"] == str(np.datetime64(int(bars.time[bar]), "ns").astype("datetime64[s]")) + "Z"
    assert phase["balance"] == pytest.approx(balance, abs=1e-6) and phase["limit"] is None
    assert s.term.balance == pytest.approx(balance, abs=1e-6) and not s.term.positions
    assert s.runner.state.halted == f"phase breached: {reason}"
    assert [a["event"] for a in s.alerts.sent] == ["phase_ended"]
    assert [e["reason"] for e in s.events("phase_ended")] == [reason]
    saved = s.runner.journal.load_state()
    assert saved["phase"]["reason"] == reason and saved["halted"] == f"phase breached: {reason}"


def _out_deals(term):
    return [d for d in term.deals if d.entry == A.DEAL_ENTRY_OUT]


# ------------------------------------------------------------------ the time limit


def test_time_limit_breaches_at_the_first_open_past_it_as_simulated(tmp_path, transport):
    # max 1 calendar day: the phase starts on Tuesday's rule day; Wednesday's first bar (10) is past it.
    # Long from bar 1's open (ask 1.1001) to bar 10's open (bid 1.1018): +17 points * 10 lots = +1,700
    bars, sim, s = _scenario((MIDNIGHT,), set(range(20)), tmp_path, {"RULE_MAX_DAYS": 1}, transport=transport)
    _assert_breach_as_simulated(s, sim, bars, "time_limit", 10, 101_700.0)
    outs = _out_deals(s.term)
    assert len(outs) == 1 and outs[0].price == bars.bid[10, 0] == 1.1018
    assert outs[0].reason == A.DEAL_REASON_EXPERT
    assert len(s.term.deals) == 2  # the strategy stays long: nothing opens again
    start = int(trading_days(bars.time[:1], "Europe/Prague", "00:00")[0])
    assert s.runner.state.phase["phase_start"] == "2024-01-16" == str(np.datetime64(start, "D"))
    assert s.runner.journal.load_state()["phase_start_day"] == start


def test_time_limit_while_flat_ends_the_phase_with_nothing_to_close(tmp_path):
    bars = _bars((MIDNIGHT,))
    strategy = ByTime(bars.time, set(range(3)))  # long bars 1..3, flat from bar 4's open
    rules = _rules(RULE_MAX_DAYS=1)
    sim = _simulated(bars, strategy, rules)
    s = _run(bars, strategy, rules, tmp_path)
    # +3 points: in at bar 1's ask 1.1001, out at bar 4's bid open 1.1006 = +500
    _assert_breach_as_simulated(s, sim, bars, "time_limit", 10, 100_500.0)
    assert len(_out_deals(s.term)) == 1 and _out_deals(s.term)[0].price == bars.bid[4, 0]


def test_within_the_time_limit_no_breach(tmp_path):
    bars = _bars((MIDNIGHT,))
    strategy = ByTime(bars.time, set(range(20)))
    rules = _rules(RULE_MAX_DAYS=2)  # Wednesday is the phase's second day: inside the limit
    sim = _simulated(bars, strategy, rules)
    assert int(sim.res[L.RES_STATUS]) == L.STATUS_RUNNING
    s = _run(bars, strategy, rules, tmp_path)
    assert s.runner.state.phase is None and not s.runner.state.halted and not s.alerts.sent
    assert len(s.term.positions) == 1 and not _out_deals(s.term)  # still long, as in the simulator
    lim = s.runner.health()["limits"]
    assert (lim["phase_day"], lim["max_days"]) == (2.0, 2.0)


def test_a_restart_keeps_the_phases_start_day(tmp_path):
    # the runner stops after 5 bars; a new process (a fresh Guard) resumes from the journal and still counts
    # the limit from Tuesday: the breach comes at bar 10, as without the restart
    bars = _bars((MIDNIGHT,))
    strategy = ByTime(bars.time, set(range(20)))
    rules = _rules(RULE_MAX_DAYS=1)
    sim = _simulated(bars, strategy, rules)
    s = make_setup(bars, strategy, tmp_path, rules=rules, fixed_volume=10.0)
    s.run(bars=5)
    assert s.runner.state.phase is None
    guard = Guard(sym=zero_cost_eurusd().to_vector(), rules=rules, gov=no_governors(),
                  cfg=config_vector(initial_balance=100_000.0, risk=0.01, fixed_volume=10.0))  # fmt: skip
    r2 = Runner(s.broker, strategy, guard, s.runner.clock, Journal(s.journal_path), s.runner.cfg,
                log=s.runner.log, alerts=s.alerts)  # fmt: skip
    s.runner = r2
    r2.poll()
    assert guard.phase_start_day == int(trading_days(bars.time[:1], "Europe/Prague", "00:00")[0])
    while s.term.advance():
        r2.poll()
    _assert_breach_as_simulated(s, sim, bars, "time_limit", 10, 101_700.0)


def test_a_configured_start_counts_the_limit_from_an_earlier_day(tmp_path):
    # the phase started on Monday (the runner first runs on Tuesday): with 2 days, Wednesday is past the limit;
    # counted from Tuesday (the test above) it would not be
    bars = _bars((MIDNIGHT,))
    strategy = ByTime(bars.time, set(range(20)))
    rules = _rules(RULE_MAX_DAYS=2)
    s = make_setup(bars, strategy, tmp_path, rules=rules, fixed_volume=10.0)
    tuesday = int(trading_days(bars.time[:1], "Europe/Prague", "00:00")[0])
    s.runner.cfg.phase_start_day = tuesday - 1
    s.run()
    phase = s.runner.state.phase
    assert phase is not None and (phase["reason"], phase["bar"], phase["phase_start"]) == (
        "time_limit",
        10,
        "2024-01-15",
    )
    assert s.term.balance == pytest.approx(101_700.0) and not s.term.positions


# ------------------------------------------------------------------ no holding overnight


def test_overnight_holding_breaches_at_the_new_days_open_as_simulated(tmp_path, transport):
    bars, sim, s = _scenario(
        (MIDNIGHT,), set(range(20)), tmp_path, {"RULE_NO_OVERNIGHT_HOLDING": 1.0}, transport=transport
    )
    _assert_breach_as_simulated(s, sim, bars, "overnight_holding", 10, 101_700.0)
    assert [d.price for d in _out_deals(s.term)] == [bars.bid[10, 0]]


def test_overnight_breach_wins_over_a_close_decided_for_that_open(tmp_path):
    # the strategy says flat at bar 9's close: the order would go at bar 10's open, but the rule judges the
    # open first (the position was held into the new day): a breach, at the same price, as in the simulator
    bars, sim, s = _scenario((MIDNIGHT,), set(range(9)), tmp_path, {"RULE_NO_OVERNIGHT_HOLDING": 1.0})
    _assert_breach_as_simulated(s, sim, bars, "overnight_holding", 10, 101_700.0)


def test_flat_through_the_reset_no_overnight_breach(tmp_path, transport):
    # flat at bar 8's close (out at bar 9's open), long again at bar 11's close: nothing held into Wednesday
    bars, sim, s = _scenario(
        (MIDNIGHT,),
        set(range(8)) | set(range(11, 20)),
        tmp_path,
        {"RULE_NO_OVERNIGHT_HOLDING": 1.0},
        transport=transport,
    )
    assert int(sim.res[L.RES_STATUS]) == L.STATUS_RUNNING
    assert s.runner.state.phase is None and not s.alerts.sent
    ins = [d for d in s.term.deals if d.entry == A.DEAL_ENTRY_IN]
    assert [d.price for d in ins] == [bars.ask[1, 0], bars.ask[12, 0]]
    assert [d.price for d in _out_deals(s.term)] == [bars.bid[9, 0]] and len(s.term.positions) == 1


# ------------------------------------------------------------------ no holding over the weekend


def test_weekend_holding_breaches_at_the_reopen_as_simulated(tmp_path, transport):
    # held from Friday into Sunday's reopen (bar 10): +17 points by Friday's last close, out at the reopen's
    # bid open (Friday's last close, 1.1018): +1,700
    bars, sim, s = _scenario(
        WEEKEND, set(range(20)), tmp_path, {"RULE_NO_WEEKEND_HOLDING": 1.0}, transport=transport
    )
    _assert_breach_as_simulated(s, sim, bars, "weekend_holding", 10, 101_700.0)
    assert [d.price for d in _out_deals(s.term)] == [bars.bid[10, 0]]


def test_weekend_ban_allows_holding_overnight_on_a_weekday(tmp_path):
    bars, sim, s = _scenario((MIDNIGHT,), set(range(20)), tmp_path, {"RULE_NO_WEEKEND_HOLDING": 1.0})
    assert int(sim.res[L.RES_STATUS]) == L.STATUS_RUNNING
    assert s.runner.state.phase is None and len(s.term.positions) == 1 and not _out_deals(s.term)


def test_flat_over_the_weekend_no_breach(tmp_path):
    # flat at Friday's bar 8 close (out at bar 9's open), long again from Sunday's bar 11: nothing held over
    bars, sim, s = _scenario(
        WEEKEND,
        set(range(8)) | set(range(11, 20)),
        tmp_path,
        {"RULE_NO_WEEKEND_HOLDING": 1.0, "RULE_NO_OVERNIGHT_HOLDING": 1.0},
    )
    assert int(sim.res[L.RES_STATUS]) == L.STATUS_RUNNING
    assert s.runner.state.phase is None and not s.alerts.sent
    assert [d.price for d in _out_deals(s.term)] == [bars.bid[9, 0]] and len(s.term.positions) == 1


def test_dry_run_judges_the_holding_ban_too(tmp_path):
    bars = _bars(WEEKEND)
    strategy = ByTime(bars.time, set(range(20)))
    rules = _rules(RULE_NO_WEEKEND_HOLDING=1.0)
    s = _run(bars, strategy, rules, tmp_path, dry_run=True)
    phase = s.runner.state.phase
    assert (phase["reason"], phase["bar"]) == ("weekend_holding", 10)
    assert phase["balance"] == pytest.approx(101_700.0) and s.runner.state.held is None
    assert not s.term.sent and [e["kind"] for e in s.events("order_dryrun")] == ["open", "close"]
