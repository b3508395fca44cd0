"""The result schema ``simlab.result/1``: one envelope for every run, its builders, reader and tables.

Every command that produces a result (``simlab challenge`` in bar, day-bootstrap
and trade-list mode, ``simlab backtest``) writes this one versioned layout. The
terminal table and the HTML report (``reports.report``) are drawn from it and nothing else, so a
report built later from the JSON file equals, byte for byte, the one written during the run.

Envelope (all rates are fractions, money in account currency, drawdowns
fractions of the initial balance, times ISO 8601 UTC ending in ``Z``)::

    {
      "schema": "simlab.result/1",
      "kind": "challenge" | "backtest" | "sweep",
      "mode": "bars" | "day_bootstrap" | "trade_list"      (challenge, sweep)
              | "bars"                                      (backtest),
      "provenance": {...},   # what reproduces the run: see simlab_cli.provenance
      "result": {...}        # the body of the kind, below
    }

``provenance`` (``simlab_cli.provenance``): ``simlab_version``; ``command`` (a shell
line that reproduces the result; output options and ``--workers`` left out) and
``argv`` (the same as a list, what ``simlab rerun`` runs); ``seed``; ``runs`` and
``horizon`` (``{"days", "source", "program_time_limited"}``, challenge);
``program`` (name, title, firm, file, sha256, verified, currency, size, params,
day boundary, phases with every rule); ``governors`` (``preset``, ``overrides``,
``sha256`` of a file, ``fields``: every governor field, ``active``: the fields that are on); ``symbol`` (every field
of the spec); ``exec_model`` (``ident``, ``sha256``, ``spread_mode``,
``slippage``, ``latency_budget_ms``); ``time_zone`` (``tz``, ``source``);
``data`` (``name``, ``sha256``, ``rows``, ``first``, ``last``, ...) or ``trades``
(trade-list mode: ``name``, ``sha256``, ``trades``, ``first``, ``last``, ...);
``strategy`` (``spec``, ``name``, ``params``: every effective parameter, ``files``: the
files it read, such as a model, with their sha256);
``risk``; ``lookahead_check`` (``{"ran": bool, ...}``); mode settings
(``bootstrap_block_days``, ``volume``, ``balance``, ...). No timestamps, no
worker count: a rerun gives the same bytes.

``result`` of a challenge (every mode)::

    {
      "runs": int,
      "pass_rate": {"rate", "passed", "runs", "ci95": [lo, hi]},          # Wilson 95 % interval
      "phases": [{"name", "reached", "passed", "rate" | null, "ci95"}],
      "days_to_pass": {"median", "p10", "p90", "n", "unit": "calendar days"} | null,
      "pass_within_days": [{"days", "passed", "rate", "ci95"}],           # 30, 60, ... and the horizon
      "failure_reasons": {"<phase>: <reason>": count},                    # sums to runs - passed
      "max_daily_drawdown": {"p50", "p90", "max"},
      "max_total_drawdown": {"p50", "p90", "max"},
      "trades_per_day": float,                                            # per calendar day in phases
      "caveats": [str],                                                   # what this mode cannot see
      "attempts": [{"attempt", "passed", "days_to_pass" | null, "failure" | null, "calendar_days",
                    "trades", "max_daily_drawdown", "max_total_drawdown",
                    "phases": [{"phase", "status", "reason", ...}], ...}],
      "refused_orders": {reason: count},                                  # optional
      "excluded_starts": {"count", "reason", ...},                        # optional
      # optional, for reports (simlab.sample): the first K attempts traced again with a ledger and a
      # daily curve, each phase checked against the run's own result (K = min(runs, 100))
      "sample": {"attempts": K, "of": runs, "which": str},
      "equity_paths": [{"attempt", "phases": [{"phase", "status", "start_day",   # 0: the attempt's first day
                         "day": [int],                    # calendar day of the phase, 1 = its first
                         "balance", "equity", "worst_equity",   # money at each day's end / the day's worst
                         "daily_limit", "max_loss_limit"}]}],   # the kernel's levels (null: no such rule)
      "equity_bands": [{"phase", "attempts", "day": [1 ..], "p10", "p25", "p50", "p75", "p90"}],
                                                          # close equity per day; an ended attempt keeps its last
      "session_costs": {session: {"trades", "spread", "slippage", "commission", "swap", "total",
                                  "per_trade"}},          # bar modes: money paid, by session of entry
      "trade_stats": {"trades", "wins", "losses", "win_rate", "avg_win", "avg_loss", "largest_win",
                      "largest_loss", "expectancy", "profit_factor", "net_pnl", "avg_hold_hours",
                      "long", "short", "exit_reasons", "from"}   # trade list: of the list itself
    }

Trade-list mode's paths are closed balances (``equity`` == ``balance``; ``worst_equity`` is the
lowest closed balance, or balance - MAE at an open), from its own kernel's day rows. A document
without the optional members (an older simlab) is read all the same.

Accounting, by construction (every summary is computed from ``attempts``):
every attempt either passed every phase or has exactly one ``failure``, the
first phase it did not pass; a phase is *reached* by every attempt that passed
the one before (an attempt whose horizon ended the day it passed a phase
reached the next phase and did not pass it within the horizon). Phase
``status`` is one of ``passed``, ``breached`` (the firm's rule ended it),
``halted`` (the trader's governors gave the attempt up), ``running`` (the
horizon ended first). Mode extras: bar modes give each attempt its ``start``
and each phase ``calendar_days``, ``trading_days``, ``trades``,
``final_balance``, drawdowns and ``via_gap_or_slippage``; day-bootstrap
attempts add ``source_start`` and ``blocks``; trade-list attempts give
``trading_days`` (weekdays run).

``result`` of a backtest::

    {"summary": {"trades", "win_rate", "net_pnl", "final_balance", "max_drawdown", "max_drawdown_pct",
                 "profit_factor", "sharpe", "avg_cost_per_trade", "total_costs", "status", "breach_reason"},
     "costs_by_session": {session: {"fills", "avg_spread_points", "avg_slippage_points"}},
     "trades": [ledger rows], "equity_curve": {"resolution", "time", "balance", "equity", "worst_equity"},
     "refused_orders": {reason: count},                                   # optional
     "session_costs": {...}, "trade_stats": {...}}                        # optional, as in a challenge

``result`` of a sweep (``simlab sweep``): the axes, every cell's settings, its ``simlab challenge``
command and the challenge body less its attempts, the best cell and the selection check; see
:mod:`simlab.sweep`.

A new version is a new ``SCHEMA_VERSION``; :func:`read_result` refuses any
other with one line.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import InputError
from simlab.stats import wilson_interval

SCHEMA_NAME = "simlab.result"
SCHEMA_VERSION = 1
SCHEMA = f"{SCHEMA_NAME}/{SCHEMA_VERSION}"
KINDS = ("challenge", "backtest", "sweep")
CHALLENGE_MODES = ("bars", "day_bootstrap", "trade_list")
PASS_WITHIN_STEP = 30  # days between the points of "passed within d days"
NOT_PASSED_IN_HORIZON = "no_pass_within_horizon"
PHASE_STATUSES = ("passed", "breached", "halted", "running")

_CHALLENGE_KEYS = (
    "runs",
    "pass_rate",
    "phases",
    "days_to_pass",
    "pass_within_days",
    "failure_reasons",
    "max_daily_drawdown",
    "max_total_drawdown",
    "trades_per_day",
    "caveats",
    "attempts",
)
_BACKTEST_KEYS = ("summary", "costs_by_session", "trades", "equity_curve")
_SWEEP_KEYS = ("runs", "objective", "axes", "cells", "best", "selection_check")  # simlab.sweep


# ----------------------------------------------------------------------------- JSON helpers


def json_safe(v: Any) -> Any:
    """NaN / inf -> None, numpy scalars and arrays -> Python values, tuples -> lists, recursively."""
    if isinstance(v, Mapping):
        return {str(k): json_safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [json_safe(x) for x in v]
    if isinstance(v, np.ndarray):
        return json_safe(v.tolist())
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def dumps(doc: Mapping[str, Any]) -> str:
    """The file text of a result: strict JSON (no NaN), one space indent, a final newline."""
    return json.dumps(json_safe(doc), indent=1, allow_nan=False) + "\n"


def envelope(
    kind: str, mode: str, provenance: Mapping[str, Any], result: Mapping[str, Any]
) -> dict[str, Any]:
    """The one document every result file holds."""
    if kind not in KINDS:
        raise ValueError(f"unknown result kind {kind!r}")
    return json_safe(
        {"schema": SCHEMA, "kind": kind, "mode": mode, "provenance": provenance, "result": result}
    )


def write_result(path: str | Path, doc: Mapping[str, Any]) -> None:
    from simlab.atomic import atomic_write_text

    atomic_write_text(path, dumps(doc))


def read_result(path: str | Path, kind: str | None = None) -> dict[str, Any]:
    """A result file, checked: one-line :class:`InputError` for an unreadable, truncated or garbled file,
    another schema or version, or a missing part."""
    from simlab.files import read_bytes

    where = str(path)
    raw = read_bytes(path, where)  # a directory, FIFO, device or unreadable file: one line
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(
            where, f"not a simlab result file (not UTF-8 text; expected {SCHEMA} JSON)"
        ) from None
    except json.JSONDecodeError as exc:
        # a result file ends with its closing brace: one that stops inside a string or at the end was cut
        cut = exc.pos >= len(raw.rstrip()) or exc.msg.startswith("Unterminated string")
        what = "truncated" if cut and not raw.rstrip().endswith(b"}") else "not valid JSON"
        raise InputError(
            where, f"{what} at line {exc.lineno}, column {exc.colno}: {exc.msg} (expected {SCHEMA} JSON)"
        ) from None
    if not isinstance(doc, dict) or "schema" not in doc:
        raise InputError(where, f"not a simlab result file (no 'schema' field; expected {SCHEMA})")
    schema = doc["schema"]
    if schema != SCHEMA:
        name, _, version = str(schema).partition("/")
        if name == SCHEMA_NAME:
            raise InputError(
                where,
                f"schema {schema} is version {version}; this simlab reads version {SCHEMA_VERSION} only",
            )
        raise InputError(
            where, f"schema {schema!r} is not {SCHEMA} (written by another simlab version?); run it again"
        )
    for key in ("kind", "mode", "provenance", "result"):
        if key not in doc:
            raise InputError(where, f"field '{key}' missing: not a complete {SCHEMA} file")
    if doc["kind"] not in KINDS:
        raise InputError(where, f"field 'kind': {doc['kind']!r} is not one of {', '.join(KINDS)}")
    if kind is not None and doc["kind"] != kind:
        raise InputError(where, f"holds a {doc['kind']} result, not a {kind} result")
    need = {"challenge": _CHALLENGE_KEYS, "backtest": _BACKTEST_KEYS, "sweep": _SWEEP_KEYS}[doc["kind"]]
    body = doc["result"]
    if not isinstance(body, dict):
        raise InputError(where, "field 'result': expected an object")
    for key in need:
        if key not in body:
            raise InputError(where, f"field 'result.{key}' missing: not a complete {SCHEMA} file")
    prov = doc["provenance"]
    if not isinstance(prov, dict) or not isinstance(prov.get("argv"), list):
        raise InputError(where, "field 'provenance.argv' missing: the file does not say how it was made")
    return doc


# ----------------------------------------------------------------------------- challenge body


def _pct(a: np.ndarray, q: float) -> float:
    return float(np.percentile(a, q)) if a.shape[0] else math.nan


def pass_within_points(horizon_days: int, step: int = PASS_WITHIN_STEP) -> list[int]:
    """The day counts of "passed within d days": 30, 60, ... below the horizon, then the horizon.

    >>> pass_within_points(100), pass_within_points(20), pass_within_points(60)
    ([30, 60, 90, 100], [20], [30, 60])
    """
    pts = list(range(step, int(horizon_days), step))
    return pts + [int(horizon_days)]


def pass_within_days(
    days_to_pass: Iterable[float | None], runs: int, horizon_days: int
) -> list[dict[str, Any]]:
    """P(passed within d calendar days) for each point of :func:`pass_within_points`, with Wilson intervals.

    ``days_to_pass`` holds one value per *passing* attempt (None / NaN entries are skipped);
    the rates are over all ``runs`` attempts.
    """
    d = np.asarray([x for x in days_to_pass if x is not None and not math.isnan(float(x))], dtype=np.float64)
    out = []
    for days in pass_within_points(horizon_days):
        k = int(np.count_nonzero(d <= days))
        lo, hi = wilson_interval(k, runs)
        out.append({"days": days, "passed": k, "rate": k / runs if runs else math.nan, "ci95": [lo, hi]})
    return out


def failure_label(phase: str, status: str, reason: str, via_gap: bool = False) -> str:
    """``"<phase>: <reason>"`` of the phase that ended a failed attempt (the key of ``failure_reasons``)."""
    if status == "breached":
        text = reason + (
            " (gap/slippage past the stop)" if via_gap and reason in ("daily_loss", "max_loss") else ""
        )
    elif status == "halted":
        text = reason + " (account kept, attempt given up)"
    elif status == "running":
        text = reason if reason and reason != "none" else NOT_PASSED_IN_HORIZON
    else:
        raise ValueError(f"phase status {status!r} does not end an attempt")
    return f"{phase}: {text}"


def challenge_result(
    attempts: Sequence[Mapping[str, Any]],
    phase_names: Sequence[str],
    horizon_days: int,
    *,
    caveats: Sequence[str] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The challenge body, every figure computed from ``attempts`` (see the module docstring for their keys).

    ``extra``: optional members (``refused_orders``, ``excluded_starts``, ...) added as given.
    """
    runs = len(attempts)
    if runs == 0:
        raise ValueError("a challenge result needs at least one attempt")
    n_ph = len(phase_names)
    reached = [0] * n_ph
    passed_ph = [0] * n_ph
    reasons: dict[str, int] = {}
    k = 0
    dtp: list[float] = []
    daily = np.empty(runs)
    total = np.empty(runs)
    trades = 0.0
    days = 0.0
    for i, a in enumerate(attempts):
        for p, ph in enumerate(a["phases"]):
            reached[p] += 1
            passed_ph[p] += ph["status"] == "passed"
        if a["passed"]:
            k += 1
            dtp.append(float(a["days_to_pass"]))
        else:
            reasons[a["failure"]] = reasons.get(a["failure"], 0) + 1
        daily[i] = a["max_daily_drawdown"]
        total[i] = a["max_total_drawdown"]
        trades += a["trades"]
        days += a["calendar_days"]
    lo, hi = wilson_interval(k, runs)
    phases = []
    for p, name in enumerate(phase_names):
        plo, phi = wilson_interval(passed_ph[p], reached[p])
        phases.append(
            {
                "name": name,
                "reached": reached[p],
                "passed": passed_ph[p],
                "rate": passed_ph[p] / reached[p] if reached[p] else None,
                "ci95": [plo, phi],
            }
        )
    d = np.asarray(dtp, dtype=np.float64)
    body: dict[str, Any] = {
        "runs": runs,
        "pass_rate": {"rate": k / runs, "passed": k, "runs": runs, "ci95": [lo, hi]},
        "phases": phases,
        "days_to_pass": (
            {
                "median": _pct(d, 50),
                "p10": _pct(d, 10),
                "p90": _pct(d, 90),
                "n": int(d.shape[0]),
                "unit": "calendar days",
            }
            if d.shape[0]
            else None
        ),
        "pass_within_days": pass_within_days(dtp, runs, horizon_days),
        "failure_reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "max_daily_drawdown": {"p50": _pct(daily, 50), "p90": _pct(daily, 90), "max": float(daily.max())},
        "max_total_drawdown": {"p50": _pct(total, 50), "p90": _pct(total, 90), "max": float(total.max())},
        "trades_per_day": trades / days if days else 0.0,
        "caveats": list(caveats),
        "attempts": [dict(a) for a in attempts],
    }
    if extra:
        body.update(extra)
    return json_safe(body)


