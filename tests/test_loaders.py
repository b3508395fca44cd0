"""Loaders: every format on small hand-made files (exact values), time zones and DST, ticks -> bars,
gap reports, and the real-data acceptance checks against the shared OANDA files."""

from __future__ import annotations

import gzip
import time

import numpy as np
import pandas as pd
import pytest
from data_helpers import (
    BIDASK_HEADER,
    GOOD_BIDASK,
    GOOD_MT5,
    MT5_BARS_HEADER,
    MT5_TICKS_HEADER,
    H,
    M,
    mt5_bar,
    ns,
    write,
)

from simlab.bars import Bars
from simlab.errors import InputError
from simlab.loaders import (
    detect_format,
    format_duration,
    gap_report,
    infer_bar_ns,
    infer_digits,
    load_bars,
    load_ticks,
    load_ticks_info,
    parse_timeframe,
    parse_tz,
    resample_ticks,
)
from simlab.validate import validate_bars

GOOD_MT5_BID = np.array(
    [
        [1.38676, 1.38686, 1.38669, 1.38686],
        [1.38688, 1.38688, 1.38685, 1.38685],
        [1.38686, 1.3869, 1.38686, 1.38689],
        [1.38689, 1.38689, 1.38685, 1.38685],
    ]
)
GOOD_MT5_SPREAD = np.array([11, 13, 13, 12])
# bid + spread * 0.00001, written out by hand. <SPREAD> is the spread at the close: high, low and
# close get the bar's own; the open (right after the previous close) gets the previous bar's,
# and the high widens to hold it (line 5: open 1.38689 + 13 points = 1.38702 > 1.38689 + 12)
GOOD_MT5_ASK = np.array(
    [
        [1.38687, 1.38697, 1.3868, 1.38697],
        [1.38699, 1.38701, 1.38698, 1.38698],
        [1.38699, 1.38703, 1.38699, 1.38702],
        [1.38702, 1.38702, 1.38697, 1.38697],
    ]
)
UTC_0000_0003 = ns("2014-05-01T00:00", "2014-05-01T00:01", "2014-05-01T00:02", "2014-05-01T00:03")


# ------------------------------------------------------------------ MT5 "Export bars"


@pytest.mark.parametrize("tz", ["Europe/Helsinki", "+03:00", "UTC+3", "GMT+3", "+0300", "+3"])
def test_mt5_bars_server_time_to_utc(tmp_path, tz):
    f = write(tmp_path / "EURUSD_M1.csv", GOOD_MT5)
    bars = load_bars(f, tz=tz)
    assert isinstance(bars, Bars)
    np.testing.assert_array_equal(bars.time, UTC_0000_0003)
    np.testing.assert_array_equal(bars.bid, GOOD_MT5_BID)
    np.testing.assert_array_equal(bars.ask, GOOD_MT5_ASK)  # exact: rounded to the 5 digits
    np.testing.assert_array_equal(bars.volume, [5, 7, 3, 4])
    assert bars.meta["format"] == "mt5-bars"
    assert bars.meta["point"] == 1e-5 and bars.meta["digits"] == 5
    assert bars.meta["tz_assumed"] is False and bars.meta["ask_from_spread"] is True
    assert bars.meta["timeframe"] == "1min" and bars.meta["bar_ns"] == M
    assert bars.symbol == "EURUSD" and bars.source == str(f)
    validate_bars(bars)


def test_mt5_bars_without_tz_assumes_utc_and_says_so(tmp_path):
    bars = load_bars(write(tmp_path / "a.csv", GOOD_MT5))
    np.testing.assert_array_equal(bars.time, UTC_0000_0003 + 3 * H)
    assert bars.meta["tz_assumed"] is True


def test_mt5_negative_fixed_offset(tmp_path):
    bars = load_bars(write(tmp_path / "a.csv", GOOD_MT5), tz="-05:00")
    np.testing.assert_array_equal(bars.time, UTC_0000_0003 + 8 * H)


