"""The live rules are complete: an interpreter of the data alone reproduces choose_qparams and quantize exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import quantviz as qv
from quantviz.conventions.live import STEPS, all_live_rules, live_rules
from quantviz.errors import QuantVizError
from tests.live_cases import live_cases, typed_cases
from tests.live_interpreter import LiveError, choose, quantize

RULES = all_live_rules()
CASES_PER_CONVENTION = 2000


def _check(case: dict) -> None:
    options = {k: case[k] for k in ("bits", "signed", "symmetric", "narrow_range", "reduce_range")}
    if case["error"]:
        with pytest.raises(LiveError):
            choose(RULES, case["rmin"], case["rmax"], convention=case["convention"], **options)
        return
    got = choose(RULES, case["rmin"], case["rmax"], convention=case["convention"], **options)
    assert {k: got[k] for k in case["expect"]} == case["expect"], case
    codes = [
        quantize(RULES, x, got, convention=case["convention"], rounding=case["rounding"], z_first=case["z_first"])
        for x in case["xs"]
    ]
    assert codes == case["codes"], case


def test_every_convention_has_live_rules_and_nothing_else() -> None:
    assert set(STEPS) == set(qv.CONVENTIONS)
    assert json.loads(json.dumps(RULES)) == RULES  # JSON-able, as the component receives it


def test_a_convention_without_steps_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown convention 'nope'"):
        live_rules("nope")


def test_unsupported_options_have_no_grid() -> None:
    # TFLite has 8-bit grids only; TF fake-quant no signed ones: the absent keys are what the convention refuses.
    assert {key.split(",")[0] for key in RULES["conventions"]["tflite"]["grids"]} == {"8"}
    assert all(key.split(",")[1] == "0" for key in RULES["conventions"]["tf_fake_quant"]["grids"])


@pytest.mark.parametrize("convention", list(qv.CONVENTIONS))
def test_interpreter_reproduces_quantviz_on_generated_cases(convention: str) -> None:
    cases = live_cases(convention, CASES_PER_CONVENTION)
    ties = sum(1 for c in cases if not c["error"] for x in c["xs"] if (x / c["expect"]["scale"]) % 1 == 0.5)
    assert ties > 100  # the cases really do sit on ties
    for case in cases:
        _check(case)


options_st = st.fixed_dictionaries(
    {
        "bits": st.integers(2, 16),
        "signed": st.booleans(),
        "symmetric": st.booleans(),
        "narrow_range": st.booleans(),
        "reduce_range": st.booleans(),
    }
)
f32_floats = st.floats(-1e6, 1e6, width=32)


@settings(max_examples=250, deadline=None)
@given(
    convention=st.sampled_from(list(qv.CONVENTIONS)),
    options=options_st,
    a=f32_floats,
    b=f32_floats,
    xs=st.lists(st.floats(-2e6, 2e6), min_size=1, max_size=4),
    rounding=st.sampled_from([m for m in qv.ROUNDING_MODES if m != "stochastic"]),
)
def test_interpreter_matches_on_hypothesis_cases(convention, options, a, b, xs, rounding) -> None:
    lo, hi = min(a, b), max(a, b)
    try:
        qp = qv.choose_qparams(lo, hi, convention=convention, **options)
    except QuantVizError:
        with pytest.raises(LiveError):
            choose(RULES, lo, hi, convention=convention, **options)
        return
    got = choose(RULES, lo, hi, convention=convention, **options)
    assert (got["scale"], got["zero_point"], got["qmin"], got["qmax"]) == (qp.scale, qp.zero_point, qp.qmin, qp.qmax)
    mode = rounding if convention == "textbook" else None
    # Probes on the grid's own ties too: k + 0.5 steps.
    probes = xs + [(k + 0.5) * qp.scale for k in range(qp.qmin - qp.zero_point - 1, qp.qmin - qp.zero_point + 3)]
    want = qv.quantize(np.array(probes), qp, convention=convention, rounding=mode)
    assert [quantize(RULES, x, got, convention=convention, rounding=mode) for x in probes] == want.tolist()


@pytest.mark.parametrize("convention", list(qv.CONVENTIONS))
def test_interpreter_quantizes_with_typed_s_and_z(convention: str) -> None:
    # s and z as a model file stores them: no range (TF's kernel then takes 1/s, not (qmax − qmin) / range)
    for case in typed_cases(convention, 300):
        p = case["params"]
        assert [quantize(RULES, x, p, convention=convention) for x in case["xs"]] == case["codes"], case


ZERO_ARITHMETIC = {  # the recipe's name for how qmin − rmin/s is evaluated -> the live rules' fields
    "exact_ratio": {"quotient": "exact_ratio"},
    "float64": {
        "quotient": "lo_over_scale",
        "quotient_dtype": "float64",
        "raw_dtype": "float64",
        "round_target": "raw",
    },
    "float64_to_float32": {
        "quotient": "lo_over_scale",
        "quotient_dtype": "float64",
        "raw_dtype": "float32",
        "round_target": "raw",
    },
    "float32": {
        "quotient": "lo_over_scale",
        "quotient_dtype": "float32",
        "raw_dtype": "float32",
        "round_target": "raw",
    },
    "float32_steps": {"quotient": "lo_over_scale", "quotient_dtype": "float32", "round_target": "quotient"},
}
QUANTIZE = {
    "float64_divide": ("divide", "float64"),
    "float32_divide": ("divide", "float32"),
    "float32_multiply_inverse": ("multiply_inverse", "float32"),
    "float32_fma": ("fma_inverse", "float32"),
    "tf_nudged": ("tf_nudge", "float32"),
}


@pytest.mark.parametrize("convention", list(qv.CONVENTIONS))
def test_live_rules_agree_with_the_conventions_recipes(convention: str) -> None:
    # The recipes (quantviz.conventions.recipe) describe the same steps for the "why" experiments: a step changed
    # in one description and not in the other fails here.
    rules = RULES["conventions"][convention]
    conv = qv.get_convention(convention)
    for key, grid in rules["grids"].items():
        bits, signed, symmetric, narrow, reduce = (int(v) for v in key.split(","))
        r = conv.recipe(
            bits=bits,
            signed=bool(signed),
            symmetric=bool(symmetric),
            narrow_range=bool(narrow),
            reduce_range=bool(reduce),
        )
        assert r.range_dtype == rules["range_dtype"] and (r.widening == "include_zero") == rules["widen"], key
        assert (r.scale_arithmetic, r.scale_storage) == (rules["scale_dtype"], rules["scale_stored"]), key
        assert r.grid == (grid["qmin"], grid["qmax"]), key
        assert r.storage == (grid["smin"], grid["smax"]) and r.zero_frame == grid["shift"], key
        assert QUANTIZE[r.quantize_arithmetic] == (rules["quantize"]["op"], rules["quantize"]["x_dtype"]), key
        if not symmetric:
            zero = rules["zero"]
            assert r.zero_rounding == zero["tie"], key
            assert {k: zero[k] for k in ZERO_ARITHMETIC[r.zero_arithmetic]} == ZERO_ARITHMETIC[r.zero_arithmetic], key
            assert r.zero_clamp == (zero["clamp"] != "none"), key
