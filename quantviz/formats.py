"""Low-bit integer grids and FP8 (E4M3, E5M2) on one footing: round to nearest even, saturate."""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np

from quantviz.conventions import get_convention
from quantviz.errors import UnsupportedError
from quantviz.metrics import sqnr_db
from quantviz.quantize import choose_qparams

FP8_FORMATS = {
    # name: (exponent bits, mantissa bits, bias, has infinities)
    "e4m3": (4, 3, 7, False),
    "e5m2": (5, 2, 15, True),
}


@cache
def fp8_values(fmt: str) -> np.ndarray:
    """Return every finite non-negative FP8 value of ``fmt`` in code order (index = code & 0x7F).

    >>> v = fp8_values("e4m3"); float(v.max()), float(v[1])
    (448.0, 0.001953125)
    >>> float(fp8_values("e5m2").max())
    57344.0
    """
    if fmt not in FP8_FORMATS:
        raise UnsupportedError(f"unknown FP8 format {fmt!r}; choose e4m3 or e5m2")
    e_bits, m_bits, bias, has_inf = FP8_FORMATS[fmt]
    values = []
    for code in range(1 << (e_bits + m_bits)):
        e, m = code >> m_bits, code & ((1 << m_bits) - 1)
        if has_inf and e == (1 << e_bits) - 1:
            break  # inf and NaN
        if not has_inf and e == (1 << e_bits) - 1 and m == (1 << m_bits) - 1:
            break  # E4M3FN: S.1111.111 is NaN
        value = m / (1 << m_bits) * 2.0 ** (1 - bias) if e == 0 else (1 + m / (1 << m_bits)) * 2.0 ** (e - bias)
        values.append(value)
    return np.array(values)


def fp8_round(x: np.ndarray, fmt: str = "e4m3") -> np.ndarray:
    """Return x rounded to the nearest FP8 value (ties to even code), saturating to ±max as ONNX's saturating cast.

    >>> fp8_round(np.array([0.3, 1000.0, -17.0, 1.0625]), "e4m3").tolist()
    [0.3125, 448.0, -16.0, 1.0]
    """
    table = fp8_values(fmt)
    a = np.minimum(np.abs(np.asarray(x, dtype=np.float64)), table[-1])
    hi = np.clip(np.searchsorted(table, a, side="left"), 1, table.size - 1)
    lo = hi - 1
    d_lo, d_hi = a - table[lo], table[hi] - a
    pick_hi = (d_hi < d_lo) | ((d_hi == d_lo) & (hi % 2 == 0))
    out = np.where(pick_hi, table[hi], table[lo])
    out = np.where(a == table[hi], table[hi], out)
    return np.copysign(out, x)


class FormatResult(NamedTuple):
    """One number format applied to the same data."""

    name: str
    dequantized: np.ndarray
    grid: np.ndarray  # representable values within the data's range (capped for drawing)
    mse: float
    sqnr_db: float


MAX_GRID_POINTS = 300


def compare_formats(
    x: np.ndarray, names: tuple[str, ...] = ("int8", "int4", "int2", "fp8 e4m3", "fp8 e5m2")
) -> list[FormatResult]:
    """Return each format's version of x, all scaled per tensor so that max|x| maps to the format's largest value.

    Integer formats are symmetric with narrow range (z = 0, s = max|x| / (2^(b−1) − 1)); FP8 uses
    s = max|x| / fp8_max, rounds x/s to nearest even FP8 and multiplies back.
    """
    x = np.asarray(x, dtype=np.float64)
    absmax = float(np.abs(x).max())
    if absmax == 0:
        raise UnsupportedError("all values are 0: every format stores them exactly")
    power = float(np.mean(x**2))
    results = []
    for name in names:
        if name.startswith("int"):
            bits = int(name[3:])
            qp = choose_qparams(-absmax, absmax, bits=bits, signed=True, symmetric=True, narrow_range=True)
            deq = get_convention("textbook").fake_quantize(x, qp)
            grid = (np.arange(qp.qmin, qp.qmax + 1) - qp.zero_point) * qp.scale
        else:
            fmt = name.split()[1]
            table = fp8_values(fmt)
            scale = absmax / table[-1]
            deq = fp8_round(x / scale, fmt) * scale
            grid = np.concatenate([-table[::-1], table[1:]]) * scale
        if grid.size > MAX_GRID_POINTS:
            grid = grid[np.unique(np.linspace(0, grid.size - 1, MAX_GRID_POINTS).round().astype(int))]
        mse = float(np.mean((deq - x) ** 2))
        results.append(FormatResult(name, deq, grid, mse, sqnr_db(power, mse)))
    return results
