"""The command-line report on a generated 1 GB float32 safetensors file (250 million parameters).

    PYTHONPATH=. .venv/bin/python -m bench.models            # writes the file to a temporary folder, then removes it

Target (issue 13): reported in <= 60 s with peak RSS <= 1.5 GB on this 2-core machine. The baseline, in the same run,
is one plain numpy pass over the same data (a sum over the mapped file), so the ratio says how many such passes the
report costs. One tensor is in memory at a time: the file is mapped, not read.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROWS, COLS, TENSORS = 2500, 4000, 25  # 25 tensors of 10 million float32 values: 1 GB


def write_file(path: Path) -> None:
    header, offset = {}, 0
    for i in range(TENSORS):
        size = ROWS * COLS * 4
        header[f"layers.{i}.weight"] = {"dtype": "F32", "shape": [ROWS, COLS], "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header).encode()
    rng = np.random.default_rng(0)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text)
        for _ in range(TENSORS):
            f.write((rng.standard_normal((ROWS, COLS), dtype=np.float32) * rng.uniform(0.01, 1)).tobytes())


def run(repeat: int = 1) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.safetensors"
        write_file(path)
        mapped = np.memmap(path, dtype=np.uint8, mode="r")
        base = []
        for _ in range(3):
            start = time.perf_counter()
            float(np.frombuffer(mapped, dtype=np.float32, offset=mapped.size % 4).sum())
            base.append(time.perf_counter() - start)
        times, peaks = [], []
        for _ in range(repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "quantviz", "report", str(path), "--json", str(Path(tmp) / "r.json")],
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - start)
            peaks.append(max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024)
    b = statistics.median(base)
    return {
        "file (GB)": 1.0,
        "report (s)": [round(t, 1) for t in times],
        "peak RSS (MB)": [round(p) for p in peaks],
        "numpy pass (s)": round(b, 2),
        "× numpy pass": round(statistics.median(times) / b, 1),
    }


if __name__ == "__main__":
    print(run())
