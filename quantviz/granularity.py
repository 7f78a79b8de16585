"""Per-tensor, per-channel and per-group quantization of a weight matrix."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.conventions import get_convention
from quantviz.errors import QuantVizError
from quantviz.grid import GridOptions
from quantviz.quantize import choose_qparams

SCHEMES = {
    "tensor": "per tensor (one s, z)",
    "channel": "per output channel (one per row)",
    "group": "per group of k (within each row)",
}


def weight_matrix(rows: int, cols: int, *, spread_decades: float = 2.0, seed: int = 0) -> np.ndarray:
    """Return a [rows, cols] normal weight matrix whose rows' magnitudes span ``spread_decades`` powers of ten.

    >>> w = weight_matrix(4, 8, spread_decades=2, seed=0); w.shape
    (4, 8)
    """
    if not (1 <= rows <= 4096 and 1 <= cols <= 4096):
        raise QuantVizError(f"matrix size must be between 1 and 4096 on each side, got {rows}×{cols}")
    rng = np.random.default_rng(seed)
    magnitudes = 10 ** rng.uniform(-spread_decades / 2, spread_decades / 2, rows)
    return rng.standard_normal((rows, cols)) * magnitudes[:, None]


class Quantized(NamedTuple):
    """A matrix quantized with one scheme: what came back, the error per row, and the scales used."""

    dequantized: np.ndarray
    row_mse: np.ndarray
    scales: np.ndarray  # one per unit (1, rows, or rows × groups)
    row_relative_mse: np.ndarray  # row MSE / the row's mean square: how much of each row is noise


WEIGHT_OPTIONS = GridOptions(bits=8, signed=True, symmetric=True, narrow_range=True)


def quantize_weights(
    w: np.ndarray,
    scheme: str,
    *,
    group_size: int = 32,
    convention: str = "textbook",
    options: GridOptions | None = None,
    **grid: object,
) -> Quantized:
    """Return ``w`` quantized per tensor, per output channel (row) or per group of ``group_size`` columns.

    ``options`` (or its fields as loose keywords) default to ``WEIGHT_OPTIONS``: symmetric int8, narrow range.

    >>> r = quantize_weights(weight_matrix(2, 4), "channel", bits=4)
    >>> r.scales.shape, bool(np.all(r.row_mse > 0))
    ((2,), True)
    """
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 2:
        raise QuantVizError(f"a weight matrix needs 2 dimensions, got shape {w.shape}")
    if scheme not in SCHEMES:
        raise QuantVizError(f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    conv = get_convention(convention)
    opts = GridOptions.coerce(options, grid, WEIGHT_OPTIONS)

    def fq(block: np.ndarray) -> tuple[np.ndarray, float]:
        qp = choose_qparams(float(block.min()), float(block.max()), convention=convention, options=opts)
        return conv.fake_quantize(block, qp).astype(np.float64), qp.scale

    out = np.empty_like(w)
    if scheme == "tensor":
        out[:], s = fq(w)
        scales = np.array([s])
    elif scheme == "channel":
        scales = np.empty(w.shape[0])
        for r in range(w.shape[0]):
            out[r], scales[r] = fq(w[r])
    else:
        if group_size < 1:
            raise QuantVizError(f"group size must be at least 1, got {group_size}")
        starts = range(0, w.shape[1], group_size)
        scales = np.empty((w.shape[0], len(starts)))
        for r in range(w.shape[0]):
            for g, c in enumerate(starts):
                out[r, c : c + group_size], scales[r, g] = fq(w[r, c : c + group_size])
    row_mse = np.mean((out - w) ** 2, axis=1)
    power = np.mean(w**2, axis=1)
    relative = np.divide(row_mse, power, out=np.zeros_like(row_mse), where=power > 0)
    return Quantized(out, row_mse, scales, relative)
