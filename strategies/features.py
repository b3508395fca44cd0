"""Declarative feature pipelines: the model inputs, built the same way in the backtest and live.

A pipeline is saved *next to the model* (``model.onnx`` + ``model.features.json``)
so that whoever runs the model builds exactly the inputs it was trained on::

    {
      "format": "simlab.features/1",
      "features": [
        {"feature": "log_return", "lags": 10},
        {"feature": "atr", "period": 14}
      ],
      "window": 1
    }

(a bare JSON list of feature specs is accepted too). Each spec adds one or
more float columns, all from mid prices and all causal (row t uses bars up to
t). With ``"window": W > 1`` the model input for row t is the (W, F) block of
feature rows t-W+1..t, for sequence models taking (batch, W, F).

Features (column count in brackets; ``lookback``: rows with NaN at the start):

* ``log_return`` ``lags=1`` [lags]: ``log(c[t-i] / c[t-i-1])`` for i = 0..lags-1.
* ``atr`` ``period=14, relative=true`` [1]: Wilder ATR, divided by the close when relative.
* ``rsi`` ``period=14`` [1]: Wilder RSI / 100.
* ``sma_ratio`` / ``ema_ratio`` ``period`` [1]: ``c / MA - 1``.
* ``zscore`` ``period=20`` [1]: ``(c - SMA) / population std`` over the period (0 where the std is 0).
* ``range`` ``lags=1`` [lags]: ``(h - l) / c`` of rows t-i.
* ``spread`` [1]: ``(ask close - bid close) / mid close``.
* ``hour`` [2]: sin and cos of the UTC time of day of the bar's open.
* ``session`` [5]: one-hot :func:`simlab.calendar.sessions` code.

>>> from strategies.synthetic import random_walk_bars
>>> p = FeaturePipeline.from_json([{"feature": "log_return", "lags": 3}, {"feature": "atr", "period": 5}])
>>> x = p.build(random_walk_bars(100))
>>> x.shape, p.n_features, p.lookback, bool(np.isnan(x[: p.lookback]).any()), bool(np.isfinite(x[p.lookback :]).all())
((100, 4), 4, 5, True, True)
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simlab.calendar import NS_DAY
from simlab.errors import ConfigError
from strategies import indicators as ind

if TYPE_CHECKING:
    from simlab.bars import Bars

FORMAT = "simlab.features/1"


@dataclass
class _Ctx:
    """Price arrays shared by the features of one build (computed once)."""

    bars: Bars
    o: np.ndarray
    h: np.ndarray
    l: np.ndarray  # noqa: E741
    c: np.ndarray


def _log_return(x: _Ctx, lags: int) -> np.ndarray:
    r = np.full(x.c.shape[0], np.nan)
    r[1:] = np.log(x.c[1:] / x.c[:-1])
    return np.column_stack([ind.shift(r, i) for i in range(lags)])


def _atr(x: _Ctx, period: int, relative: bool) -> np.ndarray:
    a = ind.atr(x.h, x.l, x.c, period)
    return a / x.c if relative else a


def _rsi(x: _Ctx, period: int) -> np.ndarray:
    return ind.rsi(x.c, period) / 100.0


def _sma_ratio(x: _Ctx, period: int) -> np.ndarray:
    return x.c / ind.sma(x.c, period) - 1.0


def _ema_ratio(x: _Ctx, period: int) -> np.ndarray:
    return x.c / ind.ema(x.c, period) - 1.0


def _zscore(x: _Ctx, period: int) -> np.ndarray:
    import talib

    m = ind.sma(x.c, period)
    sd = np.asarray(talib.STDDEV(x.c, timeperiod=period, nbdev=1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x.c - m) / sd
    z[sd == 0.0] = 0.0
    return z


def _range(x: _Ctx, lags: int) -> np.ndarray:
    r = (x.h - x.l) / x.c
    return np.column_stack([ind.shift(r, i) for i in range(lags)])


def _spread(x: _Ctx) -> np.ndarray:
    b = x.bars
    return (b.ask[:, 3] - b.bid[:, 3]) / x.c


def _hour(x: _Ctx) -> np.ndarray:
    phase = (np.asarray(x.bars.time, np.int64) % NS_DAY) / NS_DAY * (2.0 * math.pi)
    return np.column_stack([np.sin(phase), np.cos(phase)])


def _session(x: _Ctx) -> np.ndarray:
    from simlab.calendar import sessions
    from simlab.layout import N_SESSIONS

    s = sessions(x.bars.time)
    return (s[:, None] == np.arange(N_SESSIONS)[None, :]).astype(np.float64)


@dataclass(frozen=True)
class _Def:
    fn: Callable[..., np.ndarray]
    args: Mapping[str, tuple[type, Any, float]]  # name -> (type, default, minimum)
    width: Callable[[Mapping[str, Any]], int]
    lookback: Callable[[Mapping[str, Any]], int]


FEATURES: dict[str, _Def] = {
    "log_return": _Def(_log_return, {"lags": (int, 1, 1)}, lambda a: a["lags"], lambda a: a["lags"]),
    "atr": _Def(
        _atr, {"period": (int, 14, 1), "relative": (bool, True, 0)}, lambda a: 1, lambda a: a["period"]
    ),
    "rsi": _Def(_rsi, {"period": (int, 14, 2)}, lambda a: 1, lambda a: a["period"]),
    "sma_ratio": _Def(_sma_ratio, {"period": (int, 20, 1)}, lambda a: 1, lambda a: a["period"] - 1),
    "ema_ratio": _Def(_ema_ratio, {"period": (int, 20, 1)}, lambda a: 1, lambda a: a["period"] - 1),
    "zscore": _Def(_zscore, {"period": (int, 20, 2)}, lambda a: 1, lambda a: a["period"] - 1),
    "range": _Def(_range, {"lags": (int, 1, 1)}, lambda a: a["lags"], lambda a: a["lags"] - 1),
    "spread": _Def(_spread, {}, lambda a: 1, lambda a: 0),
    "hour": _Def(_hour, {}, lambda a: 2, lambda a: 0),
    "session": _Def(_session, {}, lambda a: 5, lambda a: 0),
}


def _check_spec(spec: object, i: int, where: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("feature"), str):
        raise ConfigError(
            where, f'features[{i}]: expected an object like {{"feature": "log_return", "lags": 10}}'
        )
    name = spec["feature"]
    if name not in FEATURES:
        raise ConfigError(where, f"features[{i}]: unknown feature {name!r} (known: {', '.join(FEATURES)})")
    d = FEATURES[name]
    args: dict[str, Any] = {}
    for key, val in spec.items():
        if key == "feature":
            continue
        if key not in d.args:
            valid = ", ".join(d.args) or "none"
            raise ConfigError(where, f"features[{i}] ({name}): unknown option {key!r} (valid: {valid})")
        typ, _, lo = d.args[key]
        ok = isinstance(val, typ) and not (typ is int and isinstance(val, bool))
        if not ok or (typ is int and val < lo):
            want = "true or false" if typ is bool else f"an integer >= {int(lo)}"
            raise ConfigError(where, f"features[{i}] ({name}): option {key!r} = {val!r}, expected {want}")
        args[key] = val
    for key, (_, default, _) in d.args.items():
        args.setdefault(key, default)
    return name, args


@dataclass(frozen=True)
class FeaturePipeline:
    """A validated list of feature specs (+ window), buildable on any Bars."""

    specs: tuple[tuple[str, Mapping[str, Any]], ...]
    window: int = 1
    source: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: object, where: str = "features") -> FeaturePipeline:
        """From the parsed JSON (a dict with ``features``, or a bare list). ConfigError if malformed."""
        extra: dict[str, Any] = {}
        window = 1
        if isinstance(data, Mapping):
            fmt = data.get("format", FORMAT)
            if fmt != FORMAT:
                raise ConfigError(where, f"format {fmt!r} is not supported; expected {FORMAT!r}")
            window = data.get("window", 1)
            if not isinstance(window, int) or isinstance(window, bool) or window < 1:
                raise ConfigError(where, f"window = {window!r}, expected an integer >= 1")
            extra = {k: v for k, v in data.items() if k not in ("format", "features", "window")}
            data = data.get("features")
        if not isinstance(data, list) or not data:
            raise ConfigError(
                where, 'expected a non-empty list of features, e.g. [{"feature": "log_return", "lags": 10}]'
            )
        specs = tuple(_check_spec(s, i, where) for i, s in enumerate(data))
        return cls(specs=specs, window=window, source=where, extra=extra)

    @classmethod
    def load(cls, path: str | Path) -> FeaturePipeline:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(str(p), f"cannot read the feature pipeline: {exc.strerror or exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                str(p), f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
        return cls.from_json(data, where=str(p))

    def to_json(self) -> dict[str, Any]:
        feats = [{"feature": name, **dict(args)} for name, args in self.specs]
        return {"format": FORMAT, "features": feats, "window": self.window, **dict(self.extra)}

    def save(self, path: str | Path) -> Path:
        from simlab.atomic import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_json(), indent=2) + "\n")
        return Path(path)

    @property
    def n_features(self) -> int:
        return sum(FEATURES[name].width(args) for name, args in self.specs)

    @property
    def lookback(self) -> int:
        """Leading rows whose features are not all defined (the first full input row, window included)."""
        return max(FEATURES[name].lookback(args) for name, args in self.specs) + self.window - 1

    def columns(self) -> list[str]:
        out: list[str] = []
        for name, args in self.specs:
            w = FEATURES[name].width(args)
            tag = ",".join(f"{k}={v}" for k, v in args.items())
            base = f"{name}({tag})" if tag else name
            out += [base] if w == 1 else [f"{base}[{j}]" for j in range(w)]
        return out

    def build(self, bars: Bars) -> np.ndarray:
        """Feature matrix float64 (n, F); NaN where a feature lacks history."""
        if len(bars) == 0:
            return np.zeros((0, self.n_features))
        ctx = _Ctx(bars, *ind.mid_ohlc(bars))
        cols = []
        for name, args in self.specs:
            v = FEATURES[name].fn(ctx, **args)
            cols.append(v.reshape(len(bars), -1))
        return np.ascontiguousarray(np.concatenate(cols, axis=1), dtype=np.float64)

    def build_input(self, bars: Bars) -> tuple[np.ndarray, np.ndarray]:
        """Model input and validity: ``(x, valid)``.

        ``x`` is (n, F) for ``window == 1``, else (n, window, F) (row t holds
        feature rows t-window+1..t); rows without full history are zero-filled
        and ``valid`` (bool (n,)) is False there.
        """
        f = self.build(bars)
        valid = np.isfinite(f).all(axis=1)
        if self.window > 1:
            n, k = f.shape
            w = self.window
            if n == 0:
                return np.zeros((0, w, k)), np.zeros(0, bool)
            pad = np.concatenate([np.full((w - 1, k), np.nan), f], axis=0)
            x = np.lib.stride_tricks.sliding_window_view(pad, (w, k))[:, 0]  # (n, w, k)
            valid = np.isfinite(x).all(axis=(1, 2))
            x = np.ascontiguousarray(x)
        else:
            x = f
        x = np.where(np.isfinite(x), x, 0.0)
        return x, valid


def pipeline_path(model_path: str | Path) -> Path:
    """``dir/model.onnx`` -> ``dir/model.features.json``."""
    p = Path(model_path)
    return p.with_name(p.stem + ".features.json")


def save_pipeline(model_path: str | Path, features: list[dict[str, Any]], *, window: int = 1) -> Path:
    """Write the feature pipeline next to ``model_path`` (validated first); returns its path."""
    p = pipeline_path(model_path)
    pipe = FeaturePipeline.from_json({"format": FORMAT, "features": features, "window": window}, where=str(p))
    return pipe.save(p)
