"""Worked steps: how (s, z) are chosen from a range, and every step of quantizing one value.

Each :class:`Step` is text, a formula with the numbers substituted, a value and a check, all
recomputed by quantviz from the trace; nothing here is typed beside the computation.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from quantviz.conventions import ChoiceTrace, get_convention
from quantviz.grid import grid_label, int_range, to_binary
from quantviz.qparams import QParams
from quantviz.quantize import quantize_trace
from quantviz.rounding import ROUNDING_MODES, apply_rounding
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
def raw_zero_point(rmin: float, rmax: float, qmin: int, qmax: int) -> float:
    """Return qmin − rmin / s with s = (rmax − rmin) / (qmax − qmin): the zero point of the range *as given*.

    For a range without 0 it falls outside the grid: the code real 0 would need does not exist.

    >>> raw_zero_point(250, 1000, 0, 255), raw_zero_point(250, 1000, -128, 127)
    (-85.0, -213.0)
    """
    if rmax == rmin:
        return float("nan")
    return qmin - rmin * (qmax - qmin) / (rmax - rmin)


def _share_words(share: float) -> str:
    """A share as the plain fraction a learner says, when it is one (a quarter, a third, half...)."""
    for value, words in ((0.25, "a quarter"), (1 / 3, "a third"), (0.5, "half"), (2 / 3, "two thirds"), (0.75, "three quarters")):
        if abs(share - value) < 0.005:
            return words
    return f"{share:.0%}"


def qparams_steps(
    rmin: float, rmax: float, *, convention: str, bits: int = 8, signed: bool = False, symmetric: bool = False,
    narrow_range: bool = False, reduce_range: bool = False,
) -> list[Step]:
    """Return the steps that lead from the real range [rmin, rmax] to (s, z) under ``convention``.

    Every number is read from the convention's own :class:`ChoiceTrace`; a step is shown only where it
    happens (no widening step for a range that contains 0).

    >>> [s.label for s in qparams_steps(250, 1000, convention="textbook")][:2]
    ['The zero point of the range as given', 'Widen the range to include 0']
    >>> qparams_steps(250, 1000, convention="textbook")[0].value
    '-85'
    """
    conv = get_convention(convention)
    choice = conv.choose_trace(rmin, rmax, bits=bits, signed=signed, symmetric=symmetric,
                               narrow_range=narrow_range, reduce_range=reduce_range)
    qp = choice.qparams
    qmin, qmax = choice.grid
    lo, hi = choice.range_used
    steps: list[Step] = []
    excludes_zero = rmin > 0 or rmax < 0
    if excludes_zero and not symmetric and rmax > rmin:
        raw = raw_zero_point(rmin, rmax, qmin, qmax)
        other_grid = "int" if qmin >= 0 else "uint"
        other = raw_zero_point(rmin, rmax, *int_range(bits, signed=qmin >= 0))
        steps.append(Step(
            "The zero point of the range as given",
            rf"z = q_{{min}} - \frac{{r_{{min}}}}{{(r_{{max}} - r_{{min}})/(q_{{max}} - q_{{min}})}} = {qmin} - \frac{{{tex(rmin)}}}{{{tex((rmax - rmin) / (qmax - qmin))}}} = {tex(raw, 8)}",
            fmt(raw, 8),
            check=False,
            note=(f"Outside the grid [{qmin}, {qmax}]: your range does not contain 0, so the code that real 0 would "
                  f"need does not exist (on the {bits}-bit {other_grid} grid it would be {fmt(other, 8)})."),
        ))
        if conv.widens_to_include_zero:
            share = (rmin / rmax) if rmin > 0 else (rmax / rmin)
            steps.append(Step(
                "Widen the range to include 0",
                rf"[{tex(rmin)},\ {tex(rmax)}] \to [{tex(lo)},\ {tex(hi)}]",
                f"[{fmt(lo)}, {fmt(hi)}]",
                note=(f"{conv.label} stretches the range so that real 0 gets an exact code. The price: "
                      f"{_share_words(share)} of the codes now stand for "
                      f"{'[0, ' + fmt(rmin) + ')' if rmin > 0 else '(' + fmt(rmax) + ', 0]'}, values that never occur."),
            ))
        else:
            steps.append(Step(
                "No widening: the zero point is clamped",
                rf"z = \operatorname{{clamp}}({tex(raw, 8)},\ {qmin},\ {qmax}) = {qp.zero_point}",
                str(qp.zero_point),
                note=(f"{conv.label} uses the range as given and clamps z, so the grid slides to "
                      f"[{fmt(qp.real_min, 6)}, {fmt(qp.real_max, 6)}]: 0 keeps an exact code, and values past "
                      f"{fmt(qp.real_max if rmin > 0 else qp.real_min, 6)} clip."),
            ))
    elif choice.adjustment and not symmetric:
        steps.append(Step("Adjust the range", rf"[{tex(rmin)},\ {tex(rmax)}] \to [{tex(lo)},\ {tex(hi)}]",
                          f"[{fmt(lo)}, {fmt(hi)}]", note=f"{conv.label}: {choice.adjustment}."))
    if symmetric:
        steps.append(Step(
            "Symmetric: use the largest magnitude",
            rf"a = \max(|{tex(min(rmin, 0))}|,\ |{tex(max(rmax, 0))}|) = {tex(hi)}",
            fmt(hi),
            note=f"The range becomes [−a, a] = [{fmt(lo)}, {fmt(hi)}].",
        ))
    storage = choice.storage
    steps.append(Step(
        "Integer grid",
        rf"[q_{{min}},\ q_{{max}}] = [{qmin},\ {qmax}]",
        f"{qmax - qmin + 1} codes",
        note=(f"Stored in [{storage[0]}, {storage[1]}]: the quantize op clamps there." if storage != (qmin, qmax) else ""),
    ))
    arithmetic = f"computed in {choice.scale_dtype}" + ("" if choice.scale_dtype == "float64" else f": {fmt(qp.scale, 12)}")
    steps.append(Step(
        "Scale: real width per integer step",
        rf"s = \frac{{{tex(hi)} - ({tex(lo)})}}{{{fmt(choice.scale_divisor, 6)}}} = {tex(qp.scale)}",
        fmt(qp.scale),
        note=f"s = {choice.scale_formula}; {arithmetic}.",
    ))
    if choice.zero_rule == "from_min" and choice.zero_raw is not None:
        raw = choice.zero_raw
        shift = f" (on int8 {fmt(raw - choice.zero_shift, 10)}, then + {choice.zero_shift})" if choice.zero_shift else ""
        steps.append(Step(
            "Zero point: the code that stands for real 0",
            rf"z = q_{{min}} - \frac{{r_{{min}}}}{{s}} = {qmin} - \frac{{{tex(lo)}}}{{{tex(qp.scale)}}} = {tex(raw, 10)} \to {qp.zero_point}",
            str(qp.zero_point),
            note=f"{choice.zero_formula}{shift}. " + _zero_point_note(raw, choice, conv.label),
        ))
    else:
        steps.append(Step("Zero point: set by the rule", rf"z = {qp.zero_point}", str(qp.zero_point),
                          note=f"{conv.label}: z = {choice.zero_formula}."))
    nudged = ""
    if convention == "tf_fake_quant" and (qp.real_min, qp.real_max) != (float(rmin), float(rmax)):
        steps.append(Step(
            "Nudge the range onto the grid",
            rf"[(q_{{min}} - z)\,s,\ (q_{{max}} - z)\,s] = [({qmin} - {qp.zero_point}) \times {tex(qp.scale)},\ "
            rf"({qmax} - {qp.zero_point}) \times {tex(qp.scale)}] = [{tex(qp.real_min)},\ {tex(qp.real_max)}]",
            f"[{fmt(qp.real_min)}, {fmt(qp.real_max)}]",
            note=(f"TF does not widen [{fmt(rmin)}, {fmt(rmax)}]; it rounds z to {qp.zero_point} and moves the whole range "
                  f"by {fmt(qp.real_min - float(rmin), 6)} so that real 0 lands exactly on code {qp.zero_point}. "
                  + _nudge_consequence(float(rmin), float(rmax), qp)),
        ))
        nudged = " (TF's nudged range)"
    steps.append(Step(
        "Representable range",
        rf"[(q_{{min}} - z)\,s,\ (q_{{max}} - z)\,s] = [{tex(qp.real_min)},\ {tex(qp.real_max)}]",
        f"[{fmt(qp.real_min)}, {fmt(qp.real_max)}]",
        note="Values outside it are clipped to the end codes" + nudged + ".",
    ))
    return steps


def _nudge_consequence(rmin: float, rmax: float, qp: QParams) -> str:
    """Which end of the asked-for range the nudge pushes out of the grid."""
    if qp.real_min > rmin:
        return f"Your minimum {fmt(rmin)} now lies below the grid's {fmt(qp.real_min, 8)}: it is clamped there."
    if qp.real_max < rmax:
        return f"Your maximum {fmt(rmax)} now lies above the grid's {fmt(qp.real_max, 8)}: it is clamped there."
    return "Both ends of your range stay inside the grid."


def _zero_point_note(raw: float, choice: ChoiceTrace, label: str) -> str:
    """What decided z: a clamp, an exact tie, a tie missed by float32 rounding, or nothing worth saying."""
    qmin, qmax = choice.grid
    if choice.zero_clamped:
        return f"{fmt(raw, 8)} falls outside [{qmin}, {qmax}], so it is clamped to {choice.qparams.zero_point}."
    if raw - math.floor(raw) == 0.5:
        return f"{fmt(raw, 10)} is exactly a tie: rounding {choice.zero_tie_rule.replace('_', ' ')} gives {choice.qparams.zero_point}."
    lo, hi = choice.range_used
    exact = raw_zero_point(lo, hi, qmin, qmax)
    nearest_tie = math.floor(raw) + 0.5
    if choice.scale_dtype != "float64" and abs(raw - nearest_tie) < 1e-6 * max(1.0, abs(raw)) and exact != raw:
        shift = choice.zero_shift
        exact_z = int(apply_rounding(np.array([exact - shift]), choice.zero_tie_rule or "half_to_even")[0]) + shift
        other = (f"which would also give {exact_z}" if exact_z == choice.qparams.zero_point
                 else f"which would give {exact_z}: the float scale decides")
        return (f"It lies just off the tie {fmt(nearest_tie)} because s is {fmt(choice.scale, 12)} ({choice.scale_dtype}); "
                f"from the exact ratio it is {fmt(exact, 12)}, {other}.")
    return ""


# ----------------------------------------------------------------------------- one value
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


RULE_NAMES = {"half_to_even": "half to even", "half_away_from_zero": "half away from zero", "half_up": "half up"}


class ZeroPointFate(NamedTuple):
    """What one convention does with a range's raw zero point."""

    label: str
    grid: tuple[int, int]
    raw: float
    own_raw: float | None   # the number the convention itself rounds (its arithmetic, its adjusted range), or None
    action: str
    zero_point: int | None
    representable: tuple[float, float] | None