# ----------------------------------------------------------------------------- tables


def _money(x: Any) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}"


def _p(x: Any, nd: int = 1) -> str:
    return "-" if x is None else f"{100 * float(x):.{nd}f}%"


def describe_governors(gov: Mapping[str, Any] | None) -> str:
    """``"default (daily_buffer_pct 1, maxloss_buffer_pct 1, ...)"``: the preset and every field that is on."""
    if not gov:
        return "?"
    fields = gov.get("fields", {})
    on = [
        f"{k} {str(fields[k]).lower() if isinstance(fields[k], bool) else fields[k]}"
        for k in gov.get("active", [])
    ]
    name = str(gov.get("preset", "?"))
    if gov.get("overrides"):
        name += " + " + " ".join(f"--gov {o}" for o in gov["overrides"])
    return f"{name}: " + (", ".join(on) if on else "all off")


def horizon_lines(prov: Mapping[str, Any]) -> list[str]:
    """What the horizon is and why it matters, in words."""
    h = prov.get("horizon") or {}
    days = h.get("days")
    src = h.get("source", "")
    if h.get("program_time_limited"):
        return [f"  horizon: {days} calendar days per attempt ({src}): the program's own time limits end it."]
    return [
        f"  horizon: {days} calendar days per attempt ({src}).",
        "           Without a time limit the horizon decides the answer: an attempt still trading on day "
        f"{days} counts as",
        "           not passed, so a longer --horizon-days gives a higher pass rate; 'passed within' shows how it grows.",
    ]


