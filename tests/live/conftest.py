"""The live tests run twice: on the fake terminal directly, and through the real ``mt5linux`` client over RPyC."""

from __future__ import annotations

import os

import pytest
from live_helpers import BRIDGES


def _mt5linux_available() -> bool:
    try:
        import mt5linux  # noqa: F401
        import rpyc  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(params=["direct", "mt5linux"])
def transport(request):
    if request.param == "mt5linux" and not _mt5linux_available():
        why = "mt5linux is not installed (pip install --no-deps mt5linux==0.2.4; see live/README.md)"
        if os.environ.get("SIMLAB_REQUIRE_MT5LINUX"):  # CI (nox -s tests): the bridge variants must run
            pytest.fail(why)
        pytest.skip(why)
    yield request.param
    while BRIDGES:
        bridge, client = BRIDGES.pop()
        client._MetaTrader5__conn.close()  # the client first: the server's handler threads then end cleanly
        bridge.stop()
