"""Plain integer blocks: symmetric block absmax, and group-wise affine uint4 with a zero point (AWQ/GPTQ).

- Symmetric (block absmax): s = amax/7 stored as float16, q = round_half_even(x / s) in [−7, 7], stored as q + 8.
- Affine (the AWQ/GPTQ int4 layout): the group's range widened to include 0, s = (max − min)/15 stored as
  float16, an integer zero point z = round(−min/s) in [0, 15], q = clamp(round(x/s) + z, 0, 15). "Symmetric"
  uint4 is z = 8: confusion 6.

Bytes per block: the float16 scale, (affine only) one byte for z, then the nibbles, element j low and element
j + block/2 high.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from quantviz.blocks.packing import pack_nibbles, unpack_nibbles

F32, F16 = np.float32, np.float16


def _divide(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s > 0, x / np.where(s > 0, s, F32(1)), F32(0))


def encode_symmetric(blocks: np.ndarray) -> np.ndarray:
    s = (np.abs(blocks).max(axis=1, keepdims=True) / F32(7)).astype(F16)
    q = np.clip(np.rint(_divide(blocks, s.astype(F32))), -7, 7).astype(np.int8) + np.int8(8)
    return np.concatenate([s.view(np.uint8).reshape(-1, 2), pack_nibbles(q.astype(np.uint8))], axis=1)


def decode_symmetric(data: np.ndarray) -> np.ndarray:
    s = np.ascontiguousarray(data[:, :2]).view(F16).astype(F32)
    return (unpack_nibbles(data[:, 2:]).astype(np.int8) - np.int8(8)).astype(F32) * s


def encode_affine(blocks: np.ndarray) -> np.ndarray:
    lo = np.minimum(blocks.min(axis=1, keepdims=True), F32(0))
    hi = np.maximum(blocks.max(axis=1, keepdims=True), F32(0))
    s = ((hi - lo) / F32(15)).astype(F16)
    s32 = s.astype(F32)
    z = np.clip(np.rint(_divide(-lo, s32)), 0, 15).astype(np.uint8)
    q = np.clip(np.rint(_divide(blocks, s32)) + z, 0, 15).astype(np.uint8)
    return np.concatenate([s.view(np.uint8).reshape(-1, 2), z, pack_nibbles(q)], axis=1)


def decode_affine(data: np.ndarray) -> np.ndarray:
    s = np.ascontiguousarray(data[:, :2]).view(F16).astype(F32)
    z = data[:, 2:3].astype(F32)
    return (unpack_nibbles(data[:, 3:]).astype(F32) - z) * s


def codec(block: int, *, symmetric: bool) -> tuple[Callable, Callable]:
    """(encode, decode) over flat streams for blocks of ``block`` values."""
    size = 2 + block // 2 + (0 if symmetric else 1)
    enc, dec = (encode_symmetric, decode_symmetric) if symmetric else (encode_affine, decode_affine)

    def encode(x: np.ndarray) -> np.ndarray:
        return enc(x.reshape(-1, block)).reshape(-1)

    def decode(data: np.ndarray, n: int) -> np.ndarray:
        return dec(data.reshape(-1, size)).reshape(-1)[:n].astype(F32)

    return encode, decode


def block_absmax(x: np.ndarray, block: int, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Symmetric block quantization for any block size and bit width: (dequantized, float16 scales, codes).

    s = amax / (2^(bits−1) − 1) per block, stored as float16; q = round_half_even(x / s) in [−qmax, qmax].

    >>> back, s, q = block_absmax(np.array([1.0, -2.0, 0.5, 0.0], np.float32), 2, 4)
    >>> q.tolist(), [round(float(v), 3) for v in back.ravel()]
    ([[4, -7], [7, 0]], [1.143, -2.0, 0.5, 0.0])
    """
    if not (2 <= bits <= 16 and block >= 1):
        raise ValueError(f"bits must be 2..16 and the block at least 1, got bits={bits}, block={block}")
    rows = np.asarray(x, F32).reshape(-1, block)
    top = 2 ** (bits - 1) - 1
    s = (np.abs(rows).max(axis=1, keepdims=True) / F32(top)).astype(F16).astype(F32)
    q = np.clip(np.rint(_divide(rows, s)), -top, top).astype(np.int64)
    return (q * s).astype(F32), s.reshape(-1), q


def group_affine(x: np.ndarray, group: int, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Affine group quantization (AWQ/GPTQ) for any group size and bit width: (dequantized, scales, zero points, codes).

    Range widened to include 0; s = (max − min) / (2^bits − 1) as float16; z = round(−min / s), an integer in the
    grid; q = clamp(round(x / s) + z, 0, 2^bits − 1).

    >>> back, s, z, q = group_affine(np.array([0.0, 1.0, 2.0, 3.0], np.float32), 4, 2)
    >>> back.tolist(), z.tolist()
    ([[0.0, 1.0, 2.0, 3.0]], [0])
    """
    if not (1 <= bits <= 16 and group >= 1):
        raise ValueError(f"bits must be 1..16 and the group at least 1, got bits={bits}, group={group}")
    rows = np.asarray(x, F32).reshape(-1, group)
    top = 2**bits - 1
    lo = np.minimum(rows.min(axis=1, keepdims=True), F32(0))
    hi = np.maximum(rows.max(axis=1, keepdims=True), F32(0))
    s = ((hi - lo) / F32(top)).astype(F16).astype(F32)
    z = np.clip(np.rint(_divide(-lo, s)), 0, top)
    q = np.clip(np.rint(_divide(rows, s)) + z, 0, top)
    return ((q - z) * s).astype(F32), s.reshape(-1), z.reshape(-1).astype(np.int64), q.astype(np.int64)
