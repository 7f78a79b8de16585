"""Figure builders tested on their data and layout, never through a browser."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

import quantviz as qv
from quantviz.app import figures
from quantviz.calibrate import calibrate_all
from quantviz.formats import compare_formats
from quantviz.metrics import sqnr_by_bits, transfer_curve
from quantviz.samples import sample_data

OKABE_ITO = {
    figures.BLACK,
    figures.ORANGE,
    figures.SKY,
    figures.GREEN,
    figures.YELLOW,
    figures.BLUE,
    figures.VERMILLION,
    figures.PURPLE,
    figures.GREY,
}


def _titled(fig: go.Figure) -> None:
    """A title, and every axis titled or labelled (a shared x axis is titled once, under the last row)."""
    assert fig.layout.title.text
    xs = [fig.layout[k] for k in fig.layout if k.startswith("xaxis")]
    ys = [fig.layout[k] for k in fig.layout if k.startswith("yaxis")]
    assert any(a.title.text for a in xs)
    assert all(a.title.text or a.ticktext for a in ys)


def _weight(fig: go.Figure) -> int:
    return len(fig.to_json())


def test_number_line_codes_and_zero_point() -> None:
    qp = qv.choose_qparams(-1, 1, bits=3)
    values = np.array([-1.0, 0.2, 5.0])
    fig = figures.number_line_figure(qp, chosen_range=(-1, 1), values=values, codes=qv.quantize(values, qp))
    _titled(fig)
    codes = next(t for t in fig.data if t.name == "codes")
    assert list(codes.customdata) == list(range(8))  # all 8 codes drawn at 3 bits
    assert np.allclose(codes.x, (np.arange(8) - qp.zero_point) * qp.scale)  # under the value each stands for
    zero = next(t for t in fig.data if (t.name or "").startswith("real 0"))
    assert list(zero.x) == [0, 0] and str(qp.zero_point) in zero.name
    assert any(s.fillcolor == figures.VERMILLION for s in fig.layout.shapes)  # 5.0 lies in a clipped zone
    links = next(t for t in fig.data if t.name == "value → its code")
    assert len(links.x) == 3 * values.size


def test_number_line_many_codes_are_labelled_sparingly_and_stay_light() -> None:
    qp = qv.choose_qparams(-1, 1, bits=16)
    x = sample_data("normal", 1_000_000, 0)
    fig = figures.number_line_figure(qp, chosen_range=(-1, 1), values=x, codes=qv.quantize(x, qp))
    assert not any(t.name == "codes" for t in fig.data)
    labels = next(t for t in fig.data if t.mode == "text")
    assert len(labels.text) <= figures.MAX_CODE_LABELS + 3 and str(qp.zero_point) in labels.text
    values = next(t for t in fig.data if (t.name or "").startswith("values"))
    assert len(values.x) <= figures.MAX_LINKS
    assert _weight(fig) < 100_000


def test_transfer_figure_staircase_and_band() -> None:
    qp = qv.choose_qparams(-1, 1, bits=2)
    curve = transfer_curve(qp, -2, 2)
    fig = figures.transfer_figure(curve, qp, chosen_range=(-1, 1))
    _titled(fig)
    stair = next(t for t in fig.data if t.name == "dequantized x")
    levels = (np.arange(4) - qp.zero_point) * qp.scale
    assert np.abs(np.asarray(stair.y, dtype=np.float64)[:, None] - levels[None, :]).min(axis=1).max() < 1e-6
    assert any(abs(s.y1 - qp.scale / 2) < 1e-9 for s in fig.layout.shapes if s.type == "rect")
    assert _weight(fig) < 100_000


def test_error_histogram_density_and_clipping_apart() -> None:
    qp = qv.choose_qparams(-2, 2)
    t = qv.quantize_trace(sample_data("normal", 100_000, 1), qp)
    fig = figures.error_histogram_figure(t.error[~t.clipped], t.error[t.clipped], qp.scale)
    bars = fig.data[0]
    assert abs(np.sum(bars.y) * bars.width - 1) < 0.05  # a density
    assert fig.data[1].y[2] == 1 / qp.scale  # the Uniform(-s/2, s/2) reference
    assert any(tr.name == "clipped values" for tr in fig.data)
    assert _weight(fig) < 100_000


def test_sqnr_figure_has_the_rule() -> None:
    x = sample_data("uniform", 20_000, 0)
    curve = sqnr_by_bits(x, -1, 1, signed=True)
    fig = figures.sqnr_figure(curve)
    _titled(fig)
    measured = next(t for t in fig.data if t.name == "measured")
    assert list(measured.x) == list(range(2, 17))
    slope = np.diff(fig.data[0].y)  # s = range / (2^b - 1): the step ratio tends to 2, so +6.02 dB per bit
    assert np.allclose(slope[-6:], 20 * np.log10(2), atol=0.01)
    assert (np.abs(np.asarray(measured.y) - np.asarray(fig.data[0].y))[4:] < 1.0).all()  # uniform data follows the rule


def test_histogram_empty_and_heavy() -> None:
    empty = figures.histogram_figure(np.array([]))
    assert empty.layout.annotations[0].text == "no values"
    heavy = figures.histogram_figure(sample_data("normal", 2_000_000, 0), ranges={"r": (-1, 1)})
    assert _weight(heavy) < 100_000 and len(heavy.data[0].x) == 80


def test_beyond_figures() -> None:
    x = sample_data("outliers", 20_000, 0)
    calibrations, curve = calibrate_all(x)
    fig = figures.clipping_figure(curve, calibrations)
    _titled(fig)
    assert [t.name.split(":")[0] for t in fig.data[3:]] == [c.method for c in calibrations]
    formats = compare_formats(x)
    fig = figures.formats_figure(formats)
    assert list(fig.layout.yaxis.ticktext) == [r.name for r in formats]
    heat = figures.heatmap_figure(
        np.abs(np.random.default_rng(0).normal(size=(300, 500))), title="t", x_title="c", y_title="r"
    )
    assert np.asarray(heat.data[0].z).shape == (60, 63) or max(np.asarray(heat.data[0].z).shape) <= 64
    qp = qv.choose_qparams(-1, 1)
    curve = transfer_curve(qp, -2, 2)
    mask = qv.ste_mask(curve.x, qp)
    fig = figures.ste_figure(curve, mask.astype(float), curve.x, mask)
    assert set(np.asarray(fig.data[1].y)) <= {0.0, 1.0}


def test_palette_is_colour_blind_safe() -> None:
    qp = qv.choose_qparams(-1, 1)
    fig = figures.number_line_figure(qp, chosen_range=(-1, 1))
    colours = {t.marker.color for t in fig.data if t.marker and isinstance(t.marker.color, str)}
    colours |= {s.fillcolor for s in fig.layout.shapes if s.fillcolor}
    assert colours <= OKABE_ITO


def test_bars_keep_the_given_order() -> None:
    fig = figures.bars_figure(["12", "3", "7"], {"a": np.array([1.0, 2.0, 3.0])}, title="t", x_title="row", y_title="v")
    assert fig.layout.xaxis.type == "category" and list(fig.data[0].x) == ["12", "3", "7"]
