"""A portfolio under FTMO 2-step on real EURUSD hours (issue 11, acceptance 3).

Two legs: EURUSD (the shared OANDA hourly bars, January to June 2012, costed by the shipped EURUSD
model) and a second series on the very same hours: EURUSD's path scaled into GBPUSD's price range
(x 1.17), named GBPUSD, costed at its own spread. Both trade the moving-average cross with 2 lots each
under FTMO's first phase and the default governors. The second market moves with the first, so the
account loses twice what each leg loses: each leg's trades are, bit for bit, those of the same leg
run alone (same seed for its cost draws) until the combined account does something neither account
alone does; the test shows that event: on 2012-01-17 the daily buffer (1 % above FTMO's 5 % daily
limit) flattens both legs at 13:00, where each leg alone held on and was stopped at 14:00.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from challenges.governors import load_governors
from challenges.rules import load_program
from simlab import layout as L
from simlab.align import align
from simlab.bars import Bars
from simlab.currency import plan_conversions
from simlab.engine import CostSetup, Market, run_backtest
from simlab.portfolio_engine import LegSettings, run_portfolio_backtest
from simlab.portfolio_market import PortfolioMarket
from simlab.portfolio_nb import leg_seeds
from simlab.symbols import get_symbol

LOTS = 2.0
SEED = 7
ROUTINE = {
    "signal",
    "stop_loss",
    "take_profit",
    "governor_before_weekend",
    "governor_before_reset",
    "end_of_data",
}


def _utc(iso: str) -> int:
    return int(np.datetime64(iso, "ns").astype(np.int64))


@pytest.fixture(scope="module")
def runs(shared_data_dir):
    from execution_models.setup import resolve_costs
    from simlab.loaders import load_bars
    from strategies.registry import load_strategy

    full = load_bars(shared_data_dir / "eurusd_h1_bidask_2007_2018.csv.gz")
    lo, hi = np.searchsorted(full.time, [_utc("2012-01-01"), _utc("2012-07-01")])
    eur = full.slice(int(lo), int(hi))
    gbp = Bars(
        time=eur.time, bid=np.round(eur.bid * 1.17, 5), ask=np.round(eur.ask * 1.17, 5), volume=eur.volume
    )
    specs = [get_symbol("EURUSD"), get_symbol("GBPUSD")]
    program = load_program("ftmo-2step")
    rules = program.phases[0].to_rule_vector()
    govs = load_governors("default", [])
    gov = govs.to_vector()
    zone, reset = program.day_boundary
    calendar = {
        "day_zone": zone, "day_reset": reset,
        "reset_window_min": govs.reset_window_min, "weekend_window_min": govs.weekend_window_min,
    }  # fmt: skip
    strategy = load_strategy("ma_cross")
    intents = [strategy.signals(eur), strategy.signals(gbp)]
    costs = [resolve_costs(specs[0], "EURUSD").setup, CostSetup.fixed()]
    grid = align([eur, gbp], ["EURUSD", "GBPUSD"])
    conv = plan_conversions(specs, [None, None], grid.time, [0, 0], {}, ["EURUSD", "GBPUSD"])
    market = PortfolioMarket.build(grid, [eur, gbp], ["EURUSD", "GBPUSD"], specs, conv, **calendar)
    both = run_portfolio_backtest(
        market, intents, LegSettings(tuple(costs), (0.0, 0.0), (LOTS, LOTS)), rules=rules, gov=gov, seed=SEED
    )
    seeds = leg_seeds(SEED, 2)
    alone = []
    for bars, it, spec, c, seed in zip((eur, gbp), intents, specs, costs, seeds):
        m = Market.build(bars, triple_day=spec.triple_swap_day, **calendar)
        alone.append(
            run_backtest(
                bars, it, spec, market=m, costs=c, rules=rules, gov=gov, fixed_volume=LOTS, seed=int(seed)
            )
        )
    return both, alone


def _first_account_event(trades: pd.DataFrame) -> pd.Timestamp | None:
    ev = trades[~trades["exit_reason"].isin(ROUTINE)]
    return None if ev.empty else ev["exit_time"].min()


def test_each_leg_trades_as_alone_until_the_combined_account_acts(runs):
    both, alone = runs
    ledger = both.account.trades()
    event = pd.Timestamp("2012-01-17 13:00", tz="UTC")
    assert _first_account_event(ledger) == event
    for i, single in enumerate(alone):
        mine = both.account.trades_raw[both.trade_leg == i]
        before = ledger[both.trade_leg == i]["exit_time"] < event
        k = int(before.sum())
        assert k == 5
        # the same trades, bit for bit: times (the legs share their hours: rows are bars), prices,
        # volumes, sampled spread and slippage (leg 0's draws on the shipped model), money
        np.testing.assert_array_equal(mine[:k], single.trades_raw[:k])
        # neither account alone did anything of its own by then
        first = _first_account_event(single.trades())
        assert first is None or first > event


def test_the_event_is_the_daily_buffer_that_only_the_combined_day_reaches(runs):
    both, alone = runs
    ledger = both.account.trades()
    legs = np.asarray(both.trade_leg)
    at = ledger["exit_time"] == pd.Timestamp("2012-01-17 13:00", tz="UTC")
    assert ledger[at]["exit_reason"].tolist() == ["governor_daily_buffer", "governor_daily_buffer"]
    assert sorted(legs[at.to_numpy()].tolist()) == [0, 1]
    # alone, each leg held the same trade to its stop an hour later
    for single in alone:
        t = single.trades()
        sixth = t.iloc[5]
        assert sixth["entry_time"] == pd.Timestamp("2012-01-17 09:00", tz="UTC")
        assert (sixth["exit_time"], sixth["exit_reason"]) == (
            pd.Timestamp("2012-01-17 14:00", tz="UTC"),
            "stop_loss",
        )
    # the day's loss: each alone stayed above the governors' floor (4 % below the day's start), the account
    # of both reached it: closed at the floor (the day's start balance less 4,000, less the stop slippage)
    day = both.account.market.day
    row = int(np.flatnonzero(both.account.bars.time == _utc("2012-01-17T13:00"))[0])
    start_row = int(np.flatnonzero(day == day[row])[0])
    start_balance = both.account.curve[start_row - 1, L.CURVE_BALANCE]
    after = both.account.curve[row, L.CURVE_BALANCE]
    assert start_balance - after == pytest.approx(4_000.0, abs=25.0)
    for single in alone:
        c = single.curve
        assert c[start_row - 1, L.CURVE_BALANCE] - c[row, L.CURVE_WORST_EQUITY] < 4_000.0 - 1_000.0
