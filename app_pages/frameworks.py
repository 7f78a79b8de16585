"""Frameworks compared: one row per convention for the same range, grid and probe values."""

import numpy as np
import streamlit as st

import quantviz as qv
from quantviz.app import tables
from quantviz.app.state import choice_field, labels, optional_float_field, prime, remember, show_problem, text_field
from quantviz.app.widgets import NOT_ROUNDING, page_header, quant_controls, show_table
from quantviz.errors import QuantVizError
from quantviz.inputs import parse_values
from quantviz.teach.compare import compare_conventions, explain_differences, tiny_scale_differences
from quantviz.teach.fmt import fmt
from quantviz.teach.glossary import link_jargon, term
from quantviz.teach.notation import FORMS, INPUTS, form_parameters, notations, to_affine, translation_sentence

settings = quant_controls(show=tuple(c for c in NOT_ROUNDING if c != "convention"))
page_header(
    "Frameworks compared",
    "The same range and grid, six sets of rules. Each row is computed the way the framework computes it — float32 "
    "arithmetic, tie rules and all — and checked bit for bit against the real framework in our test suite. "
    "Cells that differ from the textbook are highlighted, and every difference is explained below.",
    settings,
)
PROBES = text_field("probes", "")
prime([PROBES])
default_probes = sorted({settings.rmin, 0.0, settings.rmax, (settings.rmin + settings.rmax) / 2})
text = st.text_input(
    "Probe values",
    key="w_probes",
    placeholder=", ".join(fmt(v, 8) for v in default_probes),
    help="Values to quantize under every convention; empty uses rmin, 0, the middle and rmax.",
)
remember([PROBES])
try:
    probes = parse_values(text).values[:12] if text.strip() else np.array(default_probes)
except QuantVizError as exc:
    show_problem("Could not read the probe values:", exc)
    st.stop()

rows = compare_conventions(settings.rmin, settings.rmax, probes.tolist(), options=settings.options())
grid = qv.grid_label(settings.bits, signed=settings.signed)
st.markdown(
    f"Range **[{fmt(settings.rmin)}, {fmt(settings.rmax)}]**, **{grid}**"
    + (", symmetric" if settings.symmetric else "")
    + (", narrow range" if settings.narrow_range else "")
    + (", reduce range" if settings.reduce_range else "")
    + "."
)

table = tables.conventions_table(rows, probes)
if table is not None:
    show_table(settings, table, hide_index=True)
unsupported = [r for r in rows if r.qparams is None]
if unsupported:
    with st.expander(f"{len(unsupported)} convention(s) do not support these settings", expanded=True):
        for r in unsupported:
            st.markdown(f"- **{r.label}**: {r.reason}")
# only where the nudge moved the range (in float32, as TF reads it)
nudged = [
    r for r in rows if r.nudged and r.nudged != (float(np.float32(settings.rmin)), float(np.float32(settings.rmax)))
]
for r in nudged:
    st.caption(
        f"TF fake-quant {term('nudge', 'nudges')} [{fmt(settings.rmin)}, {fmt(settings.rmax)}] to "
        f"[{fmt(r.nudged[0], 8)}, {fmt(r.nudged[1], 8)}] (float32) so that 0 lands on a code."
    )

st.subheader("Why they differ")
st.caption(
    "Each line names the cause, found by experiment: the smallest set of steps whose replacement by the "
    "textbook's makes the two agree, and the steps a reader might suspect that change nothing."
)


@st.cache_data(max_entries=32, show_spinner=False)
def _causes(rmin: float, rmax: float, probes: tuple[float, ...], options: qv.GridOptions) -> tuple[list, list]:
    """The experiments behind every "why" (a few hundred reruns of the recipes): once per setting, not per rerun."""
    found = compare_conventions(rmin, rmax, list(probes), options=options)
    return tiny_scale_differences(explain_differences(found, list(probes), rmin=rmin, rmax=rmax, options=options))


