"""The look-ahead checker: every shipped strategy passes on real and random data; leaky ones are caught."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlab.bars import Bars
from simlab.errors import ConfigError
from simlab.layout import DIR_LONG, DIR_SHORT
from strategies.base import Intents, Param, Strategy
from strategies.donchian import Donchian
from strategies.london_breakout import LondonBreakout
from strategies.lookahead import check_lookahead, choose_cuts, format_time
from strategies.ma_cross import MaCross
from strategies.rsi_reversion import RsiReversion
from strategies.synthetic import random_walk_bars

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
H1 = SHARED / "eurusd_h1_bidask_2007_2018.csv.gz"


# ----------------------------------------------------------------------- leaky strategies
class PeekNext(Strategy):
    """Deliberately leaky: the decision on bar t uses the close of bar t+1."""

    name = "peek_next"
    warm = Param(50, bounds=(0, 10_000))

    @property
    def warmup(self) -> int:
        return self.warm

    def signals(self, bars):
        c = bars.bid[:, 3]
        nxt = np.r_[c[1:], np.nan]  # close[t+1]: the future
        return Intents.from_signals(len(bars), long=nxt > c, short=nxt < c, warmup=self.warmup)


class PeekFrom(Strategy):
    """Causal until bar `start`, then peeks 3 bars ahead."""

    name = "peek_from"
    start = Param(700, bounds=(0, 10**9))

    def signals(self, bars):
        c = bars.bid[:, 3]
        ahead = np.full(len(c), np.nan)
        ahead[: max(len(c) - 3, 0)] = c[3:]
        up = c > np.r_[np.nan, c[:-1]]
        leak = np.arange(len(c)) >= self.start
        long = np.where(leak, ahead > c, up)
        return Intents.from_signals(len(bars), long=long, short=~long)


class StopPeeks(Strategy):
    """Direction causal, stop distance from the whole data's range (leaks through `sl` only)."""

    name = "stop_peeks"

    def signals(self, bars):
        c = bars.bid[:, 3]
        return Intents.from_signals(len(bars), long=np.ones(len(c), bool), sl=(c.max() - c.min()) / 10)


class GlobalNorm(Strategy):
    """Compares each close with the mean of the whole history."""

    name = "global_norm"

    def signals(self, bars):
        c = bars.bid[:, 3]
        return Intents.from_signals(len(bars), long=c > c.mean(), short=c < c.mean())


class Dice(Strategy):
    """Non-deterministic: a fresh random direction on every call."""

    name = "dice"

    def signals(self, bars):
        d = np.random.default_rng().integers(-1, 2, len(bars))
        return Intents.from_signals(len(bars), long=d == 1, short=d == -1)


class Short(Strategy):
    name = "short_output"

    def signals(self, bars):
        return Intents.hold(max(len(bars) - 1, 0))


# ----------------------------------------------------------------------- data
def load_h1() -> Bars:
    """The shared EURUSD hourly file, read with pandas (independent of simlab.loaders)."""
    df = pd.read_csv(H1)
    t = (
        pd.to_datetime(df["time"], utc=True)
        .dt.tz_convert(None)
        .astype("datetime64[ns]")
        .to_numpy()
        .view(np.int64)
    )
    bid = df[["bid_open", "bid_high", "bid_low", "bid_close"]].to_numpy(np.float64)
    ask = df[["ask_open", "ask_high", "ask_low", "ask_close"]].to_numpy(np.float64)
    return Bars(time=t, bid=bid, ask=ask, volume=np.zeros(len(df)), symbol="EURUSD", source=str(H1))


@pytest.fixture(scope="module")
def h1(shared_data_dir) -> Bars:
    if not H1.is_file():
        pytest.skip(f"{H1.name} not found in {shared_data_dir}")
    return load_h1()


@pytest.fixture(scope="module")
def onnx_model(tmp_path_factory) -> Path:
    pytest.importorskip("onnx")
    from tests.test_onnx_strategy import build_logistic_model

    return build_logistic_model(tmp_path_factory.mktemp("onnx"))


def shipped(onnx_path: Path | None = None) -> list[Strategy]:
    out: list[Strategy] = [
        MaCross(),
        MaCross(fast=5, slow=200, ma="ema", atr_target=0),
        RsiReversion(),
        RsiReversion(period=7, lower=25, upper=75, sessions="all", atr_target=2.0),
        LondonBreakout(),
        LondonBreakout(entry_end_hour=10, flat_hour=20, target_range=0, min_range_bars=1),
        Donchian(),
        Donchian(entry_period=55, exit_period=20, atr_target=4.0),
    ]
    if onnx_path is not None:
        from strategies.onnx_model import OnnxModelStrategy

        out.append(OnnxModelStrategy(model=str(onnx_path), long_threshold=0.505, short_threshold=0.495))
        out.append(OnnxModelStrategy(model=str(onnx_path), neutral="flat", atr_stop=0, atr_target=0))
    return out


