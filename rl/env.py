"""gymnasium environments: one challenge attempt per episode, on the simulation kernel.

``ChallengeEnv`` is a batch of one of ``rl.core.BatchCore`` and
``ChallengeVectorEnv`` a batch of N, so the two step the very same compiled
code; sub-environment i of the vector env plays the attempts
``i, i + N, i + 2N, ...`` and equals a ``ChallengeEnv(attempt_offset=i,
attempt_stride=N)`` step for step.

Observation: ``window`` rows of ``rl.features`` (oldest first), then the
account (``simlab.layout.RLO_*``); float32, within [-10, 10]. Action
(``Discrete(1 + 2K)``): 0 flat, 1..K long at size level k, K+1..2K short.
A decision made on bar t (after its close) fills at t+1's open.

Both halves are as of the same close: the observation on which bar t's
decision is made holds the market features up to t's close and the account as
bar t left it — the previous decision filled at t's open, a stop or target
hit inside t, the rules judged at t, the books marked at t's close (rooms to
the limits, days, the position held, floating and day P/L, the phase;
``rl.batch_nb`` runs bar t, then registers the decision for t+1's open). A
reset runs the attempt's first bar before its first observation. Observation
version ``rl.core.OBS_VERSION`` (2) is stored with a trained policy; one of
version 1 (the account one bar behind) is refused. Reward: the
equity change / initial balance * ``pnl_scale``, plus ``pass_bonus`` per phase
passed, minus ``breach_penalty`` when a phase is breached or a governor gives
the attempt up. ``terminated``: passed or failed; ``truncated``: the horizon.

``reset(seed=s)`` numbers the attempts from the first again under seed s (same
seed, same attempts, same cost draws); ``reset()`` starts the next attempt.
``options={"start_bar": k}`` starts this attempt on bar k instead of a drawn
day (k must leave room for the feature window). With the setting
``bootstrap_days=B`` every attempt a runs instead on its own day-bootstrapped
history (``simlab.bootstrap``, mean block B days): the history, start and cost
draws ``simlab challenge --bootstrap-days B`` gives attempt a (single env only).

>>> import numpy as np
>>> from simlab.synthetic import synthetic_eurusd
>>> env = ChallengeEnv(synthetic_eurusd(n_days=80, timeframe="1h", seed=3), program="ftmo-1step", horizon_days=20)
>>> obs, info = env.reset(seed=5)
>>> obs.shape == env.observation_space.shape, info["attempt"]
(True, 0)
>>> obs2, reward, terminated, truncated, info2 = env.step(1)  # long at the next open; that bar is run
>>> info2["bar"] - info["bar"], bool(obs2[-4] == 1.0)  # the account half: long at the new bar's close
(1, True)
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rl.batch_nb import OBS_CLIP
from rl.core import BatchCore, EnvSettings, World, last_status
from simlab import layout as L
from simlab.bars import Bars
from simlab.errors import ConfigError


def _world(bars: Bars | None, world: World | None, settings: EnvSettings | None, kw: dict[str, Any]) -> World:
    if world is not None:
        if bars is not None or settings is not None or kw:
            raise ConfigError("ChallengeEnv", "give either a world or bars and settings, not both")
        return world
    if settings is not None and kw:
        raise ConfigError(
            "ChallengeEnv", "give either settings=EnvSettings(...) or keyword settings, not both"
        )
    s = settings or EnvSettings(**kw)
    if bars is None:
        from simlab.synthetic import default_bars

        bars = default_bars("1h")
    return World.build(bars, s)


def _spaces(world: World) -> tuple[spaces.Box, spaces.Discrete]:
    obs = spaces.Box(-OBS_CLIP, OBS_CLIP, shape=(world.obs_dim,), dtype=np.float32)
    return obs, spaces.Discrete(world.settings.n_actions)


def _done_info(core: BatchCore, i: int) -> dict[str, Any]:
    out = core.last_out[i]
    reached = out[:, L.RES_STATUS] >= 0
    return {
        "status": last_status(core, i),
        "phases_passed": int(np.count_nonzero(out[reached, L.RES_STATUS] == L.STATUS_PASSED)),
        "final_balance": float(out[np.flatnonzero(reached)[-1], L.RES_BALANCE])
        if reached.any()
        else float("nan"),
    }


class ChallengeEnv(gymnasium.Env[np.ndarray, np.int64]):
    """One prop-firm challenge attempt per episode (see the module docstring)."""

    metadata = {"render_modes": []}

    def __init__(
        self,
        bars: Bars | None = None,
        *,
        world: World | None = None,
        settings: EnvSettings | None = None,
        seed: int = 0,
        attempt_offset: int = 0,
        attempt_stride: int = 1,
        trade_capacity: int = 10_000,
        render_mode: str | None = None,
        **setting_values: Any,
    ) -> None:
        if render_mode is not None:
            raise ConfigError("render_mode", f"{render_mode!r}: this environment does not render")
        self.world = _world(bars, world, settings, setting_values)
        self.observation_space, self.action_space = _spaces(self.world)
        self._offset, self._stride, self._capacity = (
            int(attempt_offset),
            int(attempt_stride),
            int(trade_capacity),
        )
        self.core = BatchCore(
            self.world,
            1,
            seed=seed,
            autoreset=False,
            trade_capacity=trade_capacity,
            offsets=np.array([attempt_offset]),
            strides=np.array([attempt_stride]),
            parallel=False,
        )
        self._boot: Any = _bootstrap_context(self.world, seed) if self.world.settings.bootstrap_days else None
        self._episode = 0  # episodes begun since the last seeding (the day bootstrap numbers attempts by it)
        self._started = False
        self._action = np.zeros(1, dtype=np.int64)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if self._boot is not None:
            return self._reset_bootstrap(seed, options)
        core = self.core
        if seed is not None:
            core.seed(seed)
        elif self._started and core.ist[0, L.RLI_DONE] == 0:
            core.ist[0, L.RLI_EPISODE] += 1  # an attempt given up half-way still used its id
        start = (options or {}).get("start_bar")
        if start is not None:
            k = int(start)
            n = len(self.world.market.bars)
            if not self.world.warmup_bars <= k < n - 1:
                raise ConfigError(
                    "start_bar",
                    f"{k}: expected {self.world.warmup_bars}..{n - 2} (after the features' warm-up)",
                )
            core.ist[0, L.RLI_FIXED_START] = k
        obs = core.reset()
        core.ist[0, L.RLI_FIXED_START] = -1
        self._started = True
        return obs[0].copy(), core.info_of(0)

    def _reset_bootstrap(
        self, seed: int | None, options: dict[str, Any] | None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Attempt a's own history (``simlab.bootstrap``: the one ``simlab challenge --bootstrap-days`` gives
        attempt a), its world, and a core of one that starts on its first bar after the warm-up."""
        import dataclasses

        from rl.features import market_features

        if options:
            raise ConfigError(
                "options", f"{sorted(options)}: a day-bootstrapped attempt starts where its history does"
            )
        if seed is not None:
            self._boot = _bootstrap_context(self.world, seed)
            self._episode = 0
        elif self._started:
            self._episode += 1
        ctx = self._boot
        a = self._offset + self._episode * self._stride
        r, i_s = ctx.history(a)
        market = self.world.calendar.build(r.bars, r.vol_ratio)
        world = dataclasses.replace(self.world, market=market, features=market_features(market), min_start=0)
        start = np.array([int(r.first[i_s])], dtype=np.int64)
        self.core = BatchCore(
            world, 1, seed=ctx.setup.seed, autoreset=False, trade_capacity=self._capacity,
            offsets=np.array([a]), strides=np.array([0]), fixed_starts=start, starts=start, parallel=False,
        )  # fmt: skip
        obs = self.core.reset()
        self._started = True
        return obs[0].copy(), self.core.info_of(0)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        core = self.core
        if not self._started or core.ist[0, L.RLI_DONE] != 0:
            raise RuntimeError("the episode is over (or never began): call reset()")
        self._action[0] = action
        obs, reward, done = core.step(self._action)
        d = int(done[0])
        info = core.info_of(0)
        if d:
            info |= _done_info(core, 0)
        return obs[0].copy(), float(reward[0]), d == 1, d == 2, info

    def trades(self) -> np.ndarray:
        """The kernel's trade records (``TR_*`` rows) of the current or just finished phase."""
        return self.core.trades_of(0)


