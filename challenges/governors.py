"""The trader's governors: configuration (presets, TOML files, ``--gov key=value``) -> the ``GOV_*`` vector.

The governor *functions* are numba code in :mod:`simlab.governors_nb` (glued to
the account by :mod:`simlab.account_nb`), shared by the bar kernel, the trade-list
kernel and the live runner; this module only says which guard rails are on and
how tight they are.

Units, as in rule files: every ``*_pct`` value is a **percent** of the initial
balance (``1.0`` = 1 %) in TOML and on the command line; :meth:`GovernorConfig.to_vector`
divides by 100 for the kernel. ``*_min`` fields are minutes, ``*_mult`` plain
multipliers, ``vol_pause_k`` a ratio to the volatility's norm.

A governor file is a flat TOML table of the fields below (any subset; the rest
keep the ``none`` preset's values, i.e. off), plus an optional ``description``::

    description = "stop a point before the firm does"
    daily_buffer_pct = 1.0          # stop for the day 1 % of initial above the firm's daily limit ("off": none)
    maxloss_buffer_pct = 1.0        # flatten 1 % above the max-loss limit ("off": none)
    halt_at_target = true
    flatten_before_reset_min = 0    # > 0: be flat this many minutes before the daily reset
    flatten_before_weekend_min = 30
    post_target_risk_mult = 0.1     # risk x 0.1 once the target is banked but minimum days are not met

``--governors NAME|FILE`` picks a preset (``none``, ``default``, ``conservative``)
or a file; ``--gov key=value`` (repeatable) overrides single fields on top.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from challenges._toml import Section, read_toml
from simlab import layout as L
from simlab.errors import ConfigError, unknown_name

GOVERNOR_PRESET_DIR = Path(__file__).resolve().parent / "presets" / "governors"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class GovernorConfig:
    """Every field of the ``GOV_*`` vector, with readable names. Defaults: everything off."""

    daily_buffer_pct: float | None = None  # percent of initial above the daily limit; None: off
    maxloss_buffer_pct: float | None = None  # percent of initial above the max-loss limit; None: off
    halt_at_target: bool = False  # flatten when equity reaches the target, stop risking it
    flatten_before_reset_min: float = 0.0  # > 0: GOV_FLATTEN_BEFORE_RESET on, window for FLAG_PRE_RESET
    flatten_before_weekend_min: float = 0.0  # > 0: GOV_FLATTEN_BEFORE_WEEKEND on, window for FLAG_PRE_WEEKEND
    daily_profit_cap_pct: float = 0.0  # > 0: stop for the day at this day's profit (consistency rules)
    kill_switch: bool = False  # flatten, never open again
    cooldown_losses: int = 0  # > 0: after this many consecutive losses ...
    cooldown_bars: int = 0  # ... no entries for this many bars (0: rest of the day)
    vol_pause_k: float = 0.0  # > 0: no entries while volatility > k x its norm
    lock_level_pct: float = 0.0  # > 0: once profit >= this % of initial ...
    lock_size_mult: float = 1.0  # ... multiply risk by this
    max_trades_per_day: int = 0  # > 0: cap on entries per day
    max_open_risk_pct: float = 0.0  # > 0: cap on the risk of the open position, percent of equity
    post_target_risk_mult: float = 1.0  # risk multiplier once the target is banked but min days are not met

    # ------------------------------------------------------------ kernel vector
    def to_vector(self) -> np.ndarray:
        """float64 ``GOV_SIZE`` vector; percents become fractions, off buffers become -1."""
        g = np.zeros(L.GOV_SIZE, dtype=np.float64)
        g[L.GOV_DAILY_BUFFER_PCT] = -1.0 if self.daily_buffer_pct is None else self.daily_buffer_pct / 100.0
        g[L.GOV_MAXLOSS_BUFFER_PCT] = (
            -1.0 if self.maxloss_buffer_pct is None else self.maxloss_buffer_pct / 100.0
        )
        g[L.GOV_HALT_AT_TARGET] = 1.0 if self.halt_at_target else 0.0
        g[L.GOV_FLATTEN_BEFORE_RESET] = 1.0 if self.flatten_before_reset_min > 0 else 0.0
        g[L.GOV_FLATTEN_BEFORE_WEEKEND] = 1.0 if self.flatten_before_weekend_min > 0 else 0.0
        g[L.GOV_DAILY_PROFIT_CAP_PCT] = self.daily_profit_cap_pct / 100.0
        g[L.GOV_KILL_SWITCH] = 1.0 if self.kill_switch else 0.0
        g[L.GOV_COOLDOWN_LOSSES] = float(self.cooldown_losses)
        g[L.GOV_COOLDOWN_BARS] = float(self.cooldown_bars)
        g[L.GOV_VOL_PAUSE_K] = self.vol_pause_k
        g[L.GOV_LOCK_LEVEL_PCT] = self.lock_level_pct / 100.0
        g[L.GOV_LOCK_SIZE_MULT] = self.lock_size_mult
        g[L.GOV_MAX_TRADES_PER_DAY] = float(self.max_trades_per_day)
        g[L.GOV_MAX_OPEN_RISK_PCT] = self.max_open_risk_pct / 100.0
        g[L.GOV_POST_TARGET_RISK_MULT] = self.post_target_risk_mult
        return g

    # ------------------------------------------------------------ calendar windows
    @property
    def reset_window_min(self) -> float:
        """Minutes before the daily reset for ``FLAG_PRE_RESET`` (``simlab.calendar.bar_flags``)."""
        return self.flatten_before_reset_min

    @property
    def weekend_window_min(self) -> float:
        """Minutes before the weekly close for ``FLAG_PRE_WEEKEND``."""
        return self.flatten_before_weekend_min

    # ------------------------------------------------------------ building
    def with_overrides(
        self, overrides: Iterable[str] | Mapping[str, Any], where: str = "--gov"
    ) -> GovernorConfig:
        """A copy with ``key=value`` strings (CLI) or a mapping of typed values applied."""
        changes: dict[str, Any] = {}
        if isinstance(overrides, Mapping):
            items = list(overrides.items())
        else:
            items = []
            for item in overrides:
                if "=" not in item:
                    raise ConfigError(
                        where,
                        f"expected key=value, got {item!r} (e.g. daily_buffer_pct=1.5); {FIELDS_LISTED}",
                    )
                k, v = item.split("=", 1)
                items.append((k.strip(), v.strip()))
        for k, v in items:
            changes[k] = _convert(k, v, where)
        return replace(self, **changes)

    def describe(self) -> list[tuple[str, str]]:
        """(field, human value) for every governor that is on."""
        out: list[tuple[str, str]] = []
        off = GovernorConfig()
        for f in fields(self):
            v = getattr(self, f.name)
            if v == getattr(off, f.name):
                continue
            out.append((f.name, _human(f.name, v)))
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain values, ``"off"`` for buffers that are off (for JSON reports)."""
        d: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            d[f.name] = "off" if v is None else v
        return d


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(GovernorConfig))
# where a user reads every field (the --gov help lists FIELD_NAMES): too many for a one-line error
FIELDS_LISTED_AT = "`simlab challenge --help` (under --gov) and challenges/README.md (Governors)"
FIELDS_LISTED = f"the governors are listed in {FIELDS_LISTED_AT}"

