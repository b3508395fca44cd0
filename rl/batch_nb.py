"""N challenge attempts stepped in one compiled call: the RL environments' engine (numba).

This is the one module of ``rl`` that calls into the simulation kernel
(``simlab.kernel_nb``: ``begin_nb``, ``step_nb``, ``bar_ask_close_nb``,
``finish_nb``), so that a change of the kernel's signatures is adapted here
and nowhere else. Every sub-environment ``i`` is one account on the shared
market arrays, with its own rows of the state arrays (``acc[i]``, ``pos[i]``,
``res[i]``, ``trades[i]``) and of the integer state ``ist[i]``
(``simlab.layout.RLI_*``).

One step of sub-environment i, on bar ``t = ist[i, RLI_T]``:

1. the action becomes bar t's intent: 0 flat, ``1..K`` long at size level
   ``k``, ``K+1..2K`` short; stop / target ``RLP_SL_ATR`` / ``RLP_TP_ATR``
   times the ATR at t (the decision is made at t's close);
2. ``step_nb(t, intent)`` runs bar t — the decision of bar t-1 fills at its
   open, stops and rules are judged inside it — and registers the new decision
   for t+1's open, exactly as ``simulate_nb`` does inside a backtest; on the
   attempt's last bar, or when the phase ends, ``finish_nb`` closes the books
   as ``Stepper.step`` does;
3. reward: the equity change over the bar / initial balance * ``RLP_PNL_SCALE``,
   plus ``RLP_PASS_BONUS`` when a phase is passed, minus
   ``RLP_BREACH_PENALTY`` when it ends breached or halted;
4. a passed phase that is not the last starts the next one on the next trading
   day with a fresh account (``simlab.montecarlo_nb.attempt_nb``'s rule); the
   episode ends when the program is passed or a phase fails (terminated) or
   the horizon is reached (truncated);
5. the observation of bar t+1: the market features of bars t-W+2 .. t+1 and
   the account as it stands before bar t+1 runs (``RLO_*``).

The account in an observation is therefore the state at the previous close
with the order pending for the next open (``RLO_POSITION``): ``step_nb`` runs
a bar and registers the decision in one call, so a decision cannot see the
account after the bar it is made on. It is the information the ``StepStrategy``
protocol gives a strategy too.

Attempt ``a`` of a sub-environment starts where the Monte Carlo runner's
attempt ``a`` starts (``uniform_nb(seed, a, START_DRAW)`` over the eligible
days) and draws its costs with the same keys, so N sub-environments playing
the intents of a strategy reproduce ``run_challenge`` attempt for attempt.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

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
    DIR_LONG,
    DIR_SHORT,
    POS_DIR,
    POS_PENDING_DIR,
    POS_PENDING_FLATTEN,
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
)
from simlab.montecarlo_nb import START_DRAW, next_day_start_nb
from simlab.rng_nb import uniform_nb

OBS_CLIP = 10.0  # every observation value lies in [-OBS_CLIP, OBS_CLIP]

__all__ = [
    "OBS_CLIP",
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
    side = pos[POS_DIR]
    pend = int(pos[POS_PENDING_DIR])
    if pend == DIR_LONG or pend == DIR_SHORT:
        side = float(pend)
    elif pend == DIR_FLAT or pos[POS_PENDING_FLATTEN] > 0.0:
        side = 0.0
    out[RLO_POSITION] = side
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


@njit(cache=True)
def _begin_attempt_nb(
    i: int,
    day: np.ndarray,
    feats: np.ndarray,
    cfg: np.ndarray,
    phase_rules: np.ndarray,
    seed: int,
    starts: np.ndarray,
    prm: np.ndarray,
    ist: np.ndarray,
    acc: np.ndarray,
    pos: np.ndarray,
    res: np.ndarray,
    out: np.ndarray,
    obs: np.ndarray,
) -> None:
    """Start sub-environment i's next attempt: its id, start bar, horizon, a fresh account, its observation."""
    a = ist[i, RLI_OFFSET] + ist[i, RLI_EPISODE] * ist[i, RLI_STRIDE]
    s = ist[i, RLI_FIXED_START]
    if s < 0:  # the Monte Carlo runner's draw (simlab.montecarlo_nb.attempt_nb)
        k = starts.shape[0]
        j = int(uniform_nb(seed, a, START_DRAW) * k)
        if j >= k:
            j = k - 1
        s = starts[j]
    ist[i, RLI_ATTEMPT] = a
    ist[i, RLI_START] = s
    ist[i, RLI_T] = s
    ist[i, RLI_END] = np.searchsorted(day, day[s] + int(prm[RLP_HORIZON_DAYS]))
    ist[i, RLI_PHASE] = 0
    begin_nb(acc[i], pos[i], res[i], cfg, phase_rules[0], day[s])
    out[i, :, :] = 0.0
    out[i, :, RES_STATUS] = -1.0
    observe_nb(
        s, feats, int(prm[RLP_WINDOW]), acc[i], pos[i], phase_rules[0], 0, phase_rules.shape[0], obs[i]
    )


