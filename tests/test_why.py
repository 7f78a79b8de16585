"""Every "why" on Frameworks compared names a cause found by experiment, and the experiment holds.

Checked from the recipes directly (not from quantviz.teach.causes): replacing the named steps of the
convention's recipe by the textbook's makes the results equal, and replacing any proper subset does
not; where no step is named, no single step and no pair does. Every differing result is explained once.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import quantviz as qv
from quantviz.conventions.recipe import run_recipe
from quantviz.errors import QuantVizError
from quantviz.teach.compare import compare_conventions, explain_differences, tiny_scale_differences


def outcome(recipe, lo, hi, x, quantity):
    try:
        r = run_recipe(recipe, lo, hi, x)
    except (QuantVizError, ValueError):
        return None
    return {"scale": r.scale, "zero point": r.zero_point, "code": r.code}[quantity]


def swapped(a, b, steps):
    return a.replace(**{s: getattr(b, s) for s in steps})


def check_named_steps(a, b, d, lo, hi, differing) -> None:
    """The named steps make the two agree, no proper subset does, and (for a pair) no single step elsewhere does."""
    x, theirs = d.probe, d.results[1]
    assert set(d.steps) <= set(differing)
    assert outcome(swapped(a, b, d.steps), lo, hi, x, d.quantity) == theirs, d.sentence
    for k in range(len(d.steps)):
        for subset in itertools.combinations(d.steps, k):
            assert outcome(swapped(a, b, subset), lo, hi, x, d.quantity) != theirs, (subset, d.sentence)
    if len(d.steps) == 2:  # minimal: no single step elsewhere does it either
        assert all(outcome(swapped(a, b, (s,)), lo, hi, x, d.quantity) != theirs for s in differing)


def check(lo, hi, probes, options) -> int:
    rows = compare_conventions(lo, hi, probes, **options)
    ref = rows[0]
    differences = explain_differences(rows, probes, rmin=lo, rmax=hi, options=qv.GridOptions.from_mapping(options))
    if ref.qparams is None:
        assert differences == []
        return 0
    b = qv.get_convention("textbook").recipe(**options)
    for d in differences:
        a = qv.get_convention(d.convention).recipe(**options)
        x = d.probe
        ours, theirs = outcome(a, lo, hi, x, d.quantity), outcome(b, lo, hi, x, d.quantity)
        assert ours != theirs and (ours, theirs) == d.results
        differing = a.differing_steps(b)
        if d.steps:
            check_named_steps(a, b, d, lo, hi, differing)
        else:
            for k in (1, 2):
                for subset in itertools.combinations(differing, k):
                    assert outcome(swapped(a, b, subset), lo, hi, x, d.quantity) != theirs
            assert "more than two places" in d.sentence
        assert "First difference" not in d.sentence
    for row in rows[1:]:
        if row.qparams is None:
            continue
        explained = [(d.quantity, d.probe) for d in differences if d.convention == row.name]
        assert len(explained) == len(set(explained))
        assert (row.qparams.scale != ref.qparams.scale) == (("scale", None) in explained)
        assert (row.qparams.zero_point != ref.qparams.zero_point) == (("zero point", None) in explained)
        for i, x in enumerate(probes):
            assert (row.codes[i] != ref.codes[i]) == (("code", x) in explained), (row.name, x)
    return len(differences)


RANGES = [(-1000.0, 1000.0), (-1.0, 1.0), (0.0, 6.0), (-0.5, 3.0), (0.5, 3.0), (-3.0, -0.25), (250.0, 1000.0)]
FLAGS = [
    dict(zip(("signed", "symmetric", "narrow_range", "reduce_range"), f, strict=True))
    for f in itertools.product([False, True], repeat=4)
]


@pytest.mark.parametrize("bits", [2, 4, 8, 16])
def test_every_why_is_a_cause_that_the_experiment_confirms(bits: int) -> None:
    checked = 0
    for (lo, hi), flags in itertools.product(RANGES, FLAGS[::3] if bits != 8 else FLAGS):
        probes = sorted({lo, hi, 0.0, (lo + hi) / 2})
        checked += check(lo, hi, probes, {"bits": bits, **flags})
    assert checked > 10


@settings(max_examples=60, deadline=None)
@given(
    lo=st.floats(-1e4, 1e4, allow_nan=False),
    width=st.floats(1e-3, 2e4, allow_nan=False),
    bits=st.sampled_from([4, 8, 16]),
    flags=st.sampled_from(FLAGS),
    ties=st.lists(st.integers(-300, 300), min_size=1, max_size=3),
)
def test_every_why_at_ties_is_confirmed(lo, width, bits, flags, ties) -> None:
    hi = lo + width
    ref = compare_conventions(lo, hi, [0.0], bits=bits, **flags)[0]
    if ref.qparams is None:
        return
    probes = sorted({float(np.float32((k + 0.5) * ref.qparams.scale)) for k in ties} | {lo, hi})
    check(lo, hi, probes, {"bits": bits, **flags})


def cause(lo, hi, probes, convention, quantity, **options):
    rows = compare_conventions(lo, hi, probes, **options)
    return next(
        d
        for d in explain_differences(rows, probes, rmin=lo, rmax=hi, options=qv.GridOptions.from_mapping(options))
        if d.convention == convention and d.quantity == quantity
    )


def test_the_default_view_blames_tflites_int8_frame_not_its_float32_scale() -> None:
    d = cause(-1000, 1000, [0.0], "tflite", "zero point", bits=8)
    assert d.steps == ("zero_frame",) and d.results == (127, 128)
    assert "[-128, 127] and adds 128" in d.sentence and "-0.5000001788 rounds to -1" in d.sentence
    assert "scale's arithmetic" in d.sentence.split("gets 128.")[-1]  # said not to matter


def test_tf_fake_quant_minus_one_to_one_blames_its_float32_zero_arithmetic() -> None:
    d = cause(-1, 1, [0.5], "tf_fake_quant", "zero point", bits=8)
    assert d.steps == ("zero_arithmetic",) and d.results == (127, 128)
    assert "127.4999924" in d.sentence and "127.5 rounds to 128" in d.sentence


def test_symmetric_uint4_pytorch_blames_its_midpoint_rule() -> None:
    d = cause(-1, 1, [0.5], "pytorch", "zero point", bits=4, symmetric=True)
    assert d.steps == ("zero_rule",) and d.results == (7, 8)
    assert "rounded down" in d.sentence


@pytest.mark.parametrize("convention", ["pytorch", "onnxruntime"])
def test_reduce_range_code_differs_at_the_storage_clamp(convention: str) -> None:
    d = cause(-1000, 1000, [1000.0], convention, "code", bits=8, reduce_range=True)
    # two single-step causes: the float32 arithmetic lands on the tie 127.5, and the 8-bit clamp lets 128 through
    assert d.steps == ("quantize_arithmetic",) and d.results == (128, 127)
    assert "codes' clamp grid alone makes them agree too" in d.sentence and "[0, 127]" in d.sentence


def test_float32_only_scales_are_folded() -> None:
    rows = compare_conventions(-1000, 1000, [0.0])
    tiny, rest = tiny_scale_differences(explain_differences(rows, [0.0], rmin=-1000, rmax=1000))
    assert {d.convention for d in tiny} == {"tflite", "tflite_reference", "pytorch", "onnxruntime", "tf_fake_quant"}
    assert all(d.quantity != "scale" for d in rest)
