"""The Beyond-rounding page's sentences and figures say what the computation found, and only where it applies."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import quantviz.algorithms as qa
from quantviz.algorithms.layer import one_blas_thread
from quantviz.app import algorithm_figures as af
from quantviz.teach import algorithms as words
from quantviz.teach.fmt import fmt

FAST = settings(max_examples=12, deadline=None)
layers = st.builds(
    lambda seed, k, scale: qa.toy_layer(16, 64, 128, outliers=k, outlier_scale=scale, seed=seed),
    st.integers(0, 10_000),
    st.integers(0, 4),
    st.floats(1.0, 40.0),
)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Toy-sized matrices: one BLAS thread is faster, and much faster on a busy machine."""
    with one_blas_thread():
        yield


@FAST
@given(lay=layers, bits=st.sampled_from([2, 3, 4, 8]), act=st.booleans())
def test_gptq_summary_matches_result(lay, bits, act):
    r = qa.gptq(lay.weight, lay.inputs, bits=bits, act_order=act)
    text = " ".join(words.gptq_summary(r))
    assert fmt(r.output_mse, 4) in text and fmt(r.rtn_output_mse, 4) in text
    larger_but_better = r.weight_mse > r.rtn_weight_mse and r.output_mse < r.rtn_output_mse
    assert ("further from the float weights" in text) == larger_but_better
    assert fmt(100 * float(np.mean(r.codes != r.rtn_codes)), 3) + " %" in text
    assert words.ratio_words(r.output_mse, r.rtn_output_mse) in text


@FAST
@given(lay=layers, step=st.integers(0, 63))
def test_step_sentence_names_the_column_and_its_largest_update(lay, step):
    r = qa.gptq(lay.weight, lay.inputs, bits=3)
    s = qa.column_step(r, step)
    text = words.step_sentence(s, "3-bit")
    assert f"input column {s.column} " in text
    if step == 63:
        assert "last column" in text
    else:
        j = int(np.argmax(np.abs(s.update).sum(axis=0)))
        assert f"column {int(s.later[j])} moved most" in text


@FAST
@given(lay=layers, duo=st.booleans(), bits=st.sampled_from([3, 4]))
def test_awq_summary_matches_result(lay, duo, bits):
    r = qa.awq(lay.weight, lay.inputs, bits=bits, group_size=None, duo_scaling=duo, n_grid=8)
    text = " ".join(words.awq_summary(r))
    assert f"α = {fmt(r.ratio, 3)}" in text
    assert ("x̄^α / w̄^(1−α)" in text) == r.duo_used
    identity = r.ratio == 0 and not r.duo_used
    assert ("left the weights as they were" in text) == identity
    if not identity:
        assert all(f"{int(j)} (s = {fmt(float(r.scales[j]), 3)})" in text for j in r.protected[:5])


@FAST
@given(lay=layers, alpha=st.floats(0.0, 1.0))
def test_smoothquant_summary_names_the_larger_part(lay, alpha):
    before = qa.w8a8_error(lay.weight, lay.inputs)
    (after,) = qa.alpha_sweep(lay.weight, lay.inputs, [alpha])
    text = " ".join(words.smoothquant_summary(before, after, alpha))
    part = "activations" if before.activation_mse > before.weight_mse else "weights"
    assert f"most of the error comes from the {part}" in text
    assert fmt(after.output_mse, 4) in text and fmt(before.output_mse, 4) in text


@FAST
@given(lay=layers, seed=st.integers(0, 100))
def test_rotation_summary_matches_result(lay, seed):
    r = qa.rotate(lay.weight, lay.inputs, seed)
    e = qa.rotation_errors(lay.weight, lay.inputs, 4, None, True, seed)
    text = " ".join(words.rotation_summary(r, e.activations_before_db, e.activations_after_db, "int4"))
    assert fmt(r.inputs_peak_before, 2) in text and fmt(r.inputs_peak_after, 2) in text
    assert ("(+" in text) == (e.activations_after_db >= e.activations_before_db)
    assert fmt(r.float32_error, 2) in text and "exact in real arithmetic" in text


