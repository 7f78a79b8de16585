"""quantviz.plot: from plain values, the very figure the app's page shows at its defaults (compared as plotly JSON)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from quantviz import choose_qparams, plot
from quantviz.samples import sample_data
from tests.apptest_helpers import open_page

# The app's defaults (quantviz.app.state.SHARED_FIELDS and each page's own fields).
RMIN, RMAX, PROBE = -1000.0, 1000.0, 39.215686275


def page_figure(page: str, title: str) -> dict:
    """The one plotly figure of ``page`` at its defaults whose title starts with ``title``."""
    at = open_page(page)
    assert not at.exception
    found = [
        fig
        for fig in (json.loads(chart.proto.spec) for chart in at.get("plotly_chart"))
        if fig["layout"]["title"]["text"].replace("<br>", " ").startswith(title)
    ]
    assert len(found) == 1, f"{page}: {len(found)} charts titled {title!r}"
    return found[0]


def same(app: dict, fig) -> None:
    ours = json.loads(fig.to_json())
    assert app["data"] == ours["data"]
    assert app["layout"] == ours["layout"]


def test_number_line_is_the_your_values_pages_figure():
    title = "Your values (top) and the codes they land on (bottom)"
    same(
        page_figure("your_values.py", title),
        plot.number_line(RMIN, RMAX, values=[39.215686275, 0, 1000, -1000], title=title),
    )


def test_staircase_is_the_number_line_pages_figure():
    same(page_figure("number_line.py", "Staircase"), plot.staircase(RMIN, RMAX, around=PROBE))


def test_error_histogram_and_sqnr_are_the_rounding_error_pages_figures():
    x = sample_data("normal", 100_000, 0) * 300.0
    same(page_figure("rounding_error.py", "Rounding error inside"), plot.error_histogram(x, RMIN, RMAX))
    same(page_figure("rounding_error.py", "Each bit buys"), plot.sqnr_against_bits(x[:200_000], RMIN, RMAX))


def test_block_format_is_the_block_formats_pages_figure():
    x = np.asarray(sample_data("normal", 32_768, 0), np.float32)
    x[0] *= np.float32(20.0)  # the page's default outlier
    same(page_figure("block_formats.py", "Error of every value"), plot.block_format(x, "Q4_0", blocks=4))


def _json(fig) -> dict:
    return json.loads(fig.to_json())


def test_the_figures_follow_their_settings():
    """Not one fixed picture: a setting that changes the computation changes the figure."""
    x = sample_data("laplace", 5_000, 1)
    assert _json(plot.number_line(-1, 1, bits=4)) != _json(plot.number_line(-1, 1, bits=5))
    assert _json(plot.staircase(-1, 1)) != _json(plot.staircase(-1, 1, convention="pytorch", signed=True))
    assert _json(plot.error_histogram(x)) != _json(plot.error_histogram(x, -1, 1))
    assert _json(plot.block_format(x, "Q4_0")) != _json(plot.block_format(x, "Q8_0"))
    qp = choose_qparams(-1, 1, bits=4)  # z = 8 on uint4: the grid covers [-8 s, 7 s], not [-1, 1]
    span = qp.real_max - qp.real_min
    whole = plot.staircase(-1, 1, bits=4).data[1].x
    assert (whole[0], whole[-1]) == pytest.approx((qp.real_min - 0.15 * span, qp.real_max + 0.15 * span), rel=1e-6)
    near = plot.staircase(-1, 1, bits=4, around=0.5).data[1].x
    assert (near[0], near[-1]) == pytest.approx((0.5 - 8 * qp.scale, 0.5 + 8 * qp.scale), rel=1e-6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: plot.error_histogram([1.0, np.inf]), "values holds inf"),
        (lambda: plot.sqnr_against_bits([]), "values is empty"),
        (lambda: plot.block_format(np.zeros(31), "Q4_0"), "values holds 31 values; 1 block"),
        (lambda: plot.block_format(np.zeros(64), "Q4_0", blocks=0), "blocks must be a whole number"),
        (lambda: plot.block_format(np.zeros(64), "Q4_0", blocks=True), "blocks must be a whole number"),
    ],
)
def test_bad_input_is_refused_by_name(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_import_quantviz_does_not_import_plot():
    code = "import sys, quantviz; print('quantviz.plot' in sys.modules, 'plotly' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
