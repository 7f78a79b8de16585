"""One K-quant super-block, every number, and what an importance matrix changes in it.

Everything is read back from the bytes ``quantviz.blocks.encode`` writes (the stored d, dmin, 6-bit sub-block
codes, the value codes), beside the float32 scales the sub-block search found before they were quantized
(``kquant_encode.search``, the encoder's own first stage). Sentences that depend on the numbers are built from
them here; the page only prints them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz import blocks
from quantviz.blocks import iq4, kquant_encode, kquants
from quantviz.teach.fmt import fmt

F32 = np.float32
SCALE_BITS = {"Q2_K": 4, "Q3_K": 6, "Q4_K": 6, "Q5_K": 6, "Q6_K": 8, "IQ4_XS": 6}
CODE_BITS = {"Q2_K": 2, "Q3_K": 3, "Q4_K": 4, "Q5_K": 5, "Q6_K": 6, "IQ4_NL": 4, "IQ4_XS": 4}
FIELDS = {
    "Q2_K": [
        (0, 16, "sub-block scale | min (4 + 4 bits)"),
        (16, 80, "codes (4 per byte)"),
        (80, 82, "d (float16)"),
        (82, 84, "dmin (float16)"),
    ],
    "Q3_K": [
        (0, 32, "high bits (1 per value)"),
        (32, 96, "low 2 bits (4 per byte)"),
        (96, 108, "sub-block scales (6-bit)"),
        (108, 110, "d (float16)"),
    ],
    "Q4_K": [
        (0, 2, "d (float16)"),
        (2, 4, "dmin (float16)"),
        (4, 16, "sub-block scales and mins (6-bit)"),
        (16, 144, "codes (2 per byte)"),
    ],
    "Q5_K": [
        (0, 2, "d (float16)"),
        (2, 4, "dmin (float16)"),
        (4, 16, "sub-block scales and mins (6-bit)"),
        (16, 48, "fifth bits (1 per value)"),
        (48, 176, "low nibbles (2 per byte)"),
    ],
    "Q6_K": [
        (0, 128, "low nibbles (2 per byte)"),
        (128, 192, "high 2 bits (4 per byte)"),
        (192, 208, "sub-block scales (int8)"),
        (208, 210, "d (float16)"),
    ],
    "IQ4_NL": [(0, 2, "d (float16)"), (2, 18, "grid indices (2 per byte)")],
    "IQ4_XS": [
        (0, 2, "d (float16)"),
        (2, 4, "sub-block scales, top 2 bits"),
        (4, 8, "sub-block scales, low 4 bits"),
        (8, 136, "grid indices (2 per byte)"),
    ],
}


class SubBlock(NamedTuple):
    """One sub-block: the scale (and min) its search found, and what the super-block stored instead."""

    index: int
    searched_scale: float | None
    scale_code: int
    stored_scale: float
    searched_min: float | None
    min_code: int | None
    stored_min: float | None


class SuperBlockView(NamedTuple):
    """The first super-block of ``x`` in a K-quant (or IQ4_XS): the two levels of scales."""

    name: str
    sub_size: int
    d: float
    dmin: float | None
    scale_bits: int
    rows: tuple[SubBlock, ...]
    weighted: bool


class ImatrixEffect(NamedTuple):
    """The same block encoded without and with an importance vector."""

    name: str
    changed: np.ndarray  # indices of the values whose code differs
    plain_codes: np.ndarray
    weighted_codes: np.ndarray
    plain_weighted_error: float  # Σ importance · (x̂ − x)² without the imatrix
    imatrix_weighted_error: float
    plain_error: float  # Σ (x̂ − x)²
    imatrix_error: float


def value_codes(data: np.ndarray, name: str) -> np.ndarray:
    """The first block's value codes as stored (grid indices for IQ4)."""
    if name.startswith("IQ4"):
        return iq4.codes(data.reshape(1, -1), name)[0]
    return kquants.codes(data.reshape(1, -1), name)[0]


