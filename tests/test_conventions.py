"""The judging conventions that the rule texts leave open, each pinned by a hand-computed scenario.

README "Rules and governors" and challenges/README.md ("Conventions") state them in words:

1. the profit target counts only when flat: equity above the target with a position open is not a pass;
2. when one bar breaks both the daily and the max-loss limit, the reason is max loss;
3. the horizon is counted in rule days (calendar days of the program's day boundary, weekends
   included), and the next phase starts on the next rule day after the day the phase passed;
4. a breach closes the position at the bar's worst price (the point the rule judged);
5. a portfolio's worst intrabar equity is the balance plus the sum of its legs' worst floating P/L (a leg
   without a bar at its last close), and a breach closes every leg at its worst price;
6. a portfolio's governor floor closes the legs moving in the bar at the point of their shared adverse
   way where the account is at the floor.

Money as in tests/test_rules_scenarios.py: 10 lots of a EURUSD-like symbol with no commission,
swap or spread make 100 USD per 0.0001, on a 100,000 USD account.
"""

from __future__ import annotations

import numpy as np
import pytest
from _builders import Intents, Tape, gov_vector, plain_symbol, rule_vector, run_portfolio

from simlab import layout as L
from simlab.bars import Bars
from simlab.engine import CostSetup, Market, run_backtest
from simlab.governors_nb import no_governors
from simlab.montecarlo import ChallengeSetup, run_challenge

LONG, FLAT = L.DIR_LONG, L.DIR_FLAT
LOTS = 10.0
SPEC = plain_symbol()


def _run(tape: Tape, rules: np.ndarray):
    bars, it = tape.build()
    market = Market.build(bars, day_zone="Europe/Prague", day_reset="00:00")
    return run_backtest(bars, it, SPEC, market=market, rules=rules, fixed_volume=LOTS)


def _status(res) -> tuple[str, str, int]:
    return res.status, res.breach_reason, int(res.res[L.RES_END_BAR])


# ------------------------------------------------------------------ 1. the target counts only when flat


def test_equity_above_the_target_with_a_position_open_is_not_a_pass():
    """Target 1 % (101,000). Long at 1.1000; bar 1 closes at 1.1020 (equity 102,000: above the target,
    still open); the price falls back and the trade closes at 1.1005 (+500): never passed."""
    rules = rule_vector(target_pct=0.01)
    tp = Tape()
    tp.bar("2024-03-05T08:00", 1.1000, decide=LONG)  # 0
    tp.bar("2024-03-05T09:00", (1.1000, 1.1020, 1.1000, 1.1020))  # 1: filled at 1.1000, equity 102,000
    tp.bar("2024-03-05T10:00", (1.1020, 1.1020, 1.1005, 1.1005), decide=FLAT)  # 2: equity 100,500
    tp.bar("2024-03-05T11:00", 1.1005)  # 3: closed at 1.1005
    res = _run(tp, rules)
    assert _status(res) == ("running", "none", 3)
    assert res.res[L.RES_BALANCE] == pytest.approx(100_500.0)


def test_the_pass_comes_on_the_bar_that_closes_the_position_above_the_target():
    """The same open trade closed at 1.1020 (+2,000 >= 1,000): passed on bar 3, where it is flat."""
    rules = rule_vector(target_pct=0.01)
    tp = Tape()
    tp.bar("2024-03-05T08:00", 1.1000, decide=LONG)
    tp.bar("2024-03-05T09:00", (1.1000, 1.1020, 1.1000, 1.1020))  # equity 102,000: not yet
    tp.bar("2024-03-05T10:00", 1.1020, decide=FLAT)  # still open: not yet
    tp.bar("2024-03-05T11:00", 1.1020)  # closed at the open: passed here
    tp.bar("2024-03-05T12:00", 1.1020)
    res = _run(tp, rules)
    assert _status(res) == ("passed", "none", 3)
    assert res.res[L.RES_BALANCE] == pytest.approx(102_000.0)


# ------------------------------------------------------------------ 2. both limits in one bar: max loss


