"""The bundled default data: the synthetic EURUSD history that ships with simlab (``simlab.synthetic``).

``--data bundled`` (the default) runs it as hourly bars, ``--data bundled-m1`` as one-minute bars.
"""

from __future__ import annotations

from simlab.bars import Bars

BUNDLED = "bundled"  # the synthetic default, hourly bars
BUNDLED_M1 = "bundled-m1"  # the same synthetic path as one-minute bars
TIMEFRAMES = {BUNDLED: "1h", BUNDLED_M1: "1min"}


def is_bundled(name: object) -> bool:
    return name in TIMEFRAMES


def bundled_bars(name: str) -> Bars:
    """The bars of a bundled name (generated once, then read from the cache)."""
    from simlab.synthetic import default_bars

    return default_bars(TIMEFRAMES[name])


def describe(name: str) -> str:
    return f"bundled synthetic EURUSD {'H1' if TIMEFRAMES[name] == '1h' else 'M1'} (not real prices)"
