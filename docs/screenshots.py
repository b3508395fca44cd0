"""Remake the report screenshots in docs/ (shown in the README): ``python docs/screenshots.py``.

Runs three reports on the bundled data (a challenge in bar mode, a trade list made from a backtest's
ledger, the backtest itself), opens each in headless Chromium (Debian's ``chromium``, driven by
playwright) and keeps the top of the page as a 256-colour PNG: small enough to commit.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from _browser import FLAGS, chromium_path  # noqa: E402

SHOTS = {  # file -> (top of the page kept, in CSS pixels)
    "report-challenge.png": 1900,
    "report-trade-list.png": 1500,
    "report-backtest.png": 1330,
}


def main() -> int:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from simlab_cli.main import main as simlab

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        assert (
            simlab(["backtest", "--strategy", "donchian", "--json", f"{d}/b.json", "--html", f"{d}/b.html"])
            == 0
        )
        trades = json.loads((d / "b.json").read_text())["result"]["trades"]
        rows = ["open time,close time,profit"] + [
            f"{t['entry_time'][:19].replace('T', ' ')},{t['exit_time'][:19].replace('T', ' ')},{t['pnl']:.2f}"
            for t in trades
        ]
        (d / "donchian_trades.csv").write_text("\n".join(rows) + "\n")
        args = ["challenge", "--runs", "1000", "--strategy", "donchian", "--program", "e8-one"]
        assert simlab([*args, "--html", f"{d}/c.html"]) == 0
        args = ["challenge", "--runs", "5000", "--trades", "donchian_trades.csv"]
        here = os.getcwd()
        os.chdir(d)  # the report names the trade list as given: a relative name, not a temporary folder
        try:
            assert simlab([*args, "--html", f"{d}/t.html"]) == 0
        finally:
            os.chdir(here)
        pages = {"report-challenge.png": d / "c.html", "report-trade-list.png": d / "t.html",
                 "report-backtest.png": d / "b.html"}  # fmt: skip
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=chromium_path(), args=FLAGS)
            for name, page_path in pages.items():
                page = b.new_page(viewport={"width": 1280, "height": SHOTS[name]})
                page.goto(page_path.as_uri(), wait_until="load")
                png = page.screenshot(clip={"x": 0, "y": 0, "width": 1280, "height": SHOTS[name]})
                img = (
                    Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
                )
                img.save(ROOT / "docs" / name, optimize=True)
                print(f"docs/{name}: {(ROOT / 'docs' / name).stat().st_size // 1024} KiB")
            b.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
