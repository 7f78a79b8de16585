"""What "Q4_K_M" means: the type llama.cpp's quantizer gives each tensor of a llama-style model, and the imatrix.

:func:`gguf_mix` follows ``llama_tensor_get_type`` in llama.cpp's src/llama-quant.cpp (read, not copied) for the
file types Q3_K_M, Q4_K_S, Q4_K_M, Q5_K_M, Q6_K and Q8_0 on a dense llama-architecture model:

- a file type names a *default* type (Q4_K for Q4_K_M and Q4_K_S, Q5_K for Q5_K_M, Q3_K for Q3_K_M …);
- ``output.weight`` gets Q6_K (Q8_0 stays Q8_0); with no ``output.weight`` the embeddings are tied and
  ``token_embd.weight`` is treated as the output;
- ``attn_v`` (and fused ``attn_qkv``) and ``ffn_down`` get more bits in some layers: the "_M" mixes give Q6_K to
  the layers where ``use_more_bits`` holds (the first and last eighth, and every third layer in between), "_S"
  to the first four ``attn_v`` / first eighth of ``ffn_down``; Q3_K_M lifts ``attn_output`` to Q4_K too;
- 1-D tensors (norms, biases) and what does not end in ``weight`` stay float: ``"F32"`` here.

Layers are counted the way the C++ counts them: the i-th ``attn_v`` (or ``ffn_down``) met in the loader's order
(by the number after ``blk.``, then by name; tensors outside a block first), out of how many there are
(``ffn_down``: ``n_layers``). Not modelled, because names and a layer count do not carry them:
the 70B rule (attn_v at Q3_K/Q4_K -> Q5_K when the model type is 70B), mixture-of-experts rules, Falcon, and the
fallback for row lengths that are not a multiple of 256 (to Q5_0, Q5_1, Q8_0).

:func:`importance_matrix` is llama-imatrix's definition for one matrix: per input column, the float32 sum of x²
over the calibration tokens that reached it (token after token), divided by the token count.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from quantviz.blocks.kq_search import seqsum

FILE_TYPES = {"Q3_K_M": "Q3_K", "Q4_K_S": "Q4_K", "Q4_K_M": "Q4_K", "Q5_K_M": "Q5_K", "Q6_K": "Q6_K", "Q8_0": "Q8_0"}
FLOAT = "F32"
ONE_D = ("rope_freqs.weight",)


def use_more_bits(i_layer: int, n_layers: int) -> bool:
    """llama.cpp's "more bits" layers: the first and last eighth, and every third one in between.

    >>> [i for i in range(16) if use_more_bits(i, 16)]
    [0, 1, 4, 7, 10, 13, 14, 15]
    """
    return i_layer < n_layers // 8 or i_layer >= 7 * n_layers // 8 or (i_layer - n_layers // 8) % 3 == 2


def _category(name: str) -> str:
    if name == "output.weight":
        return "output"
    if name in ("token_embd.weight", "per_layer_token_embd.weight"):
        return "token_embd"
    for key in ("attn_qkv.weight", "attn_kv_b.weight", "attn_v.weight"):
        if key in name:
            return "attn_v"
    for key, cat in (
        ("attn_k.weight", "attn_k"),
        ("attn_q.weight", "attn_q"),
        ("attn_output.weight", "attn_output"),
        ("ffn_up", "ffn_up"),
        ("ffn_gate", "ffn_gate"),
        ("ffn_down", "ffn_down"),
    ):
        if key in name:
            return cat
    return "other"


def _loader_order(name: str) -> tuple[int, str]:
    """llama_model_loader's weight_name_comparer: layer number after "blk." (−1 when none), then the name."""
    m = re.match(r"blk\.(-?\d+)\.", name)
    return (int(m.group(1)) if m else -1, name)


def _quantized(name: str) -> bool:
    """The name-based half of tensor_allows_quantization (the 2-D test needs shapes: 1-D names listed in ONE_D)."""
    return (
        name.endswith("weight")
        and "_norm.weight" not in name
        and "ffn_gate_inp.weight" not in name
        and name not in ONE_D
    )


def _attn_v_type(file_type: str, default: str, i: int, n: int) -> str:
    """The type of the i-th of n attn_v tensors: more bits for the first ones or llama.cpp's "more bits" layers."""
    if file_type == "Q3_K_M":
        return "Q5_K" if i < 2 else "Q4_K"
    if file_type in ("Q4_K_M", "Q5_K_M") and use_more_bits(i, n):
        return "Q6_K"
    if file_type == "Q4_K_S" and i < 4:
        return "Q5_K"
    return default


