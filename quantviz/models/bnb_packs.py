"""bitsandbytes 4-bit checkpoints (``load_in_4bit``, NF4 or FP4) in safetensors, recognised by their tensor names.

A Linear weight ``X.weight`` saved by bitsandbytes is several tensors (its ``QuantState.as_dict(packed=True)``):

- ``X.weight``: uint8, two 4-bit codes per byte, the first value of each pair in the high nibble; the codes of the
  weight flattened row-major, stored as ``[n·k / 2, 1]``;
- ``X.weight.absmax``: one absmax per block of ``blocksize`` flattened values (float32), or, double-quantized,
  one uint8 code per block;
- ``X.weight.quant_map``: the 16 values the codes stand for (the NF4 or FP4 table);
- ``X.weight.nested_absmax`` / ``X.weight.nested_quant_map`` (double quantization only): the float32 scale of each
  block of ``nested_blocksize`` absmax codes, and the 256 values of the 8-bit map they index;
- ``X.weight.quant_state.bitsandbytes__nf4`` (or ``__fp4``): a uint8 tensor holding JSON with ``quant_type``,
  ``blocksize``, ``dtype``, ``shape`` and, double-quantized, ``nested_blocksize``, ``nested_dtype`` and
  ``nested_offset`` (the mean subtracted before the second level).

Each becomes one :class:`~quantviz.models.base.Tensor` named ``X.weight`` of dtype ``nf4``/``fp4`` and its logical
shape; ``load()`` gives the codes (0…15), ``quantization`` the float32 absmax of each block (double quantization
undone: ``nested_quant_map[code] · nested_absmax[block] + nested_offset``, in float32 as bitsandbytes computes it),
the block size and the table. :func:`dequantize` gives ``table[code] · absmax`` in the stored dtype.
"""

from __future__ import annotations

import json
import math
from typing import NamedTuple

import ml_dtypes
import numpy as np

from quantviz.errors import ModelFileError
from quantviz.models.base import Model, Quantization, Tensor

STATE = ".quant_state.bitsandbytes__"
QUANT_TYPES = ("nf4", "fp4")
MAX_STATE_BYTES = 1 << 16  # a quant_state blob is a few hundred bytes of JSON
OUT_TYPES = {"float32": np.float32, "float16": np.float16, "bfloat16": ml_dtypes.bfloat16}
F32 = np.float32


class QuantState(NamedTuple):
    """The non-tensor part of a bitsandbytes 4-bit quant state (the JSON blob), checked."""

    quant_type: str
    blocksize: int
    dtype: str
    shape: tuple[int, ...]
    nested_blocksize: int | None
    nested_offset: float | None


def _field(file: str, key: str, state: dict, name: str, kind: type) -> object:
    value = state.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ModelFileError(f"{file}: {key} has {name} = {value!r}, not a {kind.__name__}")
    return value


def parse_state(file: str, key: str, blob: np.ndarray) -> QuantState:
    """Read and check a ``quant_state.bitsandbytes__*`` blob: JSON in a uint8 tensor.

    >>> blob = np.frombuffer(b'{"quant_type": "nf4", "blocksize": 64, "dtype": "float16", "shape": [4, 64]}', np.uint8)
    >>> parse_state("m.safetensors", "w", blob).shape
    (4, 64)
    """
    if blob.dtype != np.uint8 or blob.size > MAX_STATE_BYTES:
        raise ModelFileError(f"{file}: {key} is not a quant_state blob (uint8 JSON of at most 64 KiB)")
    try:
        state = json.loads(blob.tobytes())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(f"{file}: {key} is not valid JSON") from None
    if not isinstance(state, dict):
        raise ModelFileError(f"{file}: {key} is not a JSON object")
    quant_type = _field(file, key, state, "quant_type", str)
    blocksize = _field(file, key, state, "blocksize", int)
    dtype = _field(file, key, state, "dtype", str)
    shape = _field(file, key, state, "shape", list)
    if quant_type not in QUANT_TYPES or dtype not in OUT_TYPES or blocksize <= 0:
        raise ModelFileError(f"{file}: {key} declares {quant_type!r} in {dtype!r}, blocks of {blocksize}: not read")
    if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape):
        raise ModelFileError(f"{file}: {key} has shape {shape!r}, not a list of positive integers")
    nested = "nested_offset" in state
    return QuantState(
        quant_type=quant_type,
        blocksize=blocksize,
        dtype=dtype,
        shape=tuple(shape),
        nested_blocksize=_field(file, key, state, "nested_blocksize", int) if nested else None,
        nested_offset=float(_field(file, key, state, "nested_offset", float)) if nested else None,
    )


def absmax_values(absmax: np.ndarray, state: QuantState, nested_absmax=None, nested_map=None) -> np.ndarray:
    """The float32 absmax of every block: as stored, or the double quantization undone as bitsandbytes does.

    >>> s = QuantState("nf4", 64, "float16", (2, 64), 256, 0.5)
    >>> absmax_values(np.array([255, 0], np.uint8), s, np.array([2.0], np.float32), np.array([-1.0] + [0.0] * 254
    ...     + [1.0], np.float32)).tolist()
    [2.5, -1.5]
    """
    if state.nested_offset is None:
        return np.asarray(absmax, F32).reshape(-1)
    codes = np.asarray(absmax).reshape(-1)
    per_value = np.repeat(np.asarray(nested_absmax, F32).reshape(-1), state.nested_blocksize)[: codes.size]
    return (np.asarray(nested_map, F32)[codes] * per_value + F32(state.nested_offset)).astype(F32)


