"""NVFP4: blocks of 16 E2M1 values, an E4M3 block scale, and one float32 scale for the whole tensor.

s_tensor = amax(tensor) / (448 · 6), so that the largest block scale fits E4M3's 448 and the largest element
E2M1's 6. Each block's scale (amax(block) / 6) / s_tensor is clamped to [2^−6, 448] and cast to E4M3 (round to
nearest even); each element x · ((1 / s_tensor) / s_block) is clamped to ±6 and cast to E2M1 (round to nearest
even). Decoding multiplies back: e2m1 · (s_tensor · s_block). The order of these float32 operations is torchao's
``nvfp4_quantize`` (checked in ``make oracles``); the casts are ``ml_dtypes``'.

Byte layout here (NVIDIA's kernels keep the scales in a separate, swizzled tensor; this packs everything into
one stream so that a block can be shown as bytes): 4 bytes of s_tensor (float32, little-endian), then per block
one E4M3 byte and 8 bytes of nibbles, element j low and element j + 8 high.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np

F32 = np.float32
BLOCK = 16
E4M3_MAX, E2M1_MAX = F32(448.0), F32(6.0)
E4M3_TINY = F32(ml_dtypes.finfo(ml_dtypes.float8_e4m3fn).tiny)  # 2^-6


def tensor_scale(x: np.ndarray) -> np.float32:
    """amax / (448 · 6) in float32; 1 for an all-zero tensor."""
    amax = F32(np.abs(x).max()) if x.size else F32(0)
    return amax / (E4M3_MAX * E2M1_MAX) if amax > 0 else F32(1)


def encode_blocks(blocks: np.ndarray, s_tensor: np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Return (E4M3 scale bytes (n,), E2M1 bit patterns (n, 16)), with torchao's float32 operation order."""
    block_scale = (np.abs(blocks).max(axis=1) / E2M1_MAX).astype(F32)
    # E4M3's smallest normal value bounds the scale from below: an all-zero block still gets a usable scale
    fp8 = np.clip((block_scale / s_tensor).astype(F32), E4M3_TINY, E4M3_MAX).astype(ml_dtypes.float8_e4m3fn)
    reciprocal = ((F32(1) / s_tensor) / fp8.astype(F32)).astype(F32)
    scaled = np.clip(blocks * reciprocal[:, None], -E2M1_MAX, E2M1_MAX).astype(F32)
    return fp8.view(np.uint8), scaled.astype(ml_dtypes.float4_e2m1fn).view(np.uint8)


def decode_blocks(scales: np.ndarray, raw: np.ndarray, s_tensor: np.float32) -> np.ndarray:
    total = (s_tensor * np.ascontiguousarray(scales).view(ml_dtypes.float8_e4m3fn).astype(F32)).astype(F32)
    return np.ascontiguousarray(raw).view(ml_dtypes.float4_e2m1fn).astype(F32) * total[:, None]


def encode(x: np.ndarray) -> np.ndarray:
    s = tensor_scale(x)
    scales, raw = encode_blocks(x.reshape(-1, BLOCK), s)
    body = np.concatenate([scales[:, None], (raw[:, :8] & 0x0F) | (raw[:, 8:] << 4)], axis=1)
    return np.concatenate([np.array([s], "<f4").view(np.uint8), body.reshape(-1)])


def decode(data: np.ndarray, n: int) -> np.ndarray:
    s = np.ascontiguousarray(data[:4]).view("<f4")[0]
    body = data[4:].reshape(-1, 9)
    raw = np.concatenate([body[:, 1:] & 0x0F, body[:, 1:] >> 4], axis=1)
    return decode_blocks(body[:, 0], raw, s).reshape(-1)[:n]
