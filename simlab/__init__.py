"""simlab: will this strategy pass the prop-firm challenge, under these real costs?

Kept import-light on purpose: ``simlab --help`` must answer in well under a
second, so heavy modules (numba, pandas) load only when a command needs them.
"""

from simlab import _numba_cache

_numba_cache.configure()

__version__ = "0.1.0"
