"""OnnxModelStrategy: models trained here with numpy, exported with onnx.helper, run through onnxruntime.

The intents must equal what the same model gives computed directly: features
rebuilt here with pandas (not with strategies.features), a numpy forward pass,
the same thresholds / arg-max.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from simlab.bars import Bars  # noqa: E402
from simlab.errors import ConfigError  # noqa: E402
from simlab.layout import DIR_FLAT, DIR_LONG, DIR_SHORT  # noqa: E402
from strategies.features import FeaturePipeline, pipeline_path, save_pipeline  # noqa: E402
from strategies.lookahead import check_lookahead  # noqa: E402
from strategies.onnx_model import OnnxModelStrategy  # noqa: E402
from strategies.registry import load_strategy  # noqa: E402
from strategies.synthetic import random_walk_bars  # noqa: E402
from tests.test_indicators import ref_atr  # noqa: E402

LAGS = 5
ATR_N = 14
FEATURES = [{"feature": "log_return", "lags": LAGS}, {"feature": "atr", "period": ATR_N}]
NF = LAGS + 1


# ----------------------------------------------------------------------- references
def ref_features(bars: Bars) -> np.ndarray:
    """log returns of lags 0..LAGS-1 and ATR / close, from mid prices, with pandas."""
    m = pd.DataFrame((bars.bid + bars.ask) / 2, columns=["o", "h", "l", "c"])
    r = np.log(m.c / m.c.shift(1))
    cols = [r.shift(i) for i in range(LAGS)]
    cols.append(pd.Series(ref_atr(m.h.to_numpy(), m.l.to_numpy(), m.c.to_numpy(), ATR_N)) / m.c)
    return pd.concat(cols, axis=1).to_numpy()


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def fit_logistic(x: np.ndarray, y: np.ndarray, iters: int = 12) -> tuple[np.ndarray, float]:
    """Logistic regression by Newton's method on standardised features; weights folded back to raw units."""
    mu, sd = x.mean(0), x.std(0)
    z = np.column_stack([np.ones(len(x)), (x - mu) / sd])
    beta = np.zeros(z.shape[1])
    for _ in range(iters):
        p = sigmoid(z @ beta)
        grad = z.T @ (y - p)
        hess = (z * (p * (1 - p))[:, None]).T @ z + 1e-6 * np.eye(z.shape[1])
        beta += np.linalg.solve(hess, grad)
    w = beta[1:] / sd
    b = beta[0] - float((beta[1:] * mu / sd).sum())
    return w, b


def _save(graph, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def logistic_onnx(path: Path, w: np.ndarray, b: float, *, dtype=np.float32, batch=None) -> Path:
    tp = TensorProto.FLOAT if dtype == np.float32 else TensorProto.DOUBLE
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["z0"]),
            helper.make_node("Add", ["z0", "b"], ["z"]),
            helper.make_node("Sigmoid", ["z"], ["p_up"]),
        ],
        "logistic",
        [helper.make_tensor_value_info("x", tp, [batch, len(w)])],
        [helper.make_tensor_value_info("p_up", tp, [batch, 1])],
        [
            numpy_helper.from_array(w.reshape(-1, 1).astype(dtype), "w"),
            numpy_helper.from_array(np.array([b], dtype), "b"),
        ],
    )
    return _save(graph, path)


def mlp_onnx(path: Path, w1, b1, w2, b2, *, window: int = 1) -> Path:
    """(x -> [Flatten] -> relu(x W1 + b1) -> softmax(h W2 + b2)), float32, 3 classes."""
    nodes = []
    inp = "x"
    if window > 1:
        nodes.append(helper.make_node("Flatten", ["x"], ["xf"], axis=1))
        inp = "xf"
    nodes += [
        helper.make_node("Gemm", [inp, "w1", "b1"], ["h0"]),
        helper.make_node("Relu", ["h0"], ["h"]),
        helper.make_node("Gemm", ["h", "w2", "b2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
    ]
    shape = [None, NF] if window == 1 else [None, window, NF]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [
            helper.make_tensor_value_info("probs", TensorProto.FLOAT, [None, 3]),
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, 3]),
        ],
        [
            numpy_helper.from_array(a.astype(np.float32), n)
            for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))
        ],
    )
    return _save(graph, path)