def test_a_bar_through_both_limits_is_a_max_loss_breach():
    """FTMO-like: daily 5 % of the initial from the day-start balance (limit 95,000), max loss 10 %
    static (limit 90,000). Long at 1.1000; the bar's low 1.0880 puts equity at 88,000, under both."""
    rules = rule_vector(
        target_pct=0.10, daily_pct=0.05, daily_floating=1, maxloss_pct=0.10, maxloss_floating=1
    )
    tp = Tape()
    tp.bar("2024-03-05T08:00", 1.1000, decide=LONG)
    tp.bar("2024-03-05T09:00", (1.1000, 1.1000, 1.0880, 1.0950))  # worst equity 88,000
    tp.bar("2024-03-05T10:00", 1.0950)
    res = _run(tp, rules)
    assert _status(res) == ("breached", "max_loss", 1)


def test_a_bar_through_the_daily_limit_only_is_a_daily_breach():
    """The same trade with a low of 1.0930: equity 93,000, under 95,000 but above 90,000."""
    rules = rule_vector(
        target_pct=0.10, daily_pct=0.05, daily_floating=1, maxloss_pct=0.10, maxloss_floating=1
    )
    tp = Tape()
    tp.bar("2024-03-05T08:00", 1.1000, decide=LONG)
    tp.bar("2024-03-05T09:00", (1.1000, 1.1000, 1.0930, 1.0950))
    tp.bar("2024-03-05T10:00", 1.0950)
    res = _run(tp, rules)
    assert _status(res) == ("breached", "daily_loss", 1)


# ------------------------------------------------------------------ 4. a breach closes at the worst price


def test_a_breach_closes_the_position_at_the_bars_worst_price():
    """Daily limit 95,000. Long at 1.1000; the bar's low 1.0940 (equity 94,000) breaches: the trade is
    closed at 1.0940, not at the limit (1.0950) nor at the bar's close (1.0990); balance 94,000."""
    rules = rule_vector(target_pct=0.10, daily_pct=0.05, daily_floating=1)
    tp = Tape()
    tp.bar("2024-03-05T08:00", 1.1000, decide=LONG)
    tp.bar("2024-03-05T09:00", (1.1000, 1.1000, 1.0940, 1.0990))
    tp.bar("2024-03-05T10:00", 1.0990)
    res = _run(tp, rules)
    assert _status(res) == ("breached", "daily_loss", 1)
    tr = res.trades()
    assert tr["exit_price"].tolist() == [pytest.approx(1.0940)]
    assert tr["exit_reason"].tolist() == ["rule_breach"]
    assert res.res[L.RES_BALANCE] == pytest.approx(94_000.0)


# ------------------------------------------------------------------ 3. the horizon in rule days; the next phase


def _weekday_bars(first: str, n_days: int, hours: tuple[int, ...]) -> Bars:
    """Flat bars at ``hours`` UTC on the weekdays of ``n_days`` calendar days from ``first``."""
    days = np.datetime64(first, "D") + np.arange(n_days)
    weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    ns = [
        (d.astype("datetime64[ns]") + np.timedelta64(h, "h")).astype(np.int64)
        for d in days[weekday < 5]
        for h in hours
    ]
    t = np.array(ns, dtype=np.int64)
    bid = np.full((t.shape[0], 4), 1.1000)
    return Bars(time=t, bid=bid, ask=bid.copy(), volume=np.zeros(t.shape[0]), symbol="EURUSD")


