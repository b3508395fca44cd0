"""Ctrl-C: a plain KeyboardInterrupt where Python can unwind, an immediate exit while numba compiles.

A KeyboardInterrupt raised inside numba's compiler does not unwind cleanly: numba swallows it and
fails later ("RuntimeError: no compiled object yet for <Library ...>", exit 3), or it is raised in a
callback that LLVM makes into Python and the process dies of a segmentation fault (both seen on a
first run interrupted while compiling). So while any thread holds numba's compiler or LLVM lock
(compiling, or loading or saving the cache: numba's "numba:compiler_lock" / "numba:llvm_lock" events),
Ctrl-C prints "interrupted" and ends the process at once with exit 130: nothing simlab writes is open
then (result files are written after the run, atomically), and numba writes its cache files through
a temporary name and a rename, so a compile cut short leaves no damaged cache entry. At any other
moment Ctrl-C raises KeyboardInterrupt as usual, and the CLI prints the same line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

_lock = threading.Lock()
_state = {"compiling": 0}


def _on_sigint(prog: str) -> Any:
    def handler(signum: int, frame: Any) -> None:
        # read without the lock: the handler may run in the main thread while it holds it
        if _state["compiling"] > 0:
            print(f"{prog}: interrupted", file=sys.stderr, flush=True)
            sys.stdout.flush()
            os._exit(130)
        raise KeyboardInterrupt

    return handler


def _track_compiles() -> None:
    """Count the compiles in progress (once per process)."""
    if _state.get("listening"):
        return
    from numba.core import event

    class _Compiling(event.Listener):  # type: ignore[misc]  # numba's base class is untyped
        def on_start(self, ev: Any) -> None:
            with _lock:
                _state["compiling"] += 1

        def on_end(self, ev: Any) -> None:
            with _lock:
                _state["compiling"] -= 1

    # the compiler lock is held for the whole compile, the cache load and the cache save (which
    # emits object code through LLVM callbacks into Python); the LLVM lock for codegen outside it
    for kind in ("numba:compiler_lock", "numba:llvm_lock"):
        event.register(kind, _Compiling())
    _state["listening"] = 1


@contextlib.contextmanager
def ctrl_c(prog: str) -> Iterator[None]:
    """Route Ctrl-C as above inside the block; a no-op where SIGINT is ignored or handled by someone else."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield  # ignored (a background job) or someone else's handler: leave it alone
        return
    _track_compiles()
    signal.signal(signal.SIGINT, _on_sigint(prog))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
