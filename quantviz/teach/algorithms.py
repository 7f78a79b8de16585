"""The words of the "Beyond rounding" page: sentences built from GPTQ, AWQ, SmoothQuant and rotation results.

Each function returns sentences that depend only on the result it is given, and leaves out what does not apply
(a sentence about GPTQ's larger weight error appears only when its weight error is larger).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.algorithms import (
    AWQResult,
    ColumnStep,
    CompareRow,
    GPTQResult,
    RotationResult,
    SmoothQuantResult,
    W8A8Error,
)
from quantviz.teach.fmt import fmt


def ratio_words(new: float, old: float) -> str:
    """'3.2× smaller', '1.5× larger' or 'the same', comparing new with old.

    >>> ratio_words(1.0, 4.0), ratio_words(3.0, 2.0), ratio_words(2.0, 2.0)
    ('4× smaller', '1.5× larger', 'the same')
    """
    if new == old:
        return "the same"
    if new == 0 or old == 0:
        return "zero" if new == 0 else "larger than zero"
    factor = old / new if new < old else new / old
    return f"{fmt(factor, 2)}× {'smaller' if new < old else 'larger'}"


def gptq_summary(r: GPTQResult) -> list[str]:
    """What GPTQ did to the layer output and to the weights, compared with round-to-nearest.

    >>> from quantviz.algorithms import gptq, toy_layer
    >>> layer = toy_layer(32, 64, 256, outliers=3, seed=0)
    >>> print(gptq_summary(gptq(layer.weight, layer.inputs, bits=3))[1][:60])
    Its weights are further from the float weights than rounding
    """
    out = [
        f"Layer-output MSE: GPTQ {fmt(r.output_mse, 4)}, round-to-nearest {fmt(r.rtn_output_mse, 4)} — "
        f"{ratio_words(r.output_mse, r.rtn_output_mse)}."
    ]
    if r.weight_mse > r.rtn_weight_mse and r.output_mse < r.rtn_output_mse:
        out.append(
            f"Its weights are further from the float weights than rounding's (weight MSE {fmt(r.weight_mse, 4)} "
            f"against {fmt(r.rtn_weight_mse, 4)}), yet the layer's output is closer: each rounding error was "
            "pushed onto columns not yet rounded, in the directions the inputs make cheap."
        )
    changed = float(np.mean(r.codes != r.rtn_codes))
    out.append(f"{fmt(100 * changed, 3)} % of the codes differ from round-to-nearest's.")
    if r.note:
        out.append(r.note)
    return out


def step_sentence(s: ColumnStep, bits_label: str) -> str:
    """One column's round and what it passed on.

    >>> from quantviz.algorithms import column_step, gptq, toy_layer
    >>> layer = toy_layer(8, 32, 64, seed=2)
    >>> print(step_sentence(column_step(gptq(layer.weight, layer.inputs), 0), "int4")[:46])
    Step 1: input column 0 was rounded to the int4
    """
    moved = float(np.abs(s.update).sum(axis=0).max()) if s.update.size else 0.0
    text = (
        f"Step {s.step + 1}: input column {s.column} was rounded to the {bits_label} grid with RMS error "
        f"{fmt(float(np.sqrt(np.mean(s.error**2))), 3)}."
    )
    if s.update.size:
        j = int(np.argmax(np.abs(s.update).sum(axis=0)))
        text += (
            f" Its error was spread onto the {s.update.shape[1]} columns still to round; column "
            f"{int(s.later[j])} moved most (Σ|Δw| = {fmt(moved, 3)})."
        )
    else:
        text += " It is the last column: nothing is left to absorb its error."
    return text


def awq_summary(r: AWQResult) -> list[str]:
    """The ratio AWQ chose, what it bought, and the channels it protected.

    >>> from quantviz.algorithms import awq, toy_layer
    >>> layer = toy_layer(32, 128, 256, outliers=4, outlier_scale=30.0, seed=0)
    >>> print(awq_summary(awq(layer.weight, layer.inputs, bits=3, group_size=64))[0][:28])
    The grid search chose α = 0.
    """
    form = "x̄^α / w̄^(1−α)" if r.duo_used else "x̄^α"
    out = [
        f"The grid search chose α = {fmt(r.ratio, 3)} (s = {form}); layer-output MSE {fmt(r.output_mse, 4)} "
        f"against {fmt(r.rtn_output_mse, 4)} for plain rounding — {ratio_words(r.output_mse, r.rtn_output_mse)}."
    ]
    if r.ratio == 0 and not r.duo_used:
        out.append("No scaling beat plain rounding on this layer, so AWQ left the weights as they were.")
    else:
        top = ", ".join(f"{int(j)} (s = {fmt(float(r.scales[j]), 3)})" for j in r.protected[:5])
        out.append(
            f"The most active input channels — {top} — are scaled up before rounding, so their weights land on "
            "a finer part of the grid; their inputs are divided by the same s, so the float layer is unchanged."
        )
    return out


def smoothquant_summary(before: W8A8Error, after: W8A8Error, alpha: float) -> list[str]:
    """What smoothing with ``alpha`` did to the W8A8 layer-output error and its two parts.

    >>> from quantviz.algorithms import alpha_sweep, toy_layer, w8a8_error
    >>> layer = toy_layer(16, 32, 64, outliers=2, outlier_scale=50.0)
    >>> plain, = alpha_sweep(layer.weight, layer.inputs, [0.5])
    >>> print(smoothquant_summary(w8a8_error(layer.weight, layer.inputs), plain, 0.5)[0][:40])
    W8A8 layer-output MSE without smoothing:
    """
    out = [
        f"W8A8 layer-output MSE without smoothing: {fmt(before.output_mse, 4)}; with α = {fmt(alpha, 3)}: "
        f"{fmt(after.output_mse, 4)} — {ratio_words(after.output_mse, before.output_mse)}."
    ]
    part = "activations" if before.activation_mse > before.weight_mse else "weights"
    out.append(
        f"Without smoothing most of the error comes from the {part} "
        f"(activations alone {fmt(before.activation_mse, 3)}, weights alone {fmt(before.weight_mse, 3)}); "
        f"with α = {fmt(alpha, 3)}: activations {fmt(after.activation_mse, 3)}, weights {fmt(after.weight_mse, 3)}."
    )
    return out


class Spans(NamedTuple):
    """Per-channel statistics' smallest and largest value over the live channels, before and after smoothing."""

    x_name: str
    w_name: str
    x_before: tuple[float, float]
    x_after: tuple[float, float]
    w_before: tuple[float, float]
    w_after: tuple[float, float]