def run_what(prov: Mapping[str, Any]) -> str:
    """What ran, in a few words: "ma_cross on FILE", or a portfolio's legs "EURUSD ma_cross + GER40 donchian"."""
    legs = prov.get("legs")
    if legs:
        return "portfolio " + " + ".join(
            f"{(leg.get('symbol') or {}).get('name')} {(leg.get('strategy') or {}).get('name')}"
            for leg in legs
        )
    return f"{(prov.get('strategy') or {}).get('name')} on {(prov.get('data') or {}).get('name')}"


def portfolio_lines(prov: Mapping[str, Any]) -> list[str]:
    """The provenance lines of a portfolio's legs: data, strategy, sizing, costs, profit conversion."""
    pf = prov.get("portfolio") or {}
    lines = [
        f"  portfolio: {len(prov.get('legs') or [])} legs under one account ({pf.get('account_currency')}), "
        f"{pf.get('rows', 0):,} rows of {pf.get('bar')}"
        + (f" | file {pf['file']} (sha256 {str(pf.get('sha256', ''))[:12]})" if pf.get("file") else "")
    ]
    for leg in prov.get("legs") or []:
        sym, data, st = leg.get("symbol") or {}, leg.get("data") or {}, leg.get("strategy") or {}
        em, conv, tz = leg.get("exec_model") or {}, leg.get("conversion") or {}, data.get("time_zone") or {}
        params = ", ".join(f"{k}={v}" for k, v in (st.get("params") or {}).items())
        sizing = (
            f"fixed volume {leg['volume']:g} lots"
            if leg.get("volume")
            else f"risk {100 * (leg.get('risk') or 0):.2f}%"
        )
        lines.append(
            f"  leg {sym.get('name')}: {data.get('name')} ({data.get('rows', 0):,} bars, {data.get('first')} .. "
            f"{data.get('last')}, sha256 {str(data.get('sha256', ''))[:12]}, tz {tz.get('tz')})"
        )
        lines.append(
            f"      {st.get('spec')} ({params}) | {sizing} | costs {em.get('ident')} | profit: {conv.get('source')}"
            + (
                f" ({conv.get('pair')})"
                if conv.get("pair") and conv.get("source") != "fixed tick value"
                else ""
            )
        )
    for c in prov.get("convert") or []:
        d = c.get("data") or {}
        lines.append(
            f"  converts with {c.get('pair')}: {d.get('name')} (sha256 {str(d.get('sha256', ''))[:12]})"
        )
    return lines


