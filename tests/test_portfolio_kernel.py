"""The portfolio kernel (``simlab.portfolio_nb``): several legs under one account, hand-computed.

Prices are chosen so that every amount is an exact binary number: gold (XAUUSD, 100 oz a lot) and the
Dow (US30, 1 USD a point a lot), no commission, no swap, no spread unless a test says otherwise, a
100,000 USD account, 10 lots a leg. So a gold move of 1.0 is 1,000 USD and a Dow move of 100 points
is 1,000 USD.
"""

from __future__ import annotations

import numpy as np
import pytest
from _builders import Tape, gov_vector, quiet_symbol, run_portfolio

from challenges.rules import load_program
from simlab import layout as L
from simlab.align import align
from simlab.currency import plan_conversions
from simlab.engine import CostSetup, Market, run_backtest
from simlab.portfolio_engine import LegSettings, run_portfolio_backtest
from simlab.portfolio_market import PortfolioMarket, stack_costs

LONG, SHORT, FLAT = L.DIR_LONG, L.DIR_SHORT, L.DIR_FLAT
LOTS = 10.0


_spec = quiet_symbol


def portfolio(tapes, names, **kw):
    return run_portfolio(tapes, names, **kw)


def ftmo_phase1() -> np.ndarray:
    return load_program("ftmo-2step").phases[0].to_rule_vector()


# =============================================================================== acceptance 2


def gold_tape() -> Tape:
    """Tue 2024-03-05 (Prague = UTC+1): long gold at 2000; its low is 1998 on bar 1, 1997 on bar 2."""
    tp = Tape()
    tp.bar("2024-03-05T08:00", 2000.0, decide=LONG)  # 0
    tp.bar("2024-03-05T09:00", (2000.0, 2001.0, 1998.0, 2000.5))  # 1: filled at 2000, worst -2,000
    tp.bar("2024-03-05T10:00", (2000.5, 2001.0, 1997.0, 1999.0))  # 2: worst -3,000
    tp.bar("2024-03-05T11:00", (1999.0, 2002.0, 1999.0, 2001.0), decide=FLAT)  # 3
    tp.bar("2024-03-05T12:00", 2001.0)  # 4: closed at 2001: +1,000
    return tp


def dow_tape() -> Tape:
    """The same morning: long the Dow at 39,000; its low is 38,850 on bar 1, 38,750 on bar 2."""
    tp = Tape()
    tp.bar("2024-03-05T08:00", 39_000.0, decide=LONG)  # 0
    tp.bar("2024-03-05T09:00", (39_000.0, 39_050.0, 38_850.0, 39_000.0))  # 1: worst -1,500
    tp.bar("2024-03-05T10:00", (39_000.0, 39_020.0, 38_750.0, 38_900.0))  # 2: worst -2,500
    tp.bar("2024-03-05T11:00", (38_900.0, 39_100.0, 38_900.0, 39_050.0), decide=FLAT)  # 3
    tp.bar("2024-03-05T12:00", 39_050.0)  # 4: closed at 39,050: +500
    return tp


def test_each_leg_alone_stays_inside_the_daily_limit():
    rules = ftmo_phase1()
    for tp, name, final in ((gold_tape(), "XAUUSD", 101_000.0), (dow_tape(), "US30", 100_500.0)):
        # alone in the portfolio kernel, and alone in the single-symbol kernel: the same
        alone = portfolio([tp], [name], rules=rules).account
        bars, it = tp.build()
        single = run_backtest(
            bars, it, _spec(name), market=Market.build(bars), rules=rules, fixed_volume=LOTS
        )
        for r in (alone, single):
            assert (r.status, r.breach_reason) == ("running", "none")
            assert r.res[L.RES_BALANCE] == final
        np.testing.assert_array_equal(alone.trades_raw, single.trades_raw)
        np.testing.assert_array_equal(alone.curve, single.curve)
    # their worst points: 100,000 - 3,000 = 97,000 and 100,000 - 2,500 = 97,500, both above 95,000
    assert portfolio([gold_tape()], ["XAUUSD"], rules=rules).account.res[L.RES_MAX_DAILY_DD] == 0.03
    assert portfolio([dow_tape()], ["US30"], rules=rules).account.res[L.RES_MAX_DAILY_DD] == 0.025


