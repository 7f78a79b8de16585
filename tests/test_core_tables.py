"""Exact tables: the seed example, ReLU6, [-0.5, 3], [0.5, 3], symmetric int8 weights."""

from __future__ import annotations

import numpy as np
import pytest

import quantviz as qv

SEED_X = [39.215686275, 0.0, 1000.0, -1000.0]


def test_int_range_table() -> None:
    assert qv.int_range(8) == (0, 255)
    assert qv.int_range(8, signed=True) == (-128, 127)
    assert qv.int_range(8, signed=True, narrow_range=True) == (-127, 127)
    assert qv.int_range(8, narrow_range=True) == (1, 255)
    assert qv.int_range(8, reduce_range=True) == (0, 127)
    assert qv.int_range(8, signed=True, reduce_range=True) == (-64, 63)
    assert qv.int_range(2, signed=True) == (-2, 1)
    assert qv.int_range(16) == (0, 65535)
    for bad in (1, 17, 8.5, "8", True, None):
        with pytest.raises(qv.BitsError):
            qv.int_range(bad)


@pytest.mark.parametrize(
    ("convention", "codes"),
    [
        ("textbook", [133, 128, 255, 0]),
        ("onnxruntime", [133, 128, 255, 0]),
        ("pytorch", [133, 128, 255, 1]),
        ("tf_fake_quant", [133, 128, 255, 1]),
        ("tflite", [132, 127, 255, 0]),
        ("tflite_reference", [132, 127, 255, 0]),
    ],
)
def test_seed_example_codes(convention: str, codes: list[int]) -> None:
    qp = qv.choose_qparams(-1000, 1000, convention=convention)
    assert qv.quantize(SEED_X, qp, convention=convention).tolist() == codes


def test_seed_example_as_published() -> None:
    """round(x/s + z) with the exact scale: 1000 -> 255.5 -> 256 overflows and clamps; -1000 is a tie."""
    qp = qv.QParams(2000 / 255, 128, 0, 255)
    t = qv.quantize_trace(SEED_X, qp, rounding="half_away_from_zero", add_zero_point_before_rounding=True)
    assert t.pre_round.tolist()[2:] == [255.5, 0.5]
    assert t.unclamped.tolist() == [133, 128, 256, 1]
    assert t.q.tolist() == [133, 128, 255, 1]
    assert t.clipped.tolist() == [False, False, True, False]
    assert t.dequantized[2] == pytest.approx(996.0784313725)
    assert (qp.real_min, qp.real_max) == pytest.approx((-1003.921568627, 996.078431373))
    # the printed, rounded scale moves the values just off the tie
    printed = qv.QParams(7.843137255, 128, 0, 255)
    tp = qv.quantize_trace(SEED_X, printed, rounding="half_away_from_zero", add_zero_point_before_rounding=True)
    assert tp.q.tolist() == [133, 128, 255, 1] and tp.unclamped[2] == 255


def test_seed_example_frameworks_qparams() -> None:
    assert qv.choose_qparams(-1000, 1000, signed=True, convention="tflite").zero_point == -1
    assert qv.choose_qparams(-1000, 1000, convention="tflite").zero_point == 127
    assert qv.choose_qparams(-1000, 1000, signed=True, convention="pytorch").zero_point == 0
    assert qv.choose_qparams(-1000, 1000, signed=True, convention="onnxruntime").zero_point == 0
    tf = qv.choose_qparams(-1000, 1000, convention="tf_fake_quant")
    nudge = qv.tf_nudge(tf)
    assert float(nudge.nudged_min) == pytest.approx(-1003.92, abs=0.01)
    assert float(nudge.nudged_max) == pytest.approx(996.08, abs=0.01)
    assert qv.fake_quantize([1000.0, -1000.0], tf, convention="tf_fake_quant").tolist() == pytest.approx(
        [996.08, -996.08], abs=0.01
    )


@pytest.mark.parametrize("convention", ["textbook", "pytorch", "onnxruntime", "tflite"])
def test_relu6(convention: str) -> None:
    qp = qv.choose_qparams(0, 6, convention=convention)
    assert qp.scale == pytest.approx(6 / 255, rel=1e-7)
    assert qp.zero_point == 0
    qp = qv.choose_qparams(0, 6, signed=True, convention=convention)
    assert qp.zero_point == -128


