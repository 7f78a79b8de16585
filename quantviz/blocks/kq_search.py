"""The float32 searches behind llama.cpp's K-quants and IQ4, vectorised over sub-blocks.

Each function is one of ggml-quants.c's helpers, rewritten in numpy from reading it (never copied), with the
float32 arithmetic in ggml's order where it decides a code:

- sums are sequential (``acc += term`` from the first element on), done here as a reduction over axis 0 of a
  C-contiguous (n, blocks) array, which numpy adds row after row (pairwise summation only happens along the
  contiguous axis);
- products keep C's left-to-right grouping (``w*l*x`` is ``(w*l)*x``); no fused multiply-add (ggml-base is built
  for plain x86-64, without FMA);
- ``nearest_int`` is the magic-number trick (add 1.5·2²³ and read the mantissa): round half to even inside
  ±4194303, and the same garbage bits as C outside it (C only asserts, and asserts are compiled out).

Layout convention: values arrive as (n, B) float32, element index first, one column per sub-block, so every
reduction is sequential and every elementwise step is one wide numpy operation. "Loops" below run over the fixed
element count (16 or 32) or candidate count, never over blocks.
"""

from __future__ import annotations

import numpy as np

F32, I32 = np.float32, np.int32
GROUP_MAX_EPS = F32(1e-15)
MAGIC = F32(12582912.0)  # 1.5 · 2**23


def nearest_int(v: np.ndarray) -> np.ndarray:
    """Return ggml's ``nearest_int`` of float32 ``v`` as int32 (round half to even in its valid range).

    >>> nearest_int(np.array([0.5, 1.5, -2.5, 2.4999998], np.float32)).tolist()
    [0, 2, -2, 2]
    """
    val = (np.asarray(v, F32) + MAGIC).astype(F32)
    return (val.view(I32) & I32(0x007FFFFF)) - I32(0x00400000)


def nearest_f(v: np.ndarray) -> np.ndarray:
    """``nearest_int`` as exact float32 integers: np.rint where that is provably the same, else the bit trick."""
    v = np.asarray(v, F32)
    r = np.rint(v)
    if np.isfinite(v).all() and (np.abs(r).max(initial=0) <= 4194303):
        return r
    return nearest_int(v).astype(F32)


def seqsum(a: np.ndarray) -> np.ndarray:
    """Sequential float32 sum over axis 0 (C's ``for (i...) s += a[i]`` starting from 0).

    numpy adds row after row only when axis 0 is the outer loop: the array must be C-contiguous with more than
    one column (a single column is summed pairwise, so it goes through ``accumulate``, which never reorders).

    >>> a = np.array([[1e8], [1.0], [-1e8], [1.0]] * 4, np.float32)
    >>> float(seqsum(a)[0]), float(seqsum(np.hstack([a, a]))[1])
    (1.0, 1.0)
    """
    a = np.ascontiguousarray(a, dtype=F32)
    if a.ndim == 2 and a.shape[1] == 1:
        return np.add.accumulate(a, axis=0, dtype=F32)[-1]
    return np.add.reduce(a, axis=0, dtype=F32)


