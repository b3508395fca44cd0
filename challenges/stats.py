"""Small statistics shared by the Monte Carlo report and the trade-list mode."""

from __future__ import annotations

import math


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion: ``k`` successes out of ``n``.

    Unlike the normal ("Wald") interval it stays inside [0, 1] and is honest
    at small ``n`` and at rates near 0 or 1 - what a 20-attempt run has.
    ``n == 0`` gives the uninformative (0, 1).

    >>> lo, hi = wilson_interval(14, 20)
    >>> round(lo, 3), round(hi, 3)
    (0.481, 0.855)
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    center = (p + z2 / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
    # the exact bounds at k = 0 and k = n are 0 and 1; keep float noise from leaking past them
    lo = 0.0 if k == 0 else max(0.0, center - half)
    hi = 1.0 if k == n else min(1.0, center + half)
    return lo, hi


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
