"""Empirical execution models: per-session spread, slippage and latency distributions.

Calibrated from tick files, fill records and MT5 deal histories
(:mod:`execution_models.calibrate`, ``simlab calibrate``), stored as versioned,
date-stamped JSON (``execution_models/<SYMBOL>/<YYYY-MM-DD>.json``) and turned
into the kernel's cost tables by :meth:`ExecutionModel.to_kernel_tables`.

>>> from execution_models import load_model
>>> m = load_model("EURUSD")
>>> cost_q, cost_probs = m.to_kernel_tables(m.point)
>>> cost_q.shape[:2], float(cost_probs[0]), float(cost_probs[-1])
((5, 5), 0.0, 1.0)
"""

from execution_models.model import (
    DEFAULT_PROBS,
    KINDS,
    MIN_HOUR_SAMPLES,
    SCHEMA_VERSION,
    SESSIONS,
    UNITS,
    ExecutionModel,
    Table,
    available_models,
    flat_model,
    load_model,
    model_summary,
    package_model_dir,
    read_model_file,
    resolve_model_path,
)

__all__ = [
    "DEFAULT_PROBS",
    "KINDS",
    "MIN_HOUR_SAMPLES",
    "SCHEMA_VERSION",
    "SESSIONS",
    "UNITS",
    "ExecutionModel",
    "Table",
    "available_models",
    "flat_model",
    "load_model",
    "model_summary",
    "package_model_dir",
    "read_model_file",
    "resolve_model_path",
]
