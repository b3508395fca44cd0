"""Opening a user's input file: refuse what cannot be read once and completely, in one line.

Every input path (``--data``, ``--ticks``, ``--trades``, symbol, rule and governor
files) goes through :func:`check_input_file` before it is opened, because opening a
FIFO blocks until a writer appears (a run that hangs forever), ``/dev/stdin`` is
read once and gone, and a directory or an unreadable file otherwise surfaces as
an internal error. Text configuration files are UTF-8, with or without the BOM
that Windows Notepad writes.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from simlab.errors import ConfigError, InputError

__all__ = ["check_input_file", "read_bytes", "read_text", "read_toml", "sha256_of"]

_STDIN_NAMES = {"-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"}


def check_input_file(
    path: str | Path, where: str | None = None, *, error: type[InputError] = InputError
) -> Path:
    """``path`` as a Path, once it is known to be an existing, readable regular file (symlinks followed).

    Raises ``error(where, ...)`` (default :class:`InputError`, ``where`` = the path) naming what it is instead.
    """
    where = str(path) if where is None else where
    text = str(path)
    if text in _STDIN_NAMES:
        raise error(where, "reading from stdin is not supported; save the data to a file and give its path")
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise error(where, "file not found") from None
    except NotADirectoryError:
        raise error(where, "file not found (a part of the path is a file, not a folder)") from None
    except PermissionError:
        raise error(where, "cannot read: permission denied") from None
    except OSError as exc:
        raise error(where, f"cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(where, "is a directory; expected a file")
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a FIFO (named pipe)"
            if stat.S_ISFIFO(st.st_mode)
            else "a character device"
            if stat.S_ISCHR(st.st_mode)
            else "a block device"
            if stat.S_ISBLK(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "not a regular file"
        )
        raise error(where, f"is {kind}, not a regular file; expected a file saved on disk")
    if not os.access(p, os.R_OK):
        raise error(where, "cannot read: permission denied")
    return p


def read_bytes(path: str | Path, where: str | None = None, *, error: type[InputError] = InputError) -> bytes:
    """The whole content of a checked regular file; I/O errors become one line."""
    where = str(path) if where is None else where
    p = check_input_file(path, where, error=error)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise error(where, f"cannot read: {exc.strerror or exc}") from None


def read_text(path: str | Path, where: str | None = None, *, error: type[InputError] = InputError) -> str:
    """A UTF-8 text file (a leading BOM is dropped); anything else is a one-line error."""
    where = str(path) if where is None else where
    raw = read_bytes(path, where, error=error)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise error(where, "is UTF-16 text; expected UTF-8 (save it as UTF-8)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(
            where,
            f"line {line}: byte 0x{raw[exc.start]:02x} is not UTF-8 text; expected a UTF-8 file (save it as UTF-8)",
        ) from None


def read_toml(path: str | Path, where: str | None = None) -> dict[str, Any]:
    """Parse a UTF-8 TOML file (BOM accepted); any I/O, encoding or syntax problem is one ConfigError line."""
    where = str(path) if where is None else where
    text = read_text(path, where, error=ConfigError)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, f"not valid TOML: {' '.join(str(exc).split())}") from None


def sha256_of(path: str | Path) -> str:
    """The SHA-256 of a file's bytes as stored (a .gz file: of the compressed bytes), hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
