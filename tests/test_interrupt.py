"""Ctrl-C at any moment: "interrupted" on stderr, exit 130, no output file, an older output file intact.

Before: Ctrl-C inside the Monte Carlo kernel ended with "SystemError: CPUDispatcher(...) returned a
result with an exception set" and exit 3, and in trade-list mode it acted only when the whole kernel
had finished. Now the kernels run on worker threads in short chunks (``simlab.runner``) while the
main thread waits, so the interrupt is a plain KeyboardInterrupt that acts at once.

Each case runs ``simlab`` in a subprocess, sends SIGINT while it is in the phase named, and checks
the exit, the one line, stdout empty, and that a result file written earlier is untouched. The time
from the signal to the exit is printed (it is about 0.1-0.7 s); the tests only require it to be
under ``MAX_EXIT_S``, a bound loose enough for a busy machine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

MAX_EXIT_S = 10.0
OLD = '{"an": "older result"}\n'
LONG_RUN = [
    "challenge",
    "--runs",
    "100000",
    "--governors",
    "none",
    "--param",
    "fast=600",
    "--param",
    "slow=3000",
]
LONG_RUN += ["--risk", "0.002", "--workers", "2"]


class Run:
    """``python -m simlab_cli *args`` in the background, its stderr collected line by line."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.p = subprocess.Popen(
            [sys.executable, "-m", "simlab_cli", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # a shell may start background jobs with SIGINT ignored; a user's Ctrl-C is not ignored
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.err: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.p.stderr is not None
        for line in self.p.stderr:
            self.err.append(line)

    def wait_for(self, text: str, timeout: float = 120.0) -> None:
        t0 = time.monotonic()
        while not any(text in ln for ln in self.err):
            assert self.p.poll() is None, f"ended before {text!r}: {''.join(self.err)}"
            assert time.monotonic() - t0 < timeout, f"no {text!r} within {timeout} s"
            time.sleep(0.05)

    def interrupt(self) -> tuple[int, str, str, float]:
        """SIGINT now (the run must still be going); returns (exit code, stdout, stderr, seconds to exit)."""
        assert self.p.poll() is None, "the run ended before the interrupt: make it longer"
        t0 = time.monotonic()
        self.p.send_signal(signal.SIGINT)
        try:
            rc = self.p.wait(timeout=120)  # not communicate(): the reader thread owns stderr
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise
        took = time.monotonic() - t0
        self.reader.join(5)
        assert self.p.stdout is not None
        return rc, self.p.stdout.read(), "".join(self.err), took


def _check(rc: int, out: str, err: str, took: float, old_json: Path, new_json: Path | None = None) -> None:
    print(f"exit {rc} {took:.2f} s after SIGINT")
    assert rc == 130, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines[-1].endswith(": interrupted"), err
    assert not any("Traceback" in ln or "internal error" in ln or "SystemError" in ln for ln in lines), err
    assert out == ""
    assert took < MAX_EXIT_S
    assert old_json.read_text() == OLD  # an older result at the output path is untouched
    if new_json is not None:
        assert not new_json.exists()
    assert not [p for p in old_json.parent.iterdir() if p.name.endswith(".tmp")]  # no half-written file


def _warm(cwd: Path, env: dict[str, str] | None = None) -> None:
    """Compile (or load) the kernels, so that a later run reaches its kernel at once."""
    p = subprocess.run(
        [sys.executable, "-m", "simlab_cli", "challenge", "--runs", "2"],
        cwd=cwd,
        env=env,
        capture_output=True,
    )
    assert p.returncode == 0, p.stderr


@pytest.mark.slow
@pytest.mark.parametrize("after_notice_s", [0.5, 6.0])
def test_ctrl_c_while_compiling(tmp_path: Path, after_notice_s: float) -> None:
    """An empty cache: the run generates the bundled data and compiles; SIGINT soon after it says so
    (the data generator's kernel) and later (the Monte Carlo kernel, compiling in a worker thread)."""
    env = dict(os.environ, SIMLAB_CACHE=str(tmp_path / "cache"))
    env.pop("NUMBA_CACHE_DIR", None)  # set in this process once simlab is imported: it would win
    old = tmp_path / "r.json"
    old.write_text(OLD)
    run = Run(["challenge", "--runs", "20", "--json", str(old)], tmp_path, env)
    run.wait_for("compiling the simulation kernels once")
    time.sleep(after_notice_s)
    _check(*run.interrupt(), old)
    if after_notice_s < 1.0:
        return
    _warm(tmp_path, env)  # the compile interrupted in a worker thread left a cache the next run can use


@pytest.mark.slow
@pytest.mark.parametrize("after_s", [1.5, 4.0])
def test_ctrl_c_during_the_monte_carlo_kernel(tmp_path: Path, after_s: float) -> None:
    _warm(tmp_path)
    old = tmp_path / "r.json"
    old.write_text(OLD)
    run = Run([*LONG_RUN, "--json", str(old)], tmp_path)
    time.sleep(after_s)
    _check(*run.interrupt(), old)


def _trades_csv(path: Path) -> Path:
    rng = np.random.default_rng(1)
    t0 = np.datetime64("2022-01-03T08:00")
    lines = ["open time,close time,profit"]
    for i in range(600):
        o = t0 + np.timedelta64(int(i * 1.2 * 24 * 60), "m")
        c = o + np.timedelta64(180, "m")
        lines.append(f"{str(o).replace('T', ' ')},{str(c).replace('T', ' ')},{rng.normal(40, 400):.2f}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("after_s", [1.5, 3.0])
def test_ctrl_c_during_the_trade_list_kernel(tmp_path: Path, after_s: float) -> None:
    """1,000,000 bootstrapped runs of 600 trades take several seconds; Ctrl-C ends them at once."""
    trades = _trades_csv(tmp_path / "trades.csv")
    old = tmp_path / "r.json"
    old.write_text(OLD)
    _warm(tmp_path)
    run = Run(
        ["challenge", "--trades", str(trades), "--runs", "1000000", "--workers", "2", "--json", str(old)],
        tmp_path,
    )
    time.sleep(after_s)
    _check(*run.interrupt(), old)


def test_ctrl_c_while_writing_the_result_keeps_the_older_file(tmp_path: Path, monkeypatch) -> None:
    """The last moment: the result is being written. The temporary file goes, the older file stays."""
    from simlab import atomic

    target = tmp_path / "r.json"
    target.write_text(OLD)

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic.atomic_write_text(target, '{"new": 1}')
    assert target.read_text() == OLD
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
