"""The HTML reports (issue 14): drawn from the result document alone, the same bytes later, open in a
real browser with every chart drawn, and what the documents carry for them (the traced sample).

Acceptance, as tested here: 1. headless Chromium, no console error, every figure rendered by plotly,
a screenshot that is not blank; 2. ``simlab report RUN.json`` == the ``--html`` of the run, byte for
byte, for challenge bar mode, trade-list mode, day-bootstrap mode and backtest; 3. another schema
version or a truncated file: one line, exit 2, no page written. The terminal summary: rich tables on
a pseudo-terminal, the unchanged plain text on a pipe.
"""

from __future__ import annotations

import json
import math
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _browser import browser, open_report, pixel_spread
from _builders import drain_pty, run_simlab_here

from reports.figures import bins, nice_width
from reports.page import money, percent
from simlab import layout as L

FAST = ["--horizon-days", "40"]


def _trade_file(folder: Path, backtest_json: Path) -> Path:
    """A trade list (open time, close time, profit) from a backtest's ledger."""
    src = json.loads(backtest_json.read_text())["result"]["trades"]
    lines = ["open time,close time,profit"]
    lines += [
        f"{t['entry_time'][:19].replace('T', ' ')},{t['exit_time'][:19].replace('T', ' ')},{t['pnl']:.2f}"
        for t in src
    ]
    path = folder / "trades.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """name -> (result JSON, the --html written during the run), for every kind and mode."""
    d = tmp_path_factory.mktemp("reports")
    out: dict[str, tuple[Path, Path]] = {}

    def run(name: str, *args: str) -> None:
        j, h = d / f"{name}.json", d / f"{name}.html"
        code, _, err = run_simlab_here(*args, "--json", str(j), "--html", str(h))
        assert code == 0, err
        out[name] = (j, h)

    run("backtest", "backtest")
    trades = _trade_file(d, out["backtest"][0])
    run("bars", "challenge", "--runs", "30", *FAST)
    run("trade_list", "challenge", "--runs", "400", "--trades", str(trades))
    run("day_bootstrap", "challenge", "--runs", "4", "--bootstrap-days", "5", "--horizon-days", "20")
    return out


# ----------------------------------------------------------------------------- acceptance 2


@pytest.mark.parametrize("name", ["bars", "trade_list", "day_bootstrap", "backtest"])
def test_the_report_from_the_json_is_the_report_of_the_run(runs, name, tmp_path):
    j, during = runs[name]
    later = tmp_path / "later.html"
    code, stdout, err = run_simlab_here("report", str(j), "-o", str(later))
    assert code == 0 and err == "" and f"wrote {later}" in stdout
    assert later.read_bytes() == during.read_bytes()


def test_a_rerun_writes_the_same_report(runs, tmp_path):
    j, during = runs["backtest"]
    again = tmp_path / "again.html"
    code, _, err = run_simlab_here("rerun", str(j), "--html", str(again))
    assert code == 0, err
    assert again.read_bytes() == during.read_bytes()


def test_the_page_is_self_contained_with_plotly_once_and_named_figures(runs):
    page = runs["bars"][1].read_text()
    assert page.startswith("<!doctype html>")
    assert page.count("plotly.js v") == 1  # the bundle's own banner: inlined once
    bundle_end = page.index("</script>")
    rest = page[bundle_end:]  # the page after plotly's bundle (which names URLs it never fetches here)
    assert "<script src" not in rest and "http" not in rest.split("<details>")[0]
    ids = re.findall(r'<div id="([^"]+)" class="plot"', page)
    assert ids and len(ids) == len(set(ids)) and all(i.startswith("fig-") for i in ids)
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", page)  # no uuid
    title = page[page.index("<h1>") : page.index("</h1>")]
    assert "$100,000" in title and "account $100,000" in page  # money, not "100000.0"
    for needle in ("FTMO", "seed", "rules verified 2026-", "sha256", "time zone", "governors", "ma_cross"):
        assert needle in page


# ----------------------------------------------------------------------------- acceptance 3


def test_another_schema_version_or_a_truncated_file_is_one_line_and_exit_2(runs, tmp_path):
    text = runs["bars"][0].read_text()
    other = tmp_path / "v2.json"
    other.write_text(text.replace('"simlab.result/1"', '"simlab.result/2"', 1))
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2])
    out = tmp_path / "r.html"
    for path, words in ((other, ("version 2", "version 1 only")), (cut, ("truncated",))):
        code, stdout, err = run_simlab_here("report", str(path), "-o", str(out))
        assert code == 2 and stdout == ""
        assert len(err.strip().splitlines()) == 1 and str(path) in err, err
        assert all(w in err for w in words), err
        assert not out.exists()


def test_a_document_without_the_sample_still_makes_a_report(runs, tmp_path):
    doc = json.loads(runs["bars"][0].read_text())
    for key in ("sample", "equity_paths", "equity_bands", "session_costs", "trade_stats"):
        del doc["result"][key]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(doc))
    out = tmp_path / "old.html"
    code, _, err = run_simlab_here("report", str(old), "-o", str(out))
    assert code == 0, err
    assert "carries no traced attempts" in out.read_text()


# ----------------------------------------------------------------------------- acceptance 1


def test_every_report_opens_in_headless_chromium_with_every_chart_drawn(runs, tmp_path):
    with browser() as b:
        for name in ("bars", "trade_list", "backtest"):
            seen = open_report(b, runs[name][1])
            assert seen.errors == [], (name, seen.errors)
            assert seen.plots >= (1 if name == "backtest" else 8), name
            assert seen.rendered == seen.plots, (name, seen.rendered, seen.plots)
            (tmp_path / f"{name}.png").write_bytes(seen.png)
            std, ink = pixel_spread(seen.png)
            assert std > 20 and ink > 0.05, (name, std, ink)  # not a blank (or one-colour) page


def test_percent_axes_label_half_percent_ticks_apart(tmp_path):
    """A pass rate of 0.5 % on an axis whose ticks plotly spaces 0.5 apart: each tick keeps its own label
    (labels rounded to whole percents read 0%, 1%, 1%, 2%, 2%, 3% and put the 0.5 % line at "1%")."""
    import plotly.graph_objects as go

    from reports.figures import figure_div, percent_axis
    from reports.page import page

    fig = go.Figure(go.Scatter(x=[0, 1, 2, 3], y=[0.0, 0.5, 0.5, 2.4]))
    fig.update_yaxes(**percent_axis(), rangemode="tozero")
    fig.update_layout(height=400, width=500)
    html = tmp_path / "axis.html"
    html.write_text(page("axis", "", figure_div(fig, "fig-axis"), {}))
    with browser() as b:
        pg = b.new_page()
        pg.goto(html.resolve().as_uri(), wait_until="load")
        labels = pg.evaluate("Array.from(document.querySelectorAll('.ytick text')).map(t => t.textContent)")
        pg.close()
    assert len(labels) >= 5 and len(set(labels)) == len(labels), labels
    assert "0.5%" in labels, labels


@pytest.mark.parametrize("days", [[3.0], [2.0, 2.0, 2.0], [1.0, 2.0]])
def test_days_axes_tick_whole_days(tmp_path, days):
    """One attempt that passed (or one distinct value): plotly's own ticks over one bar read 3, 3.2, 3.4, ...
    days; the days axes of both figures tick whole days, and the bar's edges are ticks."""
    from reports.challenge import _Ctx, days_to_pass_figure, pass_by_day_figure
    from reports.figures import figure_div
    from reports.page import page

    doc = {
        "provenance": {"horizon": {"days": 3}},
        "result": {
            "runs": 4,
            "attempts": [{"passed": True, "days_to_pass": d} for d in days] + [{"passed": False}],
            "days_to_pass": {"median": float(np.median(days))},
        },
    }
    ctx = _Ctx(doc)
    figs = {"fig-days-to-pass": days_to_pass_figure(ctx), "fig-pass-by-day": pass_by_day_figure(ctx)}
    for fig in figs.values():
        assert fig.layout.xaxis.dtick == 1 and fig.layout.xaxis.tick0 == 0
    html = tmp_path / "days.html"
    html.write_text(page("days", "", "".join(figure_div(f, k) for k, f in figs.items()), {}))
    with browser() as b:
        pg = b.new_page()
        pg.goto(html.resolve().as_uri(), wait_until="load")
        labels = {
            k: pg.evaluate(
                f"Array.from(document.querySelectorAll('#{k} .xtick text')).map(t => t.textContent)"
            )
            for k in figs
        }
        pg.close()
    for k, got in labels.items():
        assert got and all(t.isdigit() for t in got), (k, got)
    lo = int(min(days))
    assert {str(lo), str(int(max(days)) + 1)} <= set(labels["fig-days-to-pass"]), labels
    assert labels["fig-pass-by-day"] == ["0", "1", "2", "3", "4"], labels


