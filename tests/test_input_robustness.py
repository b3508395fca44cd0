"""Issue 10, the data-input cases: each reproduces a reported failure and checks the promised behaviour.

Cases (issue 10 item: test):
 2 mixed naive and offset times             test_mixed_naive_and_offset_times_are_refused_naming_the_row
 7 truncated last row / no final newline     test_last_row_cut_off_*
11 symbol file: directory, unreadable, not UTF-8; inspect of an unreadable file
                                              test_symbol_file_that_cannot_be_read, test_inspect_of_an_unreadable_file
12 FIFO / non-regular file / stdin           test_fifo_*, test_stdin_is_not_supported
13 decimal commas                            test_decimal_commas_*
14 BOM in TOML, capped error lines, corrupt gzip, missing middle field, profit target 0
                                              test_toml_files_with_a_bom_are_accepted, test_error_lines_are_capped,
                                              test_corrupt_gzip_says_so, test_missing_middle_field_says_too_few_fields,
                                              test_profit_target_of_zero_is_refused
   (a DST fall-back hour without --tz hints at --tz: tests/test_timezones.py)
"""

from __future__ import annotations

import gzip
import os
import shutil

import numpy as np
import pytest
from _builders import run_simlab
from data_helpers import BIDASK_HEADER, GOOD_BIDASK, GOOD_MT5, MT5_BARS_HEADER, mt5_bar, write

from challenges.governors import load_governors
from challenges.rules import PRESET_DIR, load_program
from simlab.errors import ConfigError, InputError
from simlab.loaders import load_bars, load_ticks
from simlab.symbols import get_symbol
from simlab_cli.main import main

MAX_LINE = 300


