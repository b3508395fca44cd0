"""The strategy protocol, the shipped strategies against independent references, loading and its errors."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simlab.bars import Bars
from simlab.errors import ConfigError
from simlab.layout import DIR_FLAT, DIR_HOLD, DIR_LONG, DIR_SHORT, SESSION_ASIA
from strategies import base
from strategies.base import Intents, Param, StepStrategy, Strategy
from strategies.donchian import Donchian
from strategies.london_breakout import LondonBreakout
from strategies.lookahead import check_lookahead
from strategies.ma_cross import MaCross
from strategies.registry import (
    BUILTIN,
    load_strategy,
    load_strategy_class,
    parse_param_args,
    read_params_toml,
)
from strategies.rsi_reversion import RsiReversion
from strategies.synthetic import random_walk_bars

ROOT = Path(__file__).resolve().parents[1]
H = 3_600_000_000_000


def one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert "\n" not in msg, msg
    return msg


def mid(bars: Bars) -> pd.DataFrame:
    m = (bars.bid + bars.ask) / 2
    return pd.DataFrame(m, columns=["o", "h", "l", "c"])


def ref_atr(df: pd.DataFrame, n: int) -> np.ndarray:
    from tests.test_indicators import ref_atr as _ref

    return _ref(df.h.to_numpy(), df.l.to_numpy(), df.c.to_numpy(), n)


# ======================================================================= Param
class Demo(Strategy):
    """A demo."""

    name = "demo"
    n = Param(10, bounds=(1, 100), help="a count")
    x = Param(1.5, bounds=(0.0, None), help="a number")
    on = Param(False, help="a switch")
    kind = Param("a", choices=("a", "b"))
    path = Param("", type=str, required=True, help="a file")

    def signals(self, bars):
        return Intents.hold(len(bars))


def test_params_are_collected_typed_and_defaulted():
    assert list(Demo.params) == ["n", "x", "on", "kind", "path"]
    d = Demo(path="p")
    assert (d.n, d.x, d.on, d.kind, d.path) == (10, 1.5, False, "a", "p")
    assert Demo.params["n"].type is int and Demo.params["x"].type is float and Demo.params["on"].type is bool


def test_params_parse_strings_to_declared_types():
    d = Demo(n="7", x="2", on="yes", kind="b", path="q")
    assert (d.n, d.x, d.on, d.kind) == (7, 2.0, True, "b")
    assert isinstance(d.x, float)
    assert Demo(path="p", n=5.0).n == 5  # an integral float (TOML 5.0) is fine for an int
    assert Demo(path="p", x=3).x == 3.0


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"nn": 1}, "unknown parameter 'nn' (valid: n, x, on, kind, path)"),
        ({"n": "abc"}, "parameter 'n': expected an integer, got 'abc'"),
        ({"n": 2.5}, "parameter 'n': expected an integer, got 2.5"),
        ({"n": True}, "parameter 'n': expected an integer"),
        ({"n": 0}, "parameter 'n' = 0 is out of bounds [1, 100]"),
        ({"n": "101"}, "out of bounds [1, 100]"),
        ({"x": "-1"}, "parameter 'x' = -1.0 is out of bounds [0.0, inf]"),
        ({"x": "nan"}, "expected a finite number"),
        ({"x": "1,5"}, "expected a number, got '1,5'"),
        ({"on": "maybe"}, "expected true or false"),
        ({"kind": "c"}, "expected one of a, b"),
    ],
)
def test_bad_parameters_are_one_line_config_errors(kwargs, needle):
    with pytest.raises(ConfigError) as e:
        Demo(path="p", **kwargs)
    msg = one_line(e.value)
    assert msg.startswith("demo: ")
    assert needle in msg


def test_required_parameter_and_read_only_attributes():
    with pytest.raises(ConfigError, match="parameter 'path' is required"):
        Demo()
    d = Demo(path="p")
    with pytest.raises(AttributeError, match="read-only"):
        d.n = 3
    d2 = d.with_params(n=3)
    assert d2.n == 3 and d.n == 10 and d2 != d and d2 == Demo(path="p", n=3)
    assert repr(d2) == "Demo(n=3, x=1.5, on=False, kind='a', path='p')"
    assert "n (int, default 10, 1..100): a count" in Demo.describe()
    assert pickle.loads(pickle.dumps(d2)) == d2


def test_param_type_must_be_simple():
    with pytest.raises(TypeError):
        Param([1, 2])


# ======================================================================= Intents
def test_from_signals_conflicts_warmup_and_distances():
    n = 6
    long = np.array([1, 1, 0, 1, 0, 0], bool)
    short = np.array([0, 1, 0, 0, 1, 0], bool)
    flat = np.array([0, 0, 1, 1, 0, 1], bool)
    sl = np.array([0.1, 0.2, 0.3, 0.0, np.nan, 0.5])
    it = Intents.from_signals(n, long=long, short=short, flat=flat, sl=sl, tp=0.4, size=2.0, warmup=1)
    assert it.dir.tolist() == [DIR_HOLD, DIR_HOLD, DIR_FLAT, DIR_LONG, DIR_SHORT, DIR_FLAT]
    # sl only on entries, and a zero / NaN distance means none
    np.testing.assert_array_equal(it.sl, [np.nan] * 6)
    np.testing.assert_array_equal(it.tp, [np.nan, np.nan, np.nan, 0.4, 0.4, np.nan])
    np.testing.assert_array_equal(it.size, [1, 1, 1, 2, 2, 1])
    assert it.dir.dtype == np.int8 and it.sl.dtype == np.float64
    assert it.validate(n) is it


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("dir", 3, "dir[2] = 3: expected 0 hold, 1 long, -1 short or 2 flat"),
        ("sl", -0.1, "sl[2] = -0.1: a stop distance must be a positive price distance or NaN"),
        ("tp", np.inf, "tp[2] = inf"),
        ("size", 0.0, "size[2] = 0.0: a size multiplier"),
    ],
)
def test_validate_names_the_first_bad_row(field, value, needle):
    it = Intents.hold(5)
    getattr(it, field)[2] = value
    with pytest.raises(ConfigError) as e:
        it.validate(5, where="strategy x")
    assert needle in one_line(e.value) and str(e.value).startswith("strategy x: ")


def test_validate_checks_lengths():
    with pytest.raises(ConfigError, match=r"dir has shape \(4,\), expected \(5,\)"):
        Intents.hold(4).validate(5)


def test_first_difference_is_nan_aware_and_finds_the_earliest_field():
    a = Intents.hold(6)
    b = Intents.hold(6)
    assert a.first_difference(b) is None
    b.tp[4] = 0.1
    b.sl[3] = 0.2
    assert a.first_difference(b) == (3, "sl")
    a.sl[3] = 0.2 * (1 + 1e-15)
    assert a.first_difference(b) == (3, "sl")
    assert a.first_difference(b, rtol=1e-12) == (4, "tp")
    assert a.first_difference(b.slice(0, 3)) is None


def test_to_frame_has_utc_index():
    b = random_walk_bars(10)
    f = MaCross().signals(b).to_frame(b.time)
    assert list(f.columns) == ["dir", "sl", "tp", "size"] and str(f.index.tz) == "UTC"


# ======================================================================= README example
def _readme_example() -> str:
    doc = base.__doc__ or ""
    start = doc.index("    from strategies import Intents")
    end = doc.index("Run it with")
    return textwrap.dedent(doc[start:end])


def test_readme_example_is_short_runs_and_is_causal():
    src = _readme_example()
    code_lines = [ln for ln in src.splitlines() if ln.strip()]
    assert len(code_lines) <= 22, len(code_lines)
    ns: dict = {}
    exec(compile(src, "<readme>", "exec"), ns)
    cls = ns["SmaTrend"]
    s = cls(period=30)
    bars = random_walk_bars(1500, seed=9)
    it = s.intents(bars)
    assert (it.dir == DIR_LONG).any() and (it.dir == DIR_SHORT).any()
    assert check_lookahead(s, bars, n_prefixes=8).ok


# ======================================================================= StepStrategy
class Alternate(StepStrategy):
    """Long, then flat after `hold` bars, using its own position."""

    name = "alternate"
    hold = Param(3, bounds=(1, 100))

    @property
    def warmup(self) -> int:
        return 2

    def reset(self) -> None:
        self.seen = 0
        self.calls: list[tuple[int, int, int]] = []

    def step(self, bar_index, bars_window, position_dir, account_state):
        self.calls.append((bar_index, len(bars_window), position_dir))
        if bar_index < self.warmup:
            return DIR_HOLD, np.nan, np.nan, np.nan
        if position_dir == 0:
            self.seen = 0
            return DIR_LONG, 0.01, np.nan, 1.0
        self.seen += 1
        return (DIR_FLAT if self.seen >= self.hold else DIR_HOLD), np.nan, np.nan, np.nan


def test_step_strategy_open_loop_replay():
    s = Alternate(hold=2)
    it = s.signals(random_walk_bars(10))
    assert it.dir.tolist() == [0, 0, 1, 0, 2, 1, 0, 2, 1, 0]
    assert [c[1] for c in s.calls[:4]] == [1, 2, 3, 3]  # window = warmup + 1 bars
    assert [c[2] for c in s.calls[:6]] == [0, 0, 0, 1, 1, 0]
    assert check_lookahead(s, random_walk_bars(60), n_prefixes=5).ok


# ======================================================================= shipped strategies
def test_builtin_registry_covers_the_shipped_strategies():
    assert set(BUILTIN) == {"ma_cross", "rsi_reversion", "london_breakout", "donchian", "onnx", "onnx-policy"}
    for name in BUILTIN:
        assert load_strategy_class(name).name == name


@pytest.mark.parametrize("kind", ["sma", "ema"])
def test_ma_cross_against_pandas_reference(kind):
    bars = random_walk_bars(4000, seed=11)
    s = MaCross(fast=12, slow=40, ma=kind, atr_stop=1.5, atr_target=2.5)
    it = s.intents(bars)
    df = mid(bars)
    if kind == "sma":
        f, sl_ = df.c.rolling(12).mean(), df.c.rolling(40).mean()
    else:
        from tests.test_indicators import ref_ema

        f, sl_ = pd.Series(ref_ema(df.c.to_numpy(), 12)), pd.Series(ref_ema(df.c.to_numpy(), 40))
    above = f > sl_
    prev_below = (f.shift(1) <= sl_.shift(1)) & sl_.shift(1).notna()
    below = f < sl_
    prev_above = (f.shift(1) >= sl_.shift(1)) & sl_.shift(1).notna()
    want = np.where(above & prev_below, 1, np.where(below & prev_above, -1, 0))
    want[: s.warmup] = 0
    # MA values agree to 1e-12; a cross decided by less than that could differ: there is none here
    gap = (f - sl_).abs().to_numpy()
    assert np.nanmin(gap[s.warmup :]) > 1e-10
    np.testing.assert_array_equal(it.dir, want)
    atr = ref_atr(df, 14)
    e = it.dir != 0
    assert e.sum() > 20
    np.testing.assert_allclose(it.sl[e], 1.5 * atr[e], rtol=1e-12)
    np.testing.assert_allclose(it.tp[e], 2.5 * atr[e], rtol=1e-12)
    assert np.isnan(it.sl[~e]).all()


def test_ma_cross_defaults_and_errors():
    s = MaCross()
    assert (s.fast, s.slow, s.atr_period, s.atr_stop, s.atr_target, s.ma) == (20, 50, 14, 2.0, 3.0, "sma")
    with pytest.raises(ConfigError, match=r"ma_cross: fast \(50\) must be smaller than slow \(50\)"):
        MaCross(fast=50)
    it = MaCross(atr_stop=0, atr_target=0).signals(random_walk_bars(500))
    assert np.isnan(it.sl).all() and np.isnan(it.tp).all()


def test_donchian_against_reference_loop():
    bars = random_walk_bars(3000, seed=12)
    s = Donchian(entry_period=20, exit_period=10)
    it = s.intents(bars)
    df = mid(bars)
    up = df.h.rolling(20).max().shift(1)
    lo = df.l.rolling(20).min().shift(1)
    xup = df.h.rolling(10).max().shift(1)
    xlo = df.l.rolling(10).min().shift(1)
    want = np.zeros(len(df), np.int8)
    pos = 0
    for t in range(s.warmup, len(df)):
        c = df.c[t]
        if c > up[t]:
            want[t], pos = DIR_LONG, 1
        elif c < lo[t]:
            want[t], pos = DIR_SHORT, -1
        elif (pos == 1 and c < xlo[t]) or (pos == -1 and c > xup[t]):
            want[t], pos = DIR_FLAT, 0
    np.testing.assert_array_equal(it.dir, want)
    assert {DIR_LONG, DIR_SHORT, DIR_FLAT} <= set(it.dir.tolist())
    e = (it.dir == 1) | (it.dir == -1)
    np.testing.assert_allclose(it.sl[e], 2.0 * ref_atr(df, 14)[e], rtol=1e-12)
    assert np.isnan(it.tp).all()


def test_rsi_reversion_against_reference_and_session_filter():
    from simlab.calendar import sessions
    from tests.test_indicators import ref_rsi

    bars = random_walk_bars(6000, seed=13)
    s = RsiReversion(period=10, lower=35, upper=65, sessions="asia,london")
    it = s.intents(bars)
    r = ref_rsi(mid(bars).c.to_numpy(), 10)
    sess = sessions(bars.time)
    ok = np.isin(sess, [0, 1])
    want = np.zeros(len(r), np.int8)
    pos = 0
    for t in range(1, len(r)):
        if t < s.warmup:
            continue
        if ok[t] and r[t] < 35 <= r[t - 1]:
            want[t], pos = DIR_LONG, 1
        elif ok[t] and r[t] > 65 >= r[t - 1]:
            want[t], pos = DIR_SHORT, -1
        elif (pos == 1 and r[t] >= 50) or (pos == -1 and r[t] <= 50):
            want[t], pos = DIR_FLAT, 0
    np.testing.assert_array_equal(it.dir, want)
    entries = (it.dir == 1) | (it.dir == -1)
    assert entries.sum() > 10 and set(np.unique(sess[entries])) <= {0, 1}


def test_rsi_reversion_parameter_errors():
    with pytest.raises(ConfigError, match="unknown session 'tokyo'"):
        RsiReversion(sessions="asia,tokyo")
    with pytest.raises(ConfigError, match="expected lower < exit_level < upper"):
        RsiReversion(lower=60)
    assert RsiReversion(sessions="all")._codes.tolist() == [0, 1, 2, 3, 4]


def _utc(s: str) -> int:
    return int(np.datetime64(s, "ns").astype(np.int64))


def _hourly(start: str, closes: list[float], width: float = 0.0004) -> Bars:
    n = len(closes)
    t = _utc(start) + np.arange(n, dtype=np.int64) * H
    c = np.array(closes)
    o = np.concatenate([c[:1], c[:-1]])
    m = np.column_stack([o, np.maximum(o, c) + width / 2, np.minimum(o, c) - width / 2, c])
    return Bars(time=t, bid=m - 0.00005, ask=m + 0.00005, volume=np.zeros(n))


@pytest.mark.parametrize(
    ("day", "asia_start_utc", "london_open_utc"),
    [("2024-01-16", 23, 8), ("2024-07-16", 22, 7)],  # winter: London = UTC, NY = UTC-5; summer: +1, -4
)
def test_london_breakout_hand_built_day(day, asia_start_utc, london_open_utc):
    # from 12:00 UTC the day before, 40 hours: flat at 1.1000 through Asia, breakout 2 h after the London open
    start = np.datetime64(day) - np.timedelta64(12, "h")
    n = 40
    times = np.datetime64(start, "h") + np.arange(n)
    hours = (times - times.astype("datetime64[D]")).astype(int)
    closes = np.full(n, 1.1000)
    brk = int(
        np.flatnonzero(
            (times.astype("datetime64[D]") == np.datetime64(day)) & (hours == london_open_utc + 2)
        )[0]
    )
    closes[brk:] = 1.1030
    bars = _hourly(str(start), closes.tolist())
    s = LondonBreakout(entry_end_hour=12, flat_hour=16, target_range=2.0, min_range_bars=3)
    it = s.intents(bars)
    from simlab.calendar import sessions

    sess = sessions(bars.time)
    asia_rows = np.flatnonzero(sess == SESSION_ASIA)
    # the run of Asian bars that precedes the breakout day's London open
    run = asia_rows[(asia_rows < brk) & (hours[asia_rows] != 12)]
    assert hours[run[0]] == asia_start_utc or hours[run].tolist().count(asia_start_utc) == 1
    entries = np.flatnonzero((it.dir == DIR_LONG) | (it.dir == DIR_SHORT))
    assert entries.tolist() == [brk]
    assert it.dir[brk] == DIR_LONG
    rng_hi, rng_lo = 1.1000 + 0.0002, 1.1000 - 0.0002  # mid highs/lows of the flat Asian bars
    assert it.sl[brk] == pytest.approx(1.1030 - rng_lo, abs=1e-12)
    assert it.tp[brk] == pytest.approx(2.0 * (rng_hi - rng_lo), abs=1e-12)
    flats = np.flatnonzero(it.dir == DIR_FLAT)
    # FLAT on the first bar opening at 16:00 London
    assert hours[flats].tolist() == [16 - (8 - london_open_utc)]


def test_london_breakout_one_entry_per_day_and_no_late_entries():
    bars = random_walk_bars(24 * 200, seed=14)
    s = LondonBreakout(entry_end_hour=11)
    it = s.intents(bars)
    from simlab.calendar import LONDON, local_time_ns

    lh = (local_time_ns(bars.time, LONDON) // H) % 24
    day = local_time_ns(bars.time, LONDON) // (24 * H)
    e = (it.dir == 1) | (it.dir == -1)
    assert e.sum() > 50
    assert (lh[e] >= 8).all() and (lh[e] < 11).all()
    assert np.unique(day[e]).size == e.sum()
    f = it.dir == DIR_FLAT
    assert (lh[f] == 16).all()
    long_ = it.dir == DIR_LONG
    df = mid(bars)
    assert (it.sl[e] > 0).all() and (df.c.to_numpy()[long_] - it.sl[long_] < df.c.to_numpy()[long_]).all()
    with pytest.raises(ConfigError, match="entry_end_hour"):
        LondonBreakout(entry_end_hour=17, flat_hour=16)


# ======================================================================= docstring examples
@pytest.mark.parametrize(
    "module",
    [
        "strategies.base",
        "strategies.indicators",
        "strategies.ma_cross",
        "strategies.rsi_reversion",
        "strategies.london_breakout",
        "strategies.donchian",
        "strategies.onnx_model",
        "strategies.features",
        "strategies.registry",
        "strategies.lookahead",
        "strategies.synthetic",
    ],
)
def test_docstring_examples_run(module):
    import doctest
    import importlib

    if module == "strategies.onnx_model":
        pytest.importorskip("onnx")
    res = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert res.failed == 0


# ======================================================================= registry
STRAT_FILE = """
from strategies import Intents, Param, Strategy

