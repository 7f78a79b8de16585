"""The landing page's sentences about the zero point, each built from the settings and the computation.

A sentence that would not be true for the settings is not returned: the "unsigned has no negative
codes" line is not shown for a signed grid, the "is clipped" line only for an end that really is.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.conventions import ChoiceTrace, Convention, get_convention
from quantviz.errors import QuantVizError
from quantviz.grid import grid_label
from quantviz.qparams import QParams
from quantviz.quantize import choose_qparams, dequantize, quantize, quantize_trace
from quantviz.teach.causes import rule_words
from quantviz.teach.fmt import fmt
from quantviz.teach.steps import raw_zero_point


class Fact(NamedTuple):
    """One sentence and what it is about (``kind``), so tests can check each against the computation."""

    kind: str
    text: str


def zero_is_exact(qp: QParams, convention: str) -> Fact:
    """Real 0 is stored as z and comes back as exactly 0 (said as computed)."""
    code = int(quantize([0.0], qp, convention=convention)[0])
    back = float(dequantize([code], qp, convention=convention)[0])
    exact = "exactly" if back == 0 else "only approximately"
    return Fact(
        "exact_zero",
        f"**Real 0 is exact.** 0.0 is stored as **{code}** and comes back as {exact} {fmt(back)}. "
        "Zero padding, ReLU outputs and sparse tensors are full of zeros: none of them may pick up an error.",
    )


def how_z_shifts_the_grid(qp: QParams, *, signed: bool) -> Fact:
    """Where z puts real 0 on this grid, in words that hold for these settings.

    >>> how_z_shifts_the_grid(QParams(1.0, 0, 0, 255), signed=False).kind
    'at_bottom'
    """
    below, above = qp.zero_point - qp.qmin, qp.qmax - qp.zero_point
    lo, hi = fmt(qp.real_min, 6), fmt(qp.real_max, 6)
    if below == 0:
        return Fact(
            "at_bottom",
            f"**z sits at the bottom.** Your range has no negative values, so z = {qp.zero_point}, the "
            "lowest code: no code is spent below 0.",
        )
    if above == 0:
        return Fact(
            "at_top",
            f"**z sits at the top.** Your range has no positive values, so z = {qp.zero_point}, the "
            "highest code: every other code stands for a negative value.",
        )
    if not signed:
        return Fact(
            "unsigned_shift",
            f"**It shifts the grid.** An unsigned type has no negative codes; z = {qp.zero_point} "
            f"moves real 0 up the grid, so that [{lo}, 0) gets the {below} codes below it and [0, {hi}] the "
            f"{above + 1} from z up.",
        )
    if qp.zero_point == 0:
        return Fact(
            "signed_zero",
            "**No shift needed.** A signed type has negative codes of its own: z = 0, so the integer 0 is real 0.",
        )
    return Fact(
        "signed_shift",
        f"**It shifts the grid.** A signed type has negative codes, but your range is not centred on "
        f"0: z = {qp.zero_point} gives [{lo}, 0) the {below} codes below it and [0, {hi}] the {above + 1} from z up.",
    )


def symmetric_zero_points(
    convention: str, bits: int, *, narrow_range: bool = False, reduce_range: bool = False
) -> Fact | None:
    """What z a symmetric scheme gets under this convention, for the signed and the unsigned grid of ``bits``.

    The page's narrow_range and reduce_range apply: a grid the convention refuses with them is left out.
    """
    conv = get_convention(convention)
    found = []
    extra = {"narrow_range": narrow_range, "reduce_range": reduce_range}
    for signed in (True, False):
        if conv.unsupported_reason(bits=bits, signed=signed, symmetric=True, **extra):
            continue
        try:
            z = choose_qparams(
                -1.0, 1.0, bits=bits, signed=signed, symmetric=True, convention=convention, **extra
            ).zero_point
        except QuantVizError:
            continue
        found.append(f"{z} for {grid_label(bits, signed=signed)}")
    if not found:
        return None
    return Fact(
        "symmetric",
        f"**A symmetric scheme** puts z in the middle of the grid: under {conv.label}, "
        f'{" and ".join(found)}. "Symmetric" means the range is [−a, a], not that z is 0.',
    )


def clipped_ends(qp: QParams, rmin: float, rmax: float, *, convention: str) -> list[Fact]:
    """For each end of the range that is itself clipped, say why, step by step (the seed's 1000 is one)."""
    facts = []
    ends = [("rmin", rmin), ("rmax", rmax)] if rmin != rmax else [("rmin", rmin)]
    t = quantize_trace(np.array([v for _, v in ends]), qp, convention=convention)
    conv = get_convention(convention)
    nudged = conv.recipe().quantize_arithmetic == "tf_nudged"
    for i, (name, x) in enumerate(ends):
        if not t.clipped[i]:
            continue
        if nudged:  # TF clamps the real value to its nudged range before any rounding
            facts.append(
                Fact(
                    f"clipped_{name}",
                    f"**{name} = {fmt(x)} itself is clipped.** {conv.label} first clamps x "
                    f"to its nudged range [{fmt(qp.real_min, 8)}, {fmt(qp.real_max, 8)}], which "
                    f"{'starts above' if x < qp.real_min else 'ends below'} {fmt(x)}; so it is stored as "
                    f"{int(t.q[i])} and comes back as {fmt(float(t.dequantized[i]), 8)}.",
                )
            )
            continue
        pre = float(t.pre_round[i])
        tie = pre - np.floor(pre) == 0.5
        what = "x/s + z" if conv.adds_zero_point_before_rounding else "x/s"
        steps = (
            f"{what} = {fmt(pre, 12)} is exactly a tie, which rounds to "
            if tie
            else f"{what} = {fmt(pre, 12)} rounds to "
        )
        rounded = float(t.unclamped[i]) - (0 if conv.adds_zero_point_before_rounding else qp.zero_point)
        steps += fmt(rounded)
        if not conv.adds_zero_point_before_rounding:
            steps += f"; + z = {fmt(float(t.unclamped[i]))}"
        where = (
            f"the grid [{qp.storage_min}, {qp.storage_max}]"
            if (qp.storage_min, qp.storage_max) == (qp.qmin, qp.qmax)
            else f"the stored grid [{qp.storage_min}, {qp.storage_max}] (s and z were chosen on [{qp.qmin}, {qp.qmax}])"
        )
        facts.append(
            Fact(
                f"clipped_{name}",
                f"**{name} = {fmt(x)} itself is clipped.** {steps}, outside {where}"
                f", so it is stored as {int(t.q[i])} and comes back as "
                f"{fmt(float(t.dequantized[i]), 8)}.",
            )
        )
    return facts


def where_z_sits(
    qp: QParams,
    rmin: float,
    rmax: float,
    *,
    convention: str,
    bits: int,
    signed: bool,
    symmetric: bool,
    narrow_range: bool = False,
    reduce_range: bool = False,
) -> list[Fact]:
    """The share of codes below z, what the convention did to the range, and what moving it would do.

    "What moving it would do" is an experiment: the moved range is quantized under the same convention and the
    sentence reports the zero point it gets, only where the move is possible (rmin below 0; symmetric supported).

    >>> [f.kind for f in where_z_sits(choose_qparams(0, 1e-7, convention="tflite"), 0, 1e-7, convention="tflite",
    ...                               bits=8, signed=False, symmetric=False)]
    ['share', 'adjusted']
    """
    options = {"bits": bits, "signed": signed, "narrow_range": narrow_range, "reduce_range": reduce_range}
    share = qp.share_of_codes_below_zero
    facts = [
        Fact(
            kind="share",
            text=f"With [{fmt(rmin, 6)}, {fmt(rmax, 6)}] on a grid of {qp.levels} codes, {share:.0%} of the "
            f"steps lie below z and stand for negative values.",
        )
    ]
    conv = get_convention(convention)
    choice = conv.choose_trace(rmin, rmax, symmetric=symmetric, **options)
    excludes_zero = rmin > 0 or rmax < 0
    if choice.adjustment and not symmetric and not (excludes_zero and choice.adjustment == "widened to include 0"):
        lo, hi = choice.range_used
        facts.append(
            Fact(
                kind="adjusted",
                text=f"{conv.label} did not use [{fmt(rmin, 6)}, {fmt(rmax, 6)}] as given: it "
                f"{choice.adjustment.replace('widened', 'widened it')}, to [{fmt(lo, 8)}, {fmt(hi, 8)}]; "
                f"so z = {qp.zero_point}.",
            )
        )
    moves = [] if symmetric else _moves(conv, rmin, rmax, options)
    if moves:
        text = moves[0][0].upper() + moves[0][1:] + ("; " + moves[1] if len(moves) > 1 else "") + "."
        facts.append(Fact(kind="moves", text=text))
    if excludes_zero:
        facts.append(_no_zero_fact(conv, choice, qp))
    return facts


def _moves(conv: Convention, rmin: float, rmax: float, options: dict) -> list[str]:
    """What moving an asymmetric range would do to z, found by quantizing the moved range: rmin up to 0, symmetric."""
    moves = []
    if rmin < 0 < rmax:  # rmax = 0 would leave the empty range [0, 0]
        moved = _zero_point_or_none(conv, 0.0, rmax, options)
        if moved is not None:
            where = (
                "drops to the bottom of the grid" if moved.zero_point == moved.qmin else f"moves to {moved.zero_point}"
            )
            moves.append(f"move rmin up to 0 and z {where}")
    if not conv.unsupported_reason(symmetric=True, **options):
        moved = _zero_point_or_none(conv, rmin, rmax, {**options, "symmetric": True})
        if moved is not None:
            moves.append(f"tick *Symmetric* and z moves to {moved.zero_point}, the middle")
    return moves


def _no_zero_fact(conv: Convention, choice: ChoiceTrace, qp: QParams) -> Fact:
    """For a range without 0: the convention widens it, or clamps z and lets the grid slide."""
    if conv.widens_to_include_zero:
        return Fact(
            kind="no_zero",
            text=f"Your range does not contain 0: {conv.label} widens it to "
            f"[{fmt(choice.range_used[0], 6)}, {fmt(choice.range_used[1], 6)}] so that 0 keeps an exact code.",
        )
    return Fact(
        kind="no_zero",
        text=f"Your range does not contain 0: {conv.label} keeps it as given, clamps z to "
        f"{qp.zero_point} and lets the grid slide to [{fmt(qp.real_min, 6)}, {fmt(qp.real_max, 6)}].",
    )


def _zero_point_or_none(conv, rmin: float, rmax: float, options: dict) -> QParams | None:
    try:
        return conv.choose_qparams(rmin, rmax, **options)
    except QuantVizError:
        return None


def broken_zero(result, *, zeros: int, total: int) -> list[Fact]:
    """What storing real 0 inexactly costs, from a :class:`quantviz.schemes.SchemeResult` whose first value is 0.

    ``zeros`` of ``total`` inputs of a layer are exact zeros (ReLU outputs, zero padding).
    """
    err = result.zero_back
    if err == 0:
        return [
            Fact(
                "exact",
                f"Real 0 comes back as exactly 0: its code is {int(result.codes[0])}. Every zero "
                "padding value and every ReLU zero stays a zero.",
            )
        ]
    how = (
        "z = " + fmt(result.offset, 10) + " is not a whole number, so no code sits on real 0"
        if result.scheme == "fractional"
        else f"m = {fmt(result.offset, 10)} and d = {fmt(result.step, 10)}: "
        f"0 would need q = {fmt(-result.offset / result.step, 10)}, not a whole number"
    )
    return [
        Fact("inexact", f"Real 0 comes back as {fmt(err, 8)}: {how}."),
        Fact(
            "bias",
            f"Of this layer's {total:,} inputs, {zeros:,} are exact zeros. Each comes back as {fmt(err, 6)}, "
            f"so every output picks up {fmt(err, 6)} × (the sum of the weights on those inputs): the same shift "
            "every time, a bias that does not average out the way rounding noise does.",
        ),
    ]


def weights_and_bias(convention: str, bits: int) -> Fact:
    """Whether weights and bias need an exact 0, with this convention's symmetric weight zero point."""
    conv = get_convention(convention)
    z = None
    if not conv.unsupported_reason(bits=bits, signed=True, symmetric=True):
        try:
            z = choose_qparams(-1.0, 1.0, bits=bits, signed=True, symmetric=True, convention=convention).zero_point
        except QuantVizError:
            z = None
    weights = (
        f"symmetric {grid_label(bits, signed=True)} weights get z = {z} under {conv.label}, so 0 is exact for free"
        if z is not None
        else f"{conv.label} has no symmetric {grid_label(bits, signed=True)} scheme here"
    )
    return Fact(
        "weights_bias",
        f"**Weights and bias.** Zero padding and ReLU zeros are activations: they are what needs an "
        f"exact 0. Weights need it only where a zero weight must stay zero (pruned, sparse layers); {weights}. "
        "The bias is stored as int32 with scale s_in·s_w and zero point 0, so its 0 is exact too, and it is added "
        "once per output rather than once per input.",
    )


class ZeroPointFate(NamedTuple):
    """What one convention does with a range's raw zero point."""

    label: str
    grid: tuple[int, int]
    raw: float
    own_raw: float | None  # the number the convention itself rounds (its arithmetic, its adjusted range), or None
    action: str
    zero_point: int | None
    representable: tuple[float, float] | None


def zero_point_fates(
    rmin: float,
    rmax: float,
    *,
    bits: int = 8,
    signed: bool = False,
    narrow_range: bool = False,
    reduce_range: bool = False,
) -> list[ZeroPointFate]:
    """Return, per convention, the raw zero point of [rmin, rmax] as given and what the convention then does.

    The options are those of the page (asymmetric): a convention that does not support them is left out.

    >>> [(f.label, f.raw, f.zero_point) for f in zero_point_fates(250, 1000)][:2]
    [('Textbook', -85.0, 0), ('TFLite', -85.0, 0)]
    """
    from quantviz.conventions import CONVENTIONS

    options = {"bits": bits, "signed": signed, "narrow_range": narrow_range, "reduce_range": reduce_range}
    return [_fate(conv, rmin, rmax, options) for conv in CONVENTIONS.values() if not conv.unsupported_reason(**options)]


def _fate(conv: Convention, rmin: float, rmax: float, options: dict) -> ZeroPointFate:
    """What ``conv`` does with the raw zero point of [rmin, rmax]: adjusts the range, clamps z, rounds it, refuses."""
    try:
        choice = conv.choose_trace(rmin, rmax, **options)
    except ValueError as exc:
        refused = f"refuses the range: {exc}"
        return ZeroPointFate(
            label=conv.label,
            grid=(0, 0),
            raw=float("nan"),
            own_raw=None,
            action=refused,
            zero_point=None,
            representable=None,
        )
    qp = choice.qparams
    rule = rule_words(choice.zero_tie_rule) if choice.zero_tie_rule else "sets it by rule"
    if choice.adjustment:
        used = f"[{fmt(choice.range_used[0], 8)}, {fmt(choice.range_used[1], 8)}]"
        action = f"{choice.adjustment} ({used}), then rounds {rule}"
    elif choice.zero_clamped:
        action = "uses the range as given and clamps z; the grid slides"
    else:
        action = f"rounds {rule}"
    return ZeroPointFate(
        label=conv.label,
        grid=choice.grid,
        raw=raw_zero_point(*choice.range_given, *choice.grid),
        own_raw=choice.zero_raw,
        action=action,
        zero_point=qp.zero_point,
        representable=(qp.stored_min, qp.stored_max),
    )
