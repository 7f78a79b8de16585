"""The live number line in a real browser: exact (window.quantvizLive equals quantviz), and live while dragging."""

from __future__ import annotations

import json
import time

import pytest

import quantviz as qv
from tests.live_cases import live_cases

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


def _open_live(tab, path: str = "number_line") -> None:
    tab.open(path)
    tab.page.wait_for_function("typeof window.quantvizLive === 'object'", timeout=30_000)
    tab.page.locator(".qv-live .qv-rmax").first.wait_for(timeout=30_000)


def test_browser_arithmetic_equals_quantviz_for_every_convention(tab) -> None:
    # One page holds every convention's rules: choose() takes the convention, as the contract says.
    _open_live(tab)
    results = {}
    for convention in qv.CONVENTIONS:
        cases = live_cases(convention, CASES_PER_CONVENTION)
        assert sum(not c["error"] for c in cases) > CASES_PER_CONVENTION // 2
        results[convention] = tab.page.evaluate(COMPARE, json.dumps(cases))
    assert {c: r["count"] for c, r in results.items()} == dict.fromkeys(qv.CONVENTIONS, CASES_PER_CONVENTION)
    assert {c: r["wrong"] for c, r in results.items()} == dict.fromkeys(qv.CONVENTIONS, 0), \
        {c: r["bad"] for c, r in results.items() if r["wrong"]}


def _readout(tab, name: str) -> str:
    return tab.page.locator(f".qv-live [data-readout='{name}']").first.inner_text().strip()


COUNT_RERUNS = """() => { window.__qvReruns = 0; const box = [...document.querySelectorAll('[data-testid="stMetric"]')]
  .find((m) => m.innerText.includes('scale s'));
  new MutationObserver(() => { window.__qvReruns += 1; })
    .observe(box.querySelector('[data-testid="stMetricValue"]'), {subtree: true, childList: true, characterData: true}); }"""


def test_drag_moves_the_figure_every_move_and_reruns_once(tab) -> None:
    _open_live(tab)
    page = tab.page
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
        seen.append(_readout(tab, "scale"))
    assert len(set(seen)) == len(seen)  # the scale readout changed on every move
    time.sleep(0.5)
    assert page.evaluate("window.__qvReruns") == 0  # nothing reached the server while dragging
    page.mouse.up()
    page.wait_for_function("window.__qvReruns > 0", timeout=15_000)
    tab.wait_idle()
    rmax = float(page.get_by_role("spinbutton", name="rmax", exact=True).input_value())
    assert rmax < 1000
    qp = qv.choose_qparams(-1000.0, rmax)
    assert tab.metric("scale s") == _readout(tab, "scale") == seen[-1]
    assert tab.metric("zero point z") == str(qp.zero_point)
    assert f"rmax={rmax!r}" in page.url
    assert page.locator(".qv-live").first.get_attribute("data-releases") == "1"


def test_keyboard_moves_the_probe_and_the_bit_stepper_changes_the_grid(tab) -> None:
    _open_live(tab, "number_line?rmin=0&rmax=6&probe=3")
    page = tab.page
    handle = page.locator(".qv-live .qv-probe").first
    assert handle.get_attribute("role") == "slider"
    handle.focus()
    before = _readout(tab, "probe")
    handle.press("ArrowRight")
    after = _readout(tab, "probe")
    assert after != before
    q = int(qv.quantize([float(after)], qv.choose_qparams(0, 6))[0])
    assert _readout(tab, "code") == str(q)
    page.wait_for_function(f"document.querySelector('input[aria-label=\"Probe value x (exact)\"]').value == '{after}'",
                           timeout=15_000)
    tab.wait_idle()
    page.locator(".qv-live [data-bits='down']").first.click()
    page.wait_for_function("document.body.innerText.includes('[0, 127]')", timeout=15_000)
    tab.wait_idle()
    assert tab.metric("grid") == "[0, 127]"
    assert "bits=7" in page.url


def test_dragging_the_zero_point_implies_a_range(tab) -> None:
    _open_live(tab)
    page = tab.page
    knob = page.locator(".qv-live .qv-zero").first
    knob.focus()
    knob.press("ArrowRight")  # z + 1 with s held: the range slides one step down
    assert _readout(tab, "zero") == "129"
    tab.wait_idle()
    page.wait_for_function("document.body.innerText.includes('129')", timeout=15_000)
    rmin = float(page.get_by_role("spinbutton", name="rmin", exact=True).input_value())
    rmax = float(page.get_by_role("spinbutton", name="rmax", exact=True).input_value())
    assert qv.choose_qparams(rmin, rmax).zero_point == 129
    assert tab.metric("zero point z") == "129"
