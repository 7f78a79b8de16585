"""Kernel speed: quantize + dequantize of 10 million float32 values, against onnxruntime and naive numpy.

Ratios are measured in the same run (these machines are noisy); each timing is the best of `repeat`.
"""

from __future__ import annotations

import time

import numpy as np

import quantviz as qv

N = 10_000_000


def _best(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _onnxruntime_qdq():
    import onnxruntime as ort
    from onnx import TensorProto, helper

    def session(op: str, x_type: int, y_type: int):
        node = helper.make_node(op, ["x", "s", "z"], ["y"])
        graph = helper.make_graph(
            [node],
            op,
            [
                helper.make_tensor_value_info("x", x_type, [None]),
                helper.make_tensor_value_info("s", TensorProto.FLOAT, []),
                helper.make_tensor_value_info("z", TensorProto.UINT8, []),
            ],
            [helper.make_tensor_value_info("y", y_type, [None])],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
        model.ir_version = 10
        return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])

    return session("QuantizeLinear", TensorProto.FLOAT, TensorProto.UINT8), session(
        "DequantizeLinear", TensorProto.UINT8, TensorProto.FLOAT
    )


def run() -> dict[str, float]:
    """Return timings (ms) and ratios for 10M values with the onnxruntime convention, uint8, range [-1000, 1000]."""
    x = (np.random.default_rng(0).normal(size=N) * 400).astype(np.float32)
    qp = qv.choose_qparams(-1000, 1000, convention="onnxruntime")
    s, z = np.array(qp.scale, np.float32), np.array(qp.zero_point, np.uint8)
    quant, dequant = _onnxruntime_qdq()

    def ort_qdq():
        (q,) = quant.run(None, {"x": x, "s": s, "z": z})
        return dequant.run(None, {"x": q, "s": s, "z": z})[0]

    def ours_separate():
        return qv.dequantize(qv.quantize(x, qp, convention="onnxruntime"), qp, convention="onnxruntime")

    def ours_fused():
        return qv.fake_quantize(x, qp, convention="onnxruntime")

    def naive():
        q = np.clip(np.round(x / qp.scale) + qp.zero_point, 0, 255).astype(np.int64)
        return ((q - qp.zero_point) * qp.scale).astype(np.float32)

    # correctness unchanged: identical to onnxruntime, bit for bit
    reference = ort_qdq()
    assert np.array_equal(ours_separate(), reference) and np.array_equal(ours_fused(), reference)
    t = {
        name: _best(fn) * 1000
        for name, fn in (
            ("onnxruntime Q+DQ", ort_qdq),
            ("quantviz quantize+dequantize (int64 codes)", ours_separate),
            ("quantviz fake_quantize (fused)", ours_fused),
            ("naive numpy", naive),
        )
    }
    base = t["onnxruntime Q+DQ"]
    return {
        **{f"{k} (ms)": round(v, 1) for k, v in t.items()},
        **{f"{k} / onnxruntime": round(v / base, 2) for k, v in t.items() if k != "onnxruntime Q+DQ"},
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key}: {value}")
