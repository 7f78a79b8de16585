"""quantviz.tasks: the shipped networks equal PyTorch, the metrics are llama.cpp's, the integer path is integer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from quantviz import blocks
from quantviz.tasks import ALGORITHMS, evaluate, float_logits, load, networks, parse_weights, quantized_weights, scores
from quantviz.tasks.evaluate import digits_integer_forward
from quantviz.tasks.schemes import (
    exact_int_matmul,
    int_scheme_names,
    integer_linear,
    quantize_per_token,
    quantize_static,
    rtn,
    weight_scheme_names,
)

SETTINGS = settings(max_examples=40, deadline=None)
logit_values = st.floats(min_value=-30, max_value=30, allow_nan=False, width=32)


def logit_arrays(rows: int = 6, vocab: int = 12):
    return hnp.arrays(np.float32, (rows, vocab), elements=logit_values)


# ----------------------------------------------------------------------------- the shipped networks
@pytest.mark.parametrize("task", ["digits", "tinylm"])
def test_float_network_equals_the_committed_pytorch_logits(task):
    net = load(task)
    ours = float_logits(task)[: net.reference_logits.shape[0]]
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, net.reference_logits, rtol=1e-5, atol=1e-4)


def test_digits_float_accuracy_is_at_least_97_percent_on_the_fixed_split():
    net = load("digits")
    assert net.inputs.shape == (450, 64) and sorted(set(net.labels.tolist())) == list(range(10))
    assert scores.accuracy(float_logits("digits"), net.labels) >= 0.97


def test_tinylm_is_small_and_scored_on_held_out_bytes():
    net = load("tinylm")
    size = sum(a.nbytes for a in net.params.values())
    assert size <= 2 * 2**20
    train, held_out = networks.corpus.split()
    assert bytes(net.inputs[0].astype(np.uint8)) == bytes(held_out[: networks.CONTEXT])
    assert bytes(held_out[:64]) not in bytes(train)  # the held-out text is not in the training text


# ----------------------------------------------------------------------------- llama.cpp's metrics
@SETTINGS
@given(logit_arrays())
def test_a_model_against_itself_has_kl_zero_and_full_top1_agreement(logits):
    d = scores.divergence(logits, logits, chunked=False)
    assert d.mean_kl == 0.0 and d.top1_agreement == 1.0


def test_the_float_tinylm_against_itself_has_kl_zero_and_top1_100_percent():
    r = evaluate("tinylm", "int8-per-channel", layers=("head",))
    base = float_logits("tinylm")
    d = scores.divergence(base, base)
    assert d.mean_kl == 0.0 and d.top1_agreement == 1.0
    assert d.count == networks.EVAL_CHUNKS * (networks.CONTEXT // 2 - 1)  # positions 64..126 of each chunk
    assert r.kl_divergence > 0.0 and r.float_value == pytest.approx(scores.perplexity(base, load("tinylm").labels))


@SETTINGS
@given(logit_arrays(), logit_arrays())
def test_kl_is_the_sum_over_kept_tokens_and_top1_counts_equal_argmaxes(base, other):
    d = scores.divergence(base, other, chunked=False)
    lb = (
        base
        - np.log(np.exp(base.astype(np.float64) - base.max(1, keepdims=True)).sum(1, keepdims=True))
        - base.max(1, keepdims=True)
    )
    lq = (
        other
        - np.log(np.exp(other.astype(np.float64) - other.max(1, keepdims=True)).sum(1, keepdims=True))
        - other.max(1, keepdims=True)
    )
    expected = [
        sum(np.exp(a) * (a - b) for a, b in zip(rb, rq, strict=True) if a > -16) for rb, rq in zip(lb, lq, strict=True)
    ]
    assert d.mean_kl == pytest.approx(float(np.mean(expected)), abs=1e-9)
    # llama.cpp's −16 cutoff drops terms, so the sum is the true KL (≥ 0) only up to those terms
    full = np.mean(
        [sum(np.exp(a) * (a - b) for a, b in zip(rb, rq, strict=True)) for rb, rq in zip(lb, lq, strict=True)]
    )
    assert full >= -1e-9
    assert abs(d.mean_kl - full) <= base.shape[1] * np.exp(-16) * float(np.abs(lb - lq).max()) + 1e-9
    assert d.top1_agreement == float(np.mean(base.argmax(1) == other.argmax(1)))


@SETTINGS
@given(hnp.arrays(np.float32, (2, 8, 5), elements=logit_values), st.integers(0, 2**32 - 1))
def test_perplexity_scores_the_second_half_of_each_chunk(logits, seed):
    tokens = np.random.default_rng(seed).integers(0, 5, (2, 8))
    z = logits.astype(np.float64)
    logp = z - z.max(-1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(-1, keepdims=True))
    nll = [-logp[c, j, tokens[c, j + 1]] for c in range(2) for j in range(4, 7)]  # first = 8/2, up to 8 − 2
    assert scores.perplexity(logits, tokens) == pytest.approx(float(np.exp(np.mean(nll))), rel=1e-9)


# ----------------------------------------------------------------------------- names
@pytest.mark.parametrize(
    ("args", "listed"),
    [
        (("mnist", "int8-per-channel"), "digits, tinylm"),
        (("digits", "int3-per-tensor"), "int4-g32"),
        (("digits", "int8-per-channel", "int4-per-token"), "int8-per-tensor, int8-per-token"),
        (("digits", "int8-per-channel", None, "gptq-magic"), ", ".join(ALGORITHMS)),
    ],
)
def test_unknown_names_raise_value_error_listing_the_valid_ones(args, listed):
    with pytest.raises(ValueError, match="choose") as info:
        evaluate(*args)
    assert listed in str(info.value)


def test_unknown_layers_are_refused():
    with pytest.raises(ValueError, match="fc1, fc2, fc3"):
        evaluate("digits", "int4-per-tensor", layers=("fc9",))


def test_every_block_format_is_a_weight_scheme():
    assert set(blocks.FORMATS) <= set(weight_scheme_names())
    assert {parse_weights(n).kind for n in int_scheme_names()} == {"int"}


# ----------------------------------------------------------------------------- weight quantization
@SETTINGS
@given(hnp.arrays(np.float32, (4, 64), elements=st.floats(-4, 4, width=32)), st.sampled_from(int_scheme_names()))
def test_rtn_codes_stay_on_the_grid_and_within_half_a_step(w, name):
    scheme = parse_weights(name)
    q = rtn(w, scheme)
    qmax = 2 ** (scheme.bits - 1) - 1
    assert np.abs(q.codes).max(initial=0) <= qmax
    steps = np.repeat(q.scales, q.group_size, axis=1)[:, : w.shape[1]]
    assert np.all(np.abs(w - q.dequantized) <= steps / 2 * (1 + 1e-6) + 1e-30)
    np.testing.assert_array_equal(q.dequantized, q.codes.astype(np.float32) * steps)


def test_finer_granularity_costs_scale_bits_and_buys_weight_sqnr():
    per = {g: evaluate("digits", f"int4-{g}") for g in ("per-tensor", "per-channel", "g32")}
    assert per["per-tensor"].weight_sqnr_db < per["per-channel"].weight_sqnr_db < per["g32"].weight_sqnr_db
    assert per["per-tensor"].bits_per_weight < per["per-channel"].bits_per_weight < per["g32"].bits_per_weight
    assert per["g32"].bits_per_weight == pytest.approx(4 + 32 / 32)


def test_block_formats_decode_to_what_quantviz_blocks_gives():
    w = load("digits").params["fc2.weight"]
    q = quantized_weights("digits", "NF4")["fc2"]
    np.testing.assert_array_equal(q.dequantized, blocks.fake_quantize(w.reshape(-1), "NF4").reshape(w.shape))
    assert q.bits_per_weight == blocks.FORMATS["NF4"].bits_per_weight


# ----------------------------------------------------------------------------- the integer path
@SETTINGS
@given(
    hnp.arrays(np.int64, (3, 40), elements=st.integers(-128, 127)),
    hnp.arrays(np.int64, (40, 5), elements=st.integers(-128, 127)),
)
def test_exact_int_matmul_equals_integer_arithmetic(a, b):
    np.testing.assert_array_equal(exact_int_matmul(a, b), a @ b)


def test_integer_linear_equals_the_dequantized_product():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 64)).astype(np.float32)
    w = rng.normal(size=(9, 64)).astype(np.float32)
    for name in ("int8-per-channel", "int4-g32", "int2-per-tensor"):
        qw, acts = rtn(w, parse_weights(name)), quantize_per_token(x)
        xhat = (acts.codes * acts.scales).astype(np.float64)
        np.testing.assert_allclose(integer_linear(acts, qw, None), xhat @ qw.dequantized.T, rtol=1e-5, atol=1e-5)


def test_digits_w8a8_runs_tflites_integer_pipeline_code_to_code():
    net = load("digits")
    chosen = quantized_weights("digits", "int8-per-channel")
    trace = digits_integer_forward(chosen, net.inputs)
    assert set(trace.steps) == set(net.layers)
    for i, name in enumerate(net.layers):
        out = trace.steps[name].output
        low = -128 if i == 2 else trace.output_qparams[name].zero_point
        assert out.min() >= low and out.max() <= 127 and len(np.unique(out)) > 20
    logits_qp = trace.output_qparams["fc3"]
    codes = np.rint(trace.logits / np.float32(logits_qp.scale)) + logits_qp.zero_point
    np.testing.assert_array_equal(codes, trace.steps["fc3"].output)  # the logits are dequantized int8 codes
    assert evaluate("digits", "int8-per-channel", "int8-per-tensor").value == scores.accuracy(trace.logits, net.labels)


def test_static_activations_round_half_to_even_and_saturate():
    q = quantize_static(np.array([[0.5, 1.5, 1e6, -1e6]], np.float32), 1.0, 0)
    assert q.codes.tolist() == [[0, 2, 127, -128]]


# ----------------------------------------------------------------------------- sensitivity
def test_one_layer_at_a_time_quantizes_only_that_layer():
    whole = evaluate("digits", "int2-per-channel")
    alone = {n: evaluate("digits", "int2-per-channel", layers=(n,)) for n in load("digits").layers}
    assert all(r.layers == (n,) for n, r in alone.items())
    assert all(r.value >= whole.value for r in alone.values())
    assert sum(r.kl_divergence > 0 for r in alone.values()) == 3


# ----------------------------------------------------------------------------- calibrators
def test_each_calibrator_chooses_its_own_static_ranges_and_unknown_ones_are_refused():
    from quantviz.tasks import CALIBRATORS, static_qparams

    scales = {name: static_qparams("digits", name)["fc2"].scale for name in CALIBRATORS}
    assert scales["percentile"] < scales["minmax"]  # the tails clipped: a finer step
    assert len(set(scales.values())) == len(scales)
    r = evaluate("digits", "int8-per-channel", "int8-per-tensor", calibration="percentile")
    assert r.calibration == "percentile" and r.value > 0.9
    with pytest.raises(ValueError, match="minmax, percentile, mse, kl"):
        evaluate("digits", "int8-per-channel", "int8-per-tensor", calibration="entropy")
