"""``simlab rl``: train a policy on the challenge environment (``train``) and export it to ONNX (``export``).

Needs the ``rl`` extra (gymnasium, stable-baselines3, torch); the exported
policy then runs anywhere simlab does, with onnxruntime alone:
``simlab challenge --strategy onnx-policy --param model=policy.onnx``.
"""

from __future__ import annotations

import argparse
import sys

from simlab_cli.commands import _common as C


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="rl_command", metavar="ACTION")
    t = sub.add_parser(
        "train", help="train a PPO policy with a walk-forward split, then evaluate it as a challenge run"
    )
    t.add_argument(
        "--algo", choices=("ppo",), default="ppo", help="the algorithm (stable-baselines3; default ppo)"
    )
    t.add_argument(
        "--timesteps", type=int, default=100_000, help="environment steps to train for (default 100000)"
    )
    t.add_argument(
        "-o",
        "--out",
        required=True,
        metavar="MODEL.zip",
        help="the model file; logs and exports go beside it",
    )
    C.add_data_arguments(t)
    g = t.add_argument_group("challenge")
    g.add_argument(
        "--program", default="ftmo-2step", help="rule preset name or rule file (default ftmo-2step)"
    )
    g.add_argument("--size", type=float, default=100_000.0, help="account size (default 100000)")
    g.add_argument(
        "--governors", default="none", metavar="NAME|FILE", help="governor preset or TOML file (default none)"
    )
    g.add_argument(
        "--horizon-days",
        type=int,
        default=0,
        help="calendar days per attempt (default: the program's limits, else 180)",
    )
    g.add_argument(
        "--exec-model",
        default="auto",
        metavar="M",
        help="execution model as in `simlab challenge` (default auto)",
    )
    g.add_argument(
        "--spread", choices=("data", "model", "wider"), default="wider", help="ask from (default wider)"
    )
    g.add_argument("--no-slippage", action="store_true", help="do not sample slippage")
    e = t.add_argument_group("environment")
    e.add_argument(
        "--window", type=int, default=16, help="bars of market features per observation (default 16)"
    )
    e.add_argument(
        "--sl-atr", type=float, default=2.0, help="stop distance in ATRs (default 2; 0: none, needs --volume)"
    )
    e.add_argument("--tp-atr", type=float, default=0.0, help="target distance in ATRs (default 0: none)")
    e.add_argument(
        "--risk",
        type=float,
        default=0.01,
        help="fraction of equity risked per trade at the stop (default 0.01)",
    )
    e.add_argument("--volume", type=float, default=0.0, help="fixed lots per trade instead of risk sizing")
    e.add_argument(
        "--size-levels",
        default="1",
        metavar="X,Y",
        help="size multipliers the agent chooses from (default 1)",
    )
    e.add_argument(
        "--pnl-scale",
        type=float,
        default=100.0,
        help="reward per step = equity change / balance * this (default 100)",
    )
    e.add_argument("--pass-bonus", type=float, default=10.0, help="reward for passing a phase (default 10)")
    e.add_argument(
        "--breach-penalty",
        type=float,
        default=10.0,
        help="penalty for a breach or a governor halt (default 10)",
    )
    r = t.add_argument_group("training")
    r.add_argument("--envs", type=int, default=16, help="attempts stepped together (default 16)")
    r.add_argument(
        "--seed", type=int, default=0, help="seed of the attempts, costs and the network (default 0)"
    )
    r.add_argument(
        "--train-frac",
        type=float,
        default=0.7,
        help="walk-forward split: the earlier fraction of days trains (default 0.7)",
    )
    r.add_argument(
        "--n-steps", type=int, default=256, help="PPO steps per environment per update (default 256)"
    )
    r.add_argument("--batch-size", type=int, default=1024, help="PPO minibatch size (default 1024)")
    r.add_argument("--lr", type=float, default=3e-4, help="learning rate (default 3e-4)")
    r.add_argument("--ent-coef", type=float, default=0.01, help="entropy bonus (default 0.01)")
    r.add_argument(
        "--eval-runs",
        type=int,
        default=50,
        help="held-out challenge attempts for the evaluation (default 50)",
    )
    r.add_argument(
        "--baseline", default="ma_cross", help="strategy evaluated beside the policy (default ma_cross)"
    )
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    x = sub.add_parser("export", help="export a trained model to ONNX (+ its description and normalisation)")
    x.add_argument("model", metavar="MODEL.zip", help="a model written by `simlab rl train`")
    x.add_argument(
        "-o", "--out", required=True, metavar="POLICY.onnx", help="the ONNX file (policy.json goes beside it)"
    )
    x.add_argument(
        "--check",
        type=int,
        default=512,
        metavar="N",
        help="observations on which ONNX and torch must agree (default 512)",
    )


