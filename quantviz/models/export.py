"""Exports that load anywhere: strict JSON (no NaN or Infinity) and the quantized-tensor table as CSV rows.

JSON has no NaN or Infinity; Python's ``json`` writes them anyway and every strict parser then refuses the file.
:func:`strict` replaces each non-finite number by ``null`` and lists it, with its path and the reason, under
``"non_finite"``, so nothing is silently lost.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from quantviz.models.base import Model


class NonFinite(NamedTuple):
    """One number JSON cannot hold: where it was, what it was, and why it is not finite."""

    field: str
    value: str
    why: str


def _why(path: tuple[str, ...], value: float) -> str:
    """The reason a number at this path is not finite, from what the field measures."""
    if "sqnr_db" in path and value == math.inf:
        return "SQNR is +Infinity dB: the scheme reproduces every value exactly (the error is 0)"
    if "quantization" in path:
        return "the model file stores this value"
    if "max_abs_error" in path:
        return "the tensor holds non-finite values, so its error is not a number"
    return "the computation gave a non-finite number"


def strict(value: object) -> dict | list | object:
    """Return ``value`` with every non-finite float replaced by None; a dict gets ``non_finite`` listing each one.

    >>> clean = strict({"sqnr_db": {"int8": float("inf"), "int4": 20.5}})
    >>> clean["sqnr_db"]
    {'int8': None, 'int4': 20.5}
    >>> clean["non_finite"][0]["field"], clean["non_finite"][0]["value"]
    ('sqnr_db/int8', 'Infinity')
    >>> clean["non_finite"][0]["why"]
    'SQNR is +Infinity dB: the scheme reproduces every value exactly (the error is 0)'

    """
    found: list[NonFinite] = []

    def walk(v: object, path: tuple[str, ...]) -> object:
        if isinstance(v, dict):
            return {k: walk(item, (*path, str(k))) for k, item in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(item, (*path, str(i))) for i, item in enumerate(v)]
        if isinstance(v, np.ndarray):
            return walk(v.tolist(), path)
        if isinstance(v, (np.floating, float)) and not isinstance(v, bool):
            f = float(v)
            if math.isfinite(f):
                return f
            label = "NaN" if math.isnan(f) else ("Infinity" if f > 0 else "-Infinity")
            found.append(NonFinite(field="/".join(path), value=label, why=_why(path, f)))
            return None
        if isinstance(v, np.integer):
            return int(v)
        return v

    clean = walk(value, ())
    if isinstance(clean, dict):
        clean["non_finite"] = [item._asdict() for item in found]
    return clean


def quantized_table(model: Model) -> list[dict[str, object]]:
    """One row per quantized tensor with every stored parameter in full (scales as float32 reprs), for CSV.

    >>> from quantviz.models.base import Quantization, Tensor
    >>> t = Tensor("w", "int8", (2, 2), "weight", "Conv", Quantization(np.array([0.5, 0.25]), np.array([0, 0]), 0))
    >>> row = quantized_table(Model("m.onnx", "onnx", [t]))[0]
    >>> (row["name"], row["axis"], row["scales"], row["zero_points"])
    ('w', 0, '0.5 0.25', '0 0')
    """
    from quantviz.models.summary import quantized_rows

    summary = {r.name: r for r in quantized_rows(model)}
    rows = []
    for t in model.tensors:
        q = t.quantization
        if q is None:
            continue
        r = summary[t.name]
        rows.append(
            {
                "name": t.name,
                "role": t.role,
                "op": t.op,
                "dtype": t.dtype,
                "shape": "x".join(map(str, t.shape)),
                "granularity": r.granularity,
                "axis": "" if q.axis is None else q.axis,
                "block_size": "" if q.block_size is None else q.block_size,
                "scales": " ".join(repr(float(np.float32(s))) for s in q.scales),
                "zero_points": " ".join(str(int(z)) for z in q.zero_points),
                "representable": r.representable,
                "codes_used": r.codes_used,
                "saturated": r.saturated,
                "flags": r.flags,
            }
        )
    return rows
