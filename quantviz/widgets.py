"""The shared Streamlit controls. The only quantviz module that imports streamlit.

Settings live in three places kept in step on every rerun: the widgets (keys ``w_*``), a
plain session dict that survives page switches (``_qv_values``), and the URL, so that a
copied link reopens the same view. Link values are validated like any input: a bad one is
reported and replaced by its default, never passed on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import streamlit as st

import quantviz as qv
from quantviz.conventions import resolve_options
from quantviz.errors import ParseError, QuantVizError
from quantviz.inputs import parse_bool_param, parse_choice_param, parse_float_param, parse_int_param

CONVENTION_LABELS = {name: conv.label for name, conv in qv.CONVENTIONS.items()}
ROUNDING_LABELS = {key: text.split(":")[0].split(" (")[0] for key, text in qv.ROUNDING_MODES.items()}
STORE = "_qv_values"
LOADED = "_qv_loaded_from_url"
LINK_MESSAGES = "_qv_link_messages"
TOO_LONG = "_qv_too_long_for_link"
CURRENT_PAGE = "_qv_current_page"
SEEDED = "_qv_seeded_widgets"


@dataclass(frozen=True)
class Field:
    """A setting that lives in a widget and in the URL under ``key``."""

    key: str
    default: Any
    parse: Callable[[str], Any]
    format: Callable[[Any], str] = str
    max_url_chars: int = 1500

    @property
    def widget_key(self) -> str:
        return f"w_{self.key}"


def float_field(key: str, default: float, lo: float | None = None, hi: float | None = None) -> Field:
    def parse(raw: str) -> float:
        value = parse_float_param(raw)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ParseError(f"must be between {lo:g} and {hi:g}")
        return value

    return Field(key, float(default), parse, lambda v: repr(float(v)))  # shortest exact form


def int_field(key: str, default: int, lo: int, hi: int) -> Field:
    return Field(key, int(default), lambda raw: parse_int_param(raw, lo, hi))


def bool_field(key: str, default: bool) -> Field:
    return Field(key, bool(default), parse_bool_param, lambda v: "true" if v else "false")


def text_field(key: str, default: str, max_chars: int = 1500) -> Field:
    def parse(raw: str) -> str:
        if len(raw) > max_chars:
            raise ParseError(f"is {len(raw):,} characters long (at most {max_chars:,} fit in a link)")
        return raw

    return Field(key, default, parse, str, max_chars)


def left_out_of_link(key: str) -> bool:
    """Whether the field's value was too long to put in the link."""
    return key in st.session_state.get(TOO_LONG, set())


def choice_field(key: str, default: str, choices: dict[str, str]) -> Field:
    return Field(key, default, lambda raw: parse_choice_param(raw, choices))


SHARED_FIELDS = (
    float_field("rmin", -1000.0),
    float_field("rmax", 1000.0),
    int_field("bits", 8, 2, 16),
    bool_field("signed", False),
    bool_field("symmetric", False),
    bool_field("narrow", False),
    bool_field("reduce", False),
    choice_field("conv", "textbook", CONVENTION_LABELS),
    choice_field("rounding", "half_to_even", ROUNDING_LABELS),
    bool_field("zfirst", False),
    bool_field("present", False),
)


# ----------------------------------------------------------------------------- showing user text
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#!|<>~$:])")


def plain(text: object) -> str:
    r"""Return text with every Markdown special character escaped, so user input shows as typed, never as markup.

    >>> print(plain("**b** :red[c] <i>"))
    \*\*b\*\* \:red\[c\] \<i\>
    """
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(text)).replace("/", "\\/")


def show_problem(headline: str, exc: object) -> None:
    """An error box: our headline in bold, then the message (which may quote user text) escaped."""
    st.error(f"**{headline}** {plain(exc)}", icon=":material/error:")


# ----------------------------------------------------------------------------- state plumbing
def _store() -> dict[str, Any]:
    return st.session_state.setdefault(STORE, {})


