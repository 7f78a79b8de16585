"""The toy linear layer y = x·Wᵀ the algorithms run on: seeded weights and inputs, validation, output error.

Outlier *input channels* are what make the algorithms differ from rounding: a few channels whose activations
are many times larger than the rest (as in LLM hidden states), which the layer's Hessian, AWQ's activation
magnitude and SmoothQuant's ranges all see.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import NamedTuple

import numpy as np


class ToyLayer(NamedTuple):
    """A seeded layer: ``weight`` (out, in), calibration ``inputs`` (samples, in), the ``outliers`` channels."""

    weight: np.ndarray
    inputs: np.ndarray
    outliers: np.ndarray


def toy_layer(
    out_features: int = 64,
    in_features: int = 128,
    samples: int = 256,
    outliers: int = 4,
    outlier_scale: float = 20.0,
    seed: int = 0,
) -> ToyLayer:
    """A float32 layer with ``outliers`` input channels whose activations are ``outlier_scale`` times larger.

    Weights are Gaussian with std 1/sqrt(in); inputs are Gaussian with a per-channel scale drawn in [0.5, 1.5],
    the outlier channels (chosen by the seed) multiplied by ``outlier_scale``; rows are correlated a little
    (a shared component), as real activations are.

    >>> layer = toy_layer(8, 16, 32, outliers=2, seed=1)
    >>> layer.weight.shape, layer.inputs.shape, len(layer.outliers)
    ((8, 16), (32, 16), 2)
    """
    for name, value, low in (
        ("out_features", out_features, 1),
        ("in_features", in_features, 2),
        ("samples", samples, 1),
    ):
        if not (isinstance(value, int | np.integer) and value >= low):
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if not (isinstance(outliers, int | np.integer) and 0 <= outliers <= in_features):
        raise ValueError(f"outliers must be an integer in 0..in_features={in_features}, got {outliers!r}")
    if not (np.isfinite(outlier_scale) and outlier_scale > 0):
        raise ValueError(f"outlier_scale must be a positive finite number, got {outlier_scale!r}")
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((out_features, in_features)) / np.sqrt(in_features)
    channel = rng.uniform(0.5, 1.5, in_features)
    chosen = np.sort(rng.choice(in_features, size=outliers, replace=False))
    channel[chosen] *= outlier_scale
    shared = rng.standard_normal((samples, 1)) * rng.standard_normal((1, in_features)) * 0.5
    inputs = (rng.standard_normal((samples, in_features)) + shared) * channel
    return ToyLayer(weight=weight.astype(np.float32), inputs=inputs.astype(np.float32), outliers=chosen)


def check_layer(weight: np.ndarray, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(weight, inputs) as float arrays after checking shapes and values; ValueError names what is wrong.

    >>> check_layer(np.ones((2, 3)), np.ones((4, 2)))
    Traceback (most recent call last):
    ...
    ValueError: inputs have 2 features but the weight has in_features=3
    """
    w, x = np.asarray(weight), np.asarray(inputs)
    for name, a in (("weight", w), ("inputs", x)):
        if a.ndim != 2 or 0 in a.shape:
            raise ValueError(f"{name} must be a non-empty 2-D array, got shape {a.shape}")
        if not np.issubdtype(a.dtype, np.floating) and not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
        if not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or inf ({int((~np.isfinite(a)).sum())} values)")
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"inputs have {x.shape[1]} features but the weight has in_features={w.shape[1]}")
    return w, x


def output_mse(weight: np.ndarray, approx: np.ndarray, inputs: np.ndarray) -> float:
    """Mean squared error of the layer output, mean over samples and outputs of (x·(W − Ŵ)ᵀ)².

    The difference W − Ŵ is taken in float64; the product in the inputs' precision (float32 inputs: a float32
    product, relative error ~1e-6, at half the time on a 4096-wide layer); the mean in float64.

    >>> output_mse(np.eye(2), np.eye(2) * 0.5, np.array([[2.0, 0.0]]))
    0.5
    """
    x = np.asarray(inputs)
    diff = np.asarray(weight, np.float64) - np.asarray(approx, np.float64)
    if x.dtype == np.float32:
        return float(np.mean((x @ diff.T.astype(np.float32)).astype(np.float64) ** 2))
    return float(np.mean((x.astype(np.float64) @ diff.T) ** 2))


def sqnr_db(weight: np.ndarray, approx: np.ndarray, inputs: np.ndarray) -> float:
    """Layer-output SQNR in dB, 10·log10(‖x·Wᵀ‖² / ‖x·Wᵀ − x·Ŵᵀ‖²); inf when the output is exact.

    >>> round(sqnr_db(np.eye(2), np.eye(2) * 0.9, np.array([[1.0, 1.0]])), 3)
    20.0
    """
    x = np.asarray(inputs, np.float64)
    signal = float(np.mean((x @ np.asarray(weight, np.float64).T) ** 2))
    noise = output_mse(weight, approx, inputs)
    return float("inf") if noise == 0 else 10.0 * float(np.log10(signal / noise))


def one_blas_thread() -> AbstractContextManager:
    """A context in which BLAS runs on one thread: toy-sized matrices are many times faster so on a busy machine
    (threads of several sessions fighting over two cores), and no slower on an idle one.

    >>> with one_blas_thread():
    ...     float(np.ones((2, 2)) @ np.ones(2) @ np.ones(2))
    4.0
    """
    try:  # the app and tasks extras install it; the library alone runs the same numbers without it
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
