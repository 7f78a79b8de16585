"""Reading GGUF's K-quants Q2_K … Q6_K: super-blocks of 256 values with quantized sub-block scales.

The encoders (llama.cpp's searches) are in :mod:`quantviz.blocks.kquant_encode`.
Layouts (bytes per super-block), as ggml-common.h defines them:

- Q2_K (84): sixteen bytes of 4-bit scale | 4-bit min per 16 values, 64 bytes of 2-bit codes, d, dmin;
  value = d·sc·q − dmin·m.
- Q3_K (110): 32 bytes of high bits, 64 bytes of low 2-bit pairs, twelve bytes of sixteen 6-bit signed scales,
  d; value = d·(sc − 32)·(q − 4), the high bit set meaning "do not subtract 4".

- Q4_K (144): d, dmin (float16 each), 12 bytes of eight 6-bit sub-scales and eight 6-bit sub-mins, 128 bytes of
  nibbles. Each 32-value sub-block decodes as d·sc·q − dmin·m: a scale *and an offset* per 32 values, both
  quantized to 6 bits against the two float16 super-scales.
- Q5_K (176): as Q4_K plus 32 bytes holding each value's fifth bit.
- Q6_K (210): 128 bytes of low nibbles, 64 bytes of high 2-bit pairs, sixteen int8 sub-scales, d (float16);
  value = d·sc·(q − 32) per 16-value sub-block: symmetric, with the zero point folded into the −32.

The float32 operation order is the ``gguf`` package's, so decoded values match it bit for bit.
"""

from __future__ import annotations

import numpy as np

F32, F16 = np.float32, np.float16
QK_K = 256
SIZES = {"Q2_K": 84, "Q3_K": 110, "Q4_K": 144, "Q5_K": 176, "Q6_K": 210}


