"""Readers for the model files QuantViz opens, each on the field's own library, none unpickling anything.

- ``.npz`` / ``.npy``: ``npz_reader`` (headers parsed, sizes checked before anything is inflated);
- ``.safetensors``: ``safetensors_reader`` (the header checked, then the ``safetensors`` package);
- ``.onnx``: the ``onnx`` package, external data refused (it names files on the server);
- ``.gguf``: ``gguf_reader`` (the ``gguf`` package's reader, sizes checked first);
- ``.tflite``: the ``tflite`` flatbuffer bindings (no TensorFlow).

Every failure becomes a :class:`quantviz.errors.ModelFileError` naming the file and the problem.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

from quantviz.errors import ModelFileError
from quantviz.models.base import Model, Quantization, Tensor, check_size

PICKLED = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle")


def refuse_pickles(name: str, data: bytes) -> None:
    """Refuse pickled checkpoints by name and by content (a pickle stream, or a torch zip with data.pkl)."""
    lower = name.lower()
    if lower.endswith(PICKLED):
        raise ModelFileError(f"{name}: a pickled checkpoint, which QuantViz never unpickles (it can run code). "
                             "Save it with safetensors (safetensors.torch.save_file) and open that.")
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise ModelFileError(f"{name}: this is a pickle stream, which QuantViz never unpickles; save it with safetensors")
    if data[:2] == b"PK" and not lower.endswith((".npz",)):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return
        if any(n.endswith(".pkl") for n in names):
            raise ModelFileError(f"{name}: a PyTorch zip checkpoint (pickled), which QuantViz never unpickles; save it with safetensors")


# ----------------------------------------------------------------------------- ONNX
ONNX_QUANT_OPS = {"QLinearConv": ((0, 1, 2), (3, 4, 5), (None, 6, 7)), "QLinearMatMul": ((0, 1, 2), (3, 4, 5), (None, 6, 7))}


def read_onnx(name: str, data: bytes) -> Model:
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load_model_from_string(bytes(data))  # never loads external data: it names files on the server
    except Exception as exc:
        raise ModelFileError(f"{name}: not a readable ONNX model ({type(exc).__name__})") from None
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    for t in graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            raise ModelFileError(f"{name}: tensor {t.name!r} keeps its values in an external file, which QuantViz never "
                                 "follows (it would name files on the server); save the model with its data inside")

    def array(tensor_name: str) -> np.ndarray | None:
        t = inits.get(tensor_name)
        return None if t is None else numpy_helper.to_array(t)

    quant: dict[str, tuple[Quantization, str]] = {}
    for node in graph.node:
        if node.op_type in ("DequantizeLinear", "QuantizeLinear") and len(node.input) >= 2:
            target = node.input[0] if node.op_type == "DequantizeLinear" else node.output[0]
            scale = array(node.input[1])
            zero = array(node.input[2]) if len(node.input) > 2 and node.input[2] else None
            if scale is None:
                continue
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            scales = np.asarray(scale, np.float64).reshape(-1)
            zeros = (np.zeros(scales.size, np.int64) if zero is None else np.asarray(zero).astype(np.int64).reshape(-1))
            per_axis = scales.size > 1
            q = Quantization(scales, zeros, int(attrs.get("axis", 1)) if per_axis else None,
                             int(attrs["block_size"]) if attrs.get("block_size") else None)
            if target not in quant or node.op_type == "DequantizeLinear":
                quant[target] = (q, node.op_type)
        elif node.op_type in ONNX_QUANT_OPS:
            for x, s, z in ONNX_QUANT_OPS[node.op_type]:
                tensor_name = node.input[x] if x is not None else node.output[0]
                scale, zero = array(node.input[s]), array(node.input[z])
                if scale is not None:
                    scales = np.asarray(scale, np.float64).reshape(-1)
                    zeros = np.zeros(scales.size, np.int64) if zero is None else np.asarray(zero).astype(np.int64).reshape(-1)
                    quant.setdefault(tensor_name, (Quantization(scales, zeros, 0 if scales.size > 1 else None), node.op_type))
    users: dict[str, str] = {}
    for node in graph.node:
        for i in node.input:
            users.setdefault(i, node.op_type)
    types = {v.name: v for v in [*graph.input, *graph.output, *graph.value_info]}
    names = list(dict.fromkeys([*quant, *inits]))
    scale_names = {n for node in graph.node if node.op_type in ("DequantizeLinear", "QuantizeLinear", *ONNX_QUANT_OPS)
                   for n in node.input[1:]}
    tensors = []
    for tensor_name in names:
        if tensor_name in scale_names and tensor_name not in quant:
            continue  # a scale or zero point itself: shown as part of the tensor it describes
        q = quant.get(tensor_name)
        if tensor_name in inits:
            init = inits[tensor_name]
            dtype = onnx.helper.tensor_dtype_to_np_dtype(init.data_type).name
            shape = tuple(int(d) for d in init.dims)
            check_size(name, tensor_name, shape, np.dtype(dtype).itemsize)
            loader = lambda init=init: numpy_helper.to_array(init)  # noqa: E731
            role = "bias" if dtype == "int32" else "weight"
        else:
            info = types.get(tensor_name)
            tt = info.type.tensor_type if info is not None else None
            dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type).name if tt is not None and tt.elem_type else "unknown"
            shape = tuple(int(d.dim_value) if d.HasField("dim_value") else -1 for d in tt.shape.dim) if tt is not None else ()
            loader, role = None, "activation"
            if any(i.name == tensor_name for i in graph.input):
                role = "input"
            if any(o.name == tensor_name for o in graph.output):
                role = "output"
        tensors.append(Tensor(tensor_name, dtype, shape, role, users.get(tensor_name, q[1] if q else ""),
                              q[0] if q else None, loader))
    return Model(name, "onnx", tensors)


# ----------------------------------------------------------------------------- TFLite
TFLITE_TYPES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16", 9: "int8",
                10: "float64", 17: "int4"}


def read_tflite(name: str, data: bytes) -> Model:
    import tflite

    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelFileError(f"{name}: not a TFLite flatbuffer (no TFL3 identifier)")
    try:
        model = tflite.Model.GetRootAsModel(data, 0)
        graph = model.Subgraphs(0)
        codes = [model.OperatorCodes(i) for i in range(model.OperatorCodesLength())]
        op_names = {getattr(tflite.BuiltinOperator, k): k for k in dir(tflite.BuiltinOperator) if not k.startswith("_")}
        users: dict[int, str] = {}
        for i in range(graph.OperatorsLength()):
            op = graph.Operators(i)
            code = codes[op.OpcodeIndex()]
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            for t in op.InputsAsNumpy().tolist() if op.InputsLength() else []:
                users.setdefault(int(t), op_names.get(builtin, str(builtin)))
        inputs = set(graph.InputsAsNumpy().tolist()) if graph.InputsLength() else set()
        outputs = set(graph.OutputsAsNumpy().tolist()) if graph.OutputsLength() else set()
        tensors = []
        for i in range(graph.TensorsLength()):
            t = graph.Tensors(i)
            dtype = TFLITE_TYPES.get(t.Type(), f"type {t.Type()}")
            shape = tuple(int(d) for d in t.ShapeAsNumpy().tolist()) if t.ShapeLength() else ()
            q = t.Quantization()
            quant = None
            if q is not None and q.ScaleLength():
                scales = q.ScaleAsNumpy().astype(np.float64)
                zeros = q.ZeroPointAsNumpy().astype(np.int64) if q.ZeroPointLength() else np.zeros(scales.size, np.int64)
                quant = Quantization(scales, zeros, int(q.QuantizedDimension()) if scales.size > 1 else None)
            buffer = model.Buffers(t.Buffer())
            loader = None
            if buffer is not None and buffer.DataLength():
                raw = buffer.DataAsNumpy().tobytes()
                np_dtype = np.int8 if dtype == "int4" else np.dtype(dtype)
                check_size(name, t.Name().decode(), shape, 0.5 if dtype == "int4" else np.dtype(np_dtype).itemsize, len(raw))

                def load(raw=raw, dtype=dtype, shape=shape, np_dtype=np_dtype) -> np.ndarray:
                    if dtype == "int4":  # two's-complement nibbles, low nibble first
                        b = np.frombuffer(raw, np.uint8)
                        both = np.stack([b & 0x0F, b >> 4], axis=-1).reshape(-1).astype(np.int8)
                        return np.where(both > 7, both - 16, both).astype(np.int8)[: int(np.prod(shape))].reshape(shape)
                    return np.frombuffer(raw, np_dtype)[: int(np.prod(shape)) if shape else 1].reshape(shape)

                loader = load
            role = "input" if i in inputs else "output" if i in outputs else ("bias" if dtype in ("int32", "int64") and loader else
                                                                             "weight" if loader else "activation")
            tensors.append(Tensor(t.Name().decode(errors="replace"), dtype, shape, role, users.get(i, ""), quant, loader))
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(f"{name}: the TFLite flatbuffer is broken or truncated ({type(exc).__name__})") from None
    return Model(name, "tflite", tensors)
