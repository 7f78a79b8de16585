"""Hugging Face quantized checkpoints in safetensors, recognised by their tensor names and unpacked by ``load()``.

- **GPTQ** (AutoGPTQ / GPTQModel, ``checkpoint_format="gptq"``): ``X.qweight`` int32 ``[K/8, N]`` packs eight 4-bit
  codes along the input dimension K, lowest bits first; ``X.qzeros`` int32 ``[G, N/8]`` packs the zero points along
  N and stores z − 1 (AutoGPTQ's historical offset, undone here); ``X.scales`` ``[G, N]``; ``X.g_idx`` the group
  of each input row (act-order when not ``k // group_size``).
- **AWQ** (AutoAWQ GEMM): ``X.qweight`` int32 ``[K, N/8]`` packs along N in AWQ's order (nibble i holds column
  ``[0, 2, 4, 6, 1, 3, 5, 7][i]`` of each eight); ``X.qzeros`` packed the same way, z stored as it is.
- **compressed-tensors** ``pack-quantized`` (llm-compressor W4A16): ``X.weight_packed`` int32 ``[N, K/8]`` packs
  eight int4 codes along K, lowest bits first, each stored as code + 8; ``X.weight_scale`` ``[N, G]``;
  ``X.weight_shape`` the logical ``[N, K]``; ``X.weight_zero_point`` where asymmetric.
- **FP8** (``float-quantized``): ``X.weight`` stored as ``F8_E4M3`` with ``X.weight_scale`` per tensor or per
  output channel.

Each pack becomes one :class:`~quantviz.models.base.Tensor` named ``X.weight`` with the Linear layer's logical
shape ``[N, K]`` (out, in), its codes unpacked by ``load()`` and its parameters in ``quantization`` (axis 1,
blocks of the group size along K). 4-bit packing is assumed where no ``config.json`` says otherwise (noted).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.errors import ModelFileError
from quantviz.models.base import Model, Quantization, Tensor
from quantviz.models.hf_config import QuantConfig, packed_bits, stores_z_minus_one

AWQ_ORDER = (0, 2, 4, 6, 1, 3, 5, 7)  # nibble i of a packed int32 holds column AWQ_ORDER[i] of its eight


def unpack_int32(packed: np.ndarray, axis: int, order: tuple[int, ...] | None = None, bits: int = 4) -> np.ndarray:
    """``32 // bits`` unsigned codes per int32 along ``axis``, code i (lowest bits first) placed at ``order[i]``.

    >>> unpack_int32(np.array([[0x76543210]], np.int32), axis=1).tolist()
    [[0, 1, 2, 3, 4, 5, 6, 7]]
    >>> unpack_int32(np.array([[0x76543210]], np.int32), axis=1, order=AWQ_ORDER).tolist()
    [[0, 4, 1, 5, 2, 6, 3, 7]]
    >>> unpack_int32(np.array([[0x04030201]], np.int32), axis=1, bits=8).tolist()
    [[1, 2, 3, 4]]
    """
    per = 32 // bits
    order = tuple(range(per)) if order is None else order
    u = np.ascontiguousarray(np.moveaxis(np.asarray(packed).view(np.uint32), axis, -1))
    fields = (u[..., None] >> (bits * np.arange(per, dtype=np.uint32))) & np.uint32((1 << bits) - 1)
    placed = np.empty_like(fields)
    placed[..., list(order)] = fields
    out = placed.reshape(*u.shape[:-1], u.shape[-1] * per).astype(np.uint8)
    return np.moveaxis(out, -1, axis)


def _group_size(k: int, groups: int, name: str, file: str) -> int:
    if groups <= 0 or k % groups:
        raise ModelFileError(f"{file}: {name} has {groups} scale groups, which do not divide its {k} input columns")
    return k // groups


def _linear(
    base: str, dtype: str, shape: tuple[int, int], scales: np.ndarray, zeros: np.ndarray, block: int, load
) -> Tensor:
    """A Linear layer's weight: codes [N, K], scales and zero points per (output row, group of K), row-major."""
    q = Quantization(
        np.asarray(scales, np.float64).reshape(-1),
        np.asarray(zeros, np.int64).reshape(-1),
        1,
        block if block < shape[1] else None,
    )
    if q.block_size is None:  # one group per row: per channel along the output axis
        q = Quantization(q.scales, q.zero_points, 0, None)
    return Tensor(f"{base}.weight", dtype, shape, "weight", "Linear", q, load)


