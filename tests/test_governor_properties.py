"""Governor properties over random price paths and random intents (issue 4, acceptance item 2).

Hypothesis draws a price path (50-300 hourly bars, bid/ask OHLC consistent,
sometimes with gaps at the open), a strategy's intents (random direction,
stop, target and size rows), a program phase from the bundled presets and a
governor setting with the daily buffer, the max-loss buffer and halt-at-target
on. The number of examples comes from the hypothesis profile (``ci``: 200,
``props``: 5000, registered in ``tests/conftest.py``); ``nox -s props`` runs
this module with the big one.

Properties:

* with no gap and no slippage the governors keep every run clear of the daily
  limit; with gaps and slippage a daily-limit breach can still happen, and then
  the result attributes it (``RES_BREACH_VIA_GAP == 1``);
* kill switch on: no position is ever opened;
* target reached: the governor flattens at the next open and the phase ends
  passed as soon as the account is flat above the target; nothing is traded after;
* a sized trade risks at most risk % of the equity at the decision (times the
  intent's size multiplier) plus one volume step;
* under a no-overnight-holding rule every trade opens and closes on one rule
  day, except the one the breach closes at the first bar of the next day; with
  the flatten-before-reset governor on, that breach never happens;
* Monte Carlo attempts give byte-identical results on 1 and 2 threads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from _builders import Intents, gov_vector
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from challenges.rules import load_program
from simlab import layout as L
from simlab.bars import Bars
from simlab.engine import CostSetup, Market, run_backtest
from simlab.symbols import get_symbol

SPEC = get_symbol("EURUSD")  # with its commission (3.5 USD per lot per side) and swaps
SYM = SPEC.to_vector()
STEP_VALUE_PER_PRICE = SPEC.volume_step * SPEC.contract_size  # USD per 1.0 of price for one volume step
NS_HOUR = 3_600_000_000_000
PROGRAMS = ("ftmo-2step", "ftmo-1step", "the5ers-high-stakes", "fundednext-stellar-2step", "e8-one")
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _phases() -> list[tuple[str, int, np.ndarray, tuple[str, str]]]:
    out = []
    for name in PROGRAMS:
        prog = load_program(name)
        for i, ph in enumerate(prog.phases):
            out.append((name, i, ph.to_rule_vector(), tuple(prog.day_boundary)))
    return out


PHASES = _phases()


def slippage_costs(max_slip: float) -> CostSetup:
    """Entry, exit and stop slippage uniform on [0, max_slip] in every session; the data's spread."""
    probs = np.array([0.0, 1.0])
    q = np.zeros((L.N_COST_KINDS, L.N_SESSIONS, 2))
    for kind in (L.COST_ENTRY_SLIP, L.COST_EXIT_SLIP, L.COST_STOP_SLIP):
        q[kind, :, 1] = max_slip
    return CostSetup(q, probs, slippage=True, name=f"slippage U(0, {max_slip})")


# ----------------------------------------------------------------------------- random paths and intents


