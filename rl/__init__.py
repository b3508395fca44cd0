"""Reinforcement learning on the simulator: a gymnasium challenge environment on the same kernel.

An episode is one challenge attempt: the program's phases, rules and the
execution model's costs, the kernel's own accounting (``rl.batch_nb``
steps N attempts per compiled call). Pieces:

* ``rl.features`` / ``rl.core``: the world and the batched core
  (numpy and numba only: the exported policy's strategy runs on them);
* ``rl.env``: ``ChallengeEnv`` (gymnasium ``Env``, registered as
  ``simlab/Challenge-v0``) and ``ChallengeVectorEnv`` (gymnasium vector env);
* ``rl.vec``: ``ChallengeVecEnv`` (stable-baselines3 ``VecEnv``);
* ``rl.train`` / ``rl.export``: PPO training with a walk-forward
  split and the ONNX export behind ``simlab rl train`` / ``simlab rl export``.

gymnasium, stable-baselines3 and torch are the ``rl`` extra; ``import simlab``
never imports them. Importing this package registers the environment with
gymnasium when gymnasium is installed::

    import gymnasium, rl
    env = gymnasium.make("simlab/Challenge-v0", program="ftmo-1step")
"""

from __future__ import annotations

import importlib.util

ENV_ID = "simlab/Challenge-v0"


def register() -> None:
    """Register ``simlab/Challenge-v0`` with gymnasium (done on import when gymnasium is installed)."""
    import gymnasium

    if ENV_ID not in gymnasium.registry:
        gymnasium.register(id=ENV_ID, entry_point="rl.env:ChallengeEnv")


if importlib.util.find_spec("gymnasium") is not None:
    register()
