"""Small helpers shared by the rule-file and governor-file readers: one-line, field-naming errors."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from simlab.errors import ConfigError
from simlab.files import read_toml as _read_toml


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; any I/O, encoding or syntax problem becomes a one-line ``ConfigError``.

    A directory, a FIFO or another non-regular file is refused (never opened), a UTF-8 BOM
    (Windows Notepad) is accepted; see :func:`simlab.files.read_toml`.
    """
    return _read_toml(path)


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


class Section:
    """A TOML table being read: every getter names the field in its error, unknown keys are refused."""

    def __init__(
        self,
        where: str,
        context: str,
        data: object,
        prefix: str = "",
        params: Mapping[str, float] | None = None,
    ) -> None:
        self.where = where  # file name (or "--gov", ...)
        self.context = context  # "phase 1 'challenge'", "" at top level
        self.prefix = prefix  # "daily_loss." inside a sub-table
        self.params: Mapping[str, float] = params or {}  # "$name" in a number field reads a parameter
        if not isinstance(data, Mapping):
            self.fail_field(prefix.rstrip("."), f"expected a table, got {_type_name(data)}")
        self.data: Mapping[str, Any] = data
        self.seen: set[str] = set()
        self.known: list[str] = []

    # ------------------------------------------------------------ errors
    def field_name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def fail_field(self, key: str, what: str) -> NoReturn:
        parts = [p for p in (self.context, f"field '{key}'" if key else "") if p]
        raise ConfigError(self.where, f"{', '.join(parts)}: {what}" if parts else what)

    def fail(self, key: str, what: str) -> NoReturn:
        self.fail_field(self.field_name(key), what)

    def missing(self, key: str, hint: str = "") -> NoReturn:
        """A required key is absent; a near-miss key in the table is reported as the typo it probably is."""
        import difflib

        extra = [k for k in self.data if k not in self.seen and k not in self.known]
        close = difflib.get_close_matches(key, extra, n=1, cutoff=0.6)
        if close:
            self.fail(close[0], f"unknown key (did you mean '{self.field_name(key)}'?)")
        self.fail(key, "missing (required)" + (f": {hint}" if hint else ""))

    # ------------------------------------------------------------ getters
    def has(self, key: str) -> bool:
        return key in self.data

    def _reg(self, key: str) -> None:
        if key not in self.known:
            self.known.append(key)

    def raw(self, key: str) -> Any:
        self._reg(key)
        self.seen.add(key)
        return self.data.get(key)

    def required(self, key: str) -> Any:
        self._reg(key)
        if key not in self.data:
            self.missing(key)
        return self.raw(key)

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> str:
        self._reg(key)
        if key not in self.data:
            if required or default is None:
                self.missing(key)
            assert default is not None
            return default
        v = self.raw(key)
        if not isinstance(v, str):
            self.fail(key, f"expected a string, got {_type_name(v)}")
        return v

    def number(
        self,
        key: str,
        default: float | None = None,
        *,
        lo: float = -math.inf,
        hi: float = math.inf,
        lo_open: bool = False,
        what: str = "a number",
        value: object = None,
    ) -> float:
        if value is None:
            self._reg(key)
        if value is None:
            if key not in self.data:
                if default is None:
                    self.missing(key)
                assert default is not None
                return default
            value = self.raw(key)
        if isinstance(value, str) and value.startswith("$"):
            pname = value[1:].strip("{}")
            if pname not in self.params:
                known = ", ".join(f"${k}" for k in self.params) or "none declared in [params]"
                self.fail(key, f"unknown parameter {value!r}; known: {known}")
            value = self.params[pname]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"expected {what}, got {_type_name(value)}")
        x = float(value)  # type: ignore[arg-type]
        if not math.isfinite(x) or x < lo or x > hi or (lo_open and x == lo):
            lo_s = "(" if lo_open else "["
            self.fail(key, f"expected {what} in {lo_s}{_fmt(lo)}, {_fmt(hi)}], got {_fmt(x)}")
        return x

    def integer(self, key: str, default: int | None = None, *, lo: int = 0, hi: int = 10**9) -> int:
        self._reg(key)
        if key not in self.data:
            if default is None:
                self.missing(key)
            assert default is not None
            return default
        v = self.raw(key)
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(key, f"expected a whole number, got {_type_name(v)}")
        if v < lo or v > hi:
            self.fail(key, f"expected a whole number in [{lo}, {hi}], got {v}")
        return int(v)

    def boolean(self, key: str, default: bool | None = None) -> bool:
        self._reg(key)
        if key not in self.data:
            if default is None:
                self.missing(key)
            assert default is not None
            return default
        v = self.raw(key)
        if not isinstance(v, bool):
            self.fail(key, f"expected true or false, got {_type_name(v)}")
        return bool(v)

    def choice(
        self, key: str, choices: Iterable[str], default: str | None = None, *, kind: str = "value"
    ) -> str:
        options = list(choices)
        v = self.string(key, default)
        if v not in options:
            self.fail(key, f"unknown {kind} {v!r}; expected one of {', '.join(options)}")
        return v

    def table(self, key: str, context_prefix: str | None = None) -> Section | None:
        self._reg(key)
        if key not in self.data:
            return None
        v = self.raw(key)
        prefix = f"{self.prefix}{key}." if context_prefix is None else context_prefix
        if not isinstance(v, Mapping):
            self.fail(key, f"expected a table, got {_type_name(v)}")
        return Section(self.where, self.context, v, prefix, self.params)

    def done(self) -> None:
        """Refuse keys nobody asked for (typos must not be silently ignored)."""
        extra = [k for k in self.data if k not in self.seen]
        if extra:
            self.fail(extra[0], f"unknown key; expected one of {', '.join(self.known) or '(none)'}")


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"
