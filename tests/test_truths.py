"""Sentences that were false on some settings (issue 21), each checked against the computation."""

from __future__ import annotations

import re

import numpy as np
import pytest

import quantviz as qv
from quantviz.qparams import QParams
from quantviz.teach.fmt import fmt
from quantviz.teach.probe import probe_steps
from quantviz.teach.steps import qparams_steps


def test_reference_kernels_differ_only_at_the_ties_the_rule_names() -> None:
    rule = " ".join(qv.get_convention("tflite_reference").rules)
    differ = [float(v) for v in re.findall(r"±(\d+\.5), ±\d+\.5, ±\d+\.5, … go to", rule)]
    listed = re.search(r"±0\.5, ±2\.5, ±4\.5, … go to .*?; at ±1\.5, ±3\.5, … both give the same code", rule)
    assert listed and differ == [0.5]
    qp = QParams(0.5, 0, -128, 127)  # a power-of-two scale: x·(1/s) and x/s are both exact, so both sit on the tie
    for k in range(-20, 20):
        tie = k + 0.5
        x = np.array([tie * 0.5])
        default = int(qv.quantize(x, qp, convention="tflite")[0])
        reference = int(qv.quantize(x, qp, convention="tflite_reference")[0])
        named_as_differing = abs(tie) % 4 in (0.5, 2.5)
        assert (default != reference) == named_as_differing, tie


CLAMP_CASES = [
    ("pytorch", dict(bits=8, reduce_range=True), -1000, 1000, [1500.0, 600.0, 3000.0, -1200.0]),
    ("pytorch", dict(bits=4, symmetric=True), -1, 1, [0.5, 1.2, 9.0, 20.0, -3.0]),
    ("onnxruntime", dict(bits=8, reduce_range=True, signed=True), -1, 1, [0.9, 1.5, 2.5, -3.0]),
    ("onnxruntime", dict(bits=8, symmetric=True, signed=True), -1, 1, [1.0, 1.004, -1.01]),
    ("textbook", dict(bits=8), -1000, 1000, [1500.0, 39.2]),
]


@pytest.mark.parametrize(("convention", "options", "lo", "hi", "xs"), CLAMP_CASES)
def test_representable_range_clamp_step_and_metric_agree_with_the_stored_grid(convention, options, lo, hi, xs) -> None:
    """PyTorch reduce_range, x = 1500: the range the steps call representable is where codes are not clipped."""
    qp = qv.choose_qparams(lo, hi, convention=convention, **options)
    choice = qparams_steps(lo, hi, convention=convention, **options)[-1]
    shown = [float(v) for v in choice.value.strip("[]").split(", ")]
    assert shown == [float(fmt(qp.stored_min)), float(fmt(qp.stored_max))]
    for x in xs:
        steps = probe_steps(
            x, qp, convention=convention, **{k: v for k, v in options.items() if k in ("bits", "signed")}
        )
        clamp = next(s for s in steps if s.label.startswith("Clamp"))
        clipped = "is outside the grid" in clamp.note
        inside = qp.stored_min - qp.scale / 2 <= x <= qp.stored_max + qp.scale / 2
        assert clipped == bool(qv.quantize_trace([x], qp, convention=convention).clipped[0])
        if not clipped:
            assert inside, (x, shown, clamp.note)
            assert "nothing to clip" in clamp.note
        if (qp.storage_min, qp.storage_max) != (qp.qmin, qp.qmax):
            assert clamp.label == "Clamp to the stored grid"


@pytest.mark.parametrize("convention", ["textbook", "tflite", "pytorch", "onnxruntime"])
@pytest.mark.parametrize(("lo", "hi"), [(-1000, -250), (-1, 1), (250, 1000), (-0.5, 3)])
@pytest.mark.parametrize("signed", [False, True])
def test_break_it_integer_scheme_is_the_pages_own_zero_point(convention, lo, hi, signed) -> None:
    """Signed TFLite [−1000, −250]: Break it said "its code is 255" beside the page's z = 127."""
    from quantviz.schemes import store
    from quantviz.teach.zero_point import broken_zero

    qp = qv.choose_qparams(lo, hi, bits=8, signed=signed, convention=convention)
    result = store([0.0], min(lo, 0), max(hi, 0), bits=8, signed=signed, scheme="integer", qparams=qp)
    text = broken_zero(result, zeros=1, total=2)[0].text
    assert f"its code is {qp.zero_point}." in text
    fractional = store([0.0], min(lo, 0), max(hi, 0), bits=8, signed=signed, scheme="fractional")
    assert qp.storage_min <= int(fractional.codes[0]) <= qp.storage_max  # on the page's grid, signed or not