@njit(cache=True)
def reset_nb(
    ids: np.ndarray,
    day: np.ndarray,
    feats: np.ndarray,
    cfg: np.ndarray,
    phase_rules: np.ndarray,
    seed: int,
    starts: np.ndarray,
    prm: np.ndarray,
    ist: np.ndarray,
    acc: np.ndarray,
    pos: np.ndarray,
    res: np.ndarray,
    out: np.ndarray,
    obs: np.ndarray,
) -> None:
    """Begin the next attempt of each sub-environment in ``ids`` (``RLI_EPISODE`` picks its id)."""
    for i in ids:
        ist[i, RLI_DONE] = 0
        _begin_attempt_nb(i, day, feats, cfg, phase_rules, seed, starts, prm, ist, acc, pos, res, out, obs)


@njit(cache=True)
def _step_one_nb(
    i: int,
    action: int,
    bid: np.ndarray,
    ask: np.ndarray,
    session: np.ndarray,
    day: np.ndarray,
    swap_nights: np.ndarray,
    flags: np.ndarray,
    vol_ratio: np.ndarray,
    feats: np.ndarray,
    atr: np.ndarray,
    sym: np.ndarray,
    cfg: np.ndarray,
    phase_rules: np.ndarray,
    gov: np.ndarray,
    cost_q: np.ndarray,
    cost_probs: np.ndarray,
    cost_guide: np.ndarray,
    spread_lut: np.ndarray,
    seed: int,
    starts: np.ndarray,
    levels: np.ndarray,
    prm: np.ndarray,
    ist: np.ndarray,
    acc: np.ndarray,
    pos: np.ndarray,
    res: np.ndarray,
    trades: np.ndarray,
    out: np.ndarray,
    last_out: np.ndarray,
    obs: np.ndarray,
    final_obs: np.ndarray,
    reward: np.ndarray,
) -> None:
    """One step of sub-environment i (see the module docstring)."""
    autoreset = prm[RLP_AUTORESET] > 0.0
    if ist[i, RLI_DONE] != 0 and not autoreset:  # finished and waiting for a reset: nothing moves
        reward[i] = 0.0
        return
    ist[i, RLI_DONE] = 0
    t = ist[i, RLI_T]
    end = ist[i, RLI_END]
    p = ist[i, RLI_PHASE]
    n_phases = phase_rules.shape[0]
    rules = phase_rules[p]
    attempt = ist[i, RLI_ATTEMPT]
    # the action: bar t's intent
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
    if i_dir != DIR_FLAT:
        if prm[RLP_SL_ATR] > 0.0:
            i_sl = prm[RLP_SL_ATR] * atr[t]
        if prm[RLP_TP_ATR] > 0.0:
            i_tp = prm[RLP_TP_ATR] * atr[t]
    a_acc = acc[i]
    a_pos = pos[i]
    a_res = res[i]
    a_trades = trades[i]
    eq0 = a_acc[ACC_EQUITY]
    is_last = t == end - 1
    status = step_nb(
        t, bid, ask, session, day, swap_nights, flags, vol_ratio, i_dir, i_sl, i_tp, i_size,
        sym, cfg, rules, gov, cost_q, cost_probs, cost_guide, spread_lut, seed, attempt,
        a_acc, a_pos, a_res, a_trades, is_last,
    )  # fmt: skip
    ended = status != STATUS_RUNNING or is_last
    if ended:  # as Stepper.step: the books are closed at this bar (what is open is closed at its close)
        ask_close = bar_ask_close_nb(
            t, bid, ask, session, cfg, cost_q, cost_probs, cost_guide, spread_lut, seed, attempt
        )
        finish_nb(t, bid, ask, session, day, sym, gov, a_acc, a_pos, a_res, a_trades, True, ask_close)
    r = (a_acc[ACC_EQUITY] - eq0) / a_acc[ACC_INITIAL] * prm[RLP_PNL_SCALE]
    ist[i, RLI_T] = t + 1
    done = 0
    if ended:
        out[i, p, :] = a_res[:]
        if status == STATUS_PASSED:
            r += prm[RLP_PASS_BONUS]
            if p + 1 < n_phases:
                s = next_day_start_nb(day, int(a_res[RES_END_BAR]))
                if s < end:  # the next phase, on the next trading day, with a fresh account
                    ist[i, RLI_PHASE] = p + 1
                    ist[i, RLI_T] = s
                    begin_nb(a_acc, a_pos, a_res, cfg, phase_rules[p + 1], day[s])
                else:
                    done = 2  # no room left in the horizon for the next phase
            else:
                done = 1
        elif status == STATUS_RUNNING:
            done = 2  # the horizon ended the attempt
        else:
            r -= prm[RLP_BREACH_PENALTY]
            done = 1
    reward[i] = r
    window = int(prm[RLP_WINDOW])
    if done != 0:
        tf = min(ist[i, RLI_T], day.shape[0] - 1)
        p_now = ist[i, RLI_PHASE]
        observe_nb(tf, feats, window, a_acc, a_pos, phase_rules[p_now], p_now, n_phases, final_obs[i])
        last_out[i, :, :] = out[i, :, :]
        ist[i, RLI_EPISODE] += 1
        if autoreset:
            _begin_attempt_nb(
                i, day, feats, cfg, phase_rules, seed, starts, prm, ist, acc, pos, res, out, obs
            )
        else:
            obs[i, :] = final_obs[i, :]
        ist[i, RLI_DONE] = done
        return
    p_now = ist[i, RLI_PHASE]
    observe_nb(ist[i, RLI_T], feats, window, a_acc, a_pos, phase_rules[p_now], p_now, n_phases, obs[i])


