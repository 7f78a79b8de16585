"""ONNX graphs in every form ONNX Runtime's quantizers write, read with the ``onnx`` package.

- **QDQ** (``quantize_static``, QDQ format): each ``DequantizeLinear`` names its codes, scale, zero point, axis and
  block size; the tensor's ``op`` is the operator that uses the dequantized value (Conv, Gemm), not the
  ``DequantizeLinear`` itself.
- **QOperator** (``QLinearConv``, ``QLinearMatMul``, ``QGemm``, ``QLinearAdd``...): each operator's inputs in its
  own order; the axis of a per-channel weight from the operator's semantics (Conv: output channels are axis 0;
  MatMul: the last axis; Gemm: axis 0 when ``transB`` else 1); the int32 bias of ``QLinearConv`` / ``QGemm``
  with its implied scale s_in·s_w and zero point 0.
- **dynamic** (``quantize_dynamic``): ``ConvInteger`` / ``MatMulInteger`` weights with their zero point, and the
  scale found where ONNX Runtime multiplies it with the activation scale that ``DynamicQuantizeLinear`` computes;
  activations are quantized at run time (no stored scale).
- **MatMulNBits** / **GatherBlockQuantized** (``MatMul4BitsQuantizer``): packed k-bit codes and zero points
  unpacked by ``load()``, blocks of ``block_size`` along the reduction axis.

Dtypes and shapes of activations come from the graph (value_info, inputs, outputs, after onnx's shape inference),
else from their zero point's type. External data is never followed. :func:`onnx_file_type` names the form.
"""

from __future__ import annotations

import numpy as np

from quantviz.errors import ModelFileError
from quantviz.models.base import Model, Quantization, Tensor, check_size
from quantviz.models.onnx_blocks import block_quantized, unpack_bits  # noqa: F401  (unpack_bits: public here too)
from quantviz.models.onnx_shapes import attrs_of as _attrs
from quantviz.models.onnx_shapes import declared_types, propagate_contrib
from quantviz.models.onnx_shapes import np_name as _np_name

# op: list of (data input or "out", scale input, zero-point input) triples, as each operator's spec orders them
QOPERATOR = {
    "QLinearConv": [(0, 1, 2), (3, 4, 5), ("out", 6, 7)],
    "QLinearMatMul": [(0, 1, 2), (3, 4, 5), ("out", 6, 7)],
    "QGemm": [(0, 1, 2), (3, 4, 5), ("out", 7, 8)],
    "QLinearAdd": [(0, 1, 2), (3, 4, 5), ("out", 6, 7)],
    "QLinearMul": [(0, 1, 2), (3, 4, 5), ("out", 6, 7)],
    "QLinearSigmoid": [(0, 1, 2), ("out", 3, 4)],
    "QLinearLeakyRelu": [(0, 1, 2), ("out", 3, 4)],
    "QLinearSoftmax": [(0, 1, 2), ("out", 3, 4)],
    "QLinearGlobalAveragePool": [(0, 1, 2), ("out", 3, 4)],
    "QLinearAveragePool": [(0, 1, 2), ("out", 3, 4)],
}
COMPUTE = {
    "Conv",
    "ConvTranspose",
    "MatMul",
    "Gemm",
    "Gather",
    "QLinearConv",
    "QLinearMatMul",
    "QGemm",
    "ConvInteger",
    "MatMulInteger",
    "MatMulNBits",
    "GatherBlockQuantized",
    "Attention",
    "LSTM",
    "GRU",
    "RNN",
    "Einsum",
}
WEIGHT_INPUT = {
    "Conv": 1,
    "ConvTranspose": 1,
    "MatMul": 1,
    "Gemm": 1,
    "Gather": 0,
    "QLinearConv": 3,
    "QLinearMatMul": 3,
    "QGemm": 3,
    "ConvInteger": 1,
    "MatMulInteger": 1,
    "MatMulNBits": 1,
    "GatherBlockQuantized": 0,
    "Einsum": 1,
}
BIAS_INPUT = {"Conv": 2, "Gemm": 2, "QLinearConv": 8, "QGemm": 6}
QDQ = ("QuantizeLinear", "DequantizeLinear")
LOOK_THROUGH = (*QDQ, "DynamicQuantizeLinear")  # a tensor's user is the operator after its quantization


