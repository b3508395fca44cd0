"""Serve a fake terminal as ``MetaTrader5`` over RPyC, so the real ``mt5linux`` client talks to it.

The ``mt5linux`` client connects with ``rpyc.classic.connect(host, port)``, runs
``import MetaTrader5 as mt5`` on the server and evaluates ``mt5.<call>(...)`` there —
exactly what its Windows-side server does with the official package under Wine.
Here ``sys.modules["MetaTrader5"]`` is the fake terminal, so the same client code
drives it. RPyC's classic service executes whatever the client sends: bind to
127.0.0.1 only (this module refuses anything else).
"""

from __future__ import annotations

import sys
import threading
from typing import Any


class FakeBridge:
    """A classic RPyC server on ``127.0.0.1:port`` (0: any free port) whose ``MetaTrader5`` is ``terminal``."""

    def __init__(self, terminal: Any, port: int = 0, host: str = "127.0.0.1") -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the fake bridge serves loopback only, not {host!r}")
        from rpyc.core import SlaveService
        from rpyc.utils.server import ThreadedServer

        sys.modules["MetaTrader5"] = terminal
        self.terminal = terminal
        self.server = ThreadedServer(
            SlaveService, hostname=host, port=port, reuse_addr=True,
            protocol_config={"allow_all_attrs": True, "allow_pickle": True, "sync_request_timeout": 30},
        )  # fmt: skip
        self.port = int(self.server.port)
        self._thread = threading.Thread(target=self._serve, name="simlab-fake-bridge", daemon=True)

    def _serve(self) -> None:
        try:
            self.server.start()
        except (OSError, ValueError):  # the listener closed under select() by stop()
            if self.server.active:
                raise

    def start(self, timeout_s: float = 10.0) -> FakeBridge:
        import time

        self._thread.start()
        end = time.monotonic() + timeout_s
        while not self.server.active and time.monotonic() < end:  # listening only once start() ran
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self.server.close()
        if sys.modules.get("MetaTrader5") is self.terminal:
            del sys.modules["MetaTrader5"]
