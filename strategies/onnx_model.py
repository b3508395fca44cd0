"""``OnnxModelStrategy`` (registry name ``onnx``): a model's outputs, through onnxruntime, as intents.

The model file comes with its feature pipeline saved next to it
(``model.onnx`` + ``model.features.json``, see :mod:`strategies.features`), so
the backtest and the live runner build the same inputs. Inference is one
``session.run`` over all bars (models with a fixed batch size are run in
chunks of that size).

From outputs to directions:

* ``mode="score"`` (auto when the chosen output has one column): long where
  ``score > long_threshold``, short where ``score < short_threshold``, and in
  between HOLD (or FLAT with ``neutral="flat"``). A probability of "up" works
  with thresholds like 0.55 / 0.45; a predicted return with 0 / 0.
* ``mode="argmax"`` (auto with two or more columns): the arg-max column's label
  from ``classes`` (default ``short,long`` for two columns,
  ``short,flat,long`` for three; labels are long, short, flat, hold), kept only
  where that column's value is at least ``min_prob``.

Entries carry an ATR stop and target like ``ma_cross``. Rows whose features
are not all defined yet (the pipeline's look-back) are HOLD.

A logistic model on the last three log returns, built with ``onnx.helper``:

>>> import pathlib, tempfile
>>> import onnx
>>> from onnx import TensorProto, helper, numpy_helper
>>> from strategies.features import save_pipeline
>>> from strategies.synthetic import random_walk_bars
>>> w = numpy_helper.from_array(np.array([[400.0], [200.0], [100.0]], np.float32), "w")
>>> graph = helper.make_graph(
...     [helper.make_node("MatMul", ["x", "w"], ["z"]), helper.make_node("Sigmoid", ["z"], ["p"])],
...     "logit",
...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
...     [helper.make_tensor_value_info("p", TensorProto.FLOAT, [None, 1])],
...     [w],
... )
>>> path = pathlib.Path(tempfile.mkdtemp()) / "model.onnx"
>>> model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
>>> onnx.save(model, path)
>>> _ = save_pipeline(path, [{"feature": "log_return", "lags": 3}])  # -> model.features.json
>>> s = OnnxModelStrategy(model=str(path), long_threshold=0.55, short_threshold=0.45)
>>> bars = random_walk_bars(500)
>>> p = s.predict(bars)[:, 0]  # raw outputs, NaN in the look-back
>>> it = s.signals(bars)  # one batched session.run
>>> w = s.warmup  # the features' look-back (3), or the ATR's (14) for the stops
>>> bool(((it.dir == 1) == (p > 0.55))[w:].all()), bool(((it.dir == -1) == (p < 0.45))[w:].all())
(True, True)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simlab.errors import ConfigError
from simlab.layout import DIR_FLAT, DIR_HOLD, DIR_LONG, DIR_SHORT
from strategies import indicators as ind
from strategies.base import Intents, Param, Strategy
from strategies.features import FeaturePipeline, pipeline_path

if TYPE_CHECKING:
    from simlab.bars import Bars

_ORT_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16}
_LABELS = {"long": DIR_LONG, "short": DIR_SHORT, "flat": DIR_FLAT, "hold": DIR_HOLD}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def open_ort_session(model: str, threads: int) -> Any:
    """An onnxruntime CPU session of ``model`` (``threads`` intra-op threads, 0: its default); a file that
    does not load is a one-line ConfigError."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if threads > 0:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(Path(model).expanduser()), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ConfigError(model, f"not a loadable ONNX model ({_one_line(exc)})") from None


class PicklesOrtSession:
    """Pickling for a strategy holding an onnxruntime session in ``_session`` (it does not pickle):
    dropped on the way out, reopened by ``_open_session`` on the way in (the Monte Carlo workers)."""

    def _open_session(self) -> None:
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_session"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._open_session()


