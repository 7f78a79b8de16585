"""``.tflite``: the ``tflite`` flatbuffer bindings (no TensorFlow); TFLite's own name for the kind of file."""

from __future__ import annotations

import numpy as np

from quantviz.errors import ModelFileError
from quantviz.models.base import Model, Quantization, Tensor, check_size

TFLITE_TYPES = {
    0: "float32",
    1: "float16",
    2: "int32",
    3: "uint8",
    4: "int64",
    6: "bool",
    7: "int16",
    9: "int8",
    10: "float64",
    17: "int4",
}


def read_tflite(name: str, data: bytes) -> Model:
    """Read a ``.tflite`` flatbuffer: every tensor of its first subgraph with its stored quantization and codes.

    >>> from pathlib import Path
    >>> m = read_tflite("m.tflite", (Path(__file__).parent / "examples" / "tflite_cnn_int8.tflite").read_bytes())
    >>> m.file_type, m.tensors[0].name, m.tensors[0].role
    ('tflite-int8', 'x', 'input')
    """
    import tflite

    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelFileError(f"{name}: not a TFLite flatbuffer (no TFL3 identifier)")
    try:
        model = tflite.Model.GetRootAsModel(data, 0)
        graph = model.Subgraphs(0)
        users = _users(model, graph, tflite)
        inputs = set(graph.InputsAsNumpy().tolist()) if graph.InputsLength() else set()
        outputs = set(graph.OutputsAsNumpy().tolist()) if graph.OutputsLength() else set()
        names = [graph.Tensors(j).Name().decode(errors="replace") for j in range(graph.TensorsLength())]
        tensors = []
        for i in range(graph.TensorsLength()):
            t = graph.Tensors(i)
            dtype = TFLITE_TYPES.get(t.Type(), f"type {t.Type()}")
            shape = tuple(int(d) for d in t.ShapeAsNumpy().tolist()) if t.ShapeLength() else ()
            loader = _loader(name, names[i], model.Buffers(t.Buffer()), dtype, shape)
            op_name, position, op_inputs = users.get(i, ("", -1, ()))
            tensors.append(
                Tensor(
                    names[i],
                    dtype,
                    shape,
                    _role(i in inputs, i in outputs, loader is not None, dtype, op_name, position),
                    op_name,
                    _quantization(t.Quantization()),
                    loader,
                    tuple(names[j] for j in op_inputs if 0 <= j < len(names)),
                )
            )
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(f"{name}: the TFLite flatbuffer is broken or truncated ({type(exc).__name__})") from None
    return Model(name, "tflite", tensors, file_type=tflite_file_type(tensors), raw=data)


def _users(model, graph, tflite) -> dict[int, tuple[str, int, tuple[int, ...]]]:
    """Tensor -> (the first operator using it, its input position there, that operator's inputs)."""
    codes = [model.OperatorCodes(i) for i in range(model.OperatorCodesLength())]
    op_names = {getattr(tflite.BuiltinOperator, k): k for k in dir(tflite.BuiltinOperator) if not k.startswith("_")}
    users: dict[int, tuple[str, int, tuple[int, ...]]] = {}
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = codes[op.OpcodeIndex()]
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        op_inputs = tuple(int(t) for t in op.InputsAsNumpy().tolist()) if op.InputsLength() else ()
        for position, t in enumerate(op_inputs):
            if t >= 0:
                users.setdefault(t, (op_names.get(builtin, str(builtin)), position, op_inputs))
    return users


def _quantization(q) -> Quantization | None:
    """The tensor's stored scales, zero points (0 where none are stored) and quantized dimension."""
    if q is None or not q.ScaleLength():
        return None
    scales = q.ScaleAsNumpy().astype(np.float64)
    zeros = q.ZeroPointAsNumpy().astype(np.int64) if q.ZeroPointLength() else np.zeros(scales.size, np.int64)
    return Quantization(scales, zeros, int(q.QuantizedDimension()) if scales.size > 1 else None)


def _loader(file: str, tensor: str, buffer, dtype: str, shape: tuple[int, ...]):
    """A loader of the tensor's stored values (int4 unpacked), its size checked first; None if it stores none."""
    if buffer is None or not buffer.DataLength():
        return None
    raw = buffer.DataAsNumpy().tobytes()
    np_dtype = np.int8 if dtype == "int4" else np.dtype(dtype)
    check_size(file, tensor, shape, 0.5 if dtype == "int4" else np.dtype(np_dtype).itemsize, len(raw))

    def load() -> np.ndarray:
        count = int(np.prod(shape)) if shape else 1
        if dtype == "int4":  # two's-complement nibbles, low nibble first
            b = np.frombuffer(raw, np.uint8)
            both = np.stack([b & 0x0F, b >> 4], axis=-1).reshape(-1).astype(np.int8)
            return np.where(both > 7, both - 16, both).astype(np.int8)[:count].reshape(shape)
        return np.frombuffer(raw, np_dtype)[:count].reshape(shape)

    return load


def _role(is_input: bool, is_output: bool, stored: bool, dtype: str, op_name: str, position: int) -> str:
    if is_input or is_output or not stored:
        return "input" if is_input else "output" if is_output else "activation"
    if dtype in ("int32", "int64") or (op_name in TFLITE_BIASED and position == 2):
        return "bias"
    return "weight"


TFLITE_BIASED = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"}  # input 2 is the bias


def tflite_file_type(tensors: list[Tensor]) -> str:
    """TFLite's own name for how the file was quantized, from the tensors' types.

    >>> q = Quantization(np.ones(1), np.zeros(1))
    >>> tflite_file_type([Tensor("x", "int16", (1, 4), "activation", quantization=q)])
    'tflite-16x8'
    """
    activations = [t for t in tensors if not t.has_values and t.quantization is not None]
    weights = [t for t in tensors if t.has_values and t.role == "weight"]
    if any(t.dtype == "int16" for t in activations):
        return "tflite-16x8"
    if activations:
        return "tflite-int8"
    if any(t.quantization is not None for t in weights):
        return "tflite-dynamic"
    if any(t.dtype == "float16" and t.op == "DEQUANTIZE" for t in weights):
        return "tflite-float16"
    return "tflite-float"
