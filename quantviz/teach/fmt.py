"""Numbers as text: ``fmt`` for prose and tables, ``tex`` for formulas. One rule, used by the teaching text,
the figures, the widgets and the benchmarks alike.

Imports nothing but the standard library.
"""

from __future__ import annotations

import math

# Two numbers closer than this, relative to their size, are the same to the words (a scale two frameworks agree on,
# a claimed value that holds, a raw zero point that sits on a tie, an error within half a step): float32 arithmetic
# differs from the exact value by ~6e-8 relative, so the words never call a float32 rounding a difference.
RELATIVE_TOLERANCE = 1e-6


def fmt(value: float, digits: int = 10) -> str:
    """Return a number with up to ``digits`` significant digits, no trailing zeros.

    >>> fmt(7.843137254901961), fmt(128.0), fmt(-0.0), fmt(1e-12)
    ('7.843137255', '128', '0', '1e-12')
    """
    value = float(value)
    if value == 0:
        return "0"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.{digits}g}"


def tex(value: float, digits: int = 10) -> str:
    """Return ``fmt(value)`` written for LaTeX (scientific notation as a power of ten)."""
    text = fmt(value, digits)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text.replace("∞", r"\infty").replace("−", "-")