def mlp_forward(x: np.ndarray, w1, b1, w2, b2) -> np.ndarray:
    x = x.astype(np.float32)
    h = np.maximum(x @ w1.astype(np.float32) + b1.astype(np.float32), 0)
    z = h @ w2.astype(np.float32) + b2.astype(np.float32)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_mlp(x: np.ndarray, y: np.ndarray, hidden: int = 8, steps: int = 60, seed: int = 0):
    """A one-hidden-layer softmax classifier: random first layer, output layer by a few gradient steps."""
    rng = np.random.default_rng(seed)
    mu, sd = x.mean(0), x.std(0)
    w1 = rng.normal(0, 1, (x.shape[1], hidden)) / sd[:, None]
    b1 = rng.normal(0, 0.1, hidden) - mu @ w1  # centre the inputs
    h = np.maximum(x @ w1 + b1, 0)
    w2 = np.zeros((hidden, 3))
    b2 = np.zeros(3)
    onehot = np.eye(3)[y]
    for _ in range(steps):
        z = h @ w2 + b2
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = (p - onehot) / len(x)
        w2 -= 0.5 * h.T @ g
        b2 -= 0.5 * g.sum(0)
    return w1, b1, w2, b2


# ----------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def train_bars() -> Bars:
    return random_walk_bars(3000, seed=21)


@pytest.fixture(scope="module")
def test_bars() -> Bars:
    return random_walk_bars(2500, seed=22)


@pytest.fixture(scope="module")
def logistic(tmp_path_factory, train_bars):
    x = ref_features(train_bars)
    c = (train_bars.bid[:, 3] + train_bars.ask[:, 3]) / 2
    y = np.r_[(c[1:] > c[:-1]).astype(float), 0.0]
    ok = np.isfinite(x).all(1)
    ok[-1] = False
    w, b = fit_logistic(x[ok], y[ok])
    d = tmp_path_factory.mktemp("logit")
    path = logistic_onnx(d / "model.onnx", w, b)
    save_pipeline(path, FEATURES)
    p_train = sigmoid(x[ok] @ w + b)
    hi, lo = np.quantile(p_train, [0.7, 0.3])
    return {"path": path, "w": w, "b": b, "hi": float(hi), "lo": float(lo), "dir": d}


def build_logistic_model(folder: Path, bars: Bars | None = None) -> Path:
    """For other test modules: a fitted logistic model + its pipeline in ``folder``."""
    bars = bars or random_walk_bars(3000, seed=21)
    x = ref_features(bars)
    c = (bars.bid[:, 3] + bars.ask[:, 3]) / 2
    y = np.r_[(c[1:] > c[:-1]).astype(float), 0.0]
    ok = np.isfinite(x).all(1)
    ok[-1] = False
    w, b = fit_logistic(x[ok], y[ok])
    path = logistic_onnx(folder / "model.onnx", w, b)
    save_pipeline(path, FEATURES)
    return path


def expected_score_dirs(p: np.ndarray, hi: float, lo: float, warmup: int) -> np.ndarray:
    want = np.where(p > hi, DIR_LONG, np.where(p < lo, DIR_SHORT, 0)).astype(np.int8)
    want[~np.isfinite(p)] = 0
    want[:warmup] = 0
    return want


