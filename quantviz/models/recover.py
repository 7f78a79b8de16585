"""A float model recovered from a QDQ model, for a debug run when only the quantized model is at hand.

Every ``DequantizeLinear`` of a stored tensor (weights, biases) becomes a float initializer holding the dequantized
values, s·(q − z), exactly as the runtime computes them in float32; every activation ``QuantizeLinear`` →
``DequantizeLinear`` pair becomes a ``Clip`` to the range its grid represents, [s·(qmin − z), s·(qmax − z)].
The clamp stays because ONNX Runtime's quantizer folds a Relu into it (z at the grid's bottom); only the rounding
goes. Run against the QDQ model, the difference is then the activations' rounding alone: the weights and the
clipping are the same on both sides.
"""

from __future__ import annotations

import numpy as np

from quantviz.errors import ModelFileError
from quantviz.models.base import Model


def dequantize_stored(codes: np.ndarray, scale: np.ndarray, zero: np.ndarray | None, axis: int) -> np.ndarray:
    """ONNX DequantizeLinear on a stored tensor, per tensor or per axis: (q − z)·s in float32.

    >>> dequantize_stored(np.array([[2, -4]], np.int8), np.array([0.5, 0.25], np.float32), None, 1).tolist()
    [[1.0, -1.0]]
    """
    s = np.asarray(scale, np.float32)
    z = np.zeros_like(s, np.int32) if zero is None else np.asarray(zero).astype(np.int32)
    if s.size > 1:
        shape = [1] * codes.ndim
        shape[axis] = -1
        s, z = s.reshape(shape), z.reshape(shape)
    return ((codes.astype(np.int32) - z).astype(np.float32) * s).astype(np.float32)


GRIDS = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "uint16": (0, 65535)}


def _stored(model: Model, node, inits: dict, attrs: dict):
    """A DequantizeLinear of a stored tensor: the float initializer of its values, s·(q − z)."""
    from onnx import numpy_helper

    if attrs.get("block_size"):
        raise ModelFileError(f"{model.name}: {node.input[0]} is block-quantized; not recovered")
    zero = numpy_helper.to_array(inits[node.input[2]]) if len(node.input) > 2 and node.input[2] else None
    values = dequantize_stored(
        numpy_helper.to_array(inits[node.input[0]]),
        numpy_helper.to_array(inits[node.input[1]]),
        zero,
        int(attrs.get("axis", 1)),
    )
    return numpy_helper.from_array(values, node.output[0])


def _clip_bounds(model: Model, q, inits: dict, name: str) -> list:
    """The range an activation's QuantizeLinear represents, [s·(qmin − z), s·(qmax − z)], as two initializers."""
    import onnx
    from onnx import numpy_helper

    s_ = np.float32(numpy_helper.to_array(inits[q.input[1]]).reshape(-1)[0])
    zero_init = inits.get(q.input[2]) if len(q.input) > 2 and q.input[2] else None
    dtype = onnx.helper.tensor_dtype_to_np_dtype(zero_init.data_type).name if zero_init is not None else "uint8"
    z = int(numpy_helper.to_array(zero_init).reshape(-1)[0]) if zero_init is not None else 0
    if dtype not in GRIDS or numpy_helper.to_array(inits[q.input[1]]).size != 1:
        raise ModelFileError(f"{model.name}: activation {q.input[0]} is not per-tensor 8/16-bit; not recovered")
    qmin, qmax = GRIDS[dtype]
    lo = numpy_helper.from_array(np.array(s_ * np.float32(qmin - z), np.float32), f"{name}_clip_min")
    hi = numpy_helper.from_array(np.array(s_ * np.float32(qmax - z), np.float32), f"{name}_clip_max")
    return [lo, hi]


class _Rewrite:
    """The nodes kept, the initializers added and dropped, and the renames, as the graph is rewritten."""

    def __init__(self, graph) -> None:
        self.inits = {t.name: t for t in graph.initializer}
        self.producers = {o: node for node in graph.node for o in node.output}
        self.inputs = {i.name for i in graph.input}
        self.outputs = {o.name for o in graph.output}
        self.quantize = {n.output[0]: n for n in graph.node if n.op_type == "QuantizeLinear"}
        self.renamed: dict[str, str] = {}  # a DequantizeLinear output -> the clipped float tensor that replaces it
        self.kept, self.new_inits, self.dropped = [], [], set()

    def clip(self, model: Model, node) -> None:
        """An activation's Q → DQ pair becomes a Clip to its grid's range, under the name qdq_loss_debug matches."""
        import onnx

        q = self.quantize[node.input[0]]
        source = q.input[0]
        bounds = _clip_bounds(model, q, self.inits, node.output[0])
        self.new_inits += bounds
        # the clipped tensor takes the float name qdq_loss_debug matches (the QuantizeLinear's input), unless that
        # name is a graph input or is clipped twice; a graph output keeps its own name
        if node.output[0] in self.outputs:
            target = node.output[0]
        elif source in self.inputs or source in self.renamed.values():
            target = f"{source}_clipped"
        else:
            target = source
        renamed_source = source
        if target == source:
            producer = self.producers[source]
            producer.output[list(producer.output).index(source)] = f"{source}_unclipped"
            renamed_source = f"{source}_unclipped"
        self.kept.append(onnx.helper.make_node("Clip", [renamed_source, bounds[0].name, bounds[1].name], [target]))
        self.renamed[node.output[0]] = target


def recover_float(model: Model) -> Model:
    """Return the float model whose weights are ``model``'s dequantized ones and whose activations are not quantized.

    >>> from pathlib import Path; from quantviz.models import open_model
    >>> float_model = recover_float(open_model(Path(__file__).parent / "examples" / "onnx_qdq.onnx"))
    >>> float_model.file_type, float_model.name
    ('onnx-float', 'onnx_qdq.onnx (weights dequantized)')
    """
    import onnx

    from quantviz.models.onnx_reader import read_onnx

    if model.file_type != "onnx-qdq" or model.raw is None:
        raise ModelFileError(
            f"{model.name}: a float model is recovered only from an ONNX QDQ model (this is "
            f"{model.file_type or model.format})"
        )
    proto = onnx.load_model_from_string(bytes(model.raw))
    graph = proto.graph
    r = _Rewrite(graph)
    for node in graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "DequantizeLinear" and node.input[0] in r.inits:
            r.new_inits.append(_stored(model, node, r.inits, attrs))
            r.dropped.update(node.input)
        elif node.op_type == "DequantizeLinear" and node.input[0] in r.quantize:
            r.clip(model, node)
        elif node.op_type != "QuantizeLinear":
            r.kept.append(node)
    for node in r.kept:
        for i, name in enumerate(node.input):
            node.input[i] = r.renamed.get(name, name)
    used = {i for node in r.kept for i in node.input}
    del graph.node[:]
    graph.node.extend(r.kept)
    remaining = [t for t in graph.initializer if t.name in used and t.name not in r.dropped] + r.new_inits
    del graph.initializer[:]
    graph.initializer.extend(remaining)
    del graph.value_info[:]
    recovered = read_onnx(f"{model.name} (weights dequantized)", proto.SerializeToString())
    recovered.notes.append("recovered from the QDQ model: weights dequantized, activations not quantized")
    return recovered
