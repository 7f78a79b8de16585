"""ONNX Runtime's block-quantized weights: ``MatMulNBits`` (k-bit codes packed to bytes) and ``GatherBlockQuantized``.

``MatMulNBits`` (``MatMul4BitsQuantizer``) stores its [K, N] weight transposed as [N, K], k-bit codes packed
lowest bits first, blocks of ``block_size`` along K with a scale each and zero points packed like the codes (the
operator's default 2^(bits−1) where none are stored); ``GatherBlockQuantized`` an embedding's (u)int4 or 8-bit
codes in blocks along ``quantize_axis``. :func:`block_quantized` gives each as a
:class:`~quantviz.models.base.Tensor` whose ``load()`` unpacks the codes.
"""

from __future__ import annotations

import numpy as np

from quantviz.errors import ModelFileError
from quantviz.models.base import Quantization, Tensor
from quantviz.models.onnx_shapes import attrs_of as _attrs
from quantviz.models.onnx_shapes import np_name as _np_name


def unpack_bits(packed: np.ndarray, bits: int) -> np.ndarray:
    """Unsigned k-bit codes packed into bytes, lowest bits first (ONNX Runtime's MatMulNBits layout).

    >>> unpack_bits(np.array([0x21, 0x43], np.uint8), 4).tolist()
    [1, 2, 3, 4]
    """
    if bits not in (2, 4, 8):
        raise ValueError(f"bits must be 2, 4 or 8, got {bits}")
    b = np.asarray(packed, np.uint8).reshape(-1)
    shifts = np.arange(0, 8, bits, dtype=np.uint8)
    return ((b[:, None] >> shifts) & np.uint8((1 << bits) - 1)).reshape(-1)


def _matmul_nbits(name: str, g, node) -> tuple[Tensor, str]:
    """A MatMulNBits weight: k-bit codes packed to bytes, [N, K], blocks along K; and the note saying so."""
    ins, attrs = list(node.input), _attrs(node)
    k, n, bits, block = int(attrs["K"]), int(attrs["N"]), int(attrs.get("bits", 4)), int(attrs["block_size"])
    blocks = -(-k // block)
    raw, scales = g.array(ins[1]), g.array(ins[2])
    if raw.size != n * blocks * block * bits // 8 or scales.size != n * blocks:
        raise ModelFileError(
            f"{name}: MatMulNBits {node.name!r} stores {raw.size} bytes and {scales.size} scales; "
            f"K={k}, N={n}, {bits} bits, blocks of {block} need {n * blocks * block * bits // 8} "
            f"and {n * blocks}"
        )
    zero_raw = g.array(ins[3]) if len(ins) > 3 and ins[3] else None
    if zero_raw is None:
        zeros = np.full(n * blocks, 1 << (bits - 1), np.int64)  # the operator's default zero point
    elif zero_raw.dtype.kind == "f":
        raise ModelFileError(
            f"{name}: MatMulNBits {node.name!r} stores float zero points, which QuantViz does not read"
        )
    else:  # each row's zero points packed like the codes, padded to whole bytes
        zeros = unpack_bits(zero_raw, bits).reshape(n, -1)[:, :blocks].reshape(-1).astype(np.int64)

    def load() -> np.ndarray:
        return unpack_bits(raw, bits).reshape(n, -1)[:, :k]

    q = Quantization(np.asarray(scales, np.float64).reshape(-1), zeros, 1, block)
    note = (
        f"{ins[1]}: MatMulNBits packs {bits}-bit codes {8 // bits} to a byte, lowest bits first, "
        f"stored as [N, K] = [{n}, {k}] (the MatMul's [K, N] transposed), blocks of {block} along K"
    )
    return Tensor(ins[1], f"uint{bits}", (n, k), "weight", "MatMulNBits", q, load), note


def _gather_block(g, node) -> tuple[Tensor, str]:
    """A GatherBlockQuantized embedding: its (u)int4 or 8-bit codes, blocks along ``quantize_axis``."""
    ins, attrs = list(node.input), _attrs(node)
    axis, block = int(attrs.get("quantize_axis", 1)), int(attrs.get("block_size", 128))
    codes = g.array(ins[0])
    stored = _np_name(g.inits[ins[0]].data_type)
    zero = g.array(ins[3]) if len(ins) > 3 and ins[3] else None
    scales = np.asarray(g.array(ins[2]), np.float64).reshape(-1)
    default = 8 if stored == "uint4" else 0
    zeros = np.full(scales.size, default, np.int64) if zero is None else np.asarray(zero).astype(np.int64).reshape(-1)
    wide = np.uint8 if stored.startswith("uint") else np.int8

    def load() -> np.ndarray:
        return np.asarray(codes).astype(wide)

    q = Quantization(scales, zeros, axis, block)
    tensor = Tensor(ins[0], stored, tuple(int(d) for d in codes.shape), "weight", "GatherBlockQuantized", q, load)
    return tensor, f"{ins[0]}: GatherBlockQuantized embedding, {stored} codes in blocks of {block} along axis {axis}"


def block_quantized(name: str, g, notes: list[str]) -> list[Tensor]:
    """MatMulNBits and GatherBlockQuantized weights, codes and zero points unpacked (a note for each)."""
    out = []
    for node in g.graph.node:
        ins = list(node.input)
        if node.op_type == "MatMulNBits" and len(ins) >= 3 and ins[1] in g.inits:
            tensor, note = _matmul_nbits(name, g, node)
        elif node.op_type == "GatherBlockQuantized" and len(ins) >= 3 and ins[0] in g.inits:
            tensor, note = _gather_block(g, node)
        else:
            continue
        out.append(tensor)
        notes.append(note)
    return out