class Mine(Strategy):
    '''Always hold.'''
    name = "mine"
    k = Param(3, bounds=(1, 9))

    def signals(self, bars):
        return Intents.hold(len(bars))
"""


def test_load_by_name_module_class_and_file(tmp_path):
    assert isinstance(load_strategy("ma_cross"), MaCross)
    assert isinstance(load_strategy("strategies.donchian:Donchian", {"entry_period": "30"}), Donchian)
    f = tmp_path / "mine.py"
    f.write_text(STRAT_FILE)
    s = load_strategy(str(f), {"k": "4"})
    assert type(s).__name__ == "Mine" and s.k == 4 and s.name == "mine"
    assert load_strategy(f"{f}:Mine").k == 3
    assert pickle.loads(pickle.dumps(s)).k == 4


def test_params_from_toml_and_overrides(tmp_path):
    t = tmp_path / "p.toml"
    t.write_text("fast = 5\nslow = 30.0\nma = 'ema'\n")
    s = load_strategy("ma_cross", {"fast": "7"}, t)
    assert (s.fast, s.slow, s.ma) == (7, 30, "ema")
    t2 = tmp_path / "q.toml"
    t2.write_text("[params]\nfast = 3\n")
    assert load_strategy("ma_cross", None, t2).fast == 3
    assert read_params_toml(t) == {"fast": 5, "slow": 30.0, "ma": "ema"}
    bad = tmp_path / "bad.toml"
    bad.write_text("fast = [1, 2]\n")
    with pytest.raises(ConfigError, match="'fast': expected a scalar"):
        load_strategy("ma_cross", None, bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("fast = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_strategy("ma_cross", None, broken)
    t3 = tmp_path / "r.toml"
    t3.write_text("fast = 'x'\n")
    with pytest.raises(ConfigError, match="parameter 'fast': expected an integer, got 'x'"):
        load_strategy("ma_cross", None, t3)


def test_parse_param_args():
    assert parse_param_args(["a=1", " b = x=y "]) == {"a": "1", "b": "x=y"}
    with pytest.raises(ConfigError, match="expected key=value, got 'fast'"):
        parse_param_args(["fast"])


BROKEN_FILES = {
    "syntax.py": ("def f(:\n", "failed to import: SyntaxError: "),
    "raises.py": (
        "import numpy\nraise RuntimeError('boom\\nsecond line')\n",
        "failed to import: RuntimeError: boom",
    ),
    "missing.py": (
        "import no_such_module_xyz\n",
        "failed to import: ModuleNotFoundError: No module named 'no_such_module_xyz'",
    ),
    "empty.py": ("x = 1\n", "defines no Strategy subclass"),
    "two.py": (STRAT_FILE + "\nclass Other(Mine):\n    pass\n", "defines several strategies (Mine, Other)"),
}


@pytest.mark.parametrize("fname", sorted(BROKEN_FILES))
def test_strategy_file_errors_name_the_file(tmp_path, fname):
    src, needle = BROKEN_FILES[fname]
    f = tmp_path / fname
    f.write_text(src)
    with pytest.raises(ConfigError) as e:
        load_strategy(str(f))
    msg = one_line(e.value)
    assert msg.startswith(str(f) + ": ") and needle in msg


def test_loading_errors(tmp_path):
    f = tmp_path / "mine.py"
    f.write_text(STRAT_FILE)
    cases = [
        (lambda: load_strategy(f"{f}:Nope"), f"{f}: no class 'Nope' (strategies there: Mine)"),
        (lambda: load_strategy(str(tmp_path / "nofile.py")), "strategy file not found"),
        (lambda: load_strategy("strategies.ma_cross:Nope"), "strategies.ma_cross: no class 'Nope'"),
        (lambda: load_strategy("strategies.ma_cross:annotations"), "is not a Strategy subclass"),
        (
            lambda: load_strategy("no_such_pkg.mod:X"),
            "no_such_pkg.mod: failed to import: ModuleNotFoundError",
        ),
        (
            lambda: load_strategy("macross"),
            "unknown strategy 'macross' (known: donchian, london_breakout, ma_cross, onnx, onnx-policy, rsi_reversion",
        ),
        (
            lambda: load_strategy("ma_cross", {"fsat": "1"}),
            "ma_cross: unknown parameter 'fsat' (valid: fast, slow, ma, atr_period, atr_stop, atr_target)",
        ),
        (
            lambda: load_strategy("ma_cross", {"atr_stop": "-1"}),
            "ma_cross: parameter 'atr_stop' = -1.0 is out of bounds [0.0, 1000.0]",
        ),
        (lambda: load_strategy(str(f), {"k": "10"}), "mine: parameter 'k' = 10 is out of bounds [1, 9]"),
    ]
    for call, needle in cases:
        with pytest.raises(ConfigError) as e:
            call()
        assert needle in one_line(e.value), (needle, str(e.value))


# ======================================================================= CLI errors (subprocess)
def _cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _cli_cases(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    files = {}
    for fname, (src, _) in BROKEN_FILES.items():
        files[fname] = tmp_path / fname
        files[fname].write_text(src)
    good = tmp_path / "mine.py"
    good.write_text(STRAT_FILE)
    crash = tmp_path / "crash.py"
    crash.write_text(STRAT_FILE.replace("return Intents.hold(len(bars))", "return 1 / 0"))
    csv = tmp_path / "bars.csv"
    csv.write_text("time,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close\n")
    small = random_walk_bars(300).to_frame().drop(columns="volume")
    small.index = small.index.strftime("%Y-%m-%dT%H:%M:%SZ")
    small.to_csv(tmp_path / "small.csv", index_label="time")
    return {
        # acceptance: a file that fails to import, a missing class, a bad parameter name or value
        "import": ([str(files["raises.py"])], "failed to import: RuntimeError: boom"),
        "missing class": ([f"{good}:Nope"], "no class 'Nope'"),
        "bad param name": (["ma_cross", "--param", "fsat=3"], "unknown parameter 'fsat'"),
        "bad param type": (["ma_cross", "--param", "fast=abc"], "expected an integer, got 'abc'"),
        # more of the same kind
        "syntax": ([str(files["syntax.py"])], "SyntaxError"),
        "unknown name": (["nosuch"], "unknown strategy 'nosuch'"),
        "out of bounds": (["ma_cross", "--param", "atr_stop=-2"], "out of bounds"),
        "no equals": (["ma_cross", "--param", "fast"], "expected key=value"),
        "bad data": (["ma_cross", "--data", str(tmp_path / "none.csv")], "none.csv"),
        "signals raise": ([str(crash), "--data", str(tmp_path / "small.csv")], "mine: signals() failed on "),
        "empty data": (["ma_cross", "--data", str(csv)], "bars.csv"),
    }


SUBPROCESS_CASES = ("import", "missing class", "bad param name", "bad param type", "syntax")


def test_check_strategy_cli_bad_input_is_one_line_exit_2(tmp_path):
    """As a user runs it: a fresh interpreter, exit code 2, one stderr line, no traceback."""
    cases = _cli_cases(tmp_path)
    procs = {
        k: subprocess.Popen(
            [sys.executable, "-m", "simlab_cli", "check-strategy", *cases[k][0]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=_cli_env(),
        )
        for k in SUBPROCESS_CASES
    }
    for k, p in procs.items():
        out, err = p.communicate(timeout=120)
        lines = err.strip().splitlines()
        assert p.returncode == 2, (k, out, err)
        assert len(lines) == 1, (k, err)
        assert "Traceback" not in err
        assert lines[0].startswith("simlab check-strategy: error: ")
        assert cases[k][1] in lines[0], (k, lines[0])


def test_check_strategy_cli_bad_input_in_process(tmp_path, capsys, monkeypatch):
    """The remaining cases through ``simlab_cli.main.main`` (cheaper than a process each)."""
    from simlab_cli.main import main

    monkeypatch.chdir(tmp_path)
    for k, (argv, needle) in _cli_cases(tmp_path).items():
        if k in SUBPROCESS_CASES:
            continue
        assert main(["check-strategy", *argv]) == 2, k
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("simlab check-strategy: error: "), (k, err)
        assert needle in lines[0], (k, lines[0])
