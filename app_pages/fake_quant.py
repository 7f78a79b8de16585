"""Fake quantization and the straight-through estimator: which values stop learning."""

import numpy as np
import streamlit as st

import quantviz as qv
from quantviz.app import figures
from quantviz.app.widgets import (
    NOT_ORDER,
    choose_or_stop,
    data_controls,
    page_header,
    qparams_metrics,
    quant_controls,
    show_figure,
)
from quantviz.metrics import transfer_curve
from quantviz.teach.glossary import link_jargon

settings = quant_controls(show=NOT_ORDER)
page_header(
    "Fake quantization and the straight-through estimator",
    "Quantization-aware training runs fake_quantize in the forward pass: quantize, then dequantize at once. Its "
    "staircase has zero slope almost everywhere, so the backward pass pretends it is the identity "
    "(the straight-through "
    "estimator) — except outside the range, where the value was clipped and the gradient is 0. Drag the range in the "
    f"sidebar over the fixed data and watch values turn {figures.COLOUR_NAMES[figures.STUCK]}: they stop learning.",
    settings,
)
qp = choose_or_stop(settings)
qparams_metrics(qp, representable=qv.fake_quantize_range(qp, convention=settings.convention))
# Fixed data, moving range: the sample does not follow the range, so dragging the range changes who is stuck.
x = data_controls("fq_", size=2000, max_size=1_000_000, spread=500.0).values
mask = qv.ste_mask(x, qp, convention=settings.convention)
span = qp.real_max - qp.real_min
lo, hi = min(qp.real_min - 0.3 * span, float(x.min())), max(qp.real_max + 0.3 * span, float(x.max()))
curve = transfer_curve(qp, lo, hi, convention=settings.convention, rounding=settings.rounding)
curve_mask = qv.ste_mask(curve.x, qp, convention=settings.convention)
m = st.columns(2)
m[0].metric("values still learning", f"{mask.mean():.1%}", help="Gradient 1: inside the grid.")
m[1].metric("values stuck", f"{int((~mask).sum()):,}", help="Clipped: gradient 0, so training cannot move them back.")
show_figure(figures.ste_figure(curve, curve_mask.astype(np.float64), x, mask), settings)
if not settings.presenter:
    st.markdown(
        link_jargon(
            "PyTorch's `fake_quantize_per_tensor_affine` backward is exactly this mask: 1 where "
            "round(x/s) + z lies in [qmin, qmax], 0 elsewhere. Learnable-range methods (LSQ, PACT) add a gradient "
            "for the range itself so that it can grow to let those values back in."
        )
    )