def smoothing_spans(r: SmoothQuantResult, inputs: np.ndarray, weight: np.ndarray) -> Spans:
    """The statistics the scales are made of (the form's), measured on the layer before and after smoothing.

    Live channels only: a channel whose activations or weights are all zero is left out (its scale is a floor).

    >>> from quantviz.algorithms import smoothquant, toy_layer
    >>> lay = toy_layer(8, 16, 32, outliers=1)
    >>> spans = smoothing_spans(smoothquant(lay.weight, lay.inputs, 0.0), lay.inputs, lay.weight)
    >>> spans.w_name, [round(v, 5) for v in spans.w_after]
    ('2·max |W|', [1.0, 1.0])
    """
    paper = r.form == "paper"

    def stats(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xa, wa = np.asarray(x, np.float64), np.abs(np.asarray(w, np.float64)).max(axis=0)
        return (np.abs(xa).max(axis=0) if paper else xa.max(axis=0) - xa.min(axis=0)), (wa if paper else 2 * wa)

    live = (r.activation_stat > 0) & (r.weight_stat > 0)
    (xb, wb), (xa, wa) = stats(inputs, weight), stats(r.inputs, r.weight)
    span = lambda v: (float(v[live].min()), float(v[live].max())) if live.any() else (0.0, 0.0)  # noqa: E731
    return Spans(
        x_name="max |x|" if paper else "range (max − min)",
        w_name="max |W|" if paper else "2·max |W|",
        x_before=span(xb),
        x_after=span(xa),
        w_before=span(wb),
        w_after=span(wa),
    )


def smoothquant_alpha_sentence(alpha: float, spans: Spans) -> str:
    """What this α did to the channels, in the form's own statistics; α = 0 and α = 1 said for what they are.

    >>> s = Spans("max |x|", "max |W|", (1.0, 40.0), (0.5, 9.0), (0.1, 0.3), (1.0, 1.0))
    >>> smoothquant_alpha_sentence(0.0, s).startswith("α = 0 does not leave the weights unchanged")
    True
    """
    rng = lambda v: f"{fmt(v[0], 3)}–{fmt(v[1], 3)}"  # noqa: E731
    x, w = f"the activations' {spans.x_name}", f"the weights' {spans.w_name}"
    if alpha == 0:
        return (
            f"α = 0 does not leave the weights unchanged: s_j = 1 / ({spans.w_name} of column j), so every weight "
            f"column's {spans.w_name} becomes {rng(spans.w_after)} (was {rng(spans.w_before)}), and the activations "
            f"carry all the channels' differences: {x} now spans {rng(spans.x_after)} (was {rng(spans.x_before)})."
        )
    if alpha == 1:
        return (
            f"α = 1: s_j = {x} of channel j, so every channel's {spans.x_name} becomes {rng(spans.x_after)} (was "
            f"{rng(spans.x_before)}), and the weights carry all the differences: {w} now spans {rng(spans.w_after)} "
            f"(was {rng(spans.w_before)})."
        )
    return (
        f"α = {fmt(alpha, 3)} splits the channels' differences: {x} spans {rng(spans.x_after)} after smoothing (was "
        f"{rng(spans.x_before)}), {w} {rng(spans.w_after)} (was {rng(spans.w_before)})."
    )


def rotation_summary(r: RotationResult, before_db: float, after_db: float, what: str) -> list[str]:
    """Outlier spread, the int error before and after, and where the float error is.

    >>> from quantviz.algorithms import rotate, toy_layer
    >>> layer = toy_layer(16, 64, 128, outliers=2, outlier_scale=30.0)
    >>> print(rotation_summary(rotate(layer.weight, layer.inputs), 10.0, 20.0, "int4 activations")[0][:34])
    The largest input is 20× its RMS b
    """
    out = [
        f"The largest input is {fmt(r.inputs_peak_before, 2)}× its RMS before the rotation and "
        f"{fmt(r.inputs_peak_after, 2)}× after; the weights' peak goes from {fmt(r.weight_peak_before, 2)}× "
        f"to {fmt(r.weight_peak_after, 2)}×.",
        f"SQNR of the layer output with {what}: {fmt(before_db, 3)} dB before, {fmt(after_db, 3)} dB after "
        f"({'+' if after_db >= before_db else '−'}{fmt(abs(after_db - before_db), 3)} dB).",
        f"The rotation is exact in real arithmetic (Q·Qᵀ = I). In float64 the rotated layer's outputs differ by at "
        f"most {fmt(r.float64_error, 2)}, in float32 by {fmt(r.float32_error, 2)} (outputs up to "
        f"{fmt(r.output_scale, 3)}): the rounding of x·Q, W·Q and of the longer sums, far below any int grid's step.",
    ]
    return out


def compare_summary(rows: tuple[CompareRow, ...]) -> list[str]:
    """The best method at each bit width.

    >>> from quantviz.algorithms import CompareRow
    >>> compare_summary((CompareRow("RTN", 4, None, 10.0), CompareRow("GPTQ", 4, None, 12.5)))
    ['At 4 bits: GPTQ is best (12.5 dB), round-to-nearest 10 dB.']
    """
    out = []
    for b in sorted({r.bits for r in rows}):
        at = [r for r in rows if r.bits == b]
        best = max(at, key=lambda r: r.sqnr_db)
        rtn = next((r for r in at if r.method == "RTN"), None)
        tail = f", round-to-nearest {fmt(rtn.sqnr_db, 3)} dB" if rtn is not None and rtn is not best else ""
        out.append(f"At {b} bits: {best.method} is best ({fmt(best.sqnr_db, 3)} dB){tail}.")
    return out
