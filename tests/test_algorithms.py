"""quantviz.algorithms: the properties GPTQ, AWQ, SmoothQuant and rotations must have, and their input checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import quantviz.algorithms as qa
from quantviz.algorithms.layer import one_blas_thread
from quantviz.algorithms.observer import round_to_nearest

FAST = settings(max_examples=15, deadline=None)
seeds = st.integers(0, 2**16)
bits = st.sampled_from([2, 3, 4, 8])
groups = st.sampled_from([None, 8, 16])


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Toy-sized matrices: one BLAS thread is faster, and much faster on a busy machine."""
    with one_blas_thread():
        yield


@FAST
@given(seed=seeds, log_n=st.integers(1, 7), rows=st.integers(1, 24), rot_seed=st.one_of(st.none(), seeds))
def test_rotation_leaves_outputs_unchanged(seed, log_n, rows, rot_seed):
    n = 2**log_n
    layer = qa.toy_layer(rows, n, 32, outliers=1, seed=seed)
    r = qa.rotate(layer.weight, layer.inputs, rot_seed)
    q = r.rotation
    assert np.allclose(q @ q.T, np.eye(n), atol=1e-12)
    y = layer.inputs.astype(np.float64) @ layer.weight.astype(np.float64).T
    rotated = r.inputs.astype(np.float64) @ r.weight.astype(np.float64).T
    # exact in real arithmetic: float64 leaves ~1e-15 relative, the float32 copies a few float32 ulps
    assert r.float64_error <= 1e-12 * max(r.output_scale, 1e-30) + 1e-300
    assert np.abs(y - rotated).max() <= 1e-5 * max(r.output_scale, 1e-30)


def test_hadamard_rejects_non_powers_of_two():
    with pytest.raises(ValueError, match="power of two"):
        qa.hadamard(12)


@FAST
@given(
    seed=seeds,
    b=bits,
    g=groups,
    symmetric=st.booleans(),
    act_order=st.booleans(),
    damp=st.sampled_from([0.0, 0.01, 0.1]),
    scale=st.floats(0.1, 10.0),
)
def test_gptq_with_identity_hessian_is_round_to_nearest(seed, b, g, symmetric, act_order, damp, scale):
    # inputs k·I give XᵀX = k²·I: H is a multiple of I, no error has anywhere to go
    w = np.random.default_rng(seed).standard_normal((12, 32)).astype(np.float32)
    x = (scale * np.eye(32)).astype(np.float32)
    r = qa.gptq(w, x, bits=b, group_size=g, symmetric=symmetric, act_order=act_order, damp=damp, block_size=8)
    codes, back, _ = round_to_nearest(w, b, g, symmetric)
    assert np.array_equal(r.codes, codes)
    assert np.array_equal(r.dequantized, back)
    assert r.note == ""


@FAST
@given(
    seed=seeds,
    b=st.sampled_from([3, 4]),
    g=st.sampled_from([None, 32]),
    symmetric=st.booleans(),
    act_order=st.booleans(),
    outlier_scale=st.floats(5.0, 50.0),
)
def test_gptq_output_error_beats_rtn_on_outlier_layers(seed, b, g, symmetric, act_order, outlier_scale):
    layer = qa.toy_layer(24, 64, 256, outliers=3, outlier_scale=outlier_scale, seed=seed)
    r = qa.gptq(layer.weight, layer.inputs, bits=b, group_size=g, symmetric=symmetric, act_order=act_order)
    assert r.output_mse <= r.rtn_output_mse
    assert np.isclose(r.output_mse, qa.output_mse(layer.weight, r.dequantized, layer.inputs))


def test_gptq_weight_error_larger_while_output_error_smaller():
    layer = qa.toy_layer(64, 128, 512, outliers=4, outlier_scale=20.0, seed=0)
    r = qa.gptq(layer.weight, layer.inputs, bits=3)
    assert r.weight_mse > r.rtn_weight_mse
    assert r.output_mse < 0.8 * r.rtn_output_mse


@FAST
@given(seed=seeds, b=st.sampled_from([2, 3, 4]), act_order=st.booleans())
def test_gptq_steps_replay_the_sweep(seed, b, act_order):
    layer = qa.toy_layer(8, 32, 64, outliers=2, seed=seed)
    r = qa.gptq(layer.weight, layer.inputs, bits=b, act_order=act_order, block_size=8)
    run = qa.running_error(r, layer.weight, layer.inputs, points=8)
    assert run.steps[0] == 0 and run.steps[-1] == 32
    assert run.gptq[0] == pytest.approx(0.0, abs=1e-9) and run.rtn[0] == 0.0
    assert np.isclose(run.gptq[-1], r.output_mse, rtol=1e-4)
    assert np.isclose(run.rtn[-1], r.rtn_output_mse, rtol=1e-4)
    for step in (0, 31):
        s = qa.column_step(r, step)
        assert s.column == r.order[step]
        assert np.allclose(s.rounded, r.dequantized[:, s.column], atol=1e-6)
        assert s.update.shape == (8, 31 - step)


