"""Builders for the live runner's tests: a fake terminal, a runner over it, trades read back from deals."""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from live.clock import ServerClock
from live.fake import FakeTerminal
from live.guard import Guard
from live.journal import Journal
from live.mt5 import MT5Broker
from live.observability import Alerts, EventLog
from live.runner import Runner, RunnerConfig
from live.safety import KillSwitch
from simlab.bars import Bars
from simlab.engine import config_vector, no_rules
from simlab.governors_nb import no_governors
from simlab.symbols import get_symbol

NS_MIN = 60_000_000_000
BRIDGES: list[Any] = []  # (bridge, client) pairs started by make_setup (the ``transport`` fixture stops them)
DATA_M1 = "eurusd_m1_bidask_2014-05.csv.gz"


def zero_cost_eurusd() -> Any:
    return get_symbol("EURUSD").with_overrides(commission_per_lot=0.0, swap_long=0.0, swap_short=0.0)


def m1_2014(shared_data_dir: Path, n: int | None = None) -> Bars:
    """The shared EURUSD M1 bars of 2014 (the file's two 2018 days after the hole are left out)."""
    from simlab.loaders import load_bars

    b = load_bars(shared_data_dir / DATA_M1)
    idx = np.flatnonzero(b.time < np.datetime64("2015-01-01", "ns").astype(np.int64))
    if n is not None:
        idx = idx[:n]
    return Bars(time=b.time[idx], bid=b.bid[idx], ask=b.ask[idx], volume=b.volume[idx], symbol="EURUSD")


def rates_view(bars: Bars, point: float = 1e-5, digits: int = 5) -> Bars:
    """What the runner sees of these bars through MT5's ``copy_rates``: bid OHLC and the close's spread in points
    (what the fake terminal serves), the ask rebuilt by the loaders' rule (``simlab.loaders.ask_from_spread``)."""
    from simlab.loaders import ask_from_spread

    spread = np.rint((bars.ask[:, 3] - bars.bid[:, 3]) / point)
    ask = ask_from_spread(bars.time, bars.bid, spread, point, digits, bar_ns=60_000_000_000)
    return Bars(time=bars.time, bid=bars.bid, ask=ask, volume=bars.volume)


def walk_bars(bid_closes: list[float], start: str = "2024-01-15T08:00", spread: float = 0.0001) -> Bars:
    """Minute bars whose open is the previous close and whose range is +-1 point around open/close."""
    c = np.asarray(bid_closes, dtype=np.float64)
    o = np.r_[c[0], c[:-1]]
    h = np.round(np.maximum(o, c) + 0.00001, 5)
    lo = np.round(np.minimum(o, c) - 0.00001, 5)
    bid = np.column_stack([o, h, lo, c])
    t0 = int(np.datetime64(start, "ns").astype(np.int64))
    t = t0 + np.arange(len(c), dtype=np.int64) * NS_MIN
    return Bars(time=t, bid=bid, ask=np.round(bid + spread, 5), volume=np.ones(len(c)), symbol="EURUSD")


@dataclass
class Setup:
    term: FakeTerminal
    broker: MT5Broker
    runner: Runner
    log: io.StringIO
    journal_path: Path
    sleeps: list[float] = field(default_factory=list)
    alerts: Alerts | None = None

    def run(self, bars: int | None = None) -> None:
        """Poll once at the start, then once per bar the terminal advances."""
        self.runner.poll()
        k = 0
        while (bars is None or k < bars) and self.term.advance():
            self.runner.poll()
            k += 1

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        out = [json.loads(x) for x in self.log.getvalue().splitlines() if x.strip()]
        return [e for e in out if name is None or e["event"] == name]


