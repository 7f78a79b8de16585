"""Exercises: every answer key recomputed from the digits its prompt shows, ties named, levels held.

The recomputation here is independent of quantviz.teach.exercises: it parses the prompt text and redoes the
arithmetic in exact rationals, as a student with pencil and paper would from what the page shows.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from fractions import Fraction
from functools import cache

import pytest

from quantviz.conventions import CONVENTIONS
from quantviz.teach import exercises as ex_mod
from quantviz.teach.exact import exact_text, round_exact

SEEDS = range(300)
LEVELS = ("easy", "medium", "hard")
NUM = r"(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)"


def _num(pattern: str, text: str) -> Fraction:
    m = re.search(pattern.replace("NUM", NUM), text.replace("−", "-"))
    assert m, (pattern, text)
    return Fraction(m.group(1))


def _grid(text: str) -> tuple[int, int]:
    m = re.search(r"grid \[(-?\d+), (-?\d+)\]", text.replace("−", "-"))
    assert m, text
    return int(m.group(1)), int(m.group(2))


def _rule(text: str) -> str:
    # A prompt that names no rule is read with the textbook's (half to even); the tie test below catches it.
    return "half_away_from_zero" if "half away from zero" in text else "half_to_even"


def _round(v: Fraction, rule: str) -> int:
    low = math.floor(v)
    rest = v - low
    if rest != Fraction(1, 2):
        return low + (rest > Fraction(1, 2))
    return low + (low % 2) if rule == "half_to_even" else (low + 1 if v > 0 else low)


def _tie(v: Fraction) -> bool:
    return v - math.floor(v) == Fraction(1, 2)


def _recompute_convention(ex) -> str:
    """The one convention whose (s, z) the which-convention prompt shows, or "ambiguous [...]"."""
    p = ex.prompt
    lo, hi = (Fraction(v) for v in re.search(r"range \[([^,]+), ([^\]]+)\]", p.replace("−", "-")).groups())
    signed, symmetric = " on int8" in p, ", symmetric" in p or "int8 (symmetric)" in p
    s, z = re.search(r"\*\*s = ([^,]+), z = (-?\d+)\*\*", p).groups()
    shown = re.search(r"s to (\d+) significant digits", p)
    digits = int(shown.group(1)) if shown else 12  # as many as fmt(s, 12) shows
    found = []
    for c in ex.answers[0].choices:
        name = next(n for n, cv in CONVENTIONS.items() if cv.label == c)
        opts = {"signed": signed, "symmetric": symmetric, "narrow_range": symmetric and name == "tflite"}
        if CONVENTIONS[name].unsupported_reason(bits=8, **opts):
            continue  # a convention that cannot quantize this grid did not produce it
        qp = CONVENTIONS[name].choose_qparams(float(lo), float(hi), **opts)
        if (f"{qp.scale:.{digits}g}", qp.zero_point) == (s, int(z)):
            found.append(c)
    return found[0] if len(found) == 1 else f"ambiguous {found}"


def _recompute_scale_zero_point(p: str, qmin: int, qmax: int, rule: str) -> tuple[dict, bool]:
    lo, hi = (Fraction(v) for v in re.search(r"range \*\*\[([^,]+), ([^\]]+)\]\*\*", p.replace("−", "-")).groups())
    lo, hi = min(lo, 0), max(hi, 0)
    if "(symmetric)" in p:
        mid = Fraction(qmin + qmax, 2)
        z = _round(mid, "half_to_even")
        return {"s": max(-lo, hi) / min(qmax - z, z - qmin), "z": z}, _tie(mid)
    s = (hi - lo) / (qmax - qmin)
    raw = qmin - lo / s
    return {"s": s, "z": min(max(_round(raw, rule), qmin), qmax)}, _tie(raw)


def recompute(ex) -> tuple[dict, bool]:
    """Return (the answers recomputed from the prompt's digits, whether the computation rounds a tie)."""
    p = ex.prompt
    if ex.kind == "integer_step":
        acc, m0, shift = (int(_num(rf"{k} = NUM", p)) for k in (r"acc", r"M0", r"shift"))
        return {"out": (acc * m0 + 2 ** (30 - shift)) >> (31 - shift)}, False
    if ex.kind == "which_convention":
        return {"conv": _recompute_convention(ex)}, False
    qmin, qmax = _grid(p)
    rule = _rule(p)
    if ex.kind == "scale_zero_point":
        return _recompute_scale_zero_point(p, qmin, qmax, rule)
    s, z = _num(r"\bs = NUM", p), int(_num(r"\bz = NUM", p))
    if ex.kind == "dequantize":
        return {"r": s * (int(_num(r"q = NUM", p)) - z)}, False
    if ex.kind == "representable_range":
        return {"lo": s * (qmin - z), "hi": s * (qmax - z)}, False
    x = _num(r"x = NUM", p)
    unclamped = _round(x / s, rule) + z
    if ex.kind == "quantize":
        return {"q": min(max(unclamped, qmin), qmax)}, _tie(x / s)
    if ex.kind == "clips":
        return {"clip": "no" if qmin <= unclamped <= qmax else "yes"}, _tie(x / s)
    raise AssertionError(ex.kind)


def _agrees(answer, value) -> bool:
    if answer.kind == "float":
        return abs(float(answer.expected) - float(value)) <= answer.tolerance
    if answer.kind == "int":
        return int(answer.expected) == value
    return answer.expected == value


def wrong_keys(module) -> tuple[Counter, Counter]:
    """Return (wrong answer keys per level and kind, questions per level and kind) over 300 seeds × 3 levels."""
    wrong, total = Counter(), Counter()
    sets = (
        _sets()
        if module is ex_mod
        else ((lv, ex) for lv in LEVELS for seed in SEEDS for ex in module.make_exercises(seed, lv))
    )
    for level, ex in sets:
        keys, _ = recompute(ex)
        total[level, ex.kind] += 1
        wrong[level, ex.kind] += not all(_agrees(a, keys[a.name]) for a in ex.answers)
    return wrong, total


def test_every_answer_key_matches_the_prompts_own_digits() -> None:
    wrong, total = wrong_keys(ex_mod)
    assert not +wrong, {k: f"{wrong[k]}/{total[k]}" for k in wrong if wrong[k]}


@cache
def _sets() -> tuple:
    return tuple((level, ex) for level in LEVELS for seed in SEEDS for ex in ex_mod.make_exercises(seed, level))


def _all():
    return _sets()


def test_a_tie_is_always_announced_with_its_rule_and_shown_rounded() -> None:
    ties = 0
    for _level, ex in _all():
        _, tie = recompute(ex)
        if tie:
            ties += 1
            assert "half to even" in ex.prompt or "half away from zero" in ex.prompt, ex.prompt
            assert any("(a tie: " in line for line in ex.solution), ex.solution
    assert ties > 300  # ties are asked, not avoided


def test_every_rounding_in_a_solution_shows_the_number_rounded() -> None:
    arrow = re.compile(
        r"(-?[\d./]+(?: ≈ -?[\d.e-]+)?) → (-?\d+) "
        r"\((a tie: half to even|a tie: half away from zero|the nearest integer)\)"
    )
    for _level, ex in _all():
        if ex.kind in ("quantize", "clips", "scale_zero_point"):
            steps = [m for line in ex.solution for m in arrow.finditer(line)]
            assert steps, ex.solution
            for m in steps:
                value = Fraction(m.group(1).split(" ≈ ")[0])
                rule = "half_away_from_zero" if "away" in m.group(3) else "half_to_even"
                assert _round(value, rule) == int(m.group(2)) and _tie(value) == ("tie" in m.group(3)), m.group(0)


def test_levels_hold() -> None:
    kinds = {level: Counter() for level in LEVELS}
    for level, ex in _all():
        kinds[level][ex.kind] += 1
        if level == "easy":
            assert re.search(r"\bu?int8\b", ex.prompt), ex.prompt
            assert "(symmetric)" not in ex.prompt
    assert set(kinds["easy"]) == set(kinds["medium"]) == set(ex_mod.KINDS) - {"which_convention", "integer_step"}
    assert set(kinds["hard"]) == set(ex_mod.KINDS)


def test_which_convention_hinges_on_a_visible_difference_and_shows_each_conventions_numbers() -> None:
    from quantviz.teach.convention_quiz import convention_cases, shown_qparams

    for case in convention_cases():
        a = shown_qparams(case.shown, case.rmin, case.rmax, signed=case.signed, symmetric=case.symmetric)
        b = shown_qparams(case.other, case.rmin, case.rmax, signed=case.signed, symmetric=case.symmetric)
        assert a != b
    names = Counter()
    for _level, ex in _all():
        if ex.kind == "which_convention":
            names[ex.answers[0].expected] += 1
            for label in ex.answers[0].choices:
                line = next(li for li in ex.solution if li.startswith(label + " "))
                assert re.search(r"s = .*= \d", line) and re.search(r"so z = -?\d+\.$", line), line
            assert ex.solution[-1].startswith("They differ in ")
    assert len(names) == 4, names  # every convention is an answer somewhere


def test_registry_and_bad_inputs() -> None:
    assert set(ex_mod.BUILDERS) == set(ex_mod.KINDS)
    with pytest.raises(ValueError, match="nonsense"):
        ex_mod.make_exercise("nonsense", random.Random(0), "easy")
    with pytest.raises(ValueError, match="extreme"):
        ex_mod.make_exercise("quantize", random.Random(0), "extreme")
    with pytest.raises(ValueError, match="1/3"):
        exact_text(Fraction(1, 3))


def test_exact_rounding_matches_quantviz_rounding_on_ties() -> None:
    import numpy as np

    from quantviz.rounding import round_half_away_from_zero

    for v in (Fraction(-5, 2), Fraction(-1, 2), Fraction(1, 2), Fraction(3, 2), Fraction(7, 4), Fraction(-9, 4)):
        assert round_exact(v, "half_to_even") == int(np.rint(float(v)))
        assert round_exact(v, "half_away_from_zero") == int(round_half_away_from_zero(np.array(float(v))))


def test_no_solution_line_reads_as_a_markdown_list_marker() -> None:
    # the page prints each line as "- line": a line opening with "+ ", "- " or "* " would nest a second bullet
    for _level, ex in _all():
        for line in ex.solution:
            assert not re.match(r"[-+*] ", line), line