def onnx_file_type(op_types: set[str]) -> str:
    """The ONNX Runtime form of a graph from the operators it holds.

    >>> onnx_file_type({"DynamicQuantizeLinear", "ConvInteger", "Add"})
    'onnx-dynamic'
    >>> onnx_file_type({"QuantizeLinear", "DequantizeLinear", "Conv"})
    'onnx-qdq'
    """
    if op_types & {"MatMulNBits", "GatherBlockQuantized"}:
        return "onnx-matmulnbits"
    if op_types & {"ConvInteger", "MatMulInteger", "DynamicQuantizeLinear"}:
        return "onnx-dynamic"
    if op_types & (set(QOPERATOR) | {"QLinearConcat"}):
        return "onnx-qoperator"
    if op_types & set(QDQ):
        return "onnx-qdq"
    return "onnx-float"


def _per_axis(scale, zero, axis, block=None) -> Quantization:
    scales = np.asarray(scale, np.float64).reshape(-1)
    zeros = np.zeros(scales.size, np.int64) if zero is None else np.asarray(zero).astype(np.int64).reshape(-1)
    return Quantization(scales, zeros, axis if scales.size > 1 else None, block)


class _Graph:
    """The graph's initializers and who produces and consumes each tensor, for the readers of each form."""

    def __init__(self, graph) -> None:
        self.graph = graph
        self.inits = {t.name: t for t in graph.initializer}
        self.consumers: dict[str, list] = {}
        self.producers: dict[str, object] = {}
        for node in graph.node:
            for i in node.input:
                self.consumers.setdefault(i, []).append(node)
            for o in node.output:
                self.producers[o] = node
        self.origin = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "DequantizeLinear" and n.input}

    def array(self, tensor_name: str) -> np.ndarray | None:
        from onnx import numpy_helper

        t = self.inits.get(tensor_name)
        return None if t is None else numpy_helper.to_array(t)

    def zero_type(self, tensor_name: str | None) -> str | None:
        t = self.inits.get(tensor_name) if tensor_name else None
        return _np_name(t.data_type) if t is not None else None

    def user(self, tensor_name: str) -> tuple[str, object | None, int]:
        """The first operator that uses this tensor as data, looking through Q/DQ pairs, and the input's position."""
        seen, frontier = set(), [tensor_name]
        while frontier:
            current = frontier.pop(0)
            if current in seen:
                continue
            seen.add(current)
            for node in self.consumers.get(current, []):
                if node.op_type in LOOK_THROUGH and list(node.input).index(current) == 0:
                    frontier.extend(node.output[:1])
                elif node.op_type not in LOOK_THROUGH:
                    return node.op_type, node, list(node.input).index(current)
        return "", None, -1

    def operands(self, node) -> tuple[str, ...]:
        """The node's inputs named as the tensors the reader lists (a DequantizeLinear output by its codes)."""
        return () if node is None else tuple(self.origin.get(i, i) for i in node.input)


class _Found:
    """What the walk over the nodes found: each tensor's quantization, the parameter tensors, types, notes."""

    def __init__(self) -> None:
        self.quant: dict[str, Quantization] = {}
        self.notes: list[str] = []
        self.parameter_names: set[str] = set()
        self.declared_types: dict[str, str] = {}


def _qdq(g: _Graph, node, found: _Found) -> None:
    """A QuantizeLinear / DequantizeLinear: its codes' (or output's) scale, zero point, axis and block size."""
    op, ins, attrs = node.op_type, list(node.input), _attrs(node)
    target = ins[0] if op == "DequantizeLinear" else node.output[0]
    scale = g.array(ins[1])
    zero_name = ins[2] if len(ins) > 2 and ins[2] else None
    found.parameter_names.update(ins[1:])
    if scale is None:
        return
    if g.zero_type(zero_name):
        found.declared_types.setdefault(target, g.zero_type(zero_name))
    block = int(attrs["block_size"]) if attrs.get("block_size") else None
    q = _per_axis(scale, g.array(zero_name) if zero_name else None, int(attrs.get("axis", 1)), block)
    if target not in found.quant or op == "DequantizeLinear":
        found.quant[target] = q


def _qoperator_axis(g: _Graph, op: str, x: int | str, tensor_name: str, attrs: dict) -> int:
    """A QOperator weight's per-channel axis from the operator's semantics (MatMul: last; Gemm: 0 if transB)."""
    if x == 3 and op == "QLinearMatMul":
        return len(g.inits[tensor_name].dims) - 1 if tensor_name in g.inits else 1
    if x == 3 and op == "QGemm":
        return 0 if attrs.get("transB", 0) else 1
    return 0


