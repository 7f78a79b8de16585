"""The user's own layer: .npy files read without unpickling, every bad file refused in words, the layer cropped
and padded as said, and the shipped examples' weight tensors dequantized as their files say."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantviz.algorithms.example_layer import example_tensors, example_weight
from quantviz.algorithms.layer import MAX_IN, MAX_ROWS, MAX_SAMPLES, own_layer, read_npy
from quantviz.models import open_model
from quantviz.models.examples import EXAMPLES, example_path


def npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def test_read_npy_round_trips_numbers():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert np.array_equal(read_npy(npy(a), "weight"), a)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (npy(np.array([{"a": 1}], dtype=object)), "object array (pickled Python objects) is refused unread"),
        (b"not a numpy file at all", "not a .npy file"),
        (npy(np.array(["a", "b"])), "is not a real number type"),
        (npy(np.ones(3, complex)), "is not a real number type"),
        (npy(np.ones((4, 4)))[:-8], "cannot be read"),
    ],
)
def test_read_npy_refuses_in_words(data, words):
    with pytest.raises(ValueError, match="weight: ") as err:
        read_npy(data, "weight")
    assert words in str(err.value)


def test_oversized_array_is_refused_before_its_data_is_read():
    header_only = npy(np.ones((4, 4)))[:128]  # a header declaring 16 values, and no data
    with pytest.raises(ValueError, match=r"16 values in shape \(4, 4\); at most 10 are read"):
        read_npy(header_only, "inputs", max_elements=10)


@pytest.mark.parametrize(
    ("weight", "inputs", "words"),
    [
        (np.ones(5), None, "weight must be 2-D"),
        (np.ones((2, 3, 4)), None, "weight must be 2-D"),
        (np.array([[1.0, np.nan]]), None, "weight contains NaN or inf (1 values)"),
        (np.ones((2, 3)), np.ones((4, 2)), "inputs have 2 features but the weight has in_features=3"),
        (np.ones((2, 3)), np.ones(3), "inputs must be 2-D"),
        (np.ones((2, 3)), np.full((4, 3), np.inf), "inputs contains NaN or inf (12 values)"),
        (np.ones((0, 3)), None, "weight is empty"),
    ],
)
def test_own_layer_refuses_in_words(weight, inputs, words):
    with pytest.raises(ValueError) as err:
        own_layer(weight, inputs)
    assert words in str(err.value)


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 300),
    cols=st.integers(1, 300),
    samples=st.one_of(st.none(), st.integers(1, 1100)),
    seed=st.integers(0, 100),
)
def test_own_layer_crops_and_pads_as_its_notes_say(rows, cols, samples, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((rows, cols))
    x = None if samples is None else rng.standard_normal((samples, cols))
    r = own_layer(w, x, samples=16, seed=seed)
    kept_rows, kept_cols = min(rows, MAX_ROWS), min(cols, MAX_IN)
    width = r.weight.shape[1]
    assert (
        r.weight.shape[0] == kept_rows and width >= kept_cols and width & (width - 1) == 0 and width < 2 * kept_cols + 2
    )
    assert np.array_equal(r.weight[:, :kept_cols], w[:kept_rows, :kept_cols].astype(np.float32))
    assert not r.weight[:, kept_cols:].any() and not r.inputs[:, kept_cols:].any()
    notes = " ".join(r.notes)
    assert ("Cropped from" in notes) == (rows > MAX_ROWS or cols > MAX_IN)
    assert ("zero input columns are appended" in notes) == (width != kept_cols)
    assert r.generated == (x is None) and ("No inputs given" in notes) == (x is None)
    if x is not None:
        n = min(samples, MAX_SAMPLES)
        assert np.array_equal(r.inputs[:, :kept_cols], x[:n, :kept_cols].astype(np.float32))
        assert (f"The first {MAX_SAMPLES} of the" in notes) == (samples > MAX_SAMPLES)
    # the padding changes no output
    y = r.inputs[:, :kept_cols].astype(np.float64) @ r.weight[:, :kept_cols].astype(np.float64).T
    assert np.allclose(y, r.inputs.astype(np.float64) @ r.weight.astype(np.float64).T, rtol=1e-12, atol=1e-12)


def test_generated_inputs_follow_the_seed_and_outliers():
    a = own_layer(np.ones((4, 64)), samples=32, outliers=3, outlier_scale=50.0, seed=7)
    b = own_layer(np.ones((4, 64)), samples=32, outliers=3, outlier_scale=50.0, seed=7)
    assert np.array_equal(a.inputs, b.inputs) and a.inputs.shape == (32, 64)
    peaks = np.abs(a.inputs).max(axis=0)
    assert int((peaks > 10 * np.median(peaks)).sum()) == 3


def test_conv_weight_is_reshaped_and_said():
    r = own_layer(np.ones((4, 3, 3, 3)), samples=8)
    assert r.source_shape == (4, 3, 3, 3) and r.weight.shape == (4, 32)
    assert "reshaped to (4, 27)" in r.notes[0] and "27 → 32" in " ".join(r.notes)


def float_originals() -> dict[str, np.ndarray]:
    out = {}
    for name in ("onnx_float.onnx", "onnx_llm_float.onnx"):
        out |= {t.name: t.load() for t in open_model(example_path(name)).tensors if t.has_values}
    return out


@pytest.mark.parametrize(
    ("model", "tensor", "original", "transposed"),
    [
        ("onnx_qdq", "fc1.weight_quantized", "fc1.weight", True),
        ("onnx_qoperator", "conv.weight_quantized", "conv.weight", False),
        ("onnx_dynamic", "fc2.weight_Transposed_quantized", "fc2.weight", False),
        ("onnx_nbits", "lm_head.weight_Q4", "lm_head.weight", True),
    ],
)
def test_example_weight_is_its_float_original_to_within_half_a_step(model, tensor, original, transposed):
    e = example_weight(model, tensor)
    ref = float_originals()[original]
    ref = (ref.T if transposed else ref).reshape(e.weight.shape)
    t = next(t for t in open_model(example_path(EXAMPLES[model].quantized)).tensors if t.name == tensor)
    half_step = float(np.max(t.quantization.scales)) / 2
    assert np.abs(e.weight - ref).max() <= half_step * (1 + 1e-6)
    assert np.abs(e.weight - ref).max() > 0  # it is the quantized copy, not the original


def test_every_example_tensor_opens_as_a_layer():
    for model in EXAMPLES:
        for tensor in example_tensors(model):
            e = example_weight(model, tensor)
            assert e.weight.ndim == 2 and np.isfinite(e.weight).all() and e.notes
            assert own_layer(e.weight, samples=8).weight.shape[0] == min(e.weight.shape[0], MAX_ROWS)


def test_example_refusals_name_the_choices():
    with pytest.raises(ValueError, match="'nope' is not a shipped example model; they are onnx_qdq"):
        example_weight("nope", "x")
    with pytest.raises(ValueError, match=r"onnx_qdq has no 2-D or 4-D weight tensor named .x.; it has conv\.weight"):
        example_weight("onnx_qdq", "x")
