"""Write tests/fixtures/kquant_cases.npz: ggml's own bytes for the K-quants and IQ4, the copy `make test` checks.

Run in the oracle venv (llama-cpp-python installed, see requirements-oracles.txt):

    .venv-oracles/bin/python tests/oracles/make_kquant_cases.py

For every case class (random, outlier-heavy, all-equal, tiny-magnitude, tie-heavy), every type (Q2_K … Q6_K,
IQ4_NL, IQ4_XS) and without / with an importance vector, it stores the input rows and the bytes that
``ggml_quantize_chunk`` writes for them. The inputs are made here from a fixed seed; nothing is downloaded.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ggml_ref

TYPES = ("Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS")
N_PER_ROW, N_ROWS = 512, 4
OUT = Path(__file__).resolve().parents[1] / "fixtures" / "kquant_cases.npz"


def cases(seed: int = 26) -> dict[str, np.ndarray]:
    """The five case classes, each (N_ROWS, N_PER_ROW) float32."""
    rng = np.random.default_rng(seed)
    shape = (N_ROWS, N_PER_ROW)
    n = N_ROWS * N_PER_ROW
    random = rng.normal(size=shape).astype(np.float32)
    outliers = rng.normal(size=n).astype(np.float32)
    outliers[rng.random(n) < 0.02] *= 60
    outliers[:3] = [90.0, -120.0, 45.0]
    # all-equal: whole super-blocks of one value (positive, negative, zero), and sub-blocks of one value
    equal = np.repeat(np.array([0.37, -2.5, 0.0, 1e-3, 7.0, -0.125, 0.0, 3.0], np.float32), n // 8)
    equal[1024:1056] = rng.normal(size=32)
    # tiny: each super-block scaled by 10^-3 … 10^-30 (float16 d and dmin underflow on the way)
    tiny = rng.normal(size=n).astype(np.float32) * np.repeat(10.0 ** -rng.uniform(3, 30, n // 256), 256)
    # tie-heavy: values on a coarse grid, so x/d lands on halves; plus runs of exact zeros
    ties = (rng.integers(-8, 9, n) / 4).astype(np.float32)
    ties[256:288] = 0.0
    return {
        "random": random,
        "outliers": outliers.reshape(shape),
        "equal": equal.reshape(shape),
        "tiny": tiny.astype(np.float32).reshape(shape),
        "ties": ties.reshape(shape),
    }


def importance(seed: int = 27) -> np.ndarray:
    """An importance vector as llama-imatrix makes one: mean x² of activations with a few outlier channels."""
    rng = np.random.default_rng(seed)
    acts = rng.normal(size=(64, N_PER_ROW)).astype(np.float32)
    acts[:, rng.choice(N_PER_ROW, 8, replace=False)] *= 20
    return (np.add.reduce(acts * acts, axis=0, dtype=np.float32) / np.float32(64)).astype(np.float32)


def main() -> None:
    lib = ggml_ref.load()
    if lib is None:
        raise SystemExit("llama-cpp-python is not installed in this interpreter (see requirements-oracles.txt)")
    store: dict[str, np.ndarray] = {"importance": importance()}
    every = cases()
    # one lone super-block (a chunk of one: numpy must still add its 8 or 16 sub-block scales in order)
    every["single"] = (every["outliers"][:1, :256] * np.float32(0.5)).astype(np.float32)
    for label, x in every.items():
        store[f"x/{label}"] = x
        imp = store["importance"][: x.shape[1]]
        for name in TYPES:
            store[f"{name}/{label}/none"] = ggml_ref.quantize(lib, name, x, None, n_per_row=x.shape[1])
            store[f"{name}/{label}/imatrix"] = ggml_ref.quantize(lib, name, x, imp, x.shape[1])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **store)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(store)} arrays)")


if __name__ == "__main__":
    main()
