"""QuantViz in a real browser: every page, sliders, typing, pasting, downloads, links, screenshots."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

import quantviz as qv
from quantviz.app.pages import PAGES as REGISTRY
from quantviz.teach.fmt import fmt

pytestmark = pytest.mark.browser

PAGES = {page.path: page.heading for page in REGISTRY}
CHARTS = {page.path: page.charts for page in REGISTRY}


@pytest.mark.parametrize("path", list(PAGES))
def test_page_loads_with_charts(tab, path: str) -> None:
    tab.open(path, wait_charts=CHARTS[path])
    assert tab.page.locator("h1").first.inner_text().strip() == PAGES[path]
    assert tab.exceptions() == 0
    # the router's sections, not Streamlit's v1 file list
    assert "Start here" in tab.page.locator("[data-testid='stSidebarNav']").inner_text()
    svg = tab.page.locator(".js-plotly-plot .main-svg")
    assert svg.count() >= CHARTS[path]
    for i in range(min(svg.count(), 3)):
        assert svg.nth(i).bounding_box()["height"] > 100


def test_keyboard_moves_bits_slider(tab) -> None:
    tab.open("")
    thumb = tab.page.locator("[data-testid='stSlider']").filter(has_text="Bit width").get_by_role("slider")
    thumb.focus()
    thumb.press("ArrowLeft")
    tab.wait_idle()
    qp = qv.choose_qparams(-1000, 1000, bits=7)
    tab.page.wait_for_function(f"document.body.innerText.includes('{fmt(qp.scale, 8)}')", timeout=15_000)
    assert tab.metric("scale s") == fmt(qp.scale, 8)
    assert tab.metric("zero point z") == str(qp.zero_point)


def test_mouse_drags_range_on_the_live_number_line(tab) -> None:
    # The landing page's range is dragged on the figure itself (the live number line), not on a sidebar slider.
    tab.open("")
    knob = tab.page.locator(".qv-live .qv-rmin .qv-knob").first
    knob.wait_for(timeout=30_000)
    knob.scroll_into_view_if_needed()
    low = knob.bounding_box()
    tab.page.mouse.move(low["x"] + low["width"] / 2, low["y"] + low["height"] / 2)
    tab.page.mouse.down()
    tab.page.mouse.move(low["x"] + 60, low["y"] + low["height"] / 2, steps=8)
    tab.page.mouse.up()
    # the rerun that copies the released range into the exact box may start a moment after the drag
    tab.page.wait_for_function(
        "parseFloat(document.querySelector('input[aria-label=\"rmin\"]').value) > -1000", timeout=15_000
    )
    tab.wait_idle()
    rmin = float(tab.page.get_by_role("spinbutton", name="rmin").input_value())
    assert rmin > -1000
    qp = qv.choose_qparams(rmin, 1000.0)
    tab.page.wait_for_function(f"document.body.innerText.includes('{fmt(qp.scale, 8)}')", timeout=15_000)
    assert tab.metric("zero point z") == str(qp.zero_point)
    assert tab.page.locator("[data-testid='stSlider']").filter(has_text="Real range").count() == 0


def test_typing_an_exact_range(tab) -> None:
    tab.open("")
    for label, value in (("rmax", "6"), ("rmin", "0")):
        box = tab.page.get_by_role("spinbutton", name=label, exact=True)
        box.fill(value)
        box.press("Enter")
        tab.wait_idle()
    qp = qv.choose_qparams(0, 6)
    tab.page.wait_for_function(f"document.body.innerText.includes('{fmt(qp.scale, 8)}')", timeout=15_000)
    assert tab.metric("zero point z") == "0"
    assert "rmin=0" in tab.page.url and "rmax=6" in tab.page.url


def test_paste_values_table_and_download(tab) -> None:
    tab.open("your_values", wait_charts=1)
    tab.paste("0.5, -0.25, 3e0, 7, 2000")
    tab.page.wait_for_function("document.body.innerText.includes('1 (20.0%)')", timeout=15_000)
    with tab.page.expect_download() as info:
        tab.page.get_by_role("button", name="Download the table (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(info.value.path().read_text())))
    x = [0.5, -0.25, 3.0, 7.0, 2000.0]
    t = qv.quantize_trace(x, qv.choose_qparams(-1000, 1000))
    assert [float(r["x"]) for r in rows] == x
    assert [int(r["q"]) for r in rows] == t.q.tolist()
    assert [float(r["dequantized"]) for r in rows] == t.dequantized.tolist()
    assert [r["clipped"] for r in rows] == ["False", "False", "False", "False", "True"]


def test_bad_paste_keeps_text_and_says_why(tab) -> None:
    tab.open("your_values", wait_charts=1)
    tab.paste("1, 2, three")
    alert = tab.page.locator("[data-testid='stAlertContentError']")
    alert.wait_for(timeout=15_000)
    assert "value 3, 'three', is not a number" in alert.inner_text()
    assert tab.page.get_by_role("textbox", name="Values").input_value() == "1, 2, three"
    assert tab.exceptions() == 0


def test_shared_link_reopens_view(tab) -> None:
    tab.open("number_line?rmin=-3&rmax=5&bits=4&signed=true&conv=pytorch&probe=1.25", wait_charts=1)
    qp = qv.choose_qparams(-3, 5, bits=4, signed=True, convention="pytorch")
    assert tab.metric("scale s") == fmt(qp.scale, 8)
    assert tab.metric("zero point z") == str(qp.zero_point)
    assert tab.page.get_by_role("spinbutton", name="Probe value x (exact)").input_value() == "1.25"
    q = int(qv.quantize([1.25], qp, convention="pytorch")[0])
    assert f"is stored as q = {q}" in tab.page.locator("[data-testid='stMainBlockContainer']").inner_text()
    code = tab.page.locator(".qv-live [data-readout='code']").first
    code.wait_for(timeout=30_000)
    assert code.inner_text().strip() == str(q)  # the live line computes the same code in the browser


def test_garbage_link_gives_defaults_and_message(tab) -> None:
    tab.open("?bits=banana&rmin=nan&conv=caffe")
    warning = tab.page.locator("[data-testid='stAlertContentWarning']").first
    assert "could not be used" in warning.inner_text()
    assert tab.metric("zero point z") == "128"
    assert tab.metric("scale s") == fmt(2000 / 255, 8)


SIZES_JS = """() => {
  const main = '[data-testid="stMainBlockContainer"] ';
  const kinds = {
    text: main + '[data-testid="stMarkdownContainer"] p', caption: main + '[data-testid="stCaptionContainer"]',
    input: main + 'input', formula: main + '.katex', table: main + '[data-testid="stTable"] td',
    tick: main + '.xtick text, ' + main + '.ytick text',
  };
  const out = {};
  for (const [kind, selector] of Object.entries(kinds)) {
    const sizes = [...document.querySelectorAll(selector)].slice(0, 60)
      .filter((e) => e.getClientRects().length)
      .map((e) => parseFloat(getComputedStyle(e).fontSize) * (e.currentCSSZoom || 1));
    if (sizes.length) out[kind] = Math.min(...sizes);
  }
  out.chartFont = [...document.querySelectorAll(main + '.js-plotly-plot .gtitle')]
    .map((e) => getComputedStyle(e).fontFamily).join('|');
  return out;
}"""
CUT_JS = """() => [...document.querySelectorAll('[data-testid="stMetricLabel"], [data-testid="stMetricValue"], '
    + '[data-testid="stMetricValue"] *, [data-testid="stWidgetLabel"] p')]
  .filter((e) => e.getClientRects().length && e.scrollWidth > e.clientWidth + 1).map((e) => e.innerText)"""
PHONE_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const wide = Math.max(document.documentElement.scrollWidth, main ? main.scrollWidth : 0);
  const titles = [...document.querySelectorAll('.js-plotly-plot')].flatMap((plot) => {
    const box = plot.getBoundingClientRect();
    return [...plot.querySelectorAll('.gtitle')].filter((t) => t.getBoundingClientRect().right > box.right + 1)
      .map((t) => t.textContent);
  });
  const grids = [...document.querySelectorAll('[data-testid="stHorizontalBlock"]')].map((row) => {
    const tops = [...row.querySelectorAll(':scope > [data-testid="stColumn"] [data-testid="stMetric"]')]
      .map((m) => Math.round(m.getBoundingClientRect().top));
    return [tops.length, new Set(tops).size];
  }).filter(([n]) => n >= 4);
  return {wide, titles, grids, viewport: window.innerWidth};
}"""
DESKTOP_SIZES: dict[str, dict] = {}


