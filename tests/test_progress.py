"""What a long run shows while it works: on stderr only, and only on a terminal (or one plain line).

Before: a first run compiled for 20-75 s in silence, and a long run printed a hand-drawn bar. Now the
compile says so (a rich spinner on a terminal, one plain line otherwise; ``test_interrupt`` waits for
that line), a run longer than a second shows a rich progress bar over its attempts on a terminal,
and stdout and the JSON are the same bytes whether stderr is a terminal or not.
"""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from _builders import drain_pty

from simlab import progress

# 4,000 attempts of 60 days of minute bars, no governors and a small risk: a few seconds of kernel
LONG = ["challenge", "--data", "bundled-m1", "--runs", "4000", "--horizon-days", "60", "--governors", "none"]
LONG += ["--param", "fast=600", "--param", "slow=3000", "--risk", "0.002", "--workers", "2"]


def _run_with_tty_stderr(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run simlab with stderr on a pseudo-terminal and stdout on a pipe: (exit, stdout, terminal output)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(
        [sys.executable, "-m", "simlab_cli", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=slave, text=True
    )
    os.close(slave)
    seen = drain_pty(master, p)
    assert p.stdout is not None
    out = p.stdout.read()
    rc = p.wait()
    os.close(master)
    return rc, out, seen.decode("utf-8", "replace")


def test_a_long_run_shows_a_progress_bar_on_a_terminal_and_nothing_else_changes(tmp_path: Path) -> None:
    tty_json, pipe_json = tmp_path / "tty.json", tmp_path / "pipe.json"
    rc, out, term = _run_with_tty_stderr([*LONG, "--json", str(tty_json)], tmp_path)
    assert rc == 0, term
    assert "attempts" in term and "/4000" in term  # rich's bar: "attempts ━━━━ 1234/4000 0:00:01"
    p = subprocess.run(
        [sys.executable, "-m", "simlab_cli", *LONG, "--json", str(pipe_json)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0 and p.stderr == "", p.stderr  # not a terminal: no bar
    assert out == p.stdout.replace(str(pipe_json), str(tty_json))  # stdout: the table only, the same
    assert tty_json.read_bytes() == pipe_json.read_bytes()


def test_the_compile_notice_is_a_spinner_on_a_terminal_and_one_line_otherwise(monkeypatch, capsys) -> None:
    from rich.console import Console

    buf = io.StringIO()
    monkeypatch.setattr(
        progress, "_stderr_console", lambda: Console(file=buf, force_terminal=True, width=120)
    )
    notice = progress._CompileNotice("simlab test", tty=True)
    notice.on_start()
    notice.on_start()  # nested compiles: one spinner
    assert progress._live["status"] is not None
    notice.on_end()
    notice.on_end()
    assert progress._live["status"] is None
    assert "compiling the simulation kernels once" in buf.getvalue()
    assert capsys.readouterr().err == ""

    plain = progress._CompileNotice("simlab test", tty=False)
    for _ in range(3):  # three compile bursts, one line
        plain.on_start()
        plain.on_end()
    err = capsys.readouterr().err
    assert err == f"simlab test: {progress.COMPILE_MESSAGE}\n"