def _ffn_down_type(file_type: str, default: str, i: int, n_layers: int) -> str:
    """The type of the i-th ffn_down tensor: more bits for the first sixteenth or eighth, or the "more bits" layers."""
    if file_type == "Q3_K_M":
        return "Q5_K" if i < n_layers // 16 else "Q4_K"
    if file_type in ("Q4_K_M", "Q5_K_M") and use_more_bits(i, n_layers):
        return "Q6_K"
    if file_type == "Q4_K_S" and i < n_layers // 8:
        return "Q5_K"
    return default


def gguf_mix(file_type: str, tensor_names: list[str], n_layers: int) -> dict[str, str]:
    """Return tensor name -> type name as llama.cpp's quantizer picks them for ``file_type``.

    >>> roles = ("attn_norm", "attn_v", "ffn_down")
    >>> names = [f"blk.{i}.{t}.weight" for i in range(8) for t in roles] + ["output.weight"]
    >>> mix = gguf_mix("Q4_K_M", names, 8)
    >>> mix["output.weight"], mix["blk.0.attn_v.weight"], mix["blk.1.attn_v.weight"], mix["blk.0.attn_norm.weight"]
    ('Q6_K', 'Q6_K', 'Q4_K', 'F32')
    """
    if file_type not in FILE_TYPES:
        raise ValueError(f"file type {file_type!r} is not one of {', '.join(FILE_TYPES)}")
    if isinstance(n_layers, bool) or not isinstance(n_layers, (int, np.integer)) or n_layers < 1:
        raise ValueError(f"n_layers must be a positive whole number, not {n_layers!r}")
    names = sorted(tensor_names, key=_loader_order)
    default = FILE_TYPES[file_type]
    cats = [_category(n) for n in names]
    tied = "output" not in cats
    n_wv = sum(c == "attn_v" for c in cats)
    i_wv = i_down = 0
    out: dict[str, str] = {}
    for name, cat in zip(names, cats, strict=True):
        if not _quantized(name):
            out[name] = FLOAT
            continue
        t = default
        if cat == "output" or (tied and cat == "token_embd"):
            t = default if default == "Q8_0" else "Q6_K"
        elif cat == "attn_v":
            t = _attn_v_type(file_type, default, i_wv, n_wv)
            i_wv += 1
        elif cat == "ffn_down":
            t = _ffn_down_type(file_type, default, i_down, n_layers)
            i_down += 1
        elif cat == "attn_output" and file_type == "Q3_K_M":
            t = "Q4_K"
        out[name] = t
    return {name: out[name] for name in tensor_names}


TYPE_BITS = {
    "F32": 32.0,
    "F16": 16.0,
    "BF16": 16.0,
    "Q8_0": 8.5,
    "Q6_K": 6.5625,
    "Q5_K": 5.5,
    "Q4_K": 4.5,
    "Q3_K": 3.4375,
    "Q2_K": 2.625,
    "Q5_0": 5.5,
    "Q5_1": 6.0,
    "Q4_0": 4.5,
    "Q4_1": 5.0,
    "IQ4_NL": 4.5,
    "IQ4_XS": 4.25,
}


def mix_bits_per_weight(types: dict[str, str], sizes: dict[str, int]) -> float:
    """Return the file's bits per weight: Σ size·bits(type) / Σ size over the named tensors.

    >>> mix_bits_per_weight({"a": "Q4_K", "b": "Q6_K"}, {"a": 3, "b": 1})
    5.015625
    """
    unknown = sorted({t for t in types.values() if t not in TYPE_BITS})
    if unknown:
        raise ValueError(f"no bits-per-weight known for type(s) {', '.join(unknown)}")
    total = sum(int(sizes[n]) for n in types)
    if total <= 0:
        raise ValueError("the tensors hold no values")
    return sum(int(sizes[n]) * TYPE_BITS[t] for n, t in types.items()) / total


