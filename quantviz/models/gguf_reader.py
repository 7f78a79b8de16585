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
from typing import NamedTuple

import ml_dtypes
import numpy as np

from quantviz.errors import ModelFileError
from quantviz.models.base import MAX_TENSOR_BYTES, Model, Tensor

PLAIN_TYPES = {
    "F32": np.float32,
    "F16": np.float16,
    "F64": np.float64,
    "BF16": ml_dtypes.bfloat16,
    "I8": np.int8,
    "I16": np.int16,
    "I32": np.int32,
    "I64": np.int64,
}


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
                    raise ModelFileError(
                        f"{file}: tensor {tensor!r} has type {int(raw_dtype[0])}, unknown to gguf"
                    ) from None
                block, type_size = GGML_QUANT_SIZES[kind]
                shape = tuple(int(d) for d in reversed(dims.tolist()))
                elements = math.prod(shape)
                if elements % block:
                    raise ModelFileError(
                        f"{file}: tensor {tensor!r} declares {elements:,} values, not whole blocks "
                        f"of {block} ({kind.name})"
                    )
                need = elements // block * type_size
                if need > MAX_TENSOR_BYTES:
                    raise ModelFileError(
                        f"{file}: tensor {tensor!r} declares shape {shape}, {need / 2**30:,.1f} GiB: too large to load"
                    )
                begin = int(start_offs) + int(offset[0])
                if begin + need > size:
                    raise ModelFileError(
                        f"{file}: tensor {tensor!r} declares {need:,} bytes from byte {begin:,} but the "
                        f"file holds {size:,}: truncated?"
                    )
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
            role = "weight" if len(shape) >= 2 else "constant"  # a norm's gain or a bias is not measured as a weight
            tensors.append(Tensor(t.name, dtype, shape, role, loader=load))
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


class TypeMix(NamedTuple):
    """One GGUF tensor type in a file: how many tensors, their stored bytes and their values."""

    kind: str
    tensors: int
    bytes: int
    values: int

    @property
    def bits_per_weight(self) -> float:
        return 8 * self.bytes / self.values if self.values else 0.0


# K-quant super-blocks of 256 values: how each is divided (llama.cpp's ggml-common.h layouts)
SUPER_BLOCKS = {
    "Q2_K": "16 blocks of 16",
    "Q3_K": "16 blocks of 16",
    "Q4_K": "8 blocks of 32",
    "Q5_K": "8 blocks of 32",
    "Q6_K": "16 blocks of 16",
    "Q8_K": "one block of 256",
}
SUPER_BLOCK = 256
SUB_BLOCKS = {"Q2_K": 16, "Q3_K": 16, "Q4_K": 8, "Q5_K": 8, "Q6_K": 16, "Q8_K": 1}


class KQuantTensor(NamedTuple):
    """A K-quant tensor's super-block structure: how many super-blocks of 256, each of how many blocks."""

    name: str
    kind: str
    super_blocks: int
    blocks_per_super: int

    @property
    def block_values(self) -> int:
        return SUPER_BLOCK // self.blocks_per_super


def kquant_tensors(model: Model) -> list[KQuantTensor]:
    """Every K-quant tensor of ``model`` with its super-blocks, in file order.

    >>> m = Model("m.gguf", "gguf", [Tensor("a", "Q4_K", (2, 256), "weight"), Tensor("b", "float32", (4,), "weight")])
    >>> [(k.name, k.super_blocks, k.blocks_per_super, k.block_values) for k in kquant_tensors(m)]
    [('a', 2, 8, 32)]
    """
    return [
        KQuantTensor(
            name=t.name, kind=t.dtype, super_blocks=t.size // SUPER_BLOCK, blocks_per_super=SUB_BLOCKS[t.dtype]
        )
        for t in model.tensors
        if t.dtype in SUB_BLOCKS
    ]


def kquant_sentence(tensors: list[KQuantTensor], shown: int = 6) -> str:
    """The K-quant tensors in words, the first ``shown`` of them; empty where there are none.

    >>> kquant_sentence([KQuantTensor("a", "Q6_K", 4, 16)])
    'K-quant tensors: a Q6_K, 4 super-blocks of 16 blocks of 16.'
    """
    if not tensors:
        return ""
    parts = [
        f"{k.name} {k.kind}, {k.super_blocks:,} super-block{'s' if k.super_blocks != 1 else ''} of "
        f"{k.blocks_per_super} block{'s' if k.blocks_per_super != 1 else ''} of {k.block_values}"
        for k in tensors[:shown]
    ]
    more = f"; and {len(tensors) - shown} more" if len(tensors) > shown else ""
    return "K-quant tensors: " + "; ".join(parts) + more + "."


GGUF_NAMES = {"float32": "F32", "float16": "F16", "bfloat16": "BF16", "float64": "F64"}


def type_mix(model: Model) -> list[TypeMix]:
    """Per GGUF tensor type: tensors, bytes and values, the most bytes first.

    >>> m = Model("m.gguf", "gguf", [Tensor("a", "Q8_0", (2, 32), "weight"), Tensor("b", "float32", (4,), "weight")])
    >>> [(t.kind, t.tensors, t.bytes, t.bits_per_weight) for t in type_mix(m)]
    [('Q8_0', 1, 68, 8.5), ('F32', 1, 16, 32.0)]
    """
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    mix: dict[str, list[int]] = {}
    for t in model.tensors:
        kind = GGUF_NAMES.get(t.dtype, t.dtype)
        block, size = GGML_QUANT_SIZES[GGMLQuantizationType[kind]]
        entry = mix.setdefault(kind, [0, 0, 0])
        entry[0] += 1
        entry[1] += t.size // block * size
        entry[2] += t.size
    rows = [TypeMix(kind=k, tensors=v[0], bytes=v[1], values=v[2]) for k, v in mix.items()]
    return sorted(rows, key=lambda r: -r.bytes)


def describe_gguf(model: Model) -> list[str]:
    """The file type, the tensor-type mix with bytes, the overall bits per weight and the K-quant super-blocks."""
    mix = type_mix(model)
    total_bytes, total_values = sum(m.bytes for m in mix), sum(m.values for m in mix)
    lines = []
    if model.file_type:
        lines.append(f"File type {model.file_type} (general.file_type, llama.cpp's name for the mix of tensor types).")
    lines.append(
        "Tensor types: "
        + "; ".join(
            f"{m.kind} {m.tensors} tensor{'s' if m.tensors != 1 else ''} "
            f"({m.bytes:,} bytes, {m.bits_per_weight:.4g} bits/weight)"
            for m in mix
        )
        + "."
    )
    if total_values:
        lines.append(
            f"Overall {8 * total_bytes / total_values:.4g} bits per weight ({total_bytes:,} bytes for "
            f"{total_values:,} values, every tensor counted)."
        )
    k = [m for m in mix if m.kind in SUPER_BLOCKS]
    if k:
        lines.append(
            "K-quants: super-blocks of 256 values, "
            + "; ".join(f"{m.kind} in {SUPER_BLOCKS[m.kind]} with their own quantized scales" for m in k)
            + "."
        )
        lines.append(kquant_sentence(kquant_tensors(model)))
    return lines
