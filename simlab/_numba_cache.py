"""Point numba's on-disk cache at a folder named after the numba sources of this checkout.

numba's ``cache=True`` invalidates a cached function only when *its own* file changes. The Monte
Carlo loop (``montecarlo_nb``) and the day bootstrap inline the kernel from ``kernel_nb``, so after
an edit to the kernel their cached machine code would silently keep running the old kernel. Naming
the cache folder after a hash of every numba source makes any edit start a fresh cache instead.

Runs once, from ``simlab/__init__.py``, before numba is imported; a user's own ``NUMBA_CACHE_DIR``
always wins. Cost: reading a dozen small files (about a millisecond).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# the modules that hold numba code (kernels call across them, so they share one key)
NUMBA_SOURCES = (
    "simlab/bootstrap.py",
    "simlab/costs_nb.py",
    "simlab/governors_nb.py",
    "simlab/kernel_nb.py",
    "simlab/layout.py",
    "simlab/montecarlo_nb.py",
    "simlab/rng_nb.py",
    "simlab/synthetic.py",
    "challenges/_trade_list_nb.py",
    "strategies/_indicators_nb.py",
)


def sources_key(root: Path) -> str:
    h = hashlib.sha256()
    for rel in NUMBA_SOURCES:
        p = root / rel
        h.update(rel.encode())
        try:
            h.update(p.read_bytes())
        except OSError:
            h.update(b"<absent>")
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    """simlab's cache folder: ``$SIMLAB_CACHE/simlab``, else ``$XDG_CACHE_HOME/simlab``, else ``~/.cache/simlab``.

    It holds the compiled kernels (``numba/<key>``) and the generated default data.
    """
    base = os.environ.get("SIMLAB_CACHE") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "simlab"


def configure() -> None:
    if "NUMBA_CACHE_DIR" in os.environ:
        return
    root = Path(__file__).resolve().parents[1]
    os.environ["NUMBA_CACHE_DIR"] = str(cache_dir() / "numba" / sources_key(root))
