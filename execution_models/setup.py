"""The costs of a run from an execution model's name: the one resolution the CLI, RL and sweeps share.

``resolve_costs(spec, "auto")`` picks the newest shipped (or ``model_dir``) calibration of the
symbol, or none when there is none; ``"none"`` runs on the data's own spread with no slippage; a
``SYMBOL@YYYY-MM-DD`` name or a file path names one calibration exactly. A broken model file is an
error, never "no costs".
"""

from __future__ import annotations

from typing import Any, NamedTuple

from simlab import layout as L
from simlab.engine import CostSetup
from simlab.errors import ConfigError
from simlab.files import sha256_of

SPREAD_MODES = {"data": L.SPREAD_FROM_DATA, "model": L.SPREAD_FROM_MODEL, "wider": L.SPREAD_WIDER}


class Costs(NamedTuple):
    """The cost setup of a run, its label for people, its provenance record, and the execution-model
    name that names the same calibration again (``auto`` resolved)."""

    setup: CostSetup
    label: str
    info: dict[str, Any]
    resolved: str

    @property
    def has_model(self) -> bool:
        return self.resolved != "none"


def resolve_costs(
    spec: Any,
    exec_model: str = "auto",
    *,
    model_dir: str | None = None,
    spread: str = "wider",
    slippage: bool = True,
    latency_budget_ms: float = 0.0,
) -> Costs:
    """The execution model ``exec_model`` of symbol ``spec`` as kernel cost tables (see the module doc).

    ``latency_budget_ms`` > 0 is refused in one line where it could change nothing (the model's
    latency never exceeds it, or it has no entry/exit slippage to take the p90 of).
    """
    if spread not in SPREAD_MODES:
        raise ConfigError(
            "--spread", f"unknown spread mode {spread!r}; expected one of {', '.join(SPREAD_MODES)}"
        )
    model = None
    if exec_model != "none":
        from execution_models.model import available_models, load_model

        if exec_model != "auto" or available_models(spec.name, model_dir=model_dir):
            model = load_model(spec.name if exec_model == "auto" else exec_model, model_dir=model_dir)
    if model is None:
        why = "" if exec_model == "none" else f" (no execution model for {spec.name})"
        info = {"ident": "none", "spread_mode": "data", "slippage": False, "latency_budget_ms": 0.0}
        return Costs(CostSetup.fixed(), f"none: the data's spread, no slippage{why}", info, "none")
    q, probs = model.to_kernel_tables(spec.point)
    if latency_budget_ms > 0:
        # the budget swaps a market fill's sampled slippage for the session's p90 when the decision was
        # slower: with no latency above it, or no entry/exit slippage at all, it could change nothing
        slowest = max(float(max(t.q)) for t in model.tables["latency"].values())
        slips = [
            float(max(t.q)) for k in ("entry_slippage", "exit_slippage") for t in model.tables[k].values()
        ]
        if slowest <= latency_budget_ms:
            raise ConfigError(
                "--latency-budget-ms",
                f"{latency_budget_ms:g} ms is never exceeded: {model.ident}'s latency is at most "
                f"{slowest:g} ms" + (" (it has no latency measurements)" if slowest == 0 else ""),
            )
        if max(slips) <= 0:
            raise ConfigError(
                "--latency-budget-ms",
                f"changes nothing: {model.ident} has no entry or exit slippage to take the p90 of",
            )
    label = f"{model.ident} (spread: {spread}, slippage: {'on' if slippage else 'off'})"
    setup = CostSetup(
        cost_q=q,
        cost_probs=probs,
        spread_mode=SPREAD_MODES[spread],
        slippage=slippage,
        latency_budget_ms=float(latency_budget_ms),
        name=label,
    )
    # a file path names itself; SYMBOL / auto resolve to the dated calibration (with the same model_dir)
    path_like = exec_model.endswith(".json") or "/" in exec_model or "\\" in exec_model
    resolved = exec_model if path_like else model.name
    info = {
        "ident": model.ident,
        "sha256": sha256_of(model.path) if model.path else None,
        "spread_mode": spread,
        "slippage": slippage,
        "latency_budget_ms": float(latency_budget_ms),
    }
    return Costs(setup, label, info, resolved)