def _bootstrap_context(world: World, seed: int) -> Any:
    """The Monte Carlo runner's day-bootstrap context for this world and seed (``simlab.bootstrap``)."""
    from simlab.bootstrap import bootstrap_context
    from simlab.montecarlo import ChallengeSetup

    s = world.settings
    if world.calendar is None:
        raise ConfigError(
            "bootstrap_days", "the day bootstrap needs a world built by World.build (its calendar)"
        )
    setup = ChallengeSetup(
        market=world.market, intents=None, spec=world.spec, phase_rules=world.phase_rules,  # type: ignore[arg-type]
        phase_names=world.phase_names, gov=world.gov, costs=world.costs, initial_balance=world.initial_balance,
        risk=s.risk, fixed_volume=s.volume, horizon_days=world.horizon_days, warmup_bars=world.warmup_bars,
        seed=int(seed),
    )  # fmt: skip
    return bootstrap_context(
        setup, _NoSignals(), s.bootstrap_days, world.calendar, where=world.meta.get("data") or "data"
    )


class _NoSignals:
    """The bootstrap context asks for a strategy; the agent's actions are the decisions here."""

    def signals(self, bars: Bars) -> None:
        return None


def _no_bootstrap(world: World) -> None:
    if world.settings.bootstrap_days:
        raise ConfigError(
            "bootstrap_days",
            "the batched environments step one shared history: use ChallengeEnv for day-bootstrapped attempts",
        )


class ChallengeVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """N attempts stepped in one compiled call, as a gymnasium vector env (same-step autoreset).

    A finished sub-environment starts its next attempt inside the step that
    ended it; the step's ``infos`` then hold ``final_obs`` and ``final_info``
    for it (masked by ``_final_obs`` / ``_final_info``), as gymnasium's
    ``SyncVectorEnv`` does in ``AutoresetMode.SAME_STEP``.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(
        self,
        num_envs: int,
        bars: Bars | None = None,
        *,
        world: World | None = None,
        settings: EnvSettings | None = None,
        seed: int = 0,
        parallel: bool | None = None,
        **setting_values: Any,
    ) -> None:
        self.world = _world(bars, world, settings, setting_values)
        _no_bootstrap(self.world)
        self.num_envs = int(num_envs)
        self.core = BatchCore(self.world, self.num_envs, seed=seed, autoreset=True, parallel=parallel)
        self.single_observation_space, self.single_action_space = _spaces(self.world)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._started = False

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if options:
            raise ConfigError("options", f"{sorted(options)}: the vector env takes no reset options")
        if isinstance(seed, list):
            seed = seed[0] if seed else None
        if seed is not None:
            self.core.seed(int(seed))
        elif self._started:
            self.core.ist[self.core.ist[:, L.RLI_DONE] == 0, L.RLI_EPISODE] += 1
        self._started = True
        return self.core.reset().copy(), {}

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._started:
            raise RuntimeError("call reset() before step()")
        obs, reward, done = self.core.step(np.asarray(actions))
        infos: dict[str, Any] = {}
        for i in np.flatnonzero(done):
            infos = self._add_info(
                infos,
                {"final_obs": self.core.final_obs[i].copy(), "final_info": _done_info(self.core, int(i))},
                int(i),
            )
        return obs.copy(), reward.copy(), done == 1, done == 2, infos