def _track_page() -> None:
    """Start a fresh set of seeded widgets when the user arrives on another page."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    page = ctx.page_script_hash if ctx is not None else ""
    if st.session_state.get(CURRENT_PAGE) != page:
        st.session_state[CURRENT_PAGE] = page
        st.session_state[SEEDED] = set()


def prime(fields: tuple[Field, ...] | list[Field]) -> None:
    """Load each field once per session from the URL (validated), then seed its widget from the store.

    A widget is seeded from the store on the first run of each page visit: the same key on
    another page belongs to another widget, whose leftover state must not leak in.
    """
    _track_page()
    seeded: set[str] = st.session_state.setdefault(SEEDED, set())
    store = _store()
    loaded: set[str] = st.session_state.setdefault(LOADED, set())
    messages: list[str] = st.session_state.setdefault(LINK_MESSAGES, [])
    for field in fields:
        if field.key not in loaded:
            loaded.add(field.key)
            value = field.default
            raw = st.query_params.get_all(field.key)
            if raw:
                if len(raw) > 1:
                    messages.append(f"The link gives `{field.key}` {len(raw)} times; the last one is used.")
                try:
                    value = field.parse(raw[-1])
                except ParseError as exc:
                    shown = raw[-1] if len(raw[-1]) <= 40 else raw[-1][:39] + "…"
                    messages.append(f"The link's `{field.key}={shown}` {exc}; using the default {field.format(field.default)}.")
            store[field.key] = value
        store.setdefault(field.key, field.default)
        if field.widget_key not in seeded or field.widget_key not in st.session_state:
            seeded.add(field.widget_key)
            st.session_state[field.widget_key] = store[field.key]


def remember(fields: tuple[Field, ...] | list[Field]) -> None:
    """Copy widget values to the store and the URL (a value equal to its default leaves the URL)."""
    store = _store()
    for field in fields:
        if field.widget_key in st.session_state:
            store[field.key] = st.session_state[field.widget_key]
        value = store.get(field.key, field.default)
        if value == field.default:
            if field.key in st.query_params:
                del st.query_params[field.key]
        else:
            text = field.format(value)
            if len(text) > field.max_url_chars:
                # Too long for a link: leave it out rather than make a link that breaks.
                if field.key in st.query_params:
                    del st.query_params[field.key]
                st.session_state.setdefault(TOO_LONG, set()).add(field.key)
                continue
            st.session_state.get(TOO_LONG, set()).discard(field.key)
            if st.query_params.get(field.key) != text:
                st.query_params[field.key] = text


def show_link_messages() -> None:
    """Show, once, what was wrong with the link this session opened."""
    messages = st.session_state.get(LINK_MESSAGES)
    if messages:
        st.warning("**This link had settings that could not be used:**\n\n" + "\n".join(f"- {plain(m)}" for m in messages), icon=":material/link_off:")
        st.session_state[LINK_MESSAGES] = []


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

    def options(self) -> dict[str, int | bool]:
        """The grid options as choose_qparams takes them."""
        return {
            "bits": self.bits, "signed": self.signed, "symmetric": self.symmetric,
            "narrow_range": self.narrow_range, "reduce_range": self.reduce_range,
        }


def _sync_from_slider() -> None:
    lo, hi = st.session_state["w_range_slider"]
    st.session_state["w_rmin"], st.session_state["w_rmax"] = float(lo), float(hi)


def _slider_bound(lo: float, hi: float) -> float:
    """A round bound that contains [lo, hi] with room to drag: 1, 2 or 5 times a power of ten."""
    need = max(abs(lo), abs(hi), 1e-6) * 1.5
    power = 10 ** math.floor(math.log10(need))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= need))


def labels(names: dict[str, str]) -> Callable[[str], str]:
    """A format_func showing each option's label (a label maps to itself, so it is safe to apply twice)."""
    return lambda option: names.get(option, option)


