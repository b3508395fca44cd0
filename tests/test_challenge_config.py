"""Rule presets, user rule files, governors and ``simlab programs``: exact numbers and one-line errors."""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
from pathlib import Path

import numpy as np
import pytest
from _builders import run_simlab

from challenges.governors import (
    FIELD_NAMES,
    GovernorConfig,
    list_governor_presets,
    load_governors,
)
from challenges.rules import list_programs, load_program
from simlab import layout as L
from simlab.errors import ConfigError
from simlab_cli.commands._common import add_governor_arguments, governors_from_args

PRESETS = ["e8-one", "ftmo-1step", "ftmo-2step", "fundednext-stellar-2step", "the5ers-high-stakes"]


def vec(**slots: float) -> np.ndarray:
    """A rule vector with the named RULE_* slots set, the rest zero."""
    v = np.zeros(L.RULE_SIZE)
    for name, value in slots.items():
        v[getattr(L, "RULE_" + name.upper())] = value
    return v


# ---------------------------------------------------------------- presets
def test_list_programs() -> None:
    assert list_programs() == PRESETS


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_loads(name: str) -> None:
    p = load_program(name)
    assert p.name == name
    assert p.source.startswith("https://")
    assert isinstance(p.last_verified, dt.date)
    assert p.sizes == tuple(sorted(p.sizes)) and len(p.sizes) >= 4
    assert p.phases
    m = p.rule_matrix()
    assert m.shape == (len(p.phases), L.RULE_SIZE) and m.dtype == np.float64
    for ph in p.phases:
        v = ph.to_rule_vector()
        assert v.shape == (L.RULE_SIZE,) and v.dtype == np.float64
        assert 0 < v[L.RULE_DAILY_PCT] < 0.1 and 0 < v[L.RULE_MAXLOSS_PCT] <= 0.1


def test_ftmo_2step_vectors() -> None:
    p = load_program("ftmo-2step")
    assert [ph.name for ph in p.phases] == ["Challenge", "Verification"]
    assert p.sizes == (10000, 25000, 50000, 100000, 200000)
    assert p.day_boundary == ("Europe/Prague", "00:00")
    common = dict(
        daily_pct=0.05,
        daily_basis=L.BASIS_BALANCE,
        daily_size_of=L.SIZE_OF_INITIAL,
        daily_floating=1,
        maxloss_pct=0.10,
        maxloss_mode=L.MAXLOSS_STATIC,
        maxloss_floating=1,
        min_days=4,
        day_count_mode=L.DAYCOUNT_TRADE_OPENED,
    )
    np.testing.assert_array_equal(p.phases[0].to_rule_vector(), vec(target_pct=0.10, **common))
    np.testing.assert_array_equal(p.phases[1].to_rule_vector(), vec(target_pct=0.05, **common))


def test_ftmo_1step_vector() -> None:
    p = load_program("ftmo-1step")
    assert len(p.phases) == 1
    np.testing.assert_array_equal(
        p.phases[0].to_rule_vector(),
        vec(
            target_pct=0.10,
            daily_pct=0.03,
            daily_basis=L.BASIS_BALANCE,
            daily_size_of=L.SIZE_OF_INITIAL,
            daily_floating=1,
            maxloss_pct=0.10,
            maxloss_mode=L.MAXLOSS_TRAILING_EOD,
            maxloss_floating=1,
            best_day_max_share=0.5,
        ),
    )


def test_the5ers_vectors() -> None:
    p = load_program("the5ers-high-stakes")
    assert p.day_boundary == ("UTC+03:00", "00:00")
    targets = [0.08, 0.05]
    for ph, target in zip(p.phases, targets, strict=True):
        np.testing.assert_array_equal(
            ph.to_rule_vector(),
            vec(
                target_pct=target,
                daily_pct=0.05,
                daily_basis=L.BASIS_MAX_BALANCE_EQUITY,
                daily_size_of=L.SIZE_OF_BASIS,
                daily_floating=1,
                maxloss_pct=0.10,
                maxloss_mode=L.MAXLOSS_STATIC,
                maxloss_floating=1,
                min_days=3,
                day_count_mode=L.DAYCOUNT_PROFITABLE,
                min_day_profit_pct=0.005,
            ),
        )


