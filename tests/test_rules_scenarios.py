"""The firm's rules, one hand-computed scenario per mechanic (issue 4, acceptance item 1).

Every scenario is a handful of bars written out below with the money worked
out in the comments. Conventions used throughout (see ``tests/_builders.py``):

* EURUSD-like prices, no commission, no swap, zero spread unless a test says
  otherwise, so a long of 10 lots makes or loses 10 x 100,000 = 1,000,000 USD
  per 1.0 of price, i.e. 100 USD per 0.0001;
* a 100,000 USD account;
* a decision written on bar t is filled at bar t+1's open (the kernel's rule);
* rule vectors come from the bundled presets (``load_program(...).phases[0]``)
  wherever the preset has the mechanic; a test that changes a slot says so.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _builders import Tape, day_id, gov_vector, plain_symbol, rule_vector

from challenges.rules import load_program
from simlab import layout as L
from simlab.engine import Market, Stepper, run_backtest

LONG, SHORT, FLAT = L.DIR_LONG, L.DIR_SHORT, L.DIR_FLAT
LOTS = 10.0
SPEC = plain_symbol()


def preset(name: str, phase: int = 0, **params: float) -> tuple[np.ndarray, tuple[str, str]]:
    """(rule vector, (day zone, day reset)) of a bundled program's phase."""
    prog = load_program(name, params=params)
    return prog.phases[phase].to_rule_vector(), tuple(prog.day_boundary)


def run(tape: Tape, rules: np.ndarray, boundary=("Europe/Prague", "00:00"), gov=None, **market_kw):
    """Run the tape with 10 fixed lots; returns (result, account-state snapshot after every bar).

    The snapshots come from the Stepper (the kernel one bar at a time); the
    result from ``run_backtest``; the test also checks that both agree.
    """
    bars, it = tape.build()
    market = Market.build(bars, day_zone=boundary[0], day_reset=boundary[1], **market_kw)
    res = run_backtest(bars, it, SPEC, market=market, rules=rules, gov=gov, fixed_volume=LOTS)
    st = Stepper(market, SPEC, rules=rules, gov=gov, fixed_volume=LOTS)
    snaps = []
    while not st.done:
        t = st.t
        st.step(int(it.dir[t]), float(it.sl[t]), float(it.tp[t]), float(it.size[t]))
        snaps.append(st.acc.copy())
    np.testing.assert_array_equal(st.res, res.res)
    return res, snaps


def status(res) -> tuple[str, str, int]:
    return res.status, res.breach_reason, int(res.res[L.RES_END_BAR])


# =============================================================================== daily loss: floating vs closed


def dip_day() -> Tape:
    """Tue 2024-03-05 (Prague = UTC+1): long 10 lots at 1.0510; the bid dips to 1.0450 and closes at 1.0530."""
    tp = Tape()
    tp.bar("2024-03-05T08:00", 1.0510, decide=LONG)  # 0
    tp.bar("2024-03-05T09:00", (1.0510, 1.0540, 1.0450, 1.0530))  # 1: filled at 1.0510, low 1.0450
    tp.bar("2024-03-05T10:00", 1.0530, decide=FLAT)  # 2
    tp.bar("2024-03-05T11:00", 1.0530)  # 3: closed at 1.0530
    return tp


def test_ftmo_intrabar_dip_through_the_daily_limit_fails_even_though_the_day_closes_green():
    rules, boundary = preset("ftmo-2step")
    assert rules[L.RULE_DAILY_FLOATING] == 1.0 and rules[L.RULE_DAILY_PCT] == 0.05
    res, snaps = run(dip_day(), rules, boundary)
    # daily limit = 100,000 (balance at midnight) - 5 % x 100,000 = 95,000
    assert snaps[0][L.ACC_DAILY_LIMIT] == 95_000.0
    # worst equity of bar 1 = 100,000 + (1.0450 - 1.0510) x 10 x 100,000 = 100,000 - 6,000 = 94,000 < 95,000
    assert status(res) == ("breached", "daily_loss", 1)
    assert res.res[L.RES_BALANCE] == pytest.approx(94_000.0)  # closed at the worst point of the bar
    assert res.res[L.RES_MAX_DAILY_DD] == pytest.approx(0.06)
    assert res.res[L.RES_BREACH_VIA_GAP] == 0.0  # the price went there; no gap, no slippage
    assert res.trades()["exit_reason"].tolist() == ["rule_breach"]


def test_same_path_under_a_closed_balance_daily_rule_passes_the_day():
    rules, boundary = preset("ftmo-2step")
    rules[L.RULE_DAILY_FLOATING] = 0.0  # closed balance only: the floating dip is not judged
    res, _ = run(dip_day(), rules, boundary)
    # the trade closes at 1.0530: +0.0020 x 1,000,000 = +2,000; the balance never falls below 95,000
    assert status(res) == ("running", "none", 3)
    assert res.res[L.RES_BALANCE] == pytest.approx(102_000.0)
    assert res.res[L.RES_MAX_DAILY_DD] == pytest.approx(0.06)  # still reported: the dip happened


def test_a_loss_booked_at_a_gapped_open_is_judged_by_the_equity_rule():
    """Closing at an open that gapped below the limit takes equity below it: a breach at that bar,
    attributed to the gap (the previous close was above the limit)."""
    rules, boundary = preset("ftmo-2step")
    tp = Tape()
    tp.bar("2024-03-05T08:00", 1.0510, decide=LONG)  # 0
    tp.bar("2024-03-05T09:00", 1.0510, decide=FLAT)  # 1: filled long at 1.0510, flat bar: equity 100,000
    tp.bar("2024-03-05T10:00", 1.0440)  # 2: opens 0.0070 lower: closed at 1.0440 -> -7,000 -> 93,000
    tp.bar("2024-03-05T11:00", 1.0440)  # 3
    res, _ = run(tp, rules, boundary)
    # balance = equity (flat) = 93,000 < 95,000 right at bar 2's open
    assert status(res) == ("breached", "daily_loss", 2)
    assert res.res[L.RES_BALANCE] == pytest.approx(93_000.0)
    assert res.res[L.RES_BREACH_VIA_GAP] == 1.0
    # under the closed-balance reading the same close is a breach too (the balance itself is below)
    rules[L.RULE_DAILY_FLOATING] = 0.0
    res, _ = run(tp, rules, boundary)
    assert status(res) == ("breached", "daily_loss", 2)


