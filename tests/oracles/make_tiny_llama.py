"""Write a tiny llama-architecture GGUF (random float32 weights) for the live gguf_mix check.

    python tests/oracles/make_tiny_llama.py OUT.gguf [N_LAYERS]

Made with the ``gguf`` package from a fixed seed; nothing is downloaded. The weights mean nothing: only the tensor
names, shapes and layer count matter to llama.cpp's choice of types. Rows are 256 wide, so no K-quant falls back.
"""

from __future__ import annotations

import sys

import numpy as np

EMBD, FF, VOCAB, HEADS = 256, 512, 256, 4


def tensor_names(n_layers: int, tied: bool = False) -> list[str]:
    """The names in the order this script writes them (llama.cpp counts attn_v / ffn_down in file order)."""
    names = ["token_embd.weight", "output_norm.weight"] + ([] if tied else ["output.weight"])
    for i in range(n_layers):
        names += [
            f"blk.{i}.{t}.weight"
            for t in (
                "attn_norm",
                "attn_q",
                "attn_k",
                "attn_v",
                "attn_output",
                "ffn_norm",
                "ffn_gate",
                "ffn_up",
                "ffn_down",
            )
        ]
    return names


def shape(name: str) -> tuple[int, ...]:
    """numpy shape (rows, columns) of each tensor; GGUF stores it reversed."""
    if name.endswith("norm.weight"):
        return (EMBD,)
    if name in ("token_embd.weight", "output.weight"):
        return (VOCAB, EMBD)
    if "ffn_down" in name:
        return (EMBD, FF)
    if "ffn_gate" in name or "ffn_up" in name:
        return (FF, EMBD)
    return (EMBD, EMBD)


def write(path: str, n_layers: int = 16, tied: bool = False, seed: int = 0) -> list[str]:
    """Write the file and return its tensor names in order."""
    import gguf

    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(path, "llama")
    w.add_context_length(128)
    w.add_embedding_length(EMBD)
    w.add_block_count(n_layers)
    w.add_feed_forward_length(FF)
    w.add_head_count(HEADS)
    w.add_head_count_kv(HEADS)
    w.add_rope_dimension_count(EMBD // HEADS)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(0)  # all F32
    w.add_tokenizer_model("llama")
    w.add_token_list([f"<t{i}>".encode() for i in range(VOCAB)])
    w.add_token_scores([0.0] * VOCAB)
    w.add_token_types([1] * VOCAB)
    names = tensor_names(n_layers, tied)
    for name in names:
        s = shape(name)
        data = np.ones(s, np.float32) if len(s) == 1 else (rng.normal(size=s) * 0.02).astype(np.float32)
        w.add_tensor(name, data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return names


if __name__ == "__main__":
    write(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 16)
