"""Broker server clocks: the wall clock an MT5 server stamps bars, ticks and deals with.

MT5 reports times as seconds since 1970 *on the server's wall clock*, not UTC.
Three kinds of clock are common and all are accepted wherever a ``server_tz`` is:

* a fixed offset: ``UTC``, ``UTC+2``, ``+03:00``;
* an IANA zone: ``Europe/Helsinki`` (DST-aware);
* a zone plus a shift: ``America/New_York+7`` — "New York + 7 h", the clock of many
  prop-firm servers (UTC+2 in the northern winter, UTC+3 while the US is on daylight
  time; it differs from Europe/Helsinki for 2-3 weeks each spring and autumn, and no
  IANA zone names it).

UTC -> server uses ``simlab.calendar.local_time_ns`` (the project's zone code);
server -> UTC localises with pandas, resolving a repeated DST hour by the order of
the times given (``ambiguous="infer"``) and, for a single time, as the later
(standard-time) instant.

>>> c = ServerClock.parse("America/New_York+7")
>>> t = np.array(["2024-01-15T12:00", "2024-07-15T12:00"], dtype="datetime64[ns]").astype(np.int64)
>>> ((c.to_server(t) - t) // 3_600_000_000_000).tolist()
[2, 3]
>>> bool((c.to_utc(c.to_server(t)) == t).all())
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from simlab.calendar import NS_HOUR, NS_MIN, check_zone, fixed_offset_ns, local_time_ns
from simlab.errors import ConfigError

_SHIFTED = re.compile(r"^([A-Za-z_]+/[A-Za-z_/+-]*?[A-Za-z_])\s*([+-])\s*(\d{1,2})(?::(\d{2}))?$")


@dataclass(frozen=True)
class ServerClock:
    """A server clock: ``zone`` (IANA name or fixed offset) shifted by ``shift_ns``."""

    text: str
    zone: str
    shift_ns: int = 0

    @classmethod
    def parse(cls, text: str, field: str = "server_tz") -> ServerClock:
        s = str(text).strip()
        if fixed_offset_ns(s) is not None:
            return cls(s, s, 0)
        m = _SHIFTED.match(s)
        if m:
            zone = m.group(1)
            check_zone(zone, field)
            sign = 1 if m.group(2) == "+" else -1
            shift = sign * (int(m.group(3)) * NS_HOUR + int(m.group(4) or 0) * NS_MIN)
            if abs(shift) > 14 * NS_HOUR:
                raise ConfigError(field, f"shift in {s!r} is out of range; expected -14:00 .. +14:00")
            return cls(s, zone, shift)
        try:
            check_zone(s, field)
        except ConfigError:
            raise ConfigError(
                field,
                f"unknown server clock {s!r}; expected 'UTC+2', 'Europe/Helsinki' or a zone plus a shift "
                "such as 'America/New_York+7'",
            ) from None
        return cls(s, s, 0)

    def to_server(self, utc_ns: np.ndarray | int) -> np.ndarray:
        """Server wall-clock ns of UTC instants."""
        t = np.atleast_1d(np.asarray(utc_ns, dtype=np.int64))
        return local_time_ns(t, self.zone) + np.int64(self.shift_ns)

    def to_utc(self, server_ns: np.ndarray | int) -> np.ndarray:
        """UTC ns of server wall-clock times (a repeated DST hour resolved by order, else the later one)."""
        t = np.atleast_1d(np.asarray(server_ns, dtype=np.int64)) - np.int64(self.shift_ns)
        off = fixed_offset_ns(self.zone)
        if off is not None:
            return t - np.int64(off)
        import pandas as pd

        local = pd.DatetimeIndex(t.view("datetime64[ns]"))
        try:
            utc = local.tz_localize(self.zone, ambiguous="infer", nonexistent="shift_forward")
        except Exception:  # a lone repeated hour: take the standard-time (later) instant
            utc = local.tz_localize(
                self.zone, ambiguous=np.zeros(len(local), dtype=bool), nonexistent="shift_forward"
            )
        return np.asarray(utc.tz_convert("UTC").tz_localize(None).as_unit("ns").asi8, dtype=np.int64)

    def offset_ns(self, utc_ns: int) -> int:
        """Server minus UTC at one instant."""
        return int(self.to_server(utc_ns)[0]) - int(utc_ns)
