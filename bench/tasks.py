"""One ``quantviz.tasks.evaluate`` on the whole test split, per task and scheme, against the float forward pass.

    PYTHONPATH=. .venv/bin/python -m bench.tasks

Targets (issue 25): digits ≤ 0.5 s, tiny LM ≤ 3 s per evaluation on this machine. Each repeat starts with the
quantized-weight and float-logit caches empty, so it pays for quantizing every layer, the float network (the
reference for KL and top-1) and the quantized one; the data stay loaded. The baseline, measured in the same run,
is one float forward pass over the same split; the ratio says how many such passes an evaluation costs.
"""

from __future__ import annotations

import statistics

from bench.report import timings
from quantviz.tasks import evaluate, float_logits, load, quantized_weights
from quantviz.tasks.networks import forward

CASES = (
    ("digits", "int8-per-channel", "int8-per-tensor"),
    ("digits", "int4-g32", None),
    ("digits", "NF4", "int8-per-token"),
    ("tinylm", "int8-per-channel", "int8-per-tensor"),
    ("tinylm", "int4-g32", "int8-per-token"),
    ("tinylm", "Q4_0", None),
    ("tinylm", "NF4", None),
)
TARGET_S = {"digits": 0.5, "tinylm": 3.0}


def _cold_evaluate(task: str, weights: str, activations: str | None) -> None:
    quantized_weights.cache_clear()
    float_logits.cache_clear()
    evaluate(task, weights, activations)


def run(repeat: int = 3) -> list[dict]:
    rows = []
    for task in TARGET_S:
        net = load(task)
        base = statistics.median(timings(lambda net=net, task=task: forward(task, net.inputs), repeat))
        rows.append(
            {
                "task": task,
                "case": "float forward pass (baseline)",
                "median (s)": round(base, 3),
                "min–max (s)": "",
                "× float pass": 1.0,
                "target (s)": "",
            }
        )
        for t, weights, acts in CASES:
            if t != task:
                continue
            times = timings(lambda w=weights, a=acts, t=t: _cold_evaluate(t, w, a), repeat)
            med = statistics.median(times)
            rows.append(
                {
                    "task": task,
                    "case": f"{weights}, activations {acts or 'float'}",
                    "median (s)": round(med, 3),
                    "min–max (s)": f"{min(times):.3f}–{max(times):.3f}",
                    "× float pass": round(med / base, 1),
                    "target (s)": f"≤ {TARGET_S[task]}" + (" ✓" if med <= TARGET_S[task] else " ✗"),
                }
            )
    return rows


if __name__ == "__main__":
    from bench.report import table

    print(table(run()))
