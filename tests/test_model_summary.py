"""The summary says what the file is in its framework's words, measures saturation on the grid the tensor was
quantized on, and lists likely problems, each naming its tensor and matching the computation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantviz.models import Model, Quantization, Tensor, open_model
from quantviz.models.problems import grid_of, likely_problems
from quantviz.models.summary import describe, quantized_rows

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parents[1] / "quantviz" / "models" / "examples"  # made by tests/fixtures/make_onnx.py


def where(fixture: str) -> Path:
    """ONNX fixtures ship as the page's examples; TFLite ones stay in tests/fixtures."""
    return (EXAMPLES if fixture.startswith("onnx_") else FIXTURES) / fixture


@pytest.mark.parametrize(
    ("fixture", "file_type", "headline"),
    [
        (
            "int16x8.tflite",
            "tflite-16x8",
            "16x8 quantization (TFLite): int16 activations, int8 weights, not full-integer",
        ),
        ("full_int8.tflite", "tflite-int8", "Full-integer quantization (TFLite int8)"),
        ("dynamic_range.tflite", "tflite-dynamic", "Dynamic-range quantization (TFLite)"),
        ("float16.tflite", "tflite-float16", "Float16 quantization (TFLite)"),
        ("onnx_qdq.onnx", "onnx-qdq", "ONNX QDQ quantization"),
        ("onnx_qoperator.onnx", "onnx-qoperator", "ONNX QOperator quantization"),
        ("onnx_dynamic.onnx", "onnx-dynamic", "Dynamic quantization (ONNX Runtime"),
        ("onnx_nbits.onnx", "onnx-matmulnbits", "Weight-only block quantization (ONNX Runtime MatMulNBits"),
    ],
)
def test_the_file_is_described_in_its_frameworks_words(fixture: str, file_type: str, headline: str) -> None:
    m = open_model(where(fixture))
    assert m.file_type == file_type and describe(m)[0].startswith(headline)


def test_float16_names_its_float16_constants_and_their_size() -> None:
    m = open_model(FIXTURES / "float16.tflite")
    halves = [t for t in m.tensors if t.dtype == "float16"]
    line = describe(m)[0]
    assert halves and all(t.op == "DEQUANTIZE" and t.name in line for t in halves)
    assert f"{len(halves)} constant tensors stored as float16" in line
    assert f"{sum(t.size for t in halves)} values" in line


def test_16x8_inputs_and_outputs_are_float() -> None:
    lines = describe(open_model(FIXTURES / "int16x8.tflite"))
    assert "Input: x float32." in lines and "Output: Identity float32." in lines
    assert not lines[0].startswith("Full-integer")


def test_dynamic_range_says_which_tensors_stayed_float_and_why() -> None:
    m = open_model(FIXTURES / "dynamic_range.tflite")
    stayed = [t for t in m.tensors if t.has_values and t.quantization is None]
    line = next(line for line in describe(m) if "stayed float32" in line)
    stored = [t for t in m.tensors if t.has_values and t.role in ("weight", "bias")]
    assert line.startswith(f"{len(stayed)} of {len(stored)} stored tensors stayed float32")
    for t in stayed:
        assert t.name in line
        assert ("never quantizes biases" in line) == any(u.role == "bias" for u in stayed)


def test_symmetric_headline_ignores_constants_that_are_not_weights() -> None:
    m = open_model(EXAMPLES / "onnx_qdq.onnx")
    constant = next(t for t in m.tensors if t.name == "fc1.bias_quantized")  # an Add operand with z = -15
    assert constant.role == "constant" and (constant.quantization.zero_points != 0).any()
    assert any(line.startswith("Weights are symmetric") for line in describe(m))
    assert "asymmetric weights" not in {r.name: r for r in quantized_rows(m)}["fc1.bias_quantized"].flags
    assert any(
        line.startswith("Weights are asymmetric") for line in describe(open_model(EXAMPLES / "onnx_dynamic.onnx"))
    )


def test_narrow_range_weights_are_measured_on_their_grid() -> None:
    m = open_model(FIXTURES / "full_int8_per_tensor.tflite")
    w = next(t for t in m.tensors if t.role == "weight" and t.quantization is not None)
    assert grid_of(w, m)[:2] == (-127, 127)
    row = {r.name: r for r in quantized_rows(m)}[w.name]
    s = float(np.float32(w.quantization.scales[0]))
    assert row.representable == f"[{-127 * s:.6g}, {127 * s:.6g}]"
    codes = w.load().astype(int)
    assert row.saturated == f"{np.mean(np.abs(codes) == 127):.2%}"
    assert grid_of(next(t for t in m.tensors if t.role == "input"), m)[:2] == (-128, 127)  # activations: full grid


def qdq_variant(tmp_path: Path, change) -> Model:
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    model = onnx.load(str(EXAMPLES / "onnx_qdq.onnx"))
    for init in model.graph.initializer:
        value = change(init.name, numpy_helper.to_array(init))
        if value is not None:
            init.CopyFrom(numpy_helper.from_array(value, init.name))
    return open_model(model.SerializeToString(), name="variant.onnx")


def test_a_bias_whose_scale_is_not_s_in_times_s_w_is_a_likely_problem(tmp_path: Path) -> None:
    assert not [p for p in likely_problems(open_model(EXAMPLES / "onnx_qdq.onnx")) if "bias scale" in p.text]
    m = qdq_variant(tmp_path, lambda n, v: v * 2 if n == "conv.bias_quantized_scale" else None)
    problems = [p for p in likely_problems(m) if "bias scale" in p.text]
    assert [p.tensor for p in problems] == ["conv.bias_quantized"]
    assert "x_QuantizeLinear_Output × conv.weight_quantized" in problems[0].text


