"""Seeded exercises on the core skills, with answer keys computed from the numbers the prompt shows.

The same (seed, difficulty) always gives the same questions, so a link gives a whole class the same set.

Exact in the digits shown
-------------------------
Every number a prompt shows is the exact number its answer key was computed from. Scales, codes and values are
drawn as short decimals (s = 0.05, x = 6.125) or given as a range of short decimals, and every key is computed
in exact rational arithmetic (:class:`fractions.Fraction`) from those very decimal strings — never from a float
that prints differently. So a tie is a tie in the digits the student reads (6.125 / 0.05 = 122.5 exactly), and a
value the prompt calls not a tie is not one. Where a scale has no finite decimal (8/255), the prompt asks for it
to 4 significant digits and the zero point is computed from the exact fraction, which the prompt says.

Every question whose computation rounds names its rounding rule; each solution shows every number that is
rounded and what it rounds to ("−0.5 → 0 (a tie: half to even)"). Easy stays on 8-bit grids, medium adds low
bits and symmetric grids, and only hard asks about framework conventions and the integer rescale.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from fractions import Fraction
from typing import NamedTuple

from quantviz.errors import QuantVizError
from quantviz.grid import grid_label, int_range
from quantviz.intmath import multiply_by_quantized_multiplier, quantize_multiplier
from quantviz.teach.convention_quiz import (  # noqa: F401  (convention_cases and convention_options re-exported)
    convention_cases,
    convention_options,
    convention_question,
)
from quantviz.teach.exact import RULE_WORDS, exact_text, paren, round_exact, rounding_step, show
from quantviz.teach.fmt import fmt

DIFFICULTIES = {
    "easy": "Easy: 8-bit grids, round numbers",
    "medium": "Medium: low bits, signed and symmetric grids",
    "hard": "Hard: ties, framework conventions, integer steps",
}


class Answer(NamedTuple):
    """One field the student fills in."""

    name: str
    label: str
    kind: str  # "int", "float" or "choice"
    expected: int | float | str
    tolerance: float = 0.0  # absolute, for floats
    choices: tuple[str, ...] = ()


class Exercise(NamedTuple):
    """A question, the answers it expects and a worked solution."""

    kind: str
    prompt: str
    answers: tuple[Answer, ...]
    solution: tuple[str, ...]


def check(answer: Answer, given: object) -> bool:
    """Return whether ``given`` answers ``answer``: exact for integers and choices, within tolerance for floats.

    >>> check(Answer("z", "z", "int", 128), 128), check(Answer("s", "s", "float", 0.5, 1e-3), 0.5004)
    (True, True)
    """
    if given is None or given == "":
        return False
    try:
        if answer.kind == "int":
            value = float(given)  # type: ignore[arg-type]
            return value.is_integer() and int(value) == int(answer.expected)
        if answer.kind == "float":
            value = float(given)  # type: ignore[arg-type]
            return math.isfinite(value) and abs(value - float(answer.expected)) <= answer.tolerance
    except (TypeError, ValueError):
        return False
    return str(given) == str(answer.expected)


# ----------------------------------------------------------------------------- the grid a question is posed on
class Setup(NamedTuple):
    """The grid and the (exact) scale and zero point a question is posed on."""

    bits: int
    signed: bool
    symmetric: bool
    qmin: int
    qmax: int
    scale: Fraction
    zero_point: int

    @property
    def grid(self) -> str:
        """The grid in words, as prompts and the answer-key test read it."""
        sym = " (symmetric)" if self.symmetric else ""
        return f"{grid_label(self.bits, signed=self.signed)} grid [{self.qmin}, {self.qmax}]{sym}"

    @property
    def given(self) -> str:
        return f"s = {exact_text(self.scale)}, z = {self.zero_point} on the {self.grid}"


# Short decimal scales: every product and quotient the questions need stays exact in a few digits.
_SCALES = {
    "easy": ("0.5", "0.25", "0.2", "0.1", "0.05", "0.04", "0.02", "0.01"),
    "medium": ("0.75", "0.3", "0.125", "0.15", "0.06", "0.025", "0.0625", "1.5"),
    "hard": ("0.0078125", "0.015625", "0.003", "0.35", "0.45", "2.5", "0.004"),
}


def _middle(qmin: int, qmax: int) -> int:
    return round_exact(Fraction(qmin + qmax, 2), "half_to_even")


def _grid(rng: random.Random, difficulty: str) -> tuple[int, bool, bool]:
    """Return (bits, signed, symmetric) for the level: easy 8-bit asymmetric, medium low bits, hard 8 or 4 bits."""
    signed = rng.random() < 0.5
    if difficulty == "easy":
        return 8, signed, False
    if difficulty == "medium":
        return rng.choice([2, 3, 4, 6, 8]), signed, rng.random() < 0.4
    return rng.choice([8, 8, 4]), signed, False


def _setup(rng: random.Random, difficulty: str) -> Setup:
    bits, signed, symmetric = _grid(rng, difficulty)
    qmin, qmax = int_range(bits, signed=signed)
    z = _middle(qmin, qmax) if symmetric else rng.randint(qmin, qmax)
    return Setup(bits, signed, symmetric, qmin, qmax, Fraction(rng.choice(_SCALES[difficulty])), z)


def _rule(rng: random.Random, difficulty: str) -> str:
    """Hard questions also round half away from zero (C's round, TFLite's reference kernels)."""
    return rng.choice(list(RULE_WORDS)) if difficulty == "hard" else "half_to_even"


def _quantize_lines(x: Fraction, su: Setup, rule: str) -> tuple[list[str], int]:
    """Return the solution lines of q = clamp(round(x / s) + z) and q, every intermediate number shown."""
    t = x / su.scale
    r = round_exact(t, rule)
    q = min(max(r + su.zero_point, su.qmin), su.qmax)
    lines = [
        f"x / s = {exact_text(x)} / {exact_text(su.scale)} = {show(t)}.",
        f"Round: {rounding_step(t, rule)}.",
        f"Add z: {r} + {paren(su.zero_point)} = {r + su.zero_point}.",
    ]
    if q != r + su.zero_point:
        lines.append(f"Clamp to [{su.qmin}, {su.qmax}]: {r + su.zero_point} is outside, so q = {q} (clipped).")
    else:
        lines.append(f"Clamp to [{su.qmin}, {su.qmax}]: inside, so q = {q}.")
    return lines, q


# ----------------------------------------------------------------------------- the builders, one per kind
def _scale_zero_point(rng: random.Random, difficulty: str) -> Exercise:
    bits, signed, symmetric = _grid(rng, difficulty)
    qmin, qmax = int_range(bits, signed=signed)
    if difficulty == "easy":
        lo, hi = rng.choice(
            [("-1", "1"), ("0", "6"), ("-2", "6"), ("0", "255"), ("-127.5", "127.5"), ("-4", "12"), ("-1", "3")]
        )
    elif difficulty == "medium":
        lo, hi = exact_text(Fraction(-rng.randint(0, 500), 100)), exact_text(Fraction(rng.randint(50, 500), 100))
    else:
        a = rng.choice(["1000", "6", "1", "2.5"])
        lo, hi = f"-{a}", a
    rlo, rhi = Fraction(lo), Fraction(hi)
    wlo, whi = min(rlo, 0), max(rhi, 0)
    lines = [
        f"Widen to include 0: [{exact_text(wlo)}, {exact_text(whi)}]."
        if (wlo, whi) != (rlo, rhi)
        else f"[{lo}, {hi}] already includes 0."
    ]
    if symmetric:
        absmax = max(-wlo, whi)
        z = _middle(qmin, qmax)
        side = min(qmax - z, z - qmin)
        s = absmax / side
        how = "symmetric: z = the middle code, rounded half to even; s = absmax / (codes on the shorter side of z)"
        lines += [
            f"z = round(({qmin} + {qmax}) / 2): {rounding_step(Fraction(qmin + qmax, 2), 'half_to_even')}.",
            f"absmax = {exact_text(absmax)}; the shorter side of z has min({qmax} − {z}, {z} − {qmin}) = {side} codes.",
            f"s = {exact_text(absmax)} / {side} = {show(s)}.",
        ]
    else:
        s = (whi - wlo) / (qmax - qmin)
        raw = qmin - wlo / s
        rounded = round_exact(raw, "half_to_even")
        z = min(max(rounded, qmin), qmax)
        how = "s = (rmax − rmin) / (qmax − qmin); z = qmin − rmin / s, rounded half to even, then clamped"
        lines += [
            f"s = ({exact_text(whi)} − {paren(wlo)}) / ({qmax} − {paren(qmin)}) = {show(s)}.",
            f"qmin − rmin / s = {qmin} − {paren(wlo)} / s = {show(raw)} (with the exact s, not its rounded digits).",
            f"Round: {rounding_step(raw, 'half_to_even')}"
            + (f"; clamp to the grid → z = {z}." if z != rounded else f"; inside the grid → z = {z}."),
        ]
    grid = f"{grid_label(bits, signed=signed)} grid [{qmin}, {qmax}]" + (" (symmetric)" if symmetric else "")
    return Exercise(
        "scale_zero_point",
        f"Choose the scale s and zero point z (textbook convention: widen the range to include 0; {how}) "
        f"for the range **[{lo}, {hi}]** on the {grid}. Give s to 4 significant digits; compute z from the "
        "exact s.",
        (Answer("s", "scale s", "float", float(s), _float_tolerance(float(s))), Answer("z", "zero point z", "int", z)),
        tuple(lines),
    )


def _float_tolerance(value: float) -> float:
    """Accept answers to 4 significant digits."""
    return max(abs(value) * 5e-4, 1e-12)


def _quantize(rng: random.Random, difficulty: str) -> Exercise:
    su = _setup(rng, difficulty)
    rule = _rule(rng, difficulty)
    k = rng.randint(
        su.qmin - su.zero_point - (difficulty != "easy"), su.qmax - su.zero_point - 1 + (difficulty != "easy")
    )
    tie = difficulty == "hard" or rng.random() < 0.3
    frac = Fraction(1, 2) if tie else Fraction(rng.choice(["0.1", "0.2", "0.25", "0.4", "0.6", "0.75", "0.8", "0.9"]))
    x = (k + frac) * su.scale
    lines, q = _quantize_lines(x, su, rule)
    return Exercise(
        "quantize",
        f"With {su.given}, quantize **x = {exact_text(x)}**: q = clamp(round(x / s) + z, qmin, qmax), "
        f"ties rounded {RULE_WORDS[rule]}.",
        (Answer("q", "q", "int", q),),
        tuple(lines),
    )


def _dequantize(rng: random.Random, difficulty: str) -> Exercise:
    su = _setup(rng, difficulty)
    q = rng.randint(su.qmin, su.qmax)
    r = su.scale * (q - su.zero_point)
    return Exercise(
        "dequantize",
        f"With {su.given}, which real value does code **q = {q}** stand for?",
        (Answer("r", "real value", "float", float(r), _float_tolerance(float(r)) + float(su.scale) * 1e-6),),
        (
            f"r = s·(q − z) = {exact_text(su.scale)} × ({q} − {paren(su.zero_point)}) = {exact_text(su.scale)} × "
            f"{paren(q - su.zero_point)} = {exact_text(r)}.",
        ),
    )


def _representable_range(rng: random.Random, difficulty: str) -> Exercise:
    su = _setup(rng, difficulty)
    lo, hi = su.scale * (su.qmin - su.zero_point), su.scale * (su.qmax - su.zero_point)
    tol = float(su.scale) * 1e-6
    return Exercise(
        "representable_range",
        f"With {su.given}, what are the smallest and largest real values the grid can represent?",
        (
            Answer("lo", "smallest", "float", float(lo), _float_tolerance(float(lo)) + tol),
            Answer("hi", "largest", "float", float(hi), _float_tolerance(float(hi)) + tol),
        ),
        (
            f"(qmin − z)·s = ({su.qmin} − {paren(su.zero_point)}) × {exact_text(su.scale)} = {exact_text(lo)}.",
            f"(qmax − z)·s = ({su.qmax} − {paren(su.zero_point)}) × {exact_text(su.scale)} = {exact_text(hi)}.",
        ),
    )


def _clips(rng: random.Random, difficulty: str) -> Exercise:
    su = _setup(rng, difficulty)
    rule = _rule(rng, difficulty)
    lo, hi = su.scale * (su.qmin - su.zero_point), su.scale * (su.qmax - su.zero_point)
    past = Fraction(rng.choice(["0.2", "0.4", "0.5", "0.5", "0.6", "1.5", "3"]))
    x = rng.choice(
        [
            hi + past * su.scale,
            lo - past * su.scale,
            su.scale * (rng.randint(su.qmin, su.qmax - 1) - su.zero_point + Fraction(1, 4)),
        ]
    )
    lines, _ = _quantize_lines(x, su, rule)
    unclamped = round_exact(x / su.scale, rule) + su.zero_point
    clipped = not su.qmin <= unclamped <= su.qmax
    lines.insert(0, f"The representable range is [{exact_text(lo)}, {exact_text(hi)}]: (qmin − z)·s to (qmax − z)·s.")
    lines.append(
        "round(x/s) + z is outside the grid: clipped." if clipped else "round(x/s) + z is inside the grid: not clipped."
    )
    if not clipped and not lo <= x <= hi:
        end, code = (hi, su.qmax) if x > hi else (lo, su.qmin)
        lines.append(
            f"x lies beyond the representable {exact_text(end)}, but by no more than half a step (s/2 = "
            f"{exact_text(su.scale / 2)}): it rounds to the last code, {code}, exactly as a value inside would."
        )
    return Exercise(
        "clips",
        f"With {su.given}, is **x = {exact_text(x)}** clipped? (q = clamp(round(x / s) + z, qmin, qmax), "
        f"ties rounded {RULE_WORDS[rule]}.)",
        (Answer("clip", "clipped?", "choice", "yes" if clipped else "no", choices=("yes", "no")),),
        tuple(lines),
    )


def _which_convention(rng: random.Random, difficulty: str) -> Exercise:
    q = convention_question(rng)
    return Exercise(
        "which_convention",
        q.prompt,
        (Answer("conv", "convention", "choice", q.answer, choices=q.choices),),
        q.solution,
    )


def _integer_step(rng: random.Random, difficulty: str) -> Exercise:
    m = rng.choice([0.0031, 0.0123, 0.25, 0.0007, 0.5 / 3])
    acc = rng.randint(-30000, 30000)
    m0, shift = quantize_multiplier(m)
    out = int(multiply_by_quantized_multiplier(acc, m0, shift))
    total = 31 - shift
    return Exercise(
        "integer_step",
        f"An int32 accumulator **acc = {acc}** is rescaled by M = {fmt(m)}, stored as M0 = {m0} and shift = {shift}. "
        f"What is (acc·M0 + 2^(30 − shift)) >> (31 − shift)? (>> is an arithmetic shift: it rounds toward −∞.)",
        (Answer("out", "result", "int", out),),
        (
            f"acc·M0 = {acc} × {m0} = {acc * m0}.",
            f"Add 2^{total - 1}: {acc * m0} + {2 ** (total - 1)} = {acc * m0 + 2 ** (total - 1)}.",
            f">> {total}: {acc * m0 + 2 ** (total - 1)} / 2^{total} = "
            f"{fmt((acc * m0 + 2 ** (total - 1)) / 2**total, 12)} → {out} (floor), close to acc·M = {fmt(acc * m, 8)}.",
        ),
    )


# One small builder per kind; each level's kinds are listed below. Conventions and integer steps are hard only.
BUILDERS: dict[str, Callable[[random.Random, str], Exercise]] = {
    "scale_zero_point": _scale_zero_point,
    "quantize": _quantize,
    "dequantize": _dequantize,
    "representable_range": _representable_range,
    "clips": _clips,
    "which_convention": _which_convention,
    "integer_step": _integer_step,
}
KINDS = tuple(BUILDERS)
KINDS_BY_DIFFICULTY = {"easy": KINDS[:5], "medium": KINDS[:5], "hard": KINDS}


def make_exercise(kind: str, rng: random.Random, difficulty: str) -> Exercise:
    """Return one exercise of ``kind`` at ``difficulty``, drawn from ``rng``.

    >>> ex = make_exercise("quantize", random.Random(0), "easy")
    >>> ex.kind, "ties rounded half to even" in ex.prompt
    ('quantize', True)
    """
    if difficulty not in DIFFICULTIES:
        raise QuantVizError(f"unknown difficulty {difficulty!r}; choose one of {', '.join(DIFFICULTIES)}")
    try:
        builder = BUILDERS[kind]
    except KeyError:
        raise QuantVizError(f"unknown exercise kind {kind!r}; choose one of {', '.join(BUILDERS)}") from None
    return builder(rng, difficulty)


def make_exercises(seed: int, difficulty: str = "easy", count: int = 7) -> list[Exercise]:
    """Return ``count`` exercises for (seed, difficulty): every kind of that level once, then repeats, seeded order.

    >>> a = make_exercises(3, "medium"); b = make_exercises(3, "medium")
    >>> [e.prompt for e in a] == [e.prompt for e in b], len(a)
    (True, 7)
    """
    if difficulty not in DIFFICULTIES:
        raise QuantVizError(f"unknown difficulty {difficulty!r}; choose one of {', '.join(DIFFICULTIES)}")
    rng = random.Random(f"{int(seed)}-{difficulty}")
    kinds = list(KINDS_BY_DIFFICULTY[difficulty])
    rng.shuffle(kinds)
    kinds = (kinds * (count // len(kinds) + 1))[:count]
    return [make_exercise(k, rng, difficulty) for k in kinds]


def score(exercises: list[Exercise], responses: dict[tuple[int, str], object]) -> tuple[int, int]:
    """Return (exercises fully right, exercises attempted) for responses keyed by (index, answer name)."""
    right = attempted = 0
    for i, ex in enumerate(exercises):
        given = [responses.get((i, a.name)) for a in ex.answers]
        if all(g is None for g in given):
            continue
        attempted += 1
        right += all(check(a, g) for a, g in zip(ex.answers, given, strict=True))
    return right, attempted
