"""Run an elementwise kernel over a large array in cache-sized chunks, on a small thread pool.

Every convention's fast paths (``quantize``, ``dequantize``, ``fake_quantize``) go through
:func:`in_chunks`, so that the arithmetic stays the convention's own and only the scheduling
lives here. Imports numpy only.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np

# Large arrays are processed in chunks (temporaries stay small and are reused by malloc), in a few blocks run on a
# thread pool: numpy releases the GIL inside ufuncs. 256k values a chunk: fused fake_quantize of 10M float32 values
# took 6.6 ms in 64k chunks, 4.8 ms in 256k, 4.7 ms in 512k, where error_trace (float64) got slower (19 -> 25 ms).
CHUNK = 1 << 18
PARALLEL_FROM = 1 << 17
_POOL: ThreadPoolExecutor | None = None
_WORKERS = max(1, min(4, os.cpu_count() or 1))
# A kernel may call another (error_trace calls dequantize on each chunk): inside a pool worker the inner call runs
# in the worker's own thread, or it would wait for a pool whose every worker is waiting for it.
_IN_WORKER = threading.local()


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

    def in_worker(a: int, b: int) -> None:
        _IN_WORKER.active = True
        try:
            block(a, b)
        finally:
            _IN_WORKER.active = False

    if n < PARALLEL_FROM or _WORKERS == 1 or getattr(_IN_WORKER, "active", False):
        block(0, n)
        return
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="quantviz")
    edges = np.linspace(0, n, 2 * _WORKERS + 1).astype(int)
    list(_POOL.map(lambda ab: in_worker(*ab), pairwise(edges.tolist())))
