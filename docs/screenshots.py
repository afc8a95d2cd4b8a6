"""Screenshots of the explorer page (/ui) of a running ``graphrec serve``, one per user.

For each user the page is opened at ``/ui/?user=ID``, the first recommendation's
explanation is opened, and the viewport is saved as a small PNG (quantised to a
palette). Also prints the page's first contentful paint and when the
recommendations were shown, as Chromium measured them. Uses Debian's Chromium
through Playwright (no browser download)::

    python docs/screenshots.py --url http://127.0.0.1:8000 --users u0 u1 --out docs
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def shrink(path: Path, colours: int = 96) -> None:
    """Quantise the PNG to a palette (a screenshot of flat UI keeps its look at ~1/3 size)."""
    from PIL import Image

    with Image.open(path) as image:
        image.convert("RGB").quantize(colours, method=Image.Quantize.MEDIANCUT).save(
            path, optimize=True
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the API's base URL")
    parser.add_argument("--users", nargs="+", required=True, help="user ids, one PNG each")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="folder for the PNGs")
    parser.add_argument("--key", help="API key, when reads are locked")
    parser.add_argument("--width", type=int, default=1360)
    parser.add_argument("--height", type=int, default=860)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    timings = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=args.chromium, headless=True, args=ARGS
        )
        for user in args.users:
            context = browser.new_context(viewport={"width": args.width, "height": args.height})
            if args.key:
                context.add_init_script(
                    f"sessionStorage.setItem('graphrec.apiKey', {json.dumps(args.key)})"
                )
            page = context.new_page()
            page.goto(f"{args.url}/ui/?user={user}")
            page.wait_for_selector("#recommendations[data-state='ready']", timeout=60_000)
            page.wait_for_selector("#model-panel[data-state='ready']", timeout=60_000)
            timings[user] = page.evaluate(
                """() => ({
                    first_contentful_paint_ms: performance.getEntriesByName(
                        'first-contentful-paint')[0]?.startTime,
                    recommendations_shown_ms: performance.getEntriesByName(
                        'graphrec:recommendations')[0]?.startTime,
                })"""
            )
            page.locator("#rec-list .why").first.click()
            page.wait_for_selector(
                "#why[data-state='ready'], #why[data-state='empty']", timeout=60_000
            )
            page.wait_for_timeout(300)  # let the spinner-free layout settle
            path = args.out / f"explorer-{user}.png"
            page.screenshot(path=str(path))
            shrink(path)
            print(f"{path}  ({path.stat().st_size // 1024} KiB)")
            context.close()
        browser.close()
    print(json.dumps(timings, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