def importance_matrix(inputs: object) -> np.ndarray:
    """Return llama-imatrix's importance for one matrix: per input column, mean of x² over the rows (tokens).

    ``inputs`` is (tokens, in_features) float; the sum is float32 and sequential over tokens, as the tool adds
    each token's x² into its running totals, then divided by the token count.

    >>> importance_matrix(np.array([[1.0, -2.0], [3.0, 0.0]], np.float32)).tolist()
    [5.0, 2.0]
    """
    x = np.asarray(inputs, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"inputs must be (tokens, in_features) with at least one of each, not shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("inputs contain NaN or infinity; llama-imatrix refuses non-finite activations too")
    total = seqsum(x * x)  # token after token, as the tool adds them
    return (total / np.float32(x.shape[0])).astype(np.float32)


def outlier_activations(tokens: int, features: int, outlier_channels: int, factor: float, seed: int) -> np.ndarray:
    """Return (tokens, features) float32 normal activations with ``outlier_channels`` columns ``factor`` × larger.

    The few large input channels LLM activations are known for; their importance (mean x²) is ``factor²`` × more.

    >>> a = outlier_activations(64, 256, 4, 10.0, 0)
    >>> a.shape, int((importance_matrix(a) > 20).sum())
    ((64, 256), 4)
    """
    if tokens < 1 or features < 1 or not 0 <= outlier_channels <= features:
        raise ValueError(
            f"need tokens, features >= 1 and 0 <= outlier_channels <= features, not "
            f"{tokens}, {features}, {outlier_channels}"
        )
    rng = np.random.default_rng(seed)
    acts = rng.normal(size=(tokens, features)).astype(np.float32)
    acts[:, rng.choice(features, outlier_channels, replace=False)] *= np.float32(factor)
    return acts


LLAMA_PARTS = ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")


def llama_tensor_names(n_layers: int, tied: bool = False) -> list[str]:
    """The tensor names of a llama-architecture GGUF with ``n_layers`` blocks (no output.weight when tied).

    >>> llama_tensor_names(1)[:4]
    ['token_embd.weight', 'output_norm.weight', 'output.weight', 'blk.0.attn_norm.weight']
    """
    head = ["token_embd.weight", "output_norm.weight"] + ([] if tied else ["output.weight"])
    return head + [f"blk.{i}.{p}.weight" for i in range(n_layers) for p in LLAMA_PARTS]


def llama_tensor_sizes(
    names: list[str], embd: int = 4096, ff: int = 11008, vocab: int = 32000, kv_embd: int | None = None
) -> dict[str, int]:
    """Number of values of each llama tensor (defaults: Llama-2-7B's shapes; ``kv_embd`` for grouped KV heads).

    >>> llama_tensor_sizes(["blk.0.attn_k.weight", "blk.0.ffn_norm.weight"], kv_embd=1024)
    {'blk.0.attn_k.weight': 4194304, 'blk.0.ffn_norm.weight': 4096}
    """
    kv = embd if kv_embd is None else kv_embd
    out = {}
    for n in names:
        if n.endswith("norm.weight"):
            out[n] = embd
        elif n in ("token_embd.weight", "output.weight"):
            out[n] = vocab * embd
        elif "attn_k." in n or "attn_v." in n:
            out[n] = embd * kv
        elif "ffn_" in n:
            out[n] = embd * ff
        else:
            out[n] = embd * embd
    return out


class MixMatch(NamedTuple):
    """A file's tensor types beside llama.cpp's rule for the file type that explains them best."""

    file_type: str
    n_layers: int
    agree: int
    total: int
    rows: tuple[tuple[str, str, str], ...]  # (tensor name, type in the file, type llama.cpp's rule gives)


FLOAT_NAMES = {"float32": "F32", "float16": "F16", "bfloat16": "BF16"}


def match_mix(types: dict[str, str]) -> MixMatch:
    """Return the file type among FILE_TYPES whose llama.cpp mix agrees with the most of ``types`` (name -> type).

    The layer count is one more than the largest ``blk.N``. Float types count as one ("F32", "F16", "BF16" are the
    quantizer leaving a tensor unquantized).

    >>> names = llama_tensor_names(8)
    >>> m = match_mix(gguf_mix("Q5_K_M", names, 8))
    >>> m.file_type, m.agree == m.total == len(names)
    ('Q5_K_M', True)
    """
    if not types:
        raise ValueError("no tensors to compare")
    layers = [int(m.group(1)) for n in types if (m := re.match(r"blk\.(\d+)\.", n))]
    n_layers = max(layers) + 1 if layers else 1
    found = {n: FLOAT_NAMES.get(t, t) for n, t in types.items()}

    def same(a: str, b: str) -> bool:
        return a == b or (a in ("F32", "F16", "BF16") and b in ("F32", "F16", "BF16"))

    best = None
    for ft in FILE_TYPES:
        pred = gguf_mix(ft, list(types), n_layers)
        agree = sum(same(found[n], pred[n]) for n in types)
        if best is None or agree > best[0]:
            best = (agree, ft, pred)
    agree, ft, pred = best
    return MixMatch(
        file_type=ft,
        n_layers=n_layers,
        agree=agree,
        total=len(types),
        rows=tuple((n, found[n], pred[n]) for n in types),
    )