def _shoot_all(make_tab, name: str, width: int, height: int, query: str = "", check=None, **options) -> list:
    """Open every page at this size, run ``check`` on it and save its screenshot (if QUANTVIZ_SCREENSHOTS is set).

    Returns the pages checked.
    """
    session = make_tab(width, height, **options)
    checked = []
    for path in PAGES:
        session.open(f"{path}?{query}" if query else path, wait_charts=CHARTS[path])
        assert session.exceptions() == 0
        if check is not None:
            check(path, session.page)
        session.shot(f"{path or 'zero_point'}-{name}")
        checked.append(path)
    return checked


# Metric values without a space that are drawn on more than one line (a number has no place to break: two line
# boxes mean it was cut in two).
BROKEN_NUMBERS_JS = """() => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
  .filter((e) => !/\\s/.test(e.innerText.trim()))
  .map((e) => {
    const text = document.createTreeWalker(e, NodeFilter.SHOW_TEXT).nextNode();
    const r = document.createRange(); r.selectNodeContents(text);
    return [e.innerText.trim(), r.getClientRects().length];
  })
  .filter(([, lines]) => lines > 1)"""


def _no_cut_labels(path: str, page) -> None:
    assert page.evaluate(CUT_JS) == [], f"{path or 'zero_point'}: labels cut off"
    assert page.evaluate(BROKEN_NUMBERS_JS) == [], f"{path or 'zero_point'}: a number broken over two lines"


