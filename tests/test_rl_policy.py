"""Training, ONNX export and the exported policy as a strategy (issue 13, items 3 and 4).

One short PPO run (a few thousand steps, seconds on CPU) on the bundled
synthetic H1 bars feeds every test here: it trains, exports, and the ONNX
policy must give torch's actions on a batch of observations, with VecNormalize's
statistics applied by the strategy; ``simlab challenge --strategy onnx-policy``
runs and is deterministic; the look-ahead checker passes on it (and catches a
planted leak in the same pipeline).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gymnasium", reason="the rl extra is not installed (pip install -e '.[rl]')")
pytest.importorskip("stable_baselines3", reason="the rl extra is not installed (pip install -e '.[rl]')")
pytest.importorskip("torch", reason="the rl extra is not installed (pip install -e '.[rl]')")

from tests._builders import run_simlab  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``simlab rl train`` with a tiny budget: 4,096 steps of 8 attempts, FTMO 1-step, 20-day attempts."""
    d = tmp_path_factory.mktemp("rl")
    r = run_simlab(
        "rl", "train", "--algo", "ppo", "--timesteps", "4096", "--envs", "8", "--n-steps", "128",
        "--batch-size", "256", "--program", "ftmo-1step", "--horizon-days", "20", "--eval-runs", "12",
        "--seed", "3", "-o", str(d / "model.zip"), cwd=d,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    (d / "stdout.txt").write_text(r.stdout)
    return d


def test_training_writes_model_logs_record_and_a_walk_forward_evaluation(trained: Path) -> None:
    for name in (
        "model.zip",
        "model.vecnormalize.pkl",
        "model.train.json",
        "model.onnx",
        "model.json",
        "model.eval.json",
    ):
        assert (trained / name).is_file(), name
    with open(trained / "model_logs" / "progress.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["time/total_timesteps"]) for r in rows] == [
        1024,
        2048,
        3072,
        4096,
    ]  # 8 envs x 128 steps per update
    rec = json.loads((trained / "model.train.json").read_text())
    sp = rec["training"]["split"]
    assert sp["train"][1] < sp["eval"][0]  # trained on the earlier dates, evaluated on the later ones
    assert rec["training"]["timesteps_done"] == 4096 and rec["training"]["seed"] == 3
    ev = rec["evaluation"]["results"]
    assert ev["policy"]["pass_rate"]["runs"] == ev["baseline"]["pass_rate"]["runs"] == 12
    # the same attempts for both: the same start days
    assert [a["start"] for a in ev["policy"]["attempts"]] == [a["start"] for a in ev["baseline"]["attempts"]]
    first_eval = min(a["start"] for a in ev["policy"]["attempts"])
    assert first_eval >= sp["eval"][0]
    out = (trained / "stdout.txt").read_text()
    assert "policy (model.onnx)" in out and "ma_cross" in out and "held-out challenge runs" in out
    assert "held-out challenge runs: ftmo-1step 100,000 |" in out  # the account size as money, not 100000.0


def test_onnx_round_trip_matches_torch_with_vecnormalize_applied(trained: Path) -> None:
    import pickle

    from stable_baselines3 import PPO

    from rl.export import check_obs
    from strategies.onnx_policy import OnnxPolicyStrategy

    desc = json.loads((trained / "model.json").read_text())
    assert desc["export_check"]["agree"] == desc["export_check"]["observations"] == 512
    assert desc["onnx"]["opset"] >= 14
    with open(trained / "model.vecnormalize.pkl", "rb") as fh:
        vn = pickle.load(fh)
    assert np.array_equal(np.asarray(desc["obs_norm"]["mean"]), vn.obs_rms.mean)
    assert np.array_equal(np.asarray(desc["obs_norm"]["var"]), vn.obs_rms.var)
    raw = check_obs(trained / "model.zip", n=1024, seed=11)  # other observations than the export's check
    model = PPO.load(trained / "model.zip", device="cpu")
    want, _ = model.predict(vn.normalize_obs(raw).astype(np.float32), deterministic=True)
    strat = OnnxPolicyStrategy(model=str(trained / "model.onnx"))
    got = strat.act(raw)
    assert np.array_equal(got, want)
    assert np.array_equal(pickle.loads(pickle.dumps(strat)).act(raw), want)  # the session reopens on load
    assert len(set(want.tolist())) >= 2  # the check is not a constant answer
    # the statistics matter: without them the ONNX model's answers differ on this batch
    y = strat._session.run([strat._output], {strat._input: raw})[0]
    assert not np.array_equal(np.asarray(y).reshape(-1), want)


def test_challenge_with_the_onnx_policy_runs_and_is_deterministic(trained: Path, tmp_path: Path) -> None:
    args = ("challenge", "--strategy", "onnx-policy", "--param", f"model={trained / 'model.onnx'}",
            "--runs", "6", "--program", "ftmo-1step", "--horizon-days", "20")  # fmt: skip
    a = run_simlab(*args, "--json", str(tmp_path / "a.json"), cwd=tmp_path)
    b = run_simlab(*args, "--json", str(tmp_path / "b.json"), cwd=tmp_path)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    ja, jb = (tmp_path / "a.json").read_bytes(), (tmp_path / "b.json").read_bytes()
    assert ja == jb
    doc = json.loads(ja)
    assert doc["provenance"]["strategy"]["spec"] == "onnx-policy" and doc["result"]["pass_rate"]["runs"] == 6
    assert doc["result"]["trades_per_day"] > 0  # it trades
    # the gate ran on its signals() (the same features and policy as the closed loop) and passed
    check = doc["provenance"]["lookahead_check"]
    assert check["ran"] and check["ok"] and check["prefixes"] >= 32, check
    assert "look-ahead check: passed" in a.stdout


def test_challenge_refuses_a_policy_whose_features_read_the_future(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate before `simlab challenge --strategy onnx-policy` is not skipped for the closed loop: plant a
    leak in the features both use and the run stops in one line, before any attempt."""
    import rl.features as F
    import rl.policy as P
    from tests._builders import run_simlab_here

    honest = F.market_features

    def leaky(market):  # type: ignore[no-untyped-def]
        f = honest(market)
        v = f.values.copy()
        c = market.bars.bid[:, 3]
        v[F.WARMUP : -1, :] = 5.0 * np.sign(c[F.WARMUP + 1 :] - c[F.WARMUP : -1])[:, None]
        return F.MarketFeatures(v, f.atr)

    monkeypatch.setattr(P, "market_features", leaky)
    monkeypatch.setenv("SIMLAB_CACHE", str(tmp_path / "cache"))  # the gate's verdicts only (numba is set up)
    out = tmp_path / "r.json"
    code, stdout, stderr = run_simlab_here(
        "challenge", "--strategy", "onnx-policy", "--param", f"model={trained / 'model.onnx'}", "--runs", "4",
        "--program", "ftmo-1step", "--horizon-days", "20", "--json", str(out),
    )  # fmt: skip
    assert code == 2 and stdout == "" and not out.exists()
    assert (
        len(stderr.strip().splitlines()) == 1 and "look-ahead check: the strategy reads the future" in stderr
    )


def test_the_closed_loop_run_uses_the_monte_carlo_attempts(trained: Path) -> None:
    """The policy's challenge run starts on the attempts run_challenge would start on (same seed, same warm-up)."""
    from challenges.governors import load_governors
    from challenges.rules import load_program
    from simlab.bootstrap import MarketSettings
    from simlab.engine import CostSetup
    from simlab.montecarlo import ChallengeSetup, run_challenge
    from simlab.symbols import get_symbol
    from simlab.synthetic import default_bars
    from strategies.base import Intents
    from strategies.onnx_policy import OnnxPolicyStrategy

    strat = OnnxPolicyStrategy(model=str(trained / "model.onnx"))
    prog = load_program("ftmo-1step")
    bars = default_bars("1h")
    setup = ChallengeSetup(
        market=MarketSettings().build(bars), intents=Intents.hold(len(bars)), spec=get_symbol("EURUSD"),
        phase_rules=prog.rule_matrix(), phase_names=["Challenge"], gov=load_governors("none").to_vector(),
        costs=CostSetup.fixed(), horizon_days=20, warmup_bars=strat.warmup, seed=5,
    )  # fmt: skip
    pol = strat.run_challenge(setup, 9)
    hold = run_challenge(setup, 9, workers=1, progress=False)
    assert np.array_equal(pol.starts, hold.starts)
    assert (pol.out[:, 0, 3] > 0).any() and not (
        hold.out[:, 0, 3] > 0
    ).any()  # RES_N_TRADES: only the policy trades


def test_lookahead_checker_passes_on_the_onnx_policy(trained: Path) -> None:
    from simlab.synthetic import synthetic_eurusd
    from strategies.lookahead import check_lookahead
    from strategies.onnx_policy import OnnxPolicyStrategy

    strat = OnnxPolicyStrategy(model=str(trained / "model.onnx"))
    bars = synthetic_eurusd(n_days=90, timeframe="1h", seed=8)
    it = strat.signals(bars)
    assert np.count_nonzero(it.dir[strat.warmup :] != 0) > 100  # it decides on most bars
    report = check_lookahead(strat, bars, n_prefixes=12)
    assert report.ok, str(report)


def test_lookahead_checker_passes_on_prefixes_that_end_on_a_new_day(trained: Path) -> None:
    """Every prefix that ends on a trading day's first bar (where the shadow account's attempts start), and
    the one that ends right after the warm-up: the decision there is the whole data's. A prefix used to stop
    one bar short of an attempt starting on its last bar and answer HOLD there, so the gate of `simlab
    backtest` refused the policy whenever one of its random prefixes ended on such a bar."""
    from simlab.synthetic import synthetic_eurusd
    from strategies.lookahead import check_lookahead
    from strategies.onnx_policy import OnnxPolicyStrategy, _shadow_market

    strat = OnnxPolicyStrategy(model=str(trained / "model.onnx"))
    s = strat.info.settings
    bars = synthetic_eurusd(n_days=90, timeframe="1h", seed=8)
    day = _shadow_market(bars, s.program, s.symbol, s.governors).day
    firsts = np.flatnonzero(np.diff(day) != 0) + 1  # each trading day's first bar
    cuts = [int(k) + 1 for k in firsts if k >= strat.warmup] + [strat.warmup + 1]
    full = strat.signals(bars)
    assert np.count_nonzero(full.dir[np.asarray(cuts) - 1] != 0) >= 60  # decisions on those bars to compare
    report = check_lookahead(strat, bars, cuts=cuts)
    assert report.ok, str(report)


def test_lookahead_checker_catches_a_leak_planted_in_the_policys_features(
    trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above can fail: let every feature peek at the next bar's move and the checker names a bar."""
    import rl.features as F
    import rl.policy as P
    from simlab.synthetic import synthetic_eurusd
    from strategies.lookahead import check_lookahead
    from strategies.onnx_policy import OnnxPolicyStrategy

    honest = F.market_features

    def leaky(market):  # type: ignore[no-untyped-def]
        f = honest(market)
        v = f.values.copy()
        c = market.bars.bid[:, 3]
        v[F.WARMUP : -1, :] = (
            5.0 * np.sign(c[F.WARMUP + 1 :] - c[F.WARMUP : -1])[:, None]
        )  # the next bar's move
        return F.MarketFeatures(v, f.atr)

    monkeypatch.setattr(P, "market_features", leaky)
    strat = OnnxPolicyStrategy(model=str(trained / "model.onnx"))
    report = check_lookahead(strat, synthetic_eurusd(n_days=90, timeframe="1h", seed=8), n_prefixes=12)
    assert not report.ok and report.leak is not None


def test_the_policy_strategy_runs_without_torch(trained: Path) -> None:
    """onnxruntime alone: torch (and stable-baselines3) made unimportable in a fresh interpreter."""
    code = f"""
import sys
sys.modules["torch"] = None
sys.modules["stable_baselines3"] = None
from simlab.synthetic import synthetic_eurusd
from strategies.registry import load_strategy
s = load_strategy("onnx-policy", {{"model": {str(trained / "model.onnx")!r}}})
it = s.signals(synthetic_eurusd(n_days=40, timeframe="1h", seed=2))
print(int((it.dir != 0).sum()))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.strip()) > 0


def test_export_refuses_a_wrong_suffix_and_a_missing_model(trained: Path, tmp_path: Path) -> None:
    r = run_simlab("rl", "export", str(trained / "model.zip"), "-o", str(tmp_path / "p.bin"), cwd=tmp_path)
    assert r.returncode == 2 and "must end in .onnx" in r.stderr and r.stderr.count("\n") == 1
    r = run_simlab("rl", "export", str(tmp_path / "nope.zip"), "-o", str(tmp_path / "p.onnx"), cwd=tmp_path)
    assert r.returncode == 2 and "not found" in r.stderr
    assert not (tmp_path / "p.onnx").exists() and not (tmp_path / "p.json").exists()


def test_export_again_gives_the_same_policy(trained: Path, tmp_path: Path) -> None:
    r = run_simlab(
        "rl", "export", str(trained / "model.zip"), "-o", str(tmp_path / "again.onnx"), cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert "agree on 512 of 512" in r.stdout
    a = json.loads((trained / "model.json").read_text())
    b = json.loads((tmp_path / "again.json").read_text())
    assert a["obs_norm"] == b["obs_norm"] and a["settings"] == b["settings"]


def test_step_form_sees_the_environments_observation_from_a_window_of_bars(trained: Path) -> None:
    """Live calls ``step`` with a window of bars: its observation equals the environment's on the whole
    history (finite-memory features), and its decision is the policy's action on it."""
    from rl.core import BatchCore
    from rl.policy import intents_from_actions, shadow_world
    from simlab.synthetic import synthetic_eurusd
    from strategies.onnx_policy import OnnxPolicyStrategy, _shadow_market

    strat = OnnxPolicyStrategy(model=str(trained / "model.onnx"))
    s = strat.info.settings
    bars = synthetic_eurusd(n_days=40, timeframe="1h", seed=6)
    world = shadow_world(s, _shadow_market(bars, s.program, s.symbol, s.governors))
    w = strat.window
    checked = set()
    for t in range(w + 5, len(bars) - 1, 37):
        one = np.array([t])
        core = BatchCore(world, 1, autoreset=False, fixed_starts=one, starts=one)
        want = core.reset()[0]
        win = bars.slice(t - w + 1, t + 1)
        assert np.array_equal(strat.observation(win, 0, None), want), t
        assert np.array_equal(strat.observation(win, 0, core.acc[0]), want), t
        d, sl, tp, size = strat.step(t, win, 0, None)
        acts = np.full(len(bars), -1)
        acts[t] = strat.act(want[None, :])[0]
        it = intents_from_actions(world, acts)
        np.testing.assert_array_equal(
            [d, sl, tp, size], [it.dir[t], it.sl[t], it.tp[t], it.size[t]]
        )  # NaN == NaN
        checked.add(d)
    assert len(checked) >= 2  # not one constant decision


def test_a_policy_trained_on_the_lagged_observation_is_refused(trained: Path, tmp_path: Path) -> None:
    """policy.json written before the observation's account half was made current (no ``obs_version``, i.e.
    version 1: the account one bar behind) is refused in one line, not run on observations of another meaning."""
    import shutil

    d = json.loads((trained / "model.json").read_text())
    assert d["world"]["obs_version"] == 2
    del d["world"]["obs_version"]
    shutil.copy(trained / "model.onnx", tmp_path / "old.onnx")
    (tmp_path / "old.json").write_text(json.dumps(d))
    r = run_simlab(
        "challenge", "--strategy", "onnx-policy", "--param", f"model={tmp_path / 'old.onnx'}", "--runs", "2",
        "--program", "ftmo-1step", "--horizon-days", "20", cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 2 and r.stdout == "" and r.stderr.count("\n") == 1, r.stderr
    assert "trained on observation version 1 (its account one bar behind the market)" in r.stderr
    assert "this simlab observes version 2" in r.stderr
