"""``simlab rl train``: PPO on the batched environment, a walk-forward split, and a challenge-run evaluation.

Walk-forward by default: the trading days of the data are split at
``train_frac`` (default 0.7); the agent trains on attempts that start *and end*
before the split (the training world holds only the earlier bars) and is
evaluated on attempts that start after it. The evaluation is a ``simlab
challenge`` run on the held-out dates — the exported policy through
``OnnxPolicyStrategy`` (each attempt in the closed loop) beside a baseline
strategy on the very same attempts (start days, cost draws) — printed as one
table and written to ``<model>.eval.json``.

Files written beside ``-o model.zip``:

* ``model.zip``: the stable-baselines3 model;
* ``model.vecnormalize.pkl``: VecNormalize's statistics (observations and rewards);
* ``model.train.json``: everything needed to reproduce the run (command, data
  and its sha256, settings, split, seed, versions) and the evaluation;
* ``model_logs/progress.csv``: stable-baselines3's training log (CSV);
* ``model.onnx`` + ``model.json``: the exported policy (``simlab rl export``'s
  output), the one the evaluation ran.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rl.core import EnvSettings, World
from rl.export import model_json_path, vecnormalize_path
from simlab.bars import Bars
from simlab.errors import ConfigError, InputError


@dataclass(frozen=True)
class Split:
    """Bars [0, train_end) train; attempts of the evaluation start at or after ``eval_start``."""

    train_end: int
    eval_start: int

    def to_dict(self, bars: Bars) -> dict[str, Any]:
        t = bars.time

        def iso(i: int) -> str:
            return str(np.datetime64(int(t[i]), "ns").astype("datetime64[m]")) + "Z"

        return {
            "train_end_bar": self.train_end,
            "eval_start_bar": self.eval_start,
            "train": [iso(0), iso(self.train_end - 1)],
            "eval": [iso(self.eval_start), iso(len(bars) - 1)],
        }


def walk_forward_split(world: World, train_frac: float) -> Split:
    """Cut at the first bar of the trading day at ``train_frac`` of the data's days."""
    if not 0.0 < train_frac < 1.0:
        raise ConfigError("--train-frac", f"{train_frac}: expected a fraction in (0, 1), e.g. 0.7")
    day = world.market.day
    first = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    k = min(max(int(len(first) * train_frac), 1), len(first) - 1)
    cut = int(first[k])
    return Split(train_end=cut, eval_start=cut)


def _sha256(path: str) -> str | None:
    p = Path(path)
    if not p.is_file():
        return None
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class TrainOptions:
    timesteps: int = 100_000
    n_envs: int = 16
    seed: int = 0
    train_frac: float = 0.7
    n_steps: int = 256
    batch_size: int = 1024
    learning_rate: float = 3e-4
    ent_coef: float = 0.01
    eval_runs: int = 50
    baseline: str = "ma_cross"
    progress: bool = True

    def validate(self) -> None:
        if self.timesteps < 1:
            raise ConfigError("--timesteps", f"{self.timesteps}: expected a positive number of steps")
        if self.n_envs < 1:
            raise ConfigError("--envs", f"{self.n_envs}: expected at least 1")
        if self.n_steps < 2:
            raise ConfigError(
                "--n-steps", f"{self.n_steps}: expected at least 2 steps per environment per update"
            )
        if self.batch_size < 2 or self.batch_size > self.n_steps * self.n_envs:
            raise ConfigError(
                "--batch-size",
                f"{self.batch_size}: expected 2 .. n_steps * envs = {self.n_steps * self.n_envs}",
            )
        if self.eval_runs < 1:
            raise ConfigError("--eval-runs", f"{self.eval_runs}: expected at least 1 attempt")


