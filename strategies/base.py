"""The strategy protocol: parameters, warm-up, and causal per-bar intents.

A strategy is a small object with typed parameters, a warm-up length and a
vectorised, causal ``signals(bars) -> Intents``. Row ``t`` of the intents may use
data up to bar ``t``'s close and nothing later; the kernel acts on it at bar
``t+1``'s open. The backtest calls ``signals`` once over the whole history, the
live runner calls it on the latest window and acts on the last row, and
:func:`strategies.lookahead.check_lookahead` verifies that prefixes of the data
give the same rows as the whole data.

Shipped strategies compute on **mid** prices, ``(bid + ask) / 2``, so that a
wider spread alone never flips a decision; the kernel adds the spread when it
fills (buys at ask, sells at bid).

A new strategy in about fifteen lines (this is the README example)::

    from strategies import Intents, Param, Strategy, indicators as ind

    class SmaTrend(Strategy):
        '''Long above the SMA, short below it, ATR stop.'''

        name = "sma_trend"
        period = Param(100, bounds=(2, 10_000), help="SMA period, bars")
        atr_stop = Param(2.0, bounds=(0.1, 50.0), help="stop distance, ATRs")

        @property
        def warmup(self) -> int:
            return self.period + 1

        def signals(self, bars):
            o, h, l, c = ind.mid_ohlc(bars)
            ma = ind.sma(c, self.period)
            return Intents.from_signals(
                len(bars),
                long=ind.crossed_above(c, ma),
                short=ind.crossed_below(c, ma),
                sl=self.atr_stop * ind.atr(h, l, c, 14),
                warmup=self.warmup,
            )

Run it with ``simlab backtest --strategy path/to/sma_trend.py --param period=50``
or ``SmaTrend(period=50).signals(bars)``; check it with
``simlab check-strategy path/to/sma_trend.py --data bars.csv``.

A strategy whose decisions need its own position or the account (an RL
policy) subclasses :class:`StepStrategy` and implements ``reset`` and ``step``
instead; the kernel's step function drives it one bar at a time.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

import numpy as np

from simlab.errors import ConfigError
from simlab.layout import DIR_FLAT, DIR_HOLD, DIR_LONG, DIR_SHORT

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Self

    from simlab.bars import Bars

__all__ = [
    "DIR_FLAT",
    "DIR_HOLD",
    "DIR_LONG",
    "DIR_SHORT",
    "Intents",
    "Param",
    "StepStrategy",
    "Strategy",
]

T = TypeVar("T")

_VALID_DIRS = np.array([DIR_SHORT, DIR_HOLD, DIR_LONG, DIR_FLAT], dtype=np.int8)
FIELDS = ("dir", "sl", "tp", "size")


# ===================================================================== intents
@dataclass(frozen=True, eq=False)
class Intents:
    """Per-bar decisions, exactly the four arrays the kernel consumes.

    ``dir``  int8 (n,): ``DIR_HOLD`` 0 (no change), ``DIR_LONG`` 1 (be long: open
    or reverse), ``DIR_SHORT`` -1 (be short), ``DIR_FLAT`` 2 (close what is open).
    ``sl`` / ``tp`` float64 (n,): stop / target *distance in price* from the fill
    (NaN: none). ``size`` float64 (n,): size multiplier (NaN or 1.0: plain).
    Arrays are converted to those dtypes on construction.

    >>> it = Intents.from_signals(4, long=np.array([0, 1, 0, 0], bool), sl=0.002)
    >>> it.dir.tolist(), it.sl.tolist()[:2]
    ([0, 1, 0, 0], [nan, 0.002])
    >>> it.validate(4) is it
    True
    """

    dir: np.ndarray
    sl: np.ndarray
    tp: np.ndarray
    size: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "dir", np.ascontiguousarray(self.dir, dtype=np.int8))
        for f in ("sl", "tp", "size"):
            object.__setattr__(self, f, np.ascontiguousarray(getattr(self, f), dtype=np.float64))

    def __len__(self) -> int:
        return int(self.dir.shape[0])

    # ------------------------------------------------------------ builders
    @classmethod
    def hold(cls, n: int) -> Intents:
        """``n`` rows of HOLD with no stop, no target and a plain size."""
        nan = np.full(n, np.nan)
        return cls(np.zeros(n, np.int8), nan, nan.copy(), np.ones(n))

    @classmethod
    def from_signals(
        cls,
        n: int,
        *,
        long: np.ndarray | None = None,
        short: np.ndarray | None = None,
        flat: np.ndarray | None = None,
        sl: np.ndarray | float | None = None,
        tp: np.ndarray | float | None = None,
        size: np.ndarray | float | None = None,
        warmup: int = 0,
    ) -> Intents:
        """Build intents from boolean masks.

        ``long`` / ``short`` rows become LONG / SHORT (a row that is both is a
        conflict and stays HOLD); ``flat`` rows that are neither become FLAT.
        ``sl``, ``tp`` and ``size`` (scalars or (n,) arrays) are kept on LONG /
        SHORT rows only; a stop or target that is not a finite positive
        distance (an ATR of 0 on flat data, a NaN in the warm-up) becomes NaN,
        i.e. none. Rows before ``warmup`` are HOLD.
        """
        d = np.zeros(n, np.int8)

        def mask(name: str, m: np.ndarray | None) -> np.ndarray:
            if m is None:
                return np.zeros(n, bool)
            a = np.asarray(m, bool)
            if a.shape != (n,):
                raise ConfigError("intents", f"{name} has shape {a.shape}, expected ({n},): one row per bar")
            return a

        lg = mask("long", long)
        sh = mask("short", short)
        if flat is not None:
            d[mask("flat", flat)] = DIR_FLAT
        d[lg] = DIR_LONG
        d[sh] = DIR_SHORT
        d[lg & sh] = DIR_HOLD
        if warmup > 0:
            d[: min(warmup, n)] = DIR_HOLD
        entry = (d == DIR_LONG) | (d == DIR_SHORT)

        def dist(x: np.ndarray | float | None) -> np.ndarray:
            out = np.full(n, np.nan)
            if x is None:
                return out
            v = np.broadcast_to(np.asarray(x, np.float64), (n,))
            ok = entry & np.isfinite(v) & (v > 0.0)
            out[ok] = v[ok]
            return out

        sz = np.ones(n)
        if size is not None:
            v = np.broadcast_to(np.asarray(size, np.float64), (n,))
            sz[entry] = v[entry]
        return cls(d, dist(sl), dist(tp), sz)

    # ------------------------------------------------------------ checks
    def validate(self, n: int | None = None, *, where: str = "intents") -> Intents:
        """Check shapes, direction codes and distances; raise a one-line ConfigError.

        Returns ``self`` so that it chains: ``strategy.signals(bars).validate(len(bars))``.
        """
        m = len(self) if n is None else n
        for f in FIELDS:
            a = getattr(self, f)
            if a.ndim != 1 or a.shape[0] != m:
                raise ConfigError(where, f"{f} has shape {a.shape}, expected ({m},): one row per bar")
        bad = ~np.isin(self.dir, _VALID_DIRS)
        if bad.any():
            i = int(np.argmax(bad))
            raise ConfigError(
                where, f"dir[{i}] = {int(self.dir[i])}: expected 0 hold, 1 long, -1 short or 2 flat"
            )
        for f, what in (("sl", "stop distance"), ("tp", "target distance"), ("size", "size multiplier")):
            a = getattr(self, f)
            bad = ~(np.isnan(a) | (np.isfinite(a) & (a > 0.0)))
            if bad.any():
                i = int(np.argmax(bad))
                raise ConfigError(
                    where, f"{f}[{i}] = {float(a[i])!r}: a {what} must be a positive price distance or NaN"
                )
        return self

    def slice(self, start: int, stop: int) -> Intents:
        return Intents(self.dir[start:stop], self.sl[start:stop], self.tp[start:stop], self.size[start:stop])

    def first_difference(self, other: Intents, *, rtol: float = 0.0) -> tuple[int, str] | None:
        """First row (over the common length) where any field differs, NaN equal to NaN.

        Returns ``(row, field)`` or None. Floats compare exactly unless ``rtol`` > 0.
        """
        m = min(len(self), len(other))
        best: tuple[int, str] | None = None
        for f in FIELDS:
            a = getattr(self, f)[:m]
            b = getattr(other, f)[:m]
            if f == "dir":
                diff = a != b
            else:
                both_nan = np.isnan(a) & np.isnan(b)
                if rtol > 0.0:
                    same = np.isclose(a, b, rtol=rtol, atol=0.0) | both_nan
                else:
                    same = (a == b) | both_nan
                diff = ~same
            if diff.any():
                i = int(np.argmax(diff))
                if best is None or i < best[0]:
                    best = (i, f)
        return best

    def as_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(sig_dir, sig_sl, sig_tp, sig_size)`` in the kernel's dtypes."""
        return self.dir, self.sl, self.tp, self.size

    def to_frame(self, time: np.ndarray | None = None):  # -> pandas.DataFrame (imported lazily)
        import pandas as pd

        idx = None
        if time is not None:
            idx = pd.DatetimeIndex(np.asarray(time).astype("datetime64[ns]"), tz="UTC", name="time")
        return pd.DataFrame({f: getattr(self, f) for f in FIELDS}, index=idx)