def _one_line(proc, *pieces: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for piece in pieces:
        assert piece in lines[0], lines[0]
    return lines[0]


# ------------------------------------------------------------------ 2: mixed naive and offset times


def test_mixed_naive_and_offset_times_are_refused_naming_the_row(tmp_path):
    lines = list(GOOD_BIDASK)
    lines[3] = lines[3].replace("Z,", ",", 1)  # line 4 without its Z
    with pytest.raises(InputError) as info:
        load_bars(write(tmp_path / "a.csv", lines), tz="Europe/Helsinki")
    msg = str(info.value)
    assert "line 4, field 'time': '2014-05-01T00:02:00' has no UTC offset" in msg
    assert "line 2's '2014-05-01T00:00:00Z' has one" in msg
    lines = [line.replace("Z,", ",", 1) for line in GOOD_BIDASK]
    lines[4] = GOOD_BIDASK[4]  # naive first, an offset on line 5
    with pytest.raises(
        InputError, match=r"line 5, field 'time': '2014-05-01T00:03:00Z' has a UTC offset but"
    ):
        load_bars(write(tmp_path / "b.csv", lines))
    lines[4] = lines[4].replace("00:03:00Z", "02:03:00+02:00")
    with pytest.raises(InputError, match=r"line 5, .*'2014-05-01T02:03:00\+02:00' has a UTC offset"):
        load_bars(write(tmp_path / "c.csv", lines))


# ------------------------------------------------------------------ 7: the last row cut off


def test_last_row_cut_off_in_a_field_without_final_newline_is_refused(tmp_path):
    text = "\n".join(GOOD_MT5)
    cut = text[: text.rindex("\t1.38685")]  # the last row stops inside its <LOW>: 5 fields of 9
    with pytest.raises(InputError) as info:
        load_bars(write(tmp_path / "cut.csv", cut), tz="UTC")
    msg = str(info.value)
    assert "line 5: 5 fields, too few (the file ends without a newline: the last row looks cut off" in msg
    assert "expected 9 fields like the header (line 1)" in msg


def test_last_row_cut_off_in_its_last_field_warns(tmp_path):
    f = write(tmp_path / "EURUSD_M1_x.csv", "\n".join(GOOD_MT5)[:-1])  # spread 12 written as 1, no newline
    bars = load_bars(f, tz="UTC")
    (warning,) = bars.meta["warnings"]
    assert (
        "ends without a newline" in warning
        and "<SPREAD> '1' is shorter than in the 3 rows before it" in warning
    )
    proc = run_simlab("inspect", "--data", str(f), "--tz", "UTC")
    assert proc.returncode == 0 and "warning: the file ends without a newline" in proc.stderr
    assert load_bars(write(tmp_path / "ok.csv", "\n".join(GOOD_MT5)), tz="UTC").meta["warnings"] == []
    assert (
        load_bars(write(tmp_path / "nl.csv", GOOD_MT5[:-1] + [GOOD_MT5[-1][:-1]]), tz="UTC").meta["warnings"]
        == []
    )


def test_missing_middle_field_says_too_few_fields(tmp_path):
    lines = list(GOOD_MT5)
    parts = lines[2].split("\t")
    lines[2] = "\t".join(parts[:4] + parts[5:])  # <LOW> left out: <CLOSE> would read the volume
    with pytest.raises(InputError) as info:
        load_bars(write(tmp_path / "mid.csv", lines), tz="UTC")
    assert "line 3: 8 fields, too few (a field is missing); expected 9 fields like the header" in str(
        info.value
    )
    proc = run_simlab("inspect", "--data", str(tmp_path / "mid.csv"))
    _one_line(proc, "line 3: 8 fields, too few")


# ------------------------------------------------------------------ 11, 12: files that are not regular files


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_as_any_input_is_refused_never_hangs(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="is a FIFO \\(named pipe\\), not a regular file"):
        load_bars(fifo)
    with pytest.raises(InputError, match="is a FIFO"):
        load_ticks(fifo)
    with pytest.raises(ConfigError, match="is a FIFO"):
        get_symbol("EURUSD", fifo)
    with pytest.raises(ConfigError, match="is a FIFO"):
        load_program(fifo)
    # every command, in a subprocess with a timeout: a hang would fail the test, not block it
    for args in (
        ("inspect", "--data", str(fifo)),
        ("backtest", "--data", str(fifo)),
        ("challenge", "--data", str(fifo), "--runs", "2"),
        ("challenge", "--trades", str(fifo), "--runs", "2"),
        ("backtest", "--symbol-file", str(fifo)),
        ("calibrate", "--ticks", str(fifo), "--symbol", "EURUSD", "--out-dir", str(tmp_path / "m")),
        ("calibrate", "--fills", str(fifo), "--symbol", "EURUSD", "--out-dir", str(tmp_path / "m")),
    ):
        _one_line(run_simlab(*args, timeout=120), str(fifo), "FIFO")


def test_stdin_is_not_supported(tmp_path):
    for name in ("/dev/stdin", "-"):
        with pytest.raises(InputError, match="reading from stdin is not supported; save the data to a file"):
            load_bars(name)
    _one_line(run_simlab("backtest", "--data", "/dev/stdin", timeout=120), "stdin is not supported")


def test_character_device_is_refused(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    with pytest.raises(InputError, match="is a character device, not a regular file"):
        load_bars("/dev/zero")  # would otherwise read forever


def test_symbol_file_that_cannot_be_read(tmp_path, monkeypatch):
    folder = tmp_path / "symbols.toml"
    folder.mkdir()
    with pytest.raises(ConfigError, match="is a directory; expected a file"):
        get_symbol("EURUSD", folder)
    _one_line(run_simlab("backtest", "--symbol-file", str(folder)), "is a directory")
    latin = tmp_path / "latin.toml"
    latin.write_bytes("[EURUSD]\ndescription = 'Zürich'\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"line 2: byte 0xfc is not UTF-8 text; expected a UTF-8 file"):
        get_symbol("EURUSD", latin)
    utf16 = tmp_path / "utf16.toml"
    utf16.write_bytes("[EURUSD]\ncommission_per_lot = 3.0\n".encode("utf-16"))
    with pytest.raises(ConfigError, match="is UTF-16 text; expected UTF-8"):
        get_symbol("EURUSD", utf16)
    good = write(tmp_path / "good.toml", "[EURUSD]\ncommission_per_lot = 3.0\n")
    monkeypatch.setattr(
        "simlab.files.os.access", lambda *a, **k: False
    )  # what a non-root user sees on mode 000
    with pytest.raises(ConfigError, match="cannot read: permission denied"):
        get_symbol("EURUSD", good)


def test_inspect_of_an_unreadable_file(tmp_path, monkeypatch, capsys):
    f = write(tmp_path / "bars.csv", GOOD_BIDASK)
    if os.geteuid() != 0:  # a real unreadable file, where the permission bits bind
        f.chmod(0)
        _one_line(run_simlab("inspect", "--data", str(f)), "cannot read: permission denied")
        f.chmod(0o644)
    monkeypatch.setattr("simlab.files.os.access", lambda *a, **k: False)
    assert main(["inspect", "--data", str(f)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith("bars.csv: cannot read: permission denied")


# ------------------------------------------------------------------ 13: decimal commas


def _comma(line: str) -> str:
    return "\t".join(c.replace(".", ",") if i > 1 else c for i, c in enumerate(line.split("\t")))


def test_decimal_commas_of_an_mt5_export_are_read(tmp_path):
    dots = load_bars(write(tmp_path / "dots.csv", GOOD_MT5), tz="UTC")
    commas = load_bars(
        write(tmp_path / "commas.csv", [GOOD_MT5[0]] + [_comma(x) for x in GOOD_MT5[1:]]), tz="UTC"
    )
    assert commas.meta["decimal"] == ","
    for name in ("time", "bid", "ask", "volume"):
        np.testing.assert_array_equal(getattr(commas, name), getattr(dots, name))


def test_decimal_commas_in_a_semicolon_csv_are_read(tmp_path):
    dots = load_bars(write(tmp_path / "dots.csv", GOOD_BIDASK))
    semi = [GOOD_BIDASK[0].replace(",", ";")] + [
        x.replace(",", ";").replace(".", ",") for x in GOOD_BIDASK[1:]
    ]
    commas = load_bars(write(tmp_path / "commas.csv", semi))
    np.testing.assert_array_equal(commas.bid, dots.bid)
    np.testing.assert_array_equal(commas.ask, dots.ask)


def test_decimal_commas_mixed_with_points_are_named(tmp_path):
    lines = list(GOOD_MT5)
    lines[3] = _comma(lines[3])  # one row written with commas, the others with points
    with pytest.raises(
        InputError, match=r"line 4, field '<OPEN>': '1,38686' is not a number \(a decimal comma"
    ):
        load_bars(write(tmp_path / "mixed.csv", lines), tz="UTC")


# ------------------------------------------------------------------ 14: BOM, capped lines, gzip, target 0


def test_toml_files_with_a_bom_are_accepted(tmp_path):
    bom = b"\xef\xbb\xbf"
    sym = tmp_path / "symbols.toml"
    sym.write_bytes(bom + b"[EURUSD]\ncommission_per_lot = 3.0\n")
    assert get_symbol("EURUSD", sym).commission_per_lot == 3.0
    rules = tmp_path / "rules.toml"
    rules.write_bytes(bom + (PRESET_DIR / "ftmo-2step.toml").read_bytes())
    assert load_program(rules).phases == load_program("ftmo-2step").phases
    gov = tmp_path / "gov.toml"
    gov.write_bytes(bom + (PRESET_DIR / "governors" / "conservative.toml").read_bytes())
    assert load_governors(gov) == load_governors("conservative")


def test_error_lines_are_capped(tmp_path):
    nul = tmp_path / "nul.toml"
    nul.write_bytes(b"\x00" * 131_072)
    huge = write(tmp_path / "huge.csv", ["time," + "x" * 100_000, "2014-05-01T00:00:00Z,1"])
    wide = write(
        tmp_path / "wide.csv", [BIDASK_HEADER, "2014-05-01T00:00:00Z," + "9" * 50_000 + ",1,1,1,1,1,1,1"]
    )
    for args in (
        ("inspect", "--data", str(nul)),
        ("inspect", "--data", str(huge)),
        ("inspect", "--data", str(wide)),
        ("backtest", "--symbol-file", str(nul)),
        ("challenge", "--program", str(nul)),
        ("challenge", "--trades", str(nul)),
    ):
        proc = run_simlab(*args, timeout=120)
        line = _one_line(proc)
        assert len(line) <= len("simlab challenge: error: ") + len(str(nul)) + 2 + MAX_LINE, (args, len(line))


def test_corrupt_gzip_says_so(tmp_path):
    data = bytearray(gzip.compress(("\n".join(GOOD_BIDASK[:1] + GOOD_BIDASK[1:] * 500)).encode()))
    data[len(data) // 2 : len(data) // 2 + 8] = b"\xff" * 8  # bytes damaged in the middle of the stream
    f = tmp_path / "bad.csv.gz"
    f.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"corrupt gzip file \(.*\): it does not decompress completely"):
        load_bars(f)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(InputError, match="corrupt gzip file"):
        load_bars(cut)


def test_profit_target_of_zero_is_refused(tmp_path):
    text = (PRESET_DIR / "ftmo-2step.toml").read_text()
    assert "profit_target_pct = 10.0" in text
    f = tmp_path / "zero.toml"
    f.write_text(text.replace("profit_target_pct = 10.0", "profit_target_pct = 0.0", 1))
    with pytest.raises(ConfigError) as info:
        load_program(f)
    msg = str(info.value)
    assert "field 'profit_target_pct': 0 means no target, so the phase could never pass" in msg
    _one_line(run_simlab("challenge", "--program", str(f), "--runs", "2"), "could never pass")


# ------------------------------------------------------------------ encodings that keep the content


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16", "utf-8-sig"])
@pytest.mark.parametrize("base", ["mt5", "bidask"])
def test_re_encoded_files_give_identical_bars(tmp_path, encoding, base):
    lines = GOOD_MT5 if base == "mt5" else GOOD_BIDASK
    ref = load_bars(write(tmp_path / "ref.csv", lines), tz="UTC")
    f = tmp_path / "enc.csv"
    f.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    got = load_bars(f, tz="UTC")
    for name in ("time", "bid", "ask", "volume"):
        np.testing.assert_array_equal(getattr(got, name), getattr(ref, name))


def test_copy_of_the_shared_export_is_not_modified(tmp_path, shared_data_dir):
    # reading never writes: the file's bytes (and hash) are what they were
    f = tmp_path / "DE30EUR_M1_mt5export_ny7_2019-02.csv"
    shutil.copy(shared_data_dir / f.name, f)
    before = f.read_bytes()
    bars = load_bars(f, tz="America/New_York+7")
    import hashlib

    assert f.read_bytes() == before and bars.meta["sha256"] == hashlib.sha256(before).hexdigest()


def test_crlf_and_blank_trailing_lines(tmp_path):
    ref = load_bars(write(tmp_path / "ref.csv", GOOD_MT5), tz="UTC")
    got = load_bars(write(tmp_path / "crlf.csv", [*GOOD_MT5, "", ""], newline="\r\n"), tz="UTC")
    np.testing.assert_array_equal(got.ask, ref.ask)
    assert got.meta["warnings"] == []


def test_one_row_mt5_export(tmp_path):
    bars = load_bars(
        write(
            tmp_path / "one.csv",
            [MT5_BARS_HEADER, mt5_bar("2014.05.01", "03:00", "1.1", "1.1", "1.1", "1.1")],
        )
    )
    assert len(bars) == 1
