"""Find and configure a strategy: by name, by ``module:Class``, or by file path.

>>> s = load_strategy("ma_cross", {"fast": "10", "slow": "30"})
>>> s.fast, s.slow, s.ma
(10, 30, 'sma')
>>> load_strategy("ma_crosss")
Traceback (most recent call last):
...
simlab.errors.ConfigError: unknown strategy 'ma_crosss' (known: donchian, london_breakout, ma_cross, onnx, onnx-policy, rsi_reversion; or module:Class, or path/to/file.py[:Class])

Parameters come from a TOML file (a flat table ``key = value``, or a
``[params]`` table) and then from ``--param key=value`` strings, which win.
Strings are parsed to each parameter's declared type.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from simlab.errors import ConfigError
from strategies.base import Strategy

# name -> "module:Class"; imported only when asked for
BUILTIN: dict[str, str] = {
    "donchian": "strategies.donchian:Donchian",
    "london_breakout": "strategies.london_breakout:LondonBreakout",
    "ma_cross": "strategies.ma_cross:MaCross",
    "onnx": "strategies.onnx_model:OnnxModelStrategy",
    "onnx-policy": "strategies.onnx_policy:OnnxPolicyStrategy",
    "rsi_reversion": "strategies.rsi_reversion:RsiReversion",
}

WHERE = ""  # the message names the strategy itself


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def known_strategies() -> dict[str, str]:
    """Built-in names -> ``module:Class``."""
    return dict(BUILTIN)


def _is_path(spec: str) -> bool:
    head = spec
    if ":" in spec:
        left, _, right = spec.rpartition(":")
        if right.isidentifier() and left:
            head = left
    return head.endswith(".py") or "/" in head or "\\" in head


def _class_from(module: Any, cls_name: str | None, where: str) -> type[Strategy]:
    if cls_name is not None:
        obj = getattr(module, cls_name, None)
        if obj is None:
            found = _strategy_classes(module)
            hint = f" (strategies there: {', '.join(c.__name__ for c in found)})" if found else ""
            raise ConfigError(where, f"no class {cls_name!r}{hint}")
        if not (inspect.isclass(obj) and issubclass(obj, Strategy)):
            raise ConfigError(
                where, f"{cls_name!r} is not a Strategy subclass (see strategies.base.Strategy)"
            )
        return obj
    found = _strategy_classes(module)
    if not found:
        raise ConfigError(where, "defines no Strategy subclass (class X(strategies.Strategy): ...)")
    if len(found) > 1:
        names = ", ".join(c.__name__ for c in found)
        raise ConfigError(where, f"defines several strategies ({names}); pick one with {where}:ClassName")
    return found[0]


def _strategy_classes(module: Any) -> list[type[Strategy]]:
    return [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, Strategy)
        and obj.__module__ == module.__name__
        and not inspect.isabstract(obj)
    ]


def _import_file(path: Path) -> Any:
    where = str(path)
    if not path.is_file():
        raise ConfigError(where, "strategy file not found")
    st = path.stat()
    key = f"{path.resolve()}|{st.st_mtime_ns}|{st.st_size}"
    mod_name = f"simlab_user_strategy_{hashlib.sha1(key.encode()).hexdigest()[:16]}"
    if mod_name in sys.modules:  # the same file, unchanged: one module, one class (pickling needs that)
        return sys.modules[mod_name]
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(where, "cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module  # dataclasses and pickling look classes up here
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(mod_name, None)
        raise ConfigError(where, f"failed to import: {_one_line(exc)}") from None
    return module


def load_strategy_class(spec: str) -> type[Strategy]:
    """The Strategy subclass named by ``spec`` (a built-in name, ``module:Class`` or ``file.py[:Class]``)."""
    spec = spec.strip()
    if spec in BUILTIN:
        mod, _, cls = BUILTIN[spec].partition(":")
        return _class_from(importlib.import_module(mod), cls, spec)
    if _is_path(spec):
        cls_name: str | None = None
        path_s = spec
        left, _, right = spec.rpartition(":")
        if left and right.isidentifier():
            path_s, cls_name = left, right
        return _class_from(_import_file(Path(path_s).expanduser()), cls_name, path_s)
    if ":" in spec:
        mod_name, _, cls_name = spec.partition(":")
        try:
            module = importlib.import_module(mod_name)
        except Exception as exc:
            raise ConfigError(mod_name, f"failed to import: {_one_line(exc)}") from None
        return _class_from(module, cls_name, mod_name)
    known = ", ".join(sorted(BUILTIN))
    raise ConfigError(
        WHERE, f"unknown strategy {spec!r} (known: {known}; or module:Class, or path/to/file.py[:Class])"
    )


def parse_param_args(items: Iterable[str] | None) -> dict[str, str]:
    """``["fast=10", "ma=ema"]`` -> ``{"fast": "10", "ma": "ema"}``; ConfigError on an item without ``=``."""
    out: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError("--param", f"expected key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def read_params_toml(path: Path) -> dict[str, Any]:
    """Parameters from a TOML file: a flat table of scalars, or a ``[params]`` table."""
    where = str(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(where, f"cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, f"not valid TOML: {str(exc).splitlines()[0]}") from None
    if isinstance(data.get("params"), dict):
        data = data["params"]
    for key, val in data.items():
        if isinstance(val, (dict, list)):
            raise ConfigError(
                where, f"{key!r}: expected a scalar parameter value (key = value), got a {type(val).__name__}"
            )
    return dict(data)


def load_strategy(
    spec: str,
    params: Mapping[str, Any] | None = None,
    params_toml: Path | str | None = None,
) -> Strategy:
    """A configured strategy instance.

    ``spec``: a built-in name (``ma_cross``), ``package.module:Class``, or a file
    ``path/to/file.py`` (its one Strategy subclass) / ``path/to/file.py:Class``.
    ``params``: ``{name: value}`` (strings are parsed to the declared types),
    applied over those of ``params_toml``. Every problem is a one-line
    :class:`simlab.errors.ConfigError`.
    """
    cls = load_strategy_class(spec)
    values: dict[str, Any] = {}
    if params_toml is not None:
        values.update(read_params_toml(Path(params_toml)))
    values.update(params or {})
    return cls(**values)