# ----------------------------------------------------------------------- tests
def test_logistic_model_intents_equal_numpy_forward_pass(logistic, test_bars):
    s = OnnxModelStrategy(
        model=str(logistic["path"]), long_threshold=logistic["hi"], short_threshold=logistic["lo"]
    )
    assert s.warmup == max(LAGS, ATR_N)
    x = ref_features(test_bars)
    p_np = sigmoid(x.astype(np.float64) @ logistic["w"] + logistic["b"])
    p_onnx = s.predict(test_bars)[:, 0]
    np.testing.assert_array_equal(np.isnan(p_onnx), ~np.isfinite(x).all(1))
    ok = np.isfinite(p_onnx)
    np.testing.assert_allclose(p_onnx[ok], p_np[ok], rtol=2e-6, atol=2e-6)  # float32 model
    it = s.intents(test_bars)
    want = expected_score_dirs(p_np, logistic["hi"], logistic["lo"], s.warmup)
    # rows decided by less than float32 precision may legitimately differ: there are (almost) none
    near = (np.abs(p_np - logistic["hi"]) < 1e-5) | (np.abs(p_np - logistic["lo"]) < 1e-5)
    assert near.sum() <= 2
    np.testing.assert_array_equal(it.dir[~near], want[~near])
    assert (it.dir == DIR_LONG).sum() > 300 and (it.dir == DIR_SHORT).sum() > 300
    # the direction is exactly the thresholded ONNX output
    np.testing.assert_array_equal(
        it.dir, expected_score_dirs(p_onnx, logistic["hi"], logistic["lo"], s.warmup)
    )
    # ATR stops and targets like ma_cross
    m = (test_bars.bid + test_bars.ask) / 2
    atr = ref_atr(m[:, 1], m[:, 2], m[:, 3], 14)
    e = it.dir != 0
    np.testing.assert_allclose(it.sl[e], 2.0 * atr[e], rtol=1e-12)
    np.testing.assert_allclose(it.tp[e], 3.0 * atr[e], rtol=1e-12)


def test_pipeline_features_equal_pandas_reference(test_bars):
    pipe = FeaturePipeline.from_json(FEATURES)
    f = pipe.build(test_bars)
    ref = ref_features(test_bars)
    np.testing.assert_array_equal(np.isnan(f), np.isnan(ref))
    np.testing.assert_allclose(f[~np.isnan(f)], ref[~np.isnan(ref)], rtol=1e-12, atol=1e-15)
    assert pipe.lookback == ATR_N and pipe.n_features == NF
    assert pipe.columns()[0] == "log_return(lags=5)[0]"


def test_load_strategy_onnx_by_name(logistic, test_bars):
    s = load_strategy("onnx", {"model": str(logistic["path"])})
    assert isinstance(s, OnnxModelStrategy) and s.long_threshold == 0.5
    direct = OnnxModelStrategy(model=str(logistic["path"]))
    assert s.signals(test_bars).first_difference(direct.signals(test_bars)) is None
    s2 = load_strategy("onnx", {"model": str(logistic["path"]), "neutral": "flat", "long_threshold": "0.52"})
    d = s2.signals(test_bars).dir
    assert set(np.unique(d[s2.warmup :]).tolist()) <= {DIR_LONG, DIR_SHORT, DIR_FLAT}
    assert (d == DIR_FLAT).sum() > 0


