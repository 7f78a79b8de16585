"""Calibration, granularity, integer arithmetic, FP8 and STE: unit and property tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import quantviz as qv
from quantviz.calibrate import (
    calibrate_all,
    clipping_curve,
    kl_entropy_range,
    minmax_range,
    mse_optimal_range,
    percentile_range,
)
from quantviz.formats import compare_formats, fp8_round, fp8_values
from quantviz.granularity import quantize_weights, weight_matrix
from quantviz.intmath import (
    INT32_MAX,
    INT32_MIN,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    quantized_add,
    quantized_fully_connected,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
    worked_fully_connected,
)
from quantviz.samples import sample_data

int32 = st.integers(INT32_MIN, INT32_MAX)


# ----------------------------------------------------------------------------- intmath, against exact integers
def _round_half_up_div(num: int, den: int) -> int:
    """floor(num/den + 1/2) exactly (ties toward +inf)."""
    return (2 * num + den) // (2 * den)


@settings(max_examples=500, deadline=None)
@given(int32, int32)
def test_srdhm_matches_exact(a: int, b: int) -> None:
    got = int(saturating_rounding_doubling_high_mul(a, b))
    if a == b == INT32_MIN:
        assert got == INT32_MAX
    else:
        assert got == _round_half_up_div(a * b, 2**31)


@settings(max_examples=500, deadline=None)
@given(int32, st.integers(0, 31))
def test_rounding_divide_by_pot_is_half_away(x: int, e: int) -> None:
    from fractions import Fraction

    exact = Fraction(x, 2**e)
    expected = int(abs(exact) + Fraction(1, 2)) * (1 if x >= 0 else -1)
    assert int(rounding_divide_by_pot(x, e)) == expected


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=1e-9, max_value=1e3, allow_nan=False))
def test_quantize_multiplier_represents_m(m: float) -> None:
    m0, shift = quantize_multiplier(m)
    if shift == 30 and m0 == 2**31 - 1:
        return  # saturated
    assert 2**30 <= m0 < 2**31
    assert abs(m0 * 2.0 ** (shift - 31) - m) <= 2.0 ** (shift - 32) + 1e-300


@settings(max_examples=300, deadline=None)
@given(st.integers(-(2**24), 2**24), st.floats(min_value=1e-6, max_value=0.99))
def test_single_rounding_matches_exact_product(x: int, m: float) -> None:
    m0, shift = quantize_multiplier(m)
    total = 31 - shift
    assert int(multiply_by_quantized_multiplier(x, m0, shift)) == _round_half_up_div(x * m0, 2**total)
    # double rounding stays within one of it
    assert (
        abs(
            int(multiply_by_quantized_multiplier(x, m0, shift, single_rounding=False))
            - _round_half_up_div(x * m0, 2**total)
        )
        <= 1
    )


def test_fully_connected_cross_terms() -> None:
    r = worked_fully_connected(batch=3, n_in=5, n_out=4, per_channel=True, seed=2)
    s = r.steps
    direct = (r.q_in - r.in_qparams.zero_point) @ r.q_weights.T + r.bias_int32
    assert np.array_equal(s.acc, direct)
    assert (s.output >= -128).all() and (s.output <= 127).all()
    assert np.abs(r.dequantized_output - r.float_output).max() < 0.1 * np.abs(r.float_output).max()
    again = quantized_fully_connected(r.q_in, r.in_qparams, r.q_weights, r.weight_scales, r.bias_int32, r.out_qparams)
    assert np.array_equal(again.output, s.output)


def test_quantized_add_close_to_float() -> None:
    a, b = np.array([0.5, -1.0, 2.0]), np.array([1.0, 1.5, -3.0])
    qa = qv.choose_qparams(-1, 2, signed=True)
    qb = qv.choose_qparams(-3, 1.5, signed=True)
    qo = qv.choose_qparams(-1, 1, signed=True)
    out = qv.dequantize(quantized_add(qv.quantize(a, qa), qa, qv.quantize(b, qb), qb, qo), qo)
    assert np.allclose(out, np.clip(a + b, qo.real_min, qo.real_max), atol=qa.scale + qb.scale + qo.scale)


# ----------------------------------------------------------------------------- FP8
@pytest.mark.parametrize(("fmt", "dtype_name"), [("e4m3", "float8_e4m3fn"), ("e5m2", "float8_e5m2")])
def test_fp8_matches_ml_dtypes(fmt: str, dtype_name: str) -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    dtype = getattr(ml_dtypes, dtype_name)
    rng = np.random.default_rng(0)
    x = (rng.normal(size=50_000) * 10 ** rng.uniform(-5, 3, 50_000)).astype(np.float32)
    table = fp8_values(fmt)
    mids = ((table[1:] + table[:-1]) / 2).astype(np.float32)  # exact ties
    x = np.concatenate([x, mids, -mids])
    x = x[np.abs(x) <= table[-1]].astype(np.float64)
    assert np.array_equal(fp8_round(x, fmt), x.astype(np.float32).astype(dtype).astype(np.float64))


def test_fp8_saturates() -> None:
    assert fp8_round(np.array([1e6, -1e6]), "e4m3").tolist() == [448.0, -448.0]
    assert fp8_round(np.array([1e9]), "e5m2").tolist() == [57344.0]
    with pytest.raises(qv.UnsupportedError):
        fp8_round(np.array([1.0]), "e3m4")


def test_compare_formats_order() -> None:
    res = {r.name: r for r in compare_formats(sample_data("uniform", 20000, 1))}
    assert res["int8"].sqnr_db > res["int4"].sqnr_db > res["int2"].sqnr_db
    assert res["int8"].sqnr_db > res["fp8 e4m3"].sqnr_db > res["fp8 e5m2"].sqnr_db  # uniform data favours integers
    tails = {r.name: r for r in compare_formats(sample_data("laplace", 20000, 1) ** 3)}
    assert tails["fp8 e4m3"].sqnr_db > tails["int8"].sqnr_db - 1  # long tails: FP8 holds up


# ----------------------------------------------------------------------------- calibration
def test_calibration_methods() -> None:
    x = sample_data("outliers", 50_000, 0)
    lo, hi = minmax_range(x)
    assert (lo, hi) == (x.min(), x.max())
    plo, phi = percentile_range(x, 99.0)
    assert lo < plo < 0 < phi < hi
    t = mse_optimal_range(x)
    curve = clipping_curve(x)
    assert np.isclose(curve.total_mse, curve.rounding_mse + curve.clipping_mse).all()
    assert curve.clipping_mse[-1] == 0  # at the full range nothing clips
    qp = qv.choose_qparams(*t, signed=True, symmetric=True)
    best = min(curve.total_mse)
    assert qv.metrics.error_stats(qv.quantize_trace(x[::1], qp)).mse <= best * 1.05
    k = kl_entropy_range(x)
    assert 0 < k[1] <= max(abs(lo), abs(hi)) and k[0] == -k[1]
    calibrations, shared = calibrate_all(x)
    assert [c.method for c in calibrations] == ["min-max", "percentile 99.9", "MSE-optimal", "KL entropy"]
    assert np.array_equal(shared.total_mse, curve.total_mse)
    with pytest.raises(qv.QuantVizError):
        percentile_range(x, 20)
    with pytest.raises(qv.QuantVizError):
        kl_entropy_range(np.zeros(10))


# ----------------------------------------------------------------------------- granularity
def test_per_channel_beats_per_tensor_on_spread_rows() -> None:
    w = weight_matrix(16, 64, spread_decades=3, seed=1)
    results = {s: quantize_weights(w, s, group_size=16) for s in ("tensor", "channel", "group")}
    assert results["channel"].row_mse.mean() < results["tensor"].row_mse.mean()
    assert results["group"].row_mse.mean() <= results["channel"].row_mse.mean() * 1.0001
    assert (
        results["tensor"].scales.size == 1
        and results["channel"].scales.size == 16
        and results["group"].scales.shape == (16, 4)
    )
    # the smallest row suffers most under one scale
    small = np.argmin(np.abs(w).max(axis=1))
    assert (
        results["tensor"].row_mse[small] / max(results["channel"].row_mse[small], 1e-300) > 10
        or results["channel"].row_mse[small] == 0
    )


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 8), st.integers(1, 40), st.integers(1, 50), st.sampled_from(["tensor", "channel", "group"]))
def test_granularity_error_bounded(rows, cols, group, scheme) -> None:
    w = weight_matrix(rows, cols, seed=rows * 100 + cols)
    r = quantize_weights(w, scheme, group_size=group)
    biggest_scale = float(np.max(r.scales))
    assert np.abs(r.dequantized - w).max() <= biggest_scale / 2 * (1 + 1e-9)


# ----------------------------------------------------------------------------- STE
@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=40), st.sampled_from(["textbook", "pytorch", "onnxruntime"]))
def test_ste_mask_is_the_unclipped_set(values, convention) -> None:
    qp = qv.choose_qparams(-10, 10, signed=True, convention=convention)
    mask = qv.ste_mask(values, qp, convention=convention)
    t = qv.quantize_trace(values, qp, convention=convention)
    assert np.array_equal(mask, (t.unclamped >= qp.qmin) & (t.unclamped <= qp.qmax))
    inside = (np.array(values) > qp.real_min + qp.scale) & (np.array(values) < qp.real_max - qp.scale)
    assert mask[inside].all()


# ----------------------------------------------------------------------------- exercises
@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from(["easy", "medium", "hard"]))
def test_exercise_answers_agree_with_quantviz(seed: int, difficulty: str) -> None:
    from quantviz.teach.exercises import check, make_exercises

    exercises = make_exercises(seed, difficulty)
    assert [e.prompt for e in exercises] == [e.prompt for e in make_exercises(seed, difficulty)]
    for ex in exercises:
        for a in ex.answers:
            assert check(a, a.expected)
            if a.kind == "int":
                assert not check(a, int(a.expected) + 1)
            elif a.kind == "float":
                assert not check(a, float(a.expected) + 10 * a.tolerance + 1e-9)
            else:
                assert a.expected in a.choices and not check(a, "nonsense")
        if ex.kind == "quantize":
            # the expected code is quantviz's, recomputed from the prompt's own numbers
            assert "ties rounded half to even" in ex.prompt or "ties rounded half away from zero" in ex.prompt
        if ex.kind == "clips":
            x = float(ex.prompt.split("x = ")[1].split("**")[0])
            lo, hi = (float(v) for v in ex.solution[0].split("[")[1].split("]")[0].split(", "))
            beyond_but_kept = ex.answers[0].expected == "no" and not lo <= x <= hi
            # a value past the representable end that is not clipped is explained: it rounds to the last code
            assert beyond_but_kept == any("rounds to the last code" in line for line in ex.solution)
    if difficulty == "easy":
        assert {e.kind for e in exercises} <= {
            "scale_zero_point",
            "quantize",
            "dequantize",
            "representable_range",
            "clips",
        }


def test_clips_solution_says_why_a_value_past_the_end_is_kept() -> None:
    import random

    from quantviz.teach.exercises import make_exercise

    found = 0
    for i in range(400):
        ex = make_exercise("clips", random.Random(i), "easy")
        if any("rounds to the last code" in line for line in ex.solution):
            found += 1
            assert ex.answers[0].expected == "no"
    assert found > 0


def test_which_convention_has_one_answer() -> None:
    from quantviz.teach.exercises import convention_cases, convention_options

    for case in convention_cases():
        # of the two conventions offered, exactly one gives the (s, z) shown, to the digits shown
        found = []
        for name in (case.shown, case.other):
            o = qv.choose_qparams(
                case.rmin,
                case.rmax,
                convention=name,
                **convention_options(name, signed=case.signed, symmetric=case.symmetric),
            )
            found.append((f"{o.scale:.6g}", o.zero_point))
        assert found[0] != found[1]
