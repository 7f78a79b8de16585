"""Encoding llama.cpp's K-quants Q2_K … Q6_K byte for byte, without and with an importance matrix.

What ``ggml_quantize_chunk`` does for each type (read from ggml-quants.c, rewritten in numpy):

- **without** an importance vector it runs the reference row quantizer (``quantize_row_q*_K_ref``): per sub-block
  a weighted min/scale search (Q2_K, Q4_K, Q5_K: ``make_qkx2_quants`` with weights |x| or rms + |x|) or a
  symmetric one (Q3_K: ``make_q3_quants``; Q6_K: ``make_qx_quants`` with weights x²), then the sub-block scales
  (and mins) are themselves quantized to 4, 6 or 8 bits against the largest one, stored as float16 d (and dmin);
- **with** one (``quant_weights``, one weight per column of the row) it runs ``quantize_row_q*_K_impl``: the
  weights become imatrix · sqrt(σ² + x²), the min/scale search is ``make_qkx3_quants`` (37 candidates), and the
  sub-block scales are quantized by a weighted search of their own (``make_qp_quants`` / ``make_qx_quants``);
- in both, every code is then chosen again against the *stored* (float16 × 6-bit) scales.

Super-block = 256 values. Sub-blocks: 8 × 32 (Q4_K, Q5_K) or 16 × 16 (Q2_K, Q3_K, Q6_K). Byte layouts are
ggml-common.h's and the decoders in :mod:`quantviz.blocks.kquants` read them back.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.blocks.kq_search import (
    F32,
    f16_round,
    make_q3,
    make_qkx,
    make_qp,
    make_qx,
    nearest_f,
    nearest_int,
    seqsum,
)
from quantviz.blocks.kquants import q3_scales, scales_and_mins

QK_K = 256
CHUNK_SUPERBLOCKS = 256  # 65 536 values per pass: the temporaries stay in cache


def _cols(x: np.ndarray, sub: int) -> np.ndarray:
    """(nsb, 256) -> (sub, nsb·256/sub): one column per sub-block, super-block-major."""
    return np.ascontiguousarray(x.reshape(-1, sub).T)


def _per_sb(v: np.ndarray, nsb: int) -> np.ndarray:
    """(nsb·k,) per-sub-block values -> (k, nsb), so sums over a super-block's sub-blocks are sequential."""
    return np.ascontiguousarray(v.reshape(nsb, -1).T)


def _rows(lq: np.ndarray, nsb: int) -> np.ndarray:
    """Codes (sub, nsb·k) back to (nsb, 256) in value order."""
    return np.ascontiguousarray(lq.T).reshape(nsb, QK_K)


def _f16_bytes(v: np.ndarray) -> np.ndarray:
    return np.asarray(v, F32).astype(np.float16).reshape(-1, 1).view(np.uint8).reshape(-1, 2)


def _sb_sigma2(x: np.ndarray, factor: int) -> np.ndarray:
    """factor·Σx²/256 per super-block, the sum sequential over the 256 values, as (nsb,)."""
    total = seqsum(np.ascontiguousarray(x.T) ** 2)
    if factor != 1:
        total = (F32(factor) * total).astype(F32)
    return (total / F32(QK_K)).astype(F32)


