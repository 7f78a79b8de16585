"""The textbook convention: the blackboard formula in exact float64, every option and rounding mode."""

from __future__ import annotations

import numpy as np

from quantviz.conventions.base import F32_TINY, Convention
from quantviz.errors import BitsError, RangeError, UnsupportedError
from quantviz.grid import int_range
from quantviz.qparams import QParams
from quantviz.rounding import ROUNDING_MODES, apply_rounding


class Textbook(Convention):
    """Exact float64 arithmetic, every option and rounding mode available."""

    order_can_change = True

    def unsupported_reason(self, *, bits=8, signed=False, symmetric=False, narrow_range=False, reduce_range=False):
        try:
            qmin, qmax = int_range(bits, signed=signed, narrow_range=narrow_range, reduce_range=reduce_range)
        except BitsError as exc:
            return f"{exc}; use more bits or fewer of narrow range / reduce range"
        middle = int(np.rint((qmin + qmax) / 2))
        if symmetric and min(qmax - middle, middle - qmin) == 0:
            return f"a symmetric scheme needs codes on both sides of z, and the grid [{qmin}, {qmax}] has none; use more bits"
        return None

    def choose_qparams(
        self,
        rmin: float,
        rmax: float,
        *,
        bits: int = 8,
        signed: bool = False,
        symmetric: bool = False,
        narrow_range: bool = False,
        reduce_range: bool = False,
    ) -> QParams:
        self.check_options(
            bits=bits, signed=signed, symmetric=symmetric, narrow_range=narrow_range, reduce_range=reduce_range
        )
        qmin, qmax = int_range(bits, signed=signed, narrow_range=narrow_range, reduce_range=reduce_range)
        lo, hi = min(rmin, 0.0), max(rmax, 0.0)
        if symmetric:
            absmax = max(-lo, hi)
            zero_point = int(np.rint((qmin + qmax) / 2))
            # Divide by the shorter side so that [-absmax, absmax] never clips.
            steps = min(qmax - zero_point, zero_point - qmin)
            lo, hi = -absmax, absmax
            scale = absmax / steps if absmax > 0 else 1.0
        elif hi == lo:
            scale, zero_point = 1.0, min(max(0, qmin), qmax)
        else:
            scale = (hi - lo) / (qmax - qmin)
            # z from the exact ratio, not from the rounded scale: ties stay ties.
            zero_float = qmin - lo * (qmax - qmin) / (hi - lo)
            zero_point = int(min(max(np.rint(zero_float), qmin), qmax))
        if scale < F32_TINY:
            raise RangeError(
                f"range width {hi - lo:.3g} is too small: the scale {scale:.3g} would underflow "
                f"float32 (below {F32_TINY:.3g}); widen the range"
            )
        return QParams(scale, zero_point, qmin, qmax, rmin=lo, rmax=hi)

    def check_rounding(self, rounding: str | None) -> str:
        mode = rounding or self.tie_rule
        if mode not in ROUNDING_MODES:
            raise UnsupportedError(f"unknown rounding mode {mode!r}; choose one of {', '.join(ROUNDING_MODES)}")
        return mode

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
    summary="The formula on the blackboard, computed exactly in float64; every option and rounding mode.",
    rules=(
        "Widen [rmin, rmax] to include 0, so that real 0 gets an exact code.",
        "Asymmetric: s = (rmax − rmin) / (qmax − qmin); z = round(qmin − rmin / s), clamped to the grid.",
        "Symmetric: z = the middle code (0 for signed grids, 2^(b−1) for unsigned); s = absmax divided by the codes on the shorter side of z, so that [−absmax, absmax] never clips.",
        "Quantize: q = clamp(round(x / s) + z, qmin, qmax), any rounding mode; or round(x / s + z) as the seed example writes it.",
        "Dequantize: r = s · (q − z), in float64.",
    ),
    tie_rule="half_to_even",
    arithmetic="float64",
    widens_to_include_zero=True,
    adds_zero_point_before_rounding=False,
)
