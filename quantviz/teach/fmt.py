"""Numbers as text: ``fmt`` for prose and tables, ``tex`` for formulas. One rule, used by the teaching text,
the figures, the widgets and the benchmarks alike.

Imports nothing but the standard library.
"""

from __future__ import annotations

import math


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
