"""Live runner latency: a closed bar seen -> the ``order_send`` call, median and p99 (issue 12, acceptance 7).

The runner replays synthetic EURUSD minute bars from the in-process fake terminal (its calls cost a few
microseconds, no network) with a 2,000-bar strategy window; each order's latency is the time from the
moment the poll saw the new closed bar to the moment the order left for the broker: the bar's conversion,
the strategy on the window, the rules and governors, sizing and normalisation. Target: under 5 ms.
Figures are printed, never asserted (``nox -s bench``).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "live"))

from live_helpers import make_setup  # noqa: E402
from test_bench_strategies import _onnx_strategy  # noqa: E402

from strategies.ma_cross import MaCross  # noqa: E402

CASES = {
    "ma_cross": lambda tmp: MaCross(fast=5, slow=20, atr_stop=20.0, atr_target=0.0),
    "onnx_mlp": _onnx_strategy,
}


@pytest.mark.parametrize("name", list(CASES))
def test_bench_live_bar_to_order(benchmark, bench_record, tmp_path, name):
    from simlab.synthetic import synthetic_eurusd

    bars = synthetic_eurusd(n_days=6, timeframe="1min", seed=7)
    strategy = CASES[name](tmp_path)
    result: dict[str, np.ndarray] = {}

    def replay() -> None:
        s = make_setup(bars, strategy, tmp_path / f"run{len(result)}", history_bars=2000, fixed_volume=1.0)
        s.log = io.StringIO()
        s.run()
        result["ns"] = np.asarray(s.runner.decision_ns, dtype=np.float64)

    benchmark.pedantic(replay, rounds=1, iterations=1)
    ms = result["ns"] / 1e6
    med, p99 = float(np.median(ms)), float(np.percentile(ms, 99))
    benchmark.extra_info.update(orders=int(ms.size), median_ms=med, p99_ms=p99)
    bench_record(
        f"live bar->order_send {name}",
        f"{ms.size} orders, median {med:.3f} ms, p99 {p99:.3f} ms (target < 5 ms)",
    )
