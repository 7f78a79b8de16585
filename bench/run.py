"""Run every benchmark and write bench/results/latest.json and a Markdown table (bench/results/latest.md).

make bench   # about 17 minutes: kernels, blocks, K-quants, models, model debug, algorithms, tasks, browser latency,
             # page reruns, memory, a 30-session load and a course
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


# The Markdown report: one section per benchmark, its title and how its rows are read from the results.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("kernels", "Kernels (10,000,000 float32 values):"),
    ("blocks", "Block formats, fake_quantize of 10,000,000 float32 values (median of 5):"),
    (
        "kquants",
        "K-quants: encode 10M float32 to Q4_K, numpy against ggml's C when libggml-base is found (median of 3):",
    ),
    ("models", "python -m quantviz report on a generated 1 GB float32 safetensors file:"),
    ("model_debug", "Your model's debug run, float against QDQ on 8 inputs (bench/model_debug.py):"),
    (
        "algorithms",
        "GPTQ 4096 x 4096 against llm-compressor when its venv is found, and the toy layer's moves "
        "(bench/algorithms.py):",
    ),
    ("tasks", "One evaluation of each task on its full test split (bench/tasks.py):"),
    (
        "latency",
        "Slider move -> page redrawn in Chromium (median of 8 moves after 2 warm-up moves; three floors measured in "
        "the same run: the minimal app, with one chart, with the shared sidebar controls; most faded = largest share "
        "of visible elements shown faded in any frame; then a 1.5 s continuous drag of the range slider):",
    ),
    ("pages", "Page reruns (AppTest, median after a bit-width change) and the largest figure each page sends:"),
    ("memory", "Server with one session holding an uploaded 10M-value tensor:"),
    ("load", "Load (Streamlit's websocket protocol, landing page):"),
    ("course", "A course through HAProxy (60 students over 2 replicas, a move a second each; bench/course.py):"),
)


def collect() -> dict:
    """Run every benchmark in turn (printing each result as it comes) and return them by name."""
    results = {
        "machine": machine(),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
    }
    runs = [(name, module.run) for name, module in (("kernels", kernels), ("blocks", blocks), ("kquants", kquants))]
    runs += [(name, module.run) for name, module in (("models", models), ("model_debug", model_debug))]
    runs += [("algorithms", algorithms.run), ("tasks", tasks.run), ("latency", latency.measure)]
    for name, run in runs:
        results[name] = run()
        print(name, results[name], flush=True)
    results["pages"] = pages.run()
    print("pages done", flush=True)
    for name, run in (("memory", server.memory_and_big_input), ("load", server.load)):
        results[name] = asyncio.run(run())
        print(name, results[name], flush=True)
    results["course"] = [asyncio.run(course.run(scenario)) for scenario in ("steady", "kill", "rolling")]
    print("course", results["course"], flush=True)
    return results


def _rows(name: str, value: object) -> list[dict]:
    """A section's table rows: a list of records as they are, a single record as one row, errors left out."""
    records = value if isinstance(value, list) else [value]
    if name in ("load", "course"):
        return [{k: v for k, v in row.items() if k != "first errors"} for row in records]
    return records


def report_lines(results: dict) -> list[str]:
    """The Markdown report of ``results``: the machine and commit, then each section's title and table."""
    md = [f"Machine: {results['machine']} · commit {results['commit']}"]
    for name, title in SECTIONS:
        md += ["", title, "", table(_rows(name, results[name]))]
    return md


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    results = collect()
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=1))
    md = report_lines(results)
    (RESULTS / "latest.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