def zero_point_fates(rmin: float, rmax: float, *, bits: int = 8, signed: bool = False) -> list[ZeroPointFate]:
    """Return, per convention, the raw zero point of [rmin, rmax] as given and what the convention then does.

    >>> [(f.label, f.raw, f.zero_point) for f in zero_point_fates(250, 1000)][:2]
    [('Textbook', -85.0, 0), ('TFLite', -85.0, 0)]
    """
    from quantviz.conventions import CONVENTIONS

    fates = []
    for conv in CONVENTIONS.values():
        if conv.unsupported_reason(bits=bits, signed=signed):
            continue
        try:
            choice = conv.choose_trace(rmin, rmax, bits=bits, signed=signed)
        except ValueError as exc:
            fates.append(ZeroPointFate(conv.label, (0, 0), float("nan"), None, f"refuses the range: {exc}", None, None))
            continue
        qp = choice.qparams
        raw = raw_zero_point(*choice.range_given, *choice.grid)
        rule = RULE_NAMES.get(choice.zero_tie_rule or "", "sets it by rule")
        if choice.adjustment:
            action = f"{choice.adjustment} ([{fmt(choice.range_used[0], 8)}, {fmt(choice.range_used[1], 8)}]), then rounds {rule}"
        elif choice.zero_clamped:
            action = "uses the range as given and clamps z; the grid slides"
        else:
            action = f"rounds {rule}"
        fates.append(ZeroPointFate(conv.label, choice.grid, raw, choice.zero_raw, action, qp.zero_point,
                                   (qp.real_min, qp.real_max)))
    return fates
