"""Symbol specs: hand-computed pip values, the kernel vector, presets and user overrides."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from simlab import layout as L
from simlab.errors import ConfigError
from simlab.symbols import SymbolSpec, get_symbol, load_symbol_overrides, preset_names


def test_presets_are_there():
    assert set(preset_names()) >= {"EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "US30", "US100", "GER40"}


def test_eurusd_one_lot_one_pip_is_ten_dollars():
    s = get_symbol("EURUSD")
    assert s.value_per_price(1.0850) * 0.0001 == pytest.approx(10.0)
    assert s.value_per_price() * 0.0001 * 0.01 == pytest.approx(0.10)  # 0.01 lot
    assert s.value_per_price() * s.tick_size == pytest.approx(s.tick_value)
    # swap: -6.8 points per lot per night = -6.8 * 0.00001 * 100000 = -6.80 USD
    assert s.swap_long * s.point * s.value_per_price() == pytest.approx(-6.80)


def test_usdjpy_one_pip_at_150_is_6_67_dollars():
    s = get_symbol("USDJPY")
    assert s.profit_mode == "base" and s.profit_code == L.PROFIT_BASE_IS_ACCOUNT
    # 1 lot = 100,000 USD; a 0.01 move = 1,000 JPY = 1000 / 150 = 6.6667 USD
    assert s.value_per_price(150.0) * 0.01 == pytest.approx(1000 / 150, rel=1e-12)
    assert round(s.value_per_price(150.0) * 0.01, 4) == 6.6667
    # at 100.00 the same pip is worth 10 USD
    assert s.value_per_price(100.0) * 0.01 == pytest.approx(10.0)
    # the nominal tick value is the one at 150.00
    assert s.value_per_price(150.0) * s.tick_size == pytest.approx(s.tick_value, rel=1e-4)
    with pytest.raises(ValueError):
        s.value_per_price()


def test_gold_and_indices():
    gold = get_symbol("XAUUSD")
    assert gold.value_per_price() * 1.0 == pytest.approx(100.0)  # 1 lot = 100 oz, $1 move = $100
    assert gold.value_per_price() * 0.10 * 0.5 == pytest.approx(5.0)  # 0.5 lot, 10 cents
    us30 = get_symbol("US30")
    assert us30.value_per_price() * 150.0 * 0.2 == pytest.approx(30.0)  # 0.2 lot, 150 points
    assert get_symbol("US100").value_per_price() == pytest.approx(1.0)
    ger = get_symbol("GER40")
    assert ger.profit_code == L.PROFIT_FIXED
    # 1 EUR per index point per lot at EURUSD 1.08: 50 points on 0.5 lots = 25 EUR = 27 USD
    assert ger.value_per_price() * 50 * 0.5 == pytest.approx(27.0)
    assert ger.value_per_price(17_000.0) == ger.value_per_price(19_000.0)  # fixed: price-independent


@pytest.mark.parametrize("name", ["EURUSD", "GBPUSD", "XAUUSD", "US30", "US100"])
def test_quote_presets_tick_value_is_contract_times_tick(name):
    s = get_symbol(name)
    assert s.profit_mode == "quote"
    assert s.contract_size * s.tick_size == pytest.approx(s.tick_value)


@pytest.mark.parametrize("name", ["EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "US30", "US100", "GER40"])
def test_presets_are_sane(name):
    s = get_symbol(name)
    assert s.point == pytest.approx(10.0**-s.digits)
    assert 0 < s.volume_min <= s.volume_max and s.volume_step > 0
    assert s.commission_per_lot >= 0 and 0 <= s.triple_swap_day <= 6
    assert s.description


def test_to_vector_slots():
    s = get_symbol("USDJPY")
    v = s.to_vector()
    assert v.dtype == np.float64 and v.shape == (L.SYM_SIZE,)
    assert v[L.SYM_POINT] == 0.001
    assert v[L.SYM_CONTRACT] == 100_000.0
    assert v[L.SYM_TICK_SIZE] == 0.001
    assert v[L.SYM_TICK_VALUE] == s.tick_value
    assert v[L.SYM_PROFIT_MODE] == L.PROFIT_BASE_IS_ACCOUNT
    assert (v[L.SYM_VOL_MIN], v[L.SYM_VOL_STEP], v[L.SYM_VOL_MAX]) == (0.01, 0.01, 100.0)
    assert v[L.SYM_STOPS_LEVEL] == 0
    assert v[L.SYM_COMMISSION] == 3.5
    assert (v[L.SYM_SWAP_LONG], v[L.SYM_SWAP_SHORT]) == (14.5, -29.0)
    assert get_symbol("GER40").to_vector()[L.SYM_PROFIT_MODE] == L.PROFIT_FIXED
    assert get_symbol("EURUSD").to_vector()[L.SYM_PROFIT_MODE] == L.PROFIT_QUOTE_IS_ACCOUNT


def test_lookup_by_case_and_broker_suffix_keeps_the_asked_name():
    s = get_symbol("US30.cash")
    assert s.name == "US30.cash" and s.contract_size == 1.0
    assert get_symbol("eurusd").commission_per_lot == 3.5
    assert get_symbol("EURUSD.raw").digits == 5


def test_spec_is_frozen():
    s = get_symbol("EURUSD")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.digits = 4  # type: ignore[misc]


# ----------------------------------------------------------------------------- overrides


def _write(tmp_path, text: str):
    p = tmp_path / "my_symbols.toml"
    p.write_text(text)
    return p


def test_override_changes_only_the_given_fields(tmp_path):
    p = _write(tmp_path, "[EURUSD]\ncommission_per_lot = 3\nswap_long = -7.25\n")
    s = get_symbol("EURUSD", p)
    assert s.commission_per_lot == 3.0 and isinstance(s.commission_per_lot, float)
    assert s.swap_long == -7.25
    assert s.swap_short == get_symbol("EURUSD").swap_short
    assert s.to_vector()[L.SYM_COMMISSION] == 3.0
    # other symbols come from the presets
    assert get_symbol("XAUUSD", p) == get_symbol("XAUUSD")
    assert set(load_symbol_overrides(p)) == {"EURUSD"}


def test_override_defines_a_new_symbol(tmp_path):
    p = _write(
        tmp_path,
        """
