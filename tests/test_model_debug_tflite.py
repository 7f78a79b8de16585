"""Run it on TFLite: debug_model runs a float .tflite and its int8 version on LiteRT; its rows equal a direct
computation from LiteRT's preserved tensors, and TensorFlow's own interpreter's figures (committed by
tests/fixtures/make_tflite_pair.py); renamed tensors are matched by operator position; hostile files are refused."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from quantviz.errors import ModelFileError
from quantviz.models import open_model
from quantviz.models.debug import debug_run, inputs_from_file, sample_inputs

pytest.importorskip("ai_edge_litert")
EXAMPLES = Path(__file__).parents[1] / "quantviz" / "models" / "examples"
FIXTURES = Path(__file__).parent / "fixtures"
FLOAT = open_model(EXAMPLES / "tflite_cnn_float.tflite")
INT8 = open_model(EXAMPLES / "tflite_cnn_int8.tflite")
INPUTS = [{"x": x} for x in np.load(EXAMPLES / "tflite_cnn_inputs.npz")["x"]]
EXPECTED = json.loads((FIXTURES / "tflite_pair_expected.json").read_text())


def litert_tensors(path: Path) -> dict[str, list[np.ndarray]]:
    """Every tensor LiteRT computes on INPUTS, by name, dequantized here from the interpreter's own details."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(
        model_path=str(path),
        experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interp.allocate_tensors()
    out: dict[str, list[np.ndarray]] = {}
    for batch in INPUTS:
        interp.set_tensor(interp.get_input_details()[0]["index"], batch["x"])
        interp.invoke()
        for d in interp.get_tensor_details():
            value = interp.get_tensor(d["index"]).astype(np.float64)
            q = d["quantization_parameters"]
            if q["scales"].size == 1:
                value = ((value - q["zero_points"][0]) * np.float32(q["scales"][0])).astype(np.float32)
            out.setdefault(d["name"], []).append(value)
    return out


