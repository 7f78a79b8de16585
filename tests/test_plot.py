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


def page_figures(page: str) -> list[dict]:
    at = open_page(page)
    assert not at.exception
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def as_json(fig) -> dict:
    return json.loads(fig.to_json())


def same(app: dict, ours: dict) -> None:
    assert app["data"] == ours["data"]
    assert app["layout"] == ours["layout"]


def test_number_line_is_the_landing_pages_figure():
    same(page_figures("zero_point.py")[0], as_json(plot.number_line(RMIN, RMAX)))


def test_staircase_is_the_number_line_pages_figure():
    same(page_figures("number_line.py")[1], as_json(plot.staircase(RMIN, RMAX, around=PROBE)))


def test_error_histogram_and_sqnr_are_the_rounding_error_pages_figures():
    app = page_figures("rounding_error.py")
    x = sample_data("normal", 100_000, 0) * 300.0
    same(app[1], as_json(plot.error_histogram(x, RMIN, RMAX)))
    same(app[2], as_json(plot.sqnr_against_bits(x[:200_000], RMIN, RMAX)))


def test_block_format_is_the_block_formats_pages_figure():
    x = np.asarray(sample_data("normal", 32_768, 0), np.float32)
    x[0] *= np.float32(20.0)  # the page's default outlier
    same(page_figures("block_formats.py")[0], as_json(plot.block_format(x, "Q4_0", blocks=4)))


def test_the_figures_follow_their_settings():
    """Not one fixed picture: a setting that changes the computation changes the figure."""
    x = sample_data("laplace", 5_000, 1)
    assert as_json(plot.number_line(-1, 1, bits=4)) != as_json(plot.number_line(-1, 1, bits=5))
    assert as_json(plot.staircase(-1, 1)) != as_json(plot.staircase(-1, 1, convention="pytorch", signed=True))
    assert as_json(plot.error_histogram(x)) != as_json(plot.error_histogram(x, -1, 1))
    assert as_json(plot.block_format(x, "Q4_0")) != as_json(plot.block_format(x, "Q8_0"))
    qp = choose_qparams(-1, 1, bits=4)  # z = 8 on uint4: the grid covers [-8 s, 7 s], not [-1, 1]
    span = qp.real_max - qp.real_min
    whole = plot.staircase(-1, 1, bits=4).data[1].x
    assert (whole[0], whole[-1]) == pytest.approx((qp.real_min - 0.15 * span, qp.real_max + 0.15 * span), rel=1e-6)
    near = plot.staircase(-1, 1, bits=4, around=0.5).data[1].x
    assert (near[0], near[-1]) == pytest.approx((0.5 - 8 * qp.scale, 0.5 + 8 * qp.scale), rel=1e-6)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: plot.error_histogram([1.0, np.inf]), "values holds inf"),
    (lambda: plot.sqnr_against_bits([]), "values is empty"),
    (lambda: plot.block_format(np.zeros(31), "Q4_0"), "values holds 31 values; 1 block"),
    (lambda: plot.block_format(np.zeros(64), "Q4_0", blocks=0), "blocks must be a whole number"),
    (lambda: plot.block_format(np.zeros(64), "Q4_0", blocks=True), "blocks must be a whole number"),
])
def test_bad_input_is_refused_by_name(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_import_quantviz_does_not_import_plot():
    code = "import sys, quantviz; print('quantviz.plot' in sys.modules, 'plotly' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
