"""TF fake-quant: tf.quantization.fake_quant_with_min_max_args, its nudged range and floor(v + 0.5)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from quantviz.conventions.base import F32, F32_TINY, ChoiceTrace, Convention, _as_float_array, _check_nan
from quantviz.conventions.recipe import Recipe
from quantviz.conventions.rules import ScaleDtype, ZeroRule
from quantviz.errors import RangeError
from quantviz.grid import GridOptions, int_range
from quantviz.qparams import QParams
from quantviz.rounding import Rounding, round_half_away_from_zero


class TFNudge(NamedTuple):
    """TF fake-quant's float32 nudged range and the values its kernel derives from it."""

    scale: np.float32
    inv_scale: np.float32
    zero_point: int
    nudged_min: np.float32
    nudged_max: np.float32


class TFSteps(NamedTuple):
    """TF fake-quant's kernel, step by step: the nudge, x clamped into it, the float32 number rounded, floor(v+0.5)."""

    nudge: TFNudge
    clamped: np.ndarray
    pre_round: np.ndarray
    rounded: np.ndarray


def tf_nudge(qparams: QParams) -> TFNudge:
    """Return TF's ``Nudge()`` results for parameters chosen by the tf_fake_quant convention."""
    scale = F32(qparams.scale)
    qmin_f, qmax_f = F32(qparams.qmin), F32(qparams.qmax)
    if qparams.rmin is not None and qparams.rmax is not None and qparams.rmax > qparams.rmin:
        inv = F32((qmax_f - qmin_f) / F32(F32(qparams.rmax) - F32(qparams.rmin)))
    else:
        inv = F32(1) / scale
    z = F32(qparams.zero_point)
    return TFNudge(scale, inv, qparams.zero_point, F32((qmin_f - z) * scale), F32((qmax_f - z) * scale))


