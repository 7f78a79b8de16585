"""Worked examples as lists of steps: text, formula with the numbers substituted, value, check.

Everything shown here is recomputed by quantviz; the only typed-in numbers are the ones a
published example printed, and they are shown as claims to check, never as results.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from quantviz.conventions import CONVENTIONS, QuantizeTrace, get_convention, tf_nudge
from quantviz.grid import grid_label, int_range, to_binary
from quantviz.qparams import QParams, choose_qparams
from quantviz.quantize import quantize_trace
from quantviz.rounding import ROUNDING_MODES


class Step(NamedTuple):
    """One line of a worked example.

    Attributes
    ----------
    label : str
        What happens, in words.
    formula : str
        LaTeX with the numbers substituted (for ``st.latex``).
    value : str
        The result as text.
    check : bool or None
        True/False when the line is a claim that holds or not; None for plain steps.
    note : str
        Why, in words (empty when there is nothing to add).
    """

    label: str
    formula: str
    value: str
    check: bool | None = None
    note: str = ""


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


# ----------------------------------------------------------------------------- parameters
def qparams_steps(qp: QParams, rmin: float, rmax: float, *, convention: str, symmetric: bool) -> list[Step]:
    """Return the steps that lead from the real range [rmin, rmax] to (s, z) under ``convention``."""
    conv = get_convention(convention)
    steps: list[Step] = []
    lo, hi = qp.rmin if qp.rmin is not None else rmin, qp.rmax if qp.rmax is not None else rmax
    if conv.widens_to_include_zero and (rmin > 0 or rmax < 0):
        steps.append(
            Step(
                "Widen the range to include 0",
                rf"[{tex(rmin)},\ {tex(rmax)}] \to [{tex(min(rmin, 0))},\ {tex(max(rmax, 0))}]",
                f"[{fmt(min(rmin, 0))}, {fmt(max(rmax, 0))}]",
                note="Real 0 must get an exact code (zero padding, ReLU outputs, sparse tensors), so the range is stretched to contain it.",
            )
        )
    if not conv.widens_to_include_zero and (rmin > 0 or rmax < 0):
        steps.append(
            Step(
                "No widening",
                rf"[{tex(rmin)},\ {tex(rmax)}]",
                "range used as given",
                note=f"{conv.label} does not widen the range; the zero point is clamped to the grid instead and the range slides.",
            )
        )
    if symmetric:
        steps.append(
            Step(
                "Symmetric: use the largest magnitude",
                rf"a = \max(|{tex(min(rmin, 0))}|,\ |{tex(max(rmax, 0))}|) = {tex(max(abs(lo), abs(hi)))}",
                fmt(max(abs(lo), abs(hi))),
            )
        )
    steps.append(
        Step(
            "Integer grid",
            rf"[q_{{min}},\ q_{{max}}] = [{qp.qmin},\ {qp.qmax}]",
            f"{qp.levels} codes",
            note=(f"Stored in [{qp.storage_min}, {qp.storage_max}]." if (qp.storage_min, qp.storage_max) != (qp.qmin, qp.qmax) else ""),
        )
    )
    if symmetric:
        divisor = symmetric_divisor(qp)
        steps.append(
            Step(
                "Scale",
                rf"s = \frac{{a}}{{{tex(divisor, 6)}}} = \frac{{{tex(max(abs(lo), abs(hi)))}}}{{{tex(divisor, 6)}}} = {tex(qp.scale)}",
                fmt(qp.scale),
                note=f"{conv.label} fits {fmt(divisor, 6)} steps between 0 and a.",
            )
        )
        steps.append(Step("Zero point: the middle of the grid", rf"z = {qp.zero_point}", str(qp.zero_point)))
    else:
        steps.append(
            Step(
                "Scale: real width per integer step",
                rf"s = \frac{{r_{{max}} - r_{{min}}}}{{q_{{max}} - q_{{min}}}} = \frac{{{tex(hi)} - ({tex(lo)})}}{{{qp.qmax} - ({qp.qmin})}} = {tex(qp.scale)}",
                fmt(qp.scale),
                note="float32 value the framework stores" if conv.arithmetic == "float32" else "",
            )
        )
        zero_float = qp.qmin - lo / qp.scale
        steps.append(
            Step(
                "Zero point: the code that stands for real 0",
                rf"z = q_{{min}} - \frac{{r_{{min}}}}{{s}} = {qp.qmin} - \frac{{{tex(lo)}}}{{{tex(qp.scale)}}} = {tex(zero_float)} \to {qp.zero_point}",
                str(qp.zero_point),
                note=_zero_point_note(zero_float, qp, convention),
            )
        )
    steps.append(
        Step(
            "Representable range",
            rf"[(q_{{min}} - z)\,s,\ (q_{{max}} - z)\,s] = [{tex(qp.real_min)},\ {tex(qp.real_max)}]",
            f"[{fmt(qp.real_min)}, {fmt(qp.real_max)}]",
            note="Values outside it are clipped to the end codes.",
        )
    )
    return steps


def _zero_point_note(zero_float: float, qp: QParams, convention: str) -> str:
    if zero_float < qp.qmin - 0.5 or zero_float > qp.qmax + 0.5:
        return f"The raw zero point {fmt(zero_float, 6)} falls outside the grid, so it is clamped to {qp.zero_point}."
    frac = abs(zero_float - math.floor(zero_float) - 0.5)
    if frac < 1e-6:
        return f"{fmt(zero_float, 8)} sits (almost) exactly on a tie: the tie rule of {CONVENTIONS[convention].label} decides."
    return ""


# ----------------------------------------------------------------------------- one value
def probe_steps(
    x: float,
    qp: QParams,
    *,
    convention: str = "textbook",
    rounding: str | None = None,
    add_zero_point_before_rounding: bool = False,
    bits: int = 8,
    signed: bool = False,
) -> list[Step]:
    """Return every step of quantizing one value x: x/s, rounding, + z, clamp, binary, dequantize, error."""
    conv = get_convention(convention)
    t = quantize_trace([x], qp, convention=convention, rounding=rounding, add_zero_point_before_rounding=add_zero_point_before_rounding)
    mode = conv.check_rounding(rounding)
    z_first = add_zero_point_before_rounding or conv.adds_zero_point_before_rounding
    pre, unclamped, q = float(t.pre_round[0]), float(t.unclamped[0]), int(t.q[0])
    scaled = float(t.scaled[0])
    rounded = unclamped if z_first else unclamped - qp.zero_point
    steps = [
        Step(
            "Divide by the scale",
            rf"\frac{{x}}{{s}} = \frac{{{tex(x)}}}{{{tex(qp.scale)}}} = {tex(scaled, 12)}",
            fmt(scaled, 12),
            note=_arithmetic_note(convention, pre),
        )
    ]
    tie = abs(pre - math.floor(pre) - 0.5) == 0 if math.isfinite(pre) else False
    rule = ROUNDING_MODES[mode].split(":")[0]
    if z_first:
        steps.append(Step("Add the zero point", rf"\frac{{x}}{{s}} + z = {tex(scaled, 12)} + {qp.zero_point} = {tex(scaled + qp.zero_point, 12)}", fmt(scaled + qp.zero_point, 12)))
        steps.append(Step("Round", rf"\operatorname{{round}}({tex(pre, 12)}) = {tex(rounded)}", fmt(rounded), note=(f"An exact tie: {rule} gives {fmt(rounded)}." if tie else rule)))
    else:
        steps.append(Step("Round", rf"\operatorname{{round}}({tex(pre, 12)}) = {tex(rounded)}", fmt(rounded), note=(f"An exact tie: {rule} gives {fmt(rounded)}." if tie else rule)))
        steps.append(Step("Add the zero point", rf"{tex(rounded)} + {qp.zero_point} = {tex(unclamped)}", fmt(unclamped)))
    clipped = bool(t.clipped[0])
    steps.append(
        Step(
            "Clamp to the grid",
            rf"\operatorname{{clamp}}({tex(unclamped)},\ {qp.storage_min},\ {qp.storage_max}) = {q}",
            str(q),
            check=not clipped,
            note=(f"{fmt(unclamped)} is outside the grid: the value is clipped to {q}." if clipped else "Inside the grid: nothing to clip."),
        )
    )
    lo, hi = int_range(bits, signed=signed)
    if lo <= q <= hi:
        steps.append(Step(f"Store as {grid_label(bits, signed=signed)}", rf"\texttt{{{to_binary(q, bits, signed=signed)}}}", to_binary(q, bits, signed=signed), note="two's complement" if signed else "unsigned binary"))
    deq = float(t.dequantized[0])
    steps.append(Step("Dequantize", rf"s\,(q - z) = {tex(qp.scale)} \times ({q} - {qp.zero_point}) = {tex(deq, 12)}", fmt(deq, 12)))
    err = float(t.error[0])
    within = not clipped and abs(err) <= qp.scale / 2 * (1 + 1e-6)
    steps.append(
        Step(
            "Error",
            rf"\hat{{x}} - x = {tex(deq, 12)} - {tex(x, 12)} = {tex(err, 6)}",
            fmt(err, 6),
            check=within,
            note=(f"Within half a step (s/2 = {fmt(qp.scale / 2, 6)}): rounding error only." if within else f"The value was clipped: clipping error (half a step is s/2 = {fmt(qp.scale / 2, 6)})."),
        )
    )
    return steps


def _arithmetic_note(convention: str, pre: float) -> str:
    """How the convention computed the number it rounds, when that differs from plain x/s."""
    if convention == "pytorch":
        return f"PyTorch computes fma(x, 1/s, z) in float32 in one rounding: {fmt(pre, 12)}."
    if convention in ("tflite",):
        return f"TFLite's default kernel multiplies by 1/s in float32: {fmt(pre, 12)}."
    if convention in ("tflite_reference", "onnxruntime"):
        return f"Computed as a float32 division: {fmt(pre, 12)}."
    if convention == "tf_fake_quant":
        return f"TF computes (clamp(x) − nudged_min)·inv − qz in float32: {fmt(pre, 12)}, then floor(v + 0.5)."
    return ""


# ----------------------------------------------------------------------------- transfer curve
class TransferCurve(NamedTuple):
    """x against its dequantized value (the staircase) and the error (the sawtooth)."""

    x: np.ndarray
    dequantized: np.ndarray
    error: np.ndarray


def transfer_curve(qp: QParams, lo: float, hi: float, *, convention: str = "textbook", rounding: str | None = None,
                   add_zero_point_before_rounding: bool = False, points: int = 800) -> TransferCurve:
    """Return the staircase x -> dequantize(quantize(x)) sampled on [lo, hi], steps kept sharp.

    Each code boundary inside [lo, hi] gets two points (just before and at it), so the
    staircase is drawn with vertical risers however many codes there are, up to ``points``.
    """
    if not hi > lo:
        hi = lo + qp.scale
    x = np.linspace(lo, hi, points)
    t = quantize_trace(x, qp, convention=convention, rounding=rounding, add_zero_point_before_rounding=add_zero_point_before_rounding)
    return TransferCurve(t.x, t.dequantized, t.error)


# ----------------------------------------------------------------------------- the seed example
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
    out: list[Verdict] = []
    out.append(
        Verdict(
            "scale = (1000 − −1000) / 255 = 7.843137255",
            f"2000 / 255 = {fmt(exact.scale, 17)}",
            False,
            f"The printed 7.843137255 is the exact scale rounded up by {fmt(SEED_PRINTED_SCALE - exact.scale, 3)}. "
            "That tiny excess is what makes the lines for 1000 and −1000 below come out as printed.",
        )
    )
    ex = quantize_trace(SEED_VALUES, exact, rounding="half_away_from_zero", add_zero_point_before_rounding=True)
    ex_even = quantize_trace(SEED_VALUES, exact, rounding="half_to_even", add_zero_point_before_rounding=True)
    pr = quantize_trace(SEED_VALUES, printed, rounding="half_away_from_zero", add_zero_point_before_rounding=True)
    for i, (x, claimed) in enumerate(zip(SEED_VALUES, SEED_CLAIMED_CODES, strict=True)):
        pre, unclamped, q = float(ex.pre_round[i]), int(ex.unclamped[i]), int(ex.q[i])
        claim = f"round({fmt(x, 12)} / 7.843137255 + 128) = {claimed}"
        if unclamped > exact.qmax:
            out.append(
                Verdict(
                    claim,
                    f"{fmt(x)}/s + 128 = {fmt(pre, 12)} exactly → round = {unclamped}, which overflows uint8 and is clamped to {q}",
                    False,
                    f"1000/s is exactly 127.5, a tie: every tie rule rounds 255.5 up to 256, one past the grid. "
                    f"With the printed scale the value is {fmt(float(pr.pre_round[i]), 13)}, just under the tie, which is how the answer got 255 without clamping.",
                )
            )
        elif pre - math.floor(pre) == 0.5:
            out.append(
                Verdict(
                    claim,
                    f"{fmt(x)}/s + 128 = {fmt(pre, 12)} exactly: a tie → {int(ex.q[i])} rounding half away from zero, {int(ex_even.q[i])} rounding half to even",
                    None,
                    f"The answer's 1 depends on the tie rule (and on the rounded scale: printed, the value is {fmt(float(pr.pre_round[i]), 13)}, just over the tie). "
                    "ONNX Runtime gives 0 here; PyTorch 1.",
                )
            )
        else:
            out.append(Verdict(claim, f"{fmt(x, 12)}/s + 128 = {fmt(pre, 12)} → {q}", q == claimed, "Holds: the value is not near a tie."))
    back = exact.scale * (np.array(SEED_CLAIMED_CODES) - exact.zero_point)
    for code, claimed_real, real in zip(SEED_CLAIMED_CODES, SEED_CLAIMED_BACK, back, strict=True):
        holds = bool(abs(real - claimed_real) < 1e-6 * max(1.0, abs(claimed_real)))
        out.append(
            Verdict(
                f"({code} − 128) × 7.843137255 = {fmt(claimed_real, 12)}",
                f"({code} − 128) × s = {fmt(float(real), 12)}",
                holds,
                "Holds." if holds else f"Off by {fmt(float(real) - claimed_real, 6)}: code {code} stands for {fmt(float(real), 7)}, so ±1000 are not representable with z = 128.",
            )
        )
    out.append(
        Verdict(
            "zero point 128, codes 1..255: a symmetric range of [−1000, 1000]",
            f"representable range with s = 2000/255, z = 128: [{fmt(exact.real_min, 7)}, {fmt(exact.real_max, 7)}]",
            False,
            "With 255 steps over 2000 the range [−1000, 1000] needs z = 127.5, which is not an integer. "
            "A symmetric grid [1, 255] around 128 needs s = 1000/127 (see the corrected scheme).",
        )
    )
    out.append(Verdict("inverse scale = 0.1275", f"255 / 2000 = {fmt(255 / 2000)}", True, "Holds: multiplying by 1/s = 0.1275 is the same map."))
    return out


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
        -1000.0, 1000.0, 8, False, False, False, SEED_VALUES,
        "The Stack Overflow answer that started QuantViz. Its numbers rest on a tie at 127.5.",
    ),
    "relu6": Preset(
        "ReLU6 activations: [0, 6] to uint8",
        0.0, 6.0, 8, False, False, False, (0.0, 0.5, 3.0, 6.0, 7.0),
        "A range that starts at 0 needs no shift: z = 0 and every code is a non-negative value.",
    ),
    "weights": Preset(
        "Symmetric int8 weights: [−0.8, 1.27], narrow range",
        -0.8, 1.27, 8, True, True, True, (-0.8, -0.005, 0.0, 0.005, 1.27),
        "Weights are usually symmetric: z = 0, so the integer matmul needs no zero-point terms for them.",
    ),
    "int4": Preset(
        "int4: [−1, 1] to 16 levels",
        -1.0, 1.0, 4, True, False, False, (-1.0, -0.2, 0.0, 0.1, 0.99),
        "Four bits leave 16 codes: each step is 2/15 wide and rounding error is large.",
    ),
    "no_zero": Preset(
        "A range without 0: [250, 1000] to uint8",
        250.0, 1000.0, 8, False, False, False, (250.0, 260.0, 500.0, 1000.0),
        "The raw zero point would be 0 − 250/s = −85 (−213 without widening, using s = 750/255): outside the grid. "
        "Frameworks widen the range to [0, 1000], spending a third of the codes on values that never occur.",
    ),
}


def preset_steps(preset: Preset, convention: str = "textbook") -> tuple[QParams, list[Step], dict[float, list[Step]]]:
    """Return the QParams, the steps that choose them and, per value, the steps that quantize it."""
    qp = choose_qparams(
        preset.rmin, preset.rmax, bits=preset.bits, signed=preset.signed, symmetric=preset.symmetric,
        narrow_range=preset.narrow_range, convention=convention,
    )
    steps = qparams_steps(qp, preset.rmin, preset.rmax, convention=convention, symmetric=preset.symmetric)
    per_value = {
        v: probe_steps(v, qp, convention=convention, bits=preset.bits, signed=preset.signed) for v in preset.values
    }
    return qp, steps, per_value


# ----------------------------------------------------------------------------- conventions compared
class ConventionRow(NamedTuple):
    """One convention's answer for a range and grid (``reason`` set when it does not support them)."""

    name: str
    label: str
    qparams: QParams | None
    codes: tuple[int, ...]
    dequantized: tuple[float, ...]
    reason: str | None
    nudged: tuple[float, float] | None = None


