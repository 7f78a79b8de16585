"""Run an elementwise kernel over a large array in cache-sized chunks, on a small thread pool.

Every convention's fast paths (``quantize``, ``dequantize``, ``fake_quantize``) go through
:func:`in_chunks`, so that the arithmetic stays the convention's own and only the scheduling
lives here. Imports numpy only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np

# Large arrays are processed in small chunks (temporaries stay in cache and below malloc's mmap
# threshold), in a few blocks run on a thread pool: numpy releases the GIL inside ufuncs.
CHUNK = 1 << 16
PARALLEL_FROM = 1 << 17
_POOL: ThreadPoolExecutor | None = None
_WORKERS = max(1, min(4, os.cpu_count() or 1))


def in_chunks(n: int, work: Callable[[int, int], None]) -> None:
    """Call ``work(start, stop)`` over [0, n) chunk by chunk, splitting large n across threads.

    >>> seen = []
    >>> in_chunks(5, lambda a, b: seen.append((a, b)))
    >>> seen
    [(0, 5)]
    """
    global _POOL

    def block(a: int, b: int) -> None:
        for start in range(a, b, CHUNK):
            work(start, min(start + CHUNK, b))

    if n < PARALLEL_FROM or _WORKERS == 1:
        block(0, n)
        return
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="quantviz")
    edges = np.linspace(0, n, 2 * _WORKERS + 1).astype(int)
    list(_POOL.map(lambda ab: block(*ab), pairwise(edges.tolist())))
