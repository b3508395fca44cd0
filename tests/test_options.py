"""Every option of ``simlab challenge`` (bar mode and trade-list mode), ``simlab backtest`` and ``simlab
sweep`` (both modes) either changes what the run produces or is refused in one line: none is silently
ignored.

The option lists come from the commands' argparse parsers: an option added without a case here makes
``test_every_option_has_a_case`` fail. Each case runs the command in-process against a small baseline
and says what the option must do:

* ``result``: the result body differs from the baseline's (and so does the provenance);
* ``provenance``: the provenance (other than the command line) differs: recorded, no effect expected
  on these inputs;
* ``refused``: exit 2, one line on stderr naming the option, no output file;
* ``error``: the value is read and rejected for these inputs in one line (the option applies);
* ``same``: the same bytes as the baseline (``--workers``: results do not depend on it);
* ``output``: the file is written; ``exit``: the exit code changes (``--min-pass-rate``);
* ``allows``: without it the run is refused in one line naming it, with it the run is written
  (``--allow-no-trades`` on a strategy whose every order is refused).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from _builders import run_simlab_here

from simlab_cli.main import command_parser

RUNS = ["--runs", "4", "--horizon-days", "20"]


run_cli = run_simlab_here


# ----------------------------------------------------------------------------- input files


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("opts")
    from simlab.synthetic import default_bars

    b = default_bars("1h")
    n = 24 * 5 * 30  # about 150 weekdays of hourly bars
    iso = np.datetime_as_string(b.time[:n].astype("datetime64[ns]"), unit="s")
    cols = [
        "time",
        "bid_open",
        "bid_high",
        "bid_low",
        "bid_close",
        "ask_open",
        "ask_high",
        "ask_low",
        "ask_close",
    ]
    rows = [",".join(cols)]
    for i in range(n):
        rows.append(",".join([iso[i], *(f"{x:.5f}" for x in b.bid[i]), *(f"{x:.5f}" for x in b.ask[i])]))
    (d / "bars.csv").write_text("\n".join(rows) + "\n")
    (d / "symbols.toml").write_text("[EURUSD]\ncommission_per_lot = 9.0\n")  # an override of the preset
    (d / "params.toml").write_text("fast = 10\nslow = 30\n")
    (d / "govs.toml").write_text("daily_buffer_pct = 2.0\nhalt_at_target = true\n")
    import execution_models

    shipped = Path(execution_models.__file__).parent / "EURUSD" / "2026-11-21.json"
    (d / "models" / "EURUSD").mkdir(parents=True)
    shutil.copy(shipped, d / "models" / "EURUSD" / "2030-01-01.json")
    # the shipped model has no latency measurements (all 0 ms): a copy with 0 .. 200 ms of latency
    model = json.loads(shipped.read_text())
    for table in model["tables"]["latency"].values():
        table["q"] = np.linspace(0.0, 200.0, len(table["q"])).tolist()
    for table in model["tables"]["entry_slippage"].values():  # shipped: none (0 points)
        table["q"] = np.linspace(0.0, 2.0, len(table["q"])).tolist()
    (d / "latency.json").write_text(json.dumps(model))
    import datetime as dt

    trades = ["open time,close time,profit,mae"]
    day = dt.date(2024, 1, 2)
    pnl = np.round(np.random.default_rng(3).normal(150.0, 700.0, 80), 2)
    while len(trades) <= 80:
        if day.weekday() < 5:
            p = pnl[len(trades) - 1]
            trades.append(f"{day} 09:00,{day} 15:00,{p},{max(-p, 0) + 100}")
        day += dt.timedelta(days=1)
    (d / "trades.csv").write_text("\n".join(trades) + "\n")
    # a GER40 leg (priced in EUR) on the same hours: the bars scaled into its price range
    rows = [",".join(cols)]
    for i in range(n):
        rows.append(
            ",".join(
                [iso[i], *(f"{x * 16000:.1f}" for x in b.bid[i]), *(f"{x * 16000:.1f}" for x in b.ask[i])]
            )
        )
    (d / "ger40.csv").write_text("\n".join(rows) + "\n")
    (d / "portfolio.toml").write_text(
        '[[legs]]\nsymbol = "EURUSD"\ndata = "bars.csv"\nstrategy = "donchian"\n\n'
        '[[legs]]\nsymbol = "GER40"\ndata = "ger40.csv"\nvolume = 0.5\n'
    )
    return {k: str(d / v) for k, v in {
        "data": "bars.csv", "symbols": "symbols.toml", "params": "params.toml", "govs": "govs.toml",
        "models": "models", "trades": "trades.csv", "dir": ".", "latency": "latency.json",
        "ger40": "ger40.csv", "portfolio": "portfolio.toml",
    }.items()}  # fmt: skip


# ----------------------------------------------------------------------------- the cases
# dest -> list of (extra baseline args, option args, expectation); "{name}" is filled from the files

# the options of --data, the strategy and the costs: the same in bar-mode challenge and backtest
DATA_AND_COSTS: dict[str, list[tuple[list[str], list[str], str]]] = {
    "data": [
        ([], ["--data", "{data}"], "result"),
        ([], ["--data", "EURUSD={data}"], "result"),  # a portfolio of one leg
        (["--data", "EURUSD={data}"], ["--data", "GER40={ger40}"], "result"),  # and of two
        (["--portfolio", "{portfolio}"], ["--data", "EURUSD={data}"], "refused"),
    ],
    "portfolio": [([], ["--portfolio", "{portfolio}"], "result")],
    "convert": [
        (["--data", "GER40={ger40}"], ["--convert", "EURUSD={data}"], "result"),  # converts at the series
        ([], ["--convert", "EURUSD={data}"], "refused"),  # bundled EURUSD: converts nothing
    ],
    "tz": [([], ["--tz", "UTC+2"], "refused"), (["--data", "{data}"], ["--tz", "UTC+5"], "result")],
    "fmt": [([], ["--format", "csv"], "refused"), (["--data", "{data}"], ["--format", "mt5-bars"], "error")],
    "timeframe": [
        ([], ["--timeframe", "2h"], "refused"),
        (["--data", "{data}"], ["--timeframe", "2h"], "result"),
    ],
    "symbol": [
        ([], ["--symbol", "GBPUSD"], "result"),
        (["--data", "EURUSD={data}"], ["--symbol", "GBPUSD"], "refused"),
    ],
    "symbol_file": [([], ["--symbol-file", "{symbols}"], "result")],
    "strategy": [([], ["--strategy", "donchian"], "result")],
    "param": [([], ["--param", "fast=10"], "result")],
    "params_file": [([], ["--params-file", "{params}"], "result")],
    "exec_model": [
        ([], ["--exec-model", "none"], "result"),
        (["--data", "EURUSD={data}"], ["--exec-model", "EURUSD=none"], "result"),
        ([], ["--exec-model", "EURUSD=none"], "refused"),  # one symbol: SYMBOL=MODEL names a leg
    ],
    "model_dir": [([], ["--model-dir", "{models}"], "provenance")],
    "spread": [
        ([], ["--spread", "data"], "result"),
        (["--exec-model", "none"], ["--spread", "model"], "refused"),
    ],
    "no_slippage": [
        ([], ["--no-slippage"], "result"),
        (["--exec-model", "none"], ["--no-slippage"], "refused"),
    ],
    "latency_budget_ms": [
        (["--exec-model", "{latency}"], ["--latency-budget-ms", "50"], "result"),
        ([], ["--latency-budget-ms", "1"], "refused"),  # the shipped model measured no latency
        (["--exec-model", "none"], ["--latency-budget-ms", "1"], "refused"),
    ],
}

CHALLENGE_BARS: dict[str, list[tuple[list[str], list[str], str]]] = {
    "runs": [([], ["--runs", "5"], "result")],
    "program": [([], ["--program", "ftmo-1step"], "result")],
    "size": [([], ["--size", "200000"], "result")],
    "program_param": [(["--program", "e8-one"], ["--program-param", "target_pct=1"], "result")],
    "risk": [([], ["--risk", "0.02"], "result")],
    "seed": [([], ["--seed", "8"], "result")],
    "workers": [([], ["--workers", "1"], "same")],
    "horizon_days": [([], ["--horizon-days", "25"], "result")],
    "bootstrap_days": [
        ([], ["--bootstrap-days", "3"], "result"),
        (["--data", "EURUSD={data}"], ["--bootstrap-days", "3"], "refused"),
    ],
    "trades": [([], ["--trades", "{trades}"], "result")],
    "trade_scale": [([], ["--trade-scale", "2"], "refused")],
    "json": [([], [], "output")],
    "html": [([], [], "output")],
    "min_pass_rate": [([], ["--min-pass-rate", "1"], "exit")],
    "no_lookahead_check": [([], ["--no-lookahead-check"], "provenance")],
    "allow_no_trades": [(["--param", "atr_stop=0"], ["--allow-no-trades"], "allows")],
    **DATA_AND_COSTS,
    "governors": [([], ["--governors", "none"], "result"), ([], ["--governors", "{govs}"], "result")],
    "gov": [([], ["--gov", "daily_buffer_pct=2.5"], "provenance")],
}

_TRADE_LIST_REFUSED = [
    "risk", "data", "fmt", "timeframe", "symbol", "symbol_file", "strategy", "param", "params_file",
    "exec_model", "model_dir", "spread", "no_slippage", "latency_budget_ms", "no_lookahead_check",
    "allow_no_trades", "portfolio", "convert",
]  # fmt: skip
_REFUSED_ARGS = {
    "risk": ["--risk", "0.02"], "data": ["--data", "{data}"], "fmt": ["--format", "csv"],
    "timeframe": ["--timeframe", "2h"], "symbol": ["--symbol", "GBPUSD"], "symbol_file": ["--symbol-file", "{symbols}"],
    "strategy": ["--strategy", "donchian"], "param": ["--param", "fast=10"], "params_file": ["--params-file", "{params}"],
    "exec_model": ["--exec-model", "none"], "model_dir": ["--model-dir", "{models}"], "spread": ["--spread", "data"],
    "no_slippage": ["--no-slippage"], "latency_budget_ms": ["--latency-budget-ms", "1"],
    "no_lookahead_check": ["--no-lookahead-check"], "allow_no_trades": ["--allow-no-trades"],
    "portfolio": ["--portfolio", "{portfolio}"], "convert": ["--convert", "EURUSD={data}"],
}  # fmt: skip

CHALLENGE_TRADES: dict[str, list[tuple[list[str], list[str], str]]] = {
    "runs": [([], ["--runs", "5"], "result")],
    "program": [([], ["--program", "ftmo-1step"], "result")],
    "size": [([], ["--size", "200000"], "result")],
    "program_param": [(["--program", "e8-one"], ["--program-param", "target_pct=1"], "result")],
    "seed": [([], ["--seed", "8"], "result")],
    "workers": [([], ["--workers", "1"], "same")],
    "horizon_days": [([], ["--horizon-days", "25"], "result")],
    "bootstrap_days": [([], ["--bootstrap-days", "3"], "result")],
    "trades": [([], ["--trades", "{trades}"], "same")],  # the baseline's own file: the mode itself
    "trade_scale": [([], ["--trade-scale", "2"], "result")],
    "json": [([], [], "output")],
    "html": [([], [], "output")],
    "min_pass_rate": [([], ["--min-pass-rate", "1"], "exit")],
    "tz": [([], ["--tz", "UTC+12"], "result")],
    "governors": [([], ["--governors", "default"], "refused"), ([], ["--governors", "{govs}"], "refused")],
    "gov": [([], ["--gov", "post_target_risk_mult=0.5"], "provenance")],
    **{d: [([], _REFUSED_ARGS[d], "refused")] for d in _TRADE_LIST_REFUSED},
}

BACKTEST: dict[str, list[tuple[list[str], list[str], str]]] = {
    **DATA_AND_COSTS,
    "risk": [([], ["--risk", "0.02"], "result"), (["--volume", "0.5"], ["--risk", "0.02"], "refused")],
    "volume": [([], ["--volume", "0.5"], "result")],
    "balance": [([], ["--balance", "50000"], "result")],
    "tp_first": [(["--param", "atr_target=0.3"], ["--tp-first"], "result")],
    "seed": [([], ["--seed", "8"], "result"), (["--exec-model", "none"], ["--seed", "8"], "refused")],
    "no_lookahead_check": [([], ["--no-lookahead-check"], "provenance")],
    "allow_no_trades": [(["--param", "atr_stop=0"], ["--allow-no-trades"], "allows")],
    "json": [([], [], "output")],
    "html": [([], [], "output")],
    "curve": [([], ["--curve", "bars"], "result")],
}

# simlab sweep: every option of simlab challenge as there (a grid axis of the same name is refused with
# its option), and the sweep's own. One Dask case per mode, on a one-process cluster: the same bytes.
# a sweep runs one symbol: the portfolio options are refused there
_SWEEP_ONE_SYMBOL: dict[str, list[tuple[list[str], list[str], str]]] = {
    "data": [([], ["--data", "{data}"], "result"), ([], ["--data", "EURUSD={data}"], "refused")],
    "portfolio": [([], ["--portfolio", "{portfolio}"], "refused")],
    "convert": [([], ["--convert", "EURUSD={data}"], "refused")],
    "exec_model": [
        ([], ["--exec-model", "none"], "result"),
        ([], ["--exec-model", "EURUSD=none"], "refused"),
    ],
    "symbol": [([], ["--symbol", "GBPUSD"], "result")],
    "bootstrap_days": [([], ["--bootstrap-days", "3"], "result")],
}
_SWEEP_OWN: dict[str, list[tuple[list[str], list[str], str]]] = {
    "objective": [([], ["--objective", "days"], "result")],
    "fee": [
        ([], ["--fee", "100"], "refused"),
        (["--objective", "ev", "--program", "ftmo-1step"], ["--fee", "100"], "result"),
    ],
    "payout": [
        ([], ["--payout", "5000"], "refused"),
        (["--objective", "ev", "--program", "ftmo-1step"], ["--payout", "5000"], "result"),
    ],
    "split": [([], ["--split", "0.6"], "result"), ([], ["--split", "off"], "result")],
    "dask": [([], ["--dask", "local", "--dask-workers", "1"], "same")],
    "dask_workers": [([], ["--dask-workers", "2"], "refused")],
    "scheduler": [([], ["--scheduler", "tcp://127.0.0.1:9"], "error")],
    "min_pass_rate": [([], ["--min-pass-rate", "1"], "refused")],
    "html": [([], [], "output")],
}
SWEEP_BARS: dict[str, list[tuple[list[str], list[str], str]]] = {
    **CHALLENGE_BARS,
    **_SWEEP_ONE_SYMBOL,
    "grid": [([], ["--grid", "fast=10,20"], "result")],
    "trades": [([], ["--trades", "{trades}"], "error")],  # the gov.maxloss_buffer_pct axis: bar mode only
    **_SWEEP_OWN,
}
SWEEP_TRADES: dict[str, list[tuple[list[str], list[str], str]]] = {
    **CHALLENGE_TRADES,
    "grid": [([], ["--grid", "program=ftmo-2step,ftmo-1step"], "result")],
    "trade_scale": [([], ["--trade-scale", "2"], "refused")],  # the trade_scale axis gives it
    **_SWEEP_OWN,
    "fee": [
        ([], ["--fee", "100"], "refused"),
        (["--objective", "ev", "--program", "ftmo-1step"], ["--fee", "100"], "result"),
    ],
}

COMMANDS = {
    "challenge-bars": ("challenge", [*RUNS], CHALLENGE_BARS),
    "challenge-trades": ("challenge", ["--trades", "{trades}", *RUNS], CHALLENGE_TRADES),
    "backtest": ("backtest", [], BACKTEST),
    "sweep-bars": ("sweep", ["--grid", "gov.maxloss_buffer_pct=1,2", *RUNS], SWEEP_BARS),
    "sweep-trades": ("sweep", ["--trades", "{trades}", "--grid", "trade_scale=1,2", *RUNS], SWEEP_TRADES),
}


def _options(command: str) -> set[str]:
    return {a.dest for a in command_parser(command)._actions if a.option_strings and a.dest != "help"}


@pytest.mark.parametrize("which", sorted(COMMANDS))
def test_every_option_has_a_case(which):
    command, _, cases = COMMANDS[which]
    missing = _options(command) - set(cases)
    assert not missing, f"options of simlab {command} without a case in {which}: {sorted(missing)}"
    assert not set(cases) - _options(command)


def _fill(args: list[str], files: dict[str, str]) -> list[str]:
    return [a.format(**files) for a in args]


def _strip(doc: dict) -> dict:
    prov = {k: v for k, v in doc["provenance"].items() if k not in ("command", "argv")}
    return {"provenance": prov, "result": doc["result"]}


_CASES = [
    (which, dest, i)
    for which, (_, _, cases) in sorted(COMMANDS.items())
    for dest in sorted(cases)
    for i in range(len(cases[dest]))
]


@pytest.fixture(scope="module")
def baselines(files, tmp_path_factory) -> dict[tuple[str, tuple[str, ...]], tuple[bytes, int]]:
    return {}


def _run_json(command: str, args: list[str], out: Path) -> tuple[int, str, str]:
    if out.exists():
        out.unlink()
    return run_cli(command, *args, "--json", str(out))


@pytest.mark.parametrize(("which", "dest", "i"), _CASES)
def test_option_applies_or_is_refused(which, dest, i, files, baselines, tmp_path):
    command, base, cases = COMMANDS[which]
    extra, opt, expect = cases[dest][i]
    base_args = _fill([*base, *extra], files)
    opt_args = _fill(opt, files)
    if expect == "allows":
        out = tmp_path / "opt.json"
        code, _, err = _run_json(command, base_args, out)
        assert code == 2 and len(err.strip().splitlines()) == 1 and opt_args[0] in err, (code, err)
        assert not out.exists()
        code, _, err = _run_json(command, [*base_args, *opt_args], out)
        assert code == 0 and out.stat().st_size > 0, err
        return
    key = (command, tuple(base_args))
    if key not in baselines:
        out = tmp_path / "base.json"
        code, _, err = _run_json(command, base_args, out)
        assert code == 0, err
        baselines[key] = out.read_bytes()
    base_bytes = baselines[key]
    out = tmp_path / "opt.json"
    if expect == "output":
        target = tmp_path / f"out.{dest}"
        code, stdout, err = run_cli(command, *base_args, f"--{dest}", str(target))
        assert code == 0, err
        assert target.stat().st_size > 0 and f"wrote {target}" in stdout
        if dest == "json":
            assert target.read_bytes() == base_bytes
        else:
            assert "<!doctype html>" in target.read_text()[:50]
        return
    code, stdout, err = _run_json(command, [*base_args, *opt_args], out)
    if expect in ("refused", "error"):
        assert code == 2, (code, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert not out.exists()
        if expect == "refused":
            assert opt_args[0] in lines[0], lines[0]
        return
    if expect == "exit":
        assert code == 1 and out.read_bytes() == base_bytes
        return
    assert code == 0, err
    new = out.read_bytes()
    if expect == "same":
        assert new == base_bytes
        return
    a, b = _strip(json.loads(base_bytes)), _strip(json.loads(new))
    if expect == "result":
        assert a["result"] != b["result"], f"{opt_args}: no effect on the result"
    else:
        assert a["provenance"] != b["provenance"], f"{opt_args}: not recorded in the provenance"
    # the recorded command line names the option's effect too (the rerun test checks it reproduces)
    assert json.loads(new)["provenance"]["command"] != json.loads(base_bytes)["provenance"]["command"]
