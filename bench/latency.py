"""Slider move -> page redrawn, in Chromium, for every page, against a minimal Streamlit app measured in the same run.

    PYTHONPATH=. .venv/bin/python -m bench.latency            # all pages, 8 moves each after 2 warm-up moves
    PYTHONPATH=. .venv/bin/python -m bench.latency --repeat 3 # three rounds: the spread
    PYTHONPATH=. .venv/bin/python -m bench.latency --decompose # also each page without charts, and without tables
    PYTHONPATH=. .venv/bin/python -m bench.latency --drags-only --repeat 3  # the live number line's drag vs the slider

A move is a key press on the page's slider (ArrowLeft/ArrowRight alternately, so the view flips between two
states). The time runs in the page, from just before the key press to the last DOM change of the redraw, once
Streamlit reports it is no longer running and nothing has changed for QUIET_MS. The minimal app (one slider, one
metric) is the floor: what Streamlit itself costs for a round trip and a redraw on this machine. Two more floors are
measured in the same run: the minimal app with one small chart, and the minimal app with QuantViz's shared sidebar
controls (what every page carries before its own content).

Beside the time: the largest share of the page's elements Streamlit showed faded (stale) at any frame of a move, and a
continuous drag of the range slider (release -> settled, how often the scale readout changed, whether the view after
it is the one the final range gives). The landing page and Number line have no range slider: their range is dragged
on the live number line (``quantviz/app/live``), measured by ``live_drag`` in the same run as the slider's drag.
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
from typing import NamedTuple

from deploy.course import free_port
from quantviz.app.pages import PAGES as REGISTRY
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT

QUIET_MS = 400
MINIMAL_APP = """
import streamlit as st
bits = st.slider("Bit width", 2, 16, 8)
st.metric("levels", 2 ** bits)
"""
# The second floor: the same, plus the smallest chart that changes with the slider (one plotly line of 16 points).
# Most pages draw charts; this is what Streamlit and plotly cost for a chart redraw before any of ours.
MINIMAL_CHART_APP = (
    MINIMAL_APP
    + """
import plotly.graph_objects as go
fig = go.Figure(go.Scatter(x=list(range(16)), y=[(i * bits) % 16 for i in range(16)], mode="lines+markers"))
fig.update_layout(title=f"{bits} bits", height=380)
st.plotly_chart(fig, key="chart")
"""
)
# The third floor: the shared sidebar controls every page draws (convention, range, bits, grid options, rounding),
# and one metric. What a page costs above this is its own content.
CONTROLS_APP = """
import streamlit as st
from quantviz.app.widgets import ALL_CONTROLS, quant_controls
settings = quant_controls(show=ALL_CONTROLS)
st.metric("levels", 2 ** settings.bits)
"""
# A page run on its own, with its charts (and tables) replaced by nothing: what is left is the rest of its content.
WITHOUT = """
import quantviz.app.widgets as widgets
if {charts}:
    widgets.show_figure = lambda *args, **kwargs: None
if {tables}:
    widgets.show_table = lambda *args, **kwargs: None
