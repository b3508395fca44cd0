"""Broker server clocks: the wall clock an MT5 server stamps bars, ticks and deals with.

MT5 reports times as seconds since 1970 *on the server's wall clock*, not UTC.
Three kinds of clock are common and all are accepted wherever a ``server_tz`` is:

* a fixed offset: ``UTC``, ``UTC+2``, ``+03:00``;
* an IANA zone: ``Europe/Helsinki`` (DST-aware);
* a zone plus a shift: ``America/New_York+7`` — "New York + 7 h", the clock of many
  prop-firm servers (UTC+2 in the northern winter, UTC+3 while the US is on daylight
  time; it differs from Europe/Helsinki for 2-3 weeks each spring and autumn, and no
  IANA zone names it).

The text is parsed by :func:`simlab.timezones.parse_tz`, the parser of every ``--tz``
(so ``Etc/GMT+5`` keeps its IANA meaning, UTC-5). UTC -> server uses its wall clock;
server -> UTC resolves a repeated DST hour by the order of the times given
(``ambiguous="infer"``) and, for a single time, as the later (standard-time) instant.

>>> c = ServerClock.parse("America/New_York+7")
>>> t = np.array(["2024-01-15T12:00", "2024-07-15T12:00"], dtype="datetime64[ns]").astype(np.int64)
>>> ((c.to_server(t) - t) // 3_600_000_000_000).tolist()
[2, 3]
>>> bool((c.to_utc(c.to_server(t)) == t).all())
True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from simlab.calendar import NS_HOUR
from simlab.errors import ConfigError
from simlab.timezones import TzSpec, parse_tz


@dataclass(frozen=True)
class ServerClock:
    """A server clock: ``zone`` (IANA name or fixed offset) shifted by ``shift_ns``."""

    text: str
    zone: str
    shift_ns: int = 0
    # offsets of whole hours with no clock change near them (UTC hour -> offset, server hour -> offset): the
    # runner converts a few times per poll, and a zone conversion costs ~60 us where a lookup costs ~1
    _utc_hours: dict[int, int] = field(default_factory=dict, compare=False, repr=False)
    _server_hours: dict[int, int] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, text: str, field: str = "server_tz") -> ServerClock:
        s = str(text).strip()
        try:
            spec = parse_tz(s, field)
        except ConfigError as exc:
            if "out of range" in exc.what:
                raise
            raise ConfigError(
                field,
                f"unknown server clock {s!r}; expected 'UTC+2', 'Europe/Helsinki' or a zone plus a shift "
                "such as 'America/New_York+7'",
            ) from None
        if spec.zone is None:
            return cls(s, s, 0)
        return cls(s, spec.zone.key, spec.shift_ns)

    @property
    def spec(self) -> TzSpec:
        return _spec(self.text)

    def to_server(self, utc_ns: np.ndarray | int) -> np.ndarray:
        """Server wall-clock ns of UTC instants."""
        t = np.atleast_1d(np.asarray(utc_ns, dtype=np.int64))
        if t.shape[0] <= _FEW:
            off = [self._utc_hours.get(int(x) // NS_HOUR) for x in t]
            if None not in off:
                return t + np.array(off, dtype=np.int64)
        out = self._to_server(t)
        if t.shape[0] <= _FEW:
            self._learn(t, out)
        return out

    def to_utc(self, server_ns: np.ndarray | int) -> np.ndarray:
        """UTC ns of server wall-clock times (a repeated DST hour resolved by order, else the later one)."""
        t = np.atleast_1d(np.asarray(server_ns, dtype=np.int64))
        if t.shape[0] <= _FEW:
            off = [self._server_hours.get(int(x) // NS_HOUR) for x in t]
            if None not in off:
                return t - np.array(off, dtype=np.int64)
        out = self._to_utc(t)
        if t.shape[0] <= _FEW:
            self._learn(out, t)
        return out

    def _to_server(self, t: np.ndarray) -> np.ndarray:
        return self.spec.from_utc(t)

    def _to_utc(self, t: np.ndarray) -> np.ndarray:
        spec = self.spec
        try:
            return spec.to_utc(t, ambiguous="infer", nonexistent="shift_forward")
        except Exception:  # a lone repeated hour: take the standard-time (later) instant
            return spec.to_utc(t, ambiguous=np.zeros(len(t), dtype=bool), nonexistent="shift_forward")

    def _learn(self, utc: np.ndarray, server: np.ndarray) -> None:
        """Remember the offset of the hours of these instants where the clock does not change within an hour
        either side (then every wall time of the server hour maps to one instant, and back)."""
        if len(self._utc_hours) > 4096:
            self._utc_hours.clear()
            self._server_hours.clear()
        for u, s in zip(utc.tolist(), server.tolist(), strict=True):
            h = u // NS_HOUR
            if h in self._utc_hours:
                continue
            edges = np.array(
                [(h - 1) * NS_HOUR, h * NS_HOUR, (h + 1) * NS_HOUR - 1, (h + 2) * NS_HOUR - 1], dtype=np.int64
            )
            offs = self._to_server(edges) - edges
            if (offs == offs[0]).all() and int(offs[0]) == s - u:
                off = int(offs[0])
                self._utc_hours[h] = off
                if off % NS_HOUR == 0:  # the server's hour is then one UTC hour
                    self._server_hours[h + off // NS_HOUR] = off

    def offset_ns(self, utc_ns: int) -> int:
        """Server minus UTC at one instant."""
        return int(self.to_server(utc_ns)[0]) - int(utc_ns)


_FEW = 8  # arrays up to this size go through the hour cache


@functools.lru_cache(maxsize=64)
def _spec(text: str) -> TzSpec:
    return parse_tz(text)
