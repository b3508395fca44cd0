"""The ``simlab`` command line: the one place that wires data, strategies, costs, rules, live and reports.

It sits above every other package (``simlab`` core, ``strategies``, ``execution_models``,
``challenges``, ``rl``, ``live``, ``reports``) and nothing imports it: argparse lives only here.
"""
