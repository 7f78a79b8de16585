"""Dtypes and shapes after ONNX Runtime's com.microsoft operators, which onnx's shape inference does not know.

``onnx.shape_inference`` stops at QLinearAdd, QLinearConcat, QGemm... (ONNX Runtime's contrib operators): their
outputs, and everything after them, come back without a type. :func:`propagate_contrib` walks the graph in order
and gives each such output the dtype and shape its operator's semantics imply: elementwise operators broadcast
their two inputs, activations keep their input's shape, QLinearConcat adds up the axis, QGemm is [M, N] after its
transposes, QLinearGlobalAveragePool keeps N and C, MatMulNBits replaces K by N, GatherBlockQuantized puts the
indices' shape in place of the gathered axis; the dtype is the output zero point's (or the input's). A standard
operator after them (Flatten, DequantizeLinear, a QLinearConv...) is inferred by onnx's inference of that one node
(``onnx.shape_inference.infer_node_outputs``) from the types found: one pass over the nodes, in order.
"""

from __future__ import annotations

import numpy as np

Shape = tuple[int, ...] | None
Typed = tuple[str | None, Shape]
UNARY = ("QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax", "QuantizeLinear", "DequantizeLinear")


def attrs_of(node) -> dict:
    """A node's attributes by name, as Python values."""
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def np_name(elem_type: int) -> str:
    """The numpy name of an ONNX element type (``int8``, ``float32``...)."""
    import onnx

    return onnx.helper.tensor_dtype_to_np_dtype(elem_type).name


def broadcast(*shapes: Shape) -> Shape:
    """numpy broadcasting of shapes whose unknown dimensions are −1 (None if any shape is unknown).

    >>> broadcast((1, 8, 4, 4), (8, 1, 1)), broadcast((2, -1), (2, 3)), broadcast((2,), None)
    ((1, 8, 4, 4), (2, 3), None)
    """
    if any(s is None for s in shapes):
        return None
    rank = max(len(s) for s in shapes)
    out = []
    for dims in zip(*[(1,) * (rank - len(s)) + tuple(s) for s in shapes], strict=True):
        known = {d for d in dims if d not in (1, -1)}
        out.append(known.pop() if len(known) == 1 else (-1 if -1 in dims or known else 1))
    return tuple(out)


def _concat(shapes: list[Shape], axis: int) -> Shape:
    """Shapes joined along ``axis``: the axis adds up (−1 if one is unknown), the others are the first's."""
    if not shapes or any(s is None for s in shapes):
        return None
    axis = axis % len(shapes[0])
    total = -1 if any(s[axis] < 0 for s in shapes) else sum(s[axis] for s in shapes)
    return (*shapes[0][:axis], total, *shapes[0][axis + 1 :])


def _qgemm(a: Shape, b: Shape, attrs: dict) -> Shape:
    if a is None or b is None or len(a) != 2 or len(b) != 2:
        return None
    m = a[1] if attrs.get("transA", 0) else a[0]
    n = b[0] if attrs.get("transB", 0) else b[1]
    return (m, n)


def _pool(x: Shape, attrs: dict) -> Shape:
    if x is None or len(x) < 3:
        return None
    if attrs.get("channels_last", 0):
        return (x[0], *(1,) * (len(x) - 2), x[-1])
    return (x[0], x[1], *(1,) * (len(x) - 2))


def _shape(op: str, shapes: list[Shape], attrs: dict) -> Shape:
    """The output shape of a contrib operator from its inputs' shapes (None where it cannot be known)."""
    if op in ("QLinearAdd", "QLinearMul"):
        return broadcast(shapes[0], shapes[3]) if len(shapes) > 3 else None
    if op in UNARY:
        return shapes[0]
    if op == "QLinearConcat":
        return _concat(shapes[2::3], int(attrs.get("axis", 0)))
    if op == "QGemm":
        return _qgemm(shapes[0], shapes[3], attrs) if len(shapes) > 3 else None
    if op == "QLinearGlobalAveragePool":
        return _pool(shapes[0], attrs)
    if op == "MatMulNBits":
        return None if shapes[0] is None else (*shapes[0][:-1], int(attrs["N"]))
    if op == "GatherBlockQuantized" and shapes[0] is not None and shapes[1] is not None:
        axis = int(attrs.get("gather_axis", 0)) % len(shapes[0])
        return (*shapes[0][:axis], *shapes[1], *shapes[0][axis + 1 :])
    return None


# the input whose dtype the output takes: the output zero point where the operator has one, else the data's
DTYPE_FROM = {
    "QLinearAdd": (7, 0),
    "QLinearMul": (7, 0),
    "QLinearSigmoid": (4, 0),
    "QLinearLeakyRelu": (4, 0),
    "QLinearSoftmax": (4, 0),
    "QLinearAveragePool": (4, 0),
    "QLinearGlobalAveragePool": (4, 0),
    "QLinearConcat": (1,),
    "QGemm": (8,),
    "MatMulNBits": (0,),
    "GatherBlockQuantized": (2,),
    "QuantizeLinear": (2,),
    "DequantizeLinear": (1,),
}