def test_screenshots_desktop(make_tab) -> None:
    def check(path, page):
        DESKTOP_SIZES[path] = page.evaluate(SIZES_JS)
        _no_cut_labels(path, page)

    assert len(_shoot_all(make_tab, "1280x800", 1280, 800, check=check)) == len(PAGES)


def test_screenshots_presenter(make_tab) -> None:
    """Presenter: every text a class reads at least 1.5x its desktop size, the sidebar folded, charts in the app's
    font."""

    def check(path, page):
        desktop = DESKTOP_SIZES.get(path)
        if desktop is None:  # run alone: measure the desktop view in another tab
            other = make_tab(1280, 800)
            other.open(path, wait_charts=CHARTS[path])
            desktop = DESKTOP_SIZES[path] = other.page.evaluate(SIZES_JS)
        shown = page.evaluate(SIZES_JS)
        base_text = desktop.get("text", 16)
        for kind in ("text", "caption", "input", "formula", "table", "tick"):
            if kind in shown:
                reference = desktop.get(kind, base_text * 0.875)  # tables are canvas grids on the desktop: 14 px
                assert shown[kind] >= 1.5 * reference * 0.99, (
                    f"{path or 'zero_point'}: {kind} {shown[kind]:.1f} px vs {reference:.1f}"
                )
        assert "Source Sans" in shown["chartFont"] or not shown["chartFont"], shown["chartFont"]
        sidebar = page.locator("[data-testid='stSidebar']")
        assert (
            sidebar.count() == 0
            or sidebar.get_attribute("aria-expanded") == "false"
            or sidebar.bounding_box()["width"] < 60
        )

    assert len(_shoot_all(make_tab, "presenter-1920x1080", 1920, 1080, "present=true", check=check)) == len(PAGES)


def test_screenshots_phone(make_tab) -> None:
    """Phone: nothing wider than the screen, no chart title cut, metrics in a grid, no label cut."""

    def check(path, page):
        found = page.evaluate(PHONE_JS)
        assert found["wide"] <= found["viewport"] + 1, (
            f"{path or 'zero_point'}: {found['wide']} px wide on a {found['viewport']} px screen"
        )
        assert found["titles"] == [], found["titles"]
        assert all(rows < n for n, rows in found["grids"]), found["grids"]
        _no_cut_labels(path, page)

    assert len(_shoot_all(make_tab, "phone-390", 390, 844, check=check, is_mobile=True, has_touch=True)) == len(PAGES)


def test_screenshots_dark(make_tab) -> None:
    def check(path, page):
        background = page.evaluate(
            "getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor"
        )
        channels = [int(v) for v in background[background.index("(") + 1 : background.index(")")].split(",")[:3]]
        assert max(channels) < 60, f"{path or 'zero_point'}: background {background} is not dark"

    assert len(_shoot_all(make_tab, "dark-1280x800", 1280, 800, check=check, color_scheme="dark")) == len(PAGES)


def test_instructor_flow(tab) -> None:
    """Open a lesson link in presenter view, step through the seed example, then check an exercise answer."""
    tab.open("worked_examples?slides=true&present=true")
    assert "Step 1 of" in tab.page.inner_text("body")
    tab.page.get_by_role("button", name="Next").click()
    tab.wait_idle()
    tab.page.wait_for_function("document.body.innerText.includes('Step 2 of')", timeout=15_000)
    assert "slide=1" in tab.page.url
    from quantviz.teach.exercises import make_exercises

    tab.open("exercises?ex_seed=7&ex_level=easy")
    ex = make_exercises(7, "easy")[0]
    first = tab.page.locator("[data-testid='stForm']").first
    for a in ex.answers:
        if a.kind == "choice":
            first.get_by_text(str(a.expected), exact=True).click()
        else:
            first.get_by_role("textbox", name=a.label).fill(str(a.expected))
    first.get_by_role("button", name="Check").click()
    tab.wait_idle()
    tab.page.wait_for_function("document.body.innerText.includes('right')", timeout=15_000)
    assert tab.metric("Score") == "1 / 7"


