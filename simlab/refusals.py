"""Refused orders: how many entries a run decided, how many were refused and why, and what to do about it.

The kernel counts, per phase, the entries a strategy decided (``RES_ENTRY_DECISIONS``) and those it
refused by reason (``RES_REFUSED + BLOCK_* - 1``). A refusal by a governor is the trader's own guard
rail at work; a refusal for the volume, the stops level or a missing stop means the order could never
be placed as the strategy asked (``layout.ORDER_BLOCKS``), and when it hits most orders the run's
verdict is about the settings, not the strategy: a run on gold prices under the EURUSD spec, a risk
that sizes to 0 lots, or a strategy with its stop switched off. Those are said loudly, and a run with
no trade at all is an error unless the user asks for it (``--allow-no-trades``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simlab import layout as L
from simlab.errors import SimlabError

# a warning when more than this share of the entry decisions were refused for an order reason
LOUD_SHARE = 0.5


@dataclass(frozen=True)
class Refusals:
    """Entry decisions and refusals summed over phase results (``(..., RES_SIZE)`` rows)."""

    decisions: int
    by_code: dict[int, int]  # BLOCK_* -> count, nonzero only

    @classmethod
    def from_results(cls, res: np.ndarray, reached: np.ndarray | None = None) -> Refusals:
        """Sum ``res[..., RES_*]``; ``reached`` masks the rows that ran (phases not reached hold -1 status)."""
        r = np.asarray(res, dtype=np.float64).reshape(-1, L.RES_SIZE)
        if reached is not None:
            r = r[np.asarray(reached, dtype=bool).reshape(-1)]
        counts = r[:, L.RES_REFUSED : L.RES_REFUSED + L.N_BLOCKS - 1].sum(axis=0)
        by_code = {b: int(counts[b - 1]) for b in range(1, L.N_BLOCKS) if counts[b - 1] > 0}
        return cls(int(r[:, L.RES_ENTRY_DECISIONS].sum()), by_code)

    @property
    def total(self) -> int:
        return sum(self.by_code.values())

    @property
    def order_refused(self) -> int:
        """Refusals for an order reason (volume, stops level, no stop): not a governor's choice."""
        return sum(self.by_code.get(b, 0) for b in L.ORDER_BLOCKS)

    def to_json(self) -> dict[str, int]:
        """``{reason: count}``, most frequent first (the ``refused_orders`` member of the result JSON)."""
        items = sorted(self.by_code.items(), key=lambda kv: (-kv[1], kv[0]))
        return {L.BLOCK_NAMES[b]: n for b, n in items}

    def summary_line(self) -> str:
        """One line for the terminal table."""
        if not self.decisions:
            return "no entry decided"
        if not self.by_code:
            return f"none of {self.decisions:,} entry decisions"
        parts = ", ".join(f"{k} {v:,}" for k, v in self.to_json().items())
        return f"{self.total:,} of {self.decisions:,} entry decisions: {parts}"


@dataclass(frozen=True)
class OrderContext:
    """What the advice names: the symbol spec and how volumes were sized."""

    symbol: str
    vol_min: float
    stops_level_points: float
    risk: float
    fixed_volume: float = 0.0
    volume_option: bool = False  # the command offers --volume (backtest)

    @classmethod
    def of(
        cls, spec: Any, risk: float, fixed_volume: float = 0.0, volume_option: bool = False
    ) -> OrderContext:
        v = spec.to_vector()
        return cls(
            str(getattr(spec, "name", "?")),
            float(v[L.SYM_VOL_MIN]),
            float(v[L.SYM_STOPS_LEVEL]),
            float(risk),
            float(fixed_volume),
            volume_option,
        )


def advice(code: int, ctx: OrderContext) -> str:
    """What to do about refusals for an order reason ``code`` (short: it ends a capped one-line error)."""
    if code == L.BLOCK_NO_STOP:
        tail = " or a fixed --volume" if ctx.volume_option else ""
        return (
            "risk sizing needs a stop and the strategy gave none (--param atr_stop=0 means no stop): "
            f"give it a stop{tail}"
        )
    if code == L.BLOCK_VOLUME:
        if ctx.fixed_volume > 0.0:
            return f"--volume {ctx.fixed_volume:g} is below {ctx.symbol}'s minimum of {ctx.vol_min:g} lots"
        return (
            f"--risk {ctx.risk:g} sizes below {ctx.symbol}'s minimum of {ctx.vol_min:g} lots (a tiny risk, or "
            f"prices unlike {ctx.symbol}'s, size to 0): raise --risk or check --symbol"
        )
    if code == L.BLOCK_STOPS_LEVEL:
        return (
            f"stops or targets inside {ctx.symbol}'s stops level of {ctx.stops_level_points:g} points: "
            "widen them or check --symbol"
        )
    return "the governors refused them (see --governors)"


def _head(ref: Refusals) -> str:
    """ "all 197 entry decisions were refused (no_stop_for_risk_sizing 195, ...)": at most 3 reasons named."""
    items = list(ref.to_json().items())
    named = ", ".join(f"{k} {v:,}" for k, v in items[:3]) + (", ..." if len(items) > 3 else "")
    if ref.total == ref.decisions:
        return f"all {ref.decisions:,} entry decisions were refused ({named})"
    return f"{ref.total:,} of {ref.decisions:,} entry decisions were refused ({named})"


def _main_order_block(ref: Refusals) -> int:
    return max(L.ORDER_BLOCKS, key=lambda b: ref.by_code.get(b, 0))


def warning(ref: Refusals, ctx: OrderContext) -> str | None:
    """A loud one-line warning when most entry decisions were refused for an order reason, else None."""
    if not ref.decisions or ref.order_refused <= LOUD_SHARE * ref.decisions:
        return None
    return f"{_head(ref)}: {advice(_main_order_block(ref), ctx)}"


def check_traded(n_trades: int, ref: Refusals, ctx: OrderContext, what: str) -> None:
    """Raise a one-line error when the run made no trade at all (``what``: "in 20 attempts", ...)."""
    if n_trades > 0:
        return
    if not ref.decisions:
        why = "the strategy decided no entry on the bars run (after its warm-up)"
    elif ref.order_refused:
        why = f"{_head(ref)}: {advice(_main_order_block(ref), ctx)}"
    else:
        why = _head(ref)
    raise SimlabError(f"no trade {what}: {why}; --allow-no-trades accepts such a run")