# ----------------------------------------------------------------------- shipped strategies, real data
@pytest.mark.shared_data
def test_every_shipped_strategy_passes_on_eurusd_h1(h1, onnx_model):
    assert len(h1) > 70_000
    for s in shipped(onnx_model):
        rep = check_lookahead(s, h1, n_prefixes=24, seed=1)
        assert rep.ok, str(rep)
        assert len(rep.prefixes) >= 24
        assert min(rep.prefixes) == s.warmup + 1 and max(rep.prefixes) == len(h1) - 1
        it = s.signals(h1)
        assert ((it.dir == DIR_LONG) | (it.dir == DIR_SHORT)).sum() > 50, s  # they do trade on it


@pytest.mark.shared_data
def test_leaky_strategy_caught_at_the_right_bar_on_eurusd(h1):
    rep = check_lookahead(PeekNext(), h1, n_prefixes=8)
    assert not rep.ok and not rep.nondeterministic
    assert rep.leak is not None
    assert (rep.leak.bar, rep.leak.field, rep.leak.prefix_len) == (50, "dir", 51)
    assert rep.leak.time_ns == int(h1.time[50])
    assert rep.leak.time_utc == "2007-01-03 23:00:00 UTC"
    assert str(rep).startswith(
        "LEAK: peek_next: bar 50 (2007-01-03 23:00:00 UTC), field dir: the whole data gives "
    )


# ----------------------------------------------------------------------- random data (hypothesis)
@st.composite
def random_bars(draw) -> Bars:
    n = draw(st.integers(2, 600))
    seed = draw(st.integers(0, 2**32 - 1))
    minutes = draw(st.sampled_from([1, 5, 15, 60, 240]))
    start_min = draw(st.integers(0, 20 * 365 * 1440)) // minutes * minutes
    vol = draw(st.sampled_from([0.0, 1e-5, 1e-3, 1e-2]))
    gap_p = draw(st.sampled_from([0.0, 0.05, 0.5]))
    flat_p = draw(st.sampled_from([0.0, 0.3]))
    rng = np.random.default_rng(seed)
    steps = (
        rng.integers(1, 3, n) if gap_p == 0 else np.where(rng.random(n) < gap_p, rng.integers(2, 200, n), 1)
    )
    t = (np.datetime64("2005-01-03", "m") + np.int64(start_min)).astype("datetime64[ns]").astype(np.int64)
    time = t + np.cumsum(steps).astype(np.int64) * minutes * 60_000_000_000
    r = rng.normal(0, vol, n) * (rng.random(n) >= flat_p)
    c = 1.2 * np.exp(np.cumsum(r))
    o = np.r_[c[0], c[:-1]]
    wick = np.abs(rng.normal(0, vol / 2 + 1e-12, (n, 2))) * c[:, None]
    mid = np.column_stack([o, np.maximum(o, c) + wick[:, 0], np.minimum(o, c) - wick[:, 1], c])
    half = rng.uniform(0, 2e-4, n)[:, None]
    return Bars(time=time, bid=mid - half, ask=mid + half, volume=np.zeros(n))


_SMALL = [
    MaCross(fast=3, slow=8),
    MaCross(fast=2, slow=5, ma="ema", atr_period=3),
    RsiReversion(period=4, lower=40, upper=60, sessions="all", atr_period=3),
    RsiReversion(period=5),
    LondonBreakout(min_range_bars=1),
    Donchian(entry_period=4, exit_period=2, atr_period=3),
    Donchian(entry_period=2, exit_period=1, atr_period=1, atr_target=1.0),
    MaCross(),
]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bars=random_bars(), which=st.integers(0, len(_SMALL) - 1), seed=st.integers(0, 1000))
def test_shipped_strategies_pass_on_random_data(bars, which, seed):
    s = _SMALL[which]
    rep = check_lookahead(s, bars, n_prefixes=6, seed=seed)
    assert rep.ok, str(rep)


@pytest.fixture(scope="module")
def onnx_strategy(onnx_model):
    from strategies.onnx_model import OnnxModelStrategy

    return OnnxModelStrategy(model=str(onnx_model), long_threshold=0.501, short_threshold=0.499)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(bars=random_bars(), seed=st.integers(0, 1000))
def test_onnx_strategy_passes_on_random_data(onnx_strategy, bars, seed):
    rep = check_lookahead(onnx_strategy, bars, n_prefixes=6, seed=seed)
    assert rep.ok, str(rep)


@settings(deadline=None)
@given(bars=random_bars())
def test_peek_next_is_always_caught_right_after_warmup(bars):
    s = PeekNext(warm=1)
    rep = check_lookahead(s, bars, n_prefixes=3)
    c = bars.bid[:, 3]
    if len(bars) < 3 or c[2] == c[1]:
        return  # bar 1's decision does not depend on the future here (no change or no bar 2)
    assert rep.leak is not None and rep.leak.bar == 1 and rep.leak.prefix_len == 2