def direct_sqnr(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    x = np.concatenate([v.reshape(-1) for v in a]).astype(np.float32)
    y = np.concatenate([v.reshape(-1) for v in b]).astype(np.float32)
    eps = np.finfo(float).eps
    return 20 * math.log10(max(np.linalg.norm(x), eps) / max(np.linalg.norm(x - y), eps))


def test_rows_equal_a_direct_computation_from_litert_tensors() -> None:
    run = debug_run(FLOAT, INT8, INPUTS)
    floats, quants = (
        litert_tensors(EXAMPLES / "tflite_cnn_float.tflite"),
        litert_tensors(EXAMPLES / "tflite_cnn_int8.tflite"),
    )
    assert run.runtime == "LiteRT 2.3.0" and run.batches == 4
    assert [r.name for r in run.rows][:2] == ["x", "Relu;add;Conv2D;add/y1"] and run.rows[-1].name == "Identity"
    for row in run.rows:
        mine = direct_sqnr(floats[row.name], quants[row.quantized_name])
        assert row.sqnr_db == mine, row.name
        worst = max(
            np.max(np.abs(a.astype(np.float64) - b))
            for a, b in zip(floats[row.name], quants[row.quantized_name], strict=True)
        )
        assert row.max_abs_error == pytest.approx(worst, rel=1e-12, abs=0), row.name


def test_rows_match_tensorflow_interpreter_figures() -> None:
    """TensorFlow 2.21's interpreter and LiteRT 2.3 run the same int8 kernels bit for bit; their float kernels differ in
    the last bit of some values (≤ 4e-7 here), so the SQNR agrees to 1e-4 dB, not exactly."""
    rows = {r.name: r for r in debug_run(FLOAT, INT8, INPUTS).rows}
    assert len(EXPECTED["tensors"]) == 5 and set(EXPECTED["tensors"]) <= set(rows)
    for name, figures in EXPECTED["tensors"].items():
        assert rows[name].sqnr_db == pytest.approx(figures["sqnr_db"], abs=1e-4), name
        assert rows[name].max_abs_error == pytest.approx(figures["max_abs_error"], abs=1e-6), name


def test_each_row_says_how_it_was_matched_and_chains_to_the_tensor_before() -> None:
    rows = debug_run(FLOAT, INT8, INPUTS).rows
    first = rows[0]
    assert first.name == "x" and first.quantized_name == "tfl.quantize" and first.matched.startswith("input:")
    assert first.clipped is not None and first.added_db is None
    assert all(r.matched == f"name: {r.name}" for r in rows[1:])
    for before, row in itertools.pairwise(rows):
        assert row.previous == before.name
        assert row.added_db == before.sqnr_db - row.sqnr_db
    losses = {r.name: r.added_db for r in rows[1:]}
    assert max(losses, key=losses.get) == "MatMul;Relu_2;add_2"  # fc1, whose channels are 100× apart, loses most
    assert rows[-1].clipped is None  # the graph's float output: no codes


def renamed(data: bytes, old: bytes, new: bytes) -> bytes:
    assert len(old) == len(new) and data.count(old) == 1
    return data.replace(old, new)


def test_renamed_tensors_are_matched_by_operator_position() -> None:
    data = (EXAMPLES / "tflite_cnn_int8.tflite").read_bytes()
    data = renamed(data, b"MatMul;Relu_2;add_2\x00", b"quantized_fc1_out_2\x00")
    other = open_model(data, name="renamed.tflite")
    rows = {r.name: r for r in debug_run(FLOAT, other, INPUTS).rows}
    same = {r.name: r for r in debug_run(FLOAT, INT8, INPUTS).rows}
    row = rows["MatMul;Relu_2;add_2"]
    assert row.quantized_name == "quantized_fc1_out_2"
    assert row.matched == "position: operator 3 (FULLY_CONNECTED), output 0"
    assert row.sqnr_db == same["MatMul;Relu_2;add_2"].sqnr_db


def test_an_int8_input_is_fed_quantized_with_its_own_parameters() -> None:
    from quantviz.models.tflite_run import _feed

    detail = {
        "name": "x",
        "dtype": np.int8,
        "shape": np.array([1, 3]),
        "quantization_parameters": {"scales": np.array([0.5], np.float32), "zero_points": np.array([-3])},
    }
    codes = _feed(detail, np.array([[0.0, 1.2, 500.0]], np.float32), INT8)
    assert codes.tolist() == [[-3, -1, 127]] and codes.dtype == np.int8
    with pytest.raises(ModelFileError, match=r"input 'x' takes shape \(1, 3\)"):
        _feed(detail, np.zeros((2, 3), np.float32), INT8)


def test_sample_inputs_and_uploaded_inputs_for_tflite() -> None:
    import io

    inputs = sample_inputs(FLOAT, 3, 7)
    assert [(k, v.shape, v.dtype.name) for k, v in inputs[0].items()] == [("x", (1, 8, 8, 3), "float32")]
    assert not np.array_equal(inputs[0]["x"], inputs[1]["x"])
    buffer = io.BytesIO()
    np.save(buffer, np.stack([b["x"] for b in INPUTS]))
    read = inputs_from_file(FLOAT, "mine.npy", buffer.getvalue())
    assert len(read) == 4 and all(np.array_equal(a["x"], b["x"]) for a, b in zip(read, INPUTS, strict=True))


def custom_op_model() -> bytes:
    """The float example with its RESHAPE's operator code turned into a custom operator (builtin code 32)."""
    import tflite

    data = bytearray((EXAMPLES / "tflite_cnn_float.tflite").read_bytes())
    root = tflite.Model.GetRootAsModel(bytes(data), 0)
    for i in range(root.OperatorCodesLength()):
        code = root.OperatorCodes(i)
        if code.BuiltinCode() == tflite.BuiltinOperator.RESHAPE:
            table = code._tab
            for slot in (4, 10):  # deprecated_builtin_code (int8), builtin_code (int32)
                offset = table.Offset(slot)
                if offset:
                    position = table.Pos + offset
                    width = 1 if slot == 4 else 4
                    data[position : position + width] = (32).to_bytes(width, "little")
    return bytes(data)


def test_a_custom_operator_is_refused_in_words_before_loading() -> None:
    evil = open_model(custom_op_model(), name="evil.tflite")
    with pytest.raises(ModelFileError, match=r"evil\.tflite: uses the custom operator\(s\) .*never loaded"):
        debug_run(FLOAT, evil, INPUTS[:1])


def test_a_truncated_tflite_is_refused_in_words() -> None:
    data = (EXAMPLES / "tflite_cnn_int8.tflite").read_bytes()
    with pytest.raises(ModelFileError, match=r"cut\.tflite: the TFLite flatbuffer is broken or truncated"):
        debug_run(FLOAT, open_model(data[: len(data) // 3], name="cut.tflite"), INPUTS[:1])


def test_the_time_limit_stops_a_tflite_run(monkeypatch) -> None:
    from quantviz.models import debug

    monkeypatch.setattr(debug, "MAX_SECONDS", 0.0)
    with pytest.raises(ModelFileError, match="stopped"):
        debug_run(FLOAT, INT8, INPUTS)


def test_the_page_runs_the_tflite_pair_and_says_on_what() -> None:
    from quantviz.teach.model_run import debug_verdict
    from tests.apptest_helpers import open_page

    at = open_page("your_model.py", {"model_src": "tflite_cnn"})
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    text = " ".join(m.value.replace("\\", "") for m in at.markdown)
    for line in debug_verdict(debug_run(FLOAT, INT8, sample_inputs(FLOAT, 4, 0)).rows):
        assert line in text
    captions = " ".join(c.value.replace("\\", "") for c in at.caption)
    assert "Ran tflite_cnn_float.tflite and tflite_cnn_int8.tflite with LiteRT 2.3.0 on 4 inputs" in captions
    table = at.dataframe[-1].value
    assert table["tensor"].iloc[0] == "Identity" and table["matched"].iloc[0] == "name: Identity"
    assert "input: graph input 0, after QUANTIZE" in set(table["matched"])
