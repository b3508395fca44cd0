"""Fills: where an order fills, for the fake terminal and for a dry run's virtual fills — one logic.

* A market order fills at the quote when it arrives — a buy at the ask, a sell at the
  bid — plus the execution model's slippage (adverse positive), on the symbol's price
  grid (:meth:`FillModel.market`).
* A position's stop or target inside a bar (:func:`bar_exit`): a level the bar's open
  already passed fills at the open (the gap is the slippage), one reached inside the bar
  at the level (a stop plus the model's stop slippage); both inside one bar: the stop
  first unless ``sl_first`` is off — the simulator's conventions (``step_nb``).
* The spread of replayed bars (:meth:`FillModel.ask`): the data's, the model's (bars
  without an ask: ``spread="model"``) or the wider of the two.

The costs come from an execution model (``execution_models.setup.resolve_costs`` ->
``simlab.engine.CostSetup``), drawn by the simulator's own functions
(``simlab.kernel_nb._model_ask_outlined_nb``, ``_slip_nb``, ``_sample_outlined_nb``: the
same tables, the same latency budget, the same counter-based generator) keyed by
``(seed, bar, purpose)`` where *bar* is the bar's number since 1970 in bar sizes (its open
time // the bar size): a bar gets the same costs on every replay wherever the replay
starts, and a dry run draws what the fake terminal draws for an order at the same time.
(A backtest keys its draws by the bar's index in its own data: the same distributions,
not the same draws.) Without a model: the data's spread, no slippage (zero cost).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simlab import layout as L
from simlab.calendar import NS_MIN
from simlab.layout import Costs

_KINDS = {"entry": (L.COST_ENTRY_SLIP, L.DRAW_ENTRY_SLIP), "exit": (L.COST_EXIT_SLIP, L.DRAW_EXIT_SLIP)}


def bar_exit(
    direction: int, sl: float, tp: float, bid: Any, ask: Any, sl_first: bool = True
) -> tuple[str, float, bool]:
    """The stop (``"sl"``) or target (``"tp"``) a position reaches in a bar, its level or the open it gapped
    to, and whether it gapped: ``("", nan, False)`` when neither. ``sl``/``tp``: MT5 levels (0.0 = none);
    ``bid``/``ask``: the bar's OHLC (a long exits at the bid, a short at the ask)."""
    d = int(direction)
    if d > 0:
        xo, fav, adv = float(bid[0]), float(bid[1]), float(bid[2])
    else:
        xo, fav, adv = float(ask[0]), float(ask[2]), float(ask[1])
    has_sl, has_tp = sl > 0.0, tp > 0.0
    if has_sl and d * (xo - sl) <= 0.0:
        return "sl", xo, True
    if has_tp and d * (xo - tp) >= 0.0:
        return "tp", xo, True
    sl_hit = has_sl and d * (adv - sl) <= 0.0
    tp_hit = has_tp and d * (fav - tp) >= 0.0
    if sl_hit and (not tp_hit or sl_first):
        return "sl", sl, False
    if tp_hit:
        return "tp", tp, False
    return "", math.nan, False