tiny, differences = _causes(settings.rmin, settings.rmax, tuple(probes.tolist()), settings.options())
if tiny:
    st.markdown(
        f"- {', '.join(d.label for d in tiny)} store the scale as float32 (or compute it in float32): "
        f"{fmt(tiny[0].results[0], 12)} instead of {fmt(tiny[0].results[1], 12)}. Tiny, but enough to move a "
        "number that sits on a tie; where it does, a line below says so."
    )
if differences:
    st.markdown(link_jargon("\n".join(f"- {d.sentence}" for d in differences)))
elif not tiny:
    st.success(
        "For these settings and probes every supported convention agrees with the textbook.", icon=":material/check:"
    )

st.subheader("One quantizer, seven notations")
reference = next((r for r in rows if r.qparams is not None), None)
if reference is not None:
    st.caption(
        f"The {reference.label.lower()} row above (s = {fmt(reference.qparams.scale)}, "
        f"z = {reference.qparams.zero_point}), "
        "written the ways texts and frameworks write it. Every one is the same map r = s·(q − z)."
    )
    show_table(
        settings,
        [
            {
                "who writes it so": n.where,
                "here": n.parameters,
                "quantize": n.quantize,
                "dequantize": n.dequantize,
                "onto r = s·(q − z)": n.onto_ours,
            }
            for n in notations(reference.qparams)
        ],
        hide_index=True,
    )
# The two parameters start empty: then the row above is shown in the chosen form; typed values are translated.
NOTATION_FIELDS = [
    choice_field("nt_form", "inverse", {k: v[0] for k, v in FORMS.items()}),
    optional_float_field("nt_a", -1e30, 1e30),
    optional_float_field("nt_b", -1e30, 1e30),
]
prime(NOTATION_FIELDS)
tc = st.columns([3, 2, 2])
form = tc[0].selectbox(
    "Translate parameters written as",
    list(FORMS),
    format_func=labels({k: f"{v[0]}: {v[2]}" for k, v in FORMS.items()}),
    key="w_nt_form",
    help="Pick the form your text or framework uses, type its two numbers, get s and z.",
)
first_name, second_name = INPUTS[form]
ours = form_parameters(form, reference.qparams) if reference is not None else None
first = tc[1].number_input(
    first_name,
    key="w_nt_a",
    value=None,
    format="%.10g",
    placeholder=fmt(ours[0], 10) if ours else "",
    help=f"The first parameter, {first_name}.",
)
second = tc[2].number_input(
    second_name,
    key="w_nt_b",
    value=None,
    format="%.10g",
    placeholder=fmt(ours[1], 10) if ours else "",
    help=f"The second parameter, {second_name}.",
)
remember(NOTATION_FIELDS)
if first is None and second is None:
    if reference is None:
        st.caption("Type two parameters to translate them.")
    elif ours is None:
        st.markdown(
            f"The {reference.label.lower()} row above cannot be written this way: it has z = "
            f"{reference.qparams.zero_point}. Type two parameters to translate them."
        )
    else:
        st.markdown(
            f"The {reference.label.lower()} row above written this way: **{first_name} = {fmt(ours[0], 10)}**, "
            f"**{second_name} = {fmt(ours[1], 10)}**. Type your own to translate them."
        )
else:
    try:
        fallback = ours or (None, None)
        a = first if first is not None else fallback[0]
        b = second if second is not None else fallback[1]
        if a is None or b is None:
            raise QuantVizError(f"type both {first_name} and {second_name}")
        s_ours, z_ours = to_affine(form, float(a), float(b))
    except QuantVizError as exc:
        show_problem("Cannot translate:", exc)
    else:
        st.markdown(translation_sentence(s_ours, z_ours))

if not settings.presenter:
    st.subheader("The rules, in words")
    for conv in qv.CONVENTIONS.values():
        with st.expander(conv.label, expanded=False):
            st.markdown(link_jargon(conv.summary))
            st.markdown(link_jargon("\n".join(f"{i}. {rule}" for i, rule in enumerate(conv.rules, start=1))))
