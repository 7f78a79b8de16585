"""The frameworks side by side: one row per convention, and why two rows differ.

A "why" is found, never written, and never "the first step that differs": each convention's recipe
(:mod:`quantviz.conventions.recipe`) has its steps replaced by the reference's until the results
agree (:mod:`quantviz.teach.causes`), and the sentence names that smallest set of steps with the
numbers of the experiments.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from quantviz.conventions import CONVENTIONS, ChoiceTrace, QuantizeTrace, get_convention, tf_nudge
from quantviz.conventions.recipe import Recipe
from quantviz.grid import GridOptions
from quantviz.metrics import REL_TOLERANCE
from quantviz.qparams import QParams, validate_range
from quantviz.teach.causes import cause_sentence, find_cause
from quantviz.teach.fmt import fmt


class ConventionRow(NamedTuple):
    """One convention's answer for a range and grid (``reason`` set when it does not support them)."""

    name: str
    label: str
    qparams: QParams | None
    codes: tuple[int, ...]
    dequantized: tuple[float, ...]
    reason: str | None
    nudged: tuple[float, float] | None = None
    choice: ChoiceTrace | None = None
    trace: QuantizeTrace | None = None


class Difference(NamedTuple):
    """Why one convention's result differs from the reference's: the cause, found by experiment.

    Attributes
    ----------
    convention, label : str
        The convention that differs from the reference.
    quantity : str
        ``"scale"``, ``"zero point"`` or ``"code"``.
    probe : float or None
        The value quantized, for a code.
    steps : tuple of str
        The cause: the smallest set of steps (keys of ``quantviz.conventions.recipe.STEPS``) whose replacement by the
        reference's makes the results agree; empty when more than two would have to change.
    results : tuple
        The differing outcome itself (scales, zero points or codes): this convention's, then the reference's.
    sentence : str
        The whole explanation, built from the experiments.
    """

    convention: str
    label: str
    quantity: str
    probe: float | None
    steps: tuple[str, ...]
    results: tuple[float, float]
    sentence: str

    @property
    def relative_size(self) -> float:
        """|ours − theirs| / |theirs| of the outcome: tiny for scales that differ only in float32 rounding."""
        ours, theirs = self.results
        return abs(ours - theirs) / abs(theirs) if theirs else math.inf


def _unsupported_row(name: str, reason: str) -> ConventionRow:
    """The row of a convention that cannot quantize the asked range or grid, with the reason."""
    label = CONVENTIONS[name].label
    return ConventionRow(name=name, label=label, qparams=None, codes=(), dequantized=(), reason=reason)


def compare_conventions(
    rmin: float,
    rmax: float,
    probes: list[float] | tuple[float, ...],
    *,
    options: GridOptions | None = None,
    **grid: object,
) -> list[ConventionRow]:
    """Return one row per convention: s, z, representable range, the codes of ``probes`` and the traces.

    ``options`` (or its five fields as loose keywords) are the grid every convention is asked for.

    >>> rows = compare_conventions(-1000, 1000, [1000.0])
    >>> [(r.name, r.qparams.zero_point) for r in rows if r.qparams][:3]
    [('textbook', 128), ('tflite', 127), ('tflite_reference', 127)]
    """
    rows = []
    options = GridOptions.coerce(options, grid)
    x = np.asarray(probes, dtype=np.float64)
    for name, conv in CONVENTIONS.items():
        reason = conv.unsupported_reason(options)
        if reason:
            rows.append(_unsupported_row(name, reason))
            continue
        try:
            choice = conv.choose_trace(*validate_range(rmin, rmax), options)
        except ValueError as exc:
            rows.append(_unsupported_row(name, str(exc)))
            continue
        qp = choice.qparams
        t = conv.quantize_trace(x, qp)
        nudge = tf_nudge(qp) if name == "tf_fake_quant" else None
        rows.append(
            ConventionRow(
                name=name,
                label=conv.label,
                qparams=qp,
                codes=tuple(int(v) for v in t.q),
                dequantized=tuple(float(v) for v in t.dequantized),
                reason=None,
                nudged=(float(nudge.nudged_min), float(nudge.nudged_max)) if nudge else None,
                choice=choice,
                trace=t,
            )
        )
    return rows