@njit(cache=True)
def step_nb_serial(
    actions: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    session: np.ndarray,
    day: np.ndarray,
    swap_nights: np.ndarray,
    flags: np.ndarray,
    vol_ratio: np.ndarray,
    feats: np.ndarray,
    atr: np.ndarray,
    sym: np.ndarray,
    cfg: np.ndarray,
    phase_rules: np.ndarray,
    gov: np.ndarray,
    cost_q: np.ndarray,
    cost_probs: np.ndarray,
    cost_guide: np.ndarray,
    spread_lut: np.ndarray,
    seed: int,
    starts: np.ndarray,
    levels: np.ndarray,
    prm: np.ndarray,
    ist: np.ndarray,
    acc: np.ndarray,
    pos: np.ndarray,
    res: np.ndarray,
    trades: np.ndarray,
    out: np.ndarray,
    last_out: np.ndarray,
    obs: np.ndarray,
    final_obs: np.ndarray,
    reward: np.ndarray,
) -> None:
    """Step every sub-environment once, one after the other (small batches, one env)."""
    # borrowed views: no reference counting of the arrays passed and viewed on every step (see
    # simlab.kernel_nb._borrowed); in the threaded version the threads would contend for the counts
    bid, ask, session, day = _borrowed(bid), _borrowed(ask), _borrowed(session), _borrowed(day)  # type: ignore[call-arg]  # numba intrinsic
    swap_nights, flags, vol_ratio = _borrowed(swap_nights), _borrowed(flags), _borrowed(vol_ratio)  # type: ignore[call-arg]  # numba intrinsic
    feats, atr, sym, cfg = _borrowed(feats), _borrowed(atr), _borrowed(sym), _borrowed(cfg)  # type: ignore[call-arg]  # numba intrinsic
    phase_rules, gov, cost_q, cost_probs = (
        _borrowed(phase_rules),
        _borrowed(gov),
        _borrowed(cost_q),
        _borrowed(cost_probs),
    )  # type: ignore[call-arg]  # numba intrinsic
    cost_guide, spread_lut, starts, levels = (
        _borrowed(cost_guide),
        _borrowed(spread_lut),
        _borrowed(starts),
        _borrowed(levels),
    )  # type: ignore[call-arg]  # numba intrinsic
    prm, ist, acc, pos, res = _borrowed(prm), _borrowed(ist), _borrowed(acc), _borrowed(pos), _borrowed(res)  # type: ignore[call-arg]  # numba intrinsic
    trades, out, last_out = _borrowed(trades), _borrowed(out), _borrowed(last_out)  # type: ignore[call-arg]  # numba intrinsic
    obs, final_obs, reward, actions = (
        _borrowed(obs),
        _borrowed(final_obs),
        _borrowed(reward),
        _borrowed(actions),
    )  # type: ignore[call-arg]  # numba intrinsic
    for i in range(actions.shape[0]):
        _step_one_nb(
            i, int(actions[i]), bid, ask, session, day, swap_nights, flags, vol_ratio, feats, atr, sym, cfg,
            phase_rules, gov, cost_q, cost_probs, cost_guide, spread_lut, seed, starts, levels, prm, ist,
            acc, pos, res, trades, out, last_out, obs, final_obs, reward,
        )  # fmt: skip


