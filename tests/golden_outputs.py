"""Record the JSON results of a fixed set of CLI runs, and compare two recordings.

A refactor of the kernel or the runner must not move a single result. Record before, record after,
compare::

    python tests/golden_outputs.py record /tmp/before     # on the old code
    python tests/golden_outputs.py record /tmp/after      # on the new code
    python tests/golden_outputs.py compare /tmp/before /tmp/after

The set: ``simlab challenge --json`` for every shipped program x governor preset (none, default,
conservative), the other shipped strategies, a day-bootstrap run, three trade-list runs (one with
MAE/MFE columns) and real data when ``../shared/data`` is there; ``simlab backtest --json`` for every
shipped strategy, with and without sampled costs; a matrix of ``backtest_mx_*`` runs with their full
ledgers and per-bar curves (strategies x symbols x cost modes x sizing modes x seeds: the other symbols
are the bundled EURUSD bars re-scaled into USDJPY, XAUUSD and GER40 price ranges, written into the
folder, so that every profit mode is covered); and the in-process records of
``tests/golden_kernel.py`` (kernel ledgers under rules and governors, the step form, trade-list start
modes, the RL batch). ``compare`` ignores only the members named in ``--ignore`` (fields that the
newer code adds, such as ``refused_orders``), and says which files differ and where.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SIMLAB_SHARED_DATA") or ROOT.parent / "shared" / "data")
PROGRAMS = ("ftmo-2step", "ftmo-1step", "e8-one", "the5ers-high-stakes", "fundednext-stellar-2step")
GOVERNORS = ("none", "default", "conservative")
STRATEGIES = ("ma_cross", "rsi_reversion", "london_breakout", "donchian")
# the bundled EURUSD bars re-scaled into another symbol's price range: (file, symbol, factor, digits)
SCALED = (
    ("usdjpy.csv", "USDJPY", 100.0, 3),
    ("xauusd.csv", "XAUUSD", 1500.0, 2),
    ("ger40.csv", "GER40", 12000.0, 1),
)
COSTS = {
    "none": ["--exec-model", "none"],
    "wider": [],
    "model": ["--spread", "model"],
    "data": ["--spread", "data"],
}
SIZING = {"risk": ["--risk", "0.01"], "vol": ["--volume", "0.3"]}


def runs() -> dict[str, list[str]]:
    """name -> simlab arguments (without --json)."""
    out: dict[str, list[str]] = {}
    for prog in PROGRAMS:
        for gov in GOVERNORS:
            out[f"challenge_{prog}_{gov}"] = [
                "challenge",
                "--runs",
                "60",
                "--program",
                prog,
                "--governors",
                gov,
            ]
    for strat in STRATEGIES[1:]:
        out[f"challenge_{strat}"] = ["challenge", "--runs", "40", "--strategy", strat]
    out["challenge_bootstrap5"] = ["challenge", "--runs", "12", "--bootstrap-days", "5"]
    out["challenge_m1"] = ["challenge", "--runs", "30", "--data", "bundled-m1", "--horizon-days", "30"]
    out["challenge_nocost"] = ["challenge", "--runs", "40", "--exec-model", "none", "--risk", "0.02"]
    for strat in STRATEGIES:
        out[f"backtest_{strat}"] = ["backtest", "--strategy", strat]
    out["backtest_nocost"] = ["backtest", "--exec-model", "none", "--curve", "bars"]
    out["backtest_m1"] = ["backtest", "--data", "bundled-m1", "--strategy", "donchian"]
    if SHARED.is_dir():
        real = str(SHARED / "eurusd_h1_bidask_2007_2018.csv.gz")
        out["challenge_real_h1"] = ["challenge", "--runs", "60", "--data", real]
        out["backtest_real_h1"] = ["backtest", "--data", real, "--strategy", "donchian"]
    return out


def matrix() -> dict[str, list[str]]:
    """name -> simlab arguments of the backtest matrix (run from the recording folder: the scaled data
    files are named relative to it, so that the recorded command lines match)."""
    out: dict[str, list[str]] = {}
    quiet = ["--no-lookahead-check", "--allow-no-trades", "--curve", "bars"]
    for strat in STRATEGIES:
        for cost, cargs in COSTS.items():
            for size, sargs in SIZING.items():
                for seed in ("7", "1234") if cost != "none" else ("",):
                    seed_args = ["--seed", seed] if seed else []
                    name = f"backtest_mx_eurusd_{strat}_{cost}_{size}" + (f"_s{seed}" if seed else "")
                    out[name] = ["backtest", "--strategy", strat, *cargs, *sargs, *seed_args, *quiet]
        out[f"backtest_mx_eurusd_{strat}_tpfirst"] = ["backtest", "--strategy", strat, "--tp-first", *quiet]
        for file, symbol, _, _ in SCALED:
            for size, sargs in SIZING.items():
                out[f"backtest_mx_{symbol.lower()}_{strat}_{size}"] = [
                    "backtest", "--data", file, "--symbol", symbol, "--strategy", strat,
                    "--exec-model", "none", *sargs, *quiet,
                ]  # fmt: skip
    if SHARED.is_dir():
        de30 = str(SHARED / "de30eur_m1_bidask_2019-02.csv.gz")
        for strat in ("ma_cross", "donchian"):
            out[f"backtest_mx_de30eur_m1_{strat}"] = [
                "backtest", "--data", de30, "--symbol", "GER40", "--strategy", strat, "--risk", "0.005", *quiet,
            ]  # fmt: skip
    return out


def _scaled_files(folder: Path) -> None:
    """The bundled EURUSD bars re-scaled into USDJPY, XAUUSD and GER40 price ranges, as CSV files."""
    code = (
        "import sys, numpy as np, pandas as pd\n"
        "from simlab.bundled import bundled_bars\n"
        "b = bundled_bars('bundled')\n"
        "t = pd.to_datetime(b.time, utc=True).strftime('%Y-%m-%d %H:%M:%S')\n"
        "for file, k, digits in zip(sys.argv[1::3], sys.argv[2::3], sys.argv[3::3]):\n"
        "    df = pd.DataFrame({'time': t})\n"
        "    for i, c in enumerate(['open', 'high', 'low', 'close']):\n"
        "        df['bid_' + c] = np.round(b.bid[:, i] * float(k), int(digits))\n"
        "        df['ask_' + c] = np.round(b.ask[:, i] * float(k), int(digits))\n"
        "    df.to_csv(file, index=False)\n"
    )
    args = [str(x) for f, _, k, d in SCALED for x in (folder / f, k, d)]
    subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, check=True, env=dict(os.environ, PYTHONPATH=str(ROOT))
    )


def _trade_list_file(folder: Path, mae: bool = False) -> Path:
    """A trade list (open time, close time, profit) from the ma_cross backtest's ledger.

    ``mae``: with MAE / MFE columns, deterministic values past the trade's own loss / gain.
    """
    src = json.loads((folder / "backtest_ma_cross.json").read_text())
    path = folder / ("_trades_mae.csv" if mae else "_trades.csv")
    lines = ["open time,close time,profit" + (",mae,mfe" if mae else "")]
    for t in src["result"]["trades"] if "result" in src else src["trades"]:
        row = (
            f"{t['entry_time'][:19].replace('T', ' ')},{t['exit_time'][:19].replace('T', ' ')},{t['pnl']:.2f}"
        )
        if mae:
            p = t["pnl"]
            row += f",{max(-p, 0.0) + 0.3 * abs(p) + 40.0:.2f},{max(p, 0.0) + 0.2 * abs(p) + 20.0:.2f}"
        lines.append(row)
    path.write_text("\n".join(lines) + "\n")
    return path


def record(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    exe = [sys.executable, "-m", "simlab_cli"]
    todo = runs()
    for name, args in todo.items():
        _run(exe, args, folder / f"{name}.json")
    trades = _trade_list_file(folder)
    # run from the folder, with a relative path: the JSON names the file as given
    _run(
        exe,
        ["challenge", "--runs", "2000", "--trades", trades.name],
        folder / "challenge_trade_list.json",
        folder,
    )
    with_mae = _trade_list_file(folder, mae=True)
    _run(
        exe,
        [
            "challenge",
            "--runs",
            "1500",
            "--trades",
            with_mae.name,
            "--program",
            "ftmo-1step",
            "--bootstrap-days",
            "3",
        ],
        folder / "challenge_trade_list_mae.json",
        folder,
    )
    _run(
        exe,
        ["challenge", "--runs", "1500", "--trades", trades.name, "--program", "fundednext-stellar-2step",
         "--trade-scale", "0.5", "--seed", "21"],
        folder / "challenge_trade_list_scaled.json",
        folder,
    )  # fmt: skip
    _scaled_files(folder)
    mx = matrix()
    for name, args in mx.items():
        _run(exe, args, folder / f"{name}.json", folder)
    print(f"recorded {len(todo) + 3 + len(mx)} CLI runs in {folder}")
    p = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "golden_kernel.py"), str(folder)],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    if p.returncode != 0:
        raise SystemExit(f"tests/golden_kernel.py: exit {p.returncode}")


def _run(exe: list[str], args: list[str], out: Path, cwd: Path = ROOT) -> None:
    env = dict(os.environ, COLUMNS="120", PYTHONPATH=str(ROOT))
    p = subprocess.run(
        [*exe, *args, "--json", str(out.resolve())], cwd=cwd, env=env, capture_output=True, text=True
    )
    if p.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)}: exit {p.returncode}\n{p.stderr}")
    print(f"  {out.name}", flush=True)


def _strip(v: Any, ignore: set[str]) -> Any:
    if isinstance(v, dict):
        return {k: _strip(x, ignore) for k, x in v.items() if k not in ignore}
    if isinstance(v, list):
        return [_strip(x, ignore) for x in v]
    return v


def _first_diff(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}/{k}: only in {'after' if k not in a else 'before'}"
            d = _first_diff(a[k], b[k], f"{path}/{k}")
            if d:
                return d
        return ""
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            d = _first_diff(x, y, f"{path}[{i}]")
            if d:
                return d
        return ""
    return "" if a == b and type(a) is type(b) else f"{path}: {a!r} vs {b!r}"


def compare(before: Path, after: Path, ignore: set[str]) -> int:
    names = sorted(p.name for p in before.glob("*.json"))
    bad = 0
    for name in names:
        a = _strip(json.loads((before / name).read_text()), ignore)
        q = after / name
        if not q.exists():
            print(f"MISSING {name}")
            bad += 1
            continue
        b = _strip(json.loads(q.read_text()), ignore)
        if json.dumps(a, sort_keys=True) != json.dumps(b, sort_keys=True):
            print(f"DIFFERS {name}: {_first_diff(a, b)}")
            bad += 1
    print(f"compared {len(names)} JSON results: {len(names) - bad} identical, {bad} different")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("folder", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    c.add_argument("--ignore", default="refused_orders,excluded_starts", help="comma-separated member names")
    a = ap.parse_args()
    if a.cmd == "record":
        record(a.folder)
        return 0
    return compare(a.before, a.after, {s for s in a.ignore.split(",") if s})


if __name__ == "__main__":
    sys.exit(main())
