"""Pure figure builders: data in, plotly ``go.Figure`` out. No quantizing happens here.

Charts stay light: histograms are binned with numpy, lines are sampled, markers capped,
and arrays go to plotly as numpy arrays (sent base64-encoded).
Colours are the Okabe-Ito palette, safe for colour-blind readers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from quantviz.metrics import SqnrCurve, TransferCurve
from quantviz.qparams import QParams
from quantviz.teach.fmt import fmt

# Okabe-Ito
BLACK, ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE = (
    "#000000",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
)
GREY = "#8C8C8C"
# Ink for lines and labels that must read on a light and a dark background alike (>= 3:1 on white and on
# Streamlit's dark #0E1117): grey for neutral lines, a mid blue for text. Black vanishes in the dark.
INK, TEXT_BLUE = GREY, "#2B7FC4"
# What the text calls each colour, so that a sentence and the picture agree.
COLOUR_NAMES = {
    BLACK: "black",
    ORANGE: "orange",
    SKY: "sky blue",
    GREEN: "green",
    YELLOW: "yellow",
    BLUE: "blue",
    TEXT_BLUE: "blue",
    VERMILLION: "red-orange",
    PURPLE: "pink",
    GREY: "grey",
}
LEARNING, STUCK = GREEN, VERMILLION
# The number line's zones, and the words for them (the clipped zone is drawn pale: 12 % of its colour).
CHOSEN, REPRESENTABLE, CLIPPED = SKY, GREEN, VERMILLION
ZONE_WORDS = {CHOSEN: "blue", REPRESENTABLE: "green", CLIPPED: "pale red"}
MAX_LINKS = 60
MAX_CODE_MARKERS = 64
MAX_CODE_LABELS = 9


APP_FONT = '"Source Sans 3", "Source Sans Pro", sans-serif'  # Streamlit's own, so charts read like the page
TITLE_CHARS = 44  # a title line that fits a 390-pixel phone at the title's size


def wrap_title(title: str, width: int = TITLE_CHARS) -> str:
    """Break a long chart title into lines of at most ``width`` characters (plotly does not wrap).

    >>> wrap_title("Forward: the staircase. Backward: the gradient that gets through")
    'Forward: the staircase. Backward: the<br>gradient that gets through'
    """
    lines: list[str] = []
    for word in title.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    lines = wrap_title(title).count("<br>") + 1
    fig.update_layout(
        title={"text": wrap_title(title), "x": 0, "xanchor": "left", "font": {"size": 15}},
        font={"family": APP_FONT, "size": 13},
        height=height,
        margin={"l": 10, "r": 10, "t": 30 + 20 * lines, "b": 10},
        # Legend at the foot of the figure (container coordinates): it never covers the title,
        # the axis title or the data, whatever the width; plotly grows the bottom margin for it.
        legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0.0, "xanchor": "left", "x": 0},
        hovermode="closest",
    )
    # Log axes label each power of ten only: plotly's in-between labels come out smaller and crowd the axis.
    fig.for_each_xaxis(lambda a: a.update(dtick=1) if a.type == "log" else None)
    fig.for_each_yaxis(lambda a: a.update(dtick=1) if a.type == "log" else None)
    return fig


def _band(x0: float, x1: float, colour: str, opacity: float) -> dict:
    """A full-height shaded band between x0 and x1, as a plain shape dict."""
    return {
        "type": "rect",
        "xref": "x",
        "yref": "paper",
        "x0": x0,
        "x1": x1,
        "y0": 0,
        "y1": 1,
        "fillcolor": colour,
        "opacity": opacity,
        "line": {"width": 0},
        "layer": "below",
    }


def empty_figure(title: str, message: str) -> go.Figure:
    """Return a figure with only a message (for empty input): never an exception."""
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 16})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, height=250)


def _code_labels(qp: QParams, lo_code: int, hi_code: int) -> np.ndarray:
    """Codes to label: all of them when few, else about MAX_CODE_LABELS including the ends and z."""
    count = hi_code - lo_code + 1
    if count <= MAX_CODE_LABELS:
        return np.arange(lo_code, hi_code + 1)
    step = int(np.ceil(count / (MAX_CODE_LABELS - 1)))
    # Nice steps (1, 2, 5 x 10^k) aligned to z, so z is always labelled.
    nice = min(v * 10**k for k in range(6) for v in (1, 2, 5) if v * 10**k >= step)
    start = qp.zero_point - ((qp.zero_point - lo_code) // nice) * nice
    codes = set(range(start, hi_code + 1, nice)) | {lo_code, hi_code, qp.zero_point}
    # Drop labels that would crowd an end label.
    ends = {lo_code, hi_code, qp.zero_point}
    keep = [c for c in codes if c in ends or min(abs(c - e) for e in ends) >= nice / 2]
    return np.array(sorted(c for c in keep if lo_code <= c <= hi_code))


class NumberLineInfo(NamedTuple):
    """What the number line draws, computed: the axis, the codes on it and the values joined to their codes."""

    lo: float  # the real axis, padded, finite
    hi: float
    lo_code: int  # the codes under the axis, clamped to the stored grid
    hi_code: int
    shown_values: np.ndarray  # at most MAX_LINKS values, evenly picked in sorted order
    shown_codes: np.ndarray
    landed: np.ndarray  # where each shown value lands back on the real axis
    total_values: int


def _number_line_info(
    qp: QParams, chosen_range: tuple[float, float], values: np.ndarray | None, codes: np.ndarray | None
) -> NumberLineInfo:
    """The axis range, the visible codes and the picked value links of the number line."""
    rmin, rmax = chosen_range
    s, z = qp.scale, qp.zero_point
    xs = [rmin, rmax, qp.stored_min, qp.stored_max, 0.0]
    if values is not None and values.size:
        xs += [float(values.min()), float(values.max())]
    # keep the axis finite whatever the values (1e308 - -1e308 overflows)
    lo, hi = max(min(xs), -1e306), min(max(xs), 1e306)
    pad = 0.08 * (hi - lo or 1.0)
    lo, hi = lo - pad, hi + pad
    vx = vq = landed = np.array([])
    total = 0
    if values is not None and values.size and codes is not None:
        total = values.size
        pick = np.unique(np.linspace(0, values.size - 1, min(values.size, MAX_LINKS)).round().astype(int))
        order = np.argsort(values)[pick] if values.size > MAX_LINKS else pick
        vx, vq = values[order], codes[order]
        landed = (vq - z) * s
    return NumberLineInfo(
        lo=lo,
        hi=hi,
        lo_code=int(np.clip(np.floor(lo / s) + z, qp.storage_min, qp.storage_max)),
        hi_code=int(np.clip(np.ceil(hi / s) + z, qp.storage_min, qp.storage_max)),
        shown_values=vx,
        shown_codes=vq,
        landed=landed,
        total_values=total,
    )


def number_line_figure(
    qp: QParams,
    *,
    chosen_range: tuple[float, float],
    values: np.ndarray | None = None,
    codes: np.ndarray | None = None,
    title: str = "Real number line (top) and integer grid (bottom)",
    height: int = 420,
) -> go.Figure:
    """Return the two-axis number line: reals on top, codes below, joined where each value lands.

    Parameters
    ----------
    qp : QParams
        The parameters; code q is drawn under its real value (q - z) * s.
    chosen_range : (float, float)
        The range the user asked for (drawn as a band on the real axis).
    values, codes : arrays, optional
        Values and their codes; at most MAX_LINKS are joined by lines (evenly picked).
    """
    info = _number_line_info(qp, chosen_range, values, codes)
    fig = go.Figure()
    # One layout update for all shapes (plotly validates each add_shape call separately, which is slow).
    fig.update_layout(shapes=_number_line_shapes(qp, chosen_range, info))
    fig.add_traces(_zone_legend(qp, chosen_range, info))
    fig.add_traces(_code_traces(qp, info))
    # The zero point: real 0 and code z are the same point (the dashed line is among the shapes).
    fig.add_trace(
        go.Scatter(
            x=[0, 0],
            y=[1, 0],
            mode="markers",
            marker={"size": 13, "color": ORANGE, "symbol": ["circle", "diamond"]},
            name=f"real 0 ↔ zero point z = {qp.zero_point}",
            hovertemplate="real 0 is stored as code " + str(qp.zero_point) + "<extra></extra>",
        )
    )
    if info.total_values:
        fig.add_traces(_value_traces(info))
    fig.update_xaxes(range=[info.lo, info.hi], title_text="real value r", zeroline=False, showgrid=False)
    fig.update_yaxes(
        range=[-0.3, 1.25],
        tickvals=[0, 1],
        ticktext=["integer q", "real r"],
        showgrid=False,
        zeroline=False,
        fixedrange=True,
    )
    return _layout(fig, title, height)


def _number_line_shapes(qp: QParams, chosen_range: tuple[float, float], info: NumberLineInfo) -> list[dict]:
    """Clipping zones, the chosen and representable ranges, the two axes and the dashed zero-point tie."""
    lo, hi = info.lo, info.hi
    shapes = []
    if lo < qp.stored_min:
        shapes.append(_band(lo, qp.stored_min, CLIPPED, 0.12))
    if hi > qp.stored_max:
        shapes.append(_band(qp.stored_max, hi, CLIPPED, 0.12))
    line = {"width": 0}
    shapes.append(
        {"type": "rect", "x0": chosen_range[0], "x1": chosen_range[1], "y0": 0.93, "y1": 1.07}
        | {"fillcolor": CHOSEN, "opacity": 0.45, "line": line}
    )
    shapes.append(
        {"type": "rect", "x0": qp.stored_min, "x1": qp.stored_max, "y0": -0.07, "y1": 0.07}
        | {"fillcolor": REPRESENTABLE, "opacity": 0.35, "line": line}
    )
    shapes += [
        {"type": "line", "x0": lo, "x1": hi, "y0": y, "y1": y, "line": {"color": GREY, "width": 2}} for y in (0.0, 1.0)
    ]
    shapes.append(
        {"type": "line", "x0": 0, "x1": 0, "y0": -0.02, "y1": 1.02}
        | {"line": {"color": ORANGE, "width": 3, "dash": "dash"}}
    )
    return shapes


def _legend_square(colour: str, name: str, opacity: float | None = None) -> go.Scatter:
    """A legend entry for a shape (shapes have none of their own)."""
    marker = {"size": 12, "color": colour, "symbol": "square"} | ({} if opacity is None else {"opacity": opacity})
    return go.Scatter(x=[None], y=[None], mode="markers", marker=marker, name=name)


def _zone_legend(qp: QParams, chosen_range: tuple[float, float], info: NumberLineInfo) -> list[go.Scatter]:
    """Legend entries for the chosen range, the representable range and (where drawn) the clipped zone."""
    rmin, rmax = chosen_range
    entries = [
        _legend_square(CHOSEN, f"chosen range [{fmt(rmin, 6)}, {fmt(rmax, 6)}]"),
        _legend_square(REPRESENTABLE, f"representable [{fmt(qp.stored_min, 6)}, {fmt(qp.stored_max, 6)}]"),
    ]
    if info.lo < qp.stored_min or info.hi > qp.stored_max:
        entries.append(_legend_square(CLIPPED, "clipped zone", opacity=0.3))
    return entries


def _code_traces(qp: QParams, info: NumberLineInfo) -> list[go.Scatter]:
    """The code ticks on the integer axis (when few enough) and their labels."""
    s, z = qp.scale, qp.zero_point
    count = info.hi_code - info.lo_code + 1
    traces = []
    if count <= MAX_CODE_MARKERS:
        all_codes = np.arange(info.lo_code, info.hi_code + 1)
        traces.append(
            go.Scatter(
                x=(all_codes - z) * s,
                y=np.zeros(count),
                mode="markers",
                name="codes",
                marker={"symbol": "line-ns-open", "size": 14, "color": BLUE, "line": {"width": 2}},
                customdata=all_codes,
                hovertemplate="code %{customdata}<br>stands for %{x:.6g}<extra></extra>",
            )
        )
    labelled = _code_labels(qp, info.lo_code, info.hi_code)
    traces.append(
        go.Scatter(
            x=(labelled - z) * s,
            y=np.full(labelled.size, -0.16),
            mode="text",
            text=[str(c) for c in labelled],
            textfont={"color": TEXT_BLUE},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    return traces


def _value_traces(info: NumberLineInfo) -> list[go.Scatter]:
    """The shown values on the real axis and a line from each to where its code stands."""
    vx, vq, landed = info.shown_values, info.shown_codes, info.landed
    link_x = np.column_stack([vx, landed, np.full(vx.size, np.nan)]).ravel()
    link_y = np.tile([1.0, 0.0, np.nan], vx.size)
    shown = "values" if info.total_values <= MAX_LINKS else f"values ({vx.size} of {info.total_values:,} shown)"
    return [
        go.Scatter(
            x=link_x,
            y=link_y,
            mode="lines",
            line={"color": PURPLE, "width": 1.2},
            name="value → its code",
            hoverinfo="skip",
        ),
        go.Scatter(
            x=vx,
            y=np.ones(vx.size),
            mode="markers",
            marker={"size": 9, "color": PURPLE, "line": {"width": 1, "color": INK}},
            name=shown,
            customdata=np.column_stack([vq, landed]),
            hovertemplate="x = %{x:.8g}<br>q = %{customdata[0]}<br>back to %{customdata[1]:.8g}<extra></extra>",
        ),
    ]


def transfer_figure(
    curve: TransferCurve,
    qp: QParams,
    *,
    chosen_range: tuple[float, float],
    title: str = "Staircase: x and its dequantized value, with the error below",
) -> go.Figure:
    """Return the staircase x -> dequantized(x) over the error sawtooth (two rows, shared x)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.06)
    # float32 is ample for drawing and halves what is sent
    x = curve.x.astype(np.float32)
    fig.add_trace(
        go.Scatter(
            x=x[[0, -1]],
            y=x[[0, -1]],
            mode="lines",
            line={"color": GREY, "dash": "dot"},
            name="no quantization (y = x)",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=curve.dequantized.astype(np.float32),
            mode="lines",
            line={"color": BLUE, "width": 2, "shape": "hv"},
            name="dequantized x",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=curve.error.astype(np.float32),
            mode="lines",
            line={"color": VERMILLION, "width": 1.5},
            name="error = x̂ − x",
        ),
        row=2,
        col=1,
    )
    half = qp.scale / 2
    fig.add_hrect(y0=-half, y1=half, fillcolor=GREEN, opacity=0.15, line_width=0, row=2, col=1)
    for edge in (qp.real_min, qp.real_max):
        if x[0] <= edge <= x[-1]:
            fig.add_vline(x=edge, line={"color": GREEN, "dash": "dash"})
    fig.update_yaxes(title_text="dequantized", row=1, col=1)
    fig.update_yaxes(title_text="error", row=2, col=1)
    fig.update_xaxes(title_text="real value x", row=2, col=1)
    return _layout(fig, title, height=480)


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
