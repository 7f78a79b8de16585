"""Two ways to map reals to integers *without* an integer zero point, to see what an exact 0 is worth.

Frameworks round z to an integer so that real 0 has a code. These two variants skip that step:

- a fractional zero point: z = qmin − rmin/s kept as a real number;
- a min offset, as GGUF's Q4_1 stores its blocks: x = d·q + m with d = (rmax − rmin)/(2^b − 1), m = rmin.

Both cover [rmin, rmax] exactly at its ends, and both generally miss 0.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.errors import RangeError
from quantviz.grid import int_range
from quantviz.qparams import QParams, validate_range

SCHEMES = {
    "integer": "an integer zero point (what every framework does)",
    "fractional": "a zero point left as a fraction",
    "offset": "no zero point: x = d·q + m (GGUF Q4_1's layout)",
}


class SchemeResult(NamedTuple):
    """Values stored and brought back under one scheme."""

    scheme: str
    step: float  # s, or d
    offset: float  # z (integer or fractional), or m
    codes: np.ndarray
    dequantized: np.ndarray
    zero_back: float  # what real 0 comes back as


def real_zero_back(scale: float, zero_point: float, qmin: float = -np.inf, qmax: float = np.inf) -> float:
    """Return what real 0 comes back as under r = s·(q − z) when z may be fractional.

    Real 0 is stored as the code nearest z (half to even, clamped to [qmin, qmax]) and brought back.

    >>> real_zero_back(2.0, 127.25)
    -0.5
    >>> real_zero_back(2.0, 128.0)
    0.0
    """
    return scale * (float(np.clip(np.rint(zero_point), qmin, qmax)) - zero_point)


def store(
    x: object,
    rmin: float,
    rmax: float,
    *,
    bits: int = 8,
    signed: bool = False,
    scheme: str = "integer",
    qparams: QParams | None = None,
) -> SchemeResult:
    """Return ``x`` stored on a ``bits``-bit grid (unsigned, or signed) covering [rmin, rmax] under ``scheme``.

    Rounding is half to even; codes are clamped to the grid. For the ``"integer"`` scheme, ``qparams`` (a
    convention's own choice for the same range and grid) is used as it is, so the page's z and this one agree.

    >>> [round(store([0.0], -1000, 1000, scheme=s).zero_back, 4) for s in SCHEMES]
    [0.0, 3.9216, 3.9216]
    >>> store([0.0], -1000, -250, signed=True).codes.tolist()  # int8: real 0 is code 127, the top
    [127]
    """
    lo, hi = validate_range(rmin, rmax)
    if scheme not in SCHEMES:
        raise RangeError(f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    lo, hi = (min(lo, 0.0), max(hi, 0.0)) if scheme == "integer" else (lo, hi)
    if not hi > lo:
        raise RangeError(f"the range [{lo}, {hi}] is empty")
    qmin, qmax = int_range(bits, signed=signed)
    values = np.asarray(x, dtype=np.float64)
    step = (hi - lo) / (qmax - qmin)
    if scheme == "integer" and qparams is not None:
        step, qmin, qmax = qparams.scale, qparams.storage_min, qparams.storage_max
        offset = float(qparams.zero_point)
        codes = np.clip(np.rint(values / step + offset), qmin, qmax)
        back = step * (codes - offset)
        return SchemeResult(
            scheme, step, offset, codes.astype(np.int64), back, real_zero_back(step, offset, qmin, qmax)
        )
    if scheme == "offset":  # x = d·q + m counts codes up from rmin: unsigned whatever the page's grid
        qmin, qmax = int_range(bits, signed=False)
        offset = lo
        codes = np.clip(np.rint((values - offset) / step), qmin, qmax)
        back = step * codes + offset
        zero = step * float(np.clip(np.rint(-offset / step), qmin, qmax)) + offset
    else:
        raw = qmin - lo / step
        offset = float(min(max(np.rint(raw), qmin), qmax)) if scheme == "integer" else raw
        codes = np.clip(np.rint(values / step + offset), qmin, qmax)
        back = step * (codes - offset)
        zero = real_zero_back(step, offset, qmin, qmax)
    return SchemeResult(scheme, step, offset, codes.astype(np.int64), back, zero)
