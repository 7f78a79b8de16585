"""How was this model quantized? The answer in words, one row per quantized tensor, and float tensors measured."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.models.base import Model, Tensor
from quantviz.models.problems import INTEGER_GRIDS, grid_of, is_compute_weight, likely_problems  # noqa: F401

HEADLINES = {
    "tflite-int8": "Full-integer quantization (TFLite int8)",
    "tflite-16x8": "16x8 quantization (TFLite): int16 activations, int8 weights, not full-integer",
    "tflite-dynamic": "Dynamic-range quantization (TFLite)",
    "onnx-qdq": "ONNX QDQ quantization (QuantizeLinear/DequantizeLinear around float operators)",
    "onnx-qoperator": "ONNX QOperator quantization (integer operators: QLinearConv, QLinearMatMul, ...)",
    "onnx-dynamic": "Dynamic quantization (ONNX Runtime: ConvInteger/MatMulInteger, activations quantized at run time)",
    "onnx-matmulnbits": "Weight-only block quantization (ONNX Runtime MatMulNBits/GatherBlockQuantized)",
    "gptq": "GPTQ weight-only quantization (AutoGPTQ packing)",
    "awq": "AWQ weight-only quantization (AutoAWQ packing)",
    "compressed-tensors": "compressed-tensors weight-only quantization (pack-quantized, as llm-compressor writes)",
    "fp8": "FP8 weights (float-quantized: E4M3 codes with scales)",
}
WEIGHT_ONLY = ("onnx-matmulnbits", "gptq", "awq", "compressed-tensors", "fp8")  # dequantized inside the matmul
SMALL_TFLITE_WEIGHT = 1024  # the TFLite converter leaves weights with fewer values in float (dynamic range)


def _fmt32(value: float) -> str:
    """A float32 value with all the digits that identify it (the shortest repr of the float32)."""
    return repr(float(np.float32(value))) if np.isfinite(value) else str(value)


def describe(model: Model) -> list[str]:
    """Return the summary in words: what kind of quantization, which types and zero points, what stays float.

    >>> from quantviz.models.base import Model, Tensor
    >>> describe(Model("m.npz", "npz", [Tensor("w", "float32", (2, 2), "weight")]))[0]
    'No tensor carries quantization parameters: a float model (1 tensor, float32).'
    """
    tensors = model.tensors
    quantized = [t for t in tensors if t.quantization is not None]
    block_typed = [t for t in tensors if t.dtype.startswith(("Q", "IQ", "TQ", "MXFP", "NVFP"))]
    dtypes = sorted({t.dtype for t in tensors})
    if block_typed:
        kinds = sorted({t.dtype for t in block_typed})
        lines = [
            f"A GGUF model with block-quantized weights ({', '.join(kinds)}): each block of values carries its own "
            f"scale; {len(block_typed)} of {len(tensors)} tensors are block-quantized, the rest {', '.join(sorted({t.dtype for t in tensors} - set(kinds))) or 'none'}."
        ]
        if model.format == "gguf":
            from quantviz.models.gguf_reader import describe_gguf

            lines.extend(describe_gguf(model))
        return lines
    if not quantized:
        return [
            f"No tensor carries quantization parameters: a float model ({len(tensors)} tensor{'s' if len(tensors) != 1 else ''}, "
            f"{', '.join(dtypes)})."
        ]
    weights = [t for t in quantized if is_compute_weight(t)]
    activations = [t for t in quantized if not t.has_values or t.role in ("input", "output", "activation")]
    float_activations = [
        t for t in tensors if t.quantization is None and not t.has_values and t.dtype.startswith("float")
    ]
    lines = []
    headline = HEADLINES.get(model.file_type)
    runtime = model.file_type in ("tflite-dynamic", "onnx-dynamic", *WEIGHT_ONLY)
    if headline and not runtime:
        kinds = sorted({t.dtype for t in activations})
        lines.append(
            f"{headline}: {len(weights)} weight and {len(activations)} activation tensors carry scales and zero "
            f"points" + (f"; activations are {', '.join(kinds)}." if kinds else ".")
        )
    elif headline:
        lines.append(
            f"{headline}: {len(weights)} weight tensor{'s are' if len(weights) != 1 else ' is'} stored as "
            f"{', '.join(sorted({t.dtype for t in weights}))} with scales; activations stay in float"
            + (
                " and are quantized on the fly by each integer operator."
                if model.file_type not in WEIGHT_ONLY
                else ", the weights dequantized block by block inside the operator."
            )
        )
    elif activations:
        lines.append(
            f"Full-integer quantization: {len(weights)} weight and {len(activations)} activation tensors carry "
            f"scales and zero points; activations are {', '.join(sorted({t.dtype for t in activations}))}."
        )
    else:
        lines.append(
            f"Dynamic-range quantization: {len(weights)} weight tensor{'s are' if len(weights) != 1 else ' is'} "
            f"stored as {', '.join(sorted({t.dtype for t in weights}))} with scales, while activations stay in "
            "float and are quantized on the fly, if at all."
        )
    if model.file_type == "tflite-dynamic":
        lines.extend(_stayed_float(tensors))
    for role in ("input", "output"):
        ends = [t for t in tensors if t.role == role]
        if ends:
            parts = [
                f"{t.name} {t.dtype}"
                + (
                    f" (z = {int(t.quantization.zero_points[0])}, s = {_fmt32(t.quantization.scales[0])})"
                    if t.quantization is not None
                    else ""
                )
                for t in ends
            ]
            lines.append(f"{role.capitalize()}{'s' if len(ends) > 1 else ''}: " + "; ".join(parts) + ".")
    if weights:
        symmetric = all((t.quantization.zero_points == 0).all() for t in weights)
        axes = sorted(
            {t.quantization.axis for t in weights if t.quantization.axis is not None and not t.quantization.block_size}
        )
        blocks = sorted(
            {(t.quantization.block_size, t.quantization.axis) for t in weights if t.quantization.block_size}
        )
        per_tensor = [t for t in weights if t.quantization.axis is None]
        lines.append(
            (
                "Weights are symmetric (every zero point is 0)"
                if symmetric
                else "Weights are asymmetric (non-zero zero points)"
            )
            + (f", per channel along axis {', '.join(map(str, axes))}" if axes else "")
            + "".join(f", in blocks of {b} along axis {a}" for b, a in blocks)
            + (
                f"{' and' if axes else ','} per tensor for {len(per_tensor)}"
                if per_tensor and axes
                else (", per tensor" if per_tensor else "")
            )
            + f"; {', '.join(sorted({t.dtype for t in weights}))}."
        )
    if float_activations:
        lines.append(
            f"Left in float: {len(float_activations)} activation tensor{'s' if len(float_activations) != 1 else ''} "
            f"({', '.join(t.name for t in float_activations[:3])}{'…' if len(float_activations) > 3 else ''})."
        )
    return lines


class QuantizedRow(NamedTuple):
    """One quantized tensor, as the table shows it."""

    name: str
    op: str
    dtype: str
    shape: tuple[int, ...]
    granularity: str
    scales: str
    zero_points: str
    representable: str
    codes_used: str
    saturated: str
    flags: str


def _granularity(t: Tensor) -> str:
    q = t.quantization
    if q.block_size:
        return f"blocks of {q.block_size} along axis {q.axis}"
    return f"per axis {q.axis} ({q.scales.size})" if q.axis is not None else "per tensor"


def _stayed_float(tensors: list[Tensor]) -> list[str]:
    """TFLite dynamic range: which stored float tensors stayed float, and the converter's reason for each kind."""
    stayed = [t for t in tensors if t.has_values and t.quantization is None and t.dtype.startswith("float")]
    if not stayed:
        return []
    weights = [t for t in tensors if t.has_values and t.role in ("weight", "bias")]
    biases = [t for t in stayed if t.role == "bias"]
    small = [t for t in stayed if t.role == "weight" and t.size < SMALL_TFLITE_WEIGHT]
    other = [t for t in stayed if t not in biases and t not in small]
    parts = []
    if biases:
        parts.append(
            f"{len(biases)} bias{'es' if len(biases) != 1 else ''} ({', '.join(t.name for t in biases[:3])}): "
            "dynamic-range mode never quantizes biases"
        )
    if small:
        parts.append(
            f"{len(small)} weight{'s' if len(small) != 1 else ''} with fewer than {SMALL_TFLITE_WEIGHT:,} values "
            f"({', '.join(f'{t.name} ({t.size:,})' for t in small[:3])}): the converter leaves small tensors float"
        )
    if other:
        parts.append(
            f"{len(other)} other float tensor{'s' if len(other) != 1 else ''} "
            f"({', '.join(t.name for t in other[:3])}): used by operators the converter did not quantize"
        )
    return [f"{len(stayed)} of {len(weights)} stored tensors stayed float32: " + "; ".join(parts) + "."]


