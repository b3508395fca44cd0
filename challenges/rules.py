"""Prop-firm programs: the firm's rules, read from TOML, compiled to the kernel's ``RULE_*`` vector.

A *program* is what a firm sells (``ftmo-2step``): a list of account sizes, a
day boundary (the time and zone at which the daily loss resets) and one or
more *phases* (Challenge, Verification), each with its own rules. Presets live
in ``challenges/presets/<name>.toml``; a user rule file has the same schema.

Units: every ``*_pct`` value in a rule file is a **percent** (``5.0`` = 5 %),
as the firms write them; the kernel's vectors hold fractions (0.05), and
:meth:`Phase.to_rule_vector` does the division. The governor files
(:mod:`challenges.governors`) use the same convention.

Schema (see ``challenges/presets/ftmo-2step.toml`` for a complete example)::

    name = "my-firm"                      # required
    firm = "My Firm"                      # required
    title = "My Firm 2-Step"              # optional, defaults to name
    source = "https://..."                # required: where the rules were read
    last_verified = 2026-11-21            # required: TOML date (or "YYYY-MM-DD")
    currency = "USD"                      # optional, default USD
    sizes = [10000, 25000, 50000]         # required: account sizes sold
    notes = "..."                         # optional free text

    [day_boundary]                        # required
    zone = "Europe/Prague"                # IANA zone, or a fixed offset "UTC+03:00"
    reset = "00:00"                       # HH:MM local time at which the day rolls

    [fee]                                 # optional: what the program costs (simlab sweep --objective ev)
    currency = "USD"                      # default: the program's currency
    sizes = [10000, 25000]                # account sizes with a published fee ...
    amounts = [99, 199]                   # ... and their fees
    refunded = true                       # optional: refunded with the first payout (omit: not known)
    source = "https://..."                # required: where the fees were read
    verified = 2026-11-30                 # required
    [profit_split]                        # optional: the funded account's split
    pct = 80.0                            # percent of the profit the trader keeps
    source = "https://..."
    verified = 2026-11-30

    [params.target_pct]                   # optional user-settable numbers, used as "$target_pct"
    default = 8.0
    min = 1.0
    max = 20.0
    help = "profit target chosen at checkout"

    [[phases]]                            # required, one or more, in order
    name = "Challenge"
    profit_target_pct = 10.0              # > 0: the phase passes once closed P/L reaches it
    max_calendar_days = 0                 # time limit; 0: none
    best_day_max_share_pct = 0.0          # consistency: best day <= this % of total profit; 0: off
    [phases.daily_loss]                   # omit the table: no daily rule
    pct = 5.0
    basis = "balance"                     # balance | equity | max_balance_equity  (at the day start)
    size_of = "initial"                   # initial | basis: the pct is of the initial balance or of the basis
    floating = true                       # true: equity incl. floating P/L is checked; false: closed balance
    [phases.max_loss]                     # omit the table: no max-loss rule
    pct = 10.0
    mode = "static"                       # static | trailing_eod | trailing_intraday | trailing_lock
    floating = true
    [phases.min_days]                     # omit: no minimum
    count = 4
    counts = "trade_opened"               # trade_opened | profitable
    min_day_profit_pct = 0.0              # with "profitable": a day counts if closed P/L >= this % of initial
    [phases.holding]                      # omit: everything allowed
    weekend = true                        # false: holding a position over the weekend is a breach
    overnight = true                      # false: a position held through the daily reset is a breach
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from challenges._toml import Section, read_toml
from simlab import layout as L
from simlab.calendar import NS_DAY, NS_HOUR, weekday
from simlab.errors import ConfigError

PRESET_DIR = Path(__file__).resolve().parent / "presets"

BASES = {
    "balance": L.BASIS_BALANCE,
    "equity": L.BASIS_EQUITY,
    "max_balance_equity": L.BASIS_MAX_BALANCE_EQUITY,
}
SIZE_OFS = {"initial": L.SIZE_OF_INITIAL, "basis": L.SIZE_OF_BASIS}
MAXLOSS_MODES = {
    "static": L.MAXLOSS_STATIC,
    "trailing_eod": L.MAXLOSS_TRAILING_EOD,
    "trailing_intraday": L.MAXLOSS_TRAILING_INTRADAY,
    "trailing_lock": L.MAXLOSS_TRAILING_LOCK,
}
DAYCOUNT_MODES = {"trade_opened": L.DAYCOUNT_TRADE_OPENED, "profitable": L.DAYCOUNT_PROFITABLE}

_RESET_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


# ---------------------------------------------------------------- day boundary
class DayBoundary(NamedTuple):
    """When the firm's trading day rolls: ``reset`` ("HH:MM") local time in ``zone``.

    ``zone`` is an IANA name (DST-aware, e.g. ``Europe/Prague``) or a fixed
    offset written ``UTC+03:00``. Unpacks as ``(zone, reset)``, the two
    arguments of :func:`simlab.calendar.trading_days` and
    :func:`simlab.calendar.build_calendar` (``day_zone``, ``day_reset``).

    Day ids are those of :func:`simlab.calendar.trading_days`: days since
    1970-01-01 of the local date on which the trading day *begins*, so with a
    17:00 New York reset the session that opens on Sunday evening has Sunday's
    id. :meth:`weekday` gives the weekday the session trades for (Monday there).
    """

    zone: str
    reset: str

    @property
    def reset_ns(self) -> int:
        from simlab.calendar import parse_reset

        return parse_reset(self.reset)

    @property
    def reset_time(self) -> dt.time:
        h, m = self.reset.split(":")
        return dt.time(int(h), int(m))

    def tzinfo(self) -> dt.tzinfo:
        return parse_zone(self.zone)

    def day_and_time(self, ts_utc_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rule-day ids (int64) and ns since that day's start (wall clock) for UTC ns timestamps."""
        from simlab.calendar import local_time_ns

        ts = np.ascontiguousarray(ts_utc_ns, dtype=np.int64)
        shifted = local_time_ns(ts, self.zone) - np.int64(self.reset_ns)
        day = shifted // NS_DAY
        return day.astype(np.int64), (shifted - day * NS_DAY).astype(np.int64)

    def day_ids(self, ts_utc_ns: np.ndarray) -> np.ndarray:
        """Same as ``simlab.calendar.trading_days(ts, zone, reset)``."""
        return self.day_and_time(ts_utc_ns)[0]

    def weekday(self, day_ids: np.ndarray) -> np.ndarray:
        """Weekday (0 = Monday) each trading day trades for: a day starting at or after 12:00 counts for the next date."""
        shift = 1 if self.reset_ns >= 12 * NS_HOUR else 0
        return weekday(np.asarray(day_ids, dtype=np.int64) + shift)

    def describe(self) -> str:
        return f"{self.reset} {self.zone}"


