"""``.safetensors``: the header checked against the bytes before the ``safetensors`` package reads it.

The header is JSON naming each tensor's dtype, shape and byte offsets. A lying header (a shape whose bytes do not
fill its offsets, offsets past the end, overlapping tensors, a 2^40-element shape) is refused with a
:class:`~quantviz.errors.ModelFileError` before anything is allocated; the values are views of the file, loaded
one tensor at a time.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import tempfile

import ml_dtypes
import numpy as np

from quantviz.errors import ModelFileError
from quantviz.models.base import Model, Tensor, check_size

SAFETENSORS_DTYPES = {
    "F32": ("float32", 4),
    "F16": ("float16", 2),
    "BF16": ("bfloat16", 2),
    "F64": ("float64", 8),
    "I8": ("int8", 1),
    "U8": ("uint8", 1),
    "I16": ("int16", 2),
    "I32": ("int32", 4),
    "I64": ("int64", 8),
    "BOOL": ("bool", 1),
    "F8_E4M3": ("float8_e4m3fn", 1),
    "F8_E5M2": ("float8_e5m2", 1),
}
NUMPY_TYPES = {
    "bfloat16": ml_dtypes.bfloat16,
    "float8_e4m3fn": ml_dtypes.float8_e4m3fn,
    "float8_e5m2": ml_dtypes.float8_e5m2,
}
MAX_HEADER_BYTES = 100 << 20  # the format's own limit (the safetensors package refuses larger headers too)


def _entry(name: str, key: str, info: object, body: int) -> tuple[str, str, tuple[int, ...], int, int]:
    """(key, dtype, shape, start, stop) of one header entry, checked against its dtype and the body's length."""
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
        raise ModelFileError(f"{name}: tensor {key!r} lacks dtype, shape or data_offsets in the header")
    dtype, itemsize = SAFETENSORS_DTYPES.get(info["dtype"], (None, 0))
    if dtype is None:
        raise ModelFileError(f"{name}: tensor {key!r} has dtype {info['dtype']!r}, which QuantViz does not read")
    shape, offsets = info["shape"], info["data_offsets"]
    if not (isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) for d in shape)):
        raise ModelFileError(f"{name}: tensor {key!r} has shape {shape!r}, not a list of integers")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(v, int) for v in offsets)):
        raise ModelFileError(f"{name}: tensor {key!r} has data_offsets {offsets!r}, not two integers")
    shape_t = tuple(shape)
    start, stop = offsets
    check_size(name, key, shape_t, itemsize)
    if not 0 <= start <= stop:
        raise ModelFileError(f"{name}: tensor {key!r} has data_offsets {offsets}: start after stop")
    need = math.prod(shape_t) * itemsize
    if stop - start != need:
        raise ModelFileError(
            f"{name}: tensor {key!r} declares shape {shape_t} of {info['dtype']} ({need:,} bytes) "
            f"but its offsets span {stop - start:,} bytes"
        )
    if stop > body:
        raise ModelFileError(
            f"{name}: tensor {key!r} ends at byte {stop:,} of the data but the file holds {body:,}: truncated?"
        )
    return key, dtype, shape_t, start, stop


def _entries(name: str, header: object, body: int) -> list[tuple[str, str, tuple[int, ...], int, int]]:
    """(key, dtype, shape, start, stop) for every tensor, each checked against the body's length and the others."""
    if not isinstance(header, dict):
        raise ModelFileError(f"{name}: the safetensors header is not a JSON object")
    out = [_entry(name, key, info, body) for key, info in header.items() if key != "__metadata__"]
    spans = sorted((start, stop, key) for key, _, _, start, stop in out if stop > start)
    for (_, stop_a, key_a), (start_b, _, key_b) in itertools.pairwise(spans):
        if start_b < stop_a:
            raise ModelFileError(f"{name}: tensors {key_a!r} and {key_b!r} overlap in the file")
    return out


def _header(name: str, data: bytes) -> tuple[object, int]:
    """The header's JSON and its length, refused where the length or the JSON is impossible."""
    if len(data) < 8:
        raise ModelFileError(f"{name}: too short to be a safetensors file")
    header_len = int.from_bytes(data[:8], "little")
    if header_len <= 0 or 8 + header_len > len(data):
        raise ModelFileError(
            f"{name}: the header claims {header_len:,} bytes but the file has {len(data):,}: truncated "
            "or not safetensors"
        )
    if header_len > MAX_HEADER_BYTES:
        raise ModelFileError(f"{name}: the header claims {header_len:,} bytes, more than the format allows (100 MB)")
    try:
        return json.loads(bytes(data[8 : 8 + header_len])), header_len
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(f"{name}: the safetensors header is not valid JSON") from None


def _package_keys(name: str, data: bytes, path: str | None) -> set[str]:
    """The tensor names the safetensors package lists (its own checks run; whatever it refuses, in words)."""
    from safetensors import safe_open

    temporary = path is None  # uploads: the package reads files, so the bytes go to a private temporary one
    if temporary:
        fd, path = tempfile.mkstemp(suffix=".safetensors")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    try:
        with safe_open(path, framework="numpy") as handle:
            return set(handle.keys())
    except Exception as exc:  # the package's own checks: whatever it refuses, the message says why
        raise ModelFileError(f"{name}: the safetensors package cannot read it ({exc})") from None
    finally:
        if temporary:
            os.unlink(path)


def read_safetensors(name: str, data: bytes, path: str | None = None, config=None, *, raw: bool = False) -> Model:
    """Header checked, then read with the safetensors package; values loaded lazily, one tensor at a time.

    ``config``: the checkpoint's ``quantization_config`` (:class:`~quantviz.models.hf_config.QuantConfig`), if any;
    ``raw``: the stored tensors as they are, packs not recognised (a shard, merged with the others first).

    >>> from safetensors.numpy import save
    >>> m = read_safetensors("m.safetensors", save({"w": np.ones((2, 3), np.float32)}))
    >>> [(t.name, t.dtype, t.shape) for t in m.tensors]
    [('w', 'float32', (2, 3))]
    """
    header, header_len = _header(name, data)
    entries = _entries(name, header, len(data) - 8 - header_len)
    keys = _package_keys(name, data, path)
    tensors = []
    for key, dtype, shape, start, stop in entries:
        if key not in keys:
            raise ModelFileError(
                f"{name}: tensor {key!r} is in the header but the safetensors package does not list it"
            )

        def load(dtype=dtype, shape=shape, start=start, stop=stop) -> np.ndarray:
            raw = np.frombuffer(data, dtype=np.uint8, count=stop - start, offset=8 + header_len + start)
            np_type = NUMPY_TYPES.get(dtype) or np.dtype(dtype).newbyteorder("<")
            return raw.view(np_type).reshape(shape)

        # a 1-D tensor is a bias or a norm's gain, not a matrix to quantize: only matrices are measured as weights
        role = "bias" if key.endswith("bias") else "weight" if len(shape) >= 2 else "constant"
        tensors.append(Tensor(key, dtype, shape, role, loader=load))
    from quantviz.models.hf_packs import recognise_packs

    model = Model(name, "safetensors", tensors)
    return model if raw else recognise_packs(model, config)