def first_absmax(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: amax = max |x| and the first x reaching it (C's ``if (ax > amax)`` scan from 0)."""
    ax = np.abs(x)
    idx = ax.argmax(axis=0)
    cols = np.arange(x.shape[1])
    return ax[idx, cols], x[idx, cols]


def _rint_safe(isc: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
    """Whether isc·v for v in [lo, hi] (per column) stays finite and inside nearest_int's exact range."""
    with np.errstate(over="ignore", invalid="ignore"):
        bound = np.abs(isc) * np.maximum(np.abs(lo), np.abs(hi))
    return bool(np.isfinite(bound).all() and bound.max(initial=0) < 4.0e6)


def _weighted_error(
    x: np.ndarray, w: np.ndarray, scale: np.ndarray, the_min: np.ndarray, q: np.ndarray, tmp: np.ndarray, mad: bool
) -> np.ndarray:
    """make_qkx's error of codes q under (scale, min): Σ w·|scale·q + min − x| (``mad``) or Σ w·(…)², in C's order.

    ``tmp`` is a scratch buffer of x's shape (overwritten).
    """
    np.multiply(q, scale, out=tmp)
    np.add(tmp, the_min, out=tmp)
    np.subtract(tmp, x, out=tmp)
    if mad:
        np.abs(tmp, out=tmp)
    else:
        np.multiply(tmp, tmp, out=tmp)
    np.multiply(tmp, w, out=tmp)
    return seqsum(tmp)


def _weighted_fit(
    x: np.ndarray, w: np.ndarray, la: np.ndarray, sum_w: np.ndarray, sum_x: np.ndarray, wl: np.ndarray, tmp: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return make_qkx's weighted least-squares (scale, min) of x ≈ scale·L + min for codes L, and where det > 0.

    A positive min is set to 0 and the scale refit through the origin, as in C. ``wl`` and ``tmp`` are scratch
    buffers of x's shape (overwritten).
    """
    np.multiply(w, la, out=wl)
    sum_l = seqsum(wl)
    np.multiply(wl, la, out=tmp)
    sum_l2 = seqsum(tmp)
    np.multiply(wl, x, out=tmp)
    sum_xl = seqsum(tmp)
    det = sum_w * sum_l2 - sum_l * sum_l
    this_scale = (sum_w * sum_xl - sum_x * sum_l) / det
    this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det
    pos = this_min > 0
    this_min = np.where(pos, F32(0), this_min).astype(F32)
    this_scale = np.where(pos, sum_xl / sum_l2, this_scale).astype(F32)
    return this_scale, this_min, det > 0


def make_qkx(
    x: np.ndarray, w: np.ndarray, nmax: int, rmin: float, rdelta: float, nstep: int, use_mad: bool, strict_equal: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least-squares scale and min search of ``make_qkx2_quants`` (``strict_equal``) / ``make_qkx3_quants``.

    x, w: (n, B) float32. Returns (scale (B,), the_min (B,) = −min, codes L (n, B) float32 in [0, nmax]).
    The two C functions differ only in the degenerate test (``max == min`` versus ``max <= min``), which after
    ``min = min(min, 0)`` give the same verdict for finite input; the flag is kept to say which one runs.
    As in C, once a candidate wins, the later candidates are measured from its min (x − min, max − min).
    Products are written b·a where C writes a·b when that saves a buffer: IEEE multiplication commutes exactly.
    """
    del strict_equal  # both tests agree on finite data: max >= min always holds
    xmin = x.min(axis=0)
    mn = np.minimum(xmin, F32(0))
    mx = x.max(axis=0)
    sum_w = seqsum(w)
    # sum_x starts at w[0]*x[0] and adds w[i]*x[i]: the same sequential sum of the products
    sum_x = seqsum(w * x)
    flat = mx <= mn
    rng = np.where(flat, F32(1), mx - mn).astype(F32)
    xm = (x - mn).astype(F32)
    la, tmp, wl = np.empty_like(x), np.empty_like(x), np.empty_like(x)

    def codes(isc: np.ndarray, best_min: np.ndarray, out: np.ndarray) -> np.ndarray:
        if _rint_safe(isc, xmin - best_min, mx - best_min):
            np.multiply(xm, isc, out=out)
            np.rint(out, out=out)
        else:
            out[...] = nearest_int(isc * xm)
        return np.clip(out, 0, nmax, out=out)

    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        iscale = (F32(nmax) / rng).astype(F32)
        scale = (F32(1) / iscale).astype(F32)
        best_min = mn
        lq = codes(iscale, best_min, np.empty_like(x))
        best = _weighted_error(x, w, scale, mn, lq, tmp, use_mad)
        for step in range(nstep + 1):
            num = F32(F32(F32(rmin) + F32(F32(rdelta) * F32(step))) + F32(nmax))
            isc = (num / rng).astype(F32)
            codes(isc, best_min, la)
            this_scale, this_min, ok = _weighted_fit(x, w, la, sum_w, sum_x, wl, tmp)
            cur = _weighted_error(x, w, this_scale, this_min, la, tmp, use_mad)
            better = ok & (cur < best)
            if better.any():
                np.copyto(lq, la, where=better[None, :])
                best = np.where(better, cur, best)
                scale = np.where(better, this_scale, scale)
                best_min = np.where(better, this_min, best_min).astype(F32)
                # C keeps scanning with the improved min: later candidates measure from it
                rng = np.where(flat, F32(1), mx - best_min).astype(F32)
                np.subtract(x, best_min, out=xm)
    scale = np.where(flat, F32(0), scale).astype(F32)
    lq[:, flat] = 0
    return scale, (-best_min).astype(F32), lq


def make_qx(x: np.ndarray, nmax: int, rmse_type: int, qw: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``make_qx_quants``: symmetric scale search around −nmax/max (19 candidates). x (n, B).

    Returns (scale (B,), L (n, B) int32 in [0, 2·nmax − 1]). Only rmse_type 1 (weights x², or ``qw``) is used by
    the K-quants, so only it is written.
    """
    if rmse_type != 1:
        raise ValueError(f"rmse_type {rmse_type} is not used by any K-quant; only 1 is implemented")
    amax, mx = first_absmax(x)
    zero = amax < GROUP_MAX_EPS
    safe = np.where(zero, F32(1), mx).astype(F32)
    w = (x * x).astype(F32) if qw is None else qw
    iscale = (F32(-nmax) / safe).astype(F32)
    lf = np.clip(nearest_f(iscale * x), -nmax, nmax - 1).astype(F32)
    wx = w * x
    sumlx = seqsum(wx * lf)
    suml2 = seqsum(w * lf * lf)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(suml2 != 0, sumlx / suml2, F32(0)).astype(F32)
    best = scale * sumlx
    lq = lf
    for step in range(-9, 10):
        if step == 0:
            continue
        isc = (F32(-F32(F32(nmax) + F32(F32(0.1) * F32(step)))) / safe).astype(F32)
        lc = np.clip(nearest_f(isc * x), -nmax, nmax - 1).astype(F32)
        slx = seqsum(wx * lc)
        sl2 = seqsum(w * lc * lc)
        better = (sl2 > 0) & (slx * slx > best * sl2)
        if better.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                new_scale = (slx / sl2).astype(F32)
            lq = np.where(better, lc, lq)
            scale = np.where(better, new_scale, scale)
            best = np.where(better, new_scale * slx, best)
    lq = np.where(zero, F32(-nmax), lq)  # all-zero groups store code 0 (lq + nmax below)
    scale = np.where(zero, F32(0), scale).astype(F32)
    return scale, (lq + F32(nmax)).astype(I32)


def make_q3(x: np.ndarray, nmax: int) -> tuple[np.ndarray, np.ndarray]:
    """``make_q3_quants`` with do_rmse: start from −nmax/max, then up to 5 sweeps moving one code at a time.

    Returns (scale (B,), L (n, B) int32 in [0, 2·nmax − 1]).
    """
    n = x.shape[0]
    amax, mx = first_absmax(x)
    zero = amax < GROUP_MAX_EPS
    safe = np.where(zero, F32(1), mx).astype(F32)
    iscale = (F32(-nmax) / safe).astype(F32)
    lq = np.clip(nearest_f(iscale * x), -nmax, nmax - 1).astype(F32)
    w = (x * x).astype(F32)
    wx = w * x
    sumlx = seqsum(wx * lq)
    suml2 = seqsum(w * lq * lq)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(5):  # a column with no change in a sweep never changes again: running all 5 is the same
            for i in range(n):
                slx = sumlx - wx[i] * lq[i]
                sl2 = suml2 - w[i] * lq[i] * lq[i]
                cand = slx > 0
                new_l = np.clip(nearest_f(np.where(cand, x[i] * sl2 / slx, F32(0))), -nmax, nmax - 1).astype(F32)
                cand &= new_l != lq[i]
                slx2 = slx + wx[i] * new_l
                sl22 = sl2 + w[i] * new_l * new_l
                take = cand & (sl22 > 0) & (slx2 * slx2 * suml2 > sumlx * sumlx * sl22)
                lq[i] = np.where(take, new_l, lq[i])
                sumlx = np.where(take, slx2, sumlx).astype(F32)
                suml2 = np.where(take, sl22, suml2).astype(F32)
        scale = np.where(suml2 > 0, sumlx / suml2, F32(0)).astype(F32)
    lq = np.where(zero, F32(-nmax), lq)
    scale = np.where(zero, F32(0), scale).astype(F32)
    return scale, (lq + F32(nmax)).astype(I32)


def make_qp(x: np.ndarray, nmax: int, qw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``make_qp_quants``: quantize non-negative sub-block scales (n, B) to [0, nmax] against one float scale.

    A 9-candidate weighted search for the inverse scale, then up to 5 sweeps moving one code at a time.
    Returns (scale (B,), L (n, B) uint8 as C stores it).
    """
    n = x.shape[0]
    mx = np.maximum(x.max(axis=0), F32(0))
    zero = mx < GROUP_MAX_EPS
    safe = np.where(zero, F32(1), mx).astype(F32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        iscale = (F32(nmax) / safe).astype(F32)
        l0 = nearest_int(iscale * x)
        stored = (l0 & 0xFF).astype(F32)  # lq is uint8 in C: best_mse reads it back wrapped
        scale = (F32(1) / iscale).astype(F32)
        diff = x - scale * stored
        best = seqsum(qw * diff * diff)
        for step in range(-4, 5):
            if step == 0:
                continue
            isc = (F32(F32(F32(0.1) * F32(step)) + F32(nmax)) / safe).astype(F32)
            sc = (F32(1) / isc).astype(F32)
            lc = np.minimum(nearest_int(isc * x), nmax).astype(F32)
            diff = x - sc * lc
            mse = seqsum(qw * diff * diff)
            better = mse < best
            best = np.where(better, mse, best)
            iscale = np.where(better, isc, iscale).astype(F32)
        li = np.minimum(nearest_int(iscale * x), nmax)
        lf = li.astype(F32)
        wx = qw * x
        sumlx = seqsum(wx * lf)
        suml2 = seqsum(qw * lf * lf)
        lq = (li & 0xFF).astype(F32)
        for _ in range(5):
            for i in range(n):
                slx = sumlx - wx[i] * lq[i]
                sl2 = suml2 - qw[i] * lq[i] * lq[i]
                cand = (slx > 0) & (sl2 > 0)
                q = np.where(cand, x[i] * sl2 / slx, F32(0)).astype(F32)
                new_i = np.minimum(nearest_int(q), nmax)
                new_l = new_i.astype(F32)
                cand &= new_l != lq[i]
                slx2 = slx + wx[i] * new_l
                sl22 = sl2 + qw[i] * new_l * new_l
                take = cand & (slx2 * slx2 * suml2 > sumlx * sumlx * sl22)
                lq[i] = np.where(take, (new_i & 0xFF).astype(F32), lq[i])
                sumlx = np.where(take, slx2, sumlx).astype(F32)
                suml2 = np.where(take, sl22, suml2).astype(F32)
        scale = np.where(suml2 > 0, sumlx / suml2, F32(0)).astype(F32)
    lq = np.where(zero, F32(0), lq)
    scale = np.where(zero, F32(0), scale).astype(F32)
    return scale, lq.astype(np.uint8)


def f16_round(v: np.ndarray) -> np.ndarray:
    """Store as float16 and read back as float32 (ggml's FP32_TO_FP16: round to nearest even)."""
    return np.asarray(v, F32).astype(np.float16).astype(F32)
