"""Run a kernel over items 0 .. n-1 on threads, in short chunks: deterministic, interruptible, with progress.

The Monte Carlo attempts, the day-bootstrap attempts and the trade-list runs are each a pure function
of their index, so results do not depend on how the range is cut or on how many threads run it. The
kernels release the GIL (numba ``nogil``), so the worker threads run in parallel while the main thread
only waits. That matters for Ctrl-C: Python delivers it to the main thread, and when it lands inside a
numba call numba turns the KeyboardInterrupt into "SystemError: CPUDispatcher ... returned a result
with an exception set". Waiting in ``Thread.join(timeout)`` instead, the main thread gets a clean
KeyboardInterrupt at once; the workers finish the chunk they hold (chunks are sized to about
``TARGET_CHUNK_S``) and stop. A first call that compiles the kernel happens in a worker too, so Ctrl-C
acts during the compile as well.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from simlab.progress import attempt_progress
from simlab.stack_room import call_with_stack_room

TARGET_CHUNK_S = 0.15  # aim of one chunk's duration: Ctrl-C acts within about this (plus a join)
_POLL_S = 0.05
_STOP_WAIT_S = 0.2  # after Ctrl-C, how long the workers get to finish their chunk


def run_range(
    work: Callable[[int, int], None],
    n: int,
    *,
    workers: int = 1,
    label: str = "attempts",
    progress: bool | None = None,
    max_chunk: int | None = None,
) -> None:
    """Call ``work(lo, hi)`` over chunks that cover 0 .. n-1 exactly once, on ``workers`` threads.

    ``work`` writes its results itself (into arrays indexed by item). Chunks start at one item per
    thread and grow to about ``TARGET_CHUNK_S`` of work each (``max_chunk`` caps them). ``progress``:
    show a progress bar on stderr once the run has taken a second (default: when stderr is a terminal).
    An exception in ``work`` is raised here; Ctrl-C raises KeyboardInterrupt here, promptly.
    """
    if n <= 0:
        return
    cap = max(1, n if max_chunk is None else int(max_chunk))
    lock = threading.Lock()
    stop = threading.Event()
    state = {"next": 0, "done": 0}
    errors: list[BaseException] = []

    def worker() -> None:
        size = 1
        while not stop.is_set():
            with lock:
                lo = state["next"]
                # guided: never more than a share of what is left, so the threads finish together
                share = max(1, (n - lo) // (2 * n_threads))
                hi = min(n, lo + min(size, share))
                state["next"] = hi
            if lo >= n:
                return
            t0 = time.perf_counter()
            try:
                call_with_stack_room(work, lo, hi)  # the first call may compile the kernel
            except BaseException as exc:  # handed to the main thread, which raises it
                errors.append(exc)
                stop.set()
                return
            dt = time.perf_counter() - t0
            with lock:
                state["done"] += hi - lo
            per_item = dt / (hi - lo)
            size = cap if per_item <= 0.0 else max(1, min(cap, int(TARGET_CHUNK_S / per_item)))

    n_threads = max(1, min(int(workers), n))
    threads = [
        threading.Thread(target=worker, name=f"simlab-{label}-{i}", daemon=True) for i in range(n_threads)
    ]
    for t in threads:
        t.start()
    try:
        with attempt_progress(n, label, progress) as bar:
            for t in threads:
                while t.is_alive():
                    t.join(_POLL_S)
                    bar.update(state["done"])
            bar.update(state["done"])
    except BaseException:
        stop.set()
        deadline = time.monotonic() + _STOP_WAIT_S
        for t in threads:  # a chunk is short; a worker still compiling is a daemon and does not hold the exit
            t.join(max(0.0, deadline - time.monotonic()))
        raise
    if errors:
        raise errors[0]
