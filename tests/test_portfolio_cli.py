"""Portfolio runs from the command line: profit conversion, the portfolio file, refusals, reruns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _builders import run_simlab_here

from simlab.errors import ConfigError
from simlab.files import sha256_of
from simlab.portfolio import load_portfolio

DE30 = "de30eur_m1_bidask_2019-02.csv.gz"


def _eurusd_hourly(path: Path) -> None:
    """EURUSD hourly bars, no spread, from 2019-02-19 00:00 UTC: the open of hour h is 1.1000 + 0.0001 h."""
    t0 = np.datetime64("2019-02-19T00:00")
    rows = ["time,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close"]
    for h in range(24 * 5):
        p = 1.1000 + 0.0001 * h
        q = [p, p + 0.0005, p - 0.0005, p]
        cells = ",".join(f"{x:.4f}" for x in q)
        rows.append(f"{str(t0 + np.timedelta64(h, 'h')).replace('T', ' ')}:00,{cells},{cells}")
    path.write_text("\n".join(rows) + "\n")


def _eurusd_at(iso: str) -> float:
    """The conversion rate of a trade closed at ``iso``: the open of its hour's EURUSD bar, by hand."""
    h = int((np.datetime64(iso.rstrip("Z")) - np.datetime64("2019-02-19T00:00")) // np.timedelta64(1, "h"))
    return 1.1000 + 0.0001 * h


# =============================================================================== acceptance 4


def test_a_de30eur_trade_converts_at_eurusd_of_its_bar(shared_data_dir, tmp_path):
    fx = tmp_path / "eurusd.csv"
    _eurusd_hourly(fx)
    out = tmp_path / "de30.json"
    common = ["--strategy", "donchian", "--volume", "1", "--exec-model", "none", "--json", str(out)]
    code, stdout, err = run_simlab_here(
        "backtest", "--data", f"DE30EUR={shared_data_dir / DE30}", "--convert", f"EURUSD={fx}", *common
    )
    assert code == 0, err
    doc = json.loads(out.read_text())
    trades = doc["result"]["trades"]
    first = trades[0]
    # long 1 lot at 11312.6, stopped at 11307.6 at 00:55 on 2019-02-20: -5.0 points x contract 1.0 x
    # EURUSD 1.1024 (the open of the 00:00 bar, hour 24 of the series) = -5.512 USD
    assert (first["entry_price"], first["exit_price"], first["exit_time"]) == (
        11312.6,
        11307.6,
        "2019-02-20T00:55:00Z",
    )
    assert first["gross"] == pytest.approx(-5.0 * 1.0 * 1.0 * 1.1024, abs=1e-9)
    # every trade: points x lots x contract size x EURUSD at its exit bar
    for t in trades:
        side = 1.0 if t["side"] == "long" else -1.0
        points = side * (t["exit_price"] - t["entry_price"])
        assert t["gross"] == pytest.approx(points * t["volume"] * 1.0 * _eurusd_at(t["exit_time"]), abs=1e-9)
    assert len({_eurusd_at(t["exit_time"]) for t in trades}) > 10  # the rate moves over the run
    leg = doc["result"]["legs"][0]
    assert leg["conversion"] == {"currency": "EUR", "pair": "EURUSD", "source": "--convert EURUSD"}
    assert [c["pair"] for c in doc["provenance"]["convert"]] == ["EURUSD"]
    assert "NOTE" not in stdout and "fixed tick value" not in err


def test_without_eurusd_the_fixed_tick_value_is_used_and_the_run_says_so(shared_data_dir, tmp_path):
    out = tmp_path / "de30.json"
    code, stdout, err = run_simlab_here(
        "backtest", "--data", f"DE30EUR={shared_data_dir / DE30}", "--strategy", "donchian", "--volume", "1",
        "--exec-model", "none", "--json", str(out),
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out.read_text())
    first = doc["result"]["trades"][0]
    # the preset's tick value: 0.108 USD per 0.1 point per lot (EURUSD 1.08 frozen): -5.0 x 1.08 = -5.40
    assert first["gross"] == pytest.approx(-5.0 * 0.108 / 0.1, abs=1e-9)
    note = (
        "DE30EUR: profit converted at the spec's fixed tick value 0.108 USD per 0.1: no EURUSD series loaded "
        "(add --convert EURUSD=FILE, or a EURUSD leg)"
    )
    assert doc["result"]["legs"][0]["conversion"] == {
        "currency": "EUR", "pair": "EURUSD", "source": "fixed tick value", "note": note,
    }  # fmt: skip
    assert f"simlab backtest: warning: {note}" in err  # on the terminal, and in the table
    assert f"NOTE {note}" in stdout


def test_a_single_symbol_run_on_the_fixed_tick_value_says_so_too(shared_data_dir):
    # the symbol as a new user gives it: from the MT5 export's file name
    note = (
        "DE30EUR: profit converted at the spec's fixed tick value 0.108 USD per 0.1: no EURUSD series loaded "
        "(add --convert EURUSD=FILE, or a EURUSD leg)"
    )
    for command in ("backtest", "challenge"):
        code, _, err = run_simlab_here(
            command, "--data", str(shared_data_dir / "DE30EUR_M1_mt5export_ny7_2019-02.csv"),
            "--tz", "America/New_York+7", "--strategy", "donchian", "--exec-model", "none",
            *(("--volume", "1") if command == "backtest" else ("--runs", "2", "--horizon-days", "1")),
        )  # fmt: skip
        assert code == 0, err
        assert err.count(f"simlab {command}: warning: {note}") == 1, err
    # a USD-quoted symbol converts nothing: no such line
    code, _, err = run_simlab_here("backtest", "--data", "bundled", "--volume", "1", "--exec-model", "none")
    assert code == 0 and "converted at" not in err, err


# =============================================================================== the portfolio file


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_a_portfolio_file_names_legs_relative_to_itself(tmp_path):
    p = _write(
        tmp_path / "pf.toml",
        '[[legs]]\nsymbol = "EURUSD"\ndata = "e.csv"\nstrategy = "donchian"\nparams = { window = 30 }\nrisk = 0.005\n\n'
        '[[legs]]\nsymbol = "GER40"\ndata = "/abs/g.csv"\nvolume = 0.5\ntz = "UTC+2"\nexec_model = "none"\n\n'
        '[convert]\nEURUSD = { data = "fx.csv", tz = "UTC" }\n',
    )
    spec = load_portfolio(p)
    a, b = spec.legs
    assert (a.symbol, a.data, a.strategy, a.params, a.risk, a.volume) == (
        "EURUSD", str(tmp_path / "e.csv"), "donchian", {"window": 30}, 0.005, None,
    )  # fmt: skip
    assert (b.data, b.strategy, b.params, b.volume, b.tz, b.exec_model) == (
        "/abs/g.csv",
        None,
        None,
        0.5,
        "UTC+2",
        "none",
    )
    assert [(c.pair, c.data, c.tz) for c in spec.convert] == [("EURUSD", str(tmp_path / "fx.csv"), "UTC")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[legs]]\nsymbol = "EURUSD"\ndata = "e.csv"\nrisc = 0.01\n',
            "Object contains unknown field `risc` - at `legs[0]`",
        ),
        (
            '[[legs]]\nsymbol = "EURUSD"\ndata = "e.csv"\nrisk = "1%"\n',
            "Expected `float | null`, got `str` - at `legs[0].risk`",
        ),
        ('[[legs]]\nsymbol = "EURUSD"\n', "Object missing required field `data` - at `legs[0]`"),
        ("legs = []\n", "legs: expected at least one [[legs]] table"),
        (
            '[[legs]]\nsymbol = "EURUSD"\ndata = "e.csv"\nrisk = 0.5\n',
            "legs[0]: risk = 0.5: expected a fraction in (0, 0.2]",
        ),
        (
            '[[legs]]\nsymbol = "EURUSD"\ndata = "e.csv"\nrisk = 0.01\nvolume = 1.0\n',
            "legs[0]: give risk or volume, not both",
        ),
        (
            '[[legs]]\nsymbol = "EURUSD"\ndata = "e.csv"\nparams = { fast = 5 }\n',
            "legs[0]: params: name the leg's strategy too",
        ),
        (
            '[[legs]]\nsymbol = "EURUSD"\ndata = "a.csv"\n[[legs]]\nsymbol = "eurusd"\ndata = "b.csv"\n',
            "symbol eurusd is in two legs; a portfolio holds one position per symbol",
        ),
        ('[[legs]]\nsymbol = "EUR USD"\ndata = "a.csv"\n', "symbol = 'EUR USD': expected a symbol name"),
        ("[[legs]\n", "not valid TOML"),
    ],
)
def test_a_bad_portfolio_file_is_one_line_naming_the_file_and_field(tmp_path, text, message):
    p = _write(tmp_path / "pf.toml", text)
    with pytest.raises(ConfigError) as e:
        load_portfolio(p)
    line = str(e.value)
    assert line.startswith(p) and message in line and "\n" not in line, line


