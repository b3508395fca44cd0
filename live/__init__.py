"""Live trading on MetaTrader 5 with the simulator's own rules and governors (see live/README.md).

Layers: ``types`` (orders, fills, positions, return codes), ``broker`` (the protocol), ``mt5`` (the
adapter over an injected ``MetaTrader5``-like module), ``fake`` (a fake terminal and its RPyC bridge),
``guard`` (the rules and governors: the simulator's numba functions on broker equity), ``orders``
(normalisation, return codes, reconciliation), ``runner``, ``journal``, ``safety``, ``observability``,
``config`` / ``preflight`` / ``app`` (``simlab live run``). Nothing here imports ``MetaTrader5``.
"""