# ===================================================================== parameters
_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f"}
_TYPE_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _fmt(v: object) -> str:
    return repr(v) if isinstance(v, str) else str(v)


class Param(Generic[T]):
    """A typed strategy parameter with a default, optional bounds and choices.

    Declare parameters as class attributes of a :class:`Strategy`; the class
    collects them into ``params`` (name -> Param) and every instance reads them
    as plain attributes::

        fast = Param(20, bounds=(1, 10_000), help="fast MA period, bars")
        ma = Param("sma", choices=("sma", "ema"), help="moving average kind")
        model = Param("", type=str, required=True, help="path to model.onnx")

    The type is that of the default unless ``type`` says otherwise
    (``int``, ``float``, ``bool`` or ``str``). Bounds are inclusive; either end
    may be None. Values given as strings (``--param fast=10``) are parsed to the
    type; an integer is accepted for a float, an integral float for an int.
    """

    def __init__(
        self,
        default: T,
        *,
        type: builtins.type | None = None,  # noqa: A002 - the natural name here
        bounds: tuple[float | None, float | None] | None = None,
        choices: Sequence[Any] | None = None,
        help: str = "",  # noqa: A002
        required: bool = False,
    ) -> None:
        self.type: builtins.type = type if type is not None else _infer_type(default)
        if self.type not in _TYPE_WORDS:
            raise TypeError(f"Param type must be int, float, bool or str, not {self.type.__name__}")
        self.default = default
        self.bounds = bounds
        self.choices = tuple(choices) if choices is not None else None
        self.help = help
        self.required = required
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Param[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> T | Param[T]:
        if obj is None:
            return self
        return obj._values[self.name]  # type: ignore[attr-defined,no-any-return]

    def __set__(self, obj: object, value: object) -> None:
        raise AttributeError(f"parameter {self.name!r} is read-only; use .with_params({self.name}=...)")

    def __repr__(self) -> str:
        extra = f", bounds={self.bounds}" if self.bounds else ""
        extra += f", choices={self.choices}" if self.choices else ""
        return f"Param({self.name}: {self.type.__name__} = {self.default!r}{extra})"

    def describe(self) -> str:
        """One line for ``--help``-style listings."""
        s = f"{self.name} ({self.type.__name__}, default {_fmt(self.default)}"
        if self.bounds:
            lo, hi = self.bounds
            s += f", {'-inf' if lo is None else _fmt(lo)}..{'inf' if hi is None else _fmt(hi)}"
        if self.choices:
            s += ", one of " + "/".join(map(str, self.choices))
        return s + (f"): {self.help}" if self.help else ")")

    def coerce(self, value: object, where: str = "strategy") -> T:
        """``value`` (typed, or a string to parse) as the declared type; ConfigError if impossible."""
        t = self.type
        label = f"parameter '{self.name}'"
        got = _fmt(value)
        out: Any
        if t is bool:
            if isinstance(value, bool):
                out = value
            elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                out = value.strip().lower() in _TRUE
            else:
                raise ConfigError(where, f"{label}: expected true or false, got {got}")
        elif t is int:
            if isinstance(value, bool):
                raise ConfigError(where, f"{label}: expected an integer, got {got}")
            if isinstance(value, (int, np.integer)) or (
                isinstance(value, (float, np.floating)) and float(value).is_integer()
            ):
                out = int(value)
            elif isinstance(value, str):
                try:
                    out = int(value.strip(), 10)
                except ValueError:
                    raise ConfigError(where, f"{label}: expected an integer, got {got}") from None
            else:
                raise ConfigError(where, f"{label}: expected an integer, got {got}")
        elif t is float:
            if isinstance(value, bool):
                raise ConfigError(where, f"{label}: expected a number, got {got}")
            if isinstance(value, (int, float, np.integer, np.floating)):
                out = float(value)
            elif isinstance(value, str):
                try:
                    out = float(value.strip())
                except ValueError:
                    raise ConfigError(where, f"{label}: expected a number, got {got}") from None
            else:
                raise ConfigError(where, f"{label}: expected a number, got {got}")
            if not math.isfinite(out):
                raise ConfigError(where, f"{label}: expected a finite number, got {got}")
        else:  # str
            if not isinstance(value, str):
                raise ConfigError(where, f"{label}: expected a string, got {got}")
            out = value
        if self.choices is not None and out not in self.choices:
            raise ConfigError(
                where, f"{label} = {_fmt(out)}: expected one of {', '.join(map(str, self.choices))}"
            )
        if self.bounds is not None:
            lo, hi = self.bounds
            if (lo is not None and out < lo) or (hi is not None and out > hi):
                lo_s = "-inf" if lo is None else _fmt(lo)
                hi_s = "inf" if hi is None else _fmt(hi)
                raise ConfigError(where, f"{label} = {_fmt(out)} is out of bounds [{lo_s}, {hi_s}]")
        return out  # type: ignore[no-any-return]


def _infer_type(value: object) -> type:
    for t in (bool, int, float, str):
        if isinstance(value, t):
            return t
    raise TypeError(f"cannot infer a parameter type from default {value!r}; pass type=")


# ===================================================================== strategies
class Strategy:
    """Base class of every strategy: typed parameters, a warm-up, causal ``signals``.

    Subclasses declare parameters as :class:`Param` class attributes, override
    ``warmup`` (bars of history before the first real decision) and
    ``signals``, and may override ``validate`` (cross-parameter checks: raise
    ``ConfigError``) and ``setup`` (load resources, e.g. a model file).
    ``name`` is the registry name (defaults to the class name); ``price``
    documents which prices the signals are computed on.

    Construction validates every parameter and raises a one-line
    :class:`simlab.errors.ConfigError` for an unknown name, a wrong type or an
    out-of-bounds value.
    """

    name: ClassVar[str] = ""
    price: ClassVar[str] = "mid"
    params: ClassVar[Mapping[str, Param[Any]]] = MappingProxyType({})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, Param[Any]] = {}
        for klass in reversed(cls.__mro__):
            for key, val in vars(klass).items():
                if isinstance(val, Param):
                    found[key] = val
        cls.params = MappingProxyType(found)
        if not cls.__dict__.get("name"):
            cls.name = cls.__name__

    def __init__(self, **params: Any) -> None:
        where = self.name or type(self).__name__
        unknown = [k for k in params if k not in self.params]
        if unknown:
            valid = ", ".join(self.params) or "none"
            raise ConfigError(where, f"unknown parameter '{unknown[0]}' (valid: {valid})")
        values: dict[str, Any] = {}
        for key, spec in self.params.items():
            if key in params:
                values[key] = spec.coerce(params[key], where)
            elif spec.required:
                raise ConfigError(where, f"parameter '{key}' is required ({spec.help or spec.type.__name__})")
            else:
                values[key] = spec.default
        self._values = values
        self.validate()
        self.setup()

    # ------------------------------------------------------------ hooks
    def validate(self) -> None:
        """Cross-parameter checks; raise ``ConfigError(self.name, ...)``."""

    def setup(self) -> None:
        """Load resources after validation (files, models); raise ``ConfigError`` on failure."""

    @property
    def warmup(self) -> int:
        """Bars of history needed before the first real decision (rows before it are HOLD)."""
        return 0

    def input_files(self) -> list[Path]:
        """Files the decisions depend on besides the strategy's source (a model, its description).

        Their bytes key the look-ahead gate's cached verdict (another model at the same path is checked
        again) and their sha256 go into a result's provenance (``strategy.files``).
        """
        return []

    def signals(self, bars: Bars) -> Intents:
        """Per-bar intents over ``bars``; row t uses data up to bar t's close only."""
        raise NotImplementedError(f"{type(self).__name__}.signals")

    # ------------------------------------------------------------ helpers
    def param_values(self) -> dict[str, Any]:
        return dict(self._values)

    def with_params(self, **changes: Any) -> Self:
        """A new instance with some parameters changed (and validated)."""
        return type(self)(**{**self._values, **changes})

    def intents(self, bars: Bars) -> Intents:
        """``signals(bars)`` checked against the bar count (one-line ConfigError if malformed)."""
        return self.signals(bars).validate(len(bars), where=f"strategy {self.name}")

    def error(self, what: str) -> ConfigError:
        """A ConfigError naming this strategy: ``raise self.error("fast must be < slow")``."""
        return ConfigError(self.name, what)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._values == other._values  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), tuple(self._values.items())))

    @classmethod
    def describe(cls) -> str:
        """Name, first docstring line and one line per parameter."""
        doc = (cls.__doc__ or "").strip().splitlines()
        lines = [f"{cls.name}: {doc[0] if doc else ''}".rstrip()]
        lines += ["  " + p.describe() for p in cls.params.values()]
        return "\n".join(lines)


