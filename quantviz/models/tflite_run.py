"""Run a TFLite model with LiteRT (``ai-edge-litert``, the TFLite interpreter without TensorFlow), every tensor kept.

:func:`run_tflite` runs the flatbuffer on each input with ``experimental_preserve_all_tensors=True``, the builtin
kernels only (no delegate, no custom operator: a model using one is refused before it is loaded) and one thread,
and returns every tensor the graph computes, per input, with its quantization as the interpreter reports it.
:func:`match_tensors` pairs the tensors of a float graph with those of its quantized version. TFLite's converter
renames tensors when it quantizes, so a tensor is matched by what is stable, in this order:

1. ``name``: the quantized graph computes a tensor of the same name and shape (the converter keeps most names);
2. ``position``: the k-th operator of the float graph and the k-th of the quantized graph, once QUANTIZE and
   DEQUANTIZE are stripped from both and the two sequences of operator types aligned (``difflib``), produce it at
   the same output position with the same shape;
3. ``input``: a graph input, against the quantized graph's QUANTIZE of the same input (or its own integer input).

LiteRT cannot be stopped inside an inference: the time limit is checked between inputs.
"""

from __future__ import annotations

import difflib
import time
import warnings
from typing import NamedTuple

import numpy as np

from quantviz.errors import ModelFileError
from quantviz.models.base import Model

STRIPPED = {"QUANTIZE", "DEQUANTIZE"}  # wrappers the quantizer adds; their output stands for their input


class Op(NamedTuple):
    """One operator of a TFLite graph, in execution order: its type and its tensors' indices."""

    kind: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


class Graph(NamedTuple):
    """What a debug run needs of a TFLite graph: names by tensor index, operators, inputs and stored tensors."""

    names: list[str]
    ops: list[Op]
    inputs: list[int]
    constants: frozenset[int]


class Ran(NamedTuple):
    """A TFLite model run on every input: each computed tensor's values by index, and its quantization."""

    graph: Graph
    values: dict[int, list[np.ndarray]]
    quantization: dict[int, tuple[np.ndarray, np.ndarray, int]]  # index -> (scales, zero points, axis)


class Match(NamedTuple):
    """A float tensor and the quantized graph's tensor that holds the same value, and how they were paired."""

    float_index: int
    quantized_index: int
    how: str


def _op_kind(code, builtin_names: dict[int, str]) -> str:
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    return builtin_names.get(builtin, str(builtin))


def graph_of(model: Model) -> Graph:
    """The first subgraph of ``model`` (a TFLite file read by QuantViz), refusing custom operators in words.

    >>> from pathlib import Path; from quantviz.models import open_model
    >>> g = graph_of(open_model(Path(__file__).parent / "examples" / "tflite_cnn_int8.tflite"))
    >>> [op.kind for op in g.ops][:2]
    ['QUANTIZE', 'CONV_2D']
    """
    import tflite

    if model.format != "tflite" or model.raw is None:
        raise ModelFileError(f"{model.name}: not a TFLite model read from its bytes ({model.format})")
    try:
        root = tflite.Model.GetRootAsModel(model.raw, 0)
        graph = root.Subgraphs(0)
        builtin_names = {getattr(tflite.BuiltinOperator, k): k for k in dir(tflite.BuiltinOperator) if k.isupper()}
        codes = [root.OperatorCodes(i) for i in range(root.OperatorCodesLength())]
        custom = sorted(
            {(c.CustomCode() or b"?").decode(errors="replace") for c in codes if _op_kind(c, builtin_names) == "CUSTOM"}
        )
        if custom:
            raise ModelFileError(
                f"{model.name}: uses the custom operator(s) {', '.join(custom)}; custom operators are never loaded"
            )
        ops = []
        for i in range(graph.OperatorsLength()):
            op = graph.Operators(i)
            ops.append(
                Op(
                    kind=_op_kind(codes[op.OpcodeIndex()], builtin_names),
                    inputs=tuple(int(t) for t in op.InputsAsNumpy().tolist()) if op.InputsLength() else (),
                    outputs=tuple(int(t) for t in op.OutputsAsNumpy().tolist()) if op.OutputsLength() else (),
                )
            )
        tensors = [graph.Tensors(j) for j in range(graph.TensorsLength())]
        return Graph(
            names=[t.Name().decode(errors="replace") for t in tensors],
            ops=ops,
            inputs=[int(i) for i in graph.InputsAsNumpy().tolist()] if graph.InputsLength() else [],
            constants=frozenset(j for j, t in enumerate(tensors) if root.Buffers(t.Buffer()).DataLength()),
        )
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(
            f"{model.name}: the TFLite flatbuffer is broken or truncated ({type(exc).__name__})"
        ) from None


