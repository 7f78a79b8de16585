"""Run it: a float model and its quantized version on the same inputs, compared tensor by tensor.

:func:`debug_model` runs both models with the field's runtime and returns, for every tensor the two share, in the
float graph's order: the SQNR in dB (onnxruntime's qdq_loss_debug formula, 20·log10(‖x‖ / ‖x − y‖) over all
inputs, each norm at least machine epsilon), the max |error| and the SQNR lost since the shared tensor before it.

ONNX runs on onnxruntime (every intermediate tensor added as an output, graph optimisations off, CPU only, as
``onnxruntime.quantization.qdq_loss_debug`` does). A quantized tensor is matched to the float tensor of the same
name by how ONNX Runtime's quantizers name things: ``T_DequantizeLinear_Output`` (QDQ, as qdq_loss_debug matches),
``T`` itself where it is still a float tensor (dynamic, MatMulNBits, QDQ graph outputs), or ``T_quantized``
dequantized with its stored scale and zero point (QOperator). TFLite runs on LiteRT (``quantviz.models.tflite_run``:
every tensor preserved, builtin kernels only), matched by name, by operator position or as a graph input, each row
saying which. The user's model runs inside the server: inputs are capped in size, the run in time (onnxruntime is
stopped through ``RunOptions.terminate``; LiteRT between inputs), external data is refused and no custom operator
is ever loaded.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np

from quantviz.errors import ModelFileError
from quantviz.models.base import Model
from quantviz.models.debug_inputs import (
    MAX_BATCHES,
    MAX_INPUT_BYTES,
    check_inputs,
    inputs_from_file,
    onnx_proto,
    sample_inputs,
)

__all__ = [
    "MAX_BATCHES",
    "MAX_INPUT_BYTES",
    "DebugRow",
    "DebugRun",
    "debug_model",
    "debug_run",
    "explained_tensor",
    "inputs_from_file",
    "sample_inputs",
    "sqnr_db",
    "worst_first",
]
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
    matched: str = ""  # how the quantized tensor was paired with the float one ("name: T", "position: ...")


class DebugRun(NamedTuple):
    """A debug run: the rows in graph order, how many inputs, how long the two models took, and on what."""

    rows: list[DebugRow]
    batches: int
    seconds: float
    runtime: str = "onnxruntime"


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


def _run(
    model: Model, inputs: list[dict[str, np.ndarray]], deadline: float
) -> tuple[dict[str, list[np.ndarray]], list[str]]:
    """Every tensor onnxruntime computes on ``inputs``, by name, and the names in graph order (``onnx_run``)."""
    from quantviz.models.onnx_run import run_onnx

    return run_onnx(model, inputs, deadline, MAX_SECONDS, MAX_COLLECTED_BYTES)


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
    """Run both models on ``inputs`` and compare every shared tensor; with the count of inputs and the time taken.

    Both are ONNX (run on onnxruntime) or both TFLite (run on LiteRT); anything else is refused in words.

    >>> from pathlib import Path; from quantviz.models import open_model
    >>> here = Path(__file__).parent / "examples"
    >>> f, q = (open_model(here / n) for n in ("tflite_cnn_float.tflite", "tflite_cnn_int8.tflite"))
    >>> run = debug_run(f, q, sample_inputs(f, 2, 0))
    >>> run.runtime.split()[0], run.rows[-1].name, run.rows[-1].matched
    ('LiteRT', 'Identity', 'name: Identity')
    """
    check_inputs(inputs)
    kinds = {float_model.format, quantized_model.format}
    if len(kinds) != 1 or not kinds <= {"onnx", "tflite"}:
        raise ModelFileError(
            f"{float_model.name} ({float_model.format}) and {quantized_model.name} ({quantized_model.format}): "
            "a debug run takes two ONNX models or two TFLite models"
        )
    start = time.perf_counter()
    deadline = start + MAX_SECONDS
    if float_model.format == "tflite":
        rows, runtime = _tflite_rows(float_model, quantized_model, inputs, deadline), _litert_name()
    else:
        rows, runtime = _onnx_rows(float_model, quantized_model, inputs, deadline), "onnxruntime"
    return DebugRun(rows=rows, batches=len(inputs), seconds=time.perf_counter() - start, runtime=runtime)


def _litert_name() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"LiteRT {version('ai-edge-litert')}"
    except PackageNotFoundError:
        return "LiteRT"


class _Pair(NamedTuple):
    """A float tensor's values and the quantized model's values of it (as float), and where they come from."""

    name: str
    op: str
    quantized_name: str
    reference: list[np.ndarray]
    values: list[np.ndarray]
    clipped: float | None
    matched: str


def _compare(pair: _Pair, inputs_of: dict[str, list[str]], rows: dict[str, DebugRow]) -> DebugRow | None:
    """The row of one pair (None if their shapes differ), chained to the nearest shared tensor before it."""
    if [v.shape for v in pair.reference] != [v.shape for v in pair.values]:
        return None
    error = max(
        float(np.max(np.abs(a.astype(np.float64) - b))) if a.size else 0.0
        for a, b in zip(pair.reference, pair.values, strict=True)
    )
    db = sqnr_db(pair.reference, pair.values)
    previous = _previous(pair.name, inputs_of, rows)
    return DebugRow(
        name=pair.name,
        op=pair.op,
        quantized_name=pair.quantized_name,
        sqnr_db=db,
        max_abs_error=error,
        previous=previous,
        added_db=None if not previous else rows[previous].sqnr_db - db,
        clipped=pair.clipped,
        matched=pair.matched,
    )


def _onnx_pair(name: str, graph, floats: dict, quantized: dict, model: Model) -> _Pair | None:
    """The quantized model's value of float tensor ``name`` (by ONNX Runtime's naming), None if it has none."""
    producer, consumers = graph
    match = _match(name, quantized, model)
    if match is None:
        return None
    quantized_name, values = match
    users = consumers.get(name, [])
    fused = (
        quantized_name == f"{name}_quantized"
        and len(users) == 1
        and users[0].op_type in FUSED
        and _match(users[0].output[0], quantized, model) is None
    )
    if fused:
        name = users[0].output[0]  # QOperator fused the activation: T_quantized holds Relu(T)
    if quantized_name == name and name not in producer:
        return None  # a graph input both models take as it is: nothing to compare
    node = producer.get(name)
    if node is not None and node.op_type == "Clip" and node.input[-1].endswith("_clip_max"):
        node = producer.get(node.input[0], node)  # a recovered model's stand-in for Q/DQ: name the op before it
    return _Pair(
        name=name,
        op=node.op_type if node is not None else "input",
        quantized_name=quantized_name,
        reference=floats[name],
        values=values,
        clipped=_clipped(quantized_name, quantized, model),
        matched=f"name: {quantized_name}" + (f" (holds {name}: {users[0].op_type} fused)" if fused else ""),
    )


def _onnx_rows(float_model: Model, quantized_model: Model, inputs: list, deadline: float) -> list[DebugRow]:
    floats, order = _run(float_model, inputs, deadline)
    quantized, _ = _run(quantized_model, inputs, deadline)
    proto = onnx_proto(float_model)
    producer = {out: node for node in proto.graph.node for out in node.output}
    consumers: dict[str, list] = {}
    for node in proto.graph.node:
        for i in node.input:
            consumers.setdefault(i, []).append(node)
    inputs_of = {out: list(node.input) for out, node in producer.items()}
    rows: dict[str, DebugRow] = {}
    for name in order:
        if name not in floats or floats[name][0].dtype.kind != "f":
            continue
        pair = _onnx_pair(name, (producer, consumers), floats, quantized, quantized_model)
        row = None if pair is None else _compare(pair, inputs_of, rows)
        if row is not None:
            rows[row.name] = row
    return list(rows.values())


def _tflite_rows(float_model: Model, quantized_model: Model, inputs: list, deadline: float) -> list[DebugRow]:
    from quantviz.models.tflite_run import as_float, match_tensors, run_tflite

    floats = run_tflite(float_model, inputs, deadline, MAX_COLLECTED_BYTES // 2)
    quantized = run_tflite(quantized_model, inputs, deadline, MAX_COLLECTED_BYTES // 2)
    if time.perf_counter() > deadline:
        raise ModelFileError(f"{quantized_model.name}: stopped: the run took longer than {MAX_SECONDS:.0f} s")
    fg = floats.graph
    producer = {out: op for op in fg.ops for out in op.outputs}
    inputs_of = {fg.names[out]: [fg.names[i] for i in op.inputs if i >= 0] for out, op in producer.items()}
    rows: dict[str, DebugRow] = {}
    for m in match_tensors(floats, quantized):
        reference = as_float(floats.values[m.float_index], floats.quantization[m.float_index])
        values = as_float(quantized.values[m.quantized_index], quantized.quantization[m.quantized_index])
        if reference is None or values is None or floats.values[m.float_index][0].dtype.kind != "f":
            continue
        codes = quantized.values[m.quantized_index]
        zeros = quantized.quantization[m.quantized_index][1]
        op = producer[m.float_index].kind if m.float_index in producer else "input"
        pair = _Pair(
            name=fg.names[m.float_index],
            op=op,
            quantized_name=quantized.graph.names[m.quantized_index],
            reference=reference,
            values=values,
            clipped=_clipped_codes(codes, zeros),
            matched=m.how,
        )
        row = _compare(pair, inputs_of, rows)
        if row is not None:
            rows[row.name] = row
    return list(rows.values())


def _clipped_codes(codes: list[np.ndarray], zeros: np.ndarray) -> float | None:
    """Clipping of integer activation codes quantized per tensor; None for float tensors and other grids."""
    if codes[0].dtype.name not in GRIDS or zeros.size != 1:
        return None
    qmin, qmax = GRIDS[codes[0].dtype.name]
    return clipped_share(codes, int(zeros[0]), qmin, qmax)


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


def _previous(name: str, inputs_of: dict[str, list[str]], rows: dict[str, DebugRow]) -> str:
    """The nearest shared tensor upstream of ``name``: its producer's first input with a row, searched back."""
    frontier, seen = [name], {name}
    while frontier:
        for i in inputs_of.get(frontier.pop(0), []):
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
