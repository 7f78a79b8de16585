"""Worked steps: how (s, z) are chosen from a range, and every step of quantizing one value.

Each :class:`Step` is text, a formula with the numbers substituted, a value and a check, all
recomputed by quantviz from the trace; nothing here is typed beside the computation.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from quantviz.conventions import ChoiceTrace, get_convention
from quantviz.conventions.recipe import Recipe, run_recipe
from quantviz.grid import grid_label, int_range, to_binary
from quantviz.qparams import QParams
from quantviz.quantize import quantize_trace
from quantviz.rounding import ROUNDING_MODES
from quantviz.teach.causes import how, rule_words
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
    options = {"bits": bits, "signed": signed, "symmetric": symmetric, "narrow_range": narrow_range,
               "reduce_range": reduce_range}
    choice = conv.choose_trace(rmin, rmax, **options)
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
            note=f"{choice.zero_formula}{shift}. " + _zero_point_note(raw, choice, conv.recipe(**options), rmin, rmax),
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
    if (qp.storage_min, qp.storage_max) == (qmin, qmax):
        steps.append(Step(
            "Representable range",
            rf"[(q_{{min}} - z)\,s,\ (q_{{max}} - z)\,s] = [{tex(qp.real_min)},\ {tex(qp.real_max)}]",
            f"[{fmt(qp.real_min)}, {fmt(qp.real_max)}]",
            note="Values outside it are clipped to the end codes" + nudged + ".",
        ))
    else:
        steps.append(Step(
            "Representable range: the stored grid",
            rf"[({qp.storage_min} - z)\,s,\ ({qp.storage_max} - z)\,s] = [{tex(qp.stored_min)},\ {tex(qp.stored_max)}]",
            f"[{fmt(qp.stored_min)}, {fmt(qp.stored_max)}]",
            note=(f"s and z were chosen for [{qmin}, {qmax}], which spans [{fmt(qp.real_min)}, {fmt(qp.real_max)}]; "
                  f"the quantize op clamps only to the stored [{qp.storage_min}, {qp.storage_max}], so values up to "
                  f"there keep codes the chosen grid does not use, and only values outside "
                  f"[{fmt(qp.stored_min)}, {fmt(qp.stored_max)}] are clipped."),
        ))
    return steps


def _nudge_consequence(rmin: float, rmax: float, qp: QParams) -> str:
    """Which end of the asked-for range the nudge pushes out of the grid."""
    if qp.real_min > rmin:
        return f"Your minimum {fmt(rmin)} now lies below the grid's {fmt(qp.real_min, 8)}: it is clamped there."
    if qp.real_max < rmax:
        return f"Your maximum {fmt(rmax)} now lies above the grid's {fmt(qp.real_max, 8)}: it is clamped there."
    return "Both ends of your range stay inside the grid."


def _zero_point_note(raw: float, choice: ChoiceTrace, recipe: Recipe, rmin: float, rmax: float) -> str:
    """What decided z: a clamp, an exact tie, or float arithmetic near a tie (found by rerunning with exact arithmetic).

    Near a tie, the convention's recipe is rerun with the scale and qmin − rmin/s in exact float64; the note says
    whether that changes z, so "the float arithmetic decides" is said only where an experiment shows it.
    """
    qmin, qmax = choice.grid
    z = choice.qparams.zero_point
    if choice.zero_clamped:
        return f"{fmt(raw, 8)} falls outside [{qmin}, {qmax}], so it is clamped to {z}."
    framed = raw - choice.zero_shift
    rule = choice.zero_tie_rule or "half_to_even"
    if framed - math.floor(framed) == 0.5:
        other = "half_away_from_zero" if rule == "half_to_even" else "half_to_even"
        other_z = run_recipe(recipe.replace(zero_rounding=other), rmin, rmax).zero_point
        same = "also" if other_z == z else "instead"
        return (f"{fmt(framed, 10)} is exactly a tie: rounding {rule_words(rule)} gives {z - choice.zero_shift}"
                + (f", + {choice.zero_shift} = {z}" if choice.zero_shift else "")
                + f"; rounding {rule_words(other)} would {same} give {other_z}.")
    exact_recipe = recipe.replace(scale_arithmetic="float64", scale_storage="float64", zero_arithmetic="exact_ratio")
    if exact_recipe == recipe or abs(framed - (math.floor(framed) + 0.5)) >= 1e-6 * max(1.0, abs(framed)):
        return ""
    exact = run_recipe(exact_recipe, rmin, rmax)
    assert exact.zero_raw is not None
    verdict = (f"which also gives {exact.zero_point}: the float arithmetic changes nothing here"
               if exact.zero_point == z else f"which gives {exact.zero_point}: the float arithmetic decides")
    return (f"It lies just off the tie {fmt(math.floor(framed) + 0.5)} because s is {fmt(choice.scale, 12)} "
            f"({choice.scale_dtype}); with exact arithmetic it is {fmt(exact.zero_raw - choice.zero_shift, 12)}, {verdict}.")


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
    recipe = conv.recipe(rounding=rounding, add_zero_point_before_rounding=add_zero_point_before_rounding)
    if recipe.quantize_arithmetic == "tf_nudged":
        return _nudged_probe_steps(x, qp, t, bits=bits, signed=signed)
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
            note=(f"{conv.label} {how(recipe, 'quantize_arithmetic')}: {fmt(pre, 12)}."
                  if recipe.quantize_arithmetic != "float64_divide" else ""),
        )
    ]
    # "a tie" only where a tie decides anything: the round-to-nearest rules
    tie = mode in NEAREST and (abs(pre - math.floor(pre) - 0.5) == 0 if math.isfinite(pre) else False)
    rule = ROUNDING_MODES[mode].split(":")[0]
    if mode in NEAREST and not tie and math.isfinite(pre) and fmt(pre, 12).endswith(".5"):
        side = "under" if pre < math.floor(pre) + 0.5 else "over"
        rule += (f"; {fmt(pre, 12)} as shown, but {pre!r} exactly: just {side} the tie, because the stored s is "
                 "rounded")
    if z_first:
        steps.append(Step("Add the zero point", rf"\frac{{x}}{{s}} + z = {tex(scaled, 12)} + {qp.zero_point} = {tex(scaled + qp.zero_point, 12)}", fmt(scaled + qp.zero_point, 12)))
        steps.append(Step("Round", rf"\operatorname{{round}}({tex(pre, 12)}) = {tex(rounded)}", fmt(rounded), note=(f"An exact tie: {rule} gives {fmt(rounded)}." if tie else rule)))
    else:
        steps.append(Step("Round", rf"\operatorname{{round}}({tex(pre, 12)}) = {tex(rounded)}", fmt(rounded), note=(f"An exact tie: {rule} gives {fmt(rounded)}." if tie else rule)))
        steps.append(Step("Add the zero point", rf"{tex(rounded)} + {qp.zero_point} = {tex(unclamped)}", fmt(unclamped)))
    clipped = bool(t.clipped[0])
    chosen_grid = (qp.storage_min, qp.storage_max) == (qp.qmin, qp.qmax)
    inside = "Inside the grid: nothing to clip."
    if not chosen_grid and not clipped and not qp.qmin <= q <= qp.qmax:
        inside = (f"Inside the stored grid [{qp.storage_min}, {qp.storage_max}]: nothing to clip, although s and z were "
                  f"chosen for [{qp.qmin}, {qp.qmax}] and {q} lies beyond it.")
    steps.append(
        Step(
            "Clamp to the grid" if chosen_grid else "Clamp to the stored grid",
            rf"\operatorname{{clamp}}({tex(unclamped)},\ {qp.storage_min},\ {qp.storage_max}) = {q}",
            str(q),
            check=not clipped,
            note=(f"{fmt(unclamped)} is outside the grid: the value is clipped to {q}." if clipped else inside),
        )
    )
    return steps + _stored_and_back(x, qp, t, bits=bits, signed=signed, mode=mode)


NEAREST = ("half_to_even", "half_away_from_zero", "half_up", "half_up_float32")


def _stored_and_back(x: float, qp: QParams, t, *, bits: int, signed: bool, mode: str) -> list[Step]:
    """The last steps of any probe: the code in binary, dequantized, and its error (``mode``: the code's rounding)."""
    nearest = mode in NEAREST
    steps: list[Step] = []
    q, clipped = int(t.q[0]), bool(t.clipped[0])
    lo, hi = int_range(bits, signed=signed)
    if lo <= q <= hi:
        steps.append(Step(f"Store as {grid_label(bits, signed=signed)}", rf"\texttt{{{to_binary(q, bits, signed=signed)}}}", to_binary(q, bits, signed=signed), note="two's complement" if signed else "unsigned binary"))
    deq = float(t.dequantized[0])
    steps.append(Step("Dequantize", rf"s\,(q - z) = {tex(qp.scale)} \times ({q} - {qp.zero_point}) = {tex(deq, 12)}", fmt(deq, 12)))
    err = float(t.error[0])
    half = qp.scale / 2
    if clipped:
        note = f"The value was clipped: clipping error (half a step is s/2 = {fmt(half, 6)})."
    elif not nearest:
        note = (f"Rounding error only: rounding {rule_words(mode)} moves a value by up to a whole step "
                f"(s = {fmt(qp.scale, 6)}), not half of one.")
    elif abs(err) <= half:
        note = f"Within half a step (s/2 = {fmt(half, 6)}): rounding error only."
    else:  # a nearest rule, not clipped, a hair past s/2: the output itself is rounded to float32
        note = (f"Rounding error only: half a step (s/2 = {fmt(half, 6)}) plus the float32 rounding of the "
                "dequantized value.")
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
    steps = [
        Step("Clamp x into the range first", rf"\operatorname{{clamp}}({tex(x)},\ {tex(nmin)},\ {tex(nmax)}) = {tex(clamped)}",
             fmt(clamped), check=not moved,
             note=(f"TF clamps the real value to its nudged range first: {fmt(x)} lies outside [{fmt(nmin, 8)}, "
                   f"{fmt(nmax, 8)}] and becomes {fmt(clamped, 8)}." if moved
                   else "TF clamps the real value to its nudged range first; this one is inside.")),
        Step("Steps from the range's minimum", rf"({tex(clamped)} - ({tex(nmin)})) \times {tex(float(k.nudge.inv_scale), 10)} - q_z = {tex(pre, 12)}",
             fmt(pre, 12), note=f"In float32, with inv = {fmt(float(k.nudge.inv_scale), 10)} computed from the range (not 1/s)."),
        Step("Round half up", rf"\lfloor {tex(pre, 12)} + 0.5 \rfloor = {tex(rounded)}", fmt(rounded),
             note=("An exact tie: floor(v + 0.5) rounds it up." if pre - math.floor(pre) == 0.5 else "floor(v + 0.5), the sum in float32.")),
        Step("Add the zero point", rf"{tex(rounded)} + {qp.zero_point} = {int(t.q[0])}", str(int(t.q[0])),
             note="Already on the grid: the clamp came first."),
    ]
    return steps + _stored_and_back(x, qp, t, bits=bits, signed=signed, mode="half_up_float32")




class ZeroPointFate(NamedTuple):
    """What one convention does with a range's raw zero point."""

    label: str
    grid: tuple[int, int]
    raw: float
    own_raw: float | None   # the number the convention itself rounds (its arithmetic, its adjusted range), or None
    action: str
    zero_point: int | None
    representable: tuple[float, float] | None


def zero_point_fates(rmin: float, rmax: float, *, bits: int = 8, signed: bool = False, narrow_range: bool = False,
                     reduce_range: bool = False) -> list[ZeroPointFate]:
    """Return, per convention, the raw zero point of [rmin, rmax] as given and what the convention then does.

    The options are those of the page (asymmetric): a convention that does not support them is left out.

    >>> [(f.label, f.raw, f.zero_point) for f in zero_point_fates(250, 1000)][:2]
    [('Textbook', -85.0, 0), ('TFLite', -85.0, 0)]
    """
    from quantviz.conventions import CONVENTIONS

    fates = []
    for conv in CONVENTIONS.values():
        options = {"bits": bits, "signed": signed, "narrow_range": narrow_range, "reduce_range": reduce_range}
        if conv.unsupported_reason(**options):
            continue
        try:
            choice = conv.choose_trace(rmin, rmax, **options)
        except ValueError as exc:
            fates.append(ZeroPointFate(conv.label, (0, 0), float("nan"), None, f"refuses the range: {exc}", None, None))
            continue
        qp = choice.qparams
        raw = raw_zero_point(*choice.range_given, *choice.grid)
        rule = rule_words(choice.zero_tie_rule) if choice.zero_tie_rule else "sets it by rule"
        if choice.adjustment:
            action = f"{choice.adjustment} ([{fmt(choice.range_used[0], 8)}, {fmt(choice.range_used[1], 8)}]), then rounds {rule}"
        elif choice.zero_clamped:
            action = "uses the range as given and clamps z; the grid slides"
        else:
            action = f"rounds {rule}"
        fates.append(ZeroPointFate(conv.label, choice.grid, raw, choice.zero_raw, action, qp.zero_point,
                                   (qp.stored_min, qp.stored_max)))
    return fates
