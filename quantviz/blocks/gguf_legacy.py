"""GGUF's legacy block types Q8_0, Q4_0, Q4_1, Q5_0, Q5_1: 32 values, a float16 scale d (and min m), packed codes.

The arithmetic is llama.cpp's reference quantizer (``quantize_row_q*_ref`` in ggml-quants.c) as the ``gguf``
package's numpy port writes it, checked byte for byte against that package in ``tests/test_blocks.py``:

- Q8_0: d = amax/127 (float32), q = round_half_away_from_zero(x · (1/d)), int8 codes.
- Q4_0 / Q5_0: d = v/−8 (or v/−16), where v is the value of largest magnitude *with its sign* (the first one on
  a tie); q = trunc(x · (1/d) + 8.5), clamped to 15 (31 for Q5_0). The largest value lands on code 0: the grid is
  [−8, 7]·d turned so that the biggest magnitude gets the lone extra code.
- Q4_1 / Q5_1: d = (max − min)/15 (31), m = min, q = trunc((x − m) · (1/d) + 0.5): x = d·q + m, the float cousin
  of an integer zero point (z = −m/d is not an integer, so real 0 is not exact).

d and m are computed in float32 and *stored* as float16; codes are chosen with the float32 d, and decoding uses
the float16 one. Nibble order: byte j holds element j in its low nibble and element j + 16 in its high nibble;
Q5's fifth bits sit in a little-endian uint32, bit j for element j.

Where the two references could part: llama.cpp's C computes ``x*id + 8.5f`` and truncates with an ``(int8_t)``
cast, the numpy port with ``np.trunc`` on the same float32 sum; both truncate toward zero and the sum is never
negative, so they agree. The C code rounds Q8_0 with ``roundf``, the port with floor arithmetic that is exact in
float32: both round half away from zero.
"""

from __future__ import annotations

import numpy as np

from quantviz.blocks.packing import pack_nibbles, unpack_nibbles

F32, F16 = np.float32, np.float16
BLOCK = 32


def _inverse(d: np.ndarray) -> np.ndarray:
    """1/d in float32, with 0 where d is 0 (an all-zero block)."""
    with np.errstate(divide="ignore"):
        return np.where(d == 0, F32(0), F32(1) / d).astype(F32)


def _fifth_bits(q: np.ndarray) -> np.ndarray:
    """Bit 4 of each of the 32 codes as a little-endian uint32 (4 bytes)."""
    bits = ((q.astype(np.uint32) >> 4) & 1) << np.arange(32, dtype=np.uint32)
    return np.bitwise_or.reduce(bits, axis=1).astype("<u4").view(np.uint8).reshape(-1, 4)


def _unfifth_bits(qh: np.ndarray) -> np.ndarray:
    word = np.ascontiguousarray(qh).view("<u4").reshape(-1, 1)
    return ((word >> np.arange(32, dtype=np.uint32)) & 1).astype(np.uint8)


def _signed_absmax(blocks: np.ndarray) -> np.ndarray:
    """Per block, the value of largest magnitude with its sign (the first one on a tie)."""
    return np.take_along_axis(blocks, np.abs(blocks).argmax(axis=1)[:, None], axis=1)


def _f16_bytes(v: np.ndarray) -> np.ndarray:
    return v.astype(F16).reshape(-1, 1).view(np.uint8).reshape(-1, 2)


