"""The seed example checked line by line, its corrected scheme, and the worked-example presets.

Everything shown is recomputed by quantviz; the only typed-in numbers are the ones a published
example printed, and they are shown as claims to check, never as results.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from quantviz.conventions import CONVENTIONS
from quantviz.metrics import REL_TOLERANCE
from quantviz.qparams import QParams
from quantviz.quantize import choose_qparams, quantize_trace
from quantviz.rounding import apply_rounding
from quantviz.teach.causes import how, rule_words
from quantviz.teach.fmt import fmt
from quantviz.teach.probe import probe_steps
from quantviz.teach.steps import Step, qparams_steps

SEED_PRINTED_SCALE = 7.843137255  # as printed in the answer
SEED_VALUES = (39.215686275, 0.0, 1000.0, -1000.0)
SEED_CLAIMED_CODES = (133, 128, 255, 1)
SEED_CLAIMED_BACK = (39.215686275, 0.0, 1000.0, -1000.0)


class Verdict(NamedTuple):
    """A published line, recomputed: ``holds`` is True, False, or None when it depends on the tie rule."""

    claim: str
    recomputed: str
    holds: bool | None
    why: str


def seed_example_verdicts() -> list[Verdict]:
    """Return each line of the seed answer's worked example, recomputed by quantviz, with a verdict."""
    exact = QParams(2000 / 255, 128, 0, 255)
    printed = QParams(SEED_PRINTED_SCALE, 128, 0, 255)
    scale = Verdict(
        claim="scale = (1000 − −1000) / 255 = 7.843137255",
        recomputed=f"2000 / 255 = {fmt(exact.scale, 17)}",
        holds=False,
        why=f"The printed 7.843137255 is the exact scale rounded up by {fmt(SEED_PRINTED_SCALE - exact.scale, 3)}. "
        + _what_the_rounded_scale_changes(exact, printed),
    )
    back = exact.scale * (np.array(SEED_CLAIMED_CODES) - exact.zero_point)
    dequantized = [
        _dequantize_verdict(code, claimed_real, float(real))
        for code, claimed_real, real in zip(SEED_CLAIMED_CODES, SEED_CLAIMED_BACK, back, strict=True)
    ]
    grid = Verdict(
        claim="zero point 128, codes 1..255: a symmetric range of [−1000, 1000]",
        recomputed=f"representable range with s = 2000/255, z = 128: "
        f"[{fmt(exact.real_min, 7)}, {fmt(exact.real_max, 7)}]",
        holds=False,
        why="With 255 steps over 2000 the range [−1000, 1000] needs z = 127.5, which is not an integer. "
        "A symmetric grid [1, 255] around 128 needs s = 1000/127 (see the corrected scheme).",
    )
    inverse = Verdict(
        claim="inverse scale = 0.1275",
        recomputed=f"255 / 2000 = {fmt(255 / 2000)}",
        holds=True,
        why="Holds: multiplying by 1/s = 0.1275 is the same map.",
    )
    return [scale, *_seed_code_verdicts(exact, printed), *dequantized, grid, inverse]


def _seed_code_verdicts(exact: QParams, printed: QParams) -> list[Verdict]:
    """One verdict per quantized seed value: an overflow at a tie, a tie the rule decides, or a plain holds."""
    kwargs = {"add_zero_point_before_rounding": True}
    ex = quantize_trace(SEED_VALUES, exact, rounding="half_away_from_zero", **kwargs)
    ex_even = quantize_trace(SEED_VALUES, exact, rounding="half_to_even", **kwargs)
    pr = quantize_trace(SEED_VALUES, printed, rounding="half_away_from_zero", **kwargs)
    out = []
    for i, (x, claimed) in enumerate(zip(SEED_VALUES, SEED_CLAIMED_CODES, strict=True)):
        pre, unclamped, q = float(ex.pre_round[i]), int(ex.unclamped[i]), int(ex.q[i])
        printed_pre = fmt(float(pr.pre_round[i]), 13)
        claim = f"round({fmt(x, 12)} / 7.843137255 + 128) = {claimed}"
        if unclamped > exact.qmax:
            recomputed = (
                f"{fmt(x)}/s + 128 = {fmt(pre, 12)} exactly → round = {unclamped}, "
                f"which overflows uint8 and is clamped to {q}"
            )
            why = (
                f"{fmt(x)}/s is exactly {fmt(pre - 128, 12)}, a tie: {_tie_rules_agree(pre)} {fmt(pre, 12)} "
                f"to {unclamped}, one past the grid. With the printed scale the value is {printed_pre}, "
                "just under the tie, which is how the answer got 255 without clamping."
            )
            out.append(Verdict(claim=claim, recomputed=recomputed, holds=False, why=why))
        elif pre - math.floor(pre) == 0.5:
            recomputed = (
                f"{fmt(x)}/s + 128 = {fmt(pre, 12)} exactly: a tie → {int(ex.q[i])} rounding half away from zero, "
                f"{int(ex_even.q[i])} rounding half to even"
            )
            why = (
                f"The answer's {claimed} depends on the tie rule (and on the rounded scale: printed, the value is "
                f"{printed_pre}, just over the tie). " + _frameworks_on(x, exact)
            )
            out.append(Verdict(claim=claim, recomputed=recomputed, holds=None, why=why))
        else:
            recomputed = f"{fmt(x, 12)}/s + 128 = {fmt(pre, 12)} → {q}"
            why = "Holds: the value is not near a tie."
            out.append(Verdict(claim=claim, recomputed=recomputed, holds=q == claimed, why=why))
    return out


