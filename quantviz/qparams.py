"""QParams: a scale, a zero point and the integer grid they live on; and the check every range goes through.

Plain data: this module imports no convention (``choose_qparams``, which asks a convention, is in
:mod:`quantviz.quantize`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from quantviz.errors import QParamsError, RangeError
from quantviz.grid import storage_dtype


@dataclass(frozen=True)
class QParams:
    """Affine quantization parameters: real value r = scale * (q - zero_point), q in [qmin, qmax].

    Attributes
    ----------
    scale : float
        Real step between neighbouring codes (float32-exact for framework conventions).
    zero_point : int
        The integer code that stands for real 0.
    qmin, qmax : int
        The integer grid used to choose the parameters.
    storage_min, storage_max : int
        The range the quantize op clamps to. Equal to ``qmin, qmax`` except where a framework
        chooses parameters on a smaller grid than it stores (PyTorch ``reduce_range``).
    rmin, rmax : float or None
        The real range the parameters were chosen for, after the convention's adjustments
        (widening to include 0, symmetrising); ``None`` when built by hand.

    Examples
    --------
    >>> qp = QParams(scale=0.5, zero_point=10, qmin=0, qmax=255)
    >>> qp.real_min, qp.real_max
    (-5.0, 122.5)
    """

    scale: float
    zero_point: int
    qmin: int
    qmax: int
    storage_min: int = field(default=None)  # type: ignore[assignment]
    storage_max: int = field(default=None)  # type: ignore[assignment]
    rmin: float | None = None
    rmax: float | None = None

    def __post_init__(self) -> None:
        scale = float(self.scale)
        if not math.isfinite(scale) or scale <= 0:
            raise QParamsError(f"scale must be a positive finite number, got {self.scale!r}")
        for name in ("zero_point", "qmin", "qmax"):
            value = getattr(self, name)
            if isinstance(value, bool) or not float(value).is_integer():
                raise QParamsError(f"{name} must be a whole number, got {value!r}")
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "zero_point", int(self.zero_point))
        object.__setattr__(self, "qmin", int(self.qmin))
        object.__setattr__(self, "qmax", int(self.qmax))
        if self.storage_min is None:
            object.__setattr__(self, "storage_min", self.qmin)
        if self.storage_max is None:
            object.__setattr__(self, "storage_max", self.qmax)
        if self.qmin >= self.qmax:
            raise QParamsError(f"the grid needs qmin < qmax, got [{self.qmin}, {self.qmax}]")
        if not self.storage_min <= self.zero_point <= self.storage_max:
            raise QParamsError(
                f"zero point {self.zero_point} lies outside the integer grid "
                f"[{self.storage_min}, {self.storage_max}]: real 0 would have no code"
            )

    @property
    def real_min(self) -> float:
        """Smallest representable real value, (qmin - z) * s."""
        return (self.qmin - self.zero_point) * self.scale

    @property
    def real_max(self) -> float:
        """Largest representable real value, (qmax - z) * s."""
        return (self.qmax - self.zero_point) * self.scale

    @property
    def stored_min(self) -> float:
        """Smallest real value the quantize op stores without clipping, (storage_min - z) * s.

        Equal to ``real_min`` unless the parameters were chosen on a smaller grid than the codes are stored in
        (PyTorch's ``reduce_range``: chosen on [0, 127], stored in [0, 255]).

        >>> QParams(0.5, 64, 0, 127, 0, 255).stored_max, QParams(0.5, 64, 0, 127, 0, 255).real_max
        (95.5, 31.5)
        """
        return (self.storage_min - self.zero_point) * self.scale

    @property
    def stored_max(self) -> float:
        """Largest real value the quantize op stores without clipping, (storage_max - z) * s."""
        return (self.storage_max - self.zero_point) * self.scale

    @property
    def code_dtype(self) -> np.dtype:
        """The numpy integer type the codes are stored in: the smallest holding the stored grid (``storage_dtype``).

        >>> QParams(0.5, 128, 0, 255).code_dtype, QParams(0.5, 0, -8, 7).code_dtype
        (dtype('uint8'), dtype('int8'))
        """
        return storage_dtype(self.storage_min, self.storage_max)

    @property
    def levels(self) -> int:
        """Number of codes in the grid."""
        return self.qmax - self.qmin + 1

    @property
    def share_of_codes_below_zero(self) -> float:
        """Fraction of the grid's steps that lie below z: the codes spent on negative values."""
        return (self.zero_point - self.qmin) / (self.qmax - self.qmin)


def validate_range(rmin: object, rmax: object) -> tuple[float, float]:
    """Return ``(rmin, rmax)`` as floats after checking they are finite and ordered.

    ``rmin == rmax`` is allowed (each convention defines what it does with it).

    >>> validate_range(-1, 2)
    (-1.0, 2.0)
    >>> validate_range(3, 1)
    Traceback (most recent call last):
    ...
    quantviz.errors.RangeError: range minimum 3.0 is larger than range maximum 1.0; swap them
    """
    try:
        lo, hi = float(rmin), float(rmax)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise RangeError(f"range ends must be numbers, got {rmin!r} and {rmax!r}") from None
    for name, value in (("minimum", lo), ("maximum", hi)):
        if math.isnan(value):
            raise RangeError(f"range {name} is NaN (not a number)")
        if math.isinf(value):
            raise RangeError(f"range {name} is {value}: a range must be finite")
    if lo > hi:
        raise RangeError(f"range minimum {lo} is larger than range maximum {hi}; swap them")
    # The frameworks take float32 ranges; beyond float32 the scale itself overflows.
    limit = float(np.finfo(np.float32).max) / 2
    if max(abs(lo), abs(hi)) > limit:
        raise RangeError(f"range ends must stay within ±{limit:.3g} (float32), got [{lo}, {hi}]")
    return lo, hi
