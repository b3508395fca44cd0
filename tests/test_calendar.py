"""Market calendar: hand-computed sessions, trading days, swap nights and flags, DST weeks included."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlab import layout as L
from simlab.bars import Bars
from simlab.calendar import (
    Calendar,
    bar_flags,
    build_calendar,
    local_time_ns,
    sessions,
    swap_nights,
    trading_days,
)
from simlab.errors import ConfigError

H = 3_600_000_000_000
M = 60_000_000_000


def ts(*stamps: str) -> np.ndarray:
    """UTC ISO stamps -> int64 ns."""
    return np.array(stamps, dtype="datetime64[ns]").astype(np.int64)


def day(date: str) -> int:
    return int(np.datetime64(date, "D").astype(np.int64))


def hourly(start: str, end: str) -> np.ndarray:
    """Hourly UTC grid [start, end] inclusive."""
    a, b = ts(start, end)
    return np.arange(a, b + 1, H, dtype=np.int64)


A, LO, OV, NY, RO = L.SESSION_ASIA, L.SESSION_LONDON, L.SESSION_OVERLAP, L.SESSION_NEWYORK, L.SESSION_ROLLOVER


# ----------------------------------------------------------------------------- sessions


@pytest.mark.parametrize(
    "date, expected",
    [
        # winter, both on standard time: London UTC+0, New York UTC-5
        (
            "2024-01-16",
            {
                "07:59": A,
                "08:00": LO,
                "12:59": LO,
                "13:00": OV,  # NY 08:00
                "16:59": OV,
                "17:00": NY,  # London closes
                "21:59": NY,
                "22:00": RO,  # NY 17:00
                "22:59": RO,
                "23:00": A,
                "03:00": A,
            },
        ),
        # summer, both on DST: London UTC+1, New York UTC-4
        (
            "2024-07-16",
            {
                "06:59": A,
                "07:00": LO,
                "11:59": LO,
                "12:00": OV,
                "15:59": OV,
                "16:00": NY,
                "20:59": NY,
                "21:00": RO,
                "21:59": RO,
                "22:00": A,
            },
        ),
        # US on DST since 2024-03-10, Europe not until 2024-03-31: London UTC+0, NY UTC-4
        (
            "2024-03-15",
            {
                "07:59": A,
                "08:00": LO,
                "11:59": LO,
                "12:00": OV,  # NY 08:00
                "16:59": OV,  # a 5-hour overlap these weeks
                "17:00": NY,
                "20:59": NY,
                "21:00": RO,
                "21:59": RO,
                "22:00": A,
            },
        ),
        # Europe back on standard time 2024-10-27, US not until 2024-11-03
        (
            "2024-10-30",
            {"07:59": A, "08:00": LO, "12:00": OV, "16:59": OV, "17:00": NY, "21:00": RO, "22:00": A},
        ),
    ],
)
def test_sessions_by_hand(date, expected):
    stamps = [f"{date}T{hm}" for hm in expected]
    assert sessions(ts(*stamps)).tolist() == list(expected.values())


def test_sessions_on_the_us_change_weekend():
    # Friday 2024-03-08 on EST: 21:00 UTC = 16:00 NY; Sunday 2024-03-10 on EDT: 21:00 UTC = 17:00 NY
    assert sessions(
        ts("2024-03-08T21:00", "2024-03-08T22:00", "2024-03-10T21:00", "2024-03-10T22:00")
    ).tolist() == [
        NY,
        RO,
        RO,
        A,
    ]


def _session_ref(t_ns: int) -> int:
    u = datetime.fromtimestamp(t_ns / 1e9, tz=UTC)
    ny = u.astimezone(ZoneInfo("America/New_York"))
    ld = u.astimezone(ZoneInfo("Europe/London"))
    nym, ldm = ny.hour * 60 + ny.minute, ld.hour * 60 + ld.minute
    if 1020 <= nym < 1080:
        return RO
    lo, ny_open = 480 <= ldm < 1020, 480 <= nym < 1020
    if lo and ny_open:
        return OV
    return LO if lo else NY if ny_open else A


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1_200_000_000, 1_900_000_000), min_size=1, max_size=50))
def test_sessions_match_a_zoneinfo_reference(seconds):
    t = np.array(seconds, dtype=np.int64) * 1_000_000_000
    assert sessions(t).tolist() == [_session_ref(int(x)) for x in t]


def test_sessions_dtype_and_empty():
    assert sessions(np.zeros(0, dtype=np.int64)).dtype == np.int8
    assert sessions(np.zeros(0, dtype=np.int64)).shape == (0,)


# ----------------------------------------------------------------------------- trading days


def test_prague_midnight_across_spring_dst_change():
    # 2024-03-30: Prague is UTC+1; 2024-03-31 from 01:00 UTC it is UTC+2
    t = ts(
        "2024-03-30T21:59",  # 22:59 Mar 30
        "2024-03-30T22:00",  # 23:00 Mar 30
        "2024-03-30T22:59",  # 23:59 Mar 30
        "2024-03-30T23:00",  # 00:00 Mar 31
        "2024-03-31T21:59",  # 23:59 Mar 31
        "2024-03-31T22:00",  # 00:00 Apr 1
        "2024-03-31T22:59",
        "2024-03-31T23:00",
    )
    mar30, mar31, apr1 = day("2024-03-30"), day("2024-03-31"), day("2024-04-01")
    assert trading_days(t).tolist() == [mar30, mar30, mar30, mar31, mar31, apr1, apr1, apr1]


def test_prague_midnight_across_autumn_dst_change():
    # 2024-10-26: UTC+2; 2024-10-27 from 01:00 UTC it is UTC+1
    t = ts(
        "2024-10-26T21:59",  # 23:59 Oct 26
        "2024-10-26T22:00",  # 00:00 Oct 27
        "2024-10-26T22:59",
        "2024-10-26T23:00",
        "2024-10-27T21:59",  # 22:59 Oct 27
        "2024-10-27T22:00",  # 23:00 Oct 27
        "2024-10-27T22:59",  # 23:59 Oct 27
        "2024-10-27T23:00",  # 00:00 Oct 28
    )
    o26, o27, o28 = day("2024-10-26"), day("2024-10-27"), day("2024-10-28")
    assert trading_days(t).tolist() == [o26, o27, o27, o27, o27, o27, o27, o28]


def test_dst_days_have_23_and_25_hours():
    for start, end, date, hours in [
        ("2024-03-30T00:00", "2024-04-02T00:00", "2024-03-31", 23),
        ("2024-10-26T00:00", "2024-10-29T00:00", "2024-10-27", 25),
    ]:
        d = trading_days(hourly(start, end))
        assert int((d == day(date)).sum()) == hours


def test_reset_17_new_york_and_fixed_offsets():
    t = ts("2024-01-15T21:59", "2024-01-15T22:00", "2024-07-15T20:59", "2024-07-15T21:00")
    # NY 16:59 Mon -> day that began Sunday 17:00; 17:00 Mon -> Monday's; same in summer (UTC-4)
    assert trading_days(t, "America/New_York", "17:00").tolist() == [
        day("2024-01-14"),
        day("2024-01-15"),
        day("2024-07-14"),
        day("2024-07-15"),
    ]
    u = ts("2024-01-15T20:59", "2024-01-15T21:00")  # 23:59 / 00:00 at UTC+3
    for zone in ("UTC+3", "+03:00", "GMT+3", "utc+03:00", "+0300"):
        assert trading_days(u, zone).tolist() == [day("2024-01-15"), day("2024-01-16")], zone
    assert trading_days(ts("2024-01-15T23:59", "2024-01-16T00:00"), "UTC").tolist() == [
        day("2024-01-15"),
        day("2024-01-16"),
    ]
    # negative offset with minutes, and a reset that is not on the hour
    v = ts("2024-01-15T14:29", "2024-01-15T14:30")  # 09:59 / 10:00 at UTC-4:30
    assert trading_days(v, "UTC-04:30", "10:00").tolist() == [day("2024-01-14"), day("2024-01-15")]


@pytest.mark.parametrize(
    "zone, reset, field",
    [
        ("Mars/Olympus", "00:00", "day_zone"),
        ("", "00:00", "day_zone"),
        ("UTC+15", "00:00", "day_zone"),  # the field given, not a generic "zone"
        ("Europe/Prague", "24:00", "day_reset"),
        ("Europe/Prague", "7pm", "day_reset"),
    ],
)
def test_bad_zone_or_reset_is_a_config_error(zone, reset, field):
    with pytest.raises(ConfigError) as ei:
        trading_days(ts("2024-01-15T00:00"), zone, reset)
    assert ei.value.where == field
    assert "\n" not in str(ei.value)


def test_local_time_ns_dst_offsets():
    t = ts("2024-01-15T12:00", "2024-07-15T12:00")
    assert ((local_time_ns(t, "America/New_York") - t) // H).tolist() == [-5, -4]
    assert ((local_time_ns(t, "Europe/Helsinki") - t) // H).tolist() == [2, 3]


# ----------------------------------------------------------------------------- swap nights


def test_swap_nights_tuesday_and_wednesday_rollovers():
    # Tue 2024-01-16 16:00 NY -> 18:00 NY: crosses Tuesday's rollover
    assert swap_nights(ts("2024-01-16T21:00", "2024-01-16T23:00")).tolist() == [0, 1]
    # Wed 2024-01-17: Wednesday's rollover is the triple one
    assert swap_nights(ts("2024-01-17T21:00", "2024-01-17T23:00")).tolist() == [0, 3]
    # Tue 12:00 NY -> Wed 12:00 NY: one rollover (Tuesday's)
    assert swap_nights(ts("2024-01-16T17:00", "2024-01-17T17:00")).tolist() == [0, 1]


def test_swap_nights_weekend_from_friday_costs_one():
    # Fri 2024-01-19 16:00 NY -> Mon 2024-01-22 03:00 NY: Fri's rollover counts, Sat's and Sun's do not
    assert swap_nights(ts("2024-01-19T21:00", "2024-01-22T08:00")).tolist() == [0, 1]
    # with the triple day on Friday (index CFDs) the same weekend costs 3
    assert swap_nights(ts("2024-01-19T21:00", "2024-01-22T08:00"), triple_day=4).tolist() == [0, 3]
    # Friday close -> Sunday reopen, both at 17:00 NY: (Fri 16:59, Sun 17:00] holds Fri's only
    assert swap_nights(ts("2024-01-19T21:59", "2024-01-21T22:00")).tolist() == [0, 1]


def test_swap_nights_boundary_is_at_17_new_york_inclusive():
    # winter: 17:00 NY = 22:00 UTC; the bar opening at the rollover is the one charged
    assert swap_nights(ts("2024-01-16T21:59", "2024-01-16T22:00", "2024-01-16T22:01")).tolist() == [0, 1, 0]
    # summer: 17:00 NY = 21:00 UTC (Thursday)
    assert swap_nights(ts("2024-07-18T20:59", "2024-07-18T21:00", "2024-07-18T21:01")).tolist() == [0, 1, 0]
    # the US-only DST weeks: 2024-03-13 (Wednesday) rollover at 21:00 UTC
    assert swap_nights(ts("2024-03-13T20:59", "2024-03-13T21:00")).tolist() == [0, 3]


@pytest.mark.parametrize("week_start", ["2024-01-14", "2024-03-10", "2024-03-31", "2024-07-14", "2024-10-27"])
def test_hourly_bars_over_a_trading_week_sum_to_seven(week_start):
    # every hour from the Sunday through the next Sunday evening: Mon, Tue, Wed (x3), Thu, Fri
    start = np.datetime64(week_start + "T23:00")
    t = hourly(str(start), str(start + np.timedelta64(7 * 24 - 1, "h")))
    n = swap_nights(t)
    assert n.dtype == np.int8
    assert int(n.sum()) == 7
    assert sorted(n[n > 0].tolist()) == [1, 1, 1, 1, 3]


def test_swap_nights_are_additive():
    rng = np.random.default_rng(3)
    t = np.sort(rng.integers(1_600_000_000, 1_700_000_000, 500)) * 1_000_000_000
    t = np.unique(t)
    fine = swap_nights(t)
    coarse = swap_nights(t[[0, 40]])
    assert int(fine[1:41].sum()) == int(coarse[1])
    assert swap_nights(t[:1]).tolist() == [0]
    assert swap_nights(np.zeros(0, dtype=np.int64)).shape == (0,)


@pytest.mark.parametrize("bad", [-1, 7, 2.0, True, "wed"])
def test_swap_bad_triple_day(bad):
    with pytest.raises(ConfigError):
        swap_nights(ts("2024-01-15T00:00", "2024-01-16T00:00"), triple_day=bad)


# ----------------------------------------------------------------------------- flags


def test_weekend_gap_on_the_first_sunday_bar():
    t = ts("2024-01-19T20:00", "2024-01-19T21:00", "2024-01-21T22:00", "2024-01-21T23:00")
    f = bar_flags(t, trading_days(t))
    assert f.dtype == np.uint8
    assert f.tolist() == [0, 0, L.FLAG_WEEKEND_GAP, 0]
    # summer: the last Friday bar opens 20:00 UTC (16:00 NY), Sunday reopens 21:00 UTC
    s = ts("2024-07-19T19:00", "2024-07-19T20:00", "2024-07-21T21:00", "2024-07-21T22:00")
    assert bar_flags(s, trading_days(s)).tolist() == [0, 0, L.FLAG_WEEKEND_GAP, 0]


def test_no_flags_mid_week_without_windows():
    t = hourly("2024-01-15T00:00", "2024-01-19T20:00")
    assert not bar_flags(t, trading_days(t)).any()


def test_pre_reset_window_minute_bars():
    # Prague midnight = 23:00 UTC in winter; window 10 min: bars opening 22:50 .. 22:59 UTC
    t = np.arange(*ts("2024-01-16T22:40", "2024-01-16T23:10"), M, dtype=np.int64)
    f = bar_flags(t, trading_days(t), reset_window_min=10)
    hm = [str(x)[11:16] for x in t.astype("datetime64[ns]")]
    flagged = [h for h, x in zip(hm, f) if x & L.FLAG_PRE_RESET]
    assert flagged == [f"22:{m}" for m in range(50, 60)]
    assert not (f & L.FLAG_PRE_WEEKEND).any()
    # no window, no pre-reset flags
    assert not (bar_flags(t, trading_days(t)) & L.FLAG_PRE_RESET).any()


def test_pre_reset_last_bar_of_the_day_hourly():
    # hourly bars: 22:00 UTC (23:00 Prague) opens 60 min before midnight, but it is the day's last bar
    t = hourly("2024-01-16T19:00", "2024-01-17T01:00")
    f = bar_flags(t, trading_days(t), reset_window_min=10)
    assert (f & L.FLAG_PRE_RESET).tolist() == [0, 0, 0, 1, 0, 0, 0]
    # summer: Prague midnight = 22:00 UTC, so 21:00 UTC is the last bar
    s = hourly("2024-07-16T19:00", "2024-07-17T01:00")
    assert (bar_flags(s, trading_days(s), reset_window_min=10) & L.FLAG_PRE_RESET).tolist() == [
        0,
        0,
        1,
        0,
        0,
        0,
        0,
    ]


def test_pre_reset_last_bar_of_the_array_is_judged_by_the_clock():
    a = hourly("2024-01-16T18:00", "2024-01-16T22:00")  # next would be 23:00 UTC = Prague midnight
    assert bar_flags(a, trading_days(a), reset_window_min=10)[-1] & L.FLAG_PRE_RESET
    b = hourly("2024-01-16T18:00", "2024-01-16T21:00")  # next would be 22:00 UTC, same day
    assert not bar_flags(b, trading_days(b), reset_window_min=10)[-1] & L.FLAG_PRE_RESET


def test_pre_reset_with_new_york_17_reset():
    t = hourly("2024-01-16T19:00", "2024-01-16T23:00")  # 14:00 .. 18:00 NY
    d = trading_days(t, "America/New_York", "17:00")
    f = bar_flags(t, d, reset_window_min=30, day_zone="America/New_York", day_reset="17:00")
    assert (f & L.FLAG_PRE_RESET).tolist() == [0, 0, 1, 0, 0]  # 16:00 NY bar is the day's last


def test_pre_weekend_window_and_last_bar_before_the_gap():
    # 1-minute bars up to Friday 16:59 NY (21:59 UTC in winter), then the Sunday reopen
    fri = np.arange(*ts("2024-01-19T21:00", "2024-01-19T22:00"), M, dtype=np.int64)
    t = np.concatenate([fri, ts("2024-01-21T22:00", "2024-01-21T22:01")])
    f = bar_flags(t, trading_days(t), weekend_window_min=30)
    pre = (f & L.FLAG_PRE_WEEKEND) > 0
    assert pre[:30].sum() == 0 and pre[30:60].all()  # 21:30 .. 21:59 UTC
    assert not pre[60:].any()
    assert (f & L.FLAG_WEEKEND_GAP).tolist() == [0] * 60 + [L.FLAG_WEEKEND_GAP, 0]
    # hourly bars, window shorter than a bar: the 21:00 UTC bar is the last before the gap
    h = np.concatenate([hourly("2024-01-19T18:00", "2024-01-19T21:00"), ts("2024-01-21T22:00")])
    fh = bar_flags(h, trading_days(h), weekend_window_min=10)
    assert (fh & L.FLAG_PRE_WEEKEND).tolist() == [0, 0, 0, L.FLAG_PRE_WEEKEND, 0]
    # both windows: the Friday's last bar is also the last bar of Friday's trading day
    fb = bar_flags(h, trading_days(h), weekend_window_min=10, reset_window_min=10)
    assert fb[3] == L.FLAG_PRE_WEEKEND | L.FLAG_PRE_RESET


def test_pre_weekend_last_bar_of_the_array_is_judged_by_the_clock():
    h = hourly("2024-07-19T17:00", "2024-07-19T20:00")  # summer: 20:00 UTC = 16:00 NY, the week's last
    f = bar_flags(h, trading_days(h), weekend_window_min=10, reset_window_min=10)
    assert f[-1] == L.FLAG_PRE_WEEKEND | L.FLAG_PRE_RESET
    assert not f[:-1].any()


def test_bar_flags_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        bar_flags(ts("2024-01-16T00:00"), np.zeros(2, dtype=np.int64))


# ----------------------------------------------------------------------------- bundle and speed


def _bars(t: np.ndarray) -> Bars:
    p = np.full((t.shape[0], 4), 1.1)
    return Bars(time=t, bid=p, ask=p + 1e-4, volume=np.zeros(t.shape[0]))


def test_build_calendar_bundles_everything():
    t = hourly("2024-01-15T00:00", "2024-01-19T21:00")
    t = np.concatenate([t, ts("2024-01-21T22:00", "2024-01-21T23:00")])
    cal = build_calendar(_bars(t), day_zone="Europe/Prague", reset_window_min=15, weekend_window_min=15)
    assert isinstance(cal, Calendar) and len(cal) == t.shape[0]
    assert cal.session.dtype == np.int8 and cal.day.dtype == np.int64
    assert cal.swap_nights.dtype == np.int8 and cal.flags.dtype == np.uint8
    np.testing.assert_array_equal(cal.session, sessions(t))
    np.testing.assert_array_equal(cal.day, trading_days(t))
    np.testing.assert_array_equal(cal.swap_nights, swap_nights(t))
    assert int(cal.swap_nights.sum()) == 7
    assert cal.flags[-2] & L.FLAG_WEEKEND_GAP
    part = cal.slice(10, 20)
    assert len(part) == 10 and part.day_zone == "Europe/Prague"
    np.testing.assert_array_equal(part.day, cal.day[10:20])


# ----------------------------------------------------------------------------- weeks: one definition each


def test_weekday_of_day_numbers_by_hand():
    from simlab.calendar import weekday

    # 1970-01-01 Thursday, 1970-01-04 Sunday, 1970-01-05 Monday, 2024-01-15 Monday (day 19737), 1969-12-31 Wed
    assert weekday(np.array([0, 3, 4, 19_737, -1])).tolist() == [3, 6, 0, 0, 2]


def test_hour_of_week_and_hours_since_the_week_open_by_hand():
    from simlab.calendar import hour_of_week, hours_since_week_open

    # winter (New York = UTC-5): Monday 2024-01-15 00:00 NY = 05:00 UTC; Sunday 2024-01-14 17:00 NY = 22:00 UTC;
    # Friday 2024-01-19 16:00 NY = 21:00 UTC; summer (UTC-4): Monday 2024-07-15 00:30 NY = 04:30 UTC
    t = ts("2024-01-15T05:00", "2024-01-14T22:00", "2024-01-19T21:00", "2024-07-15T04:30", "2024-01-20T12:00")
    assert hour_of_week(t).tolist() == [0, 6 * 24 + 17, 4 * 24 + 16, 0, 5 * 24 + 7]
    # the synthetic profile's clock: hours since Sunday 17:00 NY; the Friday 16:00 hour is the week's 119th
    assert hours_since_week_open(t).tolist() == [7, 0, 119, 7, 120 + 14]


def test_weekend_closure_edges():
    from simlab.calendar import in_weekend_closure

    # Friday 2024-01-19 17:00 NY = 22:00 UTC (closed from here), Sunday 2024-01-21 17:00 NY = 22:00 UTC (open)
    t = ts("2024-01-19T21:59", "2024-01-19T22:00", "2024-01-21T21:59", "2024-01-21T22:00")
    assert in_weekend_closure(t).tolist() == [False, True, True, False]


def test_time_units_and_the_weekday_trick_live_only_in_the_calendar():
    """Every package takes its time units and weekday arithmetic from simlab.calendar (issue 11)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    patterns = {
        "a time-unit constant": re.compile(r"^_?(NS|NS_PER)_?(S|MIN|H|HOUR|DAY|WEEK)\s*=", re.M),
        "the 1970-01-01-was-a-Thursday trick": re.compile(r"\+\s*3\)\s*%\s*7"),
        "a literal day or hour in ns": re.compile(
            r"86_?400_?000_?000_?000|3_?600_?000_?000_?000|86_?400 \* 10"
        ),
    }
    found = []
    for pkg in (
        "simlab",
        "simlab_cli",
        "strategies",
        "execution_models",
        "challenges",
        "rl",
        "live",
        "reports",
    ):
        for path in sorted((root / pkg).rglob("*.py")):
            if path.name == "calendar.py" and path.parent.name == "simlab":
                continue
            lines = path.read_text(encoding="utf-8").splitlines()
            text = "\n".join(
                x for x in lines if not x.lstrip().startswith(">>>")
            )  # doctests may spell values out
            found += [f"{path.relative_to(root)}: {what}" for what, rx in patterns.items() if rx.search(text)]
    assert not found, "\n".join(found)