def _f16(b: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(b).view(F16).astype(F32)


def scales_and_mins(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unpack the 12-byte field into eight 6-bit scales and eight 6-bit mins per super-block.

    Bytes 0–3 hold scales 0–3 in their low 6 bits, bytes 4–7 mins 0–3; scales and mins 4–7 take their low
    4 bits from bytes 8–11 and their top 2 bits from the top of bytes 0–3 and 4–7.
    """
    b = packed.reshape(-1, 3, 4)
    low, high, mixed = b[:, 0], b[:, 1], b[:, 2]
    sc = np.concatenate([low & 0x3F, (mixed & 0x0F) | ((low >> 2) & 0x30)], axis=1)
    mn = np.concatenate([high & 0x3F, (mixed >> 4) | ((high >> 2) & 0x30)], axis=1)
    return sc, mn


def decode_q4_k(data: np.ndarray) -> np.ndarray:
    n = data.shape[0]
    d, dmin = _f16(data[:, 0:2]), _f16(data[:, 2:4])
    sc, mn = scales_and_mins(data[:, 4:16])
    qs = data[:, 16:].reshape(n, 4, 1, 32) >> np.array([0, 4], np.uint8).reshape(1, 1, 2, 1)
    q = (qs & 0x0F).reshape(n, 8, 32).astype(F32)
    return ((d * sc.astype(F32)).reshape(n, 8, 1) * q - (dmin * mn.astype(F32)).reshape(n, 8, 1)).reshape(n, QK_K)


def decode_q5_k(data: np.ndarray) -> np.ndarray:
    n = data.shape[0]
    d, dmin = _f16(data[:, 0:2]), _f16(data[:, 2:4])
    sc, mn = scales_and_mins(data[:, 4:16])
    qh = data[:, 16:48].reshape(n, 1, 1, 32) >> np.arange(8, dtype=np.uint8).reshape(1, 1, 8, 1)
    ql = data[:, 48:].reshape(n, 4, 1, 32) >> np.array([0, 4], np.uint8).reshape(1, 1, 2, 1)
    q = ((ql & 0x0F).reshape(n, 8, 32) | ((qh & 1).reshape(n, 8, 32) << 4)).astype(F32)
    return ((d * sc.astype(F32)).reshape(n, 8, 1) * q - (dmin * mn.astype(F32)).reshape(n, 8, 1)).reshape(n, QK_K)


def decode_q6_k(data: np.ndarray) -> np.ndarray:
    n = data.shape[0]
    ql = data[:, :128].reshape(n, 2, 1, 64) >> np.array([0, 4], np.uint8).reshape(1, 1, 2, 1)
    qh = data[:, 128:192].reshape(n, 2, 1, 32) >> np.array([0, 2, 4, 6], np.uint8).reshape(1, 1, 4, 1)
    scales = np.ascontiguousarray(data[:, 192:208]).view(np.int8).astype(F32)
    d = _f16(data[:, 208:210])
    q = ((ql & 0x0F).reshape(n, 8, 32) | ((qh & 3).reshape(n, 8, 32) << 4)).astype(np.int8) - np.int8(32)
    return ((d * scales).reshape(n, 16, 1) * q.reshape(n, 16, 16).astype(F32)).reshape(n, QK_K)


def _two_bit(qs: np.ndarray) -> np.ndarray:
    """(n, 64) bytes -> (n, 256) 2-bit codes: byte 32h + l holds values 128h + 32k + l in bits 2k."""
    n = qs.shape[0]
    q = qs.reshape(n, 2, 1, 32) >> np.array([0, 2, 4, 6], np.uint8).reshape(1, 1, 4, 1)
    return (q & 3).reshape(n, QK_K)


def decode_q2_k(data: np.ndarray) -> np.ndarray:
    n = data.shape[0]
    sc = data[:, :16]
    d, dmin = _f16(data[:, 80:82]), _f16(data[:, 82:84])
    dl = d * (sc & 0xF).astype(F32)
    ml = dmin * (sc >> 4).astype(F32)
    q = _two_bit(data[:, 16:80]).reshape(n, 16, 16).astype(F32)
    return (dl.reshape(n, 16, 1) * q - ml.reshape(n, 16, 1)).reshape(n, QK_K)


def q3_scales(packed: np.ndarray) -> np.ndarray:
    """The 12-byte field -> sixteen signed scales in [−32, 31] (low nibbles in bytes 0–7, top pairs in 8–11)."""
    b = packed.astype(np.int32)
    low = np.concatenate([b[:, :8] & 0xF, b[:, :8] >> 4], axis=1)
    j = np.arange(16)
    return (low | (((b[:, 8 + j % 4] >> (2 * (j // 4))) & 3) << 4)) - 32


def decode_q3_k(data: np.ndarray) -> np.ndarray:
    n = data.shape[0]
    hbit = (data[:, :32].reshape(n, 1, 32) >> np.arange(8, dtype=np.uint8).reshape(1, 8, 1)) & 1
    q = _two_bit(data[:, 32:96]).astype(np.int8) - np.where(hbit.reshape(n, QK_K) == 1, 0, 4).astype(np.int8)
    dl = _f16(data[:, 108:110]) * q3_scales(data[:, 96:108]).astype(F32)
    return (dl.reshape(n, 16, 1) * q.reshape(n, 16, 16).astype(F32)).reshape(n, QK_K)


DECODERS = {"Q2_K": decode_q2_k, "Q3_K": decode_q3_k, "Q4_K": decode_q4_k, "Q5_K": decode_q5_k, "Q6_K": decode_q6_k}


def codes(data: np.ndarray, name: str) -> np.ndarray:
    """The integer code of each value of each super-block, as stored (before its sub-block scale), (n, 256)."""
    n = data.shape[0]
    if name == "Q2_K":
        return _two_bit(data[:, 16:80]).astype(np.int64)
    if name == "Q3_K":
        hbit = (data[:, :32].reshape(n, 1, 32) >> np.arange(8, dtype=np.uint8).reshape(1, 8, 1)) & 1
        return (_two_bit(data[:, 32:96]) | (hbit.reshape(n, QK_K) << 2)).astype(np.int64)
    if name == "Q4_K":
        qs = data[:, 16:].reshape(n, 4, 1, 32) >> np.array([0, 4], np.uint8).reshape(1, 1, 2, 1)
        return (qs & 0x0F).reshape(n, QK_K).astype(np.int64)
    if name == "Q5_K":
        qh = data[:, 16:48].reshape(n, 1, 1, 32) >> np.arange(8, dtype=np.uint8).reshape(1, 1, 8, 1)
        ql = data[:, 48:].reshape(n, 4, 1, 32) >> np.array([0, 4], np.uint8).reshape(1, 1, 2, 1)
        return ((ql & 0x0F).reshape(n, QK_K) | ((qh & 1).reshape(n, QK_K) << 4)).astype(np.int64)
    ql = data[:, :128].reshape(n, 2, 1, 64) >> np.array([0, 4], np.uint8).reshape(1, 1, 2, 1)
    qh = data[:, 128:192].reshape(n, 2, 1, 32) >> np.array([0, 2, 4, 6], np.uint8).reshape(1, 1, 4, 1)
    return ((ql & 0x0F).reshape(n, QK_K) | ((qh & 3).reshape(n, QK_K) << 4)).astype(np.int64)


def stored_scales(data: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Per super-block: (sub-block scale codes, min codes or None, d, dmin or None), d and dmin as float32.

    Q3_K's and Q6_K's codes are signed (−32 … 31, −128 … 127); the others are unsigned.
    """

    def half(a: int) -> np.ndarray:
        return _f16(data[:, a : a + 2]).reshape(-1)

    if name == "Q2_K":
        sc = data[:, :16]
        return (sc & 0xF).astype(np.int64), (sc >> 4).astype(np.int64), half(80), half(82)
    if name == "Q3_K":
        return q3_scales(data[:, 96:108]).astype(np.int64), None, half(108), None
    if name in ("Q4_K", "Q5_K"):
        sc, mn = scales_and_mins(data[:, 4:16])
        return sc.astype(np.int64), mn.astype(np.int64), half(0), half(2)
    sc = np.ascontiguousarray(data[:, 192:208]).view(np.int8).astype(np.int64)
    return sc, None, half(208), None
