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


def unpack_bits(packed: np.ndarray, bits: int) -> np.ndarray:
    """Unsigned k-bit codes packed into bytes, lowest bits first (ONNX Runtime's MatMulNBits layout).

    >>> unpack_bits(np.array([0x21, 0x43], np.uint8), 4).tolist()
    [1, 2, 3, 4]
    """
    if bits not in (2, 4, 8):
        raise ValueError(f"bits must be 2, 4 or 8, got {bits}")
    b = np.asarray(packed, np.uint8).reshape(-1)
    shifts = np.arange(0, 8, bits, dtype=np.uint8)
    return ((b[:, None] >> shifts) & np.uint8((1 << bits) - 1)).reshape(-1)


def _attrs(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def read_onnx(name: str, data: bytes) -> Model:
    """Every quantized tensor of an ONNX graph with its stored parameters, in any of ONNX Runtime's forms."""
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load_model_from_string(bytes(data))  # never loads external data: it names files on the server
    except Exception as exc:
        raise ModelFileError(f"{name}: not a readable ONNX model ({type(exc).__name__})") from None
    graph = model.graph
    for t in graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            raise ModelFileError(
                f"{name}: tensor {t.name!r} keeps its values in an external file, which QuantViz never "
                "follows (it would name files on the server); save the model with its data inside"
            )
    try:
        inferred = onnx.shape_inference.infer_shapes(model).graph  # fills value_info where the file lacks it
    except Exception:
        inferred = graph
    inits = {t.name: t for t in graph.initializer}
    for t in graph.initializer:
        size = onnx.helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
        check_size(name, t.name, tuple(int(d) for d in t.dims), size)

    def array(tensor_name: str) -> np.ndarray | None:
        t = inits.get(tensor_name)
        return None if t is None else numpy_helper.to_array(t)

    def zero_type(tensor_name: str | None) -> str | None:
        t = inits.get(tensor_name) if tensor_name else None
        return onnx.helper.tensor_dtype_to_np_dtype(t.data_type).name if t is not None else None

    consumers: dict[str, list] = {}
    producers: dict[str, object] = {}
    for node in graph.node:
        for i in node.input:
            consumers.setdefault(i, []).append(node)
        for o in node.output:
            producers[o] = node

    def user(tensor_name: str) -> tuple[str, object | None, int]:
        """The first operator that uses this tensor as data, looking through Q/DQ pairs, and the input's position."""
        seen = set()
        frontier = [tensor_name]
        while frontier:
            current = frontier.pop(0)
            if current in seen:
                continue
            seen.add(current)
            for node in consumers.get(current, []):
                if node.op_type in LOOK_THROUGH and list(node.input).index(current) == 0:
                    frontier.extend(node.output[:1])
                elif node.op_type not in LOOK_THROUGH:
                    return node.op_type, node, list(node.input).index(current)
        return "", None, -1

    origin = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "DequantizeLinear" and n.input}

    def operands(node) -> tuple[str, ...]:
        """The node's inputs named as the tensors the reader lists (a DequantizeLinear output by its codes)."""
        return () if node is None else tuple(origin.get(i, i) for i in node.input)

    quant: dict[str, Quantization] = {}
    notes: list[str] = []
    parameter_names: set[str] = set()
    declared_types: dict[str, str] = {}

    def per_axis(scale, zero, axis, block=None) -> Quantization:
        scales = np.asarray(scale, np.float64).reshape(-1)
        zeros = np.zeros(scales.size, np.int64) if zero is None else np.asarray(zero).astype(np.int64).reshape(-1)
        return Quantization(scales, zeros, axis if scales.size > 1 else None, block)

    for node in graph.node:
        op, ins, attrs = node.op_type, list(node.input), _attrs(node)
        if op in QDQ and len(ins) >= 2:
            target = ins[0] if op == "DequantizeLinear" else node.output[0]
            scale = array(ins[1])
            zero = array(ins[2]) if len(ins) > 2 and ins[2] else None
            parameter_names.update(ins[1:])
            if scale is None:
                continue
            if zero_type(ins[2] if len(ins) > 2 else None):
                declared_types.setdefault(target, zero_type(ins[2]))
            q = per_axis(
                scale, zero, int(attrs.get("axis", 1)), int(attrs["block_size"]) if attrs.get("block_size") else None
            )
            if target not in quant or op == "DequantizeLinear":
                quant[target] = q
        elif op in QOPERATOR:
            for x, s, z in QOPERATOR[op]:
                tensor_name = node.output[0] if x == "out" else (ins[x] if x < len(ins) else "")
                if not tensor_name or s >= len(ins) or array(ins[s]) is None:
                    continue
                parameter_names.update(i for i in (ins[s], ins[z] if z < len(ins) else "") if i)
                zp = ins[z] if z < len(ins) and ins[z] else None
                declared_types.setdefault(tensor_name, zero_type(zp) or "uint8")
                axis = 0
                if x == 3 and op == "QLinearMatMul":
                    axis = len(inits[tensor_name].dims) - 1 if tensor_name in inits else 1
                elif x == 3 and op == "QGemm":
                    axis = 0 if attrs.get("transB", 0) else 1
                quant.setdefault(tensor_name, per_axis(array(ins[s]), array(zp) if zp else None, axis))
            bias = BIAS_INPUT.get(op)
            if bias is not None and bias < len(ins) and ins[bias] in inits:
                s_in, s_w = array(ins[1]), array(ins[4])
                if s_in is not None and s_w is not None:  # the kernel's bias scale: s_in·s_w, zero point 0
                    implied = (np.float32(s_in) * np.asarray(s_w, np.float32)).reshape(-1)
                    quant[ins[bias]] = per_axis(implied, None, 0)
                    notes.append(f"{ins[bias]}: int32 bias of {op}; its scale is implied, s_in·s_w (not stored)")
        elif op in ("ConvInteger", "MatMulInteger") and len(ins) >= 2 and ins[1] in inits:
            weight = ins[1]
            zero = array(ins[3]) if len(ins) > 3 and ins[3] else None
            activation_scale = producers.get(ins[0])
            runtime_scale = (
                activation_scale.output[1]
                if activation_scale is not None and activation_scale.op_type == "DynamicQuantizeLinear"
                else None
            )
            scale_name = None
            for mul in consumers.get(runtime_scale, []) if runtime_scale else []:  # Mul(s_x, s_w): ORT's rescale
                if mul.op_type == "Mul":
                    others = [i for i in mul.input if i != runtime_scale and i in inits]
                    if others:
                        scale_name = others[0]
            if (
                scale_name is None
                and weight.endswith("_quantized")
                and weight[: -len("_quantized")] + "_scale" in inits
            ):
                scale_name = weight[: -len("_quantized")] + "_scale"
            if scale_name is None:
                notes.append(f"{weight}: {op} weight whose scale is not found in the graph")
                continue
            parameter_names.update(n for n in (scale_name, ins[3] if len(ins) > 3 else "") if n)
            axis = 0 if op == "ConvInteger" else len(inits[weight].dims) - 1
            quant[weight] = per_axis(array(scale_name), zero, axis)
        elif op in ("MatMulNBits", "GatherBlockQuantized"):
            parameter_names.update(ins[2:])
    tensors: list[Tensor] = []
    packed = _block_quantized(name, graph, inits, array, notes)
    parameter_names.update(t.name for t in packed)
    packed_names = {t.name for t in packed}
    types = {v.name: v for v in [*inferred.input, *inferred.output, *inferred.value_info]}
    inputs, outputs = {i.name for i in graph.input}, {o.name for o in graph.output}
    dynamic_outputs = {n.output[0]: n for n in graph.node if n.op_type == "DynamicQuantizeLinear"}
    for n in dynamic_outputs.values():
        parameter_names.update(n.output[1:])
    names = list(dict.fromkeys([*quant, *inits, *dynamic_outputs, *inputs, *outputs]))
    for tensor_name in names:
        if (tensor_name in parameter_names and tensor_name not in quant) or tensor_name in packed_names:
            continue  # a scale or zero point itself: shown as part of the tensor it describes
        q = quant.get(tensor_name)
        op, node, position = user(tensor_name)
        if tensor_name in inits:
            init = inits[tensor_name]
            dtype = onnx.helper.tensor_dtype_to_np_dtype(init.data_type).name
            shape = tuple(int(d) for d in init.dims)
            loader = lambda init=init: numpy_helper.to_array(init)  # noqa: E731
            if (node is not None and BIAS_INPUT.get(op) == position) or (dtype == "int32" and q is not None):
                role = "bias"
            elif node is not None and (WEIGHT_INPUT.get(op) == position or (op in COMPUTE and len(shape) >= 2)):
                role = "weight"
            else:
                role = "weight" if len(shape) >= 2 and q is None else "constant"
        else:
            info = types.get(tensor_name)
            tt = info.type.tensor_type if info is not None else None
            dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type).name if tt is not None and tt.elem_type else None
            dtype = (
                dtype or declared_types.get(tensor_name) or ("uint8" if tensor_name in dynamic_outputs else "unknown")
            )
            shape = (
                tuple(int(d.dim_value) if d.HasField("dim_value") else -1 for d in tt.shape.dim)
                if tt is not None and tt.HasField("shape")
                else ()
            )
            loader = None
            role = "input" if tensor_name in inputs else "output" if tensor_name in outputs else "activation"
        tensors.append(Tensor(tensor_name, dtype, shape, role, op, q, loader, operands(node)))
    tensors.extend(packed)
    file_type = onnx_file_type({n.op_type for n in graph.node})
    if file_type == "onnx-dynamic":
        notes.append(
            f"{len(dynamic_outputs)} activation tensor(s) are quantized at run time by DynamicQuantizeLinear "
            "(uint8, scale and zero point computed from each batch's min and max): no stored scale"
        )
    return Model(name, "onnx", tensors, notes, file_type, raw=data)


