"""Worked steps: how (s, z) are chosen from a range, and every step of quantizing one value.

Each :class:`Step` is text, a formula with the numbers substituted, a value and a check, all
recomputed by quantviz from the trace; nothing here is typed beside the computation.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from quantviz.conventions import F32_EPS, ChoiceTrace, Convention, get_convention
from quantviz.conventions.recipe import Recipe, run_recipe
from quantviz.grid import grid_label, int_range
from quantviz.metrics import REL_TOLERANCE
from quantviz.qparams import QParams
from quantviz.teach.causes import rule_words
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
    for value, words in (
        (0.25, "a quarter"),
        (1 / 3, "a third"),
        (0.5, "half"),
        (2 / 3, "two thirds"),
        (0.75, "three quarters"),
    ):
        if abs(share - value) < 0.005:
            return words
    return f"{share:.0%}"


class _Setting(NamedTuple):
    """What the step builders read: the asked-for range, the convention, its trace and its recipe."""

    rmin: float
    rmax: float
    bits: int
    symmetric: bool
    conv: Convention
    choice: ChoiceTrace
    recipe: Recipe


def qparams_steps(
    rmin: float,
    rmax: float,
    *,
    convention: str,
    bits: int = 8,
    signed: bool = False,
    symmetric: bool = False,
    narrow_range: bool = False,
    reduce_range: bool = False,
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
    options = {
        "bits": bits,
        "signed": signed,
        "symmetric": symmetric,
        "narrow_range": narrow_range,
        "reduce_range": reduce_range,
    }
    setting = _Setting(
        rmin=rmin,
        rmax=rmax,
        bits=bits,
        symmetric=symmetric,
        conv=conv,
        choice=conv.choose_trace(rmin, rmax, **options),
        recipe=conv.recipe(**options),
    )
    steps = [*_range_steps(setting), _grid_step(setting.choice), _scale_step(setting), _zero_point_step(setting)]
    nudge = _nudge_step(setting) if convention == "tf_fake_quant" else None
    if nudge is not None:
        steps.append(nudge)
    steps.append(_representable_step(setting.choice, nudged=" (TF's nudged range)" if nudge is not None else ""))
    return steps


def _range_steps(setting: _Setting) -> list[Step]:
    """The steps before the grid: the raw zero point and widening (or clamping), an adjustment, symmetry."""
    rmin, rmax, conv, choice = setting.rmin, setting.rmax, setting.conv, setting.choice
    lo, hi = choice.range_used
    steps: list[Step] = []
    excludes_zero = rmin > 0 or rmax < 0
    if excludes_zero and not setting.symmetric and rmax > rmin:
        steps += _outside_zero_steps(setting)
    elif choice.adjustment and not setting.symmetric:
        steps.append(
            Step(
                label="Adjust the range",
                formula=rf"[{tex(rmin)},\ {tex(rmax)}] \to [{tex(lo)},\ {tex(hi)}]",
                value=f"[{fmt(lo)}, {fmt(hi)}]",
                note=f"{conv.label}: {choice.adjustment}.",
            )
        )
    if setting.symmetric:
        steps.append(
            Step(
                label="Symmetric: use the largest magnitude",
                formula=rf"a = \max(|{tex(min(rmin, 0))}|,\ |{tex(max(rmax, 0))}|) = {tex(hi)}",
                value=fmt(hi),
                note=f"The range becomes [−a, a] = [{fmt(lo)}, {fmt(hi)}].",
            )
        )
    return steps


def _outside_zero_steps(setting: _Setting) -> list[Step]:
    """For a range without 0: the raw zero point off the grid, then how the convention gets 0 a code."""
    rmin, rmax, bits, conv, choice = setting.rmin, setting.rmax, setting.bits, setting.conv, setting.choice
    qp = choice.qparams
    qmin, qmax = choice.grid
    lo, hi = choice.range_used
    raw = raw_zero_point(rmin, rmax, qmin, qmax)
    other_grid = int_range(bits, signed=qmin >= 0)
    other = raw_zero_point(rmin, rmax, *other_grid)
    first = Step(
        label="The zero point of the range as given",
        formula=(
            rf"z = q_{{min}} - \frac{{r_{{min}}}}{{(r_{{max}} - r_{{min}})/(q_{{max}} - q_{{min}})}} = {qmin} - "
            rf"\frac{{{tex(rmin)}}}{{{tex((rmax - rmin) / (qmax - qmin))}}} = {tex(raw, 8)}"
        ),
        value=fmt(raw, 8),
        check=False,
        note=(
            f"Outside the grid [{qmin}, {qmax}]: your range does not contain 0, so the code that real 0 would "
            f"need does not exist (on the {grid_label(bits, signed=qmin >= 0)} grid [{other_grid[0]}, "
            f"{other_grid[1]}], which this page does not use, it would be {fmt(other, 8)})."
        ),
    )
    if conv.widens_to_include_zero:
        share = (rmin / rmax) if rmin > 0 else (rmax / rmin)
        unused = "[0, " + fmt(rmin) + ")" if rmin > 0 else "(" + fmt(rmax) + ", 0]"
        return [
            first,
            Step(
                label="Widen the range to include 0",
                formula=rf"[{tex(rmin)},\ {tex(rmax)}] \to [{tex(lo)},\ {tex(hi)}]",
                value=f"[{fmt(lo)}, {fmt(hi)}]",
                note=(
                    f"{conv.label} stretches the range so that real 0 gets an exact code. The price: "
                    f"{_share_words(share)} of the codes now stand for {unused}, values that never occur."
                ),
            ),
        ]
    return [
        first,
        Step(
            label="No widening: the zero point is clamped",
            formula=rf"z = \operatorname{{clamp}}({tex(raw, 8)},\ {qmin},\ {qmax}) = {qp.zero_point}",
            value=str(qp.zero_point),
            note=(
                f"{conv.label} uses the range as given and clamps z, so the grid slides to "
                f"[{fmt(qp.real_min, 6)}, {fmt(qp.real_max, 6)}]: 0 keeps an exact code, and values past "
                f"{fmt(qp.real_max if rmin > 0 else qp.real_min, 6)} clip."
            ),
        ),
    ]


def _grid_step(choice: ChoiceTrace) -> Step:
    """The integer grid, and the stored grid the quantize op clamps to when it is wider."""
    qmin, qmax = choice.grid
    storage = choice.storage
    return Step(
        label="Integer grid",
        formula=rf"[q_{{min}},\ q_{{max}}] = [{qmin},\ {qmax}]",
        value=f"{qmax - qmin + 1} codes",
        note=(
            f"Stored in [{storage[0]}, {storage[1]}]: the quantize op clamps there." if storage != (qmin, qmax) else ""
        ),
    )


def _scale_step(setting: _Setting) -> Step:
    """The scale: the width divided (or set, for an empty range, or floored at float32's eps)."""
    conv, choice = setting.conv, setting.choice
    qp = choice.qparams
    lo, hi = choice.range_used
    arithmetic = f"computed in {choice.scale_dtype.words}" + (
        "" if choice.scale_dtype == "float64" else f": {fmt(qp.scale, 12)}"
    )
    quotient = (hi - lo) / choice.scale_divisor
    fraction = rf"\frac{{{tex(hi)} - ({tex(lo)})}}{{{fmt(choice.scale_divisor, 6)}}}"
    if hi == lo and qp.scale == 1.0:  # an empty range: s is set, not divided
        formula, note = r"s = 1", f"An empty range has no width to divide: {conv.label} sets s = 1."
    elif setting.recipe.empty_range == "eps_floor" and quotient < float(F32_EPS) and qp.scale == float(F32_EPS):
        formula = (
            rf"s = \max\left({fraction},\ \varepsilon_{{f32}}\right) = "
            rf"\max({tex(quotient)},\ {tex(qp.scale)}) = {tex(qp.scale)}"
        )
        note = (
            f"The quotient {fmt(quotient, 6)} is below float32's eps, and {conv.label} keeps s at least eps "
            f"({fmt(qp.scale, 6)}), so the range used is far narrower than the grid's."
        )
    else:
        formula, note = rf"s = {fraction} = {tex(qp.scale)}", f"s = {choice.scale_formula}; {arithmetic}."
    return Step(label="Scale: real width per integer step", formula=formula, value=fmt(qp.scale), note=note)


def _zero_point_step(setting: _Setting) -> Step:
    """The zero point: computed from the minimum (with what decided it), or set by the convention's rule."""
    conv, choice = setting.conv, setting.choice
    qp = choice.qparams
    qmin = choice.grid[0]
    lo = choice.range_used[0]
    if choice.zero_rule == "from_min" and choice.zero_raw is not None:
        raw = choice.zero_raw
        shift = (
            f" (on int8 {fmt(raw - choice.zero_shift, 10)}, then + {choice.zero_shift})" if choice.zero_shift else ""
        )
        return Step(
            label="Zero point: the code that stands for real 0",
            formula=(
                rf"z = q_{{min}} - \frac{{r_{{min}}}}{{s}} = {qmin} - \frac{{{tex(lo)}}}{{{tex(qp.scale)}}} = "
                rf"{tex(raw, 10)} \to {qp.zero_point}"
            ),
            value=str(qp.zero_point),
            note=f"{choice.zero_formula}{shift}. "
            + _zero_point_note(raw, choice, setting.recipe, setting.rmin, setting.rmax),
        )
    return Step(
        label="Zero point: set by the rule",
        formula=rf"z = {qp.zero_point}",
        value=str(qp.zero_point),
        note=f"{conv.label}: z = {choice.zero_formula}.",
    )


def _nudge_step(setting: _Setting) -> Step | None:
    """TF's nudge of the range onto the grid, or None where the range already sits on it."""
    rmin, rmax, choice = float(setting.rmin), float(setting.rmax), setting.choice
    qp = choice.qparams
    qmin, qmax = choice.grid
    if (qp.real_min, qp.real_max) == (rmin, rmax):
        return None
    return Step(
        label="Nudge the range onto the grid",
        formula=(
            rf"[(q_{{min}} - z)\,s,\ (q_{{max}} - z)\,s] = [({qmin} - {qp.zero_point}) \times {tex(qp.scale)},\ "
            rf"({qmax} - {qp.zero_point}) \times {tex(qp.scale)}] = [{tex(qp.real_min)},\ {tex(qp.real_max)}]"
        ),
        value=f"[{fmt(qp.real_min)}, {fmt(qp.real_max)}]",
        note=(
            f"TF does not widen [{fmt(rmin)}, {fmt(rmax)}]; it {'clamps' if choice.zero_clamped else 'rounds'} z "
            f"to {qp.zero_point} and moves the whole range "
            f"by {fmt(qp.real_min - rmin, 6)} so that real 0 lands exactly on code {qp.zero_point}. "
            + _nudge_consequence(rmin, rmax, qp)
        ),
    )


def _representable_step(choice: ChoiceTrace, *, nudged: str) -> Step:
    """The real range the codes stand for: the chosen grid's, or the wider stored grid's."""
    qp = choice.qparams
    qmin, qmax = choice.grid
    if (qp.storage_min, qp.storage_max) == (qmin, qmax):
        return Step(
            label="Representable range",
            formula=rf"[(q_{{min}} - z)\,s,\ (q_{{max}} - z)\,s] = [{tex(qp.real_min)},\ {tex(qp.real_max)}]",
            value=f"[{fmt(qp.real_min)}, {fmt(qp.real_max)}]",
            note="Values outside it are clipped to the end codes" + nudged + ".",
        )
    return Step(
        label="Representable range: the stored grid",
        formula=(
            rf"[({qp.storage_min} - z)\,s,\ ({qp.storage_max} - z)\,s] = "
            rf"[{tex(qp.stored_min)},\ {tex(qp.stored_max)}]"
        ),
        value=f"[{fmt(qp.stored_min)}, {fmt(qp.stored_max)}]",
        note=(
            f"s and z were chosen for [{qmin}, {qmax}], which spans [{fmt(qp.real_min)}, {fmt(qp.real_max)}]; "
            f"the quantize op clamps only to the stored [{qp.storage_min}, {qp.storage_max}], so values up to "
            f"there keep codes the chosen grid does not use, and only values outside "
            f"[{fmt(qp.stored_min)}, {fmt(qp.stored_max)}] are clipped."
        ),
    )


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
        return (
            f"{fmt(framed, 10)} is exactly a tie: rounding {rule_words(rule)} gives {z - choice.zero_shift}"
            + (f", + {choice.zero_shift} = {z}" if choice.zero_shift else "")
            + f"; rounding {rule_words(other)} would {same} give {other_z}."
        )
    exact_recipe = recipe.replace(scale_arithmetic="float64", scale_storage="float64", zero_arithmetic="exact_ratio")
    if exact_recipe == recipe or abs(framed - (math.floor(framed) + 0.5)) >= REL_TOLERANCE * max(1.0, abs(framed)):
        return ""
    exact = run_recipe(exact_recipe, rmin, rmax)
    assert exact.zero_raw is not None
    verdict = (
        f"which also gives {exact.zero_point}: the float arithmetic changes nothing here"
        if exact.zero_point == z
        else f"which gives {exact.zero_point}: the float arithmetic decides"
    )
    used = run_recipe(recipe, rmin, rmax).scale_computed  # the s z is computed with (ONNX Runtime's float64 one)
    return (
        f"It lies just off the tie {fmt(math.floor(framed) + 0.5)} because the s it is computed with is "
        f"{fmt(used, 12)}, not exact; with exact arithmetic it is {fmt(exact.zero_raw - choice.zero_shift, 12)}, "
        f"{verdict}."
    )
