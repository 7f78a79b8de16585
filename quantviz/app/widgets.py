"""The shared controls and the page frame: the sidebar settings every page reads, headers, figures, data.

Options that a convention does not support are shown disabled with the reason; the user's own
choice is kept in :mod:`quantviz.app.state` and comes back when a convention supports it.
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
from quantviz.conventions import resolve_options
from quantviz.errors import QuantVizError
from quantviz.grid import MAX_BITS, MIN_BITS
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

    def options(self) -> dict[str, int | bool]:
        """The grid options as choose_qparams takes them."""
        return {
            "bits": self.bits,
            "signed": self.signed,
            "symmetric": self.symmetric,
            "narrow_range": self.narrow_range,
            "reduce_range": self.reduce_range,
        }


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
    if "convention" in show:
        convention = sb.selectbox(
            "Convention",
            list(CONVENTION_LABELS),
            format_func=labels(CONVENTION_LABELS),
            key="w_conv",
            help="Whose rules choose the scale and zero point and round the values: the textbook formula or a real framework, bit for bit.",
        )
        sb.caption(link_jargon(qv.CONVENTIONS[convention].summary))
    else:
        convention = "textbook"  # the page does not use a convention: resolve the grid options freely

    rmin_raw, rmax_raw = st.session_state["w_rmin"], st.session_state["w_rmax"]
    rmin, rmax = rmin_raw, rmax_raw
    direct = (
        SET_DIRECTLY in show
        and "range" in show
        and sb.radio(
            "Set the grid by",
            ["range", "sz"],
            format_func=labels({"range": "a real range", "sz": "a scale and zero point"}),
            key="w_set",
            horizontal=True,
            help="A range lets the convention choose s and z; or type the s and z a model "
            "file stores (Your model links here with them).",
        )
        == "sz"
    )
    scale_in = zero_in = None
    if direct:
        cols = sb.columns(2)
        scale_in = cols[0].number_input(
            "scale s", 1e-30, 1e30, key="w_s", format="%.10g", help="As stored (float32 digits)."
        )
        zero_in = cols[1].number_input(
            "zero point z", -(2**31), 2**31 - 1, key="w_z", help="The code that stands for real 0."
        )
    elif "range" in show:
        bound = _slider_bound(rmin_raw, rmax_raw)
        if rmin_raw <= rmax_raw and LIVE_RANGE not in show:
            st.session_state["w_range_slider"] = (max(-bound, rmin_raw), min(bound, rmax_raw))
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
        rmin = cols[0].number_input(
            "rmin", key="w_rmin", format="%.6g", step=bound / 100, help="Smallest real value to represent (exact)."
        )
        rmax = cols[1].number_input(
            "rmax", key="w_rmax", format="%.6g", step=bound / 100, help="Largest real value to represent (exact)."
        )

    asked = {
        "bits": st.session_state["w_bits"],
        "signed": st.session_state["w_signed"],
        "symmetric": st.session_state["w_symmetric"],
        "narrow_range": st.session_state["w_narrow"],
        "reduce_range": st.session_state["w_reduce"],
    }
    resolved = resolve_options(convention, **asked)
    eff = resolved.options
    if "bits" in show:
        if (
            resolved.changed.get("bits")
            and len(
                {
                    b
                    for b in range(MIN_BITS, MAX_BITS + 1)
                    if not qv.CONVENTIONS[convention].unsupported_reason(**{**eff, "bits": b})
                }
            )
            > 1
        ):
            st.session_state["w_bits"] = eff["bits"]  # snap to the nearest supported width; the slider stays usable
        bits_locked = all(
            qv.CONVENTIONS[convention].unsupported_reason(**{**eff, "bits": b})
            for b in range(MIN_BITS, MAX_BITS + 1)
            if b != eff["bits"]
        )
        if bits_locked:
            sb.slider(
                "Bit width",
                MIN_BITS,
                MAX_BITS,
                value=eff["bits"],
                disabled=True,
                key="w_bits_locked",
                help=f"{CONVENTION_LABELS[convention]} supports only {eff['bits']} bits here.",
            )
        else:
            sb.slider(
                "Bit width", MIN_BITS, MAX_BITS, key="w_bits", help="Number of bits per code: 2^bits integer codes."
            )
        if resolved.changed.get("bits"):
            sb.caption(f":material/info: {resolved.changed['bits']}")

    toggles = (
        (
            "signed",
            "signed",
            "Signed integers (int) instead of unsigned (uint)",
            "[Two's complement](glossary#twos-complement) codes around 0, e.g. int8 [−128, 127], instead of uint8 [0, 255].",
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
            "PyTorch's 7-bit activations, which avoid a 16-bit overflow in x86 kernels. See [reduce_range](glossary#reduce-range) and *Integer-only arithmetic*.",
        ),
    )
    for key, name, label, help_text in toggles:
        if key not in show:
            continue
        if name in resolved.locked or name in resolved.changed:
            note = resolved.changed.get(name) or resolved.locked[name]
            sb.checkbox(
                label, value=bool(eff[name]), disabled=True, key=f"w_{key}_locked", help=f"Not available: {note}"
            )
        else:
            sb.checkbox(label, key=f"w_{key}", help=help_text)
        if name in resolved.changed:
            sb.caption(f":material/info: {label.split(' (')[0]}: {resolved.changed[name]}")

    mode: str | None = None
    z_first = False
    if "rounding" in show:
        if convention == "textbook":
            mode = sb.selectbox(
                "Rounding",
                list(ROUNDING_LABELS),
                format_func=labels(ROUNDING_LABELS),
                key="w_rounding",
                help="How x/s is turned into a whole number. Ties (…​.5) are where the modes differ.",
            )
            if "order" in show:
                z_first = sb.checkbox(
                    "Round after adding z: round(x/s + z)",
                    key="w_zfirst",
                    help="The seed example's order. Frameworks round x/s first, then add z; with an odd z, ties round differently.",
                )
        else:
            rule = qv.CONVENTIONS[convention].tie_rule
            sb.selectbox(
                "Rounding",
                [rule],
                format_func=labels(ROUNDING_LABELS),
                disabled=True,
                key="w_rounding_locked",
                help=f"{CONVENTION_LABELS[convention]} always rounds this way; pick the textbook convention to try others.",
            )
    presenter = sb.toggle(
        "Presenter view", key="w_present", help="Larger text and charts for a projector; explanations folded away."
    )
    remember(SHARED_FIELDS)
    if direct:
        qmin, qmax = qv.int_range(
            int(eff["bits"]),
            signed=bool(eff["signed"]),
            narrow_range=bool(eff["narrow_range"]),
            reduce_range=bool(eff["reduce_range"]),
        )
        rmin, rmax = float(scale_in) * (qmin - int(zero_in)), float(scale_in) * (qmax - int(zero_in))
    return Settings(
        float(rmin),
        float(rmax),
        int(eff["bits"]),
        bool(eff["signed"]),
        bool(eff["symmetric"]),
        bool(eff["narrow_range"]),
        bool(eff["reduce_range"]),
        convention,
        mode,
        bool(z_first),
        bool(presenter),
        float(scale_in) if direct else None,
        int(zero_in) if direct else None,
    )


def choose_or_stop(settings: Settings) -> qv.QParams:
    """Return the QParams for the settings, or show why they cannot be chosen and stop the page."""
    try:
        if settings.scale is not None and settings.zero_point is not None:
            qmin, qmax = qv.int_range(
                settings.bits,
                signed=settings.signed,
                narrow_range=settings.narrow_range,
                reduce_range=settings.reduce_range,
            )
            return qv.QParams(settings.scale, settings.zero_point, qmin, qmax)
        return cached_qparams(
            settings.rmin, settings.rmax, settings.convention, tuple(sorted(settings.options().items()))
        )
    except QuantVizError as exc:
        show_problem("These settings cannot be quantized:", exc)
        st.stop()
        raise  # pragma: no cover - st.stop raises


@st.cache_data(max_entries=256, show_spinner=False)
def cached_qparams(rmin: float, rmax: float, convention: str, options: tuple[tuple[str, Any], ...]) -> qv.QParams:
    """choose_qparams, cached on plain values."""
    return qv.choose_qparams(rmin, rmax, convention=convention, **dict(options))


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
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"]) > [data-testid="stColumn"] {
    flex: 1 1 auto !important; min-width: 30% !important; width: auto !important;  /* as wide as its number */
  }
  [data-testid="stMetricValue"] { font-size: 1.4rem !important; }
}
[data-testid="stMetricLabel"] p, [data-testid="stWidgetLabel"] p { white-space: normal !important; overflow: visible !important; }
/* A metric's value wraps rather than ending in "…": a number cut short is a wrong number. */
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * { white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
</style>
"""
# Presenter view: everything in the main area, tables, inputs, formulas and charts included, at 1.5x,
# laid out for a 1280-pixel page (CSS zoom keeps the layout and hit-testing consistent in Chromium).
PRESENTER_ZOOM = 1.5
PRESENTER_CSS = f"""
<style>
[data-testid="stMainBlockContainer"] {{
  zoom: {PRESENTER_ZOOM}; width: {100 / PRESENTER_ZOOM:.4f}% !important; max-width: {100 / PRESENTER_ZOOM:.4f}% !important;
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
    sources = {"generated": "Generated sample", "yours": "Your values (from the Your values page)"}
    fields = [
        choice_field(f"{prefix}dist", distribution, {k: k for k in DISTRIBUTIONS}),
        int_field(f"{prefix}size", size, 10, max_size),
        int_field(f"{prefix}seed", 0, 0, 2**31 - 1),
    ]
    if allow_user_values:
        fields.append(choice_field(f"{prefix}source", "generated", sources))
    if spread is not None:
        fields.append(float_field(f"{prefix}spread", spread, 1e-6, 1e12))
    prime(fields)
    widths = ([2] if allow_user_values else []) + [3, 2, 1.5] + ([2] if spread is not None else [])
    cols = st.columns(widths)
    if allow_user_values:
        source = cols[0].radio(
            "Data",
            list(sources),
            format_func=labels(sources),
            key=f"w_{prefix}source",
            help="Generated samples, or the values you pasted or uploaded on the Your values page.",
        )
        cols = cols[1:]
    else:
        source = "generated"
    generated = source == "generated"
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
    factor = 1.0
    if spread is not None:
        factor = cols[3].number_input(
            "Spread σ",
            1e-6,
            1e12,
            key=f"w_{prefix}spread",
            format="%.6g",
            disabled=not generated,
            help="The sample is multiplied by this: it sets how wide the data are, "
            "independently of the range you quantize with.",
        )
    remember(fields)
    if generated:
        st.caption(DISTRIBUTIONS[dist] + (f"; multiplied by σ = {fmt(factor, 6)}." if spread is not None else ""))
        values = _sample(dist, int(n), int(seed))
        return Data(values * factor if factor != 1.0 else values, True, dist)
    values = user_values()
    if values is None:
        st.info("No values yet: paste or upload some on the *Your values* page.", icon=":material/info:")
        st.page_link("app_pages/your_values.py", label="Go to Your values", icon=":material/table_chart:")
        st.stop()
    return Data(values, False, "")


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
