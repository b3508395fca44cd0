"""The friendly face of the kernel: bars, intents and settings in; trades, curve and statistics out.

``run_backtest`` runs ``simlab.kernel_nb.simulate_nb`` over a whole history;
``Stepper`` drives ``step_nb`` one bar at a time (RL environments, stateful
strategies, the live runner's shadow account) — the same code either way.

>>> from simlab.synthetic import synthetic_eurusd
>>> from simlab.symbols import get_symbol
>>> from strategies.registry import load_strategy
>>> bars = synthetic_eurusd(n_days=20, timeframe="1h", seed=1)
>>> intents = load_strategy("ma_cross").signals(bars)
>>> result = run_backtest(bars, intents, get_symbol("EURUSD"))
>>> result.summary()["trades"] >= 0
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from simlab import layout as L
from simlab.bars import Bars


class IntentArrays(Protocol):
    """What the kernel needs from a strategy's output (``strategies.base.Intents`` is one)."""

    dir: np.ndarray
    sl: np.ndarray
    tp: np.ndarray
    size: np.ndarray


class SymbolLike(Protocol):
    name: str
    point: float

    def to_vector(self) -> np.ndarray: ...


@dataclass(frozen=True)
class CostSetup:
    """How fills are costed: quantile tables (``simlab.costs_nb``) and how to use them."""

    cost_q: np.ndarray
    cost_probs: np.ndarray
    spread_mode: int = L.SPREAD_FROM_DATA
    slippage: bool = False
    latency_budget_ms: float = 0.0
    name: str = "data spread, no slippage"

    @classmethod
    def fixed(cls) -> CostSetup:
        """The data's own bid/ask spread, no slippage: deterministic, no randomness."""
        from simlab.costs_nb import zero_cost_tables

        q, p = zero_cost_tables()
        return cls(q, p)

    def tables(self, index: tuple[np.ndarray, np.ndarray] | None = None) -> L.Costs:
        """The kernels' ``Costs``: the tables and their sampling indexes (``kernel_nb.cost_index_nb``,
        built here unless ``index`` has them), read-only."""
        from simlab.kernel_nb import cost_index_nb

        q, p = readonly(self.cost_q, np.float64), readonly(self.cost_probs, np.float64)
        guide, lut = cost_index_nb(q, p) if index is None else index
        return L.Costs(q, p, readonly(guide), readonly(lut))


@dataclass(frozen=True)
class Market:
    """Bars plus the calendar arrays the kernel reads (sessions, rule days, swaps, flags)."""

    bars: Bars
    session: np.ndarray
    day: np.ndarray
    swap_nights: np.ndarray
    flags: np.ndarray
    vol_ratio: np.ndarray = field(default_factory=lambda: np.empty(0))

    @classmethod
    def build(
        cls,
        bars: Bars,
        *,
        day_zone: str = "Europe/Prague",
        day_reset: str = "00:00",
        triple_day: int = 2,
        reset_window_min: float = 0,
        weekend_window_min: float = 0,
        vol_ratio: np.ndarray | None = None,
    ) -> Market:
        from simlab.calendar import build_calendar

        cal = build_calendar(
            bars,
            day_zone=day_zone,
            day_reset=day_reset,
            triple_day=triple_day,
            reset_window_min=reset_window_min,
            weekend_window_min=weekend_window_min,
        )
        vr = np.empty(0) if vol_ratio is None else np.ascontiguousarray(vol_ratio, dtype=np.float64)
        return cls(bars, cal.session, cal.day, cal.swap_nights, cal.flags, vr)

    def clock(self) -> L.Clock:
        """The kernels' time grid (sessions, rule days, calendar flags), read-only."""
        return L.Clock(
            readonly(self.session, np.int8), readonly(self.day, np.int64), readonly(self.flags, np.uint8)
        )

    def quotes(self, bars: Bars | None = None) -> L.Quotes:
        """The kernels' view of this symbol's market (bid / ask OHLC of ``bars``, default the market's own;
        swap nights, volatility ratio), read-only."""
        f8 = np.float64
        b = self.bars if bars is None else bars
        return L.Quotes(
            readonly(b.bid, f8),
            readonly(b.ask, f8),
            readonly(self.swap_nights, np.int8),
            readonly(self.vol_ratio, f8),
        )


