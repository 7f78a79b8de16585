"""Every sentence that depends on the settings says what the computation says, and only where it applies."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import quantviz as qv
from quantviz.qparams import QParams
from quantviz.teach.fmt import fmt
from quantviz.teach.probe import default_probe
from quantviz.teach.steps import qparams_steps, raw_zero_point
from quantviz.teach.zero_point import (
    clipped_ends,
    how_z_shifts_the_grid,
    symmetric_zero_points,
    where_z_sits,
    zero_is_exact,
    zero_point_fates,
)

RANGES = [(-1000.0, 1000.0), (-1.0, 1.0), (0.0, 6.0), (250.0, 1000.0), (-3.0, -0.25), (-0.5, 3.0), (-2.0, 0.0)]
CASES = [
    (lo, hi, bits, signed, symmetric, convention)
    for (lo, hi), bits, signed, symmetric, convention in itertools.product(
        RANGES, [4, 8], [False, True], [False, True], list(qv.CONVENTIONS)
    )
    if not qv.get_convention(convention).unsupported_reason(bits=bits, signed=signed, symmetric=symmetric)
]


def chosen(lo, hi, bits, signed, symmetric, convention):
    try:
        return qv.choose_qparams(lo, hi, bits=bits, signed=signed, symmetric=symmetric, convention=convention)
    except qv.QuantVizError:
        return None


@pytest.mark.parametrize(("lo", "hi", "bits", "signed", "symmetric", "convention"), CASES)
def test_landing_page_sentences_match_the_computation(lo, hi, bits, signed, symmetric, convention) -> None:
    qp = chosen(lo, hi, bits, signed, symmetric, convention)
    if qp is None:
        return
    exact = zero_is_exact(qp, convention)
    assert f"stored as **{int(qv.quantize([0.0], qp, convention=convention)[0])}**" in exact.text
    assert "exactly 0" in exact.text

    shift = how_z_shifts_the_grid(qp, signed=signed)
    below, above = qp.zero_point - qp.qmin, qp.qmax - qp.zero_point
    expected = (
        "at_bottom"
        if below == 0
        else "at_top"
        if above == 0
        else "unsigned_shift"
        if not signed
        else "signed_zero"
        if qp.zero_point == 0
        else "signed_shift"
    )
    assert shift.kind == expected
    assert ("no negative codes" in shift.text) == (expected == "unsigned_shift")
    if expected in ("unsigned_shift", "signed_shift"):
        assert f"the {below} codes below it" in shift.text and f"z = {qp.zero_point}" in shift.text

    t = qv.quantize_trace([lo, hi] if lo != hi else [lo], qp, convention=convention)
    facts = clipped_ends(qp, lo, hi, convention=convention)
    assert {f.kind for f in facts} == {f"clipped_{n}" for n, c in zip(("rmin", "rmax"), t.clipped, strict=False) if c}
    for fact, i in zip(facts, np.flatnonzero(t.clipped), strict=True):
        assert f"stored as {int(t.q[i])}" in fact.text

    sym = symmetric_zero_points(convention, bits)
    for signed_grid in (True, False):
        other = chosen(-1.0, 1.0, bits, signed_grid, True, convention)
        if other is not None and not qv.get_convention(convention).unsupported_reason(
            bits=bits, signed=signed_grid, symmetric=True
        ):
            assert f"{other.zero_point} for {qv.grid_label(bits, signed=signed_grid)}" in sym.text

    sits = where_z_sits(qp, lo, hi, convention=convention, bits=bits, signed=signed, symmetric=symmetric)
    assert f"{qp.share_of_codes_below_zero:.0%} of the" in sits[0].text
    assert any(f.kind == "no_zero" for f in sits) == (lo > 0 or hi < 0)
    assert all("drops to the bottom" not in f.text for f in sits) or qp.zero_point != qp.qmin


@pytest.mark.parametrize(("lo", "hi", "bits", "signed", "symmetric", "convention"), CASES)
def test_choice_steps_match_the_trace(lo, hi, bits, signed, symmetric, convention) -> None:
    qp = chosen(lo, hi, bits, signed, symmetric, convention)
    if qp is None:
        return
    conv = qv.get_convention(convention)
    steps = qparams_steps(lo, hi, convention=convention, bits=bits, signed=signed, symmetric=symmetric)
    labels = [s.label for s in steps]
    excludes_zero = lo > 0 or hi < 0
    assert ("Widen the range to include 0" in labels) == (
        excludes_zero and conv.widens_to_include_zero and not symmetric
    )
    assert ("No widening: the zero point is clamped" in labels) == (
        excludes_zero and not conv.widens_to_include_zero and not symmetric
    )
    assert ("The zero point of the range as given" in labels) == (excludes_zero and not symmetric)
    by_label = {s.label: s for s in steps}
    if "The zero point of the range as given" in by_label:
        grid = conv.choose_trace(lo, hi, bits=bits, signed=signed).grid
        assert by_label["The zero point of the range as given"].value == fmt(raw_zero_point(lo, hi, *grid), 8)
    assert by_label["Scale: real width per integer step"].value == fmt(qp.scale)
    zero = next(s for s in steps if s.label.startswith("Zero point"))
    assert zero.value == str(qp.zero_point)
    assert steps[-1].value == f"[{fmt(qp.stored_min)}, {fmt(qp.stored_max)}]"
    if "is exactly a tie" in zero.note:
        raw = conv.choose_trace(lo, hi, bits=bits, signed=signed, symmetric=symmetric).zero_raw
        assert raw - np.floor(raw) == 0.5


def test_range_without_zero_raw_zero_points() -> None:
    """Confusion 3: [250, 1000] asks for z = −85 on uint8 and −213 on int8; frameworks widen, TF fake-quant clamps."""
    fates = {f.label: f for f in zero_point_fates(250, 1000)}
    assert fates["Textbook"].raw == -85.0 and fates["Textbook"].zero_point == 0
    assert "clamps z" in fates["TF fake-quant"].action
    assert fates["TF fake-quant"].representable[1] == pytest.approx(750, rel=1e-6)
    assert {f.raw for f in zero_point_fates(250, 1000, signed=True)} == {-213.0}
    widen = next(s for s in qparams_steps(250, 1000, convention="textbook") if s.label.startswith("Widen"))
    assert "a quarter of the codes" in widen.note


@settings(max_examples=200, deadline=None)
@given(lo=st.floats(-1e4, 1e4), width=st.floats(0, 1e4), bits=st.integers(2, 16), signed=st.booleans())
def test_raw_zero_point_is_where_real_zero_would_sit(lo, width, bits, signed) -> None:
    hi = lo + width
    qmin, qmax = qv.int_range(bits, signed=signed)
    raw = raw_zero_point(lo, hi, qmin, qmax)
    if hi == lo:
        assert np.isnan(raw)
        return
    s = (hi - lo) / (qmax - qmin)
    # real 0 sits raw steps above qmin: s·(qmin − raw) = lo
    assert s * (qmin - raw) == pytest.approx(lo, rel=1e-9, abs=1e-9 * max(1.0, abs(hi)))


@given(
    scale=st.floats(1e-9, 1e9),
    where=st.floats(0, 1),
    bits=st.integers(2, 16),
    signed=st.booleans(),
    default=st.floats(-1e12, 1e12),
    chosen=st.booleans(),
)
def test_a_probe_nobody_chose_starts_inside_the_grid(scale, where, bits, signed, default, chosen) -> None:
    qmin, qmax = qv.int_range(bits, signed=signed)
    qp = QParams(scale=scale, zero_point=qmin + round(where * (qmax - qmin)), qmin=qmin, qmax=qmax)
    current = default + 1.0 if chosen else default
    probe = default_probe(current, default, qp)
    if current != default or qp.real_min <= default <= qp.real_max:
        assert probe == current  # the reader's value, or a default already inside, is never moved
    else:
        assert qp.real_min <= probe <= qp.real_max


@settings(max_examples=150, deadline=None)
@given(
    lo=st.floats(-1e4, 1e4),
    width=st.floats(1e-3, 1e4),
    bits=st.integers(2, 12),
    scheme=st.sampled_from(["integer", "fractional", "offset"]),
    signed=st.booleans(),
)
def test_breaking_the_zero_point_says_what_zero_becomes(lo, width, bits, scheme, signed) -> None:
    """Confusion 2: only an integer zero point keeps real 0 exact; the sentence says what 0 comes back as."""
    from quantviz.schemes import store
    from quantviz.teach.zero_point import broken_zero

    hi = lo + width
    if not hi > lo:
        return
    result = store([0.0, lo, hi], lo, hi, bits=bits, signed=signed, scheme=scheme)
    if scheme == "integer":
        assert result.zero_back == 0.0 and result.dequantized[0] == 0.0
    else:
        # the ends of the range are kept (within rounding of the ends themselves)
        assert abs(result.dequantized[1] - lo) <= result.step / 2 + 1e-9 * width
    facts = broken_zero(result, zeros=10, total=20)
    assert (facts[0].kind == "exact") == (result.zero_back == 0)
    if result.zero_back != 0:
        assert fmt(result.zero_back, 8) in facts[0].text
        assert abs(result.zero_back) <= result.step / 2 * (1 + 1e-9) or not (lo <= 0 <= hi)


@settings(max_examples=100, deadline=None)
@given(scale=st.floats(1e-6, 1e6), zero=st.integers(-32768, 65535))
def test_every_notation_translates_back_to_the_same_quantizer(scale, zero) -> None:
    """Confusion 11: each form's parameters, as shown, map back onto the same s and z."""
    from quantviz.teach.notation import FORMS, form_parameters, notations, to_affine

    qp = qv.QParams(scale, zero, min(zero, 0), max(zero, 0) + 1)
    written = {n.key: n for n in notations(qp)}
    assert set(written) == set(FORMS)
    params = {
        "inverse": (1 / scale, zero),
        "minus": (scale, -zero),
        "offset": (scale, -zero * scale),
        "absmax": (scale * qp.qmax, qp.qmax),
    }
    for key in FORMS:
        a, b = params.get(key, (scale, zero))
        if key == "absmax":
            assert (form_parameters(key, qp) is None) == (zero != 0)
            if zero != 0:
                assert "need z = 0" in written[key].parameters
                continue
        assert form_parameters(key, qp) == pytest.approx((a, b), rel=1e-12)
        s, z = to_affine(key, a, b)
        assert s == pytest.approx(scale, rel=1e-12) and z == pytest.approx(zero, rel=1e-9, abs=1e-6)
        shown = fmt(a)
        assert ("−" + shown[1:] if shown.startswith("-") else shown) in written[key].parameters