def test_mt5_bars_point_given_and_three_digit_prices(tmp_path):
    lines = [
        MT5_BARS_HEADER,
        mt5_bar("2014.05.01", "03:00:00", "102.123", "102.130", "102.100", "102.11", 1, 15),
        mt5_bar("2014.05.01", "03:05:00", "102.11", "102.2", "102.1", "102.2", 1, 20),
    ]
    f = write(tmp_path / "USDJPY_M5.csv", lines)
    bars = load_bars(f, tz="UTC", symbol="USDJPY")
    assert bars.meta["digits"] == 3 and bars.meta["point"] == 0.001
    np.testing.assert_array_equal(bars.ask[0], [102.138, 102.145, 102.115, 102.125])
    np.testing.assert_array_equal(bars.ask[1], [102.125, 102.22, 102.12, 102.22])  # open: the previous spread
    assert bars.meta["timeframe"] == "5min" and bars.symbol == "USDJPY"
    assert bars.meta["point_source"] == "spec" and bars.meta["symbol_source"] == "--symbol"
    # a point given explicitly is used, and checked against the prices like a spec's
    bars = load_bars(f, tz="UTC", point=0.001)
    assert bars.meta["point_source"] == "--point" and bars.meta["symbol_source"] == "file name"
    np.testing.assert_array_equal(bars.ask[0], [102.138, 102.145, 102.115, 102.125])
    with pytest.raises(
        InputError, match=r"line 2, field '<OPEN>': 102.123 has 3 decimals but --point is 0.01"
    ):
        load_bars(f, tz="UTC", point=0.01)


def test_mt5_daily_export_with_date_only(tmp_path):
    header = "<DATE>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"
    rows = [
        "2014.05.01\t1.3867\t1.3890\t1.3850\t1.3880\t1000\t0\t10",
        "2014.05.02\t1.3880\t1.3900\t1.3860\t1.3870\t900\t0\t8",
    ]
    bars = load_bars(write(tmp_path / "D1.csv", [header, *rows]), point=0.0001)  # a 4-digit broker's export
    np.testing.assert_array_equal(bars.time, ns("2014-05-01", "2014-05-02"))
    assert bars.meta["digits"] == 4 and bars.meta["file_digits"] == 4
    np.testing.assert_array_equal(bars.ask[:, 3], [1.3890, 1.3878])
    # and the variant with the time inside <DATE>
    rows = [r.replace("\t", " 00:00\t", 1) for r in rows]
    bars2 = load_bars(write(tmp_path / "D1b.csv", [header, *rows]), tz="+02:00", point=0.0001)
    np.testing.assert_array_equal(bars2.time, ns("2014-04-30T22:00", "2014-05-01T22:00"))


def test_mt5_bars_crlf_and_utf16(tmp_path):
    f = write(tmp_path / "crlf.csv", GOOD_MT5, newline="\r\n")
    np.testing.assert_array_equal(load_bars(f, tz="+03:00").time, UTC_0000_0003)
    g = tmp_path / "utf16.csv"
    g.write_bytes(
        ("\r\n".join(GOOD_MT5) + "\r\n").encode("utf-16")
    )  # MT5's "Unicode" export: BOM + UTF-16 LE
    b = load_bars(g, tz="+03:00")
    np.testing.assert_array_equal(b.time, UTC_0000_0003)
    np.testing.assert_array_equal(b.ask, GOOD_MT5_ASK)


# ------------------------------------------------------------------ DST (Europe/Helsinki server time)


