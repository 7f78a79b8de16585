"""Tables for the pages (pandas): one row per value, every step of its quantization."""

from __future__ import annotations

import pandas as pd

from quantviz.conventions import QuantizeTrace
from quantviz.grid import storage_bits, to_binary_array
from quantviz.qparams import QParams


def values_table(trace: QuantizeTrace, qp: QParams, *, limit: int | None = None):
    """Return a pandas DataFrame with one row per value: x, x/s, rounded, q, binary, dequantized, error, clipped.

    The binary column uses the storage type's width (two's complement when signed).
    """
    n = trace.x.size if limit is None else min(limit, trace.x.size)
    bits, signed = storage_bits(qp.storage_min, qp.storage_max)
    q = trace.q[:n]
    return pd.DataFrame(
        {
            "x": trace.x[:n],
            "x / s": trace.scaled[:n],
            "rounded (before clamp)": trace.unclamped[:n],
            "q": q,
            "binary": to_binary_array(q, bits, signed=signed),
            "dequantized": trace.dequantized[:n],
            "error": trace.error[:n],
            "clipped": trace.clipped[:n],
        }
    )
