"""Print the tables of docs/kquants.md (run from the repository root):

    PYTHONPATH=. .venv/bin/python docs/kquants/figures.py

Everything is computed here from fixed seeds; nothing is downloaded.
"""

from __future__ import annotations

import numpy as np

from bench.report import table
from quantviz import blocks
from quantviz.blocks.mix import FILE_TYPES, outlier_activations
from quantviz.metrics import sqnr_db
from quantviz.teach.mix import mix_summary

TYPES = ("Q2_K", "Q3_K", "Q4_0", "Q4_K", "IQ4_NL", "IQ4_XS", "Q5_K", "Q6_K", "Q8_0")


def error_table(rows: int = 64, cols: int = 1024) -> list[dict]:
    """Weights with heavy tails, an importance from activations with 16 outlier channels (×10)."""
    rng = np.random.default_rng(0)
    w = (rng.standard_t(5, size=(rows, cols)) * 0.02).astype(np.float32).reshape(-1)
    imp = blocks.importance_matrix(outlier_activations(512, cols, 16, 10.0, 1))
    weight = np.tile(imp, rows).astype(np.float64)
    power = float(np.mean(w.astype(np.float64) ** 2))
    out = []
    for name in TYPES:
        f = blocks.FORMATS[name]
        row = {"type": name, "bits/weight": f"{f.bits_per_weight:g}"}
        for label, q in (("no imatrix", None), ("imatrix", imp if f.takes_importance else None)):
            if label == "imatrix" and q is None:
                row["SQNR imatrix (dB)"] = row["weighted err imatrix"] = "—"
                continue
            err = blocks.fake_quantize(w, name, q).astype(np.float64) - w
            row[f"SQNR {label} (dB)"] = f"{sqnr_db(power, float(np.mean(err**2))):.2f}"
            row[f"weighted err {label}"] = f"{float((weight * err**2).sum() / weight.sum()):.3e}"
        out.append(row)
    return out


def mix_table(n_layers: int = 32) -> list[dict]:
    out = []
    for ft in FILE_TYPES:
        s = mix_summary(ft, n_layers)
        lifted = {r.role: ", ".join(f"{k}× {t}" for t, k in r.counts.items()) for r in s.rows}
        out.append(
            {
                "file type": ft,
                "default": s.default,
                "attn_v": lifted["attn_v"],
                "ffn_down": lifted["ffn_down"],
                "attn_output": lifted["attn_output"],
                "output": lifted["output"],
                "token_embd": lifted["token_embd"],
                "bits/weight (7B shapes)": f"{s.bits_per_weight:.2f}",
            }
        )
    return out


if __name__ == "__main__":
    print(
        "Error of each type on 64 × 1024 heavy-tailed weights (Student t, 5 dof), importance from 512 tokens with "
        "16 outlier channels:\n"
    )
    print(table(error_table()))
    print("\nThe mix on a 32-layer llama (llama_tensor_get_type):\n")
    print(table(mix_table()))
