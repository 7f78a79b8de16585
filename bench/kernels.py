"""Kernel speed: quantize + dequantize of 10 million float32 values, against onnxruntime and naive numpy.

Ratios are measured in the same run (these machines are noisy): the contenders are timed in turn, round after
round, and each ratio divides timings taken moments apart; the rows give the median and the range over the rounds.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import numpy as np

import quantviz as qv
from bench.report import table, timings

N = 10_000_000
ROUNDS = 7


def _spread(values: list[float]) -> str:
    """Median and range of repeated measurements, as "median (min–max)"."""
    v = sorted(values)
    return f"{statistics.median(v):.2f} ({v[0]:.2f}–{v[-1]:.2f})"


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


def _contenders(x: np.ndarray, qp: qv.QParams) -> dict[str, Callable[[], np.ndarray]]:
    """The ways to quantize and dequantize ``x`` that are timed, onnxruntime's first (the baseline)."""
    s, z = np.array(qp.scale, np.float32), np.array(qp.zero_point, np.uint8)
    quant, dequant = _onnxruntime_qdq()

    def ort_qdq() -> np.ndarray:
        (q,) = quant.run(None, {"x": x, "s": s, "z": z})
        return dequant.run(None, {"x": q, "s": s, "z": z})[0]

    def ours_separate() -> np.ndarray:
        return qv.dequantize(qv.quantize(x, qp, convention="onnxruntime"), qp, convention="onnxruntime")

    def ours_fused() -> np.ndarray:
        return qv.fake_quantize(x, qp, convention="onnxruntime")

    def naive() -> np.ndarray:
        q = np.clip(np.round(x / qp.scale) + qp.zero_point, 0, 255).astype(np.int64)
        return ((q - qp.zero_point) * qp.scale).astype(np.float32)

    codes = qv.quantize(x[:1], qp, convention="onnxruntime").dtype
    return {
        "onnxruntime QuantizeLinear + DequantizeLinear": ort_qdq,
        f"quantviz quantize + dequantize ({codes} codes)": ours_separate,
        "quantviz fake_quantize (fused)": ours_fused,
        "naive numpy (int64 codes)": naive,
    }


def run(rounds: int = ROUNDS) -> list[dict[str, object]]:
    """Return one row per contender: median ms and its ratio to onnxruntime, each with its spread over ``rounds``.

    10M float32 values, onnxruntime convention, uint8, range [-1000, 1000].
    """
    x = (np.random.default_rng(0).normal(size=N) * 400).astype(np.float32)
    qp = qv.choose_qparams(-1000, 1000, convention="onnxruntime")
    fns = _contenders(x, qp)
    names = list(fns)
    reference = fns[names[0]]()
    for name in names[1:3]:  # correctness unchanged: identical to onnxruntime, bit for bit
        assert np.array_equal(fns[name](), reference), name
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            times[name] += timings(fns[name], 1, warmup=False)
    base = times[names[0]]
    return [
        {
            "kernel": name,
            "ms, median (min–max)": _spread([t * 1000 for t in ts]),
            "× onnxruntime, median (min–max)": _spread([t / b for t, b in zip(ts, base, strict=True)]),
        }
        for name, ts in times.items()
    ]


if __name__ == "__main__":
    print(table(run()))
