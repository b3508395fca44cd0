"""Which symbol a data file holds, which point its <SPREAD> column is in, and whether its prices fit.

Issue 9, items 1 and 3: every class of symbol (5-digit FX, 3-digit JPY with a USD or a
non-USD quote, a non-USD FX cross, 2-digit gold, 1-decimal indices in USD and in EUR)
loads with its spec's point; a file whose decimals contradict the spec, or whose prices
are another symbol's, stops with one line naming both and the fix; the symbol is read
from an MT5 export's file name when --symbol is not given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _builders import run_simlab
from data_helpers import MT5_BARS_HEADER, mt5_bar, write

from simlab.errors import ConfigError, InputError
from simlab.loaders import load_bars
from simlab.symbol_match import choose_symbol, symbol_from_filename
from simlab.symbols import get_symbol, preset_names


def _export(path, prices: list[str], spreads: list[int]):
    """An MT5 export of one bar per price: open = high = low = close (keeps the hand arithmetic trivial)."""
    rows = [
        mt5_bar("2024.03.05", f"{10 + i // 60:02d}:{i % 60:02d}:00", p, p, p, p, spread=s)
        for i, (p, s) in enumerate(zip(prices, spreads, strict=True))
    ]
    return write(path, [MT5_BARS_HEADER, *rows])


# ------------------------------------------------------------------ presets: every class of symbol

# name, the export's prices as MT5 writes them (the symbol's digits), <SPREAD>, the asks by hand
CLASSES = [
    ("EURUSD", ["1.08513", "1.08520"], [12, 7], [1.08525, 1.08527], 0.00001),  # 5-digit FX, USD quote
    ("GBPUSD", ["1.26534", "1.26540"], [15, 9], [1.26549, 1.26549], 0.00001),
    ("EURGBP", ["0.85512", "0.85500"], [14, 20], [0.85526, 0.8552], 0.00001),  # GBP quote
    ("USDJPY", ["150.123", "150.100"], [12, 30], [150.135, 150.13], 0.001),  # 3-digit, USD base
    ("EURJPY", ["162.456", "162.500"], [20, 5], [162.476, 162.505], 0.001),  # 3-digit, JPY quote, EUR base
    ("XAUUSD", ["2034.56", "2034.50"], [25, 31], [2034.81, 2034.81], 0.01),  # 2-digit metal
    ("US30", ["38500.5", "38501.0"], [20, 35], [38502.5, 38504.5], 0.1),  # 1-decimal index, USD
    ("US100", ["17800.3", "17800.0"], [15, 12], [17801.8, 17801.2], 0.1),
    ("GER40", ["17500.8", "17501.0"], [10, 14], [17501.8, 17502.4], 0.1),  # 1-decimal index, EUR
]


@pytest.mark.parametrize("name, prices, spreads, asks, point", CLASSES, ids=[c[0] for c in CLASSES])
def test_every_symbol_class_loads_with_its_spec_point(tmp_path, name, prices, spreads, asks, point):
    f = _export(tmp_path / f"{name}_H1_202403051000_202403051100.csv", prices, spreads)
    bars = load_bars(f, tz="UTC")
    assert bars.symbol == name and bars.meta["symbol_source"] == "file name"
    assert bars.meta["point"] == point and bars.meta["point_source"] == "spec"
    np.testing.assert_array_equal(bars.ask[:, 3], asks)
    spread_points = np.rint((bars.ask - bars.bid) / point)
    np.testing.assert_array_equal(spread_points[:, 3], spreads)  # the close: <SPREAD> x the spec's point
    np.testing.assert_array_equal(
        spread_points[:, 0], [spreads[0], spreads[0]]
    )  # the open: the previous close's


def test_presets_cover_every_class():
    assert {"EURUSD", "GBPUSD", "EURGBP", "USDJPY", "EURJPY", "XAUUSD", "US30", "US100", "GER40"} <= set(
        preset_names()
    )
    digits = {n: get_symbol(n).digits for n in preset_names()}
    assert digits["EURUSD"] == digits["GBPUSD"] == digits["EURGBP"] == 5
    assert digits["USDJPY"] == digits["EURJPY"] == 3
    assert digits["XAUUSD"] == 2
    assert digits["US30"] == digits["US100"] == digits["GER40"] == 1
    assert all(get_symbol(n).price_range is not None for n in preset_names())


@pytest.mark.parametrize(
    "name, move, usd, mode",
    [
        ("EURUSD", 0.0001, 10.0, "quote"),  # 1 lot, 1 pip: 10 USD
        ("EURGBP", 0.0001, 12.70, "fixed"),  # 10 GBP at the reference GBPUSD 1.2700
        ("EURJPY", 0.01, 1000 / 150, "fixed"),  # 1000 JPY at the reference USDJPY 150.00
        ("XAUUSD", 1.0, 100.0, "quote"),  # 100 oz
        ("US30", 1.0, 1.0, "quote"),  # 1 USD per index point
        ("US100", 1.0, 1.0, "quote"),
        ("GER40", 1.0, 1.08, "fixed"),  # 1 EUR per index point at the reference EURUSD 1.0800
    ],
)
def test_one_lot_moves_by_hand(name, move, usd, mode):
    s = get_symbol(name)
    assert s.profit_mode == mode
    assert s.value_per_price(None if mode != "base" else 150.0) * move == pytest.approx(usd, rel=1e-4)
    # a tick is worth tick_value, whatever the mode
    assert s.value_per_price(150.0) * s.tick_size == pytest.approx(s.tick_value, rel=1e-9)


# ------------------------------------------------------------------ the symbol from the file name


@pytest.mark.parametrize(
    "filename, token, preset",
    [
        ("XAUUSD_H1_202401020000_202412312300.csv", "XAUUSD", "XAUUSD"),
        ("GER40.cash_M1_202401020000_202401312359.csv", "GER40.cash", "GER40"),
        ("EURUSDm_H1_202401020000_202412312300.csv", "EURUSDm", "EURUSD"),
        ("EURUSD.r_M5_202401020000_202412312300.csv", "EURUSD.r", "EURUSD"),
        ("DE30EUR_M1_mt5export_ny7_2019-02.csv", "DE30EUR", "GER40"),
        ("DE40_M15_202401020000_202401312359.csv", "DE40", "GER40"),
        ("#US30_H1_202401020000_202412312300.csv", "#US30", "US30"),
        ("USTEC_M1_2024.csv", "USTEC", "US100"),
        ("GOLD_D1_2020_2024.csv", "GOLD", "XAUUSD"),
        ("EURJPY_MN1_2000_2024.csv", "EURJPY", "EURJPY"),
    ],
)
def test_symbol_inferred_from_an_mt5_file_name(filename, token, preset):
    assert symbol_from_filename(f"/some/folder/{filename}") == token
    choice = choose_symbol(None, filename)
    assert (choice.name, choice.source, choice.spec_key) == (token, "file name", preset)
    assert choice.spec is not None and choice.spec.name == token  # the broker's name is kept


@pytest.mark.parametrize("filename", ["prices.csv", "my_export.csv", "BTCUSD_H1_2024.csv", "H1_EURUSD.csv"])
def test_no_symbol_in_the_file_name_means_the_default(filename):
    choice = choose_symbol(None, filename)
    assert (choice.name, choice.source, choice.spec_key) == ("EURUSD", "default", "EURUSD")


def test_explicit_symbol_wins_over_the_file_name():
    choice = choose_symbol("GBPUSD", "XAUUSD_H1_2024.csv")
    assert (choice.name, choice.source) == ("GBPUSD", "--symbol")


def test_a_symbol_file_section_is_inferred_too(tmp_path):
    toml = write(
        tmp_path / "mine.toml",
        '["JP225.cash"]\ndigits = 1\npoint = 0.1\ncontract_size = 1.0\ntick_size = 0.1\n'
        'tick_value = 0.00067\nprofit_mode = "fixed"\nvolume_min = 0.1\nvolume_step = 0.1\n'
        "volume_max = 50.0\nstops_level = 0\ncommission_per_lot = 0.0\nswap_long = -5.0\n"
        "swap_short = -2.0\nprice_range = [5000, 100000]\n",
    )
    choice = choose_symbol(None, "JP225.cash_H1_2024.csv", toml)
    assert (choice.name, choice.source, choice.spec_key) == ("JP225.cash", "file name", "JP225.cash")
    assert choice.spec is not None and choice.spec.price_range == (5000.0, 100000.0)
    assert choose_symbol(None, "JP225.cash_H1_2024.csv").source == "default"  # without the file


# ------------------------------------------------------------------ plausible prices

GOLD = ["2034.56", "2035.10", "2033.98", "2036.40"]


def test_gold_run_as_the_default_eurusd_stops_and_suggests_xauusd(tmp_path):
    f = _export(tmp_path / "data.csv", GOLD, [25, 30, 28, 26])
    with pytest.raises(InputError) as info:
        load_bars(f, tz="UTC")
    msg = str(info.value)
    assert "not EURUSD prices (0.5 .. 2.5)" in msg and "default symbol EURUSD (no --symbol given)" in msg
    assert "pass --symbol XAUUSD" in msg and "\n" not in msg


def test_gold_named_in_the_file_name_loads_as_xauusd(tmp_path):
    f = _export(tmp_path / "XAUUSD_H1_202403051000_202403051300.csv", GOLD, [25, 30, 28, 26])
    bars = load_bars(f, tz="UTC")
    assert bars.symbol == "XAUUSD" and bars.meta["point"] == 0.01
    np.testing.assert_array_equal(bars.ask[:, 3], [2034.81, 2035.40, 2034.26, 2036.66])
    np.testing.assert_array_equal(bars.ask[:, 0], [2034.81, 2035.35, 2034.28, 2036.68])  # previous spread


def test_explicit_symbol_with_implausible_prices_is_still_an_error(tmp_path):
    f = _export(tmp_path / "XAUUSD_H1_202403051000_202403051300.csv", GOLD, [25, 30, 28, 26])
    with pytest.raises(InputError, match=r"not EURUSD prices .* for --symbol EURUSD; pass --symbol XAUUSD"):
        load_bars(f, tz="UTC", symbol="EURUSD")


def test_one_bad_quote_outside_the_range_names_its_row(tmp_path):
    f = _export(tmp_path / "EURUSD_H1_2024.csv", ["1.08513", "1.08520", "3.08520", "1.08530"], [1, 2, 3, 4])
    with pytest.raises(
        InputError, match=r"line 4, field '<HIGH>': 3.0852 is outside the plausible EURUSD prices"
    ):
        load_bars(f, tz="UTC")


def test_price_range_can_be_widened_in_a_symbol_file(tmp_path):
    f = _export(tmp_path / "EURUSD_H1_2024.csv", ["1.08513", "1.08520", "3.08520", "1.08530"], [1, 2, 3, 4])
    toml = write(tmp_path / "wide.toml", "[EURUSD]\nprice_range = [0.5, 5.0]\n")
    assert len(load_bars(f, tz="UTC", symbol_file=toml)) == 4


def test_bad_price_range_in_a_symbol_file(tmp_path):
    toml = write(tmp_path / "bad.toml", "[EURUSD]\nprice_range = [2.0, 1.0]\n")
    with pytest.raises(ConfigError, match=r"\[EURUSD\] price_range: expected \[low, high\]"):
        get_symbol("EURUSD", toml)


# ------------------------------------------------------------------ the point: spec rules, never a silent guess


def test_more_decimals_than_the_spec_is_refused_with_the_override_that_fits(tmp_path):
    # gold exported by a broker that quotes it to 0.001: its <SPREAD> is in points of 0.001
    f = _export(tmp_path / "XAUUSD_H1_2024.csv", ["2034.561", "2035.100", "2033.985"], [250, 300, 280])
    with pytest.raises(InputError) as info:
        load_bars(f, tz="UTC")
    msg = str(info.value)
    assert "line 2, field '<OPEN>': 2034.561 has 3 decimals" in msg
    assert "the XAUUSD spec's point is 0.01 (2 digits; symbol from file name)" in msg
    assert "a --symbol-file with [XAUUSD] digits = 3, point = 0.001" in msg
    # ... and that override works: the spread is <SPREAD> x 0.001
    toml = write(tmp_path / "broker.toml", "[XAUUSD]\ndigits = 3\npoint = 0.001\n")
    bars = load_bars(f, tz="UTC", symbol_file=toml)
    assert bars.meta["point"] == 0.001
    np.testing.assert_array_equal(bars.ask[:, 3], [2034.811, 2035.4, 2034.265])


def _coarse_prices(n: int = 40) -> list[str]:
    return [f"{17500 + 0.1 * 7 * i:.1f}" for i in range(n)]  # 40 distinct prices, all with 1 decimal


def test_fewer_decimals_than_the_spec_over_many_prices_is_refused(tmp_path):
    # a 1-decimal index export under a spec of 2 digits: its <SPREAD> points are 0.1, not 0.01
    f = _export(tmp_path / "GER40_M1_2024.csv", _coarse_prices(), [10] * 40)
    toml = write(
        tmp_path / "two.toml", "[GER40]\ndigits = 2\npoint = 0.01\ntick_size = 0.01\ntick_value = 0.0108\n"
    )
    with pytest.raises(InputError) as info:
        load_bars(f, tz="UTC", symbol_file=toml)
    msg = str(info.value)
    assert "all 40 distinct prices have at most 1 decimal but the GER40 spec's point is 0.01" in msg
    assert "10x the spec's" in msg
    assert "[GER40] digits = 1, point = 0.1, tick_size = 0.1, tick_value = 0.108" in msg
    # a few prices cannot tell (1.3880 may be a 5-digit price whose last digit is 0): accepted
    assert load_bars(_export(tmp_path / "GER40_M1_b.csv", _coarse_prices(5), [10] * 5), symbol_file=toml)


def test_point_given_must_fit_the_prices_too(tmp_path):
    f = _export(tmp_path / "x.csv", ["1.08513", "1.08520"], [12, 7])
    with pytest.raises(InputError, match=r"1.08513 has 5 decimals but --point is 0.0001"):
        load_bars(f, tz="UTC", point=0.0001)
    with pytest.raises(ConfigError, match="--point"):
        load_bars(f, tz="UTC", point=-1.0)


def test_unknown_symbol_takes_the_point_from_the_prices_and_says_so(tmp_path):
    f = _export(tmp_path / "x.csv", ["65000.12", "65010.50"], [100, 120])
    bars = load_bars(f, tz="UTC", symbol="BTCUSD")
    assert bars.meta["point"] == 0.01 and bars.meta["point_source"] == "file digits"
    assert bars.meta["symbol"] == "BTCUSD" and bars.meta["symbol_source"] == "--symbol"


def test_bid_ask_files_are_not_refused_for_their_decimals(tmp_path):
    # the ask is in the file: the point scales nothing, so extra decimals are recorded, not refused
    lines = ["time,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close"]
    lines.append("2024-03-05T10:00:00Z," + ",".join(["2034.561"] * 4 + ["2034.811"] * 4))
    bars = load_bars(write(tmp_path / "XAUUSD_H1_x.csv", lines))
    assert bars.meta["point"] == 0.01 and bars.meta["file_digits"] == 3


# ------------------------------------------------------------------ the CLI: one line, exit 2


def test_cli_contradicting_spec_is_one_line_exit_2(tmp_path):
    f = _export(tmp_path / "XAUUSD_H1_2024.csv", ["2034.561", "2035.100", "2033.985"], [250, 300, 280])
    for command in ("backtest", "challenge", "inspect"):
        extra = ("--runs", "2") if command == "challenge" else ()
        proc = run_simlab(command, "--data", str(f), "--tz", "UTC", *extra, timeout=300)
        assert proc.returncode == 2, (command, proc.stdout, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "has 3 decimals but the XAUUSD spec's point is 0.01" in lines[0], (
            proc.stderr
        )


def test_cli_gold_as_eurusd_is_one_line_exit_2(tmp_path):
    f = _export(tmp_path / "gold.csv", GOLD, [25, 30, 28, 26])
    proc = run_simlab("backtest", "--data", str(f), "--tz", "UTC", timeout=300)
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("simlab backtest: error: ") and "pass --symbol XAUUSD" in line


def test_inspect_shows_the_point_a_run_will_use(tmp_path):
    f = _export(tmp_path / "DE30EUR_M1_2024.csv", ["17500.8", "17501.0"], [10, 14])
    proc = run_simlab("inspect", "--data", str(f), "--tz", "UTC", "--json", str(tmp_path / "s.json"))
    assert proc.returncode == 0, proc.stderr
    assert "symbol     DE30EUR (from file name; spec GER40)" in proc.stdout
    assert "point      0.1 (the GER40 spec's; prices have 1 decimal)" in proc.stdout
    summary = pd.read_json(tmp_path / "s.json", typ="series")
    assert summary["point"] == 0.1 and summary["point_source"] == "spec" and summary["spec"] == "GER40"
    proc = run_simlab("inspect", "--data", str(f), "--tz", "UTC", "--point", "0.1", "--symbol", "NOSUCH")
    assert "point      0.1 (--point; prices have 1 decimal)" in proc.stdout, proc.stdout