def test_the_exit_commission_of_a_stop_fill_counts_against_the_equity_rule():
    """FTMO checks equity including commissions: a stop that fills just above the limit breaches
    when the exit commission takes the account below it, at the stop's bar."""
    rules, boundary = preset("ftmo-2step")
    spec = plain_symbol(commission_per_lot=3.5)  # 3.5 USD per lot per side: 35 USD for 10 lots
    tp = Tape()
    tp.bar("2024-03-05T08:00", 1.1000, decide=(LONG, 0.004945))  # stop 0.004945 below the fill
    tp.bar("2024-03-05T09:00", (1.1000, 1.1000, 1.0900, 1.0950))  # 1: filled at 1.1000; the stop fills
    tp.bar("2024-03-05T10:00", 1.0950)  # 2
    bars, it = tp.build()
    market = Market.build(bars, day_zone=boundary[0])
    res = run_backtest(bars, it, spec, market=market, rules=rules, fixed_volume=LOTS)
    # entry: balance 100,000 - 35 = 99,965; at the stop 1.095055 the equity is
    # 99,965 - 0.004945 x 1,000,000 = 95,020 >= 95,000 (no breach inside the bar), but the exit
    # commission books 95,020 - 35 = 94,985 < 95,000: daily loss at bar 1, not a gap
    assert status(res) == ("breached", "daily_loss", 1)
    assert res.res[L.RES_BALANCE] == pytest.approx(94_985.0)
    assert res.res[L.RES_BREACH_VIA_GAP] == 0.0
    assert res.trades()["exit_reason"].tolist() == ["stop_loss"]


# =============================================================================== FTMO: previous day's balance


def two_days(first_day_move: float, second_day_low: float) -> Tape:
    """Tue 2024-03-05: a round trip of 10 lots from 1.1000 moving ``first_day_move``; then bars at
    22:00 UTC (23:00 Prague, still Tuesday) and 23:00 UTC (00:00 Prague: Wednesday). Wed: a long at
    the Tuesday close price whose bid dips to ``second_day_low`` and comes back."""
    p1 = round(1.1000 + first_day_move, 5)
    tp = Tape()
    tp.bar("2024-03-05T08:00", 1.1000, decide=LONG)  # 0
    tp.bar("2024-03-05T09:00", (1.1000, max(1.1, p1), min(1.1, p1), p1), decide=FLAT)  # 1
    tp.bar("2024-03-05T10:00", p1)  # 2: closed at p1
    tp.bar("2024-03-05T22:00", p1)  # 3: 23:00 Prague, Tuesday
    tp.bar("2024-03-05T23:00", p1)  # 4: 00:00 Prague, Wednesday: the daily reset
    tp.bar("2024-03-06T08:00", p1, decide=LONG)  # 5
    tp.bar("2024-03-06T09:00", (p1, p1, second_day_low, p1), decide=FLAT)  # 6: filled at p1, dips, back to p1
    tp.bar("2024-03-06T10:00", p1)  # 7
    return tp


def test_ftmo_daily_limit_rises_after_a_profitable_day():
    rules, boundary = preset("ftmo-2step")
    res, snaps = run(two_days(+0.0030, 1.0975), rules, boundary)
    tue, wed = day_id("2024-03-05"), day_id("2024-03-06")
    assert [s[L.ACC_DAY] for s in snaps[2:5]] == [tue, tue, wed]  # 22:00 UTC Tuesday, 23:00 UTC Wednesday
    # Tuesday: 100,000 - 5,000 = 95,000, all day (the +3,000 closed at bar 2 does not move it)
    assert [s[L.ACC_DAILY_LIMIT] for s in snaps[:4]] == [95_000.0] * 4
    # Wednesday: balance at midnight Prague 103,000 - 5 % of the initial 100,000 = 98,000
    assert snaps[4][L.ACC_DAY_START_BALANCE] == pytest.approx(103_000.0)
    assert snaps[4][L.ACC_DAILY_LIMIT] == pytest.approx(98_000.0)
    # the Wednesday dip: long at 1.1030, bid low 1.0975: 103,000 - 0.0055 x 1,000,000 = 97,500 < 98,000
    # (it would pass a limit fixed at 95,000)
    assert status(res) == ("breached", "daily_loss", 6)
    assert res.res[L.RES_BALANCE] == pytest.approx(97_500.0)


def test_ftmo_daily_limit_falls_after_a_losing_day():
    rules, boundary = preset("ftmo-2step")
    res, snaps = run(two_days(-0.0020, 1.0920), rules, boundary)
    # Tuesday closes at 98,000 (-0.0020 x 1,000,000); Wednesday's limit 98,000 - 5,000 = 93,000
    assert snaps[4][L.ACC_DAILY_LIMIT] == pytest.approx(93_000.0)
    # the Wednesday dip: long at 1.0980, low 1.0920: 98,000 - 6,000 = 92,000 is below 93,000
    assert status(res) == ("breached", "daily_loss", 6)
    # a dip to 1.0931 (98,000 - 4,900 = 93,100) passes, though it is below the initial-based 95,000
    res, _ = run(two_days(-0.0020, 1.0931), rules, boundary)
    assert status(res) == ("running", "none", 7)
    assert res.res[L.RES_MAX_DAILY_DD] == pytest.approx(0.049)  # (98,000 - 93,100) / 100,000


def test_ftmo_daily_basis_ignores_floating_profit_at_midnight():
    """A position open over midnight: FTMO's limit is the *balance* at midnight minus 5 %."""
    rules, boundary = preset("ftmo-2step")
    tp = Tape()
    tp.bar("2024-03-05T21:00", 1.1000, decide=LONG)  # 0
    tp.bar("2024-03-05T22:00", (1.1000, 1.1040, 1.1000, 1.1040))  # 1: filled at 1.1000; equity 104,000
    tp.bar("2024-03-05T23:00", (1.1040, 1.1040, 1.0945, 1.1000))  # 2: Wednesday; low: 100,000 - 5,500
    res, snaps = run(tp, rules, boundary)
    # the day starts with balance 100,000 and equity 104,000: limit 100,000 - 5,000 = 95,000
    assert snaps[2][L.ACC_DAY_START_BALANCE] == 100_000.0
    assert snaps[2][L.ACC_DAY_START_EQUITY] == pytest.approx(104_000.0)
    assert snaps[2][L.ACC_DAILY_LIMIT] == 95_000.0
    # worst equity 100,000 + (1.0945 - 1.1000) x 1,000,000 = 94,500 < 95,000
    assert status(res) == ("breached", "daily_loss", 2)


