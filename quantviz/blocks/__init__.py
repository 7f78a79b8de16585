"""Block formats: a scale (and sometimes an offset) shared by a block of values instead of a whole tensor.

The same idea as r = s·(q − z), with s per block: GGUF's legacy types (``gguf_legacy``), K-quants Q2_K … Q6_K
(``kquants`` decodes, ``kquant_encode`` encodes) and IQ4_NL / IQ4_XS (``iq4``), byte for byte as llama.cpp's
``ggml_quantize_chunk`` writes them, with or without an importance vector; NF4 (``nf4``), OCP Microscaling and
ggml's MXFP4 (``mx``), NVFP4 (``nvfp4``), and plain block-absmax / group-affine integers (``group``). One interface
over all of them:

- ``FORMATS``: name -> :class:`BlockFormat` (block size, bits per weight with the scale overhead, reference);
- ``encode(x, fmt, importance=None)``: the packed bytes, uint8 (for GGUF types, byte for byte what a GGUF file
  stores); ``importance`` (K-quants and IQ4 only) is ggml's ``quant_weights``, one weight per column of a row;
- ``importance_matrix(inputs)`` and ``gguf_mix(file_type, names, n_layers)``: llama-imatrix's importance and
  llama.cpp's per-tensor type choice (``mix``);
- ``decode(data, fmt, n)``: n float32 values back;
- ``fake_quantize(x, fmt)``: encode then decode, float32.

x is float32 and its length a multiple of the block size. Everything is vectorised over blocks (no Python loop
per block). May import: numpy, ml_dtypes, and the core (errors). Never the teaching text, the app or a screen
library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from quantviz.blocks import gguf_legacy, group, kcodec, mx, nf4, nvfp4
from quantviz.blocks.mix import gguf_mix, importance_matrix, mix_bits_per_weight  # noqa: F401  (public API)
from quantviz.errors import UnsupportedError

F32 = np.float32
CHUNK_VALUES = 1 << 16


class BlockFormat(NamedTuple):
    """A block format: how many values share a scale, what it costs, and how to pack and unpack it."""

    name: str
    block_size: int
    bits_per_weight: float
    summary: str
    reference: str
    encode: Callable[..., np.ndarray]  # float32 (n,) [, importance] -> uint8 bytes
    decode: Callable[[np.ndarray, int], np.ndarray]  # bytes, n -> float32 (n,)
    takes_importance: bool = False  # encode(x, importance) as ggml's quant_weights


def _blockwise(block: int, size: int, enc: Callable, dec: Callable) -> tuple[Callable, Callable]:
    """Wrap (n_blocks, block) -> (n_blocks, size) encoders and their decoders into flat byte streams."""

    def encode(x: np.ndarray) -> np.ndarray:
        rows = x.reshape(-1, block)
        out = np.empty((rows.shape[0], size), np.uint8)
        # a few thousand blocks at a time: the temporaries stay in cache instead of costing page faults
        for start in range(0, rows.shape[0], CHUNK_VALUES // block):
            stop = start + CHUNK_VALUES // block
            out[start:stop] = enc(rows[start:stop])
        return out.reshape(-1)

    def decode(data: np.ndarray, n: int) -> np.ndarray:
        return dec(data.reshape(-1, size)).reshape(-1)[:n].astype(F32)

    return encode, decode


def _legacy(name: str, size: int, bpw: float, summary: str) -> BlockFormat:
    lower = name.lower()
    enc, dec = _blockwise(32, size, getattr(gguf_legacy, f"encode_{lower}"), getattr(gguf_legacy, f"decode_{lower}"))
    return BlockFormat(name, 32, bpw, summary, "gguf package quants (llama.cpp's reference quantizer)", enc, dec)


def _ocp(name: str) -> BlockFormat:
    bits = mx.ELEMENTS[name][2]
    enc, dec = _blockwise(32, 1 + 32 * bits // 8, lambda b: mx.encode_ocp(b, name), lambda d: mx.decode_ocp(d, name))
    element = name.split("_")[-1] if "_" in name else "E2M1"
    return BlockFormat(
        name,
        32,
        bits + 8 / 32,
        f"OCP MX: 32 {element} elements, one E8M0 power-of-two scale (floor of log2 amax)",
        "ml_dtypes element casts; OCP MX v1.0 scale rule",
        enc,
        dec,
    )


def _kquant(name: str) -> BlockFormat:
    block, size = kcodec.BLOCKS[name], kcodec.SIZES[name]
    return BlockFormat(
        name,
        block,
        size * 8 / block,
        kcodec.SUMMARIES[name],
        "llama.cpp's ggml_quantize_chunk (libggml-base via llama-cpp-python)",
        *kcodec.codec(name),
        True,
    )


_GGML_MX = _blockwise(32, 17, mx.encode_ggml_mxfp4, mx.decode_ggml_mxfp4)

FORMATS: dict[str, BlockFormat] = {
    "Q8_0": _legacy("Q8_0", 34, 8.5, "32 int8 codes, float16 scale d = amax/127"),
    "Q4_0": _legacy("Q4_0", 18, 4.5, "32 4-bit codes, float16 scale d = (signed max)/−8"),
    "Q4_1": _legacy("Q4_1", 20, 5.0, "32 4-bit codes, float16 d and min m: x = d·q + m"),
    "Q5_0": _legacy("Q5_0", 22, 5.5, "32 5-bit codes, float16 scale d = (signed max)/−16"),
    "Q5_1": _legacy("Q5_1", 24, 6.0, "32 5-bit codes, float16 d and min m: x = d·q + m"),
    "NF4": BlockFormat(
        "NF4",
        64,
        4 + 32 / 64,
        "64 normal-quantile 4-bit codes, float32 absmax per block",
        "bitsandbytes' NF4 table; nearest code, ties to the lower",
        nf4.encode,
        nf4.decode,
    ),
    "MXFP8_E4M3": _ocp("MXFP8_E4M3"),
    "MXFP8_E5M2": _ocp("MXFP8_E5M2"),
    "MXFP6_E3M2": _ocp("MXFP6_E3M2"),
    "MXFP6_E2M3": _ocp("MXFP6_E2M3"),
    "MXFP4": _ocp("MXFP4"),
    "MXFP4_GGML": BlockFormat(
        "MXFP4_GGML",
        32,
        4.25,
        "ggml's MXFP4: E8M0 scale from a float32 log2, element ties toward zero",
        "gguf package quants",
        *_GGML_MX,
    ),
    "NVFP4": BlockFormat(
        "NVFP4",
        16,
        4 + 8 / 16,
        "16 E2M1 elements, E4M3 block scale, float32 tensor scale amax/(448·6)",
        "ml_dtypes element and scale casts",
        nvfp4.encode,
        nvfp4.decode,
    ),
    "INT4_G32_SYM": BlockFormat(
        "INT4_G32_SYM",
        32,
        4 + 16 / 32,
        "block absmax: int4 [−7, 7], float16 scale amax/7 per 32",
        "quantviz textbook convention per block",
        *group.codec(32, symmetric=True),
    ),
    "INT4_G128_AFFINE": BlockFormat(
        "INT4_G128_AFFINE",
        128,
        4 + (16 + 8) / 128,
        "AWQ/GPTQ layout: uint4 codes, float16 scale and an integer zero point (one byte here) per group of 128",
        "quantviz textbook convention per group",
        *group.codec(128, symmetric=False),
    ),
}
FORMATS.update({name: _kquant(name) for name in kcodec.SIZES})
DECODE_ONLY: dict[str, tuple[int, int]] = {}  # every GGUF type QuantViz reads, it now also writes
IMPORTANCE_FORMATS = tuple(name for name, f in FORMATS.items() if f.takes_importance)


def get_format(fmt: str) -> BlockFormat:
    """Return the format called ``fmt``, or raise UnsupportedError naming the known ones."""
    try:
        return FORMATS[fmt]
    except (KeyError, TypeError):
        raise UnsupportedError(f"unknown block format {fmt!r}; choose one of {', '.join(FORMATS)}") from None


def _checked(x: object, block: int) -> np.ndarray:
    arr = np.asarray(x, dtype=F32).reshape(-1)
    if arr.size % block:
        raise UnsupportedError(f"{arr.size} values do not fill whole blocks of {block}; pad to a multiple of {block}")
    if not np.isfinite(arr).all():
        raise UnsupportedError("values contain NaN or infinity, which no block format stores")
    return arr


def _checked_importance(importance: object, n: int, fmt: BlockFormat) -> np.ndarray:
    w = np.asarray(importance, dtype=F32)
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"importance must be one weight per column of a row (1-D), not shape {w.shape}")
    if w.size % fmt.block_size or n % w.size:
        raise ValueError(
            f"importance has {w.size} weights: the row length must be a multiple of {fmt.block_size} "
            f"that divides the {n} values"
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("importance must be finite and non-negative (a mean of squares)")
    return w


def encode(x: object, fmt: str, importance: object = None) -> np.ndarray:
    """Return the packed bytes of ``x`` in block format ``fmt`` (uint8), weighted by ``importance`` if given.

    >>> encode(np.arange(32, dtype=np.float32), "Q8_0")[:4].tolist()   # float16 d = 31/127, then the first code
    [208, 51, 0, 4]
    >>> x = np.linspace(-1, 1, 256, dtype=np.float32) ** 3
    >>> w = np.linspace(0, 4, 256, dtype=np.float32)
    >>> encode(x, "Q4_K").size, bool((encode(x, "Q4_K", w) != encode(x, "Q4_K")).any())
    (144, True)
    """
    f = get_format(fmt)
    arr = _checked(x, f.block_size)
    if importance is None:
        return f.encode(arr).astype(np.uint8)
    if not f.takes_importance:
        raise UnsupportedError(
            f"{fmt} is encoded without an importance vector here; "
            f"the formats that take one are {', '.join(IMPORTANCE_FORMATS)}"
        )
    return f.encode(arr, _checked_importance(importance, arr.size, f)).astype(np.uint8)


def decode(data: object, fmt: str, n: int) -> np.ndarray:
    """Return ``n`` float32 values decoded from the bytes of block format ``fmt`` (K-quants too).

    >>> decode(encode(np.full(32, 2.0, np.float32), "Q4_0"), "Q4_0", 32)[:3].tolist()
    [2.0, 2.0, 2.0]
    """
    raw = np.asarray(data, dtype=np.uint8).reshape(-1)
    if fmt in kcodec.SIZES:
        block, size = kcodec.BLOCKS[fmt], kcodec.SIZES[fmt]
        if raw.size % size or n > raw.size // size * block:
            raise UnsupportedError(f"{raw.size} bytes are not whole {fmt} blocks of {size} bytes holding {n} values")
    return get_format(fmt).decode(raw, n)


def fake_quantize(x: object, fmt: str, importance: object = None) -> np.ndarray:
    """Return ``x`` after encoding to ``fmt`` (weighted by ``importance`` if given) and decoding again, as float32.

    >>> fake_quantize(np.linspace(-1, 1, 32, dtype=np.float32), "MXFP4")[:3].tolist()
    [-1.0, -1.0, -0.75]
    """
    arr = _checked(x, get_format(fmt).block_size)
    return decode(encode(arr, fmt, importance), fmt, arr.size)
