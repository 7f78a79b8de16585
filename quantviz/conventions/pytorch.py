"""PyTorch: torch.ao's MinMaxObserver, quantize_per_tensor and fake_quantize_per_tensor_affine (x86 CPU)."""

from __future__ import annotations

import numpy as np

from quantviz.conventions.base import F32, F32_EPS, ChoiceTrace, Convention, _as_float_array, _check_nan
from quantviz.conventions.recipe import Recipe
from quantviz.conventions.rules import ScaleDtype, ZeroRule
from quantviz.grid import GridOptions, int_range
from quantviz.qparams import QParams
from quantviz.rounding import Rounding, fma_float32


def _pytorch_grid(options: GridOptions) -> tuple[int, int]:
    """quant_min/quant_max as torch.ao's calculate_qmin_qmax computes them."""
    customized = options.bits != 8 or options.narrow_range
    qmin, qmax = options.replace(reduce_range=False).grid()
    if options.reduce_range:
        if customized:
            qmin, qmax = qmin // 2, qmax // 2
        else:
            qmin, qmax = int_range(8, signed=options.signed, reduce_range=True)
    return qmin, qmax


def _symmetric_zero(signed: bool, customized: bool, qmin: int, qmax: int) -> tuple[int, ZeroRule, str]:
    """The observer's symmetric zero point, its rule and its formula: 0 (qint8), 128 (quint8) or the middle."""
    if signed:
        return 0, ZeroRule.ZERO, "0 for a signed (qint8) grid"
    if not customized:
        return 128, ZeroRule.MIDDLE, "128 for quint8"
    zero_point = (qmin + qmax) // 2
    formula = f"the middle of the grid, ({qmin} + {qmax}) // 2 = {zero_point} (integer division rounds down)"
    return zero_point, ZeroRule.MIDDLE, formula