def quant_controls(*, rounding: bool = True) -> Settings:
    """Draw the shared sidebar controls and return the settings to use.

    Options that the chosen convention does not support are shown disabled with the reason;
    the user's own choice is kept and comes back when a convention supports it.
    """
    prime(SHARED_FIELDS)
    sb = st.sidebar
    sb.header("Quantization settings")
    convention = sb.selectbox(
        "Convention", list(CONVENTION_LABELS), format_func=labels(CONVENTION_LABELS), key="w_conv",
        help="Whose rules choose the scale and zero point and round the values: the textbook formula or a real framework, bit for bit.",
    )
    sb.caption(qv.CONVENTIONS[convention].summary)

    rmin_raw, rmax_raw = st.session_state["w_rmin"], st.session_state["w_rmax"]
    bound = _slider_bound(rmin_raw, rmax_raw)
    if rmin_raw <= rmax_raw:
        st.session_state["w_range_slider"] = (max(-bound, rmin_raw), min(bound, rmax_raw))
        sb.slider(
            "Real range [rmin, rmax]", -bound, bound, key="w_range_slider", step=bound / 200, on_change=_sync_from_slider,
            help="Drag either end. The boxes below take exact values; the slider's limits grow with them.",
        )
    cols = sb.columns(2)
    rmin = cols[0].number_input("rmin", key="w_rmin", format="%.6g", step=bound / 100, help="Smallest real value to represent (exact).")
    rmax = cols[1].number_input("rmax", key="w_rmax", format="%.6g", step=bound / 100, help="Largest real value to represent (exact).")

    asked = {
        "bits": st.session_state["w_bits"], "signed": st.session_state["w_signed"],
        "symmetric": st.session_state["w_symmetric"], "narrow_range": st.session_state["w_narrow"],
        "reduce_range": st.session_state["w_reduce"],
    }
    resolved = resolve_options(convention, **asked)
    eff = resolved.options
    if resolved.changed.get("bits") and len({b for b in range(2, 17) if not qv.CONVENTIONS[convention].unsupported_reason(**{**eff, "bits": b})}) > 1:
        st.session_state["w_bits"] = eff["bits"]  # snap to the nearest supported width; the slider stays usable
    bits_locked = all(qv.CONVENTIONS[convention].unsupported_reason(**{**eff, "bits": b}) for b in range(2, 17) if b != eff["bits"])
    if bits_locked:
        sb.slider("Bit width", 2, 16, value=eff["bits"], disabled=True, key="w_bits_locked",
                  help=f"{CONVENTION_LABELS[convention]} supports only {eff['bits']} bits here.")
    else:
        sb.slider("Bit width", 2, 16, key="w_bits", help="Number of bits per code: 2^bits integer codes.")
    if resolved.changed.get("bits"):
        sb.caption(f":material/info: {resolved.changed['bits']}")

    toggles = (
        ("signed", "signed", "Signed integers (int) instead of unsigned (uint)", "Two's-complement codes around 0, e.g. int8 [−128, 127], instead of uint8 [0, 255]."),
        ("symmetric", "symmetric", "Symmetric range [−a, a]", "Use the largest magnitude on both sides; z sits in the middle of the grid (0 for int, 2^(b−1) for uint)."),
        ("narrow", "narrow_range", "Narrow range (drop the lowest code)", "int8 becomes [−127, 127]: symmetric around 0. Used for weights."),
        ("reduce", "reduce_range", "Reduce range (one bit less)", "PyTorch's 7-bit activations, which avoid overflow in some integer kernels."),
    )
    for key, name, label, help_text in toggles:
        if name in resolved.locked or name in resolved.changed:
            note = resolved.changed.get(name) or resolved.locked[name]
            sb.checkbox(label, value=bool(eff[name]), disabled=True, key=f"w_{key}_locked", help=f"Not available: {note}")
        else:
            sb.checkbox(label, key=f"w_{key}", help=help_text)
        if name in resolved.changed:
            sb.caption(f":material/info: {label.split(' (')[0]}: {resolved.changed[name]}")

    mode: str | None = None
    z_first = False
    if rounding:
        if convention == "textbook":
            mode = sb.selectbox("Rounding", list(ROUNDING_LABELS), format_func=labels(ROUNDING_LABELS), key="w_rounding",
                                help="How x/s is turned into a whole number. Ties (…​.5) are where the modes differ.")
            z_first = sb.checkbox("Round after adding z: round(x/s + z)", key="w_zfirst",
                                  help="The seed example's order. Frameworks round x/s first, then add z; with an odd z, ties round differently.")
        else:
            rule = qv.CONVENTIONS[convention].tie_rule
            sb.selectbox("Rounding", [rule], format_func=labels(ROUNDING_LABELS), disabled=True, key="w_rounding_locked",
                         help=f"{CONVENTION_LABELS[convention]} always rounds this way; pick the textbook convention to try others.")
    presenter = sb.toggle("Presenter view", key="w_present", help="Larger text and charts for a projector; explanations folded away.")
    remember(SHARED_FIELDS)
    return Settings(
        float(rmin), float(rmax), int(eff["bits"]), bool(eff["signed"]), bool(eff["symmetric"]),
        bool(eff["narrow_range"]), bool(eff["reduce_range"]), convention, mode, bool(z_first), bool(presenter),
    )


