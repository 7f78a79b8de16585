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


def test_a_chain_of_contrib_and_standard_operators_is_typed_to_the_end(tmp_path: Path) -> None:
    """QLinearConv (standard) after QLinearAdd (contrib), three times: each is typed by the one before it."""
    from onnx import TensorProto, numpy_helper
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static

    rng = np.random.default_rng(5)
    nodes, inits, prev = [], [], "x"
    for i in range(3):
        inits.append(numpy_helper.from_array((rng.normal(size=(4, 4, 3, 3)) * 0.2).astype(np.float32), f"w{i}"))
        nodes += [
            helper.make_node("Conv", [prev, f"w{i}"], [f"c{i}"], pads=[1, 1, 1, 1]),
            helper.make_node("Sigmoid", [f"c{i}"], [f"s{i}"]),
            helper.make_node("Add", [f"s{i}", f"c{i}"], [f"a{i}"]),
        ]
        prev = f"a{i}"
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 5, 5])],
        [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [1, 4, 5, 5])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    onnx.save(model, tmp_path / "float.onnx")

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter([{"x": rng.normal(size=(1, 4, 5, 5)).astype(np.float32)}])

        def get_next(self):
            return next(self.batches, None)

    quantize_static(
        str(tmp_path / "float.onnx"), str(tmp_path / "q.onnx"), Reader(), quant_format=QuantFormat.QOperator
    )
    ran = run_every_value(tmp_path / "q.onnx")
    values = [t for t in open_model(tmp_path / "q.onnx").tensors if not t.has_values]
    assert len(values) >= 9
    for t in values:
        assert (t.dtype, t.shape) == (ran[t.name].dtype.name, ran[t.name].shape), t.name
