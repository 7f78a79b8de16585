"""Pure figure builders: data in, plotly ``go.Figure`` out. No quantizing happens here.

Charts stay light: histograms are binned with numpy, lines are sampled, markers capped,
and arrays go to plotly as numpy arrays (sent base64-encoded).
Colours are the Okabe-Ito palette, safe for colour-blind readers.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# The style and the number line live in their own modules; their names stay importable from here, where the pages,
# quantviz.plot and the other figure modules have always found them.
from quantviz.app.figure_style import (  # noqa: F401
    APP_FONT,
    BLACK,
    BLUE,
    CHOSEN,
    CLIPPED,
    COLOUR_NAMES,
    GREEN,
    GREY,
    INK,
    LEARNING,
    MAX_CODE_LABELS,
    MAX_CODE_MARKERS,
    MAX_LINKS,
    ORANGE,
    PURPLE,
    REPRESENTABLE,
    SKY,
    STUCK,
    TEXT_BLUE,
    TITLE_CHARS,
    VERMILLION,
    YELLOW,
    ZONE_WORDS,
    _band,
    _layout,
    empty_figure,
    wrap_title,
)
from quantviz.app.line_figures import NumberLineInfo, number_line_figure, transfer_figure  # noqa: F401
from quantviz.metrics import SqnrCurve, TransferCurve
from quantviz.teach.fmt import fmt


def error_histogram_figure(
    rounding_errors: np.ndarray,
    clipping_errors: np.ndarray,
    scale: float,
    *,
    bins: int = 60,
    title: str = "Rounding error inside the range, clipping error apart",
) -> go.Figure:
    """Return the rounding-error histogram (density) against Uniform(-s/2, s/2), with clipping errors beside it."""
    has_clip = clipping_errors.size > 0
    fig = make_subplots(
        rows=1,
        cols=2 if has_clip else 1,
        column_widths=[0.65, 0.35] if has_clip else None,
        subplot_titles=("rounding error (values inside the range)", f"clipping error ({clipping_errors.size:,} values)")
        if has_clip
        else None,
    )
    if rounding_errors.size:
        edge = 0.55 * scale
        density, edges = np.histogram(rounding_errors, bins=bins, range=(-edge, edge), density=True)
        centers = (edges[:-1] + edges[1:]) / 2
        fig.add_trace(
            go.Bar(x=centers, y=density, width=edges[1] - edges[0], marker_color=SKY, name="measured density"),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=[-edge, -scale / 2, -scale / 2, scale / 2, scale / 2, edge],
                y=[0, 0, 1 / scale, 1 / scale, 0, 0],
                mode="lines",
                line={"color": INK, "width": 2, "dash": "dash"},
                name="Uniform(−s/2, s/2): 1/s",
            ),
            row=1,
            col=1,
        )
    if has_clip:
        counts, edges = np.histogram(clipping_errors, bins=min(bins, 40))
        centers = (edges[:-1] + edges[1:]) / 2
        fig.add_trace(
            go.Bar(
                x=centers, y=counts, width=(edges[1] - edges[0]) or None, marker_color=VERMILLION, name="clipped values"
            ),
            row=1,
            col=2,
        )
        fig.update_xaxes(title_text="error", row=1, col=2)
        fig.update_yaxes(title_text="count", row=1, col=2)
    fig.update_xaxes(title_text="error = dequantized − x", row=1, col=1)
    fig.update_yaxes(title_text="density", row=1, col=1)
    fig.update_layout(bargap=0)
    return _layout(fig, title, height=380)


def sqnr_figure(curve: SqnrCurve, *, title: str = "SQNR against bit width") -> go.Figure:
    """Return measured SQNR per bit width beside the uniform-noise model (6.02 dB per bit)."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=curve.bits,
            y=curve.predicted_db,
            mode="lines",
            line={"color": GREY, "dash": "dash"},
            name="model: noise s²/12 (+6.02 dB per bit)",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=curve.bits,
            y=curve.measured_db,
            mode="lines+markers",
            line={"color": BLUE, "width": 2},
            marker={"size": 8},
            name="measured",
        )
    )
    fig.update_xaxes(title_text="bits", dtick=1)
    fig.update_yaxes(title_text="SQNR (dB)")
    return _layout(fig, title, height=360)


