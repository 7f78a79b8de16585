"""One value, step by step: x/s, rounding, + z, clamp, binary, dequantize, error, each number from the trace.

TF fake-quant's kernel has its own order (x is clamped to the nudged range first) and gets its own steps.
"""

from __future__ import annotations

import math

import numpy as np

from quantviz.conventions import get_convention
from quantviz.grid import grid_label, int_range, storage_bits, to_binary
from quantviz.qparams import QParams
from quantviz.quantize import quantize_trace
from quantviz.rounding import Rounding
from quantviz.teach.causes import how, rule_words
from quantviz.teach.fmt import fmt, tex
from quantviz.teach.steps import Step


def default_probe(current: float, default: float, qp: QParams) -> float:
    """The probe value to show: ``current``, unless it is the untouched ``default`` and lies outside what the grid
    represents; then a value 70% of the way up the representable range (as a rule between two codes, so rounding shows).

    Parameters
    ----------
    current : float
        The probe value the page holds (from the reader, a link or the default).
    default : float
        The page's default probe.
    qp : QParams
        The grid the probe is quantized to.

    Returns
    -------
    float
        ``current``, or an in-range stand-in rounded to three significant digits.

    Examples
    --------
    >>> from quantviz.quantize import choose_qparams
    >>> default_probe(39.2, 39.2, choose_qparams(-1000, 1000))  # inside: kept
    39.2
    >>> default_probe(39.2, 39.2, choose_qparams(-2, 6))  # outside: moved in
    3.59
    >>> default_probe(100.0, 39.2, choose_qparams(-2, 6))  # the reader's own value is never moved
    100.0
    """
    if current != default or qp.real_min <= current <= qp.real_max:
        return current
    # The grid holds real 0, so |0.3·real_min + 0.7·real_max| is at most 0.7 of the farther end: three digits
    # (a change of at most 0.5%) cannot carry it past that end.
    return float(f"{qp.real_min + 0.7 * (qp.real_max - qp.real_min):.3g}")


def probe_steps(
    x: float,
    qp: QParams,
    *,
    convention: str = "textbook",
    rounding: str | None = None,
    add_zero_point_before_rounding: bool = False,
    bits: int = 8,
    signed: bool = False,
) -> list[Step]:
    """Return every step of quantizing one value x: x/s, rounding, + z, clamp, binary, dequantize, error."""
    conv = get_convention(convention)
    t = quantize_trace(
        [x], qp, convention=convention, rounding=rounding, add_zero_point_before_rounding=add_zero_point_before_rounding
    )
    recipe = conv.recipe(rounding=rounding, add_zero_point_before_rounding=add_zero_point_before_rounding)
    if recipe.quantize_arithmetic == "tf_nudged":
        return _nudged_probe_steps(x, qp, t, bits=bits, signed=signed)
    mode = conv.check_rounding(rounding)
    z_first = add_zero_point_before_rounding or conv.adds_zero_point_before_rounding
    pre, scaled = float(t.pre_round[0]), float(t.scaled[0])
    note = f"{conv.label} {how(recipe, 'quantize_arithmetic')}: {fmt(pre, 12)}."
    divide = Step(
        label="Divide by the scale",
        formula=rf"\frac{{x}}{{s}} = \frac{{{tex(x)}}}{{{tex(qp.scale)}}} = {tex(scaled, 12)}",
        value=fmt(scaled, 12),
        note=note if recipe.quantize_arithmetic != "float64_divide" else "",
    )
    return [
        divide,
        *_round_and_shift_steps(t, qp, mode=mode, z_first=z_first),
        _clamp_step(t, qp),
        *_stored_and_back(x, qp, t, bits=bits, signed=signed, mode=mode),
    ]


