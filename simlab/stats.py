"""Small, exact statistics used in reports: honest intervals for pass rates."""

from __future__ import annotations

import math


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion k/n (95 % by default).

    Unlike the normal approximation it stays inside [0, 1] and is honest for
    small n and for rates near 0 or 1 — exactly the regime of a 20-attempt run.

    >>> lo, hi = wilson_interval(14, 20)
    >>> round(lo, 3), round(hi, 3)
    (0.481, 0.855)
    >>> wilson_interval(0, 0)
    (0.0, 1.0)
    >>> wilson_interval(0, 20)[0], wilson_interval(20, 20)[1]
    (0.0, 1.0)
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = k / n
    z2 = z * z
    den = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / den
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / den
    lo = 0.0 if k == 0 else max(0.0, centre - half)  # exact ends: no float dust below 0 or above 1
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi
