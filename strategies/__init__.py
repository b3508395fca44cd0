"""Strategies: the protocol (:mod:`strategies.base`), shipped strategies, indicators, loading, the look-ahead checker.

>>> from strategies import Intents, Param, Strategy, StepStrategy
>>> from strategies import indicators as ind  # TA-Lib wrappers and what TA-Lib lacks

Heavier pieces load on first use: :func:`load_strategy` (registry),
:func:`check_lookahead`, :func:`intents_to_portfolio` (vectorbt).
"""

from __future__ import annotations

from typing import Any

from strategies.base import DIR_FLAT, DIR_HOLD, DIR_LONG, DIR_SHORT, Intents, Param, StepStrategy, Strategy

__all__ = [
    "DIR_FLAT",
    "DIR_HOLD",
    "DIR_LONG",
    "DIR_SHORT",
    "Intents",
    "Param",
    "StepStrategy",
    "Strategy",
    "check_lookahead",
    "intents_to_portfolio",
    "load_strategy",
]

_LAZY = {
    "load_strategy": "strategies.registry",
    "check_lookahead": "strategies.lookahead",
    "intents_to_portfolio": "strategies.vbt_bridge",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'strategies' has no attribute {name!r}")