def _interpreter(model: Model):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LiteRT warns that preserving every tensor is for debugging: it is
        try:
            interp = Interpreter(
                model_content=bytes(model.raw),
                experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
                experimental_preserve_all_tensors=True,
                num_threads=1,
            )
            interp.allocate_tensors()
        except Exception as exc:
            raise ModelFileError(f"{model.name}: LiteRT cannot load it ({str(exc).splitlines()[0][:300]})") from None
    return interp


def _feed(detail: dict, value: np.ndarray, model: Model) -> np.ndarray:
    """The value for one input: a float value quantized with the input's own scale and zero point if it is integer."""
    dtype = np.dtype(detail["dtype"])
    value = np.asarray(value)
    shape = tuple(int(d) for d in detail["shape"])
    if tuple(value.shape) != shape:
        raise ModelFileError(f"{model.name}: input {detail['name']!r} takes shape {shape}, given {value.shape}")
    scales, zeros = detail["quantization_parameters"]["scales"], detail["quantization_parameters"]["zero_points"]
    if dtype.kind in "iu" and value.dtype.kind == "f" and scales.size == 1:
        info = np.iinfo(dtype)
        codes = np.round(value.astype(np.float32) / np.float32(scales[0])) + int(zeros[0])
        return np.clip(codes, info.min, info.max).astype(dtype)
    return value.astype(dtype)


def _batch_value(batch: dict[str, np.ndarray], detail: dict, position: int, model: Model) -> np.ndarray:
    """An input's value: by its name, else (the converter may rename inputs) by its position among the inputs."""
    name = detail["name"]
    if name in batch:
        return batch[name]
    values = list(batch.values())
    if position < len(values):
        return values[position]
    raise ModelFileError(f"{model.name}: the inputs lack {name}")


def run_tflite(model: Model, inputs: list[dict[str, np.ndarray]], deadline: float, max_bytes: int) -> Ran:
    """Run ``model`` with LiteRT on every input; every tensor it computes, kept (see the module's docstring).

    >>> from pathlib import Path; from quantviz.models import open_model
    >>> m = open_model(Path(__file__).parent / "examples" / "tflite_cnn_float.tflite")
    >>> ran = run_tflite(m, [{"x": np.zeros((1, 8, 8, 3), np.float32)}], time.perf_counter() + 30, 1 << 30)
    >>> len(ran.values[ran.graph.ops[-1].outputs[0]])
    1
    """
    graph = graph_of(model)
    interp = _interpreter(model)
    details = {d["index"]: d for d in interp.get_tensor_details()}
    computed = [i for i in details if i < len(graph.names) and i not in graph.constants]  # not scratch tensors
    values: dict[int, list[np.ndarray]] = {}
    total = 0
    for batch in inputs:
        if time.perf_counter() > deadline:
            raise ModelFileError(f"{model.name}: stopped: the run took longer than the time limit")
        for position, detail in enumerate(interp.get_input_details()):
            interp.set_tensor(detail["index"], _feed(detail, _batch_value(batch, detail, position, model), model))
        try:
            interp.invoke()
        except Exception as exc:
            raise ModelFileError(f"{model.name}: LiteRT failed to run it ({str(exc).splitlines()[0][:300]})") from None
        for i in computed:
            value = np.array(interp.get_tensor(i))
            total += value.nbytes
            values.setdefault(i, []).append(value)
        if total > max_bytes:
            raise ModelFileError(f"{model.name}: its tensors exceed {max_bytes >> 20} MiB on these inputs")
    quantization = {
        i: (
            np.asarray(d["quantization_parameters"]["scales"], np.float32),
            np.asarray(d["quantization_parameters"]["zero_points"], np.int64),
            int(d["quantization_parameters"]["quantized_dimension"]),
        )
        for i, d in details.items()
    }
    return Ran(graph=graph, values=values, quantization=quantization)


