"""Write output files atomically: a reader sees the old file or the whole new one, never half."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temp file in the same folder and an atomic rename.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_text(d / "a.json", "{}")
    >>> (d / "a.json").read_text()
    '{}'
    """
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    target = Path(path)
    if target.exists() and not stat.S_ISREG(target.stat().st_mode):
        # never rename over a device, FIFO or folder (as root, --json /dev/full would replace the node)
        from simlab.errors import ConfigError

        raise ConfigError(str(path), "exists and is not a regular file; refusing to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # mkstemp creates 0600; give the file the mode a plain open() would (0666 less the umask)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def check_output_paths(
    outputs: Mapping[str, str | os.PathLike[str] | None],
    inputs: Mapping[str, str | os.PathLike[str] | None] = {},
    *,
    create_folders: bool = False,
) -> None:
    """Refuse, before any work, every output path that could not be written or would destroy something.

    ``outputs`` / ``inputs``: option name -> path (None: not given). One-line ``ConfigError`` naming
    the option when an output is also an input or another output, is a directory or a special file
    (a device, a FIFO: never renamed over), lies under a regular file, or its folder is missing or not
    writable (probed by creating and removing a temporary file there). ``create_folders``: a missing
    folder is fine when the nearest existing one is a writable folder (the writer creates the rest).
    Every command that writes files calls this first.
    """
    from simlab.errors import ConfigError

    given_in = {opt: Path(p) for opt, p in inputs.items() if p is not None and str(p) != ""}
    seen: dict[Path, str] = {}
    for opt, raw in outputs.items():
        if raw is None:
            continue
        target = Path(raw)
        where = f"{opt} {raw}"
        if str(raw) == "" or target.name in ("", ".", ".."):
            raise ConfigError(where, "expected a file path")
        resolved = target.resolve()
        if resolved in seen:
            raise ConfigError(where, f"the same file as {seen[resolved]}: give each output its own path")
        seen[resolved] = opt
        for in_opt, in_path in given_in.items():
            if in_path.resolve() == resolved or _same_file(in_path, target):
                raise ConfigError(where, f"is the input of {in_opt}: refusing to overwrite an input")
        if target.is_symlink() or target.exists():
            st = target.stat() if target.exists() else None
            if st is None or not stat.S_ISREG(st.st_mode):
                kind = "a directory" if target.is_dir() else "not a regular file (a device, FIFO or link)"
                raise ConfigError(where, f"is {kind}; give the path of a file")
        parent = target.parent
        ancestor = parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if ancestor.exists() and not ancestor.is_dir():
            raise ConfigError(where, f"{ancestor} is a file, not a folder")
        if not parent.is_dir() and not create_folders:
            raise ConfigError(where, f"folder {parent} does not exist")
        folder = parent if parent.is_dir() else ancestor
        try:
            fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=folder)
        except OSError as exc:
            raise ConfigError(where, f"cannot write in folder {folder}: {exc.strerror or exc}") from None
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(probe)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