def legs_lines(r: Mapping[str, Any]) -> list[str]:
    """The result's ``legs`` as a table (a portfolio's), with what each leg's conversion says."""
    legs = r.get("legs")
    if not legs:
        return []
    lines = ["", "  leg            trades       net P/L    costs paid"]
    for leg in legs:
        lines.append(
            f"  {leg['symbol']:<12} {leg['trades']:>8,} {_fmt(leg['net_pnl']):>13} {_fmt(leg['costs']['total']):>13}"
        )
    for leg in legs:
        note = (leg.get("conversion") or {}).get("note")
        if note:
            lines.append(f"  NOTE {note}")
    return lines


def header_lines(doc: Mapping[str, Any]) -> list[str]:
    """The provenance lines at the top of a challenge or backtest table."""
    prov = doc["provenance"]
    lines = []
    prog = prov.get("program") or {}
    sym = prov.get("symbol") or {}
    tz = prov.get("time_zone") or {}
    if prog.get("sha256"):
        lines.append(
            f"  rules: {prog.get('name')} {_money(prog.get('size'))} {prog.get('currency', '')}"
            f" (verified {prog.get('verified')}, sha256 {str(prog.get('sha256', ''))[:12]})"
            + (f" params {prog['params']}" if prog.get("params") else "")
        )
    if doc["mode"] == "trade_list":
        tr = prov.get("trades") or {}
        if tr.get("sha256"):
            lines.append(
                f"  trades: {tr.get('name')} ({tr.get('trades')} trades, {tr.get('first')} .. {tr.get('last')}, "
                f"sha256 {str(tr.get('sha256', ''))[:12]}) | time zone {tz.get('tz')} ({tz.get('source')})"
            )
        if prov.get("trade_scale", 1.0) != 1.0:
            lines.append(f"  every trade's P/L scaled x{prov['trade_scale']:g}")
    elif prov.get("legs"):
        lines.extend(portfolio_lines(prov))
        checks = [leg.get("lookahead_check") or {} for leg in prov["legs"]]
        passed = all(x.get("ran") for x in checks)
        lines.append(
            "  look-ahead check: "
            + ("passed on every leg" if passed else f"skipped ({checks[0].get('reason', '')})")
        )
    elif prov.get("data"):
        data = prov.get("data") or {}
        em = prov.get("exec_model") or {}
        st = prov.get("strategy") or {}
        lines.append(
            f"  data: {data.get('name')} ({data.get('rows', 0):,} bars, {data.get('first')} .. {data.get('last')}, "
            f"sha256 {str(data.get('sha256', ''))[:12]}) | time zone {tz.get('tz')} ({tz.get('source')})"
        )
        lines.append(
            f"  symbol: {sym.get('name')} (point {sym.get('point')}, digits {sym.get('digits')}, "
            f"commission {sym.get('commission_per_lot')}/lot) | costs: {em.get('ident')} "
            f"(spread: {em.get('spread_mode')}, slippage: {'on' if em.get('slippage') else 'off'}"
            + (f", latency budget {em['latency_budget_ms']:g} ms" if em.get("latency_budget_ms") else "")
            + ")"
        )
        params = ", ".join(f"{k}={v}" for k, v in (st.get("params") or {}).items())
        sizing = (
            f"fixed volume {prov['volume']:g} lots"
            if prov.get("volume")
            else f"risk {100 * prov.get('risk', 0):.2f}% per trade"
        )
        lines.append(f"  strategy: {st.get('spec')} ({params}) | {sizing}")
        la = prov.get("lookahead_check") or {}
        lines.append(
            "  look-ahead check: "
            + (
                f"passed ({la.get('prefixes')} prefixes)"
                if la.get("ran")
                else f"skipped ({la.get('reason', '')})"
            )
        )
    if "governors" in prov:
        lines.append(f"  governors: {describe_governors(prov['governors'])}")
    return lines


