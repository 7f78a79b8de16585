"""Choosing the range for data with outliers: min-max, percentile, MSE-optimal, KL-entropy."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.conventions import get_convention
from quantviz.errors import QuantVizError
from quantviz.grid import GridOptions
from quantviz.metrics import ErrorStats, error_stats
from quantviz.qparams import QParams
from quantviz.quantize import choose_qparams

MAX_CALIBRATION_SAMPLES = 100_000
CALIBRATION_OPTIONS = GridOptions(bits=8, signed=True, symmetric=True)  # the calibrators' defaults: int8 symmetric


class ClippingCurve(NamedTuple):
    """Error against the clipping threshold (range [−t, t], or scaled [α·min, α·max] when asymmetric)."""

    thresholds: np.ndarray
    total_mse: np.ndarray
    rounding_mse: np.ndarray
    clipping_mse: np.ndarray


class Calibration(NamedTuple):
    """A method's chosen range."""

    method: str
    rmin: float
    rmax: float


def _sample(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size == 0:
        raise QuantVizError("no values to calibrate on")
    if x.size > MAX_CALIBRATION_SAMPLES:  # evenly strided: reproducible, keeps the distribution
        x = x[:: int(np.ceil(x.size / MAX_CALIBRATION_SAMPLES))]
    return x


def minmax_range(x: np.ndarray) -> tuple[float, float]:
    """Return (min, max) of x.

    >>> minmax_range(np.array([3.0, -1.0, 2.0]))
    (-1.0, 3.0)
    """
    x = np.asarray(x, dtype=np.float64)
    return float(x.min()), float(x.max())


def percentile_range(x: np.ndarray, percentile: float = 99.9) -> tuple[float, float]:
    """Return the (100 − p)-th and p-th percentiles: the p% of values nearest the middle, tails clipped.

    >>> percentile_range(np.arange(101.0), 90)
    (10.0, 90.0)
    """
    if not 50 < percentile <= 100:
        raise QuantVizError(f"percentile must be in (50, 100], got {percentile}")
    lo, hi = np.percentile(np.asarray(x, dtype=np.float64), [100 - percentile, percentile])
    return float(lo), float(hi)


def _range_for(threshold: float, lo: float, hi: float, symmetric: bool) -> tuple[float, float]:
    if symmetric:
        return -threshold, threshold
    scale = threshold / max(abs(lo), abs(hi))
    return lo * scale, hi * scale


def clipping_curve(
    x: np.ndarray,
    *,
    options: GridOptions = CALIBRATION_OPTIONS,
    convention: str = "textbook",
    points: int = 80,
) -> ClippingCurve:
    """Return the MSE (split into rounding and clipping) for clipping thresholds from 2% to 100% of max|x|."""
    xs = _sample(x)
    lo, hi = minmax_range(xs)
    absmax = max(abs(lo), abs(hi))
    if absmax == 0:
        raise QuantVizError("all values are 0: there is no range to choose")
    conv = get_convention(convention)
    thresholds = np.linspace(0.02, 1.0, points) * absmax
    rows = []
    for t in thresholds:
        rmin, rmax = _range_for(float(t), lo, hi, options.symmetric)
        qp = choose_qparams(rmin, rmax, convention=convention, options=options)
        s = error_stats(conv.error_trace(xs, qp))
        rows.append((s.mse, s.rounding_mse, s.clipping_mse))
    arr = np.array(rows)
    return ClippingCurve(thresholds, arr[:, 0], arr[:, 1], arr[:, 2])


def mse_optimal_range(
    x: np.ndarray,
    *,
    options: GridOptions = CALIBRATION_OPTIONS,
    convention: str = "textbook",
    curve: ClippingCurve | None = None,
) -> tuple[float, float]:
    """Return the range whose threshold minimises the total MSE (search over clipping_curve, then refine).

    Pass the ``curve`` already computed for the same data and options to skip computing it again.
    """
    xs = _sample(x)
    lo, hi = minmax_range(xs)
    if curve is None:
        curve = clipping_curve(xs, options=options, convention=convention)
    best = int(np.argmin(curve.total_mse))
    step = curve.thresholds[1] - curve.thresholds[0]
    fine = np.linspace(max(curve.thresholds[best] - step, step / 10), curve.thresholds[best] + step, 21)
    conv = get_convention(convention)
    errs = []
    for t in fine:
        rmin, rmax = _range_for(float(t), lo, hi, options.symmetric)
        qp = choose_qparams(rmin, rmax, convention=convention, options=options)
        errs.append(error_stats(conv.error_trace(xs, qp)).mse)
    return _range_for(float(fine[int(np.argmin(errs))]), lo, hi, options.symmetric)


def kl_entropy_range(x: np.ndarray, *, bits: int = 8, bins: int = 2048) -> tuple[float, float]:
    """Return the symmetric range [−T, T] chosen by the KL-divergence (entropy) calibrator used by TensorRT.

    The |x| histogram (``bins`` bins) is cut at each candidate bin i: the part above is folded into the last
    kept bin (P), P is merged into 2^(bits−1) levels and spread back over its non-empty bins (Q), and the i
    with the smallest KL(P || Q) gives T.
    """
    xs = np.abs(_sample(x))
    absmax = float(xs.max())
    if absmax == 0:
        raise QuantVizError("all values are 0: there is no range to choose")
    hist, edges = np.histogram(xs, bins=bins, range=(0, absmax))
    hist = hist.astype(np.float64)
    levels = 2 ** (bits - 1)
    best_i, best_kl = bins, np.inf
    for i in range(levels, bins + 1, max(1, (bins - levels) // 160)):
        p = hist[:i].copy()
        p[-1] += hist[i:].sum()
        nonzero = p > 0
        # merge into `levels` groups, then spread each group's mass over its non-empty bins
        groups = np.array_split(np.arange(i), levels)
        q = np.zeros(i)
        for g in groups:
            mass = hist[g].sum()
            nz = nonzero[g]
            if nz.any():
                q[g[nz]] = mass / nz.sum()
        if q.sum() == 0:
            continue
        p_n, q_n = p / p.sum(), q / q.sum()
        mask = p_n > 0
        with np.errstate(divide="ignore"):
            kl = float(np.sum(p_n[mask] * np.log(p_n[mask] / np.where(q_n[mask] > 0, q_n[mask], 1e-12))))
        if kl < best_kl:
            best_kl, best_i = kl, i
    threshold = float(edges[best_i])
    return -threshold, threshold


def calibrate_all(
    x: np.ndarray,
    *,
    percentile: float = 99.9,
    options: GridOptions = CALIBRATION_OPTIONS,
    convention: str = "textbook",
) -> tuple[list[Calibration], ClippingCurve]:
    """Return every method's range, in the order the app shows them, and the clipping curve they share."""
    curve = clipping_curve(x, options=options, convention=convention)
    return [
        Calibration("min-max", *minmax_range(x)),
        Calibration(f"percentile {percentile:g}", *percentile_range(x, percentile)),
        Calibration("MSE-optimal", *mse_optimal_range(x, curve=curve, options=options, convention=convention)),
        Calibration("KL entropy", *kl_entropy_range(x, bits=options.bits)),
    ], curve


class MethodResult(NamedTuple):
    """One calibration method measured on the data: its range, the (s, z) it gives and the error, or why not.

    Attributes
    ----------
    calibration : Calibration
        The method and its range.
    qparams : QParams or None
        The parameters the convention chooses for that range (None when it cannot).
    stats : ErrorStats or None
        The error of quantizing all the data with them.
    problem : str or None
        Why the convention could not quantize with this range.
    """

    calibration: Calibration
    qparams: QParams | None
    stats: ErrorStats | None
    problem: str | None


def measure_calibrations(
    x: np.ndarray, calibrations: list[Calibration], *, options: GridOptions, convention: str = "textbook"
) -> list[MethodResult]:
    """Return each calibrated range measured on all of ``x``: (s, z) chosen by ``convention``, and the error.

    >>> x = np.linspace(-1, 1, 101)
    >>> one = [Calibration("min-max", -1.0, 1.0)]
    >>> r = measure_calibrations(x, one, options=GridOptions(signed=True, symmetric=True))
    >>> r[0].stats.clipped_share, r[0].qparams.zero_point
    (0.0, 0)
    """
    conv = get_convention(convention)
    results = []
    for cal in calibrations:
        try:
            qp = choose_qparams(cal.rmin, cal.rmax, convention=convention, options=options)
        except QuantVizError as exc:
            results.append(MethodResult(calibration=cal, qparams=None, stats=None, problem=str(exc)))
            continue
        stats = error_stats(conv.error_trace(x, qp))
        results.append(MethodResult(calibration=cal, qparams=qp, stats=stats, problem=None))
    return results


def best_method(results: list[MethodResult]) -> int | None:
    """Return the index of the measured method with the lowest total MSE (the first on a tie), or None.

    >>> best_method([]) is None
    True
    """
    measured = [(r.stats.mse, i) for i, r in enumerate(results) if r.stats is not None]
    return min(measured)[1] if measured else None
