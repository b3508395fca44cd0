"""Issue 10, acceptance 2: fuzzing the loaders with byte-level corruptions of valid files.

A valid MT5 "Export bars" file and a valid bid/ask CSV are written in one of the
encodings MT5 and spreadsheets produce (UTF-8 with or without BOM, UTF-16 LE/BE with
or without BOM, LF or CRLF, optionally gzipped), then corrupted: truncated, bytes
inserted, deleted or replaced, lines swapped, duplicated or dropped. Whatever comes
out, a loader either returns bars or raises one :class:`~simlab.errors.SimlabError`
line naming the file; any other exception, or a call that takes more than 20 s, fails
the property. Corruptions that keep the content (re-encodings, CRLF, BOM, gzip) must
give exactly the original bars.

Runs in-process against the loader functions (a few hundred examples in the default
profile, thousands under ``HYPOTHESIS_PROFILE=props``); a handful of the same cases
also go through the CLI in subprocesses, which must exit 0 or 2 (never 3) with one line.
"""

from __future__ import annotations

import gzip
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from data_helpers import BIDASK_HEADER, MANGLE_PIECES, MT5_BARS_HEADER, bidask_row, mt5_bar
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from simlab.errors import SimlabError
from simlab.loaders import load_bars, load_ticks

ROOT = Path(__file__).resolve().parents[1]
MAX_LINE = 300
TIME_LIMIT_S = 20


def _mt5_lines(n: int = 24) -> list[str]:
    rows, p = [MT5_BARS_HEADER], 1.08500
    for i in range(n):
        o, c = p, p + (0.00013 if i % 3 else -0.00021)
        hi, lo = max(o, c) + 0.00005, min(o, c) - 0.00004
        rows.append(
            mt5_bar(
                "2024.03.05", f"{i:02d}:00:00", *(f"{x:.5f}" for x in (o, hi, lo, c)), 100 + i, 10 + i % 7
            )
        )
        p = c
    return rows


def _bidask_lines(n: int = 24) -> list[str]:
    rows, p = [BIDASK_HEADER], 1.08500
    for i in range(n):
        o, c = p, p + (0.00013 if i % 3 else -0.00021)
        hi, lo = max(o, c) + 0.00005, min(o, c) - 0.00004
        bid = tuple(f"{x:.5f}" for x in (o, hi, lo, c))
        ask = tuple(f"{x + 0.00012:.5f}" for x in (o, hi, lo, c))
        rows.append(bidask_row(f"2024-03-05T{i:02d}:00:00Z", bid, ask))  # type: ignore[arg-type]
        p = c
    return rows


BASES = {"mt5": _mt5_lines(), "csv": _bidask_lines()}
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "utf-16"]


def _encode(lines: list[str], encoding: str, newline: str, gz: bool) -> bytes:
    data = (newline.join(lines) + newline).encode(encoding)
    return gzip.compress(data, mtime=0) if gz else data