def _dtype(op: str, ins: list[str], known: dict[str, Typed]) -> str | None:
    for i in DTYPE_FROM.get(op, ()):
        if i < len(ins) and ins[i] and known.get(ins[i], (None, None))[0]:
            return known[ins[i]][0]
    if op == "QGemm" and (len(ins) < 8 or not ins[7]):
        return "float32"  # no output scale: QGemm's result is float
    return None


def declared_types(graph) -> dict[str, Typed]:
    """Every typed value of a graph (inputs, outputs, value_info): dtype and shape (−1 for a symbolic dim)."""
    import onnx

    out = {}
    for v in [*graph.input, *graph.output, *graph.value_info]:
        tt = v.type.tensor_type
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type).name if tt.elem_type else None
        shape = (
            tuple(int(d.dim_value) if d.HasField("dim_value") else -1 for d in tt.shape.dim)
            if tt.HasField("shape")
            else None
        )
        out[v.name] = (dtype, shape)
    return out


def _initializers(graph) -> dict[str, Typed]:
    import onnx

    return {
        t.name: (onnx.helper.tensor_dtype_to_np_dtype(t.data_type).name, tuple(int(d) for d in t.dims))
        for t in graph.initializer
    }


SMALL_CONSTANT = 64  # initializers up to this many values are given to onnx's node inference (Reshape's shape)


def _contrib_output(node, known: dict[str, Typed]) -> Typed:
    """A com.microsoft operator's output from its semantics (see the module's docstring)."""
    ins = list(node.input)
    shapes = [known.get(i, (None, None))[1] if i else None for i in ins]
    return _dtype(node.op_type, ins, known), _shape(node.op_type, shapes, attrs_of(node))


def _standard_outputs(node, known: dict[str, Typed], constants: dict, opsets) -> dict[str, Typed]:
    """A standard operator's outputs by onnx's own inference of that one node, from its inputs' types."""
    import onnx
    from onnx import helper

    ins = [i for i in node.input if i]
    if any(known.get(i, (None, None))[1] is None or not _has_np(known[i][0]) for i in ins):
        return {}
    version = next((o.version for o in opsets if o.domain in ("", "ai.onnx") and o.domain == node.domain), None)
    try:
        schema = onnx.defs.get_schema(node.op_type, version or onnx.defs.onnx_opset_version(), node.domain)
        types = {
            i: helper.make_tensor_type_proto(helper.np_dtype_to_tensor_dtype(np.dtype(known[i][0])), list(known[i][1]))
            for i in ins
        }
        data = {i: constants[i] for i in ins if i in constants}
        inferred = onnx.shape_inference.infer_node_outputs(schema, node, types, data, opset_imports=list(opsets))
    except Exception:  # an operator onnx cannot infer here: its outputs stay as declared
        return {}
    out = {}
    for name, proto in inferred.items():
        tt = proto.tensor_type
        dims = tuple(int(d.dim_value) if d.HasField("dim_value") else -1 for d in tt.shape.dim)
        out[name] = (np_name(tt.elem_type) if tt.elem_type else None, dims if tt.HasField("shape") else None)
    return out


def contrib_types(graph, declared: dict[str, Typed], opsets=()) -> dict[str, Typed]:
    """``declared`` with every output typed where it can be: com.microsoft operators by their semantics, the
    standard operators after them by onnx's inference of each node, walking the nodes once in order."""
    known = {**declared, **_initializers(graph)}  # an initializer's own dims and type are authoritative
    constants = {t.name: t for t in graph.initializer if np.prod(t.dims) <= SMALL_CONSTANT}
    for node in graph.node:
        missing = [o for o in node.output if o and (known.get(o, (None, None))[0] is None or known[o][1] is None)]
        if not missing:
            continue
        found = (
            {node.output[0]: _contrib_output(node, known)}
            if node.domain == "com.microsoft"
            else _standard_outputs(node, known, constants, opsets)
        )
        for o in missing:
            dtype, shape = known.get(o, (None, None))
            new = found.get(o, (None, None))
            known[o] = (dtype or new[0], shape or new[1])
    return known


def _has_np(dtype: str | None) -> bool:
    try:
        np.dtype(dtype)
    except TypeError:
        return False
    return dtype is not None


def propagate_contrib(graph, opsets, declared: dict[str, Typed], zero_types: dict[str, str]) -> dict[str, Typed]:
    """Dtype and shape of every value, com.microsoft outputs and what follows them included (module docstring).

    ``opsets``: the model's opset imports; ``declared``: what the file and onnx's inference say; ``zero_types``:
    the dtype each quantized value's zero point implies, used where neither gives a dtype.
    """
    if not any(n.domain == "com.microsoft" for n in graph.node):
        return declared
    seeded = {**{k: (v, None) for k, v in zero_types.items()}, **declared}
    seeded = {k: (d or zero_types.get(k), s) for k, (d, s) in seeded.items()}
    return contrib_types(graph, seeded, opsets)
