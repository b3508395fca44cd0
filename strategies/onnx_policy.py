"""``OnnxPolicyStrategy`` (registry name ``onnx-policy``): an exported RL policy, run with onnxruntime.

``simlab rl export`` writes ``policy.onnx`` and ``policy.json`` (the world the
policy was trained in, the observation layout and VecNormalize's statistics,
see ``rl.policy``). This strategy rebuilds the observations with the
same code as the environment (``rl.features``, the kernel's account
state), normalises them with the stored statistics and asks the model; torch
is not needed, only onnxruntime.

The policy reads its own account (distance to the daily and max-loss limits,
to the target, its position), so how it runs depends on the host:

* ``simlab challenge``: every attempt in the closed loop
  (:meth:`run_challenge`): the same attempts, start days and cost draws as any
  other strategy's run, each decision seeing that attempt's own account;
* ``signals(bars)`` (``simlab backtest``, the look-ahead checker, the vectorbt
  bridge): one decision per bar for a *shadow* account — the policy's training
  program and size on the data's own spread — played attempt after attempt
  (a fresh account on the trading day after each one ends). Row t depends on
  bars up to t only;
* ``step`` (the ``StepStrategy`` protocol): one decision from a window of
  bars and the account state the host passes in — as of the window's last
  close, the moment the environment observes it (``simlab live`` refuses the
  policy for now: ``live.app.refuse_closed_loop``).

Rows before the warm-up (the features' look-back plus the window) are HOLD.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simlab import layout as L
from simlab.errors import ConfigError
from strategies.base import Intents, Param, StepStrategy
from strategies.onnx_model import PicklesOrtSession, open_ort_session

if TYPE_CHECKING:
    from simlab.bars import Bars
    from simlab.montecarlo import ChallengeResult, ChallengeSetup


class OnnxPolicyStrategy(PicklesOrtSession, StepStrategy):
    """An RL policy exported by `simlab rl export`, run with onnxruntime on the environment's observations."""

    name = "onnx-policy"
    price = "mid"

    model = Param("", type=str, required=True, help="path to policy.onnx (policy.json beside it)")
    threads = Param(1, bounds=(0, 1024), help="onnxruntime intra-op threads (0: its default)")

    # ------------------------------------------------------------ loading
    def setup(self) -> None:
        from rl.policy import PolicyInfo, policy_json_path

        model = Path(self.model).expanduser()
        if not model.is_file():
            raise ConfigError(str(model), "model file not found")
        self.info = PolicyInfo.load(policy_json_path(model))
        self._files = [model, policy_json_path(model)]
        self._session: Any = None
        self._open_session()

    def input_files(self) -> list[Path]:
        return list(self._files)

    def _open_session(self) -> None:
        sess = open_ort_session(self.model, self.threads)
        inputs = sess.get_inputs()
        onnx_meta = self.info.raw.get("onnx", {})
        if len(inputs) != 1 or list(inputs[0].shape)[-1] != self.info.obs_dim:
            raise ConfigError(
                self.model, f"expected one input of {self.info.obs_dim} observation values (see policy.json)"
            )
        outs = [o.name for o in sess.get_outputs()]
        out = onnx_meta.get("output", outs[0])
        if out not in outs:
            raise ConfigError(self.model, f"no output named {out!r} (outputs: {', '.join(outs)})")
        self._session = sess
        self._input = inputs[0].name
        self._output = out

    @property
    def warmup(self) -> int:
        from rl.features import WARMUP

        return WARMUP + self.info.settings.window - 1

    # ------------------------------------------------------------ inference
    def act(self, obs: np.ndarray) -> np.ndarray:
        """Actions (int64 (N,)) for raw observations (float32 (N, obs_dim)): normalised, then the model."""
        x = obs if self.info.obs_norm is None else self.info.obs_norm.apply(obs)
        y = self._session.run([self._output], {self._input: np.ascontiguousarray(x, dtype=np.float32)})[0]
        a = np.asarray(y).reshape(obs.shape[0]).astype(np.int64)
        if a.shape[0] and (a.min() < 0 or a.max() >= self.info.n_actions):
            raise ConfigError(
                self.model, f"the model answered action {int(a.max())}; expected 0..{self.info.n_actions - 1}"
            )
        return a

    def run_challenge(
        self, setup: ChallengeSetup, runs: int, *, workers: int | None = None
    ) -> ChallengeResult:
        """The challenge's attempts in the closed loop (see the module docstring); ``workers``: numba threads
        of the batched step (results do not depend on it)."""
        from rl.policy import run_policy_challenge

        if workers is not None:
            import numba

            numba.set_num_threads(max(1, min(int(workers), int(numba.config.NUMBA_NUM_THREADS))))  # type: ignore[attr-defined]
        return run_policy_challenge(self.info.settings, setup, self.act, runs)

    def signals(self, bars: Bars) -> Intents:
        from rl.policy import intents_from_actions, shadow_actions, shadow_world

        s = self.info.settings
        market = _shadow_market(bars, s.program, s.symbol, s.governors)
        world = shadow_world(s, market)
        return intents_from_actions(world, shadow_actions(world, self.act))

    def observation(
        self, bars_window: Bars, position_dir: int, account_state: np.ndarray | None
    ) -> np.ndarray:
        """The raw observation (float32 (obs_dim,)) of the last bar of ``bars_window`` (``window`` bars or more).

        The features need ``window`` bars (their look-back plus the policy's
        window) and are computed on these bars alone: the same rows as on the whole
        history. ``account_state``: the kernel's ``ACC_*`` vector as the last bar left it, marked at its
        close (None: a fresh account of the training program, run through that bar as an attempt's first
        bar is); ``position_dir``: the position held at that close, 1 long, -1 short, 0 flat.
        """
        from rl.batch_nb import observe_nb
        from rl.core import BatchCore
        from rl.policy import shadow_world

        s = self.info.settings
        if len(bars_window) < self.window:
            raise ConfigError(self.name, f"{len(bars_window)} bars given; an observation needs {self.window}")
        market = _shadow_market(bars_window, s.program, s.symbol, s.governors)
        world = shadow_world(s, market)
        t = len(bars_window) - 1
        if account_state is None:  # a fresh account of the training program
            one = np.array([t])
            core = BatchCore(world, 1, autoreset=False, fixed_starts=one, starts=one)
            core.reset()
            acc = core.acc[0]
        else:
            acc = np.ascontiguousarray(account_state, dtype=np.float64)
        pos = np.zeros(L.POS_SIZE)
        pos[L.POS_DIR] = float(position_dir)
        obs = np.zeros(world.obs_dim, dtype=np.float32)
        observe_nb(
            t,
            world.features.values,
            s.window,
            acc,
            pos,
            world.phase_rules[0],
            0,
            world.phase_rules.shape[0],
            obs,
        )
        self._last_world = world
        return obs

    def step(
        self,
        bar_index: int,
        bars_window: Bars,
        position_dir: int,
        account_state: np.ndarray | None,
    ) -> tuple[int, float, float, float]:
        """One decision at the close of the last bar of ``bars_window`` (HOLD while it is shorter than ``window``)."""
        from rl.policy import intents_from_actions

        if len(bars_window) < self.window:
            return L.DIR_HOLD, float("nan"), float("nan"), float("nan")
        obs = self.observation(bars_window, position_dir, account_state)
        t = len(bars_window) - 1
        acts = np.full(t + 1, -1, dtype=np.int64)
        acts[t] = self.act(obs[None, :])[0]
        it = intents_from_actions(self._last_world, acts)
        return int(it.dir[t]), float(it.sl[t]), float(it.tp[t]), float(it.size[t])


def _shadow_market(bars: Bars, program: str, symbol: str, governors: str) -> Any:
    """``bars`` on the calendar of the policy's training program, symbol and governors."""
    from challenges.governors import load_governors
    from challenges.rules import load_program
    from simlab.bootstrap import MarketSettings
    from simlab.symbols import get_symbol

    return MarketSettings.of(load_program(program), get_symbol(symbol), load_governors(governors)).build(bars)
