"""Number line: the real axis over the integer grid, one probe value walked through every step."""

import streamlit as st

import quantviz as qv
from quantviz.app import figures, tables
from quantviz.app.live import live_number_line
from quantviz.app.state import float_field, labels, prime, remember
from quantviz.app.widgets import (
    ALL_CONTROLS,
    LIVE_RANGE,
    SET_DIRECTLY,
    choose_or_stop,
    page_header,
    qparams_metrics,
    quant_controls,
    show_figure,
    show_steps,
    show_table,
)
from quantviz.metrics import transfer_curve
from quantviz.teach.causes import rule_words
from quantviz.teach.fmt import fmt
from quantviz.teach.probe import NEAREST, default_probe, probe_steps
from quantviz.teach.steps import qparams_steps
from quantviz.teach.zero_point import zero_point_fates

settings = quant_controls(show=(*ALL_CONTROLS, SET_DIRECTLY, LIVE_RANGE))
page_header(
    "Number line",
    "The top line holds real values, the bottom line the integer codes, each code drawn under the real value it "
    f"stands for. The {figures.COLOUR_NAMES[figures.ORANGE]} line ties real 0 to the zero point. Shaded in "
    f"{figures.ZONE_WORDS[figures.REPRESENTABLE]} is what the grid can represent; "
    f"in {figures.ZONE_WORDS[figures.CLIPPED]} "
    "what gets clipped. Pick a probe value to follow it through every step.",
    settings,
)
qp = choose_or_stop(settings)
qparams_metrics(qp)

span = max(qp.real_max - qp.real_min, 1e-12)
PROBE = float_field("probe", 39.215686275)
prime([PROBE])
# A probe nobody chose starts inside the grid: a link with a small range should not open on a clipped value.
st.session_state["w_probe"] = default_probe(st.session_state["w_probe"], PROBE.default, qp)
probe_lo, probe_hi = qp.real_min - 0.15 * span, qp.real_max + 0.15 * span
probe_value = st.number_input(
    "Probe value x (exact)",
    key="w_probe",
    format="%.10g",
    help="Type any real value, inside or outside the range, or drag the probe on the line.",
)
remember([PROBE])

trace = qv.quantize_trace(
    [probe_value],
    qp,
    convention=settings.convention,
    rounding=settings.rounding,
    add_zero_point_before_rounding=settings.add_zero_point_before_rounding,
)
st.markdown(f"**x = {fmt(probe_value, 8)} is stored as q = {int(trace.q[0])}**")
live_number_line(settings, qp, probe=probe_value, probe_code=int(trace.q[0]))

st.subheader(f"x = {fmt(probe_value, 10)}, step by step")
steps = probe_steps(
    probe_value,
    qp,
    convention=settings.convention,
    rounding=settings.rounding,
    add_zero_point_before_rounding=settings.add_zero_point_before_rounding,
    bits=settings.bits,
    signed=settings.signed,
)
show_steps(steps, presenter=settings.presenter, numbered=True, side_by_side=True)

with st.expander("How s and z were chosen", expanded=not settings.presenter):
    if settings.scale is not None:
        st.markdown(
            f"They were not chosen here: s = {fmt(settings.scale, 17)} and z = {settings.zero_point} were entered "
            "as a model file stores them (switch the sidebar back to *a real range* to see a convention choose)."
        )
    else:
        show_steps(
            qparams_steps(
                settings.rmin, settings.rmax, convention=settings.convention, **settings.options().as_kwargs()
            ),
            marks=False,
        )
        if not settings.symmetric:
            st.markdown(
                f"**The raw zero point and what each convention does with it** ({settings.bits}-bit "
                f"{'signed' if settings.signed else 'unsigned'} grid; change the range to see it leave the grid)"
            )
            fates = zero_point_fates(
                settings.rmin,
                settings.rmax,
                bits=settings.bits,
                signed=settings.signed,
                narrow_range=settings.narrow_range,
                reduce_range=settings.reduce_range,
            )
            show_table(settings, tables.zero_point_fates_table(fates), hide_index=True)

st.subheader("The staircase and its sawtooth")
if not settings.presenter:
    st.markdown(
        "Every real value between two code boundaries comes back as the same dequantized value. "
        + (
            "Inside the range the error stays within ±s/2 (green band)"
            if settings.rounding in (None, *NEAREST)
            else f"Rounding {rule_words(settings.rounding)} lets the error reach a whole step inside the range, "
            "not ±s/2 (the green band)"
        )
        + "; past the ends it grows without bound."
    )
ZOOM = {"probe": "Around the probe (±8 steps)", "all": "The whole range"}
window = st.radio(
    "Show",
    list(ZOOM),
    format_func=labels(ZOOM),
    horizontal=True,
    key="w_zoom",
    help="With many codes the steps are too small to see over the whole range: zoom in around the probe.",
)
if window == "probe":
    curve_lo, curve_hi = probe_value - 8 * qp.scale, probe_value + 8 * qp.scale
else:
    curve_lo, curve_hi = probe_lo, probe_hi
curve = transfer_curve(
    qp,
    curve_lo,
    curve_hi,
    convention=settings.convention,
    rounding=settings.rounding,
    add_zero_point_before_rounding=settings.add_zero_point_before_rounding,
)
show_figure(figures.transfer_figure(curve, qp, chosen_range=(settings.rmin, settings.rmax)), settings)
