"""The live runner: new closed bar -> strategy -> rules and governors -> sizing -> order.

One cycle per new closed bar t, at the open of bar t+1 (when the terminal shows
bar t+1 forming), in the simulator's order (``simlab.kernel_nb.step_nb``):

1. book what happened inside bar t: our position closed by its stop or target (or
   by hand) — found in the broker's deals, booked into the rules and governors;
2. the close of bar t: equity = the broker's balance + the position valued at
   bar t's close (``Guard.mark_close``): trailing limits, target, profit cap;
3. the strategy's intents on the latest ``history_bars`` closed bars (long enough
   for recursive indicators to converge; ``Strategy.signals`` on the window, its
   last row) -> ``Guard.decide``: the governors, the stops level, the sizing;
4. the rules at bar t+1's open, before any order (``Guard.open_breach``): a new rule
   day closes the old day's books and checks the phase's time limit; a position held
   into a new day or over a weekend close breaks a holding ban. A breach ends the phase
   there, as the simulator ends it at that open;
5. orders at the open: the phase's end (flatten), the kill switch, the calendar's
   flatten, a governor's or the signal's close, then the entry (vetoed again by the calendar);
6. the stops on the broker: the strategy's stop and target, or the governors'
   equity floor as a stop when it is tighter (``Guard.floor_stop``).

The bars the strategy sees are those MT5 serves (``copy_rates_from_pos``): bid
OHLC and a spread in points, the ask built by the loaders' own function
(``simlab.loaders.ask_from_spread``: the close's spread on high, low and close,
the previous bar's on the open), so a backtest on an MT5 export sees the same
bars. The runner gets them in pieces (its start window, a bar or a few per poll,
a window reloaded after a restart); each piece's first open is built from the
bar before it. Times come in on the server clock and are converted to UTC.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from live import mt5_api as A
from live.broker import BrokerError, IPCError
from live.clock import ServerClock
from live.fills import FillModel, bar_exit, inside_bar_time
from live.guard import Decision, Guard
from live.journal import Journal
from live.observability import Alerts, EventLog, Metrics
from live.orders import Executor, Outcome, StopTrading, normalize_volume, stop_price
from live.safety import KillSwitch, RateLimiter
from live.types import Fill, Position, Side, SymbolMeta
from simlab import layout as L
from simlab.bars import Bars
from simlab.calendar import NS_DAY, NS_S
from simlab.errors import ConfigError
from simlab.loaders import ask_from_spread

DAY_S = NS_DAY // NS_S  # the terminal speaks seconds


def bars_from_rates(
    rates: np.ndarray,
    clock: ServerClock,
    point: float,
    digits: int,
    symbol: str,
    *,
    bar_ns: int,
    prev: tuple[int, float] | None = None,
) -> Bars:
    """MT5 rates (server clock, bid OHLC, spread in points) as UTC ``Bars``, the ask built by the loaders'
    own rule (``simlab.loaders.ask_from_spread``: the close's spread on high, low and close, the previous
    bar's on the open). ``prev``: the UTC time and spread of the bar before ``rates[0]`` (its open needs it)."""
    t = clock.to_utc(np.asarray(rates["time"], dtype=np.int64) * NS_S)
    bid = np.column_stack([rates["open"], rates["high"], rates["low"], rates["close"]]).astype(np.float64)
    ask = ask_from_spread(t, bid, rates["spread"], point, digits, bar_ns=bar_ns, prev=prev)
    return Bars(time=t, bid=bid, ask=ask, volume=rates["tick_volume"].astype(np.float64), symbol=symbol)


def last_rate(rates: np.ndarray, clock: ServerClock) -> tuple[int, float]:
    """The UTC time and spread of the last of ``rates``: the ``prev`` of the rates that follow it."""
    return int(clock.to_utc(int(rates["time"][-1]) * NS_S)[0]), float(rates["spread"][-1])


@dataclass
class RunnerConfig:
    symbol: str
    timeframe: str = "M1"
    magic: int = 26_012_001
    history_bars: int = 2000
    deviation: int = 10
    max_retries: int = 3
    dry_run: bool = False
    # the rule day a phase already running started on (``account.phase_start``)
    phase_start_day: int | None = None
    where: str = ""  # the configuration's file, for one-line errors


@dataclass
class Held:
    """The position the runner manages (the broker's ticket and what the simulator knows of it)."""

    ticket: int
    direction: int
    volume: float
    entry: float
    sl_dist: float
    tp_dist: float
    entry_bar: int
    stop_kind: str = "strategy"  # which level the broker's stop holds: strategy | floor
    floor_reason: int = 0
    sl: float = 0.0
    tp: float = 0.0


@dataclass
class RunnerState:
    bar_index: int = -1
    last_bar_time: int = -1  # UTC ns of the last closed bar processed
    held: Held | None = None
    halted: str = ""  # why trading stopped for good (kill switch, the phase's end, stop code)
    phase: dict[str, Any] | None = None  # how the phase ended (passed, breached, halted by a governor)
    virtual_balance: float = math.nan  # dry run only
    extra: dict[str, Any] = field(default_factory=dict)


class Runner:
    def __init__(
        self,
        broker: Any,
        strategy: Any,
        guard: Guard,
        clock: ServerClock,
        journal: Journal,
        config: RunnerConfig,
        *,
        log: EventLog,
        metrics: Metrics | None = None,
        alerts: Alerts | None = None,
        kill: KillSwitch | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        fills: FillModel | None = None,
    ) -> None:
        self.broker = broker
        self.strategy = strategy
        self.guard = guard
        self.clock = clock
        self.journal = journal
        self.cfg = config
        self.log = log
        self.metrics = metrics
        self.alerts = alerts or Alerts(None, log.mode, log)
        self.kill = kill or KillSwitch(None, None)
        self.limiter = limiter
        self.sleep = sleep
        self.tf_code, self.tf_sec = A.TIMEFRAMES[config.timeframe]
        # a dry run's virtual fills: the fake terminal's logic, with its execution model when given
        self.fills = fills or FillModel(bar_ns=self.tf_sec * NS_S)
        self.meta: SymbolMeta | None = None
        self.exec: Executor | None = None
        self.window: Bars | None = None
        self.state = RunnerState()
        self.started = False
        self.connected = False
        self.last_equity = math.nan
        self.last_balance = math.nan
        self.decision_ns: list[int] = []  # closed bar seen -> order_send called (benchmarks), wall clock
        self.decision_cpu_ns: list[int] = []  # the same span in this thread's CPU time (no waiting for a CPU)
        self._t_seen = 0
        self._cpu_seen = 0
        self._prev: tuple[int, float] | None = None  # UTC time and spread of the window's last bar
        self._pending_fills: list[tuple[Fill, str, bool]] = []  # recorded, written with the bar's state

    # ------------------------------------------------------------------ start and resume
    @property
    def dry(self) -> bool:
        return self.cfg.dry_run

    def start(self) -> None:
        """Read the symbol, load the history window, resume from the journal or begin the phase."""
        self.meta = self.broker.symbol(self.cfg.symbol)
        self.exec = Executor(
            self.broker, self.journal, self.meta, magic=self.cfg.magic, deviation=self.cfg.deviation,
            max_retries=self.cfg.max_retries, log=self.log, metrics=self.metrics, alerts=self.alerts,
            limiter=self.limiter, sleep=self.sleep,
        )  # fmt: skip
        self.exec.on_before_send = self._before_send
        saved = self.journal.load_state()
        rates = self._load_window(None if saved is None else int(saved["last_bar_time"]))
        forming_utc = int(self.clock.to_utc(int(rates["time"][-1]) * NS_S)[0])
        assert self.window is not None
        if saved is None:
            first = self.guard.day_of(forming_utc)
            start = self.cfg.phase_start_day
            if start is not None and start > first:
                raise ConfigError(
                    self.cfg.where,
                    f"account.phase_start: rule day {_day_iso(start)} is after today's ({_day_iso(first)}); "
                    "give the day the phase started on",
                )
            n = int(self.guard.rules[L.RULE_MAX_DAYS])
            if start is not None and n > 0 and first - start >= n:
                raise ConfigError(
                    self.cfg.where,
                    f"account.phase_start: the phase's {n}-day time limit ended with {_day_iso(start + n - 1)}; "
                    "the phase is over",
                )
            self.guard.begin(first, start)
            self.state.last_bar_time = int(self.window.time[-1]) if len(self.window) else -1
            if self.dry:
                self.state.virtual_balance = float(self.broker.account().balance)
            self.log.event("started", symbol=self.cfg.symbol, timeframe=self.cfg.timeframe, resumed=False)
        else:
            self._restore(saved)
            start = self.cfg.phase_start_day
            if start is not None and start != self.guard.phase_start_day:
                raise ConfigError(
                    self.cfg.where,
                    f"account.phase_start: rule day {_day_iso(start)}, but the journal's phase started on "
                    f"{_day_iso(self.guard.phase_start_day)} (a new phase needs a new journal)",
                )
            self.log.event("started", symbol=self.cfg.symbol, resumed=True, bar_index=self.state.bar_index)
            self._resume_intents()
        self.started = True
        self.connected = True
        self._save()

    def _load_window(self, upto: int | None) -> np.ndarray:
        """The strategy's window from the broker's history: the last ``history_bars`` closed bars up to
        ``upto`` (UTC ns; None: all), each bar's ask built as the loaders build it (the first one's open
        from the bar before it). Returns the rates fetched (the last one is the forming bar)."""
        assert self.meta is not None
        count = self.cfg.history_bars + 2  # the window, the bar before it, the forming bar
        for _ in range(3):
            rates = self.broker.rates(self.cfg.symbol, self.tf_code, 0, count)
            closed = rates[:-1]
            t = self.clock.to_utc(np.asarray(closed["time"], dtype=np.int64) * NS_S)
            n = len(closed) if upto is None else int(np.searchsorted(t, upto, "right"))
            if n > self.cfg.history_bars or len(rates) < count:  # enough before ``upto``, or all there is
                break
            count += len(closed) - n  # bars closed after ``upto``: ask for that many more
        lo = max(0, n - self.cfg.history_bars)
        prev = last_rate(closed[lo - 1 : lo], self.clock) if lo > 0 else None
        hist = bars_from_rates(closed[lo:n], self.clock, self.meta.point, self.meta.digits, self.cfg.symbol,
                               bar_ns=self.tf_sec * NS_S, prev=prev)  # fmt: skip
        self._buf = _Window(self.cfg.history_bars, self.cfg.symbol)
        for j in range(len(hist)):
            self._buf.append(hist, j)
        self.window = self._buf.bars()
        self._prev = last_rate(closed[n - 1 : n], self.clock) if n > lo else prev
        return rates

    def _restore(self, saved: dict[str, Any]) -> None:
        held = saved.get("held")
        self.state = RunnerState(
            bar_index=int(saved["bar_index"]),
            last_bar_time=int(saved["last_bar_time"]),
            held=Held(**held) if held else None,
            halted=str(saved.get("halted", "")),
            phase=saved.get("phase"),
            virtual_balance=float(saved.get("virtual_balance", math.nan) or math.nan),
        )
        self.guard.load(saved["acc"], saved["pos"], bool(saved.get("kill")))
        if saved.get("kill"):
            self.kill.trip("journal: kill switch was on")

    def _resume_intents(self) -> None:
        """Intents left ``sent`` by a crash: find them on the broker before anything is sent."""
        assert self.exec is not None
        for it in self.journal.open_intents():
            if not it["attempts"]:
                self.journal.finish(int(it["id"]), "not_executed")
                continue
            out = self.exec.reconcile_intent(it, self._server_sec() - DAY_S)
            if out.state == "filled" and it["kind"] == "open" and self.state.held is None:
                self._adopt(out, it)

    def _adopt(self, out: Outcome, it: dict[str, Any]) -> None:
        d = int(it["side"])
        sl_dist = math.nan if it["sl_dist"] is None else float(it["sl_dist"])
        tp_dist = math.nan if it["tp_dist"] is None else float(it["tp_dist"])
        self.state.held = Held(out.ticket, d, out.volume, out.price, sl_dist, tp_dist, int(it["bar"]))
        self.guard.on_open(d, out.volume, out.price, sl_dist, tp_dist, int(it["bar"]))
        self.log.event("position_adopted", ticket=out.ticket, intent=int(it["id"]))

    def _save(self) -> None:
        self._write_fills()
        s = self.state
        self.journal.save_state(
            {
                "bar_index": s.bar_index,
                "last_bar_time": s.last_bar_time,
                "held": asdict(s.held) if s.held else None,
                "halted": s.halted,
                "phase": s.phase,
                "virtual_balance": s.virtual_balance,
                "phase_start_day": self.guard.phase_start_day,  # also in acc; named for a reader of the journal
                "acc": self.guard.acc.tolist(),
                "pos": self.guard.pos.tolist(),
                "kill": bool(self.guard.gov[L.GOV_KILL_SWITCH] > 0.0),
            }
        )
        self.journal.checkpoint()

    # ------------------------------------------------------------------ clocks
    def _server_sec(self) -> int:
        try:
            return int(self.broker.quote(self.cfg.symbol).time_ns // NS_S)
        except BrokerError:
            return int(time.time())

    def _before_send(self, req: Any) -> None:
        """The first order of a bar: closed bar seen -> order_send (later orders of the bar wait for the broker)."""
        if self._t_seen:
            dt = time.perf_counter_ns() - self._t_seen
            self._t_seen = 0
            self.decision_ns.append(dt)
            self.decision_cpu_ns.append(time.thread_time_ns() - self._cpu_seen)
            if self.metrics is not None:
                self.metrics.cycle.observe(dt / 1e9)

    # ------------------------------------------------------------------ the loop
    def poll(self) -> int:
        """Check the terminal once; process every newly closed bar. Returns how many were processed."""
        if not self.started:
            self.start()
        try:
            return self._poll()
        except IPCError as exc:
            self.connected = False
            self.log.event("ipc_error", level="warning", call=exc.call, code=exc.code)
            self._recover()
            return 0
        except StopTrading as exc:
            self._halt(f"stop trading: {exc}")
            return 0

    def _recover(self) -> None:
        """After an IPC failure: reconnect (bounded back-off), go back to the state saved after the last
        complete bar, reload the bars, and settle every intent sent meanwhile before anything else.
        The interrupted bar is then processed again on the next poll."""
        self.broker.reconnect()
        self.connected = True
        self.log.event("reconnected", reconnects=getattr(self.broker, "reconnects", 0))
        saved = self.journal.load_state()
        if saved is not None:
            self._restore(saved)
        self._load_window(self.state.last_bar_time)
        self._resume_intents()

    def _poll(self) -> int:
        assert self.window is not None and self.meta is not None
        if self.kill.tripped and not self.guard.gov[L.GOV_KILL_SWITCH] > 0.0:
            self._kill_now()
        rates = self.broker.rates(self.cfg.symbol, self.tf_code, 0, 4)
        self._t_seen = time.perf_counter_ns()
        self._cpu_seen = time.thread_time_ns()
        times = self.clock.to_utc(np.asarray(rates["time"], dtype=np.int64) * NS_S)
        forming = int(times[-1])
        new = [i for i in range(len(rates) - 1) if times[i] > self.state.last_bar_time]
        if not new:
            self._retry_waiting(forming)
            return 0
        if (
            len(new) == len(rates) - 1
            and len(self.window)
            and forming > self.state.last_bar_time + 4 * self.tf_sec * NS_S
        ):
            # more bars closed than this poll shows: fetch them all (a long disconnect)
            rates = self.broker.rates(self.cfg.symbol, self.tf_code, 0, self.cfg.history_bars + 1)
            times = self.clock.to_utc(np.asarray(rates["time"], dtype=np.int64) * NS_S)
            new = [i for i in range(len(rates) - 1) if times[i] > self.state.last_bar_time]
        nb = bars_from_rates(rates[new], self.clock, self.meta.point, self.meta.digits, self.cfg.symbol,
                             bar_ns=self.tf_sec * NS_S, prev=self._prev)  # fmt: skip
        assert self.exec is not None
        waiting = self.exec.waiting  # intents left waiting by an earlier poll: retried after these bars
        spreads = rates["spread"][new]
        for j in range(len(nb)):
            self._append(nb, j, float(spreads[j]))
            last = j == len(nb) - 1
            t_next = forming if last else int(nb.time[j + 1])
            self._on_closed_bar(t_next, decide=last)
        if waiting:
            self._retry_waiting(forming)
        return len(nb)

    def _append(self, nb: Bars, j: int, spread: float) -> None:
        self._buf.append(nb, j)
        self.window = self._buf.bars()
        self._prev = (int(nb.time[j]), spread)

    def run_forever(self, should_stop: Callable[[], bool], interval_s: float = 1.0) -> None:
        while not should_stop():
            self.poll()
            self.sleep(interval_s)

    # ------------------------------------------------------------------ one closed bar
    def _signal(self) -> tuple[int, float, float, float]:
        w = self.window
        assert w is not None
        step = getattr(self.strategy, "step", None)
        if step is not None and callable(step) and hasattr(self.strategy, "reset"):
            n = min(len(w), int(getattr(self.strategy, "window", len(w))))
            held = self.state.held
            d, sl, tp, size = step(
                self.state.bar_index,
                w.slice(len(w) - n, len(w)),
                held.direction if held else 0,
                self.guard.acc,
            )
            return int(d), float(sl), float(tp), float(size)
        it = self.strategy.signals(w)
        return int(it.dir[-1]), float(it.sl[-1]), float(it.tp[-1]), float(it.size[-1])

    def _on_closed_bar(self, t_next: int, decide: bool) -> None:
        w = self.window
        assert w is not None and self.exec is not None
        self.state.bar_index += 1
        bar = self.state.bar_index
        self.state.last_bar_time = int(w.time[-1])
        bid, ask = w.bid[-1], w.ask[-1]
        # 1. what happened inside the bar
        self._sync(bar, bid, ask)
        balance = self._balance()
        # 2. the close
        pend = self.guard.mark_close(balance, bid, ask)
        if not self.state.halted:
            self._judge(bar)
        # 3. the decision
        flags_next = self.guard.flags_of(w.time, t_next)
        row = (L.DIR_HOLD, math.nan, math.nan, math.nan)
        if decide and not self.state.halted:
            row = self._signal()
            pend = self.guard.decide(pend, *row, float(bid[3]), float(ask[3]), flags_next, bar)
        # 4. the rules at the next open, before any order: the day roll and the time limit, the holding bans
        code = self.guard.open_breach(self.guard.day_of(t_next), flags_next)
        if code != L.BREACH_NONE and not self.state.halted:
            self._end_phase("breached", L.BREACH_NAMES[code], bar + 1, t_next, None)
        # 5. the open of the next bar
        if decide:
            self._act_at_open(pend, flags_next, bar + 1, t_next)
            self._apply_stops(t_next)
        self._save()
        self._publish()
        self.log.event(
            "bar", bar=bar, time=_iso(self.state.last_bar_time), intent=row[0], decided=pend.direction,
            block=pend.block, equity=float(self.guard.acc[L.ACC_EQUITY]), balance=balance,
        )  # fmt: skip

    # ------------------------------------------------------------------ broker sync
    def _balance(self) -> float:
        if self.dry:
            return self.state.virtual_balance
        b, _ = self.broker.balance_equity()
        self.last_balance = b
        return b

    def _ours(self) -> list[Position]:
        if self.dry:
            return []
        return [p for p in self.broker.positions(self.cfg.symbol) if p.magic == self.cfg.magic]

    def _sync(self, bar: int, bid: np.ndarray, ask: np.ndarray) -> None:
        held = self.state.held
        if self.dry:
            if held is not None:
                self._dry_stops(held, bid, ask, bar)
            return
        ours = self._ours()
        if held is not None:
            mine = [p for p in ours if p.ticket == held.ticket]
            if not mine:
                self._book_gone(held, bar)
            elif abs(mine[0].volume - held.volume) > 1e-9:  # partly closed by hand
                held.volume = mine[0].volume
                self.guard.sync_position(held.direction, held.volume, held.entry, mine[0].swap)
                self.alerts.alert(
                    "position_changed", "our position's volume changed outside the runner", ticket=held.ticket
                )
            else:
                self.guard.sync_position(held.direction, held.volume, held.entry, mine[0].swap)
        known = {self.state.held.ticket} if self.state.held else set()
        strays = [p for p in ours if p.ticket not in known]
        if strays and self.state.held is None:
            p = strays[0]  # a position the journal did not know (a crash right after the fill)
            it = self._intent_by_comment(p.comment)
            if it is not None:
                self._adopt(Outcome("filled", p.volume, p.price_open, ticket=p.ticket), it)
                strays = strays[1:]
        for p in strays:
            self.alerts.alert(
                "stray_position", "a position with our magic number the runner did not open", ticket=p.ticket
            )

    def _intent_by_comment(self, comment: str) -> dict[str, Any] | None:
        for it in self.journal.intents():
            if comment in it["attempts"]:
                return it
        return None

    def _book_gone(self, held: Held, bar: int) -> None:
        """Our position is no longer on the broker: its stop, its target, or a hand closed it."""
        deals = self.broker.deals(_sec(held) - DAY_S, self._server_sec() + DAY_S, position=held.ticket)
        net = sum(d.profit + d.commission + d.swap for d in deals)
        outs = [d for d in deals if d.entry == A.DEAL_ENTRY_OUT]
        by = "unknown"
        reason = 0
        if outs:
            r = outs[-1].reason
            if r == A.DEAL_REASON_SL:
                by = "stop_loss" if held.stop_kind == "strategy" else "governor_floor"
                reason = L.EXIT_STOP_LOSS if held.stop_kind == "strategy" else held.floor_reason
            elif r == A.DEAL_REASON_TP:
                by, reason = "take_profit", L.EXIT_TAKE_PROFIT
            else:
                by = "hand"
        for d in outs:
            kind = {
                "stop_loss": "stop_loss",
                "governor_floor": "stop_loss",
                "take_profit": "take_profit",
            }.get(by, "market_exit")
            req = held.sl if kind == "stop_loss" else held.tp if kind == "take_profit" else math.nan
            t_fill = int(self.clock.to_utc(d.time_ns)[0])
            self._record_fill(d.side, kind, "out", req, d.price, d.volume, math.nan, math.nan, t_fill, d.position_id,
                              d.ticket)  # fmt: skip
        balance = self._balance()
        self.guard.on_close(net, balance, bar, reason)
        self.state.held = None
        self.log.event("position_closed", ticket=held.ticket, by=by, net=net)
        if by == "hand":
            self.alerts.alert(
                "closed_by_hand", "our position was closed outside the runner", ticket=held.ticket
            )

    # ------------------------------------------------------------------ orders at the open
    def _act_at_open(self, pend: Decision, flags: int, bar: int, t_open: int) -> None:
        if self.state.halted and not self.state.held:
            return
        if self.state.phase is not None and self.state.held is not None:
            # the phase is over: what is still open goes at this open (the simulator closes it at the
            # breach; live the bar's close is when the runner learns of it)
            self._close_held(L.EXIT_BREACH, bar)
            if self.state.phase["bar"] == bar and self.state.held is None:
                # judged at this very open (time limit, holding ban): the simulator books the close at this
                # open into the phase's end, so the phase's figures are those after it
                b = self._balance()
                self.state.phase.update(worst_equity=b, equity=b, balance=b)
                self.guard.acc[L.ACC_EQUITY] = b
                self.log.event("phase_booked", balance=b)
            return
        reason = self.guard.flatten_reason_at_open(flags, pend)
        if reason and self.state.held is not None:
            self._close_held(reason, bar)
        if reason == L.EXIT_KILL_SWITCH or self.state.halted:
            return
        if pend.direction in (L.DIR_LONG, L.DIR_SHORT) and self.state.held is None:
            block = self.guard.entry_allowed_at_open(flags, bar)
            if block == L.BLOCK_NONE:
                self._open(pend, bar, t_open)
            else:
                self.log.event("entry_vetoed", bar=bar, block=block)

    def _open(self, pend: Decision, bar: int, t_open: int) -> None:
        assert self.meta is not None and self.exec is not None
        side = Side.BUY if pend.direction == L.DIR_LONG else Side.SELL
        d = int(pend.direction)
        vol = normalize_volume(pend.volume, self.meta)
        if vol <= 0.0:
            self.log.event(
                "entry_refused", bar=bar, why="volume below the symbol minimum", volume=pend.volume
            )
            return
        q = self.broker.quote(self.cfg.symbol)
        px = q.ask if side is Side.BUY else q.bid
        sl = stop_price(side, px - d * pend.sl_dist, self.meta, False) if math.isfinite(pend.sl_dist) else 0.0
        tp = stop_price(side, px + d * pend.tp_dist, self.meta, True) if math.isfinite(pend.tp_dist) else 0.0
        exit_px = q.bid if side is Side.BUY else q.ask
        if sl and d * (exit_px - sl) <= 0.0:
            # the stop is inside the spread: MT5 rejects it (10016). The simulator books an entry and its
            # stop at the same open; live there is no such trade.
            self.log.event(
                "entry_refused", bar=bar, why="stop inside the spread", sl=sl, bid=q.bid, ask=q.ask
            )
            return
        if self.dry:
            self._dry_fill(side, vol, q, sl, tp, pend, bar)
            return
        out = self.exec.execute(
            kind="open", side=side, volume=vol, bar=bar, created_ns=t_open, sl=sl, tp=tp,
            sl_dist=pend.sl_dist, tp_dist=pend.tp_dist,
        )  # fmt: skip
        if out.state in ("filled", "partial"):
            self.state.held = Held(
                out.ticket, d, out.volume, out.price, pend.sl_dist, pend.tp_dist, bar, sl=sl, tp=tp
            )
            self.guard.on_open(d, out.volume, out.price, pend.sl_dist, pend.tp_dist, bar)
            self._record_fill(side, "market_entry", "in", out.requested, out.price, out.volume, out.spread, out.latency_ms,
                              None, out.ticket, out.deal)  # fmt: skip
            self.log.event(
                "opened",
                ticket=out.ticket,
                side=side.name,
                volume=out.volume,
                price=out.price,
                sl=sl,
                tp=tp,
                partial=out.state == "partial",
            )
        elif out.state == "waiting":
            self.state.extra["waiting_open"] = {"intent": out.intent}

    def _close_held(self, reason: int, bar: int) -> None:
        held = self.state.held
        assert held is not None and self.exec is not None
        side = Side.SELL if held.direction > 0 else Side.BUY
        if self.dry:
            q = self.broker.quote(self.cfg.symbol)
            px, _ = self.fills.market(-held.direction, q.bid, q.ask, self._quote_utc(q), "exit")
            self._dry_close(held, px, reason, bar)
            self._record_fill(side, "market_exit", "out", q.bid if held.direction > 0 else q.ask, px, held.volume,
                              q.ask - q.bid, math.nan, None, held.ticket, 0, virtual=True)  # fmt: skip
            return
        out = self.exec.execute(
            kind="close",
            side=side,
            volume=held.volume,
            bar=bar,
            created_ns=0,
            position=held.ticket,
            reason=reason,
        )
        if out.state in ("filled", "gone"):
            if out.state == "filled":
                self._record_fill(side, "market_exit", "out", out.requested, out.price, out.volume, out.spread,
                                  out.latency_ms, None, held.ticket, out.deal)  # fmt: skip
                deals = self.broker.deals(
                    _sec(held) - DAY_S, self._server_sec() + DAY_S, position=held.ticket
                )
                net = sum(dd.profit + dd.commission + dd.swap for dd in deals)
                self.guard.on_close(net, self._balance(), bar, reason)
                self.state.held = None
                self.log.event(
                    "closed", ticket=held.ticket, reason=L.EXIT_NAMES.get(reason, str(reason)), net=net
                )
            else:
                self._book_gone(held, bar)
        elif out.state == "partial":
            held.volume = round(held.volume - out.volume, 8)

    # ------------------------------------------------------------------ the stops on the broker
    def _apply_stops(self, t_open: int) -> None:
        held = self.state.held
        if held is None or self.meta is None or self.exec is None:
            return
        side = Side.BUY if held.direction > 0 else Side.SELL
        d = held.direction
        strat = held.entry - d * held.sl_dist if math.isfinite(held.sl_dist) else math.nan
        target = held.entry + d * held.tp_dist if math.isfinite(held.tp_dist) else math.nan
        next_new_day = self.guard.day_of(t_open + self.tf_sec * NS_S) != self.guard.day_of(t_open)
        fpx, freason = self.guard.floor_stop(next_new_day)
        level, kind = strat, "strategy"
        if math.isfinite(fpx) and (not math.isfinite(strat) or d * (fpx - strat) > 0.0):
            level, kind = fpx, "floor"
        sl = stop_price(side, level, self.meta, False) if math.isfinite(level) else 0.0
        tp = stop_price(side, target, self.meta, True) if math.isfinite(target) else 0.0
        q = self.broker.quote(self.cfg.symbol)
        exit_px = q.bid if d > 0 else q.ask
        if sl and d * (exit_px - sl) <= 0.0:  # already through the stop at this open: out at the market now
            held.stop_kind, held.floor_reason = kind, freason
            self._close_held(freason if kind == "floor" else L.EXIT_STOP_LOSS, self.state.bar_index + 1)
            return
        held.stop_kind, held.floor_reason = kind, freason
        if sl == held.sl and tp == held.tp:
            return
        if self.dry:
            held.sl, held.tp = sl, tp
            return
        out = self.exec.execute(kind="modify", side=side, volume=0.0, bar=self.state.bar_index + 1, created_ns=t_open,
                                sl=sl, tp=tp, position=held.ticket)  # fmt: skip
        if out.state == "filled":
            held.sl, held.tp = sl, tp

    # ------------------------------------------------------------------ kill switch, halts, waiting orders
    def _kill_now(self) -> None:
        self.guard.kill()
        self.log.event("kill_switch", level="warning", reason=self.kill.reason)
        self.alerts.alert("kill_switch", f"kill switch: {self.kill.reason}; flattening and blocking")
        if self.state.held is not None:
            self._close_held(L.EXIT_KILL_SWITCH, self.state.bar_index + 1)
        self.state.halted = "kill switch"
        self._save()

    def _judge(self, bar: int) -> None:
        """The firm's rules on the bar just marked, as the simulator ends a phase (``step_nb``): a breach of
        the daily or max loss (``Guard.breach``), the target passed with the objectives met
        (``Guard.passed``), or the governors' max-loss buffer ending the attempt (``ACC_HALTED``). The
        phase is over: what is open is flattened at the next open, nothing opens again (journaled,
        so a restart stays stopped), and an alert goes out."""
        code = self.guard.breach()
        a = self.guard.acc
        if code != L.BREACH_NONE:
            status, reason = "breached", L.BREACH_NAMES[code]
            limit = a[L.ACC_MAXLOSS_LIMIT] if code == L.BREACH_MAX_LOSS else a[L.ACC_DAILY_LIMIT]
        elif self.guard.passed:
            status, reason, limit = "passed", "target", a[L.ACC_TARGET_LEVEL]
        elif a[L.ACC_HALTED] > 0.0 and not self.guard.gov[L.GOV_KILL_SWITCH] > 0.0:
            status, reason, limit = "halted", L.EXIT_NAMES[L.EXIT_GOV_MAXLOSS], a[L.ACC_MAXLOSS_LIMIT]
        else:
            return
        self._end_phase(status, reason, bar, self.state.last_bar_time, float(limit))

    def _end_phase(self, status: str, reason: str, bar: int, time_ns: int, limit: float | None) -> None:
        """The phase ended at bar ``bar`` (its close, or its open for the rules judged there: ``limit`` None, no
        money level): journaled before anything is sent, then logged and alerted; the next open flattens."""
        a = self.guard.acc
        a[L.ACC_HALTED] = 1.0  # step_nb: end_phase_nb
        phase = {
            "status": status,
            "reason": reason,
            "bar": bar,
            "time": _iso(time_ns),
            "worst_equity": float(a[L.ACC_WORST_EQUITY]),
            "equity": float(a[L.ACC_EQUITY]),
            "balance": float(a[L.ACC_BALANCE]),
            "limit": limit,
            "phase_start": _day_iso(self.guard.phase_start_day),
        }
        self.state.phase = phase
        self.state.halted = f"phase {status}" + (f": {reason}" if status != "passed" else "")
        self._save()  # journaled before anything is sent: a crash from here on restarts stopped
        level = "info" if status == "passed" else "error"
        self.log.event("phase_ended", level=level, **phase)
        what = {
            "passed": "phase passed",
            "breached": f"rule breach ({reason})",
            "halted": f"halted ({reason})",
        }
        self.alerts.alert(
            "phase_ended",
            f"{what[status]} at {phase['time']}: no new positions; flattening what is open",
            **phase,
        )

    def _halt(self, why: str) -> None:
        self.state.halted = why
        self.guard.acc[L.ACC_HALTED] = 1.0
        self.log.event("halted", level="error", why=why)
        self._save()

    def _retry_waiting(self, forming: int) -> None:
        """An intent left waiting (market closed, rate limit): its open is retried while the bar lasts."""
        if self.dry or self.exec is None or not self.exec.waiting:
            return
        self.exec.waiting = False  # set again by an open that has to wait once more
        for it in self.journal.open_intents():
            if it["state"] != "waiting" or it["kind"] != "open":
                continue
            if self.state.held is not None or self.state.halted:
                self.journal.finish(int(it["id"]), "superseded")
                continue
            pend = Decision(direction=int(it["side"]), volume=float(it["volume"]),
                            sl_dist=float(it["sl_dist"]) if it["sl_dist"] is not None else math.nan,
                            tp_dist=float(it["tp_dist"]) if it["tp_dist"] is not None else math.nan)  # fmt: skip
            self.journal.finish(int(it["id"]), "not_executed")
            if self.guard.entry_allowed_at_open(0, self.state.bar_index + 1) == L.BLOCK_NONE:
                self._open(pend, self.state.bar_index + 1, forming)
                self._apply_stops(forming)
                self._save()

    # ------------------------------------------------------------------ dry run: the same pipeline, orders not sent
    def _quote_utc(self, q: Any) -> int:
        return int(self.clock.to_utc(int(q.time_ns))[0])

    def _dry_fill(
        self, side: Side, vol: float, q: Any, sl: float, tp: float, pend: Decision, bar: int
    ) -> None:
        """A virtual entry, filled as the fake terminal fills (``live.fills``): at the quote's ask (buy) or bid
        (sell) when the order would go out, plus the execution model's slippage when there is one."""
        d = int(side)
        requested = q.ask if side is Side.BUY else q.bid
        px, slip = self.fills.market(d, q.bid, q.ask, self._quote_utc(q), "entry")
        self.log.event("order_dryrun", kind="open", side=side.name, volume=vol, price=px, requested=requested, sl=sl,
                       tp=tp, slippage=slip)  # fmt: skip
        self.state.held = Held(-(bar + 1), d, vol, px, pend.sl_dist, pend.tp_dist, bar, sl=sl, tp=tp)
        self.guard.on_open(d, vol, px, pend.sl_dist, pend.tp_dist, bar)
        self._record_fill(side, "market_entry", "in", requested, px, vol, q.ask - q.bid, math.nan, None,
                          -(bar + 1), 0, virtual=True)  # fmt: skip

    def _dry_close(self, held: Held, px: float, reason: int, bar: int) -> None:
        assert self.meta is not None
        from simlab.position_nb import price_pnl_nb

        net = float(price_pnl_nb(self.guard.sym, float(held.direction), held.entry, held.volume, px))
        self.state.virtual_balance += net
        self.log.event(
            "order_dryrun", kind="close", price=px, net=net, reason=L.EXIT_NAMES.get(reason, str(reason))
        )
        self.guard.on_close(net, self.state.virtual_balance, bar, reason)
        self.state.held = None

    def _dry_stops(self, held: Held, bid: np.ndarray, ask: np.ndarray, bar: int) -> None:
        """The virtual position's stop or target inside the closed bar, as the fake terminal books it."""
        assert self.window is not None
        d = held.direction
        kind, level, gapped = bar_exit(
            d, held.sl, held.tp, bid, ask, bool(self.guard.cfg[L.CFG_SL_FIRST] > 0.0)
        )
        if not kind:
            return
        t_bar = int(self.window.time[-1])
        if kind == "sl":
            px = self.fills.stop_fill(d, level, gapped, t_bar)
            reason = held.floor_reason if held.stop_kind == "floor" else L.EXIT_STOP_LOSS
        else:
            px, reason = level, L.EXIT_TAKE_PROFIT
        self._dry_close(held, px, reason, bar)
        self._record_fill(Side(-d), "stop_loss" if kind == "sl" else "take_profit", "out",
                          held.sl if kind == "sl" else held.tp, px, held.volume, math.nan, math.nan,
                          inside_bar_time(t_bar, self.tf_sec * NS_S, gapped), held.ticket, 0, virtual=True)  # fmt: skip

    # ------------------------------------------------------------------ fills, health
    def _record_fill(self, side: Side, order_type: str, entry: str, requested: float, filled: float, volume: float,
                     spread: float, latency_ms: float, time_utc_ns: int | None, ticket: int, deal: int,
                     virtual: bool = False) -> None:  # fmt: skip
        """A fill for the journal (``simlab calibrate --fills``'s records; a dry run's are marked virtual).
        ``time_utc_ns`` None: at the open of the bar after the window's last (where market orders go)."""
        if time_utc_ns is None:
            t = int(self.window.time[-1]) + self.tf_sec * NS_S if self.window is not None else 0
        else:
            t = int(time_utc_ns)
        # written with the bar's state (``_save``), after the bar's orders went out: the fill records are
        # calibration data, nothing the decision or the orders read
        self._pending_fills.append(
            (
                Fill(
                    t,
                    self.cfg.symbol,
                    side,
                    order_type,
                    requested,
                    filled,
                    volume,
                    spread,
                    latency_ms,
                    "",
                    ticket,
                    deal,
                ),
                entry,
                virtual,
            )  # fmt: skip
        )

    def _write_fills(self) -> None:
        from simlab.calendar import sessions

        if not self._pending_fills:
            return
        pending, self._pending_fills = self._pending_fills, []
        codes = sessions(np.array([f.time_ns for f, _, _ in pending], dtype=np.int64))
        for (f, entry, virtual), code in zip(pending, codes, strict=True):
            self.journal.add_fill(replace(f, session=L.SESSION_NAMES[int(code)]), entry, virtual=virtual)

    def health(self) -> dict[str, Any]:
        eq = float(self.guard.acc[L.ACC_EQUITY])
        try:
            if not self.dry:
                bal, eq_b = self.broker.balance_equity()
                self.last_balance, self.last_equity = bal, eq_b
                eq = eq_b
            self.connected = True
        except BrokerError:
            self.connected = False
        return {
            "mode": self.log.mode,
            "connected": self.connected,
            "symbol": self.cfg.symbol,
            "last_bar": _iso(self.state.last_bar_time) if self.state.last_bar_time > 0 else None,
            "last_bar_time": self.state.last_bar_time / 1e9 if self.state.last_bar_time > 0 else None,
            "bar_index": self.state.bar_index,
            "equity": eq,
            "balance": self.last_balance if not self.dry else self.state.virtual_balance,
            "position": asdict(self.state.held) if self.state.held else None,
            "limits": self.guard.limits(eq),
            "kill_switch": bool(self.guard.gov[L.GOV_KILL_SWITCH] > 0.0),
            "halted": self.state.halted,
            "phase": self.state.phase,
        }

    def _publish(self) -> None:
        if self.metrics is not None:
            self.metrics.update(self.health())


class _Window:
    """The last ``size`` closed bars in preallocated arrays: appending is O(1) amortised, the view is free."""

    def __init__(self, size: int, symbol: str) -> None:
        self.size = int(size)
        self.symbol = symbol
        cap = max(16, min(self.size, 4096)) * 2
        self.t = np.empty(cap, np.int64)
        self.b = np.empty((cap, 4))
        self.a = np.empty((cap, 4))
        self.v = np.empty(cap)
        self.lo = 0
        self.hi = 0

    def append(self, nb: Bars, j: int) -> None:
        if self.hi == self.t.shape[0]:
            n = self.hi - self.lo
            keep = min(n, self.size - 1)
            if keep * 2 > self.t.shape[0]:  # grow
                cap = self.t.shape[0] * 2
                t, b, a, v = np.empty(cap, np.int64), np.empty((cap, 4)), np.empty((cap, 4)), np.empty(cap)
            else:  # slide
                t, b, a, v = self.t, self.b, self.a, self.v
            src = slice(self.hi - keep, self.hi)
            t[:keep], b[:keep], a[:keep], v[:keep] = self.t[src], self.b[src], self.a[src], self.v[src]
            self.t, self.b, self.a, self.v = t, b, a, v
            self.lo, self.hi = 0, keep
        i = self.hi
        self.t[i], self.b[i], self.a[i], self.v[i] = nb.time[j], nb.bid[j], nb.ask[j], nb.volume[j]
        self.hi += 1
        if self.hi - self.lo > self.size:
            self.lo = self.hi - self.size

    def bars(self) -> Bars:
        s = slice(self.lo, self.hi)
        return Bars(time=self.t[s], bid=self.b[s], ask=self.a[s], volume=self.v[s], symbol=self.symbol)


def _day_iso(day: int) -> str:
    """A rule day's id as the date it is numbered by (``simlab.calendar.trading_days``: local days since 1970)."""
    return str(np.datetime64(int(day), "D"))


def _iso(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns").astype("datetime64[s]")) + "Z"


def _sec(held: Held) -> int:
    return 0  # history is searched from the epoch: a position's deals are few, and the server filters by position
