"""Issue 9, acceptance 3: the command ``simlab calibrate`` prints runs as printed.

The model's point is the symbol spec's, never one inferred from the prices where a spec
is known. Two tick files where inference would go wrong: gold quoted to 0.001 (3
decimals; the XAUUSD spec's point is 0.01) and EURUSD from a feed whose last digit is
always 0 (4 decimals seen; the spec's point is 0.00001). Before, both models came out in
the inferred points and the printed ``--exec-model`` failed with a point mismatch.
"""

from __future__ import annotations

import json
import shlex

import numpy as np
import pandas as pd
import pytest
from _builders import run_simlab


def _ticks(path, start: float, step: float, spread: tuple[int, int], decimals: int, n: int = 20_000) -> None:
    """Ten-second quotes for ~2.3 days (enough minute bars for the default strategy to trade)."""
    rng = np.random.default_rng(11)
    t = pd.date_range("2024-03-04T00:00:00Z", periods=n, freq="10s")
    bid = start + np.cumsum(rng.integers(-3, 4, n)) * step
    ask = bid + rng.integers(*spread, n) * step
    pd.DataFrame(
        {
            "time": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "bid": [f"{x:.{decimals}f}" for x in bid],
            "ask": [f"{x:.{decimals}f}" for x in ask],
        }
    ).to_csv(path, index=False)


CASES = {
    # symbol, first price, price step of the feed, spread range in steps, decimals written, the spec's point
    "XAUUSD": (2030.0, 0.005, (20, 60), 3, 0.01),  # gold to 0.001 (steps of 0.005): inferred point 0.001
    "EURUSD": (1.085, 0.0001, (1, 3), 5, 0.00001),  # 1.08510 ...: every price ends in 0, inferred 0.0001
}


@pytest.mark.parametrize("symbol", list(CASES))
def test_the_printed_command_runs_as_printed(tmp_path, symbol):
    start, step, spread, decimals, point = CASES[symbol]
    _ticks(tmp_path / "ticks.csv", start, step, spread, decimals)
    cal = run_simlab(
        "calibrate", "--ticks", "ticks.csv", "--symbol", symbol, "--out-dir", "models", "--date", "2024-03-10",
        cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert cal.returncode == 0, cal.stderr
    model = json.loads((tmp_path / "models" / symbol / "2024-03-10.json").read_text())
    assert model["point"] == point and model["settings"]["point_source"] == f"the {symbol} symbol spec"
    (line,) = [x for x in cal.stdout.splitlines() if x.startswith("use it with: ")]
    printed = line.removeprefix("use it with: ")
    argv = shlex.split(printed)
    assert argv[:2] == ["simlab", "backtest"] and "--exec-model" in argv and "--symbol" in argv
    run = run_simlab(*argv[1:], cwd=tmp_path, timeout=600)  # exactly the printed arguments, same folder
    assert run.returncode == 0, (printed, run.stderr)
    assert f"{symbol}@2024-03-10" in run.stdout and "trades" in run.stdout


def test_an_explicit_point_still_wins(tmp_path):
    _ticks(tmp_path / "ticks.csv", 2030.0, 0.005, (20, 60), 3)
    cal = run_simlab(
        "calibrate", "--ticks", "ticks.csv", "--symbol", "XAUUSD", "--point", "0.001", "--out-dir", "m",
        "--date", "2024-03-10", cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert cal.returncode == 0, cal.stderr
    assert json.loads((tmp_path / "m" / "XAUUSD" / "2024-03-10.json").read_text())["point"] == 0.001


def test_gold_ticks_calibrated_as_eurusd_stop_with_one_line(tmp_path):
    _ticks(tmp_path / "ticks.csv", 2030.0, 0.005, (20, 60), 3, n=500)
    cal = run_simlab(
        "calibrate", "--ticks", "ticks.csv", "--symbol", "EURUSD", "--out-dir", "m", cwd=tmp_path
    )
    assert cal.returncode == 2
    (line,) = cal.stderr.strip().splitlines()
    assert "not EURUSD prices" in line and "pass --symbol XAUUSD" in line


def test_a_symbol_without_spec_infers_the_point_and_says_so(tmp_path):
    _ticks(tmp_path / "ticks.csv", 65000.0, 0.5, (10, 30), 1, n=2000)
    cal = run_simlab(
        "calibrate", "--ticks", "ticks.csv", "--symbol", "BTCUSD", "--out-dir", "m", "--date", "2024-03-10",
        cwd=tmp_path,
    )  # fmt: skip
    assert cal.returncode == 0, cal.stderr
    model = json.loads((tmp_path / "m" / "BTCUSD" / "2024-03-10.json").read_text())
    assert model["point"] == 0.1 and model["settings"]["point_source"] == "inferred from the tick prices"
    assert "BTCUSD has no spec: define it in a --symbol-file first" in cal.stdout
