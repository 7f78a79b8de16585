"""The sentences of "What it costs" say what the computation found (property tests on built results)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantviz.tasks.evaluate import TaskResult
from quantviz.tasks.sweeps import LayerCost, SchemePoint
from quantviz.teach import costs

SETTINGS = settings(max_examples=60, deadline=None)
unit = st.floats(0, 1, allow_nan=False)
sqnr = st.floats(-5, 60, allow_nan=False)


@st.composite
def points(draw, metric: str):
    n = draw(st.integers(0, 8))
    values = st.sampled_from([0.9, 0.95, 0.97]) if metric == "accuracy" else st.sampled_from([2.9, 3.0, 3.4])
    return [
        SchemePoint(
            weights=f"s{i}",
            family="block format",
            bits_per_weight=4.0,
            weight_sqnr_db=draw(sqnr),
            value=draw(values),
            kl_divergence=0.0,
            top1_agreement=1.0,
        )
        for i in range(n)
    ]


@SETTINGS
@given(st.sampled_from(["accuracy", "perplexity"]).flatmap(lambda m: st.tuples(st.just(m), points(m))))
def test_the_disagreement_count_and_example_are_the_reversed_pairs(case):
    metric, pts = case
    d = costs.disagreement(pts, metric)
    pairs = [
        (a, b) if a.weight_sqnr_db > b.weight_sqnr_db else (b, a)
        for i, a in enumerate(pts)
        for b in pts[i + 1 :]
        if abs(a.weight_sqnr_db - b.weight_sqnr_db) > costs.SQNR_MARGIN_DB
    ]
    flipped = [(hi, lo) for hi, lo in pairs if costs.clearly_better(metric, lo.value, hi.value)]
    assert (d.pairs, d.reversed_pairs) == (len(pairs), len(flipped))
    sentence = costs.disagreement_sentence(pts, metric)
    if not pairs:
        assert sentence == ""
    elif not flipped:
        assert d.example is None and "predicts" in sentence
    else:
        hi, lo = d.example
        assert (hi, lo) in flipped
        assert hi.weight_sqnr_db - lo.weight_sqnr_db == max(h.weight_sqnr_db - low.weight_sqnr_db for h, low in flipped)
        assert f"The widest: {lo.weights} has the lower weight SQNR" in sentence and hi.weights in sentence


def result(task: str, value: float, float_value: float, top1: float, layers=("fc1", "fc2")) -> TaskResult:
    return TaskResult(
        task=task,
        weights="int4-per-tensor",
        activations=None,
        algorithm="rtn",
        calibration="minmax",
        layers=tuple(layers),
        metric="accuracy" if task == "digits" else "perplexity",
        value=value,
        float_value=float_value,
        kl_divergence=0.01,
        top1_agreement=top1,
        weight_sqnr_db=12.0,
        bits_per_weight=4.0,
        predictions=None,
        float_predictions=None,
    )


@SETTINGS
@given(
    st.sampled_from([0.9, 0.95, 0.9756]),
    st.sampled_from([0.9, 0.95, 0.9756]),
    unit,
    st.sampled_from([("fc1",), ("fc1", "fc2")]),
)
def test_the_digits_verdict_follows_the_numbers(value, float_value, top1, layers):
    text = costs.verdict(result("digits", value, float_value, top1, layers))
    assert ("keeps exactly its float accuracy" in text) == (value == float_value)
    assert (" loses " in text) == (value < float_value)
    assert (" gains " in text) == (value > float_value)
    assert ("every test image keeps its float answer" in text) == (top1 == 1)
    assert ("only fc1 quantized" in text) == (len(layers) == 1)


@SETTINGS
@given(st.floats(1.5, 10), st.floats(1.5, 10), unit)
def test_the_language_model_verdict_gives_the_signed_change(value, float_value, top1):
    text = costs.verdict(result("tinylm", value, float_value, top1))
    change = (value - float_value) / float_value
    assert f"({'+' if change >= 0 else '−'}" in text
    assert "mean KL divergence" in text and "top next byte is the same" in text


@SETTINGS
@given(st.lists(st.floats(0, 3, allow_nan=False), min_size=1, max_size=9))
def test_the_sensitivity_sentence_names_the_layer_of_largest_kl(kls):
    layer_costs = [
        LayerCost(layer=f"L{i}", weights_count=10, value=0.9, kl_divergence=k, top1_agreement=1.0, weight_sqnr_db=10.0)
        for i, k in enumerate(kls)
    ]
    text = costs.sensitivity_sentence(layer_costs, "accuracy")
    if len(kls) < 2:
        assert text == ""
    elif max(kls) == min(kls):
        assert "the same KL divergence" in text
    else:
        assert text.startswith(f"Quantized alone, the rest float, L{int(np.argmax(kls))} hurts most")
        assert f"and L{int(np.argmin(kls))} least" in text


@SETTINGS
@given(
    st.lists(st.integers(0, 9), min_size=1, max_size=30).flatmap(
        lambda labels: st.tuples(
            st.just(labels),
            st.lists(st.integers(0, 9), min_size=len(labels), max_size=len(labels)),
            st.lists(st.integers(0, 9), min_size=len(labels), max_size=len(labels)),
        )
    )
)
def test_the_mistakes_are_the_images_that_changed_between_right_and_wrong(case):
    labels, float_pred, quant_pred = (np.array(c) for c in case)
    r = TaskResult(
        task="digits",
        weights="int4-per-tensor",
        activations=None,
        algorithm="rtn",
        calibration="minmax",
        layers=("fc1",),
        metric="accuracy",
        value=0.0,
        float_value=0.0,
        kl_divergence=0.0,
        top1_agreement=1.0,
        weight_sqnr_db=0.0,
        bits_per_weight=4.0,
        predictions=quant_pred,
        float_predictions=float_pred,
    )
    found = costs.mistakes(r, labels)
    assert found.now_wrong.tolist() == [i for i in range(len(labels)) if float_pred[i] == labels[i] != quant_pred[i]]
    assert found.now_right.tolist() == [i for i in range(len(labels)) if float_pred[i] != labels[i] == quant_pred[i]]
    text = costs.mistakes_sentence(found)
    assert (f"now gets {found.now_wrong.size} test image" in text) == (found.now_wrong.size > 0)
    assert (f"gets {found.now_right.size} right" in text) == (found.now_right.size > 0)


@SETTINGS
@given(st.floats(1.5, 50), st.floats(1.5, 50))
def test_two_different_perplexities_are_written_differently(a, b):
    ta, tb = costs.metric_texts("perplexity", a, b)
    assert (ta != tb) or abs(a - b) < 1e-7 * max(a, b)
