"""ONNX Runtime: onnxruntime.quantization's compute_scale_zp and the QuantizeLinear operator."""

from __future__ import annotations

import numpy as np

from quantviz.conventions.base import F32, F32_TINY, ChoiceTrace, Convention
from quantviz.conventions.recipe import Recipe
from quantviz.conventions.rules import ScaleDtype, ZeroRule
from quantviz.errors import BitsError
from quantviz.grid import GridOptions
from quantviz.qparams import QParams
from quantviz.rounding import Rounding

_ORT_SIGNED = {4: (-8, 7), 8: (-128, 127), 16: (-32768, 32767)}
_ORT_UNSIGNED = {4: (0, 15), 8: (0, 255), 16: (0, 65535)}
_ORT_REDUCED_SIGNED = {4: (-4, 3), 8: (-64, 64), 16: (-16384, 16384)}
_ORT_REDUCED_UNSIGNED = {4: (0, 7), 8: (0, 127), 16: (0, 32767)}
_ORT_SYMMETRIC_SIGNED = {8: (-127, 127), 16: (-32767, 32767)}


def onnxruntime_grid(options: GridOptions) -> tuple[int, int]:
    """Return (qmin, qmax) as onnxruntime's get_qmin_qmax_for_qType does (reduced int8 is [-64, 64]).

    >>> onnxruntime_grid(GridOptions(signed=True, reduce_range=True)), onnxruntime_grid(GridOptions(bits=4))
    ((-64, 64), (0, 15))
    """
    bits, signed = options.bits, options.signed
    if options.reduce_range:
        table = _ORT_REDUCED_SIGNED if signed else _ORT_REDUCED_UNSIGNED
    elif options.symmetric and signed and bits in _ORT_SYMMETRIC_SIGNED:
        table = _ORT_SYMMETRIC_SIGNED
    else:
        table = _ORT_SIGNED if signed else _ORT_UNSIGNED
    if bits not in table:
        raise BitsError(f"onnxruntime quantizes to 4, 8 or 16 bits, got {bits}")
    return table[bits]


