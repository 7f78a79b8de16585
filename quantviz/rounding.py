"""Rounding modes and the float32 arithmetic the frameworks use.

Every function here is exact: ties are detected on the value as stored,
never via ``x + 0.5`` (which itself rounds and can turn 0.49999999999999994 into 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum
from fractions import Fraction

import numpy as np

from quantviz.errors import UnsupportedError


class Rounding(StrEnum):
    """The rounding rules, each with its words, defined here once (everything else reads them from here).

    The values are the strings used everywhere (URLs, recipes, ``rounding=``): ``Rounding("half_to_even")`` and
    ``"half_to_even"`` compare equal.

    >>> Rounding.HALF_AWAY_FROM_ZERO.adverb, Rounding.HALF_AWAY_FROM_ZERO.label
    ('half away from zero', 'round half away from zero')
    >>> Rounding("half_to_even") == "half_to_even", Rounding.HALF_UP_FLOAT32.selectable
    (True, False)
    """

    adverb: str
    summary: str

    def __new__(cls, value: str, adverb: str, summary: str) -> Rounding:
        member = str.__new__(cls, value)
        member._value_ = value
        member.adverb = adverb  # to follow "rounds"
        member.summary = summary  # the rule with examples; "" for a rule no one picks by hand
        return member

    HALF_TO_EVEN = (
        "half_to_even",
        "half to even",
        "round half to even (banker's rounding, numpy's rint): 2.5 -> 2, 3.5 -> 4",
    )
    HALF_AWAY_FROM_ZERO = (
        "half_away_from_zero",
        "half away from zero",
        "round half away from zero (C's round): 2.5 -> 3, -2.5 -> -3",
    )
    HALF_UP = ("half_up", "half up", "round half up, floor(v + 0.5): 2.5 -> 3, -2.5 -> -2")
    FLOOR = ("floor", "down", "round down (toward -inf): 2.7 -> 2, -2.2 -> -3")
    CEIL = ("ceil", "up", "round up (toward +inf): 2.2 -> 3, -2.7 -> -2")
    TOWARD_ZERO = ("toward_zero", "toward zero", "truncate (toward zero): 2.7 -> 2, -2.7 -> -2")
    STOCHASTIC = (
        "stochastic",
        "stochastically",
        "stochastic: round up with probability equal to the fractional part (seeded)",
    )
    # TF fake-quant's kernel: floor(v + 0.5) with the sum in float32 (a recipe's rule, not a mode to choose)
    HALF_UP_FLOAT32 = ("half_up_float32", "half up as floor(v + 0.5) in float32", "")

    def __repr__(self) -> str:
        return repr(self.value)  # shown as the string it stands for, in messages and doctests alike

    @property
    def selectable(self) -> bool:
        """Whether this is a mode the textbook convention lets you choose (a key of ``ROUNDING_MODES``)."""
        return bool(self.summary)

    @property
    def name_words(self) -> str:
        """The rule's name with its gloss, the part of the summary before the examples ("round half to even
        (banker's rounding, numpy's rint)")."""
        return self.summary.split(":")[0]

    @property
    def label(self) -> str:
        """The rule's short name, for a menu ("round half to even")."""
        return self.name_words.split(" (")[0]


ROUNDING_MODES: dict[str, str] = {rule.value: rule.summary for rule in Rounding if rule.selectable}


def rule_words(rule: str) -> str:
    """A rounding rule, to follow the verb "rounds".

    >>> rule_words("half_away_from_zero"), rule_words("floor")
    ('half away from zero', 'down')
    """
    return Rounding(rule).adverb


def round_half_to_even(t: np.ndarray) -> np.ndarray:
    """Return ``t`` rounded to the nearest integer, ties to even.

    >>> round_half_to_even(np.array([0.5, 1.5, 2.5, -0.5]))
    array([ 0.,  2.,  2., -0.])
    """
    return np.rint(t)


def round_half_away_from_zero(t: np.ndarray) -> np.ndarray:
    """Return ``t`` rounded to the nearest integer, ties away from zero (C ``round``).

    >>> round_half_away_from_zero(np.array([0.5, 1.5, 2.5, -0.5, 0.49999999999999994]))
    array([ 1.,  2.,  3., -1.,  0.])
    """
    a = np.abs(t)
    whole = np.floor(a)
    # a - floor(a) is exact in binary floating point, so the tie test is exact.
    return np.copysign(whole + (a - whole >= 0.5), t)


