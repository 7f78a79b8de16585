"""The TFLite reader against TensorFlow's own interpreter on freshly converted models (run with `make oracles`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from quantviz.models import open_model

pytest.importorskip("tensorflow")
spec = importlib.util.spec_from_file_location("make_tflite", Path(__file__).parents[1] / "fixtures" / "make_tflite.py")
make_tflite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_tflite)


@pytest.mark.parametrize(
    "kind", ["full_int8", "full_int8_uint8_io", "full_int8_per_tensor", "dynamic_range", "int16x8", "int4_weights"]
)
def test_reader_equals_interpreter(kind: str) -> None:
    model = make_tflite.build(kind)
    ours = {t.name: t for t in open_model(model, name=f"{kind}.tflite").tensors}
    for d in make_tflite.details(model):
        t = ours[d["name"]]
        assert list(t.shape) == d["shape"]
        if d["scales"]:
            assert t.quantization.scales.tolist() == [float(np.float32(v)) for v in d["scales"]]
            assert t.quantization.zero_points.tolist() == d["zero_points"]
        if "values" in d:
            assert t.load().reshape(-1).tolist() == d["values"]
