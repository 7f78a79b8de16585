"""K-quants and IQ4 against ggml's own ggml_quantize_chunk, live (run with `make oracles`).

The library is the libggml-base that llama-cpp-python builds (see ggml_ref.py); without it these tests skip.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from quantviz import blocks

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ggml_ref
import make_kquant_cases

LIB = ggml_ref.load()
pytestmark = pytest.mark.skipif(LIB is None, reason="llama-cpp-python (libggml-base) is not installed")


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", make_kquant_cases.TYPES)
def test_every_case_class_equals_ggml(name: str, seed: int) -> None:
    imp = make_kquant_cases.importance(seed + 100)
    for label, x in make_kquant_cases.cases(seed).items():
        for w in (None, imp):
            want = ggml_ref.quantize(LIB, name, x, w, n_per_row=x.shape[1])
            got = blocks.encode(x, name, w)
            assert np.array_equal(got, want), (label, w is not None, np.flatnonzero(got != want)[:5])


@pytest.mark.parametrize("name", make_kquant_cases.TYPES)
def test_many_rows_and_one_super_block(name: str) -> None:
    rng = np.random.default_rng(7)
    x = (rng.standard_t(3, size=(300, 256)) * 0.02).astype(np.float32)  # heavy tails, several chunks
    imp = (rng.gamma(0.5, size=256) + 1e-3).astype(np.float32)
    for w in (None, imp):
        assert np.array_equal(blocks.encode(x, name, w), ggml_ref.quantize(LIB, name, x, w, n_per_row=256))
        assert np.array_equal(blocks.encode(x[:1], name, w), ggml_ref.quantize(LIB, name, x[:1], w, n_per_row=256))


def test_committed_fixture_is_what_ggml_writes_today() -> None:
    stored = np.load(make_kquant_cases.OUT)
    for key in stored.files:
        if key.count("/") == 2:
            name, label, weighted = key.split("/")
            x = stored[f"x/{label}"]
            w = stored["importance"][: x.shape[1]] if weighted == "imatrix" else None
            assert np.array_equal(stored[key], ggml_ref.quantize(LIB, name, x, w, n_per_row=x.shape[1])), key


@pytest.mark.parametrize("seed", range(10))
def test_edge_patterns_of_values_and_importance(seed: int) -> None:
    """Zeros, denormals, rounded grids, all-positive rows; importance with zero runs and 1e6 spikes."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, 512)).astype(np.float32) * np.float32(10.0 ** rng.uniform(-8, 4))
    x[:, :40] = 0 if seed % 5 == 1 else x[:, :40]
    x[0, 100:140] = np.float32(1e-38) if seed % 5 == 3 else x[0, 100:140]
    x = np.round(x * 3) / 3 if seed % 5 == 2 else (np.abs(x) if seed % 5 == 4 else x)
    imp = rng.gamma(0.3, size=512).astype(np.float32)
    imp[:64] = 0 if seed % 3 == 0 else imp[:64]
    imp[rng.choice(512, 5)] *= 1e6 if seed % 2 == 0 else 1
    for name in make_kquant_cases.TYPES:
        for w in (None, imp):
            assert np.array_equal(blocks.encode(x, name, w), ggml_ref.quantize(LIB, name, x, w, n_per_row=512)), name
