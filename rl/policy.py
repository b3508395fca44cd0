"""A trained policy outside the trainer: its description file, and the closed loop that runs it.

``simlab rl export`` writes ``policy.onnx`` and, beside it, ``policy.json``
(schema ``rl-policy/1``)::

    {"schema": "rl-policy/1",
     "settings": {...EnvSettings...},            # the world it was trained in: program, sizing, window, ...
     "world": {"features": [...], "features_version", "obs_version", "window", "obs_dim", "n_actions", "phases", ...},
     "obs_norm": {"mean": [...], "var": [...], "epsilon", "clip"} | null,   # VecNormalize's statistics
     "onnx": {"input", "output", "opset"},
     "training": {...},                          # what `simlab rl train` recorded (command, data, split, seed)
     "export_check": {"observations", "agree"}}  # ONNX vs torch actions at export

Nothing here needs torch or gymnasium: a policy is any function from a batch
of raw observations (float32 (N, obs_dim)) to actions (int (N,)), and
:func:`run_policy_challenge` plays it on N attempts of the batched core, each
decision seeing its own attempt's account. The attempts are the Monte Carlo
runner's (same start days, same cost draws), so the result is a
``ChallengeResult`` that sits in the same table as any strategy's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rl.core import OBS_VERSION, BatchCore, EnvSettings, World
from rl.features import FEATURE_NAMES, FEATURES_VERSION, market_features
from simlab import layout as L
from simlab.errors import ConfigError

if TYPE_CHECKING:
    from simlab.engine import Market
    from simlab.montecarlo import ChallengeResult, ChallengeSetup

POLICY_SCHEMA = "rl-policy/1"
Policy = Callable[[np.ndarray], np.ndarray]  # raw observations (N, obs_dim) float32 -> actions (N,)


def policy_json_path(model: Path | str) -> Path:
    """``policy.onnx`` -> ``policy.json`` (the description beside the model)."""
    return Path(model).with_suffix(".json")


@dataclass(frozen=True)
class ObsNorm:
    """VecNormalize's observation statistics: ``clip((obs - mean) / sqrt(var + epsilon), -clip, clip)``."""

    mean: np.ndarray
    var: np.ndarray
    epsilon: float
    clip: float

    def apply(self, obs: np.ndarray) -> np.ndarray:
        # VecNormalize computes in float64 and the policy reads float32: the same two steps here
        x = np.clip((obs - self.mean) / np.sqrt(self.var + self.epsilon), -self.clip, self.clip)
        return x.astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": self.mean.tolist(),
            "var": self.var.tolist(),
            "epsilon": self.epsilon,
            "clip": self.clip,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ObsNorm:
        return cls(
            np.asarray(d["mean"], np.float64),
            np.asarray(d["var"], np.float64),
            float(d["epsilon"]),
            float(d["clip"]),
        )