def choose_or_stop(settings: Settings) -> qv.QParams:
    """Return the QParams for the settings, or show why they cannot be chosen and stop the page."""
    try:
        return cached_qparams(settings.rmin, settings.rmax, settings.convention, tuple(sorted(settings.options().items())))
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
</style>
"""
PRESENTER_CSS = """
<style>
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] li { font-size: 1.45rem !important; }
[data-testid="stMainBlockContainer"] [data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p { font-size: 3.2rem !important; }
[data-testid="stMainBlockContainer"] [data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"] p { font-size: 1.35rem !important; }
[data-testid="stMainBlockContainer"] .katex { font-size: 1.45em !important; }
[data-testid="stMainBlockContainer"] h1 { font-size: 3.4rem !important; }
</style>
"""


def page_header(title: str, intro: str, settings: Settings | None = None) -> None:
    """Title, one-paragraph intro (folded away in presenter view) and any link problems."""
    st.markdown(BASE_CSS, unsafe_allow_html=True)
    if settings is not None and settings.presenter:
        st.markdown(PRESENTER_CSS, unsafe_allow_html=True)
    st.title(title)
    if settings is None or not settings.presenter:
        st.markdown(intro)
    show_link_messages()


def show_figure(fig: Any, settings: Settings | None = None, *, key: str | None = None) -> None:
    """Draw a plotly figure. Presenter view: large fonts on a light template (Streamlit's theme would reset them)."""
    config = {"displaylogo": False, "displayModeBar": False}
    if settings is not None and settings.presenter:
        fig.update_layout(template="plotly_white", font={"size": 20}, title_font_size=26,
                          height=int((fig.layout.height or 400) * 1.3), margin={"t": 70})
        st.plotly_chart(fig, key=key, config=config, theme=None)
    else:
        st.plotly_chart(fig, key=key, config=config)


def qparams_metrics(qp: qv.QParams) -> None:
    """The four numbers every page starts from: s, z, grid, representable range."""
    from quantviz.explain import fmt

    c = st.columns([1, 1, 1, 1.8])
    c[0].metric("scale s", fmt(qp.scale, 8), help="Real width of one integer step.")
    c[1].metric("zero point z", str(qp.zero_point), help="The code that stands for real 0.")
    c[2].metric("grid", f"[{qp.qmin}, {qp.qmax}]", help=f"{qp.levels} codes")
    c[3].metric("representable", f"[{fmt(qp.real_min, 5)}, {fmt(qp.real_max, 5)}]", help="(qmin − z)·s to (qmax − z)·s: values outside are clipped.")


# ----------------------------------------------------------------------------- the user's values
USER_VALUES = "_qv_user_values"


def set_user_values(values: Any, source: str) -> None:
    """Keep the user's parsed values for every page of this session."""
    st.session_state[USER_VALUES] = (values, source)


def user_values() -> Any:
    """Return the values from the Your values page (numpy array), or None."""
    stored = st.session_state.get(USER_VALUES)
    return None if stored is None else stored[0]


# ----------------------------------------------------------------------------- lesson links
MAX_LINK_CHARS = 2000


def link_panel() -> None:
    """A sidebar panel with the link that reopens this exact view (settings, probe and pasted values).

    Values too long for a link are left out of it; the panel says so and offers the settings as a file.
    """
    import json
    from urllib.parse import urlencode

    base = (st.context.url or "").split("?")[0]
    query = urlencode(st.query_params.to_dict())
    link = f"{base}?{query}" if query else base
    with st.sidebar.expander("Link to this view", icon=":material/link:"):
        st.code(link or "(open the app in a browser to get its link)", language=None, wrap_lines=True)
        st.caption("Copy it with the button at its corner: it reopens this page with every setting shown here.")
        too_long = sorted(st.session_state.get(TOO_LONG, set()))
        if too_long or len(link) > MAX_LINK_CHARS:
            st.warning(f"Left out of the link (too long): {', '.join(too_long) or 'some values'}. Download the settings instead.", icon=":material/link_off:")
            st.download_button("Download these settings (JSON)", data=json.dumps(_store(), indent=1, default=str),
                               file_name="quantviz_view.json", mime="application/json", icon=":material/download:")


# ----------------------------------------------------------------------------- sample data
class Data(NamedTuple):
    """The values a page works on, and where they came from."""

    values: Any  # numpy array
    generated: bool
    distribution: str


@st.cache_data(max_entries=8, show_spinner=False)
def _sample(distribution: str, size: int, seed: int) -> Any:
    from quantviz.samples import sample_data

    return sample_data(distribution, size, seed)


def data_controls(prefix: str, *, distribution: str = "normal", size: int = 100_000, max_size: int = 10_000_000,
                  allow_user_values: bool = True) -> Data:
    """Draw the data controls (source, distribution, size, seed) with URL state; return the values.

    Stops the page with a pointer to *Your values* when the user's values are asked for but there are none.
    """
    from quantviz.samples import DISTRIBUTIONS

    sources = {"generated": "Generated sample", "yours": "Your values (from the Your values page)"}
    fields = [choice_field(f"{prefix}dist", distribution, {k: k for k in DISTRIBUTIONS}), int_field(f"{prefix}size", size, 10, max_size),
              int_field(f"{prefix}seed", 0, 0, 2**31 - 1)]
    if allow_user_values:
        fields.append(choice_field(f"{prefix}source", "generated", sources))
    prime(fields)
    cols = st.columns([2, 3, 2, 1] if allow_user_values else [3, 2, 1])
    if allow_user_values:
        source = cols[0].radio("Data", list(sources), format_func=labels(sources), key=f"w_{prefix}source",
                               help="Generated samples, or the values you pasted or uploaded on the Your values page.")
        cols = cols[1:]
    else:
        source = "generated"
    generated = source == "generated"
    dist = cols[0].selectbox("Distribution", list(DISTRIBUTIONS), key=f"w_{prefix}dist", disabled=not generated,
                             help="; ".join(f"{k}: {v}" for k, v in DISTRIBUTIONS.items()))
    n = cols[1].number_input("Sample size", 10, max_size, key=f"w_{prefix}size", step=10_000, disabled=not generated,
                             help=f"Up to {max_size:,} values; charts are binned, so they stay light.")
    seed = cols[2].number_input("Seed", 0, 2**31 - 1, key=f"w_{prefix}seed", disabled=not generated, help="Same seed, same sample.")
    remember(fields)
    if generated:
        st.caption(DISTRIBUTIONS[dist])
        return Data(_sample(dist, int(n), int(seed)), True, dist)
    values = user_values()
    if values is None:
        st.info("No values yet: paste or upload some on the *Your values* page.", icon=":material/info:")
        st.page_link("app_pages/your_values.py", label="Go to Your values", icon=":material/table_chart:")
        st.stop()
    return Data(values, False, "")