def _block_quantized(name: str, graph, inits: dict, array, notes: list[str]) -> list[Tensor]:
    """MatMulNBits and GatherBlockQuantized weights, codes and zero points unpacked."""
    import onnx

    out = []
    for node in graph.node:
        ins, attrs = list(node.input), _attrs(node)
        if node.op_type == "MatMulNBits" and len(ins) >= 3 and ins[1] in inits:
            k, n, bits, block = int(attrs["K"]), int(attrs["N"]), int(attrs.get("bits", 4)), int(attrs["block_size"])
            blocks = -(-k // block)
            raw, scales = array(ins[1]), array(ins[2])
            if raw.size != n * blocks * block * bits // 8 or scales.size != n * blocks:
                raise ModelFileError(
                    f"{name}: MatMulNBits {node.name!r} stores {raw.size} bytes and {scales.size} scales; "
                    f"K={k}, N={n}, {bits} bits, blocks of {block} need {n * blocks * block * bits // 8} "
                    f"and {n * blocks}"
                )
            zero_raw = array(ins[3]) if len(ins) > 3 and ins[3] else None
            if zero_raw is None:
                zeros = np.full(n * blocks, 1 << (bits - 1), np.int64)  # the operator's default zero point
            elif zero_raw.dtype.kind == "f":
                raise ModelFileError(
                    f"{name}: MatMulNBits {node.name!r} stores float zero points, which QuantViz does not read"
                )
            else:  # each row's zero points packed like the codes, padded to whole bytes
                per_row = unpack_bits(zero_raw, bits).reshape(n, -1)[:, :blocks]
                zeros = per_row.reshape(-1).astype(np.int64)

            def load(raw=raw, n=n, k=k, bits=bits) -> np.ndarray:
                return unpack_bits(raw, bits).reshape(n, -1)[:, :k]

            out.append(
                Tensor(
                    ins[1],
                    f"uint{bits}",
                    (n, k),
                    "weight",
                    "MatMulNBits",
                    Quantization(np.asarray(scales, np.float64).reshape(-1), zeros, 1, block),
                    load,
                )
            )
            notes.append(
                f"{ins[1]}: MatMulNBits packs {bits}-bit codes {8 // bits} to a byte, lowest bits first, "
                f"stored as [N, K] = [{n}, {k}] (the MatMul's [K, N] transposed), blocks of {block} along K"
            )
        elif node.op_type == "GatherBlockQuantized" and len(ins) >= 3 and ins[0] in inits:
            axis, block = int(attrs.get("quantize_axis", 1)), int(attrs.get("block_size", 128))
            codes = array(ins[0])
            stored = onnx.helper.tensor_dtype_to_np_dtype(inits[ins[0]].data_type).name
            zero = array(ins[3]) if len(ins) > 3 and ins[3] else None
            default = 8 if stored == "uint4" else 0
            scales = np.asarray(array(ins[2]), np.float64).reshape(-1)
            zeros = (
                np.full(scales.size, default, np.int64)
                if zero is None
                else np.asarray(zero).astype(np.int64).reshape(-1)
            )
            wide = np.uint8 if stored.startswith("uint") else np.int8

            def load(codes=codes, wide=wide) -> np.ndarray:
                return np.asarray(codes).astype(wide)

            out.append(
                Tensor(
                    ins[0],
                    stored,
                    tuple(int(d) for d in codes.shape),
                    "weight",
                    "GatherBlockQuantized",
                    Quantization(scales, zeros, axis, block),
                    load,
                )
            )
            notes.append(
                f"{ins[0]}: GatherBlockQuantized embedding, {stored} codes in blocks of {block} along axis {axis}"
            )
    return out
