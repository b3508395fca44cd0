"""Point numba's on-disk cache at a folder named after the numba sources of this checkout.

numba's ``cache=True`` invalidates a cached function only when *its own* file changes. The Monte
Carlo loop (``montecarlo_nb``) and the day bootstrap inline the kernel from ``kernel_nb``, so after
an edit to the kernel their cached machine code would silently keep running the old kernel. Naming
the cache folder after a hash of every numba source makes any edit start a fresh cache instead.

Runs once, from ``simlab/__init__.py``, before numba is imported; a user's own ``NUMBA_CACHE_DIR``
always wins. Cost: reading a dozen small files (about a millisecond).
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

# the modules that hold numba code (kernels call across them, so they share one key)
NUMBA_SOURCES = (
    "simlab/account_nb.py",
    "simlab/bootstrap.py",
    "simlab/costs_nb.py",
    "simlab/governors_nb.py",
    "simlab/kernel_nb.py",
    "simlab/layout.py",
    "simlab/montecarlo_nb.py",
    "simlab/position_nb.py",
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


# ---------------------------------------------------------------- a damaged cache is a cache miss

_guard: dict[str, Any] = {}


def tolerate_damage(say: Callable[[str], None]) -> None:
    """Treat a cache entry numba cannot read as a miss: remove its files, say so once, compile again.

    A truncated or garbage ``.nbi`` (index) or ``.nbc`` (data) file made numba raise from its loader
    (an UnpicklingError, an EOFError, ...), so every later run failed until the file was deleted by
    hand. numba has no hook for this, so ``Cache.load_overload`` is wrapped (once per process):
    whatever it raises, the function's index and data files go, the load returns "not cached", and
    numba compiles and saves a fresh entry. ``say`` gets one line, the first time only.
    """
    _guard["say"] = say
    from numba.core import caching

    if getattr(caching.Cache.load_overload, "_simlab_tolerant", False):
        return
    load = caching.Cache.load_overload

    def load_overload(self: Any, sig: Any, target_context: Any) -> Any:
        try:
            return load(self, sig, target_context)
        except Exception as exc:  # any failure to read the entry: it is damaged, rebuild it
            name = _discard(self._cache_file)
            if not _guard.get("said"):
                _guard["said"] = True
                msg = str(exc).splitlines()[0][:120] if str(exc) else ""
                _guard["say"](
                    f"the compiled-kernel cache was damaged ({name}: {type(exc).__name__}: {msg}); "
                    "removed the entry and compiling it again"
                )
            return None

    load_overload._simlab_tolerant = True  # type: ignore[attr-defined]
    setattr(caching.Cache, "load_overload", load_overload)  # noqa: B010  # mypy: no method assignment


def _discard(cache_file: Any) -> str:
    """Remove a function's index and data files; returns their common name (``<function>.py311.*``)."""
    index = Path(cache_file._index_path)
    base = index.name[: -len(".nbi")]
    for p in [index, *index.parent.glob(f"{glob.escape(base)}.*.nbc")]:
        with contextlib.suppress(OSError):
            p.unlink()
    return f"{base}.*"