class TFFakeQuant(Convention):
    """tf.quantization.fake_quant_with_min_max_args: no widening, nudged range, floor(v + 0.5)."""

    def _unsupported(self, options: GridOptions) -> str | None:
        if options.signed:
            return (
                "TF fake-quant works on unsigned grids only ([0, 2^b - 1], or [1, 2^b - "
                "1] with narrow range); untick signed, or use the TFLite/PyTorch/ONNX Runtime "
                "convention for int8"
            )
        if options.symmetric:
            return (
                "TF fake-quant has no symmetric mode: pass a range such as [-a, a] instead, or use another convention"
            )
        if options.reduce_range:
            return "reduce_range is a PyTorch option; TF fake-quant has none"
        return None

    def _trace(self, rmin: float, rmax: float, options: GridOptions) -> ChoiceTrace:
        lo, hi = F32(rmin), F32(rmax)
        if not lo < hi:
            raise RangeError(f"TF fake-quant needs min < max (in float32), got min = max = {float(lo)}")
        qmin, qmax = int_range(options.bits, narrow_range=options.narrow_range)
        qmin_f, qmax_f = F32(qmin), F32(qmax)
        with np.errstate(over="ignore"):
            scale = F32(F32(hi - lo) / (qmax_f - qmin_f))
            zero_from_min = F32(qmin_f - F32(lo / scale))
        if zero_from_min < qmin_f:
            zero_point = qmin
        elif zero_from_min > qmax_f:
            zero_point = qmax
        else:
            zero_point = int(round_half_away_from_zero(zero_from_min))
        if not math.isfinite(float(scale)) or scale < F32_TINY:
            raise RangeError(f"range [{float(lo)}, {float(hi)}] gives an unusable scale {float(scale)!r}")
        qp = QParams(scale=float(scale), zero_point=zero_point, qmin=qmin, qmax=qmax, rmin=float(lo), rmax=float(hi))
        return ChoiceTrace(
            range_given=(float(lo), float(hi)),
            range_used=(float(lo), float(hi)),
            adjustment="",
            grid=(qmin, qmax),
            storage=(qmin, qmax),
            scale_divisor=float(qmax - qmin),
            scale_formula=f"(max − min) / (qmax − qmin) = (max − min) / {qmax - qmin}",
            scale_dtype=ScaleDtype.FLOAT32,
            scale=float(scale),
            zero_rule=ZeroRule.FROM_MIN,
            zero_formula="qmin − min / s in float32; outside the grid it is clamped, "
            "else rounded half away from zero; then the range is nudged to fit z",
            zero_raw=float(zero_from_min),
            zero_tie_rule=Rounding.HALF_AWAY_FROM_ZERO,
            zero_clamped=not qmin_f <= zero_from_min <= qmax_f,
            zero_shift=0,
            qparams=qp,
        )

    def _recipe(self, options: GridOptions, *, rounding: str, z_first: bool) -> Recipe:
        grid = int_range(options.bits, narrow_range=options.narrow_range)
        return Recipe(
            range_dtype="float32",
            widening="as_given",
            empty_range="refuse",
            grid=grid,
            symmetric=False,
            divisor="full",
            scale_arithmetic="float32",
            scale_storage="float32",
            zero_rule=ZeroRule.FROM_MIN,
            zero_frame=0,
            zero_arithmetic="float32",
            zero_rounding=Rounding.HALF_AWAY_FROM_ZERO,
            zero_clamp=True,
            quantize_arithmetic="tf_nudged",
            order="round_then_add",
            rounding=Rounding.HALF_UP_FLOAT32,
            storage=grid,
        )

    def _codes(self, x32: np.ndarray, nudge: TFNudge, clamp: bool) -> tuple[np.ndarray, np.ndarray]:
        """Return (value rounded half up, floor(value + 0.5)) exactly as TF's float32 kernel computes them."""
        quant_zero = np.floor(F32(F32(-nudge.nudged_min * nudge.inv_scale) + F32(0.5)))
        with np.errstate(over="ignore", invalid="ignore"):
            if clamp:
                x32 = np.maximum(np.minimum(x32, nudge.nudged_max), nudge.nudged_min)
            shifted = x32 - nudge.nudged_min
            pre_round = shifted * nudge.inv_scale - quant_zero
            return pre_round, np.floor(pre_round + F32(0.5))

    def nudged_steps(self, x: object, qparams: QParams) -> TFSteps:
        """Return TF's kernel steps for x: x clamped to the nudged range, the number rounded, floor(v + 0.5).

        >>> qp = TF_FAKE_QUANT.choose_qparams(1.0, 2.0)
        >>> s = TF_FAKE_QUANT.nudged_steps([1.5], qp)
        >>> float(s.clamped[0]), float(s.pre_round[0]), float(s.rounded[0])
        (1.0, 255.0, 255.0)
        """
        nudge = tf_nudge(qparams)
        x32 = np.asarray(x, dtype=np.float64).astype(F32)
        clamped = np.maximum(np.minimum(x32, nudge.nudged_max), nudge.nudged_min)
        pre_round, rounded = self._codes(x32, nudge, clamp=True)
        return TFSteps(nudge, clamped, pre_round, rounded)

    def _round(self, x, qparams, mode, seed, z_first, scratch=False):
        # For display: the same float32 arithmetic without TF's clamp (the clamp comes first in TF).
        pre_round, steps = self._codes(x.astype(F32, copy=False), tf_nudge(qparams), clamp=False)
        return pre_round, steps + F32(qparams.zero_point)

    def _final_codes(self, x, qparams, unclamped, scratch=False):
        _, steps = self._codes(x.astype(F32, copy=False), tf_nudge(qparams), clamp=True)
        return steps + F32(qparams.zero_point)

    def _clipped(self, x, qparams, unclamped, q):
        nudge = tf_nudge(qparams)
        x32 = x.astype(F32, copy=False)
        return (x32 < nudge.nudged_min) | (x32 > nudge.nudged_max)

    def fake_quantize(self, x, qparams):
        """The op's float32 output: floor(...) * scale, exactly as TF's kernel computes it."""
        nudge = tf_nudge(qparams)
        xs = _as_float_array(x)
        _check_nan(xs)
        _, steps = self._codes(xs.astype(F32, copy=False), nudge, clamp=True)
        return steps * nudge.scale


TF_FAKE_QUANT = TFFakeQuant(
    name="tf_fake_quant",
    label="TF fake-quant",
    summary="tf.quantization.fake_quant_with_min_max_args: unsigned grids, no widening, a nudged range.",
    rules=(
        "No widening: [min, max] is used as given (it must have min < max).",
        "s = (max − min) / (qmax − qmin) in float32 on [0, 2^b − 1] (or [1, 2^b − 1] with narrow range).",
        "z = qmin − min / s, clamped to the grid, else rounded half away from zero.",
        "The range is then 'nudged' to [(qmin − z)·s, (qmax − z)·s], so 0 is exact but the ends move.",
        (
            "Output: floor((clamp(x) − nudged_min) · inv − qz + 0.5) · s in float32, "
            "with inv computed separately (not 1/s): ties round up."
        ),
    ),
    tie_rule=Rounding.HALF_UP,
    arithmetic="float32",
    widens_to_include_zero=False,
    adds_zero_point_before_rounding=False,
)
