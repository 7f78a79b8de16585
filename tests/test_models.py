"""Model files: every reader against files the tests make (ONNX graphs, safetensors, npz, gguf) and hostile files."""

from __future__ import annotations

import io
import json
import pickle
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from quantviz.errors import ModelFileError, QuantVizError
from quantviz.models import open_model

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


def qdq_model(*, per_axis: bool = False, block: bool = False, external: bool = False) -> bytes:
    """x -> QuantizeLinear -> DequantizeLinear -> MatMul(W dequantized from int8) -> y: a QDQ model."""
    rng = np.random.default_rng(0)
    w = rng.integers(-127, 128, (4, 3)).astype(np.int8)
    if block:
        w_scale = np.array([[0.01, 0.02, 0.03], [0.04, 0.05, 0.06]], np.float32)
        w_zero = np.zeros((2, 3), np.int8)
        attrs = {"axis": 0, "block_size": 2}
    elif per_axis:
        w_scale, w_zero, attrs = np.array([0.01, 0.02, 0.03], np.float32), np.zeros(3, np.int8), {"axis": 1}
    else:
        w_scale, w_zero, attrs = np.array(0.0078125, np.float32), np.array(0, np.int8), {}
    inits = [
        numpy_helper.from_array(w, "W_q"),
        numpy_helper.from_array(w_scale, "W_scale"),
        numpy_helper.from_array(w_zero, "W_zero"),
        numpy_helper.from_array(np.array(0.0235294122248888, np.float32), "x_scale"),
        numpy_helper.from_array(np.array(128, np.uint8), "x_zero"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zero"], ["x_q"]),
        helper.make_node("DequantizeLinear", ["x_q", "x_scale", "x_zero"], ["x_dq"]),
        helper.make_node("DequantizeLinear", ["W_q", "W_scale", "W_zero"], ["W"], **attrs),
        helper.make_node("MatMul", ["x_dq", "W"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "qdq",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    if external:
        model.graph.initializer[0].data_location = TensorProto.EXTERNAL
        model.graph.initializer[0].external_data.add(key="location", value="/etc/passwd")
    return model.SerializeToString()


def test_onnx_qdq_every_dequantized_tensor_carries_its_node_parameters() -> None:
    m = open_model(qdq_model(), name="qdq.onnx")
    by_name = {t.name: t for t in m.tensors}
    w, x = by_name["W_q"], by_name["x_q"]
    assert w.dtype == "int8" and w.shape == (4, 3) and w.role == "weight"
    assert w.quantization.scales.tolist() == [float(np.float32(0.0078125))] and w.quantization.axis is None
    assert x.quantization.scales.tolist() == [
        float(np.float32(0.0235294122248888))
    ] and x.quantization.zero_points.tolist() == [128]
    assert x.role == "activation" and not x.has_values
    assert np.array_equal(w.load(), np.random.default_rng(0).integers(-127, 128, (4, 3)).astype(np.int8))
    assert "W_scale" not in by_name  # scales are shown with the tensor they describe


def test_onnx_per_axis_and_blocked() -> None:
    w = {t.name: t for t in open_model(qdq_model(per_axis=True), name="pa.onnx").tensors}["W_q"]
    assert w.quantization.axis == 1 and w.quantization.scales.tolist() == [
        float(np.float32(v)) for v in (0.01, 0.02, 0.03)
    ]
    b = {t.name: t for t in open_model(qdq_model(block=True), name="blk.onnx").tensors}["W_q"]
    assert b.quantization.block_size == 2 and b.quantization.scales.size == 6 and b.quantization.axis == 0


def test_onnx_external_data_is_never_followed() -> None:
    with pytest.raises(ModelFileError, match="external file"):
        open_model(qdq_model(external=True), name="ext.onnx")


def safetensors_bytes(tensors: dict[str, tuple[str, np.ndarray]]) -> bytes:
    """A safetensors file written by hand from the format's spec (little-endian, JSON header)."""
    header, body, offset = {}, b"", 0
    for key, (dtype, array) in tensors.items():
        raw = array.tobytes()
        header[key] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        body += raw
        offset += len(raw)
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


def test_safetensors_f32_f16_bf16() -> None:
    rng = np.random.default_rng(1)
    f32 = rng.normal(size=(3, 5)).astype(np.float32)
    f16 = rng.normal(size=(4,)).astype(np.float16)
    bf16 = rng.normal(size=(2, 2)).astype(ml_dtypes.bfloat16)
    from safetensors.numpy import save

    data = save({"a": f32, "b": f16})
    m = open_model(data, name="m.safetensors")
    loaded = {t.name: t.load() for t in m.tensors}
    assert np.array_equal(loaded["a"], f32) and np.array_equal(loaded["b"], f16)
    bf = open_model(safetensors_bytes({"c": ("BF16", bf16)}), name="bf.safetensors").tensors[0]
    assert bf.dtype == "bfloat16" and np.array_equal(bf.load().astype(np.float32), bf16.astype(np.float32))


def test_npz_and_npy() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, w=np.arange(6, dtype=np.int8).reshape(2, 3), b=np.ones(3, np.float32))
    m = open_model(buffer.getvalue(), name="m.npz")
    assert {(t.name, t.dtype, t.shape) for t in m.tensors} == {("w", "int8", (2, 3)), ("b", "float32", (3,))}
    single = io.BytesIO()
    np.save(single, np.zeros((4, 4), np.float16))
    assert open_model(single.getvalue(), name="a.npy").tensors[0].shape == (4, 4)


def test_gguf_tensors_decode_with_the_block_formats(tmp_path) -> None:
    gguf = pytest.importorskip("gguf")
    from quantviz import blocks

    x = np.random.default_rng(2).normal(size=(4, 64)).astype(np.float32)
    writer = gguf.GGUFWriter(str(tmp_path / "m.gguf"), "llama")
    writer.add_tensor(
        "w_q4", gguf.quants.quantize(x, gguf.GGMLQuantizationType.Q4_0), raw_dtype=gguf.GGMLQuantizationType.Q4_0
    )
    writer.add_tensor("w_f32", x)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    m = open_model(tmp_path / "m.gguf")
    by_name = {t.name: t for t in m.tensors}
    assert by_name["w_q4"].dtype == "Q4_0" and by_name["w_q4"].shape == (4, 64)
    assert np.array_equal(by_name["w_q4"].load().reshape(-1), blocks.fake_quantize(x.reshape(-1), "Q4_0"))
    assert np.array_equal(by_name["w_f32"].load(), x)


@pytest.mark.parametrize("name", ["model.pt", "model.pth", "pytorch_model.bin", "last.ckpt"])
def test_pickled_checkpoints_are_refused_by_name(name: str) -> None:
    with pytest.raises(ModelFileError, match="never unpickles"):
        open_model(b"anything", name=name)


def test_pickles_are_refused_by_content_and_never_run() -> None:
    class Boom:
        def __reduce__(self):
            return (print, ("unpickled!",))

    with pytest.raises(ModelFileError, match="pickle"):
        open_model(pickle.dumps(Boom()), name="innocent.npy")
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ModelFileError):
        open_model(buffer.getvalue(), name="objects.npy")


@pytest.mark.parametrize(
    ("name", "data", "match"),
    [
        ("empty.onnx", b"", "empty"),
        ("garbage.onnx", b"\x00\x01garbage" * 10, "ONNX"),
        ("garbage.tflite", b"1234TFL3" + b"\xff" * 20, "TFLite"),
        ("nottflite.tflite", b"hello world!", "TFL3"),
        ("garbage.safetensors", b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}......", "JSON"),
        ("short.safetensors", b"\xff\xff\xff\x00\x00\x00\x00\x00{}", "truncated"),
        ("garbage.gguf", b"GGUF" + b"\x00" * 10, "GGUF"),
        ("garbage.npz", b"PK\x03\x04 broken", "npz"),
        ("model.h5", b"\x89HDF", "opens"),
    ],
)
def test_broken_files_give_a_message_naming_the_file(name: str, data: bytes, match: str) -> None:
    with pytest.raises(ModelFileError, match=match) as info:
        open_model(data, name=name)
    assert name in str(info.value) and isinstance(info.value, QuantVizError) and isinstance(info.value, ValueError)


def test_declared_shapes_larger_than_the_data_are_refused() -> None:
    header = json.dumps({"w": {"dtype": "F32", "shape": [99999, 99999], "data_offsets": [0, 16]}}).encode()
    huge = len(header).to_bytes(8, "little") + header + bytes(16)
    with pytest.raises(ModelFileError, match=r"too large|truncated|cannot read"):
        open_model(huge, name="huge.safetensors")
    truncated = safetensors_bytes({"w": ("F32", np.zeros(1000, np.float32))})[:-100]
    with pytest.raises(ModelFileError):
        open_model(truncated, name="cut.safetensors")


EXPECTED_TFLITE = json.loads((FIXTURES / "tflite_details.json").read_text())


@pytest.mark.parametrize("fixture", sorted(EXPECTED_TFLITE))
def test_tflite_tensors_equal_what_the_tflite_interpreter_reports(fixture: str) -> None:
    """Fixtures and expectations come from tests/fixtures/make_tflite.py (TensorFlow's converter and interpreter)."""
    m = open_model(FIXTURES / fixture)
    by_name = {t.name: t for t in m.tensors}
    for d in EXPECTED_TFLITE[fixture]:
        t = by_name[d["name"]]
        # the interpreter reports int4 weights unpacked as int8; the file stores int4
        stored = "int8" if t.dtype == "int4" else t.dtype
        assert (stored, list(t.shape)) == (d["dtype"], d["shape"]), d["name"]
        if "values" in d:  # constant weights: the codes, as the interpreter unpacks them
            assert t.load().reshape(-1).tolist() == d["values"], d["name"]
        if d["scales"]:
            assert t.quantization.scales.tolist() == [float(np.float32(v)) for v in d["scales"]], d["name"]
            assert t.quantization.zero_points.tolist() == d["zero_points"], d["name"]
            assert t.quantization.axis == (d["axis"] if len(d["scales"]) > 1 else None), d["name"]
        else:
            assert t.quantization is None, d["name"]


def test_tflite_weights_load_as_stored_codes() -> None:
    m = open_model(FIXTURES / "full_int8.tflite")
    weights = [t for t in m.tensors if t.dtype == "int8" and t.has_values]
    assert weights and all(t.load().shape == t.shape for t in weights)
    w = weights[0]
    assert w.quantization.axis == 0 and w.quantization.scales.size == w.shape[0]  # per output channel
    assert int(np.abs(w.load()).max()) == 127  # symmetric narrow range: each channel reaches ±127


@pytest.mark.parametrize(
    ("fixture", "kind", "weights"),
    [
        ("full_int8.tflite", "Full-integer", "per channel along axis 0"),
        ("full_int8_uint8_io.tflite", "Full-integer", "per channel along axis 0"),
        ("full_int8_per_tensor.tflite", "Full-integer", "per tensor"),
        ("dynamic_range.tflite", "Dynamic-range", "per channel along axis 0"),
        ("int16x8.tflite", "16x8 quantization (TFLite)", "per channel along axis 0"),
        ("int4_weights.tflite", "Full-integer", "per tensor; int4"),
    ],
)
def test_summary_answers_how_the_model_was_quantized(fixture: str, kind: str, weights: str) -> None:
    from quantviz.models.summary import describe, quantized_rows

    m = open_model(FIXTURES / fixture)
    lines = describe(m)
    assert lines[0].startswith(kind)
    assert any("symmetric (every zero point is 0)" in line and weights in line for line in lines)
    details = {d["name"]: d for d in EXPECTED_TFLITE[fixture]}
    for t in m.tensors:
        if t.role == "input" and details[t.name]["zero_points"]:
            assert f"z = {details[t.name]['zero_points'][0]}" in " ".join(lines)
    rows = {r.name: r for r in quantized_rows(m)}
    if fixture == "full_int8_per_tensor.tflite":
        weight = next(r for r in rows.values() if r.dtype == "int8" and r.codes_used != "—")
        assert "channels differ" in weight.flags  # built with channels 100x apart in range
    if fixture == "full_int8_uint8_io.tflite":
        assert "z = int8 z + 128" in rows["x"].flags
    for r in rows.values():  # stored scales shown with every digit of their float32
        first = r.scales.split(",")[0]
        assert float(first) == float(np.float32(first))


def test_float_tensors_are_measured_worst_first() -> None:
    from quantviz.models.summary import measure_floats

    rng = np.random.default_rng(4)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        calm=rng.normal(size=(8, 128)).astype(np.float32),
        spiky=(rng.normal(size=(8, 128)) * np.where(rng.random((8, 128)) < 0.01, 50, 1)).astype(np.float32),
    )
    rows = measure_floats(open_model(buffer.getvalue(), name="w.npz"))
    assert {r.name for r in rows} == {"spiky", "calm"}
    order = [r.sqnr["int4 symmetric group 32"] for r in rows]
    assert order == sorted(order)  # worst first
    for r in rows:
        assert r.sqnr["int8 symmetric per channel"] >= r.sqnr["int8 symmetric per tensor"] - 1e-9
        assert r.sqnr["int8 symmetric per tensor"] > r.sqnr["int4 symmetric group 128"]
        assert len(r.sqnr) == 19 and set(r.max_error) == set(r.sqnr)  # 16 schemes + 3 framework defaults
        assert r.max_error["int8 affine per tensor"] > 0


def test_command_line_report_writes_the_contract_json(tmp_path) -> None:
    from quantviz.__main__ import main

    out = tmp_path / "r.json"
    assert (
        main(
            [
                "report",
                str(FIXTURES / "full_int8_per_tensor.tflite"),
                "--json",
                str(out),
                "--csv",
                str(tmp_path / "f.csv"),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    expected = {d["name"]: d for d in EXPECTED_TFLITE["full_int8_per_tensor.tflite"]}
    for t in report["tensors"]:
        assert set(t) >= {"name", "dtype", "shape", "quantization"}
        assert t["shape"] == expected[t["name"]]["shape"]
        if t["quantization"] is not None:
            assert t["quantization"]["scales"] == [float(np.float32(v)) for v in expected[t["name"]]["scales"]]
            assert set(t["quantization"]) >= {"scales", "zero_points", "axis"}
    assert main(["report", str(tmp_path / "missing.onnx")]) == 2


def test_onnx_qoperator_inputs_and_output_carry_their_parameters() -> None:
    a_scale, b_scale, y_scale = np.float32(0.02), np.float32(0.005), np.float32(0.1)
    inits = [
        numpy_helper.from_array(np.array(a_scale), "a_scale"),
        numpy_helper.from_array(np.array(3, np.uint8), "a_zero"),
        numpy_helper.from_array(np.arange(12, dtype=np.int8).reshape(4, 3), "B"),
        numpy_helper.from_array(np.array(b_scale), "b_scale"),
        numpy_helper.from_array(np.array(0, np.int8), "b_zero"),
        numpy_helper.from_array(np.array(y_scale), "y_scale"),
        numpy_helper.from_array(np.array(128, np.uint8), "y_zero"),
    ]
    node = helper.make_node(
        "QLinearMatMul", ["A", "a_scale", "a_zero", "B", "b_scale", "b_zero", "y_scale", "y_zero"], ["Y"]
    )
    graph = helper.make_graph(
        [node],
        "qop",
        [helper.make_tensor_value_info("A", TensorProto.UINT8, [1, 4])],
        [helper.make_tensor_value_info("Y", TensorProto.UINT8, [1, 3])],
        inits,
    )
    m = open_model(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString(), name="qop.onnx"
    )
    by_name = {t.name: t for t in m.tensors}
    assert by_name["A"].quantization.zero_points.tolist() == [3] and by_name["A"].role == "input"
    assert by_name["B"].quantization.scales.tolist() == [float(b_scale)] and by_name["B"].load().shape == (4, 3)
    assert by_name["Y"].quantization.scales.tolist() == [float(y_scale)] and by_name["Y"].role == "output"
    assert "a_scale" not in by_name


def test_framework_default_scales_equal_what_the_frameworks_write() -> None:
    """TFLite: the fixture's per-channel weight scales (TensorFlow's converter); ONNX Runtime: its compute_scale_zp."""
    from quantviz.models.summary import framework_scales

    rng = np.random.default_rng(0)  # the weights tests/fixtures/make_tflite.py converted
    w = (rng.normal(size=(4, 3)) * np.array([0.1, 1.0, 10.0])).astype(np.float32)
    weight = next(d for d in EXPECTED_TFLITE["full_int8.tflite"] if d["dtype"] == "int8" and len(d["scales"]) > 1)
    assert framework_scales(w.T, "tflite", "channel").tolist() == [float(np.float32(v)) for v in weight["scales"]]
    ort = pytest.importorskip("onnxruntime.quantization.quant_utils")
    qmin, qmax = ort.get_qmin_qmax_for_qType(onnx.TensorProto.INT8, symmetric=True)
    a = np.float32(np.abs(w).max())
    _, ref_scale = ort.compute_scale_zp(np.array(-a, np.float32), np.array(a, np.float32), qmin, qmax, symmetric=True)
    assert framework_scales(w.T, "onnxruntime", "tensor").tolist() == [float(np.float32(ref_scale))]


def test_onnx_runtime_quantized_model_reads_as_onnx_runtime_wrote_it(tmp_path) -> None:
    """A float model quantized by onnxruntime.quantization.quantize_static (QDQ, defaults): every tensor it
    dequantizes is found with its parameters, and the weight's scale is the one Your model says ONNX Runtime chooses."""
    quantization = pytest.importorskip("onnxruntime.quantization")
    from quantviz.models.summary import framework_scales

    rng = np.random.default_rng(5)
    w = (rng.normal(size=(8, 6)) * 0.7).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "float",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])],
        [numpy_helper.from_array(w, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    onnx.save(model, tmp_path / "float.onnx")

    class Reader(quantization.CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter([{"x": rng.normal(size=(1, 8)).astype(np.float32)} for _ in range(8)])

        def get_next(self):
            return next(self.batches, None)

    quantization.quantize_static(
        str(tmp_path / "float.onnx"), str(tmp_path / "q.onnx"), Reader(), quant_format=quantization.QuantFormat.QDQ
    )
    m = open_model(tmp_path / "q.onnx")
    written = onnx.load(str(tmp_path / "q.onnx"))
    inits = {t.name: numpy_helper.to_array(t) for t in written.graph.initializer}
    dequantized = [n for n in written.graph.node if n.op_type == "DequantizeLinear"]
    by_name = {t.name: t for t in m.tensors}
    for node in dequantized:
        t = by_name[node.input[0]]
        assert t.quantization.scales.tolist() == np.asarray(inits[node.input[1]], np.float64).reshape(-1).tolist()
    weight = next(t for t in m.tensors if t.has_values and t.quantization is not None and t.dtype == "int8")
    assert weight.quantization.scales.tolist() == framework_scales(w, "onnxruntime", "tensor").tolist()


def test_float_onnx_and_gguf_summaries(tmp_path) -> None:
    from quantviz.models.summary import describe, measure_floats

    w = np.random.default_rng(6).normal(size=(8, 32)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "f",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 32])],
        [numpy_helper.from_array(w, "W")],
    )
    m = open_model(helper.make_model(graph).SerializeToString(), name="float.onnx")
    assert describe(m)[0].startswith("No tensor carries quantization parameters: a float model")
    assert [r.name for r in measure_floats(m)] == ["W"]
    gguf = pytest.importorskip("gguf")
    writer = gguf.GGUFWriter(str(tmp_path / "b.gguf"), "llama")
    writer.add_tensor(
        "q",
        gguf.quants.quantize(np.tile(w, (1, 2)), gguf.GGMLQuantizationType.Q8_0),
        raw_dtype=gguf.GGMLQuantizationType.Q8_0,
    )
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    assert "block-quantized weights (Q8_0)" in describe(open_model(tmp_path / "b.gguf"))[0]
