"""Acceptance 2 of issue 15: a sweep on a ``dask.distributed.LocalCluster`` of 2 worker processes gives
byte-identical JSON to the same sweep in this process; the data go to each worker once.

Skipped where dask.distributed is not installed (the ``dask`` extra; the ``test`` extra has it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests._builders import run_simlab_here

distributed = pytest.importorskip("distributed")

GRID = ["--grid", "risk=0.01:0.02:3", "--grid", "program=ftmo-2step,the5ers-high-stakes", "--runs", "40"]


@pytest.fixture(scope="module")
def cluster():  # type: ignore[no-untyped-def]
    """Two worker processes, one thread each (as ``simlab sweep --dask local --dask-workers 2`` starts)."""
    from simlab.scaleout import local_cluster

    with local_cluster(2) as c:
        yield c


def test_local_cluster_of_two_processes_gives_the_same_bytes(tmp_path: Path, cluster) -> None:  # type: ignore[no-untyped-def]
    here, there = tmp_path / "here.json", tmp_path / "there.json"
    code, _, err = run_simlab_here("sweep", *GRID, "--json", str(here))
    assert code == 0, err
    code, out, err = run_simlab_here(
        "sweep", *GRID, "--scheduler", cluster.scheduler_address, "--json", str(there)
    )
    assert code == 0, err
    assert there.read_bytes() == here.read_bytes()


def where_am_i(task: int, shared: object, threads: int) -> tuple[int, int, int]:
    """A task: the worker process it ran in, the identity of the shared object there, its threads."""
    return os.getpid(), id(shared), threads


WARMED: list[int] = []


def warm_here() -> None:
    WARMED.append(os.getpid())


def warmed() -> list[int]:
    return list(WARMED)  # by reference: the worker's own list (a lambda would carry a copy of this one)


def test_shared_data_reach_each_worker_once_and_warm_up_runs_once_per_worker(cluster) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from simlab.scaleout import Target, run_tasks

    bars_like = np.arange(100_000, dtype=np.float64)
    out = run_tasks(
        where_am_i,
        list(range(24)),
        bars_like,
        target=Target.scheduler(cluster.scheduler_address),
        warm=warm_here,
    )
    pids = {pid for pid, _, _ in out}
    assert len(pids) == 2 and os.getpid() not in pids  # two other processes ran the tasks
    # one copy of the data per worker: every task of a worker saw the very same object
    for pid in pids:
        assert len({ident for p, ident, _ in out if p == pid}) == 1
    assert {t for _, _, t in out} == {1}  # a task runs on one thread: Dask's workers are the parallelism
    with distributed.Client(cluster) as client:
        warmed_by = client.run(warmed)
    assert sorted(len(v) for v in warmed_by.values()) == [1, 1]  # the warm-up ran once in each worker


def test_dask_local_option_starts_its_own_cluster(tmp_path: Path) -> None:
    here, there = tmp_path / "here.json", tmp_path / "there.json"
    args = ["sweep", "--grid", "risk=0.01,0.02", "--runs", "30", "--split", "off"]
    assert run_simlab_here(*args, "--json", str(here))[0] == 0
    code, _, err = run_simlab_here(*args, "--dask", "local", "--dask-workers", "2", "--json", str(there))
    assert code == 0, err
    assert there.read_bytes() == here.read_bytes()


def test_unreachable_scheduler_is_one_line() -> None:
    code, out, err = run_simlab_here("sweep", "--grid", "risk=0.01,0.02", "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2 and out == ""
    assert err.startswith(
        "simlab sweep: error: --scheduler: cannot reach a Dask scheduler at tcp://127.0.0.1:9"
    )
    assert len(err.strip().splitlines()) == 1


def test_workers_are_dask_workers_under_dask() -> None:
    code, _, err = run_simlab_here("sweep", "--grid", "risk=0.01", "--dask", "local", "--workers", "2")
    assert code == 2 and "--workers: the Dask workers run the cells" in err


def test_a_strategy_from_a_file_travels_to_the_workers(tmp_path: Path, cluster) -> None:  # type: ignore[no-untyped-def]
    """``--strategy my.py``: a module only this process can import; its code goes with the tasks."""
    (tmp_path / "mine.py").write_text(
        "from strategies.ma_cross import MaCross\n\n\nclass Mine(MaCross):\n    name = 'mine'\n"
    )
    args = ["--strategy", str(tmp_path / "mine.py"), "--grid", "fast=10,20", "--runs", "20", "--split", "off"]
    here, there = tmp_path / "here.json", tmp_path / "there.json"
    assert run_simlab_here("sweep", *args, "--json", str(here))[0] == 0
    code, _, err = run_simlab_here(
        "sweep", *args, "--scheduler", cluster.scheduler_address, "--json", str(there)
    )
    assert code == 0, err
    assert there.read_bytes() == here.read_bytes()
