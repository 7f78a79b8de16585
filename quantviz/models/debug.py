"""Run it: a float model and its quantized version on the same inputs, compared tensor by tensor.

:func:`debug_model` runs both ONNX models with onnxruntime (every intermediate tensor added as an output, graph
optimisations off, CPU only, as ``onnxruntime.quantization.qdq_loss_debug`` does) and returns, for every tensor the
two share, in the float graph's order: the SQNR in dB (qdq_loss_debug's formula, 20·log10(‖x‖ / ‖x − y‖) over all
inputs, each norm at least machine epsilon), the max |error| and the SQNR lost since the shared tensor before it.

A quantized tensor is matched to the float tensor of the same name by how ONNX Runtime's quantizers name things:
``T_DequantizeLinear_Output`` (QDQ, as qdq_loss_debug matches), ``T`` itself where it is still a float tensor
(dynamic, MatMulNBits, QDQ graph outputs), or ``T_quantized`` dequantized with its stored scale and zero point
(QOperator). The user's model runs inside the server: inputs are capped in size, the run in time (stopped through
onnxruntime's ``RunOptions.terminate``), external data is refused and no custom operator library is ever loaded.
"""

from __future__ import annotations

import math
import threading
import time
from typing import NamedTuple

import numpy as np

from quantviz.errors import ModelFileError
from quantviz.models.base import Model

MAX_INPUT_BYTES = 64 << 20  # all sample inputs together
MAX_BATCHES = 64
MAX_SECONDS = 30.0  # both models, all inputs
MAX_COLLECTED_BYTES = 1 << 30  # every intermediate tensor of every run, both models
EPSILON = float(np.finfo(float).eps)
FUSED = {"Relu", "Clip"}  # activations ONNX Runtime's QOperator quantizer folds into the operator before them


class DebugRow(NamedTuple):
    """One tensor both models compute: how far the quantized model's value is from the float model's."""

    name: str
    op: str
    quantized_name: str
    sqnr_db: float
    max_abs_error: float
    previous: str
    added_db: float | None
    clipped: float | None = None  # share of the quantized codes at an end of the grid that is not the zero point


class DebugRun(NamedTuple):
    """A debug run: the rows in graph order, how many inputs, and how long the two models took."""

    rows: list[DebugRow]
    batches: int
    seconds: float


def sqnr_db(reference: list[np.ndarray], other: list[np.ndarray]) -> float:
    """SQNR (dB) of ``other`` against ``reference`` over all batches, as onnxruntime's qdq_loss_debug computes it.

    >>> round(sqnr_db([np.array([3.0, 4.0])], [np.array([3.0, 4.5])]), 3)
    20.0
    """
    left = np.concatenate(reference).flatten()
    right = np.concatenate(other).flatten()
    tensor_norm = max(np.linalg.norm(left), EPSILON)
    diff_norm = max(np.linalg.norm(left - right), EPSILON)
    return 20 * math.log10(tensor_norm / diff_norm)


def _proto(model: Model):
    import onnx

    if model.format != "onnx" or model.raw is None:
        raise ModelFileError(f"{model.name}: only ONNX models are run here (this one is {model.format})")
    proto = onnx.load_model_from_string(bytes(model.raw))
    for t in proto.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            raise ModelFileError(
                f"{model.name}: tensor {t.name!r} keeps its values in an external file; never followed"
            )
    return proto


def _augmented(proto) -> tuple[bytes, list[str]]:
    """The model with every node output (and graph input) as a graph output; the names in graph order."""
    import onnx

    try:
        typed = {v.name: v for v in onnx.shape_inference.infer_shapes(proto).graph.value_info}
    except Exception:
        typed = {}
    existing = {o.name for o in proto.graph.output}
    names = [i.name for i in proto.graph.input]
    for node in proto.graph.node:
        for out in node.output:
            if out and out not in existing:
                info = typed.get(out)
                value = onnx.ValueInfoProto()
                if info is not None:
                    value.CopyFrom(info)
                value.name = out
                proto.graph.output.append(value)
                existing.add(out)
            if out:
                names.append(out)
    return proto.SerializeToString(), list(dict.fromkeys(names))


