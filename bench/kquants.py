"""Encoding 10 million float32 values to Q4_K with an importance matrix: QuantViz's numpy against ggml's C.

    PYTHONPATH=. .venv/bin/python -m bench.kquants
    GGML_BASE_LIB=/path/to/libggml-base.so PYTHONPATH=. .venv/bin/python -m bench.kquants   # with the C baseline

Target (issue 26): within 1 s, reported as a ratio to ggml's ``ggml_quantize_chunk`` measured in the same run on
the same array (rows of 4096, one importance vector), when llama-cpp-python's libggml-base is found (installed in
this interpreter, or named by $GGML_BASE_LIB). Both run on one core. 3 repeats each: median and spread.
"""

from __future__ import annotations

import statistics

import numpy as np

from bench.report import timings
from quantviz import blocks

N_PER_ROW = 4096
N = 10_000_000 // N_PER_ROW * N_PER_ROW


def _row(label: str, times: list[float], base: float | None) -> dict:
    med = statistics.median(times)
    return {
        "encoder": label,
        "median (s)": round(med, 2),
        "min–max (s)": f"{min(times):.2f}–{max(times):.2f}",
        "× ggml C": round(med / base, 1) if base else "—",
    }


def run(repeat: int = 3, types: tuple[str, ...] = ("Q4_K",)) -> list[dict]:
    from tests.oracles import ggml_ref

    rng = np.random.default_rng(0)
    x = rng.normal(size=N).astype(np.float32)
    imp = blocks.importance_matrix(blocks.mix.outlier_activations(512, N_PER_ROW, 32, 10.0, 1))
    lib = ggml_ref.load()
    rows = []
    for name in types:
        for label, w in (("with imatrix", imp), ("without", None)):
            base = None
            if lib is not None:
                c_times = timings(
                    lambda w=w, name=name: ggml_ref.quantize(lib, name, x, w, n_per_row=N_PER_ROW), repeat, warmup=False
                )
                base = statistics.median(c_times)
                rows.append(_row(f"ggml C {name} {label}", c_times, None))
            np_times = timings(
                lambda w=w, name=name: blocks.encode(x, name, None if w is None else w), repeat, warmup=False
            )
            rows.append(_row(f"QuantViz numpy {name} {label}", np_times, base))
            if lib is not None:  # the comparison is only fair if both wrote the same bytes
                same = np.array_equal(
                    blocks.encode(x[: 64 * N_PER_ROW], name, w),
                    ggml_ref.quantize(lib, name, x[: 64 * N_PER_ROW], w, n_per_row=N_PER_ROW),
                )
                rows[-1]["same bytes"] = same
    return rows


if __name__ == "__main__":
    from bench.report import table

    print(f"{N:,} float32 values, rows of {N_PER_ROW}")
    print(table(run()))
