"""ONNX files as ONNX Runtime's quantizers write them (tests/fixtures/make_onnx.py): QDQ, QOperator, dynamic,
MatMulNBits/GatherBlockQuantized. Each tensor's numbers equal what the tool wrote, checked against the float model
the tool quantized (the dequantized weights are within half a step of it) and against onnxruntime's own output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quantviz.models import open_model

onnx = pytest.importorskip("onnx")
from onnx import numpy_helper  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parents[1] / "quantviz" / "models" / "examples"  # made by tests/fixtures/make_onnx.py


def where(fixture: str) -> Path:
    """ONNX fixtures ship as the page's examples; TFLite ones stay in tests/fixtures."""
    return (EXAMPLES if fixture.startswith("onnx_") else FIXTURES) / fixture


def initializers(fixture: str) -> dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(where(fixture))).graph.initializer}


FLOAT = initializers("onnx_float.onnx")


def tensors(fixture: str) -> dict:
    return {t.name: t for t in open_model(where(fixture)).tensors}


def dequantized(t) -> np.ndarray:
    """(q − z)·s with the reader's axis and block size: wrong axes or unpacking show up as large errors."""
    q = t.quantization
    codes = t.load().astype(np.float64)
    if q.axis is None:
        return (codes - q.zero_points[0]) * q.scales[0]
    shape = [1] * codes.ndim
    shape[q.axis] = -1
    s, z = q.scales.reshape(codes.shape[0], -1) if q.block_size else q.scales, q.zero_points
    if q.block_size:  # blocks along the last axis of a 2-D weight
        s = np.repeat(s, q.block_size, axis=1)[:, : codes.shape[1]]
        z = np.repeat(z.reshape(codes.shape[0], -1), q.block_size, axis=1)[:, : codes.shape[1]]
        return (codes - z) * s
    return (codes - z.reshape(shape)) * s.reshape(shape)


@pytest.mark.parametrize(
    ("fixture", "file_type"),
    [
        ("onnx_qdq.onnx", "onnx-qdq"),
        ("onnx_qoperator.onnx", "onnx-qoperator"),
        ("onnx_dynamic.onnx", "onnx-dynamic"),
        ("onnx_nbits.onnx", "onnx-matmulnbits"),
        ("onnx_float.onnx", "onnx-float"),
    ],
)
def test_file_type_names_the_form(fixture: str, file_type: str) -> None:
    assert open_model(where(fixture)).file_type == file_type


def test_qdq_weights_are_used_by_their_compute_operator_and_activations_have_types() -> None:
    by_name = tensors("onnx_qdq.onnx")
    ops = {name: by_name[f"{name}_quantized"].op for name in ("conv.weight", "fc1.weight", "fc2.weight")}
    assert ops == {"conv.weight": "Conv", "fc1.weight": "MatMul", "fc2.weight": "Gemm"}
    activations = [t for t in by_name.values() if t.role == "activation"]
    assert activations and all(t.dtype in ("int8", "uint8") and len(t.shape) >= 2 for t in activations)
    assert by_name["x"].role == "input" and by_name["x"].shape == (1, 3, 8, 8) and by_name["y"].role == "output"
    for name in ("conv.weight", "fc1.weight", "fc2.weight"):
        t = by_name[f"{name}_quantized"]
        assert np.abs(dequantized(t) - FLOAT[name]).max() <= t.quantization.scales[0] / 2 * (1 + 1e-6)


def test_qoperator_axes_come_from_the_operator() -> None:
    by_name = tensors("onnx_qoperator.onnx")
    written = initializers("onnx_qoperator.onnx")
    expected_axis = {"conv.weight": 0, "fc1.weight": 1, "fc2.weight": 0}  # Conv out channels; MatMul last; Gemm transB
    for name, axis in expected_axis.items():
        t = by_name[f"{name}_quantized"]
        assert t.quantization.axis == axis, name
        assert t.quantization.scales.tolist() == written[f"{name}_scale"].astype(np.float64).tolist()
        step = np.expand_dims(t.quantization.scales, [d for d in range(t.load().ndim) if d != axis])
        assert (np.abs(dequantized(t) - FLOAT[name]) <= step / 2 * (1 + 1e-6)).all(), name