def test_together_they_breach_the_daily_limit_on_the_bar_their_worst_equities_add_past_it():
    rules = ftmo_phase1()
    run = portfolio([gold_tape(), dow_tape()], ["XAUUSD", "US30"], rules=rules)
    r = run.account
    # daily limit: 100,000 (balance at midnight) - 5 % x 100,000 = 95,000
    # bar 1: 100,000 - 2,000 (gold at 1998) - 1,500 (Dow at 38,850) = 96,500: inside
    assert r.curve[1, L.CURVE_WORST_EQUITY] == 96_500.0
    assert r.curve[1, L.CURVE_DAILY_LIMIT] == 95_000.0
    # bar 2: 100,000 - 3,000 (gold at 1997) - 2,500 (Dow at 38,750) = 94,500 < 95,000: breached there
    assert (r.status, r.breach_reason, int(r.res[L.RES_END_BAR])) == ("breached", "daily_loss", 2)
    assert r.curve[2, L.CURVE_WORST_EQUITY] == 94_500.0
    # both legs closed at their worst prices of bar 2 (the rule's convention): the balance is that point
    assert r.res[L.RES_BALANCE] == 94_500.0 and r.res[L.RES_EQUITY] == 94_500.0
    assert r.res[L.RES_MAX_DAILY_DD] == 0.055
    tr = r.trades()
    assert tr["exit_reason"].tolist() == ["rule_breach", "rule_breach"]
    assert [run.market.names[i] for i in run.trade_leg] == ["XAUUSD", "US30"]
    assert tr["exit_price"].tolist() == [1997.0, 38_750.0]
    assert tr["pnl"].tolist() == [-3_000.0, -2_500.0]
    assert tr["exit_bar"].tolist() == [2, 2]
    assert run.leg_counts[:, L.LEG_TRADES].tolist() == [1.0, 1.0]
    assert run.leg_counts[:, L.LEG_PNL].tolist() == [-3_000.0, -2_500.0]


def test_the_worst_equity_is_the_sum_of_the_legs_worst_floating():
    # no rules: the curve's worst equity per bar is the balance plus both legs' worst floating P/L
    r = portfolio([gold_tape(), dow_tape()], ["XAUUSD", "US30"]).account
    assert r.curve[:, L.CURVE_WORST_EQUITY].tolist() == [
        100_000.0,  # bar 0: flat
        100_000.0 - 2_000.0 - 1_500.0,
        100_000.0 - 3_000.0 - 2_500.0,
        100_000.0 - 1_000.0 - 1_000.0,  # bar 3: gold low 1999, Dow low 38,900
        101_500.0,  # bar 4: both closed at the open: 1,000 + 500
    ]
    # closes: bar 1 gold 2000.5 (+500), Dow 39,000; bar 2 gold 1999 (-1,000), Dow 38,900 (-1,000); bar 3 +1,000, +500
    assert r.curve[:, L.CURVE_EQUITY].tolist() == [100_000.0, 100_500.0, 98_000.0, 101_500.0, 101_500.0]


# =============================================================================== missing bars


def test_a_leg_without_a_bar_carries_its_price_cannot_fill_and_decides_nothing():
    gold = gold_tape()
    dow = Tape()  # the Dow has no bar at 09:00 and 10:00 (its market is closed there)
    dow.bar("2024-03-05T08:00", 39_000.0, decide=LONG)  # 0: decided: buy at its next bar
    dow.bar("2024-03-05T11:00", (39_000.0, 39_100.0, 38_900.0, 39_050.0), decide=FLAT)  # row 3: filled here
    dow.bar("2024-03-05T12:00", 39_050.0)  # row 4: closed here
    run = portfolio([gold, dow], ["XAUUSD", "US30"])
    tr = run.account.trades()
    dow_trade = tr[[run.market.names[i] == "US30" for i in run.trade_leg]]
    # the order decided at 08:00 fills at its next bar (11:00, row 3), not on the rows it has no bar
    assert dow_trade["entry_bar"].tolist() == [3] and dow_trade["entry_price"].tolist() == [39_000.0]
    assert dow_trade["exit_bar"].tolist() == [4] and dow_trade["pnl"].tolist() == [500.0]
    rows = run.market.grid.legs[1]
    assert rows.has_bar.tolist() == [True, False, False, True, True]


