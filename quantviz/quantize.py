"""The verbs: choose_qparams -> quantize -> dequantize (and fake_quantize, quantize_trace), each under a convention."""

from __future__ import annotations

import numpy as np

from quantviz.conventions import QuantizeTrace, get_convention
from quantviz.grid import GridOptions
from quantviz.qparams import QParams, validate_range


def choose_qparams(
    rmin: float,
    rmax: float,
    *,
    convention: str = "textbook",
    options: GridOptions | None = None,
    **grid: object,
) -> QParams:
    """Return the QParams that ``convention`` chooses for the real range [rmin, rmax].

    Parameters
    ----------
    rmin, rmax : float
        Observed real range (finite, rmin <= rmax).
    convention : str
        One of ``quantviz.CONVENTIONS``.
    options : GridOptions, optional
        The grid and scheme (bits, signed, symmetric, narrow_range, reduce_range).
    **grid :
        Or the same five options as loose keywords (``bits=8, signed=False, ...``; the defaults of
        :class:`GridOptions`), converted once, here. ``symmetric``: the range becomes [-absmax, absmax] and z sits
        mid-grid; the others define the integer grid, as in :func:`quantviz.int_range`.

    Raises
    ------
    RangeError, BitsError, UnsupportedError
        For bad ranges, bit widths, or combinations the convention does not support.

    Examples
    --------
    >>> qp = choose_qparams(-1000, 1000)
    >>> round(qp.scale, 9), qp.zero_point
    (7.843137255, 128)
    >>> choose_qparams(0, 6, convention="pytorch").zero_point
    0
    >>> choose_qparams(-1000, 1000, signed=True, convention="tflite").zero_point
    -1
    >>> choose_qparams(-1000, 1000, convention="tflite", options=GridOptions(signed=True)).zero_point
    -1
    """
    lo, hi = validate_range(rmin, rmax)
    return get_convention(convention).choose_qparams(lo, hi, GridOptions.coerce(options, grid))


def quantize_trace(
    x: object,
    qparams: QParams,
    *,
    convention: str = "textbook",
    rounding: str | None = None,
    seed: int = 0,
    add_zero_point_before_rounding: bool = False,
) -> QuantizeTrace:
    """Return every step of quantizing ``x``: x/s, the value rounded, the unclamped code, q, dequantized, error.

    Examples
    --------
    >>> qp = QParams(scale=2000 / 255, zero_point=128, qmin=0, qmax=255)
    >>> t = quantize_trace([1000.0], qp, add_zero_point_before_rounding=True)
    >>> float(t.pre_round[0]), float(t.unclamped[0]), int(t.q[0]), bool(t.clipped[0])
    (255.5, 256.0, 255, True)
    """
    return get_convention(convention).quantize_trace(
        x, qparams, rounding=rounding, seed=seed, add_zero_point_before_rounding=add_zero_point_before_rounding
    )


def quantize(
    x: object,
    qparams: QParams,
    *,
    convention: str = "textbook",
    rounding: str | None = None,
    seed: int = 0,
    add_zero_point_before_rounding: bool = False,
) -> np.ndarray:
    """Return the codes of ``x``, clamped to the grid, in the grid's storage type (uint8, int8, int16, ...).

    The type is ``qparams.code_dtype``, the smallest numpy integer type holding the stored grid, as the frameworks
    store codes (sub-byte grids one code a byte). Arithmetic on the codes wraps in that type: ``q - z`` on uint8 codes
    is not the step count; :func:`dequantize` widens first.

    Parameters
    ----------
    x : array_like
        Real values (NaN is refused; ±inf clamps to the ends).
    qparams : QParams
        From :func:`choose_qparams` with the same convention, or built by hand.
    convention : str
        One of ``CONVENTIONS``; decides the float arithmetic and the tie rule.
    rounding : str, optional
        A key of ``ROUNDING_MODES`` (textbook only; frameworks have their own).
    seed : int
        Seed for stochastic rounding.
    add_zero_point_before_rounding : bool
        Textbook only: round(x/s + z), the seed example's order, instead of round(x/s) + z.

    Examples
    --------
    >>> qp = QParams(scale=2000 / 255, zero_point=128, qmin=0, qmax=255)
    >>> quantize([39.215686275, 0.0, 1000.0, -1000.0], qp).tolist()
    [133, 128, 255, 0]
    >>> quantize([0.0], qp).dtype, quantize([0.0], QParams(scale=1.0, zero_point=0, qmin=-8, qmax=7)).dtype
    (dtype('uint8'), dtype('int8'))
    >>> quantize([-1000.0], qp, rounding="half_away_from_zero").tolist()
    [0]
    >>> quantize([-1000.0], qp, rounding="half_away_from_zero", add_zero_point_before_rounding=True).tolist()
    [1]
    """
    return get_convention(convention).quantize(
        x, qparams, rounding=rounding, seed=seed, add_zero_point_before_rounding=add_zero_point_before_rounding
    )


def dequantize(q: object, qparams: QParams, *, convention: str = "textbook") -> np.ndarray:
    """Return the real values s * (q - z) of the codes ``q`` (float32 for framework conventions).

    >>> qp = QParams(scale=0.5, zero_point=3, qmin=0, qmax=15)
    >>> dequantize([3, 4, 0], qp).tolist()
    [0.0, 0.5, -1.5]
    """
    return get_convention(convention).dequantize(q, qparams)


def fake_quantize(x: object, qparams: QParams, *, convention: str = "textbook") -> np.ndarray:
    """Return ``x`` quantized and dequantized in one go, as the framework's fake-quant op does.

    >>> qp = QParams(scale=0.5, zero_point=0, qmin=-8, qmax=7)
    >>> fake_quantize([0.3, 0.8, 100.0], qp).tolist()
    [0.5, 1.0, 3.5]
    """
    return get_convention(convention).fake_quantize(x, qparams)


def fake_quantize_range(qparams: QParams, *, convention: str = "textbook") -> tuple[float, float]:
    """Return the smallest and largest values ``fake_quantize`` gives back: where its clamp sits.

    For most conventions that is the stored grid; PyTorch's ``fake_quantize_per_tensor_affine`` clamps to
    [quant_min, quant_max] even where ``quantize_per_tensor`` keeps 8-bit codes.

    >>> qp = QParams(scale=0.5, zero_point=0, qmin=-8, qmax=7, storage_min=-128, storage_max=127)
    >>> fake_quantize_range(qp, convention="pytorch"), fake_quantize_range(qp, convention="textbook")
    ((-4.0, 3.5), (-64.0, 63.5))
    """
    far = 4.0 * (abs(qparams.stored_min) + abs(qparams.stored_max) + qparams.scale)
    ends = fake_quantize([-far, far], qparams, convention=convention)
    return float(ends[0]), float(ends[1])


def ste_mask(x: object, qparams: QParams, *, convention: str = "textbook") -> np.ndarray:
    """Return where the straight-through estimator lets the gradient through: True inside the grid.

    Fake quantization's rounding has zero derivative almost everywhere, so training pretends it is the
    identity (gradient 1) — except where the value was clamped, where the gradient is 0 and the value
    stops learning.

    >>> qp = QParams(scale=1.0, zero_point=0, qmin=-2, qmax=1)
    >>> ste_mask([-3.0, -1.0, 0.4, 1.6], qp).tolist()
    [False, True, True, False]
    """
    t = quantize_trace(x, qparams, convention=convention)
    return (t.unclamped >= qparams.qmin) & (t.unclamped <= qparams.qmax)