WHERE_CASES = [
    (0, 1e-7, "tflite", False),
    (-1000, 1000, "tflite", False),
    (-0.5, 3, "pytorch", True),
    (-3, 6, "onnxruntime", False),
    (-1, 1, "tf_fake_quant", False),
    (250, 1000, "textbook", False),
    (-2e-7, 1e-7, "tflite", True),
    (-1, 6, "textbook", True),
]


@pytest.mark.parametrize(("lo", "hi", "convention", "signed"), WHERE_CASES)
def test_where_z_sits_says_what_a_move_would_really_do(lo, hi, convention, signed) -> None:
    """[0, 1e−7] under TFLite said "move rmin up to 0 and z drops to the bottom" with rmin = 0 and z = 121."""
    from quantviz.teach.zero_point import where_z_sits

    qp = qv.choose_qparams(lo, hi, bits=8, signed=signed, convention=convention)
    facts = {
        f.kind: f.text for f in where_z_sits(qp, lo, hi, convention=convention, bits=8, signed=signed, symmetric=False)
    }
    moves = facts.get("moves", "")
    if lo < 0 < hi:
        moved = qv.choose_qparams(0.0, hi, bits=8, signed=signed, convention=convention)
        expected = "drops to the bottom" if moved.zero_point == moved.qmin else f"moves to {moved.zero_point}"
        assert f"z {expected}" in moves
    else:
        assert "rmin up to 0" not in moves
    choice = qv.get_convention(convention).choose_trace(lo, hi, bits=8, signed=signed)
    assert ("adjusted" in facts) == (
        bool(choice.adjustment) and not ((lo > 0 or hi < 0) and "include 0" in choice.adjustment)
    )
    if "adjusted" in facts:
        assert f"z = {qp.zero_point}" in facts["adjusted"]


def test_tf_fake_quant_probe_clamps_first_as_tf_does() -> None:
    """[1, 2], x = 1.5: the steps said 382.5, "an exact tie", 383; TF clamps x first and gets 255."""
    qp = qv.choose_qparams(1, 2, convention="tf_fake_quant")
    steps = probe_steps(1.5, qp, convention="tf_fake_quant")
    assert steps[0].label == "Clamp x into the range first" and steps[0].value == "1"
    assert not any("382.5" in s.value or "tie" in s.note for s in steps)
    code = next(s for s in steps if s.label == "Add the zero point").value
    assert code == str(int(qv.quantize([1.5], qp, convention="tf_fake_quant")[0])) == "255"


def test_landing_formula_does_not_claim_an_equivalence() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "app_pages" / "zero_point.py").read_text()
    assert "Longleftrightarrow" not in page and "not inverses" in page


def test_translator_starts_from_the_row_above_and_has_an_absmax_form() -> None:
    """The translator's result used its own default s while the table showed the symmetric grid's."""
    from tests.apptest_helpers import open_page

    at = open_page("frameworks.py", {"symmetric": "true", "signed": "true"})
    qp = qv.choose_qparams(-1000, 1000, signed=True, symmetric=True)
    line = next(m.value for m in at.markdown if "row above written this way" in m.value)
    assert f"k = {fmt(1 / qp.scale, 10)}" in line
    at.selectbox(key="w_nt_form").set_value("absmax").run()
    line = next(m.value for m in at.markdown if "row above written this way" in m.value)
    assert f"absmax = {fmt(qp.scale * qp.qmax, 10)}" in line and "qmax = 127" in line
    at.number_input(key="w_nt_a").set_value(254.0).run()
    assert any("**s = 2**" in m.value and "**z = 0**" in m.value for m in at.markdown)


