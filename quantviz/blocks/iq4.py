"""llama.cpp's IQ4_NL and IQ4_XS: 4-bit codes into a fixed non-linear grid of 16 int8 values, byte for byte.

The grid (``kvalues_iq4nl``) is denser near zero, like a normal distribution's quantiles. Both types search a
block's scale with ggml's ``quantize_row_iq4_nl_impl`` (read from ggml-quants.c, rewritten in numpy): start from
d = max/127 (the value of largest magnitude lands on −127), score 15 more inverse scales (−127 ± 7)/max by the
weighted least-squares gain (Σwqx)²/Σwq², weights x² (or imatrix · sqrt(σ² + x²)).

- IQ4_NL (18 bytes per 32 values): float16 d and 16 nibble bytes; codes chosen against the float32 d.
- IQ4_XS (136 bytes per 256): float16 d, eight 6-bit sub-block scales (uint16 of high 2-bit pairs, 4 bytes of
  low nibbles), 128 nibble bytes; sub-block scale = d·(ls − 32) with d = −max_scale/32.

Nibble order (both): byte j of a 32-value block holds value j in its low nibble and j + 16 in its high one.
"""

from __future__ import annotations

import numpy as np

from quantviz.blocks.kq_search import F32, GROUP_MAX_EPS, first_absmax, nearest_int, seqsum

VALUES = np.array([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113], np.int8)
_VF = VALUES.astype(F32)
NTRY = 7


# Every grid gap is a whole number, so each midpoint is a multiple of 1/2: no midpoint lies strictly inside
# [j/2, (j+1)/2), and the nearest value is a table lookup on floor(2x). Inside (−127, 113) C's test
# x − v[i] < v[i+1] − x is exact in float32 (both sides are multiples of ulp(x) and small), so a tie goes up.
_MID = (_VF[:-1] + _VF[1:]) / F32(2)
_LUT = np.searchsorted(_MID, np.arange(-256, 256, dtype=F32) / F32(2), side="right").astype(np.uint8)


def best_index(x: np.ndarray) -> np.ndarray:
    """Index of the nearest grid value to float32 x (ggml's ``best_index_int8``: on a tie the upper one).

    >>> best_index(np.array([-200, 0.9, 7.0, 500, -4.5, -4.6], np.float32)).tolist()   # -4.5: a tie, goes up
    [0, 8, 9, 15, 8, 7]
    """
    j = np.floor(np.asarray(x, F32) * F32(2))
    j = np.fmin(j, F32(255), out=j)  # NaN -> 255 -> index 15, as C's binary search ends there
    np.maximum(j, F32(-256), out=j)
    return _LUT[j.astype(np.int16) + 256]


