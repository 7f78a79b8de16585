"""The digits network's int8 integer path equals onnxruntime running the committed integer ONNX graphs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from quantviz.tasks import evaluate, load, quantized_weights
from quantviz.tasks.evaluate import digits_integer_forward
from quantviz.tasks.onnx_export import digits_model

DATA = Path(__file__).resolve().parents[1] / "quantviz" / "tasks" / "data"
EXPORTED = ("int8-per-tensor", "int8-per-channel", "int4-per-channel")  # scripts/export_digits_onnx.py


def run_onnxruntime(path: Path, images: np.ndarray) -> dict[str, np.ndarray]:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"images": images}), strict=True))


@pytest.mark.parametrize("weights", EXPORTED)
def test_the_committed_graph_is_what_the_export_script_builds(weights):
    assert (DATA / f"digits_{weights}.onnx").read_bytes() == digits_model(weights).SerializeToString()


@pytest.mark.parametrize("weights", EXPORTED)
def test_every_quantized_tensor_and_every_prediction_equals_onnxruntime(weights):
    net = load("digits")
    ours = digits_integer_forward(quantized_weights("digits", weights), net.inputs)
    theirs = run_onnxruntime(DATA / f"digits_{weights}.onnx", net.inputs)
    np.testing.assert_array_equal(theirs["input_codes"], ours.input_codes)
    for name in net.layers:
        np.testing.assert_array_equal(theirs[f"{name}.acc"], ours.steps[name].acc)
        np.testing.assert_array_equal(theirs[f"{name}.codes"], ours.steps[name].output)
    predictions = theirs["fc3.codes"].argmax(axis=1)
    np.testing.assert_array_equal(predictions, ours.logits.argmax(axis=1))
    result = evaluate("digits", weights, "int8-per-tensor")
    np.testing.assert_array_equal(predictions, result.predictions)
    assert result.value == float(np.mean(predictions == net.labels))


def test_the_graph_refuses_schemes_it_cannot_spell():
    with pytest.raises(ValueError, match="int8-per-tensor"):
        digits_model("int4-g32")
