"""Benchmarks of the data side: calendar and synthetic bars for a million one-minute bars."""

from __future__ import annotations

import numpy as np

from simlab.bars import Bars
from simlab.calendar import build_calendar
from simlab.synthetic import synthetic_eurusd

M = 60_000_000_000


def _million_bars() -> Bars:
    t = np.datetime64("2015-01-04T22:00", "ns").astype(np.int64) + np.arange(1_000_000, dtype=np.int64) * M
    px = np.full((t.shape[0], 4), 1.1)
    return Bars(time=t, bid=px, ask=px + 1e-4, volume=np.zeros(t.shape[0]))


def test_bench_calendar_million_bars(benchmark):
    bars = _million_bars()
    cal = benchmark(build_calendar, bars, reset_window_min=5, weekend_window_min=5)
    assert len(cal) == 1_000_000


def test_bench_synthetic_million_bars(benchmark):
    synthetic_eurusd(2, seed=1)  # numba compile / cache load
    b = benchmark.pedantic(synthetic_eurusd, args=(700,), kwargs={"seed": 1}, rounds=3)
    assert len(b) == 1_008_000
