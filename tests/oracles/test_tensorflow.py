"""tf_fake_quant and tflite conventions against TensorFlow 2.21 (run with `make oracles`)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import quantviz as qv
from tests.oracle_cases import probe_values, random_ranges, tflite_near_tie_ranges

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")


@pytest.mark.parametrize("bits", [2, 4, 8, 16])
@pytest.mark.parametrize("narrow", [False, True])
def test_tf_fake_quant_bit_exact(bits: int, narrow: bool) -> None:
    mismatches = []
    cases = 0
    for i, (lo, hi) in enumerate(random_ranges(seed=bits * 2 + narrow, count=60)):
        if not lo < hi:
            with pytest.raises(qv.RangeError):
                qv.choose_qparams(lo, hi, bits=bits, narrow_range=narrow, convention="tf_fake_quant")
            continue
        qp = qv.choose_qparams(lo, hi, bits=bits, narrow_range=narrow, convention="tf_fake_quant")
        x = probe_values(qp, seed=i)
        ref = tf.quantization.fake_quant_with_min_max_args(
            x, min=lo, max=hi, num_bits=bits, narrow_range=narrow
        ).numpy()
        ours = qv.fake_quantize(x, qp, convention="tf_fake_quant")
        bad = np.flatnonzero(ours.view(np.int32) != ref.view(np.int32))
        mismatches += [(lo, hi, float(x[j]), float(ours[j]), float(ref[j])) for j in bad[:3]]
        # the codes we report dequantize to exactly TF's output
        codes = qv.quantize(x, qp, convention="tf_fake_quant")
        assert np.array_equal(qv.dequantize(codes, qp, convention="tf_fake_quant"), ours)
        cases += x.size
    assert cases > 10_000
    assert not mismatches, mismatches[:10]


def test_tf_fake_quant_seed_example() -> None:
    """reference-semantics: [-1000, 1000] nudges to [-1003.92, 996.08]; -1000 -> code 1 (-996.08)."""
    qp = qv.choose_qparams(-1000, 1000, convention="tf_fake_quant")
    assert qp.zero_point == 128
    x = np.array([39.215686275, 0, 1000, -1000], np.float32)
    ref = tf.quantization.fake_quant_with_min_max_args(x, min=-1000, max=1000).numpy()
    assert np.array_equal(qv.fake_quantize(x, qp, convention="tf_fake_quant"), ref)
    assert qv.quantize(x, qp, convention="tf_fake_quant").tolist() == [133, 128, 255, 1]


N = 512


def convert(lo: float, hi: float, output_type) -> bytes:
    """A float32 -> QUANTIZE -> CONCATENATION model calibrated on exactly [lo, hi]."""

    @tf.function(input_signature=[tf.TensorSpec([N], tf.float32)])
    def model(x):
        return tf.concat([x, x], axis=0)

    def representative():
        yield [np.linspace(lo, hi, N).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([model.get_concrete_function()], model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_output_type = output_type
    return converter.convert()


def run(model: bytes, x: np.ndarray, reference: bool):
    kwargs = {"experimental_op_resolver_type": tf.lite.experimental.OpResolverType.BUILTIN_REF} if reference else {}
    interp = tf.lite.Interpreter(model_content=model, **kwargs)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    out = interp.get_output_details()[0]
    scale, zero_point = out["quantization"]
    return interp.get_tensor(out["index"])[:N].astype(np.int64), scale, zero_point


TFLITE_RANGES = [
    *random_ranges(seed=5, count=14),
    # symmetric ranges put z on the -0.5 tie; tiny ranges are widened by 1e-6 a side
    *[(-a, a) for a in np.float32(10 ** np.random.default_rng(2).uniform(-3, 4, 8)).tolist()],
    (0.0, 0.0),
    (0.0, 5e-7),
    (-3e-7, 2e-7),
    (0.0, 2e-6),
    (-9e-7, 0.0),
    (-2e-7, -1e-7),
]


@pytest.mark.parametrize("signed", [True, False])
def test_tflite_bit_exact(signed: bool) -> None:
    mismatches = []
    cases = 0
    for i, (lo, hi) in enumerate(TFLITE_RANGES):
        lo, hi = float(np.float32(lo)), float(np.float32(hi))
        model = convert(lo, hi, tf.int8 if signed else tf.uint8)
        qp = qv.choose_qparams(lo, hi, signed=signed, convention="tflite")
        x = probe_values(qp, seed=i)[:N]
        x = np.resize(x, N).astype(np.float32)
        for reference, name in ((False, "tflite"), (True, "tflite_reference")):
            ref_q, ref_s, ref_z = run(model, x, reference)
            assert (qp.scale, qp.zero_point) == (float(np.float32(ref_s)), ref_z), (lo, hi)
            ours = qv.quantize(x, qp, convention=name)
            bad = np.flatnonzero(ours != ref_q)
            mismatches += [(name, lo, hi, float(x[j]), int(ours[j]), int(ref_q[j])) for j in bad[:3]]
            cases += N
    assert cases > 10_000
    assert not mismatches, mismatches[:10]


@pytest.mark.parametrize(("signed", "seed", "count"), [(True, 11, 60), (False, 12, 20)])
def test_tflite_zero_point_near_ties(signed: bool, seed: int, count: int) -> None:
    """Ranges whose raw zero point lies within a float32 rounding of x.5: the converter's (s, z), exactly.

    z = qmin − rmin/s is evaluated in double with the float32 scale and rounded to float32 before it is
    rounded half away from zero; neither the pure-double nor the pure-float32 evaluation matches these.
    """
    wrong = []
    for lo, hi in tflite_near_tie_ranges(seed, count):
        interp = tf.lite.Interpreter(model_content=convert(lo, hi, tf.int8 if signed else tf.uint8))
        interp.allocate_tensors()
        ref_s, ref_z = interp.get_output_details()[0]["quantization"]
        qp = qv.choose_qparams(lo, hi, signed=signed, convention="tflite")
        if (qp.scale, qp.zero_point) != (float(np.float32(ref_s)), int(ref_z)):
            wrong.append((lo, hi, qp.scale, qp.zero_point, float(ref_s), int(ref_z)))
    assert not wrong, wrong[:5]


def test_tflite_symmetric_weights() -> None:
    """Per-tensor int8 weights: s = max|w| / 127, z = 0, narrow range; scale checked against the converter."""
    rng = np.random.default_rng(0)
    for _trial in range(6):
        w = (rng.normal(size=(4, 3)) * 10 ** rng.uniform(-2, 2)).astype(np.float32)

        weight = tf.constant(w)

        @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32)])
        def model(x):
            return tf.matmul(x, weight)  # noqa: B023 - used once, inside this iteration

        def representative():
            for _ in range(3):
                yield [rng.normal(size=(1, 4)).astype(np.float32)]

        converter = tf.lite.TFLiteConverter.from_concrete_functions([model.get_concrete_function()], model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter._experimental_disable_per_channel = True
        interp = tf.lite.Interpreter(model_content=converter.convert(), experimental_preserve_all_tensors=True)
        interp.allocate_tensors()
        (weights,) = [d for d in interp.get_tensor_details() if d["dtype"] == np.int8 and tuple(d["shape"]) == (3, 4)]
        qp = qv.choose_qparams(
            float(w.min()), float(w.max()), signed=True, symmetric=True, narrow_range=True, convention="tflite"
        )
        assert qp.scale == float(weights["quantization_parameters"]["scales"][0])
        assert weights["quantization_parameters"]["zero_points"][0] == qp.zero_point == 0
        stored = interp.get_tensor(weights["index"]).astype(np.int64)
        assert np.array_equal(stored, qv.quantize(w.T, qp, convention="tflite_reference")) or np.array_equal(
            stored, qv.quantize(w.T, qp, convention="tflite")
        )


@pytest.mark.parametrize("per_channel", [False, True])
def test_tflite_fully_connected_bit_exact(per_channel: bool) -> None:
    """quantized_fully_connected against the interpreter's int8 FULLY_CONNECTED on a converted Dense layer."""
    from quantviz.intmath import quantized_fully_connected

    rng = np.random.default_rng(7 + per_channel)
    mismatches = 0
    total = 0
    for _trial in range(4):
        n_in, n_out = int(rng.integers(3, 17)), int(rng.integers(2, 9))
        w = (rng.normal(size=(n_in, n_out)) * rng.uniform(0.05, 3, n_out)).astype(np.float32)
        b = rng.normal(size=n_out).astype(np.float32)
        weight, bias = tf.constant(w), tf.constant(b)

        @tf.function(input_signature=[tf.TensorSpec([1, n_in], tf.float32)])
        def model(x):
            return tf.matmul(x, weight) + bias  # noqa: B023 - used once, inside this iteration

        samples = [rng.normal(size=(1, n_in)).astype(np.float32) * 2 for _ in range(20)]

        def representative():
            for s in samples:  # noqa: B023
                yield [s]

        converter = tf.lite.TFLiteConverter.from_concrete_functions([model.get_concrete_function()], model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter._experimental_disable_per_channel = not per_channel
        interp = tf.lite.Interpreter(model_content=converter.convert(), experimental_preserve_all_tensors=True)
        interp.allocate_tensors()
        ops = interp._get_ops_details()
        (fc,) = [op for op in ops if op["op_name"] == "FULLY_CONNECTED"]
        details = {d["index"]: d for d in interp.get_tensor_details()}
        in_d, w_d, b_d = (details[i] for i in fc["inputs"][:3])
        out_d = details[fc["outputs"][0]]
        for _ in range(5):
            x = rng.normal(size=(1, n_in)).astype(np.float32) * 2
            interp.set_tensor(interp.get_input_details()[0]["index"], x)
            interp.invoke()
            q_in = interp.get_tensor(in_d["index"])
            q_w = interp.get_tensor(w_d["index"])
            q_b = interp.get_tensor(b_d["index"])
            expected = interp.get_tensor(out_d["index"]).astype(np.int64)

            def qparams(d):
                p = d["quantization_parameters"]
                return qv.QParams(float(p["scales"][0]), int(p["zero_points"][0]), -128, 127)

            steps = quantized_fully_connected(
                q_in, qparams(in_d), q_w, w_d["quantization_parameters"]["scales"], q_b, qparams(out_d)
            )
            mismatches += int((steps.output != expected).sum())
            total += expected.size
    assert total > 0 and mismatches == 0


@pytest.mark.parametrize("bits", [4, 8])
def test_tf_fake_quant_probe_steps_are_tensorflows_own(bits: int) -> None:
    """The Number line's TF steps (clamp first, then floor((x_c − nudged_min)·inv − qz + 0.5)) give TF's output."""
    from quantviz.teach.probe import probe_steps

    tf_conv = qv.get_convention("tf_fake_quant")
    for i, (lo, hi) in enumerate([*random_ranges(seed=90 + bits, count=20), (1.0, 2.0), (-1.0, 1.0)]):
        if not lo < hi:
            continue
        qp = qv.choose_qparams(lo, hi, bits=bits, convention="tf_fake_quant")
        x = probe_values(qp, seed=i, count=60)
        ref = tf.quantization.fake_quant_with_min_max_args(x, min=lo, max=hi, num_bits=bits).numpy()
        k = tf_conv.nudged_steps(x, qp)
        assert np.array_equal((k.rounded * k.nudge.scale).view(np.int32), ref.view(np.int32))
        for j in range(0, x.size, 15):
            shown = {s.label: s.value for s in probe_steps(float(x[j]), qp, convention="tf_fake_quant", bits=bits)}
            assert float(shown["Round half up"]) == float(k.rounded[j])
            assert float(shown["Clamp x into the range first"]) == pytest.approx(
                float(k.clamped[j]), rel=1e-6, abs=1e-12
            )
