"""One block of a block format, every number: how its scale was chosen, each value's code, bits and error.

Built from the bytes the format actually writes (``quantviz.blocks.encode``), so what the page says about a
block is read back from the block, never recomputed beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import ml_dtypes
import numpy as np

from quantviz import blocks
from quantviz.blocks import gguf_legacy, mx, nf4
from quantviz.blocks.packing import unpack_nibbles
from quantviz.teach import superblock
from quantviz.teach.fmt import fmt

F32, F16 = np.float32, np.float16


class BlockView(NamedTuple):
    """Everything the page shows about the first block of ``x`` in one format."""

    name: str
    scale_lines: list[str]  # how the scale (and offset) was chosen, with the numbers, in order
    values: np.ndarray  # the block's values
    codes: np.ndarray  # each value's code as stored
    code_bits: int
    decoded: np.ndarray
    data: np.ndarray  # the block's bytes (NVFP4: with the 4-byte tensor scale in front)
    fields: list[tuple[int, int, str]]  # byte ranges of data and what they hold


def _f16_note(exact: float) -> str:
    stored = float(F16(exact))
    return f"{fmt(exact, 8)}, stored as float16 {fmt(stored, 8)}" + (
        "" if stored == float(F32(exact)) else f" (off by {fmt(stored - float(F32(exact)), 3)})"
    )


class _Block(NamedTuple):
    """The first block of one format's bytes, as each format's builder reads it."""

    x: np.ndarray  # the whole input (NVFP4's tensor scale and the K-quants' words look at all of it)
    name: str
    block: np.ndarray  # the block's values
    head: np.ndarray  # the block's bytes
    amax: float
    importance: np.ndarray | None


class _Parts(NamedTuple):
    """What a format's builder reads from its block: codes, their width, the scale lines and the byte fields."""

    codes: np.ndarray
    code_bits: int
    lines: list[str]
    fields: list[tuple[int, int, str]]


def block_view(x: np.ndarray, name: str, importance: np.ndarray | None = None) -> BlockView:
    """Return the first block of ``x`` (float32, whole blocks) seen through format ``name``.

    ``importance`` (K-quants and IQ4 only) is passed to the encoder as ggml's quant_weights.

    >>> v = block_view(np.linspace(-1, 1, 32, dtype=np.float32), "Q4_0")
    >>> v.codes[:3].tolist(), v.fields[0]
    ([0, 1, 1], (0, 2, 'd (float16)'))
    """
    n = blocks.get_format(name).block_size
    x = np.asarray(x, F32)
    data = blocks.encode(x, name, importance)
    # NVFP4's block bytes follow its 4-byte tensor scale; every other format is whole blocks of equal size
    size = 4 + 9 if name == "NVFP4" else data.size // (x.size // n)
    block = x[:n]
    head = data[:size]
    view = _Block(x=x, name=name, block=block, head=head, amax=float(np.abs(block).max()), importance=importance)
    parts = BUILDERS[name](view)
    return BlockView(
        name=name,
        scale_lines=parts.lines,
        values=block,
        codes=parts.codes.astype(np.int64),
        code_bits=parts.code_bits,
        decoded=blocks.decode(data, name, x.size)[:n],
        data=head,
        fields=parts.fields,
    )


def _nvfp4(b: _Block) -> _Parts:
    """NVFP4: a float32 tensor scale, an E4M3 block scale, E2M1 nibbles."""
    s_t = float(np.frombuffer(b.head[:4].tobytes(), "<f4")[0])
    scale_byte = b.head[4:5].view(ml_dtypes.float8_e4m3fn).astype(F32)[0]
    tensor_amax = fmt(float(np.abs(b.x).max()), 8)
    lines = [
        f"Tensor scale s_t = amax(tensor) / (448 · 6) = {tensor_amax} / 2688 = {fmt(s_t, 8)} (float32).",
        f"Block scale = amax(block) / 6 / s_t = {fmt(b.amax, 8)} / 6 / {fmt(s_t, 8)} = {fmt(b.amax / 6 / s_t, 8)}, "
        f"cast to E4M3: {fmt(float(scale_byte), 8)}.",
        f"Each value: x / (s_t · {fmt(float(scale_byte), 6)}), clamped to ±6, cast to E2M1 (round to nearest even).",
    ]
    fields = [(0, 4, "tensor scale (float32)"), (4, 5, "block scale (E4M3)"), (5, 13, "codes (2 per byte)")]
    return _Parts(codes=unpack_nibbles(b.head[None, 5:])[0], code_bits=4, lines=lines, fields=fields)