def config_vector(
    *,
    initial_balance: float = 100_000.0,
    risk: float = 0.01,
    fixed_volume: float = 0.0,
    sl_first: bool = True,
    costs: CostSetup | None = None,
) -> np.ndarray:
    costs = costs or CostSetup.fixed()
    cfg = np.zeros(L.CFG_SIZE, dtype=np.float64)
    cfg[L.CFG_INITIAL_BALANCE] = initial_balance
    cfg[L.CFG_RISK_PCT] = risk
    cfg[L.CFG_FIXED_VOLUME] = fixed_volume
    cfg[L.CFG_SL_FIRST] = 1.0 if sl_first else 0.0
    cfg[L.CFG_SPREAD_MODE] = costs.spread_mode
    cfg[L.CFG_SLIPPAGE] = 1.0 if costs.slippage else 0.0
    cfg[L.CFG_LATENCY_BUDGET_MS] = costs.latency_budget_ms
    return cfg


def readonly(a: np.ndarray, dtype: Any = None) -> np.ndarray:
    """A read-only C-contiguous view of ``a`` (a copy only when the dtype or layout differs).

    Every kernel input goes in read-only: numba compiles one copy of a kernel per argument type, and
    a writable and a read-only array are different types (the bundled data are read-only, a loaded
    file is not), so a first run on a user's file compiled the whole kernel again, and the backtest
    and the Monte Carlo runs each had their own copy.
    """
    v = np.ascontiguousarray(a, dtype=dtype).view()
    v.flags.writeable = False
    return v


def no_rules() -> np.ndarray:
    """A rule vector that judges nothing (a plain backtest)."""
    return np.zeros(L.RULE_SIZE, dtype=np.float64)


def _intent_arrays(intents: IntentArrays, n: int) -> L.Signals:
    """The kernels' ``Signals`` of a strategy's intents (read-only), their shapes checked against ``n`` bars."""
    sig = L.Signals(
        readonly(intents.dir, np.int8),
        readonly(intents.sl, np.float64),
        readonly(intents.tp, np.float64),
        readonly(intents.size, np.float64),
    )
    for name, a in zip(sig._fields, sig, strict=True):
        if a.shape != (n,):
            raise ValueError(f"intents.{name} has shape {a.shape}, expected ({n},) like the bars")
    return sig


def kernel_params(sym: np.ndarray, cfg: np.ndarray, rules: np.ndarray, gov: np.ndarray) -> L.Params:
    """The kernels' ``Params`` (read-only): ``rules`` one phase's vector or a program's matrix."""
    f8 = np.float64
    return L.Params(readonly(sym, f8), readonly(cfg, f8), readonly(rules, f8), readonly(gov, f8))


def reason_name(res: np.ndarray) -> str:
    """What ended a phase, from its RES_* vector: a rule breach or the governor that halted it."""
    status = int(res[L.RES_STATUS])
    if status == L.STATUS_HALTED:
        return "halted: " + L.EXIT_NAMES.get(int(res[L.RES_REASON]), "governor")
    return L.BREACH_NAMES[int(res[L.RES_REASON])]


def check_range(n: int, start: int, end: int | None, unit: str) -> int:
    """The end of a run over [start, end) of ``n`` bars (rows): ``n`` when None; ValueError outside them."""
    end = n if end is None else end
    if not 0 <= start < end <= n:
        raise ValueError(f"{unit} range [{start}, {end}) is not inside the {n} {unit}s")
    return end


def trade_capacity(sig_dir: np.ndarray) -> int:
    """An exact upper bound on trades: every entry needs its own long/short decision row."""
    return int(np.count_nonzero((sig_dir == L.DIR_LONG) | (sig_dir == L.DIR_SHORT))) + 1


