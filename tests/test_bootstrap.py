"""Day bootstrap (``simlab challenge --bootstrap-days``): valid resampled bars, the stationary-bootstrap
sequence, determinism over seeds and workers, the same kernel as the normal mode, and the CLI."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from _builders import run_simlab

from simlab import layout as L
from simlab.bars import Bars
from simlab.bootstrap import (
    BOOT_DRAW,
    MarketSettings,
    bootstrap_context,
    bootstrap_sequence,
    day_segments,
    resample_days,
    run_bootstrap_challenge,
)
from simlab.calendar import in_weekend_closure, trading_days, weekday
from simlab.engine import CostSetup
from simlab.errors import ConfigError, InputError
from simlab.governors_nb import no_governors
from simlab.montecarlo import AttemptKernel, ChallengeSetup
from simlab.rng_nb import uniforms_nb
from simlab.symbols import get_symbol
from simlab.synthetic import synthetic_eurusd
from strategies.base import Intents, Strategy

ROOT = Path(__file__).resolve().parents[1]
PRAGUE = MarketSettings("Europe/Prague", "00:00", reset_window_min=30, weekend_window_min=60)
NEW_YORK_5PM = MarketSettings("America/New_York", "17:00")


@pytest.fixture(scope="module")
def bars() -> Bars:
    return synthetic_eurusd(n_days=30, timeframe="15min", seed=3)


class Flipper(Strategy):
    """A test strategy: every 32nd bar, long after an up bar, short after a down one; 20-pip stop and target."""

    name = "flipper"

    @property
    def warmup(self) -> int:
        return 20

    def signals(self, bars: Bars) -> Intents:
        mid = bars.mid
        n = len(bars)
        up = mid[:, 3] > mid[:, 0]
        when = (np.arange(n) % 32 == 0) & (np.arange(n) >= self.warmup)
        d = np.where(when, np.where(up, 1, -1), 0)
        return Intents(d, np.full(n, 0.0020), np.full(n, 0.0020), np.full(n, np.nan))


def make_setup(
    bars: Bars, settings: MarketSettings = PRAGUE, seed: int = 7, horizon: int = 21
) -> ChallengeSetup:
    from execution_models import load_model

    spec = get_symbol("EURUSD")
    q, p = load_model("EURUSD").to_kernel_tables(spec.point)
    costs = CostSetup(q, p, spread_mode=L.SPREAD_WIDER, slippage=True, name="test")
    rules = np.zeros((2, L.RULE_SIZE))
    rules[:, L.RULE_TARGET_PCT] = 0.006
    rules[:, L.RULE_DAILY_PCT] = 0.05
    rules[:, L.RULE_MAXLOSS_PCT] = 0.10
    return ChallengeSetup(
        market=settings.build(bars),
        intents=Intents.hold(len(bars)),
        spec=spec,
        phase_rules=rules,
        phase_names=["Challenge", "Verification"],
        gov=no_governors(),
        costs=costs,
        risk=0.003,
        horizon_days=horizon,
        warmup_bars=Flipper().warmup,
        seed=seed,
        meta={"program": "test", "strategy": "flipper"},
    )


# ---------------------------------------------------------------- day segments and resampled bars
def test_segments_keep_complete_days_only(bars: Bars) -> None:
    m = PRAGUE.build(bars)
    seg = day_segments(m, "Europe/Prague", "00:00")
    counts = seg.stop - seg.first
    assert seg.median_bars == 96.0  # 15-minute bars, 24 hours
    assert np.all(counts >= 48)
    # Sunday-evening stubs (Sunday 17:00 New York = 23:00 Prague) are dropped, so are the edge days
    assert set(weekday(seg.day_id).tolist()) == {0, 1, 2, 3, 4}
    assert seg.trading_weekdays == (0, 1, 2, 3, 4) and seg.weekend_closed
    all_days = np.unique(m.day)
    assert len(seg) == 30 - 1 and seg.day_id[0] == all_days[1]  # the last Friday (23 h) is not a full day
    for i in range(len(seg)):
        assert np.all(m.day[seg.first[i] : seg.stop[i]] == seg.day_id[i])
    # a 17:00 New York boundary: no stubs; days are named by the date they begin (Sunday .. Thursday)
    seg_ny = day_segments(NEW_YORK_5PM.build(bars), "America/New_York", "17:00")
    assert seg_ny.trading_weekdays == (0, 1, 2, 3, 6) and len(seg_ny) == 30
    assert np.all(seg_ny.stop - seg_ny.first == 96)


@pytest.mark.parametrize("settings", [PRAGUE, NEW_YORK_5PM], ids=["prague-midnight", "new-york-5pm"])
@pytest.mark.parametrize("block", [1, 3, 10**9])
def test_resampled_bars_are_valid_and_keep_each_days_path(
    bars: Bars, settings: MarketSettings, block: int
) -> None:
    seg = day_segments(settings.build(bars), settings.day_zone, settings.day_reset)
    seq = bootstrap_sequence(11, 2, 45, len(seg), block)  # longer than the data: wraps when contiguous
    r = resample_days(seg, seq)
    b = r.bars
    t = b.time
    assert np.all(np.diff(t) > 0)
    utc_weekday = (t.astype("datetime64[ns]").astype("datetime64[D]").astype(np.int64) + 3) % 7
    assert not np.any(utc_weekday == 5), "no Saturday bars"
    assert not np.any(in_weekend_closure(t)), "no bars in the FX weekend closure"
    for side in (b.bid, b.ask):
        assert np.all(side[:, 1] >= side[:, [0, 3]].max(axis=1)) and np.all(
            side[:, 2] <= side[:, [0, 3]].min(axis=1)
        )
    assert np.all(b.ask >= b.bid)
    # the new calendar: consecutive trading days, each placed day on its slot, every slot non-empty here
    assert np.all(trading_days(t, settings.day_zone, settings.day_reset)[r.first] == r.slot_id)
    assert np.all(r.stop > r.first) and np.all(r.first[1:] == r.stop[:-1]) and r.stop[-1] == len(b)
    assert set(weekday(r.slot_id).tolist()) <= set(seg.trading_weekdays)
    assert np.all(np.diff(r.slot_id) >= 1) and np.all(np.diff(r.slot_id) <= 3)
    src_mid = seg.bars.mid
    for i in range(len(seq)):
        f, s = r.first[i], r.stop[i]
        src = r.src_bar[f:s]
        k = seq[i]
        assert np.all((src >= seg.first[k]) & (src < seg.stop[k])) and np.all(np.diff(src) == 1)
        # intraday returns: mid differences equal the source day's (up to the additive re-levelling)
        mid = b.mid[f:s]
        np.testing.assert_allclose(mid - mid[0, 0], src_mid[src] - src_mid[src[0], 0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(mid - src_mid[src], r.shift[i], rtol=0, atol=1e-12)
        # spreads and volumes are the source's; each bar keeps its time from its day's start
        np.testing.assert_allclose(b.ask[f:s] - b.bid[f:s], seg.bars.ask[src] - seg.bars.bid[src], atol=1e-12)
        assert np.array_equal(b.volume[f:s], seg.bars.volume[src])
        assert np.array_equal(t[f:s] - t[f], seg.bars.time[src] - seg.bars.time[src[0]])
        if i:  # the level continues: this day opens at the previous day's closing mid
            assert mid[0, 0] == pytest.approx(b.mid[f - 1, 3], abs=1e-12)
    assert np.array_equal(r.seq, seq)


def test_friday_slot_stops_at_the_weekly_close(bars: Bars) -> None:
    """A 24-hour Monday placed on a Friday loses the bars after Friday 17:00 New York; Monday's slot opens
    the week with a weekend gap flag."""
    seg = day_segments(PRAGUE.build(bars), "Europe/Prague", "00:00")
    monday = int(np.flatnonzero(weekday(seg.day_id) == 0)[0])
    r = resample_days(seg, np.full(10, monday))
    fri = np.flatnonzero(weekday(r.slot_id) == 4)[0]
    assert r.stop[fri] - r.first[fri] == 92  # 23:00 Prague = 17:00 New York in January: 4 bars dropped
    assert r.stop[0] - r.first[0] == 96
    m = PRAGUE.build(r.bars)
    gaps = np.flatnonzero(m.flags & L.FLAG_WEEKEND_GAP)
    assert gaps.tolist() == [r.first[fri + 1]]
    assert m.swap_nights[r.first[fri + 1]] == 1  # held over the weekend: Friday's rollover


# ---------------------------------------------------------------- the day sequence
def test_huge_block_is_contiguous_with_wrap() -> None:
    k = 17
    seq = bootstrap_sequence(5, 9, 60, k, 10**12)
    assert np.all(seq[1:] == (seq[:-1] + 1) % k)
    assert np.any(seq[1:] < seq[:-1]), "60 days of 17 wrap"


def test_block_one_draws_iid_days() -> None:
    k, n = 23, 400
    seq = bootstrap_sequence(5, 9, n, k, 1)
    u = uniforms_nb(5, 9, BOOT_DRAW, 2 * n)
    assert np.array_equal(seq, np.floor(u[1::2] * k).astype(np.int64))
    counts = np.bincount(seq, minlength=k)
    assert counts.min() > 0 and counts.max() < 3 * n / k


def test_mean_block_length() -> None:
    seq = bootstrap_sequence(1, 0, 20_000, 1000, 5)
    starts = 1 + np.count_nonzero(seq[1:] != (seq[:-1] + 1) % 1000)
    assert 20_000 / starts == pytest.approx(5.0, rel=0.05)


def test_sequence_is_keyed_by_seed_and_attempt_and_prefix_stable() -> None:
    a = bootstrap_sequence(7, 3, 50, 100, 4)
    assert np.array_equal(a[:20], bootstrap_sequence(7, 3, 20, 100, 4))
    assert not np.array_equal(a, bootstrap_sequence(7, 4, 50, 100, 4))
    assert not np.array_equal(a, bootstrap_sequence(8, 3, 50, 100, 4))


# ---------------------------------------------------------------- whole runs
def test_determinism_over_seeds_and_workers(bars: Bars) -> None:
    setup = make_setup(bars)
    one = run_bootstrap_challenge(setup, 6, Flipper(), 4, PRAGUE, workers=1, progress=False).to_json()
    two = run_bootstrap_challenge(setup, 6, Flipper(), 4, PRAGUE, workers=2, progress=False).to_json()
    again = run_bootstrap_challenge(setup, 6, Flipper(), 4, PRAGUE, workers=3, progress=False).to_json()
    assert (
        json.dumps(one, sort_keys=True)
        == json.dumps(two, sort_keys=True)
        == json.dumps(again, sort_keys=True)
    )
    other = run_bootstrap_challenge(
        make_setup(bars, seed=8), 6, Flipper(), 4, PRAGUE, workers=2, progress=False
    )
    assert json.dumps(other.to_json()["attempts"]) != json.dumps(one["attempts"])
    doc = run_bootstrap_challenge(setup, 6, Flipper(), 4, PRAGUE, workers=1, progress=False)
    assert doc.mode == "day_bootstrap" and doc.basic_provenance()["bootstrap_block_days"] == 4
    assert doc.basic_provenance()["seed"] == 7
    assert {"attempt", "start", "passed", "phases", "source_start", "blocks"} <= set(one["attempts"][0])


def test_attempts_run_the_normal_kernel_on_their_own_history(bars: Bars) -> None:
    """Each attempt equals the Monte Carlo kernel's attempt ``a`` on its resampled market from its first post-warm-up
    bar; its start time and days to pass are read off that market."""
    setup = make_setup(bars)
    res = run_bootstrap_challenge(setup, 8, Flipper(), 3, PRAGUE, workers=2, progress=False)
    assert res.out.shape == (8, 2, L.RES_SIZE)
    ctx = bootstrap_context(setup, Flipper(), 3, PRAGUE)
    cfg = ctx.cfg
    passed = res.passed_all()
    assert passed.any() and not passed.all(), "the test setup should both pass and fail"
    for a in range(8):
        r, i_s = ctx.history(a)
        m = PRAGUE.build(r.bars)
        it = Flipper().signals(r.bars)
        start = int(r.first[i_s])
        assert start >= setup.warmup_bars and m.day[start] != m.day[start - 1]
        assert m.day[-1] < m.day[start] + setup.horizon_days <= m.day[-1] + 3  # the horizon, not more
        kernel = AttemptKernel.build(
            m, it, setup.spec.to_vector(), cfg, setup.phase_rules, setup.gov, setup.costs, setup.seed,
            np.array([start]), setup.horizon_days,
        )  # fmt: skip
        out, st = kernel.run_all(a, 1)
        assert np.array_equal(out[0], res.out[a]) and st[0] == res.starts[a] == start
        assert res.start_times[a] == r.bars.time[start]
        if passed[a]:
            end = int(res.out[a, -1, L.RES_END_BAR])
            assert res.pass_days[a] == m.day[end] - m.day[start] + 1
        else:
            assert math.isnan(res.pass_days[a])
    dtp = res.to_json()["days_to_pass"]
    assert dtp["n"] == int(passed.sum()) and dtp["median"] == np.median(res.pass_days[passed])
    assert "day bootstrap, mean block 3 days" in res.format_table()


def test_horizon_longer_than_the_data(bars: Bars) -> None:
    res = run_bootstrap_challenge(
        make_setup(bars, horizon=90), 2, Flipper(), 5, PRAGUE, workers=1, progress=False
    )
    assert res.out.shape == (2, 2, L.RES_SIZE) and np.all(res.out[:, 0, L.RES_STATUS] >= 0)


def test_vol_ratio_travels_with_its_bars(bars: Bars) -> None:
    vr = np.arange(len(bars), dtype=np.float64)
    m = PRAGUE.build(bars, vr)
    seg = day_segments(m, "Europe/Prague", "00:00")
    r = resample_days(seg, bootstrap_sequence(1, 1, 12, len(seg), 2))
    assert np.array_equal(r.vol_ratio, vr[r.src_bar])


def test_bad_inputs(bars: Bars) -> None:
    setup = make_setup(bars)
    for block in (0, -3, 2.5, True):
        with pytest.raises(ConfigError, match="--bootstrap-days"):
            run_bootstrap_challenge(setup, 1, Flipper(), block, PRAGUE)  # type: ignore[arg-type]
    tiny = bars.slice(0, 150)  # a Sunday stub and one full day and a bit
    with pytest.raises(InputError, match="tiny.csv: the data hold 1 complete trading day"):
        run_bootstrap_challenge(make_setup(tiny), 1, Flipper(), 5, PRAGUE, where="tiny.csv")


# ---------------------------------------------------------------- the command
def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_simlab("challenge", *args, cwd=ROOT, timeout=300)


def test_cli_bootstrap_runs(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    p = cli("--runs", "3", "--bootstrap-days", "5", "--horizon-days", "40", "--json", str(out))
    assert p.returncode == 0, p.stderr
    assert "PASS RATE" in p.stdout and "day bootstrap, mean block 5 days" in p.stdout
    j = json.loads(out.read_text())
    assert j["mode"] == "day_bootstrap" and j["provenance"]["bootstrap_block_days"] == 5
    r = j["result"]
    assert r["pass_rate"]["runs"] == 3
    assert len(r["attempts"]) == 3 and all("source_start" in a for a in r["attempts"])


@pytest.mark.parametrize("value", ["-1", "-20"])
def test_cli_negative_block_is_one_line_exit_2(value: str) -> None:
    p = cli("--runs", "1", "--bootstrap-days", value)
    assert p.returncode == 2
    assert (
        p.stderr.strip().count("\n") == 0 and "--bootstrap-days" in p.stderr and "Traceback" not in p.stderr
    )


def test_cli_bootstrap_is_off_by_default() -> None:
    from simlab_cli.main import build_parser

    args = build_parser("challenge").parse_args(["challenge"])
    assert args.bootstrap_days == 0
