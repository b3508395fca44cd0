"""The firm's rules and the trader's governors on live equity — the simulator's own functions.

Every rule and governor decision of the live runner goes through this module, and
this module only calls the simulator's numba functions over the kernel's plain
vectors (``simlab.layout``: ``ACC_*`` account state, ``POS_*`` position mirror,
``RULE_*``, ``GOV_*``, ``SYM_*``, ``CFG_*``):

* ``simlab.kernel_nb.begin_nb`` (phase start), ``_new_day_nb`` (day roll),
  ``_update_limits_nb`` (trailing limits), ``_objectives_met_nb`` (target passes),
  ``_entry_check_nb`` (governors + stops level + sizing of an entry decided at a
  close), ``_track_drawdowns_nb``, ``price_pnl_nb`` / ``price_for_pnl_nb``;
* ``simlab.governors_nb``: ``entry_block_nb``, ``equity_floor_nb``,
  ``reset_floor_nb``, ``profit_cap_hit_nb``, ``must_flatten_on_flags_nb``,
  ``on_trade_closed_nb``.

Several of the kernel's functions are private today (``_new_day_nb``,
``_update_limits_nb``, ``_entry_check_nb``, ``_objectives_met_nb``,
``_track_drawdowns_nb``): they are imported anyway so that nothing is rewritten
here. The few lines of glue between those calls (which flag a governor's answer
sets, the order of the steps at a bar's close and open) mirror ``step_nb``
statement by statement and are marked ``# step_nb:``; they move into the
account-level module of the portfolio issue (#11) when it lands.

The broker is the truth for money: ``ACC_BALANCE`` is the broker's balance, and the
equity at a bar's close is that balance plus the open position valued at the
closed bar's close (bid for a long, ask for a short), exactly what the kernel marks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simlab import layout as L
from simlab.calendar import NS_DAY, NS_HOUR, bar_flags, local_time_ns, parse_reset
from simlab.governors_nb import (
    entry_block_nb,
    equity_floor_nb,
    must_flatten_on_flags_nb,
    on_trade_closed_nb,
    profit_cap_hit_nb,
    reset_floor_nb,
)
from simlab.kernel_nb import (
    _entry_check_nb,
    _new_day_nb,
    _objectives_met_nb,
    _track_drawdowns_nb,
    _update_limits_nb,
    begin_nb,
    new_state,
    price_for_pnl_nb,
    price_pnl_nb,
)

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
        self.acc, self.pos, self.res, _ = new_state(0)
        self._offsets: dict[int, int] = {}
        self.passed = False

    # ------------------------------------------------------------------ state
    def begin(self, first_day: int) -> None:
        begin_nb(self.acc, self.pos, self.res, self.cfg, self.rules, int(first_day))

    def load(self, acc: list[float], pos: list[float], gov_kill: bool) -> None:
        self.acc[:] = np.asarray(acc, dtype=np.float64)
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
        if self.reset_window_min <= 0 and self.weekend_window_min <= 0:
            return 0  # only FLAG_WEEKEND_GAP could be set, and no governor reads it
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
        """A fill of our entry order. step_nb: the bookkeeping of ``_open_position_nb``."""
        p, a = self.pos, self.acc
        p[L.POS_DIR] = direction
        p[L.POS_VOLUME] = volume
        p[L.POS_ENTRY_PRICE] = price
        p[L.POS_SL] = price - direction * sl_dist if not math.isnan(sl_dist) else math.nan
        p[L.POS_TP] = price + direction * tp_dist if not math.isnan(tp_dist) else math.nan
        p[L.POS_ENTRY_BAR] = bar
        p[L.POS_SWAP] = 0.0
        p[L.POS_COMMISSION] = self.sym[L.SYM_COMMISSION] * volume
        a[L.ACC_DAY_TRADES] += 1.0
        a[L.ACC_DAY_COUNTED] = 1.0
        a[L.ACC_DAY_HAD_TRADE] = 1.0

    def on_close(self, net_pnl: float, balance: float, bar: int, reason: int) -> None:
        """Our position closed (any way) with broker net P/L ``net_pnl``; ``balance``: the broker's after it."""
        a = self.acc
        a[L.ACC_BALANCE] = balance
        if balance > a[L.ACC_PEAK_BALANCE]:  # step_nb: _close_position_nb
            a[L.ACC_PEAK_BALANCE] = balance
        a[L.ACC_N_TRADES] += 1.0
        on_trade_closed_nb(a, self.gov, float(net_pnl), int(bar))
        for k in (L.POS_DIR, L.POS_VOLUME, L.POS_SWAP, L.POS_COMMISSION):
            self.pos[k] = 0.0
        if int(self.rules[L.RULE_MAXLOSS_MODE]) == L.MAXLOSS_TRAILING_LOCK:
            _update_limits_nb(a, self.rules)
        if reason == L.EXIT_GOV_DAILY:  # step_nb: the daily buffer is done for the day
            a[L.ACC_DAY_HALTED] = 1.0
        elif reason == L.EXIT_GOV_MAXLOSS:  # step_nb: the max-loss buffer ends the attempt (account saved)
            a[L.ACC_HALTED] = 1.0

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

        Returns the governors' flatten for the next open, if any. step_nb: "the close" section.
        """
        a, p, r = self.acc, self.pos, self.rules
        a[L.ACC_BALANCE] = balance
        d = p[L.POS_DIR]
        out = Decision()
        if d != 0.0:
            vol, entry = p[L.POS_VOLUME], p[L.POS_ENTRY_PRICE]
            adv = bid[2] if d > 0 else ask[1]
            fav = bid[1] if d > 0 else ask[2]
            worst = balance + price_pnl_nb(self.sym, d, entry, vol, adv) + p[L.POS_SWAP]
            best = balance + price_pnl_nb(self.sym, d, entry, vol, fav) + p[L.POS_SWAP]
            a[L.ACC_WORST_EQUITY], a[L.ACC_BEST_EQUITY] = worst, best
            _track_drawdowns_nb(a, r, worst)
            if best > a[L.ACC_PEAK_EQUITY]:
                a[L.ACC_PEAK_EQUITY] = best
                if int(r[L.RULE_MAXLOSS_MODE]) == L.MAXLOSS_TRAILING_INTRADAY:
                    _update_limits_nb(a, r)
        else:
            a[L.ACC_WORST_EQUITY] = a[L.ACC_BEST_EQUITY] = balance
            _track_drawdowns_nb(a, r, balance)
        peak_before = a[L.ACC_PEAK_BALANCE]
        if balance > a[L.ACC_PEAK_BALANCE]:
            a[L.ACC_PEAK_BALANCE] = balance
        if int(r[L.RULE_MAXLOSS_MODE]) == L.MAXLOSS_TRAILING_LOCK and a[L.ACC_PEAK_BALANCE] != peak_before:
            _update_limits_nb(a, r)
        mark = bid[3] if d > 0 else ask[3]
        eq = balance + (
            price_pnl_nb(self.sym, d, p[L.POS_ENTRY_PRICE], p[L.POS_VOLUME], mark) + p[L.POS_SWAP]
            if d != 0.0
            else 0.0
        )
        a[L.ACC_EQUITY] = eq
        if eq > a[L.ACC_PEAK_EQUITY]:
            a[L.ACC_PEAK_EQUITY] = eq
            if int(r[L.RULE_MAXLOSS_MODE]) == L.MAXLOSS_TRAILING_INTRADAY:
                _update_limits_nb(a, r)
        if balance >= a[L.ACC_TARGET_LEVEL] and d == 0.0:
            if _objectives_met_nb(a, r):
                self.passed = True
                a[L.ACC_HALTED] = 1.0  # step_nb: _end_phase_nb(STATUS_PASSED)
            else:
                a[L.ACC_TARGET_BANKED] = 1.0
        if d != 0.0 and self.gov[L.GOV_HALT_AT_TARGET] > 0.0 and eq >= a[L.ACC_TARGET_LEVEL]:
            out.flatten_reason = L.EXIT_GOV_TARGET
        if profit_cap_hit_nb(a, self.gov):
            a[L.ACC_DAY_HALTED] = 1.0
            if d != 0.0:
                out.flatten_reason = L.EXIT_GOV_PROFIT_CAP
        return out

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
        """The decision at bar ``bar``'s close for the next open. step_nb: "the decision" section."""
        d = self.pos[L.POS_DIR]
        if i_dir == L.DIR_FLAT:
            if d != 0.0:
                out.direction = L.DIR_FLAT
        elif i_dir in (L.DIR_LONG, L.DIR_SHORT) and d != i_dir:
            block = _entry_check_nb(
                self.acc, self.gov, self.sym, self.cfg, self.pos, int(next_flags), _NO_VOL_RATIO, int(bar),
                int(i_dir), float(i_sl), float(i_tp), float(i_size), float(bid_close), float(ask_close), self.rules,
            )  # fmt: skip
            out.block = int(block)
            if block == L.BLOCK_NONE:
                out.direction = int(i_dir)
                out.volume = float(self.pos[L.POS_PENDING_SIZE])
                out.sl_dist = float(self.pos[L.POS_PENDING_SL])
                out.tp_dist = float(self.pos[L.POS_PENDING_TP])
            elif d != 0.0:
                out.direction = L.DIR_FLAT  # cannot reverse: at least stop holding the wrong side
        return out

    def breach(self) -> int:
        """The firm's loss limits on the bar just marked (``mark_close``): ``BREACH_MAX_LOSS``,
        ``BREACH_DAILY_LOSS`` or 0. step_nb: the in-bar test (the bar's worst equity where floating
        P/L counts, max loss first) and the closed-balance test (the balance where it does not);
        both move into the account-level module's breach test (#11) when it lands."""
        a, r = self.acc, self.rules
        worst, bal = a[L.ACC_WORST_EQUITY], a[L.ACC_BALANCE]
        if (
            r[L.RULE_MAXLOSS_PCT] > 0.0
            and r[L.RULE_MAXLOSS_FLOATING] > 0.0
            and worst < a[L.ACC_MAXLOSS_LIMIT]
        ):
            return L.BREACH_MAX_LOSS
        if r[L.RULE_DAILY_PCT] > 0.0 and r[L.RULE_DAILY_FLOATING] > 0.0 and worst < a[L.ACC_DAILY_LIMIT]:
            return L.BREACH_DAILY_LOSS
        if r[L.RULE_MAXLOSS_PCT] > 0.0 and r[L.RULE_MAXLOSS_FLOATING] <= 0.0 and bal < a[L.ACC_MAXLOSS_LIMIT]:
            return L.BREACH_MAX_LOSS
        if r[L.RULE_DAILY_PCT] > 0.0 and r[L.RULE_DAILY_FLOATING] <= 0.0 and bal < a[L.ACC_DAILY_LIMIT]:
            return L.BREACH_DAILY_LOSS
        return L.BREACH_NONE

    # ------------------------------------------------------------------ the open of the next bar
    def roll_day(self, day: int) -> bool:
        """A new rule day at this open: close the old day's books (``_new_day_nb``). True when it rolled."""
        if day == int(self.acc[L.ACC_DAY]):
            return False
        _new_day_nb(self.acc, self.rules, int(day))
        return True

    def flatten_reason_at_open(self, flags: int, pending: Decision) -> int:
        """Why what is open must close at this open (``EXIT_*``), or 0. step_nb: "orders at the open"."""
        if self.gov[L.GOV_KILL_SWITCH] > 0.0:
            return L.EXIT_KILL_SWITCH
        fw = must_flatten_on_flags_nb(self.gov, int(flags))
        if fw == 1:
            return L.EXIT_GOV_RESET
        if fw == 2:
            return L.EXIT_GOV_WEEKEND
        if pending.flatten_reason:
            return pending.flatten_reason
        d = self.pos[L.POS_DIR]
        if pending.direction == L.DIR_FLAT or (
            pending.direction in (L.DIR_LONG, L.DIR_SHORT) and d != 0.0 and d != pending.direction
        ):
            return L.EXIT_SIGNAL
        return 0

    def entry_allowed_at_open(self, flags: int, bar: int) -> int:
        """The open's veto of an entry sized at the close (calendar, kill switch): ``BLOCK_*``."""
        return int(entry_block_nb(self.acc, self.gov, int(flags), math.nan, int(bar)))

    def kill(self) -> None:
        self.gov[L.GOV_KILL_SWITCH] = 1.0
        self.acc[L.ACC_HALTED] = 1.0

    # ------------------------------------------------------------------ the governors' floor as a stop
    def floor_stop(self, next_is_new_day: bool) -> tuple[float, int]:
        """The price at which the open position must be closed to keep equity above the governors' floor.

        step_nb: "inside the bar": the higher of ``equity_floor_nb`` and, on the last bar before a
        daily reset, ``reset_floor_nb``, turned into a price with the exit commission counted
        (``price_for_pnl_nb``). ``(nan, 0)`` when flat or no floor is on.
        """
        p, a = self.pos, self.acc
        d = p[L.POS_DIR]
        if d == 0.0:
            return math.nan, 0
        floor, reason = equity_floor_nb(a, self.gov, self.rules)
        if next_is_new_day:
            rf, rr = reset_floor_nb(a, self.gov, self.rules)
            if rf > floor:
                floor, reason = rf, rr
        if not floor > -math.inf:
            return math.nan, 0
        vol = p[L.POS_VOLUME]
        px = price_for_pnl_nb(
            self.sym, d, p[L.POS_ENTRY_PRICE], vol,
            floor - a[L.ACC_BALANCE] - p[L.POS_SWAP] + self.sym[L.SYM_COMMISSION] * vol + 1e-9,
        )  # fmt: skip
        return float(px), int(reason)

    # ------------------------------------------------------------------ reporting
    def limits(self, equity: float) -> dict[str, float | bool]:
        a = self.acc
        floor, _ = equity_floor_nb(a, self.gov, self.rules)
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
        }
