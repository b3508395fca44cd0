"""The axes of a parameter grid (``simlab sweep --grid NAME=VALUES``) and the cells they span.

An axis is written ``NAME=lo:hi:n`` (``n`` values from ``lo`` to ``hi``, both included, evenly
spaced) or ``NAME=a,b,c`` (the values listed). What a name means and which values it accepts is the
command's business (:mod:`simlab_cli.commands.sweep`); here the text is read, and every problem is a
one-line :class:`~simlab.errors.ConfigError` naming the axis (``--grid NAME``).

>>> a = parse_axis("risk=0.0025:0.02:8")
>>> a.name, a.values
('risk', (0.0025, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.0175, 0.02))
>>> parse_axis("program=ftmo-2step, e8-one").values
('ftmo-2step', 'e8-one')
>>> [c["risk"] for c in grid_cells([parse_axis("risk=0.01,0.02"), parse_axis("fast=5,10")])]
['0.01', '0.01', '0.02', '0.02']
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simlab.errors import ConfigError

MAX_CELLS = 100_000  # a grid larger than this is a typo (a range of 1e6 steps), not a plan
MAX_VALUES = 10_000  # values of one axis
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass(frozen=True)
class Axis:
    """One axis: its ``name``, the text it was given as, and its values in order.

    A range gives floats; a list gives strings (the command converts them to the axis's type).
    """

    name: str
    spec: str
    values: tuple[Any, ...]
    is_range: bool = False

    @property
    def option(self) -> str:
        return f"--grid {self.name}"

    def fail(self, what: str) -> ConfigError:
        return ConfigError(self.option, what)


def _clean(x: float) -> float:
    """A range point without float dust: 0.0075000000000000006 -> 0.0075 (12 significant digits)."""
    return float(f"{x:.12g}")


def _number(axis: str, text: str, what: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise ConfigError(f"--grid {axis}", f"{what} {text.strip()!r} is not a number") from None
    if not math.isfinite(x):
        raise ConfigError(f"--grid {axis}", f"{what} {text.strip()!r}: expected a finite number")
    return x


def parse_axis(text: str) -> Axis:
    """``"NAME=lo:hi:n"`` or ``"NAME=a,b,c"`` -> :class:`Axis` (one-line errors naming the axis)."""
    if "=" not in text:
        raise ConfigError("--grid", f"{text!r} is not NAME=VALUES (e.g. risk=0.005:0.02:4 or fast=10,20)")
    name, spec = (s.strip() for s in text.split("=", 1))
    if not _NAME_RE.match(name):
        raise ConfigError("--grid", f"{name!r} is not an axis name (e.g. risk, fast, gov.daily_buffer_pct)")
    where = f"--grid {name}"
    if not spec:
        raise ConfigError(where, "no values given; expected lo:hi:n or a,b,c")
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 3:
            raise ConfigError(where, f"range {spec!r}: expected lo:hi:n (e.g. 0.005:0.02:4)")
        lo = _number(name, parts[0], "lower end")
        hi = _number(name, parts[1], "upper end")
        try:
            n = int(parts[2])
        except ValueError:
            raise ConfigError(
                where, f"range {spec!r}: n {parts[2].strip()!r} is not a whole number"
            ) from None
        if n < 1:
            raise ConfigError(where, f"range {spec!r} is empty: n must be at least 1")
        if n > MAX_VALUES:
            raise ConfigError(where, f"range {spec!r}: {n} values; at most {MAX_VALUES:,}")
        if hi < lo:
            raise ConfigError(
                where, f"range {spec!r} is empty: the upper end {hi:g} is below the lower {lo:g}"
            )
        if n == 1 and hi != lo:
            raise ConfigError(where, f"range {spec!r}: one value cannot span {lo:g} .. {hi:g}; give n >= 2")
        if n > 1 and hi == lo:
            raise ConfigError(where, f"range {spec!r}: {n} values between {lo:g} and itself")
        step = (hi - lo) / (n - 1) if n > 1 else 0.0
        values: tuple[Any, ...] = tuple(_clean(lo + k * step) for k in range(n - 1)) + (_clean(hi),)
        if len(set(values)) != n:
            raise ConfigError(where, f"range {spec!r}: the steps are too small to tell the values apart")
        return Axis(name, spec, values, is_range=True)
    items = [s.strip() for s in spec.split(",")]
    if any(not s for s in items):
        raise ConfigError(where, f"{spec!r}: an empty value in the list")
    if len(items) > MAX_VALUES:
        raise ConfigError(where, f"{len(items)} values; at most {MAX_VALUES:,}")
    seen: set[str] = set()
    for s in items:
        if s in seen:
            raise ConfigError(where, f"value {s!r} appears twice")
        seen.add(s)
    return Axis(name, spec, tuple(items))


def check_axes(axes: Sequence[Axis]) -> None:
    """No axis twice, and a grid of at most :data:`MAX_CELLS` cells."""
    seen: set[str] = set()
    for a in axes:
        if a.name in seen:
            raise a.fail("given twice; give every value of an axis in one --grid")
        seen.add(a.name)
    n = math.prod(len(a.values) for a in axes)
    if n > MAX_CELLS:
        sizes = " x ".join(str(len(a.values)) for a in axes)
        raise ConfigError("--grid", f"{sizes} = {n:,} cells; at most {MAX_CELLS:,}")


def grid_cells(axes: Sequence[Axis]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, as ``{name: value}``, the last axis varying fastest."""
    names = [a.name for a in axes]
    return [dict(zip(names, combo)) for combo in itertools.product(*(a.values for a in axes))]


__all__ = ["MAX_CELLS", "Axis", "check_axes", "grid_cells", "parse_axis"]
