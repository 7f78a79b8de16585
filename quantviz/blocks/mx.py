"""OCP Microscaling (MX) formats and ggml's MXFP4: 32 values share one power-of-two scale stored as E8M0.

OCP MX v1.0: the shared exponent is X = floor(log2(amax)) − emax, where emax is the element type's largest
exponent (E4M3: 8, E5M2: 15, E3M2: 4, E2M3: 2, E2M1: 2); each element is x / 2^X cast to the element type,
rounding to nearest even and saturating at its largest normal value. The scale byte is X + 127 (E8M0, no
mantissa). The floor matters: ``ml_dtypes``' float32 -> float8_e8m0fnu cast *rounds* (3.0 becomes 4.0), so the
scale is built from the exponent bits, not by that cast. Element casts are ``ml_dtypes``' own (round to nearest
even), applied after an explicit clamp to ±max (the spec saturates; an E4M3 cast alone would give NaN).

ggml's MXFP4 (the ``gguf`` package, llama.cpp) differs in two places, both shown on the page:
- its exponent is floor(log2(amax)) from a float32 log2, which rounds up for amax a hair below a power of two;
- it picks each element by the smallest float32 distance |d·k − x| over the 16 codes in order, so a value exactly
  halfway between two codes goes to the *smaller* magnitude (toward zero), not to the even one.
Byte layout (both): the E8M0 byte, then 16 bytes of nibbles, element j low and element j + 16 high.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np

from quantviz.blocks.packing import pack_nibbles, unpack_nibbles

F32 = np.float32
BLOCK = 32

ELEMENTS = {
    # name: (ml_dtypes type, emax, bits)
    "MXFP8_E4M3": (ml_dtypes.float8_e4m3fn, 8, 8),
    "MXFP8_E5M2": (ml_dtypes.float8_e5m2, 15, 8),
    "MXFP6_E3M2": (ml_dtypes.float6_e3m2fn, 4, 6),
    "MXFP6_E2M3": (ml_dtypes.float6_e2m3fn, 2, 6),
    "MXFP4": (ml_dtypes.float4_e2m1fn, 2, 4),
}
E2M1_DOUBLED = np.array([0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12], dtype=np.int8)  # codes 0..15, ×2
E2M1_MAGNITUDES_DOUBLED = np.array([0, 1, 2, 3, 4, 6, 8, 12], dtype=F32)


def floor_log2(v: np.ndarray) -> np.ndarray:
    """floor(log2(v)) exactly, from the float32 exponent bits (v > 0, finite; subnormals handled by frexp).

    >>> floor_log2(np.array([1.0, 3.0, 4.0, 0.75, 2.0 - 2**-20], np.float32)).tolist()
    [0, 1, 2, -1, 0]
    """
    _, exponent = np.frexp(v.astype(F32))
    return (exponent - 1).astype(np.int32)


def shared_exponent(blocks: np.ndarray, emax: int) -> np.ndarray:
    """The OCP scale exponent X per block, clamped to E8M0's range [−127, 127]; −127 for an all-zero block."""
    amax = np.abs(blocks).max(axis=1)
    with np.errstate(divide="ignore"):
        x = np.where(amax > 0, floor_log2(np.where(amax > 0, amax, F32(1))) - emax, -127)
    return np.clip(x, -127, 127).astype(np.int32)


def _pow2(exponent: np.ndarray) -> np.ndarray:
    return np.ldexp(np.ones(exponent.shape, np.float64), exponent).astype(F32)