# =============================================================================== The5ers: max(equity, balance)


def the5ers_tape(day2_low: float) -> Tape:
    """The5ers' day rolls at 00:00 UTC+3 = 21:00 UTC. Mon 2024-03-04: long 10 lots at 1.1000, held;
    at 21:00 UTC the bid is 1.1100 (equity 110,000, balance 100,000). Tue: the bid dips to ``day2_low``."""
    tp = Tape()
    tp.bar("2024-03-04T19:00", 1.1000, decide=LONG)  # 0  Monday
    tp.bar("2024-03-04T20:00", (1.1000, 1.1100, 1.1000, 1.1100))  # 1  filled at 1.1000, closes +10,000
    tp.bar("2024-03-04T21:00", (1.1100, 1.1100, day2_low, 1.1100), decide=FLAT)  # 2  00:00 UTC+3: Tuesday
    tp.bar("2024-03-04T22:00", 1.1100)  # 3
    return tp


def test_the5ers_daily_basis_is_the_higher_of_start_equity_and_balance():
    rules, boundary = preset("the5ers-high-stakes")
    assert boundary == ("UTC+03:00", "00:00")
    assert rules[L.RULE_DAILY_BASIS] == L.BASIS_MAX_BALANCE_EQUITY
    assert rules[L.RULE_DAILY_SIZE_OF] == L.SIZE_OF_BASIS
    res, snaps = run(the5ers_tape(1.1040), rules, boundary)
    # Tuesday starts with equity 110,000 > balance 100,000: basis 110,000, limit 110,000 x 0.95 = 104,500
    assert snaps[2][L.ACC_DAY] == snaps[1][L.ACC_DAY] + 1
    assert snaps[2][L.ACC_DAILY_LIMIT] == pytest.approx(104_500.0)
    # the dip to 1.1040: equity 100,000 + 0.0040 x 1,000,000 = 104,000 < 104,500 -> breach, though the
    # account is still 4 % up on its initial balance
    assert status(res) == ("breached", "daily_loss", 2)
    assert res.res[L.RES_BALANCE] == pytest.approx(104_000.0)
    # a dip to 1.1050 (equity 105,000) is above the limit
    res, _ = run(the5ers_tape(1.1050), rules, boundary)
    assert status(res) == ("running", "none", 3)
    assert res.res[L.RES_BALANCE] == pytest.approx(110_000.0)


def test_the5ers_basis_is_the_balance_when_the_day_starts_with_a_floating_loss():
    rules, boundary = preset("the5ers-high-stakes")
    tp = Tape()
    tp.bar("2024-03-04T19:00", 1.1000, decide=LONG)  # 0
    tp.bar("2024-03-04T20:00", (1.1000, 1.1000, 1.0980, 1.0980))  # 1  equity 98,000 at the reset
    tp.bar("2024-03-04T21:00", (1.0980, 1.0980, 1.0952, 1.0960))  # 2  Tuesday
    res, snaps = run(tp, rules, boundary)
    # basis = max(100,000 balance, 98,000 equity) = 100,000; limit 95,000;
    # low: 100,000 - 0.0048 x 1,000,000 = 95,200 -> no breach
    assert snaps[2][L.ACC_DAILY_LIMIT] == pytest.approx(95_000.0)
    assert status(res) == ("running", "none", 2)


def test_the_same_floating_profit_under_ftmo_keeps_the_balance_basis():
    # the5ers_tape under FTMO: Prague midnight is 23:00 UTC, so every bar is Monday: limit 95,000
    rules, boundary = preset("ftmo-2step")
    res, snaps = run(the5ers_tape(1.1040), rules, boundary)
    assert {s[L.ACC_DAILY_LIMIT] for s in snaps} == {95_000.0}
    assert status(res) == ("running", "none", 3)


# =============================================================================== max loss: trailing


def peak_then_dip() -> Tape:
    """Tue: long 10 lots at 1.1000; the bid touches 1.1080 (equity 108,000), the trade closes flat.
    Wed: long at 1.1000, the bid dips to 1.0975 (equity 97,500) and comes back."""
    tp = Tape()
    tp.bar("2024-03-05T08:00", 1.1000, decide=LONG)  # 0
    tp.bar("2024-03-05T09:00", (1.1000, 1.1080, 1.1000, 1.1000), decide=FLAT)  # 1: high 1.1080
    tp.bar("2024-03-05T10:00", 1.1000)  # 2: closed at 1.1000: P/L 0
    tp.bar("2024-03-06T08:00", 1.1000, decide=LONG)  # 3  Wednesday
    tp.bar("2024-03-06T09:00", (1.1000, 1.1000, 1.0975, 1.1000), decide=FLAT)  # 4: low 1.0975
    tp.bar("2024-03-06T10:00", 1.1000)  # 5
    return tp


def test_end_of_day_trailing_ignores_the_intraday_peak():
    rules, boundary = preset("ftmo-1step")
    assert rules[L.RULE_MAXLOSS_MODE] == L.MAXLOSS_TRAILING_EOD
    res, snaps = run(peak_then_dip(), rules, boundary)
    # highest midnight balance 100,000 (the 108,000 was floating): limit 100,000 - 10,000 = 90,000
    assert [s[L.ACC_MAXLOSS_LIMIT] for s in snaps] == [90_000.0] * 6
    # Wednesday's daily limit (3 %): 100,000 - 3,000 = 97,000; the dip to 97,500 breaks nothing
    assert status(res) == ("running", "none", 5)


def test_intraday_trailing_follows_the_intraday_peak():
    rules, boundary = preset("ftmo-1step")
    rules[L.RULE_MAXLOSS_MODE] = L.MAXLOSS_TRAILING_INTRADAY  # same program, intraday trailing
    res, snaps = run(peak_then_dip(), rules, boundary)
    # bar 1 touched equity 108,000: limit 108,000 - 10,000 = 98,000 from then on
    assert snaps[0][L.ACC_MAXLOSS_LIMIT] == 90_000.0
    assert snaps[1][L.ACC_MAXLOSS_LIMIT] == pytest.approx(98_000.0)
    # Wednesday's dip to 97,500 < 98,000: max loss (the 3 % daily limit at 97,000 holds)
    assert status(res) == ("breached", "max_loss", 4)