def superblock_view(x: np.ndarray, name: str, importance: np.ndarray | None = None) -> SuperBlockView:
    """Return the first super-block's two levels of scales for K-quant ``name`` (or IQ4_XS).

    >>> v = superblock_view(np.linspace(-1, 3, 256, dtype=np.float32), "Q4_K")
    >>> len(v.rows), v.sub_size, v.scale_bits, v.rows[0].stored_scale == v.d * v.rows[0].scale_code
    (8, 32, 6, True)
    """
    if name not in SCALE_BITS:
        raise ValueError(f"{name} has no sub-block scales; choose one of {', '.join(SCALE_BITS)}")
    x = np.asarray(x, F32).reshape(-1)[:256]
    qw = None if importance is None else np.asarray(importance, F32).reshape(-1)[:256]
    data = blocks.encode(x, name, qw)
    if name == "IQ4_XS":
        d = float(np.frombuffer(data[:2].tobytes(), np.float16)[0])
        h = int(np.frombuffer(data[2:4].tobytes(), "<u2")[0])
        ls = [((int(data[4 + i // 2]) >> (4 * (i % 2))) & 0xF) | (((h >> (2 * i)) & 3) << 4) for i in range(8)]
        rows = tuple(
            SubBlock(
                index=i,
                searched_scale=None,
                scale_code=c - 32,
                stored_scale=float(F32(d) * F32(c - 32)),
                searched_min=None,
                min_code=None,
                stored_min=None,
            )
            for i, c in enumerate(ls)
        )
        return SuperBlockView(name=name, sub_size=32, d=d, dmin=None, scale_bits=6, rows=rows, weighted=qw is not None)
    sc, mn, d, dmin = kquants.stored_scales(data.reshape(1, -1), name)
    found = kquant_encode.search(x.reshape(1, 256), name, None if qw is None else qw.reshape(1, 256))
    k = sc.shape[1]
    rows = tuple(
        SubBlock(
            index=j,
            searched_scale=float(found.scales[j, 0]),
            scale_code=int(sc[0, j]),
            stored_scale=float(d[0] * F32(sc[0, j])),
            searched_min=None if found.mins is None else float(found.mins[j, 0]),
            min_code=None if mn is None else int(mn[0, j]),
            stored_min=None if mn is None else float(dmin[0] * F32(mn[0, j])),
        )
        for j in range(k)
    )
    return SuperBlockView(
        name=name,
        sub_size=256 // k,
        d=float(d[0]),
        dmin=None if dmin is None else float(dmin[0]),
        scale_bits=SCALE_BITS[name],
        rows=rows,
        weighted=qw is not None,
    )


def superblock_lines(view: SuperBlockView) -> list[str]:
    """How the two levels of scales were chosen, with the numbers of this super-block."""
    k, n = len(view.rows), view.sub_size
    biggest = max(view.rows, key=lambda r: abs(r.stored_scale))
    search = (
        "a weighted least-squares search over 37 candidate scales, weights imatrix·√(σ² + x²)"
        if view.weighted
        else "a weighted search over candidate scales (weights from |x|)"
    )
    if view.name == "IQ4_XS":
        search = "the IQ4 grid search (15 candidate scales, weights imatrix·√(σ² + x²) or x²)"
    lines = [
        f"{k} sub-blocks of {n} values. Each gets its own scale"
        + (" and min" if view.dmin is not None else "")
        + f" from {search}."
    ]
    if view.dmin is not None:
        lines.append(
            f"The sub-block scales are then stored as {view.scale_bits}-bit codes times one float16 d = "
            f"{fmt(view.d, 6)}, the mins as codes times dmin = {fmt(view.dmin, 6)}: the largest sub-block "
            f"scale here is {fmt(biggest.stored_scale, 6)} = d · {biggest.scale_code}."
        )
        lines.append(
            "Each value is coded again against the stored numbers: q = round((x + dmin·m) / (d·sc)); "
            "back as d·sc·q − dmin·m — a scale and an offset per sub-block, for 2 × "
            f"{view.scale_bits} bits instead of 2 × 16."
        )
    else:
        lines.append(
            f"The sub-block scales are stored as signed {view.scale_bits}-bit codes times one float16 "
            f"d = {fmt(view.d, 6)}: the largest here is {fmt(biggest.stored_scale, 6)} = d · "
            f"{biggest.scale_code}."
        )
        lines.append("Each value is coded again against its stored sub-block scale; symmetric: no offset.")
    return lines


def imatrix_effect(x: np.ndarray, name: str, importance: np.ndarray) -> ImatrixEffect:
    """Return the first block of ``x`` in ``name`` encoded without and with ``importance``, and the errors.

    >>> x = np.random.default_rng(0).normal(size=256).astype(np.float32)
    >>> w = np.ones(256, np.float32); w[:8] = 100          # eight input channels with large activations
    >>> e = imatrix_effect(x, "Q4_K", w)
    >>> e.changed.size, round(e.plain_weighted_error, 2), round(e.imatrix_weighted_error, 2)
    (23, 4.16, 2.75)
    """
    f = blocks.get_format(name)
    n = max(f.block_size, 256 if name != "IQ4_NL" else 32)
    x = np.asarray(x, F32).reshape(-1)[:n]
    w = np.asarray(importance, F32).reshape(-1)[:n]
    plain, weighted = blocks.encode(x, name), blocks.encode(x, name, w)
    pc, wc = value_codes(plain, name), value_codes(weighted, name)
    xp = blocks.decode(plain, name, n).astype(np.float64) - x
    xw = blocks.decode(weighted, name, n).astype(np.float64) - x
    return ImatrixEffect(
        name=name,
        changed=np.flatnonzero(pc != wc),
        plain_codes=pc,
        weighted_codes=wc,
        plain_weighted_error=float((w * xp**2).sum()),
        imatrix_weighted_error=float((w * xw**2).sum()),
        plain_error=float((xp**2).sum()),
        imatrix_error=float((xw**2).sum()),
    )


def imatrix_effects(x: np.ndarray, name: str, importance: np.ndarray, n_blocks: int) -> list[ImatrixEffect]:
    """``imatrix_effect`` of each of the first ``n_blocks`` (super-)blocks of ``x``; ``importance`` covers a row.

    >>> x = np.random.default_rng(0).normal(size=512).astype(np.float32)
    >>> [e.changed.size > 0 for e in imatrix_effects(x, "Q6_K", np.linspace(0, 9, 256, dtype=np.float32), 2)]
    [True, True]
    """
    n = 32 if name == "IQ4_NL" else 256
    x = np.asarray(x, F32).reshape(-1)
    w = np.resize(np.asarray(importance, F32).reshape(-1), n_blocks * n)  # one row's weights, repeated per row
    return [
        imatrix_effect(x[i * n : (i + 1) * n], name, w[i * n : (i + 1) * n])
        for i in range(n_blocks)
        if (i + 1) * n <= x.size
    ]


def _change(before: float, after: float) -> str:
    if before == after:
        return f"stays at {fmt(before, 4)}"
    if before == 0:
        return f"goes from 0 to {fmt(after, 4)}"
    pct = (after - before) / before * 100
    size = f"{abs(pct):.0f}" if abs(pct) >= 1 else f"{abs(pct):.2f}"
    return f"goes from {fmt(before, 4)} to {fmt(after, 4)} ({'+' if pct > 0 else '−'}{size}%)"


def imatrix_sentence(effect: ImatrixEffect) -> str:
    """The imatrix's effect on this block in words, every number from ``effect``."""
    n = effect.plain_codes.size
    if effect.changed.size == 0:
        return f"With the importance matrix no code of these {n} values changes: the search landed on the same scales."
    return (
        f"With the importance matrix {effect.changed.size} of {n} codes change. The importance-weighted squared "
        f"error Σ w·(x̂ − x)² — what the weighted search aims at, because a column whose inputs are large "
        f"carries more of the layer's output error — "
        f"{_change(effect.plain_weighted_error, effect.imatrix_weighted_error)}; "
        f"the plain squared error {_change(effect.plain_error, effect.imatrix_error)}."
    )


def kquant_block_lines(x: np.ndarray, name: str, importance: np.ndarray | None = None) -> list[str]:
    """The scale lines of ``block_view`` for a K-quant or IQ4 type."""
    if name == "IQ4_NL":
        d = float(np.frombuffer(blocks.encode(np.asarray(x, F32)[:32], name)[:2].tobytes(), np.float16)[0])
        return [
            f"One float16 scale per 32 values: d = {fmt(d, 6)}, the best of 16 candidate scales for the "
            "weighted error (weights x², or the importance).",
            "Each value: the nearest of 16 fixed grid values (−127 … 113, denser near 0), times d.",
        ]
    return superblock_lines(superblock_view(x, name, importance))
