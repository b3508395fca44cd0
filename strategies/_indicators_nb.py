"""numba kernels of :mod:`strategies.indicators` (imported on first use: numba takes a while to import)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def run_range_nb(mask, high, low, hi_out, lo_out, start_out):  # pragma: no cover - numba
    hi = np.nan
    lo = np.nan
    start = -1
    prev = False
    for i in range(mask.shape[0]):
        if mask[i]:
            if not prev:
                start = i
                hi = high[i]
                lo = low[i]
            else:
                if high[i] > hi:
                    hi = high[i]
                if low[i] < lo:
                    lo = low[i]
        hi_out[i] = hi
        lo_out[i] = lo
        start_out[i] = start
        prev = mask[i]


@njit(cache=True, nogil=True)
def signal_exits_nb(entry_dir, exit_long, exit_short, out):  # pragma: no cover - numba
    pos = 0
    for i in range(entry_dir.shape[0]):
        e = entry_dir[i]
        if e == 1 or e == -1:
            pos = e
        elif (pos == 1 and exit_long[i]) or (pos == -1 and exit_short[i]):
            out[i] = True
            pos = 0
