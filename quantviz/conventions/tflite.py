"""TFLite: the converter's (s, z) and the interpreter's QUANTIZE kernels (default and reference)."""

from __future__ import annotations

import numpy as np

from quantviz.conventions.base import F32, ChoiceTrace, Convention
from quantviz.conventions.recipe import TFLITE_NEAR_ZERO, Recipe
from quantviz.conventions.rules import ScaleDtype, ZeroRule
from quantviz.grid import GridOptions
from quantviz.qparams import QParams
from quantviz.rounding import Rounding, round_half_away_from_zero


def _weights_trace(lo: float, hi: float) -> ChoiceTrace:
    """The converter's weights: int8, narrow range [-127, 127], z = 0, s = absmax / 127 in float32."""
    absmax = max(abs(lo), abs(hi))
    scale = float(F32(absmax) / F32(127)) if absmax > 0 else 1.0
    qp = QParams(
        scale=scale, zero_point=0, qmin=-127, qmax=127, storage_min=-128, storage_max=127, rmin=-absmax, rmax=absmax
    )
    return ChoiceTrace(
        range_given=(lo, hi),
        range_used=(-absmax, absmax),
        adjustment=f"made symmetric, [−{absmax:g}, {absmax:g}]",
        grid=(-127, 127),
        storage=(-128, 127),
        scale_divisor=254.0,
        scale_formula="absmax / 127",
        scale_dtype=ScaleDtype.FLOAT32,
        scale=scale,
        zero_rule=ZeroRule.ZERO,
        zero_formula="0 for symmetric int8 weights",
        zero_raw=None,
        zero_tie_rule=None,
        zero_clamped=False,
        zero_shift=0,
        qparams=qp,
    )


class TFLite(Convention):
    """The TFLite converter's parameters and the interpreter's QUANTIZE op."""

    reference_kernels: bool = False

    def _unsupported(self, options: GridOptions) -> str | None:
        if options.bits != 8:
            return (
                f"{options.bits}-bit grids are not modelled here: this convention is TFLite's int8 path (int8, or "
                "uint8 inputs/outputs); TFLite's 16x8 mode (int16 activations, int8 weights) is not one of its options "
                "yet"
            )
        if options.reduce_range:
            return "reduce_range is a PyTorch option; TFLite has none (use the PyTorch or textbook convention)"
        if options.symmetric and not options.signed:
            return "symmetric quantization is for int8 weights; choose a signed grid, or asymmetric for uint8"
        if options.narrow_range and not options.symmetric:
            return (
                "narrow range [-127, 127] is used only for symmetric int8 weights; tick symmetric or turn narrow "
                "range off"
            )
        return None

    def _trace(self, rmin: float, rmax: float, options: GridOptions) -> ChoiceTrace:
        lo, hi = float(F32(rmin)), float(F32(rmax))
        given = (lo, hi)
        if options.symmetric:
            return _weights_trace(lo, hi)
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        adjustment = "widened to include 0" if (lo, hi) != given else ""
        qmin, qmax = -128, 127
        # Measured on TF 2.21 (186 random and 200 near-tie calibrated ranges): the scale is computed in
        # float32; the zero point qmin - rmin / s in double with that float32 scale, *then rounded to
        # float32*, then half away from zero. The float32 rounding decides where the double lies within
        # a float32 ulp of x.5: it lands on the tie, and the tie goes away from zero.
        if hi - lo < TFLITE_NEAR_ZERO:
            # A (nearly) empty range is widened by 1e-6 on each side, not given a zero scale.
            lo, hi = lo - TFLITE_NEAR_ZERO, hi + TFLITE_NEAR_ZERO
            adjustment = "widened by 1e-6 on each side (nearly empty)"
        scale = F32(F32(hi) - F32(lo)) / F32(qmax - qmin)
        zero_float = float(F32(qmin - lo / float(scale)))
        if zero_float < qmin:
            zero_point = qmin
        elif zero_float > qmax:
            zero_point = qmax
        else:
            zero_point = int(round_half_away_from_zero(np.float64(zero_float)))
        clamped = not qmin <= zero_float <= qmax
        scale = float(F32(scale))
        # A uint8 input/output: the converter quantizes to int8 and shifts by 128.
        shift = 0 if options.signed else 128
        grid = (qmin + shift, qmax + shift)
        qp = QParams(scale=scale, zero_point=zero_point + shift, qmin=grid[0], qmax=grid[1], rmin=lo, rmax=hi)
        formula = "qmin − rmin / s on int8 (double, then float32), rounded half away from zero"
        if shift:
            formula += ", plus 128 for a uint8 input/output"
        return ChoiceTrace(
            range_given=given,
            range_used=(lo, hi),
            adjustment=adjustment,
            grid=grid,
            storage=grid,
            scale_divisor=255.0,
            scale_formula="(rmax − rmin) / 255",
            scale_dtype=ScaleDtype.FLOAT32,
            scale=scale,
            zero_rule=ZeroRule.FROM_MIN,
            zero_formula=formula,
            zero_raw=zero_float + shift,
            zero_tie_rule=Rounding.HALF_AWAY_FROM_ZERO,
            zero_clamped=clamped,
            zero_shift=shift,
            qparams=qp,
        )

    def _recipe(self, options: GridOptions, *, rounding: str, z_first: bool) -> Recipe:
        grid = (-127, 127) if options.symmetric else ((-128, 127) if options.signed else (0, 255))
        return Recipe(
            range_dtype="float32",
            widening="include_zero",
            empty_range="widen_1e-6",
            grid=grid,
            symmetric=options.symmetric,
            divisor="full",
            scale_arithmetic="float32",
            scale_storage="float32",
            zero_rule=ZeroRule.ZERO if options.symmetric else ZeroRule.FROM_MIN,
            zero_frame=0 if options.signed or options.symmetric else 128,
            zero_arithmetic="float64_to_float32",
            zero_rounding=Rounding.HALF_AWAY_FROM_ZERO,
            zero_clamp=True,
            quantize_arithmetic="float32_divide" if self.reference_kernels else "float32_multiply_inverse",
            order="round_then_add",
            rounding=rounding,
            storage=(-128, 127) if options.signed or options.symmetric else (0, 255),
        )

    def _steps_into(self, x, qparams, out):
        if self.reference_kernels:
            return False  # ties away from zero: the general path
        with np.errstate(over="ignore"):
            np.multiply(x.astype(F32, copy=False), F32(1) / F32(qparams.scale), out=out)
        np.rint(out, out=out)
        return True

    def _round(self, x, qparams, mode, seed, z_first, scratch=False):
        x32 = x.astype(F32, copy=False)
        scale = F32(qparams.scale)
        with np.errstate(over="ignore"):
            if self.reference_kernels:
                pre_round = x32 / scale
                rounded = round_half_away_from_zero(pre_round)
            else:
                pre_round = x32 * (F32(1) / scale)
                rounded = np.rint(pre_round, out=pre_round if scratch else None)
        rounded += F32(qparams.zero_point)
        return pre_round, rounded


