"""Model files: open the model a user has and see every quantized tensor explained, every float tensor measured.

``open_model(source)`` takes a path (the command line only: the web app never reads a server path) or the uploaded
bytes with their file name, ``open_model(data, name="m.tflite")``, and returns a :class:`Model` whose ``tensors``
each carry ``name``, ``dtype``, ``shape``, ``quantization`` (scales, zero points, axis, exactly as stored) and a lazy
``load()``. Readers live in one module per format (``onnx_reader``, ``npz_reader``, ``safetensors_reader`` with
``hf_packs``, ``bnb_packs`` and ``hf_config``, ``gguf_reader``, ``tflite_reader``; pickles refused in ``readers``);
the summary in words and the per-tensor table in ``summary``, the likely problems in ``problems``, strict exports
in ``export``; ``debug_model`` (in ``debug``) runs a float and a quantized ONNX model on the same inputs and
compares them tensor by tensor.

May import: numpy, the field's readers (onnx, safetensors, gguf, tflite, ml_dtypes), onnxruntime (debug runs) and
the core. Never the teaching text, the app or a screen library.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path

from quantviz.errors import ModelFileError
from quantviz.models.base import Model, Quantization, Tensor
from quantviz.models.debug import DebugRow, debug_model
from quantviz.models.gguf_reader import read_gguf
from quantviz.models.hf_config import MAX_CONFIG_BYTES, QuantConfig, read_config
from quantviz.models.npz_reader import read_npz
from quantviz.models.onnx_reader import read_onnx
from quantviz.models.readers import refuse_pickles
from quantviz.models.safetensors_reader import read_safetensors
from quantviz.models.tflite_reader import read_tflite

__all__ = [
    "MAX_MODEL_BYTES",
    "DebugRow",
    "Model",
    "Quantization",
    "Tensor",
    "debug_model",
    "open_files",
    "open_model",
]

MAX_MODEL_BYTES = 2 << 30  # what the command line reads; uploads are capped lower by the server


def _mapped(path: Path, name: str) -> bytes:
    """A model file from a path, mapped (not read: a tensor's pages are touched only when it is loaded), checked."""
    if path.is_dir():
        raise ModelFileError(f"{name}: a directory, not a model file")
    if path.exists() and not path.is_file():  # a FIFO or a device would block or never end
        raise ModelFileError(f"{name}: not a regular file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ModelFileError(f"{name}: cannot be read ({exc.strerror})") from None
    if size > MAX_MODEL_BYTES:
        raise ModelFileError(
            f"{name}: {size / 2**30:.1f} GiB is more than QuantViz reads ({MAX_MODEL_BYTES >> 30} GiB)"
        )
    if size == 0:
        raise ModelFileError(f"{name}: the file is empty")
    try:
        with open(path, "rb") as f:
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{name}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None


def _config(config: object, beside: Path | None) -> QuantConfig | None:
    """The quantization_config of ``config`` (a path or bytes), or of a config.json in ``beside``'s folder."""
    if config is None and beside is not None and (beside.parent / "config.json").is_file():
        config = beside.parent / "config.json"
    if config is None:
        return None
    if isinstance(config, (str, os.PathLike)):
        path = Path(config)
        if not path.is_file():
            raise ModelFileError(f"{path.name}: not a file (the config.json to read beside the model)")
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ModelFileError(f"{path.name}: more than a config.json holds (at most 1 MiB read)")
        return read_config(path.name, path.read_bytes())
    if isinstance(config, (bytes, bytearray, memoryview)):
        return read_config("config.json", bytes(config))
    raise ModelFileError(f"the config is a path or bytes, not {type(config).__name__}")


def open_model(source: object, name: str | None = None, config: object = None) -> Model:
    """Open a model file from a path (command line) or from bytes with their file name (uploads).

    ``config``: a Hugging Face ``config.json`` (path or bytes) whose ``quantization_config`` reads a safetensors
    checkpoint; from a path, a ``config.json`` in the model's folder is read when none is given.

    >>> import io, numpy as np
    >>> buffer = io.BytesIO(); np.savez(buffer, w=np.ones((2, 3), np.float32))
    >>> m = open_model(buffer.getvalue(), name="weights.npz")
    >>> [(t.name, t.dtype, t.shape) for t in m.tensors]
    [('w', 'float32', (2, 3))]
    """
    beside = None
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = name or path.name
        data, file_path, beside = _mapped(path, name), str(path), path
    elif isinstance(source, (bytes, bytearray, memoryview)):
        if not name:
            raise ModelFileError("uploaded bytes need their file name (open_model(data, name='model.onnx'))")
        data, file_path = bytes(source), None
    else:
        raise ModelFileError(f"open_model takes a path or bytes, got {type(source).__name__}")
    if not data:
        raise ModelFileError(f"{name}: the file is empty")
    refuse_pickles(name, data)
    return _read(name, data, file_path, config, beside)


def _read(name: str, data: bytes, file_path: str | None, config: object, beside: Path | None) -> Model:
    """The reader for the file's kind, by its name or its first bytes."""
    lower = name.lower()
    if config is not None and not lower.endswith(".safetensors"):
        raise ModelFileError(f"{name}: a config.json describes a Hugging Face safetensors checkpoint, not this file")
    if lower.endswith(".tflite") or data[4:8] == b"TFL3":
        return read_tflite(name, data)
    if lower.endswith(".gguf") or data[:4] == b"GGUF":
        return read_gguf(name, data, file_path)
    if lower.endswith(".safetensors"):
        return read_safetensors(name, data, file_path, _config(config, beside))
    if lower.endswith((".npz", ".npy")) or data[:6] == b"\x93NUMPY":
        return read_npz(name, data)
    if lower.endswith(".onnx"):
        return read_onnx(name, data)
    raise ModelFileError(f"{name}: QuantViz opens .tflite, .onnx, .safetensors, .gguf, .npz and .npy files")


def open_files(files: list[tuple[str, bytes]]) -> Model:
    """Open what a user uploaded together: one model file, or the shards of one safetensors checkpoint, with its
    ``config.json`` (a ``*.safetensors.index.json`` is not needed: every shard's header names its tensors).

    >>> import io, numpy as np
    >>> from safetensors.numpy import save
    >>> shards = [("a.safetensors", save({"w": np.ones((2, 2), np.float32)})),
    ...           ("b.safetensors", save({"v": np.ones((2, 2), np.float32)}))]
    >>> m = open_files(shards + [("config.json", b'{"model_type": "llama"}')])
    >>> m.name, [t.name for t in m.tensors]
    ('a.safetensors + 1 more shard', ['w', 'v'])
    """
    configs = [(n, d) for n, d in files if n.lower().endswith(".json") and not n.lower().endswith(".index.json")]
    models = [(n, d) for n, d in files if not n.lower().endswith(".json")]
    if len(configs) > 1:
        raise ModelFileError(f"{', '.join(n for n, _ in configs)}: one config.json at a time")
    config = read_config(configs[0][0], configs[0][1]) if configs else None
    if not models:
        raise ModelFileError("no model file among the files given (a config.json alone has no tensors)")
    if len(models) == 1:
        name, data = models[0]
        return open_model(data, name=name, config=configs[0][1] if configs else None)
    if not all(n.lower().endswith(".safetensors") for n, _ in models):
        raise ModelFileError(
            f"{', '.join(n for n, _ in models)}: several files are read together only as safetensors shards"
        )
    return merge_shards(models, config)


def merge_shards(shards: list[tuple[str, bytes]], config: QuantConfig | None) -> Model:
    """The shards' tensors as one checkpoint (a tensor in two shards is refused), then its packs recognised."""
    from quantviz.models.hf_packs import recognise_packs

    tensors, seen = [], {}
    for name, data in shards:
        refuse_pickles(name, data)
        for t in read_safetensors(name, data, raw=True).tensors:
            if t.name in seen:
                raise ModelFileError(f"{name}: tensor {t.name!r} is also in {seen[t.name]}")
            seen[t.name] = name
            tensors.append(t)
    more = len(shards) - 1
    label = f"{shards[0][0]} + {more} more shard{'s' if more != 1 else ''}"
    return recognise_packs(Model(label, "safetensors", tensors), config)
