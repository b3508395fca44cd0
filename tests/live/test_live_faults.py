"""Acceptance 2: faults injected into the fake terminal; each test asserts the account's final state and that
no order was duplicated (one entry deal per decision, never a second position)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from live_helpers import make_setup, walk_bars

from live import mt5_api as A
from live.runner import Runner
from live.safety import KillSwitch
from simlab import layout as L
from strategies.base import Intents, Strategy

# 40 minute bars: a rise, then a fall; the strategy goes long at bar 5's close (fills at bar 6's open)
CLOSES = [1.1000 + 0.0001 * i for i in range(20)] + [1.1019 - 0.0001 * i for i in range(20)]


class Scripted(Strategy):
    """Intents from a script keyed by the bar's index from the start of the data (its time)."""

    name = "scripted"

    def __init__(self, script: dict[int, int], t0: int, sl: float = 0.0030, tp: float = math.nan) -> None:
        super().__init__()
        self.script, self.t0, self.sl, self.tp = script, t0, sl, tp

    def signals(self, bars):
        n = len(bars)
        it = Intents.hold(n)
        i = int((bars.time[-1] - self.t0) // 60_000_000_000)
        d = self.script.get(i, 0)
        it.dir[-1] = d
        if d in (1, -1):
            it.sl[-1], it.tp[-1] = self.sl, self.tp
        return it


def _setup(tmp_path, script=None, **kw):  # kw: make_setup options, incl. transport ("direct" or "mt5linux")
    bars = walk_bars(CLOSES)
    strat = Scripted(script if script is not None else {5: 1, 30: 2}, int(bars.time[0]))
    return make_setup(bars, strat, tmp_path, **kw), bars


def _entries(term):
    return [d for d in term.deals if d.entry == A.DEAL_ENTRY_IN]


def _flat_after_signal(s, bars, volume):
    """The script's long (decided at bar 5, filled at bar 6's open) closed by its FLAT at bar 31's open."""
    ins = _entries(s.term)
    outs = [d for d in s.term.deals if d.entry == A.DEAL_ENTRY_OUT]
    assert len(ins) == 1 and len(outs) == 1  # no duplicate entry, no duplicate exit
    assert ins[0].price == bars.ask[6, 0] and ins[0].volume == volume
    assert outs[0].price == bars.bid[31, 0]
    assert not s.term.positions
    profit = round((bars.bid[31, 0] - bars.ask[6, 0]) * volume * 100_000, 2)
    assert s.term.balance == pytest.approx(100_000.0 + profit, abs=1e-9)
    assert s.runner.guard.acc[L.ACC_BALANCE] == pytest.approx(s.term.balance, abs=1e-9)
    assert s.runner.guard.pos[L.POS_DIR] == 0.0


def test_no_fault_baseline(tmp_path, transport):
    s, bars = _setup(tmp_path, transport=transport, fixed_volume=1.0, risk=0.0)
    s.run()
    _flat_after_signal(s, bars, 1.0)
    assert len(s.term.sent) == 2


def test_requote_then_fill(tmp_path, transport):
    s, bars = _setup(tmp_path, transport=transport, fixed_volume=1.0)
    s.term.inject("requote")
    s.run()
    _flat_after_signal(s, bars, 1.0)
    assert len(s.term.sent) == 3  # the requoted entry, its retry, the exit
    assert [e["action"] for e in s.events("order_result")][:2] == ["retry_price", "filled"]


def test_unsupported_filling_then_success_with_another_mode(tmp_path, transport):
    s, bars = _setup(tmp_path, transport=transport, fixed_volume=1.0)
    s.term.inject("reject_filling", filling=A.ORDER_FILLING_FOK)  # the mask says FOK, the server refuses it
    s.run()
    _flat_after_signal(s, bars, 1.0)
    assert [r["type_filling"] for r in s.term.sent] == [
        A.ORDER_FILLING_FOK,
        A.ORDER_FILLING_IOC,
        A.ORDER_FILLING_IOC,
    ]
    assert s.runner.exec.filling == A.ORDER_FILLING_IOC


def test_partial_fill_books_what_filled(tmp_path, transport):
    s, bars = _setup(tmp_path, transport=transport, fixed_volume=1.0)
    s.term.inject("partial", fraction=0.4)
    s.run()
    _flat_after_signal(s, bars, 0.4)  # never chases the rest
    assert len(s.term.sent) == 2


def test_timeout_whose_order_executed_is_not_resent(tmp_path, transport):
    s, bars = _setup(tmp_path, transport=transport, fixed_volume=1.0)
    s.term.inject("timeout_executed")
    s.run()
    _flat_after_signal(s, bars, 1.0)
    assert len(s.term.sent) == 2  # reconciled: found by magic and comment, not sent again
    assert s.events("reconciled")[0]["outcome"] == "executed"


def test_timeout_whose_order_did_not_execute_is_resent_once(tmp_path, transport):
    s, bars = _setup(tmp_path, transport=transport, fixed_volume=1.0)
    s.term.inject("timeout_lost")
    s.run()
    _flat_after_signal(s, bars, 1.0)
    assert len(s.term.sent) == 3
    assert s.events("reconciled")[0]["outcome"] == "not_executed"
    c = [r["comment"] for r in s.term.sent]
    assert c[0] != c[1] and c[0].split(".")[0] == c[1].split(".")[0]  # one intent, one comment per try


def test_ipc_error_on_order_send_reconnects_with_backoff_and_reconciles(tmp_path, transport):
    s, bars = _setup(tmp_path, transport=transport, fixed_volume=1.0)
    s.term.inject("ipc_executed")  # the order executed, the answer was lost and the link is down
    s.run()
    _flat_after_signal(s, bars, 1.0)
    assert s.sleeps == [1.0] and s.broker.reconnects == 1
    assert len(s.term.sent) == 2


def test_ipc_error_mid_cycle_reconnects_and_processes_the_bar_again(tmp_path, transport):
    s, bars = _setup(tmp_path, transport=transport, fixed_volume=1.0)
    s.term.inject("disconnect", on="positions_get", times=1)
    s.term.inject("disconnect", on="initialize", times=1)  # the first reconnect fails too: back-off grows
    s.run()
    _flat_after_signal(s, bars, 1.0)
    assert s.sleeps == [1.0, 2.0] and s.broker.reconnects == 1
    bars_seen = [e["bar"] for e in s.events("bar")]
    assert bars_seen == sorted(set(bars_seen)) and len(bars_seen) == len(bars) - 1  # every bar once


def test_market_closed_waits_for_the_session(tmp_path, transport):
    s, bars = _setup(tmp_path, transport=transport, fixed_volume=1.0)
    s.term.inject("market_closed")
    s.run()
    ins = _entries(s.term)
    assert len(ins) == 1 and ins[0].price == bars.ask[7, 0]  # retried at the next poll: bar 7's open
    assert [e["action"] for e in s.events("order_result")][:2] == ["wait_session", "filled"]
    assert not s.term.positions and len(s.term.deals) == 2


def test_kill_switch_mid_position_flattens_and_blocks(tmp_path, transport):
    kill_file = tmp_path / "KILL"
    bars = walk_bars(CLOSES)
    strat = Scripted({5: 1, 20: -1, 25: 1}, int(bars.time[0]))
    s = make_setup(
        bars, strat, tmp_path, fixed_volume=1.0, kill=KillSwitch(kill_file, None), transport=transport
    )
    s.run(10)
    assert len(s.term.positions) == 1
    kill_file.write_text("stop")
    s.run()
    assert not s.term.positions and len(_entries(s.term)) == 1  # flat, and the later signals never traded
    out = [d for d in s.term.deals if d.entry == A.DEAL_ENTRY_OUT][0]
    assert out.price == bars.bid[10, 0]  # flattened at the quote of the poll that saw the switch
    assert s.runner.guard.limits(0.0)["kill_switch"] and s.runner.state.halted == "kill switch"
    assert s.runner.journal.load_state()["kill"] is True
    assert s.alerts.sent[0]["event"] == "kill_switch"


def test_kill_switch_by_authenticated_post(tmp_path, transport):
    import urllib.error
    import urllib.request

    from live.observability import HttpEndpoint, Metrics

    kill = KillSwitch(None, None, token="s3cret-token")
    s, bars = _setup(tmp_path, transport=transport, fixed_volume=1.0, kill=kill)
    s.run(10)
    ep = HttpEndpoint(
        0,
        s.runner.health,
        Metrics("live"),
        kill.trip_by_token,
    ).start()
    try:
        url = f"http://127.0.0.1:{ep.port}/kill"
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(
                urllib.request.Request(url, data=b"", headers={"Authorization": "Bearer wrong"})
            )
        assert e.value.code == 403 and not kill.tripped
        r = urllib.request.urlopen(
            urllib.request.Request(url, data=b"", headers={"Authorization": "Bearer s3cret-token"})
        )
        assert r.status == 200 and kill.tripped
    finally:
        ep.stop()
    s.run()
    assert not s.term.positions and len(_entries(s.term)) == 1


def test_crash_and_restart_mid_position_resumes_without_duplicates(tmp_path, transport):
    s, bars = _setup(tmp_path, transport=transport, fixed_volume=1.0)
    s.run(15)  # long since bar 6
    assert len(s.term.positions) == 1
    r2 = Runner(s.broker, s.runner.strategy, _fresh_guard(s), s.runner.clock, type(s.runner.journal)(s.journal_path),
                s.runner.cfg, log=s.runner.log, alerts=s.alerts)  # fmt: skip
    s.runner = r2
    while s.term.advance():
        r2.poll()
    _flat_after_signal(s, bars, 1.0)
    assert r2.state.bar_index == len(bars) - 2


def test_crash_between_send_and_journal_resumes_by_comment(tmp_path, transport):
    s, bars = _setup(tmp_path, transport=transport, fixed_volume=1.0)
    real_finish = s.runner.journal.finish
    calls = {"n": 0}

    def crash_once(intent_id, state, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise SystemExit("power cut after order_send")
        return real_finish(intent_id, state, **kw)

    s.runner.journal.finish = crash_once
    with pytest.raises(SystemExit):
        s.run(8)
    assert len(s.term.positions) == 1 and s.runner.journal.intents()[0]["state"] == "sent"
    r2 = Runner(s.broker, s.runner.strategy, _fresh_guard(s), s.runner.clock, type(s.runner.journal)(s.journal_path),
                s.runner.cfg, log=s.runner.log, alerts=s.alerts)  # fmt: skip
    s.runner = r2
    r2.poll()
    while s.term.advance():
        r2.poll()
    _flat_after_signal(s, bars, 1.0)
    assert r2.journal.intents()[0]["state"] == "filled"


def test_position_closed_by_hand(tmp_path, transport):
    s, bars = _setup(tmp_path, transport=transport, fixed_volume=1.0)
    s.run(12)
    (ticket,) = s.term.positions
    s.term.close_by_hand(ticket)  # at bar 12's open bid
    s.run()
    assert not s.term.positions and len(_entries(s.term)) == 1
    outs = [d for d in s.term.deals if d.entry == A.DEAL_ENTRY_OUT]
    assert len(outs) == 1 and outs[0].reason == A.DEAL_REASON_CLIENT  # the runner never sent its own close
    assert s.runner.guard.acc[L.ACC_BALANCE] == pytest.approx(s.term.balance)
    assert s.runner.guard.acc[L.ACC_N_TRADES] == 1.0
    assert any(a["event"] == "closed_by_hand" for a in s.alerts.sent)


def _fresh_guard(s):
    from live.guard import Guard

    g = s.runner.guard
    return Guard(
        sym=g.sym, cfg=g.cfg, rules=g.rules, gov=g.gov.copy(), day_zone=g.day_zone, day_reset=g.day_reset
    )


def test_stop_codes_halt_and_alert(tmp_path, transport):
    s, bars = _setup(tmp_path, transport=transport, fixed_volume=1.0)
    s.term.inject("no_money")
    s.run()
    assert not s.term.deals and s.runner.state.halted.startswith("stop trading: not enough money")
    assert any(a["event"] == "stop_trading" for a in s.alerts.sent)
    assert np.isfinite(s.runner.guard.acc[L.ACC_EQUITY])