def _q8_0(b: _Block) -> _Parts:
    """Q8_0: int8 codes under a float16 absmax / 127."""
    lines = [
        f"amax = {fmt(b.amax, 8)}; d = amax / 127 = {_f16_note(float(F32(b.amax) / F32(127)))}.",
        "Each value: q = round(x / d), half away from zero; back as d · q.",
    ]
    fields = [(0, 2, "d (float16)"), (2, 34, "codes (int8)")]
    return _Parts(codes=gguf_legacy.codes(b.head[None], b.name)[0], code_bits=8, lines=lines, fields=fields)


def _q_0(b: _Block) -> _Parts:
    """Q4_0 and Q5_0: the signed maximum lands on code 0."""
    half = 8 if b.name == "Q4_0" else 16
    v = float(b.block[int(np.abs(b.block).argmax())])
    lines = [
        f"The value of largest magnitude, with its sign: v = {fmt(v, 8)}.",
        f"d = v / −{half} = {_f16_note(float(F32(v) / F32(-half)))}: v lands on code 0, the grid's lone extra code.",
        f"Each value: q = trunc(x / d + {half}.5), clamped to {2 * half - 1}; back as d · (q − {half}).",
    ]
    codes_field = (
        [(2, 6, "fifth bits (uint32)"), (6, 22, "low nibbles")] if b.name == "Q5_0" else [(2, 18, "codes (2 per byte)")]
    )
    bits = 4 if b.name == "Q4_0" else 5
    codes = gguf_legacy.codes(b.head[None], b.name)[0]
    return _Parts(codes=codes, code_bits=bits, lines=lines, fields=[(0, 2, "d (float16)"), *codes_field])


def _q_1(b: _Block) -> _Parts:
    """Q4_1 and Q5_1: a float16 step d and minimum m, the float cousin of a zero point."""
    top = 15 if b.name == "Q4_1" else 31
    lo, hi = float(b.block.min()), float(b.block.max())
    d = float((F32(hi) - F32(lo)) / F32(top))
    stored_d, stored_m = float(F16(d)), float(F16(lo))
    exact_zero = (
        "." if not stored_d or float(-stored_m / stored_d).is_integer() else ", not a whole number, so 0 is not exact."
    )
    lines = [
        f"min = {fmt(lo, 8)}, max = {fmt(hi, 8)}; d = (max − min) / {top} = {_f16_note(d)}; "
        f"m = min, stored as float16 {fmt(stored_m, 8)}.",
        f"Each value: q = trunc((x − m) / d + 0.5); back as d · q + m, the float cousin of a zero point: "
        f"real 0 would need q = −m/d = {fmt(-stored_m / stored_d, 8) if stored_d else '—'}" + exact_zero,
    ]
    codes_field = (
        [(4, 8, "fifth bits (uint32)"), (8, 24, "low nibbles")] if b.name == "Q5_1" else [(4, 20, "codes (2 per byte)")]
    )
    bits = 4 if b.name == "Q4_1" else 5
    codes = gguf_legacy.codes(b.head[None], b.name)[0]
    return _Parts(
        codes=codes, code_bits=bits, lines=lines, fields=[(0, 2, "d (float16)"), (2, 4, "m (float16)"), *codes_field]
    )


def _kquant(b: _Block) -> _Parts:
    """K-quants and IQ4: read by :mod:`quantviz.teach.superblock`."""
    return _Parts(
        codes=superblock.value_codes(b.head, b.name),
        code_bits=superblock.CODE_BITS[b.name],
        lines=superblock.kquant_block_lines(b.x, b.name, b.importance),
        fields=superblock.FIELDS[b.name],
    )


def _nf4(b: _Block) -> _Parts:
    """NF4: a float32 absmax and the 16 normal quantiles."""
    lines = [
        f"absmax = {fmt(b.amax, 8)} (stored as float32).",
        "Each value: x / absmax, then the nearest of the 16 NF4 values (quantiles of a normal); "
        "back as value · absmax.",
    ]
    fields = [(0, 4, "absmax (float32)"), (4, 36, "codes (2 per byte, first value high)")]
    return _Parts(codes=nf4.unpack(b.head[None, 4:])[0], code_bits=4, lines=lines, fields=fields)


