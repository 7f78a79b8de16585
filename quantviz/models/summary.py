"""How was this model quantized? The answer in words, one row per quantized tensor, and float tensors measured."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.models.base import Model, Tensor
from quantviz.models.measure import (  # noqa: F401  (re-exported: the page and the command line import them here)
    FRAMEWORK_DEFAULTS,
    SCHEMES,
    FloatMeasure,
    framework_scales,
    measure_floats,
)
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
    "bitsandbytes-nf4": "bitsandbytes 4-bit weights (NF4: 16 normal-quantile codes, one absmax per block)",
    "bitsandbytes-fp4": "bitsandbytes 4-bit weights (FP4 codes, one absmax per block)",
}
WEIGHT_ONLY = (
    "onnx-matmulnbits",
    "gptq",
    "awq",
    "compressed-tensors",
    "fp8",
    "bitsandbytes-nf4",
    "bitsandbytes-fp4",
)  # dequantized inside the matmul
SMALL_TFLITE_WEIGHT = 1024  # the TFLite converter leaves weights with fewer values in float (dynamic range)


def _fmt32(value: float) -> str:
    """A float32 value with all the digits that identify it (the shortest repr of the float32)."""
    return repr(float(np.float32(value))) if np.isfinite(value) else str(value)


def _plural(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _block_typed(model: Model, block_typed: list[Tensor]) -> list[str]:
    """A GGUF (or other block-typed) model: its block types, then the GGUF file type and mix."""
    kinds = sorted({t.dtype for t in block_typed})
    rest = ", ".join(sorted({t.dtype for t in model.tensors} - set(kinds))) or "none"
    lines = [
        f"A GGUF model with block-quantized weights ({', '.join(kinds)}): each block of values carries its own "
        f"scale; {len(block_typed)} of {len(model.tensors)} tensors are block-quantized, the rest {rest}."
    ]
    if model.format == "gguf":
        from quantviz.models.gguf_reader import describe_gguf

        lines.extend(describe_gguf(model))
    return lines


def _headline(model: Model, weights: list[Tensor], activations: list[Tensor]) -> str:
    """What kind of quantization, in the framework's words where the file type is known."""
    headline = HEADLINES.get(model.file_type)
    runtime = model.file_type in ("tflite-dynamic", "onnx-dynamic", *WEIGHT_ONLY)
    stored = f"{_plural(len(weights), 'weight tensor')} {'is' if len(weights) == 1 else 'are'} stored as"
    weight_types = ", ".join(sorted({t.dtype for t in weights}))
    if headline and not runtime:
        kinds = sorted({t.dtype for t in activations})
        return (
            f"{headline}: {len(weights)} weight and {len(activations)} activation tensors carry scales and zero "
            f"points" + (f"; activations are {', '.join(kinds)}." if kinds else ".")
        )
    if headline:
        how = (
            " and are quantized on the fly by each integer operator."
            if model.file_type not in WEIGHT_ONLY
            else ", the weights dequantized block by block inside the operator."
        )
        return f"{headline}: {stored} {weight_types} with scales; activations stay in float{how}"
    if activations:
        return (
            f"Full-integer quantization: {len(weights)} weight and {len(activations)} activation tensors carry "
            f"scales and zero points; activations are {', '.join(sorted({t.dtype for t in activations}))}."
        )
    return (
        f"Dynamic-range quantization: {stored} {weight_types} with scales, while activations stay in float and are "
        "quantized on the fly, if at all."
    )


def _ends(tensors: list[Tensor]) -> list[str]:
    """One line for the inputs and one for the outputs, each with its z and s where quantized."""
    lines = []
    for role in ("input", "output"):
        ends = [t for t in tensors if t.role == role]
        if not ends:
            continue
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
    return lines


def _symmetry(weights: list[Tensor], symmetric: bool) -> str:
    """Symmetric or not; table-coded weights (NF4/FP4) have no zero point but a table of their own, said so."""
    tables = [t.quantization.table for t in weights if t.quantization.table is not None]
    if tables and len(tables) == len(weights):
        positive = min(int((np.asarray(tb) > 0).sum()) for tb in tables)
        negative = min(int((np.asarray(tb) < 0).sum()) for tb in tables)
        zeros = tables[0].size - positive - negative
        return (
            f"Weights are codes into a table of {tables[0].size} values ({positive} positive, {negative} negative, "
            f"{zeros} zero), scaled by each block's absmax: no zero point"
        )
    return (
        "Weights are symmetric (every zero point is 0)"
        if symmetric
        else "Weights are asymmetric (non-zero zero points)"
    )