def test_end_of_day_trailing_rises_with_the_midnight_balance():
    rules, boundary = preset("ftmo-1step")
    tp = Tape()
    tp.bar("2024-03-05T08:00", 1.1000, decide=LONG)  # 0  Tuesday
    tp.bar("2024-03-05T09:00", (1.1000, 1.1050, 1.1000, 1.1050), decide=FLAT)  # 1
    tp.bar("2024-03-05T10:00", 1.1050)  # 2  closed +5,000: balance 105,000
    tp.bar("2024-03-06T08:00", 1.1050)  # 3  Wednesday
    res, snaps = run(tp, rules, boundary)
    # Tuesday: still 90,000 after the close (end-of-day: it moves at midnight)
    assert [s[L.ACC_MAXLOSS_LIMIT] for s in snaps[:3]] == [90_000.0] * 3
    # Wednesday: highest midnight balance 105,000 - 10,000 = 95,000
    assert snaps[3][L.ACC_MAXLOSS_LIMIT] == pytest.approx(95_000.0)
    assert snaps[3][L.ACC_PEAK_EOD_BALANCE] == pytest.approx(105_000.0)


def round_trips(tp: Tape, date: str, legs: list[tuple[float, float]], hour: int = 8) -> None:
    """Round trips of 10 lots on ``date``: each leg (entry, exit) is decide-long bar, move bar, closed bar."""
    h = hour
    for p0, p1 in legs:
        tp.bar(f"{date}T{h:02d}:00", p0, decide=LONG)
        tp.bar(f"{date}T{h + 1:02d}:00", (p0, max(p0, p1), min(p0, p1), p1), decide=FLAT)
        tp.bar(f"{date}T{h + 2:02d}:00", p1)
        h += 3


def test_e8_trailing_max_loss_locks_at_the_initial_balance():
    rules, boundary = preset("e8-one", target_pct=20.0)  # target 120,000: out of reach here
    assert rules[L.RULE_MAXLOSS_MODE] == L.MAXLOSS_TRAILING_LOCK and rules[L.RULE_MAXLOSS_PCT] == 0.06
    tp = Tape()
    # Mon 2024-03-04 (E8's day: 17:00 New York to 17:00): +4,000 then +6,000
    round_trips(tp, "2024-03-04", [(1.1000, 1.1040), (1.1040, 1.1100)])
    # Tue: -4,000 (daily limit 110,000 x 0.96 = 105,600; balance 106,000 stays above it)
    round_trips(tp, "2024-03-05", [(1.1100, 1.1060)])
    # Wed: -4,000 (daily limit 106,000 x 0.96 = 101,760; balance 102,000)
    round_trips(tp, "2024-03-06", [(1.1060, 1.1020)])
    # Thu: daily limit 102,000 x 0.96 = 97,920. Long at 1.1020, the bid dips to 1.1005
    # (102,000 - 0.0015 x 1,000,000 = 100,500) and comes back; then long again, dip to 1.0999 (99,900)
    round_trips(tp, "2024-03-07", [(1.1020, 1.1020)])  # bars 12, 13, 14
    tp.rows[13][2] = 1.1005
    round_trips(tp, "2024-03-07", [(1.1020, 1.1020)], hour=11)  # bars 15, 16, 17
    tp.rows[16][2] = 1.0999
    res, snaps = run(tp, rules, boundary)
    lim = [s[L.ACC_MAXLOSS_LIMIT] for s in snaps]
    # closed-balance high 100,000: 100,000 - 6,000 = 94,000
    assert lim[1] == pytest.approx(94_000.0)
    # after +4,000 (closed at bar 2): 104,000 - 6,000 = 98,000, at once (not at the day's end)
    assert lim[2] == pytest.approx(98_000.0)
    # after +6,000 more (bar 5): 110,000 - 6,000 = 104,000, capped at the initial 100,000: locked
    assert lim[5] == pytest.approx(100_000.0)
    # and it stays there while the balance falls back to 102,000
    assert lim[5:] == pytest.approx([100_000.0] * len(lim[5:]))
    assert snaps[14][L.ACC_BALANCE] == pytest.approx(102_000.0)
    # Thursday's first dip to 100,500 passes (an unlocked trail would sit at 104,000 and fail here);
    # the second, 99,900 < 100,000, is a max-loss breach (the daily limit 97,920 holds)
    assert snaps[15][L.ACC_DAILY_LIMIT] == pytest.approx(97_920.0)
    assert status(res) == ("breached", "max_loss", 16)


# =============================================================================== the day boundary across DST


@pytest.mark.parametrize(
    "date, same_day",
    [
        # 2024-03-30 (Saturday, winter): Prague = UTC+1, midnight = 23:00 UTC:
        #   21:30 UTC = 22:30 and 22:30 UTC = 23:30 Prague: both on the 30th
        ("2024-03-30", True),
        # 2024-03-31 (clocks went forward at 01:00 UTC): Prague = UTC+2, midnight = 22:00 UTC:
        #   21:30 UTC = 23:30 on the 31st, 22:30 UTC = 00:30 on April 1st
        ("2024-03-31", False),
        # 2024-10-26 (summer): midnight = 22:00 UTC: 21:30 UTC is the 26th, 22:30 UTC the 27th
        ("2024-10-26", False),
        # 2024-10-27 (clocks went back at 01:00 UTC): Prague = UTC+1 again, midnight 23:00 UTC:
        #   both on the 27th, a 25-hour day (2024-10-26 22:00 UTC .. 2024-10-27 23:00 UTC)
        ("2024-10-27", True),
    ],
)
def test_ftmo_day_boundary_is_midnight_prague_across_dst(date, same_day):
    rules, boundary = preset("ftmo-2step")
    tp = Tape()
    # loss 1: -3,000 booked at 21:00 UTC (22:00 or 23:00 Prague: the same day in every case)
    tp.bar(f"{date}T20:00", 1.1000, decide=LONG)  # 0
    tp.bar(f"{date}T20:30", (1.1000, 1.1000, 1.0970, 1.0970), decide=FLAT)  # 1
    tp.bar(f"{date}T21:00", 1.0970)  # 2: closed at 1.0970: balance 97,000
    tp.bar(f"{date}T21:30", 1.0970)  # 3
    # loss 2: long from the 22:30 UTC open, the bid falls to 1.0940: -3,000 more
    tp.bar(f"{date}T22:00", 1.0970, decide=LONG)  # 4
    tp.bar(f"{date}T22:30", (1.0970, 1.0970, 1.0940, 1.0940), decide=FLAT)  # 5: equity 94,000
    tp.bar(f"{date}T23:30", 1.0940)  # 6: closed at 1.0940
    res, snaps = run(tp, rules, boundary)
    days = Market.build(tp.build()[0], day_zone="Europe/Prague").day
    d = day_id(date)
    if same_day:
        # midnight Prague is 23:00 UTC: bars 0-5 are one day, 23:30 UTC the next
        assert days.tolist() == [d] * 6 + [d + 1]
        # one day, limit 95,000: equity 94,000 in bar 5 -> daily loss at 22:30 UTC
        assert snaps[5][L.ACC_DAILY_LIMIT] == 95_000.0
        assert status(res) == ("breached", "daily_loss", 5)
    else:
        # midnight Prague is 22:00 UTC: the 22:00 and 22:30 UTC bars belong to the next day
        assert days.tolist() == [d] * 4 + [d + 1] * 3
        # the next day starts from balance 97,000: limit 92,000; equity 94,000 is above it
        assert snaps[5][L.ACC_DAILY_LIMIT] == pytest.approx(92_000.0)
        assert status(res) == ("running", "none", 6)
        assert res.res[L.RES_BALANCE] == pytest.approx(94_000.0)