def test_gptq_singular_hessian_falls_back_to_rtn_with_a_note():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 8)).astype(np.float32)
    x = rng.standard_normal((3, 8)).astype(np.float32)  # 3 samples, 8 features: rank 3
    r = qa.gptq(w, x, damp=0.0)
    assert "fell back to round-to-nearest" in r.note
    assert np.array_equal(r.codes, r.rtn_codes)
    assert qa.gptq(w, x, damp=0.01).note == ""


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weight": np.ones((2, 3)), "inputs": np.ones((4, 2))}, "in_features=3"),
        ({"weight": np.ones(3), "inputs": np.ones((4, 3))}, "2-D"),
        ({"weight": np.full((2, 3), np.nan), "inputs": np.ones((4, 3))}, "NaN or inf"),
        ({"weight": np.ones((2, 4)), "inputs": np.full((4, 4), np.inf)}, "NaN or inf"),
        ({"weight": np.ones((2, 6)), "inputs": np.ones((4, 6)), "group_size": 4}, "does not divide"),
        ({"weight": np.ones((2, 4)), "inputs": np.ones((4, 4)), "bits": 9}, "bits"),
        ({"weight": np.ones((2, 4)), "inputs": np.ones((4, 4)), "damp": -1.0}, "damp"),
        ({"weight": np.ones((2, 4)), "inputs": np.ones((4, 4)), "act_order": "group"}, "act_order"),
    ],
)
def test_gptq_rejects_bad_inputs_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        qa.gptq(**kwargs)


@FAST
@given(
    seed=seeds, b=st.sampled_from([2, 3, 4]), g=st.sampled_from([None, 32]), duo=st.booleans(), symmetric=st.booleans()
)
def test_awq_never_worse_than_rounding_and_picks_the_grid_minimum(seed, b, g, duo, symmetric):
    layer = qa.toy_layer(16, 64, 128, outliers=2, outlier_scale=25.0, seed=seed)
    r = qa.awq(layer.weight, layer.inputs, bits=b, group_size=g, duo_scaling=duo, symmetric=symmetric, n_grid=10)
    best = int(np.argmin(r.losses))
    assert r.ratio == r.ratios[best] and r.duo_used == r.duo[best]
    assert r.ratios[0] == 0.0 and not r.duo[0]  # the identity point is plain rounding
    assert r.losses[best] <= r.losses[0]
    assert np.isclose(r.losses[0], r.rtn_output_mse, rtol=1e-3)
    assert r.output_mse <= r.rtn_output_mse * (1 + 1e-3)
    assert set(r.protected) <= set(np.argsort(-r.x_mean)[: r.protected.size])


@FAST
@given(seed=seeds, alpha=st.floats(0.0, 1.0), form=st.sampled_from(["llmcompressor", "paper"]))
def test_smoothquant_keeps_outputs_and_moves_ranges(seed, alpha, form):
    layer = qa.toy_layer(16, 32, 64, outliers=2, outlier_scale=30.0, seed=seed)
    r = qa.smoothquant(layer.weight, layer.inputs, alpha, form)
    y = layer.inputs.astype(np.float64) @ layer.weight.astype(np.float64).T
    assert np.allclose(
        r.inputs.astype(np.float64) @ r.weight.astype(np.float64).T, y, rtol=1e-4, atol=1e-5 * np.abs(y).max()
    )
    assert np.allclose(r.weight, layer.weight * r.scales)
    both = 2.0 if form == "llmcompressor" else 1.0
    w_stat = both * np.abs(r.weight).max(axis=0)
    a = r.inputs.max(axis=0) - r.inputs.min(axis=0) if form == "llmcompressor" else np.abs(r.inputs).max(axis=0)
    # s = a^α / m^(1−α) leaves a/s = (a·m)^(1−α) on the activations and m·s = (a·m)^α on the weights
    product = r.activation_stat.astype(np.float64) * r.weight_stat
    assert np.allclose(a, product ** (1 - alpha), rtol=1e-4)
    assert np.allclose(w_stat, product**alpha, rtol=1e-4)


def test_smoothquant_alpha_zero_puts_everything_on_the_activations():
    layer = qa.toy_layer(16, 32, 64, outliers=2, outlier_scale=30.0, seed=1)
    r = qa.smoothquant(layer.weight, layer.inputs, 0.0)
    # α = 0: s = 1 / (2·max|W_j|), every weight column scaled to max |W| = 1/2, activations left their shape
    assert np.allclose(2 * np.abs(r.weight).max(axis=0), 1.0, rtol=1e-6)
    assert np.allclose(r.inputs * r.scales, layer.inputs, rtol=1e-6)
    one = qa.smoothquant(layer.weight, layer.inputs, 1.0)
    assert np.allclose(one.inputs.max(axis=0) - one.inputs.min(axis=0), 1.0, rtol=1e-5)


def test_smoothquant_helps_w8a8_on_outlier_activations():
    layer = qa.toy_layer(32, 64, 256, outliers=3, outlier_scale=60.0, seed=2)
    none, half = qa.alpha_sweep(layer.weight, layer.inputs, np.array([0.0, 0.5]))
    plain = qa.w8a8_error(layer.weight, layer.inputs)
    assert half.output_mse < plain.output_mse
    assert plain.activation_mse > plain.weight_mse
    assert none.output_mse > half.output_mse


def test_smoothquant_rejects_bad_alpha_and_form():
    layer = qa.toy_layer(4, 8, 8)
    with pytest.raises(ValueError, match="alpha"):
        qa.smoothquant(layer.weight, layer.inputs, 1.5)
    with pytest.raises(ValueError, match="form"):
        qa.smoothquant(layer.weight, layer.inputs, 0.5, "smooth")


def test_compare_rows_cover_every_method_and_setting():
    layer = qa.toy_layer(16, 64, 128, outliers=2, outlier_scale=20.0)
    rows = qa.compare(layer.weight, layer.inputs, bits=(2, 8), group_sizes=(None, 32))
    assert len(rows) == 2 * 2 * len(qa.METHODS)
    by = {(r.method, r.bits, r.group_size): r.sqnr_db for r in rows}
    for m in qa.METHODS:
        assert by[(m, 8, None)] > by[(m, 2, None)]
    w, x = layer.weight, layer.inputs
    assert by[("RTN", 2, None)] == pytest.approx(qa.sqnr_db(w, round_to_nearest(w, 2, None, True)[1], x))
