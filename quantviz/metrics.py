"""Error statistics of a quantization: MSE, max error, SQNR, clipping share, rounding vs clipping."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from quantviz.conventions import ErrorTrace, QuantizeTrace, get_convention
from quantviz.errors import QuantVizError
from quantviz.grid import MAX_BITS, MIN_BITS
from quantviz.qparams import QParams
from quantviz.quantize import choose_qparams, quantize_trace

# Relative tolerance: two numbers closer than one part in a million count as the same (float32 keeps about seven
# digits, so a scale computed in float32 and one in float64 agree to it; a tie that close is a tie).
REL_TOLERANCE = 1e-6


class ErrorStats(NamedTuple):
    """Summary of dequantized - x over an array.

    Attributes
    ----------
    count : int
        Number of values.
    mse, rmse, max_abs_error : float
        Mean squared, root mean squared and largest absolute error.
    sqnr_db : float
        Signal-to-quantization-noise ratio, 10 log10(mean x^2 / MSE); inf when the error is 0.
    clipped_share : float
        Fraction of values clamped to the end of the grid.
    rounding_mse, clipping_mse : float
        The MSE split by cause: values inside the range (rounding) and clamped ones (clipping).
        They add up to ``mse``.
    """

    count: int
    mse: float
    rmse: float
    max_abs_error: float
    sqnr_db: float
    clipped_share: float
    rounding_mse: float
    clipping_mse: float


def sqnr_db(signal_power: float, noise_power: float) -> float:
    """Return 10 log10(signal / noise) in dB: inf without noise, -inf without signal.

    >>> round(sqnr_db(1.0, 0.001), 3)
    30.0
    """
    if noise_power <= 0:
        return math.inf
    if signal_power <= 0:
        return -math.inf
    return 10.0 * math.log10(signal_power / noise_power)


def error_stats(trace: QuantizeTrace | ErrorTrace) -> ErrorStats:
    """Return the error statistics of a quantize trace (or of the lighter ErrorTrace, its x, error and clipped).

    >>> import quantviz as qv
    >>> qp = qv.QParams(1.0, 0, -2, 1)
    >>> s = error_stats(qv.quantize_trace([0.25, 0.75, 5.0], qp))
    >>> s.count, s.mse, s.clipped_share, s.clipping_mse
    (3, 5.375, 0.3333333333333333, 5.333333333333333)
    """
    x, err, clipped = trace.x, trace.error, trace.clipped
    n = int(x.size)
    if n == 0:
        raise QuantVizError("no values to measure")
    with np.errstate(over="ignore", invalid="ignore"):  # errors near 1e308 square to inf: reported as inf
        sq = np.square(err)
        total = float(sq.sum())
        clip_sum = float(sq[clipped].sum())
        power = float(np.square(x).mean())
    mse = total / n
    return ErrorStats(
        count=n,
        mse=mse,
        rmse=math.sqrt(mse),
        max_abs_error=float(np.abs(err).max()),
        sqnr_db=sqnr_db(power, mse) if math.isfinite(mse) and math.isfinite(power) else float("nan"),
        clipped_share=float(clipped.mean()),
        # summed over the in-range values, not total − clipped: that subtraction leaves float residue where the
        # clipping error is large and the in-range error is 0
        rounding_mse=(total if clip_sum == 0 else float(sq[~clipped].sum())) / n,
        clipping_mse=clip_sum / n,
    )


def uniform_noise_power(scale: float) -> float:
    """Return s²/12, the mean squared error of rounding when the error is Uniform(−s/2, s/2).

    >>> uniform_noise_power(1.0) == 1 / 12
    True
    """
    return scale * scale / 12.0


def distinct_codes(q: np.ndarray, storage_min: int) -> int:
    """Return how many different codes appear in q (codes are at least storage_min).

    >>> distinct_codes(np.array([3, 3, 5, 0]), 0)
    3
    """
    return int(np.count_nonzero(np.bincount(np.asarray(q, dtype=np.int64).ravel() - storage_min))) if np.size(q) else 0


def uniform_noise_sqnr_db(signal_power: float, scale: float) -> float:
    """Return the SQNR that the uniform-noise model predicts: noise power s^2 / 12.

    Each extra bit halves s, so this rises by 20 log10(2) = 6.02 dB per bit.

    >>> round(uniform_noise_sqnr_db(1.0, 0.5) - uniform_noise_sqnr_db(1.0, 1.0), 2)
    6.02
    """
    return sqnr_db(signal_power, uniform_noise_power(scale))


class SqnrCurve(NamedTuple):
    """Measured SQNR against bit width, beside the uniform-noise prediction, with the error split by cause.

    ``rounding_mse`` and ``clipping_mse`` add up to each width's measured MSE (both are sums over their values
    divided by all values); ``model_mse`` is s²/12 at that width.
    """

    bits: np.ndarray
    measured_db: np.ndarray
    predicted_db: np.ndarray
    clipped_share: np.ndarray
    rounding_mse: np.ndarray
    clipping_mse: np.ndarray
    model_mse: np.ndarray


def sqnr_by_bits(
    x: np.ndarray,
    rmin: float,
    rmax: float,
    *,
    bits_list: range | list[int] = range(MIN_BITS, MAX_BITS + 1),
    signed: bool = False,
    symmetric: bool = False,
    convention: str = "textbook",
) -> SqnrCurve:
    """Return the measured SQNR of ``x`` at each bit width, with the 6.02 dB/bit model beside it.

    Bit widths the convention does not support are skipped.

    >>> c = sqnr_by_bits(np.linspace(-1, 1, 1001), -1, 1, bits_list=[4, 8])
    >>> c.bits.tolist(), bool(c.measured_db[1] - c.measured_db[0] > 20)
    ([4, 8], True)
    """
    conv = get_convention(convention)
    power = float(np.square(x).mean())
    rows = []
    for bits in bits_list:
        if conv.unsupported_reason(bits=bits, signed=signed, symmetric=symmetric):
            continue
        qp = choose_qparams(rmin, rmax, bits=bits, signed=signed, symmetric=symmetric, convention=convention)
        stats = error_stats(conv.error_trace(x, qp))
        rows.append(
            (
                bits,
                stats.sqnr_db,
                uniform_noise_sqnr_db(power, qp.scale),
                stats.clipped_share,
                stats.rounding_mse,
                stats.clipping_mse,
                uniform_noise_power(qp.scale),
            )
        )
    arr = np.array(rows, dtype=np.float64).reshape(-1, 7)
    return SqnrCurve(arr[:, 0].astype(int), *(arr[:, i] for i in range(1, 7)))


# ----------------------------------------------------------------------------- transfer curve
class TransferCurve(NamedTuple):
    """x against its dequantized value (the staircase) and the error (the sawtooth)."""

    x: np.ndarray
    dequantized: np.ndarray
    error: np.ndarray


def transfer_curve(
    qp: QParams,
    lo: float,
    hi: float,
    *,
    convention: str = "textbook",
    rounding: str | None = None,
    add_zero_point_before_rounding: bool = False,
    points: int = 800,
) -> TransferCurve:
    """Return the staircase x -> dequantize(quantize(x)) sampled on [lo, hi], steps kept sharp.

    Each code boundary inside [lo, hi] gets two points (just before and at it), so the
    staircase is drawn with vertical risers however many codes there are, up to ``points``.
    """
    if not hi > lo:
        hi = lo + qp.scale
    x = np.linspace(lo, hi, points)
    t = quantize_trace(
        x, qp, convention=convention, rounding=rounding, add_zero_point_before_rounding=add_zero_point_before_rounding
    )
    return TransferCurve(t.x, t.dequantized, t.error)