def _rounding_note(pre: float, rounded: float, mode: str) -> str:
    """The rounding rule in words; an exact tie or a value printed as a tie but just off it is said so."""
    # "a tie" only where a tie decides anything: the round-to-nearest rules
    tie = mode in NEAREST and (abs(pre - math.floor(pre) - 0.5) == 0 if math.isfinite(pre) else False)
    rule = Rounding(mode).name_words
    if mode in NEAREST and not tie and math.isfinite(pre) and fmt(pre, 12).endswith(".5"):
        side = "under" if pre < math.floor(pre) + 0.5 else "over"
        rule += f"; {fmt(pre, 12)} as shown, but {pre!r} exactly: just {side} the tie, because the stored s is rounded"
    return f"An exact tie: {rule} gives {fmt(rounded)}." if tie else rule


def _round_and_shift_steps(t, qp: QParams, *, mode: str, z_first: bool) -> list[Step]:
    """Round and add the zero point, in the convention's order."""
    pre, unclamped, scaled = float(t.pre_round[0]), float(t.unclamped[0]), float(t.scaled[0])
    rounded = unclamped if z_first else unclamped - qp.zero_point
    round_step = Step(
        label="Round",
        formula=rf"\operatorname{{round}}({tex(pre, 12)}) = {tex(rounded)}",
        value=fmt(rounded),
        note=_rounding_note(pre, rounded, mode),
    )
    if not z_first:
        shift = Step(
            label="Add the zero point",
            formula=rf"{tex(rounded)} + {qp.zero_point} = {tex(unclamped)}",
            value=fmt(unclamped),
        )
        return [round_step, shift]
    shifted = scaled + qp.zero_point
    shift = Step(
        label="Add the zero point",
        formula=rf"\frac{{x}}{{s}} + z = {tex(scaled, 12)} + {qp.zero_point} = {tex(shifted, 12)}",
        value=fmt(shifted, 12),
    )
    return [shift, round_step]


def _clamp_step(t, qp: QParams) -> Step:
    """The clamp to the (stored) grid, a check: it holds where nothing was clipped."""
    unclamped, q = float(t.unclamped[0]), int(t.q[0])
    clipped = bool(t.clipped[0])
    chosen_grid = (qp.storage_min, qp.storage_max) == (qp.qmin, qp.qmax)
    inside = "Inside the grid: nothing to clip."
    if not chosen_grid and not clipped and not qp.qmin <= q <= qp.qmax:
        inside = (
            f"Inside the stored grid [{qp.storage_min}, {qp.storage_max}]: nothing to clip, although s and z were "
            f"chosen for [{qp.qmin}, {qp.qmax}] and {q} lies beyond it."
        )
    return Step(
        label="Clamp to the grid" if chosen_grid else "Clamp to the stored grid",
        formula=rf"\operatorname{{clamp}}({tex(unclamped)},\ {qp.storage_min},\ {qp.storage_max}) = {q}",
        value=str(q),
        check=not clipped,
        note=(f"{fmt(unclamped)} is outside the grid: the value is clipped to {q}." if clipped else inside),
    )


NEAREST = ("half_to_even", "half_away_from_zero", "half_up", "half_up_float32")


