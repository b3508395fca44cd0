"""Issue 3, acceptance 5: the session model and a flat model at the same mean spread give the same
average cost but different tails — and the session model's tail is the heavier one.

A flat model charges its mean spread on every fill; the calibrated model charges 10-12 points most
of the time and 30-70 points at the rollover and in news minutes. On the same data and decisions the
mean spread paid agrees, while the 99th percentile and the maximum are higher under the session
model, and fills in the rollover hour cost more than those in London.
"""

from __future__ import annotations

import numpy as np
import pytest

from execution_models import flat_model, load_model
from simlab import layout as L
from simlab.engine import CostSetup, Market, run_backtest
from simlab.symbols import get_symbol
from simlab.synthetic import synthetic_eurusd
from strategies.base import Intents


@pytest.fixture(scope="module")
def runs():
    bars = synthetic_eurusd(n_days=60, timeframe="1min", seed=11)
    n = len(bars)
    # enter every 37 minutes alternating sides, exit 20 minutes later: fills in every session
    d = np.zeros(n, dtype=np.int8)
    d[10::37] = L.DIR_LONG
    d[30::37] = L.DIR_FLAT
    intents = Intents(dir=d, sl=np.full(n, np.nan), tp=np.full(n, np.nan), size=np.full(n, np.nan))
    spec = get_symbol("EURUSD")
    market = Market.build(bars)
    model = load_model("EURUSD")
    flat = flat_model("EURUSD", model.mean("spread"), model.point)
    out = {}
    for name, m in (("session", model), ("flat", flat)):
        q, p = m.to_kernel_tables(spec.point)
        costs = CostSetup(q, p, spread_mode=L.SPREAD_FROM_MODEL, slippage=False, name=name)
        res = run_backtest(bars, intents, spec, market=market, costs=costs, fixed_volume=1.0, seed=3)
        tr = res.trades_raw
        spreads = np.r_[tr[:, L.TR_ENTRY_SPREAD], tr[:, L.TR_EXIT_SPREAD]] / spec.point
        sessions = np.r_[tr[:, L.TR_ENTRY_SESSION], tr[:, L.TR_EXIT_SESSION]]
        out[name] = (spreads, sessions, res)
    return out, model


def test_same_decisions_same_trade_count(runs):
    out, _ = runs
    assert out["session"][0].shape == out["flat"][0].shape
    assert out["session"][0].shape[0] > 3000


def test_mean_spread_paid_agrees(runs):
    out, model = runs
    s, f = out["session"][0], out["flat"][0]
    # the flat model pays its constant exactly; the session model's average depends on when the fills
    # happen (more Asia fills than the time-weighted mix): within a point of each other
    assert np.allclose(f, model.mean("spread"))
    assert abs(s.mean() - f.mean()) < 1.0


def test_session_model_has_the_heavier_tail(runs):
    out, _ = runs
    s, f = out["session"][0], out["flat"][0]
    assert np.percentile(s, 99) > np.percentile(f, 99) + 5.0
    assert s.max() > 2 * f.max()


def test_rollover_fills_cost_more_than_london_fills_only_under_the_session_model(runs):
    out, _ = runs
    s, sess_s, _ = out["session"]
    f, sess_f, _ = out["flat"]
    roll, lon = L.SESSION_ROLLOVER, L.SESSION_LONDON
    assert s[sess_s == roll].mean() > s[sess_s == lon].mean() + 5.0
    assert f[sess_f == roll].mean() == pytest.approx(f[sess_f == lon].mean())
