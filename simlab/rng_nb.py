"""Counter-based random numbers: a uniform draw is a pure function of (seed, attempt, draw).

No generator state is carried between draws, so a result cannot depend on how
attempts are spread over threads or processes: attempt 17 draws the same
numbers on 1 worker or 16. The hash is SplitMix64's finaliser applied to the
key words in turn (the construction behind JAX-style stateless PRNG keys, with
a cheaper mixer); its output passes BigCrush as a counter-mode generator.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def mix64_nb(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def key_hash_nb(seed: int, attempt: int, draw: int) -> np.uint64:
    h = mix64_nb(np.uint64(seed) + _GOLDEN)
    h = mix64_nb(h ^ (np.uint64(attempt) + _GOLDEN))
    return mix64_nb(h ^ (np.uint64(draw) + _GOLDEN))


@njit(cache=True, inline="always")
def uniform_from_hash_nb(h: np.uint64) -> float:
    """The uniform in [0, 1) a key hash stands for: its top 53 bits, scaled."""
    return float(h >> _S11) * _INV53


@njit(cache=True, inline="always")
def uniform_nb(seed: int, attempt: int, draw: int) -> float:
    """A float in [0, 1) with 53 random bits, keyed by (seed, attempt, draw)."""
    return uniform_from_hash_nb(key_hash_nb(seed, attempt, draw))


@njit(cache=True)
def uniforms_nb(seed: int, attempt: int, first_draw: int, n: int) -> np.ndarray:
    """``n`` consecutive draws starting at ``first_draw`` (for tests and Python callers)."""
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = uniform_nb(seed, attempt, first_draw + i)
    return out
