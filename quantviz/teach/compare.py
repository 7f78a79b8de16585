"""The frameworks side by side: one row per convention, and why two rows differ."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from quantviz.conventions import CONVENTIONS, tf_nudge
from quantviz.qparams import QParams
from quantviz.quantize import choose_qparams
from quantviz.teach.fmt import fmt
from quantviz.teach.steps import symmetric_divisor


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
