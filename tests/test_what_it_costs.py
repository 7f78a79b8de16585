"""The What-it-costs figures draw what they are given, and the page shows what quantviz.tasks computes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from quantviz.app import task_figures
from quantviz.tasks import evaluate, load
from quantviz.tasks.sweeps import LayerCost, scheme_sweep
from quantviz.teach import costs
from tests.apptest_helpers import open_page

PAGE = "what_it_costs.py"


def test_the_scheme_map_has_one_trace_per_family_the_float_line_and_the_chosen_ring():
    points = scheme_sweep("digits", schemes=("int4-per-tensor", "int4-per-channel", "int4-g32", "NF4"))
    fig = task_figures.scheme_map_figure(points, "accuracy", float_value=0.9756, chosen="NF4", title="t")
    names = [t.name for t in fig.data]
    assert names == [
        "integer, per tensor",
        "integer, per channel",
        "integer, per group",
        "block format",
        "chosen",
        "float",
    ]
    nf4 = next(p for p in points if p.weights == "NF4")
    assert fig.data[4].x[0] == nf4.bits_per_weight and fig.data[4].y[0] == pytest.approx(100 * nf4.value)
    assert list(fig.data[5].y) == [pytest.approx(97.56)] * 2
    sqnr = task_figures.scheme_map_figure(points, "accuracy", y="sqnr", title="t")
    assert [float(y) for t in sqnr.data for y in t.y] == [p.weight_sqnr_db for p in points]
    assert task_figures.scheme_map_figure([], "accuracy").layout.annotations[0].text == "Nothing to draw"


def test_the_sensitivity_bars_mark_the_layer_of_largest_kl():
    layer_costs = [LayerCost(n, 10, 0.9, kl, 1.0, 10.0) for n, kl in (("a", 0.1), ("b", 0.3), ("c", 0.2))]
    fig = task_figures.sensitivity_figure(layer_costs)
    colours = list(fig.data[0].marker.color)
    assert colours.count(task_figures.VERMILLION) == 1 and colours[1] == task_figures.VERMILLION


def test_the_digit_pictures_are_capped_and_titled_with_both_answers():
    images = np.random.default_rng(0).random((20, 64))
    fig = task_figures.digits_figure(images, np.arange(20) % 10, np.arange(20) % 10, (np.arange(20) + 1) % 10)
    assert len(fig.data) == task_figures.MAX_IMAGES
    assert fig.layout.annotations[0].text == "0: float 0, now 1"
    assert "None" in task_figures.digits_figure(images[:0], [], [], []).layout.annotations[0].text


def test_the_page_shows_the_numbers_evaluate_computes():
    at = open_page(PAGE, {"wc_bits": "2", "wc_gran": "per-channel"})
    assert not at.exception
    r = evaluate("digits", "int2-per-channel")
    shown = {m.label: m.value for m in at.metric}
    assert shown["quantized accuracy"] == costs.metric_text("accuracy", r.value)
    assert shown["float accuracy"] == costs.metric_text("accuracy", r.float_value)
    assert costs.verdict(r) in [m.value for m in at.markdown]
    wrong = costs.mistakes(r, load("digits").labels).now_wrong.size
    pictures = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if '"Now wrong' in c.proto.spec]
    assert len(pictures) == 1
    assert sum(t["type"] == "heatmap" for t in pictures[0]["data"]) == min(wrong, task_figures.MAX_IMAGES) > 0


def test_a_link_to_a_block_format_opens_that_format():
    at = open_page(PAGE, {"wc_kind": "block", "wc_fmt": "Q4_0", "wc_acts": "int8-per-token"})
    assert not at.exception
    r = evaluate("digits", "Q4_0", "int8-per-token")
    assert {m.label: m.value for m in at.metric}["bits per weight"] == "4.5"
    assert costs.verdict(r) in [m.value for m in at.markdown]


def test_a_bad_link_value_falls_back_to_the_default_with_a_message():
    at = open_page(PAGE, {"wc_fmt": "Q9_9"})
    assert not at.exception
    assert any("Q9\\_9" in w.value and "using the default NF4" in w.value for w in at.warning)