def test_float16_underflow_is_ranked_above_channel_spread(tmp_path: Path) -> None:
    m = qdq_variant(tmp_path, lambda n, v: np.float32(1e-9) if n == "fc2.weight_scale" else None)
    problems = likely_problems(m)
    texts = [(p.tensor, p.text.split(":")[0]) for p in problems]
    underflow = next(i for i, p in enumerate(problems) if "underflow to 0 in float16" in p.text)
    assert problems[underflow].tensor == "fc2.weight_quantized"
    assert (
        "fc2.bias_quantized",
        "bias scale 0.000120421 is not s_in·s_w = 2.67217e-11 (relu2_out_QuantizeLinear_Output × fc2.weight_quantized)",
    ) in texts  # the bias no longer matches the changed weight scale
    assert all(underflow < i for i, p in enumerate(problems) if "channels differ" in p.text)
    assert [p.severity for p in problems] == sorted((p.severity for p in problems), reverse=True)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 127), min_size=2, max_size=6))
def test_channel_spread_problem_matches_the_computation(peaks: list[int]) -> None:
    codes = np.array([[p, -p // 2, 0] for p in peaks], np.int8)
    w = Tensor(
        "w", "int8", codes.shape, "weight", "Conv", Quantization(np.array([0.01]), np.array([0])), loader=lambda: codes
    )
    problems = [p for p in likely_problems(Model("m.onnx", "onnx", [w])) if "channels differ" in p.text]
    ratio = max(peaks) / min(peaks)
    assert bool(problems) == (ratio >= 10)
    if problems:
        assert f"differ {ratio:.0f}×" in problems[0].text and f"only ±{min(peaks)} of the codes" in problems[0].text


def test_zero_point_off_the_grid() -> None:
    w = Tensor("x", "int8", (1, 4), "activation", "Conv", Quantization(np.array([0.1]), np.array([200])))
    (problem,) = likely_problems(Model("m.tflite", "tflite", [w]))
    assert problem.tensor == "x" and "zero point 200 is outside int8 [-128, 127]" in problem.text


def test_blocked_weights_are_described_as_blocks() -> None:
    lines = describe(open_model(EXAMPLES / "onnx_nbits.onnx"))
    assert any("in blocks of 32 along axis 1" in line for line in lines)


def test_gguf_file_type_type_mix_and_bits_per_weight(tmp_path: Path) -> None:
    gguf = pytest.importorskip("gguf")
    rng = np.random.default_rng(9)
    writer = gguf.GGUFWriter(str(tmp_path / "mix.gguf"), "llama")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M)
    q4k = rng.integers(0, 256, (8, 2 * 144), dtype=np.uint8)  # 8 rows of 512 values: 2 super-blocks each
    q6k = rng.integers(0, 256, (4, 2 * 210), dtype=np.uint8)
    q4k[:, 0:4:2] = q4k[:, 144:148:2] = 0  # finite float16 super-block scales (d, dmin) where decoded
    writer.add_tensor("blk.0.ffn_down.weight", q4k, raw_dtype=gguf.GGMLQuantizationType.Q4_K)
    writer.add_tensor("output.weight", q6k, raw_dtype=gguf.GGMLQuantizationType.Q6_K)
    writer.add_tensor("norm.weight", np.ones(512, np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    m = open_model(tmp_path / "mix.gguf")
    assert m.file_type == "Q4_K_M"
    by_name = {t.name: t for t in m.tensors}
    assert by_name["blk.0.ffn_down.weight"].shape == (8, 512) and by_name["output.weight"].dtype == "Q6_K"
    lines = describe(m)
    text = " ".join(lines)
    assert "File type Q4_K_M" in text
    assert (
        "Q4_K 1 tensor (2,304 bytes, 4.5 bits/weight)" in text
        and "Q6_K 1 tensor (1,680 bytes, 6.562 bits/weight)" in text
    )
    total = 8 * 144 * 2 + 4 * 210 * 2 + 512 * 4
    assert f"Overall {8 * total / (8 * 512 + 4 * 512 + 512):.4g} bits per weight ({total:,} bytes" in text
    assert "Q4_K in 8 blocks of 32" in text and "Q6_K in 16 blocks of 16" in text


def test_tflite_file_types_from_the_tensors() -> None:
    from quantviz.models.tflite_reader import tflite_file_type

    q = Quantization(np.ones(1), np.zeros(1, np.int64))
    weight = Tensor("w", "float16", (4, 4), "weight", "DEQUANTIZE", loader=lambda: np.zeros((4, 4), np.float16))
    assert tflite_file_type([weight]) == "tflite-float16"
    assert (
        tflite_file_type([Tensor("w", "float32", (4, 4), "weight", "FULLY_CONNECTED", loader=weight.loader)])
        == "tflite-float"
    )
    int8 = Tensor("w", "int8", (4, 4), "weight", "FULLY_CONNECTED", q, loader=lambda: np.zeros((4, 4), np.int8))
    assert tflite_file_type([int8]) == "tflite-dynamic"
    assert tflite_file_type([int8, Tensor("x", "int8", (1, 4), "activation", "FULLY_CONNECTED", q)]) == "tflite-int8"