exec(compile(open({page!r}).read(), {page!r}, "exec"))
"""
# The slider each page is moved by: the shared bit width where the page shows it, else the page's own.
PAGES = {page.path: page.bench_slider for page in REGISTRY}
# The data grid paints on a canvas at once, then mirrors its cells into a hidden accessibility table a few hundred
# milliseconds later; those mirror updates are not part of what a reader sees, so they do not count.
INSTALL = """() => {
  window.__qvLast = performance.now();
  const mirror = (n) => {
    const e = n.nodeType === 1 ? n : n.parentElement;
    return !!(e && e.closest('[data-testid="data-grid-canvas"]'));
  };
  new MutationObserver((ms) => { if (ms.some((m) => !mirror(m.target))) window.__qvLast = performance.now(); })
    .observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  // Each frame: the share of the page's visible elements drawn faded (Streamlit marks elements of a running script
  // stale and fades them); the largest share seen since the last reset.
  window.__qvFaded = 0;
  cancelAnimationFrame(window.__qvFrame || 0);
  const frame = () => {
    // visible ones only: the content of a folded expander is there but unseen
    const all = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stElementContainer"]')]
      .filter((e) => e.checkVisibility());
    let faded = 0;
    all.forEach((e) => {
      if (e.getAttribute('data-stale') === 'true' && parseFloat(getComputedStyle(e).opacity) < 0.9) faded += 1;
    });
    window.__qvFaded = Math.max(window.__qvFaded, faded / Math.max(1, all.length));
    window.__qvFrame = requestAnimationFrame(frame);
  };
  frame();
}"""
RUNNING = (
    "() => { const s = document.querySelector('[data-testid=\"stStatusWidget\"]'); "
    "return !!s && s.innerText.includes('Running'); }"
)


class Served:
    """`streamlit run` of a script on a free loopback port, stopped on exit."""

    def __init__(self, script: Path, cwd: Path) -> None:
        self.script, self.cwd = script, cwd

    def __enter__(self) -> str:
        import socket

        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(self.script),
                "--server.headless",
                "true",
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
                "--runner.postScriptGC",
                "false",
            ],
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
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


def open_settled(page, url: str, wait: str = "h1") -> None:
    """Open ``url``, wait for ``wait`` to appear, install the in-page clocks and wait until the page is quiet."""
    page.goto(url)
    page.wait_for_selector(wait, timeout=60_000)
    page.evaluate(INSTALL)
    wait_redrawn(page, 60)


def moves(page, label: str, count: int, warmup: int) -> tuple[list[float], float]:
    """Press the slider's arrows count + warmup times; return the in-page milliseconds of the last count and the
    largest share of the page's elements shown faded during them."""
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
        if i + 1 == warmup:
            page.evaluate("() => { window.__qvFaded = 0; }")
        if i >= warmup:
            times.append(elapsed)
    return times, page.evaluate("() => window.__qvFaded")


DRAG_STEPS, DRAG_STEP_S = 60, 0.025  # 1 px every 25 ms: a 1.5 s continuous drag
# Counts changes of the scale readout during and after a drag: one per rerun that reached the page.
COUNT_REDRAWS = """() => { window.__qvRedraws = 0;
  const box = [...document.querySelectorAll('[data-testid="stMetric"]')].find((m) => m.innerText.includes('scale s'));
  if (!box) return;
  new MutationObserver(() => { window.__qvRedraws += 1; })
    .observe(box.querySelector('[data-testid="stMetricValue"]'), {subtree: true, childList: true, characterData: true});
}"""


def drag(page) -> dict:
    """Drag the range slider's lower thumb continuously for DRAG_STEPS * DRAG_STEP_S seconds, then release.

    Return release -> settled (ms), how often the scale readout changed (during the drag and after it), and whether
    the view after it is the one the final range gives (the readout equals quantviz's scale for the rmin and rmax
    boxes).
    """
    import quantviz as qv
    from quantviz.teach.fmt import fmt

    page.evaluate(INSTALL)
    page.evaluate(COUNT_REDRAWS)
    slider = page.locator("[data-testid='stSlider']").filter(has_text="Real range").first
    thumb = slider.get_by_role("slider").first.locator("xpath=../..")  # the visible thumb around the hidden input
    thumb.scroll_into_view_if_needed()
    wait_redrawn(page)
    box = thumb.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, DRAG_STEPS + 1):
        page.mouse.move(x + step, y)
        time.sleep(DRAG_STEP_S)
    page.evaluate(
        "() => { window.__qvStart = performance.now(); window.__qvLast = window.__qvStart; window.__qvFaded = 0; }"
    )
    page.mouse.up()
    wait_redrawn(page)
    settled = page.evaluate("() => window.__qvLast - window.__qvStart")
    rmin = float(page.get_by_role("spinbutton", name="rmin", exact=True).input_value())
    rmax = float(page.get_by_role("spinbutton", name="rmax", exact=True).input_value())
    shown = (
        page.locator("[data-testid='stMetric']")
        .filter(has_text="scale s")
        .first.locator("[data-testid='stMetricValue']")
        .inner_text()
        .strip()
    )
    return {
        "release → settled (ms)": round(settled),
        "readout redraws": page.evaluate("() => window.__qvRedraws"),
        "final view right": shown == fmt(qv.choose_qparams(rmin, rmax).scale, 8),
        "rmin after": rmin,
    }


