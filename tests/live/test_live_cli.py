"""``simlab live run``: the CLI on a fake terminal; JSON logs with the mode and never the password
(acceptance 5); the preflight's one-line failures, exit 2, before any order (acceptance 6)."""

from __future__ import annotations

import json
import os
import sqlite3

import numpy as np
import pytest
from live_helpers import walk_bars, zero_cost_eurusd

from live.clock import ServerClock
from live.fake import FakeTerminal
from live.mt5 import MT5Broker
from live.preflight import PreflightError, preflight
from simlab_cli.main import main

PASSWORD = "hunter2-Very$ecret"


def _bars_csv(path, n=300):
    rng = np.random.default_rng(3)
    closes = list(np.round(1.1 + np.cumsum(rng.normal(0, 0.0002, n)), 5))
    b = walk_bars(closes)
    lines = ["time,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close"]
    for i in range(len(b)):
        t = str(np.datetime64(int(b.time[i]), "ns").astype("datetime64[s]")) + "Z"
        lines.append(",".join([t, *(f"{x:.5f}" for x in b.bid[i]), *(f"{x:.5f}" for x in b.ask[i])]))
    path.write_text("\n".join(lines) + "\n")
    return path


def _config(tmp_path, extra_broker="", extra="", mode="live"):
    data = _bars_csv(tmp_path / "bars.csv")
    cfg = tmp_path / "live.toml"
    cfg.write_text(
        f'''mode = "{mode}"
journal = "{tmp_path / "journal.db"}"
[broker]
kind = "fake"
data = "{data}"
login = 777
server = "SimLab-Fake"
password_env = "MT5_PASSWORD"
server_tz = "America/New_York+7"
{extra_broker}
[symbol]
name = "EURUSD"
digits = 5
contract_size = 100000
[strategy]
name = "ma_cross"
history_bars = 500
params = {{ fast = 5, slow = 20, atr_stop = 6.0, atr_target = 0.0 }}
[account]
program = "ftmo-2step"
[governors]
preset = "default"
[observability]
log_file = "{tmp_path / "log.jsonl"}"
fills_csv = "{tmp_path / "fills.csv"}"
{extra}
'''
    )
    return cfg