def _f16_value(b: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(b).view(F16).astype(F32)


def round_half_away(v: np.ndarray) -> np.ndarray:
    """C's roundf on float32: exact (floor and the doubled fraction are exact in float32)."""
    a = np.abs(v)
    whole = np.floor(a)
    return np.copysign(whole + np.floor(2 * (a - whole)), v).astype(F32)


# ----------------------------------------------------------------------------- encoders: (n, 32) float32 -> bytes
def encode_q8_0(blocks: np.ndarray) -> np.ndarray:
    d = (np.abs(blocks).max(axis=1, keepdims=True) / F32(127)).astype(F32)
    q = round_half_away(blocks * _inverse(d)).astype(np.int8)
    return np.concatenate([_f16_bytes(d), q.view(np.uint8)], axis=1)


def _symmetric_codes(blocks: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    d = (_signed_absmax(blocks) / F32(-half)).astype(F32)
    q = np.trunc(blocks * _inverse(d) + F32(half + 0.5)).clip(0, 2 * half - 1).astype(np.uint8)
    return d, q


def _affine_codes(blocks: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo = blocks.min(axis=1, keepdims=True)
    d = ((blocks.max(axis=1, keepdims=True) - lo) / F32(top)).astype(F32)
    q = np.trunc((blocks - lo) * _inverse(d) + F32(0.5)).clip(0, top).astype(np.uint8)
    return d, lo, q


def encode_q4_0(blocks: np.ndarray) -> np.ndarray:
    d, q = _symmetric_codes(blocks, 8)
    return np.concatenate([_f16_bytes(d), pack_nibbles(q)], axis=1)


def encode_q5_0(blocks: np.ndarray) -> np.ndarray:
    d, q = _symmetric_codes(blocks, 16)
    return np.concatenate([_f16_bytes(d), _fifth_bits(q), pack_nibbles(q & 0x0F)], axis=1)


def encode_q4_1(blocks: np.ndarray) -> np.ndarray:
    d, m, q = _affine_codes(blocks, 15)
    return np.concatenate([_f16_bytes(d), _f16_bytes(m), pack_nibbles(q)], axis=1)


def encode_q5_1(blocks: np.ndarray) -> np.ndarray:
    d, m, q = _affine_codes(blocks, 31)
    return np.concatenate([_f16_bytes(d), _f16_bytes(m), _fifth_bits(q), pack_nibbles(q & 0x0F)], axis=1)


# ----------------------------------------------------------------------------- decoders: bytes -> (n, 32) float32
def decode_q8_0(data: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(data[:, 2:]).view(np.int8).astype(F32) * _f16_value(data[:, :2])


def decode_q4_0(data: np.ndarray) -> np.ndarray:
    q = unpack_nibbles(data[:, 2:]).astype(np.int8) - np.int8(8)
    return _f16_value(data[:, :2]) * q.astype(F32)


def decode_q5_0(data: np.ndarray) -> np.ndarray:
    q = (unpack_nibbles(data[:, 6:]) | (_unfifth_bits(data[:, 2:6]) << 4)).astype(np.int8) - np.int8(16)
    return _f16_value(data[:, :2]) * q.astype(F32)


def decode_q4_1(data: np.ndarray) -> np.ndarray:
    return _f16_value(data[:, :2]) * unpack_nibbles(data[:, 4:]).astype(F32) + _f16_value(data[:, 2:4])


def decode_q5_1(data: np.ndarray) -> np.ndarray:
    q = unpack_nibbles(data[:, 8:]) | (_unfifth_bits(data[:, 4:8]) << 4)
    return _f16_value(data[:, :2]) * q.astype(F32) + _f16_value(data[:, 2:4])


def codes(data: np.ndarray, name: str) -> np.ndarray:
    """The integer codes of each block as stored (before the scale), for the page's per-value table."""
    if name == "Q8_0":
        return np.ascontiguousarray(data[:, 2:]).view(np.int8).astype(np.int64)
    if name == "Q4_0":
        return unpack_nibbles(data[:, 2:]).astype(np.int64)
    if name == "Q4_1":
        return unpack_nibbles(data[:, 4:]).astype(np.int64)
    if name == "Q5_0":
        return (unpack_nibbles(data[:, 6:]) | (_unfifth_bits(data[:, 2:6]) << 4)).astype(np.int64)
    return (unpack_nibbles(data[:, 8:]) | (_unfifth_bits(data[:, 4:8]) << 4)).astype(np.int64)
