"""A parameter sweep's result: cells, the objective, the best cell and the honest check of that choice.

A sweep (``simlab sweep``) runs one challenge per *cell* of a grid of settings (:mod:`simlab.grid`):
every cell is exactly the ``simlab challenge`` run of its settings and seed, and keeps the challenge
result body without its attempts (``summary``) plus the sha256 of the whole body (``result_sha256``),
so a cell can be checked against a ``simlab challenge --json`` run of its ``command`` (the summary
leaves out the per-attempt and per-day members, :data:`SUMMARY_LEAVES_OUT`).

Choosing the best of many cells overstates its pass rate: some cells are best by luck of the draw.
The *selection check* evaluates the choice on attempts it was not chosen on:

* **fresh seeds**: the best cell again, on the same data, with another seed derived from the run's
  (:func:`fresh_seed`): new start days and new cost samples;
* **walk-forward**: the whole grid again on the earlier part of the data (before :func:`split_index`),
  the best cell of *that* run chosen, and reported on the later part.

The ``result`` body of a sweep (``kind: "sweep"`` in the ``simlab.result/1`` envelope)::

    {
      "runs": int,                                   # attempts per cell
      "objective": {"name", "label", "goal": "max" | "min", "assumes": [str]},
      "axes": [{"name", "option", "given", "values"}],
      "cells": [{"cell", "settings": {axis: value}, "command": "simlab challenge ...",
                 "objective": float | null, "traded": bool, "no_trades": str (when it did not trade),
                 "ev": {...} (objective ev), "result_sha256",
                 "summary": {the challenge body less its attempts and traced daily paths}}],
      "best": {"cell", "settings", "objective", "pass_rate"} | null,
      "selection_check": {
        "cells": int,                                # how many cells the best was chosen from
        "in_sample": {"cell", "pass_rate", "objective"},
        "fresh_seeds": {"seed", "pass_rate", "objective", "days_to_pass", "result_sha256"},
        "walk_forward": {"split": {"at", "rule", "earlier": {"first", "last", "rows"}, "later": {...}},
                         "chosen": {"cell", "settings", "pass_rate", "objective"},     # on the earlier part
                         "later": {"pass_rate", "objective", "days_to_pass", "result_sha256"}}
                        | {"ran": false, "reason": str}
      }
    }

Objectives: ``pass_rate`` (higher is better), ``days`` (the median calendar days to pass, lower is
better; a cell that never passed has none and ranks last), ``ev`` (:class:`EvTerms`: the expected
money per attempt given the program's fee and payout, higher is better). Ties go to the higher pass
rate, then to the lower cell number.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simlab.calendar import NS_DAY, NS_HOUR
from simlab.errors import ConfigError

SEED_MAX = 2**63 - 1
OBJECTIVES: dict[str, tuple[str, str]] = {  # name -> (goal, label)
    "pass_rate": ("max", "pass rate"),
    "ev": ("max", "expected value per attempt"),
    "days": ("min", "median days to pass"),
}
WEEKEND_GAP_NS = 36 * NS_HOUR  # a gap this long between bars is a weekend (or a holiday)
_WEEKEND_SEARCH_NS = 8 * NS_DAY


def fresh_seed(seed: int) -> int:
    """A second seed stream derived from the run's seed (never the run's own): the fresh-seed check.

    >>> fresh_seed(7) != 7, fresh_seed(7) == fresh_seed(7), 0 <= fresh_seed(2**63 - 1) <= 2**63 - 1
    (True, True, True)
    """
    h = hashlib.sha256(f"simlab.sweep.fresh-seeds/{int(seed)}".encode()).digest()
    out = int.from_bytes(h[:8], "big") & SEED_MAX
    return out if out != seed else (out + 1) & SEED_MAX


def body_sha256(body: Mapping[str, Any]) -> str:
    """The sha256 of a challenge result body as ``simlab.results.dumps`` writes it (one-space indent)."""
    return hashlib.sha256(json.dumps(body, indent=1, allow_nan=False).encode()).hexdigest()


# what a cell's summary leaves out of its challenge body: one entry per attempt, and the traced
# attempts' daily paths (``simlab.sample``); the cell keeps every summary figure and the body's sha256
SUMMARY_LEAVES_OUT = ("attempts", "equity_paths", "equity_bands")


def cell_summary(body: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """A cell's record of its challenge body: the body less :data:`SUMMARY_LEAVES_OUT`, and the whole
    body's sha256."""
    return {k: v for k, v in body.items() if k not in SUMMARY_LEAVES_OUT}, body_sha256(body)


@dataclass(frozen=True)
class EvTerms:
    """What the EV objective assumes for one cell: ``ev = P(pass) * (payout + refund) - fee``.

    ``payout``: the money the trader is paid once funded (by default one payout of the profit split
    of the first phase's target); ``refund``: the fee again when the firm refunds it with the first
    payout; every attempt pays the fee.
    """

    fee: float
    payout: float
    refund: float
    currency: str
    fee_source: str
    payout_source: str

    def value(self, rate: float) -> float:
        return rate * (self.payout + self.refund) - self.fee

    def to_json(self) -> dict[str, Any]:
        return {
            "fee": self.fee,
            "payout": self.payout,
            "refund": self.refund,
            "currency": self.currency,
            "fee_source": self.fee_source,
            "payout_source": self.payout_source,
        }