def compare_conventions(
    rmin: float, rmax: float, probes: list[float] | tuple[float, ...], *, bits: int = 8, signed: bool = False,
    symmetric: bool = False, narrow_range: bool = False, reduce_range: bool = False,
) -> list[ConventionRow]:
    """Return one row per convention: s, z, representable range and the codes of ``probes``."""
    rows = []
    options = {"bits": bits, "signed": signed, "symmetric": symmetric, "narrow_range": narrow_range, "reduce_range": reduce_range}
    for name, conv in CONVENTIONS.items():
        reason = conv.unsupported_reason(**options)
        if reason:
            rows.append(ConventionRow(name, conv.label, None, (), (), reason))
            continue
        try:
            qp = choose_qparams(rmin, rmax, convention=name, **options)
        except ValueError as exc:
            rows.append(ConventionRow(name, conv.label, None, (), (), str(exc)))
            continue
        t = conv.quantize_trace(np.asarray(probes, dtype=np.float64), qp)
        nudge = tf_nudge(qp) if name == "tf_fake_quant" else None
        rows.append(
            ConventionRow(
                name, conv.label, qp, tuple(int(v) for v in t.q), tuple(float(v) for v in t.dequantized), None,
                (float(nudge.nudged_min), float(nudge.nudged_max)) if nudge else None,
            )
        )
    return rows