@njit(cache=True, parallel=True)
def step_nb_parallel(
    actions: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    session: np.ndarray,
    day: np.ndarray,
    swap_nights: np.ndarray,
    flags: np.ndarray,
    vol_ratio: np.ndarray,
    feats: np.ndarray,
    atr: np.ndarray,
    sym: np.ndarray,
    cfg: np.ndarray,
    phase_rules: np.ndarray,
    gov: np.ndarray,
    cost_q: np.ndarray,
    cost_probs: np.ndarray,
    cost_guide: np.ndarray,
    spread_lut: np.ndarray,
    seed: int,
    starts: np.ndarray,
    levels: np.ndarray,
    prm: np.ndarray,
    ist: np.ndarray,
    acc: np.ndarray,
    pos: np.ndarray,
    res: np.ndarray,
    trades: np.ndarray,
    out: np.ndarray,
    last_out: np.ndarray,
    obs: np.ndarray,
    final_obs: np.ndarray,
    reward: np.ndarray,
) -> None:
    """``step_nb_serial`` over numba's threads: sub-environments are independent, results identical."""
    bid, ask, session, day = _borrowed(bid), _borrowed(ask), _borrowed(session), _borrowed(day)  # type: ignore[call-arg]  # numba intrinsic
    swap_nights, flags, vol_ratio = _borrowed(swap_nights), _borrowed(flags), _borrowed(vol_ratio)  # type: ignore[call-arg]  # numba intrinsic
    feats, atr, sym, cfg = _borrowed(feats), _borrowed(atr), _borrowed(sym), _borrowed(cfg)  # type: ignore[call-arg]  # numba intrinsic
    phase_rules, gov, cost_q, cost_probs = (
        _borrowed(phase_rules),
        _borrowed(gov),
        _borrowed(cost_q),
        _borrowed(cost_probs),
    )  # type: ignore[call-arg]  # numba intrinsic
    cost_guide, spread_lut, starts, levels = (
        _borrowed(cost_guide),
        _borrowed(spread_lut),
        _borrowed(starts),
        _borrowed(levels),
    )  # type: ignore[call-arg]  # numba intrinsic
    prm, ist, acc, pos, res = _borrowed(prm), _borrowed(ist), _borrowed(acc), _borrowed(pos), _borrowed(res)  # type: ignore[call-arg]  # numba intrinsic
    trades, out, last_out = _borrowed(trades), _borrowed(out), _borrowed(last_out)  # type: ignore[call-arg]  # numba intrinsic
    obs, final_obs, reward, actions = (
        _borrowed(obs),
        _borrowed(final_obs),
        _borrowed(reward),
        _borrowed(actions),
    )  # type: ignore[call-arg]  # numba intrinsic
    for i in prange(actions.shape[0]):
        _step_one_nb(
            i, int(actions[i]), bid, ask, session, day, swap_nights, flags, vol_ratio, feats, atr, sym, cfg,
            phase_rules, gov, cost_q, cost_probs, cost_guide, spread_lut, seed, starts, levels, prm, ist,
            acc, pos, res, trades, out, last_out, obs, final_obs, reward,
        )  # fmt: skip