def test_the_25_hour_prague_day_of_2024_10_27():
    from _builders import utc

    from simlab.calendar import trading_days

    t = utc("2024-10-26T21:59", "2024-10-26T22:00", "2024-10-27T22:59", "2024-10-27T23:00")
    d = day_id("2024-10-27")
    # 23:59 CEST on the 26th | 00:00 CEST on the 27th ... 23:59 CET on the 27th | 00:00 CET on the 28th
    assert (trading_days(t, "Europe/Prague", "00:00") - d).tolist() == [-1, 0, 0, 1]


# =============================================================================== weekend


def weekend_tape() -> Tape:
    """Fri 2024-01-12 (New York on EST: the week closes 17:00 NY = 22:00 UTC); Sunday reopens 22:00 UTC."""
    tp = Tape()
    tp.bar("2024-01-12T19:00", 1.1000, decide=LONG)  # 0
    tp.bar("2024-01-12T20:00", (1.1000, 1.1010, 1.1000, 1.1010))  # 1: filled long at 1.1000
    tp.bar("2024-01-12T21:00", 1.1010)  # 2: last bar before the close (pre-weekend with a window)
    tp.bar("2024-01-14T22:00", 1.1020)  # 3: first bar after the weekend
    tp.bar("2024-01-14T23:00", 1.1020)  # 4
    return tp


def test_no_weekend_holding_breaches_a_position_held_into_the_reopen():
    rules, boundary = preset("ftmo-2step")
    rules[L.RULE_NO_WEEKEND_HOLDING] = 1.0  # the Challenge allows it; here the rule is switched on
    res, _ = run(weekend_tape(), rules, boundary)
    assert status(res) == ("breached", "weekend_holding", 3)
    # closed at the reopen's bid 1.1020: +0.0020 x 1,000,000 = +2,000 (a breach, though in profit)
    assert res.res[L.RES_BALANCE] == pytest.approx(102_000.0)


def test_flatten_before_weekend_governor_avoids_the_weekend_breach():
    rules, boundary = preset("ftmo-2step")
    rules[L.RULE_NO_WEEKEND_HOLDING] = 1.0
    gov = gov_vector(flatten_before_weekend=1.0)
    res, _ = run(weekend_tape(), rules, boundary, gov=gov, weekend_window_min=30)
    # bar 2 (21:00 UTC) is the last bar before the close: flattened at its open, 1.1010: +1,000
    assert status(res) == ("running", "none", 4)
    tr = res.trades()
    assert tr["exit_reason"].tolist() == ["governor_before_weekend"]
    assert tr["exit_bar"].tolist() == [2]
    assert res.res[L.RES_BALANCE] == pytest.approx(101_000.0)


def test_weekend_holding_is_allowed_where_the_program_allows_it():
    rules, boundary = preset("ftmo-2step")
    assert rules[L.RULE_NO_WEEKEND_HOLDING] == 0.0
    res, _ = run(weekend_tape(), rules, boundary)
    assert status(res) == ("running", "none", 4)


# =============================================================================== overnight holding


def overnight_tape() -> Tape:
    """Tue 2024-03-05 (Prague = UTC+1, so the FTMO day resets at 23:00 UTC): long held into Wednesday."""
    tp = Tape()
    tp.bar("2024-03-05T20:00", 1.1000, decide=LONG)  # 0
    tp.bar("2024-03-05T21:00", (1.1000, 1.1010, 1.1000, 1.1010))  # 1: filled long at 1.1000
    tp.bar("2024-03-05T22:00", 1.1010)  # 2: last bar before the reset (in a governor's window)
    tp.bar("2024-03-05T23:00", 1.1020)  # 3: 00:00 Prague, Wednesday: first bar of the new rule day
    tp.bar("2024-03-06T00:00", 1.1020)  # 4
    return tp


def test_no_overnight_holding_breaches_a_position_held_through_the_reset():
    rules, boundary = preset("ftmo-2step")
    assert rules[L.RULE_NO_OVERNIGHT_HOLDING] == 0.0  # FTMO allows it; here the rule is switched on
    rules[L.RULE_NO_OVERNIGHT_HOLDING] = 1.0
    res, _ = run(overnight_tape(), rules, boundary)
    assert status(res) == ("breached", "overnight_holding", 3)
    # closed at the new day's first bid open 1.1020: +0.0020 x 1,000,000 = +2,000 (a breach, though in profit)
    assert res.res[L.RES_BALANCE] == pytest.approx(102_000.0)
    assert res.trades()["exit_reason"].tolist() == ["rule_breach"]


def test_flatten_before_reset_governor_avoids_the_overnight_breach():
    rules, boundary = preset("ftmo-2step")
    rules[L.RULE_NO_OVERNIGHT_HOLDING] = 1.0
    gov = gov_vector(flatten_before_reset=1.0)
    res, _ = run(overnight_tape(), rules, boundary, gov=gov, reset_window_min=30)
    # bar 2 (22:00 UTC) is the last bar before the reset: flattened at its open, 1.1010: +1,000
    assert status(res) == ("running", "none", 4)
    tr = res.trades()
    assert tr["exit_reason"].tolist() == ["governor_before_reset"]
    assert tr["exit_bar"].tolist() == [2]
    assert res.res[L.RES_BALANCE] == pytest.approx(101_000.0)


