"""Shared inputs of the kernel benchmarks, and a summary of their figures at the end of the run.

The million one-minute bars are simlab's synthetic EURUSD (a seeded random
process on the FX week's one-minute grid, weekends skipped; see
``simlab.synthetic``), built once per session together with its calendar
(``simlab.engine.Market.build``) and one set of moving-average-cross decisions,
so every benchmark that says "the same bars and the same signals" means it.

Benchmarks report figures (bars/s, ratios) through ``benchmark.extra_info`` and
``record()``; ``pytest_terminal_summary`` prints them together. Nothing here is a
timed assertion.
"""

from __future__ import annotations

import numpy as np
import pytest
from _builders import Intents, ma_cross

N_BARS = 1_000_000

_FIGURES: list[tuple[str, str]] = []


def record(name: str, text: str) -> None:
    """Keep one line for the end-of-run summary (and print it now, for ``-s``)."""
    _FIGURES.append((name, text))
    print(f"\n[bench] {name}: {text}")


@pytest.fixture(scope="session")
def bench_record():
    """``record(name, text)``: a line for the end-of-run summary."""
    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    if not _FIGURES:
        return
    terminalreporter.write_sep("-", "simlab kernel benchmark figures")
    for name, text in _FIGURES:
        terminalreporter.write_line(f"{name:<44} {text}")


@pytest.fixture(scope="session")
def minute_market():
    """(market, up, down): 1,000,000 synthetic one-minute EURUSD bars, their calendar, MA-cross crosses."""
    from simlab.engine import Market
    from simlab.synthetic import synthetic_eurusd

    bars = synthetic_eurusd(n_days=695, timeframe="1min", seed=2024)  # 1,000,800 bars
    bars = bars.slice(0, N_BARS)
    market = Market.build(bars)  # FTMO's day: midnight Europe/Prague; triple swap Wednesday
    up, dn = ma_cross(bars, fast=60, slow=240)
    return market, up, dn


@pytest.fixture(scope="session")
def ma_intents(minute_market) -> Intents:
    """Long on a cross up, short on a cross down (always in the market after the first cross), no stops."""
    from simlab import layout as L

    market, up, dn = minute_market
    it = Intents.empty(len(market.bars))
    it.dir[up] = L.DIR_LONG
    it.dir[dn] = L.DIR_SHORT
    return it


@pytest.fixture(scope="session")
def ma_intents_with_stop(ma_intents) -> Intents:
    """The same crosses with a 20-pip stop (risk sizing needs one): what a challenge attempt trades."""
    return Intents(ma_intents.dir, np.full(ma_intents.dir.shape[0], 0.0020), ma_intents.tp, ma_intents.size)


@pytest.fixture(scope="session")
def model_costs():
    """Per-bar sampled costs: the shipped EURUSD execution model, spread = the wider of data and model,
    entry/exit/stop slippage sampled, a 250 ms latency budget (the CLI's ``--spread wider``)."""
    from execution_models import load_model
    from simlab import layout as L
    from simlab.engine import CostSetup

    model = load_model("EURUSD")
    q, probs = model.to_kernel_tables(model.point)
    name = model.ident
    return CostSetup(
        q, probs, spread_mode=L.SPREAD_WIDER, slippage=True, latency_budget_ms=250.0, name=f"{name} (wider)"
    )