def _qoperator(g: _Graph, node, found: _Found) -> None:
    """A QLinear* / QGemm operator: each of its (data, scale, zero point) triples, in the operator's own order."""
    op, ins, attrs = node.op_type, list(node.input), _attrs(node)
    for x, s, z in QOPERATOR[op]:
        tensor_name = node.output[0] if x == "out" else (ins[x] if x < len(ins) else "")
        if not tensor_name or s >= len(ins) or g.array(ins[s]) is None:
            continue
        found.parameter_names.update(i for i in (ins[s], ins[z] if z < len(ins) else "") if i)
        zp = ins[z] if z < len(ins) and ins[z] else None
        found.declared_types.setdefault(tensor_name, g.zero_type(zp) or "uint8")
        axis = _qoperator_axis(g, op, x, tensor_name, attrs)
        found.quant.setdefault(tensor_name, _per_axis(g.array(ins[s]), g.array(zp) if zp else None, axis))
    bias = BIAS_INPUT.get(op)
    if bias is not None and bias < len(ins) and ins[bias] in g.inits:
        s_in, s_w = g.array(ins[1]), g.array(ins[4])
        if s_in is not None and s_w is not None:  # the kernel's bias scale: s_in·s_w, zero point 0
            implied = (np.float32(s_in) * np.asarray(s_w, np.float32)).reshape(-1)
            found.quant[ins[bias]] = _per_axis(implied, None, 0)
            found.notes.append(f"{ins[bias]}: int32 bias of {op}; its scale is implied, s_in·s_w (not stored)")


def _integer_scale(g: _Graph, ins: list[str]) -> str | None:
    """The weight scale of a ConvInteger / MatMulInteger: the initializer ORT multiplies with the activation
    scale DynamicQuantizeLinear computes, else ``<weight>_scale`` beside ``<weight>_quantized``."""
    producer = g.producers.get(ins[0])
    runtime_scale = producer.output[1] if producer is not None and producer.op_type == "DynamicQuantizeLinear" else None
    scale_name = None
    for mul in g.consumers.get(runtime_scale, []) if runtime_scale else []:  # Mul(s_x, s_w): ORT's rescale
        if mul.op_type == "Mul":
            others = [i for i in mul.input if i != runtime_scale and i in g.inits]
            scale_name = others[0] if others else scale_name
    weight = ins[1]
    if scale_name is None and weight.endswith("_quantized") and weight.removesuffix("_quantized") + "_scale" in g.inits:
        scale_name = weight.removesuffix("_quantized") + "_scale"
    return scale_name


def _integer(g: _Graph, node, found: _Found) -> None:
    """A dynamic ConvInteger / MatMulInteger weight: its stored zero point and the scale found beside it."""
    op, ins = node.op_type, list(node.input)
    weight = ins[1]
    scale_name = _integer_scale(g, ins)
    if scale_name is None:
        found.notes.append(f"{weight}: {op} weight whose scale is not found in the graph")
        return
    zero_name = ins[3] if len(ins) > 3 and ins[3] else None
    found.parameter_names.update(n for n in (scale_name, zero_name) if n)
    axis = 0 if op == "ConvInteger" else len(g.inits[weight].dims) - 1
    found.quant[weight] = _per_axis(g.array(scale_name), g.array(zero_name) if zero_name else None, axis)


def _walk(g: _Graph) -> _Found:
    """Every node's quantization parameters, by the form it belongs to."""
    found = _Found()
    for node in g.graph.node:
        op, ins = node.op_type, list(node.input)
        if op in QDQ and len(ins) >= 2:
            _qdq(g, node, found)
        elif op in QOPERATOR:
            _qoperator(g, node, found)
        elif op in ("ConvInteger", "MatMulInteger") and len(ins) >= 2 and ins[1] in g.inits:
            _integer(g, node, found)
        elif op in ("MatMulNBits", "GatherBlockQuantized"):
            found.parameter_names.update(ins[2:])
    return found