def test_block_formats_page_states_computed_sizes_and_the_spec_clip() -> None:
    from quantviz.blocks import FORMATS
    from tests.apptest_helpers import open_page

    at = open_page("block_formats.py", {"bf_fmt": "MXFP4"})
    intro = " ".join(m.value for m in at.markdown)
    four = [
        f.bits_per_weight for n, f in FORMATS.items() if n.startswith(("Q4_", "IQ4_")) or "4" in n.split("_")[0][-1:]
    ]
    assert f"store {min(four):g} to {max(four):g} bits per weight" in intro and "4.25 to 5" not in intro
    assert "Q4_K" in {*FORMATS} and "Q4_K_M is a file mixing them" in intro  # named only now that it exists
    assert "clips by 25%" in intro and "decodes to 768 under the spec and 1024 under ggml" in intro
    table = at.dataframe[0].value
    assert not any(str(v).startswith("-0.0") and float(v) == 0 for v in table["dequantized"].astype(str))
    assert (table["dequantized"].map(lambda v: np.signbit(v) and v == 0)).sum() == 0


def test_seed_scale_verdict_says_what_the_rounded_scale_really_changes() -> None:
    """It said the printed scale's excess "is what makes" ±1000 come out as printed; exact, they come out the same."""
    from quantviz.teach.examples import SEED_PRINTED_SCALE, seed_example_verdicts

    why = seed_example_verdicts()[0].why
    rule = {"rounding": "half_away_from_zero", "add_zero_point_before_rounding": True}
    exact = qv.quantize([1000.0, -1000.0], QParams(2000 / 255, 128, 0, 255), **rule).tolist()
    printed = qv.quantize([1000.0, -1000.0], QParams(SEED_PRINTED_SCALE, 128, 0, 255), **rule).tolist()
    assert exact == printed == [255, 1]
    assert "does not change the codes" in why and "what makes" not in why
    assert f"give {exact[0]} and {exact[1]}" in why


@pytest.mark.parametrize("a", [1.1, 2.2, 2.7, 4.4, 4.9, 5.4, 0.1, 19.9, 1e-30])
def test_textbook_zero_point_of_a_symmetric_range_is_the_exact_tie_rounded_to_even(a: float) -> None:
    """In float64, 0 − (−1.1)·255/2.2 = 127.49999999999999 → 127; exactly it is 127.5 → 128 (half to even)."""
    from fractions import Fraction

    exact = 0 - Fraction(-a) * 255 / (Fraction(a) - Fraction(-a))
    assert exact == Fraction(255, 2)
    assert qv.choose_qparams(-a, a, bits=8, convention="textbook").zero_point == 128
    assert qv.get_convention("textbook").choose_trace(-a, a).zero_raw == 127.5


@pytest.mark.parametrize(
    ("convention", "lo", "hi", "x", "rounding"),
    [
        ("textbook", -1000, 1000, 7.8, "floor"),
        ("textbook", -1000, 1000, -1000.0, "floor"),
        ("tf_fake_quant", -1, 1, 1.0, None),
        ("textbook", -1000, 1000, 1500.0, None),
        ("pytorch", -1, 1, 0.7, None),
        ("textbook", -1.1, 1.1, 1.1, None),
    ],
)
def test_error_step_calls_a_value_clipped_only_when_it_was(convention, lo, hi, x, rounding) -> None:
    """floor at x = 7.8 said "The value was clipped" beside "nothing to clip"; TF's float32 output noise too."""
    qp = qv.choose_qparams(lo, hi, convention=convention)
    steps = probe_steps(x, qp, convention=convention, rounding=rounding)
    clipped = bool(qv.quantize_trace([x], qp, convention=convention, rounding=rounding).clipped[0])
    error = steps[-1]
    assert error.check == (not clipped)
    assert ("was clipped" in error.note) == clipped
    rounding_step = next((s for s in steps if s.label == "Round"), None)
    if rounding in ("floor", "ceil", "toward_zero") and rounding_step is not None:
        assert "tie" not in rounding_step.note
    if rounding_step is not None and "exactly: just" in rounding_step.note:
        pre = float(qv.quantize_trace([x], qp, convention=convention).pre_round[0])
        assert pre - np.floor(pre) != 0.5


