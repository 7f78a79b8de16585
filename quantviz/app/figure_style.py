"""The app's chart style: the Okabe-Ito palette and what the text calls each colour, the shared layout.

Every figure module (figures, line_figures, task_figures, model_figures, algorithm_figures) draws with these, so
a sentence that names a colour and the picture agree.
"""

from __future__ import annotations

import plotly.graph_objects as go

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