def _weights_line(weights: list[Tensor]) -> str:
    """Symmetric or not, and the granularity of the compute weights' scales."""
    symmetric = all((t.quantization.zero_points == 0).all() for t in weights)
    qs = [t.quantization for t in weights]
    axes = sorted({q.axis for q in qs if q.axis is not None and not q.block_size})
    blocks = sorted({(q.block_size, q.axis) for q in qs if q.block_size}, key=lambda b: (b[0], b[1] is None, b[1]))
    per_tensor = [q for q in qs if q.axis is None and not q.block_size]
    if per_tensor and axes:
        tensor_part = f" and per tensor for {len(per_tensor)}"
    else:
        tensor_part = ", per tensor" if per_tensor else ""
    return (
        _symmetry(weights, symmetric)
        + (f", per channel along axis {', '.join(map(str, axes))}" if axes else "")
        + "".join(f", in blocks of {b} along {'the flattened tensor' if a is None else f'axis {a}'}" for b, a in blocks)
        + tensor_part
        + f"; {', '.join(sorted({t.dtype for t in weights}))}."
    )


def _float16_line(tensors: list[Tensor]) -> str:
    """TFLite's float16 quantization in its words: which constants are float16, and what widens them.

    >>> from quantviz.models.base import Tensor
    >>> _float16_line([Tensor("w", "float16", (3, 4), "weight", op="DEQUANTIZE")])
    'Float16 quantization (TFLite): 1 constant tensor stored as float16 (w, 12 values), each widened to float32 by a \
DEQUANTIZE operator when the model runs; no integer codes, scales or zero points.'
    """
    halves = [t for t in tensors if t.dtype == "float16" and t.op == "DEQUANTIZE"]
    shown = ", ".join(t.name for t in halves[:3]) + ("…" if len(halves) > 3 else "")
    values = sum(t.size for t in halves)
    return (
        f"Float16 quantization (TFLite): {_plural(len(halves), 'constant tensor')} stored as float16 ({shown}, "
        f"{_plural(values, 'value')}), each widened to float32 by a DEQUANTIZE operator when the model runs; no "
        "integer codes, scales or zero points."
    )


def describe(model: Model) -> list[str]:
    """Return the summary in words: what kind of quantization, which types and zero points, what stays float.

    >>> from quantviz.models.base import Model, Tensor
    >>> describe(Model("m.npz", "npz", [Tensor("w", "float32", (2, 2), "weight")]))[0]
    'No tensor carries quantization parameters: a float model (1 tensor, float32).'
    """
    from quantviz.models.hf_config import config_sentence

    tensors = model.tensors
    quantized = [t for t in tensors if t.quantization is not None]
    block_typed = [t for t in tensors if t.dtype.startswith(("Q", "IQ", "TQ", "MXFP", "NVFP"))]
    if block_typed:
        return _block_typed(model, block_typed)
    from_config = [config_sentence(model.config)] if model.config is not None else []
    if not quantized and model.file_type == "tflite-float16":
        return [_float16_line(tensors), *from_config]
    if not quantized:
        dtypes = ", ".join(sorted({t.dtype for t in tensors}))
        return [
            f"No tensor carries quantization parameters: a float model ({_plural(len(tensors), 'tensor')}, {dtypes}).",
            *from_config,
        ]
    weights = [t for t in quantized if is_compute_weight(t)]
    activations = [t for t in quantized if not t.has_values or t.role in ("input", "output", "activation")]
    float_activations = [
        t for t in tensors if t.quantization is None and not t.has_values and t.dtype.startswith("float")
    ]
    lines = [_headline(model, weights, activations), *from_config]
    if model.file_type == "tflite-dynamic":
        lines.extend(_stayed_float(tensors))
    lines.extend(_ends(tensors))
    if weights:
        lines.append(_weights_line(weights))
    if float_activations:
        shown = ", ".join(t.name for t in float_activations[:3]) + ("…" if len(float_activations) > 3 else "")
        lines.append(f"Left in float: {_plural(len(float_activations), 'activation tensor')} ({shown}).")
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
