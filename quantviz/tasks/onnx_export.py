"""The digits network's integer pipeline as an ONNX graph of integer operators, for onnxruntime to check.

One graph per integer weight scheme (per tensor or per channel): QuantizeLinear for the images, then per layer
MatMulInteger (int8 × int8 → int32, the input zero point subtracted), the int32 bias added, and TFLite's
single-rounding fixed-point rescale spelled in int64 operators — (acc·M0 + 2^(t−1)) >> t with t = 31 − shift, the
arithmetic shift as (n − Mod(n, 2^t)) / 2^t, exact for negative n because ONNX's integer Mod takes the divisor's
sign — then the output zero point and the clamp (at the zero point after ReLU). Why not QLinearMatMul: onnxruntime
requantizes it with a float multiplier, not the Q31 fixed point; spelling the fixed point out makes onnxruntime
run exactly the arithmetic quantviz runs. Every layer's accumulator and int8 output is a graph output.
Built with ``onnx.helper``; imported only when asked (onnx is a runtime requirement, not needed by ``import
quantviz``).
"""

from __future__ import annotations

import numpy as np

from quantviz.tasks import networks
from quantviz.tasks.evaluate import digits_integer_forward, quantized_weights

OPSET = 17
IR_VERSION = 9


def integer_schemes() -> tuple[str, ...]:
    """Return the weight schemes the integer graph supports: integer, per tensor or per channel.

    >>> integer_schemes()[:2]
    ('int8-per-tensor', 'int8-per-channel')
    """
    return tuple(f"int{b}-{g}" for b in (8, 4, 2) for g in ("per-tensor", "per-channel"))


def digits_model(weights: str = "int8-per-channel"):
    """Return the ONNX ModelProto of the digits network with ``weights``, int8 static activations.

    Outputs: ``input_codes``, then ``<layer>.acc`` (int64: Σ(q_in − z_in)·q_w + bias) and ``<layer>.codes``
    (int8) for fc1, fc2, fc3.
    """
    from onnx import TensorProto, helper, numpy_helper

    if weights not in integer_schemes():
        raise ValueError(f"the integer graph takes {', '.join(integer_schemes())}; got {weights!r}")
    net = networks.load("digits")
    chosen = quantized_weights("digits", weights)
    trace = digits_integer_forward(chosen, net.inputs[:1])
    inits, nodes = [], []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    qp0 = trace.input_qparams
    nodes.append(
        helper.make_node(
            "QuantizeLinear",
            [
                "images",
                const("images.scale", np.float32(qp0.scale)),
                const("images.zero_point", np.int8(qp0.zero_point)),
            ],
            ["input_codes"],
        )
    )
    previous, previous_zp = "input_codes", "images.zero_point"
    outputs = [helper.make_tensor_value_info("input_codes", TensorProto.INT8, ["n", 64])]
    for i, name in enumerate(net.layers):
        steps, out_qp = trace.steps[name], trace.output_qparams[name]
        last = i == len(net.layers) - 1
        total = 31 - steps.shifts.astype(np.int64)
        n_out = steps.m0.size
        p = f"{name}."
        nodes += [
            helper.make_node(
                "MatMulInteger",
                [
                    previous,
                    const(p + "weight_codes_t", chosen[name].codes.T.copy()),
                    previous_zp,
                    const(p + "weight_zero_point", np.int8(0)),
                ],
                [p + "acc_raw"],
            ),
            helper.make_node("Cast", [p + "acc_raw"], [p + "acc_raw64"], to=TensorProto.INT64),
            helper.make_node("Add", [p + "acc_raw64", const(p + "bias_int32", trace.bias_int32[name])], [p + "acc"]),
            helper.make_node("Mul", [p + "acc", const(p + "m0", steps.m0.astype(np.int64))], [p + "product"]),
            helper.make_node(
                "Add", [p + "product", const(p + "half", np.left_shift(np.int64(1), total - 1))], [p + "nudged"]
            ),
            helper.make_node(
                "Mod",
                [p + "nudged", const(p + "divisor", np.left_shift(np.int64(1), total))],
                [p + "remainder"],
                fmod=0,
            ),
            helper.make_node("Sub", [p + "nudged", p + "remainder"], [p + "floored"]),
            helper.make_node("Div", [p + "floored", p + "divisor"], [p + "scaled"]),
            helper.make_node(
                "Add", [p + "scaled", const(p + "out_zero_point", np.int64(out_qp.zero_point))], [p + "shifted"]
            ),
            helper.make_node(
                "Max",
                [p + "shifted", const(p + "low", np.int64(-128 if last else out_qp.zero_point))],
                [p + "floor_clamped"],
            ),
            helper.make_node("Min", [p + "floor_clamped", const(p + "high", np.int64(127))], [p + "clamped"]),
            helper.make_node("Cast", [p + "clamped"], [p + "codes"], to=TensorProto.INT8),
        ]
        if n_out != chosen[name].codes.shape[0]:
            raise ValueError(f"{name}: {n_out} multipliers for {chosen[name].codes.shape[0]} outputs")
        outputs += [
            helper.make_tensor_value_info(p + "acc", TensorProto.INT64, ["n", n_out]),
            helper.make_tensor_value_info(p + "codes", TensorProto.INT8, ["n", n_out]),
        ]
        previous = p + "codes"
        if not last:
            previous_zp = const(p + "codes_zero_point", np.int8(out_qp.zero_point))
    graph = helper.make_graph(
        nodes,
        f"quantviz_digits_{weights}",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["n", 64])],
        outputs,
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="quantviz")
    model.ir_version = IR_VERSION
    return model
