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


class _Initialisers:
    """The graph's constants, collected in the order the nodes name them."""

    def __init__(self) -> None:
        self.tensors: list = []

    def __call__(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.tensors.append(numpy_helper.from_array(np.asarray(value), name))
        return name


def digits_model(weights: str = "int8-per-channel"):
    """Return the ONNX ModelProto of the digits network with ``weights``, int8 static activations.

    Outputs: ``input_codes``, then ``<layer>.acc`` (int64: Σ(q_in − z_in)·q_w + bias) and ``<layer>.codes``
    (int8) for fc1, fc2, fc3.
    """
    from onnx import TensorProto, helper

    if weights not in integer_schemes():
        raise ValueError(f"the integer graph takes {', '.join(integer_schemes())}; got {weights!r}")
    net = networks.load("digits")
    chosen = quantized_weights("digits", weights)
    trace = digits_integer_forward(chosen, net.inputs[:1])
    const = _Initialisers()
    qp0 = trace.input_qparams
    scale, zero = const("images.scale", np.float32(qp0.scale)), const("images.zero_point", np.int8(qp0.zero_point))
    nodes = [helper.make_node("QuantizeLinear", ["images", scale, zero], ["input_codes"])]
    previous, previous_zp = "input_codes", "images.zero_point"
    outputs = [helper.make_tensor_value_info("input_codes", TensorProto.INT8, ["n", 64])]
    for i, name in enumerate(net.layers):
        steps, out_qp = trace.steps[name], trace.output_qparams[name]
        last = i == len(net.layers) - 1
        n_out = steps.m0.size
        if n_out != chosen[name].codes.shape[0]:
            raise ValueError(f"{name}: {n_out} multipliers for {chosen[name].codes.shape[0]} outputs")
        p = f"{name}."
        weight = const(p + "weight_codes_t", chosen[name].codes.T.copy())
        weight_zp = const(p + "weight_zero_point", np.int8(0))
        matmul = helper.make_node("MatMulInteger", [previous, weight, previous_zp, weight_zp], [p + "acc_raw"])
        nodes += [matmul, *_requantize_nodes(p, const, trace.bias_int32[name], steps, out_qp, last=last)]
        outputs += [
            helper.make_tensor_value_info(p + "acc", TensorProto.INT64, ["n", n_out]),
            helper.make_tensor_value_info(p + "codes", TensorProto.INT8, ["n", n_out]),
        ]
        previous = p + "codes"
        if not last:
            previous_zp = const(p + "codes_zero_point", np.int8(out_qp.zero_point))
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["n", 64])
    graph = helper.make_graph(nodes, f"quantviz_digits_{weights}", [images], outputs, const.tensors)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="quantviz")
    model.ir_version = IR_VERSION
    return model


def _requantize_nodes(p: str, const: _Initialisers, bias: np.ndarray, steps, out_qp, *, last: bool) -> list:
    """One layer after MatMulInteger: add the bias, TFLite's single-rounding rescale in int64, the zero point, clamp.

    The arithmetic shift is spelled (n − Mod(n, 2^t)) / 2^t, exact for negative n (ONNX's Mod takes the
    divisor's sign); the clamp's floor is the zero point after ReLU, −128 after the last layer.
    """
    from onnx import TensorProto, helper

    total = 31 - steps.shifts.astype(np.int64)
    node = helper.make_node
    return [
        node("Cast", [p + "acc_raw"], [p + "acc_raw64"], to=TensorProto.INT64),
        node("Add", [p + "acc_raw64", const(p + "bias_int32", bias)], [p + "acc"]),
        node("Mul", [p + "acc", const(p + "m0", steps.m0.astype(np.int64))], [p + "product"]),
        node("Add", [p + "product", const(p + "half", np.left_shift(np.int64(1), total - 1))], [p + "nudged"]),
        node(
            "Mod",
            [p + "nudged", const(p + "divisor", np.left_shift(np.int64(1), total))],
            [p + "remainder"],
            fmod=0,
        ),
        node("Sub", [p + "nudged", p + "remainder"], [p + "floored"]),
        node("Div", [p + "floored", p + "divisor"], [p + "scaled"]),
        node("Add", [p + "scaled", const(p + "out_zero_point", np.int64(out_qp.zero_point))], [p + "shifted"]),
        node(
            "Max",
            [p + "shifted", const(p + "low", np.int64(-128 if last else out_qp.zero_point))],
            [p + "floor_clamped"],
        ),
        node("Min", [p + "floor_clamped", const(p + "high", np.int64(127))], [p + "clamped"]),
        node("Cast", [p + "clamped"], [p + "codes"], to=TensorProto.INT8),
    ]
