"""``.npz`` and ``.npy`` files, read without unpickling and without decompressing anything before its size is known.

An ``.npz`` is a zip of ``.npy`` files. Opening one reads only the zip directory and each entry's small ``.npy``
header; every declared size is checked before a byte is inflated: the shape × itemsize against the 4 GiB cap and
against the entry's declared uncompressed size, and that size against the compressed one (a deflate bomb expands
hundreds of times). The values are inflated lazily by ``load()``, reading exactly the declared number of bytes.
"""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np
from numpy.lib import format as npy_format

from quantviz.errors import ModelFileError
from quantviz.models.base import MAX_TENSOR_BYTES, Model, Tensor, check_size

MAX_EXPANSION = 200  # deflate reaches ~1000x only on constant data; a weight file compresses a few times at most
SMALL_ENTRY = 1 << 20  # entries below 1 MiB uncompressed are never a bomb, whatever their ratio
COMPRESSIONS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}  # what numpy.savez writes


def _header(file: str, key: str, stream: io.RawIOBase | io.BufferedIOBase) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Read an ``.npy`` header: (shape, fortran_order, dtype), refusing what is not an array of numbers."""
    try:
        version = npy_format.read_magic(stream)
        reader = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
        shape, fortran, dtype = reader(stream)
    except zipfile.BadZipFile as exc:  # zipfile checks the CRC as soon as a small entry is read whole
        raise ModelFileError(f"{file}: entry {key!r} is corrupt ({exc})") from None
    except (ValueError, OSError, EOFError, SyntaxError) as exc:
        raise ModelFileError(f"{file}: entry {key!r} has no readable .npy header ({exc})") from None
    if dtype.hasobject:
        raise ModelFileError(
            f"{file}: entry {key!r} holds Python objects, which can only be read by unpickling; "
            "QuantViz never unpickles (it can run code)"
        )
    if dtype.kind not in "biuf" or dtype.fields is not None:
        raise ModelFileError(f"{file}: entry {key!r} holds {dtype}, not numbers")
    return tuple(int(d) for d in shape), bool(fortran), dtype


def _array(file: str, key: str, raw: bytes, shape: tuple[int, ...], fortran: bool, dtype: np.dtype) -> np.ndarray:
    need = math.prod(shape) * dtype.itemsize
    if len(raw) != need:
        raise ModelFileError(
            f"{file}: entry {key!r} declares {need:,} bytes of values but holds {len(raw):,}: truncated?"
        )
    return np.frombuffer(raw, dtype).reshape(shape, order="F" if fortran else "C")


def read_npy(name: str, data: bytes) -> Model:
    """One ``.npy`` array: its header checked against the bytes that follow it, the values a view of the file."""
    stream = io.BytesIO(data)
    shape, fortran, dtype = _header(name, "array", stream)
    start = stream.tell()
    check_size(name, "array", shape, dtype.itemsize, available=len(data) - start)

    def load() -> np.ndarray:
        need = math.prod(shape) * dtype.itemsize
        return _array(name, "array", bytes(data[start : start + need]), shape, fortran, dtype)

    return Model(name, "npy", [Tensor("array", dtype.name, shape, "weight", loader=load)])


def _check_entry(name: str, key: str, info: zipfile.ZipInfo) -> None:
    """Refuse an entry that is not a plain .npy, is encrypted, uses another compression, or inflates like a bomb."""
    if not info.filename.endswith(".npy"):
        raise ModelFileError(f"{name}: entry {info.filename!r} is not an .npy array (an .npz holds only .npy files)")
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{name}: entry {key!r} is encrypted")
    if info.compress_type not in COMPRESSIONS:
        raise ModelFileError(
            f"{name}: entry {key!r} uses zip compression method {info.compress_type}; numpy writes "
            "only stored or deflated entries, and QuantViz reads only those"
        )
    if info.file_size > SMALL_ENTRY and info.file_size > MAX_EXPANSION * max(info.compress_size, 1):
        raise ModelFileError(
            f"{name}: entry {key!r} declares {info.file_size:,} bytes from {info.compress_size:,} "
            f"compressed ({info.file_size / max(info.compress_size, 1):,.0f}× expansion): a "
            f"decompression bomb? QuantViz inflates entries that expand at most {MAX_EXPANSION}×"
        )


def _entry_tensor(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str) -> Tensor:
    """One entry: its header read (a few bytes inflated) and checked against its declared size; values lazy."""
    try:
        with archive.open(info) as stream:
            shape, fortran, dtype = _header(name, key, stream)
            start = stream.tell()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelFileError(f"{name}: entry {key!r} cannot be inflated ({exc})") from None
    check_size(name, key, shape, dtype.itemsize)
    need = math.prod(shape) * dtype.itemsize
    if need != info.file_size - start:
        raise ModelFileError(
            f"{name}: entry {key!r} declares shape {shape} of {dtype} ({need:,} bytes) but the zip "
            f"entry holds {max(info.file_size - start, 0):,} bytes of values"
        )

    def load() -> np.ndarray:
        try:
            with archive.open(info) as stream:
                stream.read(start)
                raw = stream.read(need)
                stream.read(1)  # reaching the end makes zipfile check the CRC
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ModelFileError(f"{name}: entry {key!r} is corrupt ({exc})") from None
        return _array(name, key, raw, shape, fortran, dtype)

    return Tensor(key, dtype.name, shape, "weight", loader=load)


def read_npz(name: str, data: bytes) -> Model:
    """Each entry's header read and checked; values inflated only when ``load()`` is called.

    >>> buffer = io.BytesIO(); np.savez_compressed(buffer, w=np.arange(6, dtype=np.int8).reshape(2, 3))
    >>> t = read_npz("m.npz", buffer.getvalue()).tensors[0]
    >>> (t.name, t.dtype, t.shape, t.load().tolist())
    ('w', 'int8', (2, 3), [[0, 1, 2], [3, 4, 5]])
    """
    if data[:6] == b"\x93NUMPY":
        return read_npy(name, data)
    if data[:4] != b"PK\x03\x04" and data[:4] != b"PK\x05\x06":
        raise ModelFileError(f"{name}: neither an .npy array (no \\x93NUMPY magic) nor an .npz (a zip archive)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ModelFileError(f"{name}: not a readable .npz archive: the zip directory is broken ({exc})") from None
    total = 0
    tensors = []
    for info in entries:
        key = info.filename.removesuffix(".npy")
        _check_entry(name, key, info)
        total += info.file_size
        if total > MAX_TENSOR_BYTES:
            raise ModelFileError(
                f"{name}: the entries declare {total / 2**30:.1f} GiB uncompressed, more than QuantViz "
                f"reads ({MAX_TENSOR_BYTES >> 30} GiB)"
            )
        tensors.append(_entry_tensor(name, archive, info, key))
    return Model(name, "npz", tensors)