# ----------------------------------------------------------------------------- the traced sample


def test_the_traced_paths_end_where_the_attempts_ended_with_the_kernels_limits(runs):
    r = json.loads(runs["bars"][0].read_text())["result"]
    assert r["sample"]["attempts"] == 30 and r["sample"]["of"] == 30
    attempts = {a["attempt"]: a for a in r["attempts"]}
    for item in r["equity_paths"]:
        a = attempts[item["attempt"]]
        assert [p["phase"] for p in item["phases"]] == [p["phase"] for p in a["phases"] if p["calendar_days"]]
        for ph, rec in zip(item["phases"], a["phases"]):
            assert ph["status"] == rec["status"]
            assert ph["balance"][-1] == rec["final_balance"]  # both in cents
            assert ph["day"][0] == 1 and ph["day"][-1] == rec["calendar_days"]
            # FTMO: 5 % of the initial under the day's starting balance, 10 % of it under the initial
            assert ph["daily_limit"][0] == 95_000.0
            assert all(x == 90_000.0 for x in ph["max_loss_limit"])
            for i in range(1, len(ph["day"])):  # the day starts at the last day's closing balance
                assert ph["daily_limit"][i] == pytest.approx(ph["balance"][i - 1] - 5_000.0, abs=0.011)
            if rec["status"] == "breached" and rec["reason"] == "daily_loss":
                assert ph["worst_equity"][-1] < ph["daily_limit"][-1]


