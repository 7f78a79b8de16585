"""What a GGUF file type such as Q4_K_M means, in a table and a sentence built from ``gguf_mix``."""

from __future__ import annotations

from typing import NamedTuple

from quantviz.blocks import gguf_mix, mix_bits_per_weight
from quantviz.blocks.mix import LLAMA_PARTS, MixMatch, llama_tensor_names, llama_tensor_sizes


class MixRow(NamedTuple):
    """One role of tensor (attn_v, ffn_down, output …) and how many of them get each type."""

    role: str
    counts: dict[str, int]


class MixSummary(NamedTuple):
    file_type: str
    n_layers: int
    rows: tuple[MixRow, ...]
    bits_per_weight: float
    default: str


def _role(name: str) -> str:
    return name.split(".")[2] if name.startswith("blk.") else name.removesuffix(".weight")


def mix_summary(file_type: str, n_layers: int, tied: bool = False) -> MixSummary:
    """Return the per-role type counts of ``file_type`` on a llama model, and its bits per weight at 7B shapes.

    >>> s = mix_summary("Q4_K_M", 32)
    >>> [r.counts for r in s.rows if r.role == "attn_v"], round(s.bits_per_weight, 2)
    ([{'Q4_K': 16, 'Q6_K': 16}], 4.84)
    """
    from quantviz.blocks.mix import FILE_TYPES

    names = llama_tensor_names(n_layers, tied)
    mix = gguf_mix(file_type, names, n_layers)
    roles = [r for r in ("token_embd", "output", *LLAMA_PARTS, "output_norm") if any(_role(n) == r for n in names)]
    rows = []
    for role in roles:
        counts: dict[str, int] = {}
        for n in names:
            if _role(n) == role:
                counts[mix[n]] = counts.get(mix[n], 0) + 1
        rows.append(MixRow(role=role, counts=dict(sorted(counts.items()))))
    bpw = mix_bits_per_weight(mix, llama_tensor_sizes(names))
    return MixSummary(
        file_type=file_type, n_layers=n_layers, rows=tuple(rows), bits_per_weight=bpw, default=FILE_TYPES[file_type]
    )


def mix_sentence(s: MixSummary) -> str:
    """Which tensors get other types than the default, in words, every count from ``s``.

    >>> mix_sentence(mix_summary("Q6_K", 8))[:60]
    'Q6_K on an 8-layer llama: every matrix is Q6_K, without exce'
    """
    from quantviz.blocks.mix import TYPE_BITS

    lifted = [
        f"{r.counts[t]} of {sum(r.counts.values())} {r.role} get {t}"
        for r in s.rows
        for t in r.counts
        if t not in (s.default, "F32")
    ]
    article = "an" if str(s.n_layers)[0] == "8" or s.n_layers in (11, 18) else "a"
    text = f"{s.file_type} on {article} {s.n_layers}-layer llama: every matrix is {s.default}"
    text += f" except: {'; '.join(lifted)}." if lifted else ", without exceptions."
    text += f" The norms stay float32. At Llama-2-7B's shapes the file averages {s.bits_per_weight:.2f} bits per weight"
    if lifted:
        text += f', more than {s.default}\'s own {TYPE_BITS[s.default]:g}: the "{s.file_type[-1]}" is the mix.'
    else:
        text += "."
    return text


def match_sentence(m: MixMatch) -> str:
    """How a GGUF file's tensor types compare with llama.cpp's rules, every number from ``m``.

    >>> from quantviz.blocks.mix import match_mix
    >>> types = gguf_mix("Q4_K_M", llama_tensor_names(4), 4)
    >>> types["blk.0.attn_q.weight"] = "Q8_0"
    >>> match_sentence(match_mix(types))[:90]
    "The file's tensor types are llama.cpp's Q4_K_M mix for a 4-layer llama in 38 of 39 tensors"
    """
    text = (
        f"The file's tensor types are llama.cpp's {m.file_type} mix for a {m.n_layers}-layer llama in {m.agree} "
        f"of {m.total} tensors"
    )
    if m.agree == m.total:
        return (
            text
            + ": the file is what `llama-quantize` writes for that file type (the rules of `llama_tensor_get_type`)."
        )
    return (
        text + f"; the {m.total - m.agree} others differ (marked below): a different tool, a manual "
        "`--tensor-type` override, a model type with rules of its own (70B, mixture of experts), or another "
        "file type."
    )
