"""A result file alone reproduces its run (issue 9 item 6, acceptance 6).

``simlab rerun r.json --json again.json`` and the recorded command line, executed as printed, give
the same bytes as the original file, in every mode; and the provenance records every setting the
result depends on.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import numpy as np
import pytest
from _builders import run_simlab, run_simlab_here

run_cli = run_simlab_here


def _trades(path: Path) -> None:
    rng = np.random.default_rng(5)
    rows = ["Open Time;Close Time;Profit;Commission"]
    day = np.datetime64("2024-01-01")
    for k in range(120):
        d = day + np.timedelta64(k, "D")
        if (d.astype(np.int64) + 3) % 7 < 5:
            rows.append(f"{d} 10:00;{d} 16:30;{rng.normal(120, 600):.2f};-7")
    path.write_text("\n".join(rows) + "\n")


CASES = {
    "bars": [
        "challenge",
        "--runs",
        "5",
        "--horizon-days",
        "30",
        "--gov",
        "daily_buffer_pct=1.5",
        "--param",
        "fast=10",
    ],
    "day_bootstrap": [
        "challenge",
        "--runs",
        "3",
        "--horizon-days",
        "20",
        "--bootstrap-days",
        "4",
        "--risk",
        "0.02",
    ],
    "trade_list": [
        "challenge",
        "--trades",
        "t.csv",
        "--runs",
        "50",
        "--program",
        "the5ers-high-stakes",
        "--tz",
        "UTC+2",
    ],
    # a balance typed with ".0" is recorded as "50000" and still reruns to the same bytes
    "backtest": [
        "backtest",
        "--strategy",
        "donchian",
        "--spread",
        "data",
        "--seed",
        "11",
        "--balance",
        "50000.0",
    ],
}


@pytest.mark.parametrize("mode", sorted(CASES))
def test_rerun_and_the_recorded_command_give_the_same_bytes(mode, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _trades(tmp_path / "t.csv")
    code, _, err = run_cli(*CASES[mode], "--json", "a.json")
    assert code == 0, err
    doc = json.loads(Path("a.json").read_text())
    assert doc["mode"] == ("bars" if mode == "backtest" else mode)
    # 1. simlab rerun
    code, _, err = run_cli("rerun", "a.json", "--json", "b.json")
    assert code == 0, err
    assert Path("b.json").read_bytes() == Path("a.json").read_bytes()
    # 2. the command line as printed in the file
    words = shlex.split(doc["provenance"]["command"])
    assert words[0] == "simlab" and words[1:] == doc["provenance"]["argv"]
    code, _, err = run_cli(*words[1:], "--json", "c.json")
    assert code == 0, err
    assert Path("c.json").read_bytes() == Path("a.json").read_bytes()
    # no output option and no worker count in what was recorded
    for word in ("--json", "--html", "--workers", "a.json"):
        assert word not in doc["provenance"]["argv"]


def _after(argv: list[str], opt: str) -> str:
    return argv[argv.index(opt) + 1]


def test_whole_money_is_recorded_as_typed():
    # "--size 100000", not "--size 100000.0": the recorded line reads as a trader types it; any other
    # number, and a fractional balance, keeps its exact repr
    from simlab_cli import provenance as P
    from simlab_cli.main import command_parser

    def argv(command: str, *words: str) -> list[str]:
        return P.canonical_argv(command, command_parser(command).parse_args(list(words)), always=("size",))

    assert _after(argv("challenge"), "--size") == "100000"
    assert _after(argv("challenge", "--size", "2e5"), "--size") == "200000"
    assert _after(argv("challenge", "--size", "12345.5"), "--size") == "12345.5"
    assert _after(argv("challenge", "--risk", "2"), "--risk") == "2.0"  # not money: as before
    assert _after(argv("backtest", "--balance", "50000.0"), "--balance") == "50000"
    assert _after(argv("backtest", "--balance", "2500.25"), "--balance") == "2500.25"


def test_rerun_through_the_real_command_line(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    p = run_simlab(
        "challenge", "--runs", "3", "--horizon-days", "15", "--workers", "2", "--json", str(a), cwd=tmp_path
    )
    assert p.returncode == 0, p.stderr
    p = run_simlab("rerun", str(a), "--json", str(b), "--workers", "1", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert a.read_bytes() == b.read_bytes()


def test_provenance_records_every_setting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, err = run_cli(
        "challenge", "--runs", "2", "--horizon-days", "15", "--gov", "daily_buffer_pct=1.5",
        "--program", "e8-one", "--program-param", "target_pct=9", "--json", "a.json",
    )  # fmt: skip
    assert code == 0, err
    p = json.loads(Path("a.json").read_text())["provenance"]
    assert p["simlab_version"] and p["seed"] == 7 and p["runs"] == 2
    assert p["horizon"]["days"] == 15 and p["horizon"]["source"] == "--horizon-days"
    # the effective governors, every field, not just the preset's name
    from challenges.governors import FIELD_NAMES

    assert p["governors"]["preset"] == "default" and p["governors"]["overrides"] == ["daily_buffer_pct=1.5"]
    assert (
        set(p["governors"]["fields"]) == set(FIELD_NAMES)
        and p["governors"]["fields"]["daily_buffer_pct"] == 1.5
    )
    # the rule set: name, file, sha256, verified date, parameters, every phase's rules
    prog = p["program"]
    assert prog["name"] == "e8-one" and prog["params"] == {"target_pct": 9.0}
    assert prog["verified"] and len(prog["sha256"]) == 64 and prog["file"] == "preset e8-one.toml"
    assert prog["phases"][0]["profit_target_pct"] == 9.0
    # the symbol spec (all fields), the execution model, the zone, the data, the strategy
    from dataclasses import fields

    from simlab.symbols import SymbolSpec

    assert {f.name for f in fields(SymbolSpec)} <= set(p["symbol"])
    assert p["exec_model"]["ident"] == "EURUSD@2026-11-21" and len(p["exec_model"]["sha256"]) == 64
    assert {"spread_mode", "slippage", "latency_budget_ms"} <= set(p["exec_model"])
    assert p["time_zone"]["tz"] == "UTC"
    assert p["data"]["rows"] == 12480 and len(p["data"]["sha256"]) == 64 and p["data"]["first"].endswith("Z")
    assert p["strategy"]["params"] == {
        "fast": 20,
        "slow": 50,
        "ma": "sma",
        "atr_period": 14,
        "atr_stop": 2.0,
        "atr_target": 3.0,
    }
    assert p["lookahead_check"]["ran"] is True
    assert "--exec-model EURUSD@2026-11-21" in p["command"]  # "auto" resolved to the calibration used
    assert " --size 100000 " in p["command"] and ".0" not in _after(p["argv"], "--size")
    # and the table's header shows the important ones
    for needle in (
        "e8-one",
        "verified",
        "daily_buffer_pct 1.5",
        "EURUSD@2026-11-21",
        "horizon: 15",
        "seed 7",
    ):
        assert needle in stdout, needle
