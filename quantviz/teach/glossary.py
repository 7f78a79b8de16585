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
    Entry(
        "scale",
        "s, the real width of one integer step: r = s·(q − z).",
        "The scale s says how far apart two neighbouring codes are in real numbers. A smaller s means finer steps "
        "and a narrower representable range for the same number of bits.",
    ),
    Entry(
        "zero point",
        "z, the integer code that stands for real 0.",
        "The zero point z is the code whose real value is exactly 0. It shifts the grid so that an unsigned type can "
        "hold negative values, and it makes 0.0 exact — which zero padding and ReLU outputs need.",
    ),
    Entry(
        "two's complement",
        "How signed integers are stored: the top bit counts −2^(b−1).",
        "In b-bit two's complement the codes run from −2^(b−1) to 2^(b−1) − 1: int8 is [−128, 127]. The bit pattern "
        "of −1 is all ones; −128 has no positive twin, because +128 does not fit.",
    ),
    Entry(
        "narrow range",
        "Dropping the lowest code, so int8 becomes [−127, 127], symmetric around 0.",
        "With narrow range the grid is symmetric, so negating a code never overflows and the worst pair sum "
        "127·127·2 = 32258 fits in int16. Weights usually use it.",
    ),
    Entry(
        "reduce_range",
        "PyTorch's option to quantize activations to 7 bits, [0, 127] instead of [0, 255].",
        "x86 kernels multiply uint8 activations by int8 weights and add pairs into a saturating int16. 255·127·2 = "
        "64770 does not fit; 127·127·2 = 32258 does. reduce_range gives up one bit to avoid that overflow.",
    ),
    Entry(
        "saturating",
        "Clamping to the largest or smallest value instead of wrapping around on overflow.",
        "Saturating arithmetic keeps 32767 + 1 at 32767 in int16 rather than wrapping to −32768. It avoids a sign "
        "flip but still loses the excess silently.",
    ),
    Entry(
        "Q31",
        "A fixed-point number: an int32 read as a fraction with 31 bits after the point.",
        "An int32 M0 in Q31 stands for M0 / 2^31, a value in [−1, 1). Integer-only kernels store a real multiplier M "
        "as such an M0 in [0.5, 1) and a power-of-two shift: M = M0 · 2^(shift − 31).",
    ),
    Entry(
        "fma",
        "Fused multiply-add: a·b + c computed with a single rounding at the end.",
        "An fma rounds once where a multiply followed by an add rounds twice. PyTorch's quantize on x86 computes "
        "fma(x, 1/s, z) in float32, which can land on the other side of a rounding tie than x/s + z.",
    ),
    Entry(
        "XNNPACK",
        "The optimized CPU kernel library TFLite uses by default.",
        "TFLite runs most float and int8 ops through XNNPACK. Its QUANTIZE multiplies by 1/s and rounds half to even; "
        "the reference kernels divide by s and round half away from zero.",
    ),
    Entry(
        "BUILTIN_REF",
        "TFLite's reference kernels: plain, slow, the specification's arithmetic.",
        "Asking the TFLite interpreter for OpResolverType.BUILTIN_REF runs the reference kernels. They round ties "
        "half away from zero where the default kernels round half to even, so a tie gives two codes only where the "
        "two rules part: 2.5 → 3 against 2 and −2.5 → −3 against −2, but 1.5 → 2 and −1.5 → −2 under both. Same "
        "model, two answers.",
    ),
    Entry(
        "nudge",
        "TF fake-quant's move of [min, max] so that real 0 lands exactly on a code.",
        "TF fake-quant does not widen the range to include 0. It rounds the zero point and then moves the range to "
        "[(qmin − z)·s, (qmax − z)·s]: the 'nudged' range. For [−1, 1] on 8 bits that is [−0.996, 1.0039], z = 127.",
    ),
    Entry(
        "tie",
        "A value exactly halfway between two integers, like 127.5: the rounding rule decides.",
        "Round half to even sends 127.5 to 128 and 126.5 to 126; half away from zero sends both away from 0; "
        "half up uses floor(v + 0.5). Frameworks differ exactly here.",
    ),
    Entry(
        "per-channel",
        "One scale (and zero point) per output channel of a weight tensor.",
        "Rows of a weight matrix can differ by orders of magnitude. One scale per row lets each use all its codes; "
        "one scale for the whole tensor is set by the largest row.",
    ),
    Entry(
        "SQNR",
        "Signal-to-quantization-noise ratio: 10·log10(mean x² / mean error²), in dB.",
        "Each extra bit halves the step and so adds about 6.02 dB, as long as the rounding error stays uniform "
        "and nothing is clipped.",
    ),
    Entry(
        "fake quant",
        "Quantize then dequantize at once, in float: the forward pass of quantization-aware training.",
        "Fake quantization lets a float network see the rounding and clipping it will suffer as integers, while "
        "its weights stay float and keep learning.",
    ),
    Entry(
        "STE",
        "Straight-through estimator: backpropagate through rounding as if it were the identity.",
        "Rounding has zero derivative almost everywhere, so training pretends its gradient is 1 inside the range "
        "and 0 where the value was clipped.",
    ),
    Entry(
        "LSQ",
        "Learned Step size Quantization: the scale s is a trained parameter with its own gradient.",
        "LSQ (Esser et al., 2020) learns s by gradient descent alongside the weights, so the range can grow to let "
        "clipped values back in or shrink to refine the steps.",
    ),
    Entry(
        "PACT",
        "Parameterized Clipping Activation: a learned clipping level for ReLU outputs.",
        "PACT (Choi et al., 2018) replaces ReLU's open top with a trained clip α, so the activation range that gets "
        "quantized is learned too.",
    ),
    Entry(
        "KL calibration",
        "Choosing the clipping threshold that loses the least information (Kullback-Leibler divergence).",
        "TensorRT's entropy calibrator compares the histogram of the data with its quantized, clipped version and "
        "picks the threshold with the smallest Kullback-Leibler divergence between the two.",
    ),
    # Block formats and large-model quantization (issue 21, item 12); each checked against its primary source.
    Entry(
        "block quantization",
        "One scale (and sometimes an offset) per block of consecutive values; also called group quantization.",
        "Instead of one scale for a whole tensor or row, every block (group) of consecutive weights along the input "
        "dimension gets its own: 32 in GGUF's Q4_0 and the MX formats, 16 in NVFP4, 64 in bitsandbytes' NF4, often 128 "
        "for GPTQ and AWQ int4 weights. An outlier then spoils only its own block; the price is the scales' storage.",
    ),
    Entry(
        "absmax",
        "Symmetric scaling by the largest magnitude: s = max|x| / qmax, so q = round(qmax · x / max|x|).",
        "Absmax quantization maps the largest |x| of a tensor, row or block to the largest code: for int8, "
        "q = round(127 · x / max|x|) (as in LLM.int8()). No zero point; 0 stays exact; one outlier widens every step.",
    ),
    Entry(
        "E8M0",
        "An 8-bit scale format with only an exponent: 2^(e − 127), no sign and no mantissa.",
        "The OCP Microscaling spec stores each block's shared scale as E8M0: an unsigned biased exponent (bias 127), "
        "so every scale is a power of two from 2^−127 to 2^127; the byte 0xFF means NaN. Multiplying by it is an "
        "exponent add.",
    ),
    Entry(
        "E2M1",
        "The 4-bit float FP4: 1 sign, 2 exponent, 1 mantissa bit; ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}.",
        "E2M1 (exponent bias 1) has eight magnitudes, 0, 0.5, 1, 1.5, 2, 3, 4 and 6, and no infinity or NaN. It is the "
        "element type of MXFP4 and NVFP4: a block scale stretches it to the data.",
    ),
    Entry(
        "E4M3",
        "The 8-bit float with 4 exponent and 3 mantissa bits: more precision, range ±448.",
        "FP8 E4M3 (bias 7) has no infinities and only one NaN pattern per sign (all exponent and mantissa bits set), "
        "which buys the range up to 448. Used for weights and activations, and as NVFP4's block scale.",
    ),
    Entry(
        "E5M2",
        "The 8-bit float with 5 exponent and 2 mantissa bits: more range (±57344), less precision.",
        "FP8 E5M2 (bias 15) follows IEEE 754's conventions, with infinities and NaNs, like a float16 with its lower "
        "mantissa byte cut off. Its wider range suits gradients.",
    ),
    Entry(
        "MX",
        "OCP Microscaling formats: blocks of 32 elements sharing one 8-bit power-of-two scale.",
        "The Open Compute Project's MX spec (v1.0, 2023) defines MXFP8 (E4M3 or E5M2 elements), MXFP6, MXFP4 (E2M1) "
        "and MXINT8: 32 elements and one 8-bit E8M0 scale per block, so MXFP4 costs 4 + 8/32 = 4.25 bits per value.",
    ),
    Entry(
        "NF4",
        "4-bit NormalFloat (QLoRA): 16 levels at quantiles of a normal distribution, scaled by each block's largest "
        "|x|.",
        "NF4 (Dettmers et al., 2023) places its 16 values in [−1, 1] at quantiles of N(0, 1), with an exact 0, so "
        "that normally distributed weights fill every level about equally. bitsandbytes scales each block of 64 "
        "weights by its absmax.",
    ),
    Entry(
        "NVFP4",
        "NVIDIA's FP4: blocks of 16 four-bit floats, an 8-bit float scale per block and one float32 scale per tensor.",
        "NVFP4 uses smaller blocks than MXFP4 (16 against 32) and a finer block scale (E4M3 instead of a power of "
        "two); the per-tensor float32 scale brings the block scales into E4M3's range. It costs 4 + 8/16 = 4.5 bits "
        "per value.",
    ),
    Entry(
        "GGUF",
        "The file format of ggml and llama.cpp: tensors, their quantization types and the model's metadata in one "
        "file.",
        "GGUF (the successor of GGML, GGMF and GGJT) stores key-value metadata (architecture, tokenizer, "
        "hyper-parameters) and every tensor with its type — F16, Q8_0, Q4_0, the K-quants and more — byte for byte as "
        "the kernels read it.",
    ),
    Entry(
        "K-quants",
        "llama.cpp's Q2_K … Q6_K: groups of 256 weights whose block scales are themselves quantized.",
        "K-quants (llama.cpp pull request 1684, 2023) split a super-block of 256 weights into blocks of 16 or 32. "
        "Each block has a 4-, 6- or 8-bit scale (and a min in the affine types), multiplied by the super-block's "
        "float16 scale: Q4_K has 8 blocks of 32 with 6-bit scales and mins, 4.5 bits per weight. Mixes such as Q4_K_M "
        "choose a type per tensor.",
    ),
    Entry(
        "super-block",
        "In llama.cpp's Q2_K … Q6_K, a group of 256 weights whose block scales share one float16 scale.",
        "The super-block's float16 scale d (and dmin for the mins) multiplies small integer block scales, so each "
        "block's scale costs 4 to 8 bits instead of 16: scales of scales.",
    ),
    Entry(
        "double quantization",
        "Quantizing the quantization constants too (QLoRA): the block scales are stored in 8 bits.",
        "QLoRA's double quantization stores NF4's float32 absmax per block of 64 as 8-bit floats, with one float32 "
        "scale per 256 of them: 32/64 = 0.5 bits per weight of overhead becomes 8/64 + 32/(64·256) ≈ 0.127.",
    ),
    Entry(
        "W4A16",
        "Weights in 4 bits, activations in 16-bit float: weight-only quantization.",
        "WxAy names how many bits weights (W) and activations (A) keep. W4A16 shrinks the weights (memory and "
        "bandwidth) and dequantizes them on the fly; the matmul itself runs in float16 or bfloat16.",
    ),
    Entry(
        "W8A8",
        "Weights and activations both in 8 bits, so the matmul itself runs on int8 (or FP8).",
        "With W8A8 the product of two 8-bit tensors is summed in int32 (or FP8 tensor cores) and rescaled; activations "
        "need a scale per tensor or per token, and outliers in them are the hard part (see SmoothQuant).",
    ),
    Entry(
        "per-token",
        "One scale per row of an activation matrix — per token — usually computed at run time.",
        "Activations of different tokens can differ by orders of magnitude; a scale per token (dynamic quantization) "
        "follows each one, the way per-channel scales follow each weight row.",
    ),
    Entry(
        "imatrix",
        "llama.cpp's importance matrix: per input column, the mean square of the activations over calibration text.",
        "llama-imatrix runs calibration text through the model and keeps, for every weight tensor, the average of x² "
        "for each input column (the diagonal of XᵀX). llama-quantize then weights each weight's rounding error by it "
        "when choosing scales, so columns that meet large activations are quantized more carefully.",
    ),
    Entry(
        "GPTQ",
        "One-shot weight quantization that rounds one column at a time and corrects the rest with second-order "
        "information.",
        "GPTQ (Frantar et al., 2022) quantizes a layer's weights column by column; after each column it updates the "
        "columns not yet quantized to cancel the error on the layer's output, using the inverse of the Hessian H = "
        "2XXᵀ of the layer's calibration inputs X. It needs calibration data, but no training.",
    ),
    Entry(
        "AWQ",
        "Activation-aware Weight Quantization: scale salient input channels up before rounding the weights.",
        "AWQ (Lin et al., 2023) observes that the weights meeting large activations matter most. It multiplies each "
        "input channel of the weights by s (and divides the activations by s, folded into the previous operation), "
        "choosing s = s_X^α per channel, s_X the channel's mean |activation|, by a grid search over α in [0, 1] that "
        "minimises the layer's output error.",
    ),
    Entry(
        "SmoothQuant",
        "Move activation outliers into the weights with a per-channel scale, so both quantize to 8 bits.",
        "SmoothQuant (Xiao et al., 2022) divides each input channel j of the activations by s_j and multiplies the "
        "weights by it — the product is unchanged — with s_j = max|X_j|^α / max|W_j|^(1−α), α = 0.5 in the paper and "
        "tuned per model. Activations become easy to quantize; the weights absorb the difficulty. It enables W8A8.",
    ),
    Entry(
        "Hadamard rotation",
        "Multiplying weights and activations by an orthogonal Hadamard matrix to spread outliers.",
        "Since H·Hᵀ = I for a normalised Hadamard matrix H, (XH)(HᵀW) = XW: the product is unchanged, but each rotated "
        "value mixes all channels, so one large channel is spread thin and the rounding grid fits better. QuIP# and "
        "QuaRot rotate with (randomised) Hadamard matrices; SpinQuant learns its rotations.",
    ),
    Entry(
        "perplexity",
        "exp of the mean negative log-likelihood per token: how surprised a language model is by a text.",
        "Perplexity = exp(−(1/N)·Σ log p(token_i | tokens before i)). Lower is better; a perplexity of k means the "
        "model is as unsure as a uniform choice among k tokens. Quantized models are judged by how much it rises.",
    ),
    Entry(
        "KL divergence",
        "Kullback-Leibler divergence Σ p·log(p/q): how far one probability distribution is from another.",
        "D_KL(P‖Q) = Σ_i P(i)·log(P(i)/Q(i)) ≥ 0, and 0 only when the two agree. Comparing the quantized model's "
        "next-token distribution Q with the original's P token by token (llama.cpp's perplexity --kl-divergence) "
        "measures the damage more directly than perplexity.",
    ),
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
    "kl-divergence": r"\bKL divergence\b",
    "kl-calibration": r"\bKL\b(?! divergence)",
    "saturating": r"\bsaturat\w*",
    "twos-complement": r"\btwo's complement\b",
    "block-quantization": r"\b(?:[Bb]lock|[Gg]roup)(?:-wise)? quantization\b",
    "e8m0": r"\bE8M0\b",
    "e2m1": r"\bE2M1\b",
    "e4m3": r"\bE4M3\b",
    "e5m2": r"\bE5M2\b",
    "mx": r"\bMX(?:FP\d|INT8)?\b",
    "nf4": r"\bNF4\b",
    "nvfp4": r"\bNVFP4\b",
    "gguf": r"\bGGUF\b",
    "k-quants": r"\bK-quants?\b",
    "super-block": r"\bsuper-blocks?\b",
    "w4a16": r"\bW4A16\b",
    "w8a8": r"\bW8A8\b",
    "per-token": r"\bper-token\b",
    "imatrix": r"\bimatrix\b",
    "gptq": r"\bGPTQ\b",
    "awq": r"\bAWQ\b",
    "smoothquant": r"\bSmoothQuant\b",
    "hadamard-rotation": r"\bHadamard\b",
    "perplexity": r"\b[Pp]erplexit(?:y|ies)\b",
}
# A code span, or a Markdown link whose quoted tooltip may itself hold parentheses ("... (QLoRA): ...").
_CODE_SPAN = re.compile(r"`[^`]*`|\[[^\]]*\]\((?:[^)\"]|\"[^\"]*\")*\)")


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
            text = f'{text[: m.start()]}[{m.group(0)}](glossary#{key} "{tooltip}"){text[m.end() :]}'
            break
    return text