def _load(name: str, data: bytes):
    """The ModelProto (external data refused, initializer sizes checked) and its graph after shape inference."""
    import onnx

    try:
        model = onnx.load_model_from_string(bytes(data))  # never loads external data: it names files on the server
    except Exception as exc:
        raise ModelFileError(f"{name}: not a readable ONNX model ({type(exc).__name__})") from None
    for t in model.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            raise ModelFileError(
                f"{name}: tensor {t.name!r} keeps its values in an external file, which QuantViz never "
                "follows (it would name files on the server); save the model with its data inside"
            )
        check_size(
            name, t.name, tuple(int(d) for d in t.dims), onnx.helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
        )
    try:
        inferred = onnx.shape_inference.infer_shapes(model).graph  # fills value_info where the file lacks it
    except Exception:
        inferred = model.graph
    return model, inferred


def _role(g: _Graph, tensor_name: str, dtype: str, shape: tuple, q, user: tuple) -> str:
    """An initializer's role from the operator that uses it: bias, weight or constant."""
    op, node, position = user
    if (node is not None and BIAS_INPUT.get(op) == position) or (dtype == "int32" and q is not None):
        return "bias"
    if node is not None and (WEIGHT_INPUT.get(op) == position or (op in COMPUTE and len(shape) >= 2)):
        return "weight"
    return "weight" if len(shape) >= 2 and q is None else "constant"


def _tensor(g: _Graph, found: _Found, types: dict, tensor_name: str, ends: tuple[set, set, dict]) -> Tensor:
    """One listed tensor: an initializer with its values, or a value of the graph with its type and shape."""
    from onnx import numpy_helper

    inputs, outputs, dynamic_outputs = ends
    q = found.quant.get(tensor_name)
    user = g.user(tensor_name)
    init = g.inits.get(tensor_name)
    if init is not None:
        dtype, shape = _np_name(init.data_type), tuple(int(d) for d in init.dims)
        role = _role(g, tensor_name, dtype, shape, q, user)
        loader = lambda init=init: numpy_helper.to_array(init)  # noqa: E731
    else:
        declared, shape = types.get(tensor_name, (None, None))
        fallback = "uint8" if tensor_name in dynamic_outputs else "unknown"
        dtype = declared or found.declared_types.get(tensor_name) or fallback
        shape, loader = shape or (), None
        role = "input" if tensor_name in inputs else "output" if tensor_name in outputs else "activation"
    return Tensor(tensor_name, dtype, shape, role, user[0], q, loader, g.operands(user[1]))


def read_onnx(name: str, data: bytes) -> Model:
    """Every quantized tensor of an ONNX graph with its stored parameters, in any of ONNX Runtime's forms.

    >>> from pathlib import Path
    >>> m = read_onnx("q.onnx", (Path(__file__).parent / "examples" / "onnx_qoperator.onnx").read_bytes())
    >>> m.file_type, next(t for t in m.tensors if t.name == "y_quantized").shape
    ('onnx-qoperator', (1, 10))
    """
    model, inferred = _load(name, data)
    g = _Graph(model.graph)
    found = _walk(g)
    packed = block_quantized(name, g, found.notes)
    found.parameter_names.update(t.name for t in packed)
    packed_names = {t.name for t in packed}
    types = propagate_contrib(g.graph, model.opset_import, declared_types(inferred), found.declared_types)
    inputs, outputs = {i.name for i in g.graph.input}, {o.name for o in g.graph.output}
    dynamic_outputs = {n.output[0]: n for n in g.graph.node if n.op_type == "DynamicQuantizeLinear"}
    for n in dynamic_outputs.values():
        found.parameter_names.update(n.output[1:])
    names = list(dict.fromkeys([*found.quant, *g.inits, *dynamic_outputs, *inputs, *outputs]))
    tensors = [
        _tensor(g, found, types, tensor_name, (inputs, outputs, dynamic_outputs))
        for tensor_name in names
        if not (
            (tensor_name in found.parameter_names and tensor_name not in found.quant) or tensor_name in packed_names
        )
    ]  # a scale or zero point itself is shown as part of the tensor it describes
    tensors.extend(packed)
    file_type = onnx_file_type({n.op_type for n in g.graph.node})
    if file_type == "onnx-dynamic":
        found.notes.append(
            f"{len(dynamic_outputs)} activation tensor(s) are quantized at run time by DynamicQuantizeLinear "
            "(uint8, scale and zero point computed from each batch's min and max): no stored scale"
        )
    return Model(name, "onnx", tensors, found.notes, file_type, raw=data)
