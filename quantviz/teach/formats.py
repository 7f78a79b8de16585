"""The words beside the int-against-FP8 comparison, built from what the comparison measured."""

from __future__ import annotations

from quantviz.formats import FormatResult


def int8_vs_fp8(results: list[FormatResult]) -> str:
    """Which of int8 and FP8 E4M3 wins on this data, and why either can (a markdown bullet).

    >>> import numpy as np
    >>> from quantviz.formats import compare_formats
    >>> even = np.random.default_rng(0).uniform(-1, 1, 5000)
    >>> print(int8_vs_fp8(compare_formats(even)))  # doctest: +ELLIPSIS
    - **int8 or FP8?** On this data int8 wins: ... dB against E4M3's ... dB. ...
    """
    by_name = {r.name: r for r in results}
    if "int8" not in by_name or "fp8 e4m3" not in by_name:
        return ""
    i8, f8 = by_name["int8"], by_name["fp8 e4m3"]
    winner, loser = ("int8", "E4M3's") if i8.sqnr_db >= f8.sqnr_db else ("E4M3", "int8's")
    high, low = max(i8.sqnr_db, f8.sqnr_db), min(i8.sqnr_db, f8.sqnr_db)
    return (
        f"- **int8 or FP8?** On this data {winner} wins: {high:.2f} dB against {loser} {low:.2f} dB. int8's steps "
        "are even, which suits values that fill the range; FP8's grow with the magnitude, which suits data whose "
        "values are mostly tiny beside its largest (a few outliers). A long tail alone does not decide it: try "
        "the distributions above."
    )
