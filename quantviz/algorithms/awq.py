"""AWQ (Lin et al. 2023) as llm-compressor's ``_compute_best_scale`` searches it, with the loss along the grid.

Per input channel j: the mean activation magnitude x̄_j = mean|x_j| and (duo scaling) the mean normalised weight
magnitude w̄_j = mean over rows of |W_ij| / max|W_group|. For each ratio α on the grid,
s_j = max(x̄_j^α / (w̄_j^(1−α) + 1e-4), 1e-4), divided by sqrt(max s · min s); the weight becomes Q(W·s)/s
(quantized on the min-max grid, the scales folded back into the inputs) and the layer-output MSE is measured.
The α with the smallest loss wins (the first one on a tie). With ``duo_scaling=True`` the grid is
(α = 0, no duo) — plain rounding — followed by n_grid − 1 duo ratios i/(n_grid − 2); without, n_grid ratios
i/(n_grid − 1) of x̄^α alone. Float32 like the reference, except that the duo scales are float64 there (the
weight means are summed in float64), and so here. x̄ is summed in torch's order (``cascade_sum``), bit for bit;
x̄^α is numpy's float32 power, which is not torch's (see docs/algorithms.md, "AWQ symmetric").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantviz.algorithms.layer import check_layer, output_mse
from quantviz.algorithms.observer import group_count, round_to_nearest

F32 = np.float32


@dataclass(frozen=True)
class AWQResult:
    """The chosen ratio and scales, the effective weight, and the search that chose them.

    ``ratios``, ``duo`` and ``losses`` are the grid in search order (the loss is the layer-output MSE of that
    point); ``x_mean`` and ``w_mean`` are the per-channel statistics the scales are made from; ``protected``
    are the 1 % of input channels with the largest activations (at least one), the salient channels of the
    paper; ``codes`` are the integer codes of W·s; ``dequantized`` = Q(W·s)/s, the weight the layer computes with.
    """

    ratio: float
    duo_used: bool
    scales: np.ndarray
    codes: np.ndarray
    dequantized: np.ndarray
    output_mse: float
    rtn_dequantized: np.ndarray
    rtn_output_mse: float
    ratios: np.ndarray
    duo: np.ndarray
    losses: np.ndarray
    x_mean: np.ndarray
    w_mean: np.ndarray
    protected: np.ndarray


def grid_points(n_grid: int, duo_scaling: bool) -> list[tuple[float, bool]]:
    """The (ratio, duo) points the search visits, in order.

    >>> grid_points(4, True)
    [(0.0, False), (0.0, True), (0.5, True), (1.0, True)]
    >>> grid_points(3, False)
    [(0.0, False), (0.5, False), (1.0, False)]
    """
    if not (isinstance(n_grid, int | np.integer) and n_grid >= 3):
        raise ValueError(f"n_grid must be an integer >= 3, got {n_grid!r}")
    if duo_scaling:
        return [(0.0, False)] + [(i / (n_grid - 2), True) for i in range(n_grid - 1)]
    return [(i / (n_grid - 1), False) for i in range(n_grid)]


def cascade_sum(values: np.ndarray, levels: int = 4) -> np.ndarray:
    """The float32 sum over axis 0 in torch's CPU order (bit for bit): runs of 2^p rows summed in order.

    torch does not sum the rows one after another (numpy's order for axis 0): each run of 2^p rows
    (p = max(4, ceil(log2 n) // 4)) is summed into a first accumulator, which is then carried into the next
    level; a level is carried on up each time the count of runs it holds reaches 2^p, like the digits of a
    counter; the rows left over go into the first level, and the levels are added at the end. Measured against
    torch 2.13 (AVX2) to be bit-identical for n = 1 … 5000 rows when the width is a multiple of 32, as in every
    AWQ case (torch sums the columns past the last multiple of 32 in another order, which can differ in the
    last bit). It matters because x̄ decides AWQ's scales, and a symmetric grid's ties (±7.5 steps at int4)
    make their last bit decide codes.

    >>> cascade_sum(np.ones((40, 2), np.float32)).tolist()
    [40.0, 40.0]
    """
    a = np.asarray(values, F32)
    n = a.shape[0]
    power = max(4, ((n - 1).bit_length() if n > 2 else 1) // levels)
    step = 1 << power
    acc = [np.zeros(a.shape[1:], F32) for _ in range(levels)]
    i = 0
    while i + step <= n:
        for row in a[i : i + step]:
            acc[0] += row
        i += step
        for j in range(1, levels):
            acc[j] += acc[j - 1]
            acc[j - 1] = np.zeros_like(acc[j - 1])
            if i & ((step - 1) << (j * power)):
                break
    for row in a[i:]:
        acc[0] += row
    for j in range(1, levels):
        acc[0] += acc[j]
    return acc[0]


def weight_means(weight: np.ndarray, group_size: int | None) -> np.ndarray:
    """w̄_j: |W| divided by its group's max (+1e-6), averaged over the rows (summed in float64).

    >>> weight_means(np.array([[1.0, -2.0], [4.0, 4.0]], np.float32), None).round(4).tolist()
    [0.75, 1.0]
    """
    w = np.abs(np.asarray(weight, F32))
    rows, cols = w.shape
    chunk = cols // group_count(cols, group_size)
    blocks = w.reshape(-1, chunk)
    normed = (blocks / (blocks.max(axis=1, keepdims=True) + F32(1e-6))).reshape(rows, cols)
    return normed.sum(axis=0, dtype=np.float64) / rows


def awq_scales(x_mean: np.ndarray, w_mean: np.ndarray, ratio: float, duo: bool) -> np.ndarray:
    """s for one grid point, normalised by sqrt(max s · min s); non-finite scales become 1.

    >>> awq_scales(np.array([1.0, 4.0], np.float32), np.ones(2), 0.5, False).tolist()
    [0.7071067690849304, 1.4142135381698608]
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if duo:
            # x̄^α in float32 (as the reference's float32 tensor), the quotient in float64 (its w̄ is float64)
            s = np.maximum((x_mean ** F32(ratio)).astype(np.float64) / (w_mean ** (1 - ratio) + 1e-4), 1e-4)
        else:
            s = np.maximum(x_mean ** F32(ratio), F32(1e-4)).astype(F32)
        s = s / np.sqrt(s.max() * s.min())
    s[~np.isfinite(s)] = 1
    return s


def awq(
    weight: np.ndarray,
    inputs: np.ndarray,
    bits: int = 4,
    group_size: int | None = 128,
    n_grid: int = 20,
    duo_scaling: bool = True,
    symmetric: bool = False,
) -> AWQResult:
    """AWQ-quantize ``weight`` (out, in) on ``inputs`` (samples, in): the ratio chosen, its scales, the error.

    >>> from quantviz.algorithms.layer import toy_layer
    >>> layer = toy_layer(32, 128, 256, outliers=4, outlier_scale=30.0, seed=0)
    >>> r = awq(layer.weight, layer.inputs, bits=3, group_size=64)
    >>> r.ratio > 0, r.output_mse < r.rtn_output_mse, len(r.losses), set(r.protected) <= set(layer.outliers)
    (True, True, 20, True)
    """
    w_in, x_in = check_layer(weight, inputs)
    w, x = w_in.astype(F32), x_in.astype(F32)
    points = grid_points(n_grid, duo_scaling)
    group_count(w.shape[1], group_size)
    x_mean = cascade_sum(np.abs(x)) / F32(x.shape[0])
    w_mean = weight_means(w, group_size)
    reference = x @ w.T
    losses, best = [], None
    for ratio, duo in points:
        s = awq_scales(x_mean, w_mean, ratio, duo)
        codes, back, _ = round_to_nearest((w * s).astype(F32), bits, group_size, symmetric)
        effective = (back / s).astype(F32)
        loss = float(np.mean((reference - x @ effective.T).astype(np.float64) ** 2))
        losses.append(loss)
        if np.isfinite(loss) and (best is None or loss < best[0]):
            best = (loss, ratio, duo, s, codes, effective)
    if best is None:
        raise ValueError("AWQ found no finite loss on the grid: the inputs or weights overflow float32")
    _, ratio, duo, s, codes, effective = best
    _, rtn, _ = round_to_nearest(w, bits, group_size, symmetric)
    top = max(1, round(0.01 * w.shape[1]))
    return AWQResult(
        ratio=float(ratio),
        duo_used=bool(duo),
        scales=np.asarray(s, F32),
        codes=codes,
        dequantized=effective,
        output_mse=output_mse(w, effective, x),
        rtn_dequantized=rtn,
        rtn_output_mse=output_mse(w, rtn, x),
        ratios=np.array([p[0] for p in points]),
        duo=np.array([p[1] for p in points]),
        losses=np.array(losses),
        x_mean=x_mean,
        w_mean=w_mean,
        protected=np.sort(np.argsort(-x_mean, kind="stable")[:top]),
    )
