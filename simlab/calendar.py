"""The market calendar: sessions, trading days, swap nights and governor flags per bar.

Everything here is vectorised (pandas does the time-zone arithmetic, numpy the
rest) and works on bar *open* times, int64 nanoseconds since the epoch, UTC.
Zones are IANA names, so daylight saving time is handled by the zone database;
fixed offsets ("UTC+3", "+03:00", "GMT-5") and shifted zones ("America/New_York+7")
are accepted wherever a zone is (one parser: :mod:`simlab.timezones`).

Sessions (``sessions``), by the wall clock of each bar's open time, weekday ignored:

* ROLLOVER  17:00-18:00 America/New_York (the daily rollover: server midnight
  on the usual UTC+2/+3 MT5 servers, wide spreads, thin books);
* LONDON    08:00-17:00 Europe/London;
* NEWYORK   08:00-17:00 America/New_York;
* OVERLAP   London and New York both open;
* ASIA      everything else.

Each interval includes its start and excludes its end. Where two apply, the
precedence is rollover > overlap > london > newyork > asia. Because London and
New York each follow their own zone, the overlap is 4 hours most of the year
(12:00-16:00 UTC in summer) and 5 hours in the weeks when the US has changed
its clocks and Europe has not (e.g. 2024-03-10 .. 2024-03-30: 12:00-17:00 UTC).

The weekly close is Friday 17:00 America/New_York; the market reopens on Sunday
at 17:00 New York. The daily broker rollover, which charges swap, is every
17:00 America/New_York.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from simlab import layout
from simlab.errors import ConfigError
from simlab.timezones import fixed_offset, parse_tz

# The time units, one definition each (ns, the unit of every timestamp in simlab).
NS_S = 1_000_000_000
NS_MIN = 60 * NS_S
NS_HOUR = 60 * NS_MIN
NS_DAY = 24 * NS_HOUR
NS_WEEK = 7 * NS_DAY

NEW_YORK = "America/New_York"
LONDON = "Europe/London"

# Wall-clock minutes of day of the session edges.
_LONDON_OPEN, _LONDON_CLOSE = 8 * 60, 17 * 60  # Europe/London
_NY_OPEN, _NY_CLOSE = 8 * 60, 17 * 60  # America/New_York
_ROLL_START, _ROLL_END = 17 * 60, 18 * 60  # America/New_York

# 1970-01-01 was a Thursday: adding 3 days makes "days since epoch" count from Monday 1969-12-29.
EPOCH_WEEKDAY = 3
_TO_MONDAY_NS = EPOCH_WEEKDAY * NS_DAY
ROLLOVER_NS = 17 * NS_HOUR  # 17:00 New York, the daily rollover
# The FX week on the New York wall clock, as ns from Monday 00:00: closes Friday 17:00, reopens Sunday 17:00.
WEEKLY_CLOSE_NS = 4 * NS_DAY + ROLLOVER_NS
WEEKLY_OPEN_NS = 6 * NS_DAY + ROLLOVER_NS

_RESET_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


# ----------------------------------------------------------------------------- zones


def fixed_offset_ns(zone: str) -> int | None:
    """The offset of a fixed-offset zone in ns ("UTC+3", "+03:00", "GMT-5", "UTC"), else None.

    >>> fixed_offset_ns("UTC+3") // 3_600_000_000_000, fixed_offset_ns("-04:30") // 60_000_000_000
    (3, -270)
    >>> fixed_offset_ns("Europe/Prague") is None
    True
    """
    return fixed_offset(zone, "zone")


def check_zone(zone: str, field: str = "zone") -> None:
    """Raise ConfigError unless ``zone`` is a zone :func:`simlab.timezones.parse_tz` accepts."""
    if not isinstance(zone, str) or not zone.strip():
        raise ConfigError(field, f"expected a time zone name like 'Europe/Prague' or 'UTC+3', got {zone!r}")
    parse_tz(zone, field)


def local_time_ns(time_ns: np.ndarray, zone: str) -> np.ndarray:
    """Wall-clock time in ``zone`` of each UTC instant, as int64 ns since 1970-01-01 (local).

    ``zone`` is anything :func:`simlab.timezones.parse_tz` accepts (``America/New_York+7`` too).

    >>> t = np.array([1_711_846_800 * 10**9], dtype=np.int64)  # 2024-03-31 01:00 UTC (after EU DST)
    >>> int((local_time_ns(t, "Europe/Prague") - t)[0] // NS_HOUR)
    2
    """
    return parse_tz(zone, "zone").from_utc(time_ns)


def parse_reset(reset: str, field: str = "reset") -> int:
    """'HH:MM' -> ns after local midnight.

    >>> parse_reset("17:00") // NS_HOUR
    17
    """
    m = _RESET_RE.match(str(reset).strip())
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ConfigError(field, f"expected a local time 'HH:MM' (00:00 .. 23:59), got {reset!r}")
    return int(m.group(1)) * NS_HOUR + int(m.group(2)) * NS_MIN


def _minute_of_day(local_ns: np.ndarray) -> np.ndarray:
    return (local_ns // NS_MIN) % 1440


# ----------------------------------------------------------------------------- weeks


def weekday(day_ids: np.ndarray | int) -> np.ndarray:
    """Weekday (0 = Monday .. 6 = Sunday) of day numbers since 1970-01-01 (int64).

    >>> weekday(np.array([0, 4, 19_737])).tolist()  # 1970-01-01 Thu, 1970-01-05 Mon, 2024-01-15 Mon
    [3, 0, 0]
    """
    return (np.asarray(day_ids, dtype=np.int64) + EPOCH_WEEKDAY) % 7


def ns_into_week(local_ns: np.ndarray) -> np.ndarray:
    """ns since the Monday 00:00 before each wall-clock instant (ns since 1970-01-01 local), int64."""
    return (np.asarray(local_ns, dtype=np.int64) + np.int64(_TO_MONDAY_NS)) % NS_WEEK


def hour_of_week(time_ns: np.ndarray) -> np.ndarray:
    """Hour of the week on the New York wall clock, int64: 0 = Monday 00:00-01:00 .. 167 = Sunday 23:00.

    The one hour-of-week of simlab (execution-model tables, the synthetic volatility profile via
    :func:`hours_since_week_open`).

    >>> t = np.array(["2024-01-15T05:00", "2024-01-14T22:00"], dtype="datetime64[ns]").astype(np.int64)
    >>> hour_of_week(t).tolist()  # Monday 00:00 New York; Sunday 17:00 New York
    [0, 161]
    """
    return ns_into_week(local_time_ns(time_ns, NEW_YORK)) // NS_HOUR


def hours_since_week_open(time_ns: np.ndarray) -> np.ndarray:
    """Hours since the FX week's open (Sunday 17:00 New York), int64: 0 .. 119 while the market is open,
    120 .. 167 over the weekend closure.

    >>> t = np.array(["2024-01-14T22:00", "2024-01-19T21:59"], dtype="datetime64[ns]").astype(np.int64)
    >>> hours_since_week_open(t).tolist()  # Sunday 17:00 New York; Friday 16:59 New York
    [0, 119]
    """
    return (hour_of_week(time_ns) - WEEKLY_OPEN_NS // NS_HOUR) % 168


def in_weekend_closure(time_ns: np.ndarray) -> np.ndarray:
    """True for instants in the FX weekend closure, Friday 17:00 to Sunday 17:00 New York."""
    w = ns_into_week(local_time_ns(time_ns, NEW_YORK))
    return (w >= WEEKLY_CLOSE_NS) & (w < WEEKLY_OPEN_NS)


# ----------------------------------------------------------------------------- sessions


def sessions(time_ns: np.ndarray) -> np.ndarray:
    """``SESSION_*`` code (int8, (n,)) of each bar's open time; see the module docstring.

    >>> t = np.array(["2024-01-15T13:00", "2024-01-15T22:30"], dtype="datetime64[ns]").astype(np.int64)
    >>> sessions(t).tolist()  # 13:00 UTC = 13:00 London, 08:00 NY; 22:30 UTC = 17:30 NY
    [2, 4]
    """
    t = np.ascontiguousarray(time_ns, dtype=np.int64)
    ny = _minute_of_day(local_time_ns(t, NEW_YORK))
    ldn = _minute_of_day(local_time_ns(t, LONDON))
    london_open = (ldn >= _LONDON_OPEN) & (ldn < _LONDON_CLOSE)
    ny_open = (ny >= _NY_OPEN) & (ny < _NY_CLOSE)
    rollover = (ny >= _ROLL_START) & (ny < _ROLL_END)
    out = np.full(t.shape[0], layout.SESSION_ASIA, dtype=np.int8)
    out[ny_open] = layout.SESSION_NEWYORK
    out[london_open] = layout.SESSION_LONDON
    out[london_open & ny_open] = layout.SESSION_OVERLAP
    out[rollover] = layout.SESSION_ROLLOVER
    return out


# ----------------------------------------------------------------------------- trading days


def trading_days(time_ns: np.ndarray, zone: str = "Europe/Prague", reset: str = "00:00") -> np.ndarray:
    """Trading-day id (int64, (n,)) of each bar under a day boundary at local ``reset`` in ``zone``.

    The id is the number of days since 1970-01-01 of the local date of
    (local wall time - reset): the date on which the trading day *begins*. With
    ``reset="17:00", zone="America/New_York"`` the day that starts on Sunday
    17:00 New York has Sunday's date. Only differences and equality of ids are
    meaningful to the kernel. DST days are 23 or 25 hours long, as on the wall
    clock.

    >>> t = np.array(["2024-03-30T22:59", "2024-03-30T23:00"], dtype="datetime64[ns]").astype(np.int64)
    >>> (trading_days(t) - 19812).tolist()  # 23:59 and 00:00 in Prague (UTC+1 that night)
    [0, 1]
    """
    r = parse_reset(reset, "day_reset")
    check_zone(zone, "day_zone")
    return (local_time_ns(time_ns, zone) - np.int64(r)) // NS_DAY


# ----------------------------------------------------------------------------- swaps


def _check_triple_day(triple_day: int) -> int:
    if (
        isinstance(triple_day, bool)
        or not isinstance(triple_day, int | np.integer)
        or not 0 <= triple_day <= 6
    ):
        raise ConfigError("triple_day", f"expected an integer 0 (Monday) .. 6 (Sunday), got {triple_day!r}")
    return int(triple_day)


def swap_nights(time_ns: np.ndarray, triple_day: int = 2) -> np.ndarray:
    """Swap nights (int8, (n,)) charged to a position held from bar t-1 into bar t.

    Counts the broker rollovers, every day at 17:00 America/New_York, that fall in
    (time[t-1], time[t]]; a rollover counts only when its New York date is Monday
    .. Friday, and the one on ``triple_day`` (0 = Monday .. 6 = Sunday; 2 =
    Wednesday) counts 3. Element 0 is 0. Held over a weekend from Friday: 1
    (Friday's rollover). A week held from Monday to Monday: 1+1+3+1+1 = 7.
    Counts above 127 (a gap of many months) are clipped to 127.

    >>> t = np.array(["2024-01-16T21:00", "2024-01-16T23:00", "2024-01-17T23:00"],
    ...              dtype="datetime64[ns]").astype(np.int64)  # Tue 16:00 NY, Tue 18:00, Wed 18:00
    >>> swap_nights(t).tolist()
    [0, 1, 3]
    """
    td = _check_triple_day(triple_day)
    t = np.ascontiguousarray(time_ns, dtype=np.int64)
    n = t.shape[0]
    out = np.zeros(n, dtype=np.int8)
    if n < 2:
        return out
    weight = np.array([1, 1, 1, 1, 1, 0, 0], dtype=np.int64)
    if td < 5:
        weight[td] = 3
    prefix = np.cumsum(weight)  # prefix[j]: weight of Monday .. weekday j
    week_total = int(prefix[-1])
    # k: the Monday-based day number of the last rollover at or before each instant
    k = (local_time_ns(t, NEW_YORK) + np.int64(_TO_MONDAY_NS - ROLLOVER_NS)) // NS_DAY
    cum = (k // 7) * week_total + prefix[k % 7]
    out[1:] = np.clip(np.diff(cum), 0, 127).astype(np.int8)
    return out


# ----------------------------------------------------------------------------- flags


def _weekly_closes_passed(ny_local: np.ndarray) -> np.ndarray:
    """Number of Friday 17:00 New York closes at or before each instant (from an arbitrary origin)."""
    return (ny_local + np.int64(_TO_MONDAY_NS - WEEKLY_CLOSE_NS)) // NS_WEEK


def _ns_until_weekly_close(ny_local: np.ndarray) -> np.ndarray:
    """ns from each instant to the next Friday 17:00 New York close (0 at the close itself)."""
    return (np.int64(WEEKLY_CLOSE_NS) - (ny_local + np.int64(_TO_MONDAY_NS))) % NS_WEEK


def bar_flags(
    time_ns: np.ndarray,
    day_ids: np.ndarray,
    *,
    reset_window_min: float = 0,
    weekend_window_min: float = 0,
    day_zone: str = "Europe/Prague",
    day_reset: str = "00:00",
) -> np.ndarray:
    """``FLAG_*`` bit mask (uint8, (n,)) of each bar.

    * ``FLAG_WEEKEND_GAP`` (always): the first bar after a weekly close (Friday
      17:00 America/New_York): bar t-1 opened before that close, bar t at or after it.
    * ``FLAG_PRE_RESET`` (only when ``reset_window_min > 0``): bar t opens within
      ``reset_window_min`` minutes before the next trading-day boundary
      (boundary - window <= open < boundary), or bar t is the last bar of its
      trading day (``day_ids[t+1] != day_ids[t]``): the last chance to flatten
      before the reset.
    * ``FLAG_PRE_WEEKEND`` (only when ``weekend_window_min > 0``): bar t opens
      within ``weekend_window_min`` minutes before the weekly close
      (close - window <= open < close), or is the last bar before a weekend gap.

    ``day_zone`` / ``day_reset`` must be those ``day_ids`` were computed with
    (they place the boundary for the window test). The last bar of the array has
    no successor; its successor is presumed to open one typical bar spacing
    (median of the last 1000 spacings) later, or at the Sunday reopen if the
    weekly close falls in between, which is what a live runner knows by the clock.
    """
    t = np.ascontiguousarray(time_ns, dtype=np.int64)
    days = np.ascontiguousarray(day_ids, dtype=np.int64)
    n = t.shape[0]
    if days.shape[0] != n:
        raise ValueError(f"day_ids has {days.shape[0]} rows, time_ns {n}")
    flags = np.zeros(n, dtype=np.uint8)
    if n == 0:
        return flags
    ny = local_time_ns(t, NEW_YORK)
    closes = _weekly_closes_passed(ny)
    gap = np.zeros(n, dtype=bool)
    gap[1:] = closes[1:] > closes[:-1]
    flags[gap] |= np.uint8(layout.FLAG_WEEKEND_GAP)

    if reset_window_min <= 0 and weekend_window_min <= 0:
        return flags

    # the presumed successor of the last bar
    spacing = int(np.median(np.diff(t[-1001:]))) if n > 1 else 0
    last_next = int(t[-1]) + spacing
    until_close_last = int(_ns_until_weekly_close(ny[-1:])[0])
    last_crosses_close = spacing > 0 and 0 < until_close_last <= spacing
    if last_crosses_close:  # next bar opens at the Sunday reopen, 2 days after the close
        last_next = int(t[-1]) + until_close_last + 2 * NS_DAY

    if reset_window_min > 0:
        window = np.int64(round(reset_window_min * NS_MIN))
        pre = trading_days(t + window, day_zone, day_reset) > days
        pre[:-1] |= days[1:] != days[:-1]
        if spacing > 0:
            next_day = trading_days(np.array([last_next], dtype=np.int64), day_zone, day_reset)[0]
            pre[-1] |= bool(next_day != days[-1])
        flags[pre] |= np.uint8(layout.FLAG_PRE_RESET)

    if weekend_window_min > 0:
        window = np.int64(round(weekend_window_min * NS_MIN))
        until = _ns_until_weekly_close(ny)
        pre = (until > 0) & (until <= window)
        pre[:-1] |= gap[1:]
        pre[-1] |= last_crosses_close
        flags[pre] |= np.uint8(layout.FLAG_PRE_WEEKEND)
    return flags


# ----------------------------------------------------------------------------- bundle


@dataclass(frozen=True, eq=False)
class Calendar:
    """The per-bar calendar arrays the kernel reads (see ``simlab.layout``)."""

    session: np.ndarray  # int8 (n,) SESSION_*
    day: np.ndarray  # int64 (n,) trading-day id
    swap_nights: np.ndarray  # int8 (n,)
    flags: np.ndarray  # uint8 (n,) FLAG_*
    day_zone: str = "Europe/Prague"
    day_reset: str = "00:00"

    def __len__(self) -> int:
        return int(self.session.shape[0])

    def slice(self, start: int, stop: int) -> Calendar:
        """Rows [start, stop) (views). Element 0's swap nights and weekend-gap flag are kept as computed
        on the full series; a kernel that starts at row 0 of a slice ignores them for the empty position."""
        return Calendar(
            session=self.session[start:stop],
            day=self.day[start:stop],
            swap_nights=self.swap_nights[start:stop],
            flags=self.flags[start:stop],
            day_zone=self.day_zone,
            day_reset=self.day_reset,
        )


def build_calendar(
    bars,
    *,
    day_zone: str = "Europe/Prague",
    day_reset: str = "00:00",
    triple_day: int = 2,
    reset_window_min: float = 0,
    weekend_window_min: float = 0,
) -> Calendar:
    """The calendar of ``bars`` (a ``simlab.bars.Bars`` or anything with an int64 ``time`` array)."""
    t = np.ascontiguousarray(bars.time, dtype=np.int64)
    day = trading_days(t, day_zone, day_reset)
    return Calendar(
        session=sessions(t),
        day=day,
        swap_nights=swap_nights(t, triple_day),
        flags=bar_flags(
            t,
            day,
            reset_window_min=reset_window_min,
            weekend_window_min=weekend_window_min,
            day_zone=day_zone,
            day_reset=day_reset,
        ),
        day_zone=day_zone,
        day_reset=day_reset,
    )
