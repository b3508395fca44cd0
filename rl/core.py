"""The environments' Python core: the world an agent trades in and N attempts stepped in one call.

Nothing here imports gymnasium, stable-baselines3 or torch: the exported
policy's strategy (``strategies.onnx_policy``) runs its closed loop on this
core with onnxruntime alone. ``rl.env`` and ``rl.vec`` wrap it
as a gymnasium ``Env`` / vector env and a stable-baselines3 ``VecEnv``.

A :class:`World` is everything an attempt needs that does not change between
attempts: the market arrays, the features, the symbol, the costs, the
program's phases, the governors, the sizing and the reward settings.
:class:`BatchCore` holds the state of N sub-environments on one world and
steps them with ``rl.batch_nb``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from rl.features import FEATURE_NAMES, FEATURES_VERSION, WARMUP, MarketFeatures, market_features
from simlab import layout as L
from simlab.bars import Bars
from simlab.engine import CostSetup, Market, config_vector, kernel_params
from simlab.errors import ConfigError

# What an observation means, stored with a trained policy (``World.describe``) and checked where one is
# loaded (``rl.policy.PolicyInfo.load``): a policy fed observations of another meaning is refused.
# 1: the account half was the account at the previous close plus the side held into the bar;
# 2: the account half is the account at the close the decision is taken at (``rl.batch_nb``).
OBS_VERSION = 2

PARALLEL_MIN_ENVS = 64  # below this many sub-environments one thread is faster than waking the others

# The batched step is a short parallel region run thousands of times a second. OpenMP's default
# (threads spin while they wait) collapses it on a machine shared with other work: measured under a
# load of 9 on 2 cores, 2 threads made 0.13 M env-steps/s spinning and 1.6 M passive. Only takes
# effect if nothing in the process has started OpenMP yet, and never overrides a user's setting.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@dataclass(frozen=True)
class EnvSettings:
    """The environment's knobs (all stored with a trained model, so that a policy names its world).

    Sizing: ``risk`` of equity per trade at a stop of ``sl_atr`` ATRs, times the
    chosen size level; or ``volume`` lots (> 0) per trade, which needs a single
    size level (the kernel's fixed volume does not scale).
    """

    program: str = "ftmo-2step"
    size: float = 100_000.0
    symbol: str = "EURUSD"
    governors: str = "none"
    exec_model: str = "auto"  # as `simlab challenge --exec-model`
    spread: str = "wider"
    slippage: bool = True
    window: int = 16
    sl_atr: float = 2.0
    tp_atr: float = 0.0
    risk: float = 0.01
    volume: float = 0.0
    size_levels: tuple[float, ...] = (1.0,)
    pnl_scale: float = 100.0
    pass_bonus: float = 10.0
    breach_penalty: float = 10.0
    horizon_days: int = 0  # 0: the program's time limits (all phases), else 180
    bootstrap_days: int = 0  # > 0: each attempt on its own day-bootstrapped history, mean block (single env)

    def __post_init__(self) -> None:
        object.__setattr__(self, "size_levels", tuple(float(x) for x in self.size_levels))
        self.validate()

    def validate(self) -> None:
        where = "rl env"
        if not 1 <= self.window <= 1_000:
            raise ConfigError(where, f"window = {self.window}: expected 1..1000 bars")
        if not self.size_levels or any(not (0.0 < x <= 10.0) for x in self.size_levels):
            raise ConfigError(
                where, f"size_levels = {list(self.size_levels)}: expected multipliers in (0, 10]"
            )
        if self.volume < 0.0:
            raise ConfigError(where, f"volume = {self.volume}: expected lots > 0, or 0 for risk sizing")
        if self.volume > 0.0 and len(self.size_levels) > 1:
            raise ConfigError(
                where, "size levels need risk sizing (a fixed volume does not scale): set volume = 0"
            )
        if self.volume == 0.0 and not (0.0 < self.risk <= 0.2):
            raise ConfigError(where, f"risk = {self.risk}: expected a fraction in (0, 0.2], e.g. 0.01")
        if self.volume == 0.0 and self.sl_atr <= 0.0:
            raise ConfigError(where, "risk sizing needs a stop: set sl_atr > 0, or a fixed volume")
        if self.sl_atr < 0.0 or self.tp_atr < 0.0:
            raise ConfigError(where, "sl_atr and tp_atr are distances in ATRs: expected >= 0")
        if self.bootstrap_days < 0:
            raise ConfigError(
                where, f"bootstrap_days = {self.bootstrap_days}: expected 0 (off) or a mean block of days"
            )
        if self.horizon_days < 0:
            raise ConfigError(where, f"horizon_days = {self.horizon_days}: expected >= 0 (0: the program's)")
        if self.spread not in ("data", "model", "wider"):
            raise ConfigError(where, f"spread = {self.spread!r}: expected data, model or wider")

    @property
    def n_actions(self) -> int:
        """0 flat, then long at each size level, then short at each."""
        return 1 + 2 * len(self.size_levels)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["size_levels"] = list(self.size_levels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "settings") -> EnvSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(
                where, f"unknown environment setting {unknown[0]!r} (known: {', '.join(sorted(known))})"
            )
        return cls(**d)


def _default_horizon(phase_rules: np.ndarray) -> int:
    limits = [int(x) for x in phase_rules[:, L.RULE_MAX_DAYS]]
    if all(lim > 0 for lim in limits):
        return sum(limits) + 7 * (len(limits) - 1)
    return 180


@dataclass
class World:
    """The fixed inputs of every attempt (see the module docstring)."""

    settings: EnvSettings
    market: Market
    features: MarketFeatures
    spec: Any  # a SymbolLike (simlab.symbols.SymbolSpec)
    costs: CostSetup
    phase_rules: np.ndarray  # (n_phases, RULE_SIZE)
    phase_names: list[str]
    gov: np.ndarray
    initial_balance: float
    horizon_days: int
    meta: dict[str, Any] = field(default_factory=dict)
    min_start: int = 0  # no attempt starts before this bar (a host's longer warm-up)
    calendar: Any = (
        None  # the simlab.bootstrap.MarketSettings the market was built with (day bootstrap needs it)
    )

    @property
    def warmup_bars(self) -> int:
        """Bars before the first attempt may start: the features' warm-up plus the window (or ``min_start``)."""
        return max(self.needed_warmup, self.min_start)

    @property
    def needed_warmup(self) -> int:
        """The observation's own look-back: the features' warm-up plus the window."""
        return WARMUP + self.settings.window - 1

    @property
    def obs_dim(self) -> int:
        return self.settings.window * len(FEATURE_NAMES) + L.RLO_SIZE

    def starts(self) -> np.ndarray:
        """The eligible first bars of an attempt: the Monte Carlo runner's (after the warm-up, clear of holes)."""
        from simlab.montecarlo import start_days

        return start_days(self.market, self.horizon_days, self.warmup_bars, self.meta.get("data", "data"))[0]

    def cfg(self) -> np.ndarray:
        s = self.settings
        return config_vector(
            initial_balance=self.initial_balance, risk=s.risk, fixed_volume=s.volume, costs=self.costs
        )

    def params(self, autoreset: bool) -> np.ndarray:
        s = self.settings
        p = np.zeros(L.RLP_SIZE)
        p[L.RLP_SL_ATR] = s.sl_atr
        p[L.RLP_TP_ATR] = s.tp_atr
        p[L.RLP_PNL_SCALE] = s.pnl_scale
        p[L.RLP_PASS_BONUS] = s.pass_bonus
        p[L.RLP_BREACH_PENALTY] = s.breach_penalty
        p[L.RLP_WINDOW] = s.window
        p[L.RLP_HORIZON_DAYS] = self.horizon_days
        p[L.RLP_AUTORESET] = 1.0 if autoreset else 0.0
        return p

    @classmethod
    def build(
        cls,
        bars: Bars,
        settings: EnvSettings | None = None,
        *,
        costs: CostSetup | None = None,
        data_name: str = "",
        model_dir: str | None = None,
    ) -> World:
        """A world from bars and settings: the program, governors, symbol and execution model by name."""
        from challenges.governors import load_governors
        from challenges.rules import load_program
        from execution_models.setup import resolve_costs
        from simlab.bootstrap import MarketSettings
        from simlab.symbols import get_symbol

        s = settings or EnvSettings()
        program = load_program(s.program)
        size = program.check_size(s.size)
        gov = load_governors(s.governors)
        spec = get_symbol(s.symbol)
        cost_name = "given"
        if costs is None:
            resolved = resolve_costs(
                spec, s.exec_model, model_dir=model_dir, spread=s.spread, slippage=s.slippage
            )
            costs, cost_name = resolved.setup, resolved.label
        calendar = MarketSettings.of(program, spec, gov)
        market = calendar.build(bars)
        rules = program.rule_matrix()
        horizon = s.horizon_days or _default_horizon(rules)
        return cls(
            settings=s,
            market=market,
            features=market_features(market),
            spec=spec,
            costs=costs,
            phase_rules=np.ascontiguousarray(rules),
            phase_names=[ph.name for ph in program.phases],
            gov=gov.to_vector(),
            initial_balance=size,
            horizon_days=horizon,
            meta={"data": data_name, "exec_model": cost_name, "program": program.name},
            calendar=calendar,
        )

    def describe(self) -> dict[str, Any]:
        """What a trained model stores about its world (with the settings)."""
        return {
            "features": list(FEATURE_NAMES),
            "features_version": FEATURES_VERSION,
            "obs_version": OBS_VERSION,
            "window": self.settings.window,
            "obs_dim": self.obs_dim,
            "n_actions": self.settings.n_actions,
            "phases": list(self.phase_names),
            "horizon_days": self.horizon_days,
            **self.meta,
        }


class BatchCore:
    """N sub-environments on one world, stepped together by one compiled call.

    Sub-environment i's k-th attempt has id ``offsets[i] + k * strides[i]``
    (defaults: ``i`` and ``n_envs``, so the batch plays attempts 0, 1, 2, ...
    as the Monte Carlo runner numbers them); ``fixed_starts[i] >= 0`` starts its
    attempts on that bar instead of a drawn one. With ``autoreset`` a finished
    sub-environment starts its next attempt inside the same step (its last
    observation is kept in ``final_obs``); without it, it waits for ``reset``.
    ``starts``: the bars attempts are drawn from (default ``world.starts()``).
    """

    def __init__(
        self,
        world: World,
        n_envs: int,
        *,
        seed: int = 0,
        autoreset: bool = True,
        trade_capacity: int = 0,
        offsets: np.ndarray | None = None,
        strides: np.ndarray | None = None,
        fixed_starts: np.ndarray | None = None,
        starts: np.ndarray | None = None,
        parallel: bool | None = None,
    ) -> None:
        from rl import batch_nb as B

        if n_envs < 1:
            raise ConfigError("n_envs", f"{n_envs}: expected at least one environment")
        self.world = world
        self.n_envs = int(n_envs)
        m = world.market
        self._clock, self._quotes = m.clock(), m.quotes()
        self._costs = world.costs.tables()
        self._prm = kernel_params(world.spec.to_vector(), world.cfg(), world.phase_rules, world.gov)
        starts_arr = world.starts() if starts is None else np.ascontiguousarray(starts, dtype=np.int64)
        self._env = B.Env(
            np.ascontiguousarray(world.features.values),
            np.ascontiguousarray(world.features.atr, dtype=np.float64),
            np.ascontiguousarray(starts_arr, dtype=np.int64),
            np.asarray(world.settings.size_levels, dtype=np.float64),
            world.params(autoreset),
        )
        self.seed_value = int(seed)
        n = self.n_envs
        n_ph = world.phase_rules.shape[0]
        self.ist = np.zeros((n, L.RLI_SIZE), dtype=np.int64)
        self.ist[:, L.RLI_OFFSET] = np.arange(n) if offsets is None else np.asarray(offsets, np.int64)
        self.ist[:, L.RLI_STRIDE] = n if strides is None else np.asarray(strides, np.int64)
        self.ist[:, L.RLI_FIXED_START] = -1 if fixed_starts is None else np.asarray(fixed_starts, np.int64)
        self.acc = np.zeros((n, L.ACC_SIZE))
        self.pos = np.zeros((n, L.POS_SIZE))
        self.res = np.zeros((n, L.RES_SIZE))
        self.trades = np.zeros((n, int(trade_capacity), L.TR_SIZE))
        self._state = L.State(self.acc, self.pos, self.res, self.trades)
        self.out = np.zeros((n, n_ph, L.RES_SIZE))
        self.last_out = np.zeros((n, n_ph, L.RES_SIZE))
        self.obs = np.zeros((n, world.obs_dim), dtype=np.float32)
        self.final_obs = np.zeros((n, world.obs_dim), dtype=np.float32)
        self.reward = np.zeros(n)
        self._buf = B.Buffers(self.ist, self.out, self.last_out, self.obs, self.final_obs, self.reward)
        self._parallel = (n >= PARALLEL_MIN_ENVS) if parallel is None else bool(parallel)
        self._step_fn = B.step_nb_parallel if self._parallel else B.step_nb_serial
        self._reset_fn = B.reset_nb
        self._actions = np.zeros(n, dtype=np.int64)
        self._n_actions = world.settings.n_actions
        self._done = self.ist[:, L.RLI_DONE]  # a view: it follows the state

    # ------------------------------------------------------------ control
    def seed(self, seed: int) -> None:
        """Key every later draw by ``seed`` and number the attempts from the first again."""
        self.seed_value = int(seed)
        self.ist[:, L.RLI_EPISODE] = 0

    def reset(self, ids: np.ndarray | None = None) -> np.ndarray:
        """Begin the next attempt of the sub-environments ``ids`` (all by default); the observations."""
        idx = np.arange(self.n_envs, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
        self._reset_fn(idx, *self._inputs())
        return self.obs

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Step every sub-environment with its action; ``(obs, reward, done)``, views into the core's buffers.

        ``done[i]``: 0 running, 1 terminated (passed, breached or halted), 2
        truncated (the horizon). A done sub-environment's final observation is
        ``final_obs[i]``, its phase results ``last_out[i]``.
        """
        a = self._actions
        na = self._n_actions
        if self.n_envs == 1:  # the single env: plain Python is cheaper than two numpy reductions
            v = int(actions[0]) if isinstance(actions, np.ndarray | list | tuple) else int(actions)
            if not 0 <= v < na:
                raise ConfigError("action", f"{v}: expected 0..{na - 1}")
            a[0] = v
        else:
            np.copyto(a, actions, casting="unsafe")
            if a.min() < 0 or a.max() >= na:
                raise ConfigError("action", f"{int(a[(a < 0) | (a >= na)][0])}: expected 0..{na - 1}")
        self._step_fn(a, *self._inputs())
        return self.obs, self.reward, self._done

    def _inputs(self) -> tuple[Any, ...]:
        """What ``rl.batch_nb``'s reset and step take after the ids / actions, in their order."""
        return (
            self._clock, self._quotes, self._prm, self._costs, self.seed_value, self._env, self._state, self._buf,
        )  # fmt: skip

    # ------------------------------------------------------------ reading
    def attempt_ids(self) -> np.ndarray:
        return self.ist[:, L.RLI_ATTEMPT].copy()

    def equity(self) -> np.ndarray:
        return self.acc[:, L.ACC_EQUITY].copy()

    def trades_of(self, i: int) -> np.ndarray:
        """Sub-environment i's recorded trades of the current (or just finished) phase."""
        n = int(
            min(
                self.res[i, L.RES_N_TRADES] if self.ist[i, L.RLI_DONE] else self.acc[i, L.ACC_N_TRADES],
                self.trades.shape[1],
            )
        )
        return self.trades[i, :n].copy()

    def info_of(self, i: int) -> dict[str, Any]:
        """A small dict for gymnasium's ``info``: the attempt, the bar, the account."""
        a = self.acc[i]
        return {
            "attempt": int(self.ist[i, L.RLI_ATTEMPT]),
            "bar": int(self.ist[i, L.RLI_T]),
            "phase": int(self.ist[i, L.RLI_PHASE]),
            "balance": float(a[L.ACC_BALANCE]),
            "equity": float(a[L.ACC_EQUITY]),
        }


def last_status(core: BatchCore, i: int) -> str:
    """How sub-environment i's last finished attempt ended, in the Monte Carlo runner's words."""
    from simlab.engine import reason_name

    out = core.last_out[i]
    st = out[:, L.RES_STATUS]
    reached = np.flatnonzero(st >= 0)
    if reached.shape[0] == 0:
        return "not started"
    p = int(reached[-1])
    if st[p] == L.STATUS_PASSED:
        return "passed"
    if st[p] == L.STATUS_RUNNING:
        return "no_pass_within_horizon"
    return reason_name(out[p])
