"""The records a convention returns: every step of quantizing (QuantizeTrace) and of choosing s and z (ChoiceTrace).

Plain data, built by keyword by the conventions (:mod:`quantviz.conventions.base` re-exports them).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.conventions.rules import ScaleDtype, ZeroRule
from quantviz.qparams import QParams
from quantviz.rounding import Rounding


class QuantizeTrace(NamedTuple):
    """Every step of quantizing an array, as the convention computes it.

    Attributes
    ----------
    x : ndarray of float64
        The input values.
    scaled : ndarray of float64
        x / s in float64, for display (real value measured in grid steps).
    pre_round : ndarray
        The exact number the convention rounds (float32 for the frameworks); it already
        contains z when the convention adds z before rounding.
    unclamped : ndarray of float64
        The integer code before clamping (rounded value plus z).
    q : ndarray of int64
        The stored code, clamped to the grid (int64 here, for arithmetic; ``quantize`` returns the storage type).
    dequantized : ndarray of float64
        (q - z) * s as the convention computes it.
    error : ndarray of float64
        dequantized - x.
    clipped : ndarray of bool
        Whether the value was clamped to the end of the grid.
    """

    x: np.ndarray
    scaled: np.ndarray
    pre_round: np.ndarray
    unclamped: np.ndarray
    q: np.ndarray
    dequantized: np.ndarray
    error: np.ndarray
    clipped: np.ndarray


class ChoiceTrace(NamedTuple):
    """Every step of choosing (s, z) from a range, as the convention computes it.

    The steps come in the order they happen, so two conventions can be compared step by step
    (see :mod:`quantviz.teach.compare`). Zero-point numbers are in the frame of the stored grid:
    a TFLite uint8 zero point is computed on int8 and shifted by 128, and ``zero_raw`` includes
    that shift, so that it can be set beside a zero point computed on uint8 directly.

    Attributes
    ----------
    range_given : tuple of float
        The range as the convention reads it (float32 for the frameworks).
    range_used : tuple of float
        The range after the convention's adjustments (widening to include 0, symmetrising).
    adjustment : str
        What was done to the range, in words ("" when nothing).
    grid : tuple of int
        The integer grid (qmin, qmax) the parameters are chosen on.
    storage : tuple of int
        The grid the quantize op clamps to.
    scale_divisor : float
        How many steps of s the range used spans: (rmax − rmin) / s before rounding.
    scale_formula : str
        How the scale is computed, in words with its numbers.
    scale_dtype : ScaleDtype
        The arithmetic the scale is computed in (and, where it differs, the type it is stored as), with its words.
    scale : float
        The scale as stored.
    zero_rule : ZeroRule
        ``FROM_MIN`` (z = qmin − rmin/s, rounded), ``MIDDLE`` (set to the middle of the grid),
        ``ZERO`` (z = 0 by definition) or ``DEGENERATE`` (an empty range: a fixed fallback); each with its words.
    zero_formula : str
        The rule in words, with its numbers.
    zero_raw : float or None
        The number that is rounded to get z (None when z is set by a rule), in the stored grid's frame.
    zero_tie_rule : Rounding or None
        The rule ``zero_raw`` is rounded with.
    zero_clamped : bool
        Whether the rounded zero point fell outside the grid and was clamped.
    zero_shift : int
        Added after rounding (128 for a TFLite uint8 input), 0 otherwise.
    qparams : QParams
        The result.
    """

    range_given: tuple[float, float]
    range_used: tuple[float, float]
    adjustment: str
    grid: tuple[int, int]
    storage: tuple[int, int]
    scale_divisor: float
    scale_formula: str
    scale_dtype: ScaleDtype
    scale: float
    zero_rule: ZeroRule
    zero_formula: str
    zero_raw: float | None
    zero_tie_rule: Rounding | None
    zero_clamped: bool
    zero_shift: int
    qparams: QParams


class ErrorTrace(NamedTuple):
    """The three fields of a QuantizeTrace that error statistics and error histograms need."""

    x: np.ndarray
    error: np.ndarray
    clipped: np.ndarray
