"""The Markdown table every benchmark prints its rows as (one place, so no benchmark imports the runner)."""

from __future__ import annotations

import time
from collections.abc import Callable


def table(rows: list[dict]) -> str:
    keys = list(dict.fromkeys(k for row in rows for k in row))  # every row's columns, in first-seen order
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def timings(fn: Callable[[], object], repeat: int, *, warmup: bool = True) -> list[float]:
    """Seconds per call of ``fn``, ``repeat`` times (after one untimed warm-up call: imports, page faults, caches)."""
    if warmup:
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out
