"""Provenance: what a result file records so that the file alone reproduces its run.

The ``provenance`` member of a ``simlab.result`` document (see :mod:`simlab.results`)
is assembled by the commands from the pieces here: the canonical command line,
hashes of every input file, the effective settings of the program, governors,
symbol, execution model, data and strategy. Nothing here depends on the time,
the machine's core count or the output paths, so running the recorded command
again gives the same bytes.

The canonical command line (:func:`canonical_argv`) lists, in the parser's
order, every option whose value differs from its default plus the options a
command always records (the program, size, seed, ...), with values resolved
where a default would otherwise be looked up at run time (``--exec-model auto``
becomes the exact calibration, the horizon its number of days). Output options
(``--json``, ``--html``) and ``--workers`` (results do not depend on it) are
left out. Resolution is idempotent: the canonical line of a canonical line is
itself, which is what makes ``simlab rerun`` byte-identical.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from simlab.files import sha256_of as sha256_file  # the one file hash (the loaders record the same)

# options never recorded: where the result goes, and settings the result does not depend on (the
# --min-pass-rate gate sets only the exit code)
UNRECORDED = frozenset({"json", "html", "workers", "min_pass_rate", "help"})
# money options a trader types as whole numbers (``--size 100000``): an integral value is written
# without ``.0`` so the recorded line reads as typed; it parses back to the same float, so a rerun
# records the same line
WHOLE_MONEY = frozenset({"size", "balance"})


def sha256_arrays(*arrays: np.ndarray) -> str:
    """A hash of array contents (dtype, shape and bytes), for data that have no file."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def iso(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns").astype("datetime64[s]")) + "Z"


def _fmt_value(v: Any, dest: str = "") -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if dest in WHOLE_MONEY and v.is_integer():
            return str(int(v))
        return repr(v)
    return str(v)


def canonical_argv(
    command: str,
    args: argparse.Namespace,
    *,
    always: Iterable[str] = (),
    values: Mapping[str, Any] | None = None,
    skip: Iterable[str] = (),
) -> list[str]:
    """``[command, --opt, value, ...]``: the options of ``args`` that reproduce the run.

    ``always``: dests recorded even at their default; ``values``: resolved values that replace
    ``args``' (None: leave the option out); ``skip``: dests never recorded, besides :data:`UNRECORDED`.
    """
    from simlab_cli.main import command_parser

    parser = command_parser(command)
    keep = set(always)
    resolved = dict(values or {})
    leave = UNRECORDED | set(skip)
    out = [command]
    for action in parser._actions:
        dest = action.dest
        if not action.option_strings or dest in leave:
            continue
        value = resolved[dest] if dest in resolved else getattr(args, dest, action.default)
        if value is None or (dest not in keep and value == action.default):
            continue
        opt = max(action.option_strings, key=len)
        if isinstance(action, argparse._StoreTrueAction):
            if value:
                out.append(opt)
        elif isinstance(action, argparse._AppendAction) or isinstance(value, list):
            for item in value:  # a repeated option (a portfolio's --data SYMBOL=FILE legs)
                out += [opt, _fmt_value(item, dest)]
        else:
            out += [opt, _fmt_value(value, dest)]
    return out


def command_line(argv: list[str]) -> str:
    """The shell line of a canonical argv."""
    return shlex.join(["simlab", *argv])


def base(argv: list[str]) -> dict[str, Any]:
    """The members every provenance starts with."""
    from simlab import __version__

    return {"simlab_version": __version__, "command": command_line(argv), "argv": list(argv)}


# ----------------------------------------------------------------------------- inputs


def program_info(program: Any, size: float) -> dict[str, Any]:
    """The rule set: name, its file (or ``preset``) and sha256, its verified date, every rule of every phase."""
    from challenges.rules import PRESET_DIR

    path = Path(program.path)
    preset = path.resolve().parent == PRESET_DIR.resolve()
    return {
        "name": program.name,
        "title": program.title,
        "firm": program.firm,
        "file": f"preset {path.name}" if preset else str(program.path),
        "sha256": sha256_file(path),
        "verified": program.last_verified.isoformat(),
        "source": program.source,
        "currency": program.currency,
        "size": size,
        "params": dict(program.param_values),
        "day_boundary": {"zone": program.day_boundary.zone, "reset": program.day_boundary.reset},
        "phases": [dataclasses.asdict(ph) for ph in program.phases],
    }


