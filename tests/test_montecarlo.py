"""Monte Carlo challenge runs: start sampling, determinism across workers and seeds, the statistics.

The market is synthetic and small (about 40 trading days of hourly bars with a
drift), the strategy a fixed daily long with a stop, so that some attempts pass,
some breach, and some run out of their horizon; costs include sampled
slippage, so every attempt's result depends on (seed, attempt).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from _builders import Intents, gov_vector, rule_vector

from simlab import layout as L
from simlab.bars import Bars
from simlab.engine import CostSetup, Market, run_backtest
from simlab.errors import InputError
from simlab.montecarlo import ChallengeSetup, eligible_starts, run_challenge
from simlab.montecarlo_nb import next_day_start_nb
from simlab.stats import wilson_interval
from simlab.symbols import get_symbol

NS_HOUR = 3_600_000_000_000
SPEC = get_symbol("EURUSD")


# ----------------------------------------------------------------------------- eligible starts


def test_eligible_starts_are_first_bars_of_days_that_leave_a_full_horizon():
    #        bar: 0   1   2   3   4   5   6   7   8
    day = np.array([10, 10, 11, 11, 11, 13, 14, 14, 15], dtype=np.int64)
    # first bars of the days: 0 (10), 2 (11), 5 (13), 6 (14), 8 (15); the last day is 15
    # horizon 2: a start day d needs d + 2 <= 15 -> days 10, 11, 13
    assert eligible_starts(day, 2).tolist() == [0, 2, 5]
    # a 3-bar warm-up: the start bar must be >= 3
    assert eligible_starts(day, 2, warmup_bars=3).tolist() == [5]
    # horizon 5: only day 10 (10 + 5 = 15); horizon 6: none
    assert eligible_starts(day, 5).tolist() == [0]
    assert eligible_starts(day, 6).tolist() == []
    assert eligible_starts(day, 2).dtype == np.int64


def test_next_day_start():
    day = np.array([10, 10, 11, 11, 11, 13], dtype=np.int64)
    assert [next_day_start_nb(day, t) for t in range(6)] == [2, 2, 5, 5, 5, 6]


# ----------------------------------------------------------------------------- a small synthetic market


def weekday_hours(start: str, n_days: int) -> np.ndarray:
    """Hourly bar times over ``n_days`` calendar days, Friday 22:00 to Sunday 22:00 UTC left out."""
    t0 = int(np.datetime64(start, "ns").astype(np.int64))
    t = t0 + np.arange(n_days * 24, dtype=np.int64) * NS_HOUR
    hours = (t // NS_HOUR) % 24
    wd = (t // (24 * NS_HOUR) + 3) % 7
    closed = ((wd == 4) & (hours >= 22)) | (wd == 5) | ((wd == 6) & (hours < 22))
    return t[~closed]


def synthetic_setup(seed: int = 7, n_days: int = 56, horizon_days: int = 10, **kw) -> ChallengeSetup:
    rng = np.random.default_rng(12345)  # the market is fixed; ``seed`` is the Monte Carlo seed
    t = weekday_hours("2024-03-04T00:00", n_days)
    n = t.shape[0]
    close = 1.1 + np.cumsum(rng.normal(0.00004, 0.0012, n))
    open_ = np.r_[1.1, close[:-1]]
    hi = np.maximum(open_, close) + np.abs(rng.normal(0.0, 0.0006, n))
    lo = np.minimum(open_, close) - np.abs(rng.normal(0.0, 0.0006, n))
    bid = np.round(np.column_stack([open_, hi, lo, close]), 5)
    bars = Bars(time=t, bid=bid, ask=bid + 0.00008, volume=np.zeros(n), symbol="EURUSD")
    market = Market.build(bars, day_zone="Europe/Prague")
    # long at the 08:00 UTC open (decided on the 07:00 bar), stop 30 pips, target 60; flat at 20:00
    hour = (t // NS_HOUR) % 24
    it = Intents.empty(n)
    it.dir[hour == 7] = L.DIR_LONG
    it.sl[hour == 7] = 0.0030
    it.tp[hour == 7] = 0.0060
    it.dir[hour == 19] = L.DIR_FLAT
    # two phases: 3 % then 2 %, 5 % daily, 10 % static, 2 days with a trade
    rules = np.stack(
        [
            rule_vector(
                target_pct=t_,
                daily_pct=0.05,
                daily_floating=1,
                maxloss_pct=0.10,
                maxloss_floating=1,
                min_days=2,
            )
            for t_ in (0.03, 0.02)
        ]
    )
    q = np.zeros((L.N_COST_KINDS, L.N_SESSIONS, 2))
    for kind in (L.COST_ENTRY_SLIP, L.COST_EXIT_SLIP, L.COST_STOP_SLIP):
        q[kind, :, 1] = 0.0004
    costs = CostSetup(q, np.array([0.0, 1.0]), slippage=True, name="slippage U(0, 4 pips)")
    args = dict(
        market=market,
        intents=it,
        spec=SPEC,
        phase_rules=rules,
        phase_names=["Phase 1", "Phase 2"],
        gov=gov_vector(daily_buffer_pct=0.01, maxloss_buffer_pct=0.01, halt_at_target=1.0),
        costs=costs,
        risk=0.02,
        horizon_days=horizon_days,
        seed=seed,
        meta={"program": "test", "strategy": "daily long"},
    )
    args.update(kw)
    return ChallengeSetup(**args)


@pytest.fixture(scope="module")
def setup7() -> ChallengeSetup:
    return synthetic_setup(seed=7)


def dumps(result) -> str:
    return json.dumps(result.to_json(), sort_keys=True)


def test_same_seed_same_json_on_one_and_two_workers(setup7):
    one = run_challenge(setup7, 40, workers=1, progress=False)
    two = run_challenge(setup7, 40, workers=2, progress=False)
    again = run_challenge(setup7, 40, workers=2, progress=False)
    assert dumps(one) == dumps(two) == dumps(again)
    assert one.out.tobytes() == two.out.tobytes()
    # the run is not trivial: attempts pass, fail and trade
    st = one.out[:, 0, L.RES_STATUS]
    assert (st == L.STATUS_PASSED).any() and (st != L.STATUS_PASSED).any()
    assert one.out[:, 0, L.RES_N_TRADES].min() > 0


def test_an_attempt_does_not_depend_on_how_many_run_beside_it(setup7):
    # 300 attempts run in two chunks (256 + 44): attempt a is a pure function of (inputs, seed, a)
    few = run_challenge(setup7, 5, workers=2, progress=False)
    many = run_challenge(setup7, 300, workers=2, progress=False)
    assert few.out.tobytes() == many.out[:5].tobytes()
    assert few.starts.tolist() == many.starts[:5].tolist()


def test_different_seed_different_starts(setup7):
    a = run_challenge(setup7, 20, workers=2, progress=False)
    b = run_challenge(synthetic_setup(seed=8), 20, workers=2, progress=False)
    assert a.starts.tolist() != b.starts.tolist()
    assert dumps(a) != dumps(b)
    # every start is the first bar of an eligible day
    ok = set(eligible_starts(setup7.market.day, setup7.horizon_days).tolist())
    assert set(a.starts.tolist()) <= ok and set(b.starts.tolist()) <= ok
    # with 20 attempts over ~30 eligible days, the draws are spread, not one day repeated
    assert len(set(a.starts.tolist())) > 5


def test_each_attempt_is_the_kernel_run_from_its_start(setup7):
    """Phase 1 of attempt a = run_backtest from its start to its horizon with (seed, attempt a);
    phase 2 starts on the next trading day after phase 1 passed, with a fresh account."""
    res = run_challenge(setup7, 12, workers=2, progress=False)
    m = setup7.market
    # the attempts keep no ledger, so their "more trades than the buffer" flag is set; not compared
    keep = np.arange(L.RES_SIZE) != L.RES_N_TRADES_OVERFLOW
    checked_p2 = 0
    for a in range(res.runs):
        s = int(res.starts[a])
        end = int(np.searchsorted(m.day, m.day[s] + setup7.horizon_days))
        kw = dict(market=m, costs=setup7.costs, gov=setup7.gov, risk=setup7.risk, seed=setup7.seed, attempt=a)
        r1 = run_backtest(m.bars, setup7.intents, SPEC, rules=setup7.phase_rules[0], start=s, end=end, **kw)
        np.testing.assert_array_equal(r1.res[keep], res.out[a, 0][keep])
        if r1.status == "passed":
            s2 = next_day_start_nb(m.day, int(r1.res[L.RES_END_BAR]))
            if s2 < end:
                r2 = run_backtest(
                    m.bars, setup7.intents, SPEC, rules=setup7.phase_rules[1], start=s2, end=end, **kw
                )
                np.testing.assert_array_equal(r2.res[keep], res.out[a, 1][keep])
                checked_p2 += 1
        else:
            assert np.all(res.out[a, 1, L.RES_STATUS] == -1.0)  # phase 2 not reached
    assert checked_p2 > 0


def test_pass_rate_carries_its_wilson_interval(setup7):
    res = run_challenge(setup7, 20, workers=2, progress=False)
    j = res.to_json()
    pr = j["pass_rate"]
    k = int(res.passed_all().sum())
    assert pr["passed"] == k and pr["runs"] == 20 and pr["rate"] == k / 20
    lo, hi = wilson_interval(k, 20)
    assert pr["ci95"] == [lo, hi]
    assert lo <= pr["rate"] <= hi
    # 20 attempts: an honest interval is wide (narrowest at 0 or 20 of 20: 0 .. 0.161, 0.839 .. 1)
    assert hi - lo > 0.15
    for p, ph in enumerate(j["phases"]):
        st = res.out[:, p, L.RES_STATUS]
        passed = int((st == L.STATUS_PASSED).sum())
        # every attempt that passed the phase before reached this one (also when the horizon ended
        # that day and the kernel never started it)
        reached = 20 if p == 0 else int((res.out[:, p - 1, L.RES_STATUS] == L.STATUS_PASSED).sum())
        assert reached >= int((st >= 0).sum())
        assert (ph["reached"], ph["passed"]) == (reached, passed)
        assert ph["ci95"] == list(wilson_interval(passed, reached))
    # the table says so in words
    table = res.format_table()
    assert "95% CI" in table and "20 attempts pin the rate down only" in table
    # a textbook value: 14 of 20 -> 0.481 .. 0.855
    assert [round(x, 3) for x in wilson_interval(14, 20)] == [0.481, 0.855]


def test_json_is_strict_and_sorted_dump_is_stable(setup7):
    res = run_challenge(setup7, 10, workers=1, progress=False)
    text = json.dumps(res.to_json(), sort_keys=True, allow_nan=False)  # no NaN / inf anywhere
    back = json.loads(text)
    assert back["runs"] == 10 and back["pass_rate"]["runs"] == 10
    doc = json.loads(json.dumps(res.document(res.basic_provenance()), allow_nan=False))
    assert doc["schema"] == "simlab.result/1" and doc["kind"] == "challenge" and doc["mode"] == "bars"
    assert doc["provenance"]["seed"] == 7 and doc["provenance"]["runs"] == 10
    assert len(back["attempts"]) == 10
    assert all(a["start"].endswith("Z") for a in back["attempts"])


# ----------------------------------------------------------------------------- too little data


def test_data_shorter_than_one_attempt_is_a_one_line_input_error():
    short = synthetic_setup(n_days=10, horizon_days=30)
    with pytest.raises(InputError) as ei:
        run_challenge(short, 5, workers=1, progress=False, where="bars.csv")
    msg = str(ei.value)
    assert "\n" not in msg
    assert msg.startswith("bars.csv: ")
    assert "30 days" in msg


def test_a_warmup_that_eats_every_start_is_an_input_error_too():
    s = synthetic_setup(horizon_days=10)
    s.warmup_bars = len(s.market.bars)  # no start bar is past the warm-up
    with pytest.raises(InputError) as ei:
        run_challenge(s, 5, workers=1, progress=False)
    assert "\n" not in str(ei.value) and "warm-up" in str(ei.value)


def test_horizon_caps_an_attempt(setup7):
    res = run_challenge(setup7, 30, workers=2, progress=False)
    day = setup7.market.day
    for a in range(res.runs):
        s = int(res.starts[a])
        for p in range(2):
            r = res.out[a, p]
            if r[L.RES_STATUS] < 0:
                continue
            end_bar = int(r[L.RES_END_BAR])
            assert day[end_bar] < day[s] + setup7.horizon_days
            assert not math.isnan(r[L.RES_BALANCE])