def test_a_day_trade_is_no_overnight_breach_and_holding_is_allowed_where_the_program_allows_it():
    rules, boundary = preset("ftmo-2step")
    res, _ = run(overnight_tape(), rules, boundary)
    assert status(res) == ("running", "none", 4)  # the preset allows overnight holding
    rules[L.RULE_NO_OVERNIGHT_HOLDING] = 1.0
    tp = Tape()
    tp.bar("2024-03-05T20:00", 1.1000, decide=LONG)  # 0
    tp.bar("2024-03-05T21:00", 1.1000, decide=FLAT)  # 1: filled long at 1.1000
    tp.bar("2024-03-05T22:00", 1.1010)  # 2: closed at 1.1010 before the reset: +1,000
    tp.bar("2024-03-05T23:00", 1.1020, decide=LONG)  # 3: the new day, flat
    tp.bar("2024-03-06T00:00", 1.1020)  # 4: opened on the new day: not held through a reset
    res, _ = run(tp, rules, boundary)
    assert status(res) == ("running", "none", 4)
    assert res.res[L.RES_BALANCE] == pytest.approx(101_000.0)


# =============================================================================== minimum trading days


def min_days_tape(with_friday: bool) -> Tape:
    """FTMO Challenge (10 % target, 4 days with a trade opened), 10 lots."""
    tp = Tape()
    round_trips(tp, "2024-03-04", [(1.1000, 1.1060)])  # Mon: +6,000 -> 106,000 (day 1)
    round_trips(tp, "2024-03-05", [(1.1060, 1.1110)])  # Tue: +5,000 -> 111,000: target reached, 2 days
    # Tue afternoon: open a position that is held through Wednesday and closed on Thursday
    tp.bar("2024-03-05T15:00", 1.1110, decide=LONG)
    tp.bar("2024-03-05T16:00", 1.1110)  # filled at 1.1110 on Tuesday
    tp.bar("2024-03-06T10:00", 1.1110)  # Wed: only held - no trade opened
    tp.bar("2024-03-06T11:00", 1.1110)
    tp.bar("2024-03-07T08:00", 1.1110, decide=FLAT)  # Thu
    tp.bar("2024-03-07T09:00", 1.1110)  # closed at 1.1110: P/L 0; closing does not count either
    round_trips(tp, "2024-03-07", [(1.1110, 1.1110)], hour=10)  # Thu: a trade opened (day 3), P/L 0
    if with_friday:
        round_trips(tp, "2024-03-08", [(1.1110, 1.1110)])  # Fri: day 4 -> passes when it is closed
    return tp


def test_minimum_trading_days_count_only_days_with_a_trade_opened():
    rules, boundary = preset("ftmo-2step")
    assert rules[L.RULE_MIN_DAYS] == 4 and rules[L.RULE_DAY_COUNT_MODE] == L.DAYCOUNT_TRADE_OPENED
    res, snaps = run(min_days_tape(with_friday=False), rules, boundary)
    # target 110,000 reached on Tuesday (bar 5) with 2 days: banked, not passed; Mon, Tue, Thu count
    assert snaps[5][L.ACC_BALANCE] == pytest.approx(111_000.0)
    assert snaps[5][L.ACC_TARGET_BANKED] == 1.0
    assert status(res) == ("running", "none", len(snaps) - 1)
    assert res.res[L.RES_TRADING_DAYS] == 3  # Wednesday (held only) does not count
    assert res.res[L.RES_DAYS_COUNTED] == 3

    res, snaps = run(min_days_tape(with_friday=True), rules, boundary)
    # Friday's trade is the 4th day: passed at the bar that closes it (the last bar), flat above 110,000
    assert status(res) == ("passed", "none", len(snaps) - 1)
    assert res.res[L.RES_TRADING_DAYS] == 4
    assert res.res[L.RES_CAL_DAYS] == 5  # Monday .. Friday
    assert res.res[L.RES_BALANCE] == pytest.approx(111_000.0)


def test_the5ers_counts_only_days_with_a_closed_profit_of_half_a_percent():
    rules, boundary = preset("the5ers-high-stakes")  # 8 % target, 3 days of >= 0.5 % (500 USD)
    assert rules[L.RULE_DAY_COUNT_MODE] == L.DAYCOUNT_PROFITABLE and rules[L.RULE_MIN_DAYS] == 3
    tp = Tape()
    round_trips(tp, "2024-03-04", [(1.1000, 1.1004)])  # Mon +400: traded, but < 500: does not count
    round_trips(tp, "2024-03-05", [(1.1004, 1.1010)])  # Tue +600: day 1
    round_trips(tp, "2024-03-06", [(1.1010, 1.1080)])  # Wed +7,000: 108,000 = target, day 2 (bar 8)
    round_trips(tp, "2024-03-07", [(1.1080, 1.1076)])  # Thu -400: does not count
    round_trips(tp, "2024-03-08", [(1.1076, 1.1082)])  # Fri +600: day 3 -> passed (bar 14)
    res, snaps = run(tp, rules, boundary)
    # Wednesday: 100,000 + 400 + 600 + 7,000 = 108,000 >= target with 2 counted days: banked, not passed
    assert snaps[8][L.ACC_BALANCE] == pytest.approx(108_000.0) and snaps[8][L.ACC_TARGET_BANKED] == 1.0
    # Friday: 108,200, flat, 3 counted days (Tue, Wed, Fri): passed when Friday's trade is closed
    assert status(res) == ("passed", "none", 14)
    assert res.res[L.RES_BALANCE] == pytest.approx(108_200.0)
    assert res.res[L.RES_DAYS_COUNTED] == 3
    assert res.res[L.RES_TRADING_DAYS] == 5


# =============================================================================== best day (FTMO 1-step)


def test_best_day_rule_delays_the_pass_until_the_best_day_is_at_most_half_the_profit():
    rules, boundary = preset("ftmo-1step")
    assert rules[L.RULE_BEST_DAY_MAX_SHARE] == 0.5 and rules[L.RULE_TARGET_PCT] == 0.10
    tp = Tape()
    round_trips(tp, "2024-03-04", [(1.1000, 1.1080)])  # Mon +8,000 -> 108,000
    round_trips(tp, "2024-03-05", [(1.1080, 1.1110)])  # Tue +3,000 -> 111,000 (bar 5)
    round_trips(tp, "2024-03-06", [(1.1110, 1.1130)])  # Wed +2,000 -> 113,000 (bar 8)
    round_trips(tp, "2024-03-07", [(1.1130, 1.1170)])  # Thu +4,000 -> 117,000 (bar 11)
    round_trips(tp, "2024-03-08", [(1.1170, 1.1200)])  # Fri (not reached)
    res, snaps = run(tp, rules, boundary)
    # Tue: profit 11,000 >= target 10,000, best day 8,000 > 50 % x 11,000 = 5,500: not yet, no breach
    assert snaps[5][L.ACC_BALANCE] == pytest.approx(111_000.0)
    # Wed: 13,000, 8,000 > 6,500: not yet
    assert snaps[8][L.ACC_BALANCE] == pytest.approx(113_000.0)
    # Thu: 17,000, 8,000 <= 8,500: passed at bar 11, Friday is never traded
    assert status(res) == ("passed", "none", 11)
    assert res.res[L.RES_BALANCE] == pytest.approx(117_000.0)
    assert res.res[L.RES_N_TRADES] == 4