def _run(
    model: Model, inputs: list[dict[str, np.ndarray]], deadline: float
) -> tuple[dict[str, list[np.ndarray]], list[str]]:
    import onnxruntime as ort

    data, order = _augmented(_proto(model))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # as qdq_loss_debug: names survive
    options.intra_op_num_threads = 1
    try:
        session = ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelFileError(f"{model.name}: onnxruntime cannot load it ({str(exc).splitlines()[0][:300]})") from None
    wanted = {i.name for i in session.get_inputs()}
    collected: dict[str, list[np.ndarray]] = {}
    total = 0
    names = [o.name for o in session.get_outputs()]
    for batch in inputs:
        missing = wanted - set(batch)
        if missing:
            raise ModelFileError(f"{model.name}: the inputs lack {', '.join(sorted(missing))}")
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise ModelFileError(f"{model.name}: stopped: the run took longer than {MAX_SECONDS:.0f} s")
        run_options = ort.RunOptions()
        timer = threading.Timer(remaining, lambda r=run_options: setattr(r, "terminate", True))
        timer.start()
        try:
            values = session.run(None, {k: batch[k] for k in wanted}, run_options)
        except Exception as exc:
            if run_options.terminate:
                raise ModelFileError(f"{model.name}: stopped: the run took longer than {MAX_SECONDS:.0f} s") from None
            raise ModelFileError(
                f"{model.name}: onnxruntime failed to run it ({str(exc).splitlines()[0][:300]})"
            ) from None
        finally:
            timer.cancel()
        for name, value in zip(names, values, strict=True):
            total += value.nbytes
            collected.setdefault(name, []).append(value)
        if total > MAX_COLLECTED_BYTES:
            raise ModelFileError(
                f"{model.name}: its intermediate tensors exceed {MAX_COLLECTED_BYTES >> 30} GiB on these inputs"
            )
    for name in wanted:
        collected.setdefault(name, [b[name] for b in inputs])
    return collected, order


def _check_inputs(inputs: list[dict[str, np.ndarray]]) -> None:
    if not inputs:
        raise ModelFileError("debug_model needs at least one input (a dict of input name to array)")
    if len(inputs) > MAX_BATCHES:
        raise ModelFileError(f"{len(inputs)} inputs: at most {MAX_BATCHES} are run")
    size = sum(np.asarray(v).nbytes for batch in inputs for v in batch.values())
    if size > MAX_INPUT_BYTES:
        raise ModelFileError(f"the inputs hold {size / 2**20:.1f} MiB; at most {MAX_INPUT_BYTES >> 20} MiB are run")


def _match(name: str, quantized: dict[str, list[np.ndarray]], model: Model) -> tuple[str, list[np.ndarray]] | None:
    """The quantized model's value of float tensor ``name``, as float, by ONNX Runtime's naming."""
    post = f"{name}_DequantizeLinear_Output"
    if post in quantized:
        return post, quantized[post]
    if name in quantized and quantized[name][0].dtype.kind == "f":
        return name, quantized[name]
    codes = f"{name}_quantized"
    tensor = next((t for t in model.tensors if t.name == codes and t.quantization is not None), None)
    if codes in quantized and tensor is not None and tensor.quantization.scales.size == 1:
        s, z = np.float32(tensor.quantization.scales[0]), int(tensor.quantization.zero_points[0])
        return codes, [((v.astype(np.int32) - z) * s).astype(np.float32) for v in quantized[codes]]
    return None


def debug_model(float_model: Model, quantized_model: Model, inputs: list[dict[str, np.ndarray]]) -> list[DebugRow]:
    """Return one row per tensor the two models share, in the float graph's order (see :func:`debug_run`).

    >>> from pathlib import Path; from quantviz.models import open_model
    >>> here = Path(__file__).parent / "examples"
    >>> x = np.random.default_rng(0).normal(size=(1, 3, 8, 8)).astype(np.float32)
    >>> rows = debug_model(open_model(here / "onnx_float.onnx"), open_model(here / "onnx_qdq.onnx"), [{"x": x}])
    >>> rows[-1].name, rows[-1].sqnr_db > 10
    ('y', True)
    """
    return debug_run(float_model, quantized_model, inputs).rows


