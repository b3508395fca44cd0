"""Cost sampling speed (pytest-benchmark; skipped unless run with --benchmark-only / --benchmark-enable).

The shipped EURUSD model's exact kernel tables (a union grid of ~1,400 knots that
samples the discrete spread exactly) against the plain 33-point grid: the binary
search is a few steps longer; the ratio is the cost of exactness per draw.
"""

from __future__ import annotations

import pytest

from execution_models import load_model
from simlab import layout
from simlab.costs_nb import sample_many_nb

N = 1_000_000


@pytest.mark.parametrize("exact", [True, False], ids=["exact-union-grid", "33-point-grid"])
def test_bench_sample_spread(benchmark, exact):
    model = load_model("EURUSD")
    cost_q, cost_probs = model.to_kernel_tables(model.point, exact=exact)
    sample_many_nb(
        cost_q, cost_probs, layout.COST_SPREAD, layout.SESSION_OVERLAP, 1, 0, 0, 10
    )  # compile / load
    out = benchmark(
        sample_many_nb, cost_q, cost_probs, layout.COST_SPREAD, layout.SESSION_OVERLAP, 1, 0, 0, N
    )
    assert out.shape == (N,)
