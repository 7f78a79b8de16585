"""How the static int8 activations' ranges are chosen from the calibration inputs: one record per method.

The page's *Calibration and clipping* choices; ``evaluate(..., calibration=name)`` picks one by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from quantviz.calibrate import kl_entropy_range, minmax_range, mse_optimal_range, percentile_range
from quantviz.grid import GridOptions


class Calibrator(NamedTuple):
    """How the static int8 activations' range is chosen from the calibration inputs (Calibration and clipping)."""

    name: str
    summary: str
    choose: Callable[[np.ndarray], tuple[float, float]]


CALIBRATORS: dict[str, Calibrator] = {
    c.name: c
    for c in (
        Calibrator(name="minmax", summary="min and max", choose=minmax_range),
        Calibrator(name="percentile", summary="99.99th percentiles", choose=lambda x: percentile_range(x, 99.99)),
        Calibrator(
            name="mse",
            summary="minimum total MSE",
            choose=lambda x: mse_optimal_range(x, options=GridOptions(signed=True), convention="tflite"),
        ),
        Calibrator(name="kl", summary="KL entropy (TensorRT's, symmetric)", choose=kl_entropy_range),
    )
}


def check_calibration(calibration: object) -> Calibrator:
    """Return the calibrator called ``calibration``, or raise ValueError naming the known ones."""
    if calibration not in CALIBRATORS:
        raise ValueError(f"unknown calibration {calibration!r}; choose one of {', '.join(CALIBRATORS)}")
    return CALIBRATORS[str(calibration)]
