"""GPTQ (Frantar et al. 2022) as llm-compressor's ``quantize_weight`` runs it, with every intermediate kept.

H = 2/n · XᵀX; dead inputs (H_jj = 0) get H_jj = 1 and a zero weight column; H += damp · mean(diag H) · I;
U = the upper Cholesky factor of H⁻¹. Columns are rounded one at a time (in decreasing diag(H) with act-order);
column i's error e = (w − q) / U_ii is spread onto the columns not yet rounded, w_j −= e · U_ij, in blocks of
``block_size`` columns (the lazy batch update: the same arithmetic, fewer passes over memory). Scales and zero
points come from the min-max observer on the *original* weights, in the original column groups also with
act-order (llm-compressor's ``actorder="weight"``, the only act-order it keeps: its old "group" reordering of
the groups themselves was removed, so ``True`` means "weight" here). The Hessian's product XᵀX, its Cholesky
factor and the column loop are float32 like the reference's (the Cholesky factor's inverse by halves, not
torch's ``cholesky_inverse`` then a second Cholesky, so the last bits differ).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from quantviz.algorithms.layer import check_layer, output_mse
from quantviz.algorithms.observer import (
    dequantize_codes,
    group_count,
    minmax_grid,
    quantize_column,
    round_to_nearest,
)

F32 = np.float32


@dataclass(frozen=True)
class GPTQResult:
    """GPTQ's codes and grid, its output error beside round-to-nearest's, and the intermediates it went through.

    ``codes``, ``dequantized``, ``rtn_codes`` and ``rtn_dequantized`` are in the weight's shape and column order;
    ``scales`` and ``zero_points`` are (rows,) without groups, else (rows, groups); ``g_idx`` is each column's
    group. ``order`` is the order the columns were rounded in; ``hinv`` (U, upper), ``errors`` ((w − q)/U_ii)
    and ``pre_rounding`` (each column's value just before it was rounded) are in that order. ``note`` says when
    the Hessian could not be inverted and GPTQ fell back to round-to-nearest, as the reference does.

    The comparisons (``output_mse``, ``weight_mse`` and the round-to-nearest baseline ``rtn_*``) are computed from
    ``weight``, ``inputs`` and the grid settings when first read, then kept: GPTQ itself needs none of them (on a
    4096 × 4096 layer they cost two more forward passes of the calibration set and a second quantization).
    """

    codes: np.ndarray
    scales: np.ndarray
    zero_points: np.ndarray
    g_idx: np.ndarray
    dequantized: np.ndarray
    weight: np.ndarray
    inputs: np.ndarray
    bits: int
    group_size: int | None
    symmetric: bool
    hessian: np.ndarray
    order: np.ndarray
    hinv: np.ndarray
    errors: np.ndarray
    pre_rounding: np.ndarray
    loss: float
    note: str

    @cached_property
    def _rtn(self) -> tuple:
        return round_to_nearest(self.weight, self.bits, self.group_size, self.symmetric)

    @property
    def rtn_codes(self) -> np.ndarray:
        """Round-to-nearest's codes on the same min-max grid."""
        return self._rtn[0]

    @property
    def rtn_dequantized(self) -> np.ndarray:
        """Round-to-nearest's dequantized weight."""
        return self._rtn[1]

    @cached_property
    def output_mse(self) -> float:
        """Layer-output MSE of GPTQ's weight on ``inputs``."""
        return output_mse(self.weight, self.dequantized, self.inputs)

    @cached_property
    def rtn_output_mse(self) -> float:
        """Layer-output MSE of round-to-nearest's weight on ``inputs``."""
        return output_mse(self.weight, self.rtn_dequantized, self.inputs)

    @cached_property
    def weight_mse(self) -> float:
        """Mean squared weight error of GPTQ's weight."""
        return float(np.mean((self.weight.astype(np.float64) - self.dequantized) ** 2))

    @cached_property
    def rtn_weight_mse(self) -> float:
        """Mean squared weight error of round-to-nearest's weight."""
        return float(np.mean((self.weight.astype(np.float64) - self.rtn_dequantized) ** 2))


def hessian(inputs: np.ndarray) -> np.ndarray:
    """H = 2/n · XᵀX, the curvature of the layer-output error in each row of the weight (returned as float64).

    The product XᵀX is taken in the inputs' precision: float32 inputs give float32 sums, as the reference's
    float32 Hessian (and half the time of a float64 product on a 2048 × 4096 calibration set).

    >>> hessian(np.array([[1.0, 0.0], [1.0, 2.0]])).tolist()
    [[2.0, 2.0], [2.0, 4.0]]
    """
    x = np.asarray(inputs)
    x = x if x.dtype == np.float32 else x.astype(np.float64)
    return 2.0 / x.shape[0] * (x.T @ x).astype(np.float64)


def inverse_cholesky(h: np.ndarray, damp: float) -> tuple[np.ndarray, str]:
    """(U, note): U upper triangular with UᵀU = (H + damp·mean(diag H)·I)⁻¹; U = I and a note if H is singular.

    Computed from the Cholesky factor of the reversed matrix, reversed: one factorisation and one triangular
    inverse (``triangular_inverse``, a third of a general inverse's work) instead of inverting H.

    >>> u, note = inverse_cholesky(np.array([[4.0, 0.0], [0.0, 1.0]]), 0.0)
    >>> u.tolist(), note
    ([[0.5, 0.0], [0.0, 1.0]], '')
    """
    n = h.shape[0]
    # float32 like the reference's factorisation (and half the time of float64 on a 4096-wide layer)
    damped = (h + damp * float(np.mean(np.diag(h))) * np.eye(n)).astype(F32)
    try:
        # J·L·J (J reverses) is the upper factor T of H = T·Tᵀ, so U = T⁻¹: UᵀU = T⁻ᵀT⁻¹ = H⁻¹
        u = triangular_inverse(np.linalg.cholesky(damped[::-1, ::-1])[::-1, ::-1]).astype(np.float64)
    except np.linalg.LinAlgError:
        u = None
    if u is None or not np.isfinite(u).all():
        return np.eye(n), (
            f"The Hessian (damp={damp}) is not positive definite, so it cannot be inverted: "
            "GPTQ fell back to round-to-nearest, as llm-compressor does. More calibration samples or a larger "
            "damp make it invertible."
        )
    return np.triu(u), ""


def triangular_inverse(t: np.ndarray, leaf: int = 128) -> np.ndarray:
    """The inverse of an upper-triangular matrix by halves, [[A, B], [0, C]]⁻¹ = [[A⁻¹, −A⁻¹·B·C⁻¹], [0, C⁻¹]].

    Matrix products do the work (BLAS level 3), about ⅔ n³ operations against 2 n³ for a general inverse.

    >>> t = np.triu(np.arange(1.0, 17.0).reshape(4, 4))
    >>> bool(np.allclose(triangular_inverse(t, leaf=1) @ t, np.eye(4)))
    True
    """
    n = t.shape[0]
    if n <= leaf:
        return np.triu(np.linalg.inv(t))
    h = n // 2
    a, c = triangular_inverse(t[:h, :h], leaf), triangular_inverse(t[h:, h:], leaf)
    out = np.zeros_like(t)
    out[:h, :h], out[h:, h:] = a, c
    out[:h, h:] = -(a @ t[:h, h:]) @ c
    return out


def _check(bits: int, group_size: int | None, act_order, damp: float, block_size: int, in_features: int) -> None:
    group_count(in_features, group_size)
    if not isinstance(act_order, bool | np.bool_):
        raise ValueError(f"act_order must be True or False, got {act_order!r}")
    if not (np.isfinite(damp) and damp >= 0):
        raise ValueError(f"damp must be a finite number >= 0, got {damp!r}")
    if not (isinstance(block_size, int | np.integer) and block_size >= 1):
        raise ValueError(f"block_size must be a positive integer, got {block_size!r}")


def _without_dead_inputs(w: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Copies of (W, H) where an input never active (H_jj = 0) has H_jj = 1 and a zero weight column."""
    dead = np.diag(h) == 0
    h, w = h.copy(), w.copy()
    h[dead, dead] = 1.0
    w[:, dead] = 0
    return w, h


def _column_loop(
    w: np.ndarray, u: np.ndarray, s: np.ndarray, z: np.ndarray, col_group: np.ndarray, qmin: int, qmax: int, block: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The GPTQ sweep on w transposed (columns as contiguous rows): (codes, dequantized, errors, pre-rounding)."""
    wt = np.ascontiguousarray(w.T, F32)
    ut = u.astype(F32)
    st, zt = np.ascontiguousarray(s.T), np.ascontiguousarray(z.T)
    cols = wt.shape[0]
    codes = np.empty(wt.shape, np.int64)
    deq, err, pre = np.empty_like(wt), np.empty_like(wt), np.empty_like(wt)
    for i1 in range(0, cols, block):
        i2 = min(i1 + block, cols)
        for c in range(i1, i2):
            col = wt[c]
            g = col_group[c]
            q = quantize_column(col, st[g], zt[g], qmin, qmax)
            back = dequantize_codes(q, st[g], zt[g])
            e = (col - back) / ut[c, c]
            pre[c], codes[c], deq[c], err[c] = col, q, back, e
            # spread this column's error onto the block's later columns (the column itself is done)
            wt[c + 1 : i2] -= ut[c, c + 1 : i2, None] * e[None, :]
        if i2 < cols:
            wt[i2:] -= ut[i1:i2, i2:].T @ err[i1:i2]
    return codes.T, deq.T, err.T, pre.T


def gptq(
    weight: np.ndarray,
    inputs: np.ndarray,
    bits: int = 4,
    group_size: int | None = None,
    symmetric: bool = True,
    act_order: bool = False,
    damp: float = 0.01,
    block_size: int = 128,
) -> GPTQResult:
    """GPTQ-quantize ``weight`` (out, in) calibrated on ``inputs`` (samples, in): codes, grid, output error.

    >>> from quantviz.algorithms.layer import toy_layer
    >>> layer = toy_layer(16, 64, 128, outliers=2, seed=0)
    >>> r = gptq(layer.weight, layer.inputs, bits=3, group_size=32)
    >>> r.codes.shape, r.scales.shape, r.output_mse < r.rtn_output_mse, r.weight_mse > r.rtn_weight_mse
    ((16, 64), (16, 2), True, True)
    """
    w_in, x = check_layer(weight, inputs)
    cols = w_in.shape[1]
    _check(bits, group_size, act_order, damp, block_size, cols)
    w = w_in.astype(F32)
    h = hessian(x)
    order = np.argsort(-np.diag(h), kind="stable") if act_order else np.arange(cols)
    # without act-order the columns keep their order: no reordered copies (_without_dead_inputs copies anyway)
    wp, hp = _without_dead_inputs(w[:, order], h[np.ix_(order, order)]) if act_order else _without_dead_inputs(w, h)
    gsize = cols // group_count(cols, group_size)
    grid = minmax_grid(w, bits, group_size, symmetric)
    # the group of the column rounded at each step: groups stay those of the original column order
    col_group = (np.arange(cols) // gsize)[order]
    u, note = inverse_cholesky(hp, damp)
    codes_p, deq_p, err_p, pre_p = _column_loop(
        wp, u, grid.scales, grid.zero_points, col_group, grid.qmin, grid.qmax, block_size
    )
    inv = np.argsort(order)
    deq, codes = (deq_p[:, inv], codes_p[:, inv]) if act_order else (deq_p, codes_p)
    d = np.diag(u).astype(F32)
    loss = float(np.sum(((pre_p - deq_p) / d) ** 2, dtype=np.float64) / 2)
    keep = (lambda a: a[:, 0]) if group_size is None else (lambda a: a)
    return GPTQResult(
        codes=codes,
        scales=keep(grid.scales),
        zero_points=keep(grid.zero_points),
        g_idx=np.arange(cols) // gsize,
        dequantized=deq,
        weight=w,
        inputs=x,
        bits=bits,
        group_size=group_size,
        symmetric=symmetric,
        hessian=h,
        order=order,
        hinv=u,
        errors=err_p,
        pre_rounding=pre_p,
        loss=loss,
        note=note,
    )
