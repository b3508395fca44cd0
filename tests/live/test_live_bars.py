"""The bars the runner builds from MT5 rates are the loader's bars of the same MT5 export, exactly.

One rule (``simlab.loaders.ask_from_spread``) turns bid OHLC plus a spread in points into the ask, for an MT5
"Export bars" file and for the rates ``copy_rates_*`` returns: the close's spread on high, low and close, the
previous bar's on the open (the wider of the two after a gap). The runner sees its bars in pieces — the start
window, one bar or a few per poll, a window reloaded after a restart or an IPC error — and each piece's first
open needs the bar before it; these tests replay the shared MT5 export (Helsinki server time, with the missing
minutes and the weekend of the real file) and compare every bar the runner appended with the loaded file.
"""

from __future__ import annotations

import numpy as np
import pytest
from live_helpers import make_setup

from live.fake import FakeTerminal
from live.runner import Runner, bars_from_rates
from simlab.loaders import load_bars
from strategies.base import Intents, Strategy

pytestmark = pytest.mark.shared_data
EXPORT = "EURUSD_M1_mt5export_servertime_2014-05.csv"


class Hold(Strategy):
    name = "hold"

    def signals(self, bars):
        return Intents.hold(len(bars))


def _export(shared_data_dir):
    b = load_bars(shared_data_dir / EXPORT, tz="Europe/Helsinki", symbol="EURUSD")
    assert b.meta["ask_from_spread"] is True
    keep = b.time < np.datetime64("2015-01-01", "ns").astype(
        np.int64
    )  # the 2018 days after the hole: left out
    return b.slice(0, int(keep.sum()))


def _seen(runner, out):
    w = runner.window
    for i in range(len(w)):
        out[int(w.time[i])] = (w.bid[i].copy(), w.ask[i].copy())


def _compare(loaded, seen):
    idx = np.searchsorted(loaded.time, np.array(sorted(seen), dtype=np.int64))
    assert np.array_equal(loaded.time[idx], np.array(sorted(seen), dtype=np.int64))
    bid = np.array([seen[t][0] for t in sorted(seen)])
    ask = np.array([seen[t][1] for t in sorted(seen)])
    assert np.array_equal(bid, loaded.bid[idx])
    assert np.array_equal(ask, loaded.ask[idx])  # the opens too: each piece's first bar saw the bar before it
    return idx


def test_runner_pieces_equal_the_loaded_export(shared_data_dir, tmp_path):
    bars = _export(shared_data_dir)
    start = 2600  # Friday 2 May 2014, late: the replay crosses the weekend
    s = make_setup(bars, Hold(), tmp_path, server_tz="Europe/Helsinki", history_bars=200, start=start)
    seen: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    s.runner.poll()
    _seen(s.runner, seen)
    first = min(seen)
    # polls that see one bar, a few (a slow poll), more than the poll's four rates (a long pause) and an IPC
    # failure in the middle of a cycle (the window is reloaded from the broker)
    steps = [1, 1, 3, 1, 2, 6, 1, 1, 9, 1] * 40
    for k, n in enumerate(steps):
        for _ in range(n):
            s.term.advance()
        if k == 55:
            s.term.inject("disconnect", on="account_info", times=1)
        s.runner.poll()
        _seen(s.runner, seen)
    idx = _compare(bars, seen)
    assert (
        idx[0] == start - 200 and int(bars.time[idx[0]]) == first
    )  # the start window's first bar had a prev
    gaps = np.diff(bars.time[idx]) != 60_000_000_000
    assert gaps.sum() > 20  # missing minutes and the weekend: the open took the wider spread there
    assert np.diff(bars.time[idx]).max() > 86_400_000_000_000 // 2
    assert s.broker.reconnects == 1
    # and after a restart from the journal the window is rebuilt the same way
    s.runner.journal.close()
    r2 = Runner(s.broker, Hold(), s.runner.guard, s.runner.clock, type(s.runner.journal)(s.journal_path), s.runner.cfg,
                log=s.runner.log)  # fmt: skip
    for _ in range(3):
        s.term.advance()
    r2.poll()
    seen2: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    _seen(r2, seen2)
    _compare(bars, seen2)
    assert len(seen2) == 200


def test_bars_from_rates_piece_by_piece_equals_all_at_once(shared_data_dir):
    """The function itself: rates cut anywhere, each piece given the bar before it, give the whole's bars."""
    bars = _export(shared_data_dir).slice(0, 3000)
    term = FakeTerminal(bars, _spec(), server_tz="Europe/Helsinki", start=len(bars) - 1)
    rates = term._rates(0, len(bars) - 1)
    clock = term.clock
    whole = bars_from_rates(rates, clock, 1e-5, 5, "EURUSD", bar_ns=60_000_000_000)
    assert np.array_equal(whole.ask, bars.ask[:-1]) and np.array_equal(whole.bid, bars.bid[:-1])
    cuts = [0, 1, 2, 37, 38, 39, 500, 1440, 2999]
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        prev = None if a == 0 else (int(whole.time[a - 1]), float(rates["spread"][a - 1]))
        piece = bars_from_rates(rates[a:b], clock, 1e-5, 5, "EURUSD", bar_ns=60_000_000_000, prev=prev)
        assert np.array_equal(piece.ask, whole.ask[a:b]), (a, b)
    # without the bar before it, a piece's first open takes its own spread (what the first bar of a file gets):
    # on a bar one minute after a bar with a wider spread, that is a different open
    sp = rates["spread"].astype(np.int64)
    i = next(
        i for i in range(1, len(sp)) if sp[i - 1] > sp[i] and whole.time[i] - whole.time[i - 1] == 60 * 10**9
    )
    alone = bars_from_rates(rates[i : i + 1], clock, 1e-5, 5, "EURUSD", bar_ns=60_000_000_000)
    assert alone.ask[0, 0] == round(bars.bid[i, 0] + sp[i] * 1e-5, 5)
    assert whole.ask[i, 0] == round(bars.bid[i, 0] + sp[i - 1] * 1e-5, 5) != alone.ask[0, 0]


def _spec():
    from live_helpers import zero_cost_eurusd

    return zero_cost_eurusd()
