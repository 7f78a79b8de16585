"""The frameworks side by side: one row per convention, and why two rows differ.

A "why" is found, never written: the two conventions' traces (:class:`ChoiceTrace` for s and z,
:class:`QuantizeTrace` for each probe) are walked step by step in the order the steps happen, and
the sentence names the first step whose result differs, with both numbers. A step that differs but
does not change the outcome (a float32 scale that still gives the same code) is not blamed.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from quantviz.conventions import CONVENTIONS, ChoiceTrace, QuantizeTrace, get_convention, tf_nudge
from quantviz.qparams import QParams, validate_range
from quantviz.rounding import apply_rounding
from quantviz.teach.fmt import fmt

# The steps, in the order they happen; a Difference names one of them.
SCALE_STEPS = ("range", "divisor", "scale_arithmetic")
ZERO_STEPS = ("zero_rule", "range", "grid", "scale", "zero_arithmetic", "zero_rounding", "zero_clamp")
CODE_STEPS = ("zero_point", "number_rounded", "order", "rounding", "clamp")


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
    """Where one convention's result first parts from the reference's, with both numbers.

    Attributes
    ----------
    convention, label : str
        The convention that differs from the reference.
    quantity : str
        ``"scale"``, ``"zero point"`` or ``"code"``.
    probe : float or None
        The value quantized, for a code.
    step : str
        The first step whose result differs: a key of SCALE_STEPS, ZERO_STEPS or CODE_STEPS.
    ours, theirs : object
        That step's result under this convention and under the reference.
    results : tuple
        The differing outcome itself (scales, zero points or codes): this convention's, then the reference's.
    sentence : str
        The whole explanation, built from the numbers above.
    """

    convention: str
    label: str
    quantity: str
    probe: float | None
    step: str
    ours: object
    theirs: object
    results: tuple[float, float]
    sentence: str

    @property
    def relative_size(self) -> float:
        """|ours − theirs| / |theirs| of the outcome: tiny for scales that differ only in float32 rounding."""
        ours, theirs = self.results
        return abs(ours - theirs) / abs(theirs) if theirs else math.inf


def compare_conventions(
    rmin: float, rmax: float, probes: list[float] | tuple[float, ...], *, bits: int = 8, signed: bool = False,
    symmetric: bool = False, narrow_range: bool = False, reduce_range: bool = False,
) -> list[ConventionRow]:
    """Return one row per convention: s, z, representable range, the codes of ``probes`` and the traces.

    >>> rows = compare_conventions(-1000, 1000, [1000.0])
    >>> [(r.name, r.qparams.zero_point) for r in rows if r.qparams][:3]
    [('textbook', 128), ('tflite', 127), ('tflite_reference', 127)]
    """
    rows = []
    options = {"bits": bits, "signed": signed, "symmetric": symmetric, "narrow_range": narrow_range, "reduce_range": reduce_range}
    x = np.asarray(probes, dtype=np.float64)
    for name, conv in CONVENTIONS.items():
        reason = conv.unsupported_reason(**options)
        if reason:
            rows.append(ConventionRow(name, conv.label, None, (), (), reason))
            continue
        try:
            choice = conv.choose_trace(*validate_range(rmin, rmax), **options)
        except ValueError as exc:
            rows.append(ConventionRow(name, conv.label, None, (), (), str(exc)))
            continue
        qp = choice.qparams
        t = conv.quantize_trace(x, qp)
        nudge = tf_nudge(qp) if name == "tf_fake_quant" else None
        rows.append(
            ConventionRow(
                name, conv.label, qp, tuple(int(v) for v in t.q), tuple(float(v) for v in t.dequantized), None,
                (float(nudge.nudged_min), float(nudge.nudged_max)) if nudge else None, choice, t,
            )
        )
    return rows


# ----------------------------------------------------------------------------- the scale
def scale_difference(row: ConventionRow, ref: ConventionRow) -> Difference | None:
    """Why ``row``'s scale differs from ``ref``'s: the first differing step of range, grid, divisor, arithmetic."""
    a, b = row.choice, ref.choice
    if a is None or b is None or a.scale == b.scale:
        return None
    head = f"{row.label}: scale {fmt(a.scale, 12)} vs {fmt(b.scale, 12)} ({(a.scale - b.scale) / b.scale:+.2g} relative)"
    results = (a.scale, b.scale)
    width_a, width_b = a.range_used[1] - a.range_used[0], b.range_used[1] - b.range_used[0]
    if width_a != width_b:
        return Difference(row.name, row.label, "scale", None, "range", a.range_used, b.range_used, results,
                          f"{head}. First difference: the range divided. {_range_words(row.label, a)}; "
                          f"{_range_words(ref.label.lower(), b)}.")
    if a.scale_divisor != b.scale_divisor:
        grids = (f" on the grid [{a.grid[0]}, {a.grid[1]}] against [{b.grid[0]}, {b.grid[1]}]" if a.grid != b.grid else "")
        return Difference(row.name, row.label, "scale", None, "divisor", a.scale_divisor, b.scale_divisor, results,
                          f"{head}. First difference: how many steps the range is split into{grids}. {row.label} computes "
                          f"s = {a.scale_formula} ({fmt(a.scale_divisor, 6)} steps across the range), the "
                          f"{ref.label.lower()} s = {b.scale_formula} ({fmt(b.scale_divisor, 6)} steps).")
    return Difference(row.name, row.label, "scale", None, "scale_arithmetic", a.scale_dtype, b.scale_dtype, results,
                      f"{head}. First difference: the arithmetic. {row.label} computes the scale in {a.scale_dtype}, "
                      f"the {ref.label.lower()} in {b.scale_dtype}: the same range and divisor, rounded differently.")


def _range_words(label: str, choice: ChoiceTrace) -> str:
    lo, hi = choice.range_used
    given = choice.range_given
    how = f" ({choice.adjustment})" if choice.adjustment else (" (as given)" if (lo, hi) == given else "")
    return f"{label} uses [{fmt(lo, 10)}, {fmt(hi, 10)}]{how}"


# ----------------------------------------------------------------------------- the zero point
def zero_point_difference(row: ConventionRow, ref: ConventionRow) -> Difference | None:
    """Why ``row``'s zero point differs from ``ref``'s, walking rule, range, grid, scale, arithmetic, rounding, clamp."""
    a, b = row.choice, ref.choice
    if a is None or b is None or a.qparams.zero_point == b.qparams.zero_point:
        return None
    za, zb = a.qparams.zero_point, b.qparams.zero_point
    head = f"{row.label}: zero point {za} vs {zb}"
    theirs = ref.label.lower()

    def diff(step: str, ours: object, other: object, why: str) -> Difference:
        return Difference(row.name, row.label, "zero point", None, step, ours, other, (za, zb), f"{head}. First difference: {why}")

    if a.zero_rule != b.zero_rule or (a.zero_raw is None and b.zero_raw is None):
        return diff("zero_rule", a.zero_formula, b.zero_formula,
                    f"the rule. {row.label}: z = {a.zero_formula}; {theirs}: z = {b.zero_formula}.")
    ra, rb = a.zero_raw, b.zero_raw
    assert ra is not None and rb is not None  # both computed from rmin here
    consequence = (f"so the raw zero point is {fmt(ra, 10)} against {fmt(rb, 10)}, "
                   f"which gives {za} against {zb}.")
    if ra != rb:
        if a.range_used[0] != b.range_used[0]:
            return diff("range", a.range_used, b.range_used,
                        f"the range. {_range_words(row.label, a)}; {_range_words(theirs, b)}; {consequence}")
        if a.grid != b.grid:
            return diff("grid", a.grid, b.grid,
                        f"the grid. {row.label} computes z on [{a.grid[0]}, {a.grid[1]}], the {theirs} on "
                        f"[{b.grid[0]}, {b.grid[1]}]; {consequence}")
        if a.scale != b.scale:
            return diff("scale", a.scale, b.scale,
                        f"the scale. {row.label} computes s = {fmt(a.scale, 12)} ({a.scale_dtype}), the {theirs} "
                        f"{fmt(b.scale, 12)} ({b.scale_dtype}), {consequence}")
        return diff("zero_arithmetic", ra, rb,
                    f"the arithmetic of qmin − rmin/s. With the same range, grid and scale, {row.label} evaluates it "
                    f"as {fmt(ra, 12)}, the {theirs} as {fmt(rb, 12)}, which gives {za} against {zb}.")
    rounded_a, rounded_b = _rounded_zero(a), _rounded_zero(b)
    if rounded_a != rounded_b:
        shift = (f" ({row.label} rounds {fmt(ra - a.zero_shift, 10)} on its int8 grid and adds {a.zero_shift})"
                 if a.zero_shift else "")
        return diff("zero_rounding", a.zero_tie_rule, b.zero_tie_rule,
                    f"the rounding. Both compute the raw zero point {fmt(ra, 12)}; {row.label} rounds "
                    f"{_rule_words(a.zero_tie_rule)} to {rounded_a}{shift}, the {theirs} "
                    f"{_rule_words(b.zero_tie_rule)} to {rounded_b}.")
    return diff("zero_clamp", (a.grid, za), (b.grid, zb),
                f"the clamp. Both round the raw zero point {fmt(ra, 10)} to {rounded_a}; {row.label} clamps it to "
                f"[{a.grid[0]}, {a.grid[1]}] and gets {za}, the {theirs} to [{b.grid[0]}, {b.grid[1]}] and gets {zb}.")


def _rounded_zero(choice: ChoiceTrace) -> int:
    """The raw zero point rounded by the convention's own rule (before any clamp), in the stored grid's frame."""
    raw = choice.zero_raw
    assert raw is not None and choice.zero_tie_rule is not None
    return int(apply_rounding(np.array([raw - choice.zero_shift]), choice.zero_tie_rule)[0]) + choice.zero_shift


RULE_WORDS = {
    "half_to_even": "half to even",
    "half_away_from_zero": "half away from zero",
    "half_up": "half up, floor(v + 0.5),",
    "floor": "down (floor)",
    "ceil": "up (ceil)",
    "toward_zero": "toward zero",
    "stochastic": "stochastically",
}


def _rule_words(rule: str | None) -> str:
    """How a rule rounds, to follow the verb "rounds"."""
    return RULE_WORDS.get(rule or "", "by a fixed rule")


# ----------------------------------------------------------------------------- one code
def _number_rounded(conv_name: str, t: QuantizeTrace, i: int, qp: QParams) -> tuple[float, bool]:
    """The number the convention rounds for probe i, in units of steps from z; and whether z was added first."""
    z_first = get_convention(conv_name).adds_zero_point_before_rounding
    value = float(t.pre_round[i])
    return (value - qp.zero_point if z_first else value), z_first


def code_difference(row: ConventionRow, ref: ConventionRow, i: int, x: float) -> Difference | None:
    """Why probe ``x`` gets a different code: zero point, the number rounded, order, rounding, clamp."""
    if row.trace is None or ref.trace is None or row.qparams is None or ref.qparams is None:
        return None
    qa, qb = int(row.trace.q[i]), int(ref.trace.q[i])
    if qa == qb:
        return None
    theirs = ref.label.lower()
    head = f"{row.label}: x = {fmt(x, 10)} gives {qa}, {theirs} {qb}"

    def diff(step: str, ours: object, other: object, why: str) -> Difference:
        return Difference(row.name, row.label, "code", x, step, ours, other, (qa, qb), f"{head}. First difference: {why}")

    ua, ub = float(row.trace.unclamped[i]), float(ref.trace.unclamped[i])
    if ua == ub:
        a_grid, b_grid = _clamp_grid(row), _clamp_grid(ref)
        return diff("clamp", a_grid, b_grid,
                    f"the clamp. Both round to the code {fmt(ua)} before clamping; {row.label} clamps to "
                    f"[{a_grid[0]}, {a_grid[1]}], the {theirs} to [{b_grid[0]}, {b_grid[1]}].")
    za, zb = row.qparams.zero_point, ref.qparams.zero_point
    if za != zb:
        return diff("zero_point", za, zb, f"the zero point ({za} vs {zb}, see above): the same steps from z land on different codes.")
    va, a_first = _number_rounded(row.name, row.trace, i, row.qparams)
    vb, b_first = _number_rounded(ref.name, ref.trace, i, ref.qparams)
    if va != vb:
        if abs(row.qparams.scale - ref.qparams.scale) > 1e-6 * ref.qparams.scale:
            why = (f"the scales differ ({fmt(row.qparams.scale, 8)} vs {fmt(ref.qparams.scale, 8)}, see above), "
                   "so x is a different number of steps from z")
        elif _is_tie(va) or _is_tie(vb):
            who = row.label if _is_tie(va) else f"the {theirs}"
            why = (f"{who} lands exactly on the tie {fmt(va if _is_tie(va) else vb, 12)} and the other just off it: "
                   "the last bits of the float32 scale and arithmetic decide which side")
        else:
            why = (f"the last bits of the float32 scale and arithmetic put them on either side of the rounding "
                   f"boundary at {fmt(math.floor(max(va, vb) + 0.5) - 0.5, 12)}")
        return diff("number_rounded", va, vb,
                    f"the number rounded. {row.label} rounds {fmt(va, 12)} ({_how_divided(row)}), the {theirs} "
                    f"{fmt(vb, 12)} ({_how_divided(ref)}): {why}.")
    tie = _is_tie(va)
    if a_first != b_first:

        def order_words(first: bool) -> str:
            return f"adds z first and rounds {fmt(va + za, 12)}" if first else f"rounds {fmt(va, 12)} first and adds z after"

        return diff("order", a_first, b_first,
                    f"the order. x/s = {fmt(va, 12)}{' exactly, a tie' if tie else ''}; {row.label} {order_words(a_first)}, "
                    f"the {theirs} {order_words(b_first)}: with z = {za}, rounding {_rule_words(get_convention(row.name).tie_rule)} "
                    f"gives {fmt(ua)} one way and {fmt(ub)} the other.")
    rule_a = get_convention(row.name).tie_rule
    rule_b = get_convention(ref.name).tie_rule
    return diff("rounding", rule_a, rule_b,
                f"the rounding. Both round x/s = {fmt(va, 12)}{' exactly, a tie' if tie else ''}: {row.label} rounds "
                f"{_rule_words(rule_a)} to {fmt(ua - za)}, the {theirs} {_rule_words(rule_b)} to {fmt(ub - zb)}.")


def _is_tie(value: float) -> bool:
    """Whether value lies exactly halfway between two integers."""
    return math.isfinite(value) and value - math.floor(value) == 0.5


def _clamp_grid(row: ConventionRow) -> tuple[int, int]:
    qp = row.qparams
    assert qp is not None
    return qp.storage_min, qp.storage_max


def _how_divided(row: ConventionRow) -> str:
    """How the convention turns x into steps, in words."""
    return {
        "textbook": "x/s in float64",
        "tflite": "x·(1/s) in float32",
        "tflite_reference": "x/s in float32",
        "pytorch": "fma(x, 1/s, z) − z in float32",
        "onnxruntime": "x/s in float32",
        "tf_fake_quant": "(x − nudged_min)·inv − z in float32",
    }.get(row.name, "its own arithmetic")


# ----------------------------------------------------------------------------- all of them
def explain_differences(rows: list[ConventionRow], probes: list[float] | tuple[float, ...], reference: str = "textbook") -> list[Difference]:
    """Return one Difference per result that parts from the reference convention, each naming its first differing step.

    Scales that differ only in their last bits (float32 against float64 arithmetic) are kept too, with
    step ``"scale_arithmetic"``; the page folds them into one line.

    >>> rows = compare_conventions(-1, 1, [0.5], bits=8)
    >>> [(d.convention, d.step, d.results) for d in explain_differences(rows, [0.5]) if d.quantity == "zero point"][-1]
    ('tf_fake_quant', 'scale', (127, 128))
    """
    by_name = {r.name: r for r in rows}
    ref = by_name.get(reference)
    if ref is None or ref.qparams is None:
        return []
    out: list[Difference] = []
    for row in rows:
        if row.name == reference or row.qparams is None:
            continue
        for found in (scale_difference(row, ref), zero_point_difference(row, ref)):
            if found:
                out.append(found)
        for i, x in enumerate(probes):
            found = code_difference(row, ref, i, float(x))
            if found:
                out.append(found)
    return out


def tiny_scale_differences(differences: list[Difference]) -> tuple[list[Difference], list[Difference]]:
    """Split off scale differences smaller than one part in a million (float32 rounding), from the rest."""
    tiny = [d for d in differences if d.quantity == "scale" and d.relative_size < 1e-6]
    return tiny, [d for d in differences if d not in tiny]
