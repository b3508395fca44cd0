"""What a long run says on stderr while it works: the one-time kernel compile, and a progress bar.

Never on stdout and never in a result file: stdout carries the table, and ``--json`` writes a file.
On a terminal both use ``rich`` (a spinner while numba compiles, a bar over the attempts of a run
longer than a second); otherwise the compile is one plain line and the bar is not shown.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

# what the first run of a fresh install (or after a kernel edit) spends compiling, measured on 2 cores
COMPILE_ESTIMATE_S = 15
COMPILE_MESSAGE = (
    f"compiling the simulation kernels once (about {COMPILE_ESTIMATE_S} s); later runs start at once"
)

_lock = threading.Lock()
_live: dict[str, Any] = {"status": None, "bar": False}


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


class _CompileNotice:
    """A numba event listener: the first compile of the process says so; a terminal gets a spinner."""

    def __init__(self, prog: str, tty: bool) -> None:
        self.prog = prog
        self.tty = tty
        self.depth = 0
        self.said = False

    def on_start(self) -> None:
        with _lock:
            self.depth += 1
            if self.depth > 1:
                return
            if not self.tty:
                if not self.said:
                    print(f"{self.prog}: {COMPILE_MESSAGE}", file=sys.stderr, flush=True)
                self.said = True
                return
            if _live["status"] is None and not _live["bar"]:
                status = _stderr_console().status(f"{self.prog}: {COMPILE_MESSAGE}")
                status.start()
                _live["status"] = status
            self.said = True

    def on_end(self) -> None:
        with _lock:
            self.depth -= 1
            if self.depth == 0 and _live["status"] is not None:
                _live["status"].stop()
                _live["status"] = None


_notice: dict[str, _CompileNotice] = {}


def install_compile_notice(prog: str) -> None:
    """Say on stderr when numba compiles (once per process on a non-terminal; a spinner on a terminal)."""
    if "notice" in _notice:  # one listener per process; a later command names itself
        _notice["notice"].prog = prog
        return
    from numba.core import event

    notice = _CompileNotice(prog, sys.stderr.isatty())
    _notice["notice"] = notice

    class _Listener(event.Listener):  # type: ignore[misc]  # numba's base class is untyped
        def on_start(self, ev: Any) -> None:
            notice.on_start()

        def on_end(self, ev: Any) -> None:
            notice.on_end()

    event.register("numba:compile", _Listener())


class _Bar:
    """A progress bar that appears only once the run has taken ``delay_s`` (and never while compiling)."""

    def __init__(self, total: int, label: str, show: bool, delay_s: float = 1.0) -> None:
        self.total = total
        self.label = label
        self.show = show
        self.delay_s = delay_s
        self.t0 = time.monotonic()
        self.progress: Any = None
        self.task: Any = None

    def update(self, done: int) -> None:
        if not self.show:
            return
        if self.progress is None:
            if time.monotonic() - self.t0 < self.delay_s:
                return
            with _lock:
                if _live["status"] is not None:  # the compile spinner owns the terminal line
                    return
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    TextColumn,
                    TimeRemainingColumn,
                )

                self.progress = Progress(
                    TextColumn(f"  {self.label}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                    console=_stderr_console(),
                    transient=True,
                )
                self.task = self.progress.add_task(self.label, total=self.total)
                self.progress.start()
                _live["bar"] = True
        self.progress.update(self.task, completed=done)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            with _lock:
                _live["bar"] = False


@contextlib.contextmanager
def attempt_progress(total: int, label: str, show: bool | None) -> Iterator[_Bar]:
    """A progress bar over ``total`` items on stderr (default: shown when stderr is a terminal)."""
    bar = _Bar(total, label, sys.stderr.isatty() if show is None else bool(show))
    try:
        yield bar
    finally:
        bar.close()


def say(prog: str, line: str) -> None:
    """One line on stderr that stands for the compile notice too (``line`` already says it compiles)."""
    print(f"{prog}: {line}", file=sys.stderr, flush=True)
    if "notice" in _notice:
        _notice["notice"].said = True