@dataclass
class BacktestResult:
    """Everything one run produced: the ledger, the curve, the phase result and the setup."""

    bars: Bars
    market: Market
    trades_raw: np.ndarray  # (n_trades, TR_SIZE)
    curve: np.ndarray  # (n_bars_run, CURVE_SIZE)
    res: np.ndarray  # RES_* vector
    start: int
    symbol: str
    point: float
    initial_balance: float
    cost_name: str
    seed: int

    @property
    def status(self) -> str:
        return L.STATUS_NAMES[int(self.res[L.RES_STATUS])]

    @property
    def breach_reason(self) -> str:
        return reason_name(self.res)

    def refusals(self) -> Any:
        """Entries decided and refused (``simlab.refusals.Refusals``)."""
        from simlab.refusals import Refusals

        return Refusals.from_results(self.res)

    def trades(self) -> Any:
        """The trade ledger as a pandas DataFrame (UTC times, prices, money, costs, reasons)."""
        import pandas as pd

        tr = self.trades_raw
        t = self.bars.time
        eb = tr[:, L.TR_ENTRY_BAR].astype(np.int64)
        xb = tr[:, L.TR_EXIT_BAR].astype(np.int64)
        return pd.DataFrame(
            {
                "entry_time": pd.to_datetime(t[eb], utc=True),
                "exit_time": pd.to_datetime(t[xb], utc=True),
                "side": np.where(tr[:, L.TR_DIR] > 0, "long", "short"),
                "volume": tr[:, L.TR_VOLUME],
                "entry_price": tr[:, L.TR_ENTRY_PRICE],
                "exit_price": tr[:, L.TR_EXIT_PRICE],
                "sl": tr[:, L.TR_SL],
                "tp": tr[:, L.TR_TP],
                "pnl": tr[:, L.TR_PNL],
                "gross": tr[:, L.TR_GROSS],
                "commission": tr[:, L.TR_COMMISSION],
                "swap": tr[:, L.TR_SWAP],
                "spread_cost": tr[:, L.TR_SPREAD_COST],
                "slippage_cost": tr[:, L.TR_SLIP_COST],
                "exit_reason": [L.EXIT_NAMES.get(int(r), "?") for r in tr[:, L.TR_EXIT_REASON]],
                "entry_session": [L.SESSION_NAMES[int(s)] for s in tr[:, L.TR_ENTRY_SESSION]],
                "entry_bar": eb,
                "exit_bar": xb,
            }
        )

    def equity(self) -> np.ndarray:
        return self.curve[:, L.CURVE_EQUITY]

    def summary(self) -> dict[str, Any]:
        """Headline statistics (money in account currency)."""
        tr = self.trades_raw
        pnl = tr[:, L.TR_PNL]
        n = int(pnl.shape[0])
        wins = pnl[pnl > 0].sum()
        losses = -pnl[pnl < 0].sum()
        eq = self.curve[:, L.CURVE_EQUITY]
        worst = self.curve[:, L.CURVE_WORST_EQUITY]
        if eq.shape[0]:
            peak = np.maximum.accumulate(np.maximum(eq, self.initial_balance))
            dd_money = float(np.max(peak - np.minimum(worst, eq)))
            dd_pct = float(np.max((peak - np.minimum(worst, eq)) / peak))
        else:
            dd_money = dd_pct = 0.0
        costs = (
            tr[:, L.TR_SPREAD_COST]
            + tr[:, L.TR_SLIP_COST]
            + tr[:, L.TR_COMMISSION]
            - np.minimum(tr[:, L.TR_SWAP], 0.0)
        )
        return {
            "trades": n,
            "win_rate": float((pnl > 0).mean()) if n else math.nan,
            "net_pnl": float(pnl.sum()),
            "final_balance": float(self.res[L.RES_BALANCE]),
            "max_drawdown": dd_money,
            "max_drawdown_pct": dd_pct,
            "profit_factor": float(wins / losses) if losses > 0 else (math.inf if wins > 0 else math.nan),
            "sharpe": self.sharpe(),
            "avg_cost_per_trade": float(costs.mean()) if n else math.nan,
            "total_costs": float(costs.sum()),
            "status": self.status,
            "breach_reason": self.breach_reason,
        }

    def sharpe(self) -> float:
        """Annualised Sharpe ratio of daily returns of the close equity (252 days a year)."""
        eq = self.curve[:, L.CURVE_EQUITY]
        if eq.shape[0] < 2:
            return math.nan
        day = self.market.day[self.start : self.start + eq.shape[0]]
        last_of_day = np.r_[day[1:] != day[:-1], True]
        daily = np.r_[self.initial_balance, eq[last_of_day]]
        r = np.diff(daily) / daily[:-1]
        if r.shape[0] < 2 or np.std(r, ddof=1) == 0.0:
            return math.nan
        return float(np.mean(r) / np.std(r, ddof=1) * math.sqrt(252.0))

    def costs_by_session(self) -> dict[str, dict[str, float]]:
        """Average spread and slippage actually paid per session of the fill, in points."""
        tr = self.trades_raw
        out: dict[str, dict[str, float]] = {}
        for code, name in enumerate(L.SESSION_NAMES):
            spreads = np.r_[
                tr[tr[:, L.TR_ENTRY_SESSION] == code, L.TR_ENTRY_SPREAD],
                tr[tr[:, L.TR_EXIT_SESSION] == code, L.TR_EXIT_SPREAD],
            ]
            slips = np.r_[
                tr[tr[:, L.TR_ENTRY_SESSION] == code, L.TR_ENTRY_SLIP],
                tr[tr[:, L.TR_EXIT_SESSION] == code, L.TR_EXIT_SLIP],
            ]
            if spreads.shape[0]:
                out[name] = {
                    "fills": int(spreads.shape[0]),
                    "avg_spread_points": float(spreads.mean() / self.point),
                    "avg_slippage_points": float(slips.mean() / self.point),
                }
        return out


