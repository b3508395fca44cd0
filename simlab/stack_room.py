"""Call a function with room on CPython's frame stack, so that numba's compiler does not thrash it.

CPython (3.11) keeps each thread's Python frames in 16 KiB chunks and unmaps a chunk the moment it
empties. numba's compiler is deeply recursive; when a hot call in it sits on a chunk boundary, every
call maps and unmaps a chunk: a cold ``simlab challenge`` spent 25 s of system time (3.7 M page
faults) beside 18 s of compiling, depending only on how deep the compile started. A caller frame
that reserves a large stack makes its chunk large enough for the whole compile above it (measured:
0.3 s of system time, 84 k page faults). The reserve is unused stack slots: memory, not behaviour.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# 20,000 slots of 8 bytes: a 160 KiB frame in a 256 KiB chunk, ~96 KiB of it left for the frames above
_RESERVED_SLOTS = 20_000


def call_with_stack_room(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``, called from a frame that reserves a large frame-stack chunk."""
    return fn(*args, **kwargs)


# an interpreter whose code objects cannot be changed so keeps the plain call
with contextlib.suppress(AttributeError, TypeError, ValueError):
    call_with_stack_room.__code__ = call_with_stack_room.__code__.replace(co_stacksize=_RESERVED_SLOTS)