def format_challenge_table(doc: Mapping[str, Any]) -> str:
    """The terminal table of a challenge result, any mode, read from the document alone."""
    prov = doc["provenance"]
    r = doc["result"]
    pr = r["pass_rate"]
    runs = r["runs"]
    prog = prov.get("program") or {}
    mode = doc["mode"]
    if mode == "trade_list":
        what = f"trade list {(prov.get('trades') or {}).get('name')}"
        how = {
            "bootstrap": f"block bootstrap of trading days (block {prov.get('bootstrap_block_days', 1)} days)",
            "trades": "i.i.d. trades, trades per day resampled",
            "sequential": "the real order of days from a random start",
            "replay": "the real order of days from the first",
        }.get(str(prov.get("start_mode", "bootstrap")), "")
    else:
        what = run_what(prov)
        how = (
            f"day bootstrap, mean block {prov['bootstrap_block_days']} days"
            if mode == "day_bootstrap"
            else "attempts start on days of the real history"
        )
    lines = [
        f"simlab challenge: {prog.get('name', '?')} {_money(prog.get('size'))} | {what}",
        f"  {runs} attempts | seed {prov.get('seed')} | {how}",
        *header_lines(doc),
        *horizon_lines(prov),
        "",
        f"  PASS RATE   {100 * pr['rate']:5.1f}%   ({pr['passed']} of {pr['runs']} attempts)   "
        f"95% CI {100 * pr['ci95'][0]:.1f}% .. {100 * pr['ci95'][1]:.1f}%",
    ]
    if runs < 100:
        width = 100 * (pr["ci95"][1] - pr["ci95"][0])
        lines.append(
            f"              {runs} attempts pin the rate down only to a {width:.0f}-point-wide interval; "
            "use --runs 1000 for a tight one."
        )
    pw = r["pass_within_days"]
    for i in range(0, len(pw), 6):  # six points a line: a two-year horizon has 25
        lead = "  passed within" if i == 0 else " " * 15
        lines.append(lead + "".join(f"  {p['days']:>4}d {100 * p['rate']:5.1f}%" for p in pw[i : i + 6]))
    lines.append("")
    lines.append("  phase               reached   passed    rate     95% CI")
    for ph in r["phases"]:
        rate = "   -  " if not ph["reached"] else f"{100 * ph['rate']:5.1f}%"
        lines.append(
            f"  {ph['name']:<18} {ph['reached']:>7} {ph['passed']:>8}   {rate}   "
            f"{100 * ph['ci95'][0]:5.1f}% .. {100 * ph['ci95'][1]:5.1f}%"
        )
    d = r["days_to_pass"]
    lines.append("")
    if d:
        lines.append(
            f"  days to pass (calendar)   median {d['median']:.0f}   p10 {d['p10']:.0f}   p90 {d['p90']:.0f}   (n={d['n']})"
        )
    else:
        lines.append("  days to pass: no attempt passed")
    dd, td = r["max_daily_drawdown"], r["max_total_drawdown"]
    lines.append(
        f"  worst daily drawdown      p50 {_p(dd['p50'], 2)}   p90 {_p(dd['p90'], 2)}   max {_p(dd['max'], 2)}"
    )
    lines.append(
        f"  worst total drawdown      p50 {_p(td['p50'], 2)}   p90 {_p(td['p90'], 2)}   max {_p(td['max'], 2)}"
    )
    lines.append(f"  trades per day            {r['trades_per_day']:.2f}")
    if "entry_decisions" in r:
        lines.append(
            f"  refused orders            {refused_line(r['entry_decisions'], r.get('refused_orders') or {})}"
        )
    ex = r.get("excluded_starts")
    if ex and ex.get("n_holes"):
        what = (
            f"{ex['count']:,} of {ex['of']:,} start days excluded (their window holds one)"
            if mode != "day_bootstrap"
            else "day-bootstrap blocks never continue across one"
        )
        lines.append(
            f"  data holes                {ex['n_holes']} of more than {ex['min_hole_days']} days without bars; {what}"
        )
    lines.append("")
    reasons = r["failure_reasons"]
    if reasons:
        lines.append("  what ended the failed attempts")
        for reason, c in reasons.items():
            lines.append(f"    {c:>6}  {reason}")
    else:
        lines.append("  no attempt failed")
    if r.get("caveats"):
        lines.append("")
        lines.append("  What this mode cannot see:")
        lines.extend(f"    - {c}" for c in r["caveats"])
    lines.extend(legs_lines(r))
    return "\n".join(lines)


