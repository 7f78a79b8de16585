"""Worked steps: how (s, z) are chosen from a range, and every step of quantizing one value.

Each :class:`Step` is text, a formula with the numbers substituted, a value and a check, all
recomputed by quantviz from the trace; nothing here is typed beside the computation.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from quantviz.conventions import CONVENTIONS, get_convention
from quantviz.grid import grid_label, int_range, to_binary
from quantviz.qparams import QParams
from quantviz.quantize import quantize_trace
from quantviz.rounding import ROUNDING_MODES
from quantviz.teach.fmt import fmt, tex


class Step(NamedTuple):
    """One line of a worked example.

    Attributes
    ----------
    label : str
        What happens, in words.
    formula : str
        LaTeX with the numbers substituted (for ``st.latex``).
    value : str
        The result as text.
    check : bool or None
        True/False when the line is a claim that holds or not; None for plain steps.
    note : str
        Why, in words (empty when there is nothing to add).
    """

    label: str
    formula: str
    value: str
    check: bool | None = None
    note: str = ""


# ----------------------------------------------------------------------------- parameters
def qparams_steps(qp: QParams, rmin: float, rmax: float, *, convention: str, symmetric: bool) -> list[Step]:
    """Return the steps that lead from the real range [rmin, rmax] to (s, z) under ``convention``."""
    conv = get_convention(convention)
    steps: list[Step] = []
    lo, hi = qp.rmin if qp.rmin is not None else rmin, qp.rmax if qp.rmax is not None else rmax
    if conv.widens_to_include_zero and (rmin > 0 or rmax < 0):
        steps.append(
            Step(
                "Widen the range to include 0",
                rf"[{tex(rmin)},\ {tex(rmax)}] \to [{tex(min(rmin, 0))},\ {tex(max(rmax, 0))}]",
                f"[{fmt(min(rmin, 0))}, {fmt(max(rmax, 0))}]",
                note="Real 0 must get an exact code (zero padding, ReLU outputs, sparse tensors), so the range is stretched to contain it.",
            )
        )
    if not conv.widens_to_include_zero and (rmin > 0 or rmax < 0):
        steps.append(
            Step(
                "No widening",
                rf"[{tex(rmin)},\ {tex(rmax)}]",
                "range used as given",
                note=f"{conv.label} does not widen the range; the zero point is clamped to the grid instead and the range slides.",
            )
        )
    if symmetric:
        steps.append(
            Step(
                "Symmetric: use the largest magnitude",
                rf"a = \max(|{tex(min(rmin, 0))}|,\ |{tex(max(rmax, 0))}|) = {tex(max(abs(lo), abs(hi)))}",
                fmt(max(abs(lo), abs(hi))),
            )
        )
    steps.append(
        Step(
            "Integer grid",
            rf"[q_{{min}},\ q_{{max}}] = [{qp.qmin},\ {qp.qmax}]",
            f"{qp.levels} codes",
            note=(f"Stored in [{qp.storage_min}, {qp.storage_max}]." if (qp.storage_min, qp.storage_max) != (qp.qmin, qp.qmax) else ""),
        )
    )
    if symmetric:
        divisor = symmetric_divisor(qp)
        steps.append(
            Step(
                "Scale",
                rf"s = \frac{{a}}{{{tex(divisor, 6)}}} = \frac{{{tex(max(abs(lo), abs(hi)))}}}{{{tex(divisor, 6)}}} = {tex(qp.scale)}",
                fmt(qp.scale),
                note=f"{conv.label} fits {fmt(divisor, 6)} steps between 0 and a.",
            )
        )
        steps.append(Step("Zero point: the middle of the grid", rf"z = {qp.zero_point}", str(qp.zero_point)))
    else:
        steps.append(
            Step(
                "Scale: real width per integer step",
                rf"s = \frac{{r_{{max}} - r_{{min}}}}{{q_{{max}} - q_{{min}}}} = \frac{{{tex(hi)} - ({tex(lo)})}}{{{qp.qmax} - ({qp.qmin})}} = {tex(qp.scale)}",
                fmt(qp.scale),
                note="float32 value the framework stores" if conv.arithmetic == "float32" else "",
            )
        )
        zero_float = qp.qmin - lo / qp.scale
        steps.append(
            Step(
                "Zero point: the code that stands for real 0",
                rf"z = q_{{min}} - \frac{{r_{{min}}}}{{s}} = {qp.qmin} - \frac{{{tex(lo)}}}{{{tex(qp.scale)}}} = {tex(zero_float)} \to {qp.zero_point}",
                str(qp.zero_point),
                note=_zero_point_note(zero_float, qp, convention),
            )
        )
    steps.append(
        Step(
            "Representable range",
            rf"[(q_{{min}} - z)\,s,\ (q_{{max}} - z)\,s] = [{tex(qp.real_min)},\ {tex(qp.real_max)}]",
            f"[{fmt(qp.real_min)}, {fmt(qp.real_max)}]",
            note="Values outside it are clipped to the end codes.",
        )
    )
    return steps


def _zero_point_note(zero_float: float, qp: QParams, convention: str) -> str:
    if zero_float < qp.qmin - 0.5 or zero_float > qp.qmax + 0.5:
        return f"The raw zero point {fmt(zero_float, 6)} falls outside the grid, so it is clamped to {qp.zero_point}."
    frac = abs(zero_float - math.floor(zero_float) - 0.5)
    if frac < 1e-6:
        return f"{fmt(zero_float, 8)} sits (almost) exactly on a tie: the tie rule of {CONVENTIONS[convention].label} decides."
    return ""


# ----------------------------------------------------------------------------- one value
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
    t = quantize_trace([x], qp, convention=convention, rounding=rounding, add_zero_point_before_rounding=add_zero_point_before_rounding)
    mode = conv.check_rounding(rounding)
    z_first = add_zero_point_before_rounding or conv.adds_zero_point_before_rounding
    pre, unclamped, q = float(t.pre_round[0]), float(t.unclamped[0]), int(t.q[0])
    scaled = float(t.scaled[0])
    rounded = unclamped if z_first else unclamped - qp.zero_point
    steps = [
        Step(
            "Divide by the scale",
            rf"\frac{{x}}{{s}} = \frac{{{tex(x)}}}{{{tex(qp.scale)}}} = {tex(scaled, 12)}",
            fmt(scaled, 12),
            note=_arithmetic_note(convention, pre),
        )
    ]
    tie = abs(pre - math.floor(pre) - 0.5) == 0 if math.isfinite(pre) else False
    rule = ROUNDING_MODES[mode].split(":")[0]
    if z_first:
        steps.append(Step("Add the zero point", rf"\frac{{x}}{{s}} + z = {tex(scaled, 12)} + {qp.zero_point} = {tex(scaled + qp.zero_point, 12)}", fmt(scaled + qp.zero_point, 12)))
        steps.append(Step("Round", rf"\operatorname{{round}}({tex(pre, 12)}) = {tex(rounded)}", fmt(rounded), note=(f"An exact tie: {rule} gives {fmt(rounded)}." if tie else rule)))
    else:
        steps.append(Step("Round", rf"\operatorname{{round}}({tex(pre, 12)}) = {tex(rounded)}", fmt(rounded), note=(f"An exact tie: {rule} gives {fmt(rounded)}." if tie else rule)))
        steps.append(Step("Add the zero point", rf"{tex(rounded)} + {qp.zero_point} = {tex(unclamped)}", fmt(unclamped)))
    clipped = bool(t.clipped[0])
    steps.append(
        Step(
            "Clamp to the grid",
            rf"\operatorname{{clamp}}({tex(unclamped)},\ {qp.storage_min},\ {qp.storage_max}) = {q}",
            str(q),
            check=not clipped,
            note=(f"{fmt(unclamped)} is outside the grid: the value is clipped to {q}." if clipped else "Inside the grid: nothing to clip."),
        )
    )
    lo, hi = int_range(bits, signed=signed)
    if lo <= q <= hi:
        steps.append(Step(f"Store as {grid_label(bits, signed=signed)}", rf"\texttt{{{to_binary(q, bits, signed=signed)}}}", to_binary(q, bits, signed=signed), note="two's complement" if signed else "unsigned binary"))
    deq = float(t.dequantized[0])
    steps.append(Step("Dequantize", rf"s\,(q - z) = {tex(qp.scale)} \times ({q} - {qp.zero_point}) = {tex(deq, 12)}", fmt(deq, 12)))
    err = float(t.error[0])
    within = not clipped and abs(err) <= qp.scale / 2 * (1 + 1e-6)
    steps.append(
        Step(
            "Error",
            rf"\hat{{x}} - x = {tex(deq, 12)} - {tex(x, 12)} = {tex(err, 6)}",
            fmt(err, 6),
            check=within,
            note=(f"Within half a step (s/2 = {fmt(qp.scale / 2, 6)}): rounding error only." if within else f"The value was clipped: clipping error (half a step is s/2 = {fmt(qp.scale / 2, 6)})."),
        )
    )
    return steps


def _arithmetic_note(convention: str, pre: float) -> str:
    """How the convention computed the number it rounds, when that differs from plain x/s."""
    if convention == "pytorch":
        return f"PyTorch computes fma(x, 1/s, z) in float32 in one rounding: {fmt(pre, 12)}."
    if convention in ("tflite",):
        return f"TFLite's default kernel multiplies by 1/s in float32: {fmt(pre, 12)}."
    if convention in ("tflite_reference", "onnxruntime"):
        return f"Computed as a float32 division: {fmt(pre, 12)}."
    if convention == "tf_fake_quant":
        return f"TF computes (clamp(x) − nudged_min)·inv − qz in float32: {fmt(pre, 12)}, then floor(v + 0.5)."
    return ""


def symmetric_divisor(qp: QParams) -> float:
    """Return absmax / s: how many steps the convention fits between 0 and the largest magnitude."""
    if qp.rmax is None or qp.rmin is None:
        return float("nan")
    return max(abs(qp.rmin), abs(qp.rmax)) / qp.scale