def _need_rl() -> None:
    import importlib.util

    from simlab.errors import ConfigError

    missing = [m for m in ("gymnasium", "stable_baselines3", "torch") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(
            "simlab rl", f"needs the rl extra ({', '.join(missing)} missing): pip install 'simlab[rl]'"
        )


def run(args: argparse.Namespace) -> int:
    from simlab.errors import ConfigError

    if args.rl_command is None:
        raise ConfigError("simlab rl", "expected an action: train or export (see simlab rl --help)")
    _need_rl()
    if args.rl_command == "export":
        return _export(args)
    return _train(args)


def _export(args: argparse.Namespace) -> int:
    from rl.export import export_policy
    from simlab.errors import ConfigError

    if args.check < 1:
        raise ConfigError("--check", f"{args.check}: expected at least 1 observation")
    desc = export_policy(args.model, args.out, check_n=args.check)
    chk = desc["export_check"]
    print(f"simlab rl export: wrote {args.out} (opset {desc['onnx']['opset']}) and its description beside it")
    print(f"  ONNX and torch agree on {chk['agree']} of {chk['observations']} observations; "
          f"observation normalisation: {'VecNormalize statistics' if desc['obs_norm'] else 'none'}")  # fmt: skip
    return 0


def _train(args: argparse.Namespace) -> int:
    from rl.core import EnvSettings
    from rl.train import TrainOptions, train
    from simlab.errors import ConfigError

    if args.symbol_file:
        raise ConfigError(
            "--symbol-file", "not supported by `simlab rl train` yet: the environment uses the symbol preset"
        )
    try:
        levels = tuple(float(x) for x in args.size_levels.split(",") if x.strip())
    except ValueError:
        raise ConfigError(
            "--size-levels", f"{args.size_levels!r}: expected numbers separated by commas, e.g. 0.5,1"
        ) from None
    symbol = C.load_symbol(args).name  # --symbol, else the MT5 export's file name, else EURUSD
    settings = EnvSettings(
        program=args.program, size=args.size, symbol=symbol, governors=args.governors,
        exec_model=args.exec_model, spread=args.spread, slippage=not args.no_slippage, window=args.window,
        sl_atr=args.sl_atr, tp_atr=args.tp_atr, risk=args.risk, volume=args.volume, size_levels=levels,
        pnl_scale=args.pnl_scale, pass_bonus=args.pass_bonus, breach_penalty=args.breach_penalty,
        horizon_days=args.horizon_days,
    )  # fmt: skip
    opts = TrainOptions(
        timesteps=args.timesteps, n_envs=args.envs, seed=args.seed, train_frac=args.train_frac,
        n_steps=args.n_steps, batch_size=args.batch_size, learning_rate=args.lr, ent_coef=args.ent_coef,
        eval_runs=args.eval_runs, baseline=args.baseline, progress=not args.no_progress and sys.stderr.isatty(),
    )  # fmt: skip
    opts.validate()
    bars, data_name = C.load_data(args)
    data = {"data": args.data, "data_name": data_name, "format": args.fmt, "tz": args.tz,
            "symbol": symbol, "timeframe": args.timeframe}  # fmt: skip
    rec = train(bars, settings, args.out, opts, data=data, command=["simlab", *sys.argv[1:]])
    tr = rec["training"]
    print(f"simlab rl train: PPO, {tr['timesteps_done']:,} steps on {data_name}; wrote {args.out}")
    print(f"  walk-forward: trained on {tr['split']['train'][0]} .. {tr['split']['train'][1]}, "
          f"evaluated on {tr['split']['eval'][0]} .. {tr['split']['eval'][1]}")  # fmt: skip
    print(f"  training log: {tr['log_csv']}; policy: {args.out[:-4]}.onnx (+ .json)")
    print()
    print(rec["evaluation"]["table"])
    return 0