def test_fundednext_vectors_and_server_day() -> None:
    p = load_program("fundednext-stellar-2step")
    assert p.sizes == (6000, 15000, 25000, 50000, 100000, 200000)
    # GMT+2 / GMT+3 server midnight on US DST dates = 17:00 New York
    assert p.day_boundary == ("America/New_York", "17:00")
    v = p.phases[0].to_rule_vector()
    assert v[L.RULE_TARGET_PCT] == 0.08 and p.phases[1].to_rule_vector()[L.RULE_TARGET_PCT] == 0.05
    assert v[L.RULE_DAILY_PCT] == 0.05 and v[L.RULE_DAILY_SIZE_OF] == L.SIZE_OF_INITIAL
    assert v[L.RULE_MAXLOSS_MODE] == L.MAXLOSS_STATIC and v[L.RULE_MIN_DAYS] == 5


def test_e8_one_vector_and_target_parameter() -> None:
    p = load_program("e8-one")
    np.testing.assert_array_equal(
        p.phases[0].to_rule_vector(),
        vec(
            target_pct=0.08,
            daily_pct=0.04,
            daily_basis=L.BASIS_BALANCE,
            daily_size_of=L.SIZE_OF_BASIS,
            daily_floating=1,
            maxloss_pct=0.06,
            maxloss_mode=L.MAXLOSS_TRAILING_LOCK,
            maxloss_floating=1,
        ),
    )
    assert dict(p.param_values) == {"target_pct": 8.0}
    p9 = load_program("e8-one", params={"target_pct": 9})
    assert p9.phases[0].to_rule_vector()[L.RULE_TARGET_PCT] == pytest.approx(0.09)
    assert p.with_params({"target_pct": 10}).phases[0].profit_target_pct == 10
    with pytest.raises(ConfigError, match=r"parameter 'target_pct': expected a number in \[1, 20\], got 150"):
        load_program("e8-one", params={"target_pct": 150})
    with pytest.raises(ConfigError, match="unknown parameter 'foo'; this program's parameters: target_pct"):
        load_program("e8-one", params={"foo": 1})


def test_day_boundary_matches_calendar_and_names_the_session_weekday() -> None:
    from simlab.calendar import trading_days

    t = np.array(
        ["2024-03-10T20:59", "2024-03-10T21:00", "2024-03-30T22:59", "2024-03-30T23:00"],
        dtype="datetime64[ns]",
    ).astype(np.int64)
    for name in PRESETS:
        db = load_program(name).day_boundary
        np.testing.assert_array_equal(db.day_ids(t), trading_days(t, *db))
    ny = load_program("fundednext-stellar-2step").day_boundary
    d, tod = ny.day_and_time(t[:2])
    # Sunday 2024-03-10 16:59 EDT is still the day that began Saturday 17:00; 17:00 starts Monday's session
    assert d[1] - d[0] == 1 and tod[1] == 0
    assert ny.weekday(d).tolist() == [6, 0]
    prague = load_program("ftmo-2step").day_boundary
    d, _ = prague.day_and_time(t[2:])  # 23:59 / 00:00 Prague, the night EU DST starts
    assert d[1] - d[0] == 1 and prague.weekday(d).tolist() == [5, 6]


def test_check_size() -> None:
    p = load_program("ftmo-2step")
    assert p.check_size(100000) == 100000.0
    with pytest.raises(ConfigError) as e:
        p.check_size(30000)
    assert str(e.value) == (
        "ftmo-2step: account size 30,000 is not sold; sizes: 10,000, 25,000, 50,000, 100,000, 200,000 USD"
    )


def test_unknown_program_lists_known() -> None:
    with pytest.raises(ConfigError) as e:
        load_program("nope")
    msg = str(e.value)
    assert msg.startswith("nope: unknown program; known programs: e8-one, ftmo-1step, ftmo-2step")
    assert "\n" not in msg