def histogram_figure(
    values: np.ndarray,
    *,
    ranges: dict[str, tuple[float, float]] | None = None,
    bins: int = 80,
    title: str = "Distribution of the values",
    log_y: bool = False,
) -> go.Figure:
    """Return a binned histogram of ``values`` with vertical lines at each named range's ends."""
    if values.size == 0:
        return empty_figure(title, "no values")
    counts, edges = np.histogram(values, bins=bins)
    centers = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure(go.Bar(x=centers, y=counts, width=(edges[1] - edges[0]) or None, marker_color=SKY, name="values"))
    colours = [GREEN, ORANGE, PURPLE, VERMILLION, BLUE]
    for (name, (lo, hi)), colour in zip((ranges or {}).items(), colours, strict=False):
        for edge in (lo, hi):
            fig.add_vline(x=edge, line={"color": colour, "dash": "dash", "width": 2})
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                line={"color": colour, "dash": "dash"},
                name=f"{name} [{fmt(lo, 5)}, {fmt(hi, 5)}]",
            )
        )
    fig.update_xaxes(title_text="value")
    fig.update_yaxes(title_text="count", type="log" if log_y else "linear")
    fig.update_layout(bargap=0)
    return _layout(fig, title, height=340)


def clipping_figure(
    curve, calibrations: list, *, title: str = "Total error against the clipping threshold"
) -> go.Figure:
    """Return MSE (total, rounding, clipping) against the threshold, each calibration method marked."""
    fig = go.Figure()
    t = curve.thresholds
    fig.add_trace(go.Scatter(x=t, y=curve.total_mse, mode="lines", line={"color": INK, "width": 4}, name="total MSE"))
    fig.add_trace(
        go.Scatter(x=t, y=curve.rounding_mse, mode="lines", line={"color": BLUE, "dash": "dash"}, name="rounding part")
    )
    fig.add_trace(
        go.Scatter(
            x=t, y=curve.clipping_mse, mode="lines", line={"color": VERMILLION, "dash": "dot"}, name="clipping part"
        )
    )
    colours = [GREEN, ORANGE, PURPLE, SKY]
    for cal, colour in zip(calibrations, colours, strict=False):
        threshold = max(abs(cal.rmin), abs(cal.rmax))
        y = float(np.interp(threshold, t, curve.total_mse))
        fig.add_trace(
            go.Scatter(
                x=[threshold],
                y=[y],
                mode="markers",
                marker={"size": 14, "color": colour, "symbol": "diamond", "line": {"width": 1, "color": INK}},
                name=f"{cal.method}: t = {fmt(threshold, 4)}",
            )
        )
    fig.update_xaxes(title_text="clipping threshold t (largest |value| kept)")
    fig.update_yaxes(title_text="MSE (log scale)", type="log")
    return _layout(fig, title, height=420)


def bars_figure(
    categories: list[str], series: dict[str, np.ndarray], *, title: str, x_title: str, y_title: str, log_y: bool = False
) -> go.Figure:
    """Return grouped bars: one bar group per category, one colour per series."""
    fig = go.Figure()
    for (name, values), colour in zip(series.items(), [SKY, ORANGE, GREEN, PURPLE, VERMILLION], strict=False):
        fig.add_trace(go.Bar(x=categories, y=values, name=name, marker_color=colour))
    fig.update_xaxes(title_text=x_title, type="category")  # keep the given order, even for numeric labels
    fig.update_yaxes(title_text=y_title, type="log" if log_y else "linear")
    fig.update_layout(barmode="group")
    return _layout(fig, title, height=380)


