"""Landing page: r = s·(q − z), with a live number line."""

import numpy as np
import streamlit as st

import quantviz as qv
from quantviz.app.live import live_number_line
from quantviz.app.state import choice_field, float_field, labels, prime, remember
from quantviz.app.widgets import (
    LIVE_RANGE,
    NOT_ROUNDING,
    SET_DIRECTLY,
    choose_or_stop,
    page_header,
    qparams_metrics,
    quant_controls,
)
from quantviz.schemes import SCHEMES, store
from quantviz.teach.fmt import fmt
from quantviz.teach.probe import default_probe
from quantviz.teach.zero_point import (
    broken_zero,
    clipped_ends,
    how_z_shifts_the_grid,
    symmetric_zero_points,
    weights_and_bias,
    where_z_sits,
    zero_is_exact,
)

settings = quant_controls(show=(*NOT_ROUNDING, SET_DIRECTLY, LIVE_RANGE))
page_header(
    "The zero point in one minute",
    "Quantization stores a real number **r** as a small integer **q**. Two numbers describe the map: "
    "the **scale s**, the real width of one integer step, and the **zero point z**, the integer that stands "
    "for real 0. Drag the range's ends on the number line and watch both move.",
    settings,
)
st.latex(
    r"q = \operatorname{clamp}\!\left(\operatorname{round}\!\left(\tfrac{r}{s}\right) + z,\ q_{min},\ q_{max}\right)"
    r"\qquad\longrightarrow\qquad \hat r = s\,(q - z) \approx r"
)
st.caption(
    "Quantize, then dequantize: the way back gives r exactly only for values on the grid. In between, "
    "rounding moves r by up to s/2; past the ends, the clamp moves it further. The two formulas are not inverses."
)

qp = choose_or_stop(settings)
qparams_metrics(qp)
# The probe is the Number line page's (one setting, one URL key): it starts inside the grid unless chosen.
PROBE = float_field("probe", 39.215686275)
prime([PROBE])
st.session_state["w_probe"] = default_probe(st.session_state["w_probe"], PROBE.default, qp)
remember([PROBE])
probe = float(st.session_state["w_probe"])
st.markdown(f"**{qv.grid_label(settings.bits, signed=settings.signed)}: real 0 is stored as code {qp.zero_point}**")
live_number_line(
    settings, qp, probe=probe, probe_code=int(qv.quantize(np.array([probe]), qp, convention=settings.convention)[0])
)

left, right = st.columns(2)
with left:
    st.subheader("Why a zero point?")
    facts = [zero_is_exact(qp, settings.convention), how_z_shifts_the_grid(qp, signed=settings.signed)]
    facts += clipped_ends(qp, settings.rmin, settings.rmax, convention=settings.convention)
    symmetric = symmetric_zero_points(
        settings.convention, settings.bits, narrow_range=settings.narrow_range, reduce_range=settings.reduce_range
    )
    if symmetric:
        facts.append(symmetric)
    st.markdown("\n".join(f"- {fact.text}" for fact in facts))
with right:
    st.subheader("Where it sits")
    st.markdown(
        "\n\n".join(
            fact.text
            for fact in where_z_sits(
                qp,
                settings.rmin,
                settings.rmax,
                convention=settings.convention,
                bits=settings.bits,
                signed=settings.signed,
                symmetric=settings.symmetric,
                narrow_range=settings.narrow_range,
                reduce_range=settings.reduce_range,
            )
        )
    )

st.subheader("Break it: what if real 0 had no exact code?")
ZSCHEME = choice_field("zscheme", "fractional", SCHEMES)
prime([ZSCHEME])
scheme = st.radio(
    "Store the range with",
    list(SCHEMES),
    format_func=labels(SCHEMES),
    key="w_zscheme",
    horizontal=True,
    help="Frameworks round z to a whole number. Keep it a fraction, or drop it for a min offset, and see 0 break.",
)
remember([ZSCHEME])
# The range the convention used above (widened, nudged or symmetrised), so that only z's treatment differs.
lo, hi = (
    (qp.rmin, qp.rmax)
    if qp.rmin is not None and qp.rmax is not None
    else (min(settings.rmin, 0.0), max(settings.rmax, 0.0))
)
if settings.symmetric and scheme != "integer":
    st.caption(
        f"A symmetric scheme sets z by rule, so it cannot miss 0 this way: below is the asymmetric map over "
        f"the same range [{fmt(lo, 8)}, {fmt(hi, 8)}] with z left a fraction or dropped."
    )
if lo == hi:
    st.info("The range is the single point 0: every scheme stores it exactly.", icon=":material/info:")
else:
    stored = store([0.0], lo, hi, bits=settings.bits, signed=settings.signed, scheme=scheme, qparams=qp)
    zeros, total = 5_000, 10_000  # a ReLU layer's output: about half exact zeros
    st.markdown(
        "\n".join(
            f"- {fact.text}"
            for fact in [
                *broken_zero(stored, zeros=zeros, total=total),
                weights_and_bias(settings.convention, settings.bits),
            ]
        )
    )

st.subheader("Go further")
c = st.columns(3)
c[0].page_link("app_pages/number_line.py", label="Number line: one value, step by step", icon=":material/linear_scale:")
c[1].page_link("app_pages/rounding_error.py", label="What rounding and clipping cost", icon=":material/ssid_chart:")
c[2].page_link("app_pages/worked_examples.py", label="The seed example, checked", icon=":material/calculate:")
c[0].page_link("app_pages/your_values.py", label="Quantize your own values", icon=":material/table_chart:")
c[1].page_link("app_pages/frameworks.py", label="TFLite, PyTorch, ONNX compared", icon=":material/compare_arrows:")