def _dequantize_verdict(code: int, claimed_real: float, real: float) -> Verdict:
    """A claimed (code − 128) × s against the real value the code stands for."""
    holds = bool(abs(real - claimed_real) < REL_TOLERANCE * max(1.0, abs(claimed_real)))
    off = (
        f"Off by {fmt(real - claimed_real, 6)}: code {code} stands for {fmt(real, 7)}, "
        "so ±1000 are not representable with z = 128."
    )
    return Verdict(
        claim=f"({code} − 128) × 7.843137255 = {fmt(claimed_real, 12)}",
        recomputed=f"({code} − 128) × s = {fmt(real, 12)}",
        holds=holds,
        why="Holds." if holds else off,
    )


def _what_the_rounded_scale_changes(exact: QParams, printed: QParams) -> str:
    """Rerun ±1000 with the exact and the printed scale, under the answer's rule: say what the excess changes.

    The answer rounds half away from zero after adding z. With the exact scale the two ends sit on ties (one past
    the grid, one at 0.5); with the printed one, just off them. Whether the *codes* differ is computed, not assumed.
    """
    ends = np.array([1000.0, -1000.0])
    rule = {"rounding": "half_away_from_zero", "add_zero_point_before_rounding": True}
    ex, pr = quantize_trace(ends, exact, **rule), quantize_trace(ends, printed, **rule)
    even = quantize_trace(ends, exact, rounding="half_to_even", add_zero_point_before_rounding=True)
    how_exact = (
        f"with the exact scale, 1000 and −1000 land on the ties {fmt(float(ex.pre_round[0]), 12)} and "
        f"{fmt(float(ex.pre_round[1]), 12)}: rounded half away from zero and clamped they give "
        f"{int(ex.q[0])} and {int(ex.q[1])} (half to even: {int(even.q[0])} and {int(even.q[1])})"
    )
    how_printed = (
        f"with the printed scale they sit just off the ties, at {fmt(float(pr.pre_round[0]), 13)} and "
        f"{fmt(float(pr.pre_round[1]), 13)}, and give {int(pr.q[0])} and {int(pr.q[1])}"
        + (" with no clamp" if not pr.clipped.any() else "")
    )
    same = bool(np.array_equal(ex.q, pr.q))
    verdict = (
        "So the excess does not change the codes printed below under the answer's own rule; it changes why "
        "they come out: no tie and no clamp is needed."
        if same
        else "So the excess is what changes the codes printed below."
    )
    return f"Rerun both ways: {how_exact}; {how_printed}. {verdict}"


def _tie_rules_agree(value: float) -> str:
    """Name the tie rules that agree on ``value`` ("half to even, half away from zero and half up all round")."""
    results = {
        rule: int(apply_rounding(np.array([value]), rule)[0])
        for rule in ("half_to_even", "half_away_from_zero", "half_up")
    }
    names = [rule_words(rule) for rule in results]
    if len(set(results.values())) == 1:
        return f"{', '.join(names[:-1])} and {names[-1]} all round"
    return "; ".join(f"{rule_words(rule)} gives {code}" for rule, code in results.items()) + " for"


