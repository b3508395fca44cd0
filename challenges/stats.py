"""Small statistics shared by the Monte Carlo report and the trade-list mode."""

from __future__ import annotations

import math

from simlab.stats import wilson_interval

__all__ = ["quantiles", "wilson_interval"]


def quantiles(
    values: list[float] | tuple[float, ...], qs: tuple[float, ...] = (0.1, 0.5, 0.9)
) -> list[float]:
    """Linear-interpolation quantiles (numpy's default) without numpy; NaN for an empty sample."""
    xs = sorted(values)
    if not xs:
        return [math.nan for _ in qs]
    out = []
    for q in qs:
        pos = q * (len(xs) - 1)
        i = int(math.floor(pos))
        j = min(i + 1, len(xs) - 1)
        out.append(xs[i] + (xs[j] - xs[i]) * (pos - i))
    return out
