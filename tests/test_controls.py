"""A control shown on a page changes that page: every enabled widget, moved once, changes what the page shows."""

from __future__ import annotations

import pytest

from tests.apptest_helpers import open_page
from tests.test_pages import PAGES

WIDGETS = ("selectbox", "radio", "slider", "select_slider", "number_input", "checkbox", "toggle", "text_input")
OUTPUTS = (
    "markdown",
    "latex",
    "caption",
    "code",
    "metric",
    "dataframe",
    "table",
    "json",
    "plotly_chart",
    "info",
    "warning",
    "error",
    "success",
    "title",
    "header",
    "subheader",
    "exception",
    "text",
)


def shown(at) -> list[str]:
    """Everything the page shows that is not a control: text, formulas, tables, figures, messages."""
    out = []
    for kind in OUTPUTS:
        for element in at.get(kind):
            out.append(f"{kind}:{element.proto}")
    return out


def controls(at) -> list[tuple[str, str]]:
    """(kind, key) of every enabled control outside a form (a form changes the page only when submitted)."""
    found = []
    for kind in WIDGETS:
        for widget in getattr(at, kind) if hasattr(at, kind) else at.get(kind):
            if widget.key and not widget.disabled and not getattr(widget, "form_id", ""):
                found.append((kind, widget.key))
    return found


def move(widget, kind: str) -> None:
    """Give the widget another valid value."""
    if kind in ("checkbox", "toggle"):
        widget.set_value(not widget.value)
    elif kind == "selectbox":
        widget.select_index(1 if widget.index == 0 else 0)
    elif kind == "radio":
        # our format_func maps a label to itself, so a shown label is a valid value
        widget.set_value(widget.options[1 if widget.index == 0 else 0])
    elif kind == "slider":
        value, lo, hi = widget.value, widget.min, widget.max
        if isinstance(value, tuple):
            widget.set_value((lo + (hi - lo) * 0.1, hi - (hi - lo) * 0.3))
        else:
            widget.set_value(lo if value != lo else hi)
    elif kind == "select_slider":
        options = widget.options
        widget.set_value(options[0] if widget.value != options[0] else options[-1])
    elif kind == "number_input":
        value, step = widget.value, widget.step or 1
        if value is None:  # an optional number left empty: type one
            widget.set_value(2.0)
            return
        upper = widget.max if widget.max is not None else float("inf")
        widget.set_value(value + step if value + step <= upper else value - step)
    elif kind == "text_input":
        widget.set_value("0.5, 7, -2")
    else:  # pragma: no cover - every kind above is handled
        raise AssertionError(kind)


def by_key(at, kind: str, key: str):
    return next(w for w in (getattr(at, kind) if hasattr(at, kind) else at.get(kind)) if w.key == key)


CASES = [(page, kind, key) for page in PAGES for kind, key in controls(open_page(page))]


def test_every_page_has_controls() -> None:
    assert {page for page, _, _ in CASES} == set(PAGES)
    assert len(CASES) > 60


@pytest.mark.parametrize(("page", "kind", "key"), CASES, ids=[f"{p[:-3]}-{k}" for p, _, k in CASES])
def test_each_enabled_control_changes_its_page(page: str, kind: str, key: str) -> None:
    at = open_page(page)
    before = shown(at)
    move(by_key(at, kind, key), kind)
    at.run()
    assert not at.exception, at.exception
    assert shown(at) != before, f"{key} on {page} changes nothing the page shows"


# ----------------------------------------------------------------------------- jargon
GLOSSARY_VIEWS = [(page, {}) for page in PAGES if page != "glossary.py"] + [
    ("number_line.py", {"conv": "pytorch"}),
    ("number_line.py", {"conv": "tf_fake_quant", "rmin": "-1", "rmax": "1"}),
    ("frameworks.py", {"rmin": "-1", "rmax": "1"}),
    ("frameworks.py", {"reduce": "true"}),
    ("worked_examples.py", {"preset": "no_zero", "conv": "tf_fake_quant"}),
    ("number_line.py", {"signed": "true"}),
]


def page_text(at) -> str:
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "success", "subheader"):
        parts += [str(e.value) for e in at.get(kind)]
    return "\n".join(parts)


@pytest.mark.parametrize(("page", "query"), GLOSSARY_VIEWS, ids=[f"{p[:-3]}-{'-'.join(q)}" for p, q in GLOSSARY_VIEWS])
def test_jargon_is_linked_to_the_glossary_where_it_first_appears(page: str, query: dict[str, str]) -> None:
    import re

    from quantviz.teach.glossary import JARGON

    at = open_page(page, query)
    assert not at.exception
    text = page_text(at)
    for key, pattern in JARGON.items():
        first = re.search(pattern, text)
        if first is None:
            continue
        link = re.search(r"\[[^\]]*\]\(glossary#" + re.escape(key) + r"\b", text)
        assert link is not None and link.start() <= first.start(), (
            f"{page}: '{first.group(0)}' is used before it is explained"
        )
