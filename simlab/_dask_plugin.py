"""The Dask worker plugin of :mod:`simlab.scaleout` (imported only where dask.distributed is installed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from distributed import WorkerPlugin


class WarmKernels(WorkerPlugin):  # type: ignore[misc]  # distributed's base class is untyped
    """Runs ``fn`` once on every worker, before its first task (and on workers that join later):
    the numba kernels are compiled, or loaded from the cache, once per worker process."""

    name = "simlab-warm-kernels"
    # a later sweep on the same cluster replaces the plugin and warms its own kernels (another mode may
    # need others); a kernel already compiled in a worker is a quick no-op
    idempotent = False

    def __init__(self, fn: Callable[[], Any] | None) -> None:
        import cloudpickle

        # pickled here with cloudpickle, so that code registered to travel by value (a user's strategy
        # file) goes with it; distributed's own pickling would look its classes up by name on the worker
        self.payload = cloudpickle.dumps(fn)

    def setup(self, worker: Any) -> None:
        import pickle

        fn = pickle.loads(self.payload)
        if fn is not None:
            fn()


def call_pickled(payload: bytes, shared: Any, threads: int) -> Any:
    """A task: ``fn(task, shared, threads)`` with ``(fn, task)`` pickled by cloudpickle (see above)."""
    import pickle

    fn, task = pickle.loads(payload)
    return fn(task, shared, threads)
