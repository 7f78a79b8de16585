"""Figures that read everywhere: contrast in the dark, distinct colours, the app's font, titles that fit a phone.

Checked on the plotly JSON every page actually sends (AppTest), so a new page or figure cannot slip past.
"""

from __future__ import annotations

import json

import pytest

from quantviz.app.figures import APP_FONT, TITLE_CHARS
from tests.apptest_helpers import open_page
from tests.test_pages import PAGES

DARK_BACKGROUND = "#0E1117"  # Streamlit's dark theme
LIGHT_BACKGROUND = "#FFFFFF"
VIEWS = [(page, {}) for page in PAGES] + [
    ("calibration.py", {"cal_size": "5000"}),
    ("rounding_error.py", {"size": "5000"}),
    ("number_line.py", {"rmin": "-1", "rmax": "3"}),
    ("low_bit.py", {"lb_size": "5000"}),
]


def luminance(colour: str) -> float:
    colour = colour.lstrip("#")
    channels = [int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours.

    >>> round(contrast("#000000", "#FFFFFF"), 1)
    21.0
    """
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def figures(page: str, query: dict[str, str]) -> list[dict]:
    at = open_page(page, query)
    assert not at.exception
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def ink(fig: dict) -> list[tuple[str, str]]:
    """(where, colour) of every line, marker edge, marker and text colour of the traces: what must be read."""
    found = []
    for trace in fig.get("data", []):
        name = trace.get("name", trace.get("type", "?"))
        for path in (("line", "color"), ("marker", "color"), ("marker", "line", "color"), ("textfont", "color")):
            value = trace
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, str) and value.startswith("#") and len(value) == 7 and trace.get("type") != "heatmap":
                found.append((f"{name}: {'.'.join(path)}", value))
    for shape in fig.get("layout", {}).get("shapes", []):
        colour = shape.get("line", {}).get("color")
        if shape.get("type") == "line" and isinstance(colour, str) and colour.startswith("#"):
            found.append(("shape line", colour))
    return found


@pytest.mark.parametrize(("page", "query"), VIEWS, ids=[f"{p[:-3]}-{'-'.join(q)}" for p, q in VIEWS])
def test_every_figure_reads_in_the_dark_and_in_the_light(page: str, query: dict[str, str]) -> None:
    for fig in figures(page, query):
        for where, colour in ink(fig):
            assert contrast(colour, DARK_BACKGROUND) >= 3, f"{page}: {where} {colour} vanishes on the dark background"
            assert contrast(colour, LIGHT_BACKGROUND) >= 2.2, f"{page}: {where} {colour} is too pale on white"


@pytest.mark.parametrize(("page", "query"), VIEWS, ids=[f"{p[:-3]}-{'-'.join(q)}" for p, q in VIEWS])
def test_legend_entries_have_distinct_colours_and_titles_fit_a_phone(page: str, query: dict[str, str]) -> None:
    for fig in figures(page, query):
        layout = fig.get("layout", {})
        assert "Source Sans" in layout.get("font", {}).get("family", "") and layout["font"]["family"] == APP_FONT
        title = layout.get("title", {}).get("text", "")
        assert all(len(line) <= TITLE_CHARS for line in title.split("<br>")), title
        seen: dict[str, str] = {}
        for trace in fig.get("data", []):
            if trace.get("showlegend") is False or "name" not in trace:
                continue
            colour = (trace.get("line") or {}).get("color") or (trace.get("marker") or {}).get("color")
            if isinstance(colour, str):
                # a legend entry is its colour with its look: markers and lines of one colour are told apart
                mode = trace.get("mode", trace.get("type", ""))
                dash, symbol = (trace.get("line") or {}).get("dash", ""), (trace.get("marker") or {}).get("symbol", "")
                key = f"{colour} {mode} {dash} {symbol}"
                assert key not in seen or seen[key] == trace["name"], (
                    f"{page}: '{trace['name']}' and '{seen.get(key)}' share {colour}"
                )
                seen[key] = trace["name"]


def test_per_channel_bars_are_in_the_order_the_title_says() -> None:
    """The per-channel chart says "smallest rows first": its categories follow the rows' largest |weight|."""
    import numpy as np

    from quantviz.granularity import weight_matrix

    for query in ({}, {"pc_rows": "8", "pc_cols": "16"}, {"pc_spread": "0"}, {"pc_rows": "100"}):
        (bars, _heat) = figures("per_channel.py", query)
        rows = int(query.get("pc_rows", 32))
        w = weight_matrix(
            rows, int(query.get("pc_cols", 128)), spread_decades=float(query.get("pc_spread", 2.0)), seed=0
        )
        shown = [int(c) for c in bars["data"][0]["x"]]
        order = np.argsort(np.abs(w).max(axis=1))[: len(shown)]
        assert shown == order.tolist()
        assert bars["layout"]["xaxis"]["type"] == "category"
        assert "smallest rows first" in bars["layout"]["title"]["text"].replace("<br>", " ")
