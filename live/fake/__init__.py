"""A fake MetaTrader 5 terminal for tests and paper trading (see ``live.fake.terminal``)."""

from live.fake.terminal import FAULT_KINDS, FakeTerminal

__all__ = ["FAULT_KINDS", "FakeTerminal"]
