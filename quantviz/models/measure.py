"""Float weight tensors measured: the SQNR and max error of int8/int4 schemes and of each framework's default.

Textbook schemes (symmetric narrow range with z = 0, affine with an integer zero point; per tensor, per channel,
per group of 128 or 32) in float64, and what TFLite, ONNX Runtime and PyTorch do to a float weight by default, in
their own float32 arithmetic. One tensor in memory at a time.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.models.base import Model


class FloatMeasure(NamedTuple):
    """A float tensor quantized a few ways: SQNR (dB) of each."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    size: int
    sqnr: dict[str, float]
    max_error: dict[str, float]


# label: (bits, granularity, group); textbook arithmetic (float64), vectorised over rows or groups. Symmetric: narrow
# range, z = 0. Affine: the range widened to include 0, an integer zero point, the full grid.
SCHEMES = {
    f"int{bits} {kind} {where}": (bits, granularity, group, kind == "affine")
    for bits in (8, 4)
    for kind in ("symmetric", "affine")
    for where, granularity, group in (
        ("per tensor", "tensor", 0),
        ("per channel", "channel", 0),
        ("group 128", "group", 128),
        ("group 32", "group", 32),
    )
}
# What each framework does to a float weight by default, as its own convention computes it (float32 arithmetic):
# TFLite: int8 per output channel, s = max|w| / 127 in float32, narrow range; ONNX Runtime (quantize_static):
# int8 per tensor, symmetric, s = 2·max|w| / 254 in float64 stored as float32; PyTorch x86 default qconfig:
# qint8 per channel, symmetric, s = max|w| / 127.5 in float32.
FRAMEWORK_DEFAULTS = {
    "TFLite default (int8 per channel)": ("tflite", "channel"),
    "ONNX Runtime default (int8 per tensor)": ("onnxruntime", "tensor"),
    "PyTorch x86 default (qint8 per channel)": ("pytorch", "channel"),
}


def _scheme_error(
    matrix: np.ndarray, bits: int, granularity: str, group: int, affine: bool, out: np.ndarray | None = None
) -> np.ndarray | None:
    """The error (dequantized − x) of one scheme, or None where the groups do not divide the rows.

    Computed in place in ``out`` (a float64 buffer of ``matrix``'s size, reused across schemes: a 1 GB model's
    report spends its time here, and fresh temporaries cost as much as the arithmetic), the same operations in the
    same order as written out: round(x / s) + z, clamped, − z, × s, − x.
    """
    rows = matrix
    if granularity == "group":
        if matrix.shape[1] % group:
            return None
        rows = matrix.reshape(-1, group)
    buf = (np.empty(rows.shape) if out is None else out).reshape(rows.shape)
    axis = None if granularity == "tensor" else 1
    if affine:
        top = 2**bits - 1
        lo = np.minimum(rows.min(axis=axis, keepdims=True), 0.0)
        hi = np.maximum(rows.max(axis=axis, keepdims=True), 0.0)
        s = np.where(hi > lo, (hi - lo) / top, 1.0)
        z = np.clip(np.rint(-lo / s), 0, top)
        np.rint(np.divide(rows, s, out=buf), out=buf)
        np.clip(np.add(buf, z, out=buf), 0, top, out=buf)
        np.multiply(np.subtract(buf, z, out=buf), s, out=buf)
    else:
        top = 2 ** (bits - 1) - 1
        amax = np.abs(rows).max(axis=axis, keepdims=True)
        s = np.where(amax > 0, amax / top, 1.0)
        np.rint(np.divide(rows, s, out=buf), out=buf)
        np.multiply(np.clip(buf, -top, top, out=buf), s, out=buf)
    return np.subtract(buf, rows, out=buf).reshape(matrix.shape)


