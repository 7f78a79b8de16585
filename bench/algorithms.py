"""GPTQ on a 4096 × 4096 layer with 2048 calibration rows, ours against llm-compressor's CPU quantize_weight, and
the "Beyond rounding" page's toy-layer rerun.

    PYTHONPATH=. .venv/bin/python -m bench.algorithms

Targets (issue 24): GPTQ within 1.5× llm-compressor's ``quantize_weight`` measured in the same run (≤ 10 s here);
a slider move on the page's toy layer (64 × 128, 256 inputs) within 150 ms of server time. The reference runs as a
subprocess of the oracle venv (``$LLMC_PYTHON``, else .venv-oracles/bin/python, else /work/venvs/llmc/bin/python);
without one its rows are left out. Both sides time the whole job from the layer to the quantized weight: the
Hessian, the min-max observer, the Cholesky factors and the column sweep; a second row adds what the page also reads
(computed when first read): the round-to-nearest baseline and both output errors.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import quantviz.algorithms as qa

ROOT = Path(__file__).resolve().parent.parent
SHAPE = (4096, 4096, 2048)
REFERENCE = """
import json, sys, time, torch
sys.path.insert(0, {root!r})
from compressed_tensors.quantization import QuantizationArgs
from llmcompressor.modifiers.gptq.gptq_quantize import quantize_weight
from llmcompressor.observers import Observer
from quantviz.algorithms import toy_layer
torch.set_num_threads({threads})
lay = toy_layer({out}, {inp}, {n}, outliers=16, seed=0)
args = QuantizationArgs(num_bits=4, type="int", symmetric=True, strategy="group", group_size=128)
times = []
for _ in range({repeat} + 1):
    start = time.perf_counter()
    w = torch.from_numpy(lay.weight.copy())
    x = torch.from_numpy(lay.inputs)
    obs = Observer.load_from_registry("memoryless_minmax", base_name="weight", args=args)
    obs(w)
    qp = obs.get_qparams()
    h = 2.0 * x.T @ x / x.shape[0]
    quantize_weight(w[None], h[None], qp["scale"][None], qp["zero_point"][None], None, args, 128, 0.01)
    times.append(time.perf_counter() - start)
print(json.dumps(times[1:]))
"""


def reference_python() -> str | None:
    for candidate in (
        os.environ.get("LLMC_PYTHON"),
        str(ROOT / ".venv-oracles/bin/python"),
        "/work/venvs/llmc/bin/python",
    ):
        if candidate and Path(candidate).exists():
            ok = subprocess.run([candidate, "-c", "import llmcompressor"], capture_output=True).returncode == 0
            if ok:
                return candidate
    return None


def _row(name: str, times: list[float], base: float | None) -> dict:
    med = statistics.median(times)
    return {
        "case": name,
        "median (s)": round(med, 3),
        "min–max (s)": f"{min(times):.3f}–{max(times):.3f}",
        "× llm-compressor": round(med / base, 2) if base else "",
    }


def gptq_rows(repeat: int = 3, threads: int = 2) -> list[dict]:
    out, inp, n = SHAPE
    rows = []
    base = None
    python = reference_python()
    if python:
        code = REFERENCE.format(root=str(ROOT), out=out, inp=inp, n=n, repeat=repeat, threads=threads)
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
        ref = json.loads(done.stdout.strip().splitlines()[-1])
        base = statistics.median(ref)
        rows.append(_row(f"llm-compressor quantize_weight {out}×{inp}, {n} rows, int4 g128", ref, base))
    lay = qa.toy_layer(out, inp, n, outliers=16, seed=0)
    qa.gptq(lay.weight[:256, :256], lay.inputs[:, :256], group_size=128)  # warm-up
    times, with_comparisons = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        r = qa.gptq(lay.weight, lay.inputs, bits=4, group_size=128)
        times.append(time.perf_counter() - start)
        _ = (r.output_mse, r.rtn_output_mse, r.weight_mse, r.rtn_weight_mse)  # computed when first read
        with_comparisons.append(time.perf_counter() - start)
    rows.append(_row(f"quantviz gptq {out}×{inp}, {n} rows, int4 g128", times, base))
    rows.append(_row("  + its round-to-nearest baseline and both output errors, read", with_comparisons, base))
    return rows


TOY = qa.toy_layer(64, 128, 256, outliers=4, outlier_scale=20.0)
ALPHAS = np.round(np.linspace(0, 1, 21), 2)


def smoothquant_move(alpha: float) -> None:
    """What an α move recomputes: the smoothing, its W8A8 error and the tab's two figures (the sweep is cached)."""
    from quantviz.app import algorithm_figures as af

    lay = TOY
    r = qa.smoothquant(lay.weight, lay.inputs, alpha)
    after = qa.w8a8_error(r.weight, r.inputs)
    bars = {
        "x": np.abs(lay.inputs).max(axis=0),
        "x'": np.abs(r.inputs).max(axis=0),
        "w": np.abs(lay.weight).max(axis=0),
        "w'": np.abs(r.weight).max(axis=0),
    }
    af.channel_bars_figure(bars, title="t", y_title="y").to_json()
    af.alpha_sweep_figure(ALPHAS, _toy_sweep(), alpha).to_json()
    assert after.output_mse > 0


