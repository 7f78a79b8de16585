"""Slider move -> page redrawn, in Chromium, for every page, against a minimal Streamlit app measured in the same run.

    PYTHONPATH=. .venv/bin/python -m bench.latency            # all pages, 8 moves each after 2 warm-up moves
    PYTHONPATH=. .venv/bin/python -m bench.latency --repeat 3 # three rounds: the spread

A move is a key press on the page's slider (ArrowLeft/ArrowRight alternately, so the view flips between two
states). The time runs in the page, from just before the key press to the last DOM change of the redraw, once
Streamlit reports it is no longer running and nothing has changed for QUIET_MS. The minimal app (one slider, one
metric) is the floor: what Streamlit itself costs for a round trip and a redraw on this machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deploy.course import free_port
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT

QUIET_MS = 400
MINIMAL_APP = '''
import streamlit as st
bits = st.slider("Bit width", 2, 16, 8)
st.metric("levels", 2 ** bits)
'''
# The second floor: the same, plus the smallest chart that changes with the slider (one plotly line of 16 points).
# Most pages draw charts; this is what Streamlit and plotly cost for a chart redraw before any of ours.
MINIMAL_CHART_APP = MINIMAL_APP + '''
import plotly.graph_objects as go
fig = go.Figure(go.Scatter(x=list(range(16)), y=[(i * bits) % 16 for i in range(16)], mode="lines+markers"))
fig.update_layout(title=f"{bits} bits", height=380)
st.plotly_chart(fig, key="chart")
'''
# The slider each page is moved by: the shared bit width where the page shows it, else the page's own.
PAGES = {
    "": "Bit width", "number_line": "Bit width", "rounding_error": "Bit width", "worked_examples": None,
    "your_values": "Bit width", "frameworks": "Bit width", "calibration": "Bit width", "per_channel": "Bit width",
    "integer_arithmetic": "Input zero point", "low_bit": None, "fake_quant": "Bit width", "exercises": None,
    "glossary": None,
}
# The data grid paints on a canvas at once, then mirrors its cells into a hidden accessibility table a few hundred
# milliseconds later; those mirror updates are not part of what a reader sees, so they do not count.
INSTALL = """() => {
  window.__qvLast = performance.now();
  const mirror = (n) => { const e = n.nodeType === 1 ? n : n.parentElement; return !!(e && e.closest('[data-testid="data-grid-canvas"]')); };
  new MutationObserver((ms) => { if (ms.some((m) => !mirror(m.target))) window.__qvLast = performance.now(); })
    .observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
}"""
RUNNING = "() => { const s = document.querySelector('[data-testid=\"stStatusWidget\"]'); return !!s && s.innerText.includes('Running'); }"


class Served:
    """`streamlit run` of a script on a free loopback port, stopped on exit."""

    def __init__(self, script: Path, cwd: Path) -> None:
        self.script, self.cwd = script, cwd

    def __enter__(self) -> str:
        import socket

        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(self.script), "--server.headless", "true", "--server.port",
             str(self.port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", "--runner.postScriptGC", "false"],
            cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def wait_redrawn(page, timeout: float = 30.0) -> None:
    """Wait until Streamlit is not running and the DOM has been quiet for QUIET_MS."""
    deadline = time.time() + timeout
    time.sleep(0.05)
    while time.time() < deadline:
        running, quiet = page.evaluate(f"() => [({RUNNING})(), performance.now() - window.__qvLast]")
        if not running and quiet > QUIET_MS:
            return
        time.sleep(0.03)
    raise TimeoutError("the page did not settle")


def moves(page, label: str, count: int, warmup: int) -> list[float]:
    """Press the slider's arrows count + warmup times; return the in-page milliseconds of the last count."""
    page.evaluate(INSTALL)
    thumb = page.locator("[data-testid='stSlider']").filter(has_text=label).first.get_by_role("slider")
    thumb.scroll_into_view_if_needed()
    wait_redrawn(page)
    times = []
    for i in range(count + warmup):
        page.evaluate("() => { window.__qvStart = performance.now(); window.__qvLast = window.__qvStart; }")
        thumb.press("ArrowLeft" if i % 2 == 0 else "ArrowRight")
        wait_redrawn(page)
        elapsed = page.evaluate("() => window.__qvLast - window.__qvStart")
        if i >= warmup:
            times.append(elapsed)
    return times


def measure(count: int = 8, warmup: int = 2, pages: dict[str, str | None] | None = None) -> list[dict]:
    """Return one row per page: median and spread of a slider move, and its ratio to the minimal app's median."""
    from playwright.sync_api import sync_playwright

    pages = PAGES if pages is None else pages
    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        minimal = Path(tmp) / "minimal.py"
        minimal.write_text(MINIMAL_APP)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        with Served(minimal, Path(tmp)) as url:
            page.goto(url)
            page.wait_for_selector("[data-testid='stSlider']")
            floor = moves(page, "Bit width", count, warmup)
        base = statistics.median(floor)
        rows.append({"page": "minimal app", "median (ms)": round(base), "min–max (ms)": f"{min(floor):.0f}–{max(floor):.0f}",
                     "× minimal": 1.0, "× minimal with chart": ""})
        chart_app = Path(tmp) / "minimal_chart.py"
        chart_app.write_text(MINIMAL_CHART_APP)
        with Served(chart_app, Path(tmp)) as url:
            page.goto(url)
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
            chart_times = moves(page, "Bit width", count, warmup)
        chart_floor = statistics.median(chart_times)
        rows.append({"page": "minimal app with one chart", "median (ms)": round(chart_floor),
                     "min–max (ms)": f"{min(chart_times):.0f}–{max(chart_times):.0f}",
                     "× minimal": round(chart_floor / base, 2), "× minimal with chart": 1.0})
        with Served(ROOT / "app.py", ROOT) as url:
            for path, label in pages.items():
                if label is None:
                    continue
                page.goto(f"{url}/{path}")
                page.wait_for_selector("h1", timeout=60_000)
                page.evaluate(INSTALL)
                wait_redrawn(page, 60)
                times = moves(page, label, count, warmup)
                rows.append({"page": path or "zero_point", "median (ms)": round(statistics.median(times)),
                             "min–max (ms)": f"{min(times):.0f}–{max(times):.0f}",
                             "× minimal": round(statistics.median(times) / base, 2),
                             "× minimal with chart": round(statistics.median(times) / chart_floor, 2)})
                print(rows[-1], flush=True)
        browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--pages", nargs="*", help="page paths ('' is the landing page)")
    args = parser.parse_args()
    chosen = {p: PAGES[p] for p in args.pages} if args.pages is not None else None
    rounds = [measure(pages=chosen) for _ in range(args.repeat)]
    print(json.dumps(rounds, indent=1))


if __name__ == "__main__":
    main()