# field -> (kind, lo, hi); kinds: buffer (percent or off), pct, bool, int, float
_SPEC: dict[str, tuple[str, float, float]] = {
    "daily_buffer_pct": ("buffer", 0.0, 100.0),
    "maxloss_buffer_pct": ("buffer", 0.0, 100.0),
    "halt_at_target": ("bool", 0, 1),
    "flatten_before_reset_min": ("float", 0.0, 1440.0),
    "flatten_before_weekend_min": ("float", 0.0, 10080.0),
    "daily_profit_cap_pct": ("pct", 0.0, 100.0),
    "kill_switch": ("bool", 0, 1),
    "cooldown_losses": ("int", 0, 1000),
    "cooldown_bars": ("int", 0, 10**7),
    "vol_pause_k": ("float", 0.0, 1000.0),
    "lock_level_pct": ("pct", 0.0, 1000.0),
    "lock_size_mult": ("float", 0.0, 10.0),
    "max_trades_per_day": ("int", 0, 100000),
    "max_open_risk_pct": ("pct", 0.0, 100.0),
    "post_target_risk_mult": ("float", 0.0, 10.0),
}
assert set(_SPEC) == set(FIELD_NAMES)


def _convert(key: str, value: Any, where: str) -> Any:
    """Validate one field's value (typed from TOML, or a string from the CLI)."""
    if key not in _SPEC:
        raise ConfigError(where, unknown_name("governor", key, FIELD_NAMES, FIELDS_LISTED_AT))
    kind, lo, hi = _SPEC[key]
    is_str = isinstance(value, str)
    sval = value.strip().lower() if is_str else None

    def bad(expected: str) -> ConfigError:
        return ConfigError(where, f"field '{key}': expected {expected}, got {value!r}")

    if kind == "bool":
        if isinstance(value, bool):
            return value
        if sval in _TRUE:
            return True
        if sval in _FALSE:
            return False
        raise bad("true or false")
    if kind == "buffer" and (value is False or sval in ("off", "none", "false", "no")):
        return None
    if isinstance(value, bool):
        raise bad(_expect(kind, lo, hi))
    x: float
    if isinstance(value, int | float):
        x = float(value)
    elif is_str:
        try:
            x = float(value)
        except ValueError:
            raise bad(_expect(kind, lo, hi)) from None
    else:
        raise bad(_expect(kind, lo, hi))
    # a negative buffer is refused, not read as "off" (the kernel's -1 convention is not the user's):
    # -50 % or -inf would otherwise silently switch the guard rail off
    if not math.isfinite(x) or x < lo or x > hi:
        raise bad(_expect(kind, lo, hi))
    if kind == "int":
        if not x.is_integer():
            raise bad(_expect(kind, lo, hi))
        return int(x)
    return x


