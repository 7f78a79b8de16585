"""Figures of the "Beyond rounding" page: pure builders from quantviz.algorithms results to plotly figures.

Each takes arrays or result objects, quantizes nothing, and draws at most a few hundred points per trace
(matrices are block-averaged to at most 64 × 64 cells).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from quantviz.algorithms import AWQResult, ColumnStep, CompareRow, RunningError, W8A8Error
from quantviz.app.figures import APP_FONT, BLUE, GREEN, GREY, ORANGE, PURPLE, SKY, VERMILLION, wrap_title

METHOD_COLOURS = {
    "RTN": GREY,
    "GPTQ": BLUE,
    "AWQ": ORANGE,
    "SmoothQuant W·A8": GREEN,
    "rotation + RTN": PURPLE,
    "rotation + GPTQ": VERMILLION,
}


def _figure(traces: list, title: str, xaxis: dict, yaxis: dict, height: int = 380, **layout) -> go.Figure:
    """The app's chart style (quantviz.app.figures._layout) set in one constructor call: plotly validates once,
    which keeps a slider move's figures a few times cheaper than building and then updating them."""
    if yaxis.get("type") == "log":
        yaxis = {**yaxis, "dtick": 1}
    text = wrap_title(title)
    return go.Figure(
        data=traces,
        layout={
            "title": {"text": text, "x": 0, "xanchor": "left", "font": {"size": 15}},
            "font": {"family": APP_FONT, "size": 13},
            "height": height,
            "margin": {"l": 10, "r": 10, "t": 30 + 20 * (text.count("<br>") + 1), "b": 10},
            "legend": {
                "orientation": "h",
                "yref": "container",
                "yanchor": "bottom",
                "y": 0.0,
                "xanchor": "left",
                "x": 0,
            },
            "hovermode": "closest",
            "xaxis": xaxis,
            "yaxis": yaxis,
            **layout,
        },
    )


def _title(text: str) -> dict:
    return {"text": text}


