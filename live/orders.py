"""Orders: normalisation to the symbol's grid, and MT5 return codes handled — never a blind resend.

``Executor.execute`` sends one intent (open, close, or change stops) and follows the
table in ``live.types.Action``: success is confirmed; a partial fill is booked as
it filled; requotes and price changes are retried on a fresh quote a bounded
number of times; an unsupported filling mode (10030) switches to the next mode
the symbol allows; an uncertain outcome (10012 timeout, 10031 no connection, no
answer, an IPC failure) is *reconciled* first — the broker's positions, deals and
order history are searched for the intent's magic number and comment — and only
an intent proven not executed is sent again; 10024 backs off; 10018 leaves the
intent waiting for the session; 10019/10006/10017/10026/10027 stop trading.

Every try has its own comment (``simlab#<intent>.<try>``) recorded in the journal
before it is sent, so a late execution of an earlier try is found, too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from live import mt5_api as A
from live.broker import Broker, IPCError
from live.journal import Journal
from live.observability import Alerts, EventLog, Metrics
from live.safety import RateLimiter
from live.types import Action, OrderRequest, OrderResult, Side, SymbolMeta, action_for, retcode_reason
from simlab.calendar import NS_DAY, NS_S

DAY_S = NS_DAY // NS_S  # the terminal speaks seconds


# ---------------------------------------------------------------- the symbol's grid
def normalize_volume(v: float, meta: SymbolMeta) -> float:
    """Down to the volume step, capped at the maximum; 0.0 below the minimum."""
    if not v > 0.0:
        return 0.0
    step = meta.volume_step
    dec = max(0, -math.floor(math.log10(step) + 1e-9)) + 2
    vol = round(math.floor(v / step + 1e-9) * step, dec)
    vol = min(vol, round(math.floor(meta.volume_max / step + 1e-9) * step, dec))
    return vol if vol >= meta.volume_min - 1e-12 else 0.0


def grid_floor(x: float, point: float, digits: int) -> float:
    """The largest price on the symbol's grid (``digits``) at or below ``x``."""
    g = round(math.floor(x / point) * point, digits)
    if g > x:
        g = round(g - point, digits)
    while round(g + point, digits) <= x:
        g = round(g + point, digits)
    return g


def grid_ceil(x: float, point: float, digits: int) -> float:
    """The smallest price on the grid at or above ``x``."""
    g = round(math.ceil(x / point) * point, digits)
    if g < x:
        g = round(g + point, digits)
    while round(g - point, digits) >= x:
        g = round(g - point, digits)
    return g


def stop_price(side: Side, level: float, meta: SymbolMeta, is_target: bool) -> float:
    """A stop or target level on the grid, rounded *away from the market*.

    A long's stop triggers when the bid falls to it: the largest grid price at or
    below the exact level triggers on exactly the quotes (all on the grid) that reach
    the exact level, never earlier — so a stop computed by the simulator at an
    off-grid price fires on the same bar live; only its fill is on the grid.
    """
    if not math.isfinite(level) or level <= 0.0:
        return 0.0
    down = (side is Side.BUY) != is_target  # long stop / short target: round down
    return grid_floor(level, meta.point, meta.digits) if down else grid_ceil(level, meta.point, meta.digits)


def filling_order(mask: int) -> list[int]:
    """Filling modes to try, from the symbol's ``filling_mode`` mask: FOK, IOC, then RETURN."""
    out = []
    if mask & A.SYMBOL_FILLING_FOK:
        out.append(A.ORDER_FILLING_FOK)
    if mask & A.SYMBOL_FILLING_IOC:
        out.append(A.ORDER_FILLING_IOC)
    out.append(A.ORDER_FILLING_RETURN)
    return out


# ---------------------------------------------------------------- the executor
@dataclass
class Outcome:
    state: str  # filled | partial | not_executed | rejected | waiting | stopped | rate_limited | gone
    volume: float = 0.0
    price: float = math.nan
    requested: float = math.nan
    ticket: int = 0  # the position's ticket
    deal: int = 0
    retcode: int | None = None
    intent: int = 0
    latency_ms: float = math.nan  # the order's round trip (NaN: not measured, e.g. found by reconciling)
    spread: float = math.nan


class StopTrading(Exception):
    """A return code that means this account cannot trade now (no money, disabled, rejected)."""


