"""One parser for every ``--tz``: fixed offsets, IANA zones and a zone's clock plus N hours.

The "New York + 7 h" server clock of many prop-firm MT5 servers is UTC+2 in the northern
winter and UTC+3 while the US is on daylight time. It is not Europe/Helsinki: in the weeks
when the US has changed its clocks and the EU has not (2024-03-10 .. 2024-03-31 and
2024-10-27 .. 2024-11-03) the two differ by an hour. Every place that reads a zone
(loaders, calibration, trade lists, the calendar, ``inspect``) uses the same parser.
"""

from __future__ import annotations

import numpy as np
import pytest
from _builders import run_simlab
from data_helpers import MT5_BARS_HEADER, mt5_bar, ns, write

from simlab.calendar import local_time_ns
from simlab.errors import ConfigError, InputError
from simlab.loaders import load_bars
from simlab.timezones import parse_tz

H = 3_600_000_000_000
NY7 = "America/New_York+7"

# (UTC instant, NY+7 offset, Helsinki offset) in hours, picked on both sides of each change in 2024:
# US DST 2024-03-10 07:00 UTC .. 2024-11-03 06:00 UTC; EU DST 2024-03-31 01:00 UTC .. 2024-10-27 01:00 UTC
OFFSETS = [
    ("2024-01-15T12:00", 2, 2),
    ("2024-03-10T06:59", 2, 2),
    ("2024-03-10T07:00", 3, 2),  # the US has moved, the EU has not
    ("2024-03-20T12:00", 3, 2),
    ("2024-03-31T00:59", 3, 2),
    ("2024-03-31T01:00", 3, 3),
    ("2024-07-15T12:00", 3, 3),
    ("2024-10-27T00:59", 3, 3),
    ("2024-10-27T01:00", 3, 2),  # the EU has moved back, the US has not
    ("2024-11-03T05:59", 3, 2),
    ("2024-11-03T06:00", 2, 2),
]