def encode_elements(blocks: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (E8M0 scale bytes (n,), element codes (n, 32) as raw bit patterns) for an OCP MX format."""
    dtype, emax, _ = ELEMENTS[name]
    x = shared_exponent(blocks, emax)
    top = float(ml_dtypes.finfo(dtype).max)
    scaled = np.clip(blocks.astype(np.float64) / _pow2(x)[:, None].astype(np.float64), -top, top).astype(F32)
    elements = scaled.astype(dtype)
    raw = elements.view(np.uint8)
    return (x + 127).astype(np.uint8), raw


def decode_elements(scale: np.ndarray, raw: np.ndarray, name: str) -> np.ndarray:
    dtype, _, _ = ELEMENTS[name]
    values = np.ascontiguousarray(raw).view(dtype).astype(F32)
    return values * _pow2(scale.astype(np.int32) - 127)[:, None]


def _pack_bits(raw: np.ndarray, bits: int) -> np.ndarray:
    """Pack per-element bit patterns of ``bits`` bits little-endian into bytes (8 bits: unchanged)."""
    if bits == 8:
        return raw
    if bits == 4:
        return pack_nibbles(raw)
    # 6 bits: 4 elements in 3 bytes, least significant bits first
    r = raw.astype(np.uint32).reshape(raw.shape[0], -1, 4)
    word = r[..., 0] | (r[..., 1] << 6) | (r[..., 2] << 12) | (r[..., 3] << 18)
    out = np.stack([word & 0xFF, (word >> 8) & 0xFF, (word >> 16) & 0xFF], axis=-1)
    return out.reshape(raw.shape[0], -1).astype(np.uint8)


def _unpack_bits(packed: np.ndarray, bits: int) -> np.ndarray:
    if bits == 8:
        return packed
    if bits == 4:
        return unpack_nibbles(packed)
    b = packed.astype(np.uint32).reshape(packed.shape[0], -1, 3)
    word = b[..., 0] | (b[..., 1] << 8) | (b[..., 2] << 16)
    out = np.stack([(word >> s) & 0x3F for s in (0, 6, 12, 18)], axis=-1)
    return out.reshape(packed.shape[0], -1).astype(np.uint8)


def encode_ocp(blocks: np.ndarray, name: str) -> np.ndarray:
    scale, raw = encode_elements(blocks, name)
    return np.concatenate([scale[:, None], _pack_bits(raw, ELEMENTS[name][2])], axis=1)


def decode_ocp(data: np.ndarray, name: str) -> np.ndarray:
    return decode_elements(data[:, 0], _unpack_bits(data[:, 1:], ELEMENTS[name][2]), name)


def element_codes(data: np.ndarray, name: str) -> np.ndarray:
    """The element bit patterns of each block (for the page's per-value table)."""
    if name == "MXFP4_GGML":
        return unpack_nibbles(data[:, 1:]).astype(np.int64)
    return _unpack_bits(data[:, 1:], ELEMENTS[name][2]).astype(np.int64)


# ----------------------------------------------------------------------------- ggml's MXFP4
def ggml_half_scale(e: np.ndarray) -> np.ndarray:
    """ggml's E8M0 -> float32, halved (its codes are doubled E2M1 values): 2^(e − 128), subnormal for e < 2."""
    e = e.astype(np.uint32)
    bits = np.where(e < 2, np.uint32(0x00200000) << e, (e - 1) << np.uint32(23)).astype(np.uint32)
    return bits.view(F32)


def encode_ggml_mxfp4(blocks: np.ndarray) -> np.ndarray:
    amax = np.abs(blocks).max(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        e = np.where(amax > 0, np.floor(np.log2(amax)) - 2 + 127, 0).astype(np.uint8)
    d = ggml_half_scale(e)
    # the two nearest doubled magnitudes, then the float32 distances as ggml compares them (first wins a tie)
    mag = np.abs(blocks) / d  # exact: d is a power of two
    # the neighbouring doubled magnitudes: steps of 1 up to 4, of 2 up to 8, of 4 up to 12, then saturate
    step = np.where(mag <= 4, F32(1), np.where(mag <= 8, F32(2), F32(4)))
    k_lo = np.minimum(np.floor(mag / step) * step, F32(12))
    k_hi = np.minimum(k_lo + step, F32(12))
    sign = blocks < 0
    signed = np.where(sign, F32(-1), F32(1))
    err_lo = np.abs(d * (signed * k_lo) - blocks)
    err_hi = np.abs(d * (signed * k_hi) - blocks)
    chosen = np.where(err_hi < err_lo, k_hi, k_lo)
    index = np.searchsorted(E2M1_MAGNITUDES_DOUBLED, chosen)  # exact table values: their own index
    # codes: 0..7 positive, 8..15 negative; a negative value that rounds to 0 takes code 0 (it comes first)
    q = np.where(sign & (index > 0), index + 8, index).astype(np.uint8)
    return np.concatenate([e, pack_nibbles(q)], axis=1)


def decode_ggml_mxfp4(data: np.ndarray) -> np.ndarray:
    d = ggml_half_scale(data[:, :1])
    q = unpack_nibbles(data[:, 1:])
    return d * E2M1_DOUBLED[q].astype(F32)
