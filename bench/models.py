"""The command-line report on a generated 1 GB float32 safetensors file and a 1 GB Q8_0 GGUF file.

    PYTHONPATH=. nice .venv/bin/python -m bench.models     # writes each file to a temporary folder, then removes it

Target (issues 13 and 23): opened and summarised (``python -m quantviz report FILE --json``) in <= 60 s with peak
RSS <= 1.5 GB on this 2-core machine. The baseline, in the same run, is one plain numpy pass over the same file (a
sum over the mapped bytes), so the ratio says how many such passes the report costs. The report runs 3 times in a
fresh process each (``nice``d like everything here); each row gives the wall time, the CPU time of the report's
process (the machine is shared: wall time under load is not CPU time) and the load average when it ran.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROWS, COLS, TENSORS = 2500, 4000, 25  # 25 tensors of 10 million float32 values: 1 GB
Q_ROWS, Q_COLS = 4096, 9216  # 25 Q8_0 tensors of 37.7 million values (34 bytes per 32): 1 GB


def write_file(path: Path) -> None:
    """A 1 GB float32 safetensors file: 25 matrices of 2,500 × 4,000, each at its own scale."""
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


def write_gguf(path: Path) -> None:
    """A 1 GB GGUF file of 25 Q8_0 matrices (random codes, float16 scales), file type MOSTLY_Q8_0."""
    import gguf

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    row_bytes = Q_COLS // 32 * 34
    for i in range(TENSORS):
        writer.add_tensor_info(
            f"blk.{i}.ffn_up.weight",
            (Q_ROWS, row_bytes),
            np.dtype(np.uint8),
            Q_ROWS * row_bytes,
            gguf.GGMLQuantizationType.Q8_0,
        )
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    rng = np.random.default_rng(0)
    for _ in range(TENSORS):
        blocks = np.empty((Q_ROWS * Q_COLS // 32, 34), np.uint8)
        blocks[:, :2] = rng.uniform(0.001, 0.01, blocks.shape[0]).astype(np.float16).view(np.uint8).reshape(-1, 2)
        blocks[:, 2:] = rng.integers(-127, 128, (blocks.shape[0], 32), dtype=np.int8).view(np.uint8)
        writer.write_tensor_data(blocks.reshape(Q_ROWS, row_bytes))
    writer.close()


def _numpy_pass(path: Path) -> float:
    """One plain pass over the file's bytes: a wrapping integer sum over the mapped file."""
    mapped = np.memmap(path, dtype=np.uint8, mode="r")
    start = time.perf_counter()
    int(np.frombuffer(mapped, dtype=np.uint64, count=mapped.size // 8).sum())
    return time.perf_counter() - start


def _report(path: Path, out: Path) -> tuple[float, float, float]:
    """One report in a fresh process: (wall s, CPU s of that process, its own peak RSS in MB, from ``os.wait4``)."""
    start = time.perf_counter()
    command = ["nice", sys.executable, "-m", "quantviz", "report", str(path), "--json", str(out)]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"{' '.join(command)} exited with {child.returncode}")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def measure(label: str, path: Path, repeat: int) -> dict:
    """The report on ``path``, ``repeat`` times, against a plain numpy pass over the same bytes (median of 3)."""
    base = statistics.median(_numpy_pass(path) for _ in range(3))
    runs = [(_report(path, path.with_suffix(".json")), os.getloadavg()[0]) for _ in range(repeat)]
    walls = [r[0][0] for r in runs]
    return {
        "file": label,
        "size (GB)": round(path.stat().st_size / 1e9, 2),
        "report (s)": [round(w, 1) for w in walls],
        "CPU (s)": [round(r[0][1], 1) for r in runs],
        "peak RSS (MB)": [round(r[0][2]) for r in runs],
        "load average": [round(r[1], 1) for r in runs],
        "numpy pass (s)": round(base, 2),
        "× numpy pass": round(statistics.median(walls) / base, 1),
        "target (s)": 60,
    }


def run(repeat: int = 3) -> list[dict]:
    """The safetensors and the GGUF file, each written, reported ``repeat`` times and removed."""
    rows = []
    for label, name, write in (
        ("safetensors float32", "model.safetensors", write_file),
        ("GGUF Q8_0", "model.gguf", write_gguf),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            write(path)
            rows.append(measure(label, path, repeat))
    return rows


if __name__ == "__main__":
    from bench.report import table

    print(table(run()))
