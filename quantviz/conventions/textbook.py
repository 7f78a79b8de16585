"""The textbook convention: the blackboard formula in exact float64, every option and rounding mode."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from quantviz.conventions.base import F32_TINY, ChoiceTrace, Convention
from quantviz.conventions.recipe import Recipe
from quantviz.conventions.rules import ScaleDtype, ZeroRule
from quantviz.errors import BitsError, RangeError, UnsupportedError
from quantviz.grid import GridOptions
from quantviz.qparams import QParams
from quantviz.rounding import ROUNDING_MODES, Rounding, apply_rounding, round_exact


def _zero_from_min(lo: float, hi: float, qmin: int, qmax: int) -> tuple[float, int, bool]:
    """(z before rounding, z, whether it was clamped): z = qmin − rmin / s, from the exact ratio.

    In rational arithmetic, not from the rounded scale, so ties stay ties (in float64, 0 − (−1.1)·255/2.2 is
    127.49999999999999 and would round down).
    """
    exact = qmin - Fraction(lo) * (qmax - qmin) / (Fraction(hi) - Fraction(lo))
    rounded = round_exact(exact, Rounding.HALF_TO_EVEN)
    zero_point = min(max(rounded, qmin), qmax)
    return float(exact), zero_point, zero_point != rounded


class Textbook(Convention):
    """Exact float64 arithmetic, every option and rounding mode available."""

    order_can_change = True

    def _unsupported(self, options: GridOptions) -> str | None:
        try:
            qmin, qmax = options.grid()
        except BitsError as exc:
            return f"{exc}; use more bits or fewer of narrow range / reduce range"
        middle = int(np.rint((qmin + qmax) / 2))
        if options.symmetric and min(qmax - middle, middle - qmin) == 0:
            return (
                f"a symmetric scheme needs codes on both sides of z, and the grid [{qmin}, "
                f"{qmax}] has none; use more bits"
            )
        return None

    def _trace(self, rmin: float, rmax: float, options: GridOptions) -> ChoiceTrace:
        qmin, qmax = options.grid()
        lo, hi = min(rmin, 0.0), max(rmax, 0.0)
        adjustment = "widened to include 0" if (lo, hi) != (rmin, rmax) else ""
        raw: float | None = None
        clamped = False
        if options.symmetric:
            absmax = max(-lo, hi)
            middle = (qmin + qmax) / 2
            zero_point = int(np.rint(middle))
            # Divide by the shorter side so that [-absmax, absmax] never clips.
            side = min(qmax - zero_point, zero_point - qmin)
            divisor = 2.0 * side
            scale_formula = (
                f"absmax / {side}, the codes on the shorter side of z, so that [−absmax, absmax] never clips"
            )
            lo, hi = -absmax, absmax
            adjustment = f"made symmetric, [−{absmax:g}, {absmax:g}]"
            scale = absmax / side if absmax > 0 else 1.0
            rule, formula = (
                ZeroRule.MIDDLE,
                f"the middle of the grid, round_half_even(({qmin} + {qmax}) / 2) = {zero_point}",
            )
        elif hi == lo:
            divisor = float(qmax - qmin)
            scale_formula = "1, for an empty range"
            scale, zero_point = 1.0, min(max(0, qmin), qmax)
            rule, formula = ZeroRule.DEGENERATE, f"an empty range: s = 1 and z = {zero_point}"
        else:
            divisor = float(qmax - qmin)
            scale_formula = f"(rmax − rmin) / (qmax − qmin) = (rmax − rmin) / {qmax - qmin}"
            scale = (hi - lo) / divisor
            raw, zero_point, clamped = _zero_from_min(lo, hi, qmin, qmax)
            rule, formula = ZeroRule.FROM_MIN, "qmin − rmin / s, rounded half to even"
        if scale < F32_TINY:
            raise RangeError(
                f"range width {hi - lo:.3g} is too small: the scale {scale:.3g} would underflow "
                f"float32 (below {F32_TINY:.3g}); widen the range"
            )
        qp = QParams(scale=scale, zero_point=zero_point, qmin=qmin, qmax=qmax, rmin=lo, rmax=hi)
        return ChoiceTrace(
            range_given=(rmin, rmax),
            range_used=(lo, hi),
            adjustment=adjustment,
            grid=(qmin, qmax),
            storage=(qmin, qmax),
            scale_divisor=divisor,
            scale_formula=scale_formula,
            scale_dtype=ScaleDtype.FLOAT64,
            scale=scale,
            zero_rule=rule,
            zero_formula=formula,
            zero_raw=raw,
            zero_tie_rule=Rounding.HALF_TO_EVEN if raw is not None else None,
            zero_clamped=clamped,
            zero_shift=0,
            qparams=qp,
        )

    def _recipe(self, options: GridOptions, *, rounding: str, z_first: bool) -> Recipe:
        return Recipe(
            range_dtype="float64",
            widening="include_zero",
            empty_range="unit_scale",
            grid=options.grid(),
            symmetric=options.symmetric,
            divisor="shorter_side" if options.symmetric else "full",
            scale_arithmetic="float64",
            scale_storage="float64",
            zero_rule=ZeroRule.MIDDLE if options.symmetric else ZeroRule.FROM_MIN,
            zero_frame=0,
            zero_arithmetic="exact_ratio",
            zero_rounding=Rounding.HALF_TO_EVEN,
            zero_clamp=True,
            quantize_arithmetic="float64_divide",
            order="add_then_round" if z_first else "round_then_add",
            rounding=rounding,
            storage=options.grid(),
        )

    def check_rounding(self, rounding: str | None) -> Rounding:
        mode = rounding or self.tie_rule
        if mode not in ROUNDING_MODES:
            raise UnsupportedError(f"unknown rounding mode {mode!r}; choose one of {', '.join(ROUNDING_MODES)}")
        return Rounding(mode)

    def _steps_into(self, x, qparams, out):
        with np.errstate(over="ignore"):
            np.divide(x.astype(np.float64, copy=False), qparams.scale, out=out)
        np.rint(out, out=out)  # the default tie rule, half to even
        return True

    def _round(self, x, qparams, mode, seed, z_first, scratch=False):
        with np.errstate(over="ignore"):
            scaled = x.astype(np.float64, copy=False) / qparams.scale
        if z_first:
            pre_round = scaled + qparams.zero_point
            return pre_round, apply_rounding(pre_round, mode, seed=seed)
        rounded = apply_rounding(scaled, mode, seed=seed)
        rounded += qparams.zero_point
        return scaled, rounded


TEXTBOOK = Textbook(
    name="textbook",
    label="Textbook",
    summary=(
        "The formula on the blackboard in float64, with the zero point from the exact ratio (so a tie stays a "
        "tie); every option and rounding mode."
    ),
    rules=(
        "Widen [rmin, rmax] to include 0, so that real 0 gets an exact code.",
        "Asymmetric: s = (rmax − rmin) / (qmax − qmin) in float64; z = round(qmin − rmin·(qmax − qmin)/(rmax − rmin)), "
        "the ratio computed exactly (rational arithmetic), clamped to the grid.",
        (
            "Symmetric: z = the middle code (0 for signed grids, 2^(b−1) for unsigned); "
            "s = absmax divided by the codes on the shorter side of z, so that [−absmax, "
            "absmax] never clips."
        ),
        "Quantize: q = clamp(round(x / s) + z, qmin, qmax), x / s in float64 (the stored s is rounded, so a value "
        "meant to sit on a tie can land a hair off it), any rounding mode; or round(x / s + z) as the seed example "
        "writes it.",
        "Dequantize: r = s · (q − z), in float64.",
    ),
    tie_rule=Rounding.HALF_TO_EVEN,
    arithmetic="float64",
    widens_to_include_zero=True,
    adds_zero_point_before_rounding=False,
)
