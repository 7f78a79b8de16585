"""The shared controls and the page frame: the sidebar settings every page reads, headers, figures, data.

Options that a convention does not support are shown disabled with the reason; the user's own
choice is kept in :mod:`quantviz.app.state` and comes back when a convention supports it.

Longer than 400 lines: with :mod:`quantviz.app.state` it is one of the two modules allowed to import streamlit
(``tests/test_layering.py``), so every shared control and the page frame live here, each in a short function; what
they compute is elsewhere (which options a convention supports: :mod:`quantviz.conventions.options`).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import streamlit as st

import quantviz as qv
from quantviz.app.state import (
    CONVENTION_LABELS,
    ROUNDING_LABELS,
    SHARED_FIELDS,
    choice_field,
    float_field,
    int_field,
    labels,
    prime,
    remember,
    show_link_messages,
    show_problem,
    user_values,
)
from quantviz.blocks.compare import FormatPoint, measure_all
from quantviz.conventions import ResolvedOptions, resolve_options
from quantviz.conventions.options import supported_bits
from quantviz.errors import QuantVizError
from quantviz.grid import MAX_BITS, MIN_BITS, GridOptions
from quantviz.samples import DISTRIBUTIONS, sample_data
from quantviz.teach.fmt import fmt
from quantviz.teach.glossary import link_jargon


# ----------------------------------------------------------------------------- the shared controls
class Settings(NamedTuple):
    """The quantization settings every page reads, after resolving what the convention supports."""

    rmin: float
    rmax: float
    bits: int
    signed: bool
    symmetric: bool
    narrow_range: bool
    reduce_range: bool
    convention: str
    rounding: str | None
    add_zero_point_before_rounding: bool
    presenter: bool
    scale: float | None = None  # set directly (from a model file or by hand) instead of from the range
    zero_point: int | None = None

    def options(self) -> GridOptions:
        """The grid options as choose_qparams takes them (``options=``), hashable: a cache key as it is."""
        return GridOptions(
            bits=self.bits,
            signed=self.signed,
            symmetric=self.symmetric,
            narrow_range=self.narrow_range,
            reduce_range=self.reduce_range,
        )


def _sync_from_slider() -> None:
    lo, hi = st.session_state["w_range_slider"]
    st.session_state["w_rmin"], st.session_state["w_rmax"] = float(lo), float(hi)


def _slider_bound(lo: float, hi: float) -> float:
    """A round bound that contains [lo, hi] with room to drag: 1, 2 or 5 times a power of ten."""
    need = max(abs(lo), abs(hi), 1e-6) * 1.5
    power = 10 ** math.floor(math.log10(need))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= need))


ALL_CONTROLS = ("convention", "range", "bits", "signed", "symmetric", "narrow", "reduce", "rounding", "order")
SET_DIRECTLY = "sz"  # add to ``show``: the page can take s and z as typed instead of a range
LIVE_RANGE = "live"  # add to ``show``: the range is dragged on the page's live number line, not on a sidebar slider
NOT_ORDER = ALL_CONTROLS[:-1]
NOT_ROUNDING = ALL_CONTROLS[:-2]


# (session key, option name, label, help) of the four switches, in the order they are drawn.
TOGGLES = (
    (
        "signed",
        "signed",
        "Signed integers (int) instead of unsigned (uint)",
        "[Two's complement](glossary#twos-complement) codes around 0, e.g. int8 [−128, 127], instead of uint8 "
        "[0, 255].",
    ),
    (
        "symmetric",
        "symmetric",
        "Symmetric range [−a, a]",
        "Use the largest magnitude on both sides; z sits in the middle of the grid (0 for int, 2^(b−1) for uint).",
    ),
    (
        "narrow",
        "narrow_range",
        "Narrow range (drop the lowest code)",
        "int8 becomes [−127, 127]: symmetric around 0. Used for weights. See [narrow range](glossary#narrow-range).",
    ),
    (
        "reduce",
        "reduce_range",
        "Reduce range (one bit less)",
        "PyTorch's 7-bit activations, which avoid a 16-bit overflow in x86 kernels. See "
        "[reduce_range](glossary#reduce-range) and *Integer-only arithmetic*.",
    ),
)


class _RangeInput(NamedTuple):
    """What the range controls gave: the range, or the s and z typed directly (``direct``)."""

    rmin: float
    rmax: float
    direct: bool
    scale: float | None
    zero_point: int | None


def _convention_control(sb: Any, show: tuple[str, ...]) -> str:
    """The convention selectbox and its summary; "textbook" (every option free) when the page does not use one."""
    if "convention" not in show:
        return "textbook"
    convention = sb.selectbox(
        "Convention",
        list(CONVENTION_LABELS),
        format_func=labels(CONVENTION_LABELS),
        key="w_conv",
        help="Whose rules choose the scale and zero point and round the values: the textbook formula or a real "
        "framework, bit for bit.",
    )
    sb.caption(link_jargon(qv.CONVENTIONS[convention].summary))
    return convention


def _direct_chosen(sb: Any, show: tuple[str, ...]) -> bool:
    """Whether the page takes s and z as typed (a radio drawn only where the page offers it)."""
    if SET_DIRECTLY not in show or "range" not in show:
        return False
    choice = sb.radio(
        "Set the grid by",
        ["range", "sz"],
        format_func=labels({"range": "a real range", "sz": "a scale and zero point"}),
        key="w_set",
        horizontal=True,
        help="A range lets the convention choose s and z; or type the s and z a model "
        "file stores (Your model links here with them).",
    )
    return choice == "sz"


def _range_boxes(sb: Any, show: tuple[str, ...], rmin: float, rmax: float) -> tuple[float, float]:
    """The range slider (unless the page drags the range itself) and the two exact boxes."""
    bound = _slider_bound(rmin, rmax)
    if rmin <= rmax and LIVE_RANGE not in show:
        st.session_state["w_range_slider"] = (max(-bound, rmin), min(bound, rmax))
        sb.slider(
            "Real range [rmin, rmax]",
            -bound,
            bound,
            key="w_range_slider",
            step=bound / 200,
            on_change=_sync_from_slider,
            help="Drag either end. The boxes below take exact values; the slider's limits grow with them.",
        )
    cols = sb.columns(2)
    lo = cols[0].number_input(
        "rmin", key="w_rmin", format="%.6g", step=bound / 100, help="Smallest real value to represent (exact)."
    )
    hi = cols[1].number_input(
        "rmax", key="w_rmax", format="%.6g", step=bound / 100, help="Largest real value to represent (exact)."
    )
    return lo, hi


def _range_controls(sb: Any, show: tuple[str, ...]) -> _RangeInput:
    """The range controls, or the s and z boxes when the user sets the grid directly."""
    rmin, rmax = st.session_state["w_rmin"], st.session_state["w_rmax"]
    if _direct_chosen(sb, show):
        cols = sb.columns(2)
        scale = cols[0].number_input(
            "scale s", 1e-30, 1e30, key="w_s", format="%.10g", help="As stored (float32 digits)."
        )
        zero = cols[1].number_input(
            "zero point z", -(2**31), 2**31 - 1, key="w_z", help="The code that stands for real 0."
        )
        return _RangeInput(rmin=rmin, rmax=rmax, direct=True, scale=float(scale), zero_point=int(zero))
    if "range" in show:
        rmin, rmax = _range_boxes(sb, show, rmin, rmax)
    return _RangeInput(rmin=rmin, rmax=rmax, direct=False, scale=None, zero_point=None)


def _asked_options() -> GridOptions:
    """The grid options as the user last set them (kept even where the convention overrides them)."""
    return GridOptions(
        bits=st.session_state["w_bits"],
        signed=st.session_state["w_signed"],
        symmetric=st.session_state["w_symmetric"],
        narrow_range=st.session_state["w_narrow"],
        reduce_range=st.session_state["w_reduce"],
    )


def _bits_control(sb: Any, convention: str, resolved: ResolvedOptions) -> None:
    """The bit-width slider: snapped to the nearest supported width, or disabled when only one is supported."""
    eff = resolved.options
    widths = supported_bits(convention, eff)
    if resolved.changed.get("bits") and len(widths) > 1:
        st.session_state["w_bits"] = eff.bits  # snap to the nearest supported width; the slider stays usable
    if widths == [eff.bits]:
        sb.slider(
            "Bit width",
            MIN_BITS,
            MAX_BITS,
            value=eff.bits,
            disabled=True,
            key="w_bits_locked",
            help=f"{CONVENTION_LABELS[convention]} supports only {eff.bits} bits here.",
        )
    else:
        sb.slider("Bit width", MIN_BITS, MAX_BITS, key="w_bits", help="Number of bits per code: 2^bits integer codes.")
    if resolved.changed.get("bits"):
        sb.caption(f":material/info: {resolved.changed['bits']}")


def _toggle_controls(sb: Any, show: tuple[str, ...], resolved: ResolvedOptions) -> None:
    """The four switches; one the convention fixes is drawn disabled with the reason."""
    for key, name, label, help_text in TOGGLES:
        if key not in show:
            continue
        if name in resolved.locked or name in resolved.changed:
            note = resolved.changed.get(name) or resolved.locked[name]
            value = getattr(resolved.options, name)
            sb.checkbox(label, value=value, disabled=True, key=f"w_{key}_locked", help=f"Not available: {note}")
        else:
            sb.checkbox(label, key=f"w_{key}", help=help_text)
        if name in resolved.changed:
            sb.caption(f":material/info: {label.split(' (')[0]}: {resolved.changed[name]}")


def _rounding_controls(sb: Any, show: tuple[str, ...], convention: str) -> tuple[str | None, bool]:
    """The rounding mode and the order of operations (textbook only; a framework's rule is shown disabled)."""
    if "rounding" not in show:
        return None, False
    if convention != "textbook":
        sb.selectbox(
            "Rounding",
            [qv.CONVENTIONS[convention].tie_rule],
            format_func=labels(ROUNDING_LABELS),
            disabled=True,
            key="w_rounding_locked",
            help=f"{CONVENTION_LABELS[convention]} always rounds this way; pick the textbook convention to try others.",
        )
        return None, False
    mode = sb.selectbox(
        "Rounding",
        list(ROUNDING_LABELS),
        format_func=labels(ROUNDING_LABELS),
        key="w_rounding",
        help="How x/s is turned into a whole number. Ties (…​.5) are where the modes differ.",
    )
    z_first = "order" in show and sb.checkbox(
        "Round after adding z: round(x/s + z)",
        key="w_zfirst",
        help="The seed example's order. Frameworks round x/s first, then add z; with an odd z, ties round differently.",
    )
    return mode, bool(z_first)


def _settings(got: _RangeInput, options: GridOptions, convention: str, rounding: tuple, presenter: bool) -> Settings:
    """The Settings record; with s and z typed directly the range is the grid's, (qmin − z)·s to (qmax − z)·s."""
    rmin, rmax = got.rmin, got.rmax
    if got.direct:
        qmin, qmax = options.grid()
        rmin, rmax = got.scale * (qmin - got.zero_point), got.scale * (qmax - got.zero_point)
    return Settings(
        rmin=float(rmin),
        rmax=float(rmax),
        bits=options.bits,
        signed=options.signed,
        symmetric=options.symmetric,
        narrow_range=options.narrow_range,
        reduce_range=options.reduce_range,
        convention=convention,
        rounding=rounding[0],
        add_zero_point_before_rounding=rounding[1],
        presenter=bool(presenter),
        scale=got.scale,
        zero_point=got.zero_point,
    )


def quant_controls(*, show: tuple[str, ...] = NOT_ROUNDING) -> Settings:
    """Draw the shared sidebar controls this page uses, and return the settings to use.

    ``show`` names the controls the page really uses (a control that would change nothing on the page
    is not drawn; its value is kept for the pages that use it). Options that the chosen convention does
    not support are shown disabled with the reason; the user's own choice is kept and comes back when a
    convention supports it.
    """
    prime(SHARED_FIELDS)
    sb = st.sidebar
    if not show:
        sb.caption("This page has its own controls; the shared quantization settings do not change it.")
    else:
        sb.header("Quantization settings")
    convention = _convention_control(sb, show)
    got = _range_controls(sb, show)
    resolved = resolve_options(convention, _asked_options())
    if "bits" in show:
        _bits_control(sb, convention, resolved)
    _toggle_controls(sb, show, resolved)
    rounding = _rounding_controls(sb, show, convention)
    presenter = sb.toggle(
        "Presenter view", key="w_present", help="Larger text and charts for a projector; explanations folded away."
    )
    remember(SHARED_FIELDS)
    return _settings(got, resolved.options, convention, rounding, presenter)


def choose_or_stop(settings: Settings) -> qv.QParams:
    """Return the QParams for the settings, or show why they cannot be chosen and stop the page."""
    try:
        if settings.scale is not None and settings.zero_point is not None:
            qmin, qmax = settings.options().grid()
            return qv.QParams(settings.scale, settings.zero_point, qmin, qmax)
        return cached_qparams(settings.rmin, settings.rmax, settings.convention, settings.options())
    except QuantVizError as exc:
        show_problem("These settings cannot be quantized:", exc)
        st.stop()
        raise  # pragma: no cover - st.stop raises


@st.cache_data(max_entries=256, show_spinner=False)
def cached_qparams(rmin: float, rmax: float, convention: str, options: GridOptions) -> qv.QParams:
    """choose_qparams, cached on plain values (the GridOptions is its own key)."""
    return qv.choose_qparams(rmin, rmax, convention=convention, options=options)


# ----------------------------------------------------------------------------- page frame
# Our own constant CSS (never user text): wide formulas scroll instead of being cut off.
BASE_CSS = """
<style>
.katex-display { overflow-x: auto; overflow-y: hidden; padding: 2px 0 6px 0; }
/* Phone: metric readouts in a compact grid instead of one per row; long labels wrap instead of being cut. */
@media (max-width: 640px) {
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"]) {
    flex-direction: row !important; flex-wrap: wrap !important; gap: 0.5rem !important;
  }
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"])
    > [data-testid="stColumn"] {
    flex: 1 1 auto !important; min-width: 30% !important; width: auto !important;  /* as wide as its number */
  }
  [data-testid="stMetricValue"] { font-size: 1.4rem !important; }
}
[data-testid="stMetricLabel"] p, [data-testid="stWidgetLabel"] p {
  white-space: normal !important; overflow: visible !important;
}
/* A metric's value wraps rather than ending in "…": a number cut short is a wrong number. */
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
</style>
"""
# Presenter view: everything in the main area, tables, inputs, formulas and charts included, at 1.5x,
# laid out for a 1280-pixel page (CSS zoom keeps the layout and hit-testing consistent in Chromium).
PRESENTER_ZOOM = 1.5
PRESENTER_CSS = f"""
<style>
[data-testid="stMainBlockContainer"] {{
  zoom: {PRESENTER_ZOOM};
  width: {100 / PRESENTER_ZOOM:.4f}% !important; max-width: {100 / PRESENTER_ZOOM:.4f}% !important;
  padding-left: 2rem !important; padding-right: 2rem !important;
}}
/* Plotly sizes itself from the zoomed width: undo the zoom for charts, which scale their own fonts instead. */
[data-testid="stMainBlockContainer"] [data-testid="stPlotlyChart"] {{ zoom: {1 / PRESENTER_ZOOM:.4f}; }}
</style>
"""


def page_header(title: str, intro: str, settings: Settings | None = None) -> None:
    """Title, one-paragraph intro (folded away in presenter view) and any link problems."""
    st.markdown(BASE_CSS, unsafe_allow_html=True)
    if settings is not None and settings.presenter:
        st.markdown(PRESENTER_CSS, unsafe_allow_html=True)
    st.title(title)
    if settings is None or not settings.presenter:
        st.markdown(link_jargon(intro))
    show_link_messages()


def show_figure(fig: Any, settings: Settings | None = None, *, key: str | None = None) -> None:
    """Draw a plotly figure in the app's theme. Presenter view: the chart is not zoomed with the page (plotly would
    measure the zoomed width twice), so its fonts and height grow by the same factor instead.
    """
    if settings is not None and settings.presenter:
        z = PRESENTER_ZOOM
        fig.update_layout(
            font_size=round(13 * z),
            title_font_size=round(15 * z),
            legend_font_size=round(12 * z),
            height=int((fig.layout.height or 400) * z),
            margin={"t": int((fig.layout.margin.t or 50) * z)},
        )
        fig.update_xaxes(tickfont_size=round(12 * z), title_font_size=round(13 * z))
        fig.update_yaxes(tickfont_size=round(12 * z), title_font_size=round(13 * z))
    st.plotly_chart(fig, key=key, config={"displaylogo": False, "displayModeBar": False})


PRESENTER_TABLE_ROWS = 40


def show_table(settings: Settings | None, data: Any, *, where: Any = None, **kwargs: Any) -> None:
    """Draw a table: an interactive grid with its first column pinned (phones scroll the rest), or, in presenter
    view, a plain HTML table that scales with the page (the grid draws on a canvas that page zoom cannot reach).
    """
    import pandas as pd

    target = where if where is not None else st
    styler = data if hasattr(data, "data") and hasattr(data, "hide") else None
    frame = styler.data if styler is not None else (data if isinstance(data, pd.DataFrame) else pd.DataFrame(data))
    if settings is not None and settings.presenter:
        shown = (styler or frame.style).hide(axis="index")
        if len(frame) > PRESENTER_TABLE_ROWS:
            shown = frame.head(PRESENTER_TABLE_ROWS).style.hide(axis="index")
            target.caption(f"The first {PRESENTER_TABLE_ROWS} of {len(frame):,} rows.")
        target.table(shown)
        return
    config = dict(kwargs.pop("column_config", None) or {})
    if len(frame.columns) > 3 and frame.columns[0] not in config:
        config[frame.columns[0]] = st.column_config.Column(pinned=True)
    target.dataframe(data if styler is not None else frame, column_config=config, **kwargs)


def qparams_metrics(qp: qv.QParams, representable: tuple[float, float] | None = None) -> None:
    """The four numbers every page starts from: s, z, grid, representable range.

    ``representable`` overrides the stored grid's range where the page's op clamps elsewhere (fake_quantize).
    """
    c = st.columns([1.5, 0.8, 1, 1.8])  # room for a scale like 0.031372549 on one line
    c[0].metric("scale s", fmt(qp.scale, 8), help="Real width of one integer step.")
    c[1].metric("zero point z", str(qp.zero_point), help="The code that stands for real 0.")
    stored = (qp.storage_min, qp.storage_max) != (qp.qmin, qp.qmax)
    c[2].metric(
        "grid",
        f"[{qp.qmin}, {qp.qmax}]",
        help=f"{qp.levels} codes" + (f"; stored in [{qp.storage_min}, {qp.storage_max}]" if stored else ""),
    )
    if representable is not None:
        c[3].metric(
            "representable",
            f"[{fmt(representable[0], 5)}, {fmt(representable[1], 5)}]",
            help="What this op gives back at most: values outside are clipped.",
        )
        return
    c[3].metric(
        "representable",
        f"[{fmt(qp.stored_min, 5)}, {fmt(qp.stored_max, 5)}]",
        help=(
            "(storage_min − z)·s to (storage_max − z)·s: the quantize op clamps to the stored grid "
            f"[{qp.storage_min}, {qp.storage_max}], not to the grid s and z were chosen on"
            if stored
            else "(qmin − z)·s to (qmax − z)·s: values outside are clipped."
        ),
    )


# ----------------------------------------------------------------------------- sample data
class Data(NamedTuple):
    """The values a page works on, and where they came from."""

    values: Any  # numpy array
    generated: bool
    distribution: str


@st.cache_data(max_entries=8, show_spinner=False)
def _sample(distribution: str, size: int, seed: int) -> Any:
    return sample_data(distribution, size, seed)


@st.cache_data(max_entries=8, show_spinner=False)
def cached_format_map(values: Any, importance: Any = None) -> list[FormatPoint]:
    """Every block format measured on ``values`` (``measure_all``), kept across reruns that do not change the data."""
    return measure_all(values, importance)


SOURCES = {"generated": "Generated sample", "yours": "Your values (from the Your values page)"}


def _data_fields(prefix: str, distribution: str, size: int, max_size: int, allow: bool, spread: float | None) -> list:
    """The URL fields of the data controls (source only where the user's values are allowed, spread where asked)."""
    fields = [
        choice_field(f"{prefix}dist", distribution, {k: k for k in DISTRIBUTIONS}),
        int_field(f"{prefix}size", size, 10, max_size),
        int_field(f"{prefix}seed", 0, 0, 2**31 - 1),
    ]
    if allow:
        fields.append(choice_field(f"{prefix}source", "generated", SOURCES))
    if spread is not None:
        fields.append(float_field(f"{prefix}spread", spread, 1e-6, 1e12))
    return fields


def _source_control(col: Any, prefix: str) -> str:
    return col.radio(
        "Data",
        list(SOURCES),
        format_func=labels(SOURCES),
        key=f"w_{prefix}source",
        help="Generated samples, or the values you pasted or uploaded on the Your values page.",
    )


def _sample_controls(cols: list, prefix: str, max_size: int, generated: bool) -> tuple[str, int, int]:
    """Distribution, sample size and seed (disabled while the user's own values are shown)."""
    dist = cols[0].selectbox(
        "Distribution",
        list(DISTRIBUTIONS),
        key=f"w_{prefix}dist",
        disabled=not generated,
        help="; ".join(f"{k}: {v}" for k, v in DISTRIBUTIONS.items()),
    )
    n = cols[1].number_input(
        "Sample size",
        10,
        max_size,
        key=f"w_{prefix}size",
        step=10_000,
        disabled=not generated,
        help=f"Up to {max_size:,} values; charts are binned, so they stay light.",
    )
    seed = cols[2].number_input(
        "Seed", 0, 2**31 - 1, key=f"w_{prefix}seed", disabled=not generated, help="Same seed, same sample."
    )
    return dist, int(n), int(seed)


def _spread_control(col: Any, prefix: str, generated: bool) -> float:
    return col.number_input(
        "Spread σ",
        1e-6,
        1e12,
        key=f"w_{prefix}spread",
        format="%.6g",
        disabled=not generated,
        help="The sample is multiplied by this: it sets how wide the data are, "
        "independently of the range you quantize with.",
    )


def _user_values_or_stop() -> Data:
    """The values from *Your values*, or a pointer there (and the page stops) when there are none."""
    values = user_values()
    if values is None:
        st.info("No values yet: paste or upload some on the *Your values* page.", icon=":material/info:")
        st.page_link("app_pages/your_values.py", label="Go to Your values", icon=":material/table_chart:")
        st.stop()
    return Data(values, False, "")


def data_controls(
    prefix: str,
    *,
    distribution: str = "normal",
    size: int = 100_000,
    max_size: int = 10_000_000,
    allow_user_values: bool = True,
    spread: float | None = None,
) -> Data:
    """Draw the data controls (source, distribution, size, seed) with URL state; return the values.

    With ``spread`` the generated sample (unit scale) is multiplied by a "spread" the user can change,
    starting at ``spread``: the data stay put while the sidebar's range moves over them.

    Stops the page with a pointer to *Your values* when the user's values are asked for but there are none.
    """
    fields = _data_fields(prefix, distribution, size, max_size, allow_user_values, spread)
    prime(fields)
    widths = ([2] if allow_user_values else []) + [3, 2, 1.5] + ([2] if spread is not None else [])
    cols = st.columns(widths)
    source = "generated"
    if allow_user_values:
        source = _source_control(cols[0], prefix)
        cols = cols[1:]
    generated = source == "generated"
    dist, n, seed = _sample_controls(cols, prefix, max_size, generated)
    factor = _spread_control(cols[3], prefix, generated) if spread is not None else 1.0
    remember(fields)
    if not generated:
        return _user_values_or_stop()
    st.caption(DISTRIBUTIONS[dist] + (f"; multiplied by σ = {fmt(factor, 6)}." if spread is not None else ""))
    values = _sample(dist, n, seed)
    return Data(values * factor if factor != 1.0 else values, True, dist)


def show_steps(
    steps: list, *, presenter: bool = False, numbered: bool = False, side_by_side: bool = False, marks: bool = True
) -> None:
    """Show worked steps (:class:`quantviz.teach.steps.Step`): each label, its note (not when presenting), its formula.

    With ``marks``, a step that is a check gets a green tick, or an orange warning where it fails
    (``side_by_side`` says what failed: the clamp of a probe value clips). ``numbered`` numbers the labels from 1;
    ``side_by_side`` puts the label and note to the left of the formula, else the formula goes under them.
    """
    failed = " :orange[⚠ clipped]" if side_by_side else " :orange[⚠]"
    for number, step in enumerate(steps, start=1):
        mark = "" if step.check is None or not marks else (" :green[✔]" if step.check else failed)
        label = f"**{number}. {step.label}**{mark}" if numbered else f"**{step.label}**{mark}"
        note = link_jargon(step.note) if step.note and not presenter else ""
        if side_by_side:
            left, right = st.columns([2, 5], vertical_alignment="center")
            left.markdown(label)
            if note:
                left.caption(note)
            right.latex(step.formula)
        else:
            st.markdown(label + (f" — {note}" if note else ""))
            st.latex(step.formula)
