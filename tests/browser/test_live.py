"""The live number line in a real browser: exact (window.quantvizLive equals quantviz), and live while dragging."""

from __future__ import annotations

import json
import time

import pytest

import quantviz as qv
from tests.browser.conftest import Session, _ignorable
from tests.live_cases import live_cases, typed_cases

pytestmark = pytest.mark.browser

CASES_PER_CONVENTION = 2000

# One page.evaluate for all of a convention's cases: choose, then quantize each probe; return every difference.
COMPARE = """(text) => {
  const cases = JSON.parse(text);  // one string crosses to the page much faster than 2000 objects
  const live = window.quantvizLive;
  const bad = [];
  for (const c of cases) {
    const got = live.choose(c);
    if (c.error) { if (!got.error) bad.push({case: c, got}); continue; }
    if (got.error) { bad.push({case: c, got}); continue; }
    const keys = Object.keys(c.expect);
    if (keys.some((k) => got[k] !== c.expect[k])) { bad.push({case: c, got}); continue; }
    const params = {...got, convention: c.convention, rounding: c.rounding, z_first: c.z_first};
    const codes = c.xs.map((x) => live.quantize(x, params));
    if (codes.some((q, i) => q !== c.codes[i])) bad.push({case: c, got: codes});
  }
  return {count: cases.length, bad: bad.slice(0, 5), wrong: bad.length};
}"""


