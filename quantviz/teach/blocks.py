"""One block of a block format, every number: how its scale was chosen, each value's code, bits and error.

Built from the bytes the format actually writes (``quantviz.blocks.encode``), so what the page says about a
block is read back from the block, never recomputed beside it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import ml_dtypes
import numpy as np

from quantviz import blocks
from quantviz.blocks import gguf_legacy, mx, nf4
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


def block_view(x: np.ndarray, name: str, importance: np.ndarray | None = None) -> BlockView:
    """Return the first block of ``x`` (float32, whole blocks) seen through format ``name``.

    ``importance`` (K-quants and IQ4 only) is passed to the encoder as ggml's quant_weights.

    >>> v = block_view(np.linspace(-1, 1, 32, dtype=np.float32), "Q4_0")
    >>> v.codes[:3].tolist(), v.fields[0]
    ([0, 1, 1], (0, 2, 'd (float16)'))
    """
    f = blocks.get_format(name)
    n = f.block_size
    x = np.asarray(x, F32)
    data = blocks.encode(x, name, importance)
    decoded_all = blocks.decode(data, name, x.size)
    block = x[:n]
    lines: list[str] = []
    if name == "NVFP4":
        size = 9
        head = data[: 4 + size]
        s_t = float(np.frombuffer(data[:4].tobytes(), "<f4")[0])
        amax_b = float(np.abs(block).max())
        scale_byte = head[4:5].view(ml_dtypes.float8_e4m3fn).astype(F32)[0]
        lines = [
            f"Tensor scale s_t = amax(tensor) / (448 · 6) = {fmt(float(np.abs(x).max()), 8)} / 2688 = {fmt(s_t, 8)} (float32).",
            f"Block scale = amax(block) / 6 / s_t = {fmt(amax_b, 8)} / 6 / {fmt(s_t, 8)} = {fmt(amax_b / 6 / s_t, 8)}, "
            f"cast to E4M3: {fmt(float(scale_byte), 8)}.",
            f"Each value: x / (s_t · {fmt(float(scale_byte), 6)}), clamped to ±6, cast to E2M1 (round to nearest even).",
        ]
        raw = np.concatenate([head[5:] & 0x0F, head[5:] >> 4])
        return BlockView(
            name,
            lines,
            block,
            raw.astype(np.int64),
            4,
            decoded_all[:n],
            head,
            [(0, 4, "tensor scale (float32)"), (4, 5, "block scale (E4M3)"), (5, 13, "codes (2 per byte)")],
        )
    size = data.size // (x.size // n)
    head = data[:size]
    rows = head.reshape(1, -1)
    amax = float(np.abs(block).max())
    if name in ("Q8_0", "Q4_0", "Q5_0", "Q4_1", "Q5_1"):
        codes = gguf_legacy.codes(rows, name)[0]
        bits = {"Q8_0": 8, "Q4_0": 4, "Q5_0": 5, "Q4_1": 4, "Q5_1": 5}[name]
        if name == "Q8_0":
            lines = [
                f"amax = {fmt(amax, 8)}; d = amax / 127 = {_f16_note(float(F32(amax) / F32(127)))}.",
                "Each value: q = round(x / d), half away from zero; back as d · q.",
            ]
            fields = [(0, 2, "d (float16)"), (2, 34, "codes (int8)")]
        elif name in ("Q4_0", "Q5_0"):
            half = 8 if name == "Q4_0" else 16
            v = float(block[int(np.abs(block).argmax())])
            lines = [
                f"The value of largest magnitude, with its sign: v = {fmt(v, 8)}.",
                f"d = v / −{half} = {_f16_note(float(F32(v) / F32(-half)))}: v lands on code 0, the grid's lone extra code.",
                f"Each value: q = trunc(x / d + {half}.5), clamped to {2 * half - 1}; back as d · (q − {half}).",
            ]
            fields = [(0, 2, "d (float16)")] + (
                [(2, 6, "fifth bits (uint32)"), (6, 22, "low nibbles")]
                if name == "Q5_0"
                else [(2, 18, "codes (2 per byte)")]
            )
        else:
            top = 15 if name == "Q4_1" else 31
            lo, hi = float(block.min()), float(block.max())
            d = float((F32(hi) - F32(lo)) / F32(top))
            stored_d, stored_m = float(F16(d)), float(F16(lo))
            lines = [
                f"min = {fmt(lo, 8)}, max = {fmt(hi, 8)}; d = (max − min) / {top} = {_f16_note(d)}; m = min, stored as float16 {fmt(stored_m, 8)}.",
                f"Each value: q = trunc((x − m) / d + 0.5); back as d · q + m, the float cousin of a zero point: "
                f"real 0 would need q = −m/d = {fmt(-stored_m / stored_d, 8) if stored_d else '—'}"
                + (
                    ", not a whole number, so 0 is not exact."
                    if stored_d and not float(-stored_m / stored_d).is_integer()
                    else "."
                ),
            ]
            fields = [(0, 2, "d (float16)"), (2, 4, "m (float16)")] + (
                [(4, 8, "fifth bits (uint32)"), (8, 24, "low nibbles")]
                if name == "Q5_1"
                else [(4, 20, "codes (2 per byte)")]
            )
    elif name in superblock.CODE_BITS:
        codes = superblock.value_codes(head, name)
        bits = superblock.CODE_BITS[name]
        lines = superblock.kquant_block_lines(x, name, importance)
        fields = superblock.FIELDS[name]
    elif name == "NF4":
        codes = nf4.unpack(rows[:, 4:])[0].astype(np.int64)
        bits = 4
        lines = [
            f"absmax = {fmt(amax, 8)} (stored as float32).",
            "Each value: x / absmax, then the nearest of the 16 NF4 values (quantiles of a normal); back as value · absmax.",
        ]
        fields = [(0, 4, "absmax (float32)"), (4, 36, "codes (2 per byte, first value high)")]
    elif name in mx.ELEMENTS:
        _, emax, bits = mx.ELEMENTS[name]
        codes = mx.element_codes(rows, name)[0]
        k = math.frexp(amax)[1] - 1 if amax > 0 else 0
        lines = [
            f"amax = {fmt(amax, 8)}; floor(log2 amax) = {k}; X = {k} − emax ({emax}) = {int(head[0]) - 127}: "
            f"scale 2^{int(head[0]) - 127} = {fmt(2.0 ** (int(head[0]) - 127), 8)} (E8M0 byte {int(head[0])}).",
            f"Each value: x / 2^X, clamped to ±{fmt(float(ml_dtypes.finfo(mx.ELEMENTS[name][0]).max))}, cast to the element type "
            "(round to nearest even).",
        ]
        fields = [(0, 1, "shared exponent (E8M0)"), (1, size, f"elements ({bits} bits each)")]
    elif name == "MXFP4_GGML":
        codes = mx.element_codes(rows, name)[0]
        bits = 4
        d = float(mx.ggml_half_scale(head[:1])[0])
        lines = [
            f"amax = {fmt(amax, 8)}; e = floor(log2 amax) − 2 + 127 = {int(head[0])} (log2 in float32); "
            f"d = 2^(e − 128) = {fmt(d, 8)} against doubled E2M1 codes.",
            "Each value: the code k with the smallest float32 |d·k − x|, the first on a tie (toward zero).",
        ]
        fields = [(0, 1, "exponent (E8M0)"), (1, 17, "codes (2 per byte)")]
    else:  # INT4 block / group
        symmetric = name.endswith("SYM")
        s = float(np.frombuffer(head[:2].tobytes(), F16)[0])
        offset = 2 if symmetric else 3
        codes = np.concatenate([head[offset:] & 0x0F, head[offset:] >> 4]).astype(np.int64)
        bits = 4
        if symmetric:
            lines = [
                f"amax = {fmt(amax, 8)}; s = amax / 7 = {_f16_note(amax / 7)}.",
                "Each value: q = round(x / s) in [−7, 7], stored as q + 8; back as s · (stored − 8).",
            ]
            fields = [(0, 2, "s (float16)"), (2, size, "codes (2 per byte)")]
        else:
            z = int(head[2])
            lines = [
                f"Range widened to include 0: [{fmt(min(float(block.min()), 0), 8)}, {fmt(max(float(block.max()), 0), 8)}]; "
                f"s = (max − min) / 15 = {fmt(s, 8)} (float16); z = round(−min / s) = {z}, an integer: 0 is exact.",
                f"Each value: q = clamp(round(x / s) + {z}, 0, 15); back as s · (q − {z}).",
            ]
            fields = [(0, 2, "s (float16)"), (2, 3, "zero point"), (3, size, "codes (2 per byte)")]
    return BlockView(name, lines, block, codes.astype(np.int64), bits, decoded_all[:n], head, fields)


def binary(code: int, bits: int) -> str:
    """The code's bit pattern, most significant bit first.

    >>> binary(5, 4), binary(-3, 8)
    ('0101', '11111101')
    """
    return format(int(code) & ((1 << bits) - 1), f"0{bits}b")
