"""Refused orders: counted by reason, reported in the JSON and the table, loud when they decide the run.

A run whose orders are all refused is not a verdict on the strategy: ``--param atr_stop=0`` (no stop,
and risk sizing needs one), ``--risk 1e-9`` (sizes to 0 lots) or gold prices under the EURUSD spec
(every volume below the minimum; now the loader refuses such prices for the spec) used to be reported
as "0% pass, no_pass_within_horizon", exit 0.
Now such a run is an error (exit 2, one line with the counts and what to do) unless
``--allow-no-trades`` is given, and a run with most orders refused warns on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from _builders import run_simlab

from simlab.synthetic import synthetic_eurusd


def _one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_no_stop_refuses_every_order_and_the_run_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    p = run_simlab("challenge", "--runs", "3", "--param", "atr_stop=0", "--json", str(out), cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    line = _one_line(p.stderr)
    assert line.startswith("simlab challenge: error: no trade in 3 attempts:")
    assert "no_stop_for_risk_sizing" in line and "atr_stop=0" in line and "--allow-no-trades" in line
    assert p.stdout == ""
    assert not out.exists()


def test_a_tiny_risk_sizes_to_zero_lots_and_the_run_is_an_error(tmp_path: Path) -> None:
    p = run_simlab("challenge", "--runs", "3", "--risk", "1e-9", cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    line = _one_line(p.stderr)
    assert "volume_below_minimum" in line and "--risk 1e-09" in line and "0.01 lots" in line


def test_allow_no_trades_reports_the_refusals_in_json_table_and_a_loud_warning(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    p = run_simlab(
        "challenge",
        "--runs",
        "3",
        "--param",
        "atr_stop=0",
        "--allow-no-trades",
        "--json",
        str(out),
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    j = json.loads(out.read_text())["result"]
    refused = j["refused_orders"]
    assert refused["no_stop_for_risk_sizing"] > 0
    # every decision was refused, for no stop or (before a weekend) by the default governors
    assert sum(refused.values()) == j["entry_decisions"]
    assert set(refused) <= {"no_stop_for_risk_sizing", "governor_before_weekend", "governor_before_reset"}
    assert all(ph["trades"] == 0 for a in j["attempts"] for ph in a["phases"])
    warn = _one_line(p.stderr)
    assert warn.startswith(
        f"simlab challenge: WARNING: all {j['entry_decisions']} entry decisions were refused"
    )
    assert "risk sizing needs a stop" in warn and "atr_stop=0" in warn
    table = [ln for ln in p.stdout.splitlines() if "refused orders" in ln]
    assert table and f"{j['entry_decisions']} of {j['entry_decisions']} entry decisions" in table[0]


def _gold_like_csv(path: Path) -> Path:
    """120 days of synthetic hourly bars at gold-like prices (x1800): bid/ask CSV with no symbol in the name."""
    b = synthetic_eurusd(n_days=120, timeframe="1h", seed=3)
    t = np.datetime_as_string(b.time.astype("datetime64[ns]"), unit="s")
    bid = np.round(b.bid * 1800.0, 2)
    ask = np.round(b.ask * 1800.0 + 0.2, 2)
    rows = ["time,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close"]
    rows += [f"{t[i]}," + ",".join(f"{x:.2f}" for x in (*bid[i], *ask[i])) for i in range(len(b))]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_gold_prices_and_tiny_risks(tmp_path: Path) -> None:
    """Gold-like prices (near 1,950) with the EURUSD spec are refused by the loader (one line, exit 2).
    With the XAUUSD spec (100 oz a lot, 0.01 lots minimum) ma_cross's 2-ATR stops are a few dollars
    wide: --risk 1e-5 sizes every order under the minimum (an error naming them), --risk 3e-5 most of
    them (67 of 74: a warning, the run goes on), the default 1 % none."""
    data = str(_gold_like_csv(tmp_path / "prices.csv"))
    p = run_simlab("backtest", "--data", data, cwd=tmp_path)
    assert p.returncode == 2 and "--symbol XAUUSD" in _one_line(p.stderr)

    p = run_simlab("backtest", "--data", data, "--symbol", "XAUUSD", "--risk", "1e-5", cwd=tmp_path)
    assert p.returncode == 2
    line = _one_line(p.stderr)
    assert "no trade in 2,880 bars: all 74 entry decisions were refused (volume_below_minimum 74)" in line
    assert "--risk 1e-05 sizes below XAUUSD's minimum of 0.01 lots" in line

    out = tmp_path / "b.json"
    p = run_simlab(
        "backtest", "--data", data, "--symbol", "XAUUSD", "--risk", "3e-5", "--json", str(out), cwd=tmp_path
    )
    assert p.returncode == 0, p.stderr
    warn = _one_line(p.stderr)
    assert warn.startswith(
        "simlab backtest: WARNING: 67 of 74 entry decisions were refused (volume_below_minimum 67): --risk 3e-05"
    )
    j = json.loads(out.read_text())["result"]
    assert j["entry_decisions"] == 74 and j["refused_orders"] == {"volume_below_minimum": 67}
    assert j["summary"]["trades"] == 7

    p = run_simlab("backtest", "--data", data, "--symbol", "XAUUSD", "--json", str(out), cwd=tmp_path)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    j = json.loads(out.read_text())["result"]
    assert j["refused_orders"] == {} and j["summary"]["trades"] == 74


def test_trade_list_mode_refuses_allow_no_trades(tmp_path: Path) -> None:
    trades = tmp_path / "t.csv"
    trades.write_text("open time,close time,profit\n2024-03-04 10:00,2024-03-04 12:00,100\n")
    p = run_simlab("challenge", "--trades", str(trades), "--allow-no-trades", cwd=tmp_path)
    assert p.returncode == 2
    assert "--allow-no-trades" in _one_line(p.stderr)
