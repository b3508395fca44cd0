"""Fills with an execution model (the fake terminal) and a dry run's virtual fills (the same logic).

The expected prices are computed here from the public sampler (``simlab.costs_nb.sample_cost_nb``) and the
draw-counter convention of ``live.fills`` (bar number since 1970 x ``N_DRAWS_PER_BAR`` + the draw's purpose,
the session of that bar's open), not from ``live.fills`` itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from live_helpers import NS_MIN, make_setup, walk_bars, zero_cost_eurusd

from execution_models import SESSIONS, Table, load_model
from live import mt5_api as A
from live.fake import FakeTerminal
from live.fills import FillModel
from simlab import layout as L
from simlab.bars import Bars
from simlab.calendar import sessions
from simlab.costs_nb import sample_cost_nb
from simlab.engine import CostSetup
from strategies.base import Intents, Strategy

# a rise, then a fall (minute bars from Monday 15 January 2024 08:00 UTC: London)
CLOSES = [1.1000 + 0.0001 * i for i in range(20)] + [1.1019 - 0.0001 * i for i in range(20)]


class Scripted(Strategy):
    """Intents keyed by the bar's index from the start of the data: {bar: (dir, sl, tp)}."""

    name = "scripted"

    def __init__(self, script: dict[int, tuple[int, float, float]], t0: int) -> None:
        super().__init__()
        self.script, self.t0 = script, t0

    def signals(self, bars):
        it = Intents.hold(len(bars))
        d, sl, tp = self.script.get(int((bars.time[-1] - self.t0) // NS_MIN), (0, math.nan, math.nan))
        it.dir[-1], it.sl[-1], it.tp[-1] = d, sl, tp
        return it


def _costs(spread_mode: int) -> CostSetup:
    """The shipped EURUSD model (spread and stop slippage from ticks) with entry and exit slippage of a few points."""
    m = load_model("EURUSD")
    slip = Table.from_samples(np.array([0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 3.0, 5.0]), "fills", m.probs)
    for kind in ("entry_slippage", "exit_slippage"):
        for s in SESSIONS:
            m.tables[kind][s] = slip
    q, p = m.to_kernel_tables(1e-5)
    return CostSetup(q, p, spread_mode=spread_mode, slippage=True, name="test model")


def _draw(costs: CostSetup, kind: int, purpose: int, t_ns: int, seed: int) -> float:
    key = int(t_ns) // NS_MIN
    sess = int(sessions(np.array([key * NS_MIN], dtype=np.int64))[0])
    return float(
        sample_cost_nb(costs.cost_q, costs.cost_probs, kind, sess, seed, 0, key * L.N_DRAWS_PER_BAR + purpose)
    )


def _bid_only(bars: Bars) -> Bars:
    return Bars(time=bars.time, bid=bars.bid, ask=np.full_like(bars.bid, np.nan), volume=bars.volume)


SEED = 7


def test_fake_terminal_spread_and_slippage_from_an_execution_model(tmp_path, transport):
    walk = walk_bars(CLOSES)
    bars = _bid_only(walk)  # bars without an ask: the model gives the spread
    costs = _costs(L.SPREAD_FROM_MODEL)
    fills = FillModel(costs, seed=SEED, digits=5)
    term = FakeTerminal(bars, zero_cost_eurusd(), fills=fills)
    spread = np.array([_draw(costs, L.COST_SPREAD, L.DRAW_SPREAD, t, SEED) for t in bars.time])
    assert len(set(np.round(spread / 1e-5).tolist())) > 3  # sampled, not one constant
    assert np.array_equal(term.bars.ask, np.round(bars.bid + spread[:, None], 5))
    # MT5's rates carry it as the bar's spread in points
    for _ in range(10):
        term.advance()
    term.initialize()
    rates = term.copy_rates_from_pos("EURUSD", A.TIMEFRAME_M1, 1, 10)
    assert rates["spread"].tolist() == np.rint(spread[:10] / 1e-5).astype(int).tolist()
    # the runner's orders fill at the quote plus the sampled slippage: long at bar 5's close, flat at bar 30's
    term = FakeTerminal(bars, zero_cost_eurusd(), fills=fills)
    s = make_setup(walk, Scripted({5: (1, 0.0030, math.nan), 30: (2, math.nan, math.nan)}, int(bars.time[0])),
                   tmp_path, terminal=term, fixed_volume=1.0, transport=transport)  # fmt: skip
    s.run()
    ins = [d for d in s.term.deals if d.entry == A.DEAL_ENTRY_IN]
    outs = [d for d in s.term.deals if d.entry == A.DEAL_ENTRY_OUT]
    t6, t31 = int(bars.time[6]), int(bars.time[31])
    e_slip = _draw(costs, L.COST_ENTRY_SLIP, L.DRAW_ENTRY_SLIP, t6, SEED)
    x_slip = _draw(costs, L.COST_EXIT_SLIP, L.DRAW_EXIT_SLIP, t31, SEED)
    assert e_slip > 0 and x_slip > 0  # this seed draws slippage on both fills
    assert len(ins) == 1 and ins[0].price == round(term.bars.ask[6, 0] + e_slip, 5)
    assert len(outs) == 1 and outs[0].price == round(bars.bid[31, 0] - x_slip, 5)
    # the same seed serves the same market; another seed another one
    again = FakeTerminal(bars, zero_cost_eurusd(), fills=FillModel(costs, seed=SEED))
    other = FakeTerminal(bars, zero_cost_eurusd(), fills=FillModel(costs, seed=SEED + 1))
    assert np.array_equal(again.bars.ask, term.bars.ask) and not np.array_equal(other.bars.ask, term.bars.ask)


def test_stop_fills_with_the_models_stop_slippage_and_a_gap_at_the_open():
    costs = _costs(L.SPREAD_WIDER)
    # a long from bar 1 with its stop at 1.0995: bar 6 trades through it; a second long from bar 8 with its stop
    # at 1.0985: bar 10 opens below it
    closes = [1.1000] * 4 + [1.0998, 1.0997, 1.0990, 1.0990, 1.0990, 1.0990, 1.0970, 1.0970]
    bars = walk_bars(closes)
    bid = bars.bid.copy()
    bid[10, 0] = 1.0975
    bid[10, 1] = max(bid[10, 1], 1.0975)
    bars = Bars(time=bars.time, bid=bid, ask=np.round(bid + 0.0001, 5), volume=bars.volume)
    term = FakeTerminal(bars, zero_cost_eurusd(), fills=FillModel(costs, seed=SEED))
    term.initialize()
    buy = {"action": A.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 1.0, "type": A.ORDER_TYPE_BUY,
           "type_filling": A.ORDER_FILLING_FOK}  # fmt: skip
    term.advance()
    assert term.order_send({**buy, "sl": 1.0995}).retcode == A.TRADE_RETCODE_DONE
    while term.positions:
        term.advance()
    stop = [d for d in term.deals if d.entry == A.DEAL_ENTRY_OUT][0]
    s_slip = _draw(costs, L.COST_STOP_SLIP, L.DRAW_STOP_SLIP, int(bars.time[6]), SEED)
    assert term.k == 7 and s_slip > 0  # booked in bar 6, with this seed's stop slippage there
    assert stop.reason == A.DEAL_REASON_SL and stop.price == round(1.0995 - s_slip, 5)
    term.advance()
    assert term.order_send({**buy, "sl": 1.0985}).retcode == A.TRADE_RETCODE_DONE
    while term.positions:
        term.advance()
    gapped = [d for d in term.deals if d.entry == A.DEAL_ENTRY_OUT][1]
    assert term.k == 11 and gapped.price == 1.0975  # through the stop at the open: the gap is its slippage


SCRIPT = {
    5: (1, 0.0030, 0.0004),  # long; its target is reached inside bar 10
    12: (1, 0.0005, math.nan),  # long; its stop is reached inside a bar of the fall
    34: (-1, 0.0030, math.nan),  # short at the market
    37: (2, math.nan, math.nan),  # flat: the short closes at the market
}
COLS = (
    "time_ns",
    "side",
    "order_type",
    "entry",
    "requested_price",
    "filled_price",
    "volume",
    "spread",
    "session",
)


def _fills(tmp_path, dry: bool, fills: FillModel | None, name: str, transport: str = "direct"):
    bars = walk_bars(CLOSES)
    term = FakeTerminal(bars, zero_cost_eurusd(), fills=fills)
    s = make_setup(bars, Scripted(SCRIPT, int(bars.time[0])), tmp_path, terminal=term, fixed_volume=1.0,
                   dry_run=dry, journal=name, transport=transport)  # fmt: skip
    s.runner.fills = fills or s.runner.fills
    s.run()
    rows = s.runner.journal.fills(virtual=dry)
    assert not s.runner.journal.fills(virtual=not dry)
    return s, [
        tuple(None if isinstance(r[c], float) and math.isnan(r[c]) else r[c] for c in COLS) for r in rows
    ]


@pytest.mark.parametrize("model", [False, True], ids=["zero_cost", "model"])
def test_dry_run_fills_what_the_live_run_filled(tmp_path, model, transport):
    """The same replay run live on the fake terminal and as a dry run: the dry run's journal holds the very
    fills the live run got from the terminal (time, side, kind, requested and filled price, volume, spread)."""
    fills = FillModel(_costs(L.SPREAD_WIDER), seed=SEED) if model else None
    live, got = _fills(tmp_path, False, fills, "live.db", transport)
    dry, virt = _fills(tmp_path, True, fills, "dry.db", transport)
    kinds = [(r[2], r[3]) for r in got]
    assert kinds == [("market_entry", "in"), ("take_profit", "out"), ("market_entry", "in"), ("stop_loss", "out"),
                     ("market_entry", "in"), ("market_exit", "out")]  # fmt: skip
    assert virt == got
    assert not dry.term.sent and len(live.term.sent) > 0
    assert dry.runner.state.virtual_balance == pytest.approx(live.term.balance, abs=0.05)
    if model:  # the model moved the fills off the quotes: the comparison is not the trivial one
        assert any(r[4] != r[5] for r in got if r[2].startswith("market"))
        assert any(r[2] == "stop_loss" and r[5] != r[4] for r in got)


def test_fills_export_leaves_virtual_fills_out(tmp_path, capsys):
    from simlab_cli.main import main

    dry, virt = _fills(tmp_path, True, None, "dry.db")
    out = tmp_path / "fills.csv"
    assert main(["live", "fills", "--journal", str(tmp_path / "dry.db"), "--out", str(out)]) == 0
    assert out.read_text().count("\n") == 1  # the header: a dry run measured nothing
    assert f"({len(virt)} virtual fills of a dry run left out" in capsys.readouterr().out


def test_fill_records_carry_the_orders_round_trip_latency(tmp_path, transport):
    """Fill records name requested and filled price, spread, latency and session (issue 12): the latency is
    the order's round trip, request to answer, measured around order_send. A broker that answers in 30 ms
    gives market fills of 30 ms or more; a stop filled by the broker inside a bar has none (NaN). The fills
    file carries it to `simlab calibrate --fills` as latency samples."""
    import time

    from execution_models.calibrate import read_fills

    bars = walk_bars(CLOSES)
    script = {3: (1, 0.0030, math.nan), 12: (2, math.nan, math.nan), 22: (1, 0.0005, math.nan)}
    s = make_setup(bars, Scripted(script, int(bars.time[0])), tmp_path, fixed_volume=1.0, transport=transport)
    real_send = s.broker.send

    def slow_send(req):  # type: ignore[no-untyped-def]
        time.sleep(0.030)
        return real_send(req)

    s.broker.send = slow_send
    s.run()
    rows = s.runner.journal.fills(virtual=False)
    sent = [r for r in rows if r["order_type"] in ("market_entry", "market_exit")]
    booked = [r for r in rows if r["order_type"] in ("stop_loss", "take_profit")]
    assert len(sent) >= 3 and booked, rows
    assert all(r["latency_ms"] is not None and 30.0 <= r["latency_ms"] < 5_000.0 for r in sent), sent
    assert all(r["latency_ms"] is None for r in booked), booked
    out = tmp_path / "fills.csv"
    out.write_text(s.runner.journal.fills_csv())
    _, rec = read_fills(out, "EURUSD")
    assert rec["latency_samples"] == len(sent)