class Pack(NamedTuple):
    """One recognised weight: its tensor, the stored tensors it replaces, its kind and what the reader noticed."""

    tensor: Tensor
    used: frozenset[str]
    kind: str
    notes: tuple[str, ...] = ()


def _gptq_awq(model: Model, by_name: dict[str, Tensor], name: str, config: QuantConfig | None = None) -> Pack:
    """A GPTQ (packed along K, z − 1 stored) or AWQ (packed along N in AWQ's order) ``qweight`` with its parts.

    The bits per code and the z − 1 offset come from ``config`` where it says (else 4 bits, offset stored).
    """
    base, bits = name[:-8], packed_bits(config)
    per = 32 // bits
    scales_t, zeros_t = by_name[f"{base}.scales"], by_name[f"{base}.qzeros"]
    qweight, scales = by_name[name].load(), scales_t.load().astype(np.float32)
    groups, n = scales.shape
    used, notes = {name, scales_t.name, zeros_t.name}, []
    if qweight.shape[1] == n:  # GPTQ: packed along K
        k, kind, order, axis = qweight.shape[0] * per, "gptq", None, 0
        offset = int(stores_z_minus_one(config))  # AutoGPTQ stored z - 1
        zeros = unpack_int32(zeros_t.load(), axis=1, bits=bits)[:, :n].astype(np.int64) + offset
        block = _group_size(k, groups, name, model.name)
        g_idx = by_name.get(f"{base}.g_idx")
        if g_idx is not None:
            used.add(g_idx.name)
            if not np.array_equal(g_idx.load(), np.arange(k) // block):
                notes.append(f"{base}: act-order (g_idx is not k // {block}): row k uses the scale of group g_idx[k]")
    elif qweight.shape[1] * 8 == n and bits == 4:  # AWQ: packed along N in AWQ's order
        k, kind, order, axis = qweight.shape[0], "awq", AWQ_ORDER, 1
        zeros = unpack_int32(zeros_t.load(), axis=1, order=AWQ_ORDER).astype(np.int64)
        block = _group_size(k, groups, name, model.name)
    else:
        raise ModelFileError(
            f"{model.name}: {name} {qweight.shape} fits neither GPTQ nor AWQ {bits}-bit packing for scales "
            f"{scales.shape}"
        )

    def load() -> np.ndarray:
        return np.ascontiguousarray(unpack_int32(qweight, axis=axis, order=order, bits=bits).T)

    tensor = _linear(base, f"uint{bits}", (n, k), scales.T, zeros.T, block, load)
    return Pack(tensor=tensor, used=frozenset(used), kind=kind, notes=tuple(notes))


def _compressed(model: Model, by_name: dict[str, Tensor], name: str) -> Pack:
    """A compressed-tensors ``pack-quantized`` weight: int4 codes + 8, eight per int32 along K."""
    base = name[:-14]
    scales = by_name[f"{base}.weight_scale"].load().astype(np.float32)
    packed = by_name[name].load()
    shape_t = by_name.get(f"{base}.weight_shape")
    n, k = (
        tuple(int(v) for v in shape_t.load().reshape(-1))
        if shape_t is not None
        else (packed.shape[0], packed.shape[1] * 8)
    )
    zero_t = by_name.get(f"{base}.weight_zero_point")
    zeros = np.zeros(scales.shape, np.int64) if zero_t is None else zero_t.load().astype(np.int64).reshape(scales.shape)
    block = _group_size(k, scales.shape[1], name, model.name)

    def load() -> np.ndarray:
        return (unpack_int32(packed, axis=1)[:, :k].astype(np.int16) - 8).astype(np.int8)  # stored code + 8

    parts = (name, f"{base}.weight_scale", shape_t and shape_t.name, zero_t and zero_t.name)
    tensor = _linear(base, "int4", (n, k), scales, zeros, block, load)
    return Pack(tensor=tensor, used=frozenset(p for p in parts if p), kind="compressed-tensors")


def _fp8(model: Model, by_name: dict[str, Tensor], name: str) -> Pack:
    """An FP8 (``float-quantized``) weight: E4M3 codes with a scale per tensor or per output channel."""
    t, base = by_name[name], name[:-7]
    scale = by_name[f"{base}.weight_scale"].load().astype(np.float64).reshape(-1)
    axis = 0 if scale.size > 1 else None
    if axis is not None and scale.size != t.shape[0]:
        raise ModelFileError(f"{model.name}: {base}.weight_scale has {scale.size} values for {t.shape[0]} rows")
    q = Quantization(scale, np.zeros(scale.size, np.int64), axis)
    tensor = Tensor(name, t.dtype, t.shape, "weight", "Linear", q, t.loader)
    return Pack(tensor=tensor, used=frozenset({name, f"{base}.weight_scale"}), kind="fp8")


def _pack_of(model: Model, by_name: dict[str, Tensor], name: str, config: QuantConfig | None) -> Pack | None:
    """The pack ``name`` heads, if it heads one."""
    if name.endswith(".qweight") and {name[:-8] + ".scales", name[:-8] + ".qzeros"} <= by_name.keys():
        return _gptq_awq(model, by_name, name, config)
    if name.endswith(".weight_packed") and name[:-14] + ".weight_scale" in by_name:
        return _compressed(model, by_name, name)
    if by_name[name].dtype.startswith("float8") and name.endswith(".weight") and name[:-7] + ".weight_scale" in by_name:
        return _fp8(model, by_name, name)
    return None


KIND_NOTES = {
    "gptq": "GPTQ: zero points stored as z − 1 (AutoGPTQ's offset) and shown as z",
    "awq": "AWQ: codes and zero points packed along the output dimension in AWQ's order 0 2 4 6 1 3 5 7",
    "compressed-tensors": "compressed-tensors pack-quantized: int4 codes stored as code + 8, eight per int32 along K",
}


def recognise_packs(model: Model, config: QuantConfig | None = None) -> Model:
    """Return ``model`` with GPTQ, AWQ, compressed-tensors, FP8 and bitsandbytes packs replaced by one tensor each.

    ``config``: the ``quantization_config`` of the checkpoint's ``config.json``, where given: it decides GPTQ's bits
    and zero-point offset, and is kept on the model (``Model.config``) so the summary and the likely problems say
    what it claimed.

    >>> m = recognise_packs(Model("m.safetensors", "safetensors", [Tensor("w", "float32", (2, 2), "weight")]))
    >>> [t.name for t in m.tensors], m.file_type
    (['w'], '')
    """
    from quantviz.models.bnb_packs import recognise_bnb

    model = recognise_bnb(model)
    model.config = config
    by_name = {t.name: t for t in model.tensors}
    packs = [p for p in (_pack_of(model, by_name, name, config) for name in by_name) if p is not None]
    if not packs:
        return model
    kinds = {p.kind for p in packs}
    kind_notes = [_gptq_note(config) if k == "gptq" else KIND_NOTES[k] for k in KIND_NOTES if k in kinds]
    notes = [note for p in packs for note in p.notes] + kind_notes
    kind = next(k for k in ("compressed-tensors", "gptq", "awq", "fp8") if k in kinds)
    used = set().union(*(p.used for p in packs))
    rest = [t for t in model.tensors if t.name not in used]
    tensors = [*(p.tensor for p in packs), *rest]
    return Model(model.name, model.format, tensors, [*model.notes, *notes], kind, model.raw, config)


def _gptq_note(config: QuantConfig | None) -> str:
    """How GPTQ's packs were read, and whether the config or the default decided it."""
    bits, offset = packed_bits(config), stores_z_minus_one(config)
    source = "config.json" if config is not None and config.bits is not None else "assumed: no config.json says"
    zeros = "zero points stored as z − 1 (AutoGPTQ's offset) and shown as z" if offset else "zero points stored as z"
    return f"GPTQ: {bits}-bit codes, {32 // bits} per int32 ({source}); {zeros}"
