"""A damaged cache is rebuilt, with one line on stderr, and the run gives the same result.

Before: a truncated or garbage numba cache file (``.nbi`` index, ``.nbc`` data) or a truncated or
bit-flipped cache file of the bundled data (``.npz``) failed every later run with exit 3 ("internal
error: UnpicklingError ...", "BadZipFile ...") until it was deleted by hand. Each kind of damage is
made here on a copy of a working cache; the next run must exit 0, write byte-identical JSON, and say
what happened in exactly one stderr line; the run after it is silent.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from simlab._numba_cache import cache_dir, sources_key

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["challenge", "--runs", "3"]


def _run(cache: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SIMLAB_CACHE=str(cache))
    env.pop("NUMBA_CACHE_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "simlab_cli", *ARGS, "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def working_cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A populated cache (the user's compiled kernels copied in when there, else compiled) and the JSON."""
    cache = tmp_path_factory.mktemp("cache")
    mine = cache_dir() / "numba" / sources_key(ROOT)
    if mine.is_dir():
        shutil.copytree(mine, cache / "simlab" / "numba" / sources_key(ROOT))
    out = cache.parent / "reference.json"
    p = _run(cache, out)
    assert p.returncode == 0, p.stderr
    p = _run(cache, out)  # now everything is cached: a silent run
    assert p.returncode == 0 and p.stderr == "", p.stderr
    return cache, out.read_bytes()


def _one(cache: Path, pattern: str) -> Path:
    """The file of ``pattern`` that this checkout's run reads: numba keeps a user cache folder per source
    folder (its full path), so a cache shared by several checkouts holds one copy per checkout."""
    found = sorted(cache.rglob(pattern))
    assert found, pattern
    # numba's folder for simlab/*.py: "<dir name>_<sha1 of the dir's absolute path>"
    # (numba.core.caching._CacheLocator.get_suitable_cache_subpath)
    sub = "simlab_" + hashlib.sha1(str(ROOT / "simlab").encode()).hexdigest()
    mine = [f for f in found if f.parent.name == sub]
    return (mine or found)[0]


def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: max(1, p.stat().st_size // 10)])


def _garbage(p: Path) -> None:
    p.write_bytes(bytes((i * 131 + 7) % 256 for i in range(4000)))


def _bit_flip(p: Path) -> None:
    b = bytearray(p.read_bytes())
    b[len(b) // 2] ^= 0x10
    p.write_bytes(bytes(b))


CASES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "truncated index (.nbi)": (
        "montecarlo_nb.run_attempts_nb-*.nbi",
        _truncate,
        "compiled-kernel cache was damaged",
    ),
    "garbage index (.nbi)": (
        "montecarlo_nb.run_attempts_nb-*.nbi",
        _garbage,
        "compiled-kernel cache was damaged",
    ),
    "truncated data (.nbc)": (
        "montecarlo_nb.run_attempts_nb-*.nbc",
        _truncate,
        "compiled-kernel cache was damaged",
    ),
    "garbage data (.nbc)": (
        "montecarlo_nb.run_attempts_nb-*.nbc",
        _garbage,
        "compiled-kernel cache was damaged",
    ),
    "truncated bundled data (.npz)": ("eurusd_1h_*.npz", _truncate, "cached bundled data"),
    "bit-flipped bundled data (.npz)": ("eurusd_1h_*.npz", _bit_flip, "cached bundled data"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_a_damaged_cache_is_rebuilt_with_one_line(
    case: str, working_cache: tuple[Path, bytes], tmp_path: Path
) -> None:
    pattern, damage, needle = CASES[case]
    src, reference = working_cache
    cache = tmp_path / "cache"
    shutil.copytree(src, cache)
    damage(_one(cache, pattern))
    out = tmp_path / "r.json"
    p = _run(cache, out)
    assert p.returncode == 0, p.stderr
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and needle in lines[0], p.stderr
    assert "damaged" in lines[0]
    assert out.read_bytes() == reference
    p = _run(cache, out)  # repaired: the next run is silent
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert out.read_bytes() == reference