def _blocks(values: np.ndarray, max_cells: int) -> tuple[np.ndarray, int, int]:
    v = np.asarray(values, np.float64)
    rb, cb = max(1, -(-v.shape[0] // max_cells)), max(1, -(-v.shape[1] // max_cells))
    pad = np.full((-(-v.shape[0] // rb) * rb, -(-v.shape[1] // cb) * cb), np.nan)
    pad[: v.shape[0], : v.shape[1]] = v
    with np.errstate(invalid="ignore"):
        return np.nanmean(pad.reshape(pad.shape[0] // rb, rb, pad.shape[1] // cb, cb), axis=(1, 3)), rb, cb


def log_magnitude(values: np.ndarray) -> np.ndarray:
    """log10 |v|, with exact zeros shown at the smallest nonzero magnitude (a heat map of a matrix spanning decades).

    >>> log_magnitude(np.array([[100.0, 0.0], [-0.1, 1.0]])).tolist()
    [[2.0, -1.0], [-1.0, 0.0]]
    """
    v = np.abs(np.asarray(values, np.float64))
    floor = v[v > 0].min() if (v > 0).any() else 1.0
    return np.log10(np.maximum(v, floor))


def matrix_figure(
    values: np.ndarray,
    *,
    title: str,
    x_title: str,
    y_title: str,
    colour_title: str,
    diverging: bool = False,
    max_cells: int = 64,
) -> go.Figure:
    """A heat map of a matrix, block-averaged to at most ``max_cells`` per side; diverging colours centred on 0.

    >>> fig = matrix_figure(np.eye(128), title="H", x_title="j", y_title="i", colour_title="H")
    >>> np.asarray(fig.data[0].z).shape
    (64, 64)
    """
    v, rb, cb = _blocks(values, max_cells)
    extra = {"colorscale": "RdBu", "zmid": 0.0} if diverging else {"colorscale": "Cividis"}
    heat = go.Heatmap(z=v.astype(np.float32), colorbar={"title": {"text": colour_title}}, **extra)
    return _figure(
        [heat],
        title,
        {"title": _title(x_title + (f" (blocks of {cb})" if cb > 1 else ""))},
        {"title": _title(y_title + (f" (blocks of {rb})" if rb > 1 else "")), "autorange": "reversed"},
        420,
    )


def column_step_figure(step: ColumnStep, *, title: str) -> go.Figure:
    """One GPTQ step: each row's weight just before rounding, its rounded value, and the error (rows ≤ 128).

    >>> from quantviz.algorithms import column_step, gptq, toy_layer
    >>> layer = toy_layer(8, 32, 64)
    >>> len(column_step_figure(column_step(gptq(layer.weight, layer.inputs), 3), title="t").data)
    3
    """
    rows = np.arange(min(step.before.size, 128))
    traces = [
        go.Scatter(
            x=rows, y=step.before[rows], mode="markers", name="weight before rounding", marker={"color": SKY, "size": 7}
        ),
        go.Scatter(
            x=rows,
            y=step.rounded[rows],
            mode="markers",
            name="rounded (on the grid)",
            marker={"color": ORANGE, "size": 7, "symbol": "x"},
        ),
        go.Bar(x=rows, y=step.error[rows], name="error w − q", marker_color=GREY, opacity=0.6),
    ]
    return _figure(traces, title, {"title": _title("output row")}, {"title": _title("weight")})


def running_error_figure(run: RunningError, *, title: str = "Layer-output MSE as the columns are rounded") -> go.Figure:
    """GPTQ's and round-to-nearest's layer-output MSE after k columns.

    >>> from quantviz.algorithms import RunningError
    >>> fig = running_error_figure(RunningError(np.array([0, 4]), np.array([0.0, 1.0]), np.array([0.0, 2.0])))
    >>> [t.name for t in fig.data]
    ['GPTQ (rounded columns + updated rest)', 'round-to-nearest (rounded columns + original rest)']
    """
    traces = [
        go.Scatter(
            x=run.steps,
            y=run.gptq,
            mode="lines+markers",
            name="GPTQ (rounded columns + updated rest)",
            line={"color": BLUE},
        ),
        go.Scatter(
            x=run.steps,
            y=run.rtn,
            mode="lines+markers",
            name="round-to-nearest (rounded columns + original rest)",
            line={"color": GREY, "dash": "dash"},
        ),
    ]
    return _figure(traces, title, {"title": _title("columns rounded")}, {"title": _title("layer-output MSE")})


def channel_bars_figure(
    series: dict[str, np.ndarray], *, title: str, y_title: str, highlight: np.ndarray | None = None, log_y: bool = True
) -> go.Figure:
    """Per-input-channel values as bars (or markers when several series share the axes); highlighted channels ringed.

    >>> fig = channel_bars_figure({"a": np.ones(4)}, title="t", y_title="y", highlight=np.array([1]))
    >>> len(fig.data)
    2
    """
    traces = []
    colours = [SKY, ORANGE, GREEN, PURPLE]
    for (name, values), colour in zip(series.items(), colours, strict=False):
        x = np.arange(len(values))
        if len(series) == 1:
            traces.append(go.Bar(x=x, y=values, name=name, marker_color=colour))
        else:
            traces.append(go.Scatter(x=x, y=values, mode="markers", name=name, marker={"color": colour, "size": 6}))
    if highlight is not None and len(highlight):
        first = np.asarray(next(iter(series.values())))
        traces.append(
            go.Scatter(
                x=highlight,
                y=first[highlight],
                mode="markers",
                name="protected (top 1 %)",
                marker={"color": VERMILLION, "size": 12, "symbol": "circle-open", "line": {"width": 2}},
            )
        )
    return _figure(
        traces,
        title,
        {"title": _title("input channel")},
        {"title": _title(y_title), "type": "log" if log_y else "linear"},
    )


def awq_loss_figure(r: AWQResult, *, title: str = "AWQ's grid search: layer-output MSE at each α") -> go.Figure:
    """The loss along the α grid, duo and plain points apart, the chosen one marked.

    >>> from quantviz.algorithms import awq, toy_layer
    >>> layer = toy_layer(8, 64, 64)
    >>> [t.name for t in awq_loss_figure(awq(layer.weight, layer.inputs, group_size=None, n_grid=5)).data]
    ['s = x̄^α', 's = x̄^α / w̄^(1−α)', 'chosen']
    """
    traces = [
        go.Scatter(
            x=r.ratios[r.duo == duo], y=r.losses[r.duo == duo], mode="lines+markers", name=name, line={"color": colour}
        )
        for duo, name, colour in ((False, "s = x̄^α", GREY), (True, "s = x̄^α / w̄^(1−α)", ORANGE))
    ]
    traces.append(
        go.Scatter(
            x=[r.ratio],
            y=[float(np.min(r.losses))],
            mode="markers",
            name="chosen",
            marker={"color": VERMILLION, "size": 14, "symbol": "star"},
        )
    )
    return _figure(traces, title, {"title": _title("α")}, {"title": _title("layer-output MSE")})


def alpha_sweep_figure(
    alphas: np.ndarray,
    errors: tuple[W8A8Error, ...],
    alpha: float,
    *,
    title: str = "W8A8 layer-output error as α moves",
) -> go.Figure:
    """The W8A8 error and its activation and weight parts along α, the current α marked.

    >>> from quantviz.algorithms import W8A8Error
    >>> e = (W8A8Error(1.0, 0.9, 0.1), W8A8Error(0.5, 0.3, 0.2))
    >>> len(alpha_sweep_figure(np.array([0.0, 1.0]), e, 0.5).data)
    4
    """
    traces = [
        go.Scatter(x=alphas, y=[getattr(e, attr) for e in errors], mode="lines", name=name, line={"color": colour})
        for attr, name, colour in (
            ("output_mse", "W8A8 (both)", BLUE),
            ("activation_mse", "int8 activations alone", ORANGE),
            ("weight_mse", "int8 weights alone", GREEN),
        )
    ]
    top = max(max(e.output_mse, e.activation_mse, e.weight_mse) for e in errors) if errors else 1.0
    low = min(min(e.output_mse, e.activation_mse, e.weight_mse) for e in errors) if errors else 1.0
    traces.append(
        go.Scatter(
            x=[alpha, alpha], y=[low, top], mode="lines", name=f"α = {alpha:g}", line={"color": GREY, "dash": "dot"}
        )
    )
    return _figure(
        traces,
        title,
        {"title": _title("α (0: all difficulty on the activations, 1: all on the weights)")},
        {"title": _title("layer-output MSE"), "type": "log"},
    )


def compare_figure(rows: tuple[CompareRow, ...], *, title: str = "Layer-output SQNR of each method") -> go.Figure:
    """SQNR against bit width, one line per method.

    >>> from quantviz.algorithms import CompareRow
    >>> fig = compare_figure((CompareRow("RTN", 2, None, 3.0), CompareRow("RTN", 4, None, 15.0)))
    >>> list(fig.data[0].x), fig.data[0].name
    ([2, 4], 'RTN')
    """
    traces = []
    for method in dict.fromkeys(r.method for r in rows):
        at = sorted((r for r in rows if r.method == method), key=lambda r: r.bits)
        traces.append(
            go.Scatter(
                x=[r.bits for r in at],
                y=[r.sqnr_db for r in at],
                mode="lines+markers",
                name=method,
                line={"color": METHOD_COLOURS.get(method, GREY)},
            )
        )
    return _figure(
        traces,
        title,
        {"title": _title("weight bits"), "type": "category"},
        {"title": _title("SQNR of the layer output (dB)")},
        420,
    )