def test_relu6_symmetric() -> None:
    assert qv.choose_qparams(0, 6, symmetric=True, convention="pytorch").scale == pytest.approx(0.0470588, rel=1e-6)
    assert qv.choose_qparams(0, 6, symmetric=True, convention="pytorch").zero_point == 128
    for conv in ("tflite", "onnxruntime"):
        qp = qv.choose_qparams(0, 6, symmetric=True, signed=True, narrow_range=conv == "tflite", convention=conv)
        assert qp.scale == pytest.approx(0.0472441, rel=1e-6) and qp.zero_point == 0


@pytest.mark.parametrize("convention", ["textbook", "pytorch", "onnxruntime", "tflite"])
def test_minus_half_to_three(convention: str) -> None:
    assert qv.choose_qparams(-0.5, 3.0, convention=convention).zero_point == 36
    assert qv.choose_qparams(-0.5, 3.0, signed=True, convention=convention).zero_point == -92
    assert qv.choose_qparams(-0.5, 3.0, convention=convention).scale == pytest.approx(3.5 / 255, rel=1e-7)


def test_range_without_zero() -> None:
    for conv in ("textbook", "pytorch", "onnxruntime", "tflite"):
        qp = qv.choose_qparams(0.5, 3.0, convention=conv)
        assert (qp.zero_point, qp.rmin) == (0, 0.0)
        assert qp.scale == pytest.approx(3 / 255, rel=1e-7)
    tf = qv.choose_qparams(0.5, 3.0, convention="tf_fake_quant")
    assert tf.zero_point == 0
    assert (tf.real_min, tf.real_max) == pytest.approx((0.0, 2.5), abs=1e-6)
    # the [1, 2] collapse: TF keeps z = 0 by sliding the range to [0, 1], so 2 clips to 1
    tf = qv.choose_qparams(1, 2, convention="tf_fake_quant")
    assert qv.fake_quantize([1.0, 2.0], tf, convention="tf_fake_quant").tolist() == [1.0, 1.0]


def test_symmetric_int8_weights() -> None:
    qp = qv.choose_qparams(-0.8, 1.27, signed=True, symmetric=True, narrow_range=True, convention="tflite")
    assert (qp.qmin, qp.qmax, qp.zero_point) == (-127, 127, 0)
    assert qp.scale == float(np.float32(np.float32(1.27) / np.float32(127)))
    tb = qv.choose_qparams(-0.8, 1.27, signed=True, symmetric=True, narrow_range=True)
    assert tb.scale == pytest.approx(0.01) and tb.zero_point == 0
    pt = qv.choose_qparams(-0.8, 1.27, signed=True, symmetric=True, convention="pytorch")
    assert pt.scale == pytest.approx(1.27 / 127.5, rel=1e-6)


def test_uint4_symmetric_zero_point_is_eight() -> None:
    assert qv.choose_qparams(-1, 1, bits=4, symmetric=True).zero_point == 8
    assert qv.choose_qparams(-1, 1, bits=8, symmetric=True).zero_point == 128


def test_rounding_modes_on_ties() -> None:
    qp = qv.QParams(1.0, 0, -8, 7)
    x = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]
    expect = {
        "half_to_even": [-2, -2, 0, 0, 2, 2],
        "half_away_from_zero": [-3, -2, -1, 1, 2, 3],
        "half_up": [-2, -1, 0, 1, 2, 3],
        "floor": [-3, -2, -1, 0, 1, 2],
        "ceil": [-2, -1, 0, 1, 2, 3],
        "toward_zero": [-2, -1, 0, 0, 1, 2],
    }
    for mode, codes in expect.items():
        assert qv.quantize(x, qp, rounding=mode).tolist() == codes, mode
    a = qv.quantize(np.full(1000, 0.25), qp, rounding="stochastic", seed=7)
    assert a.tolist() == qv.quantize(np.full(1000, 0.25), qp, rounding="stochastic", seed=7).tolist()
    assert 0.18 < a.mean() < 0.32


def test_order_matters_with_odd_zero_point() -> None:
    qp = qv.QParams(1.0, 3, 0, 15)
    assert qv.quantize([0.5], qp).tolist() == [3]  # rint(0.5) + 3
    assert qv.quantize([0.5], qp, add_zero_point_before_rounding=True).tolist() == [4]  # rint(3.5)


