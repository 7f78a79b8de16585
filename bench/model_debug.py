"""A debug run (quantviz.models.debug_run) of a 10 MB float ONNX model against its QDQ version on 8 inputs.

    PYTHONPATH=. .venv/bin/python -m bench.model_debug     # builds both models in a temporary folder

Target (issue 23): at most 10 s on this 2-core machine. The baseline, measured in the same run, is onnxruntime
running the float model alone on the same 8 inputs (no tensor added as an output, default optimisations), so the
ratio says what comparing every tensor costs over one plain inference pass.
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

WIDTHS = [1024, 1024, 1024, 512, 512, 256, 10]  # 2.5 million float32 weights: 10 MB
BATCH = 16


def float_model():
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, inits, current = [], [], "x"
    for i, (a, b) in enumerate(itertools.pairwise(WIDTHS)):
        inits.append(numpy_helper.from_array((rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32), f"w{i}"))
        nodes.append(helper.make_node("MatMul", [current, f"w{i}"], [f"mm{i}"]))
        current = f"mm{i}"
        if i < len(WIDTHS) - 2:
            nodes.append(helper.make_node("Relu", [current], [f"relu{i}"]))
            current = f"relu{i}"
    nodes.append(helper.make_node("Identity", [current], ["y"]))
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [BATCH, WIDTHS[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [BATCH, WIDTHS[-1]])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    return model


def run(repeat: int = 3) -> list[dict]:
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static

    from quantviz.models import open_model
    from quantviz.models.debug import debug_run, sample_inputs

    with tempfile.TemporaryDirectory() as tmp:
        float_path, qdq_path = Path(tmp) / "float.onnx", Path(tmp) / "qdq.onnx"
        onnx.save(float_model(), float_path)
        original = open_model(float_path)
        inputs = sample_inputs(original, 8, seed=0)

        class Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self.batches = iter(inputs)

            def get_next(self):
                return next(self.batches, None)

        quantize_static(str(float_path), str(qdq_path), Reader(), quant_format=QuantFormat.QDQ)
        quantized = open_model(qdq_path)
        session = ort.InferenceSession(str(float_path), providers=["CPUExecutionProvider"])
        base, times, rows = [], [], 0
        for _ in range(repeat):
            start = time.perf_counter()
            for batch in inputs:
                session.run(None, batch)
            base.append(time.perf_counter() - start)
            result = debug_run(original, quantized, inputs)
            times.append(result.seconds)
            rows = len(result.rows)
        size = float_path.stat().st_size / 1e6
    b = statistics.median(base)
    return [
        {
            "float model (MB)": round(size, 1),
            "inputs": 8,
            "shared tensors": rows,
            "debug run (s)": [round(t, 2) for t in times],
            "plain float run (s)": [round(t, 3) for t in base],
            "× plain run": round(statistics.median(times) / b, 1),
            "target (s)": 10,
        }
    ]


if __name__ == "__main__":
    from bench.report import table

    print(table(run()))