class StepStrategy(Strategy):
    """A strategy that decides one bar at a time and may read its position and account.

    Implement ``reset()`` (clear internal state before a run) and
    ``step(bar_index, bars_window, position_dir, account_state)`` returning
    ``(dir, sl, tp, size)`` for bar ``bar_index``: ``bars_window`` holds the
    last ``window`` bars up to and including ``bar_index`` (fewer at the
    start), ``position_dir`` is the position held at ``bar_index``'s close (1
    long, -1 short, 0 flat) and ``account_state`` the kernel's ``ACC_*`` vector
    as that bar left it, marked at its close (None when no account is
    simulated); the decision fills at the next open.

    ``signals`` replays the strategy *open loop* (the position follows its own
    intents, no stops, no account), which is what ``simlab backtest``, the
    look-ahead checker, the vectorbt bridge and the live runner use today. A
    strategy that also defines ``run_challenge`` (``OnnxPolicyStrategy``)
    plays ``simlab challenge``'s attempts in the closed loop; ``simlab live``
    refuses such a strategy for now.
    """

    @property
    def window(self) -> int:
        """Bars of history passed to ``step`` (including the current bar)."""
        return max(1, self.warmup + 1)

    def reset(self) -> None:
        """Clear internal state before a new run."""

    def step(
        self,
        bar_index: int,
        bars_window: Bars,
        position_dir: int,
        account_state: np.ndarray | None,
    ) -> tuple[int, float, float, float]:
        raise NotImplementedError(f"{type(self).__name__}.step")

    def signals(self, bars: Bars) -> Intents:
        n = len(bars)
        out = Intents.hold(n)
        self.reset()
        pos = 0
        w = self.window
        for t in range(n):
            d, sl, tp, size = self.step(t, bars.slice(max(0, t - w + 1), t + 1), pos, None)
            out.dir[t] = d
            out.sl[t] = sl
            out.tp[t] = tp
            out.size[t] = size
            if d in (DIR_LONG, DIR_SHORT):
                pos = int(d)
            elif d == DIR_FLAT:
                pos = 0
        return out