def as_float(values: list[np.ndarray], quantization: tuple[np.ndarray, np.ndarray, int]) -> list[np.ndarray] | None:
    """A tensor's values as float32: dequantized with its own scale, zero point and axis; None if not a real number.

    >>> q = (np.array([0.5], np.float32), np.array([-1]), 0)
    >>> as_float([np.array([-1, 1, 3], np.int8)], q)[0].tolist()
    [0.0, 1.0, 2.0]
    """
    kind = values[0].dtype.kind
    if kind == "f":
        return [v.astype(np.float32) for v in values]
    scales, zeros, axis = quantization
    if kind not in "iu" or scales.size == 0:
        return None  # an integer tensor that is no quantized real (an index, a shape)
    out = []
    for v in values:
        shape = [1] * v.ndim
        if scales.size > 1:
            shape[axis] = scales.size
        s, z = scales.reshape(shape), zeros.reshape(shape)
        out.append(((v.astype(np.int64) - z) * s).astype(np.float32))
    return out


def _sources(graph: Graph) -> dict[int, int]:
    """Each QUANTIZE/DEQUANTIZE output -> the tensor it wraps, followed back through chains of them."""
    source: dict[int, int] = {}
    for op in graph.ops:
        if op.kind in STRIPPED and op.inputs and op.outputs:
            source[op.outputs[0]] = source.get(op.inputs[0], op.inputs[0])
    return source


def _by_position(floats: Graph, quantized: Graph) -> dict[int, tuple[int, str]]:
    """Float tensor -> (quantized tensor, how) for the outputs of aligned operators, wrappers stripped."""
    f_ops = [op for op in floats.ops if op.kind not in STRIPPED]
    q_ops = [op for op in quantized.ops if op.kind not in STRIPPED]
    matcher = difflib.SequenceMatcher(None, [o.kind for o in f_ops], [o.kind for o in q_ops], autojunk=False)
    pairs: dict[int, tuple[int, str]] = {}
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            f_op, q_op = f_ops[block.a + k], q_ops[block.b + k]
            for position, (f, q) in enumerate(zip(f_op.outputs, q_op.outputs, strict=False)):
                pairs[f] = (q, f"position: operator {block.a + k} ({f_op.kind}), output {position}")
    return pairs


def _by_input(floats: Graph, quantized: Graph) -> dict[int, tuple[int, str]]:
    """Float graph input k -> the quantized graph's QUANTIZE of its input k, or that input if it is not float."""
    pairs: dict[int, tuple[int, str]] = {}
    quantizes = {op.inputs[0]: op.outputs[0] for op in quantized.ops if op.kind == "QUANTIZE" and op.inputs}
    for k, (f, q) in enumerate(zip(floats.inputs, quantized.inputs, strict=False)):
        if q in quantizes:
            pairs[f] = (quantizes[q], f"input: graph input {k}, after QUANTIZE")
        else:
            pairs[f] = (q, f"input: graph input {k}")
    return pairs


def match_tensors(floats: Ran, quantized: Ran) -> list[Match]:
    """Every computed float tensor paired with the quantized tensor of the same value, in the float graph's order.

    >>> from pathlib import Path; from quantviz.models import open_model
    >>> here = Path(__file__).parent / "examples"
    >>> batch = [{"x": np.zeros((1, 8, 8, 3), np.float32)}]
    >>> f, q = (run_tflite(open_model(here / n), batch, time.perf_counter() + 30, 1 << 30)
    ...         for n in ("tflite_cnn_float.tflite", "tflite_cnn_int8.tflite"))
    >>> sorted({m.how.split(":")[0] for m in match_tensors(f, q)})
    ['input', 'name']
    """
    fg, qg = floats.graph, quantized.graph
    named: dict[str, int] = {}
    for index in quantized.values:
        if index in qg.inputs and index in _sources(qg).values():
            continue  # a float input the quantized graph quantizes first: its QUANTIZE output is the match
        named.setdefault(qg.names[index], index)
    positional, by_input = _by_position(fg, qg), _by_input(fg, qg)
    order = list(dict.fromkeys([*fg.inputs, *(t for op in fg.ops for t in op.outputs)]))
    matches = []
    for f in order:
        if f not in floats.values:
            continue
        shape = [v.shape for v in floats.values[f]]
        candidates = [(named.get(fg.names[f]), f"name: {fg.names[f]}"), by_input.get(f), positional.get(f)]
        if f in fg.inputs:
            candidates = [by_input.get(f)]  # an input of the same name is the same value: compare its quantization
        for q, how in (c for c in candidates if c is not None and c[0] is not None):
            if q in quantized.values and [v.shape for v in quantized.values[q]] == shape:
                matches.append(Match(float_index=f, quantized_index=q, how=how))
                break
    return matches
