"""Observability: JSON logs tagged with the mode, Prometheus metrics, a loopback HTTP endpoint, alerts.

* ``EventLog``: one JSON object per line (``ts``, ``level``, ``mode``: ``dryrun`` or
  ``live``, ``event``, fields). Secrets registered with it are replaced by ``***``
  wherever they would appear (belt and braces: credentials are never passed to it).
* ``Metrics``: ``prometheus_client`` gauges and counters in a private registry.
* ``HttpEndpoint``: ``ThreadingHTTPServer`` bound to 127.0.0.1 only: ``GET /health``
  (JSON), ``GET /metrics`` (Prometheus text), ``POST /kill`` (header
  ``Authorization: Bearer <token>``) trips the kill switch.
* ``Alerts``: JSON POSTs to a webhook, from a background thread, bounded queue.
"""

from __future__ import annotations

import contextlib
import json
import math
import queue
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    return v


class EventLog:
    def __init__(self, mode: str, stream: IO[str] | None = None, secrets: tuple[str, ...] = ()) -> None:
        if mode not in ("dryrun", "live"):
            raise ValueError(f"mode must be dryrun or live, not {mode!r}")
        self.mode = mode
        self.stream = stream if stream is not None else sys.stderr
        self._secrets = tuple(s for s in secrets if s)
        self._lock = threading.Lock()
        self.last: dict[str, Any] = {}

    def add_secret(self, s: str | None) -> None:
        if s:
            self._secrets = (*self._secrets, s)

    def redact(self, text: str) -> str:
        for s in self._secrets:
            text = text.replace(s, "***")
        return text

    def event(self, event: str, level: str = "info", **fields: Any) -> None:
        rec = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "level": level,
            "mode": self.mode,
            "event": event,
        }
        rec.update(_clean(fields))
        line = self.redact(json.dumps(rec, default=str, allow_nan=False))
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()
        self.last = rec


class Metrics:
    """The health figures as Prometheus metrics (private registry: several runners in one process never clash)."""

    def __init__(self, mode: str) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        r = self.registry
        self.connected = Gauge("simlab_live_connected", "1 when the terminal answers", registry=r)
        self.equity = Gauge("simlab_live_equity", "broker equity", registry=r)
        self.balance = Gauge("simlab_live_balance", "broker balance", registry=r)
        self.last_bar = Gauge(
            "simlab_live_last_bar_time_seconds",
            "open time (UTC) of the last closed bar processed",
            registry=r,
        )
        self.limit = Gauge(
            "simlab_live_limit", "the firm's limits and the governors' floor", ["name"], registry=r
        )
        self.distance = Gauge("simlab_live_distance_to_limit", "equity minus the limit", ["name"], registry=r)
        self.governor = Gauge("simlab_live_governor_state", "1 when on", ["state"], registry=r)
        self.kill = Gauge("simlab_live_kill_switch", "1 when the kill switch tripped", registry=r)
        self.orders = Counter("simlab_live_orders", "orders sent, by outcome", ["outcome"], registry=r)
        self.cycle = Histogram(
            "simlab_live_decision_seconds", "closed bar to order_send (excluding the broker)", registry=r,
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 1.0),
        )  # fmt: skip
        self.mode = Gauge("simlab_live_mode_info", "1 for the running mode", ["mode"], registry=r)
        self.mode.labels(mode=mode).set(1)

    def update(self, health: dict[str, Any]) -> None:
        self.connected.set(1 if health.get("connected") else 0)
        for k, g in (("equity", self.equity), ("balance", self.balance), ("last_bar_time", self.last_bar)):
            v = health.get(k)
            if isinstance(v, int | float) and math.isfinite(v):
                g.set(v)
        lim = health.get("limits", {})
        for name in ("daily_limit", "max_loss_limit", "governor_floor"):
            v = lim.get(name)
            if isinstance(v, int | float) and math.isfinite(v):
                self.limit.labels(name=name).set(v)
        for name in ("daily_limit", "max_loss_limit"):
            v = lim.get(f"distance_to_{name}")
            if isinstance(v, int | float) and math.isfinite(v):
                self.distance.labels(name=name).set(v)
        for s in ("day_halted", "halted", "passed"):
            self.governor.labels(state=s).set(1 if lim.get(s) else 0)
        self.kill.set(1 if health.get("kill_switch") else 0)

    def text(self) -> bytes:
        from prometheus_client import generate_latest

        return bytes(generate_latest(self.registry))


class HttpEndpoint:
    """Health, metrics and the kill POST on 127.0.0.1 (never another interface)."""

    def __init__(
        self,
        port: int,
        health: Callable[[], dict[str, Any]],
        metrics: Metrics,
        on_kill: Callable[[str | None], bool],
    ) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                return  # the runner's own log says what matters

            def _send(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path == "/health":
                    body = json.dumps(_clean(outer.health()), default=str).encode()
                    self._send(200, body, "application/json")
                elif self.path == "/metrics":
                    self._send(200, outer.metrics.text(), "text/plain; version=0.0.4")
                else:
                    self._send(404, b'{"error": "not found"}', "application/json")

            def do_POST(self) -> None:  # noqa: N802
                if self.path != "/kill":
                    self._send(404, b'{"error": "not found"}', "application/json")
                    return
                auth = self.headers.get("Authorization", "")
                token = auth[7:] if auth.startswith("Bearer ") else None
                if outer.on_kill(token):
                    self._send(200, b'{"kill_switch": true}', "application/json")
                else:
                    self._send(403, b'{"error": "forbidden"}', "application/json")

        self.health = health
        self.metrics = metrics
        self.on_kill = on_kill
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="simlab-live-http", daemon=True
        )

    def start(self) -> HttpEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Alerts:
    """POST ``{"event", "message", "mode", ...}`` to a webhook; never blocks the trading loop."""

    def __init__(
        self, url: str | None, mode: str, log: EventLog | None = None, timeout_s: float = 5.0
    ) -> None:
        self.url = url
        self.mode = mode
        self.log = log
        self.timeout_s = timeout_s
        self.sent: list[dict[str, Any]] = []
        self._q: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=100)
        self._thread: threading.Thread | None = None
        if url:
            self._thread = threading.Thread(target=self._work, name="simlab-live-alerts", daemon=True)
            self._thread.start()

    def alert(self, event: str, message: str, **fields: Any) -> None:
        payload = {"event": event, "message": message, "mode": self.mode, **_clean(fields)}
        self.sent.append(payload)
        if self.log is not None:
            self.log.event("alert", level="warning", alert=event, message=message, **fields)
        if self.url:
            with contextlib.suppress(queue.Full):
                self._q.put_nowait(payload)

    def _work(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            data = json.dumps(item, default=str).encode()
            if self.log is not None:
                data = self.log.redact(data.decode()).encode()
            req = urllib.request.Request(
                self.url or "", data=data, headers={"Content-Type": "application/json"}
            )
            try:
                urllib.request.urlopen(req, timeout=self.timeout_s).close()  # noqa: S310 - the user's own webhook
            except Exception as exc:  # an alert that cannot be delivered must not stop trading
                if self.log is not None:
                    self.log.event("alert_failed", level="error", error=type(exc).__name__)
            finally:
                self._q.task_done()

    def flush(self, timeout_s: float = 5.0) -> None:
        end = time.monotonic() + timeout_s
        while self._q.unfinished_tasks and time.monotonic() < end:
            time.sleep(0.01)
