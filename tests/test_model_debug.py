"""Run it: debug_model compares a float ONNX model with its quantized version tensor by tensor; on a QDQ model its
figures equal onnxruntime.quantization.qdq_loss_debug's on the same inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quantviz.errors import ModelFileError
from quantviz.models import debug as debug_module
from quantviz.models import open_model
from quantviz.models.debug import debug_model, debug_run, sample_inputs, worst_first

pytest.importorskip("onnxruntime")
FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parents[1] / "quantviz" / "models" / "examples"  # made by tests/fixtures/make_onnx.py
FLOAT = open_model(EXAMPLES / "onnx_float.onnx")
SAVED = np.load(EXAMPLES / "onnx_inputs.npz")
INPUTS = [{"x": SAVED[k]} for k in SAVED.files]


def qdq_loss_debug_figures(tmp_path: Path) -> dict[str, float]:
    """onnxruntime's own debugging flow: augment both models, collect activations, match, compute SQNR."""
    from onnxruntime.quantization import qdq_loss_debug as q

    class Reader(q.CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter([dict(b) for b in INPUTS])

        def get_next(self):
            return next(self.batches, None)

    q.modify_model_output_intermediate_tensors(str(EXAMPLES / "onnx_float.onnx"), str(tmp_path / "float_aug.onnx"))
    q.modify_model_output_intermediate_tensors(str(EXAMPLES / "onnx_qdq.onnx"), str(tmp_path / "qdq_aug.onnx"))
    floats = q.collect_activations(str(tmp_path / "float_aug.onnx"), Reader())
    quantized = q.collect_activations(str(tmp_path / "qdq_aug.onnx"), Reader())
    matched = q.create_activation_matching(quantized, floats)
    return {
        name: errors["xmodel_err"]
        for name, errors in q.compute_activation_error(matched).items()
        if "xmodel_err" in errors
    }


def test_sqnr_equals_onnxruntime_qdq_loss_debug(tmp_path: Path) -> None:
    theirs = qdq_loss_debug_figures(tmp_path)
    rows = {r.name: r for r in debug_model(FLOAT, open_model(EXAMPLES / "onnx_qdq.onnx"), INPUTS)}
    assert len(theirs) >= 5 and set(theirs) <= set(rows)
    for name, figure in theirs.items():
        assert rows[name].sqnr_db == figure, name


def test_rows_follow_the_graph_and_chain_to_the_tensor_before() -> None:
    rows = debug_model(FLOAT, open_model(EXAMPLES / "onnx_qdq.onnx"), INPUTS)
    import onnx

    order = [out for node in onnx.load(str(EXAMPLES / "onnx_float.onnx")).graph.node for out in node.output]
    names = [r.name for r in rows if r.name in order]
    assert names == [n for n in order if n in names] and rows[-1].name == "y"
    by_name = {r.name: r for r in rows}
    for r in rows:
        if r.previous:
            assert r.added_db == pytest.approx(by_name[r.previous].sqnr_db - r.sqnr_db)
        assert r.max_abs_error > 0
    assert worst_first(rows)[0].name == "y"
    assert [r.sqnr_db for r in worst_first(rows)[1:]] == sorted(r.sqnr_db for r in rows[:-1])


def test_max_abs_error_is_the_largest_difference_on_any_input() -> None:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # the debug run's setting

    def session(name: str):
        return ort.InferenceSession(str(EXAMPLES / name), sess_options=options, providers=["CPUExecutionProvider"])

    quantized, reference = session("onnx_dynamic.onnx"), session("onnx_float.onnx")
    worst = max(
        float(np.abs(quantized.run(None, b)[0].astype(np.float64) - reference.run(None, b)[0]).max()) for b in INPUTS
    )
    y = {r.name: r for r in debug_model(FLOAT, open_model(EXAMPLES / "onnx_dynamic.onnx"), INPUTS)}["y"]
    assert y.max_abs_error == worst


def test_qoperator_fused_relu_is_compared_with_the_relu_output() -> None:
    rows = {r.name: r for r in debug_model(FLOAT, open_model(EXAMPLES / "onnx_qoperator.onnx"), INPUTS)}
    assert rows["relu1_out"].quantized_name == "conv_out_quantized" and "conv_out" not in rows
    assert rows["relu1_out"].sqnr_db > 25  # against Conv's pre-Relu output it would be a few dB


def test_matmulnbits_model_runs_against_its_float_original() -> None:
    llm = open_model(EXAMPLES / "onnx_llm_float.onnx")
    inputs = sample_inputs(llm, 4, seed=3)
    assert all(b["ids"].min() >= 0 and b["ids"].max() < 64 for b in inputs)  # below the embedding's 64 rows
    run = debug_run(llm, open_model(EXAMPLES / "onnx_nbits.onnx"), inputs)
    assert [r.name for r in run.rows] == ["hidden", "logits"] and run.batches == 4 and run.seconds > 0
    assert all(10 < r.sqnr_db < 40 for r in run.rows)  # 4-bit weights: a real, finite loss


def test_sample_inputs_are_reproducible() -> None:
    a, b = sample_inputs(FLOAT, 2, seed=7), sample_inputs(FLOAT, 2, seed=7)
    assert all(np.array_equal(x["x"], y["x"]) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0]["x"], sample_inputs(FLOAT, 1, seed=8)[0]["x"])
    with pytest.raises(ValueError, match="count"):
        sample_inputs(FLOAT, 0, seed=0)