def test_helsinki_file_across_last_sunday_of_march(tmp_path):
    # EU DST starts Sunday 2014-03-30 01:00 UTC: Helsinki goes from UTC+2 to UTC+3.
    lines = [
        MT5_BARS_HEADER,
        mt5_bar("2014.03.28", "23:58:00", "1.37", "1.371", "1.369", "1.37"),  # Fri, UTC+2
        mt5_bar("2014.03.28", "23:59:00", "1.37", "1.371", "1.369", "1.37"),
        mt5_bar("2014.03.31", "00:00:00", "1.37", "1.371", "1.369", "1.37"),  # Mon 00:00 local, UTC+3
        mt5_bar("2014.03.31", "00:01:00", "1.37", "1.371", "1.369", "1.37"),
    ]
    bars = load_bars(write(tmp_path / "dst.csv", lines), tz="Europe/Helsinki")
    expected = ns("2014-03-28T21:58", "2014-03-28T21:59", "2014-03-30T21:00", "2014-03-30T21:01")
    np.testing.assert_array_equal(bars.time, expected)
    # the same week in the data as a +02:00 fixed-offset server would give one hour later on Sunday
    fixed = load_bars(write(tmp_path / "dst2.csv", lines), tz="+02:00")
    np.testing.assert_array_equal(fixed.time - expected, [0, 0, H, H])


def test_helsinki_clock_jump_and_repeat_hour(tmp_path):
    spring = [
        MT5_BARS_HEADER,
        mt5_bar("2014.03.30", "02:58:00", "1.37", "1.37", "1.37", "1.37"),
        mt5_bar("2014.03.30", "02:59:00", "1.37", "1.37", "1.37", "1.37"),
        mt5_bar("2014.03.30", "04:00:00", "1.37", "1.37", "1.37", "1.37"),  # 03:xx does not exist locally
        mt5_bar("2014.03.30", "04:01:00", "1.37", "1.37", "1.37", "1.37"),
    ]
    bars = load_bars(write(tmp_path / "spring.csv", spring), tz="Europe/Helsinki")
    np.testing.assert_array_equal(
        bars.time, ns("2014-03-30T00:58", "2014-03-30T00:59", "2014-03-30T01:00", "2014-03-30T01:01")
    )
    autumn = [
        MT5_BARS_HEADER,
        mt5_bar("2014.10.26", "03:58:00", "1.27", "1.27", "1.27", "1.27"),  # EEST, UTC+3
        mt5_bar("2014.10.26", "03:59:00", "1.27", "1.27", "1.27", "1.27"),
        mt5_bar("2014.10.26", "03:00:00", "1.27", "1.27", "1.27", "1.27"),  # the hour again, EET, UTC+2
        mt5_bar("2014.10.26", "03:01:00", "1.27", "1.27", "1.27", "1.27"),
        mt5_bar("2014.10.26", "04:00:00", "1.27", "1.27", "1.27", "1.27"),
    ]
    bars = load_bars(write(tmp_path / "autumn.csv", autumn), tz="Europe/Helsinki")
    np.testing.assert_array_equal(
        bars.time,
        ns(
            "2014-10-26T00:58", "2014-10-26T00:59", "2014-10-26T01:00", "2014-10-26T01:01", "2014-10-26T02:00"
        ),
    )


def test_dst_problems_name_the_row(tmp_path):
    lines = [
        MT5_BARS_HEADER,
        mt5_bar("2014.03.30", "02:59:00", "1.37", "1.37", "1.37", "1.37"),
        mt5_bar("2014.03.30", "03:59:00", "1.37", "1.37", "1.37", "1.37"),
    ]
    with pytest.raises(
        InputError, match=r"line 3, field '<DATE> <TIME>': local time '2014.03.30 03:59:00' does not exist"
    ):
        load_bars(write(tmp_path / "x.csv", lines), tz="Europe/Helsinki")


# ------------------------------------------------------------------ MT5 "Export ticks"