def test_best_day_counts_today_as_it_stands():
    # one big day alone: 100 % of the profit is the best day -> never passes on day one
    rules, boundary = preset("ftmo-1step")
    tp = Tape()
    round_trips(tp, "2024-03-04", [(1.1000, 1.1120)])  # +12,000 on Monday
    res, _ = run(tp, rules, boundary)
    assert status(res) == ("running", "none", 2)
    assert res.res[L.RES_BALANCE] == pytest.approx(112_000.0)


# =============================================================================== time limit


def test_time_limit_ends_the_phase_on_the_first_bar_past_the_calendar_days():
    rules = rule_vector(target_pct=0.10, max_days=3)  # 3 calendar days: Mon, Tue, Wed
    tp = Tape()
    tp.bar("2024-03-04T08:00", 1.1000, decide=LONG)  # Mon: day 1
    tp.bar("2024-03-05T08:00", (1.1000, 1.1010, 1.1000, 1.1010))  # Tue: day 2, long filled at 1.1000
    tp.bar("2024-03-06T08:00", 1.1020)  # Wed: day 3
    tp.bar("2024-03-07T08:00", 1.1030)  # Thu: day 4 > 3: time_limit at this bar's open
    tp.bar("2024-03-08T08:00", 1.1040)
    res, _ = run(tp, rules)
    assert status(res) == ("breached", "time_limit", 3)
    # the open position is closed at Thursday's open, 1.1030: +3,000
    assert res.res[L.RES_BALANCE] == pytest.approx(103_000.0)
    assert res.res[L.RES_CAL_DAYS] == 4


def test_time_limit_counts_calendar_days_not_bars():
    rules = rule_vector(target_pct=0.10, max_days=3)
    tp = Tape()
    tp.bar("2024-03-04T08:00", 1.1000)  # Mon
    tp.bar("2024-03-07T08:00", 1.1000)  # Thu: the 4th calendar day, only the 2nd bar
    res, _ = run(tp, rules)
    assert status(res) == ("breached", "time_limit", 1)


def test_target_reached_on_the_last_allowed_day_passes():
    rules = rule_vector(target_pct=0.01, max_days=3)  # target 101,000
    tp = Tape()
    tp.bar("2024-03-04T08:00", 1.1000)
    round_trips(tp, "2024-03-06", [(1.1000, 1.1015)])  # Wed (day 3): +1,500, passed when closed (bar 3)
    tp.bar("2024-03-07T08:00", 1.1015)
    res, _ = run(tp, rules)
    assert status(res) == ("passed", "none", 3)
    assert math.isclose(res.res[L.RES_BALANCE], 101_500.0)


# =============================================================================== governors at the limits


def test_daily_buffer_governor_flattens_so_that_the_booked_balance_sits_at_its_floor():
    """FTMO, daily buffer 1 %: floor = 95,000 + 1,000 = 96,000, commissions included."""
    rules, boundary = preset("ftmo-2step")
    spec = plain_symbol(commission_per_lot=3.5)  # 35 USD per side for 10 lots
    gov = gov_vector(daily_buffer_pct=0.01)
    tp = Tape()
    tp.bar("2024-03-05T08:00", 1.1000, decide=LONG)  # 0
    tp.bar("2024-03-05T09:00", (1.1000, 1.1000, 1.0900, 1.0920), decide=LONG)  # 1: dips to 1.0900
    tp.bar("2024-03-05T10:00", 1.0920, decide=LONG)  # 2: a new long is refused (stopped for the day)
    tp.bar("2024-03-05T11:00", 1.0920)  # 3
    bars, it = tp.build()
    market = Market.build(bars, day_zone=boundary[0])
    res = run_backtest(bars, it, spec, market=market, rules=rules, gov=gov, fixed_volume=LOTS)
    # after the entry commission the balance is 99,965; the floor exit books
    # 99,965 + gross - 35 = 96,000  ->  gross = -3,930  ->  price 1.1000 - 0.003930 = 1.09607
    tr = res.trades()
    assert tr["exit_reason"].tolist() == ["governor_daily_buffer"]
    assert tr["exit_price"].iloc[0] == pytest.approx(1.09607)
    assert tr["exit_bar"].tolist() == [1]
    assert res.res[L.RES_BALANCE] == pytest.approx(96_000.0, abs=1e-6)
    assert status(res) == ("running", "none", 3)
    assert res.res[L.RES_N_TRADES] == 1  # no entry for the rest of the day


@pytest.mark.parametrize("buffer, opened", [(0.01, False), (0.009, True)])
def test_no_entry_whose_own_costs_reach_the_governors_floor(buffer, opened):
    """FTMO, max-loss buffer: floor = 90,000 + buffer x 100,000. 10 lots at 3.5 USD/side, no spread."""
    rules, boundary = preset("ftmo-2step")
    spec = plain_symbol(commission_per_lot=3.5)
    gov = gov_vector(maxloss_buffer_pct=buffer)
    tp = Tape()
    round_trips(tp, "2024-03-04", [(1.1000, 1.0955)])  # Mon: -4,500 - 70 = -4,570 -> 95,430
    round_trips(tp, "2024-03-05", [(1.0955, 1.0912)])  # Tue: -4,300 - 70 = -4,370 -> 91,060
    round_trips(tp, "2024-03-06", [(1.0912, 1.0912)])  # Wed: a flat round trip, if it may open
    bars, it = tp.build()
    market = Market.build(bars, day_zone=boundary[0])
    res = run_backtest(bars, it, spec, market=market, rules=rules, gov=gov, fixed_volume=LOTS)
    assert status(res) == ("running", "none", 8)
    # Wednesday: 91,060 - 70 (its round-trip commission) = 90,990:
    #   buffer 1 %:   floor 91,000 -> at or below it: refused, the account stays at 91,060
    #   buffer 0.9 %: floor 90,900 -> room: opened and closed flat, 91,060 - 70 = 90,990
    assert res.res[L.RES_N_TRADES] == (3 if opened else 2)
    assert res.res[L.RES_BALANCE] == pytest.approx(90_990.0 if opened else 91_060.0)


