"""The grid GPTQ and AWQ round onto: llm-compressor's min-max observer and fake quantization, in float32.

llm-compressor (through compressed-tensors) uses a *signed* integer grid [−2^(b−1), 2^(b−1) − 1] for both
symmetric and asymmetric weights:

- symmetric: s = max(|min|, |max|) / ((2^b − 1) / 2), z = 0 (so int4 divides by 7.5, not 7);
- asymmetric: the range widened to include 0, s = (max − min) / (2^b − 1), z = round(clamp(qmin − min / s));
- q = round_half_even(clamp(x / s + z, qmin, qmax)), x̂ = (q − z) · s; a zero scale becomes float32's eps.

The arithmetic is float32 because the reference's is: the codes then agree bit for bit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

F32 = np.float32


class Grid(NamedTuple):
    """Scales and zero points per (row, group) and the integer bounds they quantize into."""

    scales: np.ndarray
    zero_points: np.ndarray
    qmin: int
    qmax: int


def signed_range(bits: int) -> tuple[int, int]:
    """The signed integer range [−2^(b−1), 2^(b−1) − 1] of a ``bits``-bit grid.

    >>> signed_range(4)
    (-8, 7)
    """
    if not (isinstance(bits, int | np.integer) and 2 <= bits <= 8):
        raise ValueError(f"bits must be an integer 2..8, got {bits!r}")
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def group_count(in_features: int, group_size: int | None) -> int:
    """How many groups a row of ``in_features`` has (one when ``group_size`` is None).

    >>> group_count(256, 128), group_count(256, None)
    (2, 1)
    """
    if group_size is None:
        return 1
    if not (isinstance(group_size, int | np.integer) and group_size >= 1):
        raise ValueError(f"group_size must be a positive integer or None, got {group_size!r}")
    if in_features % group_size:
        raise ValueError(f"group_size={group_size} does not divide in_features={in_features}")
    return in_features // group_size


def minmax_grid(weight: np.ndarray, bits: int, group_size: int | None, symmetric: bool) -> Grid:
    """The min-max observer's scales and zero points, one per row and group (shape (rows, groups)).

    >>> g = minmax_grid(np.array([[-1.5, 0.5, 3.0, 0.0]], np.float32), 4, None, True)
    >>> float(g.scales[0, 0]), int(g.zero_points[0, 0]), (g.qmin, g.qmax)
    (0.4000000059604645, 0, (-8, 7))
    """
    qmin, qmax = signed_range(bits)
    w = np.asarray(weight, F32)
    groups = group_count(w.shape[1], group_size)
    blocks = w.reshape(w.shape[0], groups, -1)
    lo = np.minimum(blocks.min(axis=2), F32(0))
    hi = np.maximum(blocks.max(axis=2), F32(0))
    span = F32(qmax - qmin)
    with np.errstate(divide="ignore", invalid="ignore"):
        if symmetric:
            s = np.maximum(-lo, hi) / (span / F32(2))
            z = np.zeros_like(s)
        else:
            s = (hi - lo) / span
            # an all-zero group gives 0/0: its zero point is 0, as the reference's NaN cast to int gives
            z = np.nan_to_num(np.clip(F32(qmin) - lo / s, qmin, qmax), nan=0.0)
    s = np.where(s == 0, np.finfo(F32).eps, s).astype(F32)
    return Grid(scales=s, zero_points=np.rint(z).astype(np.int64), qmin=qmin, qmax=qmax)


def quantize_column(x: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, qmin: int, qmax: int) -> np.ndarray:
    """Integer codes of ``x`` on the grid (float32 arithmetic, ties to even).

    >>> quantize_column(np.array([0.75, -3.1], np.float32), np.float32(0.5), np.int64(0), -8, 7).tolist()
    [2, -6]
    """
    scaled = np.asarray(x, F32) / F32(scale) + np.asarray(zero_point, F32)
    return np.rint(np.clip(scaled, qmin, qmax)).astype(np.int64)


def dequantize_codes(codes: np.ndarray, scale: np.ndarray, zero_point: np.ndarray) -> np.ndarray:
    """x̂ = (q − z) · s in float32.

    >>> dequantize_codes(np.array([2, -6]), np.float32(0.5), np.int64(0)).tolist()
    [1.0, -3.0]
    """
    return ((np.asarray(codes, F32) - np.asarray(zero_point, F32)) * np.asarray(scale, F32)).astype(F32)


def expand(per_group: np.ndarray, in_features: int) -> np.ndarray:
    """A (rows, groups) array repeated to (rows, in_features), group by group."""
    return np.repeat(per_group, in_features // per_group.shape[1], axis=1)


def round_to_nearest(weight: np.ndarray, bits: int, group_size: int | None, symmetric: bool) -> tuple:
    """(codes, dequantized, grid): plain round-to-nearest on the min-max grid, the baseline GPTQ and AWQ beat.

    >>> codes, back, _ = round_to_nearest(np.array([[-1.5, 0.5, 3.0, 0.0]], np.float32), 4, None, True)
    >>> codes.tolist(), back.astype(float).round(4).tolist()
    ([[-4, 1, 7, 0]], [[-1.6, 0.4, 2.8, 0.0]])
    """
    w = np.asarray(weight, F32)
    grid = minmax_grid(w, bits, group_size, symmetric)
    s, z = expand(grid.scales, w.shape[1]), expand(grid.zero_points, w.shape[1])
    codes = quantize_column(w, s, z, grid.qmin, grid.qmax)
    return codes, dequantize_codes(codes, s, z), grid
