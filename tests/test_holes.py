"""Holes in the data: no attempt crosses one or ends at one, and the run says what it excluded.

Before: start days were any day with ``horizon`` days of data *somewhere* after it, so attempts ran
across a hole (positions held through weeks without prices) or stopped at one and were reported as
"no pass within the horizon"; on an MT5 export of 13 days of May 2014 plus two days of April 2018
the header said "horizon 180 days" while the attempts lasted 1 to 7 days. The rule
(``simlab.holes``): a start day whose window (warm-up before it, horizon after it) holds a hole of
more than 2 days without bars beyond weekends and holidays is excluded; none left is an error; in the
day bootstrap a block never continues across a hole.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from _builders import run_simlab
from test_bootstrap import PRAGUE, Flipper, make_setup
from test_montecarlo import synthetic_setup

from simlab import layout as L
from simlab.bars import Bars
from simlab.bootstrap import BOOT_DRAW, bootstrap_sequence, day_segments, run_bootstrap_challenge
from simlab.engine import Market
from simlab.errors import InputError
from simlab.holes import Holes, longest_clear_horizon, window_clear
from simlab.montecarlo import eligible_starts, run_challenge
from simlab.rng_nb import uniforms_nb
from simlab.synthetic import synthetic_eurusd

NS_DAY = 86_400_000_000_000


# ----------------------------------------------------------------------------- the rule on hand-made days


def test_a_start_whose_window_holds_a_hole_is_excluded():
    #        bar: 0   1   2   3   4   5   6   7   8   9  10
    day = np.array([10, 10, 11, 12, 13, 20, 21, 22, 23, 24, 25], dtype=np.int64)
    after = np.zeros(11, dtype=bool)
    after[4] = True  # a hole between bar 4 (day 13) and bar 5 (day 20)
    # horizon 2: start days 10, 11, 12, 13, 20 .. 23 have day + 2 <= 25
    assert eligible_starts(day, 2).tolist() == [0, 2, 3, 4, 5, 6, 7, 8]
    # day 11 (bar 2): its window runs to bar 3 (day 12; day 13 = 11 + 2 is where it stops): clear.
    # day 12 (bar 3): it stops before day 14, the first bar at or after it is bar 5: the hole after bar 4
    # is inside its window (the horizon ends in the hole). Day 13 likewise.
    assert eligible_starts(day, 2, hole_after=after).tolist() == [0, 2, 5, 6, 7, 8]
    assert window_clear(day, np.array([0, 2, 3, 4, 5]), 2, 0, after).tolist() == [
        True,
        True,
        False,
        False,
        True,
    ]
    # a 2-bar warm-up: bar 5's warm-up (bars 3, 4) reaches back across the hole, bar 6's (4, 5) too
    assert eligible_starts(day, 2, warmup_bars=2, hole_after=after).tolist() == [2, 7, 8]
    # the longest horizon that fits between holes: day 10 .. day 13 before it (3), day 20 .. 25 after (5)
    assert longest_clear_horizon(day, after, 0) == 5
    # with a 2-bar warm-up the first start after the hole is bar 7 (day 22): 22 .. 25
    assert longest_clear_horizon(day, after, 2) == 3


def test_holes_are_gaps_beyond_weekends_and_holidays_of_more_than_two_days():
    bars = synthetic_eurusd(n_days=30, timeframe="1h", seed=1)
    assert len(Holes.of(bars)) == 0  # weekends only
    t = bars.time
    # cut Tuesday 00:00 .. Thursday 12:00 of the second week (2.5 days) and one day of the third week
    d = (t - t[0]) // NS_DAY
    keep = ~(((d >= 9) & (d < 11)) | ((d == 11) & ((t - t[0]) % NS_DAY < NS_DAY // 2)) | (d == 16))
    cut = Bars(
        time=t[keep], bid=bars.bid[keep], ask=bars.ask[keep], volume=bars.volume[keep], symbol="EURUSD"
    )
    h = Holes.of(cut)
    assert len(h) == 1  # the 2.5-day hole; the 1-day one is under the threshold
    i = int(np.flatnonzero(h.after)[0])
    assert cut.time[i + 1] - cut.time[i] > 2 * NS_DAY


# ----------------------------------------------------------------------------- Monte Carlo with a mid-history hole


def _with_hole(setup, first_day: int, n_days: int):
    """``setup`` with ``n_days`` calendar days of bars removed from day index ``first_day`` on."""
    m = setup.market
    b = m.bars
    d0 = m.day[0]
    keep = (m.day < d0 + first_day) | (m.day >= d0 + first_day + n_days)
    bars = Bars(time=b.time[keep], bid=b.bid[keep], ask=b.ask[keep], volume=b.volume[keep], symbol="EURUSD")
    it = setup.intents
    intents = type(it)(it.dir[keep], it.sl[keep], it.tp[keep], it.size[keep])
    return dataclasses.replace(setup, market=Market.build(bars, day_zone="Europe/Prague"), intents=intents)


def test_no_attempt_crosses_or_ends_at_a_mid_history_hole():
    """56 days of hourly bars with 3 weeks cut out of the middle, horizon 10 days, 300 attempts."""
    setup = _with_hole(synthetic_setup(seed=7, n_days=84), first_day=28, n_days=21)
    m = setup.market
    holes = Holes.of(m.bars)
    assert len(holes) == 1
    h_bar = int(np.flatnonzero(holes.after)[0])  # the last bar before the hole
    h = setup.horizon_days
    old = eligible_starts(m.day, h)  # the old rule: any day with a horizon of data after it
    crossing = old[(old <= h_bar) & (np.searchsorted(m.day, m.day[old] + h) > h_bar)]
    assert crossing.shape[0] >= 5, "the test needs starts that the old rule let cross the hole"
    res = run_challenge(setup, 300, workers=2, progress=False)
    ex = res.exclusion
    assert ex is not None and ex.count == crossing.shape[0] and ex.candidates == old.shape[0]
    for a in range(res.runs):
        s = int(res.starts[a])
        reached = res.out[a, :, L.RES_STATUS] >= 0
        last = int(res.out[a, reached, L.RES_END_BAR].max())
        assert not (s <= h_bar < last), f"attempt {a} crossed the hole"
        if res.out[a, reached, L.RES_STATUS][-1] == L.STATUS_RUNNING:  # ran out of its horizon: all of it
            end = int(np.searchsorted(m.day, m.day[s] + h))
            assert last == end - 1 and end <= h_bar or s > h_bar
    j = res.to_json()["excluded_starts"]
    assert j["count"] == ex.count and j["of"] == ex.candidates and j["n_holes"] == 1
    assert j["holes"][0]["kind"] == "hole" and j["holes"][0]["missing_hours"] > 21 * 24 - 48
    assert "start days excluded (their window holds one)" in res.format_table()


def test_no_start_left_is_a_one_line_error_naming_the_hole():
    setup = _with_hole(synthetic_setup(seed=7, n_days=40, horizon_days=25), first_day=14, n_days=7)
    with pytest.raises(InputError) as e:
        run_challenge(setup, 5, progress=False, where="bars.csv")
    msg = str(e.value)
    assert msg.startswith("bars.csv: every start day's 25-day window") and "without bars" in msg
    assert "lower --horizon-days to" in msg and "\n" not in msg


# ----------------------------------------------------------------------------- the day bootstrap


def test_bootstrap_blocks_never_continue_across_a_hole():
    k = 40
    hole_after = np.zeros(k, dtype=bool)
    hole_after[[9, 25]] = True
    for a in range(30):
        plain = bootstrap_sequence(7, a, 200, k, 20)
        seq = bootstrap_sequence(7, a, 200, k, 20, hole_after)
        # after a day followed by a hole, the next day is that day's own random pick (draw 2 i + 1), a new
        # block; it is the next source day again only when the pick says so (1 in k)
        pick = np.minimum((uniforms_nb(7, a, BOOT_DRAW, 400)[1::2] * k).astype(np.int64), k - 1)
        at = np.flatnonzero(hole_after[seq[:-1]]) + 1
        assert at.shape[0] > 0 and np.array_equal(seq[at], pick[at])
        # where no block reached a hole, nothing changed (the same draws)
        first = np.flatnonzero(hole_after[plain[:-1]] & (plain[1:] == plain[:-1] + 1))
        upto = int(first[0]) + 1 if first.shape[0] else 200
        assert np.array_equal(seq[:upto], plain[:upto])
    assert np.array_equal(
        bootstrap_sequence(3, 1, 50, k, 5, np.zeros(k, bool)), bootstrap_sequence(3, 1, 50, k, 5)
    )


def test_bootstrap_run_on_data_with_a_hole():
    bars = synthetic_eurusd(n_days=40, timeframe="15min", seed=3)
    t = bars.time
    keep = (t < t[0] + 13 * NS_DAY) | (t >= t[0] + 20 * NS_DAY)  # a week cut out of the middle
    cut = Bars(
        time=t[keep], bid=bars.bid[keep], ask=bars.ask[keep], volume=bars.volume[keep], symbol="EURUSD"
    )
    setup = make_setup(cut)
    seg = day_segments(setup.market, PRAGUE.day_zone, PRAGUE.day_reset)
    assert int(seg.hole_after.sum()) == 1 and len(seg.holes) == 1
    k = int(np.flatnonzero(seg.hole_after)[0])
    assert seg.day_id[k + 1] - seg.day_id[k] > 2
    res = run_bootstrap_challenge(setup, 6, Flipper(), 30, PRAGUE, workers=2, progress=False)
    j = res.to_json()["excluded_starts"]
    assert j["count"] == 0 and j["n_holes"] == 1 and "never continues across a hole" in j["rule"]
    assert "day-bootstrap blocks never continue across one" in res.format_table()


# ----------------------------------------------------------------------------- the real export with a 4-year hole


@pytest.mark.shared_data
def test_mt5_export_with_a_four_year_hole(shared_data_dir: Path, tmp_path: Path) -> None:
    """13 days of May 2014, then nothing until two days of April 2018: a 180-day horizon fits nowhere
    (one line naming the hole and the longest horizon that fits); a 7-day horizon runs on the start days
    of May 2014 whose week does not reach the hole, and says how many it excluded."""
    data = str(shared_data_dir / "EURUSD_M1_mt5export_servertime_2014-05.csv")
    p = run_simlab("challenge", "--data", data, "--tz", "Europe/Helsinki", "--runs", "20", cwd=tmp_path)
    assert p.returncode == 2
    line = p.stderr.strip()
    assert "\n" not in line and "every start day's 180-day window" in line
    assert (
        "Thu 2014-05-15 23:59 -> Tue 2018-04-03 00:00 UTC" in line and "--horizon-days to 14 or less" in line
    )
    out = tmp_path / "r.json"
    p = run_simlab(
        "challenge", "--data", data, "--tz", "Europe/Helsinki", "--runs", "40", "--horizon-days", "7",
        "--governors", "none", "--json", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    j = json.loads(out.read_text())["result"]
    ex = j["excluded_starts"]
    assert ex["count"] == 6 and ex["of"] == 13 and ex["n_holes"] == 1
    assert "6 of 13 start days excluded" in p.stdout
    for a in j["attempts"]:
        assert a["start"] < "2014-05-09", a["start"]  # 7 days from it end before the hole
        assert sum(ph["calendar_days"] for ph in a["phases"]) <= 7