def unpack_codes(packed: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Two codes per byte, high nibble first, back to the logical shape.

    >>> unpack_codes(np.array([[0x1F], [0x20]], np.uint8), (2, 2)).tolist()
    [[1, 15], [2, 0]]
    """
    flat = np.asarray(packed, np.uint8).reshape(-1)
    codes = np.stack([flat >> 4, flat & 0x0F], axis=-1).reshape(-1)
    return codes[: math.prod(shape)].reshape(shape)


def dequantize(tensor: Tensor) -> np.ndarray:
    """bitsandbytes' ``dequantize_4bit``: ``table[code] · absmax`` of the code's block in float32, then the dtype.

    >>> q = Quantization(np.array([2.0]), np.zeros(1, np.int64), None, 4, np.array([0.0, 0.5], np.float32), "float32")
    >>> t = Tensor("w", "nf4", (1, 4), "weight", "Linear", q, lambda: np.array([[0, 1, 1, 0]], np.uint8))
    >>> dequantize(t).tolist()
    [[0.0, 1.0, 1.0, 0.0]]
    """
    q = tensor.quantization
    if q is None or q.table is None or not q.block_size:
        raise ValueError(f"{tensor.name} is not a bitsandbytes 4-bit tensor")
    codes = tensor.load().reshape(-1)
    values = np.asarray(q.table, F32)[codes]
    absmax = np.repeat(q.scales.astype(F32), q.block_size)[: codes.size]
    out = (values * absmax).astype(F32)
    return out.astype(OUT_TYPES[q.float_dtype or "float32"]).reshape(tensor.shape)


def _check_nested(
    file: str, base: str, state: QuantState, codes: Tensor, scales: np.ndarray, table: np.ndarray
) -> None:
    """The second level must fit: uint8 codes, one scale per block of ``nested_blocksize`` codes, a 256-value map."""
    need = -(-codes.size // state.nested_blocksize) if state.nested_blocksize > 0 else -1
    if codes.dtype != "uint8" or table.size != 256 or scales.size != need:
        raise ModelFileError(
            f"{file}: {base} is double-quantized with {codes.dtype} absmax codes, {scales.size} nested scales for "
            f"blocks of {state.nested_blocksize} and a {table.size}-value map: they do not fit (uint8 codes, "
            f"{max(need, 0)} scales, 256 values)"
        )


def _one(model: Model, by_name: dict[str, Tensor], state_key: str) -> tuple[Tensor, set[str]]:
    """One bitsandbytes weight from its tensors: the Tensor and the names it replaces."""
    base = state_key.split(STATE)[0]
    state = parse_state(model.name, state_key, by_name[state_key].load())
    parts = {p: by_name.get(f"{base}.{p}") for p in ("absmax", "quant_map", "nested_absmax", "nested_quant_map")}
    if base not in by_name or parts["absmax"] is None or parts["quant_map"] is None:
        raise ModelFileError(f"{model.name}: {state_key} lacks its weight, absmax or quant_map tensor")
    if state.nested_offset is not None and (parts["nested_absmax"] is None or parts["nested_quant_map"] is None):
        raise ModelFileError(f"{model.name}: {base} is double-quantized but lacks nested_absmax or nested_quant_map")
    n = math.prod(state.shape)
    packed = by_name[base]
    blocks = -(-n // state.blocksize)
    if packed.size * 2 < n or parts["absmax"].size != blocks or parts["quant_map"].size != 16:
        raise ModelFileError(
            f"{model.name}: {base} holds {packed.size * 2:,} codes and {parts['absmax'].size} absmax for shape "
            f"{state.shape} in blocks of {state.blocksize} ({blocks} blocks): they do not match"
        )
    nested = [parts[p].load() if parts[p] is not None else None for p in ("nested_absmax", "nested_quant_map")]
    if state.nested_offset is not None:
        _check_nested(model.name, base, state, parts["absmax"], *nested)
    absmax = absmax_values(parts["absmax"].load(), state, *nested)
    rows_whole = len(state.shape) == 2 and state.shape[1] % state.blocksize == 0
    q = Quantization(
        absmax.astype(np.float64),
        np.zeros(absmax.size, np.int64),
        1 if rows_whole else None,
        state.blocksize,
        np.asarray(parts["quant_map"].load(), F32).reshape(-1),
        state.dtype,
    )

    def load() -> np.ndarray:
        return unpack_codes(packed.load(), state.shape)

    tensor = Tensor(base, state.quant_type, state.shape, "weight", "Linear", q, load)
    used = {base, state_key, *(t.name for t in parts.values() if t is not None)}
    return tensor, used


def recognise_bnb(model: Model) -> Model:
    """Return ``model`` with each bitsandbytes 4-bit weight's tensors replaced by one tensor of its codes."""
    by_name = {t.name: t for t in model.tensors}
    states = [name for name in by_name if STATE in name]
    if not states:
        return model
    packs, used = [], set()
    for key in states:
        tensor, names = _one(model, by_name, key)
        packs.append(tensor)
        used |= names
    kinds = sorted({t.dtype for t in packs})
    double = sum(1 for key in states if f"{key.split(STATE)[0]}.nested_absmax" in by_name)
    notes = [
        f"bitsandbytes {'/'.join(kinds)}: two codes per byte (high nibble first) over the weight flattened row-major, "
        f"one absmax per block of {', '.join(sorted({str(t.quantization.block_size) for t in packs}))}"
        + (f"; {double} of {len(packs)} double-quantized (absmax in 8 bits, undone here)" if double else "")
    ]
    rest = [t for t in model.tensors if t.name not in used]
    kind = "bitsandbytes-nf4" if "nf4" in kinds else "bitsandbytes-fp4"
    return Model(model.name, model.format, [*packs, *rest], [*model.notes, *notes], kind, model.raw)
