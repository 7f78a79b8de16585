"""The onnxruntime convention against onnxruntime itself: compute_scale_zp and QuantizeLinear."""

from __future__ import annotations

import numpy as np
import pytest

import quantviz as qv
from tests.oracle_cases import probe_values, random_ranges

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
quant_utils = pytest.importorskip("onnxruntime.quantization.quant_utils")
from onnx import TensorProto, helper  # noqa: E402

TYPES = {
    (8, False): TensorProto.UINT8,
    (8, True): TensorProto.INT8,
    (16, False): TensorProto.UINT16,
    (16, True): TensorProto.INT16,
}
NP_TYPES = {
    TensorProto.UINT8: np.uint8,
    TensorProto.INT8: np.int8,
    TensorProto.UINT16: np.uint16,
    TensorProto.INT16: np.int16,
}
_sessions: dict[int, object] = {}


def quantize_linear_session(qtype: int):
    """One session per integer type; scale and zero point are graph inputs so every case reuses it."""
    if qtype not in _sessions:
        node = helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])
        graph = helper.make_graph(
            [node],
            "q",
            [
                helper.make_tensor_value_info("x", TensorProto.FLOAT, [None]),
                helper.make_tensor_value_info("s", TensorProto.FLOAT, []),
                helper.make_tensor_value_info("z", qtype, []),
            ],
            [helper.make_tensor_value_info("y", qtype, [None])],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
        model.ir_version = 10
        _sessions[qtype] = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return _sessions[qtype]


OPTIONS = [
    (bits, signed, symmetric, reduce_range)
    for bits in (8, 16)
    for signed in (False, True)
    for symmetric in (False, True)
    for reduce_range in (False, True)
]


@pytest.mark.parametrize(("bits", "signed", "symmetric", "reduce_range"), OPTIONS)
def test_onnxruntime_bit_exact(bits: int, signed: bool, symmetric: bool, reduce_range: bool) -> None:
    qtype = TYPES[(bits, signed)]
    session = quantize_linear_session(qtype)
    mismatches = []
    cases = 0
    for i, (lo, hi) in enumerate(random_ranges(seed=bits * 8 + signed * 4 + symmetric * 2 + reduce_range, count=60)):
        qmin, qmax = quant_utils.get_qmin_qmax_for_qType(qtype, reduce_range=reduce_range, symmetric=symmetric)
        ref_z, ref_s = quant_utils.compute_scale_zp(np.float32(lo), np.float32(hi), qmin, qmax, symmetric=symmetric)
        qp = qv.choose_qparams(
            lo, hi, bits=bits, signed=signed, symmetric=symmetric, reduce_range=reduce_range, convention="onnxruntime"
        )
        assert (qp.qmin, qp.qmax) == (int(qmin), int(qmax))
        assert qp.scale == float(np.float32(ref_s)), (lo, hi)
        assert qp.zero_point == int(ref_z), (lo, hi)
        x = probe_values(qp, seed=i)
        (ref_q,) = session.run(
            None, {"x": x, "s": np.array(ref_s, dtype=np.float32), "z": np.array(ref_z, dtype=NP_TYPES[qtype])}
        )
        ours = qv.quantize(x, qp, convention="onnxruntime")
        bad = np.flatnonzero(ours != ref_q.astype(np.int64))
        cases += x.size
        mismatches += [(lo, hi, float(x[j]), int(ours[j]), int(ref_q[j])) for j in bad[:3]]
    assert cases > 10_000
    assert not mismatches, mismatches[:10]


def test_onnxruntime_seed_example() -> None:
    """reference-semantics: QuantizeLinear gives [133, 128, 255, 0] for the seed's values."""
    qp = qv.QParams(float(np.float32(2000 / 255)), 128, 0, 255)
    x = np.array([39.215686275, 0, 1000, -1000], dtype=np.float32)
    (ref,) = quantize_linear_session(TensorProto.UINT8).run(
        None, {"x": x, "s": np.array(qp.scale, np.float32), "z": np.array(128, np.uint8)}
    )
    assert ref.tolist() == [133, 128, 255, 0]
    assert qv.quantize(x, qp, convention="onnxruntime").tolist() == [133, 128, 255, 0]