def refused_line(decisions: int, refused: Mapping[str, int]) -> str:
    """The table's "refused orders" line: how many of the entry decisions were refused, and why."""
    if not decisions:
        return "no entry decided"
    if not refused:
        return f"none of {decisions:,} entry decisions"
    total = sum(refused.values())
    parts = ", ".join(f"{k} {v:,}" for k, v in refused.items())
    return f"{total:,} of {decisions:,} entry decisions: {parts}"


def _fmt(v: Any, spec: str = ",.2f") -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def format_backtest_table(doc: Mapping[str, Any]) -> str:
    """The terminal table of a backtest result, read from the document alone."""
    prov = doc["provenance"]
    r = doc["result"]
    s = r["summary"]
    data = prov.get("data") or (prov.get("portfolio") or {})
    lines = [
        f"simlab backtest: {run_what(prov)} ({data.get('rows', 0):,} {'rows' if prov.get('legs') else 'bars'}) | "
        f"balance {_money(prov.get('balance'))} | seed {prov.get('seed')}",
        *header_lines(doc),
    ]
    rows = [
        ("trades", f"{s['trades']:,}"),
        ("win rate", _fmt(None if s["win_rate"] is None else 100 * s["win_rate"], ".1f") + " %"),
        ("net P/L", _fmt(s["net_pnl"])),
        ("final balance", _fmt(s["final_balance"])),
        (
            "max drawdown",
            f"{_fmt(s['max_drawdown'])} ({_fmt(None if s['max_drawdown_pct'] is None else 100 * s['max_drawdown_pct'], '.2f')} %)",
        ),
        ("profit factor", _fmt(s["profit_factor"], ".2f")),
        ("Sharpe (daily, annualised)", _fmt(s["sharpe"], ".2f")),
        ("average cost paid per trade", _fmt(s["avg_cost_per_trade"])),
        ("total costs paid", _fmt(s["total_costs"])),
    ]
    for k, v in rows:
        lines.append(f"  {k:<30} {v:>18}")
    if "entry_decisions" in r:
        lines.append(f"  refused orders: {refused_line(r['entry_decisions'], r.get('refused_orders') or {})}")
    by_session = r["costs_by_session"]
    if by_session:
        lines.append("  costs paid per session (points)   fills   avg spread   avg slippage")
        for name, c in by_session.items():
            lines.append(
                f"    {name:<31} {c['fills']:>5}   {c['avg_spread_points']:>10.2f}   {c['avg_slippage_points']:>12.2f}"
            )
    lines.extend(legs_lines(r))
    return "\n".join(lines)


def format_table(doc: Mapping[str, Any]) -> str:
    """The terminal table of any result document."""
    if doc["kind"] == "sweep":
        from simlab.sweep_table import format_sweep_table

        return format_sweep_table(doc)
    return format_challenge_table(doc) if doc["kind"] == "challenge" else format_backtest_table(doc)


__all__ = [
    "CHALLENGE_MODES",
    "KINDS",
    "NOT_PASSED_IN_HORIZON",
    "SCHEMA",
    "SCHEMA_NAME",
    "SCHEMA_VERSION",
    "challenge_result",
    "dumps",
    "envelope",
    "failure_label",
    "format_backtest_table",
    "format_challenge_table",
    "format_table",
    "json_safe",
    "legs_lines",
    "pass_within_days",
    "pass_within_points",
    "read_result",
    "write_result",
]
