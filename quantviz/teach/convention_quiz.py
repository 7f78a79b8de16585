"""The which-convention question: a range and grid on which two conventions give visibly different (s, z).

Every case is found by running the conventions (never typed in), and the solution shows each convention's own
numbers: its scale rule and s, the zero point it rounds and how.
"""

from __future__ import annotations

import math
import random
from functools import cache
from typing import NamedTuple

from quantviz.conventions import CONVENTIONS
from quantviz.teach.exact import RULE_WORDS
from quantviz.teach.fmt import fmt

_QUIZ_CONVENTIONS = ("textbook", "pytorch", "tflite", "onnxruntime")
_QUIZ_RANGES = ((-1000.0, 1000.0), (-1.0, 1.0), (-2.5, 2.5), (-255.0, 255.0), (-127.5, 127.5), (0.0, 6.0), (-0.8, 1.27))
SHOWN_SCALE_DIGITS = 6


class ConventionCase(NamedTuple):
    """A range and grid on which two conventions give visibly different (s, z): the one shown and the other."""

    rmin: float
    rmax: float
    signed: bool
    symmetric: bool
    shown: str
    other: str


def convention_options(name: str, *, signed: bool, symmetric: bool) -> dict:
    """Return the options a quiz passes to ``name``: TFLite's symmetric grid is its narrow-range weight grid."""
    return {"signed": signed, "symmetric": symmetric, "narrow_range": symmetric and name == "tflite"}


def shown_qparams(name: str, rmin: float, rmax: float, *, signed: bool, symmetric: bool) -> tuple[str, int]:
    """Return (s to 6 significant digits, z) as a quiz shows what convention ``name`` chose."""
    qp = CONVENTIONS[name].choose_qparams(rmin, rmax, **convention_options(name, signed=signed, symmetric=symmetric))
    return fmt(qp.scale, SHOWN_SCALE_DIGITS), qp.zero_point


@cache
def convention_cases() -> tuple[ConventionCase, ...]:
    """Return every (range, grid, pair of conventions) whose shown (s, z) differ: the question hinges on them."""
    cases = []
    for lo, hi in _QUIZ_RANGES:
        for signed in (False, True):
            for symmetric in (False, True):
                ok = [
                    n
                    for n in _QUIZ_CONVENTIONS
                    if not CONVENTIONS[n].unsupported_reason(
                        bits=8, **convention_options(n, signed=signed, symmetric=symmetric)
                    )
                ]
                shown = {n: shown_qparams(n, lo, hi, signed=signed, symmetric=symmetric) for n in ok}
                cases += [
                    ConventionCase(lo, hi, signed, symmetric, a, b)
                    for a in ok
                    for b in ok
                    if a != b and shown[a] != shown[b]
                ]
    return tuple(cases)


def _convention_line(name: str, case: ConventionCase) -> str:
    """One convention's computed numbers for the case: its scale rule and s, the zero point rounded, z."""
    t = CONVENTIONS[name].choose_trace(
        case.rmin, case.rmax, **convention_options(name, signed=case.signed, symmetric=case.symmetric)
    )
    lo, hi = t.range_used
    text = (
        f"{CONVENTIONS[name].label} (grid [{t.grid[0]}, {t.grid[1]}], range used [{fmt(lo)}, {fmt(hi)}]): "
        f"s = {t.scale_formula} = {fmt(t.scale, 10)} ({t.scale_dtype.words})"
    )
    if t.zero_raw is None:
        return text + f"; z = {t.zero_formula}, so z = {t.qparams.zero_point}."
    raw = t.zero_raw - t.zero_shift
    rounded = t.qparams.zero_point - t.zero_shift
    shift = f", + {t.zero_shift} = {t.qparams.zero_point}" if t.zero_shift else ""
    rule = RULE_WORDS.get(t.zero_tie_rule or "", t.zero_tie_rule)
    why = f"a tie: {rule}" if raw - math.floor(raw) == 0.5 else "the nearest integer"
    return text + (
        f"; z = {t.zero_formula}: {fmt(raw, 10)} → {rounded} ({why})"
        f"{shift}" + (" after clamping" if t.zero_clamped else "") + f", so z = {t.qparams.zero_point}."
    )


class ConventionQuestion(NamedTuple):
    """A which-convention question: the prompt, the right label among the two choices, the worked solution."""

    prompt: str
    answer: str
    choices: tuple[str, ...]
    solution: tuple[str, ...]


def convention_question(rng: random.Random) -> ConventionQuestion:
    """Return a question drawn from ``rng``: every convention equally likely to be the answer.

    >>> q = convention_question(random.Random(0))
    >>> q.answer in q.choices, len(q.choices)
    (True, 2)
    """
    cases = convention_cases()
    shown = rng.choice(sorted({c.shown for c in cases}))  # every convention equally likely to be the answer
    case = rng.choice([c for c in cases if c.shown == shown])
    s, z = shown_qparams(case.shown, case.rmin, case.rmax, signed=case.signed, symmetric=case.symmetric)
    pair = sorted((case.shown, case.other), key=_QUIZ_CONVENTIONS.index)
    labels = tuple(CONVENTIONS[n].label for n in pair)
    other_s, other_z = shown_qparams(case.other, case.rmin, case.rmax, signed=case.signed, symmetric=case.symmetric)
    differ = " and ".join(w for w, same in (("s", s == other_s), ("z", z == other_z)) if not same)
    grid = f"{'int8' if case.signed else 'uint8'} ({'symmetric' if case.symmetric else 'asymmetric'})"
    note = (
        " (TFLite's symmetric grid is its narrow-range weight grid [−127, 127].)"
        if case.symmetric and "tflite" in pair
        else ""
    )
    return ConventionQuestion(
        prompt=f"The range [{fmt(case.rmin)}, {fmt(case.rmax)}] on {grid} came out as **s = {s}, z = {z}** (s to "
        f"{SHOWN_SCALE_DIGITS} significant digits). Which of {labels[0]} and {labels[1]} produced it?{note}",
        answer=CONVENTIONS[case.shown].label,
        choices=labels,
        solution=(
            *(_convention_line(n, case) for n in pair),
            f"They differ in {differ}: {CONVENTIONS[case.other].label} gives s = {other_s}, z = {other_z}, "
            f"so s = {s}, z = {z} is {CONVENTIONS[case.shown].label}'s.",
        ),
    )