def parse_zone(zone: str) -> dt.tzinfo:
    """An IANA zone name or a fixed offset (``UTC+3``, ``UTC+03:00``, ``+03:00``, ``GMT-5``, ``UTC``)."""
    from simlab.calendar import fixed_offset_ns

    z = zone.strip()
    try:
        off = fixed_offset_ns(z)
    except ConfigError as exc:
        raise ValueError(exc.what) from None
    if off is not None:
        return dt.timezone(dt.timedelta(microseconds=off // 1000)) if off else dt.UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(z)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r}") from None


def normalize_zone(zone: str) -> str:
    """Canonical spelling: IANA names as given, fixed offsets as ``UTC+03:00``."""
    tz = parse_zone(zone)
    if isinstance(tz, dt.timezone):
        off = tz.utcoffset(None)
        if off == dt.timedelta(0):
            return "UTC"
        total = int(off.total_seconds()) // 60
        sign = "+" if total >= 0 else "-"
        total = abs(total)
        return f"UTC{sign}{total // 60:02d}:{total % 60:02d}"
    return zone.strip()


# ---------------------------------------------------------------- the model
@dataclass(frozen=True)
class DailyLoss:
    pct: float  # percent; 0: no daily rule
    basis: str = "balance"
    size_of: str = "initial"
    floating: bool = True

    def describe(self) -> str:
        if self.pct <= 0:
            return "none"
        of = "initial" if self.size_of == "initial" else "the basis"
        basis = {"balance": "balance", "equity": "equity", "max_balance_equity": "max(balance, equity)"}[
            self.basis
        ]
        fl = "floating P/L counts" if self.floating else "closed P/L only"
        return f"{_pct(self.pct)} of {of} below day-start {basis}; {fl}"


@dataclass(frozen=True)
class MaxLoss:
    pct: float  # percent of initial; 0: none
    mode: str = "static"
    floating: bool = True

    def describe(self) -> str:
        if self.pct <= 0:
            return "none"
        mode = {
            "static": "static (initial - pct)",
            "trailing_eod": "trailing end-of-day balance high",
            "trailing_intraday": "trailing intraday equity high",
            "trailing_lock": "trailing closed-balance high, locks at initial",
        }[self.mode]
        fl = "floating P/L counts" if self.floating else "closed P/L only"
        return f"{_pct(self.pct)} of initial, {mode}; {fl}"


@dataclass(frozen=True)
class MinDays:
    count: int = 0
    counts: str = "trade_opened"
    min_day_profit_pct: float = 0.0

    def describe(self) -> str:
        if self.count <= 0:
            return "none"
        if self.counts == "profitable":
            return f"{self.count} profitable days (closed P/L >= {_pct(self.min_day_profit_pct)} of initial)"
        return f"{self.count} days with a trade opened"


@dataclass(frozen=True)
class Holding:
    weekend: bool = True  # allowed
    overnight: bool = True  # allowed

    def describe(self) -> str:
        w = "weekend allowed" if self.weekend else "NO weekend holding"
        o = "overnight allowed" if self.overnight else "NO overnight holding (flat by the daily reset)"
        return f"{w}; {o}"


@dataclass(frozen=True)
class Phase:
    name: str
    profit_target_pct: float  # percent of initial, > 0 in a rule file
    daily_loss: DailyLoss = field(default_factory=lambda: DailyLoss(0.0))
    max_loss: MaxLoss = field(default_factory=lambda: MaxLoss(0.0))
    min_days: MinDays = field(default_factory=MinDays)
    best_day_max_share_pct: float = 0.0  # 0: off; 50: best day <= 50 % of total profit
    max_calendar_days: int = 0  # 0: unlimited
    holding: Holding = field(default_factory=Holding)

    def to_rule_vector(self) -> np.ndarray:
        """The kernel's float64 ``RULE_SIZE`` vector for this phase (percents become fractions)."""
        v = np.zeros(L.RULE_SIZE, dtype=np.float64)
        v[L.RULE_TARGET_PCT] = self.profit_target_pct / 100.0
        v[L.RULE_DAILY_PCT] = self.daily_loss.pct / 100.0
        v[L.RULE_DAILY_BASIS] = BASES[self.daily_loss.basis]
        v[L.RULE_DAILY_SIZE_OF] = SIZE_OFS[self.daily_loss.size_of]
        v[L.RULE_DAILY_FLOATING] = 1.0 if self.daily_loss.floating else 0.0
        v[L.RULE_MAXLOSS_PCT] = self.max_loss.pct / 100.0
        v[L.RULE_MAXLOSS_MODE] = MAXLOSS_MODES[self.max_loss.mode]
        v[L.RULE_MAXLOSS_FLOATING] = 1.0 if self.max_loss.floating else 0.0
        v[L.RULE_MIN_DAYS] = self.min_days.count
        v[L.RULE_DAY_COUNT_MODE] = DAYCOUNT_MODES[self.min_days.counts]
        v[L.RULE_MIN_DAY_PROFIT_PCT] = self.min_days.min_day_profit_pct / 100.0
        v[L.RULE_BEST_DAY_MAX_SHARE] = self.best_day_max_share_pct / 100.0
        v[L.RULE_MAX_DAYS] = self.max_calendar_days
        v[L.RULE_NO_WEEKEND_HOLDING] = 0.0 if self.holding.weekend else 1.0
        v[L.RULE_NO_OVERNIGHT_HOLDING] = 0.0 if self.holding.overnight else 1.0
        return v

    def describe(self) -> dict[str, str]:
        """Human lines, one per mechanic (used by ``simlab programs``)."""
        return {
            "profit target": _pct(self.profit_target_pct) if self.profit_target_pct > 0 else "none",
            "daily loss": self.daily_loss.describe(),
            "max loss": self.max_loss.describe(),
            "min days": self.min_days.describe(),
            "best day": (
                f"<= {_pct(self.best_day_max_share_pct)} of total profit (not a breach: keep trading)"
                if self.best_day_max_share_pct > 0
                else "no rule"
            ),
            "time limit": f"{self.max_calendar_days} calendar days" if self.max_calendar_days > 0 else "none",
            "holding": self.holding.describe(),
        }


@dataclass(frozen=True)
class Param:
    name: str
    default: float
    lo: float
    hi: float
    help: str = ""


@dataclass(frozen=True)
class Fee:
    """What the firm charges for the program, per account size, as published (``[fee]`` in a rule file)."""

    currency: str
    amounts: tuple[tuple[float, float], ...]  # (account size, fee), by size
    source: str
    verified: dt.date
    refunded: bool | None = None  # refunded with the first payout of the funded account; None: not known
    notes: str = ""

    def for_size(self, size: float) -> float | None:
        """The fee of account size ``size``, or None when the file gives none for it."""
        for s, amount in self.amounts:
            if math.isclose(s, size, rel_tol=0, abs_tol=1e-6):
                return amount
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "amounts": {f"{s:g}": a for s, a in self.amounts},
            "refunded": self.refunded,
            "source": self.source,
            "verified": self.verified.isoformat(),
            "notes": self.notes,
        }


@dataclass(frozen=True)
class ProfitSplit:
    """The trader's share of a funded account's profit, as published (``[profit_split]`` in a rule file)."""

    pct: float  # percent: 80.0 = the trader keeps 80 %
    source: str
    verified: dt.date
    notes: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "pct": self.pct,
            "source": self.source,
            "verified": self.verified.isoformat(),
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Program:
    name: str
    firm: str
    title: str
    source: str
    last_verified: dt.date
    currency: str
    sizes: tuple[float, ...]
    day: DayBoundary
    phases: tuple[Phase, ...]
    notes: str = ""
    path: str = ""
    params: tuple[Param, ...] = ()
    param_values: tuple[tuple[str, float], ...] = ()
    fee: Fee | None = None  # what the program costs (None: the file does not say)
    profit_split: ProfitSplit | None = None  # the funded account's split (None: the file does not say)

    @property
    def day_boundary(self) -> DayBoundary:
        """``(zone, reset)``: e.g. ``("Europe/Prague", "00:00")``; ``trading_days(t, *program.day_boundary)``."""
        return self.day

    def rule_matrix(self) -> np.ndarray:
        """float64 (n_phases, RULE_SIZE): one rule vector per phase, in order."""
        return np.stack([p.to_rule_vector() for p in self.phases])

    def check_size(self, size: float) -> float:
        """The account size as a float, or a one-line ``ConfigError`` listing the sizes sold."""
        try:
            s = float(size)
        except (TypeError, ValueError):
            raise ConfigError(self.name, f"account size {size!r} is not a number") from None
        if not any(math.isclose(s, x, rel_tol=0, abs_tol=1e-6) for x in self.sizes):
            sold = ", ".join(_money(x) for x in self.sizes)
            raise ConfigError(
                self.name, f"account size {_money(s)} is not sold; sizes: {sold} {self.currency}"
            )
        return s

    def with_params(self, values: Mapping[str, float]) -> Program:
        """Reload with parameter values (e.g. ``{"target_pct": 9}``); unknown names or bad values: ConfigError."""
        return load_program(self.path or self.name, params=values)


# ---------------------------------------------------------------- loading
def list_programs() -> list[str]:
    """Names of the bundled presets, sorted."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def resolve_program_path(name_or_path: str | Path) -> Path:
    s = str(name_or_path)
    p = Path(s)
    if s.endswith(".toml") or "/" in s or "\\" in s or (p.exists() and p.is_file()):
        return p
    preset = PRESET_DIR / f"{s}.toml"
    if preset.is_file():
        return preset
    known = ", ".join(list_programs())
    raise ConfigError(s, f"unknown program; known programs: {known} (or give the path of a .toml rule file)")


def load_program(name_or_path: str | Path, *, params: Mapping[str, float] | None = None) -> Program:
    """A bundled preset by name (``ftmo-2step``) or a user rule file by path; validated.

    ``params`` sets the program's declared parameters (``[params.*]`` in the
    file), e.g. ``{"target_pct": 9.0}`` for ``e8-one``.
    """
    path = resolve_program_path(name_or_path)
    data = read_toml(path)
    program = parse_program(data, str(path), params=params, label=str(name_or_path))
    if path.parent == PRESET_DIR and program.name != path.stem:
        raise ConfigError(str(path), f"field 'name': preset {path.stem!r} declares name {program.name!r}")
    return program


def parse_program(
    data: Mapping[str, Any],
    where: str,
    *,
    params: Mapping[str, float] | None = None,
    label: str | None = None,
) -> Program:
    """Validate a parsed rule file (``where`` names it in errors) and build the :class:`Program`.

    ``label`` (the name the user typed) names the program in parameter errors.
    """
    top = Section(where, "", data)
    name = top.string("name")
    if not name.strip():
        top.fail("name", "must not be empty")
    firm = top.string("firm")
    title = top.string("title", name)
    source = top.string("source")
    verified = _date(top, "last_verified")
    currency = top.string("currency", "USD")
    notes = top.string("notes", "")
    sizes = _sizes(top)

    # day boundary
    db = top.table("day_boundary")
    if db is None:
        top.missing("day_boundary", 'a table with zone = "..." and reset = "HH:MM"')
    assert db is not None
    zone_s = db.string("zone")
    try:
        zone = normalize_zone(zone_s)
    except ValueError as exc:
        db.fail(
            "zone", f"{exc}; expected an IANA name like 'Europe/Prague' or a fixed offset like 'UTC+03:00'"
        )
    reset = _reset(db, "reset")
    db.done()

    # parameters
    declared = _params(top)
    values = {p.name: p.default for p in declared}
    for k, v in (params or {}).items():
        p_by_name = {p.name: p for p in declared}
        if k not in p_by_name:
            known = ", ".join(p_by_name) or "none"
            raise ConfigError(label or where, f"unknown parameter {k!r}; this program's parameters: {known}")
        p = p_by_name[k]
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise ConfigError(label or where, f"parameter {k!r}: expected a number, got {v!r}") from None
        if not (p.lo <= x <= p.hi):
            raise ConfigError(
                label or where, f"parameter {k!r}: expected a number in [{p.lo:g}, {p.hi:g}], got {x:g}"
            )
        values[k] = x

    # phases
    if not top.has("phases"):
        top.missing("phases", "at least one [[phases]] table")
    raw_phases = top.raw("phases")
    if not isinstance(raw_phases, list) or not raw_phases:
        top.fail("phases", "expected one or more [[phases]] tables")
    phases = tuple(_phase(where, i, raw, values) for i, raw in enumerate(raw_phases))
    fee = _fee(top, sizes, currency)
    split = _profit_split(top)
    top.done()

    return Program(
        name=name,
        firm=firm,
        title=title,
        source=source,
        last_verified=verified,
        currency=currency,
        sizes=sizes,
        day=DayBoundary(zone, reset),
        phases=phases,
        notes=notes,
        path=where,
        params=declared,
        param_values=tuple(values.items()),
        fee=fee,
        profit_split=split,
    )


def _phase(where: str, i: int, raw: object, params: Mapping[str, float]) -> Phase:
    label = f"phase {i + 1}"
    if isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
        label += f" {raw['name']!r}"
    s = Section(where, label, raw, "", params)
    name = s.string("name")
    target = s.number("profit_target_pct", lo=0, hi=100, what="a percent")
    if target == 0:  # the kernel's target level would be infinite: no attempt could ever pass the phase
        s.fail(
            "profit_target_pct", "0 means no target, so the phase could never pass; expected a percent > 0"
        )
    max_days = s.integer("max_calendar_days", 0, lo=0, hi=3650)
    best = s.number("best_day_max_share_pct", 0.0, lo=0, hi=100, what="a percent")

    dl = DailyLoss(0.0)
    t = s.table("daily_loss")
    if t is not None:
        dl = DailyLoss(
            pct=t.number("pct", lo=0, hi=100, lo_open=True, what="a percent"),
            basis=t.choice("basis", BASES, kind="basis"),
            size_of=t.choice("size_of", SIZE_OFS, "initial", kind="size_of"),
            floating=t.boolean("floating", True),
        )
        t.done()

    ml = MaxLoss(0.0)
    t = s.table("max_loss")
    if t is not None:
        ml = MaxLoss(
            pct=t.number("pct", lo=0, hi=100, lo_open=True, what="a percent"),
            mode=t.choice("mode", MAXLOSS_MODES, kind="mode"),
            floating=t.boolean("floating", True),
        )
        t.done()

    md = MinDays()
    t = s.table("min_days")
    if t is not None:
        count = t.integer("count", lo=0, hi=3650)
        counts = t.choice("counts", DAYCOUNT_MODES, "trade_opened", kind="day-count mode")
        mdp = t.number("min_day_profit_pct", 0.0, lo=0, hi=100, what="a percent")
        if counts != "profitable" and mdp != 0.0:
            t.fail("min_day_profit_pct", "only used with counts = 'profitable'")
        md = MinDays(count, counts, mdp)
        t.done()

    hold = Holding()
    t = s.table("holding")
    if t is not None:
        hold = Holding(weekend=t.boolean("weekend", True), overnight=t.boolean("overnight", True))
        t.done()
    s.done()
    return Phase(
        name=name,
        profit_target_pct=target,
        daily_loss=dl,
        max_loss=ml,
        min_days=md,
        best_day_max_share_pct=best,
        max_calendar_days=max_days,
        holding=hold,
    )


def _params(top: Section) -> tuple[Param, ...]:
    t = top.table("params")
    if t is None:
        return ()
    out = []
    for key in list(t.data):
        sub = t.table(key)
        assert sub is not None
        lo = sub.number("min", -1e12)
        hi = sub.number("max", 1e12)
        default = sub.number("default", lo=lo, hi=hi)
        out.append(Param(key, default, lo, hi, sub.string("help", "")))
        sub.done()
    return tuple(out)


MAX_ACCOUNT_SIZE = 1e9


def _sizes(top: Section) -> tuple[float, ...]:
    raw = top.required("sizes")
    if not isinstance(raw, list) or not raw:
        top.fail("sizes", "expected a non-empty list of account sizes, e.g. [10000, 25000]")
    out: list[float] = []
    for j, v in enumerate(raw):
        # a billion: far above any account sold, far below what overflows the kernel's volume sizing
        x = top.number(
            f"sizes[{j}]", value=v, lo=0, lo_open=True, hi=MAX_ACCOUNT_SIZE, what="an account size"
        )
        if x in out:
            top.fail(f"sizes[{j}]", f"duplicate size {x:g}")
        out.append(x)
    return tuple(sorted(out))


def _fee(top: Section, sizes: tuple[float, ...], currency: str) -> Fee | None:
    t = top.table("fee")
    if t is None:
        return None
    cur = t.string("currency", currency)
    raw_sizes = t.required("sizes")
    raw_amounts = t.required("amounts")
    if not isinstance(raw_sizes, list) or not raw_sizes:
        t.fail("sizes", "expected a non-empty list of account sizes")
    if not isinstance(raw_amounts, list) or len(raw_amounts) != len(raw_sizes):
        t.fail("amounts", f"expected a list of {len(raw_sizes)} fees, one per entry of 'sizes'")
    pairs: list[tuple[float, float]] = []
    for j, (sv, av) in enumerate(zip(raw_sizes, raw_amounts)):
        size = t.number(
            f"sizes[{j}]", value=sv, lo=0, lo_open=True, hi=MAX_ACCOUNT_SIZE, what="an account size"
        )
        if not any(math.isclose(size, x, rel_tol=0, abs_tol=1e-6) for x in sizes):
            t.fail(f"sizes[{j}]", f"{size:g} is not one of the program's sizes")
        if any(math.isclose(size, x, rel_tol=0, abs_tol=1e-6) for x, _ in pairs):
            t.fail(f"sizes[{j}]", f"duplicate size {size:g}")
        amount = t.number(f"amounts[{j}]", value=av, lo=0, hi=MAX_ACCOUNT_SIZE, what="a fee")
        pairs.append((size, amount))
    refunded = t.boolean("refunded") if t.has("refunded") else None
    fee = Fee(
        currency=cur,
        amounts=tuple(sorted(pairs)),
        source=t.string("source"),
        verified=_date(t, "verified"),
        refunded=refunded,
        notes=t.string("notes", ""),
    )
    t.done()
    return fee


def _profit_split(top: Section) -> ProfitSplit | None:
    t = top.table("profit_split")
    if t is None:
        return None
    split = ProfitSplit(
        pct=t.number("pct", lo=0, lo_open=True, hi=100, what="a percent"),
        source=t.string("source"),
        verified=_date(t, "verified"),
        notes=t.string("notes", ""),
    )
    t.done()
    return split


def _date(s: Section, key: str) -> dt.date:
    v = s.required(key)
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            pass
    s.fail(key, f"expected a date like 2026-11-21, got {v!r}")
    raise AssertionError  # unreachable


def _reset(s: Section, key: str) -> str:
    v = s.raw(key) if s.has(key) else None
    if v is None:
        s.missing(key, 'local time "HH:MM" at which the day rolls')
    if isinstance(v, dt.time) and v.second == 0 and v.microsecond == 0:
        return f"{v.hour:02d}:{v.minute:02d}"
    if isinstance(v, str):
        m = _RESET_RE.match(v.strip())
        if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
            return f"{int(m.group(1)):02d}:{int(m.group(2)):02d}"
    s.fail(key, f'expected a time "HH:MM" (00:00 to 23:59), got {v!r}')
    raise AssertionError  # unreachable


def _pct(x: float) -> str:
    return f"{x:g}%"


def _money(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def phase_limits(phase: Phase, size: float) -> dict[str, float]:
    """Money amounts of a phase's limits for an account size (for display)."""
    return {
        "target": size * phase.profit_target_pct / 100.0,
        "daily_loss": size * phase.daily_loss.pct / 100.0,
        "max_loss": size * phase.max_loss.pct / 100.0,
    }


__all__ = [
    "BASES",
    "DAYCOUNT_MODES",
    "MAXLOSS_MODES",
    "PRESET_DIR",
    "SIZE_OFS",
    "DailyLoss",
    "DayBoundary",
    "Fee",
    "Holding",
    "MaxLoss",
    "MinDays",
    "Param",
    "Phase",
    "Program",
    "ProfitSplit",
    "list_programs",
    "load_program",
    "normalize_zone",
    "parse_program",
    "parse_zone",
    "phase_limits",
]