@pytest.mark.parametrize("stamp, ny7, helsinki", OFFSETS)
def test_new_york_plus_7_against_helsinki(stamp, ny7, helsinki):
    t = ns(stamp)
    assert int((parse_tz(NY7).from_utc(t) - t)[0] // H) == ny7
    assert int((local_time_ns(t, NY7) - t)[0] // H) == ny7  # the calendar reads the same zone
    assert int((local_time_ns(t, "Europe/Helsinki") - t)[0] // H) == helsinki


def test_server_midnight_is_the_new_york_rollover():
    # 17:00 New York is 00:00 on the server, winter and summer
    t = ns("2024-01-15T22:00", "2024-07-15T21:00")
    local = parse_tz(NY7).from_utc(t)
    assert ((local // H) % 24).tolist() == [0, 0]
    np.testing.assert_array_equal(parse_tz(NY7).to_utc(local), t)


@pytest.mark.parametrize(
    "text, shift_h, zone",
    [
        ("America/New_York+7", 7, "America/New_York"),
        ("America/New_York+07:00", 7, "America/New_York"),
        ("America/New_York + 7h", 7, "America/New_York"),
        ("Europe/London-1", -1, "Europe/London"),
        ("Europe/Berlin+0130", 1.5, "Europe/Berlin"),
    ],
)
def test_zone_plus_hours_forms(text, shift_h, zone):
    spec = parse_tz(text)
    assert spec.zone is not None and spec.zone.key == zone and spec.shift_ns == shift_h * H


def test_iana_names_with_a_sign_keep_their_meaning():
    spec = parse_tz("Etc/GMT+5")  # POSIX sign: UTC-5, not "Etc/GMT plus 5 hours"
    t = ns("2024-01-15T12:00")
    assert spec.shift_ns == 0 and int((spec.from_utc(t) - t)[0] // H) == -5


@pytest.mark.parametrize(
    "text, expect",
    [
        ("Mars/Base+7", "unknown time zone 'Mars/Base'"),
        ("America/New_York+15", "offset out of range"),
        ("UTC+3x", "not a valid offset"),
        ("", "tz is empty"),
        ("Europe/Helsinkii", "unknown time zone"),
    ],
)
def test_bad_zones_are_one_line_config_errors(text, expect):
    with pytest.raises(ConfigError) as info:
        parse_tz(text, "--tz")
    msg = str(info.value)
    assert msg.startswith("--tz: ") and expect in msg and "expected" in msg and "\n" not in msg


# ------------------------------------------------------------------ every reader uses it


def _ny7_export(path):
    # Monday 2024-03-11 08:00 on a NY+7 server = 05:00 UTC (the US is on DST, the EU is not yet)
    rows = [
        mt5_bar("2024.03.11", "08:00:00", "1.09000", "1.09010", "1.08990", "1.09005"),
        mt5_bar("2024.03.11", "09:00:00", "1.09005", "1.09020", "1.09000", "1.09010"),
    ]
    return write(path, [MT5_BARS_HEADER, *rows])


def test_loader_reads_a_new_york_plus_7_export(tmp_path):
    f = _ny7_export(tmp_path / "EURUSD_H1_x.csv")
    bars = load_bars(f, tz=NY7)
    np.testing.assert_array_equal(bars.time, ns("2024-03-11T05:00", "2024-03-11T06:00"))
    assert bars.meta["tz"] == NY7 and bars.meta["tz_source"] == "--tz"
    helsinki = load_bars(f, tz="Europe/Helsinki")  # an hour off in this week
    np.testing.assert_array_equal(helsinki.time - bars.time, [H, H])


def test_trade_list_and_calibration_read_the_same_zone(tmp_path):
    from challenges.trade_list import load_trades
    from execution_models.calibrate import read_fills

    trades = write(
        tmp_path / "trades.csv",
        ["open_time,close_time,profit", "2024.03.11 08:00:00,2024.03.11 09:30:00,125.5"],
    )
    t = load_trades(trades, tz=NY7)
    assert t.open_ns.tolist() == ns("2024-03-11T05:00").tolist()
    assert t.close_ns.tolist() == ns("2024-03-11T06:30").tolist()
    fills = write(
        tmp_path / "fills.csv",
        [
            "time,symbol,side,order_type,requested_price,filled_price,latency_ms",
            "2024-03-11 08:00:00,EURUSD,buy,market,1.09000,1.09002,40",
        ],
    )
    ex, _ = read_fills(fills, "EURUSD", NY7)
    assert ex.time_ns.tolist() == ns("2024-03-11T05:00").tolist()


def test_inspect_accepts_the_zone_and_warns_without_one(tmp_path):
    f = _ny7_export(tmp_path / "EURUSD_H1_x.csv")
    proc = run_simlab("inspect", "--data", str(f), "--tz", NY7)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert f"time zone  {NY7} -> UTC" in proc.stdout and "2024-03-11 05:00:00 UTC" in proc.stdout
    proc = run_simlab("inspect", "--data", str(f))
    assert proc.returncode == 0
    (warning,) = proc.stderr.strip().splitlines()
    assert (
        warning.startswith("simlab inspect: warning: no --tz given") and "--tz America/New_York+7" in warning
    )


@pytest.mark.parametrize("command", ["backtest", "challenge"])
def test_backtest_and_challenge_give_the_same_warning_without_tz(tmp_path, command):
    # 3 weeks of hourly EURUSD-like bars on a server clock, read without --tz
    t = np.arange(0, 21 * 24) * H + ns("2024-01-08T00:00")[0]
    rng = np.random.default_rng(3)
    close = 1.09 + np.cumsum(rng.normal(0, 0.0004, t.size))
    rows = []
    for k, (ts, c) in enumerate(zip(t, close, strict=True)):
        d = np.datetime64(int(ts), "ns").astype("datetime64[s]").item()
        o = close[k - 1] if k else c
        hi, lo = max(o, c) + 0.0002, min(o, c) - 0.0002
        rows.append(
            mt5_bar(d.strftime("%Y.%m.%d"), d.strftime("%H:%M:%S"), *(f"{x:.5f}" for x in (o, hi, lo, c)))
        )
    f = write(tmp_path / "EURUSD_H1_2024.csv", [MT5_BARS_HEADER, *rows])
    extra = ("--runs", "2", "--horizon-days", "5") if command == "challenge" else ()
    proc = run_simlab(command, "--data", str(f), "--exec-model", "none", *extra, timeout=600)
    inspect = run_simlab("inspect", "--data", str(f))
    assert proc.returncode in (0, 1), proc.stderr
    want = inspect.stderr.strip().splitlines()[0].replace("simlab inspect:", f"simlab {command}:")
    assert want in proc.stderr.splitlines(), proc.stderr


def test_a_dst_fall_back_hour_without_tz_hints_at_tz(tmp_path):
    rows = [
        mt5_bar("2014.10.26", "03:30:00", "1.37", "1.37", "1.37", "1.37"),
        mt5_bar("2014.10.26", "03:45:00", "1.37", "1.37", "1.37", "1.37"),
        mt5_bar("2014.10.26", "03:00:00", "1.37", "1.37", "1.37", "1.37"),  # the hour again, after the change
    ]
    f = write(tmp_path / "fallback.csv", [MT5_BARS_HEADER, *rows])
    with pytest.raises(InputError) as info:
        load_bars(f)
    msg = str(info.value)
    assert "line 4" in msg and "time goes backwards" in msg and "pass --tz" in msg
    assert len(load_bars(f, tz="Europe/Helsinki")) == 3  # with the zone the rows are in order
    # a jump back of days is not a DST change: no hint
    rows[2] = mt5_bar("2014.10.20", "03:00:00", "1.37", "1.37", "1.37", "1.37")
    with pytest.raises(InputError) as info:
        load_bars(write(tmp_path / "back.csv", [MT5_BARS_HEADER, *rows]))
    assert "pass --tz" not in str(info.value)


def test_the_live_server_clock_is_the_same_parser():
    from live.clock import ServerClock

    t = ns("2024-01-15T12:00", "2024-03-20T12:00", "2024-07-15T12:00")
    for text in (NY7, "Europe/Helsinki", "UTC+2", "Etc/GMT+5"):
        np.testing.assert_array_equal(ServerClock.parse(text).to_server(t), parse_tz(text).from_utc(t))
    # Etc/GMT+5 is UTC-5 (POSIX sign), not "Etc/GMT plus 5 hours" as the clock's own parser had it
    assert ServerClock.parse("Etc/GMT+5").offset_ns(int(t[0])) == -5 * H