LIVE_DRAG_S, LIVE_STEP_S = 2.0, 0.016  # the live number line: a pointer event every 16 ms for 2 s
# In the component: clear its timings, count its pointer moves and the changes of its scale readout.
LIVE_INSTALL = """(root) => {
  performance.clearMeasures("qv-live-update"); window.__qvMoves = 0; window.__qvReadouts = 0;
  root.querySelector("svg").addEventListener("pointermove", () => {
    if (root.classList.contains("qv-dragging")) window.__qvMoves += 1;
  });
  new MutationObserver(() => { window.__qvReadouts += 1; })
    .observe(root.querySelector("[data-readout='scale']"), {subtree: true, childList: true, characterData: true}); }"""


def live_drag(page) -> dict:
    """Drag the live number line's rmax end for LIVE_DRAG_S (a pointer event every LIVE_STEP_S), then release.

    Return the median and worst ``qv-live-update`` (the component's own work per move), how many moves changed the
    scale readout, the page reruns (changes of the page's scale metric) during the drag and after the release, the
    releases the component sent, and release -> settled (ms).
    """
    page.evaluate(INSTALL)
    page.evaluate(COUNT_REDRAWS)
    root = page.locator(".qv-live").first
    knob = root.locator(".qv-rmax .qv-knob")
    knob.scroll_into_view_if_needed()
    wait_redrawn(page)
    root.evaluate(LIVE_INSTALL)
    box = knob.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    steps = round(LIVE_DRAG_S / LIVE_STEP_S)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        page.mouse.move(x - 2 * step, y)
        time.sleep(max(0.0, start + step * LIVE_STEP_S - time.perf_counter()))
    during = page.evaluate("() => window.__qvRedraws")
    updates = page.evaluate("() => performance.getEntriesByName('qv-live-update').map((e) => e.duration)")
    moves, readouts = page.evaluate("() => [window.__qvMoves, window.__qvReadouts]")
    page.evaluate("() => { window.__qvStart = performance.now(); window.__qvLast = window.__qvStart; }")
    page.mouse.up()
    wait_redrawn(page)
    settled = page.evaluate("() => window.__qvLast - window.__qvStart")
    return {
        "moves": moves,
        "qv-live-update median (ms)": round(statistics.median(updates), 2),
        "qv-live-update worst (ms)": round(max(updates), 2),
        "readout changed on moves": f"{readouts}/{moves}",
        "reruns while dragging": during,
        "reruns after release": page.evaluate("() => window.__qvRedraws") - during,
        "releases sent": int(root.get_attribute("data-releases") or 0),
        "release → settled (ms)": round(settled),
    }


# The three floors every page is measured against: key, row name, the app, what shows it is drawn.
FLOORS = (
    ("minimal", "minimal app", MINIMAL_APP, "[data-testid='stSlider']"),
    ("one chart", "minimal app with one chart", MINIMAL_CHART_APP, ".js-plotly-plot .main-svg"),
    ("controls", "minimal app with the shared controls", CONTROLS_APP, "[data-testid='stSlider']"),
)


class _Run(NamedTuple):
    """One measuring run: the browser tab, a folder for generated apps, the moves per page, the floors so far."""

    page: object
    tmp: str
    count: int
    warmup: int
    floors: dict[str, float]


def _row(run: _Run, name: str, times: list[float], faded: float) -> dict:
    """A page's row: median and spread of its moves, the ratio to each floor, the largest faded share (printed)."""
    median = statistics.median(times)
    out = {"page": name, "median (ms)": round(median), "min–max (ms)": f"{min(times):.0f}–{max(times):.0f}"}
    out.update({f"× {floor}": round(median / value, 2) for floor, value in run.floors.items()})
    out["most faded"] = f"{faded:.0%}"
    print(out, flush=True)
    return out


