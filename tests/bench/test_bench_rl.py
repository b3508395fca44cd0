"""RL environment throughput (issue 13, acceptance 5): ``nox -s bench`` (figures reported, never asserted).

On the same bars (two years of simlab's synthetic EURUSD H1, 12,480 bars):

* the single environment (``rl.env.ChallengeEnv``: one FTMO 2-step attempt per
  episode, the shipped execution model's sampled spread and slippage, the rules on every
  bar) stepped with random actions, resets included: steps/s (target >= 30,000);
* gym-anytrading's ``forex-v0`` on the same bars' mid closes, the same window and random
  actions: steps/s (installed by the bench session; reported as missing otherwise);
* the batched environment (``rl.core.BatchCore``, the engine of the SB3 ``VecEnv``
  and the gymnasium vector env): 1,024 attempts per call on numba's threads: env-steps/s
  (target >= 1,000,000 on 2 cores), and the same through ``ChallengeVecEnv`` (observation
  copies, info dicts).

The machine may be shared: each figure comes with the load average at the time and the
process's CPU time next to the wall clock. Compile time is excluded (one warm-up run).
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

pytest.importorskip("gymnasium", reason="the rl extra is not installed")

WINDOW = 16
SINGLE_STEPS = 60_000
BATCH_ENVS = 1_024
BATCH_CALLS = 300


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load avg {one:.2f} (1 min) / {five:.2f} (5 min) on {os.cpu_count()} cores"


@pytest.fixture(scope="module")
def h1_world():
    from rl.core import EnvSettings, World
    from simlab.synthetic import default_bars

    bars = default_bars("1h")
    return World.build(bars, EnvSettings(program="ftmo-2step", window=WINDOW))


def _run_single(env, actions: np.ndarray) -> int:
    env.reset(seed=1)
    episodes = 0
    step = env.step
    for a in actions:
        _, _, term, trunc, _ = step(a)
        if term or trunc:
            episodes += 1
            env.reset()
    return episodes


def test_bench_single_env_vs_gym_anytrading(bench_record, benchmark, h1_world):
    from rl.env import ChallengeEnv

    rng = np.random.default_rng(0)
    actions = rng.integers(0, 3, SINGLE_STEPS).tolist()
    env = ChallengeEnv(world=h1_world)
    _run_single(env, actions[:2_000])  # compile / load the cache
    w, c = time.perf_counter(), time.process_time()
    episodes = _run_single(env, actions)
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    benchmark.pedantic(_run_single, args=(env, actions), rounds=3, warmup_rounds=0)
    best = min(wall, benchmark.stats.stats.min)
    sps = SINGLE_STEPS / best
    benchmark.extra_info.update(single_steps_per_s=sps, episodes=episodes)
    bench_record(
        "single ChallengeEnv (FTMO 2-step, sampled costs)",
        f"{sps:,.0f} steps/s (best wall; CPU {SINGLE_STEPS / cpu:,.0f}/s) over {SINGLE_STEPS:,} steps, "
        f"{episodes} attempts (target >= 30,000) | {_load()}",
    )
    try:
        import gym_anytrading  # noqa: F401  (registers forex-v0)
    except ImportError:
        bench_record(
            "gym-anytrading forex-v0", "not installed (pip install gym-anytrading; nox -s bench installs it)"
        )
        return
    import gymnasium
    import pandas as pd

    bars = h1_world.market.bars
    df = pd.DataFrame({"Close": (bars.bid[:, 3] + bars.ask[:, 3]) / 2.0})
    genv = gymnasium.make("forex-v0", df=df, window_size=WINDOW, frame_bound=(WINDOW, len(df))).unwrapped
    g_actions = rng.integers(0, 2, SINGLE_STEPS).tolist()
    _run_single(genv, g_actions[:2_000])
    w, c = time.perf_counter(), time.process_time()
    g_episodes = _run_single(genv, g_actions)
    g_wall, g_cpu = time.perf_counter() - w, time.process_time() - c
    g_sps = SINGLE_STEPS / g_wall
    benchmark.extra_info.update(anytrading_steps_per_s=g_sps)
    bench_record(
        "gym-anytrading forex-v0, same bars",
        f"{g_sps:,.0f} steps/s (wall; CPU {SINGLE_STEPS / g_cpu:,.0f}/s), {g_episodes} episodes | simlab single env "
        f"{sps / g_sps:.2f}x its rate | {_load()}",
    )


def _run_batch(core, actions: np.ndarray) -> None:
    step = core.step
    for k in range(actions.shape[0]):
        step(actions[k])


def test_bench_batched_env(bench_record, benchmark, h1_world):
    import numba

    from rl.core import BatchCore
    from rl.vec import ChallengeVecEnv

    rng = np.random.default_rng(1)
    actions = rng.integers(0, 3, (BATCH_CALLS, BATCH_ENVS))
    core = BatchCore(h1_world, BATCH_ENVS, seed=1, parallel=True)
    core.reset()
    _run_batch(core, actions[:5])  # compile / load the cache
    w, c = time.perf_counter(), time.process_time()
    _run_batch(core, actions)
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    benchmark.pedantic(_run_batch, args=(core, actions), rounds=3, warmup_rounds=0)
    best = min(wall, benchmark.stats.stats.min)
    n = BATCH_CALLS * BATCH_ENVS
    threads = numba.get_num_threads()
    benchmark.extra_info.update(batched_steps_per_s=n / best, threads=threads)
    bench_record(
        f"batched core, {BATCH_ENVS} attempts per call",
        f"{n / best:,.0f} env-steps/s (best wall; {n / cpu:,.0f} per CPU-second) on {threads} numba threads "
        f"(target >= 1,000,000 on 2 cores) | {_load()}",
    )
    venv = ChallengeVecEnv(BATCH_ENVS, world=h1_world, seed=1, parallel=True)
    venv.reset()
    venv.step(actions[0])
    w = time.perf_counter()
    for k in range(BATCH_CALLS):
        venv.step(actions[k])
    v_wall = time.perf_counter() - w
    bench_record(
        f"ChallengeVecEnv (SB3), {BATCH_ENVS} envs",
        f"{n / v_wall:,.0f} env-steps/s (wall, observation copies and infos included) | {_load()}",
    )