def inside_bar_time(bar_open_ns: int, bar_ns: int, gapped: bool) -> int:
    """When a stop or target reached in a bar is booked: at the bar's open when it gapped, else mid-bar (a bar
    does not say when inside it a price was reached)."""
    return int(bar_open_ns) + (0 if gapped else int(bar_ns) // 2)


class FillModel:
    """Spread and slippage of fills, from an execution model or none (zero cost); see the module docstring."""

    def __init__(
        self, costs: Any = None, *, seed: int = 0, bar_ns: int = NS_MIN, digits: int = 5, name: str = ""
    ) -> None:
        from simlab.engine import CostSetup, config_vector

        self.costs = costs if costs is not None else CostSetup.fixed()
        self.seed = int(seed)
        self.bar_ns = int(bar_ns)
        self.digits = int(digits)
        self.name = name or self.costs.name
        self.spread_mode = int(self.costs.spread_mode)
        self.slippage = bool(self.costs.slippage)
        self._cfg = config_vector(costs=self.costs)
        self._q = np.ascontiguousarray(self.costs.cost_q, dtype=np.float64)
        self._p = np.ascontiguousarray(self.costs.cost_probs, dtype=np.float64)
        self._group: Costs | None = None  # built on first use (_costs)
        self._sessions: dict[int, int] = {}

    @property
    def zero(self) -> bool:
        """No model: the data's spread, fills at the quote."""
        return self.spread_mode == L.SPREAD_FROM_DATA and not self.slippage

    def describe(self) -> dict[str, Any]:
        return {
            "costs": self.name,
            "seed": self.seed,
            "spread": {L.SPREAD_FROM_DATA: "data", L.SPREAD_FROM_MODEL: "model", L.SPREAD_WIDER: "wider"}[
                self.spread_mode
            ],
            "slippage": self.slippage,
            "latency_budget_ms": float(self._cfg[L.CFG_LATENCY_BUDGET_MS]),
        }

    # ------------------------------------------------------------------ keys
    def bar_key(self, utc_ns: int) -> int:
        """The bar number since 1970 of an instant (the draws' bar counter)."""
        return int(utc_ns) // self.bar_ns

    def session(self, utc_ns: int) -> int:
        """The session (``SESSION_*``) of the bar an instant falls in: the session of that bar's open."""
        key = self.bar_key(utc_ns)
        s = self._sessions.get(key)
        if s is None:
            from simlab.calendar import sessions

            s = int(sessions(np.array([key * self.bar_ns], dtype=np.int64))[0])
            if len(self._sessions) > 4096:
                self._sessions.clear()
            self._sessions[key] = s
        return s

    def _costs(self) -> Costs:
        """The kernels' ``Costs`` group: the tables and their sampling indexes (``cost_index_nb``)."""
        if self._group is None:
            from simlab.kernel_nb import cost_index_nb

            guide, lut = cost_index_nb(self._q, self._p)
            self._group = Costs(self._q, self._p, guide, lut)
        return self._group

    # ------------------------------------------------------------------ prices
    def ask(self, time_ns: np.ndarray, bid: np.ndarray, ask: np.ndarray) -> np.ndarray:
        """The replay's ask OHLC: the data's (spread ``data``), or bid + the bar's sampled spread (``model``;
        ``wider``: the wider of the data's and the sampled), on the price grid."""
        if self.spread_mode == L.SPREAD_FROM_DATA:
            return ask
        from simlab.calendar import sessions
        from simlab.kernel_nb import _model_ask_outlined_nb

        costs = self._costs()
        t = np.asarray(time_ns, dtype=np.int64)
        keys = t // self.bar_ns
        sess = sessions(keys * self.bar_ns)
        data = np.where(np.isfinite(ask), ask, bid)  # bid-only bars (model mode reads no data ask)
        out = np.empty_like(bid, dtype=np.float64)
        for i in range(t.shape[0]):
            b, a = bid[i], data[i]
            out[i] = _model_ask_outlined_nb(
                costs, self.spread_mode, int(sess[i]), self.seed, 0, int(keys[i]),
                b[0], b[1], b[2], b[3], a[0], a[1], a[2], a[3],
            )  # fmt: skip
        return np.round(out, self.digits)

    def slip(self, kind: str, utc_ns: int) -> float:
        """Sampled adverse slippage (price) of a fill of ``kind`` (``entry``, ``exit``, ``stop``) at ``utc_ns``."""
        if not self.slippage:
            return 0.0
        from simlab.kernel_nb import _sample_outlined_nb, _slip_nb

        costs = self._costs()
        key, sess = self.bar_key(utc_ns), self.session(utc_ns)
        if kind == "stop":  # the simulator's stop fill: no latency budget (it is a resting order)
            return float(
                _sample_outlined_nb(
                    costs,
                    L.COST_STOP_SLIP,
                    sess,
                    self.seed,
                    0,
                    key * L.N_DRAWS_PER_BAR + L.DRAW_STOP_SLIP,
                )  # fmt: skip
            )
        cost, purpose = _KINDS[kind]
        return float(_slip_nb(cost, sess, key, purpose, self._cfg, costs, self.seed, 0))

    def market(self, side: int, bid: float, ask: float, utc_ns: int, kind: str) -> tuple[float, float]:
        """A market order's fill at the quote ``bid``/``ask`` when it arrives: ``(price, slippage)``; a buy
        (``side`` > 0) at the ask, a sell at the bid, the slippage against the trader, on the grid."""
        slip = self.slip(kind, utc_ns)
        px = ask + slip if side > 0 else bid - slip
        return (round(px, self.digits) if slip else px), slip

    def stop_fill(self, direction: int, level: float, gapped: bool, utc_ns: int) -> float:
        """The fill of a stop reached inside a bar: the level less the stop slippage (a gap: the open as is)."""
        if gapped or not self.slippage:
            return level
        return round(level - int(direction) * self.slip("stop", utc_ns), self.digits)
