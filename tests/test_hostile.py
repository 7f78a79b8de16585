"""Hostile input through every page that takes it: a message, no traceback, no hang, the input kept."""

from __future__ import annotations

import pytest

from quantviz.app.pages import PAGES as REGISTRY
from tests.apptest_helpers import open_page

HOSTILE_TEXT = {
    "empty": ("", "no numbers"),
    "separators only": (" ,;;\t\n ,", "no numbers"),
    "nan inf": ("nan, inf, -inf", "NaN"),
    "negative zero": ("-0.0, 0.0", None),
    "extremes": ("1e308, 1e-320, -1e308", None),  # far outside the sidebar's range: clipped, shown
    "far outside": ("1e6, -1e6, 3", None),
    "unicode digits and minus": ("\u0661\u0662, \u22123.5, \uff14", None),
    "code": ("__import__('os').system('echo pwned')", "not a number"),
    "markdown and html": ("<script>alert(1)</script> ![x](http://example.com/a.png)", "not a number"),
    "one huge token": ("9" * 5000, "beyond the largest"),
}


@pytest.mark.parametrize("name", list(HOSTILE_TEXT))
def test_your_values_hostile_text(name: str) -> None:
    text, fragment = HOSTILE_TEXT[name]
    at = open_page("your_values.py")
    at.text_area(key="w_values").input(text).run(timeout=120)
    assert not at.exception, at.exception
    assert at.text_area(key="w_values").value == text
    if fragment:
        assert any(fragment in e.value for e in at.error), [e.value for e in at.error]
    else:
        assert not at.error and at.dataframe


def test_your_values_five_megabytes_of_text() -> None:
    text = ", ".join(["-123.456789"] * 420_000)  # about 5 MB, 420k tokens
    assert len(text) > 5_000_000
    at = open_page("your_values.py")
    at.text_area(key="w_values").input(text).run(timeout=120)
    assert not at.exception
    assert not at.error
    assert at.metric[-1].value.startswith("1 of")  # one distinct code
    assert any("too long to fit in a link" in c.value for c in at.caption)


def test_a_million_tokens_with_one_bad() -> None:
    text = " ".join(["1"] * 999_999 + ["x"])
    at = open_page("your_values.py")
    at.text_area(key="w_values").input(text).run(timeout=120)
    assert not at.exception
    assert any("value 1000000" in e.value.replace(",", "") for e in at.error)


PAGES = [page.slug + ".py" for page in REGISTRY if page.takes_links]
HOSTILE_LINKS = [
    {"rmin": "3", "rmax": "3"},
    {"rmin": "5", "rmax": "1"},
    {"bits": "1"},
    {"bits": "17"},
    {"bits": "8.5"},
    {"rmin": "1e39"},
    {"conv": "tf_fake_quant", "signed": "true", "symmetric": "true"},
    {"rmin": "0", "rmax": "1e-300"},
    {"probe": "inf", "values": "x" * 3000, "preset": "nope", "ex_seed": "-4", "pc_rows": "100000", "cal_pct": "12"},
    {
        "present": "true",
        "zfirst": "true",
        "rounding": "stochastic",
        "reduce": "true",
        "narrow": "true",
        "bits": "2",
        "signed": "true",
    },
]


@pytest.mark.parametrize("page", PAGES)
def test_hostile_links_on_every_page(page: str) -> None:
    for query in HOSTILE_LINKS:
        at = open_page(page, query)
        assert not at.exception, (page, query, at.exception)
        # a problem is explained (warning for the link, error for the settings) or the page simply works
        assert at.title, (page, query)


def test_equal_range_is_defined() -> None:
    at = open_page("zero_point.py", {"rmin": "3", "rmax": "3"})
    # textbook widens [3, 3] to [0, 3]: a normal view
    assert not at.error
    at = open_page("zero_point.py", {"rmin": "3", "rmax": "3", "conv": "tf_fake_quant"})
    assert any("needs min" in e.value for e in at.error)


def test_huge_and_duplicated_query_params() -> None:
    from streamlit.testing.v1 import AppTest

    from tests.apptest_helpers import APP

    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["rmin"] = ["-1", "x" * 100_000]
    at.query_params["junk"] = "y" * 100_000
    at.run()
    assert not at.exception
    assert any("2 times" in w.value and "characters long" in w.value for w in at.warning)


def test_extremes_from_the_data_range() -> None:
    at = open_page("your_values.py", {"values": "1e308, -1e308", "range_from": "data"})
    assert not at.exception
    assert any("float32" in e.value for e in at.error)  # the range itself cannot be quantized
