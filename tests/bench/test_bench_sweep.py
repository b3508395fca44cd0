"""Sweep throughput in this process vs on a 2-worker local Dask cluster (issue 15, acceptance 4).

Run with ``nox -s bench`` (or ``pytest -o addopts= tests/bench/test_bench_sweep.py --benchmark-only -s``).
Figures are reported, never asserted:

* the same sweep (8 cells x RUNS attempts of the bundled default, no walk-forward) run by ``simlab
  sweep`` in this process (threads on every core) and with ``--scheduler`` on a ``LocalCluster`` of 2
  worker processes x 1 thread started beforehand: attempts per second of each and their ratio; the
  two JSON files must be the same bytes;
* the cluster's start (processes, imports) and the kernels' warm-up, once per cluster;
* the overhead of one task: no-op tasks through ``simlab.scaleout.run_tasks`` on the cluster (submit,
  schedule, run, gather), per task (the slope between 40 and 400 tasks) and per batch (connect,
  check the workers, register the warm-up, scatter), beside the same on threads.

A warm-up sweep runs first on both sides, so that no figure counts a compile or a cache load.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from simlab.scaleout import Target, local_cluster, run_tasks
from tests._builders import run_simlab_here

distributed = pytest.importorskip("distributed")

RUNS = 2000
GRID = ["--grid", "risk=0.005:0.02:4", "--grid", "fast=10,20", "--split", "off"]
N_CELLS = 8
N_NOOP = 400


def _sweep(out: Path, *extra: str) -> float:
    t0 = time.perf_counter()
    code, _, err = run_simlab_here("sweep", *GRID, "--runs", str(RUNS), "--json", str(out), *extra)
    assert code == 0, err
    return time.perf_counter() - t0


def _per_task(target: Target) -> tuple[float, float]:
    """(fixed seconds per batch, seconds per task) of no-op tasks on ``target``."""
    times = {}
    for n in (N_NOOP // 10, N_NOOP):
        t0 = time.perf_counter()
        out = run_tasks(max, list(range(n)), 0, target=target)
        times[n] = time.perf_counter() - t0
        assert out == [max(i, 0, 1) for i in range(n)]
    per_task = (times[N_NOOP] - times[N_NOOP // 10]) / (N_NOOP - N_NOOP // 10)
    return times[N_NOOP] - N_NOOP * per_task, per_task


def test_bench_sweep_in_process_vs_local_dask(benchmark, bench_record, tmp_path: Path) -> None:
    t0 = time.perf_counter()
    with local_cluster(2) as cluster:  # as simlab sweep --dask local --dask-workers 2 starts it
        start_s = time.perf_counter() - t0
        addr = cluster.scheduler_address
        # warm both sides: kernels compiled or loaded, data scattered once per worker for this run
        t1 = time.perf_counter()
        _sweep(tmp_path / "warm_dask.json", "--scheduler", addr)
        warm_dask_s = time.perf_counter() - t1
        _sweep(tmp_path / "warm_here.json")

        here = tmp_path / "here.json"
        local_s = benchmark.pedantic(lambda: _sweep(here), rounds=1, iterations=1)
        dask_s = _sweep(tmp_path / "dask.json", "--scheduler", addr)
        assert (tmp_path / "dask.json").read_bytes() == here.read_bytes()

        # one task's overhead: no-op tasks (max(i, 0, 1)) through the same machinery; the slope between
        # a short and a long batch, so that the batch's fixed cost (connect, check, scatter) drops out
        fixed_dask, noop_dask = _per_task(Target.scheduler(addr))
    fixed_here, noop_here = _per_task(Target())

    attempts = N_CELLS * RUNS
    rate_here, rate_dask = attempts / local_s, attempts / dask_s
    benchmark.extra_info.update(
        {
            "attempts": attempts,
            "in_process_attempts_per_s": round(rate_here),
            "dask_2_workers_attempts_per_s": round(rate_dask),
            "ratio_dask_over_in_process": round(rate_dask / rate_here, 3),
            "task_overhead_ms_dask": round(1e3 * noop_dask, 3),
            "task_overhead_ms_threads": round(1e3 * noop_here, 3),
            "batch_fixed_ms_dask": round(1e3 * fixed_dask, 1),
            "batch_fixed_ms_threads": round(1e3 * fixed_here, 1),
            "cluster_start_s": round(start_s, 2),
            "first_sweep_on_cluster_s": round(warm_dask_s, 2),
        }
    )
    bench_record(
        "sweep attempts/s (8 cells x 2000)",
        f"in process {rate_here:,.0f}/s, 2-worker LocalCluster {rate_dask:,.0f}/s "
        f"(ratio {rate_dask / rate_here:.2f}; same bytes)",
    )
    bench_record(
        "sweep task overhead",
        f"Dask {1e3 * noop_dask:.2f} ms/task (+{1e3 * fixed_dask:.0f} ms a batch), threads "
        f"{1e6 * max(0.0, noop_here):.0f} us/task (+{1e3 * fixed_here:.0f} ms); cluster start "
        f"{start_s:.1f} s, first sweep there (warm-up, scatter) {warm_dask_s:.1f} s",
    )