class PyTorch(Convention):
    """torch.ao MinMaxObserver + quantize_per_tensor / fake_quantize_per_tensor_affine."""

    def _unsupported(self, options: GridOptions) -> str | None:
        if options.bits > 8:
            return (
                f"{options.bits}-bit grids are not supported; PyTorch quantizes to quint8/qint8 "
                "(2 to 8 bits via quant_min/quant_max)"
            )
        if options.narrow_range and not options.signed:
            return (
                "narrow range on an unsigned grid ([1, 255]) is refused by PyTorch's observers, "
                "whose range must contain 0; use a signed grid"
            )
        if options.symmetric and options.reduce_range and not options.signed:
            return (
                "PyTorch cannot reduce the range of symmetric quint8 (NotImplementedError); "
                "use qint8 (signed) or turn reduce_range off"
            )
        return None

    def _trace(self, rmin: float, rmax: float, options: GridOptions) -> ChoiceTrace:
        qmin, qmax = _pytorch_grid(options)
        storage_min, storage_max = int_range(8, signed=options.signed)
        customized = options.bits != 8 or options.narrow_range
        given = (float(F32(rmin)), float(F32(rmax)))
        min_neg = min(F32(rmin), F32(0))
        max_pos = max(F32(rmax), F32(0))
        adjustment = "widened to include 0" if (float(min_neg), float(max_pos)) != given else ""
        eps = F32(F32_EPS)
        raw: float | None = None
        clamped = False
        if options.symmetric:
            absmax = max(-min_neg, max_pos)
            divisor = float(qmax - qmin)
            scale = max(F32(absmax / F32(divisor / 2)), eps)
            scale_formula = f"absmax / ((qmax − qmin) / 2) = absmax / {divisor / 2:g}"
            zero_point, rule, formula = _symmetric_zero(options.signed, customized, qmin, qmax)
            lo, hi = -absmax, absmax
            adjustment = f"made symmetric, [−{float(absmax):g}, {float(absmax):g}]"
        else:
            divisor = float(qmax - qmin)
            scale = max(F32(F32(max_pos - min_neg) / F32(qmax - qmin)), eps)
            scale_formula = f"(rmax − rmin) / (qmax − qmin) = (rmax − rmin) / {qmax - qmin}"
            steps = F32(min_neg / scale)
            raw = float(qmin - np.float64(steps))
            rounded = qmin - int(np.rint(steps))
            zero_point = min(max(rounded, qmin), qmax)
            clamped = zero_point != rounded
            rule, formula = ZeroRule.FROM_MIN, "qmin − round_half_even(rmin / s), rmin / s in float32"
            lo, hi = min_neg, max_pos
        qp = QParams(
            scale=float(scale),
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
            scale_dtype=ScaleDtype.FLOAT32,
            scale=float(scale),
            zero_rule=rule,
            zero_formula=formula,
            zero_raw=raw,
            zero_tie_rule=Rounding.HALF_TO_EVEN if raw is not None else None,
            zero_clamped=clamped,
            zero_shift=0,
            qparams=qp,
        )

    def _recipe(self, options: GridOptions, *, rounding: str, z_first: bool) -> Recipe:
        customized = options.bits != 8 or options.narrow_range
        if not options.symmetric:
            zero_rule = ZeroRule.FROM_MIN
        elif options.signed:
            zero_rule = ZeroRule.ZERO
        else:
            zero_rule = ZeroRule.MIDDLE_FLOOR if customized else ZeroRule.MIDDLE
        return Recipe(
            range_dtype="float32",
            widening="include_zero",
            empty_range="eps_floor",
            grid=_pytorch_grid(options),
            symmetric=options.symmetric,
            divisor="full",
            scale_arithmetic="float32",
            scale_storage="float32",
            zero_rule=zero_rule,
            zero_frame=0,
            zero_arithmetic="float32_steps",
            zero_rounding=Rounding.HALF_TO_EVEN,
            zero_clamp=True,
            quantize_arithmetic="float32_fma",
            order="add_then_round",
            rounding=rounding,
            storage=int_range(8, signed=options.signed),
        )

    def _round(self, x, qparams, mode, seed, z_first, scratch=False):
        inv = F32(1) / F32(qparams.scale)
        # x86 with FMA: round(fma(x, 1/s, z)), the fused product-sum rounded once to float32.
        pre_round = fma_float32(x.astype(F32, copy=False), inv, qparams.zero_point)
        return pre_round, np.rint(pre_round, out=pre_round if scratch else None)

    def fake_quantize(self, x, qparams):
        """torch.fake_quantize_per_tensor_affine: rounds x*(1/s) first, then adds z, clamps to [qmin, qmax]."""
        xs = _as_float_array(x).astype(F32)
        _check_nan(xs)
        scale = F32(qparams.scale)
        inv = F32(1) / scale
        with np.errstate(over="ignore", invalid="ignore"):
            codes = np.rint(xs * inv) + F32(qparams.zero_point)
            codes = np.clip(codes, F32(qparams.qmin), F32(qparams.qmax))
            return (codes - F32(qparams.zero_point)) * scale


PYTORCH = PyTorch(
    name="pytorch",
    label="PyTorch",
    summary=(
        "torch.ao MinMaxObserver and torch.quantize_per_tensor (x86 CPU): the codes it stores, clamped to the "
        "8-bit type; fake_quantize_per_tensor_affine clamps to [quant_min, quant_max] instead."
    ),
    rules=(
        "Work in float32; widen to include 0.",
        "Affine: s = max((rmax − rmin) / (qmax − qmin), float32 eps); z = qmin − round_half_even(rmin / s), clamped.",
        (
            "Symmetric: s = absmax / ((qmax − qmin) / 2), so int8 divides by 127.5 "
            "and the top value clips; z = 0 (qint8) or 128 (quint8)."
        ),
        "reduce_range chooses s on a 7-bit grid (quint8 [0, 127], qint8 [−64, 63]) but still stores 8 bits.",
        (
            "quantize_per_tensor: q = round_half_even(fma(x, 1/s, z)): z is added before "
            "rounding, in one fused multiply-add."
        ),
        "fake_quantize_per_tensor_affine: rounds x · (1/s) first, then adds z.",
    ),
    tie_rule=Rounding.HALF_TO_EVEN,
    arithmetic="float32",
    widens_to_include_zero=True,
    adds_zero_point_before_rounding=True,
)
