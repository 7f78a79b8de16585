"""Sentences for the integer-only page, built from the integers themselves (intmath's results)."""

from __future__ import annotations

from quantviz.intmath import INT16_MAX, INT16_MIN, MultiplierSteps, PairSums, ZeroPointTerms, pair_sum_extremes
from quantviz.teach.fmt import fmt, tex

TERM_NAMES = ("Σq₁q₂", "−z₂·Σq₁", "−z₁·Σq₂", "N·z₁·z₂")


def describe_zero_point_terms(terms: ZeroPointTerms, on: list[bool] | tuple[bool, ...], *, z1: int, z2: int) -> str:
    """Say what the switched-on terms add up to against the exact Σ(q₁ − z₁)(q₂ − z₂), and which terms vanish.

    >>> from quantviz.intmath import zero_point_terms
    >>> import numpy as np
    >>> t = zero_point_terms(np.array([3, 5]), 1, np.array([2, -4]), 0)
    >>> print(describe_zero_point_terms(t, [True, True, False, True], z1=1, z2=0))  # doctest: +NORMALIZE_WHITESPACE
    Without −z₁·Σq₂ the sum is −14 instead of −12: off by 2. With z₂ = 0 the terms −z₂·Σq₁ and N·z₁·z₂ are 0
    whatever the input: symmetric weights need only Σq₁q₂ and one precomputed correction.
    """
    values = (terms.products, terms.weight_zero, terms.input_zero, terms.constant)
    partial = sum(v for v, use in zip(values, on, strict=True) if use)
    off = [name for name, use in zip(TERM_NAMES, on, strict=True) if not use]
    off_nonzero = [name for name, v, use in zip(TERM_NAMES, values, on, strict=True) if not use and v != 0]
    sign = lambda v: fmt(v).replace("-", "−")  # noqa: E731 - one-line formatter
    if not off:
        text = f"All four terms: {sign(partial)} = Σ(q₁ − z₁)(q₂ − z₂), exactly."
    elif not off_nonzero:
        one = len(off) == 1
        text = (
            f"{' and '.join(off)} {'is' if one else 'are'} 0 here, so leaving {'it' if one else 'them'} out "
            f"changes nothing: {sign(partial)}, exact."
        )
    else:
        text = (
            f"Without {' and '.join(off)} the sum is {sign(partial)} instead of {sign(terms.total)}: "
            f"off by {sign(terms.total - partial)}."
        )
    if z2 == 0 and z1 != 0:
        text += (
            " With z₂ = 0 the terms −z₂·Σq₁ and N·z₁·z₂ are 0 whatever the input: symmetric weights need only "
            "Σq₁q₂ and one precomputed correction."
        )
    elif z1 == 0 and z2 == 0:
        text += " With both zero points 0 only Σq₁q₂ is left."
    elif z2 != 0:
        text += (
            f" With z₂ = {z2} the term −z₂·Σq₁ depends on the input and must be computed for every row: "
            "the extra work asymmetric weights cost."
        )
    return text


def multiplier_lines(steps: MultiplierSteps) -> list[tuple[str, str, str]]:
    """Return (label, LaTeX formula, note) for each step from a real M to M0, the shift and the rescaled value.

    Every ``=`` in a formula holds for the numbers as printed: where the rounding reaches 2^31 the halving is a
    step of its own, and where M is too small or too large for the format the flush or the saturation is one.

    >>> from quantviz.intmath import multiplier_steps
    >>> [label for label, _, _ in multiplier_lines(multiplier_steps(1e-12, 5))]  # doctest: +NORMALIZE_WHITESPACE
    ['1. Normalise into [0.5, 1)', '2. The mantissa as a Q31 integer', '3. Flush to zero',
     '4. The multiplier used', '5. Rescale the accumulator']
    >>> multiplier_lines(multiplier_steps(1 - 2**-40, 1))[2][0]
    '3. Halve: 2³¹ does not fit an int32'
    """
    if steps.multiplier == 0:
        return [("M = 0", r"M_0 = 0,\quad shift = 0", "Everything rescales to 0.")]
    lines = _mantissa_lines(steps)
    limits = _limit_lines(steps, first=3)
    if not limits and not steps.renormalised:  # M0 and the shift are read straight off step 2
        label, formula, note = lines[-1]
        lines[-1] = (
            label,
            formula + rf" = M_0,\quad shift = {steps.shift}",
            note + f" Q31: the int32 {steps.m0} stands for {steps.m0} / 2³¹ = {fmt(steps.m0 / 2**31, 12)}.",
        )
    lines += limits
    n = len(lines) + 1
    return [*lines, _used_line(steps, n), _rescale_line(steps, n + 1)]


