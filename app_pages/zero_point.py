"""Landing page: r = s·(q − z), with a live number line."""

import numpy as np
import streamlit as st

import quantviz as qv
from quantviz.app import figures
from quantviz.app.widgets import choose_or_stop, page_header, qparams_metrics, quant_controls, show_figure
from quantviz.teach.fmt import fmt

settings = quant_controls(rounding=False)
page_header(
    "The zero point in one minute",
    "Quantization stores a real number **r** as a small integer **q**. Two numbers describe the map: "
    "the **scale s**, the real width of one integer step, and the **zero point z**, the integer that stands "
    "for real 0. Drag the range in the sidebar and watch both move.",
    settings,
)
st.latex(r"r = s\,(q - z) \qquad\Longleftrightarrow\qquad q = \operatorname{clamp}\!\left(\operatorname{round}\!\left(\tfrac{r}{s}\right) + z,\ q_{min},\ q_{max}\right)")

qp = choose_or_stop(settings)
qparams_metrics(qp)
codes = qv.quantize([0.0], qp, convention=settings.convention)
probe = np.array([settings.rmin, 0.0, settings.rmax])
show_figure(
    figures.number_line_figure(
        qp, chosen_range=(settings.rmin, settings.rmax), values=probe, codes=qv.quantize(probe, qp, convention=settings.convention),
        title=f"{qv.grid_label(settings.bits, signed=settings.signed)}: real 0 is stored as code {qp.zero_point}",
    ),
    settings,
)

left, right = st.columns(2)
with left:
    st.subheader("Why a zero point?")
    st.markdown(
        f"- **Real 0 is exact.** 0.0 is stored as **{int(codes[0])}** and comes back as exactly "
        f"{fmt(float(qv.dequantize(codes, qp, convention=settings.convention)[0]))}. Zero padding, ReLU outputs and sparse "
        "tensors are full of zeros: none of them may pick up an error.\n"
        f"- **It shifts the grid.** An unsigned type has no negative codes; z = {qp.zero_point} moves real 0 up the grid so that "
        f"[{fmt(qp.real_min, 6)}, 0) gets the codes below it.\n"
        "- **A symmetric scheme** puts z in the middle of the grid: 0 for signed types, 128 for uint8, 8 for uint4 "
        "(tick *Symmetric* in the sidebar)."
    )
with right:
    st.subheader("Where it sits")
    share_below = qp.share_of_codes_below_zero
    st.markdown(
        f"With [{fmt(settings.rmin, 6)}, {fmt(settings.rmax, 6)}] on a grid of {qp.levels} codes, "
        f"{share_below:.0%} of the codes lie below z and stand for negative values. "
        "Move rmin to 0 and z drops to the bottom of the grid; make the range symmetric and z moves to the middle."
    )
    if settings.rmin > 0 or settings.rmax < 0:
        st.info("Your range does not contain 0. The convention widens it to include 0 (or, for TF fake-quant, slides it), "
                "so that 0 keeps an exact code. See *Worked examples → A range without 0*.", icon=":material/info:")

st.subheader("Go further")
c = st.columns(5)
c[0].page_link("app_pages/number_line.py", label="Number line: one value, step by step", icon=":material/linear_scale:")
c[1].page_link("app_pages/rounding_error.py", label="What rounding and clipping cost", icon=":material/ssid_chart:")
c[2].page_link("app_pages/worked_examples.py", label="The seed example, checked", icon=":material/calculate:")
c[3].page_link("app_pages/your_values.py", label="Quantize your own values", icon=":material/table_chart:")
c[4].page_link("app_pages/frameworks.py", label="TFLite, PyTorch, ONNX compared", icon=":material/compare_arrows:")