def test_audit_sentences_on_edge_ranges() -> None:
    """A batch of sentences the audit found false on unusual settings, each against the computation."""
    from quantviz.teach.compare import compare_conventions, explain_differences
    from quantviz.teach.zero_point import clipped_ends

    # TF narrow [-3, 5]: rmin is clipped by TF's clamp of x, not by a code outside [1, 255]
    qp = qv.choose_qparams(-3, 5, convention="tf_fake_quant", narrow_range=True)
    text = " ".join(f.text for f in clipped_ends(qp, -3, 5, convention="tf_fake_quant"))
    assert "outside the grid" not in text and "nudged range" in text
    # ONNX Runtime at ±1e-30: the note names the float64 s it computes z with, not the stored float32 one
    zero = next(s for s in qparams_steps(-1e-30, 1e-30, convention="onnxruntime") if s.label.startswith("Zero point"))
    choice = qv.get_convention("onnxruntime").choose_trace(-1e-30, 1e-30)
    if "just off the tie" in zero.note:
        f64_scale = 2 * float(np.float32(1e-30)) / 255  # ONNX Runtime: float32 ends, s and z in float64
        assert fmt(f64_scale, 12) in zero.note and fmt(choice.scale, 12) not in zero.note
    # PyTorch's eps floor is named, not shown as a quotient
    scale = next(s for s in qparams_steps(-1e-30, 1e-30, convention="pytorch") if s.label.startswith("Scale"))
    assert r"\max" in scale.formula and "eps" in scale.note
    empty = next(s for s in qparams_steps(0, 0, convention="textbook") if s.label.startswith("Scale"))
    assert empty.formula == "s = 1"
    # "the textbook gives an empty range s = 1" for [0, 1e-7], which is not empty
    rows = compare_conventions(0, 1e-7, [0.0])
    sentences = " ".join(d.sentence for d in explain_differences(rows, [0.0], rmin=0, rmax=1e-7))
    assert "gives an empty range s = 1" not in sentences and "the the" not in sentences
    # TFLite at 16 bits: its 16x8 mode is not denied
    reason = qv.get_convention("tflite").unsupported_reason(bits=16)
    assert "16x8" in reason and "use 8 bits" not in reason
    # TF's z clamped, not rounded, where the range has no 0
    nudge = next(s for s in qparams_steps(-1000, -250, convention="tf_fake_quant") if s.label.startswith("Nudge"))
    assert "clamps z to 255" in nudge.note
    # the other grid's raw zero point names its grid
    given = qparams_steps(250, 1000, convention="textbook")[0]
    assert "int8 grid [-128, 127], which this page does not use" in given.note


def test_audit_sentences_second_batch() -> None:
    from quantviz.formats import compare_formats
    from quantviz.teach.examples import seed_example_verdicts
    from quantviz.teach.formats import int8_vs_fp8
    from quantviz.teach.zero_point import symmetric_zero_points

    # the seed's −1000: ONNX Runtime sits on the tie, PyTorch's fma does not
    why = seed_example_verdicts()[4].why
    assert (
        "ONNX Runtime stores 0" in why and "-127.5, a tie" in why and "PyTorch stores 1" in why and "not a tie" in why
    )
    # int8 against FP8: the winner named is the one measured, on long-tailed data too
    laplace = np.random.default_rng(1).laplace(size=20_000)
    results = {r.name: r for r in compare_formats(laplace)}
    winner = "int8" if results["int8"].sqnr_db >= results["fp8 e4m3"].sqnr_db else "E4M3"
    assert f"On this data {winner} wins" in int8_vs_fp8(list(results.values()))
    # PyTorch refuses symmetric quint8 with reduce_range: the landing sentence does not offer it
    fact = symmetric_zero_points("pytorch", 4, reduce_range=True)
    assert fact is None or "uint4" not in fact.text
    # PyTorch below 8 bits: fake_quantize clamps to [quant_min, quant_max], quantize_per_tensor to the 8-bit type
    qp = qv.choose_qparams(-2, 6, bits=4, signed=True, convention="pytorch")
    assert qv.fake_quantize_range(qp, convention="pytorch") == pytest.approx((qp.real_min, qp.real_max), rel=1e-6)
    assert qv.fake_quantize_range(qp, convention="pytorch") != (qp.stored_min, qp.stored_max)
    steps = probe_steps(0.5, qp, convention="pytorch", bits=4, signed=True)
    assert any(s.label == "Store as int8" for s in steps)


@pytest.mark.parametrize(
    ("page", "query"), [("per_channel.py", {"pc_rows": "100000"}), ("block_formats.py", {"bf_blocks": "99"})]
)
def test_a_bad_page_setting_in_a_link_is_reported_on_the_first_view(page, query) -> None:
    from tests.apptest_helpers import open_page

    at = open_page(page, query)
    assert not at.exception
    assert any("could not be used" in w.value for w in at.warning), [w.value for w in at.warning]
