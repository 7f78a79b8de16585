"""A debug run (quantviz.models.debug_run) of a 10 MB float model against its quantized version on 8 inputs.

    PYTHONPATH=. nice .venv/bin/python -m bench.model_debug     # builds the models in a temporary folder
    QUANTVIZ_TF_PYTHON=/work/main/.venv-oracles/bin/python PYTHONPATH=. nice .venv/bin/python -m bench.model_debug

ONNX: the MLP and its QDQ version (onnxruntime's quantize_static). TFLite: the same weights converted by TensorFlow
(``bench/tflite_mlp.py``, run with ``QUANTVIZ_TF_PYTHON``, default ``.venv-oracles/bin/python``; the row is left out
where that Python does not exist), float and full-integer int8, run on LiteRT.

Target (issue 23): at most 10 s on this 2-core machine. The baseline, measured in the same run, is onnxruntime
running the float model alone on the same 8 inputs (no tensor added as an output, default optimisations), so the
ratio says what comparing every tensor costs over one plain inference pass (LiteRT: the float model on LiteRT's
default kernels). Each row gives the machine's load average: the machine is shared.
"""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
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


def _onnx_row(tmp: Path, repeat: int) -> dict:
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static

    from quantviz.models import open_model
    from quantviz.models.debug import debug_run, sample_inputs

    float_path, qdq_path = tmp / "float.onnx", tmp / "qdq.onnx"
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
    return _row("ONNX (onnxruntime), QDQ", float_path.stat().st_size, rows, times, base)


def _row(label: str, size: int, rows: int, times: list[float], base: list[float]) -> dict:
    return {
        "pair": label,
        "float model (MB)": round(size / 1e6, 1),
        "inputs": 8,
        "shared tensors": rows,
        "debug run (s)": [round(t, 2) for t in times],
        "plain float run (s)": [round(t, 3) for t in base],
        "× plain run": round(statistics.median(times) / statistics.median(base), 1),
        "target (s)": 10,
        "load average": round(os.getloadavg()[0], 1),
    }


def _tflite_row(tmp: Path, repeat: int) -> dict | None:
    """The same MLP converted by TensorFlow (in the oracle venv, ``QUANTVIZ_TF_PYTHON``) and run on LiteRT."""
    from ai_edge_litert.interpreter import Interpreter

    from quantviz.models import open_model
    from quantviz.models.debug import debug_run

    python = os.environ.get("QUANTVIZ_TF_PYTHON", ".venv-oracles/bin/python")
    if not Path(python).exists():
        return None
    from onnx import numpy_helper

    weights = {t.name: numpy_helper.to_array(t) for t in float_model().graph.initializer}
    inputs = [np.random.default_rng(i).standard_normal((BATCH, WIDTHS[0])).astype(np.float32) for i in range(8)]
    np.savez(tmp / "mlp.npz", x=np.stack(inputs), **weights)
    subprocess.run([python, "-m", "bench.tflite_mlp", str(tmp / "mlp.npz"), str(tmp)], check=True, capture_output=True)
    original, quantized = open_model(tmp / "float.tflite"), open_model(tmp / "int8.tflite")
    interp = Interpreter(model_path=str(tmp / "float.tflite"), num_threads=1)
    interp.allocate_tensors()
    index = interp.get_input_details()[0]["index"]
    base, times, rows = [], [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        for x in inputs:
            interp.set_tensor(index, x)
            interp.invoke()
        base.append(time.perf_counter() - start)
        result = debug_run(original, quantized, [{"x": x} for x in inputs])
        times.append(result.seconds)
        rows = len(result.rows)
    return _row(f"TFLite ({result.runtime}), int8", (tmp / "float.tflite").stat().st_size, rows, times, base)


def run(repeat: int = 3) -> list[dict]:
    """The ONNX pair, and the TFLite pair where TensorFlow is at hand to convert the MLP."""
    with tempfile.TemporaryDirectory() as tmp:
        rows = [_onnx_row(Path(tmp), repeat)]
        tflite = _tflite_row(Path(tmp), repeat)
    return rows + ([tflite] if tflite else [])


if __name__ == "__main__":
    from bench.report import table

    print(table(run()))
