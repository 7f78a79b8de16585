"""Figures of the "Beyond rounding" page: pure builders from quantviz.algorithms results to plotly figures.

Each takes arrays or result objects, quantizes nothing, and draws at most a few hundred points per trace
(matrices are block-averaged to at most 64 × 64 cells).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from quantviz.algorithms import AWQResult, ColumnStep, CompareRow, RunningError, W8A8Error
from quantviz.app.figures import BLUE, GREEN, GREY, ORANGE, PURPLE, SKY, VERMILLION, _layout

METHOD_COLOURS = {"RTN": GREY, "GPTQ": BLUE, "AWQ": ORANGE, "SmoothQuant W·A8": GREEN, "rotation + RTN": PURPLE,
                  "rotation + GPTQ": VERMILLION}


def _blocks(values: np.ndarray, max_cells: int) -> tuple[np.ndarray, int, int]:
    v = np.asarray(values, np.float64)
    rb, cb = max(1, -(-v.shape[0] // max_cells)), max(1, -(-v.shape[1] // max_cells))
    pad = np.full((-(-v.shape[0] // rb) * rb, -(-v.shape[1] // cb) * cb), np.nan)
    pad[: v.shape[0], : v.shape[1]] = v
    with np.errstate(invalid="ignore"):
        return np.nanmean(pad.reshape(pad.shape[0] // rb, rb, pad.shape[1] // cb, cb), axis=(1, 3)), rb, cb


def matrix_figure(values: np.ndarray, *, title: str, x_title: str, y_title: str, colour_title: str,
                  diverging: bool = False, max_cells: int = 64) -> go.Figure:
    """A heat map of a matrix, block-averaged to at most ``max_cells`` per side; diverging colours centred on 0.

    >>> fig = matrix_figure(np.eye(128), title="H", x_title="j", y_title="i", colour_title="H")
    >>> np.asarray(fig.data[0].z).shape
    (64, 64)
    """
    v, rb, cb = _blocks(values, max_cells)
    extra = {"colorscale": "RdBu", "zmid": 0.0} if diverging else {"colorscale": "Cividis"}
    fig = go.Figure(go.Heatmap(z=v.astype(np.float32), colorbar={"title": {"text": colour_title}}, **extra))
    fig.update_xaxes(title_text=x_title + (f" (blocks of {cb})" if cb > 1 else ""))
    fig.update_yaxes(title_text=y_title + (f" (blocks of {rb})" if rb > 1 else ""), autorange="reversed")
    return _layout(fig, title, height=420)


def column_step_figure(step: ColumnStep, *, title: str) -> go.Figure:
    """One GPTQ step: each row's weight just before rounding, its rounded value, and the error (rows ≤ 128).

    >>> from quantviz.algorithms import column_step, gptq, toy_layer
    >>> layer = toy_layer(8, 32, 64)
    >>> len(column_step_figure(column_step(gptq(layer.weight, layer.inputs), 3), title="t").data)
    3
    """
    rows = np.arange(min(step.before.size, 128))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=rows, y=step.before[rows], mode="markers", name="weight before rounding",
                             marker={"color": SKY, "size": 7}))
    fig.add_trace(go.Scatter(x=rows, y=step.rounded[rows], mode="markers", name="rounded (on the grid)",
                             marker={"color": ORANGE, "size": 7, "symbol": "x"}))
    fig.add_trace(go.Bar(x=rows, y=step.error[rows], name="error w − q", marker_color=GREY, opacity=0.6))
    fig.update_xaxes(title_text="output row")
    fig.update_yaxes(title_text="weight")
    return _layout(fig, title)


def running_error_figure(run: RunningError, *, title: str = "Layer-output MSE as the columns are rounded") -> go.Figure:
    """GPTQ's and round-to-nearest's layer-output MSE after k columns.

    >>> from quantviz.algorithms import RunningError
    >>> fig = running_error_figure(RunningError(np.array([0, 4]), np.array([0.0, 1.0]), np.array([0.0, 2.0])))
    >>> [t.name for t in fig.data]
    ['GPTQ (rounded columns + updated rest)', 'round-to-nearest (rounded columns + original rest)']
    """
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=run.steps, y=run.gptq, mode="lines+markers", name="GPTQ (rounded columns + updated rest)",
                             line={"color": BLUE}))
    fig.add_trace(go.Scatter(x=run.steps, y=run.rtn, mode="lines+markers",
                             name="round-to-nearest (rounded columns + original rest)", line={"color": GREY, "dash": "dash"}))
    fig.update_xaxes(title_text="columns rounded")
    fig.update_yaxes(title_text="layer-output MSE")
    return _layout(fig, title)


def channel_bars_figure(series: dict[str, np.ndarray], *, title: str, y_title: str, highlight: np.ndarray | None = None,
                        log_y: bool = True) -> go.Figure:
    """Per-input-channel values as bars (or markers when several series share the axes); highlighted channels ringed.

    >>> fig = channel_bars_figure({"a": np.ones(4)}, title="t", y_title="y", highlight=np.array([1]))
    >>> len(fig.data)
    2
    """
    fig = go.Figure()
    colours = [SKY, ORANGE, GREEN, PURPLE]
    for (name, values), colour in zip(series.items(), colours, strict=False):
        x = np.arange(len(values))
        if len(series) == 1:
            fig.add_trace(go.Bar(x=x, y=values, name=name, marker_color=colour))
        else:
            fig.add_trace(go.Scatter(x=x, y=values, mode="markers", name=name, marker={"color": colour, "size": 6}))
    if highlight is not None and len(highlight):
        first = np.asarray(next(iter(series.values())))
        fig.add_trace(go.Scatter(x=highlight, y=first[highlight], mode="markers", name="protected (top 1 %)",
                                 marker={"color": VERMILLION, "size": 12, "symbol": "circle-open", "line": {"width": 2}}))
    fig.update_xaxes(title_text="input channel")
    fig.update_yaxes(title_text=y_title, type="log" if log_y else "linear")
    return _layout(fig, title)


def awq_loss_figure(r: AWQResult, *, title: str = "AWQ's grid search: layer-output MSE at each α") -> go.Figure:
    """The loss along the α grid, duo and plain points apart, the chosen one marked.

    >>> from quantviz.algorithms import awq, toy_layer
    >>> layer = toy_layer(8, 64, 64)
    >>> [t.name for t in awq_loss_figure(awq(layer.weight, layer.inputs, group_size=None, n_grid=5)).data]
    ['s = x̄^α', 's = x̄^α / w̄^(1−α)', 'chosen']
    """
    fig = go.Figure()
    for duo, name, colour in ((False, "s = x̄^α", GREY), (True, "s = x̄^α / w̄^(1−α)", ORANGE)):
        pick = r.duo == duo
        fig.add_trace(go.Scatter(x=r.ratios[pick], y=r.losses[pick], mode="lines+markers", name=name,
                                 line={"color": colour}))
    fig.add_trace(go.Scatter(x=[r.ratio], y=[float(np.min(r.losses))], mode="markers", name="chosen",
                             marker={"color": VERMILLION, "size": 14, "symbol": "star"}))
    fig.update_xaxes(title_text="α")
    fig.update_yaxes(title_text="layer-output MSE")
    return _layout(fig, title)


def alpha_sweep_figure(alphas: np.ndarray, errors: tuple[W8A8Error, ...], alpha: float, *,
                       title: str = "W8A8 layer-output error as α moves") -> go.Figure:
    """The W8A8 error and its activation and weight parts along α, the current α marked.

    >>> from quantviz.algorithms import W8A8Error
    >>> e = (W8A8Error(1.0, 0.9, 0.1), W8A8Error(0.5, 0.3, 0.2))
    >>> len(alpha_sweep_figure(np.array([0.0, 1.0]), e, 0.5).data)
    3
    """
    fig = go.Figure()
    for attr, name, colour in (("output_mse", "W8A8 (both)", BLUE), ("activation_mse", "int8 activations alone", ORANGE),
                               ("weight_mse", "int8 weights alone", GREEN)):
        fig.add_trace(go.Scatter(x=alphas, y=[getattr(e, attr) for e in errors], mode="lines", name=name,
                                 line={"color": colour}))
    fig.add_vline(x=alpha, line_dash="dot", line_color=GREY)
    fig.update_xaxes(title_text="α (0: all difficulty on the activations, 1: all on the weights)")
    fig.update_yaxes(title_text="layer-output MSE", type="log")
    return _layout(fig, title)


def compare_figure(rows: tuple[CompareRow, ...], *, title: str = "Layer-output SQNR of each method") -> go.Figure:
    """SQNR against bit width, one line per method.

    >>> from quantviz.algorithms import CompareRow
    >>> fig = compare_figure((CompareRow("RTN", 2, None, 3.0), CompareRow("RTN", 4, None, 15.0)))
    >>> list(fig.data[0].x), fig.data[0].name
    ([2, 4], 'RTN')
    """
    fig = go.Figure()
    for method in dict.fromkeys(r.method for r in rows):
        at = sorted((r for r in rows if r.method == method), key=lambda r: r.bits)
        fig.add_trace(go.Scatter(x=[r.bits for r in at], y=[r.sqnr_db for r in at], mode="lines+markers", name=method,
                                 line={"color": METHOD_COLOURS.get(method, GREY)}))
    fig.update_xaxes(title_text="weight bits", type="category")
    fig.update_yaxes(title_text="SQNR of the layer output (dB)")
    return _layout(fig, title, height=420)
