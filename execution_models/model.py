"""The execution model: per-session quantile tables of spread, slippage and latency, and its JSON file.

An :class:`ExecutionModel` holds, for one symbol, a table per (cost kind,
session) — spread, entry / exit / stop slippage (points, signed, adverse
positive) and decision-to-fill latency (ms) — over the five sessions of
``simlab.layout`` (asia, london, overlap, newyork, rollover). Every number in it
names where it came from (``source``) and how many samples stand behind it
(``n``).

Tables
------
Every table has ``q``: its values at the model's probability grid ``probs``
(:data:`DEFAULT_PROBS`, dense in both tails: 0, .0005, .001, .0025, .005, .01,
.025, .05, .1, .15, ..., .9, .95, .975, .99, .995, .9975, .999, .9995, 1).
The quantile is the *inverse empirical CDF* (type 1, numpy's ``inverted_cdf``):
``q(p)`` is the smallest sample value x with ``count(samples <= x) >= p * n``
(the minimum at p = 0), always an observed value. The comparison is made in
integer arithmetic (grid probabilities are multiples of 1/10,000), so it has no
floating-point ties.

A table is one of two interpolations:

* ``"step"``: the data take few distinct values (at most
  :data:`MAX_STEP_VALUES`; tick spreads and fill slippage are whole points),
  and the table also stores the exact empirical distribution, ``values``
  (sorted, distinct) and ``counts``. Sampled through :meth:`to_kernel_tables`
  (``exact=True``) the kernel's inverse-CDF sampler then draws *exactly* the
  calibration data's distribution — only observed values, with their observed
  frequencies — so a two-sample KS test against the calibration data is the
  right test and passes (a piecewise-linear inverse CDF through a coarse grid
  would put mass between the discrete values, and KS would correctly reject
  it on 10^5 samples).
* ``"linear"``: many distinct values (latency, continuous slippage): the
  inverse CDF is piecewise linear between the grid knots ``(probs, q)``.
  Default and flat tables are linear with a constant ``q`` (a point mass).

Fallbacks, never silent: a session without spread data gets the symbol's
overall spread table (all sessions pooled; ``source: "overall"``); a slippage
kind or latency without data is 0 (``source: "default"``, ``n: 0``).

Hour of week
------------
Optionally, finer spread tables per hour of the week (New York wall clock,
hour 0 = Monday 00:00-01:00 New York) are stored as linear tables for the cells
with at least :data:`MIN_HOUR_SAMPLES` samples; :meth:`ExecutionModel.table`
falls back to the session table for thinner cells. The kernel samples by
session only; these tables are for reports and future finer kernels.

File
----
``execution_models/<SYMBOL>/<YYYY-MM-DD>.json`` (see :func:`load_model` for how
a run names one). Validated on load; each problem is one
:class:`simlab.errors.ConfigError` line naming the file and the field.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simlab import layout
from simlab.errors import ConfigError

SCHEMA_VERSION = 1
FORMAT_NAME = "simlab.execution_model"

#: cost kinds, in ``simlab.layout`` COST_* order
KINDS: tuple[str, ...] = ("spread", "entry_slippage", "exit_slippage", "stop_slippage", "latency")
KIND_INDEX = {k: i for i, k in enumerate(KINDS)}
SESSIONS: tuple[str, ...] = tuple(layout.SESSION_NAMES)
SESSION_INDEX = {s: i for i, s in enumerate(SESSIONS)}
UNITS: dict[str, str] = {
    "spread": "points",
    "entry_slippage": "points",
    "exit_slippage": "points",
    "stop_slippage": "points",
    "latency": "ms",
}
PRICE_KINDS = frozenset(k for k, u in UNITS.items() if u == "points")

assert len(KINDS) == layout.N_COST_KINDS and layout.COST_SPREAD == 0 and layout.COST_LATENCY == 4
assert len(SESSIONS) == layout.N_SESSIONS

#: grid probabilities are multiples of 1 / PROB_DENOM (exact integer quantiles)
PROB_DENOM = 10_000
#: the probability grid: dense near 0 and 1 so that the tails survive
DEFAULT_PROBS: tuple[float, ...] = (
    (0.0, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05)
    + tuple(round(0.05 * i, 2) for i in range(2, 19))  # 0.10 .. 0.90
    + (0.95, 0.975, 0.99, 0.995, 0.9975, 0.999, 0.9995, 1.0)
)
#: a table with at most this many distinct values is stored exactly ("step")
MAX_STEP_VALUES = 512
#: An hour-of-week cell needs this many samples, else it falls back to its session.
#: Why 3600: the p99 of a cell should rest on at least ~10 observations beyond it
#: (relative error of a tail quantile ~ 1 / sqrt(n (1 - p)), about 30 % at 10),
#: i.e. ~1000 *independent* samples. Time-weighted spread samples are one per
#: second and the quote persists for several seconds (median inter-tick gap in the
#: shipped EURUSD ticks 0.2 s, but 4 s at the 90th percentile), so 1000
#: independent samples take a few thousand seconds: one full hour of quotes. The
#: same number of ticks (per-tick weighting) is a safe margin too.
MIN_HOUR_SAMPLES = 3600
HOW_ZONE = "America/New_York"

SOURCE_WORDS = frozenset({"ticks", "ticks_overshoot", "fills", "mt5_deals", "overall", "default", "flat"})
NO_DATA_SOURCES = frozenset({"default", "flat"})

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SYMBOL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._#-]*$")


# ----------------------------------------------------------------------------- quantiles


def prob_units(probs: Iterable[float], where: str = "probs") -> np.ndarray:
    """Grid probabilities as integers m with p = m / PROB_DENOM; ConfigError unless they are."""
    p = np.asarray(list(probs), dtype=np.float64)
    m = np.rint(p * PROB_DENOM)
    if p.size and not np.all(np.abs(p * PROB_DENOM - m) < 1e-6):
        bad = float(p[np.argmax(np.abs(p * PROB_DENOM - m))])
        raise ConfigError(where, f"probability {bad!r} is not a multiple of {1 / PROB_DENOM}")
    return m.astype(np.int64)


def step_quantiles(values: np.ndarray, counts: np.ndarray, probs: Iterable[float]) -> np.ndarray:
    """Type-1 quantiles of the distribution (values, counts) at the grid ``probs``.

    q(p) = the smallest value whose cumulative count c satisfies c * 10000 >= m * n,
    with p = m / 10000 (integer arithmetic: no floating-point ties); q(0) = min.

    >>> step_quantiles(np.array([1.0, 2.0, 3.0]), np.array([1, 2, 1]), [0, 0.25, 0.2501, 0.75, 1]).tolist()
    [1.0, 1.0, 2.0, 2.0, 3.0]
    """
    m = prob_units(probs)
    cum = np.cumsum(np.asarray(counts, dtype=np.int64))
    n = int(cum[-1])
    idx = np.searchsorted(cum * PROB_DENOM, m * n, side="left")
    return np.asarray(values, dtype=np.float64)[np.minimum(idx, len(cum) - 1)]


# ----------------------------------------------------------------------------- tables


@dataclass(frozen=True, eq=False)
class Table:
    """One (kind, session) distribution; see the module docstring.

    ``q`` holds the values at the model's probability grid, in the kind's unit
    (points or ms). ``values`` / ``counts`` (step tables only) are the exact
    empirical distribution. ``n`` is the number of samples behind the numbers (0
    for ``default`` / ``flat`` tables), ``source`` where they come from
    (``ticks``, ``ticks_overshoot``, ``fills``, ``mt5_deals``, joined by ``+``
    when merged; ``overall``, ``default``, ``flat``).
    """

    q: np.ndarray
    n: int
    source: str
    values: np.ndarray | None = None
    counts: np.ndarray | None = None

    @property
    def interp(self) -> str:
        return "step" if self.values is not None else "linear"

    @classmethod
    def from_counts(
        cls,
        values: np.ndarray,
        counts: np.ndarray,
        source: str,
        probs: Iterable[float] = DEFAULT_PROBS,
        max_step_values: int = MAX_STEP_VALUES,
    ) -> Table:
        """A table from a weighted sample: distinct sorted ``values`` and their positive integer ``counts``."""
        v = np.asarray(values, dtype=np.float64)
        c = np.asarray(counts, dtype=np.int64)
        if v.size == 0 or int(c.sum()) <= 0:
            raise ValueError("a table needs at least one sample")
        q = step_quantiles(v, c, probs)
        n = int(c.sum())
        if v.size <= max_step_values:
            return cls(q=q, n=n, source=source, values=v, counts=c)
        return cls(q=q, n=n, source=source)

    @classmethod
    def from_samples(
        cls,
        samples: np.ndarray,
        source: str,
        probs: Iterable[float] = DEFAULT_PROBS,
        max_step_values: int = MAX_STEP_VALUES,
    ) -> Table:
        v, c = np.unique(np.asarray(samples, dtype=np.float64), return_counts=True)
        return cls.from_counts(v, c, source, probs, max_step_values)

    @classmethod
    def constant(cls, value: float, n_probs: int, source: str = "default") -> Table:
        """A point mass at ``value`` with no samples behind it (``default`` or ``flat``)."""
        return cls(q=np.full(n_probs, float(value)), n=0, source=source)

    def cdf_points(self) -> np.ndarray:
        """Step tables: the cumulative probability at each value (the last is 1.0)."""
        assert self.counts is not None
        cum = np.cumsum(self.counts)
        return cum / cum[-1]

    def quantile(self, p: float, probs: np.ndarray) -> float:
        """The inverse CDF at ``p`` as the kernel samples it (step: exact; linear: interpolated)."""
        if self.values is not None and self.counts is not None:
            cdf = self.cdf_points()
            i = int(np.searchsorted(cdf, p, side="left"))
            return float(self.values[min(i, len(cdf) - 1)])
        return float(np.interp(p, probs, self.q))

    def mean(self, probs: np.ndarray) -> float:
        """Mean of the distribution the kernel samples from this table."""
        if self.values is not None and self.counts is not None:
            return float(np.dot(self.values, self.counts) / self.counts.sum())
        dp = np.diff(probs)
        return float(np.sum(dp * (self.q[1:] + self.q[:-1]) / 2.0))

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"n": int(self.n), "source": self.source, "interp": self.interp}
        d["q"] = [_num(x) for x in self.q]
        if self.values is not None and self.counts is not None:
            d["values"] = [_num(x) for x in self.values]
            d["counts"] = [int(x) for x in self.counts]
        return d


def _num(x: float) -> float | int:
    """JSON number: integral floats as ints (11 rather than 11.0); shortest round-trip repr otherwise."""
    f = float(x)
    if f.is_integer() and abs(f) < 2**53:
        return int(f)
    return f


# ----------------------------------------------------------------------------- the model


def _today() -> str:
    return _dt.datetime.now(_dt.UTC).date().isoformat()


@dataclass(eq=False)
class ExecutionModel:
    """Per-session cost distributions of one symbol; see the module docstring.

    ``tables[kind][session]`` for every kind in :data:`KINDS` and session in
    :data:`SESSIONS`. ``point`` is the price of one point (the unit of spread
    and slippage). ``window`` is the calibration window
    (``{"start": iso, "end": iso}``, UTC) or None; ``sources`` the input files
    (``{"type", "file", "sha256", ...}``); ``settings`` how it was calibrated;
    ``hour_of_week[kind][how]`` optional finer tables; ``commission`` what an
    MT5 deal history said about commissions (or None); ``notes`` free text that
    says what was defaulted and why.
    """

    symbol: str
    point: float
    tables: dict[str, dict[str, Table]]
    created: str = field(default_factory=_today)
    probs: np.ndarray = field(default_factory=lambda: np.array(DEFAULT_PROBS))
    window: dict[str, str] | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    hour_of_week: dict[str, dict[int, Table]] = field(default_factory=dict)
    commission: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION
    path: str | None = None  # where it was loaded from, if it was

    # ------------------------------------------------------------------ lookups
    @property
    def units(self) -> dict[str, str]:
        return dict(UNITS)

    @property
    def name(self) -> str:
        """``SYMBOL@YYYY-MM-DD``: how a run names this calibration."""
        return f"{self.symbol}@{self.created}"

    @property
    def ident(self) -> str:
        """The exact calibration a run used: ``SYMBOL@YYYY-MM-DD`` for a shipped model, plus the file
        path for any other (a user's model dir, a renamed file); ``flat`` models say so."""
        if self.settings.get("flat"):
            return f"{self.symbol} flat model"
        if self.path is None:
            return f"{self.name} (not saved)"
        p = Path(self.path)
        shipped = p.resolve().parent.parent == package_model_dir()
        if shipped and p.stem == self.created and p.parent.name == self.symbol:
            return self.name
        return f"{self.name} ({self.path})"

    def table(self, kind: str | int, session: str | int, hour_of_week: int | None = None) -> Table:
        """The table of ``kind`` in ``session``; the hour-of-week table when there is one for that hour."""
        k = KINDS[kind] if isinstance(kind, int) else kind
        s = SESSIONS[session] if isinstance(session, int) else session
        if hour_of_week is not None:
            t = self.hour_of_week.get(k, {}).get(int(hour_of_week) % 168)
            if t is not None:
                return t
        return self.tables[k][s]

    def sample_counts(self) -> np.ndarray:
        """int64 (N_COST_KINDS, N_SESSIONS): samples behind each table (0: defaulted)."""
        return np.array([[self.tables[k][s].n for s in SESSIONS] for k in KINDS], dtype=np.int64)

    def quantile(self, kind: str, session: str, p: float) -> float:
        """The table's inverse CDF at ``p``, in the kind's unit."""
        return self.table(kind, session).quantile(p, self.probs)

    def mean(self, kind: str, session: str | None = None) -> float:
        """Mean of ``kind`` in ``session`` (kind's unit); without a session, the sample-weighted mean
        over sessions (equal weights where no session has samples)."""
        if session is not None:
            return self.table(kind, session).mean(self.probs)
        means = np.array([self.tables[kind][s].mean(self.probs) for s in SESSIONS])
        n = np.array(
            [self.tables[kind][s].n if self.tables[kind][s].source != "overall" else 0 for s in SESSIONS],
            dtype=np.float64,
        )
        w = n if n.sum() > 0 else np.ones(len(SESSIONS))
        return float(np.dot(means, w) / w.sum())

    # ------------------------------------------------------------------ kernel
    def to_kernel_tables(
        self, point: float | None = None, *, exact: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(cost_q, cost_probs)`` as ``simlab.costs_nb`` samples them.

        ``cost_q`` float64 (N_COST_KINDS, N_SESSIONS, K): spread and slippage in
        PRICE units (points * the model's point), latency in ms; ``cost_probs``
        float64 (K,), non-decreasing from 0.0 to 1.0.

        ``exact=True`` (default): the grid is the union of the model grid and every
        step table's cumulative probabilities; at a probability where some table
        jumps, the probability appears twice, the first knot carrying the value
        just below the jump, the second the value above it (``quantile_at_nb``'s
        binary search lands between the pair's second knot and the next one, so
        a repeated probability is a vertical step). Step tables are then sampled
        exactly, linear ones as on the model grid. K is a few hundred to a few
        thousand (EURUSD shipped: see the summary). ``exact=False``: just the
        model grid (strictly increasing, K = len(probs)), step tables
        interpolated linearly between their grid quantiles (approximate).

        ``point``: the symbol's point, a consistency check only — the tables are in
        the model's own points and are converted with the model's ``point``; a
        different point raises ConfigError rather than silently rescaling.
        """
        if point is not None and not math.isclose(float(point), self.point, rel_tol=1e-9, abs_tol=0.0):
            raise ConfigError(
                self.path or self.name,
                f"model is in points of {self.point:g} but the symbol's point is {float(point):g}; "
                "recalibrate for this symbol's quotes",
            )
        probs = np.asarray(self.probs, dtype=np.float64)
        ordered = [[self.tables[k][s] for s in SESSIONS] for k in KINDS]
        scale = np.array([self.point if k in PRICE_KINDS else 1.0 for k in KINDS])
        if not exact:
            q = np.array([[t.q for t in row] for row in ordered], dtype=np.float64)
            return np.ascontiguousarray(q * scale[:, None, None]), probs.copy()

        grid = set(probs.tolist())
        for row in ordered:
            for t in row:
                if t.values is not None:
                    grid.update(t.cdf_points().tolist())
        g = np.array(sorted(grid), dtype=np.float64)
        g = g[(g >= 0.0) & (g <= 1.0)]
        left = np.empty((len(KINDS), len(SESSIONS), g.size))
        right = np.empty_like(left)
        for i, row in enumerate(ordered):
            for j, t in enumerate(row):
                if t.values is not None:
                    cdf = t.cdf_points()
                    last = len(cdf) - 1
                    left[i, j] = t.values[np.minimum(np.searchsorted(cdf, g, side="left"), last)]
                    right[i, j] = t.values[np.minimum(np.searchsorted(cdf, g, side="right"), last)]
                else:
                    left[i, j] = right[i, j] = np.interp(g, probs, t.q)
        # one knot where no table jumps, two (left, right) where one does; the ends once
        jumps = np.any(left != right, axis=(0, 1))
        jumps[0] = jumps[-1] = False
        reps = np.where(jumps, 2, 1)
        cost_probs = np.repeat(g, reps)
        cost_q = np.empty((len(KINDS), len(SESSIONS), cost_probs.size))
        pos = np.cumsum(reps) - reps  # first slot of each grid point
        cost_q[:, :, pos] = left
        cost_q[:, :, pos + reps - 1] = right
        cost_q[:, :, 0] = right[:, :, 0]  # p = 0: the minimum
        cost_q[:, :, -1] = left[:, :, -1]  # p = 1: the maximum
        return np.ascontiguousarray(cost_q * scale[:, None, None]), cost_probs

    # ------------------------------------------------------------------ JSON
    def to_json_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "format": FORMAT_NAME,
            "schema_version": self.schema_version,
            "symbol": self.symbol,
            "created": self.created,
            "point": self.point,
            "units": {**self.units, "point": "price of one point"},
            "calibration_window": self.window,
            "sources": self.sources,
            "settings": self.settings,
            "notes": self.notes,
            "commission": self.commission,
            "probs": [_num(p) for p in self.probs],
            "tables": {k: {s: self.tables[k][s].to_json() for s in SESSIONS} for k in KINDS},
        }
        if self.hour_of_week:
            d["hour_of_week"] = {
                "zone": HOW_ZONE,
                "min_samples": int(self.settings.get("min_hour_samples", MIN_HOUR_SAMPLES)),
                "tables": {
                    k: {
                        str(h): {"n": t.n, "source": t.source, "q": [_num(x) for x in t.q]}
                        for h, t in sorted(c.items())
                    }
                    for k, c in self.hour_of_week.items()
                },
            }
        return d

    def to_json(self) -> str:
        return _dumps(self.to_json_dict()) + "\n"

    def save(self, path: str | Path) -> Path:
        """Write the model atomically to ``path``."""
        from simlab.atomic import atomic_write_text

        p = Path(path)
        atomic_write_text(p, self.to_json())
        return p

    @classmethod
    def from_json_dict(cls, d: Any, where: str) -> ExecutionModel:
        return _parse_model(d, where)

    @classmethod
    def load(cls, path: str | Path) -> ExecutionModel:
        return read_model_file(path)


# ----------------------------------------------------------------------------- JSON writing


def _dumps(obj: Any, indent: int = 0) -> str:
    """JSON with objects indented and lists of scalars on one line (readable diffs, small files)."""
    pad = "  " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad}{json.dumps(str(k))}: {_dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(obj, list | tuple):
        if all(not isinstance(x, dict | list | tuple) for x in obj):
            flat = "[" + ", ".join(json.dumps(x, allow_nan=False) for x in obj) + "]"
            if not any(isinstance(x, str) for x in obj) or len(flat) <= 100:
                return flat
        items = [pad + _dumps(x, indent + 1) for x in obj]
        return "[\n" + ",\n".join(items) + "\n" + "  " * indent + "]"
    return json.dumps(obj, allow_nan=False)


# ----------------------------------------------------------------------------- JSON reading + validation


def read_model_file(path: str | Path) -> ExecutionModel:
    """Load and validate one model file; any problem is a one-line ConfigError naming the file."""
    p = Path(path)
    where = str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(where, "no such model file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(where, f"cannot read model file: {exc}") from None
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            where, f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    model = _parse_model(d, where)
    model.path = where
    return model


def _need(d: Mapping[str, Any], key: str, where: str, ctx: str = "") -> Any:
    if key not in d:
        raise ConfigError(where, f"missing field '{ctx}{key}'")
    return d[key]


def _num_list(x: Any, where: str, name: str) -> np.ndarray:
    if not isinstance(x, list):
        raise ConfigError(where, f"field '{name}': expected a list of numbers, got {type(x).__name__}")
    if not x:
        raise ConfigError(where, f"field '{name}': empty table")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in x):
        raise ConfigError(where, f"field '{name}': expected numbers only")
    a = np.array(x, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ConfigError(where, f"field '{name}': non-finite value")
    return a


def _check_nondecreasing(a: np.ndarray, where: str, name: str, strict: bool = False) -> None:
    d = np.diff(a)
    bad = np.flatnonzero(d <= 0) if strict else np.flatnonzero(d < 0)
    if bad.size:
        i = int(bad[0])
        word = "strictly increasing" if strict else "non-decreasing"
        raise ConfigError(where, f"field '{name}': not {word} at index {i + 1} ({a[i]!r} then {a[i + 1]!r})")


def _check_source(src: Any, where: str, name: str) -> str:
    if not isinstance(src, str) or not src or any(w not in SOURCE_WORDS for w in src.split("+")):
        raise ConfigError(
            where,
            f"field '{name}': unknown source {src!r}; expected {', '.join(sorted(SOURCE_WORDS))} (joined by '+')",
        )
    return src


def _parse_table(d: Any, probs: np.ndarray, where: str, name: str) -> Table:
    if not isinstance(d, dict):
        raise ConfigError(where, f"field '{name}': expected an object")
    n = _need(d, "n", where, name + ".")
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ConfigError(where, f"field '{name}.n': expected a sample count >= 0, got {n!r}")
    src = _check_source(_need(d, "source", where, name + "."), where, name + ".source")
    interp = _need(d, "interp", where, name + ".")
    q = _num_list(_need(d, "q", where, name + "."), where, name + ".q")
    if q.size != probs.size:
        raise ConfigError(where, f"field '{name}.q': {q.size} values for {probs.size} probabilities")
    _check_nondecreasing(q, where, name + ".q")
    if n == 0 and src not in NO_DATA_SOURCES:
        raise ConfigError(where, f"field '{name}': empty table (n = 0) with source {src!r}")
    if interp == "linear":
        return Table(q=q, n=n, source=src)
    if interp != "step":
        raise ConfigError(where, f"field '{name}.interp': expected 'step' or 'linear', got {interp!r}")
    values = _num_list(_need(d, "values", where, name + "."), where, name + ".values")
    counts_raw = _need(d, "counts", where, name + ".")
    if not isinstance(counts_raw, list) or not all(
        isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in counts_raw
    ):
        raise ConfigError(where, f"field '{name}.counts': expected positive integers")
    counts = np.array(counts_raw, dtype=np.int64)
    if counts.size != values.size:
        raise ConfigError(where, f"field '{name}': {values.size} values but {counts.size} counts")
    _check_nondecreasing(values, where, name + ".values", strict=True)
    if int(counts.sum()) != n:
        raise ConfigError(where, f"field '{name}': counts sum to {int(counts.sum())}, n is {n}")
    expect = step_quantiles(values, counts, probs)
    bad = np.flatnonzero(expect != q)
    if bad.size:
        i = int(bad[0])
        raise ConfigError(
            where,
            f"field '{name}.q': {q[i]!r} at p={probs[i]!r} disagrees with values/counts ({expect[i]!r})",
        )
    return Table(q=q, n=n, source=src, values=values, counts=counts)


def _parse_model(d: Any, where: str) -> ExecutionModel:
    if not isinstance(d, dict):
        raise ConfigError(where, "expected a JSON object at the top level")
    version = _need(d, "schema_version", where)
    if version != SCHEMA_VERSION:
        raise ConfigError(
            where, f"schema_version {version!r} is not supported; this simlab reads version {SCHEMA_VERSION}"
        )
    symbol = _need(d, "symbol", where)
    if not isinstance(symbol, str) or not _SYMBOL_RE.match(symbol):
        raise ConfigError(where, f"field 'symbol': expected a symbol name like 'EURUSD', got {symbol!r}")
    created = _need(d, "created", where)
    if not isinstance(created, str) or not _DATE_RE.match(created):
        raise ConfigError(where, f"field 'created': expected a date YYYY-MM-DD, got {created!r}")
    point = _need(d, "point", where)
    if not isinstance(point, int | float) or isinstance(point, bool) or not (0 < float(point) < math.inf):
        raise ConfigError(where, f"field 'point': expected a positive number, got {point!r}")
    units = _need(d, "units", where)
    if not isinstance(units, dict):
        raise ConfigError(where, "field 'units': expected an object")
    for k, u in UNITS.items():
        if units.get(k) != u:
            raise ConfigError(where, f"field 'units.{k}': expected {u!r}, got {units.get(k)!r}")
    window = _need(d, "calibration_window", where)
    if window is not None and not (isinstance(window, dict) and {"start", "end"} <= set(window)):
        raise ConfigError(where, 'field \'calibration_window\': expected {"start": ..., "end": ...} or null')
    sources = _need(d, "sources", where)
    if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
        raise ConfigError(where, "field 'sources': expected a list of objects")
    probs = _num_list(_need(d, "probs", where), where, "probs")
    if probs.size < 2 or probs[0] != 0.0 or probs[-1] != 1.0:
        raise ConfigError(where, "field 'probs': expected at least 2 probabilities from 0 to 1")
    _check_nondecreasing(probs, where, "probs", strict=True)
    prob_units(probs, f"{where}: field 'probs'")

    tables_d = _need(d, "tables", where)
    if not isinstance(tables_d, dict):
        raise ConfigError(where, "field 'tables': expected an object")
    for k in tables_d:
        if k not in KIND_INDEX:
            raise ConfigError(where, f"field 'tables': unknown cost kind {k!r}; expected {', '.join(KINDS)}")
    tables: dict[str, dict[str, Table]] = {}
    for k in KINDS:
        per = _need(tables_d, k, where, "tables.")
        if not isinstance(per, dict):
            raise ConfigError(where, f"field 'tables.{k}': expected an object")
        for s in per:
            if s not in SESSION_INDEX:
                raise ConfigError(
                    where, f"field 'tables.{k}': unknown session {s!r}; expected {', '.join(SESSIONS)}"
                )
        tables[k] = {
            s: _parse_table(_need(per, s, where, f"tables.{k}."), probs, where, f"tables.{k}.{s}")
            for s in SESSIONS
        }

    how: dict[str, dict[int, Table]] = {}
    how_d = d.get("hour_of_week")
    if how_d is not None:
        if not isinstance(how_d, dict) or not isinstance(how_d.get("tables"), dict):
            raise ConfigError(where, "field 'hour_of_week': expected an object with 'tables'")
        if how_d.get("zone") != HOW_ZONE:
            raise ConfigError(
                where, f"field 'hour_of_week.zone': expected {HOW_ZONE!r}, got {how_d.get('zone')!r}"
            )
        for k, cells in how_d["tables"].items():
            if k not in KIND_INDEX or not isinstance(cells, dict):
                raise ConfigError(where, f"field 'hour_of_week.tables': unknown cost kind {k!r}")
            how[k] = {}
            for h, cell in cells.items():
                name = f"hour_of_week.tables.{k}.{h}"
                if not (isinstance(h, str) and h.isdigit() and 0 <= int(h) < 168):
                    raise ConfigError(where, f"field '{name}': hour of week must be 0 .. 167")
                if not isinstance(cell, dict):
                    raise ConfigError(where, f"field '{name}': expected an object")
                cell = {**cell, "interp": "linear"}
                how[k][int(h)] = _parse_table(cell, probs, where, name)

    notes = d.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(x, str) for x in notes):
        raise ConfigError(where, "field 'notes': expected a list of strings")
    settings = d.get("settings", {})
    if not isinstance(settings, dict):
        raise ConfigError(where, "field 'settings': expected an object")
    commission = d.get("commission")
    if commission is not None and not isinstance(commission, dict):
        raise ConfigError(where, "field 'commission': expected an object or null")
    return ExecutionModel(
        symbol=symbol,
        point=float(point),
        tables=tables,
        created=created,
        probs=probs,
        window=window,
        sources=sources,
        settings=settings,
        hour_of_week=how,
        commission=commission,
        notes=list(notes),
        schema_version=SCHEMA_VERSION,
    )


# ----------------------------------------------------------------------------- resolution


def package_model_dir() -> Path:
    """Where the shipped models live: ``execution_models/<SYMBOL>/<YYYY-MM-DD>.json`` in the package."""
    return Path(__file__).resolve().parent


def model_dirs(model_dir: str | Path | None = None) -> list[Path]:
    """The directories searched, in order: the user's ``model_dir`` (if any), then the package's."""
    dirs = [Path(model_dir)] if model_dir is not None else []
    pkg = package_model_dir()
    if not any(d.resolve() == pkg for d in dirs if d.exists()):
        dirs.append(pkg)
    return dirs


def available_models(symbol: str, model_dir: str | Path | None = None) -> list[tuple[str, Path]]:
    """(date, path) of every dated model file of ``symbol``, oldest first, from the first directory
    (see :func:`model_dirs`) that has any. The symbol is looked up as given, upper-cased, then
    without a broker suffix after a dot ("EURUSD.raw" -> "EURUSD"), as ``simlab.symbols`` does."""
    base = symbol.split(".")[0]
    for d in model_dirs(model_dir):
        for name in dict.fromkeys([symbol, symbol.upper(), base, base.upper()]):
            sd = d / name
            if sd.is_dir():
                found = sorted(
                    (p.stem, p) for p in sd.glob("*.json") if _DATE_RE.match(p.stem) and _valid_date(p.stem)
                )
                if found:
                    return found
    return []


def _valid_date(s: str) -> bool:
    try:
        _dt.date.fromisoformat(s)
    except ValueError:
        return False
    return True


def resolve_model_path(spec: str, model_dir: str | Path | None = None) -> Path:
    """Path of the model named by ``spec``: a ``.json`` path, ``SYMBOL@YYYY-MM-DD`` or ``SYMBOL``
    (the newest dated file). The user's ``model_dir`` is searched before the package's shipped
    models; for a symbol, the first directory holding any model of it decides."""
    s = str(spec).strip()
    if s.endswith(".json") or "/" in s or "\\" in s or Path(s).is_file():
        return Path(s)
    symbol, _, date = s.partition("@")
    if not _SYMBOL_RE.match(symbol) or (date and not (_DATE_RE.match(date) and _valid_date(date))):
        raise ConfigError(
            s, "expected a model file path (.json), SYMBOL or SYMBOL@YYYY-MM-DD (e.g. EURUSD@2026-11-21)"
        )
    looked = ", ".join(str(d) for d in model_dirs(model_dir))
    found = available_models(symbol, model_dir)
    if not found:
        raise ConfigError(s, f"no execution model for {symbol} (looked in {looked})")
    if not date:
        return found[-1][1]
    for dt, p in found:
        if dt == date:
            return p
    raise ConfigError(s, f"no {symbol} model dated {date}; available: {', '.join(dt for dt, _ in found)}")


def load_model(spec: str | Path, model_dir: str | Path | None = None) -> ExecutionModel:
    """Load the model named by ``spec`` (path, ``SYMBOL@YYYY-MM-DD`` or ``SYMBOL`` = newest).

    >>> m = load_model("EURUSD")
    >>> m.symbol, m.point
    ('EURUSD', 1e-05)
    """
    return read_model_file(resolve_model_path(str(spec), model_dir))


# ----------------------------------------------------------------------------- helpers


def flat_model(
    symbol: str,
    spread_points: float,
    point: float,
    *,
    entry_slippage: float = 0.0,
    exit_slippage: float = 0.0,
    stop_slippage: float = 0.0,
    latency_ms: float = 0.0,
    probs: Iterable[float] = DEFAULT_PROBS,
) -> ExecutionModel:
    """One fixed value per kind, the same in every session (``source: "flat"``): the baseline that a
    per-session model is compared with (e.g. ``flat_model(s, m.mean("spread"), m.point)`` has the
    same mean spread as ``m``).

    >>> q, p = flat_model("EURUSD", 12.0, 1e-5).to_kernel_tables(1e-5)
    >>> q.shape[:2], round(float(q[0, 4, 0]), 10), float(q[1, 0, -1])
    ((5, 5), 0.00012, 0.0)
    """
    pr = np.array(list(probs), dtype=np.float64)
    const = {
        "spread": spread_points,
        "entry_slippage": entry_slippage,
        "exit_slippage": exit_slippage,
        "stop_slippage": stop_slippage,
        "latency": latency_ms,
    }
    tables = {k: {s: Table.constant(float(const[k]), pr.size, "flat") for s in SESSIONS} for k in KINDS}
    return ExecutionModel(
        symbol=symbol,
        point=float(point),
        tables=tables,
        probs=pr,
        notes=[
            "flat model: one fixed value per cost kind in every session "
            + ", ".join(f"{k}={v:g} {UNITS[k]}" for k, v in const.items())
        ],
        settings={"flat": True},
    )


def _fmt(x: float) -> str:
    if x == int(x) and abs(x) < 1e9:
        return f"{int(x)}"
    return f"{x:.2f}" if abs(x) >= 1 else f"{x:.3g}"


def model_summary(model: ExecutionModel) -> str:
    """A plain-text table: samples, source, median, p90, p99, max and mean per kind and session."""
    lines = [
        f"{model.symbol} execution model {model.created} (schema {model.schema_version}), "
        f"point {model.point:g}; spread and slippage in points, latency in ms",
    ]
    if model.window:
        lines.append(f"calibration window: {model.window.get('start')} .. {model.window.get('end')}")
    for src in model.sources:
        lines.append(
            f"source: {src.get('type')} {src.get('file')} sha256 {str(src.get('sha256', ''))[:12]}..."
        )
    if model.settings.get("spread_weighting"):
        lines.append(f"spread weighting: {model.settings['spread_weighting']}")
    header = f"{'kind':<15} {'session':<9} {'source':<16} {'samples':>10} {'median':>8} {'p90':>8} {'p99':>8} {'max':>8} {'mean':>8}"
    lines += [header, "-" * len(header)]
    for k in KINDS:
        for s in SESSIONS:
            t = model.tables[k][s]
            qs = [t.quantile(p, model.probs) for p in (0.5, 0.9, 0.99, 1.0)]
            lines.append(
                f"{k:<15} {s:<9} {t.source:<16} {t.n:>10,} "
                + " ".join(f"{_fmt(v):>8}" for v in qs)
                + f" {t.mean(model.probs):>8.2f}"
            )
    if model.hour_of_week:
        for k, cells in model.hour_of_week.items():
            lines.append(
                f"hour-of-week {k} tables: {len(cells)} of 168 hours (others fall back to the session)"
            )
    if model.commission:
        c = model.commission
        lines.append(f"commission: {c.get('per_lot_per_side')} per lot per side ({c.get('deals')} deals)")
    for note in model.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)