def framework_scales(matrix: np.ndarray, convention: str, granularity: str) -> np.ndarray:
    """The float32 scales a framework's default weight quantization chooses: one per row, or one for the tensor."""
    from quantviz.quantize import choose_qparams

    options = {"bits": 8, "signed": True, "symmetric": True, "narrow_range": convention == "tflite"}
    amax = [float(np.abs(matrix).max())] if granularity == "tensor" else np.abs(matrix).max(axis=1).tolist()
    return np.array([choose_qparams(-a, a, convention=convention, **options).scale for a in amax], np.float32)


def _framework_error(
    matrix: np.ndarray, convention: str, granularity: str, out: np.ndarray | None = None, x: np.ndarray | None = None
) -> np.ndarray:
    """The error of a framework's default on ``matrix``; ``x`` its float32 copy (made once per tensor), ``out`` a
    float64 buffer for the result."""
    s = framework_scales(matrix, convention, granularity).reshape(-1, 1)
    x = matrix.astype(np.float32) if x is None else x
    # z = 0 in all three: round(x · (1/s)) (TFLite, PyTorch) or round(x / s) (ONNX Runtime), float32, then clamp
    q = np.rint(x / s) if convention == "onnxruntime" else np.rint(x * (np.float32(1) / s))
    lo = -127 if convention == "tflite" else -128
    np.multiply(np.clip(q, lo, 127, out=q), s, out=q)
    out = np.empty(matrix.shape) if out is None else out.reshape(matrix.shape)
    return np.subtract(q, matrix, out=out)  # float32 widened exactly, then − x in float64, as (q·s).astype − x


def measure_floats(model: Model, *, largest: int = 20) -> list[FloatMeasure]:
    """SQNR and max error of int8/int4, symmetric and affine, per tensor, per channel (rows) and per group of 128 and
    32, and of each framework's default, for the largest float weight tensors; the worst (lowest int4 symmetric
    group-32 SQNR) first. One tensor in memory at a time.

    >>> from quantviz.models.base import Model, Tensor
    >>> w = np.linspace(-1, 1, 256, dtype=np.float32).reshape(2, 128)
    >>> m = measure_floats(Model("m", "npz", [Tensor("w", "float32", (2, 128), "weight", loader=lambda: w)]))
    >>> m[0].sqnr["int8 symmetric per channel"] > m[0].sqnr["int4 symmetric per channel"]
    True
    """
    from quantviz.metrics import sqnr_db

    floats = [
        t
        for t in model.tensors
        if t.has_values
        and t.quantization is None
        and t.role == "weight"
        and t.dtype.startswith(("float", "bfloat"))
        and not t.dtype.startswith("float8")
        and t.size >= 16
    ]
    out = []
    for t in sorted(floats, key=lambda t: -t.size)[:largest]:
        w = np.asarray(t.load(), dtype=np.float64)
        matrix = w.reshape(w.shape[0], -1) if w.ndim >= 2 else w.reshape(1, -1)
        power = float(np.mean(matrix**2))
        results, max_error = {}, {}
        buffer, x32 = np.empty(matrix.shape), matrix.astype(np.float32)  # one error buffer, one float32 copy
        jobs = [(label, _scheme_error, scheme, {}) for label, scheme in SCHEMES.items()]
        jobs += [(label, _framework_error, scheme, {"x": x32}) for label, scheme in FRAMEWORK_DEFAULTS.items()]
        for label, error_of, scheme, extra in jobs:  # one error array at a time: memory stays at a few tensor copies
            err = error_of(matrix, *scheme, out=buffer, **extra)
            if err is not None:
                max_error[label] = float(np.abs(err, out=err).max())
                results[label] = round(sqnr_db(power, float(np.square(err, out=err).mean())), 2)  # |e|² = e²
        out.append(FloatMeasure(t.name, t.dtype, t.shape, t.size, results, max_error))
        del w, matrix, buffer, x32
    worst = "int4 symmetric group 32"
    return sorted(out, key=lambda m: m.sqnr.get(worst, m.sqnr.get("int4 symmetric per channel", 0)))
