"""The TFLite debug run against TensorFlow's own interpreter (run with `make oracles`).

TensorFlow recomputes, from the committed pair and inputs, the per-tensor SQNR and max |error| of every tensor the
int8 graph keeps by name (tests/fixtures/make_tflite_pair.py): they must equal the committed light copy that
`make test` checks QuantViz against, the converter must still make the committed int8 file byte for byte, and,
where LiteRT is installed beside TensorFlow, QuantViz's own rows must agree with TensorFlow's figures.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")
FIXTURES = Path(__file__).parents[1] / "fixtures"
spec = importlib.util.spec_from_file_location("make_tflite_pair", FIXTURES / "make_tflite_pair.py")
make_pair = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_pair)
COMMITTED = json.loads((FIXTURES / "tflite_pair_expected.json").read_text())


def test_tensorflow_figures_equal_the_committed_light_copy() -> None:
    float_model, int8_model, inputs = make_pair.committed()
    figures = make_pair.expected(float_model, int8_model, inputs)
    assert figures["tensors"] == COMMITTED["tensors"]


def test_the_converter_still_makes_the_committed_int8_model() -> None:
    float_model, int8_model, _ = make_pair.committed()
    assert make_pair.converter().convert() == float_model
    assert make_pair.quantized_converter().convert() == int8_model


def test_quantviz_rows_agree_with_tensorflow() -> None:
    pytest.importorskip("ai_edge_litert")
    from quantviz.models import open_model
    from quantviz.models.debug import debug_run

    float_model, int8_model, inputs = make_pair.committed()
    figures = make_pair.expected(float_model, int8_model, inputs)["tensors"]
    rows = {
        r.name: r
        for r in debug_run(
            open_model(float_model, name="f.tflite"),
            open_model(int8_model, name="q.tflite"),
            [{"x": x} for x in inputs],
        ).rows
    }
    for name, figure in figures.items():
        assert rows[name].sqnr_db == pytest.approx(figure["sqnr_db"], abs=1e-4), name
