"""Every block format on 10 million float32 values: encode + decode (fake_quantize), against one numpy pass.

    PYTHONPATH=. .venv/bin/python -m bench.blocks

Target (issue 14): each format within 1 s on this machine. The baseline, measured in the same run, is one plain
numpy pass over the same array (x * 1.0f), so the ratio says how many such passes a format costs.
"""

from __future__ import annotations

import statistics

import numpy as np

from bench.report import timings
from quantviz import blocks

N = 10_000_000 // 1024 * 1024  # whole blocks of every size


def run(repeat: int = 5) -> list[dict]:
    x = np.random.default_rng(0).normal(size=N).astype(np.float32)
    base = statistics.median(timings(lambda: x * np.float32(1.0), repeat))
    rows = [
        {
            "format": "numpy pass (x * 1.0f)",
            "median (ms)": round(base * 1e3, 1),
            "min–max (ms)": "",
            "× numpy pass": 1.0,
        }
    ]
    for name in blocks.FORMATS:
        if blocks.FORMATS[name].takes_importance:
            continue  # the K-quant / IQ4 searches have their own benchmark (bench.kquants)
        times = timings(lambda name=name: blocks.fake_quantize(x, name), repeat)
        med = statistics.median(times)
        rows.append(
            {
                "format": name,
                "median (ms)": round(med * 1e3),
                "min–max (ms)": f"{min(times) * 1e3:.0f}–{max(times) * 1e3:.0f}",
                "× numpy pass": round(med / base, 1),
            }
        )
    return rows


if __name__ == "__main__":
    from bench.report import table

    print(table(run()))
