"""What a debug run takes: its limits, and its inputs (generated with a seed, or read from the user's file).

The user's model runs inside the server, so the inputs are capped here (count and bytes) before anything runs.
ONNX models give their inputs from the graph; TFLite models from the flatbuffer's graph inputs (read by QuantViz).
"""

from __future__ import annotations

import numpy as np

from quantviz.errors import ModelFileError
from quantviz.models.base import Model

MAX_INPUT_BYTES = 64 << 20  # all sample inputs together
MAX_BATCHES = 64


def onnx_proto(model: Model):
    """The ONNX proto of ``model``, refusing tensors whose values live in an external file (never followed)."""
    import onnx

    if model.format != "onnx" or model.raw is None:
        raise ModelFileError(f"{model.name}: only ONNX and TFLite models are run here (this one is {model.format})")
    proto = onnx.load_model_from_string(bytes(model.raw))
    for t in proto.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            raise ModelFileError(
                f"{model.name}: tensor {t.name!r} keeps its values in an external file; never followed"
            )
    return proto


def check_inputs(inputs: list[dict[str, np.ndarray]]) -> None:
    """Refuse no inputs, too many, or more than ``MAX_INPUT_BYTES`` of them."""
    if not inputs:
        raise ModelFileError("debug_model needs at least one input (a dict of input name to array)")
    if len(inputs) > MAX_BATCHES:
        raise ModelFileError(f"{len(inputs)} inputs: at most {MAX_BATCHES} are run")
    size = sum(np.asarray(v).nbytes for batch in inputs for v in batch.values())
    if size > MAX_INPUT_BYTES:
        raise ModelFileError(f"the inputs hold {size / 2**20:.1f} MiB; at most {MAX_INPUT_BYTES >> 20} MiB are run")


def _onnx_specs(model: Model) -> dict[str, tuple[tuple[int, ...], np.dtype, int]]:
    import onnx

    proto = onnx_proto(model)
    initial = {t.name for t in proto.graph.initializer}
    dims0 = {t.name: (int(t.dims[0]) if t.dims else 1) for t in proto.graph.initializer}
    specs = {}
    for graph_input in proto.graph.input:
        if graph_input.name in initial:
            continue
        tt = graph_input.type.tensor_type
        shape = tuple(int(d.dim_value) if d.HasField("dim_value") and d.dim_value > 0 else 1 for d in tt.shape.dim)
        high = 2
        for node in proto.graph.node:
            if node.op_type in ("Gather", "GatherBlockQuantized") and node.input[1:2] == [graph_input.name]:
                high = dims0.get(node.input[0], high)
        specs[graph_input.name] = (shape, np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)), high)
    return specs


def _tflite_specs(model: Model) -> dict[str, tuple[tuple[int, ...], np.dtype, int]]:
    from quantviz.models.tflite_run import graph_of

    graph = graph_of(model)
    specs = {}
    for index in graph.inputs:
        tensor = model.tensors[index]
        dtype = np.dtype(tensor.dtype) if tensor.dtype in ("float32", "float16", "int8", "uint8", "int16") else None
        if dtype is None:
            dtype = np.dtype(np.int32 if tensor.dtype == "int32" else np.float32)
        specs[tensor.name] = (tuple(d if d > 0 else 1 for d in tensor.shape), dtype, 2)
    return specs


def input_specs(model: Model) -> dict[str, tuple[tuple[int, ...], np.dtype, int]]:
    """Each graph input: (shape, unknown dimensions 1; numpy dtype; ids below this for an integer input).

    >>> from pathlib import Path; from quantviz.models import open_model
    >>> input_specs(open_model(Path(__file__).parent / "examples" / "tflite_cnn_float.tflite"))["x"][:2]
    ((1, 8, 8, 3), dtype('float32'))
    """
    return _tflite_specs(model) if model.format == "tflite" else _onnx_specs(model)


