"""Bad values and dangerous output paths are refused before anything runs: one line on stderr, exit 2,
no output file, every input untouched (issue 10 items 3, 4, 5, 10, 11 and issue 9 item 13).

Each case runs ``simlab`` as a user does (a subprocess through ``_builders.run_simlab``).
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from pathlib import Path

import pytest
from _builders import run_simlab

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--runs", "2", "--horizon-days", "10"]
BARS_CSV = (
    "time,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close\n"
    "2024-01-02T00:00:00Z,1.1,1.1005,1.0995,1.1,1.1001,1.1006,1.0996,1.1001\n"
)


def simlab(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_simlab(*args, cwd=cwd, timeout=300)


def digest(folder: Path) -> dict[str, str]:
    """name -> sha256 (or the kind, for what is not a regular file) of everything in ``folder``."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[str(p.relative_to(folder))] = "dir" if p.is_dir() else "other"
    return out


def refused(p: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert p.returncode == 2, (p.returncode, p.stdout[-500:], p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder with one of each input file; the test checks none of them changes."""
    (tmp_path / "mydata.csv").write_text(BARS_CSV)
    (tmp_path / "trades.csv").write_text("open time,close time,profit\n2024-01-02 09:00,2024-01-02 10:00,5\n")
    (tmp_path / "sym.toml").write_text("[EURUSD]\ncommission_per_lot = 3.0\n")
    rules = (ROOT / "challenges" / "presets" / "ftmo-2step.toml").read_text()
    (tmp_path / "rules.toml").write_text(rules)
    model = (ROOT / "execution_models" / "EURUSD" / "2026-11-21.json").read_text()
    (tmp_path / "model.json").write_text(model)
    return tmp_path


def check(work: Path, *args: str, needles: tuple[str, ...] = (), outputs: tuple[str, ...] = ()) -> str:
    before = digest(work)
    p = simlab(*args, cwd=work)
    line = refused(p, *needles)
    assert digest(work) == before, "an input or output changed"
    for o in outputs:
        assert not (work / o).exists() or (work / o).name in before
    return line


# ----------------------------------------------------------------------------- governor buffers


@pytest.mark.parametrize("value", ["-50", "-inf", "nan", "-0.5"])
@pytest.mark.parametrize("field", ["maxloss_buffer_pct", "daily_buffer_pct"])
def test_negative_or_nan_governor_buffer_on_the_command_line(work, field, value):
    check(work, "challenge", *FAST, "--gov", f"{field}={value}", "--json", "out.json", needles=(field,))
    assert not (work / "out.json").exists()


@pytest.mark.parametrize("value", ["-50", "-inf", "nan"])
def test_negative_or_nan_governor_buffer_in_a_file(work, value):
    (work / "g.toml").write_text(f"maxloss_buffer_pct = {value}\n")
    check(
        work, "challenge", *FAST, "--governors", "g.toml", "--json", "out.json", needles=("g.toml", "maxloss")
    )
    assert not (work / "out.json").exists()


# ----------------------------------------------------------------------------- outputs that are inputs


@pytest.mark.parametrize(
    ("args", "out"),
    [
        (["challenge", *FAST, "--data", "mydata.csv"], "mydata.csv"),
        (["challenge", *FAST, "--data", "./mydata.csv"], "mydata.csv"),
        (["challenge", *FAST, "--trades", "trades.csv"], "trades.csv"),
        (["challenge", *FAST, "--symbol-file", "sym.toml"], "sym.toml"),
        (["challenge", *FAST, "--program", "rules.toml"], "rules.toml"),
        (["challenge", *FAST, "--exec-model", "model.json"], "model.json"),
        (["backtest", "--data", "mydata.csv"], "mydata.csv"),
        (["backtest", "--exec-model", "model.json"], "model.json"),
    ],
)
@pytest.mark.parametrize("flag", ["--json", "--html"])
def test_an_output_on_an_input_is_refused_before_running(work, args, out, flag):
    check(work, *args, flag, out, needles=(flag, "input"))


def test_json_and_html_on_one_path(work):
    check(work, "challenge", *FAST, "--json", "r.out", "--html", "r.out", needles=("--html", "--json"))
    assert not (work / "r.out").exists()


def test_rerun_output_on_its_own_result_file(work):
    (work / "r.json").write_text("{}")
    check(work, "rerun", "r.json", "--json", "r.json", needles=("--json", "input"))


# ----------------------------------------------------------------------------- values checked before running


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["challenge", "--horizon-days", "0"], ("--horizon-days",)),
        (["challenge", "--horizon-days", "-5"], ("--horizon-days",)),
        (["challenge", "--size", "1e300"], ("--size", "up to 1e9")),
        (["backtest", "--balance", "1e300"], ("--balance", "up to 1e9")),
        (["challenge", "--size", "nan"], ("--size",)),
        (["challenge", "--size", "-100000"], ("--size",)),
        (["challenge", "--risk", "nan"], ("--risk",)),
        (["challenge", "--risk", "inf"], ("--risk",)),
        (["challenge", "--min-pass-rate", "70"], ("--min-pass-rate", "fraction")),
        (["challenge", "--min-pass-rate", "-0.1"], ("--min-pass-rate",)),
        (["challenge", "--min-pass-rate", "nan"], ("--min-pass-rate",)),
        (["challenge", "--latency-budget-ms", "nan"], ("--latency-budget-ms",)),
        (["challenge", "--latency-budget-ms", "-1"], ("--latency-budget-ms",)),
        (["challenge", "--runs", "0"], ("--runs",)),
        (["challenge", "--workers", "0"], ("--workers",)),
        (["challenge", "--bootstrap-days", "-1"], ("--bootstrap-days",)),
        (["challenge", "--trade-scale", "nan", "--trades", "trades.csv"], ("--trade-scale",)),
        (["challenge", "--program-param", "target_pct=abc", "--program", "e8-one"], ("target_pct=abc",)),
        (["challenge", "--program-param", "target_pct=nan", "--program", "e8-one"], ("target_pct=nan",)),
        (["challenge", "--seed", "18446744073709551616"], ("--seed", "2**63-1")),
        (["challenge", "--seed", "9223372036854775808"], ("--seed",)),  # 2**63
        (["challenge", "--seed", "-9223372036854775808"], ("--seed",)),  # -2**63
        (["challenge", "--seed", "-1"], ("--seed",)),
        (["backtest", "--balance", "0"], ("--balance",)),
        (["backtest", "--balance", "-100"], ("--balance",)),
        (["backtest", "--balance", "nan"], ("--balance",)),
        (["backtest", "--balance", "inf"], ("--balance",)),
        (["backtest", "--volume", "1e300"], ("--volume", "maximum volume 100")),
        (["backtest", "--volume", "0.001"], ("--volume", "minimum volume 0.01")),
        (["backtest", "--volume", "0.015"], ("--volume", "volume step 0.01")),
        (["backtest", "--volume", "-1"], ("--volume",)),
        (["backtest", "--volume", "0"], ("--volume",)),
        (["backtest", "--volume", "nan"], ("--volume",)),
        (["backtest", "--seed", "18446744073709551616"], ("--seed",)),
        (["backtest", "--risk", "nan"], ("--risk",)),
    ],
)
def test_values_are_checked_before_running(work, args, needles):
    check(work, *args, "--json", "out.json", needles=needles)
    assert not (work / "out.json").exists()


def test_the_largest_seed_is_accepted_and_differs_from_zero(work):
    a, b = work / "a.json", work / "b.json"
    p = simlab("challenge", *FAST, "--seed", str(2**63 - 1), "--json", "a.json", cwd=work)
    assert p.returncode == 0, p.stderr
    p = simlab("challenge", *FAST, "--seed", "0", "--json", "b.json", cwd=work)
    assert p.returncode == 0, p.stderr
    import json

    starts = [[x["start"] for x in json.loads(f.read_text())["result"]["attempts"]] for f in (a, b)]
    assert starts[0] != starts[1]


# ----------------------------------------------------------------------------- output paths


def test_output_path_is_a_directory(work):
    (work / "adir").mkdir()
    check(work, "challenge", *FAST, "--json", "adir", needles=("--json", "directory"))
    check(work, "backtest", "--json", "adir", needles=("--json", "directory"))


def test_output_path_under_a_regular_file(work):
    check(work, "challenge", *FAST, "--json", "mydata.csv/out.json", needles=("--json", "is a file"))


def test_output_path_with_a_missing_folder(work):
    check(work, "challenge", *FAST, "--html", "nope/deeper/r.html", needles=("--html", "does not exist"))
    assert not (work / "nope").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder; the probe would succeed")
def test_output_path_in_a_read_only_folder(work):
    ro = work / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        check(work, "challenge", *FAST, "--json", "ro/r.json", needles=("--json", "cannot write"))
    finally:
        ro.chmod(stat.S_IRWXU)


def test_a_special_file_is_never_replaced(work):
    """``--json /dev/full``: as root the atomic rename would replace the device node; refused instead."""
    dev = Path("/dev/full") if Path("/dev/full").exists() else Path("/dev/null")
    mode = dev.stat().st_mode
    p = simlab("challenge", *FAST, "--json", str(dev), cwd=work)
    refused(p, "--json", "not a regular file")
    assert stat.S_ISCHR(dev.stat().st_mode) and dev.stat().st_mode == mode


def test_a_fifo_output_is_refused(work):
    os.mkfifo(work / "pipe")
    check(work, "backtest", "--json", "pipe", needles=("--json", "not a regular file"))
    assert stat.S_ISFIFO((work / "pipe").stat().st_mode)


def test_atomic_write_refuses_a_special_file_itself(tmp_path):
    """Defence in depth: the writer also never renames over something that is not a regular file."""
    from simlab.atomic import atomic_write_text
    from simlab.errors import ConfigError

    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ConfigError, match="not a regular file"):
        atomic_write_text(tmp_path / "pipe", "x")
    assert stat.S_ISFIFO((tmp_path / "pipe").stat().st_mode)


def test_an_absurd_account_size_in_a_rule_file(work):
    """``sizes = [1e300]`` with ``--size 1e300`` overflowed an integer in the volume sizing: refused."""
    rules = (work / "rules.toml").read_text()
    (work / "big.toml").write_text(
        "\n".join("sizes = [1e300]" if ln.startswith("sizes") else ln for ln in rules.splitlines())
    )
    check(
        work,
        "challenge",
        *FAST,
        "--program",
        "big.toml",
        "--json",
        "out.json",
        needles=("big.toml", "sizes[0]"),
    )


def test_an_unwritable_folder_is_refused_in_one_line(tmp_path, monkeypatch):
    """The folder probe's failure (what a read-only folder gives a non-root user) names the option."""
    import simlab.atomic as atomic
    from simlab.errors import ConfigError

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", denied)
    with pytest.raises(ConfigError) as ei:
        atomic.check_output_paths({"--json": str(tmp_path / "r.json")})
    assert (
        str(ei.value) == f"--json {tmp_path / 'r.json'}: cannot write in folder {tmp_path}: Permission denied"
    )
    assert not (tmp_path / "r.json").exists()