class OnnxRuntime(Convention):
    """onnxruntime.quantization compute_scale_zp + the QuantizeLinear operator."""

    def _unsupported(self, options: GridOptions) -> str | None:
        if options.bits not in (4, 8, 16):
            return f"{options.bits}-bit grids are not supported; onnxruntime quantizes to 4, 8 or 16 bits"
        if options.narrow_range:
            return (
                "narrow range is not an option: onnxruntime picks [-127, 127] itself for "
                "symmetric int8 (and [-32767, 32767] for int16); turn narrow range off"
            )
        return None

    def _trace(self, rmin: float, rmax: float, options: GridOptions) -> ChoiceTrace:
        qmin, qmax = onnxruntime_grid(options)
        storage_min, storage_max = (_ORT_SIGNED if options.signed else _ORT_UNSIGNED)[options.bits]
        given = (float(F32(rmin)), float(F32(rmax)))
        lo = min(F32(rmin), F32(0))
        hi = max(F32(rmax), F32(0))
        adjustment = "widened to include 0" if (float(lo), float(hi)) != given else ""
        if options.symmetric:
            absmax = max(abs(lo), abs(hi))
            lo, hi = -absmax, absmax
            adjustment = f"made symmetric, [−{float(absmax):g}, {float(absmax):g}]"
        divisor = np.float64(qmax) - np.float64(qmin)
        scale_formula = (
            f"2·absmax / (qmax − qmin) = 2·absmax / {qmax - qmin}"
            if options.symmetric
            else f"(rmax − rmin) / (qmax − qmin) = (rmax − rmin) / {qmax - qmin}"
        )
        scale = (np.float64(hi) - np.float64(lo)) / divisor
        raw: float | None = None
        if scale < F32_TINY:
            scale, zero_point = 1.0, 0
            rule, formula = ZeroRule.DEGENERATE, "an empty range: s = 1 and z = 0"
        elif options.symmetric:
            zero_point = int(np.rint((qmin + qmax) / 2.0))
            rule, formula = (
                ZeroRule.MIDDLE,
                f"the middle of the grid, round_half_even(({qmin} + {qmax}) / 2) = {zero_point}",
            )
        else:
            raw = float(qmin - np.float64(lo) / scale)
            zero_point = int(np.rint(raw))
            rule, formula = ZeroRule.FROM_MIN, "qmin − rmin / s in float64, rounded half to even"
        qp = QParams(
            scale=float(F32(scale)),
            zero_point=zero_point,
            qmin=qmin,
            qmax=qmax,
            storage_min=storage_min,
            storage_max=storage_max,
            rmin=float(lo),
            rmax=float(hi),
        )
        return ChoiceTrace(
            range_given=given,
            range_used=(float(lo), float(hi)),
            adjustment=adjustment,
            grid=(qmin, qmax),
            storage=(storage_min, storage_max),
            scale_divisor=float(divisor),
            scale_formula=scale_formula,
            scale_dtype=ScaleDtype.FLOAT64_STORED_FLOAT32,
            scale=float(F32(scale)),
            zero_rule=rule,
            zero_formula=formula,
            zero_raw=raw,
            zero_tie_rule=Rounding.HALF_TO_EVEN if raw is not None else None,
            zero_clamped=False,
            zero_shift=0,
            qparams=qp,
        )

    def _recipe(self, options: GridOptions, *, rounding: str, z_first: bool) -> Recipe:
        return Recipe(
            range_dtype="float32",
            widening="include_zero",
            empty_range="unit_scale_zero_0",
            grid=onnxruntime_grid(options),
            symmetric=options.symmetric,
            divisor="full",
            scale_arithmetic="float64",
            scale_storage="float32",
            zero_rule=ZeroRule.MIDDLE if options.symmetric else ZeroRule.FROM_MIN,
            zero_frame=0,
            zero_arithmetic="float64",
            zero_rounding=Rounding.HALF_TO_EVEN,
            zero_clamp=False,
            quantize_arithmetic="float32_divide",
            order="round_then_add",
            rounding=rounding,
            storage=(_ORT_SIGNED if options.signed else _ORT_UNSIGNED)[options.bits],
        )

    def _steps_into(self, x, qparams, out):
        with np.errstate(over="ignore"):
            np.divide(x.astype(F32, copy=False), F32(qparams.scale), out=out)  # QuantizeLinear divides in float32
        np.rint(out, out=out)
        return True

    def _round(self, x, qparams, mode, seed, z_first, scratch=False):
        with np.errstate(over="ignore"):
            pre_round = x.astype(F32, copy=False) / F32(qparams.scale)  # QuantizeLinear divides in float32
        rounded = np.rint(pre_round, out=pre_round if scratch else None)
        rounded += F32(qparams.zero_point)  # exact for |rounded| < 2^24; beyond that it clamps anyway
        return pre_round, rounded


ONNXRUNTIME = OnnxRuntime(
    name="onnxruntime",
    label="ONNX Runtime",
    summary="onnxruntime.quantization's compute_scale_zp and the QuantizeLinear operator.",
    rules=(
        "Widen to include 0; both ends promoted to float64, s computed in float64 and stored as float32.",
        "Asymmetric: z = round_half_even(qmin − rmin / s).",
        (
            "Symmetric: s = 2·absmax / (qmax − qmin) on int8 [−127, 127] (uint8 keeps "
            "[0, 255]); z = 0 for int8, 128 for uint8."
        ),
        "reduce_range: uint8 [0, 127], int8 [−64, 64].",
        "QuantizeLinear: q = clamp(round_half_even(x / s) + z) with the division in float32, clamped to the full type.",
    ),
    tie_rule=Rounding.HALF_TO_EVEN,
    arithmetic="float32",
    widens_to_include_zero=True,
    adds_zero_point_before_rounding=False,
)