def test_a_carried_position_is_valued_at_its_last_close_and_its_stop_waits_for_its_bar():
    gold = Tape()
    gold.bar("2024-03-05T08:00", 2000.0, decide=(LONG, 2.0))  # long with a stop 2.0 below the fill
    gold.bar("2024-03-05T09:00", (2000.0, 2001.0, 1999.0, 2000.0))  # row 1: filled at 2000, stop at 1998
    gold.bar("2024-03-05T12:00", (1996.0, 1997.0, 1995.0, 1996.5))  # row 4: gapped through the stop: 1996
    dow = Tape()  # the other leg has a bar every hour: the grid's rows 0 .. 4
    for i, h in enumerate(("08", "09", "10", "11", "12")):
        dow.bar(f"2024-03-05T{h}:00", 39_000.0 + i)
    run = portfolio([gold, dow], ["XAUUSD", "US30"])
    r = run.account
    # rows 2 and 3: gold has no bar: valued at its 09:00 close (2000): equity 100,000, nothing moves
    assert r.curve[2:4, L.CURVE_EQUITY].tolist() == [100_000.0, 100_000.0]
    assert r.curve[2:4, L.CURVE_WORST_EQUITY].tolist() == [100_000.0, 100_000.0]
    t = r.trades()
    assert t["exit_reason"].tolist() == ["stop_loss"] and t["exit_bar"].tolist() == [4]
    assert t["exit_price"].tolist() == [1996.0] and t["pnl"].tolist() == [-4_000.0]


# =============================================================================== the governors' floor


def test_the_daily_buffer_flattens_every_leg_where_the_account_reaches_it():
    # daily buffer 1 % above FTMO's 95,000: the floor is 96,000. Both legs move from their opens to their
    # lows together; the account's liquidation equity 100,000 - 1,000 x k - 1,000 x k (k: the fraction
    # of bar 2's way from gold's 2000.5 to 1997 and the Dow's 39,000 to 38,750, after bar 1's close)
    # reaches 96,000 ... the legs close at their point of that shared way
    rules = ftmo_phase1()
    gov = gov_vector(daily_buffer_pct=0.01)
    run = portfolio([gold_tape(), dow_tape()], ["XAUUSD", "US30"], rules=rules, gov=gov)
    r = run.account
    t = r.trades()
    assert t["exit_reason"].tolist() == ["governor_daily_buffer", "governor_daily_buffer"]
    assert t["exit_bar"].tolist() == [2, 2]
    # gold: 2000.5 - k x 3.5, Dow: 39,000 - k x 250; balance after = 100,000 + 1,000 x (gold - 2000)
    # + 10 x (Dow - 39,000) = 96,000: 500 - 3,500 k - 2,500 k = -4,000 -> k = 0.75
    assert t["exit_price"].tolist() == pytest.approx([2000.5 - 0.75 * 3.5, 39_000.0 - 0.75 * 250.0], abs=1e-9)
    assert r.res[L.RES_BALANCE] == pytest.approx(96_000.0, abs=1e-6)
    assert (r.status, r.breach_reason) == ("running", "none")  # saved: the day's trading stops instead
    assert r.res[L.RES_MAX_DAILY_DD] == pytest.approx(0.04, abs=1e-12)


def test_with_one_leg_moving_the_floor_is_its_price_stop_as_for_one_symbol():
    rules = ftmo_phase1()
    gov = gov_vector(daily_buffer_pct=0.01)
    tp = Tape()
    tp.bar("2024-03-05T08:00", 2000.0, decide=LONG)
    tp.bar("2024-03-05T09:00", (2000.0, 2001.0, 1995.0, 1996.0))  # the floor 96,000 is at 1996.0
    tp.bar("2024-03-05T10:00", 1996.0)
    alone = portfolio([tp], ["XAUUSD"], rules=rules, gov=gov).account
    bars, it = tp.build()
    single = run_backtest(
        bars, it, _spec("XAUUSD"), market=Market.build(bars), rules=rules, gov=gov, fixed_volume=LOTS
    )
    np.testing.assert_array_equal(alone.trades_raw, single.trades_raw)
    np.testing.assert_array_equal(alone.res, single.res)
    assert alone.trades()["exit_reason"].tolist() == ["governor_daily_buffer"]


# =============================================================================== sampled costs


