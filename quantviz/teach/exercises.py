"""Seeded exercises on the core skills, with answers checked by quantviz and worked solutions.

The same (seed, difficulty) always gives the same questions, so a link gives a whole class the same set.
"""

from __future__ import annotations

import math
import random
from functools import cache
from typing import NamedTuple

from quantviz.conventions import CONVENTIONS
from quantviz.errors import QuantVizError
from quantviz.grid import grid_label
from quantviz.intmath import multiply_by_quantized_multiplier, quantize_multiplier
from quantviz.qparams import QParams
from quantviz.quantize import choose_qparams, dequantize, quantize_trace
from quantviz.teach.fmt import fmt

DIFFICULTIES = {"easy": "Easy: 8-bit grids, round numbers", "medium": "Medium: low bits, signed and symmetric grids", "hard": "Hard: ties, framework conventions, integer steps"}
KINDS = ("scale_zero_point", "quantize", "dequantize", "representable_range", "clips", "which_convention", "integer_step")
# Easy stays on the core skills on 8-bit grids; conventions and the integer rescale come later.
KINDS_BY_DIFFICULTY = {
    "easy": KINDS[:5],
    "medium": KINDS[:6],
    "hard": KINDS,
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


def _float_tolerance(value: float) -> float:
    """Accept answers to 4 significant digits."""
    return max(abs(value) * 5e-4, 1e-12)


def _setup(rng: random.Random, difficulty: str) -> tuple[float, float, dict]:
    if difficulty == "easy":
        lo, hi = rng.choice([(-1.0, 1.0), (0.0, 6.0), (-2.0, 6.0), (0.0, 255.0), (-127.5, 127.5), (-4.0, 12.0)])
        options = {"bits": 8, "signed": rng.random() < 0.5}
    elif difficulty == "medium":
        lo, hi = round(-rng.uniform(0, 5), 2), round(rng.uniform(0.5, 5), 2)
        options = {"bits": rng.choice([2, 3, 4, 6, 8]), "signed": rng.random() < 0.5, "symmetric": rng.random() < 0.4}
    else:
        a = rng.choice([1000.0, 6.0, 1.0, 2.5])
        lo, hi = -a, a
        options = {"bits": 8, "signed": rng.random() < 0.5}
    return lo, hi, options


def _grid_text(qp: QParams, options: dict) -> str:
    return f"{grid_label(options['bits'], signed=options.get('signed', False))} grid [{qp.qmin}, {qp.qmax}]" + (" (symmetric)" if options.get("symmetric") else "")


def _tie_or_value(rng: random.Random, qp: QParams, difficulty: str) -> float:
    k = rng.randint(qp.qmin - qp.zero_point, qp.qmax - qp.zero_point - 1)
    if difficulty == "hard" or rng.random() < 0.3:
        return float((k + 0.5) * qp.scale)  # an exact tie (in float64)
    return round(float((k + rng.random()) * qp.scale), 4)


def make_exercise(kind: str, rng: random.Random, difficulty: str) -> Exercise:
    """Return one exercise of ``kind``, drawn from ``rng``."""
    lo, hi, options = _setup(rng, difficulty)
    qp = choose_qparams(lo, hi, **options)
    grid = _grid_text(qp, options)
    given = f"s = {fmt(qp.scale)}, z = {qp.zero_point}, {grid}"
    if kind == "scale_zero_point":
        scale_note = ("s = max(|rmin|, |rmax|) / (codes on the shorter side of z)" if options.get("symmetric")
                      else "s = (rmax − rmin) / (qmax − qmin)")
        return Exercise(kind, f"Choose the scale s and zero point z (textbook convention) for the range **[{fmt(lo)}, {fmt(hi)}]** on a {grid}. Give s to 4 significant digits.",
                        (Answer("s", "scale s", "float", qp.scale, _float_tolerance(qp.scale)), Answer("z", "zero point z", "int", qp.zero_point)),
                        (f"Widen to include 0: [{fmt(min(lo, 0))}, {fmt(max(hi, 0))}].", f"{scale_note} = {fmt(qp.scale)}.",
                         "z = qmin − rmin/s, rounded half to even and clamped" if not options.get("symmetric") else "z = the middle code",
                         f"→ z = {qp.zero_point}."))
    if kind == "quantize":
        x = _tie_or_value(rng, qp, difficulty)
        t = quantize_trace([x], qp)
        tie = float(t.pre_round[0]) - math.floor(float(t.pre_round[0])) == 0.5
        return Exercise(kind, f"With {given}, quantize **x = {fmt(x, 12)}** (round half to even, then add z, then clamp).",
                        (Answer("q", "q", "int", int(t.q[0])),),
                        (f"x / s = {fmt(float(t.scaled[0]), 12)}" + (" — an exact tie: round half to even." if tie else "."),
                         f"round → {fmt(float(t.unclamped[0]) - qp.zero_point)}; + z = {fmt(float(t.unclamped[0]))}.",
                         f"clamp to [{qp.storage_min}, {qp.storage_max}] → q = {int(t.q[0])}."))
    if kind == "dequantize":
        q = rng.randint(qp.qmin, qp.qmax)
        r = float(dequantize([q], qp)[0])
        return Exercise(kind, f"With {given}, which real value does code **q = {q}** stand for?",
                        (Answer("r", "real value", "float", r, _float_tolerance(r) + qp.scale * 1e-6),),
                        (f"r = s·(q − z) = {fmt(qp.scale)} × ({q} − {qp.zero_point}) = {fmt(r)}.",))
    if kind == "representable_range":
        return Exercise(kind, f"With {given}, what are the smallest and largest real values the grid can represent?",
                        (Answer("lo", "smallest", "float", qp.real_min, _float_tolerance(qp.real_min) + 1e-9), Answer("hi", "largest", "float", qp.real_max, _float_tolerance(qp.real_max) + 1e-9)),
                        (f"(qmin − z)·s = ({qp.qmin} − {qp.zero_point}) × {fmt(qp.scale)} = {fmt(qp.real_min)}.",
                         f"(qmax − z)·s = ({qp.qmax} − {qp.zero_point}) × {fmt(qp.scale)} = {fmt(qp.real_max)}."))
    if kind == "clips":
        span = qp.real_max - qp.real_min
        x = round(rng.choice([qp.real_max + rng.uniform(0.6, 0.2 * span / qp.levels * 50) * qp.scale,
                              qp.real_min - rng.uniform(0.6, 3) * qp.scale, rng.uniform(qp.real_min, qp.real_max)]), 4)
        t = quantize_trace([x], qp)
        clipped = bool(t.clipped[0])
        lines = [f"The representable range is [{fmt(qp.real_min)}, {fmt(qp.real_max)}]; round(x/s) + z = {fmt(float(t.unclamped[0]))}, "
                 + ("outside the grid: clipped." if clipped else "inside the grid: not clipped.")]
        if not clipped and not qp.real_min <= x <= qp.real_max:
            end, code = (qp.real_max, qp.qmax) if x > qp.real_max else (qp.real_min, qp.qmin)
            lines.append(f"x lies beyond the representable {fmt(end)}, but by less than half a step (s/2 = {fmt(qp.scale / 2)}): "
                         f"it rounds to the last code, {code}, exactly as a value inside would. Clipping starts half a step "
                         f"past the end, at {fmt(end + (qp.scale / 2 if x > end else -qp.scale / 2))}.")
        return Exercise(kind, f"With {given}, is **x = {fmt(x)}** clipped?",
                        (Answer("clip", "clipped?", "choice", "yes" if clipped else "no", choices=("yes", "no")),),
                        tuple(lines))
    if kind == "which_convention":
        cases = _unique_convention_cases()
        name = rng.choice(sorted({c[4] for c in cases}))  # every convention equally likely
        lo, hi, signed, symmetric, name, chosen = rng.choice([c for c in cases if c[4] == name])
        labels = tuple(CONVENTIONS[n].label for n in _QUIZ_CONVENTIONS)
        return Exercise(kind, f"The range [{fmt(lo)}, {fmt(hi)}] on {'int8' if signed else 'uint8'}{', symmetric' if symmetric else ''} came out as "
                        f"**s = {fmt(chosen.scale, 12)}, z = {chosen.zero_point}**. Which convention produced it?",
                        (Answer("conv", "convention", "choice", CONVENTIONS[name].label, choices=labels),),
                        tuple(f"{CONVENTIONS[n].label}: " + "; ".join(CONVENTIONS[n].rules[:3]) for n in _QUIZ_CONVENTIONS))
    if kind == "integer_step":
        m = rng.choice([0.0031, 0.0123, 0.25, 0.0007, 0.5 / 3])
        acc = rng.randint(-30000, 30000)
        m0, shift = quantize_multiplier(m)
        out = int(multiply_by_quantized_multiplier(acc, m0, shift))
        return Exercise(kind, f"An int32 accumulator **acc = {acc}** is rescaled by M = {fmt(m)}, stored as M0 = {m0} and shift = {shift}. "
                        "What is (acc·M0 + 2^(30 − shift)) >> (31 − shift)?",
                        (Answer("out", "result", "int", out),),
                        (f"acc·M0 = {acc * m0}.", f"+ 2^{30 - shift} = {acc * m0 + 2 ** (30 - shift)}.",
                         f">> {31 - shift} (floor division by 2^{31 - shift}) = {out}, close to acc·M = {fmt(acc * m, 8)}."))
    raise QuantVizError(f"unknown exercise kind {kind!r}")


_QUIZ_CONVENTIONS = ("textbook", "pytorch", "tflite", "onnxruntime")


@cache
def _unique_convention_cases() -> tuple[tuple[float, float, bool, bool, str, QParams], ...]:
    """Ranges and grids where exactly one convention gives the (s, z) shown: the question has one answer."""
    cases = []
    for lo, hi in ((-1000.0, 1000.0), (0.0, 6.0), (-0.5, 3.0), (-1.0, 1.0), (-2.5, 2.5), (-0.8, 1.27)):
        for signed in (False, True):
            for symmetric in (False, True):
                results = {}
                for name in _QUIZ_CONVENTIONS:
                    opts = {"signed": signed, "symmetric": symmetric, "narrow_range": symmetric and name == "tflite"}
                    if CONVENTIONS[name].unsupported_reason(bits=8, **opts):
                        continue
                    qp = choose_qparams(lo, hi, convention=name, **opts)
                    results[name] = qp
                for name, qp in results.items():
                    same = [n for n, o in results.items() if (o.scale, o.zero_point) == (qp.scale, qp.zero_point)]
                    if same == [name]:
                        cases.append((lo, hi, signed, symmetric, name, qp))
    return tuple(cases)


def make_exercises(seed: int, difficulty: str = "easy", count: int = 7) -> list[Exercise]:
    """Return ``count`` exercises for (seed, difficulty): every kind of that level once, then repeats, in a seeded order.

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

