"""Figures of "What it costs": the task metric and the weight SQNR against bits per weight, per-layer
sensitivity, and the digits the quantized network now gets wrong. Pure plotly; nothing is evaluated here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from quantviz.app.figures import BLUE, GREEN, GREY, ORANGE, PURPLE, SKY, VERMILLION, _layout, by_family, empty_figure
from quantviz.tasks.sweeps import LayerCost, SchemePoint

FAMILY_COLOURS = {
    "integer, per tensor": VERMILLION,
    "integer, per channel": BLUE,
    "integer, per group": GREEN,
    "block format": ORANGE,
}
MAX_IMAGES = 12
METRIC_AXES = {"accuracy": "test accuracy (%)", "perplexity": "perplexity (lower is better)"}


def _scale(metric: str, value: float) -> float:
    return 100 * value if metric == "accuracy" else value


def scheme_map_figure(
    points: Sequence[SchemePoint],
    metric: str,
    *,
    y: str = "metric",
    float_value: float | None = None,
    chosen: str | None = None,
    title: str = "",
) -> go.Figure:
    """Return one marker per weight scheme at (bits per weight, task metric or weight SQNR), coloured by family.

    ``y`` is ``"metric"`` or ``"sqnr"``; ``float_value`` draws the float network as a dashed line (metric only);
    ``chosen`` rings the scheme on screen.
    """
    if not points:
        return empty_figure(title or "No schemes", "Nothing to draw")
    y_of = (lambda p: _scale(metric, p.value)) if y == "metric" else (lambda p: p.weight_sqnr_db)
    fig = go.Figure()
    for family, colour, pts in by_family(points, FAMILY_COLOURS):
        fig.add_trace(_family_trace(family, colour, pts, [y_of(p) for p in pts], metric))
    picked = [p for p in points if p.weights == chosen]
    if picked:
        fig.add_trace(
            go.Scatter(
                x=[picked[0].bits_per_weight],
                y=[y_of(picked[0])],
                mode="markers",
                name="chosen",
                marker={"size": 18, "color": "rgba(0,0,0,0)", "line": {"color": PURPLE, "width": 3}},
                hoverinfo="skip",
            )
        )
    if y == "metric" and float_value is not None:
        # a trace, not add_hline: a shape's annotation on a log axis reads its y as log10 and stretches the axis
        xs = [p.bits_per_weight for p in points]
        fig.add_trace(
            go.Scatter(
                x=[min(xs), max(xs)],
                y=[_scale(metric, float_value)] * 2,
                mode="lines",
                name="float",
                line={"color": GREY, "dash": "dash"},
                hoverinfo="skip",
            )
        )
    fig.update_xaxes(title_text="bits per weight (scales included)")
    fig.update_yaxes(
        title_text=METRIC_AXES[metric] if y == "metric" else "weight SQNR (dB)",
        type="log" if (y == "metric" and metric == "perplexity") else "linear",
    )
    return _layout(fig, title, height=420)


def _family_trace(family: str, colour: str, pts: Sequence[SchemePoint], ys: list[float], metric: str) -> go.Scatter:
    """One family's markers, each hovering its SQNR, task metric and KL divergence."""
    shown = "accuracy %{customdata[1]:.2f} %" if metric == "accuracy" else "perplexity %{customdata[1]:.4f}"
    return go.Scatter(
        x=[p.bits_per_weight for p in pts],
        y=ys,
        mode="markers",
        name=family,
        marker={"size": 9, "color": colour},
        text=[p.weights for p in pts],
        customdata=[[p.weight_sqnr_db, _scale(metric, p.value), p.kl_divergence] for p in pts],
        hovertemplate=(
            "%{text}: %{x:.3f} bits/weight<br>SQNR %{customdata[0]:.2f} dB<br>"
            + shown
            + "<br>KL %{customdata[2]:.4f} nats<extra></extra>"
        ),
    )


def sensitivity_figure(
    costs: Sequence[LayerCost], *, title: str = "Quantized alone: how far each layer moves the output"
) -> go.Figure:
    """Return one bar per layer: the mean KL divergence from float when only that layer is quantized."""
    if not costs:
        return empty_figure(title, "No layers")
    worst = max(c.kl_divergence for c in costs)
    fig = go.Figure(
        go.Bar(
            x=[c.layer for c in costs],
            y=[c.kl_divergence for c in costs],
            marker_color=[VERMILLION if c.kl_divergence == worst else SKY for c in costs],
            customdata=[[c.weights_count, c.weight_sqnr_db, c.top1_agreement * 100] for c in costs],
            hovertemplate="%{x}: KL %{y:.4g} nats<br>%{customdata[0]} weights, SQNR %{customdata[1]:.2f} dB<br>"
            "same answer %{customdata[2]:.2f} %<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="layer quantized (the others float)", type="category")
    fig.update_yaxes(title_text="mean KL from float (nats)")
    return _layout(fig, title, height=360)


def digits_figure(
    images: np.ndarray,
    truth: np.ndarray,
    float_pred: np.ndarray,
    quant_pred: np.ndarray,
    *,
    title: str = "Now wrong (label: float answer, now)",
) -> go.Figure:
    """Return up to 12 8×8 digit images, each titled with its label, the float and the quantized answer."""
    n = min(len(images), MAX_IMAGES)
    if n == 0:
        return empty_figure(title, "None: every image the float network got right is still right")
    cols = min(n, 6)
    rows = (n + cols - 1) // cols
    titles = [f"{int(truth[i])}: float {int(float_pred[i])}, now {int(quant_pred[i])}" for i in range(n)]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.02, vertical_spacing=0.12)
    for i in range(n):
        fig.add_trace(
            go.Heatmap(
                z=np.asarray(images[i], np.float32).reshape(8, 8),
                colorscale="Greys",
                zmin=0,
                zmax=1,
                showscale=False,
                hovertemplate="pixel %{z:.2f}<extra></extra>",
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.update_annotations(font_size=11)
    _layout(fig, title, height=100 + 150 * rows)
    return fig.update_layout(margin={"t": 80})
