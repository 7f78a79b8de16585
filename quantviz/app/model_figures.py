"""Figures for *Your model*: pure plotly ``go.Figure`` builders over computed results (they never run a model)."""

from __future__ import annotations

import plotly.graph_objects as go

from quantviz.app.figures import BLUE, VERMILLION, _layout, empty_figure

MAX_POINTS = 400  # a graph with more shared tensors is thinned to this many points (its worst kept)


def sqnr_along_graph_figure(rows: list, *, title: str = "SQNR along the graph (float vs quantized)") -> go.Figure:
    """Return SQNR (dB) of every shared tensor in graph order, the tensor that loses most since the one before marked.

    >>> from quantviz.models.debug import DebugRow
    >>> fig = sqnr_along_graph_figure([DebugRow("a", "Conv", "a", 30.0, 0.1, "", None),
    ...                                DebugRow("b", "Relu", "b", 20.0, 0.2, "a", 10.0)])
    >>> list(fig.data[0].y), fig.data[1].x
    ([30.0, 20.0], ('b',))
    """
    if not rows:
        return empty_figure(title, "No tensor is shared by the two models.")
    step = max(1, -(-len(rows) // MAX_POINTS))
    worst = min(rows, key=lambda r: r.sqnr_db)
    shown = [r for i, r in enumerate(rows) if i % step == 0 or r is worst or i == len(rows) - 1]
    fig = go.Figure(
        go.Scatter(
            x=[r.name for r in shown],
            y=[round(r.sqnr_db, 3) for r in shown],
            mode="lines+markers",
            name="SQNR",
            line={"color": BLUE},
            customdata=[[r.op, "—" if r.added_db is None else f"{r.added_db:+.2f} dB"] for r in shown],
            hovertemplate="%{x} (%{customdata[0]}): %{y:.2f} dB, lost since the tensor before: "
            "%{customdata[1]}<extra></extra>",
        )
    )
    losses = [r for r in rows if r.added_db is not None]
    if losses:
        most = max(losses, key=lambda r: r.added_db)
        fig.add_trace(
            go.Scatter(
                x=[most.name],
                y=[round(most.sqnr_db, 3)],
                mode="markers",
                name="loses the most",
                marker={"color": VERMILLION, "size": 13, "symbol": "diamond"},
                hovertemplate=f"{most.name}: loses {most.added_db:.2f} dB<extra></extra>",
            )
        )
    fig.update_xaxes(title_text="tensor, in graph order", type="category")
    fig.update_yaxes(title_text="SQNR (dB), higher is better")
    return _layout(fig, title, height=380)
