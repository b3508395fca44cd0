"""Errors a user can act on: one line, naming the file, row or field and what was expected."""

from __future__ import annotations

MAX_LINE = 300  # characters (plus the file name): a file of NUL bytes must not become a 100 KB error line


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