class OnnxModelStrategy(PicklesOrtSession, Strategy):
    """An ONNX model over a declared feature window, run with onnxruntime; scores or classes to intents."""

    name = "onnx"
    price = "mid"

    model = Param("", type=str, required=True, help="path to the .onnx model file")
    features = Param("", help="feature pipeline JSON (default: <model>.features.json next to the model)")
    output = Param("", help="name of the model output to use (default: the first)")
    mode = Param("auto", choices=("auto", "score", "argmax"), help="one score column or class arg-max")
    long_threshold = Param(0.5, help="score mode: long where score > this")
    short_threshold = Param(0.5, help="score mode: short where score < this")
    neutral = Param(
        "hold", choices=("hold", "flat"), help="score mode: what a score between the thresholds means"
    )
    classes = Param("", help="argmax mode: labels of the columns, e.g. 'short,flat,long'")
    min_prob = Param(
        0.0, bounds=(0.0, 1.0), help="argmax mode: act only where the top column is at least this"
    )
    atr_period = Param(14, bounds=(1, 10_000), help="ATR period for stops and targets, bars (Wilder)")
    atr_stop = Param(2.0, bounds=(0.0, 1_000.0), help="stop distance in ATRs (0: no stop)")
    atr_target = Param(3.0, bounds=(0.0, 1_000.0), help="target distance in ATRs (0: no target)")
    threads = Param(1, bounds=(0, 1024), help="onnxruntime intra-op threads (0: its default)")

    def validate(self) -> None:
        if self.classes:
            bad = [x.strip() for x in self.classes.split(",") if x.strip().lower() not in _LABELS]
            if bad:
                raise self.error(
                    f"parameter 'classes': unknown label {bad[0]!r} (labels: long, short, flat, hold)"
                )
        if self.short_threshold > self.long_threshold:
            raise self.error(
                f"short_threshold ({self.short_threshold}) must not exceed long_threshold ({self.long_threshold})"
            )

    # ------------------------------------------------------------ loading
    def setup(self) -> None:
        model = Path(self.model).expanduser()
        if not model.is_file():
            raise ConfigError(str(model), "model file not found")
        feats = Path(self.features).expanduser() if self.features else pipeline_path(model)
        if not feats.is_file():
            raise ConfigError(
                str(feats),
                f"feature pipeline not found; save it next to the model ({pipeline_path(model).name})",
            )
        self.pipeline = FeaturePipeline.load(feats)
        self._files = [model, feats]
        self._session: Any = None
        self._open_session()

    def input_files(self) -> list[Path]:
        return list(self._files)

    def _open_session(self) -> None:
        sess = open_ort_session(self.model, self.threads)
        inputs = sess.get_inputs()
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs)
            raise ConfigError(
                self.model, f"the model has {len(inputs)} inputs ({names}); expected one feature tensor"
            )
        inp = inputs[0]
        if inp.type not in _ORT_DTYPES:
            raise ConfigError(self.model, f"input {inp.name!r} is {inp.type}; expected a float tensor")
        rank = 2 if self.pipeline.window == 1 else 3
        shape = list(inp.shape)
        if len(shape) != rank:
            want = "(batch, features)" if rank == 2 else f"(batch, {self.pipeline.window}, features)"
            raise ConfigError(
                self.model, f"input {inp.name!r} has shape {shape}; the feature pipeline makes {want}"
            )
        nf = self.pipeline.n_features
        if isinstance(shape[-1], int) and shape[-1] != nf:
            raise ConfigError(
                self.model,
                f"input {inp.name!r} takes {shape[-1]} features; the pipeline ({self.pipeline.source}) makes {nf}",
            )
        if rank == 3 and isinstance(shape[1], int) and shape[1] != self.pipeline.window:
            raise ConfigError(
                self.model,
                f"input {inp.name!r} takes a window of {shape[1]}; the pipeline's is {self.pipeline.window}",
            )
        outs = [o.name for o in sess.get_outputs()]
        out_name = self.output or outs[0]
        if out_name not in outs:
            raise ConfigError(self.model, f"no output named {out_name!r} (outputs: {', '.join(outs)})")
        self._session = sess
        self._input_name = inp.name
        self._input_dtype = _ORT_DTYPES[inp.type]
        self._batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
        self._output_name = out_name

    @property
    def warmup(self) -> int:
        w = self.pipeline.lookback
        if self.atr_stop > 0 or self.atr_target > 0:
            w = max(w, self.atr_period)
        return w

    # ------------------------------------------------------------ inference
    def _run(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=self._input_dtype)
        if self._batch is None:
            res = self._session.run([self._output_name], {self._input_name: x})[0]
        else:  # a model exported with a fixed batch size
            b = self._batch
            parts = []
            for i in range(0, x.shape[0], b):
                chunk = x[i : i + b]
                m = chunk.shape[0]
                if m < b:
                    chunk = np.concatenate([chunk, np.zeros((b - m, *chunk.shape[1:]), chunk.dtype)])
                parts.append(
                    np.asarray(self._session.run([self._output_name], {self._input_name: chunk})[0])[:m]
                )
            res = np.concatenate(parts) if parts else np.zeros((0, 1))
        if not isinstance(res, np.ndarray):
            raise ConfigError(
                self.model,
                f"output {self._output_name!r} is not a tensor (a map or sequence?); export with plain tensor outputs "
                "(skl2onnx: options={'zipmap': False}) or pick another with --param output=NAME",
            )
        out = np.asarray(res, dtype=np.float64)
        return out.reshape(x.shape[0], -1)

    def predict(self, bars: Bars) -> np.ndarray:
        """The chosen model output for every bar, float64 (n, k); NaN rows where the features are not defined."""
        x, valid = self.pipeline.build_input(bars)
        if x.shape[0] == 0:
            return np.zeros((0, 1))
        out = self._run(x)
        out[~valid] = np.nan
        return out

    def decide(self, out: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Model outputs (n, k) -> boolean ``(long, short, flat)`` masks (NaN rows: none)."""
        n, k = out.shape
        valid = np.isfinite(out).all(axis=1)
        mode = self.mode if self.mode != "auto" else ("score" if k == 1 else "argmax")
        if mode == "score":
            if k != 1:
                raise ConfigError(
                    self.model, f"mode=score needs a one-column output; {self._output_name!r} has {k}"
                )
            s = out[:, 0]
            long = valid & (s > self.long_threshold)
            short = valid & (s < self.short_threshold)
            flat = valid & ~long & ~short if self.neutral == "flat" else np.zeros(n, bool)
            return long, short, flat
        labels = self._class_labels(k)
        top = np.argmax(np.where(valid[:, None], out, 0.0), axis=1)
        conf = valid & (out[np.arange(n), top] >= self.min_prob) if n else valid
        codes = np.array([_LABELS[x] for x in labels], np.int8)[top] if n else np.zeros(0, np.int8)
        return conf & (codes == DIR_LONG), conf & (codes == DIR_SHORT), conf & (codes == DIR_FLAT)

    def _class_labels(self, k: int) -> list[str]:
        if self.classes:
            labels = [c.strip().lower() for c in self.classes.split(",")]
        elif k == 2:
            labels = ["short", "long"]
        elif k == 3:
            labels = ["short", "flat", "long"]
        else:
            raise ConfigError(
                self.model, f"output has {k} columns: say what each means with --param classes=a,b,..."
            )
        bad = [x for x in labels if x not in _LABELS]
        if bad:
            raise ConfigError(
                self.name, f"parameter 'classes': unknown label {bad[0]!r} (labels: long, short, flat, hold)"
            )
        if len(labels) != k:
            raise ConfigError(
                self.name, f"parameter 'classes' names {len(labels)} labels; the output has {k} columns"
            )
        return labels

    def signals(self, bars: Bars) -> Intents:
        n = len(bars)
        long, short, flat = self.decide(self.predict(bars))
        sl = tp = None
        if self.atr_stop > 0 or self.atr_target > 0:
            _, h, low, c = ind.mid_ohlc(bars)
            a = ind.atr(h, low, c, self.atr_period)
            sl = self.atr_stop * a if self.atr_stop > 0 else None
            tp = self.atr_target * a if self.atr_target > 0 else None
        return Intents.from_signals(n, long=long, short=short, flat=flat, sl=sl, tp=tp, warmup=self.warmup)
