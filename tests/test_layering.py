"""The packages depend on each other one way: the core never imports a package built on it.

``simlab`` (core) < ``strategies``, ``execution_models``, ``challenges`` < ``rl``, ``live``,
``reports`` < ``simlab_cli`` (argparse lives only there). Checked on the source text of every module,
including imports inside functions, so a lazy upward import cannot hide.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEVEL = {
    "simlab": 0,
    "strategies": 1,
    "execution_models": 1,
    "challenges": 1,
    "rl": 2,
    "live": 2,
    "reports": 2,
    "simlab_cli": 3,
}
# one plugin hook: the registry names the RL policy strategy, which runs the rl package's observation
# code; strategies/onnx_policy.py imports rl lazily, only when that strategy is used
ALLOWED = {("strategies/onnx_policy.py", "rl")}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("package", sorted(LEVEL))
def test_no_package_imports_one_above_it(package: str) -> None:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        for name in _imports(path):
            if LEVEL.get(name, -1) > LEVEL[package] and (rel, name) not in ALLOWED:
                bad.append(f"{rel} imports {name}")
    assert not bad, bad


def test_argparse_only_in_the_cli() -> None:
    users = [
        str(p.relative_to(ROOT))
        for pkg in LEVEL
        if pkg != "simlab_cli"
        for p in sorted((ROOT / pkg).rglob("*.py"))
        if "argparse" in _imports(p)
    ]
    assert not users, users
