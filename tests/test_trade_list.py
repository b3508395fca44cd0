"""Trade-list mode: MT5 imports, hand-computed rule scenarios at trade granularity, Wilson, determinism."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from challenges.rules import Program, load_program, parse_program
from challenges.stats import quantiles, wilson_interval
from challenges.trade_list import (
    TradeList,
    evaluate_trades,
    format_result,
    load_trades,
    to_json,
    trades_from_arrays,
)
from simlab import layout as L
from simlab.errors import ConfigError, InputError


# ---------------------------------------------------------------- Wilson
def test_wilson_hand_computed() -> None:
    # k=14, n=20: p=0.7, z^2=3.8416, denom=1.19208, centre=0.79604/1.19208=0.66777,
    # half=1.96*sqrt(0.0105+0.0024010)/1.19208=0.18675 -> (0.4810, 0.8545)
    lo, hi = wilson_interval(14, 20)
    assert (round(lo, 3), round(hi, 3)) == (0.481, 0.855)
    # k=5, n=10: centre 0.5, half=1.96*sqrt(0.025+0.009604)/1.38416=0.26341
    lo, hi = wilson_interval(5, 10)
    assert lo == pytest.approx(0.23659, abs=1e-5) and hi == pytest.approx(0.76341, abs=1e-5)
    # k=0, n=10: centre = half = 0.19208/1.38416 = 0.13877 -> (0, 0.27755)
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.27755, abs=1e-5))
    assert wilson_interval(10, 10) == (pytest.approx(0.72245, abs=1e-5), 1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
    assert quantiles([3.0, 1.0, 2.0, 10.0]) == pytest.approx(
        list(np.quantile([3, 1, 2, 10], [0.1, 0.5, 0.9]))
    )


# ---------------------------------------------------------------- helpers
def one_phase(**overrides: Any) -> Program:
    """A one-phase 100k program (Prague midnight) with FTMO-like defaults, for isolated mechanics."""
    phase: dict[str, Any] = {
        "name": "P",
        "profit_target_pct": 10.0,
        "daily_loss": {"pct": 5.0, "basis": "balance", "size_of": "initial", "floating": True},
        "max_loss": {"pct": 10.0, "mode": "static", "floating": True},
        "min_days": {"count": 0, "counts": "trade_opened"},
    }
    for k, v in overrides.items():
        if isinstance(v, dict) and isinstance(phase.get(k), dict):
            phase[k] = {**phase[k], **v}
        else:
            phase[k] = v
    data = {
        "name": "test",
        "firm": "Test",
        "source": "https://example.com",
        "last_verified": "2026-11-21",
        "sizes": [100000],
        "day_boundary": {"zone": "Europe/Prague", "reset": "00:00"},
        "phases": [phase],
    }
    return parse_program(data, "<test>")


# Mon 2024-03-04 .. Fri 2024-03-08, then Mon 2024-03-11 ..
DAYS = ["2024.03.04", "2024.03.05", "2024.03.06", "2024.03.07", "2024.03.08", "2024.03.11", "2024.03.12"]


def daily_trades(pnls: list[float], maes: list[float] | None = None, start: int = 0) -> TradeList:
    """One trade per weekday, 10:00-12:00 Prague time."""
    n = len(pnls)
    days = DAYS[start : start + n]
    return trades_from_arrays(
        [f"{d} 10:00" for d in days],
        [f"{d} 12:00" for d in days],
        pnls,
        maes,
        tz="Europe/Prague",
    )


def replay(trades: TradeList, program: Program | str, size: float = 100000, **kw: Any) -> np.ndarray:
    res = evaluate_trades(trades, program, size, n_runs=1, start_mode="replay", **kw)
    return res.runs[0]


# ---------------------------------------------------------------- hand-computed scenarios
FIVE = [3000.0, -500.0, 3000.0, 3000.0, 2000.0]
FIVE_MAE = [200.0, 5200.0, 100.0, 100.0, 100.0]


def test_mae_dips_through_the_daily_limit_fails_ftmo() -> None:
    # day 2 starts at 103,000; limit 103,000 - 5,000 = 98,000; worst 103,000 - 5,200 = 97,800 < 98,000
    r = replay(daily_trades(FIVE, FIVE_MAE), "ftmo-2step")
    assert r[L.TL_STATUS] == L.STATUS_BREACHED and r[L.TL_REASON] == L.BREACH_DAILY_LOSS
    assert r[L.TL_PHASES_PASSED] == 0 and r[L.TL_TRADING_DAYS] == 2


def test_same_trades_without_mae_pass_the_challenge() -> None:
    # closed P/L only: 110,500 >= 110,000 on day 5, 5 traded days >= 4; the Verification runs out of trades
    r = replay(daily_trades(FIVE), "ftmo-2step")
    assert r[L.TL_PHASES_PASSED] == 1 and r[L.TL_STATUS] == L.STATUS_RUNNING
    res = evaluate_trades(daily_trades(FIVE), "ftmo-2step", 100000, n_runs=1, start_mode="replay")
    text = format_result(res)
    assert "No MAE column: the floating drawdown inside a trade is invisible" in text
    assert "Verification: history_or_horizon_ended" in text


def test_closed_balance_daily_rule_ignores_the_mae() -> None:
    r = replay(daily_trades(FIVE, FIVE_MAE), one_phase(daily_loss={"floating": False}))
    assert r[L.TL_STATUS] == L.STATUS_PASSED and r[L.TL_TRADING_DAYS] == 5


def test_max_loss_with_mae() -> None:
    # day 1 -4,000 (96,000); day 2 opens at 96,000 with MAE 6,500 -> 89,500 < 90,000 static limit
    # (the daily limit that day is 91,000, so the max loss is what breaks first)
    trades = daily_trades([-4000.0, 500.0], [4000.0, 6500.0])
    r = replay(trades, one_phase())
    assert r[L.TL_STATUS] == L.STATUS_BREACHED and r[L.TL_REASON] == L.BREACH_MAX_LOSS
    r = replay(trades, one_phase(max_loss={"floating": False}, daily_loss={"floating": False}))
    assert r[L.TL_STATUS] == L.STATUS_RUNNING  # closed P/L 96,500: nothing breached, target not reached


def test_min_days_count_only_days_with_a_trade_opened() -> None:
    # +6,000 Mon, nothing Tue, +5,000 Wed: target (10 %) reached Wed on 2 traded days; 4 needed
    trades = trades_from_arrays(
        ["2024.03.04 10:00", "2024.03.06 10:00", "2024.03.07 10:00", "2024.03.08 10:00"],
        ["2024.03.04 12:00", "2024.03.06 12:00", "2024.03.07 12:00", "2024.03.08 12:00"],
        [6000.0, 5000.0, 10.0, 10.0],
        tz="Europe/Prague",
    )
    r = replay(trades, one_phase(min_days={"count": 4}))
    assert r[L.TL_STATUS] == L.STATUS_PASSED and r[L.TL_TRADING_DAYS] == 5  # the 4th traded day is Friday
    # with post-target risk x0 the small trades still count the days but add nothing
    r = replay(trades, one_phase(min_days={"count": 4}), post_target_risk_mult=0.0)
    assert r[L.TL_STATUS] == L.STATUS_PASSED and r[L.TL_TRADING_DAYS] == 5


def test_best_day_rule_delays_the_pass() -> None:
    # FTMO 1-step: +8,000, +2,100 -> 10,100 >= target but best day 8,000 > 50 % of 10,100;
    # +6,000 -> 16,100, 8,000 <= 8,050: passed on day 3
    r = replay(daily_trades([8000.0, 2100.0, 6000.0]), "ftmo-1step")
    assert r[L.TL_STATUS] == L.STATUS_PASSED and r[L.TL_TRADING_DAYS] == 3
    r = replay(daily_trades([8000.0, 2100.0, 5000.0]), "ftmo-1step")  # 15,100: 8,000 > 7,550
    assert r[L.TL_STATUS] == L.STATUS_RUNNING


def test_the5ers_profitable_days() -> None:
    # day P/L 5,000 / 300 / 3,000 / 600: target 8 % reached on day 3 with 2 days >= 500 (0.5 %); the 3rd on day 4
    r = replay(daily_trades([5000.0, 300.0, 3000.0, 600.0]), "the5ers-high-stakes")
    assert r[L.TL_PHASES_PASSED] == 1 and r[L.TL_TRADING_DAYS] == 4


def test_e8_trailing_drawdown_locks_at_the_initial_balance() -> None:
    # +4,000, +3,000: balance high 107,000 -> limit min(107,000 - 6,000, 100,000) = 100,000 (locked)
    # -3,000, -3,000, -1,500: 99,500 < 100,000 -> max loss; daily limits (4 % of day start) never hit
    trades = daily_trades([4000.0, 3000.0, -3000.0, -3000.0, -1500.0])
    r = replay(trades, load_program("e8-one", params={"target_pct": 20}))
    assert (
        r[L.TL_STATUS] == L.STATUS_BREACHED
        and r[L.TL_REASON] == L.BREACH_MAX_LOSS
        and r[L.TL_TRADING_DAYS] == 5
    )
    # a static 6 % rule (94,000) is never touched
    r = replay(trades, one_phase(profit_target_pct=20.0, max_loss={"pct": 6.0, "mode": "static"}))
    assert r[L.TL_STATUS] == L.STATUS_RUNNING  # static 94,000 is never touched


def test_trailing_eod_uses_day_end_balances() -> None:
    # two trades on Monday: +5,000 then -10,500 -> 94,500. The end-of-day high is still the initial 100,000
    # (limit 90,000: no breach); the intraday high is 105,000 (limit 95,000: breached)
    trades = trades_from_arrays(
        ["2024.03.04 10:00", "2024.03.04 13:00"],
        ["2024.03.04 12:00", "2024.03.04 15:00"],
        [5000.0, -10500.0],
        tz="Europe/Prague",
    )
    no_daily = {"pct": 50.0}
    eod = replay(trades, one_phase(daily_loss=no_daily, max_loss={"mode": "trailing_eod"}))
    intraday = replay(trades, one_phase(daily_loss=no_daily, max_loss={"mode": "trailing_intraday"}))
    assert eod[L.TL_STATUS] == L.STATUS_RUNNING  # 94,500 > 90,000
    assert (
        intraday[L.TL_STATUS] == L.STATUS_BREACHED and intraday[L.TL_REASON] == L.BREACH_MAX_LOSS
    )  # < 95,000


def test_overnight_holding() -> None:
    # one trade held from Tuesday evening to Wednesday morning (Prague), one opened and closed on Wednesday
    held = trades_from_arrays(["2024.03.05 20:00"], ["2024.03.06 09:00"], [100.0], tz="Europe/Prague")
    r = replay(held, one_phase(holding={"overnight": False}))
    assert r[L.TL_STATUS] == L.STATUS_BREACHED and r[L.TL_REASON] == L.BREACH_OVERNIGHT_HOLDING
    assert replay(held, one_phase())[L.TL_STATUS] == L.STATUS_RUNNING
    day = trades_from_arrays(["2024.03.06 08:00"], ["2024.03.06 09:00"], [100.0], tz="Europe/Prague")
    assert replay(day, one_phase(holding={"overnight": False}))[L.TL_STATUS] == L.STATUS_RUNNING


def test_weekend_holding_and_time_limit() -> None:
    # a trade opened Friday, closed Monday
    trades = trades_from_arrays(["2024.03.08 20:00"], ["2024.03.11 09:00"], [100.0], tz="Europe/Prague")
    r = replay(trades, one_phase(holding={"weekend": False}))
    assert r[L.TL_STATUS] == L.STATUS_BREACHED and r[L.TL_REASON] == L.BREACH_WEEKEND_HOLDING
    assert replay(trades, one_phase())[L.TL_STATUS] == L.STATUS_RUNNING
    # +1,000 a day against a 7-calendar-day limit: Mon 4th .. Mon 11th is day 7 -> breached on the 11th
    r = replay(daily_trades([1000.0] * 7), one_phase(max_calendar_days=7))
    assert (
        r[L.TL_STATUS] == L.STATUS_BREACHED
        and r[L.TL_REASON] == L.BREACH_TIME_LIMIT
        and r[L.TL_CAL_DAYS] == 8
    )


def test_two_phases_restart_on_a_fresh_account() -> None:
    # Challenge passes Thu (4 traded days, 110,100); the Verification starts Fri on a fresh 100,000:
    # +2,000 Fri, +3,100 Mon -> 105,100 >= 5 % but only 2 traded days of 4, +100 Tue: 3 -> not yet
    trades = daily_trades([2500.0, 2500.0, 2500.0, 2600.0, 2000.0, 3100.0, 100.0])
    r = replay(trades, "ftmo-2step")
    assert r[L.TL_PHASES_PASSED] == 1 and r[L.TL_STATUS] == L.STATUS_RUNNING
    two = load_program("ftmo-2step")
    from dataclasses import replace

    fast = replace(two, phases=tuple(replace(p, min_days=replace(p.min_days, count=0)) for p in two.phases))
    r = replay(trades, fast)
    # without min days the Challenge passes on day 4, the Verification on day 6 (Mon 11th: calendar day 8)
    assert r[L.TL_STATUS] == L.STATUS_PASSED and r[L.TL_TRADING_DAYS] == 6 and r[L.TL_CAL_DAYS] == 8


# ---------------------------------------------------------------- bootstrap: determinism and modes
def random_trades(n: int = 120, seed: int = 3) -> TradeList:
    rng = np.random.default_rng(seed)
    days = np.sort(rng.integers(0, 160, n))
    base = np.datetime64("2024-01-01T07:00")
    o = base + days.astype("timedelta64[D]") + rng.integers(0, 600, n).astype("timedelta64[m]")
    c = o + rng.integers(5, 2000, n).astype("timedelta64[m]")
    return trades_from_arrays(o, c, rng.normal(200, 900, n), np.abs(rng.normal(500, 300, n)), tz="UTC")


def test_deterministic_for_a_seed_and_any_worker_count() -> None:
    t = random_trades()
    a = evaluate_trades(t, "ftmo-2step", 100000, seed=11, n_runs=60)
    b = evaluate_trades(t, "ftmo-2step", 100000, seed=11, n_runs=60)
    np.testing.assert_array_equal(a.runs, b.runs)
    c = evaluate_trades(t, "ftmo-2step", 100000, seed=11, n_runs=60, workers=2)
    np.testing.assert_array_equal(a.runs, c.runs)
    d = evaluate_trades(t, "ftmo-2step", 100000, seed=12, n_runs=60)
    assert not np.array_equal(a.runs, d.runs)
    # run i does not depend on how many runs there are
    e = evaluate_trades(t, "ftmo-2step", 100000, seed=11, n_runs=25)
    np.testing.assert_array_equal(a.runs[:25], e.runs)
    assert json.dumps(to_json(a)) == json.dumps(to_json(b))


@pytest.mark.parametrize("mode", ["bootstrap", "trades", "sequential", "replay"])
def test_modes_run_and_summarise(mode: str) -> None:
    t = random_trades()
    res = evaluate_trades(t, "the5ers-high-stakes", 100000, seed=1, n_runs=40, start_mode=mode, block_days=3)
    s = res.summary()
    assert s["runs"] == 40 and sum(s["ended_by"].values()) == 40
    assert s["phases"][0]["reached"] == 40
    assert 0 <= s["wilson95"][0] <= (s["pass_rate"] or 0) <= s["wilson95"][1] <= 1
    text = res.format()
    assert "PASS RATE" in text and "What this mode cannot see" in text
    doc = json.loads(json.dumps(res.document(res.basic_provenance())))
    assert doc["mode"] == "trade_list" and len(doc["result"]["attempts"]) == 40
    assert doc["result"]["pass_rate"]["passed"] == s["passed"]
    assert sum(doc["result"]["failure_reasons"].values()) == 40 - s["passed"]
    if mode == "replay":
        runs = [{k: v for k, v in a.items() if k != "attempt"} for a in doc["result"]["attempts"]]
        assert all(r == runs[0] for r in runs)


def test_risk_scales_every_trade() -> None:
    # half the risk: day 2 worst 101,500 - 2,600 = 98,900 > 96,500: no breach; target needs twice the days
    r = replay(daily_trades(FIVE, FIVE_MAE), "ftmo-2step", risk=0.5)
    assert r[L.TL_STATUS] == L.STATUS_RUNNING and r[L.TL_PHASES_PASSED] == 0


def test_bad_arguments() -> None:
    t = daily_trades(FIVE)
    with pytest.raises(ConfigError, match="account size 12,345 is not sold"):
        evaluate_trades(t, "ftmo-2step", 12345)
    with pytest.raises(ConfigError, match="unknown start mode 'shuffle'"):
        evaluate_trades(t, "ftmo-2step", 100000, start_mode="shuffle")
    with pytest.raises(ConfigError, match="unknown program"):
        evaluate_trades(t, "nope", 100000)


# ---------------------------------------------------------------- import
POSITIONS_CSV = """\
Time,Position,Symbol,Type,Volume,Price,S / L,T / P,Time,Price,Commission,Swap,Profit
2024.03.04 10:00:00,1001,EURUSD,buy,1.00,1.08500,,,2024.03.04 12:00:00,1.08800,-7.00,0.00,3 007.00
2024.03.05 10:00:00,1002,EURUSD,sell,1.00,1.08700,,,2024.03.05 15:00:00,1.08750,-7.00,-2.00,-491.00
2024.03.06 10:00:00,1003,XAUUSD,buy,0.50,2100.00,,,,,,,
"""


def test_mt5_positions_csv(tmp_path: Path) -> None:
    f = tmp_path / "positions.csv"
    f.write_text(POSITIONS_CSV)
    t = load_trades(f, tz="UTC+2")
    assert len(t) == 2 and t.skipped == 1 and not t.has_mae
    np.testing.assert_allclose(t.pnl, [3000.0, -500.0])
    assert t.open_ns[0] == np.datetime64("2024-03-04T08:00", "ns").astype(np.int64)
    assert t.close_ns[1] == np.datetime64("2024-03-05T13:00", "ns").astype(np.int64)
    assert t.symbol == ("EURUSD", "EURUSD")


def test_generic_csv_with_mae_semicolons_and_dst(tmp_path: Path) -> None:
    f = tmp_path / "trades.csv"
    f.write_text(
        "open_time;close_time;profit;commission;swap;MAE;MFE\n"
        "2024-03-04 10:00;2024-03-04 12:00;3000;0;0;-200;3100\n"
        "2024-07-01 10:00;2024-07-01 12:00;-500;-5;0;5200;0\n"
    )
    t = load_trades(f, tz="Europe/Prague")
    np.testing.assert_allclose(t.pnl, [3000.0, -505.0])
    assert t.mae is not None and t.mfe is not None
    np.testing.assert_allclose(t.mae, [200.0, 5200.0])
    np.testing.assert_allclose(t.mfe, [3100.0, 0.0])
    # CET (UTC+1) in March, CEST (UTC+2) in July
    assert t.open_ns[0] == np.datetime64("2024-03-04T09:00", "ns").astype(np.int64)
    assert t.open_ns[1] == np.datetime64("2024-07-01T08:00", "ns").astype(np.int64)
    assert t.columns["mae"] == "MAE"


def test_mt5_deals_are_paired_fifo(tmp_path: Path) -> None:
    f = tmp_path / "deals.csv"
    f.write_text(
        "Time\tDeal\tSymbol\tType\tDirection\tVolume\tPrice\tOrder\tCommission\tFee\tSwap\tProfit\tBalance\tComment\n"
        "2024.03.01 09:00:00\t1\t\tbalance\t\t\t\t\t0.00\t0.00\t0.00\t100 000.00\t100 000.00\tdeposit\n"
        "2024.03.04 10:00:00\t2\tEURUSD\tbuy\tin\t2.00\t1.08500\t2\t-14.00\t0.00\t0.00\t0.00\t99 986.00\t\n"
        "2024.03.04 12:00:00\t3\tEURUSD\tsell\tout\t1.00\t1.08800\t3\t-7.00\t0.00\t0.00\t300.00\t100 279.00\t\n"
        "2024.03.05 12:00:00\t4\tEURUSD\tsell\tout\t1.00\t1.08600\t4\t-7.00\t0.00\t-3.00\t100.00\t100 369.00\t\n"
        "2024.03.06 10:00:00\t5\tEURUSD\tbuy\tin\t1.00\t1.08500\t5\t-7.00\t0.00\t0.00\t0.00\t100 362.00\t\n"
    )
    t = load_trades(f)
    assert len(t) == 2 and t.skipped == 2  # the deposit row and the position still open
    # 300 - 7 (out) - 7 (half the in-leg); 100 - 7 - 3 - 7
    np.testing.assert_allclose(t.pnl, [286.0, 83.0])
    assert t.open_ns[1] == np.datetime64("2024-03-04T10:00", "ns").astype(np.int64)
    assert t.close_ns[1] == np.datetime64("2024-03-05T12:00", "ns").astype(np.int64)


HTML = """<!DOCTYPE html><html><head><title>Trade History Report</title></head><body>
<table>
<tr><th colspan="13"><div><b>Trade History Report</b></div></th></tr>
<tr><td colspan="13"><div><b>Positions</b></div></td></tr>
<tr bgcolor="#E5F0FC"><td><b>Time</b></td><td>Position</td><td>Symbol</td><td>Type</td><td>Volume</td>
<td>Price</td><td>S / L</td><td>T / P</td><td>Time</td><td>Price</td><td>Commission</td><td>Swap</td><td>Profit</td></tr>
<tr><td>2024.03.04 10:00:00</td><td>1001</td><td>EURUSD</td><td>buy</td><td>1</td><td>1.085</td><td></td><td></td>
<td>2024.03.04 12:00:00</td><td>1.088</td><td>-7.00</td><td>0.00</td><td>3&nbsp;007.00</td></tr>
<tr><td>2024.03.05 10:00:00</td><td>1002</td><td>EURUSD</td><td>sell</td><td>1</td><td>1.087</td><td></td><td></td>
<td>2024.03.05 15:00:00</td><td>1.0875</td><td>-7.00</td><td>-2.00</td><td>-491.00</td></tr>
<tr><td colspan="10"></td><td>-14.00</td><td>-2.00</td><td>2 516.00</td></tr>
<tr><td colspan="13"><div><b>Orders</b></div></td></tr>
<tr><td>Open Time</td><td>Order</td><td>Symbol</td><td>Type</td><td>Volume</td><td>Price</td><td>S / L</td>
<td>T / P</td><td>Time</td><td>State</td><td>Comment</td></tr>
</table></body></html>
"""


def test_mt5_html_report_utf16(tmp_path: Path) -> None:
    f = tmp_path / "ReportHistory-123.html"
    f.write_bytes(HTML.encode("utf-16"))  # MT5 writes UTF-16 with a BOM
    t = load_trades(f, tz="UTC")
    assert len(t) == 2 and t.source.endswith("(Positions)")
    np.testing.assert_allclose(t.pnl, [3000.0, -500.0])
    r = replay(t, "ftmo-2step")
    assert r[L.TL_STATUS] == L.STATUS_RUNNING and r[L.TL_TRADING_DAYS] == 2


@pytest.mark.parametrize(
    "text,fragment",
    [
        (
            "open_time,close_time,pnl_usd\n2024-03-04 10:00,2024-03-04 12:00,5\n",
            "no header row with a time and a profit",
        ),
        (
            "open_time,profit\n2024-03-04 10:00,5\n",
            "no column for close time (e.g. 'Close Time'); columns found: open_time, profit",
        ),
        (
            "open_time,close_time,profit\n2024-03-04 10:00,yesterday,5\n",
            "row 2, field 'close_time': expected a time",
        ),
        (
            "open_time,close_time,profit\n2024-03-04 10:00,2024-03-04 12:00,five\n",
            "row 2, field 'profit': expected a number, got 'five'",
        ),
        (
            "open_time,close_time,profit\n2024-03-04 10:00,2024-03-04 09:00,5\n",
            "trade 1, field 'close time': before the open time",
        ),
        ("open_time,close_time,profit\n", "no closed trades found"),
    ],
)
def test_import_errors_are_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    f = tmp_path / "t.csv"
    f.write_text(text)
    with pytest.raises(InputError) as e:
        load_trades(f)
    msg = str(e.value)
    assert msg.startswith(str(f)) and fragment in msg and "\n" not in msg, msg
    with pytest.raises(InputError, match="file not found"):
        load_trades(tmp_path / "missing.csv")
    with pytest.raises(ConfigError, match="unknown time zone"):
        load_trades(f, tz="Mars/Base")


def test_kernel_uniform_is_the_project_rng() -> None:
    from challenges._trade_list_nb import uniform_nb as local
    from simlab.rng_nb import uniforms_nb

    assert [local(7, 3, d) for d in range(5)] == uniforms_nb(7, 3, 0, 5).tolist()