def debug_run(float_model: Model, quantized_model: Model, inputs: list[dict[str, np.ndarray]]) -> DebugRun:
    """Run both models on ``inputs`` and compare every shared tensor; with the count of inputs and the time taken."""
    import onnx

    _check_inputs(inputs)
    start = time.perf_counter()
    deadline = start + MAX_SECONDS
    floats, order = _run(float_model, inputs, deadline)
    quantized, _ = _run(quantized_model, inputs, deadline)
    proto = onnx.load_model_from_string(bytes(float_model.raw))
    producer = {out: node for node in proto.graph.node for out in node.output}
    consumers: dict[str, list] = {}
    for node in proto.graph.node:
        for i in node.input:
            consumers.setdefault(i, []).append(node)
    rows: dict[str, DebugRow] = {}
    for name in order:
        if name not in floats or floats[name][0].dtype.kind != "f":
            continue
        match = _match(name, quantized, quantized_model)
        if match is None:
            continue
        quantized_name, values = match
        users = consumers.get(name, [])
        if (
            quantized_name == f"{name}_quantized"
            and len(users) == 1
            and users[0].op_type in FUSED
            and _match(users[0].output[0], quantized, quantized_model) is None
        ):
            name = users[0].output[0]  # QOperator fused the activation: T_quantized holds Relu(T)
        if quantized_name == name and name not in producer:
            continue  # a graph input both models take as it is: nothing to compare
        reference = floats[name]
        if [v.shape for v in reference] != [v.shape for v in values]:
            continue
        error = max(
            float(np.max(np.abs(a.astype(np.float64) - b))) if a.size else 0.0
            for a, b in zip(reference, values, strict=True)
        )
        db = sqnr_db(reference, values)
        previous = _previous(name, producer, rows)
        added = None if not previous else rows[previous].sqnr_db - db
        node = producer.get(name)
        if node is not None and node.op_type == "Clip" and node.input[-1].endswith("_clip_max"):
            node = producer.get(node.input[0], node)  # a recovered model's stand-in for Q/DQ: name the op before it
        rows[name] = DebugRow(
            name=name,
            op=node.op_type if node is not None else "input",
            quantized_name=quantized_name,
            sqnr_db=db,
            max_abs_error=error,
            previous=previous,
            added_db=added,
            clipped=_clipped(quantized_name, quantized, quantized_model),
        )
    return DebugRun(rows=list(rows.values()), batches=len(inputs), seconds=time.perf_counter() - start)


GRIDS = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "uint16": (0, 65535)}


def clipped_share(codes: list[np.ndarray], zero_point: int, qmin: int, qmax: int) -> float:
    """The share of codes at an end of the grid, not counting an end that is the zero point (real 0 is not clipped).

    >>> clipped_share([np.array([-128, -128, 0, 127], np.int8)], -128, -128, 127)
    0.25
    """
    values = np.concatenate([np.asarray(c).reshape(-1) for c in codes]).astype(np.int64)
    ends = [e for e in (qmin, qmax) if e != zero_point]
    return float(np.isin(values, ends).mean()) if values.size else 0.0


def explained_tensor(row: DebugRow, model: Model) -> str | None:
    """The quantized model's tensor that holds ``row``'s codes (its QuantizeLinear output, or the QOperator tensor).

    >>> from pathlib import Path; from quantviz.models import open_model
    >>> m = open_model(Path(__file__).parent / "examples" / "onnx_qdq.onnx")
    >>> explained_tensor(DebugRow("flat", "Flatten", "flat_DequantizeLinear_Output", 40.0, 0.1, "", None), m)
    'flat_QuantizeLinear_Output'
    """
    base = row.quantized_name.removesuffix("_DequantizeLinear_Output")
    quantized = {t.name for t in model.tensors if t.quantization is not None}
    return next((n for n in (f"{base}_QuantizeLinear_Output", row.quantized_name) if n in quantized), None)