def make_setup(
    bars: Bars,
    strategy: Any,
    tmp: Path,
    *,
    spec: Any = None,
    server_tz: str = "UTC",
    rules: np.ndarray | None = None,
    gov: np.ndarray | None = None,
    risk: float = 0.01,
    fixed_volume: float = 0.0,
    initial: float = 100_000.0,
    history_bars: int = 100_000,
    day_zone: str = "Europe/Prague",
    day_reset: str = "00:00",
    reset_window_min: float = 0.0,
    weekend_window_min: float = 0.0,
    module: Any = None,
    terminal: FakeTerminal | None = None,
    journal: str = "journal.db",
    kill: KillSwitch | None = None,
    password: str | None = None,
    dry_run: bool = False,
    transport: str = "direct",
    **term_kw: Any,
) -> Setup:
    spec = spec or zero_cost_eurusd()
    term = terminal or FakeTerminal(bars, spec, server_tz=server_tz, balance=initial, **term_kw)
    if transport == "mt5linux":  # the real bridge client, over RPyC on loopback
        from mt5linux import MetaTrader5

        from live.fake.server import FakeBridge

        bridge = FakeBridge(term).start()
        module = MetaTrader5(host="127.0.0.1", port=bridge.port)
        BRIDGES.append((bridge, module))
    sleeps: list[float] = []
    log = io.StringIO()
    ev = EventLog("dryrun" if dry_run else "live", stream=log, secrets=(password,) if password else ())
    broker = MT5Broker(module if module is not None else term, sleep=sleeps.append, password=password)
    broker.connect()
    guard = Guard(
        sym=spec.to_vector(),
        cfg=config_vector(initial_balance=initial, risk=risk, fixed_volume=fixed_volume),
        rules=no_rules() if rules is None else rules,
        gov=no_governors() if gov is None else gov,
        day_zone=day_zone,
        day_reset=day_reset,
        reset_window_min=reset_window_min,
        weekend_window_min=weekend_window_min,
    )
    alerts = Alerts(None, ev.mode, ev)
    runner = Runner(
        broker, strategy, guard, ServerClock.parse(server_tz), Journal(tmp / journal),
        RunnerConfig("EURUSD", "M1", history_bars=history_bars, dry_run=dry_run),
        log=ev, alerts=alerts, kill=kill, sleep=sleeps.append,
    )  # fmt: skip
    return Setup(term, broker, runner, log, tmp / journal, sleeps, alerts)


@dataclass(frozen=True)
class Trade:
    entry_bar: int
    exit_bar: int
    side: int
    volume: float
    entry_price: float
    exit_price: float


def live_trades(term: FakeTerminal) -> tuple[list[Trade], list[Any]]:
    """Closed trades (one per position id, from its deals) and the positions still open."""
    by: dict[int, list[Any]] = {}
    for d in term.deals:
        by.setdefault(d.position_id, []).append(d)
    out = []
    t = term.bars.time
    for _, ds in sorted(by.items()):
        ins = [d for d in ds if d.entry == 0]
        outs = [d for d in ds if d.entry == 1]
        if not outs or sum(d.volume for d in outs) < ins[0].volume - 1e-9:
            continue
        ti = int(term.clock.to_utc(ins[0].time_msc * 1_000_000)[0])
        to = int(term.clock.to_utc(outs[-1].time_msc * 1_000_000)[0])
        out.append(
            Trade(
                int(np.searchsorted(t, ti, "right") - 1),
                int(np.searchsorted(t, to, "right") - 1),
                1 if ins[0].type == 0 else -1,
                ins[0].volume,
                ins[0].price,
                outs[-1].price,
            )
        )
    return out, list(term.positions.values())


def backtest_trades(result: Any) -> list[Trade]:
    from simlab import layout as L

    tr = result.trades_raw
    return [
        Trade(
            int(r[L.TR_ENTRY_BAR]),
            int(r[L.TR_EXIT_BAR]),
            int(r[L.TR_DIR]),
            round(
                float(r[L.TR_VOLUME]), 8
            ),  # the kernel's steps * step carries float noise (0.57000000000000001)
            float(r[L.TR_ENTRY_PRICE]),
            float(r[L.TR_EXIT_PRICE]),
        )
        for r in tr
    ]


def nan_to_none(x: float) -> float | None:
    return None if math.isnan(x) else x