# ---------------------------------------------------------------- user rule files
GOOD = """\
name = "my-firm"
firm = "My Firm"
source = "https://example.com/rules"
last_verified = 2026-11-01
sizes = [10000, 50000]

[day_boundary]
zone = "Europe/Prague"
reset = "00:00"

[[phases]]
name = "Challenge"
profit_target_pct = 10.0
[phases.daily_loss]
pct = 5.0
basis = "balance"
size_of = "initial"
floating = true
[phases.max_loss]
pct = 10.0
mode = "static"
floating = true
[phases.min_days]
count = 4
counts = "trade_opened"
[phases.holding]
weekend = false
"""


def write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "rules.toml"
    f.write_text(text)
    return f


def test_user_file_loads(tmp_path: Path) -> None:
    p = load_program(write(tmp_path, GOOD))
    assert p.name == "my-firm" and p.currency == "USD" and p.sizes == (10000, 50000)
    v = p.phases[0].to_rule_vector()
    assert v[L.RULE_NO_WEEKEND_HOLDING] == 1.0 and v[L.RULE_MIN_DAYS] == 4
    assert p.phases[0].holding.overnight is True and v[L.RULE_NO_OVERNIGHT_HOLDING] == 0.0
    no_overnight = load_program(
        write(tmp_path, GOOD.replace("weekend = false", "weekend = false\novernight = false"))
    )
    assert no_overnight.phases[0].to_rule_vector()[L.RULE_NO_OVERNIGHT_HOLDING] == 1.0
    assert "NO overnight holding" in no_overnight.phases[0].holding.describe()
    # optional tables: no daily rule, no minimum days
    text = GOOD.replace(
        '[phases.daily_loss]\npct = 5.0\nbasis = "balance"\nsize_of = "initial"\nfloating = true\n', ""
    )
    v = load_program(write(tmp_path, text)).phases[0].to_rule_vector()
    assert v[L.RULE_DAILY_PCT] == 0.0 and v[L.RULE_MAXLOSS_PCT] == 0.10


BAD_CASES = [
    # (replace this, with that, expected message fragment)
    (
        'firm = "My Firm"',
        'firm = "My Firm"\ncolour = "red"',
        "field 'colour': unknown key; expected one of name, firm",
    ),
    (
        "pct = 5.0",
        "pctt = 5.0",
        "phase 1 'Challenge', field 'daily_loss.pctt': unknown key (did you mean 'daily_loss.pct'?)",
    ),
    (
        "floating = true\n[phases.max_loss]",
        "floating = true\nextra = 1\n[phases.max_loss]",
        "phase 1 'Challenge', field 'daily_loss.extra': unknown key; expected one of pct, basis, size_of, floating",
    ),
    (
        "pct = 5.0",
        'pct = "five"',
        "phase 1 'Challenge', field 'daily_loss.pct': expected a percent, got the string 'five'",
    ),
    (
        "pct = 5.0",
        "pct = 150",
        "phase 1 'Challenge', field 'daily_loss.pct': expected a percent in (0, 100], got 150",
    ),
    ("pct = 5.0", "pct = 0", "field 'daily_loss.pct': expected a percent in (0, 100], got 0"),
    (
        "profit_target_pct = 10.0",
        "profit_target_pct = -1",
        "field 'profit_target_pct': expected a percent in [0, 100]",
    ),
    (
        'mode = "static"',
        'mode = "trailing"',
        "field 'max_loss.mode': unknown mode 'trailing'; expected one of static, "
        "trailing_eod, trailing_intraday, trailing_lock",
    ),
    (
        'basis = "balance"',
        'basis = "open"',
        "field 'daily_loss.basis': unknown basis 'open'; expected one of balance",
    ),
    ('size_of = "initial"', 'size_of = "equity"', "field 'daily_loss.size_of': unknown size_of 'equity'"),
    (
        "floating = true\n[phases.max_loss]",
        'floating = "yes"\n[phases.max_loss]',
        "field 'daily_loss.floating': expected true or false, got the string 'yes'",
    ),
    ("count = 4", "count = 2.5", "field 'min_days.count': expected a whole number, got the number 2.5"),
    ('counts = "trade_opened"', 'counts = "any"', "field 'min_days.counts': unknown day-count mode 'any'"),
    (
        'counts = "trade_opened"',
        'counts = "trade_opened"\nmin_day_profit_pct = 0.5',
        "field 'min_days.min_day_profit_pct': only used with counts = 'profitable'",
    ),
    ('name = "Challenge"\n', "", "phase 1, field 'name': missing (required)"),
    ("weekend = false", "weekend = 0", "field 'holding.weekend': expected true or false"),
    (
        'zone = "Europe/Prague"',
        'zone = "Mars/Olympus"',
        "field 'day_boundary.zone': unknown time zone 'Mars/Olympus'",
    ),
    (
        'reset = "00:00"',
        'reset = "25:00"',
        "field 'day_boundary.reset': expected a time \"HH:MM\" (00:00 to 23:59), got '25:00'",
    ),
    ("sizes = [10000, 50000]", "sizes = []", "field 'sizes': expected a non-empty list"),
    (
        "sizes = [10000, 50000]",
        "sizes = [10000, -5]",
        "field 'sizes[1]': expected an account size in (0, 1e+09], got -5",
    ),
    ("sizes = [10000, 50000]", "", "field 'sizes': missing (required)"),
    (
        "last_verified = 2026-11-01",
        'last_verified = "last week"',
        "field 'last_verified': expected a date like 2026-11-21",
    ),
    ("max_calendar_days", "max_calendar_days", None),  # placeholder, replaced below
]
BAD_CASES = [c for c in BAD_CASES if c[2] is not None] + [
    (
        "profit_target_pct = 10.0",
        "profit_target_pct = 10.0\nmax_calendar_days = -3",
        "field 'max_calendar_days': expected a whole number in [0, 3650], got -3",
    ),
    (
        "profit_target_pct = 10.0",
        'profit_target_pct = "$target"',
        "field 'profit_target_pct': unknown parameter '$target'; known: none declared in [params]",
    ),
]