def _stored_and_back(x: float, qp: QParams, t, *, bits: int, signed: bool, mode: str) -> list[Step]:
    """The last steps of any probe: the code in binary, dequantized, and its error (``mode``: the code's rounding)."""
    nearest = mode in NEAREST
    steps: list[Step] = []
    q, clipped = int(t.q[0]), bool(t.clipped[0])
    # the type the codes are stored in: PyTorch's 4-bit grid still lives in a qint8/quint8
    bits, signed = storage_bits(qp.storage_min, qp.storage_max)
    lo, hi = int_range(bits, signed=signed)
    if lo <= q <= hi:
        steps.append(
            Step(
                f"Store as {grid_label(bits, signed=signed)}",
                rf"\texttt{{{to_binary(q, bits, signed=signed)}}}",
                to_binary(q, bits, signed=signed),
                note="two's complement" if signed else "unsigned binary",
            )
        )
    deq = float(t.dequantized[0])
    steps.append(
        Step(
            "Dequantize", rf"s\,(q - z) = {tex(qp.scale)} \times ({q} - {qp.zero_point}) = {tex(deq, 12)}", fmt(deq, 12)
        )
    )
    err = float(t.error[0])
    half = qp.scale / 2
    if clipped:
        note = f"The value was clipped: clipping error (half a step is s/2 = {fmt(half, 6)})."
    elif not nearest:
        note = (
            f"Rounding error only: rounding {rule_words(mode)} moves a value by up to a whole step "
            f"(s = {fmt(qp.scale, 6)}), not half of one."
        )
    elif abs(err) <= half:
        note = f"Within half a step (s/2 = {fmt(half, 6)}): rounding error only."
    else:  # a nearest rule, not clipped, a hair past s/2: the output itself is rounded to float32
        note = (
            f"Rounding error only: half a step (s/2 = {fmt(half, 6)}) plus the float32 rounding of the "
            "dequantized value."
        )
    steps.append(
        Step(
            "Error",
            rf"\hat{{x}} - x = {tex(deq, 12)} - {tex(x, 12)} = {tex(err, 6)}",
            fmt(err, 6),
            check=not clipped,
            note=note,
        )
    )
    return steps


def _nudged_probe_steps(x: float, qp: QParams, t, *, bits: int, signed: bool) -> list[Step]:
    """TF fake-quant's own order: clamp x to the nudged range first, then (x − nudged_min)·inv − qz, floor(v + 0.5)."""
    tf = get_convention("tf_fake_quant")
    k = tf.nudged_steps([x], qp)
    nmin, nmax = float(k.nudge.nudged_min), float(k.nudge.nudged_max)
    clamped, pre, rounded = float(k.clamped[0]), float(k.pre_round[0]), float(k.rounded[0])
    moved = clamped != float(np.float32(x))
    f32 = np.float32
    quant_zero = float(np.floor(f32(f32(-k.nudge.nudged_min * k.nudge.inv_scale) + f32(0.5))))
    steps = [
        Step(
            "Clamp x into the range first",
            rf"\operatorname{{clamp}}({tex(x)},\ {tex(nmin)},\ {tex(nmax)}) = {tex(clamped)}",
            fmt(clamped),
            check=not moved,
            note=(
                f"TF clamps the real value to its nudged range first: {fmt(x)} lies outside [{fmt(nmin, 8)}, "
                f"{fmt(nmax, 8)}] and becomes {fmt(clamped, 8)}."
                if moved
                else "TF clamps the real value to its nudged range first; this one is inside."
            ),
        ),
        Step(
            "Steps from the range's minimum",
            rf"({tex(clamped)} - ({tex(nmin)})) \times {tex(float(k.nudge.inv_scale), 10)} - q_z = {tex(pre, 12)}",
            fmt(pre, 12),
            note=(
                f"In float32, with inv = {fmt(float(k.nudge.inv_scale), 10)} computed from the range (not 1/s)"
                f" and q_z = floor(−nudged_min·inv + 0.5) = {fmt(quant_zero)}"
                + (
                    f", the zero point counted from the grid's first code {qp.qmin} (z − {qp.qmin} = "
                    f"{qp.zero_point - qp.qmin})"
                    if qp.qmin != 0
                    else ", which is z"
                )
                + "."
            ),
        ),
        Step(
            "Round half up",
            rf"\lfloor {tex(pre, 12)} + 0.5 \rfloor = {tex(rounded)}",
            fmt(rounded),
            note=(
                "An exact tie: floor(v + 0.5) rounds it up."
                if pre - math.floor(pre) == 0.5
                else "floor(v + 0.5), the sum in float32."
            ),
        ),
        Step(
            "Add the zero point",
            rf"{tex(rounded)} + {qp.zero_point} = {int(t.q[0])}",
            str(int(t.q[0])),
            note="Already on the grid: the clamp came first.",
        ),
    ]
    return steps + _stored_and_back(x, qp, t, bits=bits, signed=signed, mode="half_up_float32")
