"""The look-ahead gate before ``simlab backtest`` and ``simlab challenge`` (issue 9 item 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _builders import run_simlab

from simlab.synthetic import default_bars
from strategies.lookahead import lookahead_gate
from strategies.registry import known_strategies, load_strategy

LEAKY = '''
import numpy as np
from strategies import Intents, Param, Strategy


class PeekNext(Strategy):
    """Long when the NEXT bar closes higher: a cheat that reads the future."""

    name = "peek_next"
    stop = Param(0.002, bounds=(0.0001, 1.0), help="stop distance, price")

    @property
    def warmup(self) -> int:
        return 1

    def signals(self, bars):
        c = bars.bid[:, 3]
        up = np.zeros(len(bars), dtype=bool)
        up[:-1] = c[1:] > c[:-1]  # bar t looks at bar t+1's close
        return Intents.from_signals(len(bars), long=up, short=~up, sl=self.stop, warmup=1)
'''


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    p = tmp_path / "peek.py"
    p.write_text(LEAKY)
    return p


@pytest.mark.parametrize("command", [["backtest"], ["challenge", "--runs", "2", "--horizon-days", "10"]])
def test_a_leaky_strategy_is_refused_naming_the_bar(command, leaky, tmp_path):
    out = tmp_path / "r.json"
    p = run_simlab(*command, "--strategy", str(leaky), "--json", str(out), cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "look-ahead" in lines[0] and "reads the future" in lines[0] and "bar " in lines[0]
    assert "--no-lookahead-check" in lines[0]
    assert not out.exists()


@pytest.mark.parametrize("command", [["backtest"], ["challenge", "--runs", "2", "--horizon-days", "10"]])
def test_the_skip_flag_runs_it_and_says_so(command, leaky, tmp_path):
    out = tmp_path / "r.json"
    p = run_simlab(
        *command, "--strategy", str(leaky), "--no-lookahead-check", "--json", str(out), cwd=tmp_path
    )
    assert p.returncode == 0, p.stderr
    doc = json.loads(out.read_text())
    assert doc["provenance"]["lookahead_check"] == {"ran": False, "reason": "--no-lookahead-check"}
    assert "--no-lookahead-check" in doc["provenance"]["command"]
    assert "look-ahead check: skipped" in p.stdout


@pytest.mark.parametrize(
    "name", sorted(set(known_strategies()) - {"onnx", "onnx-policy"})
)  # they need a model
def test_shipped_strategies_pass_the_gate(name, tmp_path, monkeypatch):
    monkeypatch.setenv("SIMLAB_CACHE", str(tmp_path))
    bars = default_bars("1h")
    record = lookahead_gate(load_strategy(name), bars, "data-hash")
    assert record["ran"] and record["ok"] and record["prefixes"] >= 32


def test_the_verdict_is_cached_by_source_params_and_data(tmp_path, monkeypatch):
    import strategies.lookahead as la

    monkeypatch.setenv("SIMLAB_CACHE", str(tmp_path))
    calls = []
    real = la.check_lookahead
    monkeypatch.setattr(la, "check_lookahead", lambda *a, **k: calls.append(1) or real(*a, **k))
    bars = default_bars("1h").slice(0, 3000)
    s = load_strategy("ma_cross")
    first = lookahead_gate(s, bars, "h1")
    assert lookahead_gate(s, bars, "h1") == first and len(calls) == 1  # from the cache: same record
    lookahead_gate(load_strategy("ma_cross", {"fast": "10"}), bars, "h1")  # other parameters
    lookahead_gate(s, bars, "h2")  # other data
    assert len(calls) == 3
    assert len(list((tmp_path / "simlab" / "lookahead").glob("*.json"))) == 3
    # a damaged cache entry is checked again, not trusted
    for f in (tmp_path / "simlab" / "lookahead").glob("*.json"):
        f.write_text("{garbage")
    assert lookahead_gate(s, bars, "h1") == first and len(calls) == 4


def test_a_cached_leak_is_still_refused(leaky, tmp_path, monkeypatch):
    from simlab.errors import ConfigError
    from strategies.registry import load_strategy_class

    monkeypatch.setenv("SIMLAB_CACHE", str(tmp_path))
    s = load_strategy_class(str(leaky))()
    bars = default_bars("1h").slice(0, 2000)
    for _ in range(2):  # computed, then from the cache
        with pytest.raises(ConfigError, match=r"reads the future: bar \d+"):
            lookahead_gate(s, bars, "h")
