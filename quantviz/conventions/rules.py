"""The closed sets a convention's choice is described with: the zero-point rule and the scale's dtype, with words.

Each member's words are defined here once; the traces (``ChoiceTrace``), the recipes and the teaching text read them.
The values are the strings used before these were enums, so saved results and comparisons with strings still hold.
"""

from __future__ import annotations

from enum import StrEnum


class ZeroRule(StrEnum):
    """How a convention sets the zero point z.

    >>> ZeroRule.MIDDLE_FLOOR.words, ZeroRule("from_min") == "from_min"
    ('puts z in the middle of the grid, rounded down', True)
    """

    words: str

    def __new__(cls, value: str, words: str) -> ZeroRule:
        member = str.__new__(cls, value)
        member._value_ = value
        member.words = words  # a verb phrase: "<convention> computes z from rmin"
        return member

    def __repr__(self) -> str:
        return repr(self.value)  # shown as the string it stands for, in messages and doctests alike

    FROM_MIN = ("from_min", "computes z from rmin")  # z = qmin − rmin / s, rounded
    MIDDLE = ("middle", "puts z in the middle of the grid (half to even)")
    MIDDLE_FLOOR = ("middle_floor", "puts z in the middle of the grid, rounded down")
    ZERO = ("zero", "sets z = 0")
    DEGENERATE = ("degenerate", "uses a fixed s and z for an empty range")


class ScaleDtype(StrEnum):
    """The arithmetic a scale is computed in, and the type it is stored as.

    >>> d = ScaleDtype.FLOAT64_STORED_FLOAT32
    >>> d.words, d.arithmetic, d.storage
    ('float64, stored as float32', 'float64', 'float32')
    >>> f"{ScaleDtype.FLOAT32}", ScaleDtype.FLOAT32.words
    ('float32', 'float32')
    """

    words: str
    arithmetic: str
    storage: str

    def __new__(cls, value: str, words: str, arithmetic: str, storage: str) -> ScaleDtype:
        member = str.__new__(cls, value)
        member._value_ = value
        member.words = words
        member.arithmetic = arithmetic
        member.storage = storage
        return member

    def __repr__(self) -> str:
        return repr(self.value)

    FLOAT32 = ("float32", "float32", "float32", "float32")
    FLOAT64 = ("float64", "float64", "float64", "float64")
    FLOAT64_STORED_FLOAT32 = ("float64_stored_float32", "float64, stored as float32", "float64", "float32")
