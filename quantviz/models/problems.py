"""What is likely wrong with a quantized model, found from its stored numbers, each naming its tensor.

- :func:`grid_of`: the integer grid a tensor was quantized on (TFLite's int8 weights and ONNX Runtime's symmetric
  int8 weights use the narrow [−127, 127]; TFLite 16x8's int16 activations [−32767, 32767]); saturation is
  measured against this grid, not the dtype's full range.
- :func:`likely_problems`: a ranked list: zero points off the grid, a bias whose scale is not s_in·s_w, scales that
  underflow to 0 in float16, per-tensor weights whose channels differ ≥ 10× in range.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.models.base import Model, Problem, Tensor

INTEGER_GRIDS = {
    "int8": (-128, 127),
    "uint8": (0, 255),
    "int16": (-32768, 32767),
    "int4": (-8, 7),
    "uint4": (0, 15),
    "int32": (-(2**31), 2**31 - 1),
    "uint2": (0, 3),
}
# the weight input of the operators whose weights are "weights": ONNX and TFLite names
COMPUTE_OPS = {
    "Conv",
    "ConvTranspose",
    "MatMul",
    "Gemm",
    "Gather",
    "QLinearConv",
    "QLinearMatMul",
    "QGemm",
    "ConvInteger",
    "MatMulInteger",
    "MatMulNBits",
    "GatherBlockQuantized",
    "Einsum",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "FULLY_CONNECTED",
    "TRANSPOSE_CONV",
    "BATCH_MATMUL",
    "EMBEDDING_LOOKUP",
    "GATHER",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "Linear",
}  # Linear: a Hugging Face pack (GPTQ, AWQ, compressed-tensors, FP8)
LAST_AXIS_OUT = {"MatMul", "MatMulInteger", "QLinearMatMul", "BATCH_MATMUL"}  # their weight is [K, N]
MAX_CHECKED = 50_000_000  # values loaded to check a tensor's channels


class Grid(NamedTuple):
    """The integer grid a tensor was quantized on, and why it is narrower than its dtype where it is."""

    qmin: int
    qmax: int
    why: str


def is_compute_weight(t: Tensor) -> bool:
    """A stored weight of a compute operator (Conv, MatMul, Gemm, FULLY_CONNECTED...), not a bias or constant."""
    return t.has_values and t.role == "weight" and (t.op in COMPUTE_OPS or (not t.op and len(t.shape) >= 2))


def grid_of(t: Tensor, model: Model) -> Grid | None:
    """The grid ``t``'s codes live on, from its dtype and the tool's convention; None for non-integer dtypes.

    >>> from quantviz.models.base import Quantization
    >>> w = Tensor("w", "int8", (2, 2), "weight", "FULLY_CONNECTED", Quantization(np.ones(2), np.zeros(2, int), 0),
    ...            loader=lambda: np.array([[-127, 3], [127, 0]], np.int8))
    >>> grid_of(w, Model("m.tflite", "tflite", [w])).qmin
    -127
    """
    full = INTEGER_GRIDS.get(t.dtype)
    if full is None:
        return None
    q = t.quantization
    symmetric = q is not None and (q.zero_points == 0).all()
    if t.dtype == "int8" and symmetric and is_compute_weight(t):
        if model.format == "tflite":
            return Grid(-127, 127, "TFLite's int8 weights are symmetric on [−127, 127] (its quantization spec)")
        if model.format == "onnx" and t.size <= MAX_CHECKED and int(t.load().min()) > -128:
            return Grid(-127, 127, "symmetric int8 weights that never use −128: ONNX Runtime's narrow [−127, 127]")
    if t.dtype == "int16" and symmetric and model.file_type == "tflite-16x8":
        return Grid(-32767, 32767, "TFLite 16x8's int16 activations are symmetric on [−32767, 32767]")
    return Grid(full[0], full[1], "")


def _out_axis(t: Tensor) -> int:
    return len(t.shape) - 1 if t.op in LAST_AXIS_OUT else 0


def _zero_point_problem(t: Tensor) -> list[Problem]:
    """An integer zero point outside its dtype: no code stands for real 0."""
    full = INTEGER_GRIDS.get(t.dtype)
    if full is None:
        return []
    zs = t.quantization.zero_points
    off = zs[(zs < full[0]) | (zs > full[1])]
    if not off.size:
        return []
    text = f"zero point {int(off[0])} is outside {t.dtype} [{full[0]}, {full[1]}]: no code stands for real 0"
    return [Problem(severity=4.0, tensor=t.name, text=text)]


def _underflow_problem(t: Tensor) -> list[Problem]:
    """Scales too small for float16: a float16 runtime would divide by zero."""
    q = t.quantization
    finite = q.scales[np.isfinite(q.scales) & (q.scales > 0)]
    tiny = finite[np.float16(finite) == 0]
    if not tiny.size:
        return []
    text = (
        f"{tiny.size} of {q.scales.size} scale(s) underflow to 0 in float16 (smallest {float(tiny.min()):.3g} "
        "< 6e-8): a float16 runtime would divide by zero"
    )
    return [Problem(severity=3.0, tensor=t.name, text=text)]


def _channel_problem(t: Tensor) -> list[Problem]:
    """Per-tensor weights whose output channels differ ≥ 10× in range: the narrow ones use few codes."""
    q = t.quantization
    if not (is_compute_weight(t) and q.axis is None and q.block_size is None and len(t.shape) >= 2):
        return []
    if t.size > MAX_CHECKED:
        return []
    codes = np.abs(t.load().astype(np.int64) - int(q.zero_points[0]))
    axis = _out_axis(t)
    ranges = np.moveaxis(codes, axis, 0).reshape(t.shape[axis], -1).max(axis=1)
    if not (ranges.min() > 0 and ranges.max() >= 10 * ranges.min()):
        return []
    ratio = ranges.max() / ranges.min()
    text = (
        f"per-tensor weights whose channels differ {ratio:.0f}× in range (output axis {axis}): the narrowest "
        f"channel uses only ±{int(ranges.min())} of the codes; per-channel scales would give each channel the "
        "whole grid"
    )
    return [Problem(severity=1.0 + float(np.log10(ratio)), tensor=t.name, text=text)]


def likely_problems(model: Model) -> list[Problem]:
    """Return the problems found in the stored numbers, most serious first, each naming its tensor.

    With a ``config.json`` (``Model.config``), what it claims and the tensors contradict comes too.

    >>> from quantviz.models.base import Quantization
    >>> w = Tensor("w", "uint8", (2,), "weight", "Conv", Quantization(np.ones(1), np.array([300])))
    >>> likely_problems(Model("m.onnx", "onnx", [w]))[0].text
    'zero point 300 is outside uint8 [0, 255]: no code stands for real 0'
    """
    by_name = {t.name: t for t in model.tensors}
    found: list[Problem] = []
    for t in model.tensors:
        if t.quantization is None:
            continue
        found += _zero_point_problem(t) + _underflow_problem(t) + _channel_problem(t)
        if t.role == "bias" and len(t.operands) >= 2:
            found.extend(_bias_problem(t, by_name))
    if model.config is not None:
        from quantviz.models.hf_config import config_problems

        found.extend(config_problems(model, model.config))
    return sorted(found, key=lambda p: -p.severity)


def _bias_problem(t: Tensor, by_name: dict[str, Tensor]) -> list[Problem]:
    """A quantized bias must have scale s_in·s_w (zero point 0) to be added to the int32 accumulator as it is."""
    x, w = by_name.get(t.operands[0]), by_name.get(t.operands[1])
    if x is None or w is None or x.quantization is None or w.quantization is None or x.quantization.scales.size != 1:
        return []
    expected = np.float32(x.quantization.scales[0]) * w.quantization.scales.astype(np.float32)
    stored = t.quantization.scales
    if stored.size not in (1, expected.size) or expected.size not in (1, stored.size):
        return []
    relative = np.abs(stored - expected) / np.maximum(np.abs(expected), 1e-30)
    if relative.max() <= 1e-3:
        return []
    i = int(np.argmax(relative))
    return [
        Problem(
            severity=3.5,
            tensor=t.name,
            text=f"bias scale {float(np.broadcast_to(stored, relative.shape)[i]):.6g} "
            f"is not s_in·s_w = {float(np.broadcast_to(expected, relative.shape)[i]):.6g} ({x.name} × {w.name}): "
            "the runtime must rescale it, or adds it wrong",
        )
    ]
