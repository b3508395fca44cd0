"""Portfolio kernel throughput (issue 11, acceptance 6): run with ``nox -s bench``. Reported, never asserted.

A 3-symbol portfolio (``simlab.portfolio_nb``) of the benchmark's 1,000,000 one-minute EURUSD bars and
two copies of them scaled into GBPUSD's and XAUUSD's price ranges (the same minutes: the grid is 1M
rows, 3M bar-steps), every leg with the MA-cross decisions, per-bar sampled costs (the shipped
EURUSD model, spread the wider of data and model, sampled slippage) and FTMO's rule vector, against
the single-symbol kernel on the first leg alone, interleaved in the same run: bar-steps per second
per symbol of each and their ratio (portfolio / single; 1.0 would be a free account loop).
"""

from __future__ import annotations

import numpy as np
from test_bench_kernel import BIG_BALANCE, N_BARS, Timing, _kernel, ftmo_phases

from simlab import layout as L
from simlab.bars import Bars


def _portfolio(minute_market, ma_intents, model_costs):
    from simlab.align import align
    from simlab.currency import plan_conversions
    from simlab.portfolio_engine import LegSettings
    from simlab.portfolio_market import PortfolioMarket
    from simlab.symbols import get_symbol

    market, _, _ = minute_market
    b = market.bars
    legs = [b]
    for k, sym in ((1.17, "GBPUSD"), (1800.0, "XAUUSD")):
        legs.append(Bars(time=b.time, bid=b.bid * k, ask=b.ask * k, volume=b.volume, symbol=sym))
    names = ["EURUSD", "GBPUSD", "XAUUSD"]
    specs = [get_symbol(n) for n in names]
    grid = align(legs, names)
    conv = plan_conversions(specs, [None] * 3, grid.time, [0, 0, 0], {}, names)
    pm = PortfolioMarket.build(grid, legs, names, specs, conv)
    settings = LegSettings((model_costs,) * 3, (0.0,) * 3, (1.0, 1.0, 0.01))
    return pm, [ma_intents] * 3, settings


def test_bench_portfolio_3_symbols_vs_single_kernel(
    bench_record, benchmark, minute_market, ma_intents, model_costs
):
    from simlab.portfolio_engine import run_portfolio_backtest

    pm, intents, settings = _portfolio(minute_market, ma_intents, model_costs)
    market, _, _ = minute_market
    rules = ftmo_phases()[0].copy()

    def portfolio(end=None):
        return run_portfolio_backtest(
            pm, intents, settings, rules=rules, initial_balance=BIG_BALANCE, seed=7, end=end
        )

    portfolio(end=2000)  # compile / load the cache
    _kernel(market, ma_intents, model_costs, end=2000)
    tp, ts = Timing(), Timing()
    for _ in range(5):
        run = tp.run(portfolio)
        single = ts.run(lambda: _kernel(market, ma_intents, model_costs))
    benchmark.pedantic(portfolio, rounds=1, warmup_rounds=0)
    assert run.account.status == "running" and int(run.account.res[L.RES_END_BAR]) == N_BARS - 1  # every row
    # the legs trade the same decisions: each makes the single run's number of trades
    assert np.all(run.leg_counts[:, 0] == single.trades_raw.shape[0])
    per_symbol = 3 * N_BARS / tp.wall / 3  # bar-steps per second, per symbol (= rows per second)
    single_rate = N_BARS / ts.wall
    ratio = per_symbol / single_rate
    cpu_ratio = ts.cpu / tp.cpu
    benchmark.extra_info.update(
        portfolio_bar_steps_per_s=3 * N_BARS / tp.wall,
        portfolio_bar_steps_per_s_per_symbol=per_symbol,
        single_bars_per_s=single_rate,
        ratio_per_symbol=ratio,
        ratio_per_symbol_cpu=cpu_ratio,
    )
    bench_record(
        "portfolio, 3 symbols x 1M rows vs single kernel",
        f"portfolio {3 * N_BARS / tp.wall / 1e6:.2f} M bar-steps/s ({per_symbol / 1e6:.2f} M per symbol) | "
        f"single {single_rate / 1e6:.2f} M bars/s | per symbol {ratio:.2f}x the single kernel "
        f"(CPU time {cpu_ratio:.2f}x)",
    )