def _expect(kind: str, lo: float, hi: float) -> str:
    if kind == "buffer":
        return f"a percent in [{lo:g}, {hi:g}] or 'off'"
    if kind == "pct":
        return f"a percent in [{lo:g}, {hi:g}] (0: off)"
    if kind == "int":
        return f"a whole number in [{lo:g}, {hi:g}]"
    return f"a number in [{lo:g}, {hi:g}]"


def _human(name: str, v: Any) -> str:
    if v is None:
        return "off"
    if isinstance(v, bool):
        return "on" if v else "off"
    if name.endswith("_pct"):
        return f"{v:g}%"
    if name.endswith("_min"):
        return f"{v:g} min"
    if name.endswith("_mult"):
        return f"x{v:g}"
    return f"{v:g}"


# ---------------------------------------------------------------- presets and files
def list_governor_presets() -> list[str]:
    return sorted(p.stem for p in GOVERNOR_PRESET_DIR.glob("*.toml"))


def governors_from_mapping(data: Mapping[str, Any], where: str) -> GovernorConfig:
    """Validate a parsed governor table (``where`` names the file in errors)."""
    sec = Section(where, "", data)
    sec.string("description", "")
    changes: dict[str, Any] = {}
    for name in FIELD_NAMES:
        if sec.has(name):
            raw = sec.raw(name)
            try:
                changes[name] = _convert(name, raw, where)
            except ConfigError as exc:
                raise ConfigError(where, exc.what) from None
        else:
            sec._reg(name)
    sec.done()
    return replace(GovernorConfig(), **changes)


def load_governors(
    spec: str | Path | None = None, overrides: Sequence[str] | Mapping[str, Any] = ()
) -> GovernorConfig:
    """``spec``: a preset name (``none``, ``default``, ``conservative``), a TOML file path, or None (= ``none``);
    then ``overrides`` (``["daily_buffer_pct=1.5", ...]`` or a mapping) on top."""
    if spec is None or str(spec) == "none":
        cfg = GovernorConfig()
    else:
        s = str(spec)
        p = Path(s)
        if s.endswith(".toml") or "/" in s or "\\" in s or p.is_file():
            cfg = governors_from_mapping(read_toml(p), s)
        else:
            preset = GOVERNOR_PRESET_DIR / f"{s}.toml"
            if not preset.is_file():
                known = ", ".join(list_governor_presets())
                raise ConfigError(
                    "--governors",
                    f"unknown governor preset {s!r}; known: {known} (or the path of a .toml file)",
                )
            cfg = governors_from_mapping(read_toml(preset), str(preset))
    if overrides:
        cfg = cfg.with_overrides(overrides)
    return cfg


__all__ = [
    "FIELDS_LISTED",
    "FIELDS_LISTED_AT",
    "FIELD_NAMES",
    "GOVERNOR_PRESET_DIR",
    "GovernorConfig",
    "governors_from_mapping",
    "list_governor_presets",
    "load_governors",
]