def flags(t: Tensor, model: Model, problems: list | None = None) -> list[str]:
    """What is odd about this tensor's quantization, in words: its likely problems, then what is merely notable."""
    q = t.quantization
    problems = likely_problems(model) if problems is None else problems
    out = [p.text for p in problems if p.tensor == t.name]
    if is_compute_weight(t) and (q.zero_points != 0).any():
        out.append("asymmetric weights")
    if t.role == "input" and t.dtype == "uint8" and q.zero_points.size == 1:
        inner = [
            u
            for u in model.tensors
            if u.quantization is not None
            and u.dtype == "int8"
            and u.role == "activation"
            and u.quantization.scales.size == 1
            and u.quantization.scales[0] == q.scales[0]
        ]
        if any(int(u.quantization.zero_points[0]) + 128 == int(q.zero_points[0]) for u in inner):
            out.append("uint8 input: z = int8 z + 128")
    return out


def quantized_rows(model: Model) -> list[QuantizedRow]:
    """Return one row per quantized tensor: the stored parameters exactly, what the grid covers, codes in use.

    The grid is the one the tensor was quantized on (:func:`~quantviz.models.problems.grid_of`: narrow [−127, 127]
    for TFLite's int8 weights), so ``saturated`` counts codes at its ends, not at the dtype's.
    """
    rows = []
    problems = likely_problems(model)
    for t in model.tensors:
        q = t.quantization
        if q is None:
            continue
        on = grid_of(t, model)
        grid = (on.qmin, on.qmax) if on is not None else None
        if grid and q.scales.size == 1:
            s, z = float(np.float32(q.scales[0])), int(q.zero_points[0])
            representable = f"[{s * (grid[0] - z):.6g}, {s * (grid[1] - z):.6g}]"
        elif grid:
            lows = np.float32(q.scales) * (grid[0] - q.zero_points)
            highs = np.float32(q.scales) * (grid[1] - q.zero_points)
            representable = f"[{lows.min():.4g} … {lows.max():.4g}, {highs.min():.4g} … {highs.max():.4g}]"
        else:
            representable = "—"
        used = saturated = "—"
        if t.has_values and grid and t.size <= 50_000_000:
            codes = t.load().astype(np.int64).reshape(-1)
            used = (
                f"{np.unique(codes).size / (grid[1] - grid[0] + 1):.1%}"
                if grid[1] - grid[0] < 70_000
                else f"{np.unique(codes).size:,} codes"
            )
            saturated = f"{np.mean((codes == grid[0]) | (codes == grid[1])):.2%}"
        shown = q.scales if q.scales.size <= 4 else np.concatenate([q.scales[:3], q.scales[-1:]])
        scales = ", ".join(_fmt32(v) for v in shown[:3]) + (
            f", … ({q.scales.size})" if q.scales.size > 4 else (f", {_fmt32(shown[3])}" if q.scales.size == 4 else "")
        )
        zs = np.unique(q.zero_points)
        zeros = ", ".join(str(int(v)) for v in zs[:4]) + (" …" if zs.size > 4 else "")
        rows.append(
            QuantizedRow(
                t.name,
                t.op,
                t.dtype,
                t.shape,
                _granularity(t),
                scales,
                zeros,
                representable,
                used,
                saturated,
                "; ".join(flags(t, model, problems)),
            )
        )
    return rows


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
