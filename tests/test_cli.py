"""The main commands as a user runs them: determinism of --json, gates, one-line errors, no partial files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from _builders import run_simlab

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--horizon-days", "30"]


def simlab(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_simlab(*args, cwd=cwd or ROOT)


def one_line_error(p: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_help_lists_the_commands():
    p = simlab("--help")
    assert p.returncode == 0
    for cmd in ("challenge", "backtest", "calibrate", "check-strategy", "programs", "inspect"):
        assert cmd in p.stdout


def test_challenge_json_is_byte_identical_across_runs_and_workers(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    p1 = simlab("challenge", "--runs", "6", *FAST, "--json", str(a), "--workers", "1")
    p2 = simlab("challenge", "--runs", "6", *FAST, "--json", str(b), "--workers", "2")
    assert p1.returncode == 0, p1.stderr
    assert p2.returncode == 0, p2.stderr
    assert a.read_bytes() == b.read_bytes()
    doc = json.loads(a.read_text())
    assert doc["schema"] == "simlab.result/1" and doc["kind"] == "challenge" and doc["mode"] == "bars"
    j = doc["result"]
    assert j["pass_rate"]["runs"] == 6
    lo, hi = j["pass_rate"]["ci95"]
    assert 0.0 <= lo <= j["pass_rate"]["rate"] <= hi <= 1.0
    assert "PASS RATE" in p1.stdout and "95% CI" in p1.stdout


def test_challenge_min_pass_rate_gate_and_html(tmp_path):
    html = tmp_path / "r.html"
    p = simlab("challenge", "--runs", "3", *FAST, "--min-pass-rate", "1.0", "--html", str(html))
    assert p.returncode == 1
    assert "below --min-pass-rate" in p.stdout
    text = html.read_text()
    assert text.startswith("<!doctype html>") and "PASS" not in text[:0]
    assert "Wilson" in text


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--program", "nope"], ["nope"]),
        (["--size", "12345"], ["12,345", "sizes"]),
        (["--risk", "5"], ["--risk"]),
        (["--runs", "0"], ["--runs"]),
        (["--horizon-days", "5000"], ["5000"]),
        (["--data", "does-not-exist.csv"], ["does-not-exist.csv"]),
        (["--strategy", "no_such_strategy"], ["no_such_strategy"]),
        (["--exec-model", "EURUSD@1999-01-01"], ["1999-01-01"]),
    ],
)
def test_challenge_bad_input_is_one_line_exit_2(args, needles, tmp_path):
    out = tmp_path / "out.json"
    p = simlab("challenge", "--runs", "2", *args, "--json", str(out))
    one_line_error(p, *needles)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_challenge_bad_rule_file(tmp_path):
    bad = tmp_path / "rules.toml"
    bad.write_text('name = "x"\nfirm = "x"\n[[phases]]\nname = "P"\nprofit_target_pct = 150\n')
    p = simlab("challenge", "--runs", "2", "--program", str(bad))
    one_line_error(p, "rules.toml")


def test_challenge_data_shorter_than_one_attempt(tmp_path):
    csv = tmp_path / "short.csv"
    rows = ["time,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close"]
    for h in range(48):
        t = f"2024-01-{2 + h // 24:02d}T{h % 24:02d}:00:00Z"
        rows.append(f"{t},1.1,1.1005,1.0995,1.1,1.1001,1.1006,1.0996,1.1001")
    csv.write_text("\n".join(rows) + "\n")
    p = simlab("challenge", "--runs", "2", "--data", str(csv), "--exec-model", "none")
    one_line_error(p, "short.csv", "days")


def test_backtest_json_is_byte_identical(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    p1 = simlab("backtest", "--json", str(a))
    p2 = simlab("backtest", "--json", str(b))
    assert p1.returncode == 0, p1.stderr
    assert p2.returncode == 0, p2.stderr
    assert a.read_bytes() == b.read_bytes()
    doc = json.loads(a.read_text())
    assert doc["schema"] == "simlab.result/1" and doc["kind"] == "backtest"
    j = doc["result"]
    assert j["summary"]["trades"] == len(j["trades"]) > 0
    for key in ("win rate", "net P/L", "max drawdown", "profit factor", "Sharpe", "average cost paid"):
        assert key in p1.stdout
    assert "costs paid per session" in p1.stdout


def test_backtest_bad_data_leaves_no_output(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "time,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close\n"
        "2024-01-02T00:00:00Z,1.1,1.0,1.2,1.1,1.1001,1.1006,1.0996,1.1001\n"
    )
    out = tmp_path / "out.json"
    p = simlab("backtest", "--data", str(bad), "--json", str(out))
    one_line_error(p, "bad.csv")
    assert not out.exists()


def test_challenge_trade_list_mode(tmp_path):
    trades = tmp_path / "trades.csv"
    rows = ["open time,close time,profit"]
    day = 2
    for i in range(40):
        d = f"2024-01-{day:02d}"
        rows.append(f"{d} 09:00,{d} 15:00,{600 if i % 3 else -400}")
        day = day + 1 if (day % 7) not in (5,) else day + 3  # skip weekends roughly
        if day > 28:
            day = 2
    trades.write_text("\n".join(rows) + "\n")
    j = tmp_path / "t.json"
    html = tmp_path / "t.html"
    p = simlab("challenge", "--trades", str(trades), "--runs", "50", "--json", str(j), "--html", str(html))
    assert p.returncode == 0, p.stderr
    page = html.read_text()  # the same report as bar mode, from the same schema
    for needle in ("<!doctype html>", "passed by day d", "trade list", "Wilson", "What this run cannot see"):
        assert needle in page, needle
    assert "MAE" in p.stdout  # says what trade granularity cannot see
    doc = json.loads(j.read_text())
    assert doc["schema"] == "simlab.result/1" and doc["mode"] == "trade_list"
    pr = doc["result"]["pass_rate"]
    assert pr["runs"] == 50
    assert 0.0 <= pr["ci95"][0] <= pr["rate"] <= pr["ci95"][1] <= 1.0


def test_a_closed_pipe_ends_quietly(monkeypatch, capsys):
    """``simlab programs | head -1``: the reader stops early; no 'internal error' line, exit 0."""
    import io

    from simlab_cli.main import main

    class ClosedPipe(io.StringIO):
        def write(self, s: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("sys.stdout", ClosedPipe())
    assert main(["programs"]) == 0
    assert capsys.readouterr().err == ""