def explain_differences(rows: list[ConventionRow], probes: list[float] | tuple[float, ...], reference: str = "textbook") -> list[str]:
    """Return one sentence per disagreement with the reference convention, naming its cause.

    Scales that differ only by float32 storage (relative difference below 1e-6) are noted once,
    and codes are still compared for them.
    """
    by_name = {r.name: r for r in rows}
    ref = by_name.get(reference)
    if ref is None or ref.qparams is None:
        return []
    notes: list[str] = []
    rq = ref.qparams
    float32_only = []
    for row in rows:
        if row.name == reference or row.qparams is None:
            continue
        qp, conv = row.qparams, CONVENTIONS[row.name]
        rel = (qp.scale - rq.scale) / rq.scale
        same_scale = abs(rel) < 1e-6
        if qp.scale != rq.scale and same_scale:
            float32_only.append(row.label)
        elif not same_scale:
            if (qp.qmin, qp.qmax) != (rq.qmin, rq.qmax):
                cause = f"a different grid [{qp.qmin}, {qp.qmax}] instead of [{rq.qmin}, {rq.qmax}]"
            elif not conv.widens_to_include_zero and (qp.rmin, qp.rmax) != (rq.rmin, rq.rmax):
                cause = "no widening of the range to include 0"
            elif qp.rmin is not None and rq.rmin is not None and qp.rmin == -qp.rmax:
                cause = f"a different symmetric divisor (absmax / {fmt(symmetric_divisor(qp), 6)} instead of / {fmt(symmetric_divisor(rq), 6)})"
            else:
                cause = "its own range adjustments"
            notes.append(f"{row.label}: scale {fmt(qp.scale)} vs {fmt(rq.scale)} ({rel:+.2%}), from {cause}.")
        if qp.zero_point != rq.zero_point:
            notes.append(f"{row.label}: zero point {qp.zero_point} vs {rq.zero_point}. {_zero_point_cause(row.name, qp, rq)}")
        if not same_scale or qp.zero_point != rq.zero_point:
            continue
        for x, code, ref_code in zip(probes, row.codes, ref.codes, strict=True):
            if code != ref_code:
                notes.append(f"{row.label}: x = {fmt(x)} gives {code}, {ref.label.lower()} {ref_code}. {_code_cause(row.name, x, rq)}")
    if float32_only:
        f32 = by_name[next(r.name for r in rows if r.label == float32_only[0])].qparams
        notes.insert(
            0,
            f"{', '.join(float32_only)} store the scale as float32: {fmt(f32.scale, 12)} instead of {fmt(rq.scale, 12)}. "
            "Tiny, but enough to move a value that sits on a tie.",
        )
    return notes


