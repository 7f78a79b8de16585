"""The K-quant GGUF example: a Q4_K_M mix written by our encoders, read back code for code."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from quantviz.blocks import decode, encode
from quantviz.blocks.mix import gguf_mix
from quantviz.models import open_model
from quantviz.models.gguf_reader import SUB_BLOCKS, KQuantTensor, kquant_sentence, kquant_tensors, type_mix
from quantviz.models.summary import describe
from tests.fixtures.make_examples import llama_weights

EXAMPLE = Path(__file__).resolve().parents[1] / "quantviz" / "models" / "examples" / "gguf_q4_k_m.gguf"


def test_example_holds_the_bytes_our_encoder_writes() -> None:
    weights = llama_weights()
    mix = gguf_mix("Q4_K_M", list(weights), 1)
    stored = {t.name: t for t in gguf.GGUFReader(str(EXAMPLE)).tensors}
    model = open_model(EXAMPLE)
    assert sorted(stored) == sorted(weights) == sorted(t.name for t in model.tensors)
    for t in model.tensors:
        w = weights[t.name]
        assert t.shape == w.shape and stored[t.name].tensor_type.name == mix[t.name], t.name
        if mix[t.name] == "F32":
            assert np.array_equal(t.load(), w)
            continue
        ours = encode(w.reshape(-1), mix[t.name])
        assert np.asarray(stored[t.name].data).reshape(-1).tobytes() == ours.tobytes(), t.name
        assert t.load().tobytes() == decode(ours, mix[t.name], w.size).reshape(w.shape).tobytes(), t.name


def test_summary_shows_file_type_mix_and_super_blocks() -> None:
    model = open_model(EXAMPLE)
    assert model.file_type == "Q4_K_M"
    lines = describe(model)
    mix = {m.kind: m for m in type_mix(model)}
    assert set(mix) == {"Q4_K", "Q6_K", "F32"}
    assert mix["Q4_K"].bits_per_weight == 4.5 and mix["Q6_K"].bits_per_weight == 6.5625
    text = " ".join(lines)
    assert "File type Q4_K_M" in text and f"Q6_K {mix['Q6_K'].tensors} tensors" in text
    ks = kquant_tensors(model)
    assert len(ks) == mix["Q4_K"].tensors + mix["Q6_K"].tensors
    for k in ks:
        t = next(u for u in model.tensors if u.name == k.name)
        assert k.super_blocks * 256 == t.size and k.blocks_per_super == SUB_BLOCKS[t.dtype]
    first = ks[0]
    assert f"{first.name} {first.kind}, {first.super_blocks} super-blocks of {first.blocks_per_super} blocks" in text


@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(SUB_BLOCKS)), st.integers(1, 5000)),
        max_size=9,
    ),
    st.integers(1, 8),
)
def test_the_kquant_sentence_names_each_shown_tensor_with_its_super_blocks(kinds: list, shown: int) -> None:
    tensors = [KQuantTensor(f"t{i}", kind, n, SUB_BLOCKS[kind]) for i, (kind, n) in enumerate(kinds)]
    words = kquant_sentence(tensors, shown)
    if not tensors:
        assert words == ""
        return
    for k in tensors[:shown]:
        part = f"{k.name} {k.kind}, {k.super_blocks:,} super-block{'s' if k.super_blocks != 1 else ''} of "
        assert part in words and f"of {k.block_values}" in words
        assert k.blocks_per_super * k.block_values == 256
    assert all(f"{k.name} " not in words for k in tensors[shown:])
    assert ("more" in words) == (len(tensors) > shown)
