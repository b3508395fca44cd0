"""The RL environments: gymnasium's checker, reproducible resets, batched == single, and the kernel's own numbers.

Acceptance of issue 13, items 1 and 2: an episode played with scripted actions
gives exactly (==, not approx) the trades, equity after every bar and breach of
``run_backtest`` on the same data, intents and cost draws; N sub-environments
playing a strategy's intents give exactly ``run_challenge``'s attempts.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("gymnasium", reason="the rl extra is not installed (pip install -e '.[rl]')")
pytest.importorskip("stable_baselines3", reason="the rl extra is not installed (pip install -e '.[rl]')")

from rl.core import EnvSettings, World  # noqa: E402
from rl.env import ChallengeEnv, ChallengeVectorEnv  # noqa: E402
from rl.vec import ChallengeVecEnv  # noqa: E402
from simlab import layout as L  # noqa: E402
from simlab.engine import run_backtest  # noqa: E402
from simlab.synthetic import synthetic_eurusd  # noqa: E402
from strategies.base import Intents  # noqa: E402


@pytest.fixture(scope="module")
def bars():
    return synthetic_eurusd(n_days=160, timeframe="1h", seed=11)


@pytest.fixture(scope="module")
def world1(bars) -> World:
    """One phase (FTMO 1-step), the shipped EURUSD execution model (sampled spread and slippage), 30-day horizon.

    A 1.5 % risk per trade at a 1-ATR stop: scripted random trading breaches it within weeks.
    """
    return World.build(
        bars, EnvSettings(program="ftmo-1step", horizon_days=30, risk=0.015, sl_atr=1.0, tp_atr=2.0)
    )


@pytest.fixture(scope="module")
def world2(bars) -> World:
    """Two phases (FTMO 2-step), sized to pass some attempts: 20-day horizon, 2 % risk, 3-ATR stop and target."""
    return World.build(
        bars, EnvSettings(program="ftmo-2step", horizon_days=20, risk=0.02, sl_atr=3.0, tp_atr=3.0)
    )


def sticky_actions(n: int, seed: int, n_actions: int = 3, p_change: float = 0.08) -> np.ndarray:
    """Random actions that keep their value for a while (a trader, not noise)."""
    rng = np.random.default_rng(seed)
    a = np.zeros(n, dtype=np.int64)
    cur = 0
    for k in range(n):
        if rng.random() < p_change:
            cur = int(rng.integers(0, n_actions))
        a[k] = cur
    return a


# ------------------------------------------------------------------ item 1


def test_check_env_passes(world1: World) -> None:
    from gymnasium.utils.env_checker import check_env

    check_env(ChallengeEnv(world=world1), skip_render_check=True)


def test_registered_with_gymnasium(bars) -> None:
    import gymnasium

    import rl

    env = gymnasium.make(rl.ENV_ID, bars=bars, program="ftmo-1step", horizon_days=30)
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    assert isinstance(env.unwrapped, ChallengeEnv)


def play(env: ChallengeEnv, actions: np.ndarray, seed: int | None) -> list[tuple]:
    """(obs bytes, reward, terminated, truncated, attempt) per step over several episodes."""
    out = []
    obs, info = env.reset(seed=seed)
    for a in actions:
        obs, r, term, trunc, info = env.step(int(a))
        out.append((obs.tobytes(), r, term, trunc, info["attempt"]))
        if term or trunc:
            obs, info = env.reset()
    return out


def test_same_seed_same_trajectory_other_seed_another(world1: World) -> None:
    actions = sticky_actions(3_000, seed=1)
    a = play(ChallengeEnv(world=world1), actions, seed=42)
    b = play(ChallengeEnv(world=world1), actions, seed=42)
    assert a == b
    assert sum(1 for x in a if x[2] or x[3]) >= 3  # several attempts were played, so resets were compared too
    c = play(ChallengeEnv(world=world1), actions, seed=43)
    assert [x[0] for x in c] != [x[0] for x in a]  # another seed: other start days and cost draws


def test_reset_with_the_same_seed_replays_the_attempt(world1: World) -> None:
    env = ChallengeEnv(world=world1)
    actions = sticky_actions(200, seed=9)
    first = play(env, actions, seed=7)
    second = play(env, actions, seed=7)  # the same env object, reseeded
    assert first == second


def test_batched_envs_equal_single_envs_step_for_step(world1: World) -> None:
    n = 5
    steps = 1_500
    acts = np.stack([sticky_actions(steps, seed=100 + i) for i in range(n)], axis=1)
    singles = [ChallengeEnv(world=world1, attempt_offset=i, attempt_stride=n) for i in range(n)]
    single_obs = np.stack([e.reset(seed=5)[0] for e in singles])
    gvec = ChallengeVectorEnv(n, world=world1)
    g_obs, _ = gvec.reset(seed=5)
    svec = ChallengeVecEnv(n, world=world1, parallel=True)  # the threaded kernel, too
    svec.seed(5)
    s_obs = svec.reset()
    assert np.array_equal(g_obs, single_obs) and np.array_equal(s_obs, single_obs)
    episodes = 0
    for k in range(steps):
        rows = []
        for i, e in enumerate(singles):
            o, r, term, trunc, info = e.step(int(acts[k, i]))
            final = o
            if term or trunc:
                episodes += 1
                o, _ = e.reset()
            rows.append((o, r, term, trunc, final))
        o_g, r_g, term_g, trunc_g, info_g = gvec.step(acts[k])
        o_s, r_s, done_s, info_s = svec.step(acts[k])
        for i, (o, r, term, trunc, final) in enumerate(rows):
            assert np.array_equal(o_g[i], o) and np.array_equal(o_s[i], o), (k, i)
            assert r_g[i] == r and r_s[i] == np.float32(r), (k, i)
            assert (term_g[i], trunc_g[i], done_s[i]) == (term, trunc, term or trunc), (k, i)
            if term or trunc:
                assert np.array_equal(info_g["final_obs"][i], final)
                assert np.array_equal(info_s[i]["terminal_observation"], final)
                assert info_s[i]["TimeLimit.truncated"] == trunc
    assert episodes >= 10


# ------------------------------------------------------------------ item 2


def intents_for(world: World, actions: np.ndarray, start: int = 0) -> Intents:
    """The intents the actions stand for: ``actions[k]`` is bar start+k's decision (the env's own mapping)."""
    s = world.settings
    it = Intents.hold(len(world.market.bars))
    levels = s.size_levels
    atr = world.features.atr
    for k, a in enumerate(actions):
        t = start + k
        if a == 0:
            it.dir[t] = L.DIR_FLAT
            continue
        it.dir[t] = L.DIR_LONG if a <= len(levels) else L.DIR_SHORT
        it.sl[t] = s.sl_atr * atr[t] if s.sl_atr > 0 else np.nan
        it.tp[t] = s.tp_atr * atr[t] if s.tp_atr > 0 else np.nan
        it.size[t] = levels[(a - 1) % len(levels)]
    return it


@pytest.mark.parametrize("seed", [1, 5, 6, 7, 15])
def test_scripted_episode_equals_the_backtest_kernel(world1: World, seed: int) -> None:
    env = ChallengeEnv(world=world1)
    _, info = env.reset(seed=seed)
    core = env.core
    start, end, attempt = (int(core.ist[0, k]) for k in (L.RLI_START, L.RLI_END, L.RLI_ATTEMPT))
    actions = sticky_actions(end - start, seed=seed)
    equity = [info["equity"]]  # the reset ran the start bar: the first observation is at its close
    for a in actions:
        _, _, term, trunc, info = env.step(int(a))
        equity.append(info["equity"])  # each step: the decision at a close, then the next bar
        if term or trunc:
            break
    played = actions[: len(equity) - 1]  # actions[k]: the decision at bar start+k's close
    ref = run_backtest(
        world1.market.bars, intents_for(world1, played, start), world1.spec, market=world1.market,
        costs=world1.costs, rules=world1.phase_rules[0], gov=world1.gov,
        initial_balance=world1.initial_balance, risk=world1.settings.risk, seed=seed, attempt=attempt,
        start=start, end=end,
    )  # fmt: skip
    got = env.trades()
    assert got.shape[0] >= 8  # seeds whose attempts trade a while (5 passes, the others breach)
    assert np.array_equal(got, ref.trades_raw)
    assert np.array_equal(np.array(equity), ref.curve[:, L.CURVE_EQUITY])
    assert np.array_equal(core.last_out[0, 0], ref.res)
    assert info["status"] == (
        "passed"
        if ref.status == "passed"
        else ref.breach_reason
        if ref.status != "running"
        else "no_pass_within_horizon"
    )


def test_scripted_episodes_end_both_ways(world1: World) -> None:
    """The scenario above is not vacuous: among its seeds one attempt passes and others breach."""
    ends = {}
    for seed in (1, 5, 6, 7, 15):
        env = ChallengeEnv(world=world1)
        env.reset(seed=seed)
        for a in sticky_actions(10_000, seed=seed):
            _, _, term, trunc, info = env.step(int(a))
            if term or trunc:
                ends[seed] = info["status"]
                break
    assert ends == {1: "daily_loss", 5: "passed", 6: "daily_loss", 7: "daily_loss", 15: "daily_loss"}


@pytest.mark.parametrize("governors", ["none", "default"])
def test_batched_env_playing_a_strategy_equals_run_challenge(world2: World, governors: str) -> None:
    """N sub-environments playing a fixed per-bar plan give run_challenge's attempts on its intents, exactly.

    The plan follows ma_cross's signals (the side of its last long/short/flat
    signal); two phases, the shipped execution model, 24 attempts; with the
    default governors too (their flattening at the open, floors inside the
    bar and halts run between an observation and the next).
    """
    import dataclasses

    from rl.core import BatchCore
    from simlab.montecarlo import ChallengeSetup, run_challenge
    from strategies.registry import load_strategy

    w = world2
    if governors != "none":
        w = World.build(w.market.bars, dataclasses.replace(w.settings, governors=governors))
    sig = load_strategy("ma_cross").signals(w.market.bars).dir
    code = {L.DIR_FLAT: 0, L.DIR_LONG: 1, L.DIR_SHORT: 2}
    plan = np.zeros(len(sig), dtype=np.int64)
    cur = 0
    for t, d in enumerate(sig):
        cur = code.get(int(d), cur)
        plan[t] = cur
    runs = 24
    setup = ChallengeSetup(
        market=w.market, intents=intents_for(w, plan), spec=w.spec, phase_rules=w.phase_rules,
        phase_names=w.phase_names, gov=w.gov, costs=w.costs, initial_balance=w.initial_balance,
        risk=w.settings.risk, horizon_days=w.horizon_days, warmup_bars=w.warmup_bars, seed=9,
    )  # fmt: skip
    ref = run_challenge(setup, runs, workers=1, progress=False)
    core = BatchCore(w, runs, seed=9, autoreset=False)
    core.reset()
    assert np.array_equal(core.ist[:, L.RLI_START], ref.starts)
    while not core.ist[:, L.RLI_DONE].all():
        core.step(plan[np.minimum(core.ist[:, L.RLI_T], len(plan) - 1)])
    assert np.array_equal(core.last_out, ref.out)
    status = ref.out[:, :, L.RES_STATUS]
    failed = L.STATUS_BREACHED if governors == "none" else L.STATUS_HALTED  # the governors stop it first
    assert (status == L.STATUS_PASSED).any() and (status == failed).any()  # both kinds of end


# ------------------------------------------------------------------ packaging


@pytest.mark.parametrize("module", ["rl.env", "rl.features"])
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    res = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


def test_import_simlab_never_imports_the_rl_stack() -> None:
    """gymnasium, stable-baselines3 and torch stay in the rl extra: the core, the CLI and the policy
    strategy import none of them (the strategy's own no-torch run is in test_rl_policy.py)."""
    import subprocess
    import sys

    rl = "('torch', 'stable_baselines3', 'gymnasium')"
    code = (
        "import sys, simlab, simlab.engine, simlab_cli.main, simlab.montecarlo, strategies.registry, simlab_cli.commands.rl\n"
        f"print(sorted(m for m in {rl} if m in sys.modules))\n"
        "import rl.core, strategies.onnx_policy\n"
        f"print(sorted(m for m in {rl} if m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["[]", "['gymnasium']"]  # importing rl registers the env


def test_bad_settings_are_one_line_config_errors(bars) -> None:
    from simlab.errors import ConfigError

    with pytest.raises(ConfigError, match="size levels need risk sizing"):
        EnvSettings(volume=1.0, size_levels=(0.5, 1.0))
    with pytest.raises(ConfigError, match="risk sizing needs a stop"):
        EnvSettings(sl_atr=0.0)
    with pytest.raises(ConfigError, match="unknown environment setting 'windw'"):
        EnvSettings.from_dict({"windw": 8})
    env = ChallengeEnv(bars, program="ftmo-1step", horizon_days=20)
    env.reset(seed=1)
    with pytest.raises(ConfigError, match="expected 0..2"):
        env.step(3)


# ------------------------------------------------------------------ day-bootstrapped attempts


def momentum_plan(world: World, bars) -> np.ndarray:
    """A per-bar plan that is a function of the bars alone: long after a 12-bar rise, short after a fall."""
    mid = (bars.bid[:, 3] + bars.ask[:, 3]) / 2.0
    plan = np.zeros(len(bars), dtype=np.int64)
    plan[12:] = np.where(mid[12:] > mid[:-12], 1, 2)
    return plan


def test_day_bootstrapped_attempts_equal_the_challenge_bootstrap(bars) -> None:
    """With bootstrap_days each episode runs on attempt a's own resampled history — the very history,
    start and cost draws of `simlab challenge --bootstrap-days` — so a plan played in the env gives its results."""
    import dataclasses

    from rl.features import market_features
    from simlab.bootstrap import run_bootstrap_challenge
    from simlab.montecarlo import ChallengeSetup

    w = World.build(
        bars,
        EnvSettings(
            program="ftmo-2step", horizon_days=20, risk=0.02, sl_atr=3.0, tp_atr=3.0, bootstrap_days=3
        ),
    )

    class Plan:
        warmup = 0

        def signals(self, b):  # type: ignore[no-untyped-def]
            m = w.calendar.build(b)
            ww = dataclasses.replace(w, market=m, features=market_features(m))
            return intents_for(ww, momentum_plan(ww, b))

    runs = 6
    setup = ChallengeSetup(
        market=w.market, intents=None, spec=w.spec, phase_rules=w.phase_rules, phase_names=w.phase_names,  # type: ignore[arg-type]
        gov=w.gov, costs=w.costs, initial_balance=w.initial_balance, risk=w.settings.risk,
        horizon_days=w.horizon_days, warmup_bars=w.warmup_bars, seed=4,
    )  # fmt: skip
    ref = run_bootstrap_challenge(setup, runs, Plan(), 3, w.calendar, workers=1, progress=False)
    for a in range(runs):
        env = ChallengeEnv(
            world=w, attempt_offset=a, trade_capacity=0
        )  # no ledger, as the runner (its overflow flag)
        env.reset(seed=4)
        hist = env.core.world.market.bars
        plan = momentum_plan(env.core.world, hist)
        assert int(hist.time[env.core.ist[0, L.RLI_START]]) == int(ref.start_times[a])
        while True:
            _, _, term, trunc, info = env.step(int(plan[env.core.ist[0, L.RLI_T]]))
            if term or trunc:
                break
        assert np.array_equal(env.core.last_out[0], ref.out[a]), a
    assert (ref.out[:, 0, L.RES_N_TRADES] > 0).all()


def test_the_batched_envs_refuse_the_day_bootstrap(bars) -> None:
    from simlab.errors import ConfigError

    w = World.build(bars, EnvSettings(program="ftmo-1step", horizon_days=20, bootstrap_days=2))
    with pytest.raises(ConfigError, match="use ChallengeEnv for day-bootstrapped attempts"):
        ChallengeVecEnv(4, world=w)
    with pytest.raises(ConfigError, match="use ChallengeEnv for day-bootstrapped attempts"):
        ChallengeVectorEnv(4, world=w)


def test_an_observation_holds_the_account_at_the_close_it_is_taken_at(world1: World) -> None:
    """What rl.env documents: the observation at bar t's close holds the features up to t and the account as
    bar t left it — the position held at t's close and its floating P/L marked at that close (by hand: a long
    sells at the bid), or flat with nothing floating after a stop hit inside bar t."""
    env = ChallengeEnv(world=world1)
    obs, info = env.reset(seed=1)
    core = env.core
    bid = world1.market.bars.bid
    contract = float(world1.spec.to_vector()[L.SYM_CONTRACT])
    w, nf = world1.settings.window, world1.features.values.shape[1]
    k = w * nf
    init = float(core.acc[0, L.ACC_INITIAL])
    stopped = marked = 0
    for _ in range(400):
        n_before = int(core.acc[0, L.ACC_N_TRADES])
        obs, _, term, trunc, info = env.step(1)  # long at the next open, every bar
        if term or trunc:  # a breach ends the attempt: start the next one
            obs, info = env.reset()
            continue
        t = int(core.ist[0, L.RLI_T])  # the bar this step ran; the observation is taken at its close
        assert info["bar"] == t
        assert np.array_equal(obs[(w - 1) * nf : k], world1.features.values[t])  # the market half ends on t
        acc, pos = core.acc[0], core.pos[0]
        bal = float(acc[L.ACC_BALANCE])
        trades = core.trades_of(0)
        if trades.shape[0] > n_before:
            assert trades[-1, L.TR_EXIT_BAR] == t  # stopped out (or at the target) inside bar t ...
            assert obs[k + L.RLO_POSITION] == 0.0 and obs[k + L.RLO_FLOATING] == 0.0  # ... flat at its close
            assert acc[L.ACC_EQUITY] == bal  # the loss is in the balance the rooms are measured from
            assert obs[k + L.RLO_DAY_PNL] == np.float32((bal - acc[L.ACC_DAY_START_EQUITY]) / init)
            stopped += int(trades[-1, L.TR_EXIT_REASON] == L.EXIT_STOP_LOSS)
        else:
            assert pos[L.POS_DIR] == 1.0 and obs[k + L.RLO_POSITION] == 1.0
            floating = (bid[t, 3] - pos[L.POS_ENTRY_PRICE]) * pos[L.POS_VOLUME] * contract + pos[L.POS_SWAP]
            assert obs[k + L.RLO_FLOATING] == np.float32(((bal + floating) - bal) / init)
            marked += int(floating != 0.0)
    assert stopped >= 5 and marked >= 100  # both kinds of close were seen: the comparisons are not vacuous
