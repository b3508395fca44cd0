"""Errors a user can act on: one line, naming the file, row or field and what was expected."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

MAX_LINE = 300  # characters (plus the file name): a file of NUL bytes must not become a 100 KB error line
# the room an unknown-name message gives its list of known names: past it the list would crowd the
# line (and be cut in its middle by one_line), so the message points to where the full list is
LIST_ROOM = 160


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """``text`` as one printable line of at most ``limit`` characters.

    Line breaks and other control characters are shown escaped; an over-long line keeps
    its head and its tail (where "expected ..." usually is) around ``[... N chars ...]``.

    >>> one_line("a\\nb")
    'a\\\\nb'
    >>> len(one_line("x" * 1000 + " expected y")) <= MAX_LINE
    True
    """
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(text) <= limit:
        return text
    tail = min(90, limit // 3)
    marker = f" [... {len(text)} chars cut ...] "  # at least as long as the final marker
    head = limit - tail - len(marker)
    marker = f" [... {len(text) - head - tail} chars cut ...] ".ljust(len(marker))
    return text[:head] + marker + text[len(text) - tail :]


def unknown_name(kind: str, name: str, known: Sequence[str], listed_at: str) -> str:
    """The message of an unknown ``name`` of ``kind``: the closest known names, and the whole list of
    ``known`` where it is short, else ``listed_at`` (where the user reads it), so the line stays whole.

    >>> unknown_name("colour", "gren", ["red", "green", "blue"], "the manual")
    "unknown colour 'gren' (did you mean green?); known: red, green, blue"
    >>> unknown_name("field", "dailybuffer", [f"field_{i}" for i in range(40)] + ["daily_buffer"], "--help")
    "unknown field 'dailybuffer' (did you mean daily_buffer?); the 41 known are listed in --help"
    """
    text = f"unknown {kind} {name!r}"
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    if close:
        text += f" (did you mean {' or '.join(close)}?)"
    listing = ", ".join(known)
    if len(listing) <= LIST_ROOM:
        return f"{text}; known: {listing}"
    return f"{text}; the {len(known)} known are listed in {listed_at}"


class SimlabError(Exception):
    """Base of every error simlab reports to a user (CLI exit code 2, no traceback)."""

    exit_code = 2

    def __str__(self) -> str:
        return one_line(super().__str__())


class InputError(SimlabError):
    """Bad input data or configuration: the message names file, row, field and what was expected.

    >>> str(InputError("bars.csv", "row 3, field 'bid_high': high 1.1 < low 1.2"))
    "bars.csv: row 3, field 'bid_high': high 1.1 < low 1.2"
    """

    def __init__(self, where: str, what: str) -> None:
        self.where = where
        self.what = what
        super().__init__(f"{where}: {what}" if where else what)

    def __str__(self) -> str:  # a long path does not eat the message's room
        what = one_line(str(self.what))
        return f"{one_line(str(self.where), 200)}: {what}" if self.where else what


class ConfigError(InputError):
    """Bad rule file, governor setting, parameter or model file."""