def test_link_panel_reopens_same_view(tab, browser) -> None:
    tab.open("number_line?rmin=-2&rmax=2&probe=0.3", wait_charts=1)
    tab.page.get_by_text("Link to this view").click()
    link = tab.page.locator("[data-testid='stSidebar'] [data-testid='stCode']").inner_text().strip()
    assert "rmin=-2" in link and "probe=0.3" in link
    other = browser.new_page()
    other.goto(link)
    other.wait_for_selector("h1")
    other.wait_for_function("document.body.innerText.includes('zero point z')", timeout=30_000)
    assert other.get_by_role("spinbutton", name="Probe value x (exact)").input_value() == "0.3"
    other.close()


def test_no_request_leaves_the_server(browser, server) -> None:
    """An offline classroom: every page loads everything it needs from the app's own server."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((server, "data:", "blob:")) else None)
    try:
        for path in PAGES:
            page.goto(f"{server}/{path}")
            page.wait_for_selector("h1", timeout=30_000)
            page.wait_for_load_state("networkidle", timeout=30_000)
        icon = page.evaluate("[...document.querySelectorAll('link[rel~=icon]')].map(l => l.href)")
    finally:
        context.close()
    assert not outside, sorted(set(outside))
    assert icon and all(href.startswith((server, "data:")) for href in icon), icon


def test_your_model_opens_a_tflite_file_and_explains_it(tab) -> None:
    """Upload a full-int8 TFLite fixture: the summary, the quantized tensors, one tensor on its number line."""

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "full_int8_uint8_io.tflite"
    tab.open("your_model?model_src=upload")
    tab.page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(fixture))
    tab.page.wait_for_selector("text=how it was quantized", timeout=30_000)
    tab.wait_idle()
    text = tab.page.locator("[data-testid='stMainBlockContainer']").inner_text()
    assert "Full-integer quantization" in text and "z = 143" in text  # the uint8 input, int8 z 15 + 128
    assert "per channel along axis 0" in text
    tab.page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1", timeout=30_000)
    assert tab.exceptions() == 0
    # the tensor's own s and z, carried to the Number line by its link
    href = tab.page.get_by_text("Open this s and z on the Number line").get_attribute("href")  # opens in a new tab
    tab.open(href.split("/")[-1], wait_charts=1)
    assert tab.page.locator("h1").first.inner_text().strip() == "Number line"
    assert tab.metric("zero point z") == "143" and tab.metric("grid") == "[0, 255]"


def test_your_model_refuses_a_pickle_in_words(tab, tmp_path) -> None:
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"\x80\x04anything")
    tab.open("your_model?model_src=upload")
    tab.page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(bad))
    tab.page.wait_for_selector("text=never unpickles", timeout=30_000)
    assert tab.exceptions() == 0


def test_your_model_measures_float_weights_and_downloads_the_csv(tab, tmp_path) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    path = tmp_path / "tiny.safetensors"
    save_file(
        {
            "layer.0.weight": rng.normal(size=(16, 128)).astype(np.float32),
            "layer.1.weight": (rng.normal(size=(8, 256)) * 3).astype(np.float32),
        },
        str(path),
    )
    tab.open("your_model?model_src=upload")
    tab.page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
    tab.page.wait_for_selector("text=Float weight tensors, measured", timeout=30_000)
    tab.wait_idle()
    assert (
        "No tensor carries quantization parameters: a float model"
        in tab.page.locator("[data-testid='stMainBlockContainer']").inner_text()
    )
    with tab.page.expect_download() as info:
        tab.page.get_by_role("button", name="Download this table (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert {r["name"] for r in rows} == {"layer.0.weight", "layer.1.weight"}
    assert float(rows[0]["SQNR int8 symmetric per channel"]) > float(rows[0]["SQNR int4 symmetric per channel"])
    assert tab.exceptions() == 0


@pytest.mark.parametrize(("width", "options"), [(1280, {}), (390, {"is_mobile": True, "has_touch": True})])
def test_a_long_scale_stays_on_one_line(make_tab, width, options) -> None:
    # rmin = -2, rmax = 6 gives s = 0.031372549: it used to break as "0.0313725" over "49"
    session = make_tab(width, 844, **options)
    session.open("number_line?rmin=-2&rmax=6", wait_charts=1)
    assert session.metric("scale s") == "0.031372549"
    assert session.page.evaluate(BROKEN_NUMBERS_JS) == []