def _alone(run: _Run, name: str, source: str, wait: str) -> tuple[list[float], float]:
    """Serve ``source`` as an app of its own and move its bit width slider."""
    script = Path(run.tmp) / f"{name}.py"
    script.write_text(source)
    with Served(script, ROOT) as url:
        open_settled(run.page, url, wait)
        return moves(run.page, "Bit width", run.count, run.warmup)


def _floor_rows(run: _Run) -> list[dict]:
    """Measure the three floors (all of them first, so that each floor's row has its ratio to every floor)."""
    measured = []
    for key, name, source, wait in FLOORS:
        times, faded = _alone(run, key.replace(" ", "_"), source, wait)
        run.floors[key] = statistics.median(times)
        measured.append((name, times, faded))
    return [_row(run, *floor) for floor in measured]


def _drag_rows(page, url: str, drags: tuple[str, ...], live_drags: tuple[str, ...]) -> list[dict]:
    """One row per continuous drag: the range slider of each page in ``drags``, the live number line of the others."""
    rows = []
    for path in drags:
        open_settled(page, f"{url}/{path}")
        rows.append({"page": f"{path or 'zero_point'}: range slider dragged 1.5 s", **drag(page)})
        print(rows[-1], flush=True)
    for path in live_drags:
        open_settled(page, f"{url}/{path}", ".qv-live")
        rows.append({"page": f"{path or 'zero_point'}: live number line dragged 2 s", **live_drag(page)})
        print(rows[-1], flush=True)
    return rows


def _decomposed_rows(run: _Run, pages: dict[str, str | None]) -> list[dict]:
    """Each page moved by the shared bit width, run alone: as it is, without its charts, without charts or tables."""
    rows = []
    for path, label in pages.items():
        if label != "Bit width":  # a page alone is moved by the shared bit width
            continue
        name = path or "zero_point"
        source = ROOT / "app_pages" / f"{name}.py"
        for what, charts, tables in (
            ("alone", False, False),
            ("alone, no charts", True, False),
            ("alone, no charts or tables", True, True),
        ):
            script = WITHOUT.format(charts=charts, tables=tables, page=str(source))
            times, faded = _alone(run, f"{name}_{charts}_{tables}", script, "h1")
            rows.append(_row(run, f"{name} ({what})", times, faded))
    return rows


def measure(
    count: int = 8,
    warmup: int = 2,
    pages: dict[str, str | None] | None = None,
    *,
    decompose: bool = False,
    drags: tuple[str, ...] = ("fake_quant",),
    live_drags: tuple[str, ...] = ("", "number_line"),
) -> list[dict]:
    """Return one row per page: median and spread of a slider move, its ratio to the three floors, and the largest
    share of elements shown faded; with ``decompose``, also the page run alone, without its charts, and without
    charts and tables; then one row per page in ``drags`` for a continuous drag of the range slider.
    """
    from playwright.sync_api import sync_playwright

    pages = PAGES if pages is None else pages
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        run = _Run(page=page, tmp=tmp, count=count, warmup=warmup, floors={})
        rows = _floor_rows(run) if pages else []
        with Served(ROOT / "app.py", ROOT) as url:
            for path, label in pages.items():
                if label is None:
                    continue
                open_settled(page, f"{url}/{path}")
                rows.append(_row(run, path or "zero_point", *moves(page, label, count, warmup)))
            drag_rows = _drag_rows(page, url, drags, live_drags)
        if decompose:
            rows += _decomposed_rows(run, pages)
        browser.close()
    return rows + drag_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--pages", nargs="*", help="page paths ('' is the landing page)")
    parser.add_argument(
        "--decompose", action="store_true", help="also each page alone, without charts, without charts and tables"
    )
    parser.add_argument(
        "--drags-only", action="store_true", help="only the drags: the old range slider and the live line"
    )
    args = parser.parse_args()
    chosen = {p: PAGES[p] for p in args.pages} if args.pages is not None else None
    if args.drags_only:
        chosen = {}
    rounds = [measure(pages=chosen, decompose=args.decompose) for _ in range(args.repeat)]
    print(json.dumps(rounds, indent=1))


if __name__ == "__main__":
    main()
