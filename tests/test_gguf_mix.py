"""gguf_mix: llama.cpp's per-tensor types for a dense llama model, against tables read off llama-quant.cpp.

The live check against llama.cpp's own quantizer (llama_model_quantize on a tiny GGUF) is
tests/oracles/test_gguf_mix_live.py when the oracle venv has llama-cpp-python.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantviz import blocks
from quantviz.blocks.mix import use_more_bits

PER_LAYER = ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")


def llama_names(n_layers: int, tied: bool = False) -> list[str]:
    head = ["token_embd.weight", "output_norm.weight"] + ([] if tied else ["output.weight"])
    return head + [f"blk.{i}.{t}.weight" for i in range(n_layers) for t in PER_LAYER]


# read off llama_tensor_get_type for 32 layers: use_more_bits(i, 32) is i < 4, i >= 28, or (i - 4) % 3 == 2
MORE_BITS_32 = [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]


def layers_with(mix: dict[str, str], part: str, kind: str) -> list[int]:
    return [i for i in range(32) if mix[f"blk.{i}.{part}.weight"] == kind]


def test_q4_k_m_on_a_32_layer_llama() -> None:
    mix = blocks.gguf_mix("Q4_K_M", llama_names(32), 32)
    assert mix["output.weight"] == "Q6_K" and mix["token_embd.weight"] == "Q4_K"
    assert mix["output_norm.weight"] == "F32" and mix["blk.7.ffn_norm.weight"] == "F32"
    assert layers_with(mix, "attn_v", "Q6_K") == MORE_BITS_32
    assert layers_with(mix, "ffn_down", "Q6_K") == MORE_BITS_32
    assert set(layers_with(mix, "attn_v", "Q4_K")) == set(range(32)) - set(MORE_BITS_32)
    for part in ("attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"):
        assert layers_with(mix, part, "Q4_K") == list(range(32))


def test_the_other_mixes_on_a_32_layer_llama() -> None:
    names = llama_names(32)
    s = blocks.gguf_mix("Q4_K_S", names, 32)
    assert layers_with(s, "attn_v", "Q5_K") == [0, 1, 2, 3] and layers_with(s, "ffn_down", "Q5_K") == [0, 1, 2, 3]
    assert s["output.weight"] == "Q6_K" and s["blk.9.attn_v.weight"] == "Q4_K"
    m5 = blocks.gguf_mix("Q5_K_M", names, 32)
    assert layers_with(m5, "attn_v", "Q6_K") == MORE_BITS_32 and m5["blk.5.ffn_up.weight"] == "Q5_K"
    m3 = blocks.gguf_mix("Q3_K_M", names, 32)
    assert layers_with(m3, "attn_v", "Q5_K") == [0, 1] and layers_with(m3, "attn_v", "Q4_K") == list(range(2, 32))
    assert layers_with(m3, "ffn_down", "Q5_K") == [0, 1] and layers_with(m3, "ffn_down", "Q4_K") == list(range(2, 32))
    assert layers_with(m3, "attn_output", "Q4_K") == list(range(32)) and m3["blk.0.attn_q.weight"] == "Q3_K"
    q6 = blocks.gguf_mix("Q6_K", names, 32)
    assert {t for n, t in q6.items() if "norm" not in n} == {"Q6_K"}
    q8 = blocks.gguf_mix("Q8_0", names, 32)
    assert {t for n, t in q8.items() if "norm" not in n} == {"Q8_0"}


def test_tied_embeddings_take_the_output_type() -> None:
    mix = blocks.gguf_mix("Q4_K_M", llama_names(8, tied=True), 8)
    assert mix["token_embd.weight"] == "Q6_K"
    assert blocks.gguf_mix("Q8_0", llama_names(8, tied=True), 8)["token_embd.weight"] == "Q8_0"


@given(st.integers(1, 200))
def test_more_bits_layers_cover_the_ends_and_a_third_of_the_middle(n: int) -> None:
    chosen = [i for i in range(n) if use_more_bits(i, n)]
    assert all(i in chosen for i in range(n // 8)) and all(i in chosen for i in range(7 * n // 8, n))
    middle = [i for i in range(n // 8, 7 * n // 8) if i in chosen]
    assert middle == [i for i in range(n // 8, 7 * n // 8) if (i - n // 8) % 3 == 2]


def test_bits_per_weight_and_errors() -> None:
    names = llama_names(4)
    mix = blocks.gguf_mix("Q4_K_M", names, 4)
    sizes = {n: (4096 if "norm" in n else 4096 * 4096) for n in names}
    bpw = blocks.mix_bits_per_weight(mix, sizes)
    assert 4.5 < bpw < 6.5625
    with pytest.raises(ValueError, match="Q4_K_X"):
        blocks.gguf_mix("Q4_K_X", names, 4)
    with pytest.raises(ValueError, match="n_layers"):
        blocks.gguf_mix("Q4_K_M", names, 0)


def test_a_q4_k_m_gguf_written_with_our_encoder_reads_back_as_that_mix(tmp_path) -> None:
    import gguf
    import numpy as np

    from quantviz.blocks.mix import llama_tensor_names, match_mix
    from quantviz.models import open_model

    names = llama_tensor_names(4)
    mix = blocks.gguf_mix("Q4_K_M", names, 4)
    rng = np.random.default_rng(3)
    writer = gguf.GGUFWriter(str(tmp_path / "m.gguf"), "llama")
    values = {}
    for name in names:
        shape = (256,) if name.endswith("norm.weight") else (8, 256)
        x = rng.normal(size=shape).astype(np.float32)
        values[name] = x
        kind = mix[name]
        if kind == "F32":
            writer.add_tensor(name, x)
        else:
            writer.add_tensor(name, blocks.encode(x, kind).reshape(8, -1), raw_dtype=gguf.GGMLQuantizationType[kind])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    model = open_model((tmp_path / "m.gguf").read_bytes(), name="m.gguf")
    found = match_mix({t.name: t.dtype for t in model.tensors})
    assert (found.file_type, found.n_layers, found.agree, found.total) == ("Q4_K_M", 4, len(names), len(names))
    v = next(t for t in model.tensors if t.name == "output.weight")
    assert v.dtype == "Q6_K"
    assert np.array_equal(v.load(), blocks.fake_quantize(values[v.name], "Q6_K").reshape(8, 256))
