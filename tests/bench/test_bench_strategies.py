"""Signals of each shipped strategy over 1,000,000 one-minute bars (pytest-benchmark).

The bars are a numpy random walk made here (no other simlab module involved
beyond ``Bars``); the ONNX model is a small MLP (10 features -> 16 -> 1) built
here with ``onnx.helper``. Run: ``nox -s bench`` or
``pytest -o addopts= tests/bench/test_bench_strategies.py --benchmark-only``.
"""

from __future__ import annotations

import numpy as np
import pytest

from simlab.bars import Bars
from strategies.base import Strategy
from strategies.donchian import Donchian
from strategies.london_breakout import LondonBreakout
from strategies.ma_cross import MaCross
from strategies.rsi_reversion import RsiReversion

N = 1_000_000
MIN = 60_000_000_000


@pytest.fixture(scope="module")
def million_bars() -> Bars:
    rng = np.random.default_rng(2024)
    t = np.datetime64("2016-01-03T22:00", "ns").astype(np.int64) + np.arange(N, dtype=np.int64) * MIN
    c = 1.1 * np.exp(np.cumsum(rng.normal(0.0, 2e-4, N)))
    o = np.concatenate([c[:1], c[:-1]])
    h = np.maximum(o, c) * (1 + np.abs(rng.normal(0, 1e-4, N)))
    low = np.minimum(o, c) * (1 - np.abs(rng.normal(0, 1e-4, N)))
    mid = np.column_stack([o, h, low, c])
    half = rng.uniform(2e-5, 1e-4, N)[:, None]
    return Bars(time=t, bid=mid - half, ask=mid + half, volume=np.zeros(N), symbol="EURUSD")


def _onnx_strategy(folder) -> Strategy:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    from strategies.features import save_pipeline
    from strategies.onnx_model import OnnxModelStrategy

    rng = np.random.default_rng(0)
    nf, hid = 10, 16
    inits = [
        numpy_helper.from_array(rng.normal(0, 50, (nf, hid)).astype(np.float32), "w1"),
        numpy_helper.from_array(np.zeros(hid, np.float32), "b1"),
        numpy_helper.from_array(rng.normal(0, 1, (hid, 1)).astype(np.float32), "w2"),
        numpy_helper.from_array(np.zeros(1, np.float32), "b2"),
    ]
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["x", "w1", "b1"], ["h0"]),
            helper.make_node("Relu", ["h0"], ["h"]),
            helper.make_node("Gemm", ["h", "w2", "b2"], ["z"]),
            helper.make_node("Sigmoid", ["z"], ["p"]),
        ],
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, nf])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, [None, 1])],
        inits,
    )
    path = folder / "mlp.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10), path)
    save_pipeline(
        path, [{"feature": "log_return", "lags": 8}, {"feature": "atr", "period": 14}, {"feature": "rsi"}]
    )
    return OnnxModelStrategy(model=str(path), long_threshold=0.6, short_threshold=0.4)


CASES = {
    "ma_cross": lambda tmp: MaCross(),
    "ma_cross_ema": lambda tmp: MaCross(ma="ema"),
    "rsi_reversion": lambda tmp: RsiReversion(),
    "london_breakout": lambda tmp: LondonBreakout(),
    "donchian": lambda tmp: Donchian(),
    "onnx_mlp": _onnx_strategy,
}


@pytest.mark.parametrize("name", list(CASES))
def test_bench_signals_million_bars(benchmark, million_bars, tmp_path, name):
    strategy = CASES[name](tmp_path)
    strategy.signals(million_bars.slice(0, 5000))  # numba cache load, talib / onnxruntime warm-up
    it = benchmark.pedantic(strategy.signals, args=(million_bars,), rounds=5, iterations=1)
    assert len(it) == N
    assert ((it.dir == 1) | (it.dir == -1)).sum() > 100