# =============================================================================== refusals


@pytest.fixture(scope="module")
def two_files(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("pf")
    from simlab.synthetic import synthetic_eurusd

    out = {}
    for name, seed, price, step in (
        ("eurusd", 1, 1.085, "1h"),
        ("gbpusd", 2, 1.27, "1h"),
        ("m1", 3, 1.27, "1min"),
    ):
        b = synthetic_eurusd(n_days=40, timeframe=step, seed=seed, start_price=price)
        iso = np.datetime_as_string(b.time.astype("datetime64[ns]"), unit="s")
        rows = ["time,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close"]
        n = len(b) if step == "1h" else 3000
        for i in range(n):
            rows.append(",".join([iso[i], *(f"{x:.5f}" for x in b.bid[i]), *(f"{x:.5f}" for x in b.ask[i])]))
        (d / f"{name}.csv").write_text("\n".join(rows) + "\n")
        out[name] = str(d / f"{name}.csv")
    out["dir"] = str(d)
    return out


def _refused(*args: str) -> str:
    code, _, err = run_simlab_here(*args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--data", "EURUSD={eurusd}", "--data", "{gbpusd}"],
            "--data: '{gbpusd}': name the symbol of each leg",
        ),
        (["--data", "EURUSD={eurusd}", "--data", "EURUSD={gbpusd}"], "symbol EURUSD is in two legs"),
        (["--data", "EURUSD={eurusd}", "--symbol", "GBPUSD"], "--symbol: does not apply to a portfolio"),
        (["--data", "EURUSD={eurusd}", "--data", "GBPUSD={m1}"], "bars of 1min, but --data EURUSD="),
        (
            ["--data", "EURUSD={eurusd}", "--exec-model", "XAUUSD=none"],
            "--exec-model: XAUUSD=none: XAUUSD is not a leg",
        ),
        (
            ["--data", "EURUSD={eurusd}", "--convert", "EURGBP={gbpusd}"],
            "--convert: 'EURGBP': expected a currency pair of USD",
        ),
        (["--data", "EURUSD={eurusd}", "--convert", "EURUSD={gbpusd}"], "EURUSD is a leg of this portfolio"),
        (["--data", "EURUSD={eurusd}", "--convert", "GBPUSD={gbpusd}"], "--convert GBPUSD: converts nothing"),
        (["--data", "EURUSD={dir}/missing.csv"], "missing.csv: file not found"),
        (
            ["--data", "EURUSD=bundled", "--tz", "UTC+2"],
            "--tz: does not apply in this portfolio: every leg is bundled data",
        ),
        (
            ["--data", "EURUSD={eurusd}", "--exec-model", "none", "--seed", "3"],
            "--seed: nothing is drawn at random",
        ),
        (
            ["--data", "EURUSD={eurusd}", "--exec-model", "none", "--no-slippage"],
            "--no-slippage: does not apply",
        ),
    ],
)
def test_a_portfolio_refuses_what_it_cannot_use_in_one_line(two_files, args, expected):
    line = _refused("backtest", *[a.format(**two_files) for a in args])
    assert expected.format(**two_files) in line, line


