"""The number line (reals over codes, each value joined to its code) and the staircase with its error sawtooth.

Each is computed apart (a small info object) and drawn by small helpers; no quantizing happens here.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from quantviz.app.figure_style import (
    BLUE,
    CHOSEN,
    CLIPPED,
    GREEN,
    GREY,
    INK,
    MAX_CODE_LABELS,
    MAX_CODE_MARKERS,
    MAX_LINKS,
    ORANGE,
    PURPLE,
    REPRESENTABLE,
    TEXT_BLUE,
    VERMILLION,
    _band,
    _layout,
)
from quantviz.metrics import TransferCurve
from quantviz.qparams import QParams
from quantviz.teach.fmt import fmt


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
        landed = (vq.astype(np.int64) - z) * s  # widened: stored codes (uint8, ...) would wrap
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