def governors_info(cfg: Any, preset: str, overrides: list[str]) -> dict[str, Any]:
    """Every governor field as run, which are on, and where they came from (preset or file + sha256)."""
    from challenges.governors import GovernorConfig

    d: dict[str, Any] = {"preset": preset, "overrides": list(overrides)}
    p = Path(preset)
    if p.suffix == ".toml" or "/" in preset:
        d["sha256"] = sha256_file(p)
    fields = cfg.to_dict()
    off = GovernorConfig().to_dict()
    d["fields"] = fields
    d["active"] = [k for k, v in fields.items() if off[k] != v]
    return d


def symbol_info(spec: Any, symbol_file: str | None) -> dict[str, Any]:
    """Every field of the symbol spec, and the overrides file (with its sha256) when one was given."""
    d = dataclasses.asdict(spec)
    if symbol_file:
        d["symbol_file"] = {"file": symbol_file, "sha256": sha256_file(symbol_file)}
    return d


_DATA_META = (
    "format",
    "timeframe",
    "point",
    "point_source",
    "digits",
    "symbol",
    "symbol_source",
    "tz_assumed",
)


def data_info(bars: Any, name: str, path: str | None) -> dict[str, Any]:
    """The data as run: file name, sha256 (of the file; of the bars' arrays for generated data), rows, span."""
    meta = getattr(bars, "meta", {}) or {}
    if path is not None:
        digest = str(meta.get("sha256") or sha256_file(path))
        of = "file"
    else:
        digest = sha256_arrays(bars.time, bars.bid, bars.ask)
        of = "bars"
    d: dict[str, Any] = {
        "name": name,
        "file": path,
        "sha256": digest,
        "sha256_of": of,
        "rows": len(bars),
        "first": iso(bars.time[0]) if len(bars) else None,
        "last": iso(bars.time[-1]) if len(bars) else None,
    }
    for k in _DATA_META:
        if k in meta:
            d[k] = meta[k]
    return d


def time_zone_info(bars: Any, tz_arg: str | None, bundled: bool) -> dict[str, Any]:
    """The zone the data's times were read in, and why that one."""
    meta = getattr(bars, "meta", {}) or {}
    if bundled:
        return {"tz": "UTC", "source": "bundled data are generated in UTC"}
    tz = meta.get("tz") or tz_arg or "UTC"
    why = {"--tz": "--tz", "assumed": "assumed UTC: no --tz given", "file offsets": "the file's own offsets"}
    if meta.get("tz_source"):
        src = why.get(str(meta["tz_source"]), str(meta["tz_source"]))
    elif tz_arg:
        src = "--tz"
    elif meta.get("tz_assumed"):
        src = why["assumed"]
    else:
        src = why["file offsets"] if meta.get("tz") else why["assumed"]
    if src == why["assumed"]:
        tz = "UTC"  # the loader says "UTC (assumed)"; the reason is in the source
    return {"tz": str(tz), "source": src}


def strategy_info(strategy: Any, spec: str) -> dict[str, Any]:
    """The strategy as run: how it was named, every effective parameter (defaults included), source hash."""
    import inspect

    cls = type(strategy)
    d: dict[str, Any] = {
        "spec": spec,
        "name": getattr(strategy, "name", "") or cls.__name__,
        "class": cls.__name__,
        "params": strategy.param_values(),
        "warmup": int(getattr(strategy, "warmup", 0) or 0),
    }
    with contextlib.suppress(TypeError, OSError):  # a class without a file: no hash to record
        d["source_sha256"] = sha256_file(inspect.getfile(cls))
    files = strategy.input_files() if hasattr(strategy, "input_files") else []
    if files:  # a model and its description: the parameters name them, these say which bytes ran
        d["files"] = [{"file": str(f), "sha256": sha256_file(f)} for f in files]
    return d


def trades_info(trades: Any, path: str) -> dict[str, Any]:
    """The trade list as read: file, sha256, count, span, what columns were used."""
    return {
        "name": path,
        "file": path,
        "sha256": sha256_file(path),
        "trades": len(trades),
        "first": iso(int(trades.open_ns.min())),
        "last": iso(int(trades.close_ns.max())),
        "skipped_rows": int(trades.skipped),
        "has_mae": trades.mae is not None,
        "has_mfe": trades.mfe is not None,
        "columns": dict(trades.columns),
    }


__all__ = [
    "UNRECORDED",
    "base",
    "canonical_argv",
    "command_line",
    "data_info",
    "governors_info",
    "iso",
    "program_info",
    "sha256_arrays",
    "sha256_file",
    "strategy_info",
    "symbol_info",
    "time_zone_info",
    "trades_info",
]
