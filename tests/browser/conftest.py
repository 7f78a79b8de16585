"""Real-browser fixtures: a `streamlit run` server on a free port and Debian's Chromium via playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.course import free_port, stop, warm_up

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Screenshots are written only when asked for (`make screenshots`, or QUANTVIZ_SCREENSHOTS=<dir> on any run): every
# rendering check runs either way, but growing the viewport to the page's height and saving a PNG costs ~1.5 s a page.
SHOTS = Path(os.environ["QUANTVIZ_SCREENSHOTS"]) if os.environ.get("QUANTVIZ_SCREENSHOTS") else None

playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: `make test` installs Debian's chromium", allow_module_level=True)


def _start_streamlit(port: int, log) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_listening(proc: subprocess.Popen, port: int, seconds: float = 60) -> bool:
    """True once the server accepts connections; False if it exited first (e.g. another process took the port)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return True
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not start within {seconds:.0f} s")


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """Start `streamlit run app.py` on a free localhost port; stop it afterwards, also on failure.

    One server per pytest-xdist worker (PYTEST_XDIST_WORKER, unset without xdist), each with its own log. A free port
    can be taken by someone else between the probe and streamlit's bind: then streamlit exits and we try another.
    """
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = f"streamlit-{worker}.log" if worker else "streamlit.log"
    log = open(ROOT / "test-artifacts" / name, "w")  # noqa: SIM115 - closed in finally
    proc = None
    try:
        for _attempt in range(3):
            port = free_port()
            proc = _start_streamlit(port, log)
            if _wait_listening(proc, port):
                break
        else:
            raise RuntimeError(f"streamlit exited with {proc.returncode}; see test-artifacts/{name}")
        url = f"http://127.0.0.1:{port}"
        warm_up(url, timeout=120)  # the first run imports numpy, plotly and quantviz: not inside a test's 30 s wait
        yield url
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Session:
    """A browser tab on the app, recording console errors."""

    def __init__(self, page, base: str) -> None:
        self.page = page
        self.base = base
        self.console_errors: list[str] = []
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.console_errors.append(str(e)))

    def open(self, path: str = "", wait_charts: int = 0) -> None:
        self.page.goto(f"{self.base}/{path}")
        self.wait_idle()
        if wait_charts:
            self.page.wait_for_function(
                f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {wait_charts}", timeout=30_000
            )

    def wait_idle(self) -> None:
        """Wait until the script has finished running (no running indicator, app rendered)."""
        self.page.wait_for_selector("[data-testid='stAppViewContainer']", timeout=30_000)
        self.page.wait_for_selector("h1", timeout=30_000)
        time.sleep(0.3)
        self.page.wait_for_function(
            "!document.querySelector('[data-testid=\"stStatusWidget\"]') || "
            "!document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
            timeout=30_000,
        )
        time.sleep(0.4)

    def paste(self, text: str) -> None:
        """Type text into the Values box and submit it (Ctrl+Enter), as a user pasting would."""
        area = self.page.get_by_role("textbox", name="Values")
        area.fill(text)
        area.press("Control+Enter")
        self.wait_idle()

    def metric(self, label: str) -> str:
        box = self.page.locator("[data-testid='stMetric']").filter(has_text=label).first
        return box.locator("[data-testid='stMetricValue']").inner_text().strip()

    def exceptions(self) -> int:
        return self.page.locator("[data-testid='stException']").count()

    def shot(self, name: str) -> Path | None:
        """Save the whole page at this width: Streamlit scrolls inside its main block, so grow the viewport.

        Returns the PNG's path, or None (nothing saved) when QUANTVIZ_SCREENSHOTS is not set.
        """
        if SHOTS is None:
            return None
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        size = self.page.viewport_size
        height = self.page.evaluate(
            "Math.max(...[...document.querySelectorAll("
            '\'[data-testid="stMain"], [data-testid="stMainBlockContainer"]\')]'
            ".map(e => e.scrollHeight), 0)"
        )
        tall = max(size["height"], min(int(height) + 40, 6000))
        self.page.set_viewport_size({"width": size["width"], "height": tall})
        time.sleep(1.0)  # let plotly re-layout at the new size
        content = self.page.evaluate(
            "document.querySelector('[data-testid=\"stMainBlockContainer\"]').getBoundingClientRect().bottom"
        )
        self.page.screenshot(
            path=str(path),
            clip={"x": 0, "y": 0, "width": size["width"], "height": min(tall, max(size["height"], int(content) + 40))},
        )
        self.page.set_viewport_size(size)
        return path


def _ignorable(message: str) -> bool:
    # Chromium cannot reach the network here; those failures are not the app's.
    return any(s in message for s in ("net::ERR_", "Failed to load resource", "favicon"))


@pytest.fixture()
def tab(browser, server) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    session = Session(context.new_page(), server)
    yield session
    errors = [e for e in session.console_errors if not _ignorable(e)]
    context.close()
    assert not errors, errors


@pytest.fixture()
def make_tab(browser, server):
    """Open tabs with other viewports or colour schemes."""
    contexts = []

    def _make(width: int, height: int, **options) -> Session:
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        return Session(context.new_page(), server)

    yield _make
    for c in contexts:
        c.close()