def test_caps_on_inputs_and_time(monkeypatch) -> None:
    quantized = open_model(EXAMPLES / "onnx_qdq.onnx")
    with pytest.raises(ModelFileError, match="at most 64"):
        debug_model(FLOAT, quantized, INPUTS * 20)
    with pytest.raises(ModelFileError, match="MiB"):
        debug_model(FLOAT, quantized, [{"x": np.zeros((1, 3, 2048, 2048), np.float32)}] * 3)
    with pytest.raises(ModelFileError, match="lack x"):
        debug_model(FLOAT, quantized, [{"y": SAVED["x_0"]}])
    with pytest.raises(ModelFileError, match="at least one input"):
        debug_model(FLOAT, quantized, [])
    monkeypatch.setattr(debug_module, "MAX_SECONDS", 0.0)
    with pytest.raises(ModelFileError, match="stopped"):
        debug_model(FLOAT, quantized, INPUTS)


def test_only_two_onnx_or_two_tflite_models_run() -> None:
    tflite = open_model(FIXTURES / "full_int8.tflite")
    with pytest.raises(ModelFileError, match="two ONNX models or two TFLite models"):
        debug_model(FLOAT, tflite, [{"x": np.zeros((1, 4), np.float32)}])
    gguf = open_model(EXAMPLES / "gguf_q4_0.gguf")
    with pytest.raises(ModelFileError, match=r"gguf_q4_0\.gguf \(gguf\)"):
        debug_model(gguf, gguf, [{"x": np.zeros((1, 4), np.float32)}])


def test_clipped_activations_are_counted_at_the_grid_ends_but_not_at_the_zero_point() -> None:
    quantized = open_model(EXAMPLES / "onnx_qdq.onnx")
    loud = [{"x": (b["x"] * 6).astype(np.float32)} for b in INPUTS]  # six times the calibration's range
    rows = {r.name: r for r in debug_model(FLOAT, quantized, loud)}
    q = {t.name: t for t in quantized.tensors}["x_QuantizeLinear_Output"].quantization
    s, z = np.float32(q.scales[0]), int(q.zero_points[0])
    codes = np.concatenate([np.clip(np.rint(b["x"] / s) + z, -128, 127).reshape(-1) for b in loud])
    expected = np.mean((codes == -128) | (codes == 127))
    assert rows["x"].clipped == pytest.approx(expected, abs=3 / codes.size) and rows["x"].clipped > 0.3
    calm = {r.name: r for r in debug_model(FLOAT, quantized, INPUTS)}
    assert calm["x"].clipped < 0.01 < rows["x"].clipped
    # relu1_out has z = -128: its many zeros sit on code -128, which is real 0, not clipping
    assert calm["relu1_out"].clipped < 0.01
    assert {r.name: r for r in debug_model(FLOAT, open_model(EXAMPLES / "onnx_dynamic.onnx"), INPUTS)}[
        "y"
    ].clipped is None


def test_a_float_model_recovered_from_the_qdq_model_isolates_activation_rounding() -> None:
    import onnx
    from onnx import numpy_helper

    from quantviz.models.debug import _run
    from quantviz.models.recover import recover_float

    quantized = open_model(EXAMPLES / "onnx_qdq.onnx")
    recovered = recover_float(quantized)
    proto = onnx.load_model_from_string(bytes(recovered.raw))
    assert recovered.file_type == "onnx-float"
    assert not {n.op_type for n in proto.graph.node} & {"QuantizeLinear", "DequantizeLinear"}
    ran, _ = _run(quantized, INPUTS[:1], float("inf"))  # onnxruntime's own DequantizeLinear of each weight
    inits = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    for name in ("conv.weight_DequantizeLinear_Output", "fc1.weight_DequantizeLinear_Output", "conv.bias"):
        assert np.array_equal(inits[name], ran[name][0]), name
    own = {r.name: r for r in debug_model(recovered, quantized, INPUTS)}
    against_float = {r.name: r for r in debug_model(FLOAT, quantized, INPUTS)}
    assert own["y"].sqnr_db > against_float["y"].sqnr_db  # the weights' error is gone: only activation rounding
    assert own["relu1_out"].sqnr_db > 30  # the Relu folded into the clamp is kept
    with pytest.raises(ModelFileError, match="only from an ONNX QDQ"):
        recover_float(open_model(EXAMPLES / "onnx_dynamic.onnx"))


def test_custom_operators_are_never_loaded_and_say_so() -> None:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Evil", ["x"], ["y"], domain="my.custom.ops")],
        "custom",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("my.custom.ops", 1)]
    )
    custom = open_model(model.SerializeToString(), name="custom.onnx")
    with pytest.raises(ModelFileError, match=r"custom\.onnx: onnxruntime cannot load it"):
        debug_model(FLOAT, custom, INPUTS[:1])


def test_onnx_rows_say_how_they_were_matched() -> None:
    rows = {r.name: r for r in debug_model(FLOAT, open_model(EXAMPLES / "onnx_qdq.onnx"), INPUTS)}
    assert rows["x"].matched == "name: x_DequantizeLinear_Output"
    fused = {r.name: r for r in debug_model(FLOAT, open_model(EXAMPLES / "onnx_qoperator.onnx"), INPUTS)}
    assert fused["relu1_out"].matched.endswith("(holds relu1_out: Relu fused)")
    assert all(r.matched.startswith("name: ") for r in fused.values())
