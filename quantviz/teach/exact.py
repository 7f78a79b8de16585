"""Exact decimal numbers for questions posed by hand: their digits, exact rounding, and the rounding step in words.

Arithmetic on :class:`fractions.Fraction`, so a number shown as 6.125 is 6.125 and a tie is a tie in the digits shown.
Imports nothing from quantviz but the error type, the rounding rules' words and ``fmt``.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

from quantviz.errors import QuantVizError
from quantviz.rounding import Rounding
from quantviz.teach.fmt import fmt

# The two tie rules a question by hand is posed with, in their words (from the one table, ``rounding.Rounding``).
RULE_WORDS = {rule.value: rule.adverb for rule in (Rounding.HALF_TO_EVEN, Rounding.HALF_AWAY_FROM_ZERO)}


def exact_text(value: Fraction) -> str:
    """Return the exact decimal digits of ``value``, which must have a finite decimal expansion.

    >>> exact_text(Fraction(49, 8)), exact_text(Fraction(-1, 2)), exact_text(Fraction(300))
    ('6.125', '-0.5', '300')
    """
    den = value.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        raise QuantVizError(f"{value} has no finite decimal expansion")
    with localcontext() as ctx:
        ctx.prec = 80
        text = format((Decimal(value.numerator) / Decimal(value.denominator)).normalize(), "f")
    return "0" if text in ("0", "-0") else text


def show(value: Fraction) -> str:
    """Return ``value`` as exact digits, or as its fraction and 10 significant digits when they do not end.

    >>> show(Fraction(5, 2)), show(Fraction(8, 255))
    ('2.5', '8/255 ≈ 0.03137254902')
    """
    try:
        return exact_text(value)
    except QuantVizError:
        return f"{value.numerator}/{value.denominator} ≈ {fmt(float(value))}"


def round_exact(value: Fraction, rule: str) -> int:
    """Return ``value`` rounded to an integer with ``rule`` ("half_to_even" or "half_away_from_zero"), exactly.

    >>> round_exact(Fraction(-1, 2), "half_to_even"), round_exact(Fraction(-1, 2), "half_away_from_zero")
    (0, -1)
    """
    if rule not in RULE_WORDS:
        raise QuantVizError(f"unknown rounding rule {rule!r}; choose one of {', '.join(RULE_WORDS)}")
    low = math.floor(value)
    rest = value - low
    if rest != Fraction(1, 2):
        return low + (rest > Fraction(1, 2))
    if rule == "half_to_even":
        return low + (low % 2)
    return low + 1 if value > 0 else low


def rounding_step(value: Fraction, rule: str) -> str:
    """Return the number rounded, what it rounds to and why, as a solution shows it.

    >>> rounding_step(Fraction(-1, 2), "half_to_even"), rounding_step(Fraction(487, 5), "half_to_even")
    ('-0.5 → 0 (a tie: half to even)', '97.4 → 97 (the nearest integer)')
    """
    why = f"a tie: {RULE_WORDS[rule]}" if value - math.floor(value) == Fraction(1, 2) else "the nearest integer"
    return f"{show(value)} → {round_exact(value, rule)} ({why})"


def paren(value: int | Fraction) -> str:
    """A number inside a formula: negative numbers in parentheses, so "2 + (-3)" never reads "2 + -3"."""
    text = exact_text(Fraction(value))
    return f"({text})" if text.startswith("-") else text