def _frameworks_on(x: float, qp: QParams) -> str:
    """What ONNX Runtime and PyTorch store for x with these very (s, z), and the number each one rounds."""
    parts = []
    for name in ("onnxruntime", "pytorch"):
        conv = CONVENTIONS[name]
        t = quantize_trace([x], qp, convention=name)
        pre = float(t.pre_round[0])
        tie = pre - math.floor(pre) == 0.5
        recipe = conv.recipe()
        number = "x/s + z" if recipe.order == "add_then_round" else "x/s"
        parts.append(
            f"{conv.label} stores {int(t.q[0])}: it {how(recipe, 'quantize_arithmetic')}"
            + (" (z added before rounding)" if recipe.order == "add_then_round" else "")
            + f", so {number} = {fmt(pre, 10)}, "
            + ("a tie, rounded " + rule_words(conv.tie_rule) if tie else "not a tie")
        )
    return "With s = 2000/255 and z = 128: " + "; ".join(parts) + "."


def seed_corrected_qparams() -> QParams:
    """Return the scheme the seed answer intended: uint8 narrow range [1, 255], symmetric, z = 128, s = 1000/127."""
    return choose_qparams(-1000, 1000, bits=8, symmetric=True, narrow_range=True)


# ----------------------------------------------------------------------------- presets
class Preset(NamedTuple):
    """A worked example: range, grid and values to quantize."""

    title: str
    rmin: float
    rmax: float
    bits: int
    signed: bool
    symmetric: bool
    narrow_range: bool
    values: tuple[float, ...]
    story: str


PRESETS: dict[str, Preset] = {
    "seed": Preset(
        "The seed question: [−1000, 1000] to uint8",
        -1000.0,
        1000.0,
        8,
        False,
        False,
        False,
        SEED_VALUES,
        "The Stack Overflow answer that started QuantViz. Its numbers rest on a tie at 127.5.",
    ),
    "relu6": Preset(
        "ReLU6 activations: [0, 6] to uint8",
        0.0,
        6.0,
        8,
        False,
        False,
        False,
        (0.0, 0.5, 3.0, 6.0, 7.0),
        "A range that starts at 0 needs no shift: z = {z}, the lowest code, and every code is a non-negative value.",
    ),
    "weights": Preset(
        "Symmetric int8 weights: [−0.8, 1.27], narrow range",
        -0.8,
        1.27,
        8,
        True,
        True,
        True,
        (-0.8, -0.005, 0.0, 0.005, 1.27),
        "Weights are usually symmetric: z = {z}, so the integer matmul needs no zero-point terms for them.",
    ),
    "int4": Preset(
        "int4: [−1, 1] to 16 levels",
        -1.0,
        1.0,
        4,
        True,
        False,
        False,
        (-1.0, -0.2, 0.0, 0.1, 0.99),
        "Four bits leave {levels} codes: each step is s = {s} wide, and the rounding error (up to s/2) is large.",
    ),
    "no_zero": Preset(
        "A range without 0: [250, 1000] to uint8",
        250.0,
        1000.0,
        8,
        False,
        False,
        False,
        (250.0, 260.0, 500.0, 1000.0),
        "Real 0 is not in the range, so the zero point the range asks for is not a code. The steps below show "
        "that raw zero point, and what the convention does about it: widen the range, or clamp z and let the grid "
        "slide.",
    ),
}


def preset_story(preset: Preset, qp: QParams) -> str:
    """Return the preset's story with its numbers filled in from the parameters actually chosen.

    >>> qp = choose_qparams(-1, 1, bits=4, signed=True)
    >>> preset_story(PRESETS["int4"], qp)
    'Four bits leave 16 codes: each step is s = 0.1333333333 wide, and the rounding error (up to s/2) is large.'
    """
    return preset.story.format(z=qp.zero_point, s=fmt(qp.scale), levels=qp.levels)


def preset_steps(preset: Preset, convention: str = "textbook") -> tuple[QParams, list[Step], dict[float, list[Step]]]:
    """Return the QParams, the steps that choose them and, per value, the steps that quantize it."""
    qp = choose_qparams(
        preset.rmin,
        preset.rmax,
        bits=preset.bits,
        signed=preset.signed,
        symmetric=preset.symmetric,
        narrow_range=preset.narrow_range,
        convention=convention,
    )
    steps = qparams_steps(
        preset.rmin,
        preset.rmax,
        convention=convention,
        bits=preset.bits,
        signed=preset.signed,
        symmetric=preset.symmetric,
        narrow_range=preset.narrow_range,
    )
    per_value = {
        v: probe_steps(v, qp, convention=convention, bits=preset.bits, signed=preset.signed) for v in preset.values
    }
    return qp, steps, per_value