def _block_scales(xs: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per 32-value column of xs (32, B): the searched float32 scale d and whether the block is all ~zero."""
    amax, mx = first_absmax(xs)
    zero = amax < GROUP_MAX_EPS
    safe = np.where(zero, F32(1), mx).astype(F32)
    d = (-safe / F32(VALUES[0])).astype(F32)
    q = _VF[best_index((F32(1) / d) * xs)]
    wq = w * q
    sumqx, sumq2 = seqsum(wq * xs), seqsum(wq * q)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(sumq2 > 0, sumqx / sumq2, F32(0)).astype(F32)
        best = d * sumqx
        for itry in range(-NTRY, NTRY + 1):
            inv = (F32(itry + int(VALUES[0])) / safe).astype(F32)
            q = _VF[best_index(inv * xs)]
            wq = w * q
            sqx, sq2 = seqsum(wq * xs), seqsum(wq * q)
            better = (sq2 > 0) & (sqx * sqx > best * sq2)
            if better.any():
                nd = (sqx / sq2).astype(F32)
                d = np.where(better, nd, d)
                best = np.where(better, nd * sqx, best)
    return np.where(zero, F32(0), d).astype(F32), zero


def _weights(x: np.ndarray, qw: np.ndarray | None) -> np.ndarray:
    """x (nb, size) super-blocks -> weights as (32, nb·size/32) columns."""
    cols = np.ascontiguousarray(x.reshape(-1, 32).T)
    if qw is None:
        return (cols * cols).astype(F32)
    sigma2 = (seqsum(np.ascontiguousarray(x.T) ** 2) * F32(2.0 / x.shape[1])).astype(F32)
    s2 = np.repeat(sigma2, x.shape[1] // 32)[None, :]
    return (np.ascontiguousarray(qw.reshape(-1, 32).T) * np.sqrt(s2 + cols * cols)).astype(F32)


def _pack_nibbles32(lq: np.ndarray) -> np.ndarray:
    b = lq.reshape(-1, 2, 16)
    return (b[:, 0] | (b[:, 1] << 4)).astype(np.uint8)


def _f16(v: np.ndarray) -> np.ndarray:
    return np.asarray(v, F32).astype(np.float16).reshape(-1, 1).view(np.uint8).reshape(-1, 2)


def encode_iq4_nl(x: np.ndarray, qw: np.ndarray | None = None) -> np.ndarray:
    """(nb, 32) float32 [+ weights] -> (nb, 18) bytes: float16 d, 16 nibble bytes."""
    cols = np.ascontiguousarray(x.T)
    d, _ = _block_scales(cols, _weights(x, qw))
    with np.errstate(divide="ignore"):
        inv = np.where(d != 0, F32(1) / d, F32(0)).astype(F32)
    lq = best_index(inv[:, None] * x)
    return np.concatenate([_f16(d), _pack_nibbles32(lq).reshape(-1, 16)], axis=1)


def encode_iq4_xs(x: np.ndarray, qw: np.ndarray | None = None) -> np.ndarray:
    """(nsb, 256) float32 [+ weights] -> (nsb, 136): float16 d, uint16 scales_h, 4 bytes scales_l, 128 nibbles."""
    nsb = x.shape[0]
    cols = np.ascontiguousarray(x.reshape(-1, 32).T)
    d, _ = _block_scales(cols, _weights(x, qw))
    s8 = d.reshape(nsb, 8)
    a = np.abs(s8)
    idx = a.argmax(axis=1)
    max_scale = np.where(a[np.arange(nsb), idx] > 0, s8[np.arange(nsb), idx], F32(0)).astype(F32)
    dsb = (-max_scale / F32(32)).astype(F32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv = np.where(dsb != 0, F32(1) / dsb, F32(0)).astype(F32)
        lsub = np.clip(nearest_int(inv[:, None] * s8), -32, 31)
        dl = (dsb[:, None] * lsub.astype(F32)).astype(F32)
        idl = np.where(dl != 0, F32(1) / dl, F32(0)).astype(F32)
        lq = best_index(idl[:, :, None] * x.reshape(nsb, 8, 32))
    u = (lsub + 32).astype(np.int32)
    scales_l = ((u[:, 0::2] & 0xF) | ((u[:, 1::2] & 0xF) << 4)).astype(np.uint8)
    scales_h = np.bitwise_or.reduce((u >> 4) << (2 * np.arange(8)), axis=1).astype("<u2")
    return np.concatenate(
        [
            _f16(dsb),
            scales_h.reshape(-1, 1).view(np.uint8),
            scales_l,
            _pack_nibbles32(lq.reshape(-1, 32)).reshape(nsb, 128),
        ],
        axis=1,
    )


def decode_iq4_nl(data: np.ndarray) -> np.ndarray:
    """(nb, 18) bytes -> (nb, 32) float32 as ggml's dequantize_row_iq4_nl (d · grid value)."""
    d = np.ascontiguousarray(data[:, :2]).view(np.float16).astype(F32)
    q = data[:, 2:]
    idx = np.concatenate([q & 0xF, q >> 4], axis=1)
    return (d * _VF[idx]).astype(F32)


def decode_iq4_xs(data: np.ndarray) -> np.ndarray:
    """(nsb, 136) bytes -> (nsb, 256) float32 as ggml's dequantize_row_iq4_xs (d·(ls − 32) · grid value)."""
    nsb = data.shape[0]
    d = np.ascontiguousarray(data[:, :2]).view(np.float16).astype(F32)
    h = np.ascontiguousarray(data[:, 2:4]).view("<u2").astype(np.int32)
    low = data[:, 4:8].astype(np.int32)
    ib = np.arange(8)
    ls = ((low[:, ib // 2] >> (4 * (ib % 2))) & 0xF) | (((h >> (2 * ib)) & 3) << 4)
    dl = (d * (ls - 32).astype(F32)).astype(F32)
    q = data[:, 8:].reshape(nsb, 8, 16)
    idx = np.concatenate([q & 0xF, q >> 4], axis=2)
    return (dl[:, :, None] * _VF[idx]).reshape(nsb, 256).astype(F32)


def codes(data: np.ndarray, name: str) -> np.ndarray:
    """The 4-bit grid indices of each block in value order (for the page's per-value table)."""
    q = data[:, 2:] if name == "IQ4_NL" else data[:, 8:].reshape(-1, 16)
    return np.concatenate([q & 0xF, q >> 4], axis=1).reshape(data.shape[0], -1).astype(np.int64)