def round_half_up(t: np.ndarray) -> np.ndarray:
    """Return ``t`` rounded to the nearest integer, ties toward +inf (exact ``floor(t + 0.5)``).

    >>> round_half_up(np.array([0.5, -0.5, -1.5, 2.4]))
    array([ 1.,  0., -1.,  2.])
    """
    whole = np.floor(t)
    return whole + (t - whole >= 0.5)


def round_stochastic(t: np.ndarray, seed: int = 0) -> np.ndarray:
    """Return ``t`` rounded up with probability equal to its fractional part (seeded, reproducible).

    >>> round_stochastic(np.array([1.0, 2.0]), seed=3)
    array([1., 2.])
    """
    rng = np.random.default_rng(seed)
    whole = np.floor(t)
    return whole + (rng.random(np.shape(t)) < (t - whole))


_ROUNDERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "half_to_even": round_half_to_even,
    "half_away_from_zero": round_half_away_from_zero,
    "half_up": round_half_up,
    "floor": np.floor,
    "ceil": np.ceil,
    "toward_zero": np.trunc,
}


def apply_rounding(t: np.ndarray, mode: str, *, seed: int = 0) -> np.ndarray:
    """Return ``t`` rounded to whole numbers (same float dtype) with rounding ``mode``.

    >>> apply_rounding(np.array([2.5, -2.5]), "half_away_from_zero")
    array([ 3., -3.])
    """
    if mode == "stochastic":
        return round_stochastic(t, seed)
    try:
        rounder = _ROUNDERS[mode]
    except KeyError:
        raise UnsupportedError(f"unknown rounding mode {mode!r}; choose one of {', '.join(ROUNDING_MODES)}") from None
    return rounder(t)


def round_exact(value: Fraction, mode: str) -> int:
    """Return the exact rational ``value`` rounded to an integer by ``mode`` (no float in between, so ties stay ties).

    >>> from fractions import Fraction
    >>> round_exact(Fraction(255, 2), "half_to_even"), round_exact(Fraction(-1, 2), "half_away_from_zero")
    (128, -1)
    """
    floor = math.floor(value)
    if mode == "floor":
        return floor
    if mode == "ceil":
        return math.ceil(value)
    if mode == "toward_zero":
        return math.trunc(value)
    rest = value - floor
    if rest != Fraction(1, 2):
        return floor + (1 if rest > Fraction(1, 2) else 0)
    if mode == "half_to_even":
        return floor + (floor % 2)
    if mode == "half_away_from_zero":
        return floor + (1 if value > 0 else 0)
    if mode == "half_up":
        return floor + 1
    raise UnsupportedError(f"no exact rounding for {mode!r}; choose a deterministic mode")


def fma_float32(a: np.ndarray, b: np.float32, c: float) -> np.ndarray:
    """Return float32 ``a*b + c`` rounded once, as a fused multiply-add (FMA) instruction does.

    ``a`` and ``b`` are float32, so ``a*b`` is exact in float64 (48 significant bits).
    The sum is rounded to odd in float64 (error-free TwoSum, then fixing the last bit),
    after which rounding to float32 is correct: round-to-odd with 29 spare bits cannot
    create a false tie.

    >>> fma_float32(np.array([3.0], np.float32), np.float32(0.1), 128.0)
    array([128.3], dtype=float32)
    """
    with np.errstate(over="ignore", invalid="ignore"):
        p = np.asarray(a, dtype=np.float64) * np.float64(b)
        s = p + np.float64(c)
        bb = s - p
        err = (p - (s - bb)) + (np.float64(c) - bb)
        inexact = (err != 0) & np.isfinite(s)
        even = (s.view(np.int64) & 1) == 0
        fix = inexact & even
        if np.any(fix):
            s = s.copy()
            s[fix] = np.nextafter(s[fix], np.where(err[fix] > 0, np.inf, -np.inf))
        return s.astype(np.float32)
