"""In-process golden records: the kernel's own outputs through the public Python API, as JSON.

A companion of ``tests/golden_outputs.py`` (which records CLI results): ``golden_outputs.py record``
runs this module in a subprocess of the checkout being recorded (``python tests/golden_kernel.py
FOLDER``), so that each recording runs its own code. What the CLI results do not show, recorded here:

* ``kernel_<program>_<gov>_<strategy>_<start>``: ``simlab.engine.run_backtest`` under a program's
  first-phase rule vector and a governor preset (the run's calendar from ``MarketSettings.of``),
  sampled costs: the full trade ledger, the result vector, and the curve's digest;
* ``stepper_*``: the same through ``simlab.engine.Stepper`` (the step form), bar by bar;
* ``tradelist_<mode>_<program>``: ``challenges.trade_list.evaluate_trades`` in every start mode,
  with MAE/MFE columns: every run's result row;
* ``rl_batch_*``: ``rl.core.BatchCore`` stepped with a fixed action sequence: observations, rewards,
  done flags (expected to change where the RL observation changes on purpose; say so when it does).

Floats are written by ``json`` as ``repr`` (exact round trip); arrays too large to keep are written as
a sha256 of their bytes plus their shape.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

PROGRAMS = ("ftmo-2step", "ftmo-1step", "e8-one", "the5ers-high-stakes", "fundednext-stellar-2step")
GOVERNORS = ("none", "default", "conservative")


def _digest(a: np.ndarray) -> dict[str, Any]:
    a = np.ascontiguousarray(a)
    return {"shape": list(a.shape), "dtype": str(a.dtype), "sha256": hashlib.sha256(a.tobytes()).hexdigest()}


def _rows(a: np.ndarray) -> list[list[float]]:
    return [[float(x) for x in row] for row in np.asarray(a, dtype=np.float64)]


def _write(folder: Path, name: str, doc: dict[str, Any]) -> None:
    (folder / f"{name}.json").write_text(json.dumps(doc, sort_keys=True, indent=0))
    print(f"  {name}.json", flush=True)


def kernel_runs(folder: Path) -> int:
    from challenges.governors import load_governors
    from challenges.rules import load_program
    from execution_models.setup import resolve_costs
    from simlab.bootstrap import MarketSettings
    from simlab.bundled import bundled_bars
    from simlab.engine import Stepper, run_backtest
    from simlab.symbols import get_symbol
    from strategies.registry import load_strategy

    bars = bundled_bars("bundled")
    spec = get_symbol("EURUSD")
    costs = resolve_costs(spec, "auto").setup
    n = 0
    intents_of = {s: load_strategy(s).signals(bars) for s in ("ma_cross", "donchian")}
    for prog_name in PROGRAMS:
        program = load_program(prog_name)
        rules = np.ascontiguousarray(program.rule_matrix()[0])
        for gov_name in GOVERNORS:
            gov = load_governors(gov_name)
            market = MarketSettings.of(program, spec, gov).build(bars)
            for strat, intents in intents_of.items():
                for start in (300, 4000, 9000):
                    r = run_backtest(
                        bars, intents, spec, market=market, costs=costs, rules=rules, gov=gov.to_vector(),
                        risk=0.02, seed=11, attempt=start, start=start,
                    )  # fmt: skip
                    _write(
                        folder,
                        f"kernel_{prog_name}_{gov_name}_{strat}_{start}",
                        {
                            "res": [float(x) for x in r.res],
                            "trades": _rows(r.trades_raw),
                            "curve": _digest(r.curve),
                            "curve_last": [float(x) for x in r.curve[-1]] if r.curve.shape[0] else [],
                        },
                    )
                    n += 1
    # the step form, bar by bar, with a fixed volume and a stepped intent of its own
    for prog_name, gov_name in (
        ("ftmo-2step", "default"),
        ("the5ers-high-stakes", "conservative"),
        ("e8-one", "none"),
    ):
        program = load_program(prog_name)
        gov = load_governors(gov_name)
        market = MarketSettings.of(program, spec, gov).build(bars)
        intents = intents_of["donchian"]
        st = Stepper(
            market, spec, costs=costs, rules=np.ascontiguousarray(program.rule_matrix()[0]), gov=gov.to_vector(),
            risk=0.015, seed=5, attempt=3, start=2000,
        )  # fmt: skip
        eq = []
        statuses = []
        t = 2000
        while not st.done:
            statuses.append(
                st.step(
                    int(intents.dir[t]), float(intents.sl[t]), float(intents.tp[t]), float(intents.size[t])
                )
            )
            eq.append((st.balance, st.equity, st.position))
            t += 1
        _write(
            folder,
            f"stepper_{prog_name}_{gov_name}",
            {
                "res": [float(x) for x in st.res],
                "acc": [float(x) for x in st.acc],
                "trades": _rows(st.trades_raw()),
                "path": _digest(np.array(eq)),
                "statuses": _digest(np.array(statuses)),
            },
        )
        n += 1
    return n


def trade_list_runs(folder: Path) -> int:
    from challenges.trade_list import START_MODES, evaluate_trades, trades_from_arrays
    from simlab.bundled import bundled_bars
    from simlab.engine import run_backtest
    from simlab.symbols import get_symbol
    from strategies.registry import load_strategy

    bars = bundled_bars("bundled")
    r = run_backtest(bars, load_strategy("ma_cross").signals(bars), get_symbol("EURUSD"))
    tr = r.trades_raw
    t = bars.time
    pnl = tr[:, 8]
    # deterministic MAE / MFE that exceed the trade's own loss / gain
    mae = np.maximum(-pnl, 0.0) + 0.3 * np.abs(pnl) + 50.0
    mfe = np.maximum(pnl, 0.0) + 0.2 * np.abs(pnl) + 25.0
    trades = trades_from_arrays(
        t[tr[:, 0].astype(np.int64)], t[tr[:, 1].astype(np.int64)], pnl, mae, mfe, source="golden"
    )
    n = 0
    for mode in START_MODES:
        for prog in ("ftmo-2step", "ftmo-1step", "the5ers-high-stakes"):
            res = evaluate_trades(
                trades, prog, 100_000.0, seed=3, n_runs=300, start_mode=mode, block_days=2,
                risk=1.5, post_target_risk_mult=0.5, horizon_days=90,
            )  # fmt: skip
            _write(folder, f"tradelist_{mode}_{prog}", {"runs": _rows(res.runs)})
            n += 1
    return n


def rl_runs(folder: Path) -> int:
    from rl.core import BatchCore, EnvSettings, World
    from simlab.bundled import bundled_bars

    bars = bundled_bars("bundled")
    n = 0
    for prog, gov in (("ftmo-2step", "default"), ("ftmo-1step", "none")):
        world = World.build(bars, EnvSettings(program=prog, governors=gov, size_levels=(0.5, 1.0), risk=0.02))
        core = BatchCore(world, 4, seed=9, trade_capacity=64, parallel=False)
        obs = [core.reset().copy()]
        rew, done = [], []
        rng = np.random.default_rng(1)
        for _ in range(3000):
            o, r, d = core.step(rng.integers(0, world.settings.n_actions, 4))
            obs.append(o.copy())
            rew.append(r.copy())
            done.append(d.copy())
        _write(
            folder,
            f"rl_batch_{prog}_{gov}",
            {
                "obs": _digest(np.array(obs)),
                "reward": _digest(np.array(rew)),
                "done": _digest(np.array(done)),
                "last_out": _rows(core.last_out.reshape(-1, core.last_out.shape[-1])),
                "reward_sum": float(np.sum(rew)),
            },
        )
        n += 1
    return n


def main() -> int:
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    n = kernel_runs(folder) + trade_list_runs(folder) + rl_runs(folder)
    print(f"recorded {n} in-process results in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