def gptq_step_move(step: int) -> None:
    """What a step move recomputes: one column's step and its figure (GPTQ itself is cached)."""
    from quantviz.app import algorithm_figures as af

    af.column_step_figure(qa.column_step(_toy_gptq(), step), title="t").to_json()


@functools.cache
def _toy_gptq() -> qa.GPTQResult:
    """GPTQ on the toy layer once, as the page caches it."""
    return qa.gptq(TOY.weight, TOY.inputs)


@functools.cache
def _toy_sweep() -> tuple:
    """The α sweep once, as the page caches it."""
    return qa.alpha_sweep(TOY.weight, TOY.inputs, ALPHAS)


def gptq_rerun(damp: float) -> None:
    """What a damp move recomputes: GPTQ, the running error and the tab's four figures."""
    from quantviz.app import algorithm_figures as af

    g = qa.gptq(TOY.weight, TOY.inputs, damp=damp)
    af.running_error_figure(qa.running_error(g, TOY.weight, TOY.inputs)).to_json()
    af.column_step_figure(qa.column_step(g, 0), title="t").to_json()
    hess = af.log_magnitude(g.hessian)
    af.matrix_figure(hess, title="h", x_title="j", y_title="i", colour_title="c", max_cells=128).to_json()
    codes = g.codes - g.rtn_codes
    af.matrix_figure(codes, title="c", x_title="j", y_title="i", colour_title="c", diverging=True).to_json()


def toy_rows(repeat: int = 5) -> list[dict]:
    """What one slider move on the page recomputes (its tab's fragment): the algorithm and the figures' JSON."""
    rows = []
    for name, fn, values in (
        ("SmoothQuant α move (fragment)", smoothquant_move, [0.3, 0.35, 0.4, 0.45, 0.55]),
        ("GPTQ step move (fragment)", gptq_step_move, [1, 5, 20, 60, 100]),
        ("GPTQ damp move: rerun + 4 figures", gptq_rerun, [0.001, 0.1, 1.0, 0.01, 0.1]),
    ):
        fn(values[0])  # warm-up: plotly's validators
        times = []
        with qa.layer.one_blas_thread():
            for v in values[:repeat]:
                start = time.perf_counter()
                fn(v)
                times.append(time.perf_counter() - start)
        rows.append({**_row(f"toy 64×128: {name}", times, None), "× llm-compressor": ""})
    return rows


def gptq_parts(shape: tuple[int, int, int] = SHAPE) -> list[dict]:
    """One run of each part of ``gptq`` on the bench layer, timed separately: where the time goes."""
    import importlib

    from quantviz.algorithms.observer import minmax_grid, round_to_nearest

    g = importlib.import_module("quantviz.algorithms.gptq")
    out, inp, n = shape
    lay = qa.toy_layer(out, inp, n, outliers=16, seed=0)
    times: dict[str, float] = {}

    def timed(name: str, fn):
        start = time.perf_counter()
        result = fn()
        times[name] = time.perf_counter() - start
        return result

    h = timed("Hessian XᵀX", lambda: g.hessian(lay.inputs))
    u, _ = timed("inverse_cholesky", lambda: g.inverse_cholesky(h, 0.01))
    grid = timed("min-max grid", lambda: minmax_grid(lay.weight, 4, 128, True))
    groups = np.arange(inp) // 128
    timed("column sweep", lambda: g._column_loop(lay.weight, u, grid.scales, grid.zero_points, groups, -8, 7, 128))
    _, rtn, _ = timed("round-to-nearest", lambda: round_to_nearest(lay.weight, 4, 128, True))
    timed("one output error", lambda: qa.output_mse(lay.weight, rtn, lay.inputs))
    return [{"part": k, "seconds": round(v, 2)} for k, v in times.items()]


def run(repeat: int = 3) -> list[dict]:
    return gptq_rows(repeat) + toy_rows()


if __name__ == "__main__":
    from bench.report import table

    sys.stdout.write(table(run()) + "\n")
