"""Profit conversion into the account currency (``simlab.currency``): which legs convert, at which rate."""

from __future__ import annotations

import numpy as np
import pytest
from _builders import hourly, make_bars

from simlab.currency import check_pair, plan_conversions, profit_currency
from simlab.errors import ConfigError, InputError
from simlab.symbols import get_symbol


def test_the_profit_currency_of_presets_and_broker_names():
    assert profit_currency(get_symbol("EURUSD")) == "USD"
    assert profit_currency(get_symbol("XAUUSD")) == "USD"
    assert profit_currency(get_symbol("USDJPY")) == "JPY"  # base is USD: its own price converts it
    assert profit_currency(get_symbol("GER40")) == "EUR"
    assert profit_currency(get_symbol("DE30EUR")) == "EUR"  # an alias of GER40, by the broker's name
    assert profit_currency(get_symbol("EURGBP")) == "GBP"
    assert profit_currency(get_symbol("EURJPY.raw")) == "JPY"
    assert profit_currency(get_symbol("GER40"), "chf") == "CHF"


def test_a_pair_must_hold_the_account_currency():
    assert check_pair("eurusd", "--convert") == "EURUSD"
    assert check_pair("USDJPY", "--convert") == "USDJPY"
    with pytest.raises(ConfigError, match="--convert: 'EURGBP': expected a currency pair of USD"):
        check_pair("EURGBP", "--convert")


def _grid():
    t = hourly("2024-03-04T10:00", 4)
    return t, make_bars(t, [[17000.0, 17010.0, 16990.0, 17005.0]] * 4, spread=1.0, symbol="GER40")


def test_a_loaded_pair_converts_at_its_mid_open_of_the_latest_bar_at_or_before_each_row():
    t, _ = _grid()
    # EURUSD bars at 09:30 (before the grid), 11:00 and 12:30: rows 10:00, 11:00, 12:00, 13:00 read the
    # bars of 09:30, 11:00, 11:00, 12:30
    tf = np.array([t[0] - 30 * 60_000_000_000, t[1], t[2] + 30 * 60_000_000_000])
    fx = make_bars(tf, [[1.10, 1.2, 1.0, 1.1], [1.20, 1.3, 1.1, 1.2], [1.30, 1.4, 1.2, 1.3]], spread=0.0002)
    [c] = plan_conversions(
        [get_symbol("GER40")], [None], t, [0], {"EURUSD": (fx, "--convert EURUSD")}, ["leg"]
    )
    assert c.converts and c.pair == "EURUSD" and c.source == "--convert EURUSD" and c.note == ""
    assert c.value_per_price.tolist() == [1.0 * 1.1001, 1.0 * 1.2001, 1.0 * 1.2001, 1.0 * 1.3001]


def test_an_inverse_pair_divides():
    t, _ = _grid()
    fx = make_bars(t[:1], [[150.0, 151.0, 149.0, 150.5]], spread=0.02, symbol="USDJPY")
    [c] = plan_conversions([get_symbol("EURJPY")], [None], t, [0], {"USDJPY": (fx, "leg USDJPY")}, ["leg"])
    assert c.pair == "USDJPY"
    np.testing.assert_array_equal(c.value_per_price, np.full(4, 100_000.0 / 150.01))


def test_without_a_series_the_fixed_tick_value_is_used_and_said():
    t, _ = _grid()
    [c] = plan_conversions([get_symbol("GER40")], [None], t, [0], {}, ["leg"])
    assert not c.converts and c.source == "fixed tick value"
    assert c.note == (
        "GER40: profit converted at the spec's fixed tick value 0.108 USD per 0.1: no EURUSD series loaded "
        "(add --convert EURUSD=FILE, or a EURUSD leg)"
    )
    assert c.to_json() == {"currency": "EUR", "pair": "EURUSD", "source": "fixed tick value", "note": c.note}


def test_legs_in_the_account_currency_or_on_their_own_price_need_nothing():
    t, _ = _grid()
    a, b = plan_conversions(
        [get_symbol("EURUSD"), get_symbol("USDJPY")], [None, None], t, [0, 0], {}, ["a", "b"]
    )
    assert (a.source, b.source, a.note, b.note) == ("none needed", "own price", "", "")


def test_a_series_that_starts_after_the_leg_or_converts_nothing_is_refused():
    t, _ = _grid()
    late = make_bars(t[2:], [[1.1, 1.2, 1.0, 1.1]] * 2)
    with pytest.raises(
        InputError,
        match=r"--convert EURUSD: EURUSD starts at 2024-03-04T12:00:00Z, after GER40's "
        r"first bar 2024-03-04T10:00:00Z: a conversion series must cover the leg it converts",
    ):
        plan_conversions(
            [get_symbol("GER40")], [None], t, [0], {"EURUSD": (late, "--convert EURUSD")}, ["leg"]
        )
    # the leg starts at row 2: the series covers it
    [c] = plan_conversions(
        [get_symbol("GER40")], [None], t, [2], {"EURUSD": (late, "--convert EURUSD")}, ["leg"]
    )
    assert c.converts
    with pytest.raises(ConfigError, match="--convert EURUSD: converts nothing: no leg's profit is in EUR"):
        plan_conversions(
            [get_symbol("XAUUSD")], [None], t, [0], {"EURUSD": (late, "--convert EURUSD")}, ["leg"]
        )


def test_a_currency_that_contradicts_the_spec_is_refused():
    t, _ = _grid()
    with pytest.raises(ConfigError, match="currency = EUR: EURUSD's spec has profit_mode = 'quote'"):
        plan_conversions([get_symbol("EURUSD")], ["EUR"], t, [0], {}, ["legs[0]"])


def test_a_series_that_stops_more_than_four_days_before_the_leg_trades_is_refused():
    # the leg trades hourly on Monday 2024-03-04 and on Monday 2024-03-11; the series' bars
    t = np.concatenate([hourly("2024-03-04T10:00", 2), hourly("2024-03-11T10:00", 2)])
    fx = make_bars(hourly("2024-03-04T09:00", 2), [[1.1, 1.2, 1.0, 1.1]] * 2)  # stops 2024-03-04 10:00
    with pytest.raises(
        InputError,
        match=r"--convert EURUSD: EURUSD has no bar from 2024-03-04T10:00:00Z to 2024-03-11T10:00:00Z, where "
        r"GER40 trades \(more than 4 days\): a conversion series must cover the leg it converts",
    ):
        plan_conversions([get_symbol("GER40")], [None], t, [0], {"EURUSD": (fx, "--convert EURUSD")}, ["leg"])
    # a weekend (Friday 21:00 to Sunday 22:00 UTC) is not a stopped series
    t = np.concatenate([hourly("2024-03-08T20:00", 1), hourly("2024-03-10T22:00", 1)])
    fx = make_bars(hourly("2024-03-08T20:00", 1), [[1.1, 1.2, 1.0, 1.1]], spread=0.0002)
    [c] = plan_conversions(
        [get_symbol("GER40")], [None], t, [0], {"EURUSD": (fx, "--convert EURUSD")}, ["leg"]
    )
    assert c.value_per_price.tolist() == [1.1001, 1.1001]
