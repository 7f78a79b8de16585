"""Why two conventions disagree, found by experiment: swap steps until they agree.

The first step at which two computations differ is not the cause: TFLite's scale differs from the
textbook's in its last bits, yet with the textbook's exact scale TFLite still gets the same zero
point. So a cause is found the way an experimenter finds one. Take convention A's
:class:`~quantviz.conventions.recipe.Recipe`, replace one of its steps by B's and rerun; the cause
is the smallest set of steps (one, or a pair) whose replacement makes A's result equal B's. A step
that differs but whose replacement alone changes nothing is said to change nothing, because that is
where a learner would look first.

>>> from quantviz.conventions import get_convention
>>> a = get_convention("tflite").recipe(bits=8, signed=False)
>>> b = get_convention("textbook").recipe(bits=8, signed=False)
>>> cause = find_cause(a, b, -1000, 1000, quantity="zero point")
>>> cause.steps, cause.results
(('zero_frame',), (127, 128))
>>> "scale_arithmetic" in cause.unchanged_alone
True
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

from quantviz.conventions.recipe import Recipe, RecipeResult, run_recipe
from quantviz.conventions.rules import ZeroRule
from quantviz.errors import QuantVizError
from quantviz.rounding import rule_words
from quantviz.teach.fmt import fmt

QUANTITIES = ("scale", "zero point", "code")

# What each step is called in a sentence.
STEP_NAMES = {
    "range_dtype": "the type the range is read in",
    "widening": "what is done to a range without 0",
    "empty_range": "what an empty range gets",
    "grid": "the grid s and z are chosen on",
    "divisor": "what the range is divided by",
    "scale_arithmetic": "the scale's arithmetic",
    "scale_storage": "the scale's stored type",
    "zero_rule": "the zero point's rule",
    "zero_frame": "the grid the zero point is computed on",
    "zero_arithmetic": "the arithmetic of qmin − rmin/s",
    "zero_rounding": "the zero point's rounding",
    "zero_clamp": "the zero point's clamp",
    "quantize_arithmetic": "the arithmetic that turns x into steps",
    "order": "when z is added",
    "rounding": "the code's rounding",
    "storage": "the codes' clamp grid",
}


def how(recipe: Recipe, step: str) -> str:
    """How ``recipe`` does ``step``, as a verb phrase ("computes s in float32").

    >>> from quantviz.conventions import get_convention
    >>> how(get_convention("tflite").recipe(), "zero_frame")
    'computes z on [-128, 127] and adds 128'
    """
    value = getattr(recipe, step)
    qmin, qmax = recipe.grid
    fixed = _FIXED_WORDS.get(step)
    if fixed is not None:
        return fixed.get(value, str(value))
    simple = _SIMPLE_WORDS.get(step)
    if simple is not None:
        return simple.format(value=value, qmin=qmin, qmax=qmax)
    if step == "divisor":
        return (
            f"divides the range by qmax − qmin = {qmax - qmin}"
            if value == "full"
            else "divides a by the codes on the shorter side of z"
        )
    if step == "zero_frame":
        return (
            f"computes z on [{qmin - value}, {qmax - value}] and adds {value}"
            if value
            else f"computes z on its grid [{qmin}, {qmax}]"
        )
    if step == "zero_rounding":
        return f"rounds z {rule_words(str(value))}"
    if step == "rounding":
        return f"rounds {rule_words(str(value))}"
    if step == "storage":
        return f"clamps codes to [{value[0]}, {value[1]}]"
    raise ValueError(f"unknown step {step!r}")


# Steps worded by one template of their value (and the grid).
_SIMPLE_WORDS = {
    "range_dtype": "reads the range in {value}",
    "grid": "chooses s and z on [{qmin}, {qmax}]",
    "scale_arithmetic": "computes s in {value}",
    "scale_storage": "stores s as {value}",
}

_FIXED_WORDS: dict[str, dict] = {
    "widening": {"include_zero": "widens the range to include 0", "as_given": "uses the range as given"},
    "empty_range": {
        "unit_scale": "treats only an exactly empty range specially (s = 1 there)",
        "widen_1e-6": "widens a range narrower than 1e−6 by 1e−6 on each side",
        "eps_floor": "keeps s at least float32 eps (1.19e−7)",
        "unit_scale_zero_0": "sets s = 1, z = 0 where s would be below float32's smallest normal",
        "refuse": "refuses a range with min ≥ max",
    },
    "zero_rule": {rule.value: rule.words for rule in ZeroRule},
    "zero_arithmetic": {
        "exact_ratio": (
            "evaluates qmin − rmin/s as the exact ratio qmin − rmin·(qmax − qmin)/(rmax − rmin), in rational arithmetic"
        ),
        "float64": "evaluates qmin − rmin/s in float64",
        "float64_to_float32": "evaluates qmin − rmin/s in double with the float32 s, then rounds it to float32",
        "float32": "evaluates qmin − rmin/s in float32",
        "float32_steps": "rounds rmin/s (float32) and subtracts it from qmin",
    },
    "zero_clamp": {True: "clamps z to the grid", False: "does not clamp z"},
    "quantize_arithmetic": {
        "float64_divide": "computes x/s in float64",
        "float32_divide": "computes x/s in float32",
        "float32_multiply_inverse": "computes x·(1/s) in float32",
        "float32_fma": "computes fma(x, 1/s, z) in float32, one rounding",
        "tf_nudged": "computes (clamp(x) − nudged_min)·inv − qz in float32",
    },
    "order": {"round_then_add": "rounds, then adds z", "add_then_round": "adds z, then rounds"},
}

# The steps a learner suspects first, per quantity: where one differs but changes nothing, the sentence says so.
SUSPECTS = {
    "scale": ("range_dtype", "scale_arithmetic", "scale_storage"),
    "zero point": ("scale_arithmetic", "scale_storage", "zero_arithmetic", "zero_rounding"),
    "code": ("scale_arithmetic", "scale_storage", "quantize_arithmetic", "order", "rounding"),
}


class Cause(NamedTuple):
    """Why convention A's ``quantity`` differs from convention B's, found by replacing A's steps by B's.

    Attributes
    ----------
    quantity : str
        ``"scale"``, ``"zero point"`` or ``"code"``.
    results : tuple
        A's result, then B's.
    differing : tuple of str
        Every step the two recipes do differently (keys of ``recipe.STEPS``).
    steps : tuple of str
        The cause: the smallest set of steps whose replacement makes A's result equal B's (the first, where several
        sets of that size do); empty when more than two steps would have to change.
    alternatives : tuple of tuple of str
        Every other set of the same size that also does.
    unchanged_alone : tuple of str
        Differing steps a learner would suspect (``SUSPECTS``) whose replacement alone leaves A's result as it was.
    alone : dict
        step -> A's result with that step alone replaced (for the steps of a pair).
    """

    quantity: str
    results: tuple
    differing: tuple[str, ...]
    steps: tuple[str, ...]
    alternatives: tuple[tuple[str, ...], ...]
    unchanged_alone: tuple[str, ...]
    alone: dict


def _outcome(recipe: Recipe, rmin: float, rmax: float, x: float | None, quantity: str) -> object:
    try:
        result = run_recipe(recipe, rmin, rmax, x)
    except (QuantVizError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return _pick(result, quantity)


def _pick(result: RecipeResult, quantity: str) -> object:
    return {"scale": result.scale, "zero point": result.zero_point, "code": result.code}[quantity]


def find_cause(
    a: Recipe, b: Recipe, rmin: float, rmax: float, *, quantity: str, x: float | None = None
) -> Cause | None:
    """Return why A's ``quantity`` differs from B's for [rmin, rmax] (and the probe ``x`` for a code), or None.

    Sets of one step are tried first, then pairs; the cause is every set of the smallest size that makes A agree with
    B. More than two: ``steps`` is empty.
    """
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {', '.join(QUANTITIES)}, got {quantity!r}")
    ours, theirs = _outcome(a, rmin, rmax, x, quantity), _outcome(b, rmin, rmax, x, quantity)
    if ours is None or theirs is None or ours == theirs:
        return None
    differing = a.differing_steps(b)
    alone = {s: _outcome(a.replace(**{s: getattr(b, s)}), rmin, rmax, x, quantity) for s in differing}
    found: list[tuple[str, ...]] = [(s,) for s in differing if alone[s] == theirs]
    if not found:
        for pair in itertools.combinations(differing, 2):
            swapped = a.replace(**{s: getattr(b, s) for s in pair})
            if _outcome(swapped, rmin, rmax, x, quantity) == theirs:
                found.append(pair)
    unchanged = tuple(
        s for s in differing if s in SUSPECTS[quantity] and alone[s] == ours and not any(s in f for f in found)
    )
    return Cause(
        quantity=quantity,
        results=(ours, theirs),
        differing=differing,
        steps=found[0] if found else (),
        alternatives=tuple(found[1:]),
        unchanged_alone=unchanged,
        alone=alone,
    )


def _value(quantity: str, value: object) -> str:
    if value is None:
        return "no result"
    return fmt(float(value), 15) if quantity == "scale" else str(value)


def evidence(recipe: Recipe, rmin: float, rmax: float, quantity: str, x: float | None = None) -> str:
    """The numbers behind one run of ``recipe``: the raw zero point and its rounding, or x's steps and its code.

    >>> from quantviz.conventions import get_convention
    >>> evidence(get_convention("tflite").recipe(), -1000, 1000, "zero point")
    'qmin − rmin/s = -0.5000001788 rounds to -1, + 128 = 127'
    """
    try:
        r = run_recipe(recipe, rmin, rmax, x)
    except (QuantVizError, ValueError, ZeroDivisionError, OverflowError) as exc:
        return f"refused: {exc}"
    if quantity == "scale":
        return f"s = {fmt(r.scale, 15)}"
    if quantity == "zero point":
        if r.zero_raw is None:
            return f"z = {r.zero_point} by rule"
        frame = recipe.zero_frame
        raw, z = r.zero_raw - frame, r.zero_point - frame
        if recipe.zero_arithmetic == "float32_steps":
            steps = recipe.grid[0] - frame - raw
            text = f"rmin/s = {fmt(steps, 10)} rounds to {fmt(recipe.grid[0] - frame - z)}, so z = {z}"
        else:
            text = f"qmin − rmin/s = {fmt(raw, 10)} rounds to {z}"
        return text + (f", + {frame} = {r.zero_point}" if frame else "")
    assert r.steps is not None and r.unclamped is not None
    with_z = " (z included)" if recipe.order == "add_then_round" else ""
    text = f"x is {fmt(r.steps, 12)} steps{with_z}, rounded {fmt(r.unclamped - (0 if with_z else r.zero_point))}"
    if not with_z:
        text += f", + z ({r.zero_point}) = {fmt(r.unclamped)}"
    return text + (f", clamped to {r.code}" if r.code != r.unclamped else f": code {r.code}")


def cause_sentence(
    cause: Cause,
    a: Recipe,
    b: Recipe,
    label_a: str,
    label_b: str,
    *,
    rmin: float | None = None,
    rmax: float | None = None,
    x: float | None = None,
) -> str:
    """The cause in words, with the results of the experiments that found it.

    >>> from quantviz.conventions import get_convention
    >>> a, b = get_convention("tflite").recipe(), get_convention("textbook").recipe()
    >>> c = find_cause(a, b, -1000, 1000, quantity="zero point")
    >>> print(cause_sentence(c, a, b, "TFLite", "the textbook"))  # doctest: +ELLIPSIS
    Cause: the grid the zero point is computed on. TFLite computes z on [-128, 127] and adds 128; the textbook ...
    """
    q = cause.quantity
    theirs = _value(q, cause.results[1])
    if not cause.steps:
        names = ", ".join(STEP_NAMES[s] for s in cause.differing)
        text = (
            f"They differ in more than two places: no single step and no pair of the steps that differ ({names}) "
            f"gives {label_a} {_possessive(label_b)} {theirs} when replaced."
        )
    elif len(cause.steps) == 1:
        (step,) = cause.steps
        text = (
            f"Cause: {STEP_NAMES[step]}. {label_a} {how(a, step)}; {label_b} {how(b, step)}. "
            f"Done {_possessive(label_b)} way, {label_a} too gets {theirs}."
        )
        if rmin is not None and rmax is not None and cause.quantity != "scale":
            swapped = a.replace(**{step: getattr(b, step)})
            text += (
                f" ({label_a}: {evidence(a, rmin, rmax, cause.quantity, x)}; done {_possessive(label_b)} way: "
                f"{evidence(swapped, rmin, rmax, cause.quantity, x)}.)"
            )
        for other in cause.alternatives:
            (s,) = other
            text += f" Replacing {STEP_NAMES[s]} alone makes them agree too: {label_b} {how(b, s)}."
    else:
        first, second = cause.steps
        text = (
            f"Cause: {STEP_NAMES[first]} and {STEP_NAMES[second]}, both together. {label_a} {how(a, first)} and "
            f"{how(a, second)}; {label_b} {how(b, first)} and {how(b, second)}. With both done "
            f"{_possessive(label_b)} way, {label_a} gets {theirs}; either one alone does not "
            f"({_value(q, cause.alone[first])} and {_value(q, cause.alone[second])})."
        )
        if cause.alternatives:
            text += (
                " So do " + "; ".join(" with ".join(STEP_NAMES[s] for s in pair) for pair in cause.alternatives) + "."
            )
    if cause.unchanged_alone:
        names = [STEP_NAMES[s] for s in cause.unchanged_alone]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        verb = "changes" if len(names) == 1 else "change"
        text += f" {listed[0].upper()}{listed[1:]} alone {verb} nothing here."
    return text


def _possessive(label: str) -> str:
    return label + "'" if label.endswith("s") else label + "'s"
