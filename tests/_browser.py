"""Open an HTML report in a real headless Chromium and say what a person would see.

Debian's ``chromium`` package, driven by playwright's Python package over the DevTools protocol
(``executable_path``: playwright never downloads a browser of its own here; the machines reach no
network beyond the package registries). ``.ci/run`` installs chromium when it runs as root; where it
is missing, or playwright is, :func:`browser` skips the test with the reason.
"""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def browser() -> Iterator[Any]:
    """A launched headless Chromium (playwright ``Browser``), or a skip saying what is missing."""
    exe = chromium_path()
    if exe is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt-get when run as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright's Python package is not installed (it is in the test extra)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Seen:
    errors: list[str]  # console errors and uncaught page errors
    plots: int  # figure divs on the page
    rendered: int  # of them, those in which plotly drew its own SVG (.plot-container .main-svg)
    load_s: float  # navigation start to the load event, every figure drawn (the scripts run inline)
    png: bytes  # a screenshot


def open_report(b: Any, path: Path, *, full_page: bool = True, viewport: dict | None = None) -> Seen:
    page = b.new_page(viewport=viewport or VIEWPORT)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    # nothing may come from the network: every request other than the file itself is an error
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else (errors.append(
        f"network request: {r.request.url}"), r.abort()))  # fmt: skip
    t0 = time.perf_counter()
    page.goto(path.resolve().as_uri(), wait_until="load")
    load = time.perf_counter() - t0
    plots = page.evaluate("document.querySelectorAll('div.plot').length")
    rendered = page.evaluate(
        "Array.from(document.querySelectorAll('div.plot')).filter(d => d.querySelector('.plot-container .main-svg')).length"
    )
    png = page.screenshot(full_page=full_page)
    page.close()
    return Seen(errors, int(plots), int(rendered), load, png)


def pixel_spread(png: bytes) -> tuple[float, float]:
    """(standard deviation of the grey levels, share of pixels that are not the page background)."""
    import numpy as np
    from PIL import Image

    a = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    background = np.bincount(a.astype(np.int64).ravel()).argmax()
    return float(a.std()), float(np.mean(np.abs(a - background) > 8))