def symmetric_divisor(qp: QParams) -> float:
    """Return absmax / s: how many steps the convention fits between 0 and the largest magnitude."""
    if qp.rmax is None or qp.rmin is None:
        return float("nan")
    return max(abs(qp.rmin), abs(qp.rmax)) / qp.scale


def _zero_point_cause(name: str, qp: QParams, rq: QParams) -> str:
    if name == "tflite" or name == "tflite_reference":
        if qp.qmin == 0:
            return "TFLite computes z on the int8 grid (half away from zero) and adds 128 for a uint8 input."
        return "TFLite rounds the zero point half away from zero, from a float32 scale."
    if name == "tf_fake_quant":
        return "TF fake-quant does not widen the range to include 0; it clamps z and nudges the range."
    if (qp.qmin, qp.qmax) != (rq.qmin, rq.qmax):
        return f"It chooses z on the grid [{qp.qmin}, {qp.qmax}]."
    return "The raw zero point sits near a tie and the float32 arithmetic or tie rule differs."


def _code_cause(name: str, x: float, qp: QParams) -> str:
    exact = x / qp.scale
    on_tie = abs(exact - math.floor(exact) - 0.5) < 1e-5
    if name == "pytorch":
        return (
            f"x/s = {fmt(exact, 12)} is a tie (or within float32 rounding of one): PyTorch rounds fma(x, 1/s, z) with z already added and 1/s in float32, and lands on the other side."
            if on_tie else "PyTorch's float32 fma(x, 1/s, z) lands on the other side of a rounding boundary."
        )
    if name == "tflite_reference":
        return f"x/s = {fmt(exact, 12)} is a tie: the reference kernel rounds ties away from zero, the default one to even." if on_tie else "float32 division moves the value across a rounding boundary."
    if name == "tf_fake_quant":
        return f"x/s = {fmt(exact, 12)} is a tie (or within float32 rounding of one): TF rounds it up with floor(v + 0.5) on its nudged grid." if on_tie else "TF's float32 arithmetic on the nudged range moves the value across a rounding boundary."
    return f"x/s = {fmt(exact, 12)} is a tie (or within float32 rounding of one): the tie rules or the float32 arithmetic differ." if on_tie else "float32 arithmetic (x·(1/s) or x/s) moves the value across a rounding boundary."


def values_table(trace: QuantizeTrace, qp: QParams, *, limit: int | None = None):
    """Return a pandas DataFrame with one row per value: x, x/s, rounded, q, binary, dequantized, error, clipped.

    The binary column uses the storage type's width (two's complement when signed).
    """
    import pandas as pd

    from quantviz.grid import storage_bits, to_binary_array

    n = trace.x.size if limit is None else min(limit, trace.x.size)
    bits, signed = storage_bits(qp.storage_min, qp.storage_max)
    q = trace.q[:n]
    return pd.DataFrame(
        {
            "x": trace.x[:n],
            "x / s": trace.scaled[:n],
            "rounded (before clamp)": trace.unclamped[:n],
            "q": q,
            "binary": to_binary_array(q, bits, signed=signed),
            "dequantized": trace.dequantized[:n],
            "error": trace.error[:n],
            "clipped": trace.clipped[:n],
        }
    )
