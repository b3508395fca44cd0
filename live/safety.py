"""Safety: the kill switch (file, environment variable, authenticated POST) and order rate limits."""

from __future__ import annotations

import collections
import hmac
import os
import threading
from pathlib import Path


class KillSwitch:
    """Trips when ``file`` exists, when ``env_var`` is set to a true value, or on ``trip()`` (the HTTP POST).

    Once tripped it stays tripped (the journal keeps it across restarts): the runner
    flattens and never opens again until a person clears the journal's flag.
    """

    def __init__(
        self, file: str | Path | None = None, env_var: str | None = "SIMLAB_KILL", token: str | None = None
    ) -> None:
        self.file = Path(file) if file else None
        self.env_var = env_var
        self._token = token
        self._tripped = threading.Event()
        self.reason = ""

    def trip(self, reason: str) -> None:
        if not self._tripped.is_set():
            self.reason = reason
        self._tripped.set()

    def trip_by_token(self, token: str | None, reason: str = "POST /kill") -> bool:
        """The HTTP endpoint's handler: trip when the token is right; False (nothing changes) otherwise."""
        if not self.check_token(token):
            return False
        self.trip(reason)
        return True

    def check_token(self, token: str | None) -> bool:
        """Constant-time comparison of the POST's token; no token configured: the endpoint is off."""
        return bool(self._token) and token is not None and hmac.compare_digest(token, self._token or "")

    @property
    def tripped(self) -> bool:
        if self._tripped.is_set():
            return True
        if self.file is not None and self.file.exists():
            self.trip(f"kill file {self.file}")
        elif self.env_var and os.environ.get(self.env_var, "").strip().lower() in ("1", "true", "yes", "on"):
            self.trip(f"environment variable {self.env_var}")
        return self._tripped.is_set()


class RateLimiter:
    """At most ``per_minute`` and ``per_hour`` orders in any sliding window (times in seconds)."""

    def __init__(self, per_minute: int = 10, per_hour: int = 60) -> None:
        self.per_minute = per_minute
        self.per_hour = per_hour
        self._times: collections.deque[float] = collections.deque()

    def allow(self, now_s: float) -> bool:
        while self._times and now_s - self._times[0] >= 3600.0:
            self._times.popleft()
        last_min = sum(1 for t in self._times if now_s - t < 60.0)
        return last_min < self.per_minute and len(self._times) < self.per_hour

    def record(self, now_s: float) -> None:
        self._times.append(now_s)
