"""The batched environment as a stable-baselines3 ``VecEnv``: N attempts per compiled call, no subprocesses.

Same core and same attempts as ``rl.env.ChallengeVectorEnv``; the
stable-baselines3 conventions on top: a finished sub-environment is reset in
the step that ended it, its last observation in ``infos[i]["terminal_observation"]``
and ``infos[i]["TimeLimit.truncated"]`` True when the horizon (not a pass or a
breach) ended it. ``seed(s)`` takes effect at the next ``reset()``, which then
numbers the attempts from the first again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices

from rl.core import BatchCore, EnvSettings, World
from rl.env import _done_info, _no_bootstrap, _spaces, _world
from simlab import layout as L
from simlab.bars import Bars
from simlab.errors import ConfigError


class ChallengeVecEnv(VecEnv):
    """``num_envs`` challenge attempts stepped together (see the module docstring)."""

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
        obs_space, act_space = _spaces(self.world)
        self.render_mode = None  # read back by VecEnv.__init__ through get_attr
        super().__init__(int(num_envs), obs_space, act_space)
        self.core = BatchCore(self.world, self.num_envs, seed=seed, autoreset=True, parallel=parallel)
        self._actions: np.ndarray = np.zeros(self.num_envs, dtype=np.int64)
        self._started = False

    def reset(self) -> np.ndarray:
        seed = self._seeds[0]
        if seed is not None:
            self.core.seed(int(seed))
        elif self._started:
            self.core.ist[self.core.ist[:, L.RLI_DONE] == 0, L.RLI_EPISODE] += 1
        self._reset_seeds()
        if any(self._options):
            raise ConfigError("options", "the challenge VecEnv takes no reset options")
        self._started = True
        return self.core.reset().copy()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).reshape(self.num_envs)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        obs, reward, done = self.core.step(self._actions)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for i in np.flatnonzero(done):
            infos[i] = {
                "terminal_observation": self.core.final_obs[i].copy(),
                "TimeLimit.truncated": bool(done[i] == 2),
                **_done_info(self.core, int(i)),
            }
        return obs.copy(), reward.astype(np.float32), done != 0, infos

    def close(self) -> None:
        pass

    # the sub-environments are rows of one core, not objects: attributes are the core's
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise ConfigError(
            "set_attr", f"{attr_name!r}: the sub-environments share one world; build a new VecEnv"
        )

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        raise ConfigError(
            "env_method", f"{method_name!r}: the sub-environments are rows of one compiled core"
        )

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None for _ in range(self.num_envs)]