@pytest.fixture(scope="module")
def live(browser, server):
    """One tab on Number line for the whole module (a page load costs seconds on a shared machine): the tests
    below read the state they start from instead of assuming the defaults."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    session = Session(context.new_page(), server)
    session.open("number_line")
    session.page.wait_for_function("typeof window.quantvizLive === 'object'", timeout=30_000)
    session.page.locator(".qv-live .qv-rmax").first.wait_for(timeout=30_000)
    yield session
    errors = [e for e in session.console_errors if not _ignorable(e)]
    context.close()
    assert not errors, errors


def test_browser_arithmetic_equals_quantviz_for_every_convention(live) -> None:
    # One page holds every convention's rules: choose() takes the convention, as the contract says.
    results = {}
    for convention in qv.CONVENTIONS:
        cases = live_cases(convention, CASES_PER_CONVENTION)
        assert sum(not c["error"] for c in cases) > CASES_PER_CONVENTION // 2
        results[convention] = live.page.evaluate(COMPARE, json.dumps(cases))
    assert {c: r["count"] for c, r in results.items()} == dict.fromkeys(qv.CONVENTIONS, CASES_PER_CONVENTION)
    assert {c: r["wrong"] for c, r in results.items()} == dict.fromkeys(qv.CONVENTIONS, 0), {
        c: r["bad"] for c, r in results.items() if r["wrong"]
    }


TYPED = """(text) => JSON.parse(text)
  .filter((c) => c.xs.some((x, i) => window.quantvizLive.quantize(x, c.params) !== c.codes[i]))"""


def test_a_tie_stays_a_tie_in_the_browser(live) -> None:
    # [−1.1, 1.1]: 0 − (−1.1)·255/2.2 is exactly 127.5; float64 makes it 127.49999999999999 (the exact ratio: 128)
    args = {
        "rmin": -1.1,
        "rmax": 1.1,
        "bits": 8,
        "signed": False,
        "symmetric": False,
        "narrow_range": False,
        "reduce_range": False,
        "convention": "textbook",
    }
    got = live.page.evaluate("(a) => window.quantvizLive.choose(a)", args)
    assert got["zero_point"] == qv.choose_qparams(-1.1, 1.1).zero_point == 128


def test_browser_quantizes_typed_s_and_z_as_quantviz(live) -> None:
    for convention in qv.CONVENTIONS:
        assert live.page.evaluate(TYPED, json.dumps(typed_cases(convention, 300))) == [], convention


def _readout(tab, name: str) -> str:
    return tab.page.locator(f".qv-live [data-readout='{name}']").first.inner_text().strip()


def _range(tab) -> tuple[float, float]:
    return tuple(float(tab.page.get_by_role("spinbutton", name=n, exact=True).input_value()) for n in ("rmin", "rmax"))


COUNT_RERUNS = """() => { window.__qvReruns = 0; const box = [...document.querySelectorAll('[data-testid="stMetric"]')]
  .find((m) => m.innerText.includes('scale s'));
  new MutationObserver(() => { window.__qvReruns += 1; })
    .observe(box.querySelector('[data-testid="stMetricValue"]'),
             {subtree: true, childList: true, characterData: true}); }"""


def test_drag_moves_the_figure_every_move_and_reruns_once(live) -> None:
    page = live.page
    rmin, rmax_before = _range(live)
    releases = int(page.locator(".qv-live").first.get_attribute("data-releases") or 0)
    page.evaluate(COUNT_RERUNS)
    knob = page.locator(".qv-live .qv-rmax .qv-knob").first
    knob.scroll_into_view_if_needed()
    box = knob.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    seen = []
    for step in range(1, 21):
        page.mouse.move(x - 6 * step, y)
        seen.append(_readout(live, "scale"))
    assert len(set(seen)) == len(seen)  # the scale readout changed on every move
    time.sleep(0.3)
    assert page.evaluate("window.__qvReruns") == 0  # nothing reached the server while dragging
    page.mouse.up()
    page.wait_for_function("window.__qvReruns > 0", timeout=15_000)
    live.wait_idle()
    assert _range(live)[0] == rmin
    rmax = _range(live)[1]
    assert rmax < rmax_before
    qp = qv.choose_qparams(rmin, rmax)
    assert live.metric("scale s") == _readout(live, "scale") == seen[-1]
    assert live.metric("zero point z") == str(qp.zero_point)
    assert f"rmax={rmax!r}" in page.url
    assert page.locator(".qv-live").first.get_attribute("data-releases") == str(releases + 1)  # one release


def test_keyboard_moves_the_probe(live) -> None:
    page = live.page
    handle = page.locator(".qv-live .qv-probe").first
    assert handle.get_attribute("role") == "slider"
    handle.focus()
    before = _readout(live, "probe")
    handle.press("ArrowRight")
    after = _readout(live, "probe")
    assert float(after) > float(before)
    q = int(qv.quantize([float(after)], qv.choose_qparams(*_range(live)))[0])
    assert _readout(live, "code") == str(q)
    page.wait_for_function(
        f"document.querySelector('input[aria-label=\"Probe value x (exact)\"]').value == '{after}'", timeout=15_000
    )
    live.wait_idle()
    assert f"is stored as q = {q}" in page.locator("[data-testid='stMainBlockContainer']").inner_text()


def test_dragging_the_zero_point_implies_a_range(live) -> None:
    page = live.page
    z = int(_readout(live, "zero"))
    knob = page.locator(".qv-live .qv-zero").first
    knob.focus()
    knob.press("ArrowRight")  # z + 1 with s held: the range slides one step down
    assert _readout(live, "zero") == str(z + 1)
    page.wait_for_function(
        f"[...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
        f".some((m) => m.innerText.trim() === '{z + 1}')",
        timeout=15_000,
    )
    live.wait_idle()
    assert qv.choose_qparams(*_range(live)).zero_point == z + 1
    assert live.metric("zero point z") == str(z + 1)


def test_a_touch_drags_the_probe(live) -> None:
    page = live.page
    before = float(_readout(live, "probe"))
    knob = page.locator(".qv-live .qv-probe .qv-knob").first
    box = knob.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    touch = lambda kind, points: cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})  # noqa: E731
    touch("touchStart", [{"x": x, "y": y}])
    for step in range(1, 6):
        touch("touchMove", [{"x": x + 8 * step, "y": y}])
    assert float(_readout(live, "probe")) > before  # the finger moved the probe, before any rerun
    touch("touchEnd", [])
    page.wait_for_function(
        f"parseFloat(document.querySelector('input[aria-label=\"Probe value x (exact)\"]').value) > {before!r}",
        timeout=15_000,
    )
    live.wait_idle()
    assert float(page.get_by_role("spinbutton", name="Probe value x (exact)").input_value()) == float(
        _readout(live, "probe")
    )  # the released value is the one the page reran with


def test_the_bit_stepper_changes_the_grid(live) -> None:
    page = live.page
    page.locator(".qv-live [data-bits='down']").first.click()
    page.wait_for_function("document.body.innerText.includes('[0, 127]')", timeout=15_000)
    live.wait_idle()
    assert live.metric("grid") == "[0, 127]" and _readout(live, "grid") == "[0, 127]"
    assert "bits=7" in page.url