@dataclass(frozen=True)
class PolicyInfo:
    """``policy.json``, read and checked."""

    settings: EnvSettings
    obs_dim: int
    n_actions: int
    obs_norm: ObsNorm | None
    raw: dict[str, Any]

    @classmethod
    def load(cls, path: Path | str) -> PolicyInfo:
        p = Path(path)
        where = str(p)
        if not p.is_file():
            raise ConfigError(
                where, "policy description not found; `simlab rl export` writes it beside the .onnx"
            )
        try:
            d = json.loads(p.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(where, f"not a readable JSON file ({str(exc).splitlines()[0]})") from None
        if not isinstance(d, dict) or d.get("schema") != POLICY_SCHEMA:
            raise ConfigError(
                where,
                f"expected schema {POLICY_SCHEMA!r}, got {d.get('schema') if isinstance(d, dict) else d!r}",
            )
        world = d.get("world", {})
        if world.get("features_version") != FEATURES_VERSION or world.get("features") != list(FEATURE_NAMES):
            raise ConfigError(
                where,
                f"trained on features version {world.get('features_version')}; this simlab computes version "
                f"{FEATURES_VERSION}: retrain or use the simlab it was trained with",
            )
        obs_version = world.get("obs_version", 1)  # written since version 2
        if obs_version != OBS_VERSION:
            what = " (its account one bar behind the market)" if obs_version == 1 else ""
            raise ConfigError(
                where,
                f"trained on observation version {obs_version}{what}; this simlab observes version {OBS_VERSION}"
                " (the account at the close the decision is taken at): retrain or use the simlab it was trained with",
            )
        settings = EnvSettings.from_dict(d.get("settings", {}), where)
        norm = ObsNorm.from_dict(d["obs_norm"]) if d.get("obs_norm") else None
        info = cls(settings, int(world["obs_dim"]), int(world["n_actions"]), norm, d)
        expect = settings.window * len(FEATURE_NAMES) + L.RLO_SIZE
        if info.obs_dim != expect or info.n_actions != settings.n_actions:
            raise ConfigError(
                where, f"obs_dim {info.obs_dim} / n_actions {info.n_actions} do not match its settings"
            )
        if norm is not None and norm.mean.shape != (info.obs_dim,):
            raise ConfigError(
                where, f"obs_norm has {norm.mean.shape[0]} means; the observation has {info.obs_dim} values"
            )
        return info


def world_for_setup(settings: EnvSettings, setup: ChallengeSetup) -> World:
    """The world of a ``simlab challenge`` run (its market, costs, program, governors, size, horizon) with the
    policy's own observation and sizing settings; ``--risk`` sizes the trades unless the policy trades a fixed volume.
    """
    s = settings if settings.volume > 0 else replace(settings, risk=float(setup.risk))
    return World(
        settings=s,
        market=setup.market,
        features=market_features(setup.market),
        spec=setup.spec,
        costs=setup.costs,
        phase_rules=np.ascontiguousarray(setup.phase_rules),
        phase_names=list(setup.phase_names),
        gov=setup.gov,
        initial_balance=float(setup.initial_balance),
        horizon_days=int(setup.horizon_days),
        meta={"data": str(setup.meta.get("data", ""))},
        min_start=int(setup.warmup_bars),
    )


def run_policy_attempts(world: World, policy: Policy, runs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Attempts 0 .. runs-1 played by ``policy`` in the closed loop: ``(out (runs, phases, RES_SIZE), starts)``."""
    core = BatchCore(world, runs, seed=seed, autoreset=False)
    obs = core.reset()
    actions = np.zeros(runs, dtype=np.int64)
    done = core.ist[:, L.RLI_DONE]
    while True:
        live = np.flatnonzero(done == 0)
        if live.shape[0] == 0:
            break
        actions[live] = policy(obs[live])
        obs, _, done = core.step(actions)
    return core.last_out.copy(), core.ist[:, L.RLI_START].copy()


def run_policy_challenge(
    settings: EnvSettings, setup: ChallengeSetup, policy: Policy, runs: int
) -> ChallengeResult:
    """``run_challenge`` for a policy that reads its account: the same attempts, played in the closed loop."""
    from simlab.montecarlo import ChallengeResult, start_days

    world = world_for_setup(settings, setup)
    if setup.warmup_bars < world.needed_warmup:
        raise ConfigError(
            "setup", f"warm-up {setup.warmup_bars} bars; the policy's observation needs {world.needed_warmup}"
        )
    out, starts = run_policy_attempts(world, policy, runs, setup.seed)
    _, exclusion = start_days(
        world.market, world.horizon_days, world.warmup_bars, world.meta.get("data", "data")
    )
    return ChallengeResult(setup, out, starts, exclusion=exclusion)


def shadow_world(settings: EnvSettings, market: Market) -> World:
    """The account a policy's open-loop ``signals`` imagine: its training program and size, the data's spread, no slippage."""
    from challenges.governors import load_governors
    from challenges.rules import load_program
    from rl.core import _default_horizon
    from simlab.engine import CostSetup
    from simlab.symbols import get_symbol

    program = load_program(settings.program)
    rules = np.ascontiguousarray(program.rule_matrix())
    return World(
        settings=settings,
        market=market,
        features=market_features(market),
        spec=get_symbol(settings.symbol),
        costs=CostSetup.fixed(),
        phase_rules=rules,
        phase_names=[ph.name for ph in program.phases],
        gov=load_governors(settings.governors).to_vector(),
        initial_balance=float(settings.size),
        horizon_days=settings.horizon_days or _default_horizon(rules),
    )


def shadow_actions(world: World, policy: Policy) -> np.ndarray:
    """The policy's action on every bar, played on one account after another (-1 before the first).

    The first account starts on the first trading day after the warm-up; when an
    attempt ends (passed, failed, or its horizon) the next starts on the next
    trading day with a fresh account. Row t depends on bars up to t only: an
    account that starts on the last bar decides there too, as it does on longer
    data (the look-ahead checker's prefixes end on such bars).
    """
    from simlab.montecarlo_nb import next_day_start_nb

    day = world.market.day
    n = day.shape[0]
    acts = np.full(n, -1, dtype=np.int64)
    w = max(int(world.warmup_bars), 1)
    if n < w:
        return acts
    s = int(next_day_start_nb(day, w - 1))  # the first day that begins after the warm-up
    if s >= n:
        return acts
    core = BatchCore(world, 1, seed=0, autoreset=False, fixed_starts=np.array([s]), starts=np.array([s]))
    a = np.zeros(1, dtype=np.int64)
    while s < n:
        core.ist[0, L.RLI_FIXED_START] = s
        obs = core.reset()
        while core.ist[0, L.RLI_DONE] == 0:
            t = int(core.ist[0, L.RLI_T])
            a[0] = policy(obs)[0]
            acts[t] = a[0]
            obs, _, _ = core.step(a)
        out = core.last_out[0]
        last = int(out[np.flatnonzero(out[:, L.RES_STATUS] >= 0)[-1], L.RES_END_BAR])
        s = int(next_day_start_nb(day, max(last, s)))
    return acts


def intents_from_actions(world: World, acts: np.ndarray) -> Any:
    """Per-bar actions (-1: none) as ``Intents``, with the world's stops, targets and size levels."""
    from strategies.base import Intents

    s = world.settings
    n = acts.shape[0]
    it = Intents.hold(n)
    k = len(s.size_levels)
    atr = world.features.atr
    it.dir[acts == 0] = L.DIR_FLAT
    long = (acts >= 1) & (acts <= k)
    short = acts > k
    it.dir[long] = L.DIR_LONG
    it.dir[short] = L.DIR_SHORT
    entry = long | short
    if s.sl_atr > 0:
        it.sl[entry] = s.sl_atr * atr[entry]
    if s.tp_atr > 0:
        it.tp[entry] = s.tp_atr * atr[entry]
    levels = np.asarray(s.size_levels)
    it.size[long] = levels[acts[long] - 1]
    it.size[short] = levels[acts[short] - 1 - k]
    return it
