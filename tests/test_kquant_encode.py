"""K-quants and IQ4: byte for byte against ggml's committed bytes, decoders against the gguf package, the contract.

The reference bytes (tests/fixtures/kquant_cases.npz) were written by ggml itself through
tests/oracles/make_kquant_cases.py; tests/oracles/test_ggml.py runs the same comparison live in `make oracles`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantviz import blocks
from quantviz.blocks import kq_search
from quantviz.errors import UnsupportedError

CASES = np.load(Path(__file__).parent / "fixtures" / "kquant_cases.npz")
TYPES = ("Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS")
LABELS = ("random", "outliers", "equal", "tiny", "ties", "single")
IMPORTANCE = CASES["importance"]


@pytest.mark.parametrize("weighted", ["none", "imatrix"])
@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("name", TYPES)
def test_bytes_equal_ggml(name: str, label: str, weighted: str) -> None:
    x = CASES[f"x/{label}"]
    got = blocks.encode(x, name, IMPORTANCE[: x.shape[1]] if weighted == "imatrix" else None)
    want = CASES[f"{name}/{label}/{weighted}"]
    assert got.dtype == np.uint8 and got.size == want.size
    differ = np.flatnonzero(got != want)
    assert differ.size == 0, f"{differ.size} bytes differ, first at {differ[:5]}"


@pytest.mark.parametrize("name", TYPES)
def test_decoders_equal_the_gguf_package_on_ggml_bytes(name: str) -> None:
    from gguf import GGMLQuantizationType
    from gguf.quants import dequantize

    for label in LABELS:
        data = CASES[f"{name}/{label}/imatrix"]
        ref = dequantize(data, GGMLQuantizationType[name]).reshape(-1)
        back = blocks.decode(data, name, ref.size)
        assert np.array_equal(back.view(np.uint32), ref.astype(np.float32).view(np.uint32)), label


@pytest.mark.parametrize("name", TYPES)
def test_round_trip_and_what_the_imatrix_buys(name: str) -> None:
    x = CASES["x/random"].reshape(-1)
    plain = blocks.fake_quantize(x, name)
    weighted = blocks.fake_quantize(x, name, IMPORTANCE)
    assert np.abs(plain - x).max() < 0.5 * np.abs(x).max()
    w = np.tile(IMPORTANCE, x.size // IMPORTANCE.size)
    # the importance-weighted error is what the weighted search minimises: it drops on these rows
    assert (w * (weighted - x) ** 2).sum() < (w * (plain - x) ** 2).sum()
    # and the weights do move codes
    assert not np.array_equal(blocks.encode(x, name), blocks.encode(x, name, IMPORTANCE))


def test_contract_errors_name_the_problem() -> None:
    x = CASES["x/random"].reshape(-1)
    with pytest.raises(ValueError, match="whole blocks of 256"):
        blocks.encode(x[:300], "Q4_K")
    with pytest.raises(ValueError, match="NaN"):
        blocks.encode(np.full(256, np.nan, np.float32), "Q6_K")
    with pytest.raises(ValueError, match="importance has 100 weights"):
        blocks.encode(x, "Q4_K", np.ones(100, np.float32))
    with pytest.raises(ValueError, match="importance has 768 weights"):
        blocks.encode(x, "Q5_K", np.ones(768, np.float32))
    with pytest.raises(ValueError, match="non-negative"):
        blocks.encode(x, "Q4_K", -np.ones(512, np.float32))
    with pytest.raises(ValueError, match="1-D"):
        blocks.encode(x, "Q4_K", np.ones((2, 256), np.float32))
    with pytest.raises(UnsupportedError, match="Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS"):
        blocks.encode(x[:32], "Q4_0", np.ones(32, np.float32))
    assert set(TYPES) <= set(blocks.FORMATS) and all(blocks.FORMATS[t].takes_importance for t in TYPES)


@settings(max_examples=60, deadline=None)
@given(st.floats(-4194303, 4194303, width=32))
def test_nearest_int_is_round_half_even_in_range(v: float) -> None:
    got = int(kq_search.nearest_int(np.array([v], np.float32))[0])
    assert got == int(np.rint(np.float32(v)))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_importance_matrix_is_the_mean_square_per_column(tokens: int, cols: int, seed: int) -> None:
    acts = np.random.default_rng(seed).normal(size=(tokens, cols)).astype(np.float32) * 3
    imp = blocks.importance_matrix(acts)
    assert imp.dtype == np.float32 and imp.shape == (cols,)
    running = np.zeros(cols, np.float32)
    for row in acts:  # llama-imatrix: token after token into float32 totals
        running = running + row * row
    assert np.array_equal(imp, running / np.float32(tokens))
    assert np.allclose(imp, (acts.astype(np.float64) ** 2).mean(axis=0), rtol=1e-5)


def test_importance_matrix_refuses_bad_inputs() -> None:
    with pytest.raises(ValueError, match="shape"):
        blocks.importance_matrix(np.zeros((0, 4)))
    with pytest.raises(ValueError, match="NaN"):
        blocks.importance_matrix(np.array([[1.0, np.nan]]))