def test_a_leg_draws_its_costs_as_it_would_alone():
    from execution_models.setup import resolve_costs
    from simlab.portfolio_nb import leg_seeds
    from simlab.synthetic import synthetic_eurusd

    a = synthetic_eurusd(n_days=30, timeframe="1h", seed=3)
    b = synthetic_eurusd(n_days=30, timeframe="1h", seed=4, start_price=1.27)
    specs = [_spec("EURUSD"), _spec("GBPUSD")]
    costs = resolve_costs(specs[0], "EURUSD").setup  # the shipped model: sampled spread and slippage
    from strategies.registry import load_strategy

    st = load_strategy("ma_cross", {"fast": 5, "slow": 20})
    ia, ib = st.signals(a), st.signals(b)
    grid = align([a, b], ["EURUSD", "GBPUSD"])
    conv = plan_conversions(specs, [None, None], grid.time, [0, 0], {}, ["a", "b"])
    market = PortfolioMarket.build(grid, [a, b], ["EURUSD", "GBPUSD"], specs, conv)
    run = run_portfolio_backtest(
        market, [ia, ib], LegSettings((costs, costs), (0.0, 0.0), (1.0, 1.0)), seed=11
    )
    seeds = leg_seeds(11, 2)
    assert seeds[0] == 11 and seeds[1] != 11
    for i, (bars, it, spec) in enumerate(((a, ia, specs[0]), (b, ib, specs[1]))):
        alone = run_backtest(bars, it, spec, costs=costs, fixed_volume=1.0, seed=int(seeds[i]))
        mine = run.account.trades_raw[run.trade_leg == i]
        assert mine.shape[0] > 10
        np.testing.assert_array_equal(mine, alone.trades_raw)


def test_padding_a_cost_table_changes_no_draw():
    from execution_models.setup import resolve_costs
    from simlab.costs_nb import sample_cost_nb
    from simlab.symbols import get_symbol

    model = resolve_costs(get_symbol("EURUSD"), "EURUSD").setup
    small = CostSetup.fixed()
    stacked = stack_costs([small, model])
    k = small.cost_probs.shape[0]
    assert stacked.probs.shape[1] == model.cost_probs.shape[0] > k
    for kind in range(L.N_COST_KINDS):
        for sess in range(L.N_SESSIONS):
            for draw in range(200):
                a = sample_cost_nb(small.cost_q, small.cost_probs, kind, sess, 5, 1, draw)
                b = sample_cost_nb(
                    np.ascontiguousarray(stacked.q[0]),
                    np.ascontiguousarray(stacked.probs[0]),
                    kind,
                    sess,
                    5,
                    1,
                    draw,
                )
                assert a == b


def test_kernel_inputs_hold_each_legs_values_stored_row_by_row():
    # the Dow misses the gold's 10:00 bar: its row there holds no intent (hold), flat at its 09:00 close
    dow = Tape()
    dow.bar("2024-03-05T08:00", 39_000.0, decide=LONG)
    dow.bar("2024-03-05T09:00", (39_000.0, 39_050.0, 38_850.0, 39_000.0), decide=SHORT)
    dow.bar("2024-03-05T11:00", 39_050.0, decide=FLAT)
    (gb, gi), (db, di) = gold_tape().build(), dow.build()
    names = ["XAUUSD", "US30"]
    specs = [_spec(n) for n in names]
    grid = align([gb, db], names)
    conv = plan_conversions(specs, [None, None], grid.time, [0, 0], {}, names)
    m = PortfolioMarket.build(grid, [gb, db], names, specs, conv)
    q, lg, sig = m.quotes(), m.legs(np.array([5, 6])), m.signals([gi, di])
    assert len(m) == 5 and lg.has_bar[1].tolist() == [True, True, False, True, False]
    assert q.bid[1, 2].tolist() == [39_000.0] * 4 and q.bid[1, 1].tolist() == [
        39_000.0,
        39_050.0,
        38_850.0,
        39_000.0,
    ]
    np.testing.assert_array_equal(q.ask[0], gb.ask)
    assert sig.dir[1].tolist() == [LONG, SHORT, L.DIR_HOLD, FLAT, L.DIR_HOLD]
    assert sig.dir[0].tolist() == list(gi.dir) and lg.seeds.tolist() == [5, 6]
    # row by row in memory: a row's legs side by side (the kernel reads them together)
    assert q.bid.strides == (4 * 8, 2 * 4 * 8, 8) and sig.sl.strides == (8, 2 * 8)
    assert lg.next_row.strides == (8, 2 * 8) and not sig.dir.flags.writeable
