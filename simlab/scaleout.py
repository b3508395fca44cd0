"""Run many independent tasks (the cells of a sweep) on local threads or on a Dask cluster.

Every task is a pure function of its inputs, ``fn(task, shared, threads)``: ``shared`` is the large
read-only object every task needs (the bars, or a trade list), ``threads`` how many threads the task
may use itself. So the results do not depend on where or in which order the tasks run, and a sweep
gives the same bytes in one process, on local threads, or on a Dask cluster of any size.

* **Threads** (the default): :func:`simlab.runner.run_range` hands out one task at a time to up to
  ``workers`` threads (the kernels release the GIL); a task gets the threads left over when there
  are fewer tasks than threads.
* **Dask** (``dask[distributed]``, the ``dask`` extra): a ``LocalCluster`` of worker processes
  (``Target.local(n)``) or an existing scheduler (``Target.scheduler("tcp://host:8786")``). ``shared``
  is scattered once to every worker (``broadcast=True``), never sent with a task; a worker plugin
  runs ``warm()`` once on every worker as it joins, so that the numba kernels are compiled (or loaded
  from the cache) once per worker process, not per task; every worker must run the same simlab (its
  version and the hash of its numba sources are checked) so that it computes the same bytes. Tasks
  run one per worker thread, each on one thread. A task and the warm-up travel pickled by cloudpickle,
  so that code registered to be pickled by value (``cloudpickle.register_pickle_by_value``: a module
  the workers cannot import, such as a strategy loaded from a file) goes with them.

Ctrl-C raises :class:`TasksInterrupted` (a ``KeyboardInterrupt``) that says which tasks had finished;
the threads stop after the task they hold, a Dask run's tasks are cancelled and its local cluster is
shut down. A progress bar over the tasks goes to stderr on a terminal (``simlab.progress``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from simlab.errors import ConfigError
from simlab.progress import attempt_progress

DASK_EXTRA = "the dask extra is needed: pip install 'simlab[dask]' (dask[distributed])"
_POLL_S = 0.2


class TasksInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run_tasks`; ``done`` lists the indices of the tasks that had finished."""

    def __init__(self, done: list[int], total: int) -> None:
        super().__init__(f"{len(done)} of {total} tasks finished")
        self.done = done
        self.total = total


@dataclass(frozen=True)
class Target:
    """Where tasks run: ``threads`` (this process), ``local`` (a Dask LocalCluster) or ``scheduler``."""

    kind: str = "threads"
    workers: int | None = None  # threads, or the LocalCluster's worker processes (None: every core)
    address: str | None = None  # the scheduler's address

    @classmethod
    def local(cls, workers: int | None = None) -> Target:
        return cls("local", workers)

    @classmethod
    def scheduler(cls, address: str) -> Target:
        return cls("scheduler", None, address)

    @property
    def uses_dask(self) -> bool:
        return self.kind != "threads"

    def describe(self) -> str:
        if self.kind == "local":
            return f"a local Dask cluster of {_cores(self.workers)} worker processes"
        if self.kind == "scheduler":
            return f"the Dask cluster at {self.address}"
        return f"{_cores(self.workers)} threads in this process"


def _cores(n: int | None) -> int:
    import os

    return max(1, int(n)) if n is not None else max(1, os.cpu_count() or 1)


def require_dask(option: str) -> None:
    """A one-line ConfigError naming ``option`` when dask.distributed cannot be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError(option, DASK_EXTRA) from None


def run_tasks(
    fn: Callable[[Any, Any, int], Any],
    tasks: Sequence[Any],
    shared: Any,
    *,
    target: Target = Target(),
    warm: Callable[[], Any] | None = None,
    progress: bool | None = None,
    label: str = "tasks",
) -> list[Any]:
    """``[fn(t, shared, threads) for t in tasks]``, run on ``target``, in the order of ``tasks``.

    ``warm``: a function run once on every Dask worker before its first task (e.g. compile the
    kernels); not needed in this process, where the first task compiles. An exception of a task is
    raised here; Ctrl-C raises :class:`TasksInterrupted`.
    """
    if not tasks:
        return []
    if target.uses_dask:
        return _run_dask(fn, tasks, shared, target, warm, progress, label)
    return _run_threads(fn, tasks, shared, _cores(target.workers), progress, label)


def _run_threads(
    fn: Callable[[Any, Any, int], Any],
    tasks: Sequence[Any],
    shared: Any,
    workers: int,
    progress: bool | None,
    label: str,
) -> list[Any]:
    from simlab.runner import run_range

    n = len(tasks)
    outer = max(1, min(workers, n))
    inner = max(1, workers // outer)  # fewer tasks than threads: each task runs on several
    results: list[Any] = [None] * n
    finished = [False] * n

    def work(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            results[i] = fn(tasks[i], shared, inner)
            finished[i] = True

    try:
        run_range(work, n, workers=outer, label=label, progress=progress, max_chunk=1)
    except KeyboardInterrupt:
        raise TasksInterrupted([i for i in range(n) if finished[i]], n) from None
    return results


# ----------------------------------------------------------------------------- Dask


def code_identity() -> dict[str, str]:
    """What must be equal on every worker for equal bytes: simlab's version and its numba sources."""
    from pathlib import Path

    import simlab
    from simlab._numba_cache import sources_key

    return {"simlab": simlab.__version__, "kernels": sources_key(Path(simlab.__file__).resolve().parents[1])}


