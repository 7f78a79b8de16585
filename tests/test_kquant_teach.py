"""The K-quant sentences say what was computed: hypothesis properties over data, formats and mixes."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantviz import blocks
from quantviz.blocks.mix import FILE_TYPES, llama_tensor_names, match_mix, outlier_activations
from quantviz.teach import superblock
from quantviz.teach.fmt import fmt
from quantviz.teach.mix import match_sentence, mix_sentence, mix_summary

TYPES = ("Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS")


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(TYPES), st.integers(0, 2**31), st.integers(0, 32), st.floats(0.01, 100))
def test_imatrix_sentence_matches_the_effect(name: str, seed: int, outliers: int, spread: float) -> None:
    x = (np.random.default_rng(seed).normal(size=256) * spread).astype(np.float32)
    w = blocks.importance_matrix(outlier_activations(32, 256, outliers, 10.0, seed))
    e = superblock.imatrix_effect(x, name, w)
    text = superblock.imatrix_sentence(e)
    n = 32 if name == "IQ4_NL" else 256
    assert e.plain_codes.size == n
    assert e.changed.tolist() == np.flatnonzero(e.plain_codes != e.weighted_codes).tolist()
    if e.changed.size == 0:
        assert "no code" in text and str(n) in text
    else:
        assert f"{e.changed.size} of {n} codes change" in text
        assert fmt(e.plain_weighted_error, 4) in text and fmt(e.imatrix_weighted_error, 4) in text
        pct = re.search(r"Σ w·\(x̂ − x\)².*?\(([+−])", text)
        if pct and e.plain_weighted_error != e.imatrix_weighted_error:
            assert (pct.group(1) == "+") == (e.imatrix_weighted_error > e.plain_weighted_error)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(("Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS")), st.integers(0, 2**31), st.booleans())
def test_superblock_view_is_read_from_the_bytes(name: str, seed: int, weighted: bool) -> None:
    x = np.random.default_rng(seed).standard_t(4, size=256).astype(np.float32)
    w = blocks.importance_matrix(outlier_activations(16, 256, 4, 10.0, seed)) if weighted else None
    v = superblock.superblock_view(x, name, w)
    back = blocks.fake_quantize(x, name, w)
    for r in v.rows:  # every value of the sub-block is its stored scale times a code (minus the stored min)
        part = back[r.index * v.sub_size : (r.index + 1) * v.sub_size].astype(np.float64)
        assert r.stored_scale == float(np.float32(v.d) * np.float32(r.scale_code))
        if r.stored_scale:
            q = (part + (r.stored_min or 0.0)) / r.stored_scale
            assert np.allclose(q, np.round(q), atol=1e-3)
    lines = superblock.superblock_lines(v)
    assert fmt(v.d, 6) in lines[1]
    biggest = max(v.rows, key=lambda r: abs(r.stored_scale))
    assert f"d · {biggest.scale_code}" in lines[1]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(list(FILE_TYPES)), st.integers(1, 100), st.booleans())
def test_mix_sentence_counts_are_the_mix(file_type: str, n_layers: int, tied: bool) -> None:
    s = mix_summary(file_type, n_layers, tied)
    text = mix_sentence(s)
    mix = blocks.gguf_mix(file_type, llama_tensor_names(n_layers, tied), n_layers)
    for role in ("attn_v", "ffn_down"):
        for kind in ("Q5_K", "Q6_K"):
            k = sum(1 for n, t in mix.items() if f".{role}." in n and t == kind)
            if k and kind != FILE_TYPES[file_type]:
                assert f"{k} of {n_layers} {role} get {kind}" in text
    assert f"{s.bits_per_weight:.2f} bits per weight" in text
    assert ("without exceptions" in text) == all(t in (FILE_TYPES[file_type], "F32") for t in mix.values())


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(list(FILE_TYPES)), st.integers(2, 40), st.integers(0, 5))
def test_match_sentence_counts_agreements(file_type: str, n_layers: int, changes: int) -> None:
    types = blocks.gguf_mix(file_type, llama_tensor_names(n_layers), n_layers)
    for name in list(types)[3 : 3 + changes * 7 : 7]:
        if types[name] != "F32":
            types[name] = "Q8_0" if types[name] != "Q8_0" else "Q4_0"
    m = match_mix(types)
    text = match_sentence(m)
    assert f"in {m.agree} of {m.total} tensors" in text
    assert m.total == len(types) and m.agree >= m.total - changes
    assert ("others differ" in text) == (m.agree < m.total)


@settings(max_examples=10, deadline=None)
@given(st.sampled_from(TYPES), st.integers(0, 2**31), st.integers(1, 4))
def test_per_block_effects_are_each_blocks_own(name: str, seed: int, k: int) -> None:
    n = 32 if name == "IQ4_NL" else 256
    x = np.random.default_rng(seed).normal(size=n * k).astype(np.float32)
    w = blocks.importance_matrix(outlier_activations(16, 256, 6, 10.0, seed))
    per = superblock.imatrix_effects(x, name, w, k)
    assert len(per) == k
    for i, e in enumerate(per):
        own = superblock.imatrix_effect(x[i * n : (i + 1) * n], name, np.resize(w, k * n)[i * n : (i + 1) * n])
        assert e.changed.tolist() == own.changed.tolist()
        assert e.imatrix_weighted_error == own.imatrix_weighted_error