@given(scale=st.floats(1e-6, 1e6), zero=st.floats(-70000, 70000))
def test_translation_sentence_says_what_real_zero_becomes(scale, zero) -> None:
    """Confusion 11's translator: exact 0 claimed only for a whole z; otherwise the stated code and value computed."""
    from quantviz.schemes import real_zero_back
    from quantviz.teach.notation import translation_sentence

    sentence = translation_sentence(scale, zero)
    if float(zero).is_integer():
        assert "real 0 has an exact code" in sentence and "no code stands" not in sentence
    else:
        assert f"the nearest, {int(np.rint(zero))}, comes back as {fmt(real_zero_back(scale, zero))})" in sentence
        assert real_zero_back(scale, zero) == pytest.approx(scale * (np.rint(zero) - zero))


# ----------------------------------------------------------------------------- the SQNR curve's reasons
def _measured_by_hand(x, lo, hi, widths):
    """Per width: clipping's part of the MSE, the in-range rounding MSE over s²/12, measured and model SQNR (dB)."""
    rows = []
    power = float(np.mean(x * x))  # 0 for all-zero data: its model SQNR is -inf, like the curve's
    for bits in widths:
        qp = qv.choose_qparams(lo, hi, bits=bits)
        t = qv.quantize_trace(x, qp)
        err = t.dequantized - t.x
        sq = err * err
        mse = sq.mean()
        clip = sq[t.clipped].sum() / x.size
        inside = (~t.clipped).mean()
        ratio = (sq[~t.clipped].sum() / x.size) / inside / (qp.scale**2 / 12) if inside > 0 else float("nan")
        measured = 10 * np.log10(power / mse) if mse > 0 else float("inf")
        with np.errstate(divide="ignore"):
            model = 10 * np.log10(power / (qp.scale**2 / 12))
        rows.append((bits, clip / mse if mse > 0 else 0.0, ratio, measured, model, t.clipped.mean()))
    return rows