def test_mlp_argmax_classes_equal_numpy(tmp_path, train_bars, test_bars):
    x = ref_features(train_bars)
    c = (train_bars.bid[:, 3] + train_bars.ask[:, 3]) / 2
    nxt = np.r_[np.log(c[1:] / c[:-1]), 0.0]
    y = np.digitize(nxt, np.quantile(nxt, [1 / 3, 2 / 3]))  # 0 down, 1 flat, 2 up
    ok = np.isfinite(x).all(1)
    params = fit_mlp(x[ok], y[ok])
    path = mlp_onnx(tmp_path / "mlp.onnx", *params)
    save_pipeline(path, FEATURES)
    s = OnnxModelStrategy(model=str(path), classes="short,flat,long", min_prob=0.34)
    xt = ref_features(test_bars)
    valid = np.isfinite(xt).all(1)
    probs = mlp_forward(np.where(valid[:, None], xt, 0.0), *params)
    np.testing.assert_allclose(s.predict(test_bars)[valid], probs[valid], rtol=1e-5, atol=1e-6)
    top = probs.argmax(1)
    keep = valid & (probs.max(1) >= 0.34)
    want = np.where(keep, np.array([DIR_SHORT, DIR_FLAT, DIR_LONG])[top], 0).astype(np.int8)
    want[: s.warmup] = 0
    srt = np.sort(probs, axis=1)
    near = (srt[:, 2] - srt[:, 1] < 1e-5) | (np.abs(probs.max(1) - 0.34) < 1e-5)
    it = s.signals(test_bars)
    np.testing.assert_array_equal(it.dir[~near], want[~near])
    assert len(set(it.dir.tolist())) >= 3
    # the other output, by name: logits (arg-max is the same class)
    s_log = OnnxModelStrategy(model=str(path), output="logits")
    s_prob = OnnxModelStrategy(model=str(path))
    np.testing.assert_array_equal(s_log.signals(test_bars).dir, s_prob.signals(test_bars).dir)


def test_window_model_takes_a_3d_feature_block(tmp_path, test_bars):
    rng = np.random.default_rng(3)
    win = 4
    w1, b1 = rng.normal(0, 30, (win * NF, 6)), rng.normal(0, 0.1, 6)
    w2, b2 = rng.normal(0, 1, (6, 3)), np.zeros(3)
    path = mlp_onnx(tmp_path / "seq.onnx", w1, b1, w2, b2, window=win)
    save_pipeline(path, FEATURES, window=win)
    s = OnnxModelStrategy(model=str(path))
    assert s.pipeline.window == win and s.warmup == ATR_N + win - 1
    f = ref_features(test_bars)
    n = len(f)
    blocks = np.stack([np.roll(f, k, axis=0) for k in range(win - 1, -1, -1)], axis=1)  # (n, win, NF)
    blocks[: win - 1] = np.nan
    valid = np.isfinite(blocks).all(axis=(1, 2))
    probs = mlp_forward(np.where(valid[:, None], blocks.reshape(n, -1), 0.0), w1, b1, w2, b2)
    out = s.predict(test_bars)
    np.testing.assert_array_equal(np.isnan(out[:, 0]), ~valid)
    np.testing.assert_allclose(out[valid], probs[valid], rtol=1e-5, atol=1e-6)


def test_fixed_batch_and_float64_models_give_the_same_intents(tmp_path, logistic, test_bars):
    kw = {"long_threshold": logistic["hi"], "short_threshold": logistic["lo"]}
    ref = OnnxModelStrategy(model=str(logistic["path"]), **kw).signals(test_bars)
    one = logistic_onnx(tmp_path / "one.onnx", logistic["w"], logistic["b"], batch=7)
    save_pipeline(one, FEATURES)
    s1 = OnnxModelStrategy(model=str(one), **kw)
    assert s1._batch == 7
    assert s1.signals(test_bars).first_difference(ref) is None
    dbl = logistic_onnx(tmp_path / "dbl.onnx", logistic["w"], logistic["b"], dtype=np.float64)
    save_pipeline(dbl, FEATURES)
    s2 = OnnxModelStrategy(model=str(dbl), **kw)
    p = s2.predict(test_bars)[:, 0]
    x = ref_features(test_bars)
    ok = np.isfinite(p)
    np.testing.assert_allclose(p[ok], sigmoid(x[ok] @ logistic["w"] + logistic["b"]), rtol=1e-12)


def test_pickle_reopens_the_session(logistic, test_bars):
    s = OnnxModelStrategy(model=str(logistic["path"]))
    s2 = pickle.loads(pickle.dumps(s))
    assert s2.signals(test_bars).first_difference(s.signals(test_bars)) is None