def test_pytorch_reduce_range_and_storage() -> None:
    qp = qv.choose_qparams(-1, 1, reduce_range=True, convention="pytorch")
    assert (qp.qmin, qp.qmax, qp.storage_min, qp.storage_max) == (0, 127, 0, 255)
    assert qv.quantize([100.0], qp, convention="pytorch").tolist() == [255]  # clamps to the stored type
    assert qv.fake_quantize([100.0], qp, convention="pytorch")[0] == pytest.approx(qp.real_max)


def test_onnxruntime_grids() -> None:
    assert qv.choose_qparams(-1, 1, signed=True, reduce_range=True, convention="onnxruntime").qmax == 64
    sym = qv.choose_qparams(-1, 1, signed=True, symmetric=True, convention="onnxruntime")
    assert (sym.qmin, sym.qmax, sym.storage_min) == (-127, 127, -128)


def test_empty_ranges_have_defined_outcomes() -> None:
    assert (qv.choose_qparams(0, 0).scale, qv.choose_qparams(0, 0).zero_point) == (1.0, 0)
    assert qv.choose_qparams(0, 0, convention="onnxruntime").scale == 1.0
    assert qv.choose_qparams(0, 0, convention="pytorch").scale == float(np.finfo(np.float32).eps)
    assert qv.choose_qparams(0, 0, signed=True, convention="tflite").scale == pytest.approx(2e-6 / 255)
    with pytest.raises(qv.RangeError, match="min < max"):
        qv.choose_qparams(2, 2, convention="tf_fake_quant")
    with pytest.raises(qv.RangeError, match="underflow"):
        qv.choose_qparams(0, 1e-300)


@pytest.mark.parametrize(
    ("rmin", "rmax", "match"),
    [
        (1, 0, "larger than"),
        (float("nan"), 1, "NaN"),
        (0, float("inf"), "finite"),
        ("a", 1, "numbers"),
        (-1e39, 1, "float32"),
    ],
)
def test_bad_ranges(rmin, rmax, match) -> None:
    with pytest.raises(qv.RangeError, match=match):
        qv.choose_qparams(rmin, rmax)


@pytest.mark.parametrize(
    ("convention", "options", "match"),
    [
        ("tf_fake_quant", {"signed": True}, "unsigned grids only"),
        ("tf_fake_quant", {"symmetric": True}, "no symmetric"),
        ("tflite", {"bits": 4}, "int8 path"),
        ("pytorch", {"bits": 16}, "quint8/qint8"),
        ("onnxruntime", {"bits": 6}, "4, 8 or 16"),
        ("onnxruntime", {"narrow_range": True}, "picks"),
        ("pytorch", {"symmetric": True, "reduce_range": True}, "quint8"),
    ],
)
def test_unsupported_combinations_name_alternatives(convention, options, match) -> None:
    with pytest.raises(qv.UnsupportedError, match=match):
        qv.choose_qparams(-1, 1, convention=convention, **options)


def test_bad_qparams_and_inputs() -> None:
    with pytest.raises(qv.QParamsError, match="outside the integer grid"):
        qv.QParams(1.0, 300, 0, 255)
    with pytest.raises(qv.QParamsError, match="positive"):
        qv.QParams(0.0, 0, 0, 255)
    with pytest.raises(qv.UnsupportedError, match="unknown convention"):
        qv.get_convention("caffe")
    with pytest.raises(qv.UnsupportedError, match="always rounds"):
        qv.quantize([1.0], qv.QParams(1.0, 0, 0, 255), convention="onnxruntime", rounding="floor")
    with pytest.raises(qv.RangeError, match="NaN"):
        qv.quantize([np.nan], qv.QParams(1.0, 0, 0, 255))
    assert qv.quantize([np.inf, -np.inf], qv.QParams(1.0, 0, 0, 255)).tolist() == [255, 0]


def test_to_binary() -> None:
    assert qv.to_binary(-92, 8, signed=True) == "10100100"
    assert qv.to_binary(36, 8, signed=False) == "00100100"
    with pytest.raises(qv.BitsError):
        qv.to_binary(256, 8, signed=False)
