"""Sentences for the integer-only page, built from the integers themselves (intmath's results)."""

from __future__ import annotations

from quantviz.intmath import INT16_MAX, INT16_MIN, MultiplierSteps, PairSums, ZeroPointTerms
from quantviz.teach.fmt import fmt, tex

TERM_NAMES = ("Σq₁q₂", "−z₂·Σq₁", "−z₁·Σq₂", "N·z₁·z₂")


def describe_zero_point_terms(terms: ZeroPointTerms, on: list[bool] | tuple[bool, ...], *, z1: int, z2: int) -> str:
    """Say what the switched-on terms add up to against the exact Σ(q₁ − z₁)(q₂ − z₂), and which terms vanish.

    >>> from quantviz.intmath import zero_point_terms
    >>> import numpy as np
    >>> t = zero_point_terms(np.array([3, 5]), 1, np.array([2, -4]), 0)
    >>> describe_zero_point_terms(t, [True, True, False, True], z1=1, z2=0)
    'Without −z₁·Σq₂ the sum is −14 instead of −12: off by 2. With z₂ = 0 the terms −z₂·Σq₁ and N·z₁·z₂ are 0 whatever the input: symmetric weights need only Σq₁q₂ and one precomputed correction.'
    """
    values = (terms.products, terms.weight_zero, terms.input_zero, terms.constant)
    partial = sum(v for v, use in zip(values, on, strict=True) if use)
    off = [name for name, use in zip(TERM_NAMES, on, strict=True) if not use]
    off_nonzero = [name for name, v, use in zip(TERM_NAMES, values, on, strict=True) if not use and v != 0]
    sign = lambda v: fmt(v).replace("-", "−")  # noqa: E731 - one-line formatter
    if not off:
        text = f"All four terms: {sign(partial)} = Σ(q₁ − z₁)(q₂ − z₂), exactly."
    elif not off_nonzero:
        text = f"{' and '.join(off)} {'is' if len(off) == 1 else 'are'} 0 here, so leaving {'it' if len(off) == 1 else 'them'} out changes nothing: {sign(partial)}, exact."
    else:
        text = (f"Without {' and '.join(off)} the sum is {sign(partial)} instead of {sign(terms.total)}: "
                f"off by {sign(terms.total - partial)}.")
    if z2 == 0 and z1 != 0:
        text += (" With z₂ = 0 the terms −z₂·Σq₁ and N·z₁·z₂ are 0 whatever the input: symmetric weights need only "
                 "Σq₁q₂ and one precomputed correction.")
    elif z1 == 0 and z2 == 0:
        text += " With both zero points 0 only Σq₁q₂ is left."
    elif z2 != 0:
        text += (f" With z₂ = {z2} the term −z₂·Σq₁ depends on the input and must be computed for every row: "
                 "the extra work asymmetric weights cost.")
    return text


def multiplier_lines(steps: MultiplierSteps) -> list[tuple[str, str, str]]:
    """Return (label, LaTeX formula, note) for each step from a real M to M0, the shift and the rescaled value."""
    m = steps.multiplier
    if m == 0:
        return [("M = 0", r"M_0 = 0,\ shift = 0", "Everything rescales to 0.")]
    lines = [(
        "1. Normalise into [0.5, 1)",
        rf"M = {tex(m, 12)} = {tex(steps.mantissa, 12)} \times 2^{{{steps.exponent}}}",
        "frexp splits M into a mantissa in [0.5, 1) and a power of two.",
    ), (
        "2. The mantissa as a Q31 integer",
        rf"M_0 = \operatorname{{round}}({tex(steps.mantissa, 12)} \times 2^{{31}}) = \operatorname{{round}}({tex(steps.mantissa_q31, 15)}) = {steps.m0}",
        ("Rounded half away from zero; it reached 2³¹, which does not fit an int32, so M0 is halved and the shift grows "
         "by 1." if steps.renormalised else
         f"Q31: the int32 {steps.m0} stands for {steps.m0} / 2³¹ = {fmt(steps.m0 / 2**31, 12)}."),
    )]
    clipped = ""
    if steps.shift != steps.exponent + steps.renormalised:
        clipped = (" M is too large for the format: M0 and the shift saturate." if steps.shift == 30
                   else " M is too small for the format: it flushes to 0.")
    rel = (steps.represented - m) / m
    lines.append((
        "3. The shift",
        rf"M \approx M_0 \cdot 2^{{shift - 31}} = {steps.m0} \times 2^{{{steps.shift - 31}}} = {tex(steps.represented, 12)}",
        f"shift = {steps.shift}; relative error of the stored multiplier {rel:+.2e}.{clipped}",
    ))
    total = 31 - steps.shift
    same = steps.result == steps.result_double_rounding
    lines.append((
        "4. Rescale the accumulator",
        rf"\left({steps.acc} \cdot {steps.m0} + 2^{{{total - 1}}}\right) \gg {total} = {steps.result}",
        f"The real product acc·M is {fmt(steps.exact, 10)}. One rounding (TFLite's current build) gives {steps.result}; "
        f"the classic double rounding gives {steps.result_double_rounding}"
        + (" too." if same else ": the two builds differ here."),
    ))
    return lines


def describe_pair_sums(sums: PairSums) -> str:
    """Say whether the worst two-term sums fit a saturating int16, and what is lost when they do not."""
    (ha, hb), (la, lb) = sums.high_codes, sums.low_codes
    text = (f"Largest pair sum: {ha}·{hb} + {ha}·{hb} = {sums.high}; smallest: {la}·{lb} + {la}·{lb} = {sums.low}. "
            f"A 16-bit register holds [{INT16_MIN}, {INT16_MAX}]. ")
    if sums.fits_int16:
        text += "Both fit: no saturation, the integer result is exact."
    else:
        lost = []
        if sums.high > INT16_MAX:
            lost.append(f"{sums.high} saturates to {sums.high_saturated} (off by {sums.high - sums.high_saturated})")
        if sums.low < INT16_MIN:
            lost.append(f"{sums.low} saturates to {sums.low_saturated} (off by {sums.low - sums.low_saturated})")
        text += "It does not fit: " + "; ".join(lost) + ". The kernel does not say so: the layer's output is silently wrong."
    if (ha, hb) == (-128, -128):
        text += (" The culprit is −128, the one int8 code with no positive twin (+128 is not an int8): "
                 "(−128)·(−128) = 16384, and twice that is one past int16's 32767. Narrow range drops it.")
    return text