@pytest.mark.parametrize("old,new,expected", BAD_CASES)
def test_bad_rule_file_one_line_error(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GOOD
    f = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as e:
        load_program(f)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(str(f) + ": ")
    assert expected in msg


def test_bad_rule_file_structure(tmp_path: Path) -> None:
    cases = {
        GOOD.split("[[phases]]")[0]: "field 'phases': missing (required): at least one [[phases]] table",
        GOOD.split("[[phases]]")[0].replace(
            "sizes =", "phases = []\nsizes ="
        ): "field 'phases': expected one or more",
        GOOD.replace(
            '[day_boundary]\nzone = "Europe/Prague"\nreset = "00:00"\n', ""
        ): "field 'day_boundary': missing",
        GOOD + "\n[[phases\n": "not valid TOML:",
        GOOD.replace('[phases.max_loss]\npct = 10.0\nmode = "static"\nfloating = true\n', "").replace(
            "profit_target_pct = 10.0", "profit_target_pct = 10.0\nmax_loss = 3"
        ): "phase 1 'Challenge', field 'max_loss': expected a table, got the number 3",
    }
    for text, expected in cases.items():
        f = write(tmp_path, text)
        with pytest.raises(ConfigError) as e:
            load_program(f)
        assert "\n" not in str(e.value) and expected in str(e.value), str(e.value)
    with pytest.raises(ConfigError, match="file not found"):
        load_program(tmp_path / "missing.toml")


# ---------------------------------------------------------------- simlab programs
def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_simlab("programs", *args, timeout=60)


def test_programs_cli(tmp_path: Path) -> None:
    r = cli()
    assert r.returncode == 0, r.stderr
    for name in PRESETS:
        assert name in r.stdout
    assert "10k 25k 50k 100k 200k" in r.stdout
    r = cli("ftmo-2step", "--size", "100000")
    assert r.returncode == 0, r.stderr
    assert "Europe/Prague" in r.stdout and "[5,000 USD on 100,000]" in r.stdout and "Verification" in r.stdout
    r = cli(str(write(tmp_path, GOOD)))
    assert r.returncode == 0 and "my-firm" in r.stdout


@pytest.mark.parametrize(
    "args,fragment",
    [
        (("nope",), "nope: unknown program; known programs: e8-one, ftmo-1step"),
        (("ftmo-2step", "--size", "30000"), "account size 30,000 is not sold; sizes: 10,000, 25,000"),
        (
            ("e8-one", "--param", "target_pct=99"),
            "parameter 'target_pct': expected a number in [1, 20], got 99",
        ),
    ],
)
def test_programs_cli_errors(args: tuple[str, ...], fragment: str) -> None:
    r = cli(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("simlab programs: error: ") and fragment in lines[0]
    assert r.stdout == ""


def test_programs_cli_bad_file(tmp_path: Path) -> None:
    r = cli(str(write(tmp_path, GOOD.replace("pct = 5.0", "pct = 150"))))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "field 'daily_loss.pct': expected a percent in (0, 100], got 150" in r.stderr


# ---------------------------------------------------------------- governors
def gvec(**slots: float) -> np.ndarray:
    g = np.zeros(L.GOV_SIZE)
    g[L.GOV_DAILY_BUFFER_PCT] = -1.0
    g[L.GOV_MAXLOSS_BUFFER_PCT] = -1.0
    g[L.GOV_LOCK_SIZE_MULT] = 1.0
    g[L.GOV_POST_TARGET_RISK_MULT] = 1.0
    for name, value in slots.items():
        g[getattr(L, "GOV_" + name.upper())] = value
    return g


def test_governor_presets() -> None:
    from simlab.governors_nb import no_governors

    assert list_governor_presets() == ["conservative", "default", "none"]
    np.testing.assert_array_equal(load_governors("none").to_vector(), no_governors())
    np.testing.assert_array_equal(load_governors(None).to_vector(), no_governors())
    np.testing.assert_array_equal(GovernorConfig().to_vector(), no_governors())
    d = load_governors("default")
    np.testing.assert_array_equal(
        d.to_vector(),
        gvec(
            daily_buffer_pct=0.01,
            maxloss_buffer_pct=0.01,
            halt_at_target=1,
            flatten_before_weekend=1,
            post_target_risk_mult=0.1,
        ),
    )
    assert d.weekend_window_min == 30 and d.reset_window_min == 0
    c = load_governors("conservative")
    np.testing.assert_array_equal(
        c.to_vector(),
        gvec(
            daily_buffer_pct=0.02,
            maxloss_buffer_pct=0.02,
            halt_at_target=1,
            flatten_before_reset=1,
            flatten_before_weekend=1,
            cooldown_losses=3,
            vol_pause_k=3.0,
            lock_level_pct=0.05,
            lock_size_mult=0.5,
            max_trades_per_day=5,
            max_open_risk_pct=0.01,
            post_target_risk_mult=0.1,
        ),
    )
    assert c.reset_window_min == 15 and c.weekend_window_min == 60


def test_governor_overrides() -> None:
    g = load_governors(
        "default",
        [
            "daily_buffer_pct=1.5",
            "maxloss_buffer_pct=off",
            "halt_at_target=false",
            "flatten_before_reset_min=10",
            "kill_switch=yes",
            "cooldown_losses=2",
            "cooldown_bars=30",
            "daily_profit_cap_pct=2",
        ],
    )
    v = g.to_vector()
    assert v[L.GOV_DAILY_BUFFER_PCT] == pytest.approx(0.015)
    assert v[L.GOV_MAXLOSS_BUFFER_PCT] == -1.0
    assert v[L.GOV_HALT_AT_TARGET] == 0.0
    assert v[L.GOV_FLATTEN_BEFORE_RESET] == 1.0 and g.reset_window_min == 10
    assert v[L.GOV_KILL_SWITCH] == 1.0
    assert v[L.GOV_COOLDOWN_LOSSES] == 2 and v[L.GOV_COOLDOWN_BARS] == 30
    assert v[L.GOV_DAILY_PROFIT_CAP_PCT] == pytest.approx(0.02)
    assert v[L.GOV_POST_TARGET_RISK_MULT] == 0.1  # untouched field keeps the preset's value
    # 0 is a real buffer (stop right at the firm's limit), not "off"
    assert load_governors("none", ["daily_buffer_pct=0"]).to_vector()[L.GOV_DAILY_BUFFER_PCT] == 0.0
    assert load_governors("none", {"daily_buffer_pct": 2.0}).daily_buffer_pct == 2.0


@pytest.mark.parametrize(
    "override,fragment",
    [
        ("dailybuffer=1", "unknown governor 'dailybuffer' (did you mean daily_buffer_pct?)"),
        (
            "daily_buffer_pct=abc",
            "field 'daily_buffer_pct': expected a percent in [0, 100] or 'off', got 'abc'",
        ),
        (
            "daily_buffer_pct=150",
            "field 'daily_buffer_pct': expected a percent in [0, 100] or 'off', got '150'",
        ),
        ("cooldown_losses=1.5", "field 'cooldown_losses': expected a whole number in [0, 1000], got '1.5'"),
        ("kill_switch=maybe", "field 'kill_switch': expected true or false, got 'maybe'"),
        ("lock_size_mult=-1", "field 'lock_size_mult': expected a number in [0, 10], got '-1'"),
        ("halt_at_target", "expected key=value, got 'halt_at_target'"),
    ],
)
def test_governor_bad_overrides(override: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_governors("default", [override])
    assert str(e.value).startswith("--gov: ") and fragment in str(e.value) and "\n" not in str(e.value)


def test_unknown_governor_error_is_whole_and_points_to_the_list() -> None:
    # the 15 field names made this line longer than the one-line cap, which cut the list in its middle
    r = run_simlab("challenge", "--gov", "dailybuffer_pct=1")
    assert r.returncode == 2 and r.stdout == ""
    line = r.stderr.strip()
    assert "\n" not in line and "chars cut" not in line, line
    assert line == (
        "simlab challenge: error: --gov: unknown governor 'dailybuffer_pct' (did you mean daily_buffer_pct "
        "or maxloss_buffer_pct?); the 15 known are listed in `simlab challenge --help` (under --gov) and "
        "challenges/README.md (Governors)"
    )
    # and the places it names do list every field
    help_text = " ".join(run_simlab("challenge", "--help").stdout.split())
    readme = (Path(__file__).parent.parent / "challenges" / "README.md").read_text()
    for name in FIELD_NAMES:
        assert name in help_text.split("KEY: ", 1)[1] and f"`{name}`" in readme, name


def test_governor_files(tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text('description = "x"\ndaily_buffer_pct = 0.5\nmax_trades_per_day = 3\nkill_switch = false\n')
    g = load_governors(str(f), ["max_trades_per_day=4"])
    assert g.daily_buffer_pct == 0.5 and g.max_trades_per_day == 4
    assert g.to_vector()[L.GOV_DAILY_BUFFER_PCT] == pytest.approx(0.005)
    assert dict(g.describe()) == {"daily_buffer_pct": "0.5%", "max_trades_per_day": "4"}
    assert g.to_dict()["maxloss_buffer_pct"] == "off"
    for text, fragment in [
        (
            "daily_bufer_pct = 1\n",
            "field 'daily_bufer_pct': unknown key; expected one of description, daily_buffer_pct",
        ),
        (
            'daily_buffer_pct = "lots"\n',
            "field 'daily_buffer_pct': expected a percent in [0, 100] or 'off', got 'lots'",
        ),
        ("max_trades_per_day = 2.5\n", "field 'max_trades_per_day': expected a whole number"),
        ("kill_switch = 1\n", "field 'kill_switch': expected true or false, got 1"),
        ("halt_at_target = \n", "not valid TOML"),
    ]:
        f.write_text(text)
        with pytest.raises(ConfigError) as e:
            load_governors(str(f))
        assert str(e.value).startswith(f"{f}: ") and fragment in str(e.value), str(e.value)
    with pytest.raises(ConfigError) as e:
        load_governors("aggressive")
    assert str(e.value) == (
        "--governors: unknown governor preset 'aggressive'; known: conservative, default, none "
        "(or the path of a .toml file)"
    )


def test_governor_cli_arguments() -> None:
    parser = argparse.ArgumentParser()
    add_governor_arguments(parser)
    args = parser.parse_args(
        ["--governors", "conservative", "--gov", "max_trades_per_day=2", "--gov", "vol_pause_k=0"]
    )
    g = governors_from_args(args)
    assert g.max_trades_per_day == 2 and g.vol_pause_k == 0 and g.daily_buffer_pct == 2.0
    assert governors_from_args(parser.parse_args([])) == load_governors("default")
    assert set(FIELD_NAMES) == {f"{n}" for n in GovernorConfig.__dataclass_fields__}
    assert len(FIELD_NAMES) == L.GOV_SIZE