class Executor:
    def __init__(
        self,
        broker: Broker,
        journal: Journal,
        meta: SymbolMeta,
        *,
        magic: int,
        deviation: int = 10,
        max_retries: int = 3,
        log: EventLog,
        metrics: Metrics | None = None,
        alerts: Alerts | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None],
        backoff_s: float = 1.0,
    ) -> None:
        self.broker = broker
        self.journal = journal
        self.meta = meta
        self.magic = magic
        self.deviation = deviation
        self.max_retries = max_retries
        self.log = log
        self.metrics = metrics
        self.alerts = alerts
        self.limiter = limiter
        self.sleep = sleep
        self.backoff_s = backoff_s
        self.fillings = filling_order(meta.filling_mask)
        self.filling = self.fillings[0]
        self.on_before_send: Callable[[OrderRequest], None] | None = None  # a hook for timing and tests
        # an intent was left waiting (market closed, rate limit): the runner looks for it in the journal
        self.waiting = bool([it for it in journal.open_intents() if it["state"] == "waiting"])

    # ------------------------------------------------------------------ reconciliation
    def find(self, comments: list[str], since_sec: int, position: int = 0) -> Outcome | None:
        """The executed try of an intent, from the broker's positions and deals (None: not executed)."""
        cs = set(comments)
        for p in self.broker.positions(self.meta.name):
            if p.magic == self.magic and p.comment in cs:
                return Outcome("filled", p.volume, p.price_open, ticket=p.ticket)
        now_sec = since_sec + 10 * DAY_S
        for d in self.broker.deals(since_sec - DAY_S, now_sec):
            if d.magic == self.magic and d.comment in cs:
                return Outcome("filled", d.volume, d.price, ticket=d.position_id, deal=d.ticket)
        return None

    def reconcile_intent(self, intent: dict, since_sec: int) -> Outcome:
        """Settle an intent left ``sent`` (by a crash or an unknown outcome)."""
        found = self.find(list(intent["attempts"]), since_sec)
        if found is not None:
            self.journal.finish(
                int(intent["id"]),
                "filled",
                ticket=found.ticket,
                deal=found.deal,
                price=found.price,
                filled=found.volume,
            )
            found.intent = int(intent["id"])
            self.log.event("reconciled", intent=int(intent["id"]), outcome="executed", ticket=found.ticket)
            return found
        if intent["kind"] == "close" and intent["position"]:
            still = [p for p in self.broker.positions(self.meta.name) if p.ticket == int(intent["position"])]
            if not still:
                self.journal.finish(int(intent["id"]), "gone")
                return Outcome("gone", intent=int(intent["id"]))
        self.journal.finish(int(intent["id"]), "not_executed")
        self.log.event("reconciled", intent=int(intent["id"]), outcome="not_executed")
        return Outcome("not_executed", intent=int(intent["id"]))

    # ------------------------------------------------------------------ sending
    def execute(
        self,
        *,
        kind: str,
        side: Side,
        volume: float,
        bar: int,
        created_ns: int,
        sl: float = 0.0,
        tp: float = 0.0,
        position: int = 0,
        reason: int = 0,
        sl_dist: float = math.nan,
        tp_dist: float = math.nan,
        intent_id: int = 0,
    ) -> Outcome:
        """Send one intent to completion (or to a state that the next poll picks up)."""

        def new(first: Callable[[int], str] | None = None) -> int:
            return self.journal.new_intent(
                created_ns=created_ns, kind=kind, side=int(side), volume=volume, bar=bar, sl_dist=sl_dist,
                tp_dist=tp_dist, position=position, reason=reason, first_attempt=first,
            )  # fmt: skip

        # a new intent is written with its first try (one write before the order goes out)
        attempts: list[str] = list(self.journal.intent(intent_id)["attempts"]) if intent_id else []
        since_sec = -1
        tries = 0
        tried_fillings = {self.filling}
        while True:
            q = self.broker.quote(self.meta.name)
            now_s = int(q.time_ns // NS_S)  # the server's clock, read from the quote the order goes out on
            if since_sec < 0:
                since_sec = now_s - 60
            if self.limiter is not None and not self.limiter.allow(now_s):
                intent_id = intent_id or new()
                self.log.event("rate_limited", level="warning", intent=intent_id)
                if self.alerts:
                    self.alerts.alert("rate_limit", "order rate limit reached; intent kept for the next bar")
                self.journal.finish(intent_id, "waiting")
                self.waiting = True
                return Outcome("rate_limited", intent=intent_id)
            price = q.ask if side is Side.BUY else q.bid
            if intent_id:
                comment = f"simlab#{intent_id}.{len(attempts) + 1}"
                self.journal.add_attempt(
                    intent_id, comment, attempts
                )  # write-ahead: recorded before it is sent
            else:
                intent_id = new(lambda i: f"simlab#{i}.1")
                comment = f"simlab#{intent_id}.1"
            attempts.append(comment)
            req = OrderRequest(
                symbol=self.meta.name, side=side, volume=volume, magic=self.magic, comment=comment, price=price,
                sl=sl, tp=tp, deviation=self.deviation, filling=self.filling, position=position,
                action=A.TRADE_ACTION_SLTP if kind == "modify" else A.TRADE_ACTION_DEAL,
            )  # fmt: skip
            if self.on_before_send is not None:
                self.on_before_send(req)
            if self.limiter is not None:
                self.limiter.record(now_s)
            res: OrderResult | None
            sent_ns = time.perf_counter_ns()
            try:
                res = self.broker.send(req)
            except IPCError as exc:
                self.log.event(
                    "ipc_error", level="warning", call="order_send", code=exc.code, intent=intent_id
                )
                self.broker.reconnect()
                res = None
            # the order's round trip, request to answer: the latency a fill record carries (calibrate --fills)
            latency_ms = (time.perf_counter_ns() - sent_ns) / 1e6
            act = action_for(None if res is None else res.retcode)
            if self.metrics is not None:
                self.metrics.orders.labels(outcome=act.value).inc()
            self.log.event(
                "order_result", intent=intent_id, kind=kind, comment=comment, side=side.name, volume=volume,
                price=price, sl=sl, tp=tp, filling=self.filling, retcode=None if res is None else res.retcode,
                reason=retcode_reason(None if res is None else res.retcode), action=act.value,
            )  # fmt: skip
            spread = q.ask - q.bid
            if act in (Action.FILLED, Action.PARTIAL):
                assert res is not None
                if kind == "modify":
                    self.journal.finish(intent_id, "filled", retcode=res.retcode)
                    return Outcome("filled", retcode=res.retcode, intent=intent_id)
                ticket = position or res.order
                st = "filled" if act is Action.FILLED else "partial"
                self.journal.finish(
                    intent_id,
                    st,
                    retcode=res.retcode,
                    deal=res.deal,
                    ticket=ticket,
                    price=res.price,
                    filled=res.volume,
                )
                return Outcome(
                    st, res.volume, res.price, price, ticket, res.deal, res.retcode, intent_id,
                    latency_ms=latency_ms, spread=spread,
                )  # fmt: skip
            if act is Action.RECONCILE:
                found = self.find(attempts, since_sec, position)
                if found is not None:
                    self.journal.finish(
                        intent_id,
                        "filled",
                        ticket=found.ticket,
                        deal=found.deal,
                        price=found.price,
                        filled=found.volume,
                    )
                    self.log.event("reconciled", intent=intent_id, outcome="executed", ticket=found.ticket)
                    found.intent, found.requested, found.spread = intent_id, price, spread
                    return found
                if kind == "close" and not any(
                    p.ticket == position for p in self.broker.positions(self.meta.name)
                ):
                    self.journal.finish(intent_id, "gone")
                    return Outcome("gone", intent=intent_id)
                self.log.event("reconciled", intent=intent_id, outcome="not_executed")
            elif act is Action.SWITCH_FILLING:
                nxt = next((f for f in self.fillings if f not in tried_fillings), None)
                if nxt is None:
                    self.journal.finish(intent_id, "rejected", retcode=res.retcode if res else None)
                    if self.alerts:
                        self.alerts.alert("filling", "no filling mode accepted by the server")
                    return Outcome("rejected", retcode=res.retcode if res else None, intent=intent_id)
                self.log.event("filling_switched", old=self.filling, new=nxt)
                self.filling = nxt
                tried_fillings.add(nxt)
                continue  # not a retry of the same request: the server refused it outright
            elif act is Action.BACKOFF:
                self.sleep(self.backoff_s * (tries + 1))
            elif act is Action.WAIT_SESSION:
                self.journal.finish(intent_id, "waiting", retcode=res.retcode if res else None)
                self.waiting = True
                return Outcome("waiting", retcode=res.retcode if res else None, intent=intent_id)
            elif act is Action.STOP:
                rc = res.retcode if res else None
                self.journal.finish(intent_id, "stopped", retcode=rc)
                if self.alerts:
                    self.alerts.alert("stop_trading", f"order refused: {retcode_reason(rc)}", retcode=rc)
                raise StopTrading(retcode_reason(rc))
            elif act is Action.REJECTED:
                rc = res.retcode if res else None
                self.journal.finish(intent_id, "rejected", retcode=rc)
                if self.alerts:
                    self.alerts.alert("rejected", f"order rejected: {retcode_reason(rc)}", retcode=rc)
                return Outcome("rejected", retcode=rc, intent=intent_id)
            tries += 1
            if tries > self.max_retries:
                self.journal.finish(intent_id, "not_executed", retcode=res.retcode if res else None)
                if self.alerts:
                    self.alerts.alert("gave_up", f"order not executed after {tries} tries", intent=intent_id)
                return Outcome("not_executed", retcode=res.retcode if res else None, intent=intent_id)
