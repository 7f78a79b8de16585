"""What every model reader returns: a list of tensors, each with its quantization and a lazy loader."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from quantviz.errors import ModelFileError

MAX_TENSOR_BYTES = 4 << 30  # a declared tensor larger than this is refused before anything is allocated


class Quantization(NamedTuple):
    """A tensor's quantization exactly as the file stores it.

    Attributes
    ----------
    scales : ndarray of float64
        One scale (per tensor) or one per slice along ``axis``; the stored float32 values, widened exactly.
    zero_points : ndarray of int64
        As many zero points as scales (0 where the file stores none).
    axis : int or None
        The quantized dimension for per-axis quantization, else None.
    block_size : int or None
        Values per scale along ``axis`` (ONNX opset-21 blocks, group sizes), or along the flattened tensor where
        ``axis`` is None (bitsandbytes).
    table : ndarray of float32 or None
        Non-uniform codes (bitsandbytes NF4/FP4): the value each code stands for, r = table[q]·s; None for the
        affine r = s·(q − z).
    float_dtype : str
        The dtype the dequantized values take where the file says (bitsandbytes' quant_state ``dtype``), else "".
    """

    scales: np.ndarray
    zero_points: np.ndarray
    axis: int | None = None
    block_size: int | None = None
    table: np.ndarray | None = None
    float_dtype: str = ""


@dataclass
class Tensor:
    """One tensor of a model file."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    role: str  # "weight", "activation", "input", "output" or "bias"
    op: str = ""  # the operator that uses it, where the file says
    quantization: Quantization | None = None
    loader: Callable[[], np.ndarray] | None = field(default=None, repr=False)
    operands: tuple[str, ...] = ()  # the inputs of the operator that uses it (names as in Model.tensors), in order

    def load(self) -> np.ndarray:
        """Return the stored values (raw codes for quantized tensors) as a numpy array of ``shape``."""
        if self.loader is None:
            raise ModelFileError(f"{self.name} has no stored values: it is computed when the model runs")
        return self.loader()

    @property
    def has_values(self) -> bool:
        return self.loader is not None

    @property
    def size(self) -> int:
        return math.prod(self.shape) if self.shape else 1


@dataclass
class Model:
    """A model file: its format, its tensors, and what the reader noticed."""

    name: str
    format: str
    tensors: list[Tensor]
    notes: list[str] = field(default_factory=list)
    file_type: str = ""  # the framework's own name for the kind of file: "onnx-qdq", "tflite-16x8", "Q4_K_M"
    raw: bytes | None = field(default=None, repr=False)  # the file's bytes, for running it (ONNX), else None
    config: object | None = None  # the QuantConfig of a config.json given beside a checkpoint (hf_config), else None


def check_size(file: str, name: str, shape: tuple[int, ...], itemsize: float, available: int | None = None) -> None:
    """Refuse a tensor whose declared size is impossible or larger than the data the file holds."""
    if any(d < 0 for d in shape):
        raise ModelFileError(f"{file}: tensor {name!r} declares a negative dimension {shape}")
    need = math.prod(shape) * itemsize if shape else itemsize
    if need > MAX_TENSOR_BYTES:
        raise ModelFileError(
            f"{file}: tensor {name!r} declares shape {shape}, {need / 2**30:.1f} GiB: too large to load"
        )
    if available is not None and need > available:
        raise ModelFileError(
            f"{file}: tensor {name!r} declares {int(need):,} bytes but the file holds {available:,}: truncated?"
        )


class Problem(NamedTuple):
    """One likely problem: how serious (higher first), the tensor it is about, and what it is in words."""

    severity: float
    tensor: str
    text: str
