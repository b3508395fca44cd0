"""N challenge attempts stepped in one compiled call: the RL environments' engine (numba).

This is the one module of ``rl`` that calls into the simulation kernel
(``simlab.kernel_nb``: ``begin_nb``, ``step_nb``, ``bar_ask_close_nb``,
``finish_nb``), so that a change of the kernel's signatures is adapted here
and nowhere else. Every sub-environment ``i`` is one account on the shared
market arrays, with its own rows of the state arrays (``acc[i]``, ``pos[i]``,
``res[i]``, ``trades[i]``) and of the integer state ``ist[i]``
(``simlab.layout.RLI_*``).

Every observation is taken at a bar's close, after the kernel has run that
bar: sub-environment i's observation at ``t = ist[i, RLI_T]`` holds the market
features of bars t-W+1 .. t and the account as bar t left it — the decision of
t-1 filled at t's open, stops, targets and the governors' floor hit inside t,
the rules judged at t, the books marked at t's close (``RLO_*``). Beginning
an attempt (or a later phase) on bar s runs bar s from a fresh account before
the first observation, as the backtest runs a strategy's first bar.

One step of sub-environment i, on the observation of bar t:

1. if the phase is running and t is not the horizon's last bar, the action
   becomes the decision taken at t's close (``simlab.account_nb.decide_nb``,
   the kernel's own registration of an order): 0 flat, ``1..K`` long at size
   level ``k``, ``K+1..2K`` short; stop / target ``RLP_SL_ATR`` /
   ``RLP_TP_ATR`` times the ATR at t; then ``step_nb(t + 1, DIR_HOLD)`` runs
   bar t+1, where that order fills at the open. ``step_nb(t, intent)`` of a
   backtest does the same two things in the other order within one call
   (run t, then register t's decision); the draws are keyed by the bar, so
   the split changes no number;
2. when a bar ends the phase (passed, breached, halted), or on the step after
   the horizon's last bar was observed, ``finish_nb`` closes the books as
   ``Stepper.step`` does (what is open is closed at that bar's close) and the
   action is not used;
3. reward: the equity change over the step / initial balance *
   ``RLP_PNL_SCALE``, plus ``RLP_PASS_BONUS`` when a phase is passed, minus
   ``RLP_BREACH_PENALTY`` when it ends breached or halted;
4. a passed phase that is not the last starts the next one on the next trading
   day with a fresh account (``simlab.montecarlo_nb.attempt_nb``'s rule); the
   episode ends when the program is passed or a phase fails (terminated) or
   the horizon is reached (truncated);
5. the observation of the bar now run (or, at an episode's end, the final
   observation: the bar that ended it, with its books closed).

So a decision sees the account at the close it is taken at and fills at the
next open: no stale books, no look-ahead.

Attempt ``a`` of a sub-environment starts where the Monte Carlo runner's
attempt ``a`` starts (``uniform_nb(seed, a, START_DRAW)`` over the eligible
days) and draws its costs with the same keys, so N sub-environments playing
the intents of a strategy reproduce ``run_challenge`` attempt for attempt.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import njit, prange

from simlab.account_nb import decide_nb
from simlab.kernel_nb import (
    _borrowed,
    bar_ask_close_nb,
    begin_nb,
    cost_index_nb,
    finish_nb,
    new_state,
    step_nb,
)
from simlab.layout import (
    ACC_BALANCE,
    ACC_DAILY_LIMIT,
    ACC_DAY_COUNTED,
    ACC_DAY_START_EQUITY,
    ACC_DAYS_COUNTED,
    ACC_EQUITY,
    ACC_INITIAL,
    ACC_MAXLOSS_LIMIT,
    ACC_TARGET_LEVEL,
    DIR_FLAT,
    DIR_HOLD,
    DIR_LONG,
    DIR_SHORT,
    POS_DIR,
    RES_END_BAR,
    RES_STATUS,
    RLI_ATTEMPT,
    RLI_DONE,
    RLI_END,
    RLI_EPISODE,
    RLI_FIXED_START,
    RLI_OFFSET,
    RLI_PHASE,
    RLI_START,
    RLI_STRIDE,
    RLI_T,
    RLO_DAILY_ROOM,
    RLO_DAY_PNL,
    RLO_DAYS,
    RLO_FLOATING,
    RLO_MAXLOSS_ROOM,
    RLO_NO_LIMIT,
    RLO_PHASE,
    RLO_POSITION,
    RLO_SIZE,
    RLO_TO_TARGET,
    RLP_AUTORESET,
    RLP_BREACH_PENALTY,
    RLP_HORIZON_DAYS,
    RLP_PASS_BONUS,
    RLP_PNL_SCALE,
    RLP_SL_ATR,
    RLP_TP_ATR,
    RLP_WINDOW,
    RULE_MIN_DAYS,
    STATUS_PASSED,
    STATUS_RUNNING,
    Clock,
    Costs,
    Params,
    Quotes,
    State,
)
from simlab.montecarlo_nb import START_DRAW, next_day_start_nb
from simlab.rng_nb import uniform_nb

OBS_CLIP = 10.0  # every observation value lies in [-OBS_CLIP, OBS_CLIP]


class Env(NamedTuple):
    """The environments' own fixed inputs, besides the kernel's (``simlab.layout``'s groups)."""

    feats: Any  # float32 (n, n_features): the market features of every bar
    atr: Any  # float64 (n,): the ATR stops and targets are measured in
    starts: Any  # int64: the eligible first bars of an attempt
    levels: Any  # float64: the size multiplier of each long / short action
    rlp: Any  # float64 (RLP_SIZE,): the environment's settings


class Buffers(NamedTuple):
    """What a step writes, one row per sub-environment."""

    ist: Any  # int64 (n_envs, RLI_SIZE)
    out: Any  # float64 (n_envs, n_phases, RES_SIZE): the running attempt's phase results
    last_out: Any  # float64 (n_envs, n_phases, RES_SIZE): the last finished attempt's
    obs: Any  # float32 (n_envs, obs_dim)
    final_obs: Any  # float32 (n_envs, obs_dim): a finished attempt's last observation
    reward: Any  # float64 (n_envs,)


__all__ = [
    "OBS_CLIP",
    "Buffers",
    "Env",
    "account_obs_nb",
    "cost_index_nb",
    "new_state",
    "observe_nb",
    "reset_nb",
    "step_nb_parallel",
    "step_nb_serial",
]


@njit(cache=True)
def _clip(x: float) -> float:
    return min(max(x, -OBS_CLIP), OBS_CLIP)


@njit(cache=True)
def account_obs_nb(
    acc: np.ndarray, pos: np.ndarray, rules: np.ndarray, phase: int, n_phases: int, out: np.ndarray
) -> None:
    """The account half of an observation (``RLO_*``) from the kernel's state vectors, into ``out``."""
    init = acc[ACC_INITIAL]
    eq = acc[ACC_EQUITY]
    bal = acc[ACC_BALANCE]
    dl = acc[ACC_DAILY_LIMIT]
    ml = acc[ACC_MAXLOSS_LIMIT]
    tg = acc[ACC_TARGET_LEVEL]
    out[RLO_DAILY_ROOM] = _clip((eq - dl) / init) if dl > -math.inf else RLO_NO_LIMIT
    out[RLO_MAXLOSS_ROOM] = _clip((eq - ml) / init) if ml > -math.inf else RLO_NO_LIMIT
    out[RLO_TO_TARGET] = _clip((tg - bal) / init) if tg < math.inf else 0.0
    days = acc[ACC_DAYS_COUNTED] + (1.0 if acc[ACC_DAY_COUNTED] > 0.0 else 0.0)
    need = rules[RULE_MIN_DAYS]
    out[RLO_DAYS] = min(days / need, 2.0) if need > 0.0 else 1.0
    out[RLO_POSITION] = pos[POS_DIR]  # held at the close (the decision taken there fills at the next open)
    out[RLO_FLOATING] = _clip((eq - bal) / init)
    out[RLO_DAY_PNL] = _clip((eq - acc[ACC_DAY_START_EQUITY]) / init)
    out[RLO_PHASE] = phase / n_phases


@njit(cache=True)
def observe_nb(
    t: int,
    feats: np.ndarray,
    window: int,
    acc: np.ndarray,
    pos: np.ndarray,
    rules: np.ndarray,
    phase: int,
    n_phases: int,
    out: np.ndarray,
) -> None:
    """Observation of bar t: market features of bars t-window+1 .. t (oldest first), then the account."""
    nf = feats.shape[1]
    k = window * nf
    # one flat copy of the window's rows (C order: oldest bar first), which LLVM vectorises
    out[:k] = feats.reshape(feats.shape[0] * nf)[(t - window + 1) * nf : (t + 1) * nf]
    account_obs_nb(acc, pos, rules, phase, n_phases, out[k : k + RLO_SIZE])


@njit(cache=True, inline="always")
def _state_of(state: State, i: int) -> State:
    """Sub-environment i's rows of the batched state."""
    return State(state.acc[i], state.pos[i], state.res[i], state.trades[i])


@njit(cache=True)
def _run_bar_nb(
    t: int,
    clock: Clock,
    quotes: Quotes,
    prm: Params,
    costs: Costs,
    seed: int,
    attempt: int,
    sti: State,
    end: int,
) -> int:
    """Run bar t with no decision at its close (it is taken at the next step); the phase status.

    The one call site of the inlined ``step_nb``: the step and a phase's first bar share it.
    """
    nan = math.nan
    return step_nb(t, clock, quotes, DIR_HOLD, nan, nan, nan, prm, costs, seed, attempt, sti, t == end - 1)


@njit(cache=True)
def _decide_nb(
    t: int,
    action: int,
    clock: Clock,
    quotes: Quotes,
    prm: Params,
    costs: Costs,
    seed: int,
    attempt: int,
    env: Env,
    sti: State,
) -> None:
    """Register the action as the decision taken at bar t's close, for t+1's open (``step_nb``'s last part)."""
    rlp = env.rlp
    levels = env.levels
    n_levels = levels.shape[0]
    i_dir = DIR_FLAT
    i_size = math.nan
    if action >= 1 and action <= n_levels:
        i_dir = DIR_LONG
        i_size = levels[action - 1]
    elif action > n_levels:
        i_dir = DIR_SHORT
        i_size = levels[action - 1 - n_levels]
    i_sl = math.nan
    i_tp = math.nan
    ac = math.nan
    pos = sti.pos
    if i_dir != DIR_FLAT:
        if rlp[RLP_SL_ATR] > 0.0:
            i_sl = rlp[RLP_SL_ATR] * env.atr[t]
        if rlp[RLP_TP_ATR] > 0.0:
            i_tp = rlp[RLP_TP_ATR] * env.atr[t]
        if pos[POS_DIR] != i_dir:  # an entry is sized at the ask close the bar was priced with
            ac = bar_ask_close_nb(t, clock, quotes, prm.cfg, costs, seed, attempt)
    decide_nb(
        sti.acc, pos, sti.res, prm.rules, prm.gov, prm.sym, prm.cfg, int(clock.flags[t + 1]), quotes.vol_ratio,
        t, i_dir, i_sl, i_tp, i_size, quotes.bid[t, 3], ac,
    )  # fmt: skip


@njit(cache=True)
def _begin_phase_nb(
    i: int,
    p: int,
    s: int,
    clock: Clock,
    quotes: Quotes,
    prm: Params,
    costs: Costs,
    seed: int,
    state: State,
    buf: Buffers,
) -> None:
    """Phase p of sub-environment i's attempt begins on bar s with a fresh account; bar s is run.

    Should bar s end the phase (a kill switch on a flat account, a horizon of one bar), the next step
    reports it.
    """
    ist = buf.ist
    ist[i, RLI_PHASE] = p
    ist[i, RLI_T] = s
    sti = _state_of(state, i)
    phase_prm = Params(prm.sym, prm.cfg, prm.rules[p], prm.gov)
    begin_nb(sti, phase_prm, clock.day[s])
    _run_bar_nb(s, clock, quotes, phase_prm, costs, seed, ist[i, RLI_ATTEMPT], sti, ist[i, RLI_END])


@njit(cache=True)
def _observe_now_nb(i: int, prm: Params, env: Env, state: State, buf: Buffers, out: np.ndarray) -> None:
    """Sub-environment i's observation of its current bar into ``out``."""
    ist = buf.ist
    p = ist[i, RLI_PHASE]
    observe_nb(
        ist[i, RLI_T], env.feats, int(env.rlp[RLP_WINDOW]), state.acc[i], state.pos[i], prm.rules[p], p,
        prm.rules.shape[0], out,
    )  # fmt: skip


@njit(cache=True)
def _begin_attempt_nb(
    i: int,
    clock: Clock,
    quotes: Quotes,
    prm: Params,
    costs: Costs,
    seed: int,
    env: Env,
    state: State,
    buf: Buffers,
) -> None:
    """Start sub-environment i's next attempt: its id, start bar, horizon, a fresh account run through the
    start bar, its observation."""
    ist, rlp, day = buf.ist, env.rlp, clock.day
    a = ist[i, RLI_OFFSET] + ist[i, RLI_EPISODE] * ist[i, RLI_STRIDE]
    s = ist[i, RLI_FIXED_START]
    if s < 0:  # the Monte Carlo runner's draw (simlab.montecarlo_nb.attempt_nb)
        k = env.starts.shape[0]
        j = int(uniform_nb(seed, a, START_DRAW) * k)
        if j >= k:
            j = k - 1
        s = env.starts[j]
    ist[i, RLI_ATTEMPT] = a
    ist[i, RLI_START] = s
    ist[i, RLI_END] = np.searchsorted(day, day[s] + int(rlp[RLP_HORIZON_DAYS]))
    buf.out[i, :, :] = 0.0
    buf.out[i, :, RES_STATUS] = -1.0
    _begin_phase_nb(i, 0, s, clock, quotes, prm, costs, seed, state, buf)
    _observe_now_nb(i, prm, env, state, buf, buf.obs[i])


@njit(cache=True)
def reset_nb(
    ids: np.ndarray,
    clock: Clock,
    quotes: Quotes,
    prm: Params,
    costs: Costs,
    seed: int,
    env: Env,
    state: State,
    buf: Buffers,
) -> None:
    """Begin the next attempt of each sub-environment in ``ids`` (``RLI_EPISODE`` picks its id)."""
    for i in ids:
        buf.ist[i, RLI_DONE] = 0
        _begin_attempt_nb(i, clock, quotes, prm, costs, seed, env, state, buf)


@njit(cache=True)
def _step_one_nb(
    i: int,
    action: int,
    clock: Clock,
    quotes: Quotes,
    prm: Params,
    costs: Costs,
    seed: int,
    env: Env,
    state: State,
    buf: Buffers,
) -> None:
    """One step of sub-environment i (see the module docstring)."""
    ist, rlp, day = buf.ist, env.rlp, clock.day
    reward = buf.reward
    autoreset = rlp[RLP_AUTORESET] > 0.0
    if ist[i, RLI_DONE] != 0 and not autoreset:  # finished and waiting for a reset: nothing moves
        reward[i] = 0.0
        return
    ist[i, RLI_DONE] = 0
    t = ist[i, RLI_T]
    end = ist[i, RLI_END]
    p = ist[i, RLI_PHASE]
    n_phases = prm.rules.shape[0]
    phase_prm = Params(prm.sym, prm.cfg, prm.rules[p], prm.gov)
    attempt = ist[i, RLI_ATTEMPT]
    sti = _state_of(state, i)
    a_acc = sti.acc
    a_res = sti.res
    eq0 = a_acc[ACC_EQUITY]
    status = int(a_res[RES_STATUS])
    if status == STATUS_RUNNING and t < end - 1:
        # the decision at t's close, then bar t+1: its open fills it
        _decide_nb(t, action, clock, quotes, phase_prm, costs, seed, attempt, env, sti)
        t += 1
        ist[i, RLI_T] = t
        status = _run_bar_nb(t, clock, quotes, phase_prm, costs, seed, attempt, sti, end)
        if status == STATUS_RUNNING:  # on the horizon's last bar the next step closes the books
            reward[i] = (a_acc[ACC_EQUITY] - eq0) / a_acc[ACC_INITIAL] * rlp[RLP_PNL_SCALE]
            _observe_now_nb(i, prm, env, state, buf, buf.obs[i])
            return
    # the phase ended on bar t (or t is the horizon's last bar): the books are closed as Stepper.step does
    ask_close = bar_ask_close_nb(t, clock, quotes, prm.cfg, costs, seed, attempt)
    finish_nb(t, clock, quotes, phase_prm, sti, True, ask_close)
    r = (a_acc[ACC_EQUITY] - eq0) / a_acc[ACC_INITIAL] * rlp[RLP_PNL_SCALE]
    buf.out[i, p, :] = a_res[:]
    done = 0
    if status == STATUS_PASSED:
        r += rlp[RLP_PASS_BONUS]
        if p + 1 < n_phases:
            s = next_day_start_nb(day, int(a_res[RES_END_BAR]))
            if s < end:  # the next phase, on the next trading day, with a fresh account
                _begin_phase_nb(i, p + 1, s, clock, quotes, prm, costs, seed, state, buf)
            else:
                done = 2  # no room left in the horizon for the next phase
        else:
            done = 1
    elif status == STATUS_RUNNING:
        done = 2  # the horizon ended the attempt
    else:
        r -= rlp[RLP_BREACH_PENALTY]
        done = 1
    reward[i] = r
    if done == 0:
        _observe_now_nb(i, prm, env, state, buf, buf.obs[i])
        return
    _observe_now_nb(i, prm, env, state, buf, buf.final_obs[i])
    buf.last_out[i, :, :] = buf.out[i, :, :]
    ist[i, RLI_EPISODE] += 1
    if autoreset:
        _begin_attempt_nb(i, clock, quotes, prm, costs, seed, env, state, buf)
    else:
        buf.obs[i, :] = buf.final_obs[i, :]
    ist[i, RLI_DONE] = done


@njit(cache=True)
def _borrowed_all_nb(
    clock: Clock, quotes: Quotes, prm: Params, costs: Costs, env: Env, state: State, buf: Buffers
) -> tuple[Clock, Quotes, Params, Costs, Env, State, Buffers]:
    """Every input with borrowed views (``simlab.kernel_nb._borrowed``)."""
    b = _borrowed
    clock = Clock(b(clock.session), b(clock.day), b(clock.flags))  # type: ignore[call-arg]  # numba intrinsic
    quotes = Quotes(b(quotes.bid), b(quotes.ask), b(quotes.swap_nights), b(quotes.vol_ratio))  # type: ignore[call-arg]  # numba intrinsic
    prm = Params(b(prm.sym), b(prm.cfg), b(prm.rules), b(prm.gov))  # type: ignore[call-arg]  # numba intrinsic
    costs = Costs(b(costs.q), b(costs.probs), b(costs.guide), b(costs.lut))  # type: ignore[call-arg]  # numba intrinsic
    state = State(b(state.acc), b(state.pos), b(state.res), b(state.trades))  # type: ignore[call-arg]  # numba intrinsic
    env = Env(b(env.feats), b(env.atr), b(env.starts), b(env.levels), b(env.rlp))  # type: ignore[call-arg]  # numba intrinsic
    buf = Buffers(b(buf.ist), b(buf.out), b(buf.last_out), b(buf.obs), b(buf.final_obs), b(buf.reward))  # type: ignore[call-arg]  # numba intrinsic
    return clock, quotes, prm, costs, env, state, buf


@njit(cache=True)
def step_nb_serial(
    actions: np.ndarray,
    clock: Clock,
    quotes: Quotes,
    prm: Params,
    costs: Costs,
    seed: int,
    env: Env,
    state: State,
    buf: Buffers,
) -> None:
    """Step every sub-environment once, one after the other (small batches, one env).

    ``prm.rules``: the program's rule matrix; ``state``: the batched state, one row per sub-environment.
    """
    # borrowed views: no reference counting of the arrays passed and viewed on every step (see
    # simlab.kernel_nb._borrowed); in the threaded version the threads would contend for the counts
    clock, quotes, prm, costs, env, state, buf = _borrowed_all_nb(clock, quotes, prm, costs, env, state, buf)
    actions = _borrowed(actions)  # type: ignore[call-arg]  # numba intrinsic
    for i in range(actions.shape[0]):
        _step_one_nb(i, int(actions[i]), clock, quotes, prm, costs, seed, env, state, buf)


@njit(cache=True)
def step_nb_parallel(
    actions: np.ndarray,
    clock: Clock,
    quotes: Quotes,
    prm: Params,
    costs: Costs,
    seed: int,
    env: Env,
    state: State,
    buf: Buffers,
) -> None:
    """``step_nb_serial`` over numba's threads: sub-environments are independent, results identical."""
    clock, quotes, prm, costs, env, state, buf = _borrowed_all_nb(clock, quotes, prm, costs, env, state, buf)
    _step_parallel_nb(_borrowed(actions), clock, quotes, prm, costs, seed, env, state, buf)  # type: ignore[call-arg]  # numba intrinsic


@njit(cache=True, parallel=True)
def _step_parallel_nb(
    actions: np.ndarray,
    clock: Clock,
    quotes: Quotes,
    prm: Params,
    costs: Costs,
    seed: int,
    env: Env,
    state: State,
    buf: Buffers,
) -> None:
    """``step_nb_parallel``'s threads over borrowed inputs."""
    # the inputs arrive borrowed (step_nb_parallel): the parallel compiler rebuilds a NamedTuple in its
    # threads only from an argument or a direct call of its class, not from a helper's returned tuple
    for i in prange(actions.shape[0]):
        _step_one_nb(i, int(actions[i]), clock, quotes, prm, costs, seed, env, state, buf)
