"""Integer grids: bits, signedness, narrow and reduced range -> (qmin, qmax)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from quantviz.errors import BitsError

MIN_BITS = 2
MAX_BITS = 16


def check_bits(bits: object) -> int:
    """Return ``bits`` as an int after checking it is a whole number in 2..16.

    >>> check_bits(8)
    8
    >>> check_bits(1)
    Traceback (most recent call last):
    ...
    quantviz.errors.BitsError: bit width must be a whole number from 2 to 16, got 1
    """
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise BitsError(f"bit width must be a whole number from {MIN_BITS} to {MAX_BITS}, got {bits!r}")
    if not MIN_BITS <= int(bits) <= MAX_BITS:
        raise BitsError(f"bit width must be a whole number from {MIN_BITS} to {MAX_BITS}, got {bits}")
    return int(bits)


def int_range(
    bits: int, *, signed: bool = False, narrow_range: bool = False, reduce_range: bool = False
) -> tuple[int, int]:
    """Return the integer grid ``(qmin, qmax)`` of a ``bits``-bit type.

    Unsigned grids are [0, 2**b - 1], signed ones [-2**(b-1), 2**(b-1) - 1].
    ``reduce_range`` uses one bit less (PyTorch's 7-bit activations);
    ``narrow_range`` drops the lowest code (int8 becomes the symmetric [-127, 127]).

    Parameters
    ----------
    bits : int
        Bit width, 2..16.
    signed : bool
        Two's-complement signed grid instead of unsigned.
    narrow_range : bool
        Drop the lowest code.
    reduce_range : bool
        Use ``bits - 1`` bits.

    Examples
    --------
    >>> int_range(8)
    (0, 255)
    >>> int_range(8, signed=True)
    (-128, 127)
    >>> int_range(8, signed=True, narrow_range=True)
    (-127, 127)
    >>> int_range(8, reduce_range=True)
    (0, 127)
    >>> int_range(4, signed=True)
    (-8, 7)
    """
    bits = check_bits(bits)
    effective = bits - 1 if reduce_range else bits
    if effective < 1:
        raise BitsError(f"reduce_range needs at least 2 bits, got {bits}")
    if signed:
        qmin, qmax = -(1 << (effective - 1)), (1 << (effective - 1)) - 1
    else:
        qmin, qmax = 0, (1 << effective) - 1
    if narrow_range:
        qmin += 1
    if qmin >= qmax:
        raise BitsError(f"a {bits}-bit grid with these options has fewer than two codes")
    return qmin, qmax


def _check_flag(name: str, value: object) -> bool:
    """Return ``value`` as a bool after checking it is one (True/False, numpy bools, or 0/1)."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer)) and value in (0, 1)):
        return bool(value)
    raise BitsError(f"{name} must be True or False, got {value!r}")


OPTION_FIELDS = ("bits", "signed", "symmetric", "narrow_range", "reduce_range")


@dataclass(frozen=True)
class GridOptions:
    """The five options every convention takes: the integer grid and whether the scheme is symmetric.

    Validated once, here: ``bits`` is a whole number from ``MIN_BITS`` to ``MAX_BITS`` and the four switches are
    booleans. Frozen and hashable, so it is its own cache key. Whether a convention supports the combination is the
    convention's question (``Convention.unsupported_reason``), not this record's.

    Attributes
    ----------
    bits : int
        Bit width of the grid the parameters are chosen on.
    signed : bool
        Two's-complement signed grid instead of unsigned.
    symmetric : bool
        Symmetric scheme: the range becomes [-absmax, absmax] and z sits mid-grid (or at 0).
    narrow_range : bool
        Drop the lowest code.
    reduce_range : bool
        Use ``bits - 1`` bits (PyTorch's 7-bit activations).

    Examples
    --------
    >>> o = GridOptions(bits=8, signed=True, narrow_range=True)
    >>> o.grid(), o.replace(bits=4).grid()
    ((-127, 127), (-7, 7))
    >>> GridOptions.from_mapping({"bits": 4, "signed": 1}) == GridOptions(bits=4, signed=True)
    True
    >>> GridOptions(bits=17)
    Traceback (most recent call last):
    ...
    quantviz.errors.BitsError: bit width must be a whole number from 2 to 16, got 17
    """

    bits: int = 8
    signed: bool = False
    symmetric: bool = False
    narrow_range: bool = False
    reduce_range: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "bits", check_bits(self.bits))
        for name in OPTION_FIELDS[1:]:
            object.__setattr__(self, name, _check_flag(name, getattr(self, name)))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object], default: GridOptions | None = None) -> GridOptions:
        """Return the options named in ``mapping``; missing ones come from ``default`` (or the defaults above).

        Unknown names are refused.
        """
        unknown = sorted(set(mapping) - set(OPTION_FIELDS))
        if unknown:
            raise BitsError(f"unknown grid option {unknown[0]!r}; the options are {', '.join(OPTION_FIELDS)}")
        return (default or cls()).replace(**mapping)

    @classmethod
    def coerce(
        cls, options: GridOptions | None, loose: Mapping[str, object], default: GridOptions | None = None
    ) -> GridOptions:
        """Return ``options``, or the options built from the loose keywords of a public call (not both).

        Loose keywords not given take their values from ``default`` (the GridOptions defaults when None).

        >>> GridOptions.coerce(None, {"bits": 4}, GridOptions(signed=True))
        GridOptions(bits=4, signed=True, symmetric=False, narrow_range=False, reduce_range=False)
        """
        if options is None:
            return cls.from_mapping(loose, default)
        if loose:
            raise BitsError(f"pass either options= or loose keywords, not both (got {', '.join(sorted(loose))})")
        if not isinstance(options, GridOptions):
            raise BitsError(f"options must be a GridOptions, got {options!r}")
        return options

    def replace(self, **changes: object) -> GridOptions:
        """Return a copy with some options changed (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def as_kwargs(self) -> dict[str, int | bool]:
        """Return the five options as keywords, for a public API that takes them loose."""
        return {name: getattr(self, name) for name in OPTION_FIELDS}

    def grid(self) -> tuple[int, int]:
        """Return the integer grid ``(qmin, qmax)`` of these options (``int_range``; ``symmetric`` plays no part)."""
        return int_range(self.bits, signed=self.signed, narrow_range=self.narrow_range, reduce_range=self.reduce_range)


def every_grid_options() -> tuple[GridOptions, ...]:
    """Return every combination of the five options, bits ``MIN_BITS``..``MAX_BITS`` and the four switches.

    >>> len(every_grid_options()), every_grid_options()[1]
    (240, GridOptions(bits=2, signed=True, symmetric=False, narrow_range=False, reduce_range=False))
    """
    return tuple(
        GridOptions(bits, *(bool(flags >> i & 1) for i in range(4)))
        for bits in range(MIN_BITS, MAX_BITS + 1)
        for flags in range(16)
    )


def grid_label(bits: int, *, signed: bool) -> str:
    """Return a short type name such as ``'uint8'`` or ``'int4'``.

    >>> grid_label(8, signed=False), grid_label(4, signed=True)
    ('uint8', 'int4')
    """
    return f"{'int' if signed else 'uint'}{bits}"


def to_binary_array(q: np.ndarray, bits: int, *, signed: bool) -> np.ndarray:
    """Return the ``bits``-bit binary patterns of codes ``q`` as strings (two's complement when signed).

    >>> to_binary_array(np.array([5, -1]), 4, signed=True).tolist()
    ['0101', '1111']
    """
    codes = np.asarray(q, dtype=np.int64)
    lo, hi = int_range(bits, signed=signed)
    if codes.size and (codes.min() < lo or codes.max() > hi):
        bad = int(codes[(codes < lo) | (codes > hi)][0])
        raise BitsError(f"code {bad} does not fit a {grid_label(bits, signed=signed)} grid [{lo}, {hi}]")
    masked = (codes & ((1 << bits) - 1)).reshape(-1, 1)
    digits = ((masked >> np.arange(bits - 1, -1, -1)) & 1).astype(np.uint8) + ord("0")
    return np.ascontiguousarray(digits).view(f"S{bits}").ravel().astype(str).reshape(codes.shape)


def to_binary(q: int, bits: int, *, signed: bool) -> str:
    """Return the ``bits``-bit binary pattern that stores code ``q`` (two's complement when signed).

    >>> to_binary(5, 8, signed=False)
    '00000101'
    >>> to_binary(-1, 8, signed=True)
    '11111111'
    >>> to_binary(-128, 8, signed=True)
    '10000000'
    """
    return str(to_binary_array(np.array([int(q)]), bits, signed=signed)[0])


def storage_bits(storage_min: int, storage_max: int) -> tuple[int, bool]:
    """Return (bits, signed) of the smallest integer type holding [storage_min, storage_max].

    >>> storage_bits(-128, 127), storage_bits(1, 255), storage_bits(0, 15)
    ((8, True), (8, False), (4, False))
    """
    signed = storage_min < 0
    for bits in range(MIN_BITS, 33):
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        if lo <= storage_min and storage_max <= hi:
            return bits, signed
    raise BitsError(f"[{storage_min}, {storage_max}] needs more than 32 bits")


STORAGE_DTYPES = tuple(np.dtype(f"{kind}int{bits}") for bits in (8, 16, 32, 64) for kind in ("", "u"))


def storage_dtype(storage_min: int, storage_max: int) -> np.dtype:
    """Return the smallest numpy integer dtype holding [storage_min, storage_max]: how frameworks store codes.

    Sub-byte grids (int4, uint4, ...) are stored one code a byte, in int8 or uint8, as numpy has nothing smaller.
    A grid with no negative code is stored unsigned.

    >>> storage_dtype(0, 255), storage_dtype(-128, 127), storage_dtype(-8, 7), storage_dtype(0, 65535)
    (dtype('uint8'), dtype('int8'), dtype('int8'), dtype('uint16'))
    >>> storage_dtype(-32768, 65535)
    dtype('int32')
    """
    kind = "i" if storage_min < 0 else "u"
    for dtype in STORAGE_DTYPES:
        if dtype.kind == kind and np.iinfo(dtype).min <= storage_min and storage_max <= np.iinfo(dtype).max:
            return dtype
    raise BitsError(f"no integer type holds [{storage_min}, {storage_max}]")
