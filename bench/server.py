"""End-to-end figures against a real `streamlit run` server driven by Chromium.

- memory: the server's peak resident memory (VmHWM) with one session holding an uploaded 10-million-value tensor,
  and the time for the page to answer a slider move with it loaded;
- load: N concurrent sessions (browser tabs) each moving the bit-width slider for a bounded time;
  response time is keypress -> new scale shown.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import quantviz as qv
from bench.latency import Served
from bench.protocol import Tab
from quantviz.teach.fmt import fmt
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT


def _vm(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far, from /proc (fields 14 and 15, in clock ticks)."""
    import os

    # the command name (field 2) may hold spaces; the fields after its closing parenthesis do not
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server(Served):
    """The app on a free loopback port; ``url`` and ``proc`` once entered."""

    def __init__(self) -> None:
        super().__init__(ROOT / "app.py", ROOT)

    def __enter__(self):
        self.url = super().__enter__()
        return self


JS_SCALE = (
    "() => [...document.querySelectorAll('[data-testid=stMetric]')].find(m => m.innerText.startsWith('scale s'))"
    "?.querySelector('[data-testid=stMetricValue]')?.innerText"
)


async def _move_bits(page, direction: str, timeout: float = 60) -> float:
    """Press an arrow on the bit-width slider; return seconds until the shown scale changes."""
    before = await page.evaluate(JS_SCALE)
    thumb = page.locator("[data-testid='stSlider']").filter(has_text="Bit width").get_by_role("slider")
    start = time.perf_counter()
    await thumb.press(direction)
    await page.wait_for_function(f"(b) => ({JS_SCALE})() !== b", arg=before, timeout=timeout * 1000)
    return time.perf_counter() - start


async def memory_and_big_input(values: int = 10_000_000) -> dict:
    from playwright.async_api import async_playwright

    with Server() as server, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tensor.npy"
        np.save(path, np.random.default_rng(0).normal(size=values).astype(np.float32) * 300)
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{server.url}/your_values")
            await page.wait_for_selector("h1")
            await page.wait_for_function(f"({JS_SCALE})() !== undefined", timeout=60_000)
            baseline = _vm(server.proc.pid, "VmRSS")
            start = time.perf_counter()
            await page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
            await page.wait_for_function(f"document.body.innerText.includes('{values:,} values from')", timeout=300_000)
            first = time.perf_counter() - start
            moves = []
            thumb = page.locator("[data-testid='stSlider']").filter(has_text="Bit width").get_by_role("slider")
            for key, levels in (("ArrowLeft", 128), ("ArrowRight", 256)) * 3:
                # done when the last metric (computed from all 10M codes) shows the new grid
                start = time.perf_counter()
                await thumb.press(key)
                await page.wait_for_function(f"document.body.innerText.includes('of {levels}')", timeout=120_000)
                moves.append(time.perf_counter() - start)
            peak = _vm(server.proc.pid, "VmHWM")
            await browser.close()
    return {
        "values": values,
        "upload to first result (s)": round(first, 2),
        "slider move with it loaded, median (s)": round(statistics.median(moves), 2),
        "server RSS before upload (MB)": round(baseline / 2**20),
        "server peak RSS (MB)": round(peak / 2**20),
    }


SCALES = {b: fmt(qv.choose_qparams(-1000, 1000, bits=b).scale, 8) for b in (7, 8)}


async def load(sessions: int = 30, seconds: float = 60.0, think: float = 1.0) -> dict:
    """sessions users on the landing page, each moving the bit-width slider as fast as the app answers."""
    with Server() as server:
        latencies: list[float] = []
        errors: list[str] = []

        async def user(index: int) -> None:
            try:
                session = Tab(server.url)
                await session.connect()
                try:
                    await session.rerun(timeout=120)
                    deadline = time.perf_counter() + seconds
                    i = 0
                    while time.perf_counter() < deadline:
                        bits = 7 if i % 2 == 0 else 8
                        latencies.append(await session.set_bits(bits))
                        if session.metrics.get("scale s") != SCALES[bits]:  # the answer must be the right one
                            errors.append(f"wrong scale {session.metrics.get('scale s')} for {bits} bits")
                        i += 1
                        await asyncio.sleep(think)  # a person looks at the result before moving again
                finally:
                    await session.ws.close()
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

        cpu_before, driver_before = _cpu_seconds(server.proc.pid), time.process_time()
        await asyncio.gather(*(user(i) for i in range(sessions)))
        # every rerun counted: each session's first page load as well as its slider moves
        reruns = max(1, len(latencies) + sessions)
        cpu_per_rerun = (_cpu_seconds(server.proc.pid) - cpu_before) / reruns
        # the simulated browsers share the machine's two cores with the server: their cost is reported beside it
        driver_per_rerun = (time.process_time() - driver_before) / reruns
        peak = _vm(server.proc.pid, "VmHWM")
    lat = np.array(latencies)
    return {
        "sessions": sessions,
        "seconds": seconds,
        "think time (s)": think,
        "slider moves answered": int(lat.size),
        "errors": len(errors),
        "p50 (s)": round(float(np.percentile(lat, 50)), 3) if lat.size else None,
        "p95 (s)": round(float(np.percentile(lat, 95)), 3) if lat.size else None,
        "server CPU per rerun (ms)": round(cpu_per_rerun * 1000, 1),
        "load driver CPU per rerun (ms)": round(driver_per_rerun * 1000, 1),
        "server peak RSS (MB)": round(peak / 2**20),
        "first errors": errors[:3],
    }


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    if which in ("memory", "all"):
        print(asyncio.run(memory_and_big_input()))
    if which in ("load", "all"):
        print(asyncio.run(load()))