def sample_inputs(model: Model, count: int, seed: int) -> list[dict[str, np.ndarray]]:
    """``count`` inputs for ``model``'s graph inputs, standard normal float32 (unknown dimensions 1), integer ids
    below the vocabulary of the Gather that uses them, reproducible from ``seed``.

    >>> from pathlib import Path; from quantviz.models import open_model
    >>> m = open_model(Path(__file__).parent / "examples" / "onnx_float.onnx")
    >>> [(k, v.shape, v.dtype.name) for k, v in sample_inputs(m, 1, 0)[0].items()]
    [('x', (1, 3, 8, 8), 'float32')]
    """
    if not 1 <= count <= MAX_BATCHES:
        raise ValueError(f"count must be in [1, {MAX_BATCHES}], got {count}")
    specs = input_specs(model)
    rng = np.random.default_rng(seed)
    batches: list[dict[str, np.ndarray]] = [{} for _ in range(count)]
    for name, (shape, dtype, high) in specs.items():
        for batch in batches:
            batch[name] = (
                rng.standard_normal(shape).astype(dtype)
                if dtype.kind == "f"
                else rng.integers(0, high, shape).astype(dtype)
            )
    return batches


def _batches_of(name: str, key: str, tensors: list, ndim: int, dtype: np.dtype) -> list[np.ndarray]:
    """The batches one input gets from its entries: an entry of one dimension more holds a batch per index."""
    batches = []
    for t in tensors:
        if t.size * np.dtype(t.dtype).itemsize > MAX_INPUT_BYTES:
            raise ModelFileError(
                f"{name}: entry {t.name!r} is larger than the {MAX_INPUT_BYTES >> 20} MiB the run takes"
            )
        value = t.load().astype(dtype)
        if value.ndim == ndim + 1:
            batches.extend(value[i] for i in range(value.shape[0]))
        elif value.ndim == ndim:
            batches.append(value)
        else:
            raise ModelFileError(
                f"{name}: entry {t.name!r} has {value.ndim} dimensions; input {key!r} takes {ndim} "
                f"(or {ndim + 1} for several batches)"
            )
    return batches


def inputs_from_file(model: Model, name: str, data: bytes) -> list[dict[str, np.ndarray]]:
    """Sample inputs from an uploaded ``.npy``/``.npz`` (read like any model file: no pickles, sizes checked first).

    Entries named after the model's inputs feed those inputs; for a model with one input, every entry (or the one
    ``.npy`` array) is a batch of it. An array with one dimension more than its input holds a batch per index.

    >>> import io; from pathlib import Path; from quantviz.models import open_model
    >>> m = open_model(Path(__file__).parent / "examples" / "onnx_float.onnx")
    >>> buffer = io.BytesIO(); np.save(buffer, np.zeros((5, 1, 3, 8, 8), np.float32))
    >>> len(inputs_from_file(m, "x.npy", buffer.getvalue()))
    5
    """
    from quantviz.models.npz_reader import read_npz
    from quantviz.models.readers import refuse_pickles

    if not name.lower().endswith((".npy", ".npz")):
        raise ModelFileError(f"{name}: sample inputs are a .npy or .npz file")
    specs = input_specs(model)
    if not data:
        raise ModelFileError(f"{name}: the file is empty")
    refuse_pickles(name, data)
    arrays = {t.name: t for t in read_npz(name, data).tensors}
    named = {k: [v] for k, v in arrays.items() if k in specs}
    if not named and len(specs) == 1:
        named = {next(iter(specs)): list(arrays.values())}
    elif not named:
        raise ModelFileError(f"{name}: name its entries after the model's inputs ({', '.join(specs)})")
    per_input = {
        key: _batches_of(name, key, tensors, len(specs[key][0]), specs[key][1]) for key, tensors in named.items()
    }
    missing = set(specs) - set(per_input)
    if missing:
        raise ModelFileError(f"{name}: no values for input(s) {', '.join(sorted(missing))}")
    counts = {len(v) for v in per_input.values()}
    if len(counts) != 1:
        raise ModelFileError(f"{name}: the inputs have different numbers of batches ({sorted(counts)})")
    count = counts.pop()
    if count > MAX_BATCHES:
        raise ModelFileError(f"{name}: {count} batches; at most {MAX_BATCHES} are run")
    return [{k: v[i] for k, v in per_input.items()} for i in range(count)]