def _imatrix_weights(x: np.ndarray, qw: np.ndarray, sigma2: np.ndarray, sub: int) -> np.ndarray:
    """imatrix · sqrt(σ² + x²), as sub-block columns."""
    s2 = np.repeat(sigma2, QK_K // sub)[None, :]
    xs = _cols(x, sub)
    return (_cols(qw, sub) * np.sqrt(s2 + xs * xs)).astype(F32)


def _pack_scales_k4(ls: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """Eight 6-bit scales and mins (uint8, (nsb, 8)) into the 12-byte field as the C writes it (full bytes, j < 4)."""
    ls, lm = ls.astype(np.int32), lm.astype(np.int32)
    out = np.zeros((ls.shape[0], 12), np.int32)
    out[:, 0:4] = ls[:, :4]
    out[:, 4:8] = lm[:, :4]
    out[:, 8:12] = (ls[:, 4:] & 0xF) | ((lm[:, 4:] & 0xF) << 4)
    out[:, 0:4] |= (ls[:, 4:] >> 4) << 6
    out[:, 4:8] |= (lm[:, 4:] >> 4) << 6
    return (out & 0xFF).astype(np.uint8)


def _requantize_affine(
    x: np.ndarray, lq: np.ndarray, d: np.ndarray, dmin: np.ndarray, sc: np.ndarray, mn: np.ndarray, sub: int, top: int
) -> np.ndarray:
    """Choose every code again against the stored scales: l = nearest((x + dmin·m)/(d·sc)) in [0, top].

    x (nsb, 256); L (nsb, 256) float codes from the search, kept where d·sc is 0; d, dmin (nsb,); sc, mn (nsb, k).
    """
    nsb = x.shape[0]
    dl = (d[:, None] * sc.astype(F32)).astype(F32)
    ml = (dmin[:, None] * mn.astype(F32)).astype(F32)
    xb = x.reshape(nsb, -1, sub)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.clip(nearest_f((xb + ml[:, :, None]) / dl[:, :, None]), 0, top)
    return np.where(dl[:, :, None] == 0, lq.reshape(nsb, -1, sub), q).reshape(nsb, QK_K).astype(np.uint8)


# ----------------------------------------------------------------------------- the first stage: each sub-block's search
class Search(NamedTuple):
    """Each sub-block's own float32 scale (and min) before they are quantized against the super-block's d (dmin)."""

    scales: np.ndarray  # (k, nsb)
    mins: np.ndarray | None  # (k, nsb): the offset subtracted, for the types with one
    codes: np.ndarray  # (sub, nsb·k) codes of the search, kept where the stored scale is 0
    sw: np.ndarray | None  # (k, nsb) sum of weights per sub-block (importance path)


SUB = {"Q2_K": 16, "Q3_K": 16, "Q4_K": 32, "Q5_K": 32, "Q6_K": 16}


def search(x: np.ndarray, name: str, qw: np.ndarray | None = None) -> Search:
    """Run the sub-block search of K-quant ``name`` on (nsb, 256) super-blocks, as the encoder does first.

    >>> s = search(np.linspace(-1, 3, 256, dtype=np.float32)[None, :], "Q4_K")
    >>> s.scales.shape, bool((s.mins >= 0).all())
    ((8, 1), True)
    """
    nsb, sub = x.shape[0], SUB[name]
    xs = _cols(x, sub)
    mins = sw = None
    if name == "Q6_K":
        scales, lq = make_qx(xs, 32, 1, None if qw is None else _cols(qw, sub))
    elif qw is None and name in ("Q4_K", "Q5_K"):
        av = np.sqrt(seqsum(xs * xs) / F32(32)).astype(F32)
        rmin, nstep = (-1.0, 20) if name == "Q4_K" else (-0.5, 15)
        scales, mins, lq = make_qkx(
            xs,
            (av[None, :] + np.abs(xs)).astype(F32),
            15 if name == "Q4_K" else 31,
            rmin,
            0.1,
            nstep,
            use_mad=False,
            strict_equal=True,
        )
    elif qw is None and name == "Q2_K":
        scales, mins, lq = make_qkx(xs, np.abs(xs), 3, -0.5, 0.1, 15, use_mad=True, strict_equal=True)
    elif qw is None:  # Q3_K
        scales, lq = make_q3(xs, 4)
    else:
        w = _imatrix_weights(x, qw, _sb_sigma2(x, 1 if name == "Q2_K" else 2), sub)
        sw = _per_sb(seqsum(w), nsb)
        if name == "Q3_K":
            scales, lq = make_qx(xs, 4, 1, w)
        else:
            nmax = {"Q2_K": 3, "Q4_K": 15, "Q5_K": 31}[name]
            scales, mins, lq = make_qkx(xs, w, nmax, -0.9, 0.05, 36, use_mad=False, strict_equal=False)
    return Search(scales=_per_sb(scales, nsb), mins=None if mins is None else _per_sb(mins, nsb), codes=lq, sw=sw)


# ----------------------------------------------------------------------------- Q4_K and Q5_K: 8 × 32, scale and min
def _q45_scales(x: np.ndarray, qw: np.ndarray | None, nmax: int) -> tuple[np.ndarray, ...]:
    """Shared by Q4_K and Q5_K: (12 scale bytes, float16 d, dmin as float32, codes (nsb, 256))."""
    nsb = x.shape[0]
    found = search(x, "Q4_K" if nmax == 15 else "Q5_K", qw)
    lq = found.codes
    if qw is None:
        sc8, mn8 = found.scales, found.mins
        max_scale = np.maximum(sc8.max(axis=0), F32(0))
        max_min = np.maximum(mn8.max(axis=0), F32(0))
        with np.errstate(divide="ignore"):
            inv_s = np.where(max_scale > 0, F32(63) / max_scale, F32(0)).astype(F32)
            inv_m = np.where(max_min > 0, F32(63) / max_min, F32(0)).astype(F32)
        ls = np.minimum(nearest_int(inv_s * sc8) & 0xFF, 63).T
        lm = np.minimum(nearest_int(inv_m * mn8) & 0xFF, 63).T
        d_val, m_val = (max_scale / F32(63)).astype(F32), (max_min / F32(63)).astype(F32)
    else:
        d_val, lsc = make_qp(found.scales, 63, found.sw)
        m_val, lmn = make_qp(found.mins, 63, found.sw)
        ls, lm = lsc.T.astype(np.int32), lmn.T.astype(np.int32)
        if nmax == 31:  # Q5_K's impl clamps to 63, Q4_K's does not (make_qp never exceeds it)
            ls, lm = np.minimum(ls, 63), np.minimum(lm, 63)
    packed = _pack_scales_k4(ls, lm)
    d, dmin = f16_round(d_val), f16_round(m_val)
    sc, mn = scales_and_mins(packed)
    codes = _requantize_affine(x, _rows(lq, nsb), d, dmin, sc, mn, 32, nmax)
    return packed, d_val, m_val, codes


def encode_q4_k(x: np.ndarray, qw: np.ndarray | None = None) -> np.ndarray:
    """(nsb, 256) float32 [+ (nsb, 256) weights] -> (nsb, 144) bytes: d, dmin, 12 scale bytes, 128 nibble bytes."""
    packed, d, m, lq = _q45_scales(x, qw, 15)
    qs = (lq.reshape(-1, 4, 2, 32)[:, :, 0] | (lq.reshape(-1, 4, 2, 32)[:, :, 1] << 4)).reshape(-1, 128)
    return np.concatenate([_f16_bytes(d), _f16_bytes(m), packed, qs], axis=1)


def encode_q5_k(x: np.ndarray, qw: np.ndarray | None = None) -> np.ndarray:
    """(nsb, 256) -> (nsb, 176): d, dmin, 12 scale bytes, 32 bytes of fifth bits, 128 nibble bytes."""
    packed, d, m, lq = _q45_scales(x, qw, 31)
    pairs = lq.reshape(-1, 4, 2, 32)
    low = pairs & 0x0F
    qs = (low[:, :, 0] | (low[:, :, 1] << 4)).reshape(-1, 128)
    high = (pairs >> 4).astype(np.uint8).reshape(-1, 8, 32)  # sub-block k's fifth bits go to bit k
    qh = np.bitwise_or.reduce(high << np.arange(8, dtype=np.uint8)[None, :, None], axis=1).astype(np.uint8)
    return np.concatenate([_f16_bytes(d), _f16_bytes(m), packed, qh, qs], axis=1)


# ----------------------------------------------------------------------------- Q6_K: 16 × 16, symmetric, int8 scales
def _pack_2bit(lq: np.ndarray) -> np.ndarray:
    """(nsb, 256) 2-bit codes -> (nsb, 64): byte l of half h holds values 128h + l + 32k in bits 2k."""
    q = lq.reshape(-1, 2, 4, 32).astype(np.uint8)
    return (q[:, :, 0] | (q[:, :, 1] << 2) | (q[:, :, 2] << 4) | (q[:, :, 3] << 6)).reshape(-1, 64)


def encode_q6_k(x: np.ndarray, qw: np.ndarray | None = None) -> np.ndarray:
    """(nsb, 256) -> (nsb, 210): 128 bytes of low nibbles, 64 of high pairs, 16 int8 scales, float16 d."""
    nsb = x.shape[0]
    found = search(x, "Q6_K", qw)
    s16, lq = found.scales, found.codes
    a = np.abs(s16)
    idx = a.argmax(axis=0)
    max_abs = a[idx, np.arange(nsb)]
    max_scale = s16[idx, np.arange(nsb)]
    empty = max_abs < F32(1e-15)
    with np.errstate(divide="ignore", invalid="ignore"):
        iscale = (F32(-128) / np.where(empty, F32(1), max_scale)).astype(F32)
        d_val = (F32(1) / iscale).astype(F32)
        sc = np.minimum(nearest_int(iscale * s16), 127).astype(np.int8).T  # (nsb, 16)
        dl = (f16_round(d_val)[:, None] * sc.astype(F32)).astype(F32)
        q = np.clip(nearest_f(x.reshape(nsb, 16, 16) / dl[:, :, None]), -32, 31) + 32
    codes = np.where(dl[:, :, None] == 0, _rows(lq, nsb).reshape(nsb, 16, 16), q).reshape(nsb, QK_K).astype(np.uint8)
    c = codes.reshape(nsb, 2, 4, 32)
    low = c & 0xF
    ql = np.concatenate([low[:, :, 0] | (low[:, :, 2] << 4), low[:, :, 1] | (low[:, :, 3] << 4)], axis=2).reshape(
        nsb, 128
    )
    qh = _pack_2bit((codes >> 4).astype(np.uint8))
    out = np.concatenate([ql, qh, sc.view(np.uint8), _f16_bytes(d_val)], axis=1)
    out[empty] = 0
    return out


# ----------------------------------------------------------------------------- Q3_K: 16 × 16, symmetric, 6-bit scales
def _pack_scales_q3(codes6: np.ndarray) -> np.ndarray:
    """Sixteen 6-bit scale codes (nsb, 16) into 12 bytes: low nibbles in 0–7, top 2 bits in 8–11."""
    c = codes6.astype(np.int32)
    out = np.zeros((c.shape[0], 12), np.int32)
    out[:, :8] = (c[:, :8] & 0xF) | ((c[:, 8:] & 0xF) << 4)
    hi = (c >> 4) & 3
    for j in range(16):
        out[:, 8 + j % 4] |= hi[:, j] << (2 * (j // 4))
    return (out & 0xFF).astype(np.uint8)


def encode_q3_k(x: np.ndarray, qw: np.ndarray | None = None) -> np.ndarray:
    """(nsb, 256) -> (nsb, 110): 32 bytes of high bits, 64 bytes of 2-bit codes, 12 scale bytes, float16 d."""
    nsb = x.shape[0]
    found = search(x, "Q3_K", qw)
    lq = found.codes
    if qw is None:
        s16 = found.scales
        a = np.abs(s16)
        idx = a.argmax(axis=0)
        max_scale = s16[idx, np.arange(nsb)]
        has = max_scale != 0
        with np.errstate(divide="ignore", invalid="ignore"):
            iscale = (F32(-32) / np.where(has, max_scale, F32(1))).astype(F32)
            l8 = nearest_int(iscale * s16).astype(np.int8).astype(np.int32)  # C stores it in an int8 first
        ls = (np.clip(l8, -32, 31) + 32).T
        ls = np.where(has[:, None], ls, 0)
        packed = np.where(has[:, None], _pack_scales_q3(ls), 0).astype(np.uint8)
        with np.errstate(divide="ignore"):
            d_val = np.where(has, F32(1) / iscale, F32(0)).astype(F32)
    else:
        d_val, lsc = make_qx(found.scales, 32, 1, found.sw)
        packed = _pack_scales_q3(lsc.T)
    sc = q3_scales(packed)
    dl = (f16_round(d_val)[:, None] * sc.astype(F32)).astype(F32)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.clip(nearest_f(x.reshape(nsb, 16, 16) / dl[:, :, None]), -4, 3) + 4
    codes = np.where(dl[:, :, None] == 0, _rows(lq, nsb).reshape(nsb, 16, 16), q).reshape(nsb, QK_K).astype(np.uint8)
    hbit = (codes > 3).reshape(nsb, 8, 32).astype(np.uint8)  # value 32k + m -> bit k of byte m
    hmask = np.bitwise_or.reduce(hbit << np.arange(8, dtype=np.uint8)[None, :, None], axis=1).astype(np.uint8)
    return np.concatenate([hmask, _pack_2bit(codes & 3), packed, _f16_bytes(d_val)], axis=1)


# ----------------------------------------------------------------------------- Q2_K: 16 × 16, 4-bit scales and mins
def encode_q2_k(x: np.ndarray, qw: np.ndarray | None = None) -> np.ndarray:
    """(nsb, 256) -> (nsb, 84): 16 bytes of 4-bit scale|min pairs, 64 bytes of 2-bit codes, float16 d, dmin."""
    nsb = x.shape[0]
    found = search(x, "Q2_K", qw)
    lq = found.codes
    if qw is None:
        sc16, mn16 = found.scales, found.mins
        max_scale = np.maximum(sc16.max(axis=0), F32(0))
        max_min = np.maximum(mn16.max(axis=0), F32(0))
        with np.errstate(divide="ignore", invalid="ignore"):
            ls = np.where(max_scale > 0, nearest_int((F32(15) / max_scale) * sc16), 0)
            lm = np.where(max_min > 0, nearest_int((F32(15) / max_min) * mn16), 0)
        byte = ((ls | (lm << 4)) & 0xFF).T.astype(np.uint8)
        d_val = np.where(max_scale > 0, max_scale / F32(15), F32(0)).astype(F32)
        m_val = np.where(max_min > 0, max_min / F32(15), F32(0)).astype(F32)
    else:
        d_val, lsc = make_qp(found.scales, 15, found.sw)
        m_val, lmn = make_qp(found.mins, 15, found.sw)
        byte = ((lsc.astype(np.int32) | (lmn.astype(np.int32) << 4)) & 0xFF).T.astype(np.uint8)
    d, dmin = f16_round(d_val), f16_round(m_val)
    codes = _requantize_affine(x, _rows(lq, nsb), d, dmin, byte & 0xF, byte >> 4, 16, 3)
    return np.concatenate([byte, _pack_2bit(codes), _f16_bytes(d_val), _f16_bytes(m_val)], axis=1)


ENCODERS = {"Q2_K": encode_q2_k, "Q3_K": encode_q3_k, "Q4_K": encode_q4_k, "Q5_K": encode_q5_k, "Q6_K": encode_q6_k}


def encode_superblocks(x: np.ndarray, name: str, qw: np.ndarray | None = None) -> np.ndarray:
    """Encode (nsb, 256) float32 super-blocks (weights (nsb, 256) or None) a cache-sized chunk at a time."""
    enc = ENCODERS[name]
    parts = [
        enc(x[s : s + CHUNK_SUPERBLOCKS], None if qw is None else qw[s : s + CHUNK_SUPERBLOCKS])
        for s in range(0, x.shape[0], CHUNK_SUPERBLOCKS)
    ]
    return np.concatenate(parts, axis=0)