def test_the_bands_hold_an_ended_attempt_at_its_last_equity(runs):
    r = json.loads(runs["bars"][0].read_text())["result"]
    band = r["equity_bands"][0]
    paths = [p for item in r["equity_paths"] for p in item["phases"] if p["phase"] == band["phase"]]
    assert band["attempts"] == len(paths)
    last = band["day"][-1]
    final = sorted(p["equity"][-1] for p in paths)
    assert band["p50"][-1] == pytest.approx(float(np.percentile(final, 50)), abs=0.006)
    assert last == max(p["day"][-1] for p in paths)


def test_session_costs_add_up_to_the_ledger(runs):
    r = json.loads(runs["backtest"][0].read_text())["result"]
    trades = r["trades"]
    total = sum(c["total"] for c in r["session_costs"].values())
    by_hand = sum(t["spread_cost"] + t["slippage_cost"] + t["commission"] - t["swap"] for t in trades)
    assert total == pytest.approx(by_hand, abs=0.05)
    assert sum(c["trades"] for c in r["session_costs"].values()) == len(trades) == r["trade_stats"]["trades"]
    wins = [t["pnl"] for t in trades if t["pnl"] > 0]
    assert r["trade_stats"]["wins"] == len(wins)
    assert r["trade_stats"]["avg_win"] == round(sum(wins) / len(wins), 2)


def test_a_trace_that_differs_from_the_run_is_an_error_not_a_picture():
    from simlab.montecarlo import run_challenge
    from simlab.sample import trace_attempt
    from tests.test_montecarlo import synthetic_setup

    setup = synthetic_setup()
    res = run_challenge(setup, 3, workers=1, progress=False)
    good = trace_attempt(setup, setup.market, setup.intents, 0, int(res.starts[0]), res.out[0])
    assert good.phases and good.phases[0].day[0] == 1
    bad = res.out[0].copy()
    bad[0, L.RES_N_TRADES] += 1
    with pytest.raises(RuntimeError, match="differs from the Monte Carlo run"):
        trace_attempt(setup, setup.market, setup.intents, 0, int(res.starts[0]), bad)


