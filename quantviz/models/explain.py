"""One quantized tensor, explained: its channel or block's scale and zero point, the grid, and codes to draw.

The compute half of *Your model*'s "One tensor, explained" (the page draws and words it): which slice an index
names, the distinct codes stored there (sampled evenly, at most ``MOST``), and the query string that opens the same
s and z on the Number line.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlencode

import numpy as np

from quantviz.models.base import Model, Tensor
from quantviz.models.problems import INTEGER_GRIDS, grid_of

MOST = 40  # codes drawn on the number line
MAX_LOADED = 50_000_000  # values loaded to find a slice's codes


class TensorView(NamedTuple):
    """The parameters of one slice (channel, block or the whole tensor) and the codes it stores."""

    scale: float
    zero_point: int
    qmin: int
    qmax: int
    why: str
    codes: np.ndarray | None


def slice_label(tensor: Tensor) -> str | None:
    """What an index picks in ``tensor``: a block, a channel, or nothing (one scale).

    >>> from quantviz.models.base import Quantization
    >>> slice_label(Tensor("w", "int8", (4, 64), "weight", quantization=Quantization(np.ones(8), np.zeros(8), 1, 32)))
    'Block (of 32 along axis 1)'
    """
    q = tensor.quantization
    if q.scales.size <= 1:
        return None
    return f"Block (of {q.block_size} along axis {q.axis})" if q.block_size else f"Channel (axis {q.axis})"


def slice_codes(tensor: Tensor, index: int) -> np.ndarray | None:
    """The stored codes of slice ``index`` (its block along a row, its channel, or all), None if too large to load.

    >>> from quantviz.models.base import Quantization
    >>> t = Tensor("w", "int8", (2, 4), "weight", quantization=Quantization(np.ones(4), np.zeros(4), 1, 2),
    ...            loader=lambda: np.arange(8, dtype=np.int8).reshape(2, 4))
    >>> slice_codes(t, 3).tolist()
    [6, 7]
    """
    q = tensor.quantization
    if not tensor.has_values or tensor.size > MAX_LOADED:
        return None
    codes = tensor.load()
    if q.block_size and codes.ndim == 2 and q.axis == 1:  # blocks along each row
        per_row = max(q.scales.size // codes.shape[0], 1)
        row, block = divmod(int(index), per_row)
        codes = codes[row, block * q.block_size : (block + 1) * q.block_size]
    elif q.axis is not None and q.scales.size > 1 and not q.block_size:
        codes = np.take(codes, index, axis=q.axis)
    return codes.reshape(-1)


def sample_codes(codes: np.ndarray, most: int = MOST) -> np.ndarray:
    """At most ``most`` of the distinct codes, evenly spaced from the smallest to the largest.

    >>> sample_codes(np.array([5, 1, 1, 9, 3]), most=3).tolist()
    [1, 5, 9]
    """
    distinct = np.unique(np.asarray(codes).astype(np.int64))
    return distinct[np.linspace(0, distinct.size - 1, min(distinct.size, most)).round().astype(int)]


def view(tensor: Tensor, model: Model, index: int) -> TensorView:
    """Slice ``index`` of ``tensor``: its float32 scale, zero point, the grid it was quantized on, codes to draw."""
    q = tensor.quantization
    grid = grid_of(tensor, model)
    codes = slice_codes(tensor, index)
    return TensorView(
        scale=float(np.float32(q.scales[index])),
        zero_point=int(q.zero_points[index]),
        qmin=grid.qmin,
        qmax=grid.qmax,
        why=grid.why,
        codes=None if codes is None else sample_codes(codes),
    )


def explainable(model: Model) -> list[Tensor]:
    """The quantized tensors drawn one at a time: integer codes, not the 2^32 codes of an int32 bias."""
    return [t for t in model.tensors if t.quantization is not None and t.dtype in INTEGER_GRIDS and t.dtype != "int32"]


def grid_query(scale: float, zero_point: int, dtype: str) -> str | None:
    """The query string that opens this s and z on the Number line (bits and sign from the dtype's grid).

    >>> grid_query(0.5, 3, "uint8")
    'set=sz&s=0.5&z=3&bits=8&signed=false'
    """
    from quantviz.grid import storage_bits

    full = INTEGER_GRIDS.get(dtype)
    if full is None or dtype == "int32":
        return None
    bits, signed = storage_bits(*full)
    params = {"set": "sz", "s": repr(float(np.float32(scale))), "z": zero_point, "bits": bits}
    return urlencode({**params, "signed": "true" if signed else "false"})


class CodeRow(NamedTuple):
    """One code of a non-uniform (table) format in one block: the value it stands for and how often it is used."""

    code: int
    table_value: float
    value: float
    count: int | None  # None where the tensor is too large to load


def table_codes(tensor: Tensor, index: int) -> list[CodeRow]:
    """Block ``index`` of a table-coded tensor (bitsandbytes NF4/FP4): each code's value, table[q]·absmax, and use.

    >>> from quantviz.models.base import Quantization
    >>> q = Quantization(np.array([2.0, 4.0]), np.zeros(2, np.int64), 1, 2, np.array([-1.0, 0.0, 1.0], np.float32))
    >>> t = Tensor("w", "nf4", (1, 4), "weight", "Linear", q, lambda: np.array([[0, 2, 2, 2]], np.uint8))
    >>> [(r.code, r.value, r.count) for r in table_codes(t, 1)]
    [(0, -4.0, 0), (1, 0.0, 0), (2, 4.0, 2)]
    """
    q = tensor.quantization
    if q is None or q.table is None:
        raise ValueError(f"{tensor.name} has no code table (it is not NF4/FP4)")
    if not 0 <= index < q.scales.size:
        raise ValueError(f"block {index} is not one of {tensor.name}'s {q.scales.size} blocks")
    absmax = np.float32(q.scales[index])
    codes = slice_codes(tensor, index) if q.axis is not None else None
    if codes is None and tensor.has_values and tensor.size <= MAX_LOADED:  # blocks over the flattened tensor
        codes = tensor.load().reshape(-1)[index * q.block_size : (index + 1) * q.block_size]
    counts = np.bincount(codes.astype(np.int64), minlength=q.table.size) if codes is not None else None
    return [
        CodeRow(
            code=c,
            table_value=float(v),
            value=float(np.float32(v) * absmax),
            count=None if counts is None else int(counts[c]),
        )
        for c, v in enumerate(np.asarray(q.table, np.float32))
    ]


def explainable_tables(model: Model) -> list[Tensor]:
    """The table-coded tensors (bitsandbytes NF4/FP4), shown code by code."""
    return [t for t in model.tensors if t.quantization is not None and t.quantization.table is not None]
