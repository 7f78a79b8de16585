"""Two 4-bit codes per byte, the layout ggml (Q4_0, Q4_1, MXFP4), our group formats and OCP FP4 blocks store.

Pure numpy; imported by the block codecs only.
"""

from __future__ import annotations

import numpy as np


def pack_nibbles(q: np.ndarray) -> np.ndarray:
    """Pack codes 0..15 of shape (n, 2k) into (n, k) bytes: element j low nibble, element j + k high nibble.

    >>> pack_nibbles(np.array([[1, 2, 15, 4]])).tolist()
    [[241, 66]]
    """
    q = np.asarray(q).astype(np.uint8)
    half = q.shape[1] // 2
    return (q[:, :half] & 0x0F) | (q[:, half:] << 4)


def unpack_nibbles(packed: np.ndarray) -> np.ndarray:
    """Invert :func:`pack_nibbles`: (n, k) bytes -> (n, 2k) codes 0..15.

    >>> unpack_nibbles(np.array([[241, 66]], np.uint8)).tolist()
    [[1, 2, 15, 4]]
    """
    return np.concatenate([packed & 0x0F, packed >> 4], axis=1)