def objective_value(name: str, summary: Mapping[str, Any], ev: EvTerms | None = None) -> float | None:
    """The objective of one challenge summary (None: the cell has no value, e.g. never passed)."""
    rate = float(summary["pass_rate"]["rate"])
    if name == "pass_rate":
        return rate
    if name == "days":
        d = summary.get("days_to_pass")
        return None if not d else float(d["median"])
    if name == "ev":
        if ev is None:
            raise ValueError("the ev objective needs the cell's EvTerms")
        return ev.value(rate)
    raise ValueError(f"unknown objective {name!r}")


def choose_best(
    objective: str, values: Sequence[float | None], rates: Sequence[float], eligible: Sequence[bool]
) -> int | None:
    """The index of the best eligible cell (see the module doc for ties); None when none is eligible."""
    goal = OBJECTIVES[objective][0]
    best: int | None = None
    best_key: tuple[float, float, int] | None = None
    for i, (v, r, ok) in enumerate(zip(values, rates, eligible)):
        if not ok:
            continue
        if v is None or math.isnan(v):
            score = -math.inf
        else:
            score = v if goal == "max" else -v
        key = (score, r, -i)
        if best_key is None or key > best_key:
            best, best_key = i, key
    return best


def parse_split(spec: str) -> tuple[float, int | None]:
    """``--split`` as ``(fraction, None)`` or ``(nan, UTC ns of a date)``; a one-line ConfigError otherwise.

    >>> parse_split("0.6")[0], parse_split("2017-01-02")[1]
    (0.6, 1483315200000000000)
    """
    text = spec.strip()
    try:
        f = float(text)
    except ValueError:
        try:
            return math.nan, int(np.datetime64(text, "ns").astype(np.int64))
        except ValueError:
            raise ConfigError(
                "--split", f"{spec!r}: expected a fraction in (0, 1), a date like 2017-01-01, or off"
            ) from None
    if not (0.0 < f < 1.0) or not math.isfinite(f):
        raise ConfigError("--split", f"{spec!r}: expected a fraction in (0, 1), a date, or off")
    return f, None


def split_index(time_ns: np.ndarray, spec: str, *, weekend: bool = True) -> tuple[int, str]:
    """Where the walk-forward check splits the data: ``(index of the first later row, the rule in words)``.

    ``spec``: a fraction in (0, 1) of the data's time span, or a date (``2017-01-01``: the first row
    on or after it, UTC). With ``weekend``, a fraction moves to the first row after the next gap of a
    weekend (36 hours without rows) within 8 days, so that both parts hold whole trading weeks under
    any day boundary; without one it stays. One-line ConfigError (``--split``) for a bad value or a
    split that leaves one part empty.
    """
    t = np.asarray(time_ns, dtype=np.int64)
    n = int(t.shape[0])
    if n < 2:
        raise ConfigError("--split", "the data have fewer than 2 rows: nothing to split")
    text = spec.strip()
    f, at = parse_split(spec)
    if at is not None:
        i = int(np.searchsorted(t, at, side="left"))
        rule = f"the first row on or after {text}"
    else:
        target = int(t[0] + f * float(t[-1] - t[0]))
        i = int(np.searchsorted(t, target, side="left"))
        rule = f"the first row at {f:g} of the data's time span"
        if weekend and 0 < i < n:
            gaps = np.flatnonzero(np.diff(t[i - 1 :]) >= WEEKEND_GAP_NS)
            if gaps.shape[0] and int(t[i + int(gaps[0])]) - target <= _WEEKEND_SEARCH_NS:
                i = i + int(gaps[0])
                rule = f"the first row after the weekend that follows {f:g} of the data's time span"
    if i <= 0 or i >= n:
        first = np.datetime_as_string(t[0].astype("datetime64[ns]"), unit="m")
        last = np.datetime_as_string(t[-1].astype("datetime64[ns]"), unit="m")
        raise ConfigError("--split", f"{spec!r} leaves one part empty (the data run {first}Z .. {last}Z)")
    return i, rule


def part_info(time_ns: np.ndarray, lo: int, hi: int) -> dict[str, Any]:
    """``{"first", "last", "rows"}`` of rows lo .. hi-1 (ISO UTC minutes)."""
    t = np.asarray(time_ns, dtype=np.int64)

    def iso(x: np.int64) -> str:
        return str(np.datetime_as_string(x.astype("datetime64[ns]"), unit="m")) + "Z"

    return {"first": iso(t[lo]), "last": iso(t[hi - 1]), "rows": int(hi - lo)}


def rate_record(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The pass rate of a summary as recorded in the selection check: rate, passed, runs, ci95."""
    return dict(summary["pass_rate"])


__all__ = [
    "OBJECTIVES",
    "SUMMARY_LEAVES_OUT",
    "EvTerms",
    "body_sha256",
    "cell_summary",
    "choose_best",
    "fresh_seed",
    "objective_value",
    "parse_split",
    "part_info",
    "rate_record",
    "split_index",
]