def reset_tape() -> Tape:
    """FTMO 1-step (3 % daily). Tue 2024-03-05: +2,000 closed (balance 102,000), then a long of 10 lots
    at 1.1020 falls to 1.0985 (equity 98,500) and is held into Wednesday (00:00 Prague = 23:00 UTC)."""
    tp = Tape()
    round_trips(tp, "2024-03-05", [(1.1000, 1.1020)])  # bars 0-2: +2,000
    tp.bar("2024-03-05T20:00", 1.1020, decide=LONG)  # 3
    tp.bar("2024-03-05T21:00", (1.1020, 1.1020, 1.0985, 1.0985))  # 4: filled at 1.1020; equity 98,500
    tp.bar("2024-03-05T22:00", 1.0985)  # 5: the last bar of Tuesday
    tp.bar("2024-03-05T23:00", 1.0985)  # 6: Wednesday
    tp.bar("2024-03-06T00:00", 1.0985)  # 7
    return tp


def test_a_floating_loss_held_over_midnight_meets_the_new_days_limit():
    rules, boundary = preset("ftmo-1step")
    res, snaps = run(reset_tape(), rules, boundary)
    # Tuesday's limit 100,000 - 3,000 = 97,000: the 98,500 equity is above it all day
    assert snaps[5][L.ACC_DAILY_LIMIT] == 97_000.0
    # at midnight the limit becomes the balance 102,000 - 3,000 = 99,000 > 98,500: breached at once,
    # with no price move at all (not a gap)
    assert status(res) == ("breached", "daily_loss", 6)
    assert res.res[L.RES_BREACH_VIA_GAP] == 0.0


def test_daily_buffer_governor_flattens_before_a_reset_that_would_breach():
    rules, boundary = preset("ftmo-1step")
    gov = gov_vector(daily_buffer_pct=0.005)  # Tuesday's floor 97,000 + 500 = 97,500
    res, snaps = run(reset_tape(), rules, boundary, gov=gov)
    # on Tuesday's last bar the floor is also the one the reset will set: 102,000 - 3,000 + 500 = 99,500;
    # the equity 98,500 is below it at the bar's open: flattened there, at 1.0985 -> balance 98,500
    tr = res.trades()
    assert tr["exit_reason"].iloc[-1] == "governor_daily_buffer"
    assert tr["exit_bar"].iloc[-1] == 5
    # Wednesday's limit: 98,500 - 3,000 = 95,500, and the account is flat at 98,500
    assert snaps[6][L.ACC_DAILY_LIMIT] == pytest.approx(95_500.0)
    assert status(res) == ("running", "none", 7)
    assert res.res[L.RES_BALANCE] == pytest.approx(98_500.0)


def test_e8_trailing_limit_moves_as_soon_as_a_close_at_the_open_raises_the_balance_high():
    """E8: the closed-balance high-water mark is "updated immediately": a reversal that banks a profit at
    a bar's open raises the max-loss limit for the new position's first bar already."""
    rules, boundary = preset("e8-one", target_pct=20.0)
    tp = Tape()
    tp.bar("2024-03-05T08:00", 1.1000, decide=LONG)  # 0
    tp.bar("2024-03-05T09:00", (1.1000, 1.1030, 1.1000, 1.1030), decide=SHORT)  # 1: long at 1.1000
    # 2: the long is closed at 1.1030 (+3,000: balance 103,000, limit 103,000 - 6,000 = 97,000) and a
    # short opened at 1.1030; the ask touches 1.1095: 103,000 - 0.0065 x 1,000,000 = 96,500 < 97,000
    tp.bar("2024-03-05T10:00", (1.1030, 1.1095, 1.1030, 1.1030))
    tp.bar("2024-03-05T11:00", 1.1030)  # 3
    res, snaps = run(tp, rules, boundary)
    # (the daily limit, 4 % of the day-start balance: 96,000, holds)
    assert status(res) == ("breached", "max_loss", 2)
    assert res.res[L.RES_BALANCE] == pytest.approx(96_500.0)


def test_a_max_loss_buffer_exit_slipped_through_the_limit_is_a_breach_not_a_halt():
    """Max loss 10 % static only; max-loss buffer 0.5 %: floor 90,500 booked. 10 lots, 3.5 USD/side;
    every stop fill slips 0.00052 (a constant slippage table)."""
    from simlab.engine import CostSetup

    rules = rule_vector(maxloss_pct=0.10, maxloss_floating=1)
    spec = plain_symbol(commission_per_lot=3.5)
    gov = gov_vector(maxloss_buffer_pct=0.005)
    q = np.zeros((L.N_COST_KINDS, L.N_SESSIONS, 2))
    q[L.COST_STOP_SLIP] = 0.00052
    costs = CostSetup(q, np.array([0.0, 1.0]), slippage=True)
    tp = Tape()
    tp.bar("2024-03-05T08:00", 1.1000, decide=LONG)  # 0
    tp.bar("2024-03-05T09:00", (1.1000, 1.1000, 1.0800, 1.0850))  # 1: filled at 1.1000, falls to 1.0800
    tp.bar("2024-03-05T10:00", 1.0850)  # 2
    bars, it = tp.build()
    market = Market.build(bars)
    res = run_backtest(bars, it, spec, market=market, rules=rules, gov=gov, costs=costs, fixed_volume=LOTS)
    # entry: 100,000 - 35 = 99,965. Floor price: 99,965 + gross - 35 = 90,500 -> gross -9,430 -> 1.09057;
    # the stop fills 0.00052 lower at 1.09005: gross -9,950, equity 90,015 (not below 90,000 yet), and the
    # exit commission books 90,015 - 35 = 89,980 < 90,000: the firm's max loss is breached, through
    # the stop's slippage - the governor did not save the account
    assert res.trades()["exit_price"].iloc[0] == pytest.approx(1.09005)
    assert status(res) == ("breached", "max_loss", 1)
    assert res.res[L.RES_BALANCE] == pytest.approx(89_980.0)
    assert res.res[L.RES_BREACH_VIA_GAP] == 1.0
