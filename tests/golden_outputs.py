"""Record the JSON results of a fixed set of CLI runs, and compare two recordings.

A refactor of the kernel or the runner must not move a single result. Record before, record after,
compare::

    python tests/golden_outputs.py record /tmp/before     # on the old code
    python tests/golden_outputs.py record /tmp/after      # on the new code
    python tests/golden_outputs.py compare /tmp/before /tmp/after

The set: ``simlab challenge --json`` for every shipped program x governor preset (none, default,
conservative), the other shipped strategies, a day-bootstrap run, a trade-list run and real data when
``../shared/data`` is there; ``simlab backtest --json`` for every shipped strategy, with and without
sampled costs. ``compare`` ignores only the members named in ``--ignore`` (fields that the newer code
adds, such as ``refused_orders``), and says which files differ and where.
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


def _trade_list_file(folder: Path) -> Path:
    """A trade list (open time, close time, profit) from the ma_cross backtest's ledger."""
    src = json.loads((folder / "backtest_ma_cross.json").read_text())
    path = folder / "_trades.csv"
    lines = ["open time,close time,profit"]
    for t in src["result"]["trades"]:
        lines.append(
            f"{t['entry_time'][:19].replace('T', ' ')},{t['exit_time'][:19].replace('T', ' ')},{t['pnl']:.2f}"
        )
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
    print(f"recorded {len(todo) + 1} runs in {folder}")


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