def train(
    bars: Bars,
    settings: EnvSettings,
    out: Path | str,
    opts: TrainOptions,
    *,
    data: dict[str, Any],
    command: list[str] | None = None,
) -> dict[str, Any]:
    """Train, save, export and evaluate (see the module docstring); returns the training record."""
    import stable_baselines3
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

    from rl.export import export_policy
    from rl.vec import ChallengeVecEnv
    from simlab.atomic import atomic_write_text

    opts.validate()
    out = Path(out)
    if out.suffix != ".zip":
        raise ConfigError("-o", f"{out}: the model file name must end in .zip (stable-baselines3's format)")
    torch.manual_seed(opts.seed)
    torch.set_num_threads(1)  # one thread: the same weights for the same seed on any machine size
    full = World.build(bars, settings, data_name=str(data.get("data", "")))
    split = walk_forward_split(full, opts.train_frac)
    train_world = World.build(
        bars.slice(0, split.train_end), settings, costs=full.costs, data_name=full.meta["data"]
    )
    train_world.meta["exec_model"] = full.meta["exec_model"]
    try:
        train_world.starts()
    except InputError:
        raise ConfigError(
            "--train-frac",
            f"the training part ({split.train_end} bars) is too short for one {full.horizon_days}-day "
            "attempt: give more data, a larger --train-frac or a shorter --horizon-days",
        ) from None
    venv = VecNormalize(
        VecMonitor(ChallengeVecEnv(opts.n_envs, world=train_world, seed=opts.seed)), gamma=0.99
    )
    log_dir = out.with_name(out.stem + "_logs")
    model = PPO(
        "MlpPolicy", venv, n_steps=opts.n_steps, batch_size=opts.batch_size, learning_rate=opts.learning_rate,
        ent_coef=opts.ent_coef, seed=opts.seed, device="cpu", verbose=0,
    )  # fmt: skip
    model.set_logger(configure(str(log_dir), ["csv"]))
    model.learn(total_timesteps=opts.timesteps, progress_bar=opts.progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    venv.save(str(vecnormalize_path(out)))
    record: dict[str, Any] = {
        "schema": "rl-train/1",
        "command": command or [],
        "settings": settings.to_dict(),
        "world": train_world.describe(),
        "training": {
            "algo": "ppo",
            **data,
            "data_sha256": _sha256(str(data.get("data", ""))),
            "timesteps": opts.timesteps,
            "timesteps_done": int(model.num_timesteps),
            "n_envs": opts.n_envs,
            "seed": opts.seed,
            "n_steps": opts.n_steps,
            "batch_size": opts.batch_size,
            "learning_rate": opts.learning_rate,
            "ent_coef": opts.ent_coef,
            "vecnormalize": {"norm_obs": True, "norm_reward": True, "clip_obs": 10.0, "gamma": 0.99},
            "split": {"train_frac": opts.train_frac, **split.to_dict(bars)},
            "log_csv": str(log_dir / "progress.csv"),
            "versions": {"stable_baselines3": stable_baselines3.__version__, "torch": torch.__version__},
        },
    }
    atomic_write_text(model_json_path(out), json.dumps(record, indent=1))
    onnx_path = out.with_suffix(".onnx")
    export_policy(out, onnx_path)
    record["evaluation"] = evaluate(bars, full, split, onnx_path, opts)
    atomic_write_text(model_json_path(out), json.dumps(record, indent=1, allow_nan=False))
    atomic_write_text(
        out.with_name(out.stem + ".eval.json"), json.dumps(record["evaluation"], indent=1, allow_nan=False)
    )
    return record


def evaluate(bars: Bars, full: World, split: Split, onnx_path: Path, opts: TrainOptions) -> dict[str, Any]:
    """The policy and the baseline as ``simlab challenge`` runs on the held-out attempts (same attempts for both)."""
    from simlab.montecarlo import ChallengeSetup, run_challenge
    from strategies.onnx_policy import OnnxPolicyStrategy
    from strategies.registry import load_strategy

    policy = OnnxPolicyStrategy(model=str(onnx_path))
    base = load_strategy(opts.baseline)
    warm = max(policy.warmup, int(getattr(base, "warmup", 0) or 0))
    lo = max(0, split.eval_start - warm)  # the held-out part, with the warm-up's history before it
    held = bars.slice(lo, len(bars))
    world = World.build(held, full.settings, costs=full.costs)
    s = full.settings
    meta = {
        "program": s.program, "size": s.size, "symbol": s.symbol, "data": full.meta["data"] + " (held-out dates)",
        "exec_model": full.meta["exec_model"], "governors": s.governors,
    }  # fmt: skip

    def setup(intents: Any, name: str) -> ChallengeSetup:
        return ChallengeSetup(
            market=world.market, intents=intents, spec=world.spec, phase_rules=world.phase_rules,
            phase_names=world.phase_names, gov=world.gov, costs=world.costs, initial_balance=world.initial_balance,
            risk=s.risk, fixed_volume=s.volume, horizon_days=world.horizon_days, warmup_bars=warm, seed=opts.seed,
            meta=meta | {"strategy": name},
        )  # fmt: skip

    from strategies.base import Intents

    try:
        res_policy = policy.run_challenge(
            setup(Intents.hold(len(held)), f"policy ({onnx_path.name})"), opts.eval_runs
        )
        res_base = run_challenge(setup(base.signals(held), opts.baseline), opts.eval_runs, progress=False)
    except InputError:
        raise ConfigError(
            "--train-frac",
            f"the held-out part ({len(bars) - split.eval_start} bars) is too short for one "
            f"{world.horizon_days}-day attempt: give more data, a smaller --train-frac or a shorter --horizon-days",
        ) from None
    # each row: the result body of the simlab.result schema (simlab.results), as simlab challenge writes it
    rows = {"policy": res_policy.to_json(), "baseline": res_base.to_json()}
    names = {
        "policy": str(res_policy.setup.meta["strategy"]),
        "baseline": str(res_base.setup.meta["strategy"]),
    }
    return {"schema": "rl-eval/1", "runs": opts.eval_runs, "seed": opts.seed, "results": rows,
            "table": comparison_table(rows, names, meta)}  # fmt: skip


def comparison_table(rows: dict[str, dict[str, Any]], names: dict[str, str], s: dict[str, Any]) -> str:
    """One table: a row per run (pass rate and its CI, days to pass, drawdowns, trades, what ended them)."""
    head = f"  {'':<10} {'strategy':<28} {'pass rate':>9}  {'95% CI':>15}  {'days':>5}  {'dd p90':>7}  {'tr/day':>6}  top failure"
    lines = [head]
    for label, j in rows.items():
        pr = j["pass_rate"]
        d = j["days_to_pass"]
        days = f"{d['median']:.0f}" if d else "-"
        reasons = j["failure_reasons"]
        top = next(iter(reasons.items()), None)
        fail = f"{top[0]} ({top[1]})" if top else "-"
        lines.append(
            f"  {label:<10} {names[label][:28]:<28} {100 * pr['rate']:8.1f}%  "
            f"{100 * pr['ci95'][0]:5.1f}% .. {100 * pr['ci95'][1]:5.1f}%  {days:>5}  "
            f"{100 * j['max_total_drawdown']['p90']:6.2f}%  {j['trades_per_day']:6.2f}  {fail}"
        )
    first = next(iter(rows.values()))
    size = s.get("size")
    # 100,000 as the challenge says it (not 100000.0)
    size_text = f"{size:,.0f}" if isinstance(size, int | float) else str(size)
    title = (
        f"held-out challenge runs: {s.get('program')} {size_text} | {s.get('data')} | {first['pass_rate']['runs']} "
        f"attempts each, the same start days and cost draws | costs: {s.get('exec_model')}"
    )
    return title + "\n" + "\n".join(lines)
