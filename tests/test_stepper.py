"""The step form runs the same code: ``Stepper`` bar by bar == ``run_backtest`` over the whole range.

``simlab.engine.Stepper`` calls ``step_nb`` once per bar from Python (the RL
environment, stateful strategies); ``run_backtest`` loops the same ``step_nb``
inside ``simulate_nb``. Fed the same intents, with the firm's rules and the
trader's governors on and costs sampled from an execution-model-like table,
the two must produce a byte-identical trade ledger, the same phase result and
the same balance / equity / worst equity after every bar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from simlab import layout as L
from simlab.engine import CostSetup, Market, Stepper, no_rules, run_backtest
from simlab.governors_nb import no_governors
from simlab.symbols import get_symbol
from simlab.synthetic import synthetic_eurusd

SPEC = get_symbol("EURUSD")  # preset commission and swaps on


@dataclass
class Plan:
    dir: np.ndarray
    sl: np.ndarray
    tp: np.ndarray
    size: np.ndarray


def hand_cost_tables() -> CostSetup:
    """An execution-model-like table built by hand: per-session quantiles of spread, slippage, latency.

    Spread and slippage in price units (points * 0.00001), latency in ms; the
    rollover and the overlap have the wide tails, slippage is signed (adverse > 0).
    """
    probs = np.array([0.0, 0.05, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0])
    pt = 1e-5
    spread = np.array(
        [
            [6, 8, 10, 12, 13, 15, 23, 49],  # asia
            [6, 8, 9, 10, 11, 13, 15, 150],  # london
            [7, 8, 9, 10, 11, 12, 18, 150],  # overlap
            [7, 8, 9, 11, 12, 12, 18, 98],  # newyork
            [8, 11, 16, 18, 21, 31, 72, 135],  # rollover
        ],
        dtype=np.float64,
    )
    slip = np.array([-3, -1, 0, 0, 1, 2, 8, 30], dtype=np.float64)
    latency = np.array([5, 12, 25, 40, 70, 120, 400, 2000], dtype=np.float64)
    q = np.zeros((L.N_COST_KINDS, L.N_SESSIONS, probs.shape[0]))
    q[L.COST_SPREAD] = spread * pt
    for s in range(L.N_SESSIONS):
        widen = 2.0 if s == L.SESSION_ROLLOVER else 1.0
        q[L.COST_ENTRY_SLIP, s] = slip * pt * widen
        q[L.COST_EXIT_SLIP, s] = slip * pt * widen
        q[L.COST_STOP_SLIP, s] = np.abs(slip) * pt * 1.5 * widen
        q[L.COST_LATENCY, s] = latency
    return CostSetup(
        q, probs, spread_mode=L.SPREAD_WIDER, slippage=True, latency_budget_ms=150.0, name="hand table"
    )


def ftmo_like_rules() -> np.ndarray:
    r = no_rules()
    r[L.RULE_TARGET_PCT] = 0.10
    r[L.RULE_DAILY_PCT] = 0.05
    r[L.RULE_DAILY_BASIS] = L.BASIS_BALANCE
    r[L.RULE_DAILY_SIZE_OF] = L.SIZE_OF_INITIAL
    r[L.RULE_DAILY_FLOATING] = 1.0
    r[L.RULE_MAXLOSS_PCT] = 0.10
    r[L.RULE_MAXLOSS_MODE] = L.MAXLOSS_STATIC
    r[L.RULE_MAXLOSS_FLOATING] = 1.0
    r[L.RULE_MIN_DAYS] = 4
    r[L.RULE_DAY_COUNT_MODE] = L.DAYCOUNT_TRADE_OPENED
    return r


def busy_governors() -> np.ndarray:
    g = no_governors()
    g[L.GOV_DAILY_BUFFER_PCT] = 0.01
    g[L.GOV_MAXLOSS_BUFFER_PCT] = 0.02
    g[L.GOV_HALT_AT_TARGET] = 1.0
    g[L.GOV_FLATTEN_BEFORE_RESET] = 1.0
    g[L.GOV_FLATTEN_BEFORE_WEEKEND] = 1.0
    g[L.GOV_COOLDOWN_LOSSES] = 3
    g[L.GOV_COOLDOWN_BARS] = 24
    g[L.GOV_VOL_PAUSE_K] = 1.8
    g[L.GOV_LOCK_LEVEL_PCT] = 0.04
    g[L.GOV_LOCK_SIZE_MULT] = 0.5
    g[L.GOV_MAX_TRADES_PER_DAY] = 6
    g[L.GOV_MAX_OPEN_RISK_PCT] = 0.02
    g[L.GOV_POST_TARGET_RISK_MULT] = 0.25
    return g


def random_plan(n: int, seed: int, p_decide: float = 0.03) -> Plan:
    rng = np.random.default_rng(seed)
    d = np.zeros(n, np.int8)
    act = rng.random(n) < p_decide
    d[act] = rng.choice([L.DIR_LONG, L.DIR_SHORT, L.DIR_FLAT], size=int(act.sum()), p=[0.42, 0.42, 0.16])
    sl = rng.uniform(0.0006, 0.0030, n)
    tp = np.where(rng.random(n) < 0.5, np.nan, sl * rng.uniform(1.0, 3.0, n))
    size = np.where(rng.random(n) < 0.7, np.nan, rng.uniform(0.5, 1.5, n))
    return Plan(d, sl, tp, size)


@pytest.fixture(scope="module")
def market() -> Market:
    bars = synthetic_eurusd(n_days=30, timeframe="5min", seed=11)
    rng = np.random.default_rng(5)
    vol_ratio = np.exp(
        rng.normal(0.0, 0.4, len(bars))
    )  # a made-up volatility ratio: the pause governor bites
    return Market.build(bars, reset_window_min=20, weekend_window_min=60, vol_ratio=vol_ratio)


CASES = {
    # name: (rules, governors, costs, risk, plan seed, range)
    "rules+governors+sampled": (ftmo_like_rules, busy_governors, hand_cost_tables, 0.01, 1, (0, None)),
    "aggressive-breach": (ftmo_like_rules, no_governors, hand_cost_tables, 0.02, 2, (0, None)),
    "sub-range-fixed-costs": (no_rules, busy_governors, CostSetup.fixed, 0.01, 3, (500, 6000)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_stepper_matches_run_backtest(market, case):
    rules_f, gov_f, costs_f, risk, plan_seed, (start, end) = CASES[case]
    n = len(market.bars)
    end = n if end is None else end
    p = random_plan(n, plan_seed)
    kw = dict(
        costs=costs_f(), rules=rules_f(), gov=gov_f(), risk=risk, seed=42, attempt=7, start=start, end=end
    )
    ref = run_backtest(market.bars, p, SPEC, market=market, **kw)

    st = Stepper(market, SPEC, **kw)
    balance, equity, worst = [], [], []
    while not st.done:
        t = st.t
        st.step(int(p.dir[t]), float(p.sl[t]), float(p.tp[t]), float(p.size[t]))
        balance.append(st.balance)
        equity.append(st.equity)
        worst.append(float(st.acc[L.ACC_WORST_EQUITY]))

    got = st.trades_raw()
    assert ref.trades_raw.shape[0] > 5, "the scenario should trade"
    assert got.shape == ref.trades_raw.shape
    assert got.tobytes() == ref.trades_raw.tobytes()  # byte-identical ledger
    assert st.res.tobytes() == ref.res.tobytes()  # same phase result (status, reason, end bar, dd, ...)
    assert st.balance == ref.res[L.RES_BALANCE]
    ran = ref.curve.shape[0]
    assert len(balance) == ran
    # bar by bar (the last bar's balance / equity also include the close at the end in both)
    assert np.array_equal(np.array(balance), ref.curve[:, L.CURVE_BALANCE])
    assert np.array_equal(np.array(equity), ref.curve[:, L.CURVE_EQUITY])
    assert np.array_equal(np.array(worst), ref.curve[:, L.CURVE_WORST_EQUITY])

    reasons = set(ref.trades_raw[:, L.TR_EXIT_REASON].astype(int).tolist())
    if case == "rules+governors+sampled":
        # the governors and sampled costs were exercised, not just carried along
        assert reasons & {L.EXIT_GOV_RESET, L.EXIT_GOV_WEEKEND, L.EXIT_GOV_DAILY, L.EXIT_GOV_MAXLOSS}
        assert (ref.trades_raw[:, L.TR_SLIP_COST] != 0.0).any()
    if case == "aggressive-breach":
        assert ref.status == "breached"
        assert ref.res[L.RES_END_BAR] < n - 1
