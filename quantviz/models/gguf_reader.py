"""``.gguf``: the ``gguf`` package's reader, every tensor's declared size checked before it builds a view.

The ``gguf`` reader maps the file and reshapes each tensor's bytes to its declared dimensions; a header whose
dimensions lie (2^40 elements in a 1 KB file, dimensions whose product overflows 64 bits) would end in a numpy
error. :class:`_CheckedReader` checks each declared size (Python integers: no overflow) against the 4 GiB cap and
the bytes the file holds first. Values are loaded lazily from the file's bytes, block types decoded by
``quantviz.blocks``.
"""

from __future__ import annotations

import math
import os
import tempfile

import ml_dtypes
import numpy as np

from quantviz.errors import ModelFileError
from quantviz.models.base import MAX_TENSOR_BYTES, Model, Tensor

PLAIN_TYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "BF16": ml_dtypes.bfloat16, "I8": np.int8,
               "I16": np.int16, "I32": np.int32, "I64": np.int64}


def _checked_reader(file: str, path: str):
    """A ``GGUFReader`` whose tensors are checked against the file's size before the package reshapes them."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFReader

    class _CheckedReader(GGUFReader):
        def _build_tensors(self, start_offs, fields):  # the package's hook between parsing and building views
            size = len(self.data)
            for field in fields:
                _, name_data, _, dims, raw_dtype, offset = field.parts
                tensor = bytes(name_data).decode("utf-8", errors="replace")
                try:
                    kind = GGMLQuantizationType(int(raw_dtype[0]))
                except ValueError:
                    raise ModelFileError(f"{file}: tensor {tensor!r} has type {int(raw_dtype[0])}, unknown to gguf") from None
                block, type_size = GGML_QUANT_SIZES[kind]
                shape = tuple(int(d) for d in reversed(dims.tolist()))
                elements = math.prod(shape)
                if elements % block:
                    raise ModelFileError(f"{file}: tensor {tensor!r} declares {elements:,} values, not whole blocks "
                                         f"of {block} ({kind.name})")
                need = elements // block * type_size
                if need > MAX_TENSOR_BYTES:
                    raise ModelFileError(f"{file}: tensor {tensor!r} declares shape {shape}, {need / 2**30:,.1f} GiB: "
                                         "too large to load")
                begin = int(start_offs) + int(offset[0])
                if begin + need > size:
                    raise ModelFileError(f"{file}: tensor {tensor!r} declares {need:,} bytes from byte {begin:,} but the "
                                         f"file holds {size:,}: truncated?")
            return super()._build_tensors(start_offs, fields)

    return _CheckedReader(path)


def read_gguf(name: str, data: bytes, path: str | None = None) -> Model:
    """Every tensor with its GGUF type (``Q4_K``, ``F16``, ...) and logical shape; values decoded on ``load()``."""
    from quantviz.blocks import DECODE_ONLY, FORMATS, decode

    temporary = path is None
    if temporary:
        fd, path = tempfile.mkstemp(suffix=".gguf")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    try:
        reader = _checked_reader(name, path)
        tensors = []
        for t in reader.tensors:
            kind = t.tensor_type.name
            shape = tuple(int(d) for d in reversed(t.shape.tolist()))  # GGUF lists the fastest dimension first
            start, count = int(t.data_offset), int(t.n_bytes)

            def load(kind=kind, shape=shape, start=start, count=count) -> np.ndarray:
                raw = np.frombuffer(data, np.uint8, count=count, offset=start)
                if kind in PLAIN_TYPES:
                    return raw.view(PLAIN_TYPES[kind]).reshape(shape)
                if kind in FORMATS or kind in DECODE_ONLY:
                    return decode(raw, kind, math.prod(shape)).reshape(shape)
                raise ModelFileError(f"{name}: tensor type {kind} is not decoded by QuantViz")

            dtype = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64"}.get(kind, kind)
            tensors.append(Tensor(t.name, dtype, shape, "weight", loader=load))
        fields = {key: field for key, field in reader.fields.items()}
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(f"{name}: not a readable GGUF file ({type(exc).__name__}: {exc})") from None
    finally:
        if temporary:
            os.unlink(path)
    model = Model(name, "gguf", tensors)
    _describe_file_type(model, fields)
    return model


def _describe_file_type(model: Model, fields: dict) -> None:
    """``general.file_type`` as llama.cpp names it (``Q4_K_M``), when the file says."""
    field = fields.get("general.file_type")
    if field is None:
        return
    from gguf import LlamaFileType

    value = int(field.parts[field.data[0]][0])
    try:
        label = LlamaFileType(value).name.removeprefix("MOSTLY_")
    except ValueError:
        label = f"file type {value}"
    model.file_type = label
