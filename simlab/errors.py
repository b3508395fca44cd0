"""Errors a user can act on: one line, naming the file, row or field and what was expected."""

from __future__ import annotations


class SimlabError(Exception):
    """Base of every error simlab reports to a user (CLI exit code 2, no traceback)."""

    exit_code = 2


class InputError(SimlabError):
    """Bad input data or configuration: the message names file, row, field and what was expected.

    >>> str(InputError("bars.csv", "row 3, field 'bid_high': high 1.1 < low 1.2"))
    "bars.csv: row 3, field 'bid_high': high 1.1 < low 1.2"
    """

    def __init__(self, where: str, what: str) -> None:
        self.where = where
        self.what = what
        super().__init__(f"{where}: {what}" if where else what)


class ConfigError(InputError):
    """Bad rule file, governor setting, parameter or model file."""