def test_trade_list_paths_by_hand():
    """Ten losing days of $1,000 from $100,000 (replay): the balance, the day's worst point and both
    levels day by day, and the breach on the day the balance goes under $90,000."""
    from challenges.trade_list import evaluate_trades, trades_from_arrays

    days = [f"2024-03-{d:02d}" for d in (4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 18, 19)]
    trades = trades_from_arrays(
        [f"{d} 10:00" for d in days], [f"{d} 12:00" for d in days], [-1000.0] * len(days)
    )
    res = evaluate_trades(trades, "ftmo-2step", 100_000, n_runs=1, start_mode="replay")
    ph = res.to_json()["equity_paths"][0]["phases"][0]
    assert ph["status"] == "breached" and ph["phase"] == "Challenge"
    assert ph["day"] == [1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 15]  # calendar days: the weekends skipped
    assert ph["balance"] == [100_000.0 - 1000.0 * k for k in range(1, 12)]
    assert ph["worst_equity"] == ph["balance"]
    assert ph["daily_limit"] == [95_000.0 - 1000.0 * k for k in range(11)]
    assert ph["max_loss_limit"] == [90_000.0] * 11
    assert ph["balance"][-1] < 90_000.0  # the 11th loss breaches the max loss


# ----------------------------------------------------------------------------- number formats and bins


def test_money_and_percent_formats():
    assert money(100_000.0) == "$100,000"
    assert money(-1234.5) == "-$1,234.50"
    assert money(1234.5, cents=False) == "$1,234" or money(1234.5, cents=False) == "$1,235"
    assert money(5000, "EUR") == "€5,000" and money(12_000, "CHF") == "12,000 CHF"
    assert money(None) == "-" and money(math.inf) == "-" and money(-0.001) == "$0"
    assert percent(0.1234) == "12.3%" and percent(None) == "-"


def test_histogram_bins_by_hand():
    left, counts = bins([0.1, 0.2, 0.3, 0.75, None], 0.25, lo=0.0)
    assert left.tolist() == [0.0, 0.25, 0.5, 0.75] and counts.tolist() == [2, 1, 0, 1]
    left, counts = bins([3, 4, 4, 9], 2.0)
    assert left.tolist() == [2.0, 4.0, 6.0, 8.0] and counts.tolist() == [1, 2, 0, 1]
    assert nice_width(100, 40) == 2.5 and nice_width(7, 40) == 0.2 and nice_width(0, 40) == 1.0


# ----------------------------------------------------------------------------- the terminal summary


def _on_a_terminal(args: list[str], cwd: Path) -> str:
    """simlab with stdout on a pseudo-terminal (120 columns): what the terminal showed."""
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "TERM")}
    p = subprocess.Popen(
        [sys.executable, "-m", "simlab_cli", *args], cwd=cwd, stdout=slave, stderr=subprocess.PIPE,
        env=env | {"TERM": "xterm-256color"},
    )  # fmt: skip
    os.close(slave)
    seen = drain_pty(master, p)
    assert p.wait() == 0
    os.close(master)
    return seen.decode("utf-8", "replace")


def test_rich_tables_on_a_terminal_and_the_plain_table_on_a_pipe(tmp_path):
    from simlab.results import format_table

    args = ["challenge", "--runs", "5", *FAST, "--governors", "none"]
    term = _on_a_terminal([*args, "--json", "tty.json"], tmp_path)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", term)
    assert "┃" in plain and "━" in plain and "\x1b[" in term  # rich's tables, in colour
    assert "PASS RATE" in plain and "phases" in plain and "$100,000" in plain
    p = subprocess.run(
        [sys.executable, "-m", "simlab_cli", *args, "--json", "pipe.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    doc = json.loads((tmp_path / "pipe.json").read_text())
    assert p.stdout == format_table(doc) + "\n\n  wrote pipe.json\n"  # the plain text, as it always was
    assert "┃" not in p.stdout and "\x1b[" not in p.stdout
    assert (tmp_path / "tty.json").read_bytes() == (tmp_path / "pipe.json").read_bytes()