def test_mt5_ticks_forward_fill_and_drops(tmp_path):
    lines = [
        MT5_TICKS_HEADER,
        "2014.05.01\t03:00:00.100\t\t1.38690\t\t\t4",  # no bid known yet: dropped
        "2014.05.01\t03:00:00.292\t1.38676\t1.38686\t\t\t6",
        "2014.05.01\t03:00:00.920\t\t1.38687\t\t\t4",  # bid unchanged
        "2014.05.01\t03:00:01.500\t1.38670\t\t\t\t2",  # ask unchanged
        "2014.05.01\t03:00:02.000\t\t\t1.3868\t1\t8",  # last only: no quote change, dropped
        "2014.05.01\t03:00:02.000\t1.38671\t1.38685\t\t\t6",  # same millisecond as the row before: allowed
    ]
    f = write(tmp_path / "ticks.csv", lines)
    t, bid, ask = load_ticks(f, tz="Europe/Helsinki")
    np.testing.assert_array_equal(
        t,
        ns(
            "2014-05-01T00:00:00.292",
            "2014-05-01T00:00:00.920",
            "2014-05-01T00:00:01.500",
            "2014-05-01T00:00:02.000",
        ),
    )
    np.testing.assert_array_equal(bid, [1.38676, 1.38676, 1.38670, 1.38671])
    np.testing.assert_array_equal(ask, [1.38686, 1.38687, 1.38687, 1.38685])
    info = load_ticks_info(f, tz="Europe/Helsinki")
    assert info.meta["dropped_rows"] == 2 and info.meta["format"] == "mt5-ticks"
    assert detect_format(f) == "mt5-ticks"
    bars = load_bars(f, tz="Europe/Helsinki")  # ticks -> 1min bars
    np.testing.assert_array_equal(bars.time, ns("2014-05-01T00:00"))
    np.testing.assert_array_equal(bars.bid, [[1.38676, 1.38676, 1.38670, 1.38671]])
    np.testing.assert_array_equal(bars.ask, [[1.38686, 1.38687, 1.38685, 1.38685]])
    np.testing.assert_array_equal(bars.volume, [4])


# ------------------------------------------------------------------ generic CSV / Parquet bars


GOOD_BIDASK_BID = np.array(
    [
        [1.38676, 1.38686, 1.38669, 1.38686],
        [1.38688, 1.38688, 1.38685, 1.38685],
        [1.38686, 1.3869, 1.38686, 1.38689],
        [1.38689, 1.38689, 1.38685, 1.38685],
    ]
)
GOOD_BIDASK_ASK = np.array(
    [
        [1.38686, 1.38697, 1.3868, 1.38697],
        [1.387, 1.387, 1.38696, 1.38698],
        [1.38698, 1.38702, 1.38697, 1.38702],
        [1.387, 1.38701, 1.38696, 1.38697],
    ]
)


def test_generic_bidask_csv_with_z_times(tmp_path):
    f = write(tmp_path / "bars.csv", GOOD_BIDASK)
    bars = load_bars(f, tz="Europe/Helsinki")  # the file's Z wins over tz
    np.testing.assert_array_equal(bars.time, UTC_0000_0003)
    np.testing.assert_array_equal(bars.bid, GOOD_BIDASK_BID)
    np.testing.assert_array_equal(bars.ask, GOOD_BIDASK_ASK)
    np.testing.assert_array_equal(bars.volume, np.zeros(4))
    assert bars.meta["format"] == "csv" and bars.meta["tz_assumed"] is False
    assert bars.meta["tz_ignored"] == "Europe/Helsinki"
    assert detect_format(f) == "csv"


def test_generic_csv_gz_offsets_naive_and_blank_lines(tmp_path):
    text = "\n".join(GOOD_BIDASK).replace("Z,", "+02:00,") + "\n\n"
    g = tmp_path / "bars.csv.gz"
    g.write_bytes(gzip.compress(text.encode()))
    bars = load_bars(g)
    np.testing.assert_array_equal(bars.time, UTC_0000_0003 - 2 * H)
    naive = "\n".join(GOOD_BIDASK).replace("Z,", ",").replace("T", " ")
    bars = load_bars(write(tmp_path / "naive.csv", naive), tz="Europe/Helsinki")
    np.testing.assert_array_equal(bars.time, UTC_0000_0003 - 3 * H)
    bars = load_bars(write(tmp_path / "naive2.csv", naive))
    np.testing.assert_array_equal(bars.time, UTC_0000_0003)
    assert bars.meta["tz_assumed"] is True


