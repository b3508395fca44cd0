"""Any result document to its HTML report: ``render_report(doc)``, ``write_report(doc, path)``.

The one entry point the commands use (``simlab report``, ``--html`` on ``backtest``, ``challenge``
and ``rerun``). A report is a pure function of the document, so the file written during a run and
the one ``simlab report RUN.json`` writes later are the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def render_report(doc: Mapping[str, Any]) -> str:
    """The HTML page of a ``simlab.result/1`` document (challenge in any mode, backtest, or sweep)."""
    if doc.get("kind") == "sweep":
        from reports.sweep import render_sweep

        return render_sweep(doc)
    if doc.get("kind") == "backtest":
        from reports.backtest import render_backtest

        return render_backtest(doc)
    from reports.challenge import render_challenge

    return render_challenge(doc)


def write_report(doc: Mapping[str, Any], path: str | Path) -> None:
    """Render and write atomically (never a half-written page)."""
    from simlab.atomic import atomic_write_text

    atomic_write_text(path, render_report(doc))


__all__ = ["render_report", "write_report"]