def run_backtest(
    bars: Bars,
    intents: IntentArrays,
    spec: SymbolLike,
    *,
    market: Market | None = None,
    costs: CostSetup | None = None,
    rules: np.ndarray | None = None,
    gov: np.ndarray | None = None,
    initial_balance: float = 100_000.0,
    risk: float = 0.01,
    fixed_volume: float = 0.0,
    sl_first: bool = True,
    seed: int = 0,
    attempt: int = 0,
    start: int = 0,
    end: int | None = None,
    record_curve: bool = True,
    close_at_end: bool = True,
) -> BacktestResult:
    """Run the kernel over bars [start, end) and collect the result."""
    from simlab.governors_nb import no_governors
    from simlab.kernel_nb import new_state, simulate_nb

    n = len(bars)
    end = check_range(n, start, end, "bar")
    market = market or Market.build(bars, triple_day=int(getattr(spec, "triple_swap_day", 2)))
    costs = costs or CostSetup.fixed()
    sig = _intent_arrays(intents, n)
    cfg = config_vector(
        initial_balance=initial_balance, risk=risk, fixed_volume=fixed_volume, sl_first=sl_first, costs=costs
    )
    rules = no_rules() if rules is None else rules
    gov = no_governors() if gov is None else gov
    st = new_state(trade_capacity(sig.dir[start:end]))
    curve = np.zeros((end - start if record_curve else 0, L.CURVE_SIZE))
    prm = kernel_params(spec.to_vector(), cfg, rules, gov)
    simulate_nb(
        market.clock(), market.quotes(bars), sig, prm, costs.tables(), int(seed), int(attempt), int(start), int(end), st,
        curve, bool(close_at_end),
    )  # fmt: skip
    res, trades = st.res, st.trades
    n_tr = int(min(res[L.RES_N_TRADES], trades.shape[0]))
    ran = int(res[L.RES_END_BAR]) - start + 1
    return BacktestResult(
        bars=bars,
        market=market,
        trades_raw=trades[:n_tr].copy(),
        curve=curve[:ran] if record_curve else curve,
        res=res,
        start=start,
        symbol=spec.name,
        point=spec.point,
        initial_balance=initial_balance,
        cost_name=costs.name,
        seed=seed,
    )


