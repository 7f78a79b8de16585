"""Reproducible sample data for the demos: uniform, normal, Laplace, bimodal, outlier-heavy."""

from __future__ import annotations

import numpy as np

from quantviz.errors import QuantVizError

DISTRIBUTIONS: dict[str, str] = {
    "normal": "Normal (Gaussian), mean 0, std 1: most weights and activations look like this",
    "uniform": "Uniform on [-1, 1]: fills the range evenly, the textbook case",
    "laplace": "Laplace, scale 1/sqrt(2) (std 1): a sharp peak at 0 and long tails",
    "bimodal": "Two bumps at -2 and +2 (std 0.5 each): values avoid 0",
    "outliers": "Normal with 0.5% outliers 20x larger: a few values stretch the range",
    "relu": "ReLU of a normal: half the values are exactly 0, none negative",
}
MAX_SAMPLES = 10_000_000


def sample_data(distribution: str, size: int, seed: int = 0) -> np.ndarray:
    """Return ``size`` float64 samples of ``distribution`` (see DISTRIBUTIONS), reproducible from ``seed``.

    >>> sample_data("uniform", 3, seed=1).round(3).tolist()
    [0.024, 0.901, -0.712]
    """
    if distribution not in DISTRIBUTIONS:
        raise QuantVizError(f"unknown distribution {distribution!r}; choose one of {', '.join(DISTRIBUTIONS)}")
    if not 1 <= int(size) <= MAX_SAMPLES:
        raise QuantVizError(f"sample size must be between 1 and {MAX_SAMPLES:,}, got {size}")
    rng = np.random.default_rng(int(seed))
    size = int(size)
    if distribution == "uniform":
        return rng.uniform(-1.0, 1.0, size)
    if distribution == "normal":
        return rng.standard_normal(size)
    if distribution == "laplace":
        return rng.laplace(0.0, 1 / np.sqrt(2), size)
    if distribution == "bimodal":
        return rng.standard_normal(size) * 0.5 + np.where(rng.random(size) < 0.5, -2.0, 2.0)
    if distribution == "relu":
        return np.maximum(rng.standard_normal(size), 0.0)
    x = rng.standard_normal(size)
    outliers = rng.random(size) < 0.005
    x[outliers] *= 20.0
    return x