def heatmap_figure(values: np.ndarray, *, title: str, x_title: str, y_title: str, max_cells: int = 64) -> go.Figure:
    """Return a heatmap of a matrix, block-averaged to at most max_cells × max_cells."""
    v = np.asarray(values, dtype=np.float64)
    rows, cols = v.shape
    rb, cb = int(np.ceil(rows / max_cells)), int(np.ceil(cols / max_cells))
    if rb > 1 or cb > 1:
        pad = np.full((int(np.ceil(rows / rb)) * rb, int(np.ceil(cols / cb)) * cb), np.nan)
        pad[:rows, :cols] = v
        v = np.nanmean(pad.reshape(pad.shape[0] // rb, rb, pad.shape[1] // cb, cb), axis=(1, 3))
    fig = go.Figure(go.Heatmap(z=v.astype(np.float32), colorscale="Cividis", colorbar={"title": {"text": "|error|"}}))
    fig.update_xaxes(title_text=x_title + (f" (blocks of {cb})" if cb > 1 else ""))
    fig.update_yaxes(title_text=y_title + (f" (blocks of {rb})" if rb > 1 else ""), autorange="reversed")
    return _layout(fig, title, height=420)


def formats_figure(results: list, *, title: str = "Where each format puts its values") -> go.Figure:
    """Return one row of markers per format at its representable values (same real axis)."""
    fig = go.Figure()
    colours = [BLUE, GREEN, VERMILLION, ORANGE, PURPLE]
    for i, (r, colour) in enumerate(zip(results, colours, strict=False)):
        fig.add_trace(
            go.Scatter(
                x=r.grid.astype(np.float32),
                y=np.full(r.grid.size, i),
                mode="markers",
                name=f"{r.name} ({r.grid.size} points shown)",
                marker={"symbol": "line-ns-open", "size": 16, "color": colour, "line": {"width": 1.5}},
            )
        )
    fig.update_yaxes(tickvals=list(range(len(results))), ticktext=[r.name for r in results], title_text="format")
    fig.update_xaxes(title_text="real value")
    return _layout(fig, title, height=360)


def ste_figure(
    curve: TransferCurve,
    mask: np.ndarray,
    values: np.ndarray,
    value_mask: np.ndarray,
    *,
    title: str = "Forward: the staircase. Backward: the gradient that gets through",
) -> go.Figure:
    """Return the fake-quant staircase over the STE gradient (1 inside the grid, 0 where values clip)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.06)
    x = curve.x.astype(np.float32)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=curve.dequantized.astype(np.float32),
            mode="lines",
            line={"color": BLUE, "shape": "hv"},
            name="forward: fake_quantize(x)",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=mask.astype(np.float32),
            mode="lines",
            line={"color": GREEN, "shape": "hv", "width": 3},
            name="backward: STE gradient",
        ),
        row=2,
        col=1,
    )
    pick = (
        np.unique(np.linspace(0, values.size - 1, min(values.size, 400)).round().astype(int))
        if values.size
        else np.array([], int)
    )
    v, m = values[pick], value_mask[pick]
    for learning, colour, name in ((True, LEARNING, "values that learn"), (False, STUCK, "values stuck (gradient 0)")):
        sel = m == learning
        # each value sits on the gradient it receives: 1 if it learns, 0 if clipped
        fig.add_trace(
            go.Scatter(
                x=v[sel].astype(np.float32),
                y=np.full(int(sel.sum()), 1.0 if learning else 0.0, dtype=np.float32),
                mode="markers",
                marker={"size": 7, "color": colour, "opacity": 0.7},
                name=name,
            ),
            row=2,
            col=1,
        )
    fig.update_yaxes(title_text="output", row=1, col=1)
    fig.update_yaxes(title_text="gradient", range=[-0.15, 1.15], tickvals=[0, 1], row=2, col=1)
    fig.update_xaxes(title_text="x", row=2, col=1)
    return _layout(fig, title, height=480)


def block_error_figure(
    values: np.ndarray, errors: np.ndarray, block_size: int, *, title: str = "Error of every value, block by block"
) -> go.Figure:
    """Return |error| per value with block boundaries marked: an outlier wrecks its own block only."""
    fig = go.Figure()
    idx = np.arange(values.size)
    block = idx // block_size
    for b, colour in zip(range(int(block.max()) + 1), [VERMILLION, BLUE, GREEN, PURPLE] * 64, strict=False):
        sel = block == b
        fig.add_trace(
            go.Bar(
                x=idx[sel],
                y=np.abs(errors[sel]).astype(np.float32),
                marker_color=colour,
                name=f"block {b}",
                hovertemplate="value %{x}<br>|error| %{y:.4g}<extra></extra>",
            )
        )
    for edge in range(block_size, values.size, block_size):
        fig.add_vline(x=edge - 0.5, line={"color": GREY, "dash": "dot"})
    fig.update_xaxes(title_text="value index")
    fig.update_yaxes(title_text="|dequantized − x|")
    fig.update_layout(bargap=0.05)
    return _layout(fig, title, height=320)


FAMILY_COLOURS = {"block": BLUE, "block + imatrix": ORANGE, "per tensor": VERMILLION, "per channel": GREEN}


def by_family(points: list, colours: dict[str, str] | None = None) -> list[tuple[str, str, list]]:
    """(family, colour, its points) for each family of ``colours`` (FAMILY_COLOURS) with points, in legend order."""
    colours = FAMILY_COLOURS if colours is None else colours
    groups = [(family, colour, [p for p in points if p.family == family]) for family, colour in colours.items()]
    return [group for group in groups if group[2]]


def formats_map_figure(
    points: list, *, title: str = "Every format: SQNR against bits per weight (scale overhead included)"
) -> go.Figure:
    """Return one marker per format at (bits per weight, SQNR), coloured by family; hover gives its rule."""
    fig = go.Figure()
    for family, colour, pts in by_family(points):
        fig.add_trace(
            go.Scatter(
                x=[p.bits_per_weight for p in pts],
                y=[p.sqnr_db for p in pts],
                name=family,
                mode="markers" if family == "block + imatrix" else "markers+text",  # beside their own labels: hover
                text=[p.name for p in pts],
                textposition="top center",
                textfont={"size": 10},
                marker={"size": 10, "color": colour},
                customdata=[[p.rule, fmt(p.max_error, 4)] for p in pts],
                hovertemplate="%{text}: %{x:.3f} bits/weight, SQNR %{y:.2f} dB<br>max |error| %{customdata[1]}<br>"
                "%{customdata[0]}<extra></extra>",
            )
        )
    fig.update_xaxes(title_text="bits per weight")
    fig.update_yaxes(title_text="SQNR (dB)")
    return _layout(fig, title, height=460)
