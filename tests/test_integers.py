"""Integer arithmetic's words: every displayed equality of the multiplier holds, pair-sum sentences match the bounds."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantviz.intmath import INT16_MAX, INT16_MIN, multiplier_steps, pair_sum_extremes
from quantviz.teach import integers as words

# The grid of M values: the halving (round reaches 2^31) and flush (1e-12) cases, the edges of the format,
# and a log-spaced sweep.
M_GRID = sorted(
    {
        1e-12,
        1 - 2**-40,
        0.99999999999,
        0.99999999999 * 2**-7,
        2**-31,
        2**-32,
        2**-32 * (1 - 2**-30),
        2**-33,
        0.0003,
        0.5,
        1 / 3,
        0.25,
        1.0,
        2.0**30,
        3e9,
        2.0**31,
        1e-9,
        4.656612873077393e-10,
        *np.logspace(-14, 12, 60).tolist(),
    }
)
ACCS = (0, 1, -1, 1000, -30000, 123456789, -(2**31), 2**31 - 1)


def _round_away(v):
    return (
        math.copysign(math.floor(abs(v) + 0.5), v)
        if abs(v) - math.floor(abs(v)) != 0.5
        else math.copysign(math.floor(abs(v)) + 1, v)
    )


def _python(term: str, steps) -> str:
    """Turn one side of a displayed LaTeX equality into Python, the symbols bound to the final M, M0 and shift."""
    t = term.strip()
    t = t.replace(r"\operatorname{round}", "rnd").replace(r"\left(", "(").replace(r"\right)", ")")
    t = t.replace(r"\times", "*").replace(r"\cdot", "*").replace(r"\gg", ">>")
    t = re.sub(r"\^\{([^}]*)\}", r"**(\1)", t)
    t = t.replace("M_0", "m0").replace("shift", "sh")
    t = re.sub(r"\bM\b", "m", t)
    return t


def _evaluate(term: str, steps):
    env = {"rnd": _round_away, "m0": steps.m0, "sh": steps.shift, "m": steps.multiplier}
    return eval(_python(term, steps), {"__builtins__": {}}, env)  # our own formula text, no builtins


def _same(a, b) -> bool:
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-10, abs_tol=1e-300)


def displayed_equalities(steps) -> list[tuple[str, list[str]]]:
    """Return (clause, its sides) for every chain a = b = c the multiplier's formulas display."""
    chains = []
    for _label, formula, _note in words.multiplier_lines(steps):
        for clause in re.split(r",\\quad |\\;\\Rightarrow\\;", formula):
            sides = clause.split(" = ")
            if len(sides) < 2:
                continue
            if re.search(r" [<>] ", clause):
                # "shift = -39 < -31": the inequality must hold; the symbol is the shift before the flush
                lhs, rel, rhs = re.search(r"(-?\d+) ([<>]) (-?\d+)", clause).groups()
                assert (int(lhs) < int(rhs)) if rel == "<" else (int(lhs) > int(rhs)), clause
                continue
            chains.append((clause, sides))
    return chains


@pytest.mark.parametrize("m", M_GRID)
def test_every_displayed_equality_of_the_multiplier_holds(m: float) -> None:
    for acc in ACCS:
        steps = multiplier_steps(m, acc)
        for clause, sides in displayed_equalities(steps):
            values = [_evaluate(s, steps) for s in sides]
            assert all(_same(values[0], v) for v in values[1:]), (m, acc, clause, values)


def test_halving_and_flush_are_steps_of_their_own() -> None:
    halved = multiplier_steps(1 - 2**-40, 1000)
    assert halved.renormalised and halved.rounded == 2**31 and halved.m0 == 2**30
    assert any(label.startswith("3. Halve") for label, _, _ in words.multiplier_lines(halved))
    flushed = multiplier_steps(1e-12, 1000)
    assert flushed.flushed and flushed.m0 == 0 and flushed.rounded != 0
    lines = words.multiplier_lines(flushed)
    assert any("Flush to zero" in label for label, _, _ in lines)
    # the rounding is shown with its own result, never "= 0"
    assert f"= {flushed.rounded}" in lines[1][1] and not lines[1][1].endswith("= 0")


def test_classic_build_is_not_quoted_where_its_int32_left_shift_overflows() -> None:
    steps = multiplier_steps(3e9, 1000)
    assert steps.saturated and steps.result_double_rounding is None
    assert "does not fit an int32 here" in words.multiplier_lines(steps)[-1][2]


grids = st.tuples(st.integers(-300, 300), st.integers(-300, 300)).map(lambda t: (min(t), max(t)))


@settings(max_examples=200, deadline=None)
@given(grids, grids)
def test_fit_sentence_matches_the_computed_bounds(a_grid, b_grid) -> None:
    sums = pair_sum_extremes(a_grid, b_grid)
    products = [
        x * y
        for x in range(a_grid[0], a_grid[1] + 1, max(1, (a_grid[1] - a_grid[0]) // 7) or 1)
        for y in (b_grid[0], b_grid[1])
    ]
    assert 2 * max(products) <= sums.high and 2 * min(products) >= sums.low
    fits = sums.low >= INT16_MIN and sums.high <= INT16_MAX
    text = words.describe_pair_sums(sums)
    assert ("Both fit" in text) == fits and ("It does not fit" in text) == (not fits)
    for value in (sums.high, sums.low):
        if not INT16_MIN <= value <= INT16_MAX:
            assert words._signed_text(value) + (" saturates" if a_grid[0] >= 0 else " wraps") in text


PAGE_A = {"u8": (0, 255), "u7": (0, 127), "s8": (-128, 127)}
PAGE_B = {"s8": (-128, 127), "s7": (-127, 127)}


@pytest.mark.parametrize("a", PAGE_A)
@pytest.mark.parametrize("b", PAGE_B)
def test_remedies_and_instruction_match_the_counterfactual_sums(a: str, b: str) -> None:
    sums = pair_sum_extremes(PAGE_A[a], PAGE_B[b])
    text = words.describe_pair_sums(sums)
    narrow = pair_sum_extremes(PAGE_A[a], (-127, 127))
    reduced = pair_sum_extremes((0, 127), PAGE_B[b])
    if sums.fits_int16:
        assert "Narrow range" not in text and "reduce_range" not in text
    elif b == "s7":
        # narrow range is already on, and the sums still overflow: the sentence says why it does not help
        assert "Narrow range does not help here" in text and not narrow.fits_int16
        assert f"{sums.high_codes[0]}·" in text
    else:
        assert ("Narrow range [−127, 127] would fix it" in text) == narrow.fits_int16
        assert ("would not fix it" in text) == (not narrow.fits_int16)
    if not sums.fits_int16 and a == "u8":
        assert ("Fewer activation codes do:" in text) == reduced.fits_int16
    if a == "s8":
        assert "VPMADDWD" in text and "SMLAL" in text and "This is x86's VPMADDUBSW" not in text
    else:
        assert "This is x86's VPMADDUBSW" in text and "VPDPBUSD" in text


def test_uint8_by_narrow_int8_says_why_narrow_range_does_not_help() -> None:
    text = words.describe_pair_sums(pair_sum_extremes((0, 255), (-127, 127)))
    assert "Narrow range does not help here" in text and "255·127·2 = 64770" in text
    assert "reduce_range's [0, 127] the sums run from −32258 to 32258, which fits" in text
