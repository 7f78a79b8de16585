"""Random ranges and inputs for the oracle tests: exact ties, near-ties, grid points, outliers."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

import quantviz as qv


def random_ranges(seed: int, count: int) -> Iterator[tuple[float, float]]:
    """Yield float32-exact ranges: straddling 0, all positive, all negative, tiny, huge, the seed's."""
    rng = np.random.default_rng(seed)
    fixed = [(-1000.0, 1000.0), (0.0, 6.0), (-0.5, 3.0), (0.5, 3.0), (-1.0, 1.0), (-3.0, -0.25), (0.0, 0.0)]
    yield from fixed
    for _ in range(count):
        kind = rng.integers(0, 5)
        mag = 10.0 ** rng.uniform(-4, 4)
        if kind == 0:
            lo, hi = -rng.uniform(0, mag), rng.uniform(0, mag)
        elif kind == 1:
            lo, hi = sorted(rng.uniform(0, mag, 2))
        elif kind == 2:
            lo, hi = sorted(-rng.uniform(0, mag, 2))
        elif kind == 3:
            lo, hi = -mag, mag
        else:
            lo, hi = -rng.integers(0, 2000) / 8, rng.integers(0, 2000) / 8
        yield float(np.float32(lo)), float(np.float32(hi))


def probe_values(qp: qv.QParams, seed: int, count: int = 600) -> np.ndarray:
    """Return float32 inputs for qp: exact ties k + 1/2 steps, their float32 neighbours, uniform values, outliers."""
    rng = np.random.default_rng(seed)
    s = np.float32(qp.scale)
    ks = rng.integers(qp.storage_min - qp.zero_point - 3, qp.storage_max - qp.zero_point + 3, count // 4)
    ties = ((ks + 0.5) * np.float64(s)).astype(np.float32)
    grid = (ks * np.float64(s)).astype(np.float32)
    near = np.concatenate([np.nextafter(ties, np.float32(np.inf)), np.nextafter(ties, np.float32(-np.inf))])
    span = (qp.storage_max - qp.storage_min) * float(s)
    uniform = rng.uniform(qp.real_min - 0.1 * span, qp.real_max + 0.1 * span, count // 4).astype(np.float32)
    extra = np.array([0.0, -0.0, qp.real_min, qp.real_max, 1e30, -1e30, np.inf, -np.inf], dtype=np.float32)
    return np.concatenate([ties, grid, near, uniform, extra]).astype(np.float32)


def tflite_near_tie_ranges(seed: int, count: int) -> list[tuple[float, float]]:
    """Return float32 ranges whose TFLite zero point sits within a float32 rounding of x.5.

    They are the ranges where evaluating z = qmin − rmin/s in float64 and in float32 round to different
    integers: random ranges almost never hit them, so they are built around a chosen tie and kept only
    when the two evaluations part.
    """
    rng = np.random.default_rng(seed)
    found: list[tuple[float, float]] = []
    while len(found) < count:
        tie = int(rng.integers(-127, 127)) + 0.5  # the int8 zero point we aim at
        hi = float(np.float32(10 ** rng.uniform(-3, 4)))
        lo32 = np.float32(-(tie + 128) * hi / (127 - tie))
        lo = float(lo32 + np.float32(int(rng.integers(-3, 4))) * np.spacing(lo32))
        scale = float(np.float32(np.float32(hi) - np.float32(lo)) / np.float32(255))
        in_double = -128 - lo / scale
        if np.floor(in_double + 0.5) != np.floor(float(np.float32(in_double)) + 0.5):
            found.append((lo, hi))
    return found