def _daily_round_trip(bars: Bars) -> tuple[Bars, Intents]:
    """Each day: long decided at 08:00, filled at 09:00's open (1.1000), flat decided at 09:00, closed at
    10:00's open at 1.1015: +1,500 a day (over a 1 % target). Later bars of the day are flat."""
    n = len(bars)
    hour = (bars.time // 3_600_000_000_000) % 24
    bid = bars.bid.copy()
    bid[hour >= 10] = 1.1015
    bid[(hour == 9)] = [1.1000, 1.1015, 1.1000, 1.1015]
    it = Intents.empty(n)
    it.dir[hour == 8] = LONG
    it.dir[hour == 9] = FLAT
    b = Bars(time=bars.time, bid=bid, ask=bid.copy(), volume=bars.volume, symbol="EURUSD")
    return b, it


def _setup(bars: Bars, intents: Intents, phases: int, horizon: int) -> ChallengeSetup:
    rules = np.stack([rule_vector(target_pct=0.01)] * phases)
    return ChallengeSetup(
        market=Market.build(bars, day_zone="Europe/Prague", day_reset="00:00"),
        intents=intents,
        spec=SPEC,
        phase_rules=rules,
        phase_names=[f"Phase {i + 1}" for i in range(phases)],
        gov=no_governors(),
        costs=CostSetup.fixed(),
        fixed_volume=LOTS,
        horizon_days=horizon,
        seed=3,
    )


def _rule_day(iso: str) -> int:
    return int(np.datetime64(iso[:10], "D").astype(np.int64))


def test_the_horizon_counts_rule_days_weekends_included():
    """No trade at all: an attempt of horizon 10 runs the bars of its start day and the 9 calendar days
    after it (weekends count), and ends on the last bar before day start + 10."""
    bars = _weekday_bars("2024-03-04", 28, (8, 9, 10, 11))
    setup = _setup(bars, Intents.empty(len(bars)), 1, 10)
    res = run_challenge(setup, 30, workers=1, progress=False)
    day = setup.market.day
    for a in range(res.runs):
        s = int(res.starts[a])
        end = int(res.out[a, 0, L.RES_END_BAR])
        assert day[end] < day[s] + 10 and (end + 1 == len(day) or day[end + 1] >= day[s] + 10)
        last_weekday = max(d for d in range(int(day[s]), int(day[s]) + 10) if (d + 3) % 7 < 5)
        assert day[end] == last_weekday
        assert res.out[a, 0, L.RES_CAL_DAYS] == day[end] - day[s] + 1


def test_the_next_phase_starts_on_the_next_rule_day():
    """Two phases, each passed by the day's round trip (closed at 10:00, flat above the 1 % target).
    Phase 1 passes at 10:00 on its start day; bars at 11:00 and 12:00 follow that day, but phase 2
    starts with the next rule day's first bar: it passes that day, 1 calendar day long (3 after a
    Friday start, over the weekend counted in days to pass)."""
    bars, it = _daily_round_trip(_weekday_bars("2024-03-04", 28, (8, 9, 10, 11, 12)))
    setup = _setup(bars, it, 2, 20)
    res = run_challenge(setup, 30, workers=1, progress=False)
    day = setup.market.day
    assert res.passed_all().all()
    seen_friday = False
    for a in range(res.runs):
        s = int(res.starts[a])
        p1_end = int(res.out[a, 0, L.RES_END_BAR])
        p2_end = int(res.out[a, 1, L.RES_END_BAR])
        assert day[p1_end] == day[s] and (bars.time[p1_end] // 3_600_000_000_000) % 24 == 10
        next_day = int(day[p1_end + 1 :][day[p1_end + 1 :] > day[p1_end]][0])  # the next rule day with bars
        assert day[p2_end] == next_day
        assert res.out[a, 1, L.RES_CAL_DAYS] == 1  # counted from its own first day: the next rule day
        friday = (int(day[s]) + 3) % 7 == 4
        seen_friday |= friday
        assert res.days_to_pass()[list(np.flatnonzero(res.passed_all())).index(a)] == (4 if friday else 2)
    assert seen_friday


# =============================================================================== portfolios (5, 6)
# Gold (XAUUSD, 10 lots: 1,000 USD per 1.0) and the Dow (US30, 10 lots: 10 USD a point), no costs.


def _gold_and_dow(gold_bar2_low: float, dow_bar2_low: float) -> list[Tape]:
    gold, dow = Tape(), Tape()
    gold.bar("2024-03-05T08:00", 2000.0, decide=LONG)
    gold.bar("2024-03-05T09:00", (2000.0, 2001.0, 1999.0, 2000.0))
    gold.bar("2024-03-05T10:00", (2000.0, 2000.0, gold_bar2_low, 2000.0))
    dow.bar("2024-03-05T08:00", 39_000.0, decide=LONG)
    dow.bar("2024-03-05T09:00", (39_000.0, 39_000.0, 38_900.0, 39_000.0))
    # no Dow bar at 10:00: it counts at its 09:00 close; its bar at 11:00
    dow.bar("2024-03-05T11:00", (39_000.0, 39_000.0, dow_bar2_low, 39_000.0))
    return [gold, dow]


def test_a_portfolios_worst_equity_sums_its_legs_worst_floating():
    r = run_portfolio(_gold_and_dow(1997.0, 38_700.0), ["XAUUSD", "US30"]).account
    # 09:00: gold low 1999 (-1,000) + Dow low 38,900 (-1,000); 10:00: gold low 1997 (-3,000) + the Dow at its
    # 09:00 close 39,000 (0); 11:00: gold carried at 2000 (0) + Dow low 38,700 (-3,000)
    assert r.curve[1:, L.CURVE_WORST_EQUITY].tolist() == [98_000.0, 97_000.0, 97_000.0]


def test_a_portfolio_breach_closes_every_leg_at_its_worst_price():
    rules = rule_vector(daily_pct=0.05, daily_floating=1.0, daily_basis=L.BASIS_BALANCE)
    tapes = _gold_and_dow(1997.0, 38_700.0)
    tapes[1].rows[1][2] = 38_700.0  # the Dow's 09:00 low: -3,000 with gold's -1,000 is not yet 5,000
    tapes[0].rows[1][2] = 1998.0  # gold's 09:00 low: -2,000 with the Dow's -3,000: 95,000 is not under it
    r = run_portfolio(tapes, ["XAUUSD", "US30"], rules=rules).account
    assert (r.status, r.breach_reason, int(r.res[L.RES_END_BAR])) == ("running", "none", 3)
    tapes[0].rows[1][2] = 1997.9  # 100,000 - 2,100 - 3,000 = 94,900 < 95,000: breached at 09:00
    r = run_portfolio(tapes, ["XAUUSD", "US30"], rules=rules).account
    assert (r.status, r.breach_reason, int(r.res[L.RES_END_BAR])) == ("breached", "daily_loss", 1)
    t = r.trades()
    assert t["exit_price"].tolist() == [1997.9, 38_700.0] and t["exit_reason"].tolist() == ["rule_breach"] * 2
    assert r.res[L.RES_BALANCE] == pytest.approx(94_900.0, abs=1e-6)


def test_a_portfolios_governor_floor_closes_the_moving_legs_on_their_shared_way():
    rules = rule_vector(daily_pct=0.05, daily_floating=1.0, daily_basis=L.BASIS_BALANCE)
    gov = gov_vector(daily_buffer_pct=0.01)  # the floor: 95,000 + 1,000 = 96,000
    gold, dow = Tape(), Tape()
    gold.bar("2024-03-05T08:00", 2000.0, decide=LONG)
    gold.bar("2024-03-05T09:00", (2000.0, 2000.0, 1996.0, 1998.0))  # its way: 2000 -> 1996
    dow.bar("2024-03-05T08:00", 39_000.0, decide=LONG)
    dow.bar("2024-03-05T09:00", (39_000.0, 39_000.0, 38_600.0, 38_800.0))  # its way: 39,000 -> 38,600
    r = run_portfolio([gold, dow], ["XAUUSD", "US30"], rules=rules, gov=gov).account
    # at a share k of both ways: 100,000 - 4,000 k - 4,000 k = 96,000 -> k = 0.5: gold 1998, the Dow 38,800
    t = r.trades()
    assert t["exit_reason"].tolist() == ["governor_daily_buffer"] * 2
    assert t["exit_price"].tolist() == pytest.approx([1998.0, 38_800.0], abs=1e-9)
    assert r.status == "running" and r.res[L.RES_BALANCE] == pytest.approx(96_000.0, abs=1e-6)