@contextmanager
def _time_limit(seconds: int):
    """A hang is a failure, not a stuck test run (POSIX; elsewhere no limit)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def boom(*_: object) -> None:
        raise TimeoutError(f"loader took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _outcome(path: Path, load) -> object:
    """The bars, or the error line; anything but a SimlabError propagates and fails the property."""
    try:
        with _time_limit(TIME_LIMIT_S):
            return load()
    except SimlabError as exc:
        msg = str(exc)
        assert "\n" not in msg and "\r" not in msg, msg
        assert str(path) in msg, msg
        assert len(msg) <= len(str(path)) + 2 + MAX_LINE, len(msg)
        return msg


def _same_bars(a, b) -> None:
    for name in ("time", "bid", "ask", "volume"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def _reference(base: str, folder: Path):
    return load_bars(
        _write(folder, f"ref_{base}", _encode(BASES[base], "utf-8", "\n", False)), tz="Europe/Helsinki"
    )


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / f"{name}.csv"  # one file per name, rewritten by each example
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------ corruptions

_pos = st.floats(0, 1, allow_nan=False)
OPS = st.one_of(
    st.tuples(st.just("truncate"), _pos),
    st.tuples(st.just("insert"), _pos, st.binary(min_size=1, max_size=6)),
    st.tuples(st.just("insert_text"), _pos, st.sampled_from(MANGLE_PIECES)),
    st.tuples(st.just("delete"), _pos, st.integers(1, 24)),
    st.tuples(st.just("replace"), _pos, st.binary(min_size=1, max_size=2)),
    st.tuples(st.just("swap_lines"), st.integers(0, 30), st.integers(0, 30)),
    st.tuples(st.just("dup_line"), st.integers(0, 30)),
    st.tuples(st.just("drop_line"), st.integers(0, 30)),
)


def _apply(data: bytes, op: tuple, encoding: str) -> bytes:
    kind = op[0]
    if kind in ("swap_lines", "dup_line", "drop_line"):
        nl = "\n".encode(encoding if encoding != "utf-16" else "utf-16-le")
        lines = data.split(nl)
        if not lines:
            return data
        i = op[1] % len(lines)
        if kind == "swap_lines":
            j = op[2] % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "dup_line":
            lines.insert(i, lines[i])
        else:
            del lines[i]
        return nl.join(lines)
    at = min(int(op[1] * len(data)), len(data))
    if kind == "truncate":
        return data[:at]
    if kind == "insert":
        return data[:at] + op[2] + data[at:]
    if kind == "insert_text":
        return data[:at] + op[2].encode("utf-8") + data[at:]
    if kind == "delete":
        return data[:at] + data[at + op[2] :]
    return data[:at] + op[2] + data[at + len(op[2]) :]


CORRUPTED = st.tuples(
    st.sampled_from(sorted(BASES)),
    st.sampled_from(ENCODINGS),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),  # gzip
    st.booleans(),  # corrupt the gzip stream itself (else the text before compressing)
    st.lists(OPS, min_size=1, max_size=4),
)


def _corrupt(case: tuple) -> tuple[str, bytes]:
    base, encoding, newline, gz, after_gzip, ops = case
    data = (newline.join(BASES[base]) + newline).encode(encoding)
    if gz and after_gzip:
        data = gzip.compress(data, mtime=0)
    for op in ops:
        data = _apply(data, op, encoding)
    if gz and not after_gzip:
        data = gzip.compress(data, mtime=0)
    return base, data


def _load_all(path: Path) -> list[object]:
    return [
        _outcome(path, lambda: load_bars(path, tz="Europe/Helsinki")),
        _outcome(path, lambda: load_bars(path)),
        _outcome(path, lambda: load_ticks(path)),
    ]


# ------------------------------------------------------------------ the properties


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=CORRUPTED)
@example(case=("mt5", "utf-16", "\r\n", False, False, [("truncate", 0.5)]))  # half a UTF-16 code unit
@example(case=("mt5", "utf-8", "\n", False, False, [("delete", 0.98, 3)]))  # the last row's fields cut
@example(case=("csv", "utf-8", "\n", True, True, [("replace", 0.5, b"\xff\xff")]))  # a corrupt gzip
@example(case=("mt5", "utf-16-be", "\n", False, False, [("insert", 0.0, b"\xfe")]))  # a broken BOM
@example(case=("csv", "utf-8", "\n", False, False, [("insert_text", 0.3, "\x00")]))  # a NUL in a field
@example(case=("mt5", "utf-8", "\n", False, False, [("swap_lines", 0, 5)]))  # the header in the middle
def test_corrupted_files_load_or_give_one_line_properties(tmp_path, case):
    base, data = _corrupt(case)
    _load_all(_write(tmp_path, base, data))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base=st.sampled_from(sorted(BASES)),
    encoding=st.sampled_from(ENCODINGS),
    newline=st.sampled_from(["\n", "\r\n"]),
    gz=st.booleans(),
    final_newline=st.booleans(),
)
def test_content_preserving_changes_give_identical_bars_properties(
    tmp_path, base, encoding, newline, gz, final_newline
):
    text = newline.join(BASES[base]) + (newline if final_newline else "")
    data = text.encode(encoding)
    path = _write(tmp_path, base, gzip.compress(data, mtime=0) if gz else data)
    got = load_bars(path, tz="Europe/Helsinki")
    _same_bars(got, _reference(base, tmp_path))
    assert got.meta["warnings"] == []


# ------------------------------------------------------------------ the same kind of cases through the CLI

CLI_CASES = [
    ("mt5", "utf-16", "\r\n", False, False, [("truncate", 0.5)]),
    ("mt5", "utf-8", "\n", False, False, [("delete", 0.5, 40)]),
    ("csv", "utf-8", "\n", True, True, [("replace", 0.5, b"\xff\xff")]),
    ("csv", "utf-16-be", "\r\n", False, False, [("insert", 0.4, b"\x00\x00\x00")]),
    ("mt5", "utf-8-sig", "\n", True, False, [("swap_lines", 1, 9), ("insert_text", 0.7, "nan")]),
    ("csv", "utf-8", "\r\n", False, False, [("dup_line", 7)]),
    ("mt5", "utf-16-le", "\n", False, False, [("replace", 0.1, b"\x00")]),
    ("csv", "utf-8", "\n", False, False, [("truncate", 0.995)]),
]


def test_corrupted_files_through_the_cli_exit_0_or_2_properties(tmp_path):
    procs = []
    for k, case in enumerate(CLI_CASES):
        base, data = _corrupt(case)
        path = tmp_path / f"case{k}_{base}.csv"
        path.write_bytes(data)
        expect_error = isinstance(_outcome(path, lambda p=path: load_bars(p, tz="Europe/Helsinki")), str)
        cmd = [sys.executable, "-m", "simlab_cli", "inspect", "--data", str(path), "--tz", "Europe/Helsinki"]
        procs.append(
            (
                case,
                path,
                expect_error,
                subprocess.Popen(
                    cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
                ),
            )
        )
    for case, path, expect_error, proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, 2), (case, proc.returncode, err)
        assert (proc.returncode == 2) == expect_error, (case, err)
        if proc.returncode == 2:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in err, err