def trading_hours(start_ns: int, n: int) -> np.ndarray:
    """``n`` hourly bar times from ``start_ns``, skipping Friday 22:00 .. Sunday 22:00 UTC."""
    t = start_ns + np.arange(n * 2, dtype=np.int64) * NS_HOUR
    hours = (t // NS_HOUR) % 24
    wd = (t // (24 * NS_HOUR) + 3) % 7  # 0 = Monday
    closed = ((wd == 4) & (hours >= 22)) | (wd == 5) | ((wd == 6) & (hours < 22))
    return t[~closed][:n]


@st.composite
def price_paths(draw, gaps: bool, min_n: int = 50) -> Bars:
    n = draw(st.integers(min_n, 300))
    week = draw(st.integers(0, 51))  # any week of 2024, DST changes included
    start = int(np.datetime64("2024-01-01T00:00", "ns").astype(np.int64)) + week * 7 * 24 * NS_HOUR
    vol = draw(st.sampled_from([0.0005, 0.001, 0.002, 0.004]))  # per-bar sd of the close-to-close move
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    t = trading_hours(start, n)
    close = 1.1 + np.cumsum(rng.normal(0.0, vol, n))
    close = np.maximum(close, 0.2)
    open_ = np.r_[1.1, close[:-1]]
    if gaps:
        p_gap = draw(st.sampled_from([0.05, 0.2]))
        jump = rng.normal(0.0, 4 * vol, n) * (rng.random(n) < p_gap)
        open_ = np.maximum(open_ + jump, 0.1)
        spread = rng.uniform(0.0, draw(st.sampled_from([0.0001, 0.0005, 0.002])), n)
    else:
        spread = np.full(n, draw(st.sampled_from([0.0, 0.00005, 0.0002])))
    hi = np.maximum(open_, close) + np.abs(rng.normal(0.0, vol / 2, n))
    lo = np.maximum(np.minimum(open_, close) - np.abs(rng.normal(0.0, vol / 2, n)), 0.05)
    bid = np.round(np.column_stack([open_, hi, lo, close]), 5)
    bid[:, 1] = bid.max(axis=1)
    bid[:, 2] = bid.min(axis=1)
    ask = np.round(bid + spread[:, None], 5)
    return Bars(time=t, bid=bid, ask=ask, volume=np.zeros(n), symbol="EURUSD")


@st.composite
def random_intents(draw, n: int) -> Intents:
    seed = draw(st.integers(0, 2**32 - 1))
    activity = draw(st.sampled_from([0.05, 0.2, 0.5]))
    rng = np.random.default_rng(seed)
    d = rng.choice(
        np.array([L.DIR_HOLD, L.DIR_LONG, L.DIR_SHORT, L.DIR_FLAT], dtype=np.int8),
        size=n,
        p=[1 - activity, 0.4 * activity, 0.4 * activity, 0.2 * activity],
    )
    sl = rng.uniform(0.0005, 0.01, n)
    sl[rng.random(n) < 0.1] = math.nan  # no stop: refused by risk sizing
    tp = rng.uniform(0.0005, 0.03, n)
    tp[rng.random(n) < 0.5] = math.nan
    size = rng.uniform(0.1, 1.5, n)
    size[rng.random(n) < 0.5] = math.nan
    return Intents(d, sl, tp, size)


@dataclass
class Case:
    bars: Bars
    market: Market
    intents: Intents
    rules: np.ndarray
    gov: np.ndarray
    risk: float
    program: str
    market_zone: str = "Europe/Prague"
    market_reset: str = "00:00"


@st.composite
def cases(draw, gaps: bool, kill: bool = False, phase_filter=None) -> Case:
    bars = draw(price_paths(gaps))
    it = draw(random_intents(len(bars)))
    phases = [p for p in PHASES if phase_filter is None or phase_filter(p)]
    name, i, rules, (zone, reset) = draw(st.sampled_from(phases))
    gov = gov_vector(
        daily_buffer_pct=draw(st.sampled_from([0.0025, 0.005, 0.01, 0.02])),
        maxloss_buffer_pct=draw(st.sampled_from([0.0025, 0.005, 0.01, 0.02])),
        halt_at_target=1.0,
        post_target_risk_mult=draw(st.sampled_from([0.1, 1.0])),
        kill_switch=1.0 if kill else 0.0,
    )
    risk = draw(st.sampled_from([0.0025, 0.01, 0.02, 0.03]))
    market = Market.build(bars, day_zone=zone, day_reset=reset)
    return Case(bars, market, it, rules.copy(), gov, risk, f"{name}[{i}]", zone, reset)


def run(case: Case, costs: CostSetup | None = None, seed: int = 0):
    r = run_backtest(
        case.bars,
        case.intents,
        SPEC,
        market=case.market,
        costs=costs,
        rules=case.rules,
        gov=case.gov,
        risk=case.risk,
        seed=seed,
    )
    reason = f" {r.breach_reason}" if r.status == "breached" else ""
    event(f"{r.status}{reason}{' via gap' if r.res[L.RES_BREACH_VIA_GAP] else ''}")
    n = r.trades_raw.shape[0]
    event("trades: " + ("0" if n == 0 else "1-5" if n <= 5 else "6+"))
    if n:
        reasons = {L.EXIT_NAMES[int(x)] for x in r.trades_raw[:, L.TR_EXIT_REASON]}
        for x in sorted(reasons):
            event(f"exit: {x}")
    return r


@pytest.fixture(scope="module", autouse=True)
def _compiled_once():
    """Load (or compile) the kernel and the Monte Carlo loop once, before hypothesis times anything."""
    from simlab.montecarlo import ChallengeSetup, run_challenge

    t = trading_hours(int(np.datetime64("2024-03-04T00:00", "ns").astype(np.int64)), 200)
    bid = np.full((200, 4), 1.1)
    b = Bars(time=t, bid=bid, ask=bid + 0.0001, volume=np.zeros(200))
    m = Market.build(b)
    it = Intents.empty(200)
    run_backtest(b, it, SPEC, market=m, rules=PHASES[0][2], gov=gov_vector(), costs=slippage_costs(0.0001))
    setup = ChallengeSetup(
        m, it, SPEC, np.stack([PHASES[0][2]]), ["p"], gov_vector(), slippage_costs(0.0001), horizon_days=3
    )
    run_challenge(setup, 2, workers=1, progress=False)


# ----------------------------------------------------------------------------- daily limit


@SETTINGS
@given(case=cases(gaps=False))
def test_no_daily_breach_without_gaps_or_slippage(case: Case):
    r = run(case)
    # the max-loss buffer keeps the max-loss limit clear the same way
    assert r.status != "breached", (
        f"{case.program}: {r.breach_reason} at bar {int(r.res[L.RES_END_BAR])} without a gap or slippage"
    )


@SETTINGS
@given(case=cases(gaps=True), slip=st.sampled_from([0.0, 0.0002, 0.002]), seed=st.integers(0, 2**31))
def test_a_daily_breach_with_governors_on_comes_through_a_gap_and_says_so(case: Case, slip: float, seed: int):
    r = run(case, costs=slippage_costs(slip), seed=seed)
    if r.status == "breached" and r.breach_reason == "daily_loss":
        assert r.res[L.RES_BREACH_VIA_GAP] == 1.0, (
            f"{case.program}: daily breach at bar {int(r.res[L.RES_END_BAR])} not attributed to a gap"
        )


# ----------------------------------------------------------------------------- kill switch


@SETTINGS
@given(case=cases(gaps=True, kill=True))
def test_kill_switch_means_no_position_ever(case: Case):
    r = run(case, costs=slippage_costs(0.0002))
    assert r.res[L.RES_N_TRADES] == 0
    assert r.trades_raw.shape[0] == 0
    assert r.res[L.RES_BALANCE] == 100_000.0
    assert r.status == "halted" and r.breach_reason == "halted: kill_switch"


# ----------------------------------------------------------------------------- no overnight holding


@SETTINGS
@given(case=cases(gaps=True), flatten=st.booleans(), window=st.sampled_from([1.0, 30.0, 90.0]))
def test_no_overnight_holding_keeps_every_trade_inside_one_rule_day(case: Case, flatten: bool, window: float):
    case.rules[L.RULE_NO_OVERNIGHT_HOLDING] = 1.0
    if flatten:  # the governor flattens on the last bar of each rule day (and vetoes entries there)
        case.gov[L.GOV_FLATTEN_BEFORE_RESET] = 1.0
        case.market = Market.build(
            case.bars, day_zone=case.market_zone, day_reset=case.market_reset, reset_window_min=window
        )
    r = run(case, costs=slippage_costs(0.0002))
    day = case.market.day
    tr = r.trades_raw
    for k in range(tr.shape[0]):
        e, x = int(tr[k, L.TR_ENTRY_BAR]), int(tr[k, L.TR_EXIT_BAR])
        if day[e] == day[x]:
            continue
        # only the breach closes a trade on a later day: the phase's last trade, at the new day's first bar
        assert k == tr.shape[0] - 1 and r.breach_reason == "overnight_holding", f"{case.program}: trade {k}"
        assert int(tr[k, L.TR_EXIT_REASON]) == L.EXIT_BREACH
        assert x == int(r.res[L.RES_END_BAR]) and day[x] != day[x - 1]
    if r.breach_reason == "overnight_holding":
        assert tr.shape[0] > 0 and day[int(tr[-1, L.TR_ENTRY_BAR])] != day[int(tr[-1, L.TR_EXIT_BAR])]
    if flatten:
        assert r.breach_reason != "overnight_holding", f"{case.program}: held through a reset"


# ----------------------------------------------------------------------------- target reached -> halted


@SETTINGS
@given(case=cases(gaps=True), slip=st.sampled_from([0.0, 0.0002]))
def test_target_reached_means_halted(case: Case, slip: float):
    # objectives other than the target off (minimum days, best day), so reaching it is passing it
    case.rules[L.RULE_MIN_DAYS] = 0.0
    case.rules[L.RULE_BEST_DAY_MAX_SHARE] = 0.0
    case.rules[L.RULE_TARGET_PCT] = 0.02  # reachable on these short paths
    target = 102_000.0 - 1e-6  # the kernel's level: a balance of exactly 102,000 has reached it
    r = run(case, costs=slippage_costs(slip))
    end = int(r.res[L.RES_END_BAR])
    tr = r.trades_raw
    bal = r.curve[:, L.CURVE_BALANCE]
    eq = r.curve[:, L.CURVE_EQUITY]
    entry = tr[:, L.TR_ENTRY_BAR].astype(int)
    exit_ = tr[:, L.TR_EXIT_BAR].astype(int)
    open_at_close = np.zeros(end + 1, dtype=bool)  # a position open at bar t's close
    for k in range(tr.shape[0]):
        # a position closed only by the end of the data was still open at the last bar's close
        last = exit_[k] + 1 if tr[k, L.TR_EXIT_REASON] == L.EXIT_END else exit_[k]
        open_at_close[entry[k] : last] = True
    # nothing is traded after the phase's last bar
    assert np.all(exit_ <= end) and np.all(entry <= end)
    # a position whose equity closed at or above the target is flattened at the next open
    for k in range(tr.shape[0]):
        hit = np.flatnonzero(eq[entry[k] : exit_[k]] >= target)
        if hit.shape[0]:
            t = entry[k] + int(hit[0])
            assert exit_[k] == t + 1, (
                f"trade {k}: equity {eq[t]:.2f} >= target at bar {t}, exit at {exit_[k]}"
            )
            assert tr[k, L.TR_EXIT_REASON] in (L.EXIT_GOV_TARGET, L.EXIT_BREACH)
    # flat at or above the target: passed right there
    done = np.flatnonzero((bal[: end + 1] >= target) & ~open_at_close)
    if done.shape[0]:
        assert r.status == "passed" and end == int(done[0])
    if r.status == "passed":
        assert r.res[L.RES_BALANCE] >= target and not open_at_close[end]


# ----------------------------------------------------------------------------- sizing


@SETTINGS
@given(case=cases(gaps=True), slip=st.sampled_from([0.0, 0.0002]))
def test_a_sized_trade_risks_at_most_risk_pct_of_equity_plus_one_step(case: Case, slip: float):
    r = run(case, costs=slippage_costs(slip))
    tr = r.trades_raw
    eq = r.curve[:, L.CURVE_EQUITY]
    for k in range(tr.shape[0]):
        e = int(tr[k, L.TR_ENTRY_BAR])
        decided = e - 1  # the decision row, at whose close the trade was sized
        equity_at_decision = eq[decided]
        mult = case.intents.size[decided]
        mult = 1.0 if math.isnan(mult) else mult
        sl = case.intents.sl[decided]
        assert not math.isnan(sl)  # risk sizing refuses a trade without a stop
        one_step = sl * STEP_VALUE_PER_PRICE
        allowed = case.risk * mult * equity_at_decision
        assert tr[k, L.TR_RISK] <= allowed + one_step + 1e-6, (
            f"trade {k}: risk {tr[k, L.TR_RISK]:.2f} > {case.risk} x {mult:.3f} x {equity_at_decision:.2f}"
        )
        assert tr[k, L.TR_VOLUME] >= SPEC.volume_min - 1e-12


# ----------------------------------------------------------------------------- 1 worker = 2 workers


# each example runs 24 attempts on two thread counts: the profile's count, capped at 1,000 for `props`
@settings(SETTINGS, max_examples=min(settings.default.max_examples, 1000))
@given(
    bars=price_paths(gaps=True, min_n=150),
    data=st.data(),
    seed=st.integers(0, 2**31),
)
def test_monte_carlo_is_identical_on_one_and_two_workers(bars: Bars, data, seed: int):
    from simlab.montecarlo import ChallengeSetup, run_challenge

    name = data.draw(st.sampled_from(PROGRAMS))
    prog = load_program(name)
    it = data.draw(random_intents(len(bars)))
    market = Market.build(bars, day_zone=prog.day_boundary[0], day_reset=prog.day_boundary[1])
    assume(int(market.day[-1] - market.day[0]) >= 4)
    setup = ChallengeSetup(
        market=market,
        intents=it,
        spec=SPEC,
        phase_rules=prog.rule_matrix(),
        phase_names=[p.name for p in prog.phases],
        gov=gov_vector(daily_buffer_pct=0.01, maxloss_buffer_pct=0.01, halt_at_target=1.0),
        costs=slippage_costs(0.0003),
        risk=0.02,
        horizon_days=3,
        seed=seed,
    )
    one = run_challenge(setup, 12, workers=1, progress=False)
    two = run_challenge(setup, 12, workers=2, progress=False)
    st_ = one.out[:, 0, L.RES_STATUS]
    event(f"distinct starts: {'1' if np.unique(one.starts).shape[0] == 1 else '2+'}")
    event("phase 1: " + ", ".join(sorted({L.STATUS_NAMES[int(x)] for x in st_})))
    event("trades: " + ("0" if one.out[:, :, L.RES_N_TRADES].max() <= 0 else "some"))
    assert one.out.tobytes() == two.out.tobytes()
    assert one.starts.tobytes() == two.starts.tobytes()