def test_run_on_a_fake_terminal_json_logs_fills_and_no_password(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MT5_PASSWORD", PASSWORD)
    cfg = _config(tmp_path)
    assert main(["live", "run", "--config", str(cfg)]) == 0
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    recs = [json.loads(x) for x in lines]
    assert recs and all(r["mode"] == "live" for r in recs)
    assert any(r["event"] == "opened" for r in recs) and any(r["event"] == "preflight_ok" for r in recs)
    fills = (tmp_path / "fills.csv").read_text()
    assert fills.startswith("time,symbol,side,order_type,entry,requested_price,filled_price")
    # the fills file is what `simlab calibrate --fills` reads
    from execution_models.calibrate import read_fills

    ex, rec = read_fills(tmp_path / "fills.csv", "EURUSD")
    assert rec["rows"] == len(fills.splitlines()) - 1 > 0
    # the password is nowhere: logs, journal (and its WAL), fills, stdout
    blobs = [b"\n".join(x.encode() for x in lines), (tmp_path / "fills.csv").read_bytes()]
    for name in os.listdir(tmp_path):
        if name.startswith("journal.db"):
            blobs.append((tmp_path / name).read_bytes())
    out = capsys.readouterr()
    blobs += [out.out.encode(), out.err.encode()]
    assert all(PASSWORD.encode() not in b for b in blobs)
    assert sqlite3.connect(tmp_path / "journal.db").execute("SELECT COUNT(*) FROM intents").fetchone()[0] > 0


def test_health_and_metrics_never_show_the_password(tmp_path, monkeypatch):
    import io

    from live.app import build
    from live.config import load_config

    monkeypatch.setenv("MT5_PASSWORD", PASSWORD)
    cfg = load_config(_config(tmp_path))
    runner, term, _ = build(cfg, "live.toml", dry_run=False, log_stream=io.StringIO())
    runner.broker.connect()
    runner.poll()
    for _ in range(120):
        term.advance()
        runner.poll()
    health = json.dumps(runner.health())
    metrics = runner.metrics.text()
    assert PASSWORD not in health and PASSWORD.encode() not in metrics
    assert b"simlab_live_equity" in metrics and json.loads(health)["limits"]["daily_limit"] > 0
    # the log redacts a secret even if some library put it in a message
    runner.log.event("oops", detail=f"password={PASSWORD}")
    assert PASSWORD not in runner.log.stream.getvalue()


def test_dry_run_sends_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("MT5_PASSWORD", PASSWORD)
    cfg = _config(tmp_path)
    assert main(["live", "run", "--config", str(cfg), "--dry-run"]) == 0
    recs = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert all(r["mode"] == "dryrun" for r in recs)
    assert any(r["event"] == "order_dryrun" for r in recs)
    assert sqlite3.connect(tmp_path / "journal.db").execute("SELECT COUNT(*) FROM intents").fetchone()[0] == 0


def test_world_readable_password_file_is_refused(tmp_path, capsys):
    pw = tmp_path / "mt5.pass"
    pw.write_text(PASSWORD)
    pw.chmod(0o644)
    cfg = _config(tmp_path)
    cfg.write_text(cfg.read_text().replace('password_env = "MT5_PASSWORD"', f'password_file = "{pw}"'))
    assert main(["live", "run", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "readable by others" in err[0] and PASSWORD not in err[0]
    pw.chmod(0o600)
    assert main(["live", "run", "--config", str(cfg)]) == 0


def test_bad_config_is_one_line(tmp_path, capsys):
    cfg = tmp_path / "live.toml"
    cfg.write_text(
        '[broker]\nkind = "fake"\ndata = "x.csv"\nbogus = 1\n[symbol]\nname = "EURUSD"\n[strategy]\nname = "ma_cross"\n'
    )
    assert main(["live", "run", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bogus" in err[0]


def test_preflight_failure_via_cli_exits_2_before_any_order(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MT5_PASSWORD", PASSWORD)
    cfg = _config(tmp_path)
    cfg.write_text(cfg.read_text().replace("digits = 5", "digits = 3"))
    assert main(["live", "run", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["simlab live: error: preflight: symbol: EURUSD has 5 digits, expected 3"]
    assert (
        not (tmp_path / "journal.db").exists()
        or sqlite3.connect(tmp_path / "journal.db").execute("SELECT COUNT(*) FROM intents").fetchone()[0] == 0
    )


def _term(**kw):
    b = walk_bars([1.1 + 0.0001 * i for i in range(30)], start="2024-07-15T12:00")
    t = FakeTerminal(
        b, zero_cost_eurusd(), server_tz="America/New_York+7", login=777, server="SimLab-Fake", **kw
    )
    for _ in range(5):
        t.advance()
    return t


@pytest.mark.parametrize(
    "tweak, kwargs, message",
    [
        (
            lambda t: setattr(t, "connected", False),
            {},
            "terminal: the terminal is not connected to the trade server",
        ),
        (
            lambda t: setattr(t, "trade_allowed", False),
            {},
            "terminal: AutoTrading is off in the terminal (Algo Trading button)",
        ),
        (lambda t: None, {"login": 778}, "account: logged in to account 777, expected 778"),
        (
            lambda t: None,
            {"server": "FTMO-Demo"},
            "account: connected to server 'SimLab-Fake', expected 'FTMO-Demo'",
        ),
        (
            lambda t: setattr(t, "account_trade_expert", False),
            {},
            "account: trading (or trading by experts) is not allowed on this account",
        ),
        (
            lambda t: None,
            {"symbol": "EURUSD.raw"},
            "symbol: EURUSD.raw cannot be selected in Market Watch (wrong name or broker suffix?)",
        ),
        (lambda t: setattr(t, "trade_mode", 3), {}, "symbol: EURUSD trade mode is 3, expected 4 (full)"),
        (lambda t: None, {"digits": 3}, "symbol: EURUSD has 5 digits, expected 3"),
        (lambda t: None, {"contract_size": 1000.0}, "symbol: EURUSD contract size is 100000, expected 1000"),
        (lambda t: None, {"fixed_volume": 500.0}, "symbol: fixed volume 500.0 is outside 0.01 .. 100.0"),
        (lambda t: None, {"clock": "Europe/Helsinki"}, None),  # July: Helsinki is UTC+3 like NY+7: passes
        (
            lambda t: None,
            {"clock": "UTC+2"},
            "server clock: the server's clock reads UTC+3 but server_tz 'UTC+2' is UTC+2 now",
        ),
    ],
)
def test_each_preflight_failure_is_one_line(tweak, kwargs, message):
    t = _term()
    tweak(t)
    broker = MT5Broker(t)
    broker.connect()
    kw = {"symbol": "EURUSD", "clock": ServerClock.parse("America/New_York+7"), **kwargs}
    kw["clock"] = ServerClock.parse(kw["clock"]) if isinstance(kw["clock"], str) else kw["clock"]
    if message is None:
        preflight(broker, now_utc_ns=t.now_utc_ns, **kw)
        return
    with pytest.raises(PreflightError) as e:
        preflight(broker, now_utc_ns=t.now_utc_ns, **kw)
    assert str(e.value) == f"preflight: {message}" and "\n" not in str(e.value)
    assert t.sent == []


def test_preflight_terminal_not_answering():
    t = _term()
    broker = MT5Broker(t)
    broker.connect()
    t.inject("disconnect", on="terminal_info")
    with pytest.raises(
        PreflightError, match=r"^preflight: terminal: the terminal does not answer \(last_error -10004"
    ):
        preflight(broker, symbol="EURUSD", clock=ServerClock.parse("UTC"), now_utc_ns=t.now_utc_ns)


def test_fills_table_prices_the_fake_terminals_fills(tmp_path, monkeypatch):
    monkeypatch.setenv("MT5_PASSWORD", PASSWORD)
    cfg = _config(tmp_path, extra='[fills]\nexec_model = "EURUSD"\nspread = "wider"\nseed = 7\n')
    assert main(["live", "run", "--config", str(cfg)]) == 0
    recs = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    (f,) = [r for r in recs if r["event"] == "fills"]
    assert f["spread"] == "wider" and f["seed"] == 7 and f["slippage"] is True and "EURUSD" in f["costs"]
    assert any(r["event"] == "opened" for r in recs)


@pytest.mark.parametrize(
    "broker, fills, dry, message",
    [
        (
            'kind = "mt5linux"',
            'exec_model = "EURUSD"',
            False,
            "fills.exec_model: a live run on a real terminal",
        ),
        (
            'kind = "mt5linux"',
            'exec_model = "EURUSD"\nspread = "model"',
            True,
            "fills.spread = 'model': a real",
        ),
        ('kind = "fake"', 'spread = "model"', False, "fills.spread: needs an execution model"),
        ('kind = "fake"', 'exec_model = "EURUSD"\nspread = "mid"', False, "fills.spread = 'mid': expected"),
        ('kind = "fake"', 'exec_model = "EURUSD@1999-01-01"', False, "fills: "),
    ],
)
def test_fills_table_refusals_are_one_line(tmp_path, monkeypatch, capsys, broker, fills, dry, message):
    monkeypatch.setenv("MT5_PASSWORD", PASSWORD)
    cfg = _config(tmp_path, extra=f"[fills]\n{fills}\n")
    cfg.write_text(cfg.read_text().replace('kind = "fake"', broker))
    assert main(["live", "run", "--config", str(cfg), *(["--dry-run"] if dry else [])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_tick_replay_from_the_config(tmp_path, monkeypatch):
    """``replay = "ticks"``: the fake terminal replays a tick file tick by tick; its bars are built from the ticks."""
    monkeypatch.setenv("MT5_PASSWORD", PASSWORD)
    rng = np.random.default_rng(5)
    n = 3000  # about 50 minutes of ticks, ~1 s apart
    t0 = np.datetime64("2024-07-16T12:00", "ms").astype(np.int64)
    ms = t0 + np.cumsum(rng.integers(200, 1800, n))
    bid = np.round(1.1 + np.cumsum(rng.normal(0, 0.00004, n)), 5)
    ask = np.round(bid + rng.integers(8, 14, n) * 1e-5, 5)
    lines = ["time,bid,ask"] + [
        f"{np.datetime64(int(m), 'ms')}Z,{b:.5f},{a:.5f}" for m, b, a in zip(ms, bid, ask, strict=True)
    ]
    (tmp_path / "ticks.csv").write_text("\n".join(lines) + "\n")
    cfg = _config(tmp_path, extra_broker='replay = "ticks"')
    cfg.write_text(cfg.read_text().replace(str(tmp_path / "bars.csv"), str(tmp_path / "ticks.csv")))
    assert main(["live", "run", "--config", str(cfg)]) == 0
    recs = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    opened = [r for r in recs if r["event"] == "opened"]
    assert opened and all(any(abs(r["price"] - x) < 1e-12 for x in np.r_[bid, ask]) for r in opened)
    assert [r for r in recs if r["event"] == "stopped"][0]["polls"] == n  # one poll per tick


def _ftmo_1step(tmp_path, name, old, new):
    from challenges.rules import resolve_program_path

    text = resolve_program_path("ftmo-1step").read_text()
    rules = text.replace(old, new)
    assert old in text
    (tmp_path / name).write_text(rules)
    return tmp_path / name


def _midnight_config(tmp_path, rules, account_extra=""):
    """Minute bars from Monday 2024-01-15 20:00 UTC for 5 hours: bar 180 (23:00 UTC) opens Tuesday in Prague."""
    cfg = _config(tmp_path)
    rng = np.random.default_rng(3)
    b = walk_bars(list(np.round(1.1 + np.cumsum(rng.normal(0, 0.0002, 300)), 5)), start="2024-01-15T20:00")
    lines = ["time,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close"]
    for i in range(len(b)):
        t = str(np.datetime64(int(b.time[i]), "ns").astype("datetime64[s]")) + "Z"
        lines.append(",".join([t, *(f"{x:.5f}" for x in b.bid[i]), *(f"{x:.5f}" for x in b.ask[i])]))
    (tmp_path / "bars.csv").write_text("\n".join(lines) + "\n")
    text = cfg.read_text().replace('program = "ftmo-2step"', f'program = "{rules}"\n{account_extra}')
    cfg.write_text(text)
    return cfg


def _phase_ended(tmp_path):
    recs = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    return [r for r in recs if r["event"] == "phase_ended"]


def test_time_limit_and_holding_bans_run_live(tmp_path, monkeypatch, capsys):
    """A time limit or a holding ban is judged live now (tests/live/test_live_time_and_holding.py): no longer
    refused. A 2-day limit counted from the first day run does not end Monday's and Tuesday's run; ma_cross
    holds nothing through Tuesday's first open, so the overnight ban does not either."""
    monkeypatch.setenv("MT5_PASSWORD", PASSWORD)
    for name, old, new in (
        ("limit.toml", "max_calendar_days = 0", "max_calendar_days = 2"),
        ("weekend.toml", "weekend = true", "weekend = false"),
        ("overnight.toml", "overnight = true", "overnight = false"),
    ):
        d = tmp_path / name.removesuffix(".toml")
        d.mkdir()
        cfg = _midnight_config(d, _ftmo_1step(d, name, old, new))
        assert main(["live", "run", "--config", str(cfg)]) == 0, capsys.readouterr().err
        recs = [json.loads(x) for x in (d / "log.jsonl").read_text().splitlines()]
        assert sum(r["event"] == "bar" for r in recs) == 299  # every closed bar of the replay was processed
        # ma_cross is flat at Tuesday's first open (bar 180) on these bars: no ban breaks, no limit is reached
        assert not _phase_ended(d) and sum(r["event"] == "opened" for r in recs) == 12


def test_a_configured_phase_start_counts_the_time_limit_from_it(tmp_path, monkeypatch, capsys):
    """``account.phase_start``: the phase began on Sunday (a date: its rule day), so a 2-day limit is over at
    Tuesday's first bar (180); a restart on the same journal keeps it, and a different start is refused."""
    monkeypatch.setenv("MT5_PASSWORD", PASSWORD)
    rules = _ftmo_1step(tmp_path, "limit.toml", "max_calendar_days = 0", "max_calendar_days = 2")
    cfg = _midnight_config(tmp_path, rules, 'phase_start = "2024-01-14"')
    assert main(["live", "run", "--config", str(cfg)]) == 0, capsys.readouterr().err
    ended = _phase_ended(tmp_path)
    assert [(r["reason"], r["bar"], r["phase_start"]) for r in ended] == [("time_limit", 180, "2024-01-14")]
    day = int(np.datetime64("2024-01-14", "D").astype(np.int64))
    with sqlite3.connect(tmp_path / "journal.db") as db:
        (state,) = db.execute("SELECT value FROM state").fetchone()
    assert json.loads(state)["phase_start_day"] == day
    cfg.write_text(cfg.read_text().replace('phase_start = "2024-01-14"', 'phase_start = "2024-01-13T18:30"'))
    capsys.readouterr()
    assert main(["live", "run", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1
        and "account.phase_start" in err[0]
        and "journal's phase started on 2024-01-14" in err[0]
    )


@pytest.mark.parametrize(
    ("max_days", "start", "message"),
    [
        (0, "2024-01-14", "ftmo-1step phase 1 has no time limit"),
        (2, "14/01/2024", "expected a date 'YYYY-MM-DD'"),
        (2, "2024-01-17", "is after today's (2024-01-15)"),
        (2, "2024-01-13", "2-day time limit ended with 2024-01-14"),
    ],
)
def test_phase_start_refusals_are_one_line(tmp_path, monkeypatch, capsys, max_days, start, message):
    monkeypatch.setenv("MT5_PASSWORD", PASSWORD)
    rules = _ftmo_1step(tmp_path, "rules.toml", "max_calendar_days = 0", f"max_calendar_days = {max_days}")
    cfg = _midnight_config(tmp_path, rules, f'phase_start = "{start}"')
    assert main(["live", "run", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "account.phase_start" in err[0] and message in err[0], err
    assert not any(r["event"] == "opened" for r in _log(tmp_path))


def _log(tmp_path):
    p = tmp_path / "log.jsonl"
    return [json.loads(x) for x in p.read_text().splitlines()] if p.exists() else []


def test_a_strategy_that_reads_its_own_account_is_refused(tmp_path, monkeypatch, capsys):
    """An RL policy (onnx-policy) decides from its account in the closed loop; live would run its signals() on
    a window, an account imagined inside each window: refused, before anything connects."""
    from strategies.onnx_policy import OnnxPolicyStrategy

    assert callable(getattr(OnnxPolicyStrategy, "run_challenge", None))  # what the runner recognises
    monkeypatch.setenv("MT5_PASSWORD", PASSWORD)
    (tmp_path / "policy_like.py").write_text(
        "from strategies.ma_cross import MaCross\n\n\n"
        "class PolicyLike(MaCross):\n"
        "    name = 'policy_like'\n\n"
        "    def run_challenge(self, setup, runs, *, workers=None):\n"
        "        raise AssertionError('not called')\n"
    )
    cfg = _config(tmp_path)
    cfg.write_text(
        cfg.read_text().replace('name = "ma_cross"', f'name = "{tmp_path / "policy_like.py"}:PolicyLike"')
    )
    assert main(["live", "run", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "decides from its own account" in err[0], err
    assert not (tmp_path / "journal.db").exists()


def test_the_readmes_paper_replay_runs(tmp_path, monkeypatch):
    """The README's "Try it without a terminal" config, on a bars file of ours: it runs, and logs dry-run JSON."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    (block,) = re.findall(r"```toml\n(# paper\.toml\n.*?)```", readme, flags=re.S)
    data = _bars_csv(tmp_path / "bars.csv")
    text = block.replace('data = "EURUSD_M1_2024.csv"', f'data = "{data}"')
    assert text != block
    monkeypatch.setenv("MT5_PASSWORD", PASSWORD)
    monkeypatch.chdir(tmp_path)  # journal and log are relative paths
    (tmp_path / "paper.toml").write_text(text)
    assert main(["live", "run", "--config", "paper.toml"]) == 0
    recs = [json.loads(x) for x in (tmp_path / "paper.jsonl").read_text().splitlines()]
    assert recs and all(r["mode"] == "dryrun" for r in recs)
    assert sum(r["event"] == "bar" for r in recs) >= 250 and (tmp_path / "paper.db").exists()
