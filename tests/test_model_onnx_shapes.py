"""ONNX shapes after com.microsoft operators: every value's dtype and shape, as onnxruntime produces it when run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper

from quantviz.models import open_model
from quantviz.models.onnx_shapes import broadcast

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXAMPLES = Path(__file__).resolve().parents[1] / "quantviz" / "models" / "examples"


def run_every_value(path: Path) -> dict[str, np.ndarray]:
    """Every node output of the model, as onnxruntime computes it (each made a graph output)."""
    model = onnx.load(str(path))
    present = {o.name for o in model.graph.output}
    extra = [o for n in model.graph.node for o in n.output if o and o not in present]
    model.graph.output.extend(helper.make_empty_tensor_value_info(o) for o in extra)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feed = {i.name: np.random.default_rng(0).normal(size=i.shape).astype(np.float32) for i in session.get_inputs()}
    return {**feed, **dict(zip([o.name for o in session.get_outputs()], session.run(None, feed), strict=True))}


@pytest.mark.parametrize("path", [FIXTURES / "onnx_qoperator_contrib.onnx", EXAMPLES / "onnx_qoperator.onnx"])
def test_every_activation_has_the_dtype_and_shape_onnxruntime_gives_it(path: Path) -> None:
    ran = run_every_value(path)
    model = open_model(path)
    contrib = {n.op_type for n in onnx.load(str(path)).graph.node if n.domain == "com.microsoft"}
    assert contrib  # the fixture holds the operators onnx's shape inference does not know
    values = [t for t in model.tensors if not t.has_values]
    assert values and all(t.dtype != "unknown" and t.shape for t in values)
    for t in values:
        assert (t.dtype, t.shape) == (ran[t.name].dtype.name, ran[t.name].shape), t.name


def test_the_contrib_fixture_holds_each_kind_of_operator() -> None:
    ops = {n.op_type for n in onnx.load(str(FIXTURES / "onnx_qoperator_contrib.onnx")).graph.node}
    assert {"QLinearAdd", "QLinearMul", "QLinearSigmoid", "QLinearConcat", "QGemm", "QLinearSoftmax"} <= ops
    assert {"QLinearLeakyRelu", "QLinearGlobalAveragePool"} <= ops


def test_broadcast_agrees_with_numpy() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        rank = int(rng.integers(1, 5))
        a = tuple(int(d) for d in rng.choice([1, 2, 3], rank))
        b = tuple(d if rng.random() < 0.5 else 1 for d in a[int(rng.integers(0, rank)) :])
        assert broadcast(a, b) == np.broadcast_shapes(a, b)