@settings(max_examples=60, deadline=None)
@given(
    spread=st.floats(0.05, 50),
    shift=st.floats(-3, 3),
    outliers=st.integers(0, 5),
    integers=st.booleans(),
    lo=st.floats(-20, -0.1),
    hi=st.floats(0.1, 20),
    seed=st.integers(0, 2**16),
)
def test_the_sqnr_reasons_say_what_the_curve_measured(spread, shift, outliers, integers, lo, hi, seed):
    from quantviz.metrics import sqnr_by_bits
    from quantviz.teach.sqnr import sqnr_curve_reasons

    rng = np.random.default_rng(seed)
    x = rng.normal(shift, spread, size=400)
    x[:outliers] = 10 * hi  # a few values far outside the range
    if integers:
        x = np.round(x)  # values sitting on a grid of their own
    widths = list(range(2, 11))
    reasons = sqnr_curve_reasons(sqnr_by_bits(x, lo, hi, bits_list=widths))
    rows = _measured_by_hand(x, lo, hi, widths)
    text = " ".join(reasons)

    clipped = max(r[5] for r in rows)
    assert ("of the values are clipped" in text) == (clipped > 0)
    dominant = [r[0] for r in rows if r[1] >= 0.5]
    flattens = bool(dominant) and dominant[0] != widths[-1]
    assert ("clipping is most of the error" in text) == flattens
    if flattens:
        assert f"From {dominant[0]} bits on" in text

    ratio = rows[0][2]
    notable = np.isfinite(ratio) and ratio > 0 and abs(10 * np.log10(ratio)) > 1
    assert (f"At {widths[0]} bits the values inside the range" in text) == notable
    if notable:
        assert f"{ratio:.2f} × s²/12" in text
        assert ("closer to their codes" in text) == (ratio < 1)

    departures = [(abs(r[3] - r[4]), r[0], r[3] < r[4], r[1]) for r in rows if np.isfinite(r[3])]
    if departures:
        size, width, below, clip_part = max(departures)
        if size > 1.0 + 1e-6:
            line = next(r for r in reasons if r.startswith("Largest departure"))
            assert f"at {width} bits" in line and ("below" in line) == below
            assert ("where clipping is" in line) == (clip_part >= 0.5)
    if not reasons[:-1] and reasons[0].startswith("The measured curve stays within"):
        assert clipped == 0 and all(abs(r[3] - r[4]) <= 1.0 + 1e-9 for r in rows if np.isfinite(r[3]))
