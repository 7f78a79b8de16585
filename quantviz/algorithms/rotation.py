"""Rotations (QuaRot / SpinQuant / QuIP#-style incoherence): y = x·Wᵀ = (x·Q)·(W·Q)ᵀ for any orthonormal Q.

Q = D·H/√n with H Sylvester's Hadamard matrix (entries ±1, H·Hᵀ = n·I) and D a diagonal of random signs.
Every rotated coordinate is a ±-weighted sum of all the old ones over √n, so one large channel is spread
evenly over all of them: the max/RMS ratio that makes a grid waste its levels drops towards 1. The identity is
exact in real arithmetic; in floating point, rounding the rotated weight and inputs and the longer sums leave
an error of a few float32 ulps of the output (about 1e-16 relative in float64), far below any int grid's step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantviz.algorithms.layer import check_layer

F32 = np.float32


@dataclass(frozen=True)
class RotationResult:
    """The rotation, the rotated weight and inputs, the float error of the identity, and the outlier spread.

    ``float32_error`` and ``float64_error`` are max |x·Wᵀ − (x·Q)·(W·Q)ᵀ| with everything computed in that
    precision; ``*_peak`` are max|v| / RMS(v) of the inputs and of the weight, before and after.
    """

    rotation: np.ndarray
    weight: np.ndarray
    inputs: np.ndarray
    float32_error: float
    float64_error: float
    output_scale: float
    inputs_peak_before: float
    inputs_peak_after: float
    weight_peak_before: float
    weight_peak_after: float


def sylvester(n: int) -> np.ndarray:
    """Sylvester's Hadamard matrix of order n (a power of two), entries ±1.

    >>> sylvester(4).astype(int).tolist()
    [[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]
    """
    if not (isinstance(n, int | np.integer) and n >= 1 and n & (n - 1) == 0):
        raise ValueError(f"n must be a power of two (Sylvester's construction), got {n!r}")
    h = np.ones((1, 1))
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


def hadamard(n: int, seed: int | None = None) -> np.ndarray:
    """An orthonormal (n, n) Hadamard matrix H/√n; with a seed, its rows multiplied by random signs.

    >>> q = hadamard(8, seed=3)
    >>> bool(np.allclose(q @ q.T, np.eye(8))), sorted(set(np.abs(q).round(6).ravel().tolist()))
    (True, [0.353553])
    """
    h = sylvester(n) / np.sqrt(n)
    if seed is None:
        return h
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=n)
    return signs[:, None] * h


def peak_ratio(values: np.ndarray) -> float:
    """max|v| / RMS(v): 1 for a flat tensor, large when a few values dominate.

    >>> peak_ratio(np.array([1.0, -1.0, 1.0, -1.0])), round(peak_ratio(np.array([4.0, 0.0, 0.0, 0.0])), 3)
    (1.0, 2.0)
    """
    v = np.asarray(values, np.float64)
    rms = float(np.sqrt(np.mean(v**2)))
    return 0.0 if rms == 0 else float(np.abs(v).max()) / rms


def rotate(weight: np.ndarray, inputs: np.ndarray, seed: int | None = 0) -> RotationResult:
    """Rotate the layer's input space by a random Hadamard matrix: W·Q and x·Q, with the same outputs.

    >>> from quantviz.algorithms.layer import toy_layer
    >>> layer = toy_layer(16, 64, 128, outliers=2, outlier_scale=30.0)
    >>> r = rotate(layer.weight, layer.inputs)
    >>> r.inputs_peak_after < r.inputs_peak_before, r.float64_error < 1e-12 * r.output_scale
    (True, True)
    """
    w_in, x_in = check_layer(weight, inputs)
    q = hadamard(w_in.shape[1], seed)
    w64, x64 = w_in.astype(np.float64), x_in.astype(np.float64)
    y64 = x64 @ w64.T
    wr, xr = w64 @ q, x64 @ q
    w32, x32, q32 = w_in.astype(F32), x_in.astype(F32), q.astype(F32)
    y32 = x32 @ w32.T
    rot32 = (x32 @ q32) @ (w32 @ q32).T
    return RotationResult(
        rotation=q,
        weight=wr.astype(F32),
        inputs=xr.astype(F32),
        float32_error=float(np.abs(y32.astype(np.float64) - rot32).max()),
        float64_error=float(np.abs(y64 - xr @ wr.T).max()),
        output_scale=float(np.abs(y64).max()),
        inputs_peak_before=peak_ratio(x64),
        inputs_peak_after=peak_ratio(xr),
        weight_peak_before=peak_ratio(w64),
        weight_peak_after=peak_ratio(wr),
    )


@dataclass(frozen=True)
class RotationErrors:
    """Layer-output SQNR (dB) with int-``bits`` activations (per token) or weights (round-to-nearest), before and
    after the rotation."""

    bits: int
    activations_before_db: float
    activations_after_db: float
    weights_before_db: float
    weights_after_db: float


def rotation_errors(
    weight: np.ndarray,
    inputs: np.ndarray,
    bits: int = 4,
    group_size: int | None = None,
    symmetric: bool = True,
    seed: int | None = 0,
) -> RotationErrors:
    """How much a rotation helps int-``bits`` activations and weights of this layer.

    >>> from quantviz.algorithms.layer import toy_layer
    >>> layer = toy_layer(16, 64, 128, outliers=2, outlier_scale=30.0)
    >>> e = rotation_errors(layer.weight, layer.inputs, 4)
    >>> e.activations_after_db > e.activations_before_db
    True
    """
    from quantviz.algorithms.observer import round_to_nearest
    from quantviz.algorithms.smoothquant import fake_quantize_activations

    w_in, x_in = check_layer(weight, inputs)
    w, x = w_in.astype(np.float64), x_in.astype(np.float64)
    r = rotate(w_in, x_in, seed)
    y = x @ w.T

    def db(approx: np.ndarray) -> float:
        noise = float(np.mean((y - approx) ** 2))
        return float("inf") if noise == 0 else 10 * float(np.log10(float(np.mean(y**2)) / noise))

    wr, xr = r.weight.astype(np.float64), r.inputs.astype(np.float64)
    rtn = lambda m: round_to_nearest(m.astype(F32), bits, group_size, symmetric)[1].astype(np.float64)  # noqa: E731
    return RotationErrors(
        bits=bits,
        activations_before_db=db(fake_quantize_activations(x_in, True, bits).astype(np.float64) @ w.T),
        activations_after_db=db(fake_quantize_activations(r.inputs, True, bits).astype(np.float64) @ wr.T),
        weights_before_db=db(x @ rtn(w).T),
        weights_after_db=db(xr @ rtn(wr).T),
    )