def test_options_the_portfolio_file_overrides_everywhere_are_refused(two_files, tmp_path):
    p = _write(
        tmp_path / "pf.toml",
        f'[[legs]]\nsymbol = "EURUSD"\ndata = "{two_files["eurusd"]}"\nstrategy = "donchian"\nrisk = 0.01\n',
    )
    assert (
        "--strategy: does not apply in this portfolio: every leg of the portfolio file names its own"
        in _refused("backtest", "--portfolio", p, "--strategy", "ma_cross")
    )
    assert "--risk: does not apply in this portfolio" in _refused(
        "backtest", "--portfolio", p, "--risk", "0.02"
    )
    assert "--data: does not apply with --portfolio" in _refused(
        "backtest", "--portfolio", p, "--data", two_files["eurusd"]
    )
    line = _refused("challenge", "--portfolio", p, "--bootstrap-days", "3")
    assert (
        "--bootstrap-days: does not apply in this portfolio: day bootstrap of a portfolio is not built"
        in line
    )
    assert "--portfolio: does not apply in simlab sweep" in _refused(
        "sweep", "--portfolio", p, "--grid", "risk=0.01,0.02"
    )


# =============================================================================== reruns and workers


def test_a_portfolio_challenge_is_the_same_on_any_number_of_workers_and_reruns_byte_identical(
    two_files, tmp_path
):
    args = [
        "challenge", "--data", f"EURUSD={two_files['eurusd']}", "--data", f"GBPUSD={two_files['gbpusd']}",
        "--runs", "12", "--horizon-days", "10",
    ]  # fmt: skip
    outs = []
    for w in ("1", "3"):
        out = tmp_path / f"w{w}.json"
        code, _, err = run_simlab_here(*args, "--workers", w, "--json", str(out))
        assert code == 0, err
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    again = tmp_path / "again.json"
    code, _, err = run_simlab_here("rerun", str(tmp_path / "w1.json"), "--json", str(again))
    assert code == 0, err
    assert again.read_bytes() == outs[0]
    doc = json.loads(outs[0])
    legs = doc["result"]["legs"]
    assert [leg["symbol"] for leg in legs] == ["EURUSD", "GBPUSD"]
    # the traced sample (equity paths for the report): every attempt re-run and checked against the run
    assert len(doc["result"]["equity_paths"]) == 12 and doc["result"]["sample"]["attempts"] == 12
    assert sum(leg["trades"] for leg in legs) == sum(a["trades"] for a in doc["result"]["attempts"])
    argv = doc["provenance"]["argv"]
    i = argv.index("--data")
    assert argv[i : i + 4] == [
        "--data",
        f"EURUSD={two_files['eurusd']}",
        "--data",
        f"GBPUSD={two_files['gbpusd']}",
    ]
    assert "--exec-model" in argv and "GBPUSD=none" in argv  # every leg's model, resolved
    assert [leg["data"]["sha256"] for leg in doc["provenance"]["legs"]] == [
        sha256_of(two_files[k]) for k in ("eurusd", "gbpusd")
    ]


def test_a_portfolio_file_run_reruns_byte_identical(two_files, tmp_path):
    p = _write(
        tmp_path / "pf.toml",
        f'[[legs]]\nsymbol = "EURUSD"\ndata = "{two_files["eurusd"]}"\nstrategy = "donchian"\n\n'
        f'[[legs]]\nsymbol = "GBPUSD"\ndata = "{two_files["gbpusd"]}"\nvolume = 0.3\n',
    )
    out, again = tmp_path / "a.json", tmp_path / "b.json"
    code, _, err = run_simlab_here("backtest", "--portfolio", p, "--json", str(out))
    assert code == 0, err
    doc = json.loads(out.read_text())
    assert "--portfolio" in doc["provenance"]["argv"] and "--data" not in doc["provenance"]["argv"]
    assert doc["provenance"]["portfolio"]["file"] == p
    assert [leg["volume"] for leg in doc["provenance"]["legs"]] == [None, 0.3]
    assert {t["symbol"] for t in doc["result"]["trades"]} == {"EURUSD", "GBPUSD"}
    code, _, err = run_simlab_here("rerun", str(out), "--json", str(again))
    assert code == 0, err
    assert again.read_bytes() == out.read_bytes()