def _clipped(quantized_name: str, quantized: dict[str, list[np.ndarray]], model: Model) -> float | None:
    """Clipping of the activation's codes: the QuantizeLinear output (QDQ) or the QOperator tensor itself."""
    base = quantized_name.removesuffix("_DequantizeLinear_Output")
    names = {f"{base}_QuantizeLinear_Output", quantized_name}  # QDQ codes (also of a graph output), QOperator codes
    tensor = next(
        (t for t in model.tensors if t.name in names and t.quantization is not None and t.name in quantized), None
    )
    codes_name = tensor.name if tensor is not None else ""
    codes = quantized.get(codes_name)
    if tensor is None or codes is None or codes[0].dtype.name not in GRIDS or tensor.quantization.scales.size != 1:
        return None
    qmin, qmax = GRIDS[codes[0].dtype.name]
    return clipped_share(codes, int(tensor.quantization.zero_points[0]), qmin, qmax)


def _previous(name: str, producer: dict, rows: dict[str, DebugRow]) -> str:
    """The nearest shared tensor upstream of ``name`` (its producer's first data input that has a row, searched back)."""
    frontier, seen = [name], {name}
    while frontier:
        node = producer.get(frontier.pop(0))
        if node is None:
            continue
        for i in node.input:
            if i in rows:
                return i
            if i and i not in seen:
                seen.add(i)
                frontier.append(i)
    return ""


def worst_first(rows: list[DebugRow]) -> list[DebugRow]:
    """The rows with the graph's last tensor (its output) first, then the rest by SQNR, lowest first.

    >>> r = [DebugRow("a", "Conv", "a", 30.0, 0.1, "", None), DebugRow("b", "Relu", "b", 20.0, 0.2, "a", 10.0),
    ...      DebugRow("y", "Gemm", "y", 25.0, 0.3, "b", -5.0)]
    >>> [row.name for row in worst_first(r)]
    ['y', 'b', 'a']
    """
    if not rows:
        return []
    return [rows[-1], *sorted(rows[:-1], key=lambda r: r.sqnr_db)]


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
    proto = _proto(model)
    initial = {t.name for t in proto.graph.initializer}
    dims0 = {t.name: (int(t.dims[0]) if t.dims else 1) for t in proto.graph.initializer}
    rng = np.random.default_rng(seed)
    batches: list[dict[str, np.ndarray]] = [{} for _ in range(count)]
    for graph_input in proto.graph.input:
        if graph_input.name in initial:
            continue
        tt = graph_input.type.tensor_type
        shape = tuple(int(d.dim_value) if d.HasField("dim_value") and d.dim_value > 0 else 1 for d in tt.shape.dim)
        dtype = np.dtype(__import__("onnx").helper.tensor_dtype_to_np_dtype(tt.elem_type))
        high = 2
        for node in proto.graph.node:
            if (
                node.op_type in ("Gather", "GatherBlockQuantized")
                and len(node.input) > 1
                and node.input[1] == graph_input.name
            ):
                high = dims0.get(node.input[0], high)
        for batch in batches:
            batch[graph_input.name] = (
                rng.standard_normal(shape).astype(dtype)
                if dtype.kind == "f"
                else rng.integers(0, high, shape).astype(dtype)
            )
    return batches


def _input_specs(model: Model) -> dict[str, tuple[int, np.dtype]]:
    """Each graph input that is not an initializer: (number of dimensions, numpy dtype)."""
    import onnx

    proto = _proto(model)
    initial = {t.name for t in proto.graph.initializer}
    return {
        i.name: (
            len(i.type.tensor_type.shape.dim),
            np.dtype(onnx.helper.tensor_dtype_to_np_dtype(i.type.tensor_type.elem_type)),
        )
        for i in proto.graph.input
        if i.name not in initial
    }


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
    specs = _input_specs(model)
    if not data:
        raise ModelFileError(f"{name}: the file is empty")
    refuse_pickles(name, data)
    arrays = {t.name: t for t in read_npz(name, data).tensors}
    named = {k: v for k, v in arrays.items() if k in specs}
    if not named and len(specs) == 1:
        only = next(iter(specs))
        named = {only: list(arrays.values())}
    elif not named:
        raise ModelFileError(f"{name}: name its entries after the model's inputs ({', '.join(specs)})")
    per_input: dict[str, list[np.ndarray]] = {}
    for key, tensors in named.items():
        ndim, dtype = specs[key]
        batches = []
        for t in tensors if isinstance(tensors, list) else [tensors]:
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
        per_input[key] = batches
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
