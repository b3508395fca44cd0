"""Bad input never ends in a traceback: one line on stderr naming file, row and field, exit code 2.

Each case of ``data_helpers.BAD_CASES`` is run twice: through the CLI in a subprocess
(``python -m simlab_cli inspect --data FILE``) and through the Python API. The CLI
processes are all started at once by a module fixture, so the file runs in the time
of a few interpreter starts rather than one per case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from data_helpers import BAD_CASES, GOOD_BIDASK, GOOD_MT5, MANGLE_PIECES, TICKS, BadCase, replace_field, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlab.errors import InputError
from simlab.loaders import load_bars, load_ticks

ROOT = Path(__file__).resolve().parents[1]
CASES = {c.id: c for c in BAD_CASES}
CLI_CASES = [c.id for c in BAD_CASES if c.cli]  # at least one of every kind of problem


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str
    file: Path


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "simlab_cli", "inspect", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.fixture(scope="module")
def cli_results(tmp_path_factory) -> dict[str, Result]:
    folder = tmp_path_factory.mktemp("bad_cli")
    procs = {}
    for case in BAD_CASES:
        if not case.cli:
            continue
        f = case.write(folder)
        procs[case.id] = (
            subprocess.Popen(
                _cli("--data", str(f), *case.cli_args),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=folder,
                env=_env(),
            ),
            f,
        )
    out = {}
    for cid, (proc, f) in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        out[cid] = Result(proc.returncode, stdout, stderr, f)
    return out


def _check_message(message: str, case: BadCase, file: Path) -> None:
    assert "\n" not in message.strip(), f"not one line: {message!r}"
    assert "Traceback" not in message
    assert str(file) in message, f"file not named: {message!r}"
    for piece in case.expect:
        assert piece in message, f"{piece!r} not in {message!r}"


@pytest.mark.parametrize("cid", CLI_CASES)
def test_cli_bad_input_one_line_exit_2(cli_results, cid):
    case, res = CASES[cid], cli_results[cid]
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("simlab inspect: error: ")
    _check_message(lines[0], case, res.file)


@pytest.mark.parametrize("cid", list(CASES))
def test_api_bad_input_raises_input_error(tmp_path, cid):
    case = CASES[cid]
    f = case.write(tmp_path)
    loader = load_ticks if case.ticks else load_bars
    with pytest.raises(InputError) as info:
        loader(f, **case.api)  # type: ignore[operator]
    err = info.value
    _check_message(str(err), case, f)
    assert err.where == str(f)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_bars(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a directory"):
        load_bars(tmp_path)
    with pytest.raises(InputError, match="format 'xls' unknown"):
        load_bars(write(tmp_path / "a.csv", GOOD_BIDASK), fmt="xls")


def test_bars_file_given_to_load_ticks(tmp_path):
    with pytest.raises(InputError, match=r"line 1: columns .* are bars, not ticks; expected time, bid, ask"):
        load_ticks(write(tmp_path / "a.csv", GOOD_BIDASK))


def test_truncated_gzip_is_one_line(tmp_path):
    import gzip

    data = gzip.compress(("\n".join(GOOD_BIDASK * 2000)).encode())
    f = tmp_path / "cut.csv.gz"
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as info:
        load_bars(f)
    assert "\n" not in str(info.value) and str(f) in str(info.value)


def test_bad_input_leaves_no_output_file(tmp_path):
    """--json is written atomically and only after validation: a bad file leaves nothing, not even a temp."""
    bad = write(tmp_path / "bad.csv", replace_field(GOOD_BIDASK, 3, 2, "abc"))
    out = tmp_path / "out" / "summary.json"
    stale = tmp_path / "stale.json"
    stale.write_text('{"old": true}')
    for target in (out, stale):
        proc = subprocess.run(
            _cli("--data", str(bad), "--json", str(target)),
            capture_output=True,
            text=True,
            env=_env(),
            timeout=120,
        )
        assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1
        assert "line 3, field 'bid_high'" in proc.stderr
    assert not out.exists()
    assert stale.read_text() == '{"old": true}'  # untouched, not truncated
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_good_input_writes_the_json_summary(tmp_path):
    good = write(tmp_path / "EURUSD_M1.csv", GOOD_MT5)
    out = tmp_path / "summary.json"
    proc = subprocess.run(
        _cli("--data", str(good), "--tz", "Europe/Helsinki", "--json", str(out)),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "4 bars" in proc.stdout and "1min" in proc.stdout and "abnormal holes: none" in proc.stdout
    summary = json.loads(out.read_text())
    assert summary["rows"] == 4 and summary["format"] == "mt5-bars" and summary["tz"] == "Europe/Helsinki"
    assert summary["start_utc"] == "2014-05-01 00:00:00 UTC" and summary["bar_size"] == "1min"
    assert summary["spread_points"]["by_session"]["all"]["median"] == 12.5
    assert summary["gaps"]["holes"] == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base=st.sampled_from(["bidask", "mt5", "ticks"]),
    edits=st.lists(
        st.tuples(
            st.floats(0, 1), st.sampled_from(["set", "insert", "delete"]), st.sampled_from(MANGLE_PIECES)
        ),
        min_size=1,
        max_size=5,
    ),
)
def test_mangled_files_give_input_errors_or_bars_never_tracebacks(tmp_path, base, edits):
    lines = {"bidask": GOOD_BIDASK, "mt5": GOOD_MT5, "ticks": TICKS}[base]
    chars = list("\n".join(lines))
    for where, op, piece in edits:
        i = min(int(where * len(chars)), max(len(chars) - 1, 0))
        if op == "set" and chars:
            chars[i] = piece
        elif op == "insert":
            chars.insert(i, piece)
        elif chars:
            del chars[i]
    f = tmp_path / "mangled.csv"
    f.write_bytes("".join(chars).encode("utf-8", errors="surrogatepass"))
    for load in (lambda: load_bars(f, tz="Europe/Helsinki"), lambda: load_ticks(f)):
        try:
            load()
        except InputError as exc:
            assert "\n" not in str(exc) and "\r" not in str(exc) and str(f) in str(exc)


def test_line_numbers_count_blank_and_leading_lines(tmp_path):
    lines = ["", "", *GOOD_BIDASK[:3], "", GOOD_BIDASK[3], GOOD_BIDASK[4] + ",9"]
    with pytest.raises(InputError, match=r"line 8: 10 fields; expected 9 fields like the header \(line 3\)"):
        load_bars(write(tmp_path / "a.csv", lines))
    lines = ["", *GOOD_BIDASK[:3], "", *replace_field(GOOD_BIDASK, 4, 3, "x")[3:]]
    with pytest.raises(InputError, match=r"line 6, field 'bid_low': 'x' is not a number"):
        load_bars(write(tmp_path / "b.csv", lines))