# ----------------------------------------------------------------------- leaky strategies, synthetic data
def test_leaks_are_found_at_the_exact_bar_and_field():
    bars = random_walk_bars(3000, seed=40)
    rep = check_lookahead(PeekNext(), bars)
    assert (rep.leak.bar, rep.leak.field, rep.leak.prefix_len) == (50, "dir", 51)
    rep = check_lookahead(PeekNext(warm=0), bars)
    assert rep.leak.bar == 0
    # a leak that starts at bar 700 and reaches 3 bars ahead: any cut in 701..703 shows it at bar 700
    rep = check_lookahead(PeekFrom(), bars, cuts=[300, 650, 702, 1500, 2999])
    assert (rep.leak.bar, rep.leak.prefix_len) == (700, 702)
    rep = check_lookahead(PeekFrom(), bars, cuts=[300, 650])
    assert rep.ok and rep.prefixes == (300, 650)  # a sampling test: cuts before the leak cannot see it
    rep = check_lookahead(PeekFrom(), bars, n_prefixes=32)
    assert not rep.ok and rep.leak.bar >= 700
    rep = check_lookahead(StopPeeks(), bars)
    assert rep.leak.field == "sl" and rep.leak.bar == 0
    rep = check_lookahead(GlobalNorm(), bars)
    assert not rep.ok and rep.leak.field == "dir"


def test_non_determinism_is_reported():
    rep = check_lookahead(Dice(), random_walk_bars(500))
    assert rep.nondeterministic and not rep.ok and rep.leak.prefix_len == -1
    assert str(rep).startswith("NON-DETERMINISTIC: dice: bar ")


def test_malformed_output_is_a_config_error():
    with pytest.raises(ConfigError, match=r"strategy short_output: dir has shape \(99,\), expected \(100,\)"):
        check_lookahead(Short(), random_walk_bars(100))
    with pytest.raises(ConfigError, match="prefix length 0 outside 1..100"):
        check_lookahead(MaCross(), random_walk_bars(100), cuts=[0])


def test_choose_cuts():
    cuts = choose_cuts(1000, 50, 10, seed=3)
    assert cuts == sorted(set(cuts)) and cuts == choose_cuts(1000, 50, 10, seed=3)
    assert {51, 52, 53, 998, 999} <= set(cuts) and len(cuts) >= 13
    assert all(51 <= k <= 999 for k in cuts)
    assert choose_cuts(1, 0, 5) == [] and choose_cuts(2, 0, 5) == [1]
    assert choose_cuts(100, 500, 5) == [98, 99]  # warm-up longer than the data: the last bars only
    assert format_time(1262304000 * 10**9) == "2010-01-01 00:00:00 UTC"


def test_ok_report_string():
    rep = check_lookahead(MaCross(), random_walk_bars(800), n_prefixes=4)
    assert rep.ok and str(rep).startswith("OK: ma_cross: no look-ahead found in ")
    assert rep.elapsed_s >= 0 and rep.warmup == 50 and rep.n_bars == 800


# ----------------------------------------------------------------------- the command
LEAKY_FILE = '''
import numpy as np
from strategies import Intents, Strategy

class PeekNext(Strategy):
    """Uses close[t+1]."""

    @property
    def warmup(self):
        return 50

    def signals(self, bars):
        c = bars.bid[:, 3]
        nxt = np.r_[c[1:], np.nan]
        return Intents.from_signals(len(bars), long=nxt > c, short=nxt < c, warmup=self.warmup)
'''


def _write_csv(bars: Bars, path: Path) -> Path:
    f = bars.to_frame().drop(columns="volume")
    f.index = f.index.strftime("%Y-%m-%dT%H:%M:%SZ")
    f.to_csv(path, index_label="time", float_format="%.6f")
    return path


def test_check_strategy_command_exit_codes(tmp_path, capsys):
    from simlab_cli.main import main

    bars = random_walk_bars(2000, seed=41)
    data = _write_csv(bars, tmp_path / "bars.csv")
    leaky = tmp_path / "leaky.py"
    leaky.write_text(LEAKY_FILE)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simlab_cli.main",
            "check-strategy",
            str(leaky),
            "--data",
            str(data),
            "--prefixes",
            "4",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    # in-process meanwhile: a causal strategy passes, exit 0
    args = [
        "check-strategy",
        "donchian",
        "--param",
        "entry_period=30",
        "--data",
        str(data),
        "--prefixes",
        "5",
    ]
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("OK: donchian: no look-ahead found in ")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    t50 = format_time(int(bars.time[50]))
    assert out.strip().splitlines() == [out.strip().splitlines()[0]] and out.startswith(
        f"LEAK: PeekNext: bar 50 ({t50}), field dir: the whole data gives "
    )
    assert "the first 51 bars give 0" in out and err == ""


@pytest.mark.shared_data
def test_check_strategy_command_on_eurusd(h1, capsys):
    from simlab_cli.main import main

    assert main(["check-strategy", "london_breakout", "--data", str(H1), "--prefixes", "8"]) == 0
    assert "74,439 bars" in capsys.readouterr().out


def test_every_shipped_strategy_handles_tiny_inputs(onnx_model):
    """A live runner may pass very short windows: 0, 1, 2 bars give valid (HOLD) intents."""
    bars = random_walk_bars(10)
    for s in shipped(onnx_model):
        for k in (0, 1, 2):
            it = s.intents(bars.slice(0, k))
            assert len(it) == k