["JP225.cash"]
digits = 1
point = 0.1
contract_size = 1.0
tick_size = 0.5
tick_value = 0.0033
profit_mode = "fixed"
volume_min = 0.1
volume_step = 0.1
volume_max = 50.0
stops_level = 10
commission_per_lot = 0.0
swap_long = -5.0
swap_short = -2.0
""",
    )
    s = get_symbol("JP225.cash", p)
    assert s.triple_swap_day == 2 and s.description == ""
    assert s.value_per_price() == pytest.approx(0.0066)
    assert s.to_vector()[L.SYM_STOPS_LEVEL] == 10


@pytest.mark.parametrize(
    "text, must_say",
    [
        ("[EURUSD]\ncommision_per_lot = 3.0\n", ["[EURUSD] commision_per_lot", "unknown field"]),
        ('[EURUSD]\ncommission_per_lot = "3.5"\n', ["[EURUSD] commission_per_lot", "expected a number >= 0"]),
        ("[EURUSD]\nswap_long = true\n", ["[EURUSD] swap_long", "expected a number"]),
        ("[EURUSD]\ndigits = 5.0\n", ["[EURUSD] digits", "expected an integer"]),
        ("[EURUSD]\ndigits = 4\n", ["[EURUSD] point", "10**-digits"]),
        ('[EURUSD]\nprofit_mode = "usd"\n', ["[EURUSD] profit_mode", "'quote', 'base', 'fixed'"]),
        ("[EURUSD]\nvolume_max = 0.001\n", ["[EURUSD] volume_max", ">= volume_min"]),
        ("[EURUSD]\ntick_size = 0.000015\n", ["[EURUSD] tick_size", "multiple of point"]),
        ("[EURUSD]\ncommission_per_lot = -1\n", ["[EURUSD] commission_per_lot"]),
        ("[EURUSD]\ntriple_swap_day = 7\n", ["[EURUSD] triple_swap_day", "0 (Monday) .. 6 (Sunday)"]),
        ("[EURUSD]\nstops_level = -3\n", ["[EURUSD] stops_level"]),
        ("[BTCUSD]\ndigits = 2\n", ["[BTCUSD]", "unknown symbol", "missing: point"]),
        ("EURUSD = 3\n", ["[EURUSD]", "expected a table"]),
        ("[EURUSD\ncommission = 3\n", ["not valid TOML"]),
    ],
)
def test_bad_override_files_name_file_section_and_field(tmp_path, text, must_say):
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError) as ei:
        get_symbol("EURUSD", p)
    msg = str(ei.value)
    assert msg.startswith(str(p) + ": ")
    assert "\n" not in msg
    for fragment in must_say:
        assert fragment in msg, msg


def test_unknown_symbol_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="unknown symbol 'BTCUSD'.*EURUSD"):
        get_symbol("BTCUSD")
    p = _write(tmp_path, "[EURUSD]\ncommission_per_lot = 3.0\n")
    with pytest.raises(ConfigError) as ei:
        get_symbol("BTCUSD", p)
    assert ei.value.where == str(p)
    with pytest.raises(ConfigError, match="file not found"):
        get_symbol("EURUSD", tmp_path / "nope.toml")


def test_with_overrides_validates():
    s = get_symbol("EURUSD").with_overrides(commission_per_lot=2.5)
    assert s.commission_per_lot == 2.5
    with pytest.raises(ConfigError, match="volume_step"):
        get_symbol("EURUSD").with_overrides(volume_step=0.0)
    with pytest.raises(ConfigError, match="unknown field 'lots'"):
        get_symbol("EURUSD").with_overrides(lots=1)


def test_from_mt5_symbol_info():
    info = SimpleNamespace(
        name="USDJPY.raw",
        digits=3,
        point=0.001,
        trade_contract_size=100000.0,
        trade_tick_size=0.001,
        trade_tick_value=0.6667,
        currency_base="USD",
        currency_profit="JPY",
        volume_min=0.01,
        volume_step=0.01,
        volume_max=200.0,
        trade_stops_level=0,
        swap_mode=1,
        swap_long=15.2,
        swap_short=-30.1,
        swap_rollover3days=3,  # MT5: Wednesday
        description="US Dollar vs Yen",
        bid=150.0,
    )
    s = SymbolSpec.from_mt5(info, commission_per_lot=3.5)
    assert (s.profit_mode, s.triple_swap_day, s.swap_long, s.volume_max) == ("base", 2, 15.2, 200.0)
    # swaps in account currency per lot: 1 USD per lot per night = 1 / (0.001 * 100000 / 150) = 1.5 points
    s4 = SymbolSpec.from_mt5(SimpleNamespace(**(vars(info) | {"swap_mode": 4, "swap_long": -1.0})))
    assert s4.swap_long == pytest.approx(-1.5)
    with pytest.raises(ConfigError, match="swap_mode 5"):
        SymbolSpec.from_mt5(SimpleNamespace(**(vars(info) | {"swap_mode": 5})))
    ger = SimpleNamespace(
        **(vars(info) | {"name": "GER40", "currency_base": "EUR", "currency_profit": "EUR"})
    )
    assert SymbolSpec.from_mt5(ger).profit_mode == "fixed"
