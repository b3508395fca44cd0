"""Live trading on MetaTrader 5 (planned; no issue covers it yet).

It will hold the ``Broker`` protocol, the MT5 adapter over any module with the ``MetaTrader5``
API, a fake terminal that replays history, and the live runner. The runner calls the same
strategy objects (``strategies``) and the same governor functions (``simlab.governors_nb``) that
the simulator uses, so a guard rail tested in ``simlab challenge`` is the one that trades.
"""
