"""The kernel's fast cost draws are bit for bit the reference inverse-CDF draws.

``simlab.costs_nb.sample_cost_nb`` is the reference sampler (a binary search and a
linear interpolation, what the fidelity tests check against the calibration).
The kernel draws through ``simlab.kernel_nb._sample_guided_nb``: a bucket guide
that starts the search next to the bracket, and for the spread a per-session
table of the buckets whose every draw has one value (``spread_lut_nb``), looked
up by the hash's top bits. Both shortcuts must change nothing: every draw is
compared as raw float64 bits, on the shipped model and on hand tables built to
hit the edges (steps on bucket boundaries, steps inside a bucket, -0.0, linear
tables).
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from simlab import layout as L
from simlab.costs_nb import sample_cost_nb
from simlab.kernel_nb import COST_GUIDE_SIZE, _sample_guided_nb, cost_index_nb

N_DRAWS = 50_000  # per (kind, session): every bucket is hit about 24 times


@njit(cache=True)
def _both_nb(cost_q, cost_probs, kind, n, seed):
    """(reference draws, kernel draws) for n counters in each session."""
    guide, lut = cost_index_nb(cost_q, cost_probs)
    costs = L.Costs(cost_q, cost_probs, guide, lut)
    n_sess = cost_q.shape[1]
    ref = np.empty((n_sess, n))
    fast = np.empty((n_sess, n))
    for s in range(n_sess):
        for i in range(n):
            ref[s, i] = sample_cost_nb(cost_q, cost_probs, kind, s, seed, 3, i)
            fast[s, i] = _sample_guided_nb(costs, kind, s, seed, 3, i)
    return ref, fast


def _assert_bitwise(cost_q: np.ndarray, cost_probs: np.ndarray, seed: int = 11) -> None:
    for kind in range(L.N_COST_KINDS):
        ref, fast = _both_nb(cost_q, cost_probs, kind, N_DRAWS, seed)
        assert np.array_equal(ref.view(np.int64), fast.view(np.int64)), f"cost kind {kind} differs"


def _tables(values: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same (K,) value column for every kind and session (kinds scaled apart)."""
    q = np.empty((L.N_COST_KINDS, L.N_SESSIONS, probs.shape[0]))
    for k in range(L.N_COST_KINDS):
        for s in range(L.N_SESSIONS):
            q[k, s] = values * (1.0 + 0.25 * k) + 1e-5 * s
    return np.ascontiguousarray(q), np.ascontiguousarray(probs, dtype=np.float64)


def test_shipped_model_draws_are_bitwise_the_reference():
    em = pytest.importorskip("execution_models")
    model = em.load_model("EURUSD")
    q, probs = model.to_kernel_tables(model.point)
    _assert_bitwise(np.ascontiguousarray(q), np.ascontiguousarray(probs))
    _, lut = cost_index_nb(q, probs)
    decided = np.isfinite(lut).mean(axis=1)
    # whole-point step tables: nearly every bucket is decided by its table entry (the fast path)
    assert lut.shape == (L.N_SESSIONS, COST_GUIDE_SIZE)
    assert decided.min() > 0.9, decided


def test_steps_on_and_inside_bucket_boundaries():
    g = 1.0 / COST_GUIDE_SIZE
    # repeated probabilities are vertical steps; put some exactly on bucket edges, some inside a bucket
    edge, inside, late = 3 * g, 5.5 * g, 0.75 + 0.3 * g
    probs = np.array([0.0, edge, edge, inside, inside, 0.25, 0.25, 0.5, late, late, 1.0])
    vals = np.array([1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 5.0, 5.0, 5.0, 9.0, 9.0]) * 1e-5
    q, p = _tables(vals, probs)
    _assert_bitwise(q, p)
    _, lut = cost_index_nb(q, p)
    spread = q[L.COST_SPREAD, 0]
    assert lut[0, 0] == spread[0] and lut[0, 2] == spread[0]  # [0, 3g): value 1
    # a step exactly on the edge 3g leaves the buckets on both sides decided
    assert lut[0, 3] == spread[2] and lut[0, 4] == spread[2]
    assert np.isnan(lut[0, 5])  # the step at 5.5g is inside bucket 5
    assert lut[0, 6] == spread[4]
    assert np.isnan(lut[0, int(0.75 * COST_GUIDE_SIZE)])  # the step at 0.75 + 0.3g
    assert lut[0, COST_GUIDE_SIZE - 1] == spread[-1]


def test_linear_tables_and_negative_zero():
    probs = np.linspace(0.0, 1.0, 17)
    vals = np.r_[-0.0, -0.0, -0.0, np.linspace(0.0, 4.0, 14)] * 1e-5  # flat at -0.0, then rising
    q, p = _tables(vals, probs)
    _assert_bitwise(q, p)
    _, lut = cost_index_nb(q, p)
    flat = lut[0, : int(2 / 16 * COST_GUIDE_SIZE)]
    # -0.0 + w * 0.0 is +0.0: the table holds what the reference returns
    assert np.all(flat == 0.0) and not np.signbit(flat).any()
    assert np.isnan(lut[0, COST_GUIDE_SIZE // 2])  # a rising stretch is never decided by the table


def test_fixed_cost_tables_sample_zero():
    from simlab.costs_nb import zero_cost_tables

    q, p = zero_cost_tables()
    _assert_bitwise(q, p)
    _, lut = cost_index_nb(q, p)
    assert np.all(lut == 0.0)
