"""Every "why" on Frameworks compared names the first step at which two conventions' traces part.

The predicates below are written from the traces directly (not from quantviz.teach.compare): for each
stated cause, that step's results differ and every earlier step's results agree; and the sentence
carries both numbers.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantviz.conventions import get_convention
from quantviz.rounding import apply_rounding
from quantviz.teach.compare import (
    CODE_STEPS,
    SCALE_STEPS,
    ZERO_STEPS,
    ConventionRow,
    Difference,
    compare_conventions,
    explain_differences,
    tiny_scale_differences,
)
from quantviz.teach.fmt import fmt


def scale_steps_differ(a, b) -> dict[str, bool]:
    return {
        "range": a.range_used[1] - a.range_used[0] != b.range_used[1] - b.range_used[0],
        "divisor": a.scale_divisor != b.scale_divisor,
        "scale_arithmetic": a.scale != b.scale,
    }


def rounded(choice) -> int:
    return int(apply_rounding(np.array([choice.zero_raw - choice.zero_shift]), choice.zero_tie_rule)[0]) + choice.zero_shift


def zero_steps_differ(a, b) -> dict[str, bool]:
    both_from_min = a.zero_rule == b.zero_rule == "from_min"
    raw_differs = both_from_min and a.zero_raw != b.zero_raw
    return {
        "zero_rule": not both_from_min,
        "range": raw_differs and a.range_used[0] != b.range_used[0],
        "grid": raw_differs and a.grid != b.grid,
        "scale": raw_differs and a.scale != b.scale,
        "zero_arithmetic": raw_differs,
        "zero_rounding": both_from_min and rounded(a) != rounded(b),
        "zero_clamp": True,
    }


def steps_from_z(row: ConventionRow, i: int) -> float:
    value = float(row.trace.pre_round[i])
    return value - row.qparams.zero_point if get_convention(row.name).adds_zero_point_before_rounding else value


def code_steps_differ(row: ConventionRow, ref: ConventionRow, i: int) -> dict[str, bool]:
    same_unclamped = float(row.trace.unclamped[i]) == float(ref.trace.unclamped[i])
    return {
        "clamp": same_unclamped,
        "zero_point": not same_unclamped and row.qparams.zero_point != ref.qparams.zero_point,
        "number_rounded": not same_unclamped and steps_from_z(row, i) != steps_from_z(ref, i),
        "order": not same_unclamped
        and get_convention(row.name).adds_zero_point_before_rounding != get_convention(ref.name).adds_zero_point_before_rounding,
        "rounding": not same_unclamped,
    }


def check(differences: list[Difference], rows: list[ConventionRow], probes: list[float]) -> int:
    by_name = {r.name: r for r in rows}
    ref = by_name["textbook"]
    if ref.qparams is None:
        assert differences == []
        return 0
    checked = 0
    for d in differences:
        row = by_name[d.convention]
        if d.quantity == "scale":
            order, differ = SCALE_STEPS, scale_steps_differ(row.choice, ref.choice)
            assert row.choice.scale != ref.choice.scale
        elif d.quantity == "zero point":
            order, differ = ZERO_STEPS, zero_steps_differ(row.choice, ref.choice)
            assert row.qparams.zero_point != ref.qparams.zero_point
        else:
            i = probes.index(d.probe)
            order, differ = CODE_STEPS, code_steps_differ(row, ref, i)
            assert int(row.trace.q[i]) != int(ref.trace.q[i])
        first = next(step for step in order if differ[step])
        assert d.step == first, (d.sentence, differ)
        assert "First difference: " in d.sentence
        ours, theirs = d.results
        assert fmt(ours, 12) in d.sentence or str(ours) in d.sentence, d.sentence
        assert fmt(theirs, 12) in d.sentence or str(theirs) in d.sentence, d.sentence
        checked += 1
    # every differing result is explained, once
    for row in rows:
        if row.qparams is None or row.name == "textbook":
            continue
        explained = {(d.quantity, d.probe) for d in differences if d.convention == row.name}
        assert (row.choice.scale != ref.choice.scale) == (("scale", None) in explained)
        assert (row.qparams.zero_point != ref.qparams.zero_point) == (("zero point", None) in explained)
        for i, x in enumerate(probes):
            assert (row.codes[i] != ref.codes[i]) == (("code", x) in explained)
    return checked


RANGES = [(-1000.0, 1000.0), (-1.0, 1.0), (0.0, 6.0), (-0.5, 3.0), (0.5, 3.0), (-3.0, -0.25), (250.0, 1000.0), (-0.1, 0.3)]
OPTIONS = [
    dict(zip(("signed", "symmetric", "narrow_range", "reduce_range"), flags, strict=True))
    for flags in itertools.product([False, True], repeat=4)
]


@pytest.mark.parametrize("bits", [2, 4, 8, 16])
def test_every_why_names_the_first_differing_step_on_a_grid(bits: int) -> None:
    checked = 0
    for (lo, hi), options in itertools.product(RANGES, OPTIONS):
        probes = sorted({lo, hi, 0.0, (lo + hi) / 2, hi / 3})
        rows = compare_conventions(lo, hi, probes, bits=bits, **options)
        checked += check(explain_differences(rows, probes), rows, probes)
    assert checked > 20


@settings(max_examples=150, deadline=None)
@given(
    lo=st.floats(-1e4, 1e4, allow_nan=False),
    width=st.floats(1e-3, 2e4, allow_nan=False),
    bits=st.sampled_from([4, 8, 16]),
    options=st.sampled_from(OPTIONS),
    ties=st.lists(st.integers(-300, 300), min_size=1, max_size=4),
)
def test_every_why_names_the_first_differing_step_at_ties(lo, width, bits, options, ties) -> None:
    hi = lo + width
    rows = compare_conventions(lo, hi, [0.0], bits=bits, **options)
    ref = rows[0]
    if ref.qparams is None:
        return
    probes = sorted({float(np.float32((k + 0.5) * ref.qparams.scale)) for k in ties} | {lo, hi})
    rows = compare_conventions(lo, hi, probes, bits=bits, **options)
    check(explain_differences(rows, probes), rows, probes)


def first(rows, probes, convention, quantity):
    return next(d for d in explain_differences(rows, probes) if d.convention == convention and d.quantity == quantity)


def test_tf_fake_quant_minus_one_to_one_blames_the_float32_scale() -> None:
    rows = compare_conventions(-1, 1, [0.5])
    d = first(rows, [0.5], "tf_fake_quant", "zero point")
    assert d.step == "scale" and d.results == (127, 128)
    assert "127.4999924" in d.sentence and "127.5" in d.sentence
    assert "widen" not in d.sentence and "clamp" not in d.sentence


def test_symmetric_uint4_pytorch_blames_its_midpoint_rule() -> None:
    rows = compare_conventions(-1, 1, [0.5], bits=4, symmetric=True)
    d = first(rows, [0.5], "pytorch", "zero point")
    assert d.step == "zero_rule" and d.results == (7, 8)
    assert "(0 + 15) // 2 = 7" in d.sentence and "tie" not in d.sentence


@pytest.mark.parametrize("convention", ["pytorch", "onnxruntime"])
def test_reduce_range_code_differs_at_the_clamp(convention: str) -> None:
    rows = compare_conventions(-1000, 1000, [1000.0], reduce_range=True)
    d = first(rows, [1000.0], convention, "code")
    assert d.step == "clamp" and d.results == (128, 127)
    assert "[0, 255]" in d.sentence and "[0, 127]" in d.sentence
    assert "fma" not in d.sentence and "tie" not in d.sentence


def test_float32_only_scales_are_folded() -> None:
    rows = compare_conventions(-1000, 1000, [0.0])
    tiny, rest = tiny_scale_differences(explain_differences(rows, [0.0]))
    assert {d.convention for d in tiny} == {"tflite", "tflite_reference", "pytorch", "onnxruntime", "tf_fake_quant"}
    assert all(d.quantity != "scale" for d in rest)
    assert all(math.isfinite(d.relative_size) and d.relative_size < 1e-6 for d in tiny)
