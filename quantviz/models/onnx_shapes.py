"""Dtypes and shapes after ONNX Runtime's com.microsoft operators, which onnx's shape inference does not know.

``onnx.shape_inference`` stops at QLinearAdd, QLinearConcat, QGemm... (ONNX Runtime's contrib operators): their
outputs, and everything after them, come back without a type. :func:`propagate_contrib` walks the graph in order
and gives each such output the dtype and shape its operator's semantics imply: elementwise operators broadcast
their two inputs, activations keep their input's shape, QLinearConcat adds up the axis, QGemm is [M, N] after its
transposes, QLinearGlobalAveragePool keeps N and C, MatMulNBits replaces K by N, GatherBlockQuantized puts the
indices' shape in place of the gathered axis; the dtype is the output zero point's (or the input's). Standard
operators after them (Flatten, DequantizeLinear...) are inferred again by onnx from the types found.
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


def contrib_types(graph, declared: dict[str, Typed]) -> dict[str, Typed]:
    """``declared`` with every com.microsoft operator's outputs typed, walking the nodes in order."""
    from onnx import helper

    known = {**declared, **_initializers(graph)}  # an initializer's own dims and type are authoritative
    for node in graph.node:
        if node.domain != "com.microsoft" or not node.output:
            continue
        out = node.output[0]
        dtype, shape = known.get(out, (None, None))
        if dtype is not None and shape is not None:
            continue
        ins = list(node.input)
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        shapes = [known.get(i, (None, None))[1] if i else None for i in ins]
        known[out] = (dtype or _dtype(node.op_type, ins, known), shape or _shape(node.op_type, shapes, attrs))
    return known


SMALL_CONSTANT = 64  # initializers up to this many values keep their data (shape inference reads Reshape's shape)


def _light_copy(graph):
    """The graph without its weights' data: a large initializer becomes a typed input (shapes need only its type)."""
    import math

    from onnx import helper

    copy = helper.make_graph(list(graph.node), graph.name, list(graph.input), list(graph.output))
    names = {i.name for i in graph.input}
    for t in graph.initializer:
        if math.prod(t.dims) <= SMALL_CONSTANT:
            copy.initializer.append(t)
        elif t.name not in names:
            copy.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    copy.ClearField("value_info")
    return copy


def _reinfer(graph, opsets, known: dict[str, Typed]):
    """onnx's shape inference again, with the contrib outputs' types given: the standard operators after them."""
    import onnx
    from onnx import helper

    typed = [
        helper.make_tensor_value_info(n, onnx.helper.np_dtype_to_tensor_dtype(np.dtype(d)), list(s))
        for n, (d, s) in known.items()
        if d is not None and s is not None and d not in ("unknown",) and _has_np(d)
    ]
    copy = _light_copy(graph)
    present = {v.name for v in [*copy.input, *copy.output]} | {t.name for t in copy.initializer}
    copy.value_info.extend(v for v in typed if v.name not in present)
    model = helper.make_model(copy, opset_imports=list(opsets))
    try:
        return onnx.shape_inference.infer_shapes(model).graph
    except Exception:
        return None


def _has_np(dtype: str) -> bool:
    try:
        np.dtype(dtype)
    except TypeError:
        return False
    return True


def propagate_contrib(graph, opsets, declared: dict[str, Typed], zero_types: dict[str, str]) -> dict[str, Typed]:
    """Dtype and shape of every value, com.microsoft outputs included (see the module's docstring).

    ``opsets``: the model's opset imports; ``declared``: what the file and onnx's inference say; ``zero_types``:
    the dtype each quantized value's zero point implies, used where neither gives a dtype.
    """
    if not any(n.domain == "com.microsoft" for n in graph.node):
        return declared
    seeded = {**{k: (v, None) for k, v in zero_types.items()}, **declared}
    seeded = {k: (d or zero_types.get(k), s) for k, (d, s) in seeded.items()}
    known = contrib_types(graph, seeded)
    for _ in range(3):  # a contrib operator after a standard one after a contrib one: a few rounds settle it
        again = _reinfer(graph, opsets, known)
        if again is None:
            break
        before = {k: v for k, v in known.items() if v[0] is not None and v[1] is not None}
        known = contrib_types(graph, {**known, **{k: v for k, v in declared_types(again).items() if v[1] is not None}})
        if {k: v for k, v in known.items() if v[0] is not None and v[1] is not None} == before:
            break
    return known
