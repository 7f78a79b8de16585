"""A weight tensor of a shipped example model (*Your model*'s examples) as a float layer weight (out, in).

Stored codes are dequantized with the file's own scales and zero points, (q − z)·s in float32 as the runtimes
compute it; GGUF blocks come dequantized from QuantViz's reader. The layer convention is y = x·Wᵀ with W
(out, in): an ONNX MatMul weight, stored (in, out), is transposed, and a 4-D convolution kernel is reshaped to
(out, in·kh·kw) (a convolution is that matrix product on the unfolded input patches).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.algorithms.layer import as_matrix

# ONNX MatMul's second operand is (in, out): its rows are inputs, so it is transposed to a layer's (out, in)
TRANSPOSED_OPS = frozenset({"MatMul", "MatMulInteger", "QLinearMatMul"})


class ExampleWeight(NamedTuple):
    """A shipped example's weight tensor as a float (out, in) layer weight, and how it was obtained."""

    weight: np.ndarray
    notes: tuple[str, ...]


def dequantize_tensor(values: np.ndarray, quantization) -> np.ndarray:
    """(q − z)·s in float32 per tensor, per axis, or per block along the last axis of a 2-D tensor.

    >>> from quantviz.models.base import Quantization
    >>> q = Quantization(np.array([0.5, 2.0]), np.array([8, 8]), 1, 2)
    >>> dequantize_tensor(np.array([[9, 10, 7, 8]]), q).tolist()
    [[0.5, 1.0, -2.0, 0.0]]
    """
    codes = np.asarray(values, np.int64)
    s = np.asarray(quantization.scales, np.float32).reshape(-1)
    z = np.asarray(quantization.zero_points, np.int64).reshape(-1)
    block, axis = quantization.block_size, quantization.axis
    if block:
        if codes.ndim != 2 or axis not in (1, -1):
            raise ValueError(f"blocks along axis {axis} of a {codes.ndim}-D tensor are not read here")
        rows, cols = codes.shape
        s, z = (np.repeat(a.reshape(rows, -1), block, axis=1)[:, :cols] for a in (s, z))
    elif s.size > 1:
        shape = [1] * codes.ndim
        shape[axis] = -1
        s, z = s.reshape(shape), z.reshape(shape)
    return ((codes - z).astype(np.float32) * s).astype(np.float32)


def example_tensors(model: str) -> tuple[str, ...]:
    """The names of the weight tensors (2-D or 4-D, with stored values) of the shipped example ``model``.

    >>> example_tensors("onnx_qdq")
    ('conv.weight_quantized', 'fc1.weight_quantized', 'fc2.weight_quantized')
    """
    return tuple(t.name for t in _example(model).tensors if _usable(t))


def _usable(tensor) -> bool:
    return tensor.role == "weight" and tensor.has_values and len(tensor.shape) in (2, 4)


def _example(model: str):
    from quantviz.models import open_model
    from quantviz.models.examples import EXAMPLES, example_path

    if model not in EXAMPLES:
        raise ValueError(f"{model!r} is not a shipped example model; they are {', '.join(EXAMPLES)}")
    name = EXAMPLES[model].quantized
    return open_model(example_path(name), name=name)


def example_weight(model: str, tensor: str) -> ExampleWeight:
    """The float weight of ``tensor`` in the shipped example ``model`` (a key of ``quantviz.models.examples``).

    Stored codes are dequantized with the file's own scales and zero points (GGUF's blocks by its reader);
    an ONNX MatMul weight (in, out) is transposed; a 4-D convolution kernel becomes (out, in·kh·kw).

    >>> w = example_weight("onnx_qdq", "fc1.weight_quantized")
    >>> w.weight.shape, w.weight.dtype, len(w.notes)
    ((32, 144), dtype('float32'), 2)
    """
    found = {t.name: t for t in _example(model).tensors if _usable(t)}
    if tensor not in found:
        listed = ", ".join(list(found)[:8])
        raise ValueError(f"{model} has no 2-D or 4-D weight tensor named {tensor!r}; it has {listed}")
    t = found[tensor]
    values = t.load()
    if t.quantization is None:
        w = np.asarray(values, np.float32)
        kind = "float" if t.dtype.startswith(("float", "bfloat")) else "blocks dequantized by QuantViz’s reader"
        how = f"{tensor} ({t.dtype} {kind}, {t.shape}) in float32"
    else:
        w = dequantize_tensor(values, t.quantization)
        how = f"{tensor} ({t.dtype} codes, {t.shape}) dequantized as (q − z)·s with the file’s scales and zero points"
    notes = [f"{how}."]
    if t.op in TRANSPOSED_OPS and w.ndim == 2:
        w = w.T
        notes.append(f"Its operator {t.op} multiplies x·W with W as (in, out), so it is transposed to {w.shape}.")
    w, reshaped = as_matrix(w, tensor)
    return ExampleWeight(weight=w, notes=tuple(n for n in (*notes, reshaped) if n))