# ----------------------------------------------------------------------------- causes
def _recipes(row: ConventionRow, ref: ConventionRow, options: GridOptions) -> tuple[Recipe, Recipe] | None:
    if row.qparams is None or ref.qparams is None:
        return None
    return get_convention(row.name).recipe(options), get_convention(ref.name).recipe(options)


def difference(
    row: ConventionRow,
    ref: ConventionRow,
    quantity: str,
    rmin: float,
    rmax: float,
    options: GridOptions,
    x: float | None = None,
) -> Difference | None:
    """Why ``row``'s scale, zero point or code of ``x`` differs from ``ref``'s: the cause, found by experiment.

    See :mod:`quantviz.teach.causes`: the row's steps are replaced by the reference's until the results agree.
    """
    pair = _recipes(row, ref, options)
    if pair is None:
        return None
    a, b = pair
    cause = find_cause(a, b, rmin, rmax, quantity=quantity, x=x)
    if cause is None:
        return None
    ours, theirs = cause.results
    if quantity == "scale":
        head = f"{row.label}: scale {fmt(ours, 12)} vs {fmt(theirs, 12)} ({(ours - theirs) / theirs:+.2g} relative)"
    elif quantity == "zero point":
        head = f"{row.label}: zero point {ours} vs {theirs}"
    else:
        head = f"{row.label}: x = {fmt(x, 10)} gives {ours}, {ref.label.lower()} {theirs}"
    words = cause_sentence(cause, a, b, row.label, f"the {ref.label.lower()}", rmin=rmin, rmax=rmax, x=x)
    return Difference(row.name, row.label, quantity, x, cause.steps, (ours, theirs), f"{head}. {words}")


# ----------------------------------------------------------------------------- all of them
def explain_differences(
    rows: list[ConventionRow],
    probes: list[float] | tuple[float, ...],
    reference: str = "textbook",
    *,
    rmin: float,
    rmax: float,
    options: GridOptions | None = None,
) -> list[Difference]:
    """Return one Difference per result that parts from the reference convention, each naming its cause.

    ``rmin``, ``rmax`` and ``options`` (a GridOptions; its defaults when None) are those the rows were computed
    for. Scales that differ only in their last bits (float32 against float64 arithmetic) are kept
    too; the page folds them into one line.

    >>> rows = compare_conventions(-1, 1, [0.5], bits=8)
    >>> [(d.convention, d.steps, d.results) for d in explain_differences(rows, [0.5], rmin=-1, rmax=1)
    ...  if d.quantity == "zero point"][-1]
    ('tf_fake_quant', ('zero_arithmetic',), (127, 128))
    """
    options = options or GridOptions()
    by_name = {r.name: r for r in rows}
    ref = by_name.get(reference)
    if ref is None or ref.qparams is None:
        return []
    out: list[Difference] = []
    for row in rows:
        if row.name == reference or row.qparams is None:
            continue
        for quantity in ("scale", "zero point"):
            found = difference(row, ref, quantity, rmin, rmax, options)
            if found:
                out.append(found)
        for x in probes:
            found = difference(row, ref, "code", rmin, rmax, options, float(x))
            if found:
                out.append(found)
    return out


def tiny_scale_differences(differences: list[Difference]) -> tuple[list[Difference], list[Difference]]:
    """Split off scale differences smaller than ``REL_TOLERANCE`` (one part in a million: float32 rounding)."""
    tiny = [d for d in differences if d.quantity == "scale" and d.relative_size < REL_TOLERANCE]
    return tiny, [d for d in differences if d not in tiny]