def test_generic_ohlc_spread_semicolon_volume_and_capitalised_names(tmp_path):
    lines = [
        "Timestamp;Open;High;Low;Close;Spread;TickVol",
        "2014-05-01 00:00:00;1.3867;1.3869;1.3866;1.3868;12;40",
        "2014-05-01 00:01:00;1.3868;1.3868;1.3865;1.3866;0;35",
    ]
    bars = load_bars(write(tmp_path / "ohlc.csv", lines), point=0.00001)
    np.testing.assert_array_equal(bars.time, ns("2014-05-01T00:00", "2014-05-01T00:01"))
    np.testing.assert_array_equal(bars.ask[0], [1.38682, 1.38702, 1.38672, 1.38692])
    # spread 0 at the second close; its open follows the first close (12 points), the high widens
    np.testing.assert_array_equal(bars.ask[1], [1.38692, 1.38692, 1.3865, 1.3866])
    np.testing.assert_array_equal(bars.volume, [40, 35])


def test_generic_date_and_time_columns_and_epoch_times(tmp_path):
    lines = [
        "Date,Time,Bid_Open,Bid_High,Bid_Low,Bid_Close,Ask_Open,Ask_High,Ask_Low,Ask_Close,Volume",
        "2014-05-01,03:00,1.1,1.2,1.0,1.15,1.1001,1.2001,1.0001,1.1501,7",
    ]
    bars = load_bars(write(tmp_path / "dt.csv", lines), tz="UTC+3")
    np.testing.assert_array_equal(bars.time, ns("2014-05-01T00:00"))
    np.testing.assert_array_equal(bars.volume, [7])
    epoch = int(ns("2014-05-01T00:00")[0] // 1_000_000)  # milliseconds
    lines = [BIDASK_HEADER, f"{epoch},1.1,1.2,1.0,1.15,1.1001,1.2001,1.0001,1.1501"]
    bars = load_bars(write(tmp_path / "epoch.csv", lines))
    np.testing.assert_array_equal(bars.time, ns("2014-05-01T00:00"))


def test_parquet_bars_and_ticks(tmp_path):
    df = pd.DataFrame(
        {
            "time": pd.to_datetime(["2014-05-01 03:00", "2014-05-01 03:01"]).tz_localize("Europe/Helsinki"),
            "bid_open": [1.1, 1.2],
            "bid_high": [1.2, 1.3],
            "bid_low": [1.0, 1.1],
            "bid_close": [1.2, 1.25],
            "ask_open": [1.1001, 1.2001],
            "ask_high": [1.2001, 1.3001],
            "ask_low": [1.0001, 1.1001],
            "ask_close": [1.2001, 1.2501],
        }
    )
    p = tmp_path / "bars.parquet"
    df.to_parquet(p)
    bars = load_bars(p)
    np.testing.assert_array_equal(bars.time, ns("2014-05-01T00:00", "2014-05-01T00:01"))
    np.testing.assert_array_equal(bars.ask[:, 3], [1.2001, 1.2501])
    assert bars.meta["format"] == "parquet" and detect_format(p) == "parquet"
    # naive times in Parquet take the tz
    df["time"] = df["time"].dt.tz_localize(None)
    df.to_parquet(p)
    np.testing.assert_array_equal(load_bars(p, tz="+03:00").time, ns("2014-05-01T00:00", "2014-05-01T00:01"))
    # a bad row in Parquet is named as a 1-based row
    df.loc[1, "ask_close"] = 1.0
    df.to_parquet(p)
    with pytest.raises(InputError, match=r"row 2, field 'ask_close': close 1 is outside \[low 1.1001"):
        load_bars(p)
    q = tmp_path / "ticks.parquet"
    pd.DataFrame(
        {"time": pd.to_datetime(["2014-05-01T00:00:01Z"]), "bid": [1.1], "ask": [1.1002]}
    ).to_parquet(q)
    t, b, a = load_ticks(q)
    assert t.tolist() == ns("2014-05-01T00:00:01").tolist() and b.tolist() == [1.1] and a.tolist() == [1.1002]
    assert detect_format(q) == "ticks"


# ------------------------------------------------------------------ tick files and resampling

TICKS = [
    "time,bid,ask",
    "2014-05-01T00:00:00.292Z,1.38676,1.38686",
    "2014-05-01T00:00:09.222Z,1.38673,1.38687",
    "2014-05-01T00:00:31.000Z,1.38690,1.38699",
    "2014-05-01T00:00:59.999Z,1.38680,1.38691",
    "2014-05-01T00:01:00.000Z,1.38681,1.38690",
    "2014-05-01T00:03:30.500Z,1.38700,1.38712",
    "2014-05-01T00:03:30.500Z,1.38701,1.38712",
]


def test_tick_csv_and_resample_by_hand(tmp_path):
    f = write(tmp_path / "ticks.csv", TICKS)
    t, bid, ask = load_ticks(f)
    assert t.dtype == np.int64 and bid.dtype == np.float64 and ask.dtype == np.float64
    assert t[0] == ns("2014-05-01T00:00:00.292")[0] and t.shape == (7,)
    bars = resample_ticks(t, bid, ask, "1min")
    np.testing.assert_array_equal(bars.time, ns("2014-05-01T00:00", "2014-05-01T00:01", "2014-05-01T00:03"))
    np.testing.assert_array_equal(
        bars.bid, [[1.38676, 1.3869, 1.38673, 1.3868], [1.38681] * 4, [1.387, 1.38701, 1.387, 1.38701]]
    )
    np.testing.assert_array_equal(
        bars.ask, [[1.38686, 1.38699, 1.38686, 1.38691], [1.3869] * 4, [1.38712] * 4]
    )
    np.testing.assert_array_equal(bars.volume, [4, 1, 2])  # ticks per bar; 00:02 has none: omitted
    five = resample_ticks(t, bid, ask, timeframe="5min")
    np.testing.assert_array_equal(five.time, ns("2014-05-01T00:00"))
    np.testing.assert_array_equal(five.bid, [[1.38676, 1.38701, 1.38673, 1.38701]])
    via_load = load_bars(f)  # load_bars on a tick file resamples to 1min
    np.testing.assert_array_equal(via_load.time, bars.time)
    np.testing.assert_array_equal(via_load.bid, bars.bid)
    assert via_load.meta["resampled_from_ticks"] is True
    np.testing.assert_array_equal(load_bars(f, timeframe="M5").bid, five.bid)


def test_resample_ticks_checks_its_arrays():
    with pytest.raises(
        InputError, match=r"resample_ticks: index 1 \(0-based\), field 'time'.*time goes backwards"
    ):
        resample_ticks(np.array([5, 1]), np.array([1.0, 1.0]), np.array([1.1, 1.1]))
    with pytest.raises(InputError, match="expected three 1-d arrays of one length"):
        resample_ticks(np.array([1]), np.array([1.0, 1.0]), np.array([1.1, 1.1]))
    empty = resample_ticks(np.array([], np.int64), np.array([]), np.array([]))
    assert len(empty) == 0 and empty.bid.shape == (0, 4)


def test_load_bars_resamples_bars_to_a_multiple(tmp_path):
    f = write(tmp_path / "bars.csv", GOOD_BIDASK)
    two = load_bars(f, timeframe="2min")
    np.testing.assert_array_equal(two.time, ns("2014-05-01T00:00", "2014-05-01T00:02"))
    np.testing.assert_array_equal(two.bid[0], [1.38676, 1.38688, 1.38669, 1.38685])
    np.testing.assert_array_equal(two.ask[1], [1.38698, 1.38702, 1.38696, 1.38697])
    assert load_bars(f, timeframe="1min").meta["timeframe"] == "1min"
    with pytest.raises(InputError, match="cannot make 30s bars from 1min bars"):
        load_bars(f, timeframe="30s")


# ------------------------------------------------------------------ small parts


def test_parse_tz_and_timeframe_and_digits():
    assert parse_tz("UTC").offset_ns == 0
    assert parse_tz("+02:00").offset_ns == 2 * H
    assert parse_tz("UTC-3").offset_ns == -3 * H
    assert parse_tz("+05:30").offset_ns == 5 * H + 30 * M
    assert parse_tz("Etc/GMT-2").zone is not None  # an IANA name with a sign is still a zone
    assert [parse_timeframe(x) for x in ("1min", "M1", "5min", "M15", "1h", "H4", "D1", "30s")] == [
        M,
        M,
        5 * M,
        15 * M,
        H,
        4 * H,
        24 * H,
        M // 2,
    ]
    assert format_duration(H) == "1h" and format_duration(90 * 1_000_000_000) == "1min30s"
    assert infer_digits(np.array([1.38686, 1.3869])) == 5
    assert infer_digits(np.array([35012.5, 35000.0])) == 1
    assert infer_digits(np.array([1.123456789123])) is None
    assert infer_bar_ns(np.array([0, M, 2 * M, 10 * M])) == M


# ------------------------------------------------------------------ gaps


def _hourly_bars(start: str, end: str, skip=()) -> Bars:
    t = np.arange(ns(start)[0], ns(end)[0] + 1, H, dtype=np.int64)
    days = (t // (24 * H) + 3) % 7  # 0 = Monday
    hour = (t // H) % 24
    # FX week: Sunday 21:00 .. Friday 20:00 (last bar) UTC
    open_ = ((days >= 0) & (days <= 3)) | ((days == 4) & (hour <= 20)) | ((days == 6) & (hour >= 21))
    for a, b in skip:
        open_ &= ~((t >= ns(a)[0]) & (t < ns(b)[0]))
    t = t[open_]
    p = np.full((t.shape[0], 4), 1.1)
    return Bars(time=t, bid=p, ask=p + 0.0001, volume=np.zeros(t.shape[0]), source="hourly")


def test_gap_report_weekends_are_normal():
    report = gap_report(_hourly_bars("2014-05-05T00:00", "2014-05-23T20:00"))
    assert report.n_weekends == 2 and report.ok and report.holes == ()
    assert report.bar_ns == H
    assert "weekend gaps: 2 (normal)" in str(report) and "abnormal holes: none" in str(report)


def test_gap_report_flags_a_midweek_three_day_hole():
    bars = _hourly_bars(
        "2014-05-05T00:00", "2014-05-23T20:00", skip=[("2014-05-13T10:00", "2014-05-16T10:00")]
    )
    report = gap_report(bars)
    assert report.n_weekends == 2 and not report.ok
    (hole,) = report.holes
    assert hole.last_ns == ns("2014-05-13T09:00")[0] and hole.next_ns == ns("2014-05-16T10:00")[0]
    assert hole.missing_ns == 3 * 24 * H and hole.kind == "hole"
    text = str(report)
    assert (
        "ABNORMAL HOLES: 1" in text
        and "Tue 2014-05-13 09:00 -> Fri 2014-05-16 10:00 UTC (3d 0h without bars)" in text
    )
    assert report.to_dict()["holes"][0]["missing_hours"] == 72.0


def test_gap_report_short_gaps_holidays_and_threshold():
    bars = _hourly_bars(
        "2014-12-15T00:00",
        "2014-12-31T20:00",
        skip=[("2014-12-17T10:00", "2014-12-17T12:00"), ("2014-12-24T21:00", "2014-12-25T21:00")],
    )
    report = gap_report(bars)
    assert report.n_short_gaps == 1 and report.ok  # 2 missing hours < 3 bars
    assert len(report.holidays) == 1 and report.holidays[0].kind == "holiday"  # Christmas Day
    strict = gap_report(bars, min_hole="2h")
    assert len(strict.holes) == 1 and strict.holes[0].missing_ns == 2 * H


# ------------------------------------------------------------------ real data (shared folder)

MT5_FILE = "EURUSD_M1_mt5export_servertime_2014-05.csv"
M1_FILE = "eurusd_m1_bidask_2014-05.csv.gz"
H1_FILE = "eurusd_h1_bidask_2007_2018.csv.gz"
TICK_FILE = "eurusd_ticks_2014-05.csv.gz"


@pytest.mark.shared_data
def test_acceptance_mt5_server_time_export_matches_utc_oracle(shared_data_dir):
    mt5 = load_bars(shared_data_dir / MT5_FILE, tz="Europe/Helsinki")
    oracle = load_bars(shared_data_dir / M1_FILE)
    assert len(mt5) == len(oracle) == 18184
    np.testing.assert_array_equal(mt5.time, oracle.time)  # server time -> UTC, exactly
    np.testing.assert_array_equal(mt5.bid, oracle.bid)  # bid prices, exactly
    assert mt5.meta["point"] == 1e-5 and mt5.meta["digits"] == 5
    # MT5's <SPREAD> is the spread at the bar's close: ask_close = bid_close + spread * point, exactly
    np.testing.assert_array_equal(mt5.ask[:, 3], oracle.ask[:, 3])
    # open/high/low of the ask are approximations (the spread moves inside the bar) but never below bid
    assert np.all(mt5.ask >= mt5.bid)
    diff_points = np.abs(mt5.ask[:, :3] - oracle.ask[:, :3]) / 1e-5
    assert np.median(diff_points) <= 1.0 + 1e-9 and diff_points.max() < 130


@pytest.mark.shared_data
def test_ticks_resampled_to_1min_equal_the_oracle_bars(shared_data_dir):
    t0 = time.perf_counter()
    t, bid, ask = load_ticks(shared_data_dir / TICK_FILE)
    elapsed = time.perf_counter() - t0
    assert t.shape == (532903,) and np.all(np.diff(t) >= 0)
    assert elapsed < 3.0, f"loading 533k ticks took {elapsed:.2f}s"  # ~0.3 s on an idle core
    bars = resample_ticks(t, bid, ask, "1min")
    oracle = load_bars(shared_data_dir / M1_FILE)
    part = oracle.time < ns("2016-01-01")[0]  # the oracle also holds 3 days of 2018 that the ticks lack
    np.testing.assert_array_equal(bars.time, oracle.time[part])
    np.testing.assert_array_equal(bars.bid, oracle.bid[part])
    np.testing.assert_array_equal(bars.ask, oracle.ask[part])


@pytest.mark.shared_data
def test_hourly_file_loads_fast_and_its_gaps(shared_data_dir):
    t0 = time.perf_counter()
    bars = load_bars(shared_data_dir / H1_FILE)
    elapsed = time.perf_counter() - t0
    assert len(bars) == 74439 and elapsed < 2.0, f"loading took {elapsed:.2f}s"
    assert bars.meta["timeframe"] == "1h"
    assert bars.time[0] == ns("2007-01-01T21:00")[0] and bars.time[-1] == ns("2018-12-31T21:00")[0]
    validate_bars(bars)
    report = gap_report(bars)
    assert report.n_weekends > 550
    holes = {(int(g.last_ns), int(g.next_ns)) for g in report.holes}
    assert (ns("2016-12-09T21:00")[0], ns("2016-12-16T05:00")[0]) in holes  # a week missing
    for g in report.holes:
        assert g.kind == "hole"


@pytest.mark.shared_data
def test_m1_file_gap_report_flags_the_jump_to_2018(shared_data_dir):
    report = gap_report(load_bars(shared_data_dir / M1_FILE))
    assert report.n_weekends == 2
    assert [(g.last_ns, g.next_ns) for g in report.holes] == [
        (ns("2014-05-15T23:59")[0], ns("2018-04-03T00:00")[0])
    ]


def test_epoch_nanoseconds_are_exact(tmp_path):
    t = np.array([1398902400123456789, 1398902400123456790])
    lines = ["time,bid,ask", *(f"{x},1.1,1.1002" for x in t)]
    got, _, _ = load_ticks(write(tmp_path / "epoch_ns.csv", lines))
    np.testing.assert_array_equal(got, t)