def test_causal_on_random_data(logistic):
    s = OnnxModelStrategy(
        model=str(logistic["path"]), long_threshold=logistic["hi"], short_threshold=logistic["lo"]
    )
    rep = check_lookahead(s, random_walk_bars(3000, seed=5), n_prefixes=10)
    assert rep.ok, str(rep)


# ----------------------------------------------------------------------- errors
def _two_input_model(path: Path) -> Path:
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["y"])],
        "two",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [None, NF]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [None, NF]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, NF])],
    )
    return _save(graph, path)


def test_model_and_pipeline_errors_are_one_line(tmp_path, logistic):
    good = logistic["path"]

    def err(**kw) -> str:
        with pytest.raises(ConfigError) as e:
            OnnxModelStrategy(**kw)
        assert "\n" not in str(e.value)
        return str(e.value)

    assert err(model=str(tmp_path / "nope.onnx")).endswith("nope.onnx: model file not found")
    assert "parameter 'model' is required" in err()
    lonely = tmp_path / "lonely.onnx"
    lonely.write_bytes(good.read_bytes())
    assert "lonely.features.json: feature pipeline not found" in err(model=str(lonely))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model at all")
    (tmp_path / "junk.features.json").write_text(json.dumps(FEATURES))
    assert "junk.onnx: not a loadable ONNX model (" in err(model=str(junk))
    wide = logistic_onnx(tmp_path / "wide.onnx", np.ones(NF + 1), 0.0)
    save_pipeline(wide, FEATURES)
    assert f"input 'x' takes {NF + 1} features; the pipeline" in err(model=str(wide))
    two = _two_input_model(tmp_path / "two.onnx")
    save_pipeline(two, FEATURES)
    assert "the model has 2 inputs (a, b)" in err(model=str(two))
    assert "no output named 'zz' (outputs: p_up)" in err(model=str(good), output="zz")
    assert "short_threshold (0.6) must not exceed long_threshold (0.4)" in err(
        model=str(good), long_threshold=0.4, short_threshold=0.6
    )
    bad_json = tmp_path / "bad.features.json"
    bad_json.write_text("{nope")
    assert "bad.features.json: not valid JSON" in err(model=str(good), features=str(bad_json))
    for spec, needle in [
        ([{"feature": "momentum"}], "unknown feature 'momentum' (known: log_return, atr"),
        ([{"feature": "atr", "perod": 3}], "unknown option 'perod' (valid: period, relative)"),
        ([{"feature": "atr", "period": 0}], "option 'period' = 0, expected an integer >= 1"),
        ([], "expected a non-empty list of features"),
        ({"format": "x/2", "features": FEATURES}, "format 'x/2' is not supported"),
    ]:
        p = tmp_path / "spec.features.json"
        p.write_text(json.dumps(spec))
        assert needle in err(model=str(good), features=str(p)), needle


def test_class_label_errors(tmp_path, train_bars):
    rng = np.random.default_rng(0)
    path = mlp_onnx(
        tmp_path / "m.onnx", rng.normal(size=(NF, 4)), np.zeros(4), rng.normal(size=(4, 3)), np.zeros(3)
    )
    save_pipeline(path, FEATURES)
    with pytest.raises(ConfigError, match="names 2 labels; the output has 3 columns"):
        OnnxModelStrategy(model=str(path), classes="short,long").signals(train_bars)
    with pytest.raises(ConfigError, match="unknown label 'up'"):
        OnnxModelStrategy(model=str(path), classes="short,flat,up")
    with pytest.raises(ConfigError, match="mode=score needs a one-column output"):
        OnnxModelStrategy(model=str(path), mode="score").signals(train_bars)


