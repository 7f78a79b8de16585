"""Run an ONNX model with onnxruntime, every intermediate tensor kept, as ``qdq_loss_debug`` does.

Every node output is added as a graph output, graph optimisations are off (so the names survive), one thread on the
CPU; a run over time is stopped through ``RunOptions.terminate``. External data is refused (``onnx_proto``) and no
custom operator library is loaded (onnxruntime refuses an unknown domain).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from quantviz.errors import ModelFileError
from quantviz.models.base import Model
from quantviz.models.debug_inputs import onnx_proto


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


def run_onnx(
    model: Model, inputs: list[dict[str, np.ndarray]], deadline: float, max_seconds: float, max_bytes: int
) -> tuple[dict[str, list[np.ndarray]], list[str]]:
    """Run ``model`` on every input with every node output kept; the values by name and the names in graph order.

    >>> from pathlib import Path; from quantviz.models import open_model
    >>> m = open_model(Path(__file__).parent / "examples" / "onnx_float.onnx")
    >>> values, order = run_onnx(m, [{"x": np.zeros((1, 3, 8, 8), np.float32)}], time.perf_counter() + 30, 30, 1 << 30)
    >>> order[0], values["y"][0].shape
    ('x', (1, 10))
    """
    import onnxruntime as ort

    data, order = _augmented(onnx_proto(model))
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
            raise ModelFileError(f"{model.name}: stopped: the run took longer than {max_seconds:.0f} s")
        run_options = ort.RunOptions()
        timer = threading.Timer(remaining, lambda r=run_options: setattr(r, "terminate", True))
        timer.start()
        try:
            values = session.run(None, {k: batch[k] for k in wanted}, run_options)
        except Exception as exc:
            if run_options.terminate:
                raise ModelFileError(f"{model.name}: stopped: the run took longer than {max_seconds:.0f} s") from None
            raise ModelFileError(
                f"{model.name}: onnxruntime failed to run it ({str(exc).splitlines()[0][:300]})"
            ) from None
        finally:
            timer.cancel()
        for name, value in zip(names, values, strict=True):
            total += value.nbytes
            collected.setdefault(name, []).append(value)
        if total > max_bytes:
            raise ModelFileError(f"{model.name}: its intermediate tensors exceed {max_bytes >> 20} MiB on these inputs")
    for name in wanted:
        collected.setdefault(name, [b[name] for b in inputs])
    return collected, order
