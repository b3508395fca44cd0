"""The look-ahead checker: do a strategy's decisions change when the future is added?

A causal strategy gives, on any prefix ``bars[:k]``, exactly the rows
``0..k-1`` it gives on the whole data. :func:`check_lookahead` computes the
intents once on the whole data and then on many prefixes (right after the
warm-up, just before the end, and at seeded random cut points) and reports
the first bar whose decision (any of dir, sl, tp, size; NaN equal to NaN)
differs between a prefix and the whole data. It also runs the whole data
twice: a strategy whose output changes between two identical runs is
reported as non-deterministic.

It is a sampling test: a leak that only shows for cut points it did not try
goes unseen, so more prefixes find more. Each prefix costs one ``signals``
call on at most ``n`` bars (no copies: prefixes are views), so 32 prefixes of
75,000 hourly bars take well under a second for the shipped strategies.

>>> from strategies.ma_cross import MaCross
>>> from strategies.synthetic import random_walk_bars
>>> report = check_lookahead(MaCross(), random_walk_bars(2_000), n_prefixes=8)
>>> report.ok, report.leak
(True, None)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simlab.errors import ConfigError
from strategies.base import Intents, Strategy

if TYPE_CHECKING:
    from collections.abc import Sequence

    from simlab.bars import Bars


def format_time(time_ns: int) -> str:
    """``1262304000000000000`` -> ``'2010-01-01 00:00:00 UTC'``."""
    return str(np.datetime64(int(time_ns), "ns").astype("datetime64[s]")).replace("T", " ") + " UTC"


@dataclass(frozen=True)
class Leak:
    """The first decision found to depend on later bars."""

    bar: int  # row index in the data
    time_ns: int  # that bar's open time, UTC ns
    field: str  # dir, sl, tp or size
    prefix_len: int  # the prefix (bars[:prefix_len]) that gave a different row
    full_value: float
    prefix_value: float

    @property
    def time_utc(self) -> str:
        return format_time(self.time_ns)

    def __str__(self) -> str:
        if self.prefix_len < 0:
            return (
                f"bar {self.bar} ({self.time_utc}), field {self.field}: two runs on the same data gave "
                f"{_fmt(self.full_value)} and {_fmt(self.prefix_value)} (non-deterministic)"
            )
        return (
            f"bar {self.bar} ({self.time_utc}), field {self.field}: the whole data gives {_fmt(self.full_value)}, "
            f"the first {self.prefix_len} bars give {_fmt(self.prefix_value)}"
        )


def _fmt(v: float) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 10:
        return str(int(v))
    return repr(v)


@dataclass(frozen=True)
class LookaheadReport:
    """What :func:`check_lookahead` found: ``ok`` or the first ``leak``."""

    strategy: str
    n_bars: int
    prefixes: tuple[int, ...]  # the prefix lengths checked
    leak: Leak | None
    nondeterministic: bool = False
    elapsed_s: float = 0.0
    warmup: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.leak is None

    def __str__(self) -> str:
        if self.ok:
            return (
                f"OK: {self.strategy}: no look-ahead found in {len(self.prefixes)} prefixes of "
                f"{self.n_bars:,} bars ({self.elapsed_s:.2f} s)"
            )
        kind = "NON-DETERMINISTIC" if self.nondeterministic else "LEAK"
        return f"{kind}: {self.strategy}: {self.leak}"


def choose_cuts(n: int, warmup: int, n_prefixes: int, seed: int = 0) -> list[int]:
    """Prefix lengths to try (ascending, distinct, each in [1, n-1]).

    Always: right after the warm-up (warmup+1 .. warmup+3 bars), and the last
    two (n-1, n-2); the rest seeded-random, uniform over [warmup+1, n-1].
    """
    if n < 2:
        return []
    lo = min(max(warmup + 1, 1), n - 1)
    fixed = {lo, lo + 1, lo + 2, n - 1, n - 2}
    cuts = {k for k in fixed if 1 <= k <= n - 1}
    rng = np.random.default_rng(seed)
    room = n - lo  # candidates lo .. n-1
    want = max(n_prefixes, 0)
    if room > 0 and want > 0:
        pool = rng.choice(room, size=min(want, room), replace=False) + lo
        cuts.update(int(k) for k in pool)
    return sorted(cuts)


def _value(it: Intents, field_name: str, row: int) -> float:
    return float(getattr(it, field_name)[row])


def check_lookahead(
    strategy: Strategy,
    bars: Bars,
    n_prefixes: int = 32,
    *,
    seed: int = 0,
    cuts: Sequence[int] | None = None,
    rtol: float = 0.0,
) -> LookaheadReport:
    """Compare ``strategy.signals`` on ``bars`` with its signals on prefixes of ``bars``.

    ``n_prefixes`` random cut points (seeded by ``seed``) are added to the
    fixed ones (see :func:`choose_cuts`); ``cuts`` replaces them all with
    explicit prefix lengths. Floats compare exactly unless ``rtol`` > 0.
    Returns a :class:`LookaheadReport` whose ``leak`` is the earliest differing
    bar over all prefixes (None when none differs).
    """
    t0 = time.perf_counter()
    n = len(bars)
    name = getattr(strategy, "name", "") or type(strategy).__name__
    full = strategy.signals(bars).validate(n, where=f"strategy {name}")
    again = strategy.signals(bars).validate(n, where=f"strategy {name}")
    warmup = int(strategy.warmup)

    def leak_at(row: int, fld: str, k: int, other: Intents) -> Leak:
        return Leak(row, int(bars.time[row]), fld, k, _value(full, fld, row), _value(other, fld, row))

    diff = full.first_difference(again, rtol=rtol)
    if diff is not None:
        row, fld = diff
        return LookaheadReport(
            name, n, (), leak_at(row, fld, -1, again), True, time.perf_counter() - t0, warmup
        )

    if cuts is None:
        ks = choose_cuts(n, warmup, n_prefixes, seed)
    else:
        ks = sorted({int(k) for k in cuts})
        bad = [k for k in ks if not 1 <= k <= n]
        if bad:
            raise ConfigError("cuts", f"prefix length {bad[0]} outside 1..{n}")
    best: Leak | None = None
    for k in ks:
        pre = strategy.signals(bars.slice(0, k)).validate(k, where=f"strategy {name} (first {k} bars)")
        d = pre.first_difference(full.slice(0, k), rtol=rtol)
        if d is not None and (best is None or d[0] < best.bar):
            best = leak_at(d[0], d[1], k, pre)
    return LookaheadReport(name, n, tuple(ks), best, False, time.perf_counter() - t0, warmup)


# ----------------------------------------------------------------------------- the gate before a run

GATE_PREFIXES = 32  # random prefixes the gate checks, besides the fixed ones
GATE_SEED = 0


def _gate_key(strategy: Strategy, data_sha256: str) -> str:
    """What the verdict depends on: the strategy's source file, its class and parameters, the files it
    reads (a model: another one at the same path is checked again), the data."""
    import hashlib
    import inspect
    import json

    from simlab import __version__

    cls = type(strategy)
    try:
        source = Path(inspect.getfile(cls)).read_bytes()
    except (TypeError, OSError):
        source = b""
    params = json.dumps(
        {k: repr(v) for k, v in sorted(strategy.param_values().items())}, sort_keys=True
    ).encode()
    from simlab.files import sha256_of

    files = []
    for f in strategy.input_files():
        try:
            files.append(sha256_of(f))
        except OSError:
            files.append("unreadable")
    h = hashlib.sha256()
    for part in (
        __version__.encode(),
        cls.__qualname__.encode(),
        hashlib.sha256(source).digest(),
        params,
        data_sha256.encode(),
        f"{GATE_PREFIXES}/{GATE_SEED}".encode(),
        *([" ".join(files).encode()] if files else []),  # no files: the key of a strategy without any
    ):
        h.update(part)
        h.update(b"\0")
    return h.hexdigest()


def lookahead_gate(
    strategy: Strategy, bars: Bars, data_sha256: str, *, data_name: str = "data"
) -> dict[str, Any]:
    """Run :func:`check_lookahead` before a backtest or challenge, and refuse a leaking strategy.

    The verdict is cached on disk (``<simlab cache>/lookahead/<key>.json``) under a key of the
    strategy's source file, class, parameters and the data's sha256, so a second run on the same
    inputs costs nothing. A leak (or non-determinism) raises a one-line ConfigError naming the first
    leaking bar. Returns the provenance record ``{"ran": True, "ok": True, "prefixes": n}``; the
    record is the same whether the verdict came from the cache or not.
    """
    import json

    from simlab._numba_cache import cache_dir
    from simlab.atomic import atomic_write_text
    from simlab.errors import SimlabError

    name = getattr(strategy, "name", "") or type(strategy).__name__
    path = cache_dir() / "lookahead" / f"{_gate_key(strategy, data_sha256)}.json"
    verdict: dict[str, Any] | None = None
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if (
            isinstance(cached, dict)
            and isinstance(cached.get("ok"), bool)
            and isinstance(cached.get("prefixes"), int)
        ):
            verdict = cached
    except (OSError, ValueError):
        verdict = None  # absent or damaged: check again
    if verdict is None:
        try:
            report = check_lookahead(strategy, bars, n_prefixes=GATE_PREFIXES, seed=GATE_SEED)
        except SimlabError:
            raise
        except Exception as exc:
            lines = str(exc).strip().splitlines()
            msg = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
            raise ConfigError(name, f"signals() failed on {data_name}: {msg}") from None
        verdict = {
            "ok": report.ok,
            "prefixes": len(report.prefixes),
            "leak": None if report.leak is None else str(report.leak),
            "nondeterministic": report.nondeterministic,
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, json.dumps(verdict))
        except OSError:
            pass  # a read-only cache only costs the check next time
    if not verdict["ok"]:
        kind = (
            "gives different decisions on the same data"
            if verdict.get("nondeterministic")
            else "reads the future"
        )
        raise ConfigError(
            name,
            f"look-ahead check: the strategy {kind}: {verdict['leak']} "
            "(fix it; or skip this check with --no-lookahead-check)",
        )
    return {"ran": True, "ok": True, "prefixes": int(verdict["prefixes"])}