class TFLiteReference(TFLite):
    """TFLite with the interpreter's reference kernels (ties away from zero)."""

    reference_kernels = True


TFLITE = TFLite(
    name="tflite",
    label="TFLite",
    summary="The TFLite converter's parameters and the interpreter's default (XNNPACK/optimized) QUANTIZE kernel.",
    rules=(
        "Activations (asymmetric): widen to include 0; s = (rmax − rmin) / 255 in float32; z = qmin − rmin / s "
        "(in double, with that float32 s), clamped to the int8 grid [−128, 127], else rounded half away from zero.",
        "A uint8 input or output gets the int8 zero point + 128 (so [−1000, 1000] gets 127, not 128).",
        "Weights (symmetric): int8 narrow range [−127, 127], s = max(|rmin|, |rmax|) / 127, z = 0.",
        "The scale is stored as float32.",
        "Quantize (default kernels): q = clamp(round_half_even(x · (1/s)) + z), with 1/s computed in float32.",
    ),
    tie_rule=Rounding.HALF_TO_EVEN,
    arithmetic="float32",
    widens_to_include_zero=True,
    adds_zero_point_before_rounding=False,
)


TFLITE_REFERENCE = TFLiteReference(
    name="tflite_reference",
    label="TFLite (reference kernels)",
    summary="The same parameters as TFLite, quantized by the interpreter's reference kernels.",
    rules=(
        "Same s and z as the TFLite converter.",
        "Quantize (reference kernels, BUILTIN_REF): q = clamp(round_half_away_from_zero(x / s) + z), float32 division.",
        "At an exact tie the two kernels can disagree: ±0.5, ±2.5, ±4.5, … go to the even code (toward zero) in the "
        "default kernels and away from zero here; at ±1.5, ±3.5, … both give the same code. The same model, two "
        "answers.",
    ),
    tie_rule=Rounding.HALF_AWAY_FROM_ZERO,
    arithmetic="float32",
    widens_to_include_zero=True,
    adds_zero_point_before_rounding=False,
)
