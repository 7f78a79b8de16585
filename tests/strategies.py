"""Hypothesis strategies for quantviz: bounded finite ranges, grid options, arrays."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import quantviz as qv

finite = st.floats(min_value=-(2.0**20), max_value=2.0**20, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def ranges(draw) -> tuple[float, float]:
    lo = draw(finite)
    width = draw(st.floats(min_value=2.0**-10, max_value=2.0**20, allow_nan=False, width=32))
    hi = max(np.float32(lo + width), np.nextafter(np.float32(lo), np.float32(np.inf)))
    return float(np.float32(lo)), float(hi)


@st.composite
def setups(draw, conventions=tuple(qv.CONVENTIONS)):
    """A (convention, options, QParams) the convention supports."""
    name = draw(st.sampled_from(conventions))
    conv = qv.get_convention(name)
    options = {
        "bits": draw(st.sampled_from([2, 3, 4, 8, 12, 16])),
        "signed": draw(st.booleans()),
        "symmetric": draw(st.booleans()),
        "narrow_range": draw(st.booleans()),
        "reduce_range": draw(st.booleans()),
    }
    if conv.unsupported_reason(**options):
        options.update(bits=8, narrow_range=False, reduce_range=False, symmetric=False)
        options["signed"] = name != "tf_fake_quant"
    lo, hi = draw(ranges())
    qp = qv.choose_qparams(lo, hi, convention=name, **options)
    return name, options, qp


def values_for(qp: qv.QParams, size: int = 64):
    span = qp.real_max - qp.real_min
    return st.lists(
        st.floats(min_value=qp.real_min - span, max_value=qp.real_max + span, allow_nan=False),
        min_size=1,
        max_size=size,
    ).map(lambda v: np.array(v, dtype=np.float32).astype(np.float64))