def _mantissa_lines(steps: MultiplierSteps) -> list[tuple[str, str, str]]:
    """Steps 1 and 2: M as mantissa × 2^exponent, the mantissa as a rounded Q31 integer."""
    too_big = " That is 2³¹, one past the largest int32, so it cannot be stored as it is." if steps.renormalised else ""
    return [
        (
            "1. Normalise into [0.5, 1)",
            rf"M = {tex(steps.multiplier, 12)} = {tex(steps.mantissa, 12)} \times 2^{{{steps.exponent}}}",
            "frexp splits M into a mantissa in [0.5, 1) and a power of two.",
        ),
        (
            "2. The mantissa as a Q31 integer",
            rf"{tex(steps.mantissa, 12)} \times 2^{{31}} = {tex(steps.mantissa_q31, 15)},\quad "
            rf"\operatorname{{round}}({tex(steps.mantissa_q31, 15)}) = {steps.rounded}",
            "Rounded half away from zero." + too_big,
        ),
    ]


def _limit_lines(steps: MultiplierSteps, *, first: int) -> list[tuple[str, str, str]]:
    """The steps where the format's limits act, numbered from ``first``: halving at 2^31, flush or saturation."""
    lines = []
    if steps.renormalised:
        lines.append(
            (
                f"{first}. Halve: 2³¹ does not fit an int32",
                rf"M_0 = 2^{{31}} / 2 = {2**30},\quad shift = {steps.exponent} + 1 = {steps.exponent + 1}",
                "Halving M0 and adding 1 to the shift leaves M0·2^(shift − 31) unchanged.",
            )
        )
    n = first + len(lines)
    shift = steps.exponent + steps.renormalised
    if steps.flushed:
        lines.append(
            (
                f"{n}. Flush to zero",
                rf"shift = {shift} < -31 \;\Rightarrow\; M_0 = 0,\quad shift = 0",
                f"M is too small for the format: a shift of {shift} would move every bit out, so TFLite stores "
                "M0 = 0 instead, and every accumulator rescales to 0.",
            )
        )
    elif steps.saturated:
        lines.append(
            (
                f"{n}. Saturate",
                rf"shift = {shift} > 30 \;\Rightarrow\; M_0 = 2^{{31}} - 1 = {2**31 - 1},\quad shift = 30",
                "M is too large for the format: M0 and the shift saturate, and the multiplier used is smaller than M.",
            )
        )
    return lines


def _used_line(steps: MultiplierSteps, n: int) -> tuple[str, str, str]:
    """The multiplier M0 · 2^(shift − 31) actually used, against M."""
    m = steps.multiplier
    rel = (steps.represented - m) / m
    return (
        f"{n}. The multiplier used",
        rf"M_0 \cdot 2^{{shift - 31}} = {steps.m0} \times 2^{{{steps.shift - 31}}} = {tex(steps.represented, 12)}",
        (
            f"M is {fmt(m, 12)}: the stored multiplier is 0, every bit of M is lost."
            if steps.flushed
            else f"Against M = {fmt(m, 12)}: relative error of the stored multiplier {rel:+.2e}."
        ),
    )


def _rescale_line(steps: MultiplierSteps, n: int) -> tuple[str, str, str]:
    """The accumulator rescaled with one rounding, against the classic double rounding."""
    total = 31 - steps.shift
    if steps.result_double_rounding is None:
        double = "the classic double rounding first multiplies acc by 2^shift, which does not fit an int32 here."
    else:
        same = steps.result == steps.result_double_rounding
        double = f"the classic double rounding gives {steps.result_double_rounding}" + (
            " too." if same else ": the two builds differ here."
        )
    return (
        f"{n}. Rescale the accumulator",
        rf"\left({steps.acc} \cdot {steps.m0} + 2^{{{total - 1}}}\right) \gg {total} = {steps.result}",
        f"The real product acc·M is {fmt(steps.exact, 10)}. "
        f"One rounding (TFLite's current build) gives {steps.result}; " + double,
    )


FULL_INT8, NARROW_INT8, REDUCED_UINT8 = (-128, 127), (-127, 127), (0, 127)


def _signed_text(v: int) -> str:
    return fmt(v).replace("-", "−")


def _factor(v: int) -> str:
    """A code inside a product: negative codes in parentheses, 255·(−128)."""
    return f"({_signed_text(v)})" if v < 0 else str(v)


def pair_sum_fit(sums: PairSums) -> str:
    """Say whether the worst two-term sums fit an int16 and, where they do not, what the register keeps.

    Unsigned activations are the x86 VPMADDUBSW case (saturates); signed ones the int16 lane of an ARM SMLAL (wraps).

    >>> from quantviz.intmath import pair_sum_extremes
    >>> pair_sum_fit(pair_sum_extremes((0, 127), (-128, 127)))
    'Both fit: no overflow, the integer result is exact.'
    """
    if sums.fits_int16:
        return "Both fit: no overflow, the integer result is exact."
    unsigned = sums.a_grid[0] >= 0
    lost = []
    for value, saturated, wrapped in (
        (sums.high, sums.high_saturated, sums.high_wrapped),
        (sums.low, sums.low_saturated, sums.low_wrapped),
    ):
        if INT16_MIN <= value <= INT16_MAX:
            continue
        if unsigned:
            lost.append(
                f"{_signed_text(value)} saturates to {_signed_text(saturated)} "
                f"(off by {_signed_text(value - saturated)})"
            )
        else:
            lost.append(
                f"{_signed_text(value)} wraps to {_signed_text(wrapped)} in a plain int16 lane "
                f"(a saturating one would keep {_signed_text(saturated)})"
            )
    return "It does not fit: " + "; ".join(lost) + ". The kernel does not say so: the layer's output is silently wrong."


