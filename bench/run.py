"""Run every benchmark and write bench/results/latest.json and a Markdown table (bench/results/latest.md).

make bench            # kernels, blocks, K-quants, models, browser latency, page reruns, memory, 30-session load, a course (about 17 minutes)
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
from pathlib import Path

from bench import algorithms, blocks, course, kernels, kquants, latency, model_debug, models, pages, server, tasks
from bench.report import table

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (
            int(line.split()[1]) // 2**20
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB, Python {platform.python_version()}"


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    results = {
        "machine": machine(),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
    }
    results["kernels"] = kernels.run()
    print("kernels", results["kernels"], flush=True)
    results["blocks"] = blocks.run()
    print("blocks", results["blocks"], flush=True)
    results["kquants"] = kquants.run()
    print("kquants", results["kquants"], flush=True)
    results["models"] = models.run()
    print("models", results["models"], flush=True)
    for name, module in (("model_debug", model_debug), ("algorithms", algorithms), ("tasks", tasks)):
        results[name] = module.run()
        print(name, results[name], flush=True)
    results["latency"] = latency.measure()
    print("latency", results["latency"], flush=True)
    results["pages"] = pages.run()
    print("pages done", flush=True)
    results["memory"] = asyncio.run(server.memory_and_big_input())
    print("memory", results["memory"], flush=True)
    results["load"] = asyncio.run(server.load())
    print("load", results["load"], flush=True)
    results["course"] = [asyncio.run(course.run(scenario)) for scenario in ("steady", "kill", "rolling")]
    print("course", results["course"], flush=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=1))
    md = [
        f"Machine: {results['machine']} · commit {results['commit']}",
        "",
        "Kernels (10,000,000 float32 values):",
        "",
        table(results["kernels"]),
        "",
        "Block formats, fake_quantize of 10,000,000 float32 values (median of 5):",
        "",
        table(results["blocks"]),
        "",
        "K-quants: encode 10M float32 to Q4_K, numpy against ggml's C when libggml-base is found (median of 3):",
        "",
        table(results["kquants"]),
        "",
        "python -m quantviz report on a generated 1 GB float32 safetensors file and a 1 GB Q8_0 GGUF (bench/models.py):",
        "",
        table(results["models"]),
        "",
        "Your model's debug run, float against QDQ on 8 inputs (bench/model_debug.py):",
        "",
        table(results["model_debug"]),
        "",
        "GPTQ 4096 x 4096 against llm-compressor when its venv is found, and the toy layer's moves (bench/algorithms.py):",
        "",
        table(results["algorithms"]),
        "",
        "One evaluation of each task on its full test split (bench/tasks.py):",
        "",
        table(results["tasks"]),
        "",
        "Slider move -> page redrawn in Chromium (median of 8 moves after 2 warm-up moves; three floors measured in the same run: "
        "the minimal app, with one chart, with the shared sidebar controls; most faded = largest share of visible elements shown "
        "faded in any frame; then a 1.5 s continuous drag of the range slider):",
        "",
        table(results["latency"]),
        "",
        "Page reruns (AppTest, median after a bit-width change) and the largest figure each page sends:",
        "",
        table(results["pages"]),
        "",
        "Server with one session holding an uploaded 10M-value tensor:",
        "",
        table([results["memory"]]),
        "",
        "Load (Streamlit's websocket protocol, landing page):",
        "",
        table([{k: v for k, v in results["load"].items() if k != "first errors"}]),
        "",
        "A course through HAProxy (60 students over 2 replicas, a move a second each; bench/course.py):",
        "",
        table([{k: v for k, v in row.items() if k != "first errors"} for row in results["course"]]),
    ]
    (RESULTS / "latest.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
