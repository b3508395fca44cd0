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


def ma_cross_decisions(bars, fast: int = 60, slow: int = 240) -> tuple[np.ndarray, np.ndarray]:
    """(up, down) crosses of two SMAs of the mid close, known at each bar's close."""
    mid = 0.5 * (bars.bid[:, 3] + bars.ask[:, 3])
    c = np.cumsum(np.r_[0.0, mid])

    def sma(k: int) -> np.ndarray:
        out = np.full(mid.shape[0], np.nan)
        out[k - 1 :] = (c[k:] - c[:-k]) / k
        return out

    f, s = sma(fast), sma(slow)
    valid = ~np.isnan(s)
    above = f > s
    up = np.zeros(mid.shape[0], bool)
    dn = np.zeros(mid.shape[0], bool)
    up[1:] = above[1:] & ~above[:-1] & valid[:-1]
    dn[1:] = ~above[1:] & above[:-1] & valid[:-1]
    return up, dn


class Intents:
    """Per-bar intents in the shape the kernel reads."""

    def __init__(self, d: np.ndarray, sl: np.ndarray, tp: np.ndarray, size: np.ndarray) -> None:
        self.dir, self.sl, self.tp, self.size = d, sl, tp, size


@pytest.fixture(scope="session")
def minute_market():
    """(market, up, down): 1,000,000 synthetic one-minute EURUSD bars, their calendar, MA-cross crosses."""
    from simlab.engine import Market
    from simlab.synthetic import synthetic_eurusd

    bars = synthetic_eurusd(n_days=695, timeframe="1min", seed=2024)  # 1,000,800 bars
    bars = bars.slice(0, N_BARS)
    market = Market.build(bars)  # FTMO's day: midnight Europe/Prague; triple swap Wednesday
    up, dn = ma_cross_decisions(bars)
    return market, up, dn


@pytest.fixture(scope="session")
def ma_intents(minute_market) -> Intents:
    """Long on a cross up, short on a cross down (always in the market after the first cross), no stops."""
    from simlab import layout as L

    market, up, dn = minute_market
    n = len(market.bars)
    d = np.zeros(n, np.int8)
    d[up] = L.DIR_LONG
    d[dn] = L.DIR_SHORT
    nan = np.full(n, np.nan)
    return Intents(d, nan, nan.copy(), nan.copy())


@pytest.fixture(scope="session")
def ma_intents_with_stop(minute_market) -> Intents:
    """The same crosses with a 20-pip stop (risk sizing needs one): what a challenge attempt trades."""
    from simlab import layout as L

    market, up, dn = minute_market
    n = len(market.bars)
    d = np.zeros(n, np.int8)
    d[up] = L.DIR_LONG
    d[dn] = L.DIR_SHORT
    nan = np.full(n, np.nan)
    return Intents(d, np.full(n, 0.0020), nan, nan.copy())


@pytest.fixture(scope="session")
def model_costs():
    """Per-bar sampled costs: the shipped EURUSD execution model, spread = the wider of data and model,
    entry/exit/stop slippage sampled, a 250 ms latency budget (the CLI's ``--spread wider``)."""
    from simlab import layout as L
    from simlab.engine import CostSetup

    try:
        from execution_models import load_model

        model = load_model("EURUSD")
        q, probs = model.to_kernel_tables(model.point)
        name = model.ident
    except Exception:  # pragma: no cover - the model package is absent or broken: a hand table
        probs = np.linspace(0.0, 1.0, 33)
        q = np.zeros((L.N_COST_KINDS, L.N_SESSIONS, probs.shape[0]))
        q[L.COST_SPREAD] = (8.0 + 40.0 * probs**8) * 1e-5
        q[L.COST_ENTRY_SLIP] = q[L.COST_EXIT_SLIP] = (-1.0 + 6.0 * probs**4) * 1e-5
        q[L.COST_STOP_SLIP] = (10.0 * probs**4) * 1e-5
        q[L.COST_LATENCY] = 20.0 + 500.0 * probs**6
        name = "hand table"
    return CostSetup(
        q, probs, spread_mode=L.SPREAD_WIDER, slippage=True, latency_budget_ms=250.0, name=f"{name} (wider)"
    )
