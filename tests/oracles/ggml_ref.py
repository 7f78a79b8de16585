"""ggml's own quantizer through ctypes: ``ggml_quantize_chunk`` in the libggml-base that llama-cpp-python builds.

llama-cpp-python (pinned in requirements-oracles.txt) compiles llama.cpp's C and C++ from its sdist with the
machine's compiler and ships the shared libraries inside the installed ``llama_cpp`` package (``llama_cpp/lib``).
Nothing here is built or downloaded: :func:`load` finds the library or returns None (tests then skip).

>>> lib = load()
>>> lib is None or quantize(lib, "Q8_0", np.arange(32, dtype=np.float32))[:2].tolist() == [208, 51]
True
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
import os
from pathlib import Path

import numpy as np

# enum ggml_type values (ggml.h)
TYPES = {
    "Q4_0": 2,
    "Q4_1": 3,
    "Q5_0": 6,
    "Q5_1": 7,
    "Q8_0": 8,
    "Q2_K": 10,
    "Q3_K": 11,
    "Q4_K": 12,
    "Q5_K": 13,
    "Q6_K": 14,
    "IQ4_NL": 20,
    "IQ4_XS": 23,
}


def library_path() -> Path | None:
    """The libggml-base shared library inside the installed llama_cpp package (or $GGML_BASE_LIB), if any."""
    env = os.environ.get("GGML_BASE_LIB")
    if env and Path(env).exists():
        return Path(env)
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).parent
    hits = sorted(glob.glob(str(root / "**" / "libggml-base.so*"), recursive=True))
    return Path(hits[0]) if hits else None


def load() -> ctypes.CDLL | None:
    """Open libggml-base and declare the three functions used, or return None when it is not installed."""
    path = library_path()
    if path is None:
        return None
    lib = ctypes.CDLL(str(path))
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib.ggml_quantize_chunk.argtypes = [
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.c_void_p,
    ]
    lib.ggml_row_size.restype = ctypes.c_size_t
    lib.ggml_row_size.argtypes = [ctypes.c_int, ctypes.c_int64]
    lib.ggml_quantize_init.restype = None
    lib.ggml_quantize_init.argtypes = [ctypes.c_int]
    return lib


def quantize(
    lib: ctypes.CDLL, name: str, x: np.ndarray, importance: np.ndarray | None = None, n_per_row: int | None = None
) -> np.ndarray:
    """Bytes of ggml_quantize_chunk(type, x, dst, 0, nrows, n_per_row, imatrix) as a uint8 array.

    x is float32; rows of ``n_per_row`` values (default: the importance length, else all of x as one row).
    """
    src = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    if n_per_row is None:
        n_per_row = src.size if importance is None else int(np.asarray(importance).size)
    nrows = src.size // n_per_row
    t = TYPES[name]
    lib.ggml_quantize_init(t)
    dst = np.zeros(lib.ggml_row_size(t, n_per_row) * nrows, np.uint8)
    imat = None if importance is None else np.ascontiguousarray(importance, dtype=np.float32)
    written = lib.ggml_quantize_chunk(
        t, src.ctypes.data, dst.ctypes.data, 0, nrows, n_per_row, None if imat is None else imat.ctypes.data
    )
    if written != dst.size:
        raise RuntimeError(f"ggml wrote {written} bytes, expected {dst.size}")
    return dst