@pytest.mark.parametrize(
    ("bias", "op", "weight"), [("conv.bias", "QLinearConv", "conv.weight"), ("fc2.bias", "QGemm", "fc2.weight")]
)
def test_qoperator_int32_bias_has_the_implied_scale(bias: str, op: str, weight: str) -> None:
    t = tensors("onnx_qoperator.onnx")[f"{bias}_quantized"]
    written = initializers("onnx_qoperator.onnx")
    node = next(n for n in onnx.load(str(EXAMPLES / "onnx_qoperator.onnx")).graph.node if n.op_type == op)
    s_in = written[node.input[1]]
    assert (t.dtype, t.role, t.op) == ("int32", "bias", op)
    assert t.quantization.scales.tolist() == (np.float32(s_in) * written[f"{weight}_scale"]).astype(np.float64).tolist()
    assert (t.quantization.zero_points == 0).all()
    assert (np.abs(t.load() * t.quantization.scales - FLOAT[bias]) <= t.quantization.scales / 2 * (1 + 1e-5)).all()


def test_dynamic_weights_carry_the_scale_ort_multiplies_in() -> None:
    by_name = tensors("onnx_dynamic.onnx")
    written = initializers("onnx_dynamic.onnx")
    conv = by_name["conv.weight_quantized"]
    assert (conv.dtype, conv.op, conv.role) == ("uint8", "ConvInteger", "weight")
    assert conv.quantization.zero_points.tolist() == [int(written["conv.weight_zero_point"])]
    assert conv.quantization.scales.tolist() == [float(written["conv.weight_scale"])]
    for name, stored in (("conv.weight", "conv.weight_quantized"), ("fc1.weight", "fc1.weight_quantized")):
        t = by_name[stored]
        assert np.abs(dequantized(t) - FLOAT[name]).max() <= t.quantization.scales[0] / 2 * (1 + 1e-5)
    fc2 = by_name["fc2.weight_Transposed_quantized"]  # ORT transposed the Gemm's weight: [K, N]
    assert np.abs(dequantized(fc2) - FLOAT["fc2.weight"].T).max() <= fc2.quantization.scales[0] / 2 * (1 + 1e-5)
    assert by_name["x_quantized"].dtype == "uint8" and by_name["x_quantized"].quantization is None
    assert all(
        t.role != "weight" for n, t in by_name.items() if n.endswith("bias")
    )  # biases are not measured as weights


def test_matmulnbits_and_gather_block_quantized_unpack_to_what_onnxruntime_computes() -> None:
    ort = pytest.importorskip("onnxruntime")
    by_name = tensors("onnx_nbits.onnx")
    embed, head = by_name["embed.weight_Q4"], by_name["lm_head.weight_Q4"]
    assert (head.dtype, head.shape, head.quantization.block_size, head.op) == ("uint4", (64, 32), 32, "MatMulNBits")
    assert (embed.dtype, embed.shape, embed.quantization.axis) == ("uint4", (64, 32), 1)
    assert head.load().min() >= 0 and head.load().max() <= 15 and head.load().dtype == np.uint8
    ids = np.array([[0, 5, 17, 63]], np.int64)
    session = ort.InferenceSession(str(EXAMPLES / "onnx_nbits.onnx"), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"ids": ids})
    ours = dequantized(embed)[ids[0]] @ dequantized(head).T
    np.testing.assert_allclose(logits[0], ours, rtol=1e-4, atol=1e-4)
    float_llm = initializers("onnx_llm_float.onnx")  # and the 4-bit weights are within a step of the float ones
    assert np.abs(dequantized(head) - float_llm["lm_head.weight"].T).max() <= head.quantization.scales.max()