def _ocp_mx(b: _Block) -> _Parts:
    """OCP MX: an E8M0 power-of-two scale from floor(log2 amax) − emax."""
    element, emax, bits = mx.ELEMENTS[b.name]
    k = math.frexp(b.amax)[1] - 1 if b.amax > 0 else 0
    e = int(b.head[0])
    lines = [
        f"amax = {fmt(b.amax, 8)}; floor(log2 amax) = {k}; X = {k} − emax ({emax}) = {e - 127}: "
        f"scale 2^{e - 127} = {fmt(2.0 ** (e - 127), 8)} (E8M0 byte {e}).",
        f"Each value: x / 2^X, clamped to ±{fmt(float(ml_dtypes.finfo(element).max))}, cast to the element type "
        "(round to nearest even).",
    ]
    fields = [(0, 1, "shared exponent (E8M0)"), (1, b.head.size, f"elements ({bits} bits each)")]
    return _Parts(codes=mx.element_codes(b.head[None], b.name)[0], code_bits=bits, lines=lines, fields=fields)


def _ggml_mxfp4(b: _Block) -> _Parts:
    """ggml's MXFP4: the exponent from a float32 log2, doubled E2M1 codes."""
    d = float(mx.ggml_half_scale(b.head[:1])[0])
    lines = [
        f"amax = {fmt(b.amax, 8)}; e = floor(log2 amax) − 2 + 127 = {int(b.head[0])} (log2 in float32); "
        f"d = 2^(e − 128) = {fmt(d, 8)} against doubled E2M1 codes.",
        "Each value: the code k with the smallest float32 |d·k − x|, the first on a tie (toward zero).",
    ]
    fields = [(0, 1, "exponent (E8M0)"), (1, 17, "codes (2 per byte)")]
    return _Parts(codes=mx.element_codes(b.head[None], b.name)[0], code_bits=4, lines=lines, fields=fields)


def _int4_group(b: _Block) -> _Parts:
    """Plain int4 blocks: absmax / 7 (symmetric) or a widened range with an integer zero point (affine)."""
    s = float(np.frombuffer(b.head[:2].tobytes(), F16)[0])
    size = b.head.size
    if b.name.endswith("SYM"):
        lines = [
            f"amax = {fmt(b.amax, 8)}; s = amax / 7 = {_f16_note(b.amax / 7)}.",
            "Each value: q = round(x / s) in [−7, 7], stored as q + 8; back as s · (stored − 8).",
        ]
        fields = [(0, 2, "s (float16)"), (2, size, "codes (2 per byte)")]
        return _Parts(codes=unpack_nibbles(b.head[None, 2:])[0], code_bits=4, lines=lines, fields=fields)
    z = int(b.head[2])
    widened = f"[{fmt(min(float(b.block.min()), 0), 8)}, {fmt(max(float(b.block.max()), 0), 8)}]"
    lines = [
        f"Range widened to include 0: {widened}; "
        f"s = (max − min) / 15 = {fmt(s, 8)} (float16); z = round(−min / s) = {z}, an integer: 0 is exact.",
        f"Each value: q = clamp(round(x / s) + {z}, 0, 15); back as s · (q − {z}).",
    ]
    fields = [(0, 2, "s (float16)"), (2, 3, "zero point"), (3, size, "codes (2 per byte)")]
    return _Parts(codes=unpack_nibbles(b.head[None, 3:])[0], code_bits=4, lines=lines, fields=fields)


# How each format's block is read: one small builder per family, keyed like blocks.FORMATS.
BUILDERS: dict[str, Callable[[_Block], _Parts]] = {
    "NVFP4": _nvfp4,
    "Q8_0": _q8_0,
    "Q4_0": _q_0,
    "Q5_0": _q_0,
    "Q4_1": _q_1,
    "Q5_1": _q_1,
    "NF4": _nf4,
    "MXFP4_GGML": _ggml_mxfp4,
    "INT4_G32_SYM": _int4_group,
    "INT4_G128_AFFINE": _int4_group,
    **dict.fromkeys(mx.ELEMENTS, _ocp_mx),
    **dict.fromkeys(superblock.CODE_BITS, _kquant),
}


def binary(code: int, bits: int) -> str:
    """The code's bit pattern, most significant bit first.

    >>> binary(5, 4), binary(-3, 8)
    ('0101', '11111101')
    """
    return format(int(code) & ((1 << bits) - 1), f"0{bits}b")