def pair_sum_remedies(sums: PairSums) -> str:
    """Say what narrow range and reduce_range would change, from the pair sums each would give (int8 weight grids only).

    >>> from quantviz.intmath import pair_sum_extremes
    >>> pair_sum_remedies(pair_sum_extremes((0, 255), (-127, 127)))[:58]
    'Narrow range does not help here: it drops only the weight '
    """
    if sums.fits_int16 or sums.b_grid not in (FULL_INT8, NARROW_INT8):
        return ""
    out_high = sums.high > INT16_MAX
    (wa, wb), worst = (sums.high_codes, sums.high) if out_high else (sums.low_codes, sums.low)
    texts = []
    if sums.b_grid == NARROW_INT8:
        full = pair_sum_extremes(sums.a_grid, FULL_INT8)
        texts.append(
            f"Narrow range does not help here: it drops only the weight code −128, and the worst sum comes from the "
            f"activation code {wa}: {_factor(wa)}·{_factor(wb)}·2 = {_signed_text(worst)}, past int16 "
            f"with or without −128 (with it the sums run from {_signed_text(full.low)} to {_signed_text(full.high)})."
        )
    else:
        narrow = pair_sum_extremes(sums.a_grid, NARROW_INT8)
        texts.append(
            f"Narrow range [−127, 127] {'would fix it' if narrow.fits_int16 else 'would not fix it'}: its pair sums "
            f"run from {_signed_text(narrow.low)} to {_signed_text(narrow.high)}."
        )
    if sums.a_grid[0] >= 0 and sums.a_grid[1] > REDUCED_UINT8[1]:
        reduced = pair_sum_extremes(REDUCED_UINT8, sums.b_grid)
        texts.append(
            f"Fewer activation codes {'do' if reduced.fits_int16 else 'do not either'}: with reduce_range's [0, 127] "
            f"the sums run from {_signed_text(reduced.low)} to {_signed_text(reduced.high)}, which "
            f"{'fits' if reduced.fits_int16 else 'still does not fit'}."
        )
    if (wa, wb) == (-128, -128):
        texts.append(
            "The culprit is −128, the one int8 code with no positive twin (+128 is not an int8): "
            "(−128)·(−128) = 16384, and twice that is one past int16's 32767."
        )
    return " ".join(texts)


def pair_sum_instruction(sums: PairSums) -> str:
    """Name the instructions that add pairs of 8-bit products for these grids (Intel SDM; XNNPACK's NEON kernels).

    >>> from quantviz.intmath import pair_sum_extremes
    >>> pair_sum_instruction(pair_sum_extremes((0, 255), (-128, 127)))[:40]
    "This is x86's VPMADDUBSW (SSSE3, AVX2, A"
    """
    if sums.a_grid[0] >= 0:
        return (
            "This is x86's VPMADDUBSW (SSSE3, AVX2, AVX-512BW): it multiplies uint8 by int8 and adds each neighbouring "
            "pair of products into an int16 with signed saturation. VNNI's VPDPBUSD (AVX512-VNNI, AVX-VNNI) also "
            "multiplies uint8 by int8 but adds groups of four products straight into the int32 accumulator: no 16-bit "
            "pair sum, so nothing saturates at 16 bits."
        )
    return (
        "VPMADDUBSW needs one unsigned operand, so int8 × int8 does not run on it as is. On x86 the codes are "
        "sign-extended to int16 and VPMADDWD adds each pair of products into an int32: no 16-bit pair sum. ARM NEON "
        "kernels such as XNNPACK's qs8 “mlal” GEMMs do keep two products in one int16 lane (SMULL, then SMLAL adds the "
        "second) before widening to int32: that lane wraps, it does not saturate."
    )


def describe_pair_sums(sums: PairSums) -> str:
    """Say whether the worst two-term sums fit an int16, what is lost when not, what would fix it, which instruction.

    >>> from quantviz.intmath import pair_sum_extremes
    >>> describe_pair_sums(pair_sum_extremes((0, 255), (-128, 127)))[:52]
    'Largest pair sum: 255·127 + 255·127 = 64770; smalles'
    """
    (ha, hb), (la, lb) = sums.high_codes, sums.low_codes
    ha, hb, la, lb = (_factor(v) for v in (ha, hb, la, lb))
    parts = [
        f"Largest pair sum: {ha}·{hb} + {ha}·{hb} = {_signed_text(sums.high)}; smallest: {la}·{lb} + {la}·{lb} = "
        f"{_signed_text(sums.low)}. A 16-bit register holds [{_signed_text(INT16_MIN)}, {INT16_MAX}]. "
        + pair_sum_fit(sums),
        pair_sum_remedies(sums),
        pair_sum_instruction(sums),
    ]
    return "\n\n".join(p for p in parts if p)  # paragraphs: the sums and the fit, the remedies, the instruction