def test_pipeline_round_trip(tmp_path):
    p = save_pipeline(tmp_path / "m.onnx", FEATURES + [{"feature": "session"}, {"feature": "hour"}], window=2)
    assert p == pipeline_path(tmp_path / "m.onnx") == tmp_path / "m.features.json"
    pipe = FeaturePipeline.load(p)
    assert pipe.window == 2 and pipe.n_features == NF + 5 + 2
    assert FeaturePipeline.from_json(pipe.to_json()) == FeaturePipeline.from_json(pipe.to_json())
    x, valid = pipe.build_input(random_walk_bars(100))
    assert x.shape == (100, 2, NF + 7) and valid.sum() == 100 - pipe.lookback
    assert np.isfinite(x).all()


def test_every_feature_is_causal_and_finite_after_lookback():
    from strategies.features import FEATURES as ALL

    specs = [{"feature": k} for k in ALL]
    pipe = FeaturePipeline.from_json(specs)
    bars = random_walk_bars(400, seed=8)
    full = pipe.build(bars)
    assert np.isfinite(full[pipe.lookback :]).all()
    for k in (pipe.lookback + 1, 150, 399):
        pre = pipe.build(bars.slice(0, k))
        np.testing.assert_array_equal(pre, full[:k])


# ----------------------------------------------------------------------- through the CLI
def _write_csv(bars: Bars, path: Path) -> Path:
    f = bars.to_frame().drop(columns="volume")
    f.index = f.index.strftime("%Y-%m-%dT%H:%M:%SZ")
    f.to_csv(path, index_label="time", float_format="%.6f")
    return path


def test_onnx_through_check_strategy_and_backtest_cli(tmp_path, logistic, capsys):
    """``simlab check-strategy onnx`` and ``simlab backtest --strategy onnx --param model=...`` (in-process)."""
    from simlab_cli.main import main

    data = str(_write_csv(random_walk_bars(1500, seed=30), tmp_path / "bars.csv"))
    model = f"model={logistic['path']}"
    assert main(["check-strategy", "onnx", "--param", model, "--data", data, "--prefixes", "6"]) == 0
    assert capsys.readouterr().out.startswith("OK: onnx: no look-ahead found")
    assert (
        main(["backtest", "--strategy", "onnx", "--param", model, "--data", data, "--exec-model", "none"])
        == 0
    )
    out = capsys.readouterr().out
    assert "onnx on" in out and "trades" in out


def test_the_gate_checks_a_new_model_at_the_same_path_and_results_name_its_bytes(tmp_path, monkeypatch):
    """The look-ahead gate's cached verdict is keyed by the model's bytes (and its pipeline's), not only by
    the ``model=`` path: another model saved over the first is checked again. A result records each file's
    sha256 beside the parameters."""
    import strategies.lookahead as la
    from simlab.files import sha256_of
    from simlab_cli.provenance import strategy_info

    monkeypatch.setenv("SIMLAB_CACHE", str(tmp_path / "cache"))
    calls: list[int] = []
    real = la.check_lookahead
    monkeypatch.setattr(la, "check_lookahead", lambda *a, **k: calls.append(1) or real(*a, **k))
    bars = random_walk_bars(600, seed=3)
    w = np.linspace(300.0, 50.0, ref_features(bars).shape[1])
    path = logistic_onnx(tmp_path / "model.onnx", w, 0.0)
    save_pipeline(path, FEATURES)
    first = OnnxModelStrategy(model=str(path))
    la.lookahead_gate(first, bars, "data")
    la.lookahead_gate(OnnxModelStrategy(model=str(path)), bars, "data")
    assert len(calls) == 1  # the same bytes: the cached verdict
    logistic_onnx(path, -w, 0.0)  # another model, the same path and pipeline
    second = OnnxModelStrategy(model=str(path))
    la.lookahead_gate(second, bars, "data")
    assert len(calls) == 2
    info = strategy_info(second, "onnx")
    assert info["files"] == [
        {"file": str(path), "sha256": sha256_of(path)},
        {"file": str(pipeline_path(path)), "sha256": sha256_of(pipeline_path(path))},
    ]
    assert "files" not in strategy_info(load_strategy("ma_cross"), "ma_cross")  # no file, no member
