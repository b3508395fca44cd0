"""The one parser of time-zone options (``--tz``, ``tz=``): fixed offsets, IANA zones, and zone + N hours.

Accepted forms (case-insensitive where it makes sense):

``UTC`` / ``GMT`` / ``Z``
    no offset.
``+02:00``, ``-0530``, ``+3``, ``UTC+3``, ``GMT-5``
    a fixed offset from UTC (-14:00 .. +14:00), the same all year.
``Europe/Helsinki``, ``America/New_York``, ``Etc/GMT-2``
    an IANA zone name: daylight saving time follows the zone database.
``America/New_York+7``, ``America/New_York+07:00``, ``Europe/London-1``
    a zone's wall clock shifted by a whole number of hours (and minutes): the
    server clock reads the zone's local time plus N. ``America/New_York+7`` is the
    "New York + 7 h" clock of many prop-firm MT5 servers: UTC+2 in the northern
    winter and UTC+3 while the US is on daylight time, so its midnight is always
    the 17:00 New York rollover. It differs from ``Europe/Helsinki`` for two to
    three weeks each spring and autumn, when the US and the EU change their
    clocks on different Sundays.

An IANA name is tried before the ``ZONE+N`` form, so ``Etc/GMT+5`` keeps its IANA
meaning (UTC-5).

>>> parse_tz("America/New_York+7").describe()
'America/New_York+7 (America/New_York wall clock + 7 h)'
>>> import numpy as np
>>> t = np.array(["2024-01-15T12:00", "2024-07-15T12:00"], dtype="datetime64[ns]").astype(np.int64)
>>> ((parse_tz("America/New_York+7").from_utc(t) - t) // 3_600_000_000_000).tolist()
[2, 3]
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simlab.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["TZ_HELP", "TzSpec", "fixed_offset", "parse_tz"]


# One sentence for --help texts and error messages, so every option says the same.
TZ_HELP = (
    "an IANA zone (Europe/Helsinki), a fixed offset (+02:00, UTC+3), or a zone plus hours "
    "(America/New_York+7: New York + 7 h, the clock of many prop-firm MT5 servers)"
)
_EXPECTED = (
    "expected an IANA zone name like 'Europe/Helsinki', 'UTC', a fixed offset like '+02:00' / 'UTC+3', "
    "or a zone plus hours like 'America/New_York+7'"
)
_UTC_NAMES = {
    "UTC",
    "GMT",
    "Z",
    "UTC+0",
    "UTC-0",
    "GMT+0",
    "GMT-0",
    "+00:00",
    "-00:00",
    "ETC/UTC",
    "+0",
    "-0",
}
_OFFSET_RE = re.compile(r"^(?:(?:UTC|GMT)\s*)?([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_SHIFT_RE = re.compile(
    r"^(?P<zone>[A-Za-z][A-Za-z0-9_/-]*?)\s*(?P<sign>[+-])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?\s*h?$"
)
_MAX_OFFSET_MIN = 14 * 60


@dataclass(frozen=True)
class TzSpec:
    """A parsed zone: a fixed offset (``offset_ns``), or an IANA ``zone`` whose wall clock is shifted by ``shift_ns``."""

    text: str
    offset_ns: int | None = None
    zone: zoneinfo.ZoneInfo | None = None
    shift_ns: int = 0

    @property
    def is_utc(self) -> bool:
        return self.offset_ns == 0

    @property
    def is_fixed(self) -> bool:
        return self.offset_ns is not None

    def describe(self) -> str:
        """The zone as given, with what it means where that is not obvious."""
        if self.zone is not None and self.shift_ns:
            # the time units live in the calendar, which imports this module
            from simlab.calendar import NS_MIN

            h, m = divmod(abs(self.shift_ns) // NS_MIN, 60)
            amount = f"{h} h" + (f" {m:02d} min" if m else "")
            return f"{self.text} ({self.zone.key} wall clock {'+' if self.shift_ns > 0 else '-'} {amount})"
        return self.text

    # ------------------------------------------------------------------ conversions
    def localize(
        self, local: pd.DatetimeIndex, *, ambiguous: Any = "raise", nonexistent: Any = "raise"
    ) -> pd.DatetimeIndex:
        """Naive wall-clock times of this zone -> tz-aware UTC times (pandas' ``ambiguous`` / ``nonexistent`` rules)."""
        import pandas as pd

        if self.offset_ns is not None:
            return (local - pd.Timedelta(self.offset_ns, "ns")).tz_localize("UTC")
        assert self.zone is not None
        if self.shift_ns:
            local = local - pd.Timedelta(self.shift_ns, "ns")
        return local.tz_localize(self.zone, ambiguous=ambiguous, nonexistent=nonexistent).tz_convert("UTC")

    def to_utc(
        self, local_ns: np.ndarray, *, ambiguous: Any = "raise", nonexistent: Any = "raise"
    ) -> np.ndarray:
        """Wall-clock int64 ns of this zone -> int64 UTC ns (see :meth:`localize`)."""
        t = np.ascontiguousarray(local_ns, dtype=np.int64)
        if self.offset_ns is not None:
            return t - np.int64(self.offset_ns)
        import pandas as pd

        utc = self.localize(
            pd.DatetimeIndex(t.view("datetime64[ns]")), ambiguous=ambiguous, nonexistent=nonexistent
        )
        return np.asarray(utc.tz_localize(None).as_unit("ns").asi8, dtype=np.int64)

    def from_utc(self, utc_ns: np.ndarray) -> np.ndarray:
        """UTC int64 ns -> this zone's wall-clock time as int64 ns since 1970-01-01 (local)."""
        t = np.ascontiguousarray(utc_ns, dtype=np.int64)
        if self.offset_ns is not None:
            return t + np.int64(self.offset_ns)
        import pandas as pd

        dti = pd.DatetimeIndex(t.view("datetime64[ns]")).tz_localize("UTC").tz_convert(self.zone)
        return np.asarray(dti.tz_localize(None).as_unit("ns").asi8, dtype=np.int64) + np.int64(self.shift_ns)


def _offset_ns(sign: str, hours: str, minutes: str | None, text: str, where: str) -> int:
    h, m = int(hours), int(minutes or 0)
    if m >= 60 or h * 60 + m > _MAX_OFFSET_MIN:
        raise ConfigError(where, f"tz {text!r}: offset out of range; expected -14:00 .. +14:00")
    # the time units live in the calendar, which imports this module
    from simlab.calendar import NS_MIN

    return (-1 if sign == "-" else 1) * (h * 60 + m) * NS_MIN


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError (bad key), IsADirectoryError ('Europe')
        return None


def fixed_offset(tz: str, where: str = "tz") -> int | None:
    """The offset in ns of a fixed-offset zone (``UTC``, ``+03:00``, ``GMT-5``), None for any other text.

    A malformed or out-of-range offset raises ConfigError; names are not checked here.
    """
    text = str(tz).strip()
    if text.upper() in _UTC_NAMES or _OFFSET_RE.match(text):
        return parse_tz(text, where).offset_ns
    return None


def parse_tz(tz: str, where: str = "tz") -> TzSpec:
    """Parse a time-zone option (see the module docstring); a bad one raises a one-line ConfigError.

    >>> parse_tz("UTC+3").offset_ns // 3_600_000_000_000
    3
    >>> parse_tz("-05:30").offset_ns / 3_600_000_000_000
    -5.5
    >>> parse_tz("Europe/Helsinki").zone.key
    'Europe/Helsinki'
    >>> spec = parse_tz("America/New_York+7"); spec.zone.key, spec.shift_ns // 3_600_000_000_000
    ('America/New_York', 7)
    """
    return _parse(str(tz).strip(), where)


@functools.lru_cache(maxsize=256)  # the calendar parses the same few zones for every call
def _parse(text: str, where: str) -> TzSpec:
    if not text:
        raise ConfigError(where, f"tz is empty; {_EXPECTED}")
    if text.upper() in _UTC_NAMES:
        return TzSpec(text, offset_ns=0)
    m = _OFFSET_RE.match(text)
    if m:
        return TzSpec(text, offset_ns=_offset_ns(m.group(1), m.group(2), m.group(3), text, where))
    if re.search(r"\d", text) and re.match(r"^(UTC|GMT)?\s*[+-]", text, re.IGNORECASE):
        raise ConfigError(where, f"tz {text!r}: not a valid offset; {_EXPECTED}")
    zone = _zone(text)
    if zone is not None:
        return TzSpec(text, zone=zone)
    m = _SHIFT_RE.match(text)
    if m:
        base = _zone(m.group("zone"))
        if base is None:
            raise ConfigError(where, f"tz {text!r}: unknown time zone {m.group('zone')!r}; {_EXPECTED}")
        shift = _offset_ns(m.group("sign"), m.group("h"), m.group("m"), text, where)
        return TzSpec(text, zone=base, shift_ns=shift) if shift else TzSpec(text, zone=base)
    raise ConfigError(where, f"tz {_clip(text)!r}: unknown time zone; {_EXPECTED}")


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."