def test_compare_summary_names_the_best_method():
    lay = qa.toy_layer(16, 64, 128, outliers=2, outlier_scale=20.0)
    rows = qa.compare(lay.weight, lay.inputs, bits=(2, 4))
    text = words.compare_summary(rows)
    for b, line in zip((2, 4), text, strict=True):
        best = max((r for r in rows if r.bits == b), key=lambda r: r.sqnr_db)
        assert line.startswith(f"At {b} bits: {best.method} is best")


def test_figures_carry_the_results_and_stay_light():
    lay = qa.toy_layer(64, 256, 256, outliers=4)
    r = qa.gptq(lay.weight, lay.inputs)
    fig = af.matrix_figure(
        af.log_magnitude(r.hessian), title="H", x_title="j", y_title="i", colour_title="c", max_cells=128
    )
    assert np.asarray(fig.data[0].z).shape == (128, 128)
    assert len(fig.to_json()) < 400_000
    run = qa.running_error(r, lay.weight, lay.inputs)
    fig = af.running_error_figure(run)
    assert list(fig.data[0].y) == pytest.approx(list(run.gptq))
    a = qa.awq(lay.weight, lay.inputs, group_size=None)
    fig = af.awq_loss_figure(a)
    assert fig.data[-1].x[0] == a.ratio and fig.data[-1].y[0] == pytest.approx(a.losses.min())
    rows = qa.compare(lay.weight, lay.inputs, bits=(4,), methods=("RTN", "GPTQ"))
    fig = af.compare_figure(rows)
    assert [t.name for t in fig.data] == ["RTN", "GPTQ"] and fig.data[1].y[0] == rows[1].sqnr_db


def _spans_sentence(lay, alpha, form):
    r = qa.smoothquant(lay.weight, lay.inputs, alpha, form)
    spans = words.smoothing_spans(r, lay.inputs, lay.weight)
    return r, spans, words.smoothquant_alpha_sentence(alpha, spans)


@FAST
@given(lay=layers, form=st.sampled_from(["llmcompressor", "paper"]))
def test_alpha_zero_sentence_says_the_weights_change_to_one_size(lay, form):
    r, spans, text = _spans_sentence(lay, 0.0, form)
    # α = 0: s = 1 / (the weight statistic), so every live column's statistic becomes 1 — the weights do change
    assert np.allclose(spans.w_after, 1.0, rtol=1e-5) and "α = 0 does not leave the weights unchanged" in text
    assert not np.allclose(r.weight, lay.weight)
    assert f"becomes {fmt(spans.w_after[0], 3)}–{fmt(spans.w_after[1], 3)}" in text
    assert f"now spans {fmt(spans.x_after[0], 3)}–{fmt(spans.x_after[1], 3)}" in text


@FAST
@given(lay=layers, form=st.sampled_from(["llmcompressor", "paper"]))
def test_alpha_one_sentence_says_every_activation_channel_becomes_one(lay, form):
    _, spans, text = _spans_sentence(lay, 1.0, form)
    assert np.allclose(spans.x_after, 1.0, rtol=1e-5) and text.startswith("α = 1: s_j = the activations'")
    assert f"{spans.x_name} becomes {fmt(spans.x_after[0], 3)}–{fmt(spans.x_after[1], 3)}" in text
    assert f"now spans {fmt(spans.w_after[0], 3)}–{fmt(spans.w_after[1], 3)}" in text


@FAST
@given(lay=layers, alpha=st.floats(0.01, 0.99), form=st.sampled_from(["llmcompressor", "paper"]))
def test_alpha_between_sentence_reports_both_spans(lay, alpha, form):
    _, spans, text = _spans_sentence(lay, alpha, form)
    assert text.startswith(f"α = {fmt(alpha, 3)} splits") and "does not leave" not in text
    for lo, hi in (spans.x_after, spans.w_after, spans.x_before, spans.w_before):
        assert f"{fmt(lo, 3)}–{fmt(hi, 3)}" in text
