"""The server clock's hour cache gives what the zone conversion gives, across the clock changes."""

from __future__ import annotations

import numpy as np
import pytest

from live.clock import ServerClock

MIN = 60_000_000_000


@pytest.mark.parametrize("text", ["America/New_York+7", "Europe/Helsinki", "UTC+2", "Australia/Lord_Howe"])
def test_hour_cache_equals_the_zone_conversion_around_clock_changes(text):
    warm = ServerClock.parse(text)  # converts one instant at a time, as the runner does, and learns hours
    days = ["2024-03-10", "2024-03-31", "2024-04-07", "2024-10-06", "2024-10-27", "2024-11-03"]
    for day in days:
        t0 = int(np.datetime64(day + "T00:00", "ns").astype(np.int64)) - 12 * 60 * MIN
        utc = t0 + np.arange(0, 36 * 60, 7, dtype=np.int64) * MIN
        server = ServerClock.parse(text).to_server(utc)  # the whole array: the zone conversion
        for _ in range(2):  # the second pass reads the cache
            got = np.concatenate([warm.to_server(int(u)) for u in utc])
            assert np.array_equal(got, server), day
            back = np.concatenate([warm.to_utc(int(s)) for s in server])
            fresh = np.concatenate([ServerClock.parse(text).to_utc(int(s)) for s in server])
            assert np.array_equal(back, fresh), day  # a lone repeated wall time: the later instant, both ways
    assert warm._utc_hours  # it did learn