class Stepper:
    """Drive the kernel one bar at a time: the step form of ``run_backtest``.

    ``step(dir, sl, tp, size)`` advances through the current bar and registers
    the decision taken at its close (filled at the next bar's open). Used by
    the RL environment and by strategies that need their own position.
    """

    def __init__(
        self,
        market: Market,
        spec: SymbolLike,
        *,
        costs: CostSetup | None = None,
        rules: np.ndarray | None = None,
        gov: np.ndarray | None = None,
        initial_balance: float = 100_000.0,
        risk: float = 0.01,
        fixed_volume: float = 0.0,
        sl_first: bool = True,
        seed: int = 0,
        attempt: int = 0,
        start: int = 0,
        end: int | None = None,
        max_trades: int = 100_000,
    ) -> None:
        from simlab.governors_nb import no_governors
        from simlab.kernel_nb import begin_nb, new_state

        self.market = market
        self.sym = spec.to_vector()
        self.costs = costs or CostSetup.fixed()
        self.cfg = config_vector(
            initial_balance=initial_balance,
            risk=risk,
            fixed_volume=fixed_volume,
            sl_first=sl_first,
            costs=self.costs,
        )
        # float64 and contiguous, so that the kernel's read-only views share their memory: a change to
        # ``stepper.gov`` (a kill switch) reaches the next step
        self.rules = np.ascontiguousarray(no_rules() if rules is None else rules, dtype=np.float64)
        self.gov = np.ascontiguousarray(no_governors() if gov is None else gov, dtype=np.float64)
        self.seed = seed
        self.attempt = attempt
        self.start = start
        self.end = len(market.bars) if end is None else end
        self.state = new_state(max_trades)
        self.acc, self.pos, self.res, self.trades = self.state
        self._clock, self._quotes = market.clock(), market.quotes()
        self._prm = kernel_params(self.sym, self.cfg, self.rules, self.gov)
        self._costs = self.costs.tables()
        begin_nb(self.state, self._prm, int(market.day[start]))
        self.t = start

    @property
    def done(self) -> bool:
        return self.t >= self.end or int(self.res[L.RES_STATUS]) != L.STATUS_RUNNING

    def step(
        self, direction: int = L.DIR_HOLD, sl: float = math.nan, tp: float = math.nan, size: float = math.nan
    ) -> int:
        """Run the current bar, then decide; returns the phase status (``STATUS_*``)."""
        from simlab.kernel_nb import bar_ask_close_nb, finish_nb, step_nb

        if self.done:
            raise RuntimeError("the episode is over: build a new Stepper")
        t = self.t
        is_last = t == self.end - 1
        status = step_nb(
            t, self._clock, self._quotes, int(direction), float(sl), float(tp), float(size), self._prm,
            self._costs, self.seed, self.attempt, self.state, is_last,
        )  # fmt: skip
        self.t += 1
        if status != L.STATUS_RUNNING or is_last:
            ask_close = bar_ask_close_nb(
                t, self._clock, self._quotes, self._prm.cfg, self._costs, self.seed, self.attempt
            )
            finish_nb(t, self._clock, self._quotes, self._prm, self.state, True, ask_close)
        return int(status)

    @property
    def position(self) -> float:
        """+volume long, -volume short, 0 flat."""
        return float(self.pos[L.POS_DIR] * self.pos[L.POS_VOLUME])

    @property
    def equity(self) -> float:
        return float(self.acc[L.ACC_EQUITY])

    @property
    def balance(self) -> float:
        return float(self.acc[L.ACC_BALANCE])

    def trades_raw(self) -> np.ndarray:
        return self.trades[: int(min(self.acc[L.ACC_N_TRADES], self.trades.shape[0]))].copy()