def local_cluster(workers: int | None = None) -> Any:
    """A ``dask.distributed.LocalCluster`` of ``workers`` processes (default: every core), one thread
    each, as ``simlab sweep --dask local`` starts it: no dashboard (the scheduler's HTTP server on a
    free loopback port, as 8787 may be taken), quiet logs. Its worker processes ignore Ctrl-C (an
    ignored signal stays ignored in a child): the process that started them alone answers it, cancels
    the tasks and closes the cluster, with no worker tracebacks on the terminal. Close it (``with``)."""
    import signal

    from distributed import LocalCluster

    old = signal.getsignal(signal.SIGINT)
    with contextlib.suppress(ValueError):  # not the main thread: leave the handler alone
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return LocalCluster(
            n_workers=_cores(workers),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.CRITICAL,  # a failure reaches this process as its exception: one line
        )
    finally:
        with contextlib.suppress(ValueError, TypeError):
            signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def _client(target: Target) -> Iterator[Any]:
    from distributed import Client

    if target.kind == "local":
        cluster = local_cluster(target.workers)
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = Client(target.address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(
            "--scheduler", f"cannot reach a Dask scheduler at {target.address}: {exc}"
        ) from None
    try:
        yield client
    finally:
        client.close()


def _check_workers(client: Any) -> None:
    """Every worker runs the same simlab as this process (else the bytes could differ)."""
    mine = code_identity()
    theirs = client.run(code_identity)
    if not theirs:
        raise ConfigError("--scheduler", "the Dask cluster has no workers")
    for addr, ident in sorted(theirs.items()):
        if ident != mine:
            raise ConfigError(
                "--scheduler",
                f"worker {addr} runs simlab {ident.get('simlab')} (kernels {ident.get('kernels')}), this "
                f"process simlab {mine['simlab']} (kernels {mine['kernels']}): install the same simlab on every "
                "worker",
            )


def _run_dask(
    fn: Callable[[Any, Any, int], Any],
    tasks: Sequence[Any],
    shared: Any,
    target: Target,
    warm: Callable[[], Any] | None,
    progress: bool | None,
    label: str,
) -> list[Any]:
    import distributed

    n = len(tasks)
    results: list[Any] = [None] * n
    finished = [False] * n
    with _client(target) as client:
        futures: list[Any] = []
        try:
            _check_workers(client)
            import cloudpickle

            from simlab._dask_plugin import WarmKernels, call_pickled

            client.register_plugin(WarmKernels(warm))
            shared_f = client.scatter(shared, broadcast=True, hash=False)  # once per worker
            futures = [
                client.submit(call_pickled, cloudpickle.dumps((fn, t)), shared_f, 1, pure=False)
                for t in tasks
            ]
            index = {f.key: i for i, f in enumerate(futures)}
            pending = set(futures)
            with attempt_progress(n, label, progress) as bar:
                t_last = time.monotonic()
                while pending:
                    try:
                        done, pending = distributed.wait(
                            pending, timeout=_POLL_S, return_when="FIRST_COMPLETED"
                        )
                    except (TimeoutError, distributed.TimeoutError):
                        done = set()
                    for f in done:
                        i = index[f.key]
                        results[i] = f.result()  # a task's exception is raised here
                        finished[i] = True
                    if done or time.monotonic() - t_last > 1.0:
                        bar.update(sum(finished))
                        t_last = time.monotonic()
        except KeyboardInterrupt:
            with contextlib.suppress(Exception):
                client.cancel(futures)
            raise TasksInterrupted([i for i in range(n) if finished[i]], n) from None
        except BaseException:
            with contextlib.suppress(Exception):
                client.cancel(futures)
            raise
    return results


__all__ = [
    "DASK_EXTRA",
    "Target",
    "TasksInterrupted",
    "code_identity",
    "local_cluster",
    "require_dask",
    "run_tasks",
]
