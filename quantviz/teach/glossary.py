"""The jargon QuantViz uses, each term explained once, and a link to it for wherever it appears.

``term("Q31")`` returns Markdown that links to the term on the Glossary page, with the one-line
definition as the link's tooltip, so a word is explained where it first appears on a page.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Entry(NamedTuple):
    """One glossary term: what it is, in a line, and more for the Glossary page."""

    term: str
    short: str
    long: str


ENTRIES: tuple[Entry, ...] = (
    Entry("scale", "s, the real width of one integer step: r = s·(q − z).",
          "The scale s says how far apart two neighbouring codes are in real numbers. A smaller s means finer steps "
          "and a narrower representable range for the same number of bits."),
    Entry("zero point", "z, the integer code that stands for real 0.",
          "The zero point z is the code whose real value is exactly 0. It shifts the grid so that an unsigned type can "
          "hold negative values, and it makes 0.0 exact — which zero padding and ReLU outputs need."),
    Entry("two's complement", "How signed integers are stored: the top bit counts −2^(b−1).",
          "In b-bit two's complement the codes run from −2^(b−1) to 2^(b−1) − 1: int8 is [−128, 127]. The bit pattern "
          "of −1 is all ones; −128 has no positive twin, because +128 does not fit."),
    Entry("narrow range", "Dropping the lowest code, so int8 becomes [−127, 127], symmetric around 0.",
          "With narrow range the grid is symmetric, so negating a code never overflows and the worst pair sum "
          "127·127·2 = 32258 fits in int16. Weights usually use it."),
    Entry("reduce_range", "PyTorch's option to quantize activations to 7 bits, [0, 127] instead of [0, 255].",
          "x86 kernels multiply uint8 activations by int8 weights and add pairs into a saturating int16. 255·127·2 = "
          "64770 does not fit; 127·127·2 = 32258 does. reduce_range gives up one bit to avoid that overflow."),
    Entry("saturating", "Clamping to the largest or smallest value instead of wrapping around on overflow.",
          "Saturating arithmetic keeps 32767 + 1 at 32767 in int16 rather than wrapping to −32768. It avoids a sign "
          "flip but still loses the excess silently."),
    Entry("Q31", "A fixed-point number: an int32 read as a fraction with 31 bits after the point.",
          "An int32 M0 in Q31 stands for M0 / 2^31, a value in [−1, 1). Integer-only kernels store a real multiplier M "
          "as such an M0 in [0.5, 1) and a power-of-two shift: M = M0 · 2^(shift − 31)."),
    Entry("fma", "Fused multiply-add: a·b + c computed with a single rounding at the end.",
          "An fma rounds once where a multiply followed by an add rounds twice. PyTorch's quantize on x86 computes "
          "fma(x, 1/s, z) in float32, which can land on the other side of a rounding tie than x/s + z."),
    Entry("XNNPACK", "The optimized CPU kernel library TFLite uses by default.",
          "TFLite runs most float and int8 ops through XNNPACK. Its QUANTIZE multiplies by 1/s and rounds half to even; "
          "the reference kernels divide by s and round half away from zero."),
    Entry("BUILTIN_REF", "TFLite's reference kernels: plain, slow, the specification's arithmetic.",
          "Asking the TFLite interpreter for OpResolverType.BUILTIN_REF runs the reference kernels. At every exact tie "
          "they can give a different code from the default kernels: the same model, two answers."),
    Entry("nudge", "TF fake-quant's move of [min, max] so that real 0 lands exactly on a code.",
          "TF fake-quant does not widen the range to include 0. It rounds the zero point and then moves the range to "
          "[(qmin − z)·s, (qmax − z)·s]: the 'nudged' range. For [−1, 1] on 8 bits that is [−0.996, 1.0039], z = 127."),
    Entry("tie", "A value exactly halfway between two integers, like 127.5: the rounding rule decides.",
          "Round half to even sends 127.5 to 128 and 126.5 to 126; half away from zero sends both away from 0; "
          "half up uses floor(v + 0.5). Frameworks differ exactly here."),
    Entry("per-channel", "One scale (and zero point) per output channel of a weight tensor.",
          "Rows of a weight matrix can differ by orders of magnitude. One scale per row lets each use all its codes; "
          "one scale for the whole tensor is set by the largest row."),
    Entry("SQNR", "Signal-to-quantization-noise ratio: 10·log10(mean x² / mean error²), in dB.",
          "Each extra bit halves the step and so adds about 6.02 dB, as long as the rounding error stays uniform "
          "and nothing is clipped."),
    Entry("fake quant", "Quantize then dequantize at once, in float: the forward pass of quantization-aware training.",
          "Fake quantization lets a float network see the rounding and clipping it will suffer as integers, while "
          "its weights stay float and keep learning."),
    Entry("STE", "Straight-through estimator: backpropagate through rounding as if it were the identity.",
          "Rounding has zero derivative almost everywhere, so training pretends its gradient is 1 inside the range "
          "and 0 where the value was clipped."),
    Entry("LSQ", "Learned Step size Quantization: the scale s is a trained parameter with its own gradient.",
          "LSQ (Esser et al., 2020) learns s by gradient descent alongside the weights, so the range can grow to let "
          "clipped values back in or shrink to refine the steps."),
    Entry("PACT", "Parameterized Clipping Activation: a learned clipping level for ReLU outputs.",
          "PACT (Choi et al., 2018) replaces ReLU's open top with a trained clip α, so the activation range that gets "
          "quantized is learned too."),
    Entry("KL calibration", "Choosing the clipping threshold that loses the least information (KL divergence).",
          "TensorRT's entropy calibrator compares the histogram of the data with its quantized, clipped version and "
          "picks the threshold with the smallest Kullback-Leibler divergence between the two."),
)


def slug(name: str) -> str:
    """Return the anchor of a term on the Glossary page.

    >>> slug("two's complement"), slug("Q31")
    ('twos-complement', 'q31')
    """
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("'", "")).strip("-")


GLOSSARY: dict[str, Entry] = {slug(e.term): e for e in ENTRIES}


def term(name: str, text: str | None = None) -> str:
    """Return Markdown for ``name`` linked to its glossary entry, the short definition as the tooltip.

    >>> term("Q31")
    '[Q31](glossary#q31 "A fixed-point number: an int32 read as a fraction with 31 bits after the point.")'
    """
    entry = GLOSSARY[slug(name)]
    tooltip = entry.short.replace('"', "'")
    return f'[{text or entry.term}](glossary#{slug(name)} "{tooltip}")'


# The words a learner may not know, as they appear in running text (any inflection: nudged, saturates).
JARGON: dict[str, str] = {
    "q31": r"\bQ31\b",
    "fma": r"\bfma\b",
    "xnnpack": r"\bXNNPACK\b",
    "builtin-ref": r"\bBUILTIN_REF\b",
    "nudge": r"\bnudg\w*",
    "lsq": r"\bLSQ\b",
    "pact": r"\bPACT\b",
    "kl-calibration": r"\bKL\b",
    "saturating": r"\bsaturat\w*",
    "twos-complement": r"\btwo's complement\b",
}
_CODE_SPAN = re.compile(r"`[^`]*`|\[[^\]]*\]\([^)]*\)")


def link_jargon(text: str) -> str:
    """Link the first plain occurrence of each jargon word in ``text`` to its glossary entry.

    Words inside code spans or existing links are left alone.

    >>> link_jargon("PyTorch computes fma(x, 1/s, z); an fma rounds once.")[:60]
    'PyTorch computes [fma](glossary#fma "Fused multiply-add: a·b'
    """
    for key, pattern in JARGON.items():
        if f"glossary#{key}" in text:
            continue
        protected = [m.span() for m in _CODE_SPAN.finditer(text)]
        for m in re.finditer(pattern, text):
            if any(a <= m.start() < b for a, b in protected):
                continue
            tooltip = GLOSSARY[key].short.replace('"', "'")
            text = f'{text[:m.start()]}[{m.group(0)}](glossary#{key} "{tooltip}"){text[m.end():]}'
            break
    return text
