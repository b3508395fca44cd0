"""The firm's rules and the trader's governors on live equity — the simulator's own functions.

Every rule and governor decision of the live runner goes through this module, and this module
only feeds broker values to the simulator's account module (``simlab.account_nb``) over the
kernel's plain vectors (``simlab.layout``: ``ACC_*`` account state, ``POS_*`` position mirror,
``RULE_*``, ``GOV_*``, ``SYM_*``, ``CFG_*``), in the order the bar kernel calls them:

* a phase's start: ``begin_account_nb``; the next open: ``open_breach_nb`` (a new rule day's roll and the
  time limit, then a position held into a new day or over a weekend close: the holding bans);
* our entry filled / our position closed at the broker: ``live_open_nb`` / ``live_close_nb`` (the
  books of a trade, the locking trailing limit, the governors' floor exits);
* a bar's close: ``live_mark_nb`` (worst / best equity, drawdowns, trailing limits, the target, the
  governors' flatten) and ``decide_nb`` (governors, stops level and sizing of the decision at the
  close: the kernel's "register the decision" half) and ``breach_nb`` (the loss limits on the bar's
  worst equity and its closed balance);
* the next open: ``open_flatten_reason_nb`` (kill switch, calendar windows, a pending flatten, a
  reversal) and ``simlab.governors_nb.entry_block_nb`` (the open's veto);
* during the bar: ``simlab.governors_nb.governor_floor_nb`` as a price stop
  (``simlab.position_nb.floor_price_nb``).

The broker is the truth for money: ``ACC_BALANCE`` is the broker's balance, and the
equity at a bar's close is that balance plus the open position valued at the
closed bar's close (bid for a long, ask for a short), exactly what the kernel marks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simlab import layout as L
from simlab.account_nb import (
    begin_account_nb,
    breach_nb,
    daily_basis_nb,
    decide_nb,
    live_close_nb,
    live_mark_nb,
    live_open_nb,
    open_breach_nb,
    open_flatten_reason_nb,
)
from simlab.calendar import NS_DAY, NS_HOUR, bar_flags, local_time_ns, parse_reset
from simlab.governors_nb import entry_block_nb, governor_floor_nb
from simlab.position_nb import floating_nb, floor_price_nb, price_pnl_nb

_NO_VOL_RATIO = np.empty(0, dtype=np.float64)  # the backtest's default: no volatility series


@dataclass
class Decision:
    """What the close of a bar decided for the next open (the kernel's POS_PENDING_* fields)."""

    direction: int = L.DIR_HOLD  # DIR_LONG / DIR_SHORT: open (after closing the other side); DIR_FLAT: close
    volume: float = 0.0
    sl_dist: float = math.nan
    tp_dist: float = math.nan
    flatten_reason: int = 0  # EXIT_*: a governor's flatten (target, profit cap) at the next open
    block: int = L.BLOCK_NONE  # why an entry was refused (BLOCK_*)


class Guard:
    """One account's rule and governor state; see the module docstring."""

    def __init__(
        self,
        *,
        sym: np.ndarray,
        cfg: np.ndarray,
        rules: np.ndarray,
        gov: np.ndarray,
        day_zone: str = "Europe/Prague",
        day_reset: str = "00:00",
        reset_window_min: float = 0.0,
        weekend_window_min: float = 0.0,
    ) -> None:
        self.sym = np.ascontiguousarray(sym, dtype=np.float64)
        self.cfg = np.ascontiguousarray(cfg, dtype=np.float64)
        self.rules = np.ascontiguousarray(rules, dtype=np.float64)
        self.gov = np.ascontiguousarray(gov, dtype=np.float64).copy()
        self.day_zone = day_zone
        self.day_reset = day_reset
        self._reset_ns = parse_reset(day_reset)
        self.reset_window_min = reset_window_min
        self.weekend_window_min = weekend_window_min
        self.acc = np.zeros(L.ACC_SIZE)
        self.pos = np.zeros(L.POS_SIZE)
        self.res = np.zeros(L.RES_SIZE)  # the decisions' counters (entry decisions, refusals by reason)
        self._offsets: dict[int, int] = {}
        self.passed = False

    # ------------------------------------------------------------------ state
    def begin(self, first_day: int, phase_start_day: int | None = None) -> None:
        """A fresh account on rule day ``first_day``; ``phase_start_day``: the rule day the phase started on when
        that was earlier (a phase already running when the runner first starts: its time limit counts from it)."""
        begin_account_nb(self.acc, self.rules, float(self.cfg[L.CFG_INITIAL_BALANCE]), int(first_day))
        if phase_start_day is not None:
            self.acc[L.ACC_PHASE_START_DAY] = int(phase_start_day)
        self.pos[:] = 0.0
        self.res[:] = 0.0

    @property
    def phase_start_day(self) -> int:
        return int(self.acc[L.ACC_PHASE_START_DAY])

    def load(self, acc: list[float], pos: list[float], gov_kill: bool) -> None:
        self.acc[:] = np.asarray(acc, dtype=np.float64)
        self.acc[L.ACC_DAILY_BASIS] = daily_basis_nb(self.acc, self.rules)  # a journal may predate the slot
        self.pos[:] = np.asarray(pos, dtype=np.float64)
        if gov_kill:
            self.gov[L.GOV_KILL_SWITCH] = 1.0

    # ------------------------------------------------------------------ calendar
    def day_of(self, utc_ns: int) -> int:
        """Rule-day id of an instant (``simlab.calendar.trading_days``), with the zone offset cached per hour."""
        h = int(utc_ns) // NS_HOUR
        off = self._offsets.get(h)
        if off is None:
            edges = np.array([h * NS_HOUR, (h + 1) * NS_HOUR - 1], dtype=np.int64)
            loc = local_time_ns(edges, self.day_zone) - edges
            if loc[0] != loc[1]:  # a clock change inside this hour: no caching
                t = np.array([utc_ns], dtype=np.int64)
                return int((local_time_ns(t, self.day_zone)[0] - self._reset_ns) // NS_DAY)
            off = int(loc[0])
            if len(self._offsets) > 4096:
                self._offsets.clear()
            self._offsets[h] = off
        return (int(utc_ns) + off - self._reset_ns) // NS_DAY

    def flags_of(self, recent_times: np.ndarray, t_open: int) -> int:
        """``FLAG_*`` of the bar opening at ``t_open`` after the closed bars ``recent_times`` (UTC ns).

        ``simlab.calendar.bar_flags`` on the recent bars plus this one: this bar's successor is
        presumed one bar spacing later (or at the Sunday reopen), what the live clock knows.
        """
        if (
            self.reset_window_min <= 0
            and self.weekend_window_min <= 0
            and self.rules[L.RULE_NO_WEEKEND_HOLDING] <= 0
        ):
            return 0  # only FLAG_WEEKEND_GAP could be set, and only the weekend holding ban reads it
        t = np.append(np.asarray(recent_times[-64:], dtype=np.int64), np.int64(t_open))
        days = np.array([self.day_of(int(x)) for x in t], dtype=np.int64)
        f = bar_flags(
            t,
            days,
            reset_window_min=self.reset_window_min,
            weekend_window_min=self.weekend_window_min,
            day_zone=self.day_zone,
            day_reset=self.day_reset,
        )
        return int(f[-1])

    # ------------------------------------------------------------------ trades booked from the broker
    def on_open(
        self, direction: int, volume: float, price: float, sl_dist: float, tp_dist: float, bar: int
    ) -> None:
        """A fill of our entry order (``live_open_nb``)."""
        live_open_nb(
            self.acc, self.pos, self.sym, float(direction), float(volume), float(price), float(sl_dist),
            float(tp_dist), int(bar),
        )  # fmt: skip

    def on_close(self, net_pnl: float, balance: float, bar: int, reason: int) -> None:
        """Our position closed (any way) with broker net P/L ``net_pnl``; ``balance``: the broker's after it."""
        live_close_nb(
            self.acc, self.pos, self.rules, self.gov, float(balance), float(net_pnl), int(bar), int(reason)
        )

    def sync_position(self, direction: int, volume: float, price_open: float, swap: float) -> None:
        """The broker's view of our position wins (a partial close by hand, a restart)."""
        self.pos[L.POS_DIR] = direction
        self.pos[L.POS_VOLUME] = volume if direction else 0.0
        if direction:
            self.pos[L.POS_ENTRY_PRICE] = price_open
        self.pos[L.POS_SWAP] = swap

    # ------------------------------------------------------------------ the close of a bar
    def mark_close(self, balance: float, bid: np.ndarray, ask: np.ndarray) -> Decision:
        """Bar t closed (``bid``/``ask``: its OHLC): mark equity, trailing limits, target, profit cap.

        The open position is valued at the bar's adverse and favourable extremes (bid low / high for a
        long, ask high / low for a short) and at its close; ``live_mark_nb`` does the rest. Returns the
        governors' flatten for the next open, if any.
        """
        p = self.pos
        d = p[L.POS_DIR]
        worst = best = eq = float(balance)
        if d != 0.0:
            vol, entry = p[L.POS_VOLUME], p[L.POS_ENTRY_PRICE]
            adv = bid[2] if d > 0 else ask[1]
            fav = bid[1] if d > 0 else ask[2]
            worst = balance + price_pnl_nb(self.sym, d, entry, vol, adv) + p[L.POS_SWAP]
            best = balance + price_pnl_nb(self.sym, d, entry, vol, fav) + p[L.POS_SWAP]
            eq = balance + floating_nb(p, self.sym, bid[3] if d > 0 else ask[3])
        status, flatten = live_mark_nb(
            self.acc, self.rules, self.gov, float(balance), float(worst), float(best), float(eq), d != 0.0
        )
        if status == L.STATUS_PASSED:
            self.passed = True
            self.acc[L.ACC_HALTED] = 1.0  # as the kernel's end of a phase
        return Decision(flatten_reason=int(flatten))

    def decide(
        self,
        out: Decision,
        i_dir: int,
        i_sl: float,
        i_tp: float,
        i_size: float,
        bid_close: float,
        ask_close: float,
        next_flags: int,
        bar: int,
    ) -> Decision:
        """The decision at bar ``bar``'s close for the next open (``decide_nb``, the kernel's own)."""
        p = self.pos
        p[L.POS_PENDING_DIR] = 0.0
        block = decide_nb(
            self.acc, p, self.res, self.rules, self.gov, self.sym, self.cfg, int(next_flags), _NO_VOL_RATIO,
            int(bar), int(i_dir), float(i_sl), float(i_tp), float(i_size), float(bid_close), float(ask_close),
        )  # fmt: skip
        out.block = int(block)
        pending = int(p[L.POS_PENDING_DIR])
        p[L.POS_PENDING_DIR] = 0.0  # the runner keeps the order (Decision); the mirror holds none
        if pending == L.DIR_FLAT:
            out.direction = L.DIR_FLAT
        elif pending in (L.DIR_LONG, L.DIR_SHORT):
            out.direction = pending
            out.volume = float(p[L.POS_PENDING_SIZE])
            out.sl_dist = float(p[L.POS_PENDING_SL])
            out.tp_dist = float(p[L.POS_PENDING_TP])
        return out

    def breach(self) -> int:
        """The firm's loss limits on the bar just marked (``mark_close``): ``BREACH_MAX_LOSS``,
        ``BREACH_DAILY_LOSS`` or 0, by the simulator's own test (``breach_nb``) in step_nb's order: the
        bar's worst equity judged by the rules that count floating P/L, then the closed balance by
        those that do not."""
        a, r = self.acc, self.rules
        code = breach_nb(a, r, float(a[L.ACC_WORST_EQUITY]), L.JUDGE_FLOATING)
        if code == L.BREACH_NONE:
            code = breach_nb(a, r, float(a[L.ACC_BALANCE]), L.JUDGE_CLOSED)
        return int(code)

    # ------------------------------------------------------------------ the open of the next bar
    def open_breach(self, day: int, flags: int) -> int:
        """The rules at the next open, rule day ``day``, ``FLAG_*`` ``flags``, before any order (``open_breach_nb``,
        the kernel's own): a new day closes the old day's books and checks the time limit; a position still held
        (``POS_DIR``: what the broker holds after the closed bar) into a new day or over a weekend close breaks a
        holding ban. ``BREACH_TIME_LIMIT`` / ``BREACH_OVERNIGHT_HOLDING`` / ``BREACH_WEEKEND_HOLDING`` or 0."""
        return int(
            open_breach_nb(self.acc, self.rules, int(day), int(flags), bool(self.pos[L.POS_DIR] != 0.0))
        )

    def flatten_reason_at_open(self, flags: int, pending: Decision) -> int:
        """Why what is open must close at this open (``EXIT_*``), or 0 (``open_flatten_reason_nb``)."""
        return int(
            open_flatten_reason_nb(
                self.gov, int(flags), int(pending.flatten_reason), int(pending.direction), self.pos[L.POS_DIR]
            )
        )

    def entry_allowed_at_open(self, flags: int, bar: int) -> int:
        """The open's veto of an entry sized at the close (calendar, kill switch): ``BLOCK_*``."""
        return int(entry_block_nb(self.acc, self.gov, int(flags), math.nan, int(bar)))

    def kill(self) -> None:
        self.gov[L.GOV_KILL_SWITCH] = 1.0
        self.acc[L.ACC_HALTED] = 1.0

    # ------------------------------------------------------------------ the governors' floor as a stop
    def floor_stop(self, next_is_new_day: bool) -> tuple[float, int]:
        """The price at which the open position must be closed to keep equity above the governors' floor.

        ``governor_floor_nb`` (on the last bar before a daily reset, the higher of the floor now and
        the one the reset will set) as a price with the exit commission counted (``floor_price_nb``),
        as the kernel's stop inside a bar. ``(nan, 0)`` when flat or no floor is on.
        """
        if self.pos[L.POS_DIR] == 0.0:
            return math.nan, 0
        floor, reason = governor_floor_nb(self.acc, self.gov, self.rules, bool(next_is_new_day))
        if not floor > -math.inf:
            return math.nan, 0
        return float(floor_price_nb(self.pos, self.sym, self.acc[L.ACC_BALANCE], floor)), int(reason)

    # ------------------------------------------------------------------ reporting
    def limits(self, equity: float) -> dict[str, float | bool]:
        a = self.acc
        floor, _ = governor_floor_nb(a, self.gov, self.rules, False)
        return {
            "daily_limit": float(a[L.ACC_DAILY_LIMIT]),
            "max_loss_limit": float(a[L.ACC_MAXLOSS_LIMIT]),
            "target_level": float(a[L.ACC_TARGET_LEVEL]),
            "distance_to_daily_limit": float(equity - a[L.ACC_DAILY_LIMIT]),
            "distance_to_max_loss_limit": float(equity - a[L.ACC_MAXLOSS_LIMIT]),
            "governor_floor": float(floor),
            "day_halted": bool(a[L.ACC_DAY_HALTED] > 0.0),
            "halted": bool(a[L.ACC_HALTED] > 0.0),
            "kill_switch": bool(self.gov[L.GOV_KILL_SWITCH] > 0.0),
            "passed": self.passed,
            # the time limit: the phase's rule day now (1: its first) against max days (0: none); the phase
            # breaches at the first open of day max_days + 1
            "phase_day": float(a[L.ACC_DAY] - a[L.ACC_PHASE_START_DAY] + 1.0),
            "max_days": float(self.rules[L.RULE_MAX_DAYS]),
        }
