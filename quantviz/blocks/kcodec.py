"""Flat-byte codecs for the K-quants and IQ4 types: rows, an optional importance vector, cache-sized chunks.

``encode(x, importance=None)`` takes float32 x already checked (finite, whole blocks) and an importance vector
already checked against it (length = row length, dividing x); ggml reuses that one vector for every row.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from quantviz.blocks import iq4, kquant_encode, kquants

F32 = np.float32
CHUNK_VALUES = 1 << 16
SIZES = {**kquants.SIZES, "IQ4_NL": 18, "IQ4_XS": 136}
BLOCKS = {name: (32 if name == "IQ4_NL" else 256) for name in SIZES}
_ENCODERS = {**kquant_encode.ENCODERS, "IQ4_NL": iq4.encode_iq4_nl, "IQ4_XS": iq4.encode_iq4_xs}
_DECODERS = {**kquants.DECODERS, "IQ4_NL": iq4.decode_iq4_nl, "IQ4_XS": iq4.decode_iq4_xs}
SUMMARIES = {
    "Q2_K": "16 × 16 values per 256: 2-bit codes, 4-bit scale and min each, float16 d and dmin",
    "Q3_K": "16 × 16 values per 256: 3-bit codes, 6-bit signed scales, float16 d",
    "Q4_K": "8 × 32 values per 256: 4-bit codes, 6-bit scale and min each, float16 d and dmin",
    "Q5_K": "8 × 32 values per 256: 5-bit codes, 6-bit scale and min each, float16 d and dmin",
    "Q6_K": "16 × 16 values per 256: 6-bit codes, int8 scales, float16 d",
    "IQ4_NL": "32 values: 4-bit indices into a 16-value non-linear grid, float16 d",
    "IQ4_XS": "8 × 32 values per 256: IQ4_NL's grid, 6-bit sub-block scales, float16 d",
}


def codec(name: str) -> tuple[Callable, Callable]:
    """The (encode, decode) pair of K-quant or IQ4 type ``name`` over flat float32 values and flat bytes."""
    block, size, enc, dec = BLOCKS[name], SIZES[name], _ENCODERS[name], _DECODERS[name]
    step = max(1, CHUNK_VALUES // block)

    def encode(x: np.ndarray, importance: np.ndarray | None = None) -> np.ndarray:
        rows = x.reshape(-1, block)
        qw = None
        if importance is not None:
            reps = x.size // importance.size
            qw = np.tile(importance.reshape(-1, block), (reps, 1))
        out = np.empty((rows.shape[0], size), np.uint8)
        for s in range(0, rows.shape[0], step):
            out[s : s + step] = enc(rows[s : s + step], None if qw is None else qw[s : s + step])
        return out.reshape(-1)

    def decode(data: np.ndarray, n: int) -> np.ndarray:
        return dec(data.reshape(-1, size)).reshape(-1)[:n].astype(F32)

    return encode, decode
