"""AppTest for every page: defaults, every widget, values against quantviz, links good and bad."""

from __future__ import annotations

import numpy as np
import pytest

import quantviz as qv
from quantviz.app.pages import PAGES as REGISTRY
from quantviz.teach.examples import seed_example_verdicts
from quantviz.teach.fmt import fmt
from tests.apptest_helpers import open_page

PAGES = [page.slug + ".py" for page in REGISTRY]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_at_defaults(page: str) -> None:
    at = open_page(page)
    no_exception(at)
    assert at.title and at.title[0].value
    assert not at.error


@pytest.mark.parametrize("page", PAGES)
def _changes(kind: str, widget) -> list:
    """New values to try for a widget: the other options, the other state, the far end."""
    if kind in ("checkbox", "toggle"):
        return [not widget.value]
    if kind == "selectbox":
        return [i for i in range(len(widget.options)) if i != widget.index][:6]
    if kind == "radio":
        return [o for o in widget.options if o != widget.format_func(widget.value)]
    if kind == "slider":
        return [(widget.min, widget.max)] if isinstance(widget.value, tuple) else [widget.max]
    if widget.value is None:  # an optional number left empty
        return [1.0]
    return [widget.value + (widget.step or 1)]


@pytest.mark.parametrize("page", PAGES)
def test_every_widget_can_change(page: str) -> None:
    at = open_page(page)
    kinds = ("checkbox", "toggle", "selectbox", "radio", "slider", "number_input")
    keys = [(kind, w.key) for kind in kinds for w in getattr(at, kind) if w.key and not w.disabled]
    changed = 0
    for kind, key in keys:
        try:
            values = _changes(kind, getattr(at, kind)(key=key))
        except KeyError:  # hidden by an earlier change (e.g. rounding under a framework)
            continue
        for v in values:
            try:
                w = getattr(at, kind)(key=key)
            except KeyError:
                break
            if w.disabled:
                break
            w.select_index(v) if kind == "selectbox" else w.set_value(v)
            at.run()
            no_exception(at)
            changed += 1
    assert changed >= (
        1 if page in ("glossary.py", "your_model.py") else 3
    )  # only the presenter toggle (before an upload)


def test_landing_numbers_come_from_quantviz() -> None:
    at = open_page("zero_point.py", {"rmin": "-0.5", "rmax": "3", "signed": "true"})
    qp = qv.choose_qparams(-0.5, 3.0, signed=True)
    m = metrics(at)
    assert m["scale s"] == fmt(qp.scale, 8)
    assert m["zero point z"] == str(qp.zero_point) == "-92"
    assert m["grid"] == "[-128, 127]"


def live_data(at) -> dict:
    """The data the live number line was mounted with (its rules, settings and palette)."""
    import json

    (element,) = at.get("bidi_component")
    return json.loads(element.proto.json)


def test_a_released_range_moves_scale_and_zero_point() -> None:
    # The live number line's release writes the range into the widgets' state (quantviz.app.live._apply_release);
    # the rerun that follows draws it everywhere.
    at = open_page("zero_point.py")
    assert live_data(at)["settings"]["rmin"] == -1000.0
    at.session_state["w_rmin"], at.session_state["w_rmax"] = -500.0, 1500.0
    at.run()
    no_exception(at)
    qp = qv.choose_qparams(-500.0, 1500.0)
    assert at.number_input(key="w_rmin").value == -500.0
    assert metrics(at)["zero point z"] == str(qp.zero_point) == "64"
    assert (live_data(at)["settings"]["rmin"], live_data(at)["settings"]["rmax"]) == (-500.0, 1500.0)
    at.number_input(key="w_rmax").set_value(6.0).run()
    at.number_input(key="w_rmin").set_value(0.0).run()
    assert metrics(at)["zero point z"] == "0"
    assert (live_data(at)["settings"]["rmin"], live_data(at)["settings"]["rmax"]) == (0.0, 6.0)
    assert not at.get("plotly_chart") and not [sl for sl in at.slider if sl.key == "w_range_slider"]


def test_conventions_change_the_numbers() -> None:
    at = open_page("zero_point.py")
    at.checkbox(key="w_signed").check().run()
    at.selectbox(key="w_conv").set_value("tflite").run()
    no_exception(at)
    assert metrics(at)["zero point z"] == "-1"  # TFLite's HAZ(-0.5), see reference-semantics
    at.selectbox(key="w_conv").set_value("tf_fake_quant").run()
    no_exception(at)
    # unsigned only: the signed box is shown disabled with the reason, z back to 128
    assert metrics(at)["zero point z"] == "128"
    locked = at.checkbox(key="w_signed_locked")
    assert locked.disabled and not locked.value and "unsigned" in locked.help
    at.selectbox(key="w_conv").set_value("textbook").run()
    assert at.checkbox(key="w_signed").value is True  # the user's choice came back


def test_number_line_probe_steps() -> None:
    at = open_page("number_line.py", {"probe": "1000", "zfirst": "true", "rounding": "half_away_from_zero"})
    no_exception(at)
    latex = [x.value for x in at.latex]
    assert any("255.5" in x for x in latex) and any(r"\operatorname{clamp}(256" in x for x in latex)
    assert any("11111111" in x for x in latex)
    qp = qv.choose_qparams(-1000, 1000)
    t = qv.quantize_trace([1000.0], qp, rounding="half_away_from_zero", add_zero_point_before_rounding=True)
    assert any(f"is stored as q = {int(t.q[0])}" in m.value for m in at.markdown)
    data = live_data(at)["settings"]
    assert (data["probe"], data["z_first"], data["rounding"]) == (1000.0, True, "half_away_from_zero")
    assert len(at.get("plotly_chart")) == 1  # the staircase; the number line is the live component


def test_number_line_probe_starts_inside_a_small_range() -> None:
    # a link with a small range opens on a probe inside the grid, not on the default clipped at the top
    at = open_page("number_line.py", {"rmin": "-2", "rmax": "6"})
    no_exception(at)
    qp = qv.choose_qparams(-2, 6)
    probe = at.number_input(key="w_probe").value
    assert qp.real_min <= probe <= qp.real_max and probe != 39.215686275
    assert not any("⚠ clipped" in m.value for m in at.markdown)
    # the default range keeps the default probe; a probe the link chose is kept even when it clips
    assert open_page("number_line.py").number_input(key="w_probe").value == 39.215686275
    at = open_page("number_line.py", {"rmin": "-2", "rmax": "6", "probe": "100"})
    assert at.number_input(key="w_probe").value == 100.0
    assert any("⚠ clipped" in m.value for m in at.markdown)


def test_number_line_released_probe_syncs() -> None:
    at = open_page("number_line.py")
    at.session_state["w_probe"] = -500.0  # what a release of the probe on the live line writes
    at.run()
    no_exception(at)
    assert at.number_input(key="w_probe").value == -500.0
    assert live_data(at)["settings"]["probe"] == -500.0


def test_rounding_error_metrics_match_quantviz() -> None:
    at = open_page(
        "rounding_error.py",
        {"rmin": "-4", "rmax": "4", "dist": "laplace", "size": "5000", "seed": "3", "spread": "1.0"},
    )
    no_exception(at)
    from quantviz.metrics import error_stats
    from quantviz.samples import sample_data

    x = sample_data("laplace", 5000, 3)
    stats = error_stats(qv.quantize_trace(x, qv.choose_qparams(-4, 4)))
    m = metrics(at)
    assert m["MSE"] == fmt(stats.mse, 4)
    assert m["clipped"] == f"{stats.clipped_share:.2%}"
    assert len(at.get("plotly_chart")) == 3


def test_rounding_error_fit_button() -> None:
    at = open_page("rounding_error.py", {"size": "1000", "spread": "1"})
    assert at.warning  # [-1000, 1000] is far wider than N(0, 1)
    at.button[0].click().run()
    no_exception(at)
    from quantviz.samples import sample_data

    x = sample_data("normal", 1000, 0)
    assert at.number_input(key="w_rmin").value == pytest.approx(x.min())


def test_worked_examples_seed_verdicts() -> None:
    at = open_page("worked_examples.py")
    no_exception(at)
    text = " ".join(m.value for m in at.markdown)
    for v in seed_example_verdicts():
        assert v.claim in text
    assert text.count("does not hold") == sum(v.holds is False for v in seed_example_verdicts())
    assert "depends on the tie rule" in text


@pytest.mark.parametrize("preset", ["relu6", "weights", "int4", "no_zero", "own"])
def test_worked_examples_presets(preset: str) -> None:
    at = open_page("worked_examples.py", {"preset": preset})
    no_exception(at)
    assert at.tabs and len(at.latex) > 5


def test_your_values_table_rows() -> None:
    at = open_page("your_values.py", {"values": "0.5, -0.25, 3e0, 7"})
    no_exception(at)
    df = at.dataframe[0].value
    qp = qv.choose_qparams(-1000, 1000)
    t = qv.quantize_trace([0.5, -0.25, 3.0, 7.0], qp)
    assert df["q"].tolist() == t.q.tolist()
    assert df["dequantized"].tolist() == t.dequantized.tolist()
    assert df["binary"].tolist() == [qv.to_binary(q, 8, signed=False) for q in t.q]


def test_your_values_range_from_data_and_download() -> None:
    at = open_page("your_values.py", {"values": "0, 1, 2, 6", "range_from": "data"})
    no_exception(at)
    qp = qv.choose_qparams(0, 6)
    assert metrics(at)["scale s"] == fmt(qp.scale, 8)
    assert at.get("download_button")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("1, two, 3", "value 2, 'two'"), ("", "no numbers"), ("1, nan", "NaN"), ("__import__('os')", "not a number")],
)
def test_your_values_bad_input_keeps_text(text: str, fragment: str) -> None:
    at = open_page("your_values.py")
    at.text_area(key="w_values").input(text).run()
    no_exception(at)
    assert any(fragment in e.value for e in at.error)
    assert at.text_area(key="w_values").value == text


def test_your_values_drop_nonfinite() -> None:
    at = open_page("your_values.py", {"values": "1, nan, 2", "drop_nonfinite": "true"})
    no_exception(at)
    assert any("dropped 1 NaN" in i.value for i in at.info)
    assert at.dataframe[0].value["x"].tolist() == [1.0, 2.0]


def test_frameworks_table() -> None:
    at = open_page("frameworks.py", {"probes": "39.215686275, 0, 1000, -1000"})
    no_exception(at)
    df = at.dataframe[0].value.data if hasattr(at.dataframe[0].value, "data") else at.dataframe[0].value
    pytorch = df[df["convention"] == "PyTorch"].iloc[0]
    assert pytorch["q(-1000)"] == 1 and pytorch["zero point"] == 128
    onnx = df[df["convention"] == "ONNX Runtime"].iloc[0]
    assert onnx["q(-1000)"] == 0
    text = " ".join(m.value for m in at.markdown)
    assert "x = -1000 gives 1" in text


def test_frameworks_unsupported_listed() -> None:
    at = open_page("frameworks.py", {"bits": "4", "signed": "true"})
    no_exception(at)
    text = " ".join(m.value for m in at.markdown)
    assert "TF fake-quant" in text and "TFLite" in text


def test_link_reproduces_view() -> None:
    query = {"rmin": "-3", "rmax": "5", "bits": "4", "signed": "true", "conv": "pytorch", "probe": "1.25"}
    at = open_page("number_line.py", query)
    no_exception(at)
    qp = qv.choose_qparams(-3, 5, bits=4, signed=True, convention="pytorch")
    m = metrics(at)
    assert (m["scale s"], m["zero point z"]) == (fmt(qp.scale, 8), str(qp.zero_point))
    assert at.number_input(key="w_probe").value == 1.25
    assert at.slider(key="w_bits").value == 4


@pytest.mark.parametrize(
    "query",
    [
        {"bits": "banana"},
        {"bits": "99"},
        {"rmin": "nan"},
        {"rmin": "1e400"},
        {"conv": "caffe"},
        {"signed": "maybe"},
        {"rmin": "x" * 5000},
        {"rounding": "<script>"},
    ],
)
def test_bad_link_gives_defaults_and_message(query: dict[str, str]) -> None:
    at = open_page("zero_point.py", query)
    no_exception(at)
    assert at.warning and "could not be used" in at.warning[0].value
    assert metrics(at)["zero point z"] == "128"


def test_link_with_min_above_max_says_so() -> None:
    at = open_page("zero_point.py", {"rmin": "5", "rmax": "1"})
    no_exception(at)
    assert any("larger than range maximum" in e.value for e in at.error)
    assert at.number_input(key="w_rmin").value == 5.0  # kept as given


def test_duplicated_link_param() -> None:
    from streamlit.testing.v1 import AppTest

    from tests.apptest_helpers import APP

    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["bits"] = ["4", "6"]
    at.run()
    no_exception(at)
    assert any("2 times" in w.value for w in at.warning)


def test_values_flow_to_rounding_page() -> None:
    at = open_page("your_values.py", {"values": "1, 2, 3, 4"})
    at.switch_page("app_pages/rounding_error.py").run()
    at.radio(key="w_source").set_value("yours").run()
    no_exception(at)
    assert metrics(at)["clipped"] == "0.00%"
    assert np.isfinite(float(metrics(at)["MSE"]))


def test_calibration_page_table() -> None:
    at = open_page("calibration.py", {"cal_size": "5000", "signed": "true", "symmetric": "true"})
    no_exception(at)
    df = at.dataframe[0].value
    assert df["method"].tolist() == ["min-max", "percentile 99.9", "MSE-optimal", "KL entropy"]
    from quantviz.calibrate import minmax_range
    from quantviz.samples import sample_data

    lo, hi = minmax_range(sample_data("outliers", 5000, 0))
    assert df["range"][0] == f"[{fmt(lo, 5)}, {fmt(hi, 5)}]"


def test_per_channel_page_metrics() -> None:
    at = open_page(
        "per_channel.py",
        {
            "pc_rows": "8",
            "pc_cols": "16",
            "pc_group": "4",
            "signed": "true",
            "symmetric": "true",
            "narrow": "true",
            "bits": "4",
            "conv": "pytorch",
        },
    )
    no_exception(at)
    from quantviz.granularity import quantize_weights, weight_matrix

    w = weight_matrix(8, 16, spread_decades=2.0, seed=0)
    r = quantize_weights(w, "channel", group_size=4, bits=4, narrow_range=True, convention="pytorch")
    assert metrics(at)["per output channel (one per row)"] == f"MSE {fmt(float(np.mean(r.row_mse)), 3)}"
    assert "Symmetric int4, narrow range, PyTorch convention" in " ".join(c.value for c in at.caption)


def test_integer_arithmetic_page_matches_intmath() -> None:
    at = open_page("integer_arithmetic.py", {"ia_seed": "5", "ia_pc": "true"})
    no_exception(at)
    from quantviz.intmath import worked_fully_connected

    r = worked_fully_connected(batch=2, n_in=4, n_out=3, per_channel=True, seed=5)
    df = at.dataframe[3].value
    assert df["+ z₃, clamp → q₃"].tolist() == r.steps.output.ravel().tolist()
    assert df["M0 (Q31)"].tolist() == np.tile(r.steps.m0, 2).tolist()


def test_low_bit_page_matches_formats() -> None:
    at = open_page("low_bit.py", {"lb_size": "1000"})
    no_exception(at)
    from quantviz.formats import compare_formats
    from quantviz.samples import sample_data

    expected = [round(r.sqnr_db, 2) for r in compare_formats(sample_data("normal", 1000, 0))]
    assert at.dataframe[0].value["SQNR (dB)"].tolist() == expected


def test_fake_quant_page_stuck_values() -> None:
    at = open_page("fake_quant.py", {"rmin": "-1", "rmax": "1", "fq_size": "500", "fq_spread": "0.6"})
    no_exception(at)
    from quantviz.samples import sample_data

    x = sample_data("normal", 500, 0) * 0.6
    mask = qv.ste_mask(x, qv.choose_qparams(-1, 1))
    assert metrics(at)["values stuck"] == f"{int((~mask).sum()):,}"
    # the data stay put while the range moves: a wider range frees values
    at.number_input(key="w_rmax").set_value(2.0).run()
    wider = qv.ste_mask(x, qv.choose_qparams(-1, 2))
    assert metrics(at)["values stuck"] == f"{int((~wider).sum()):,}" != f"{int((~mask).sum()):,}"


def test_worked_examples_slides_step_through() -> None:
    at = open_page("worked_examples.py", {"slides": "true"})
    no_exception(at)
    verdicts = seed_example_verdicts()
    assert any(f"Step 1 of {len(verdicts)}" in c.value for c in at.caption)
    next_button = next(b for b in at.button if b.label == "Next")
    next_button.click().run()
    no_exception(at)
    assert any(f"Step 2 of {len(verdicts)}" in c.value for c in at.caption)
    assert verdicts[1].claim in " ".join(m.value for m in at.markdown)
    next(b for b in at.button if b.label == "Previous").click().run()
    assert any(f"Step 1 of {len(verdicts)}" in c.value for c in at.caption)
    at.selectbox(key="w_preset").set_value("relu6").run()
    no_exception(at)
    assert any("Step 1 of" in c.value for c in at.caption)


def _answer(at, i: int, ex, right: bool) -> None:
    for a in ex.answers:
        key = f"ex_42_medium_{i}_{a.name}"
        if a.kind == "choice":
            at.radio(key=key).set_value(a.expected if right else next(c for c in a.choices if c != a.expected))
        else:
            at.text_input(key=key).input(str(a.expected) if right else "123456789")
    [b for b in at.button if b.label == "Check"][i].click().run()


def test_exercises_same_seed_same_questions_and_scoring() -> None:
    from quantviz.teach.exercises import make_exercises

    at = open_page("exercises.py", {"ex_seed": "42", "ex_level": "medium"})
    no_exception(at)
    exercises = make_exercises(42, "medium")
    text = " ".join(m.value for m in at.markdown)
    for ex in exercises:
        assert ex.prompt in text
    _answer(at, 0, exercises[0], right=True)
    no_exception(at)
    assert metrics(at)["Score"] == f"1 / {len(exercises)}"
    _answer(at, 1, exercises[1], right=False)
    assert metrics(at)["Score"] == f"1 / {len(exercises)}"
    text = " ".join(m.value for m in at.markdown)
    assert "**right**" in text and "**not yet**" in text
    assert len(at.expander) >= 2  # worked solutions revealed after the attempts


def test_exercises_new_set_changes_seed() -> None:
    at = open_page("exercises.py", {"ex_seed": "42"})
    before = at.number_input(key="w_ex_seed").value
    next(b for b in at.button if b.label == "New set").click().run()
    no_exception(at)
    assert at.number_input(key="w_ex_seed").value != before


def test_link_panel_has_the_view() -> None:
    at = open_page("number_line.py", {"rmin": "-3", "rmax": "5", "probe": "1.25"})
    no_exception(at)
    code = " ".join(c.value for c in at.code)
    assert "rmin=-3" in code and "probe=1.25" in code


@pytest.mark.parametrize("page", PAGES)
def test_every_widget_has_a_label_and_help(page: str) -> None:
    at = open_page(page)
    kinds = ("checkbox", "toggle", "selectbox", "radio", "slider", "number_input", "text_input", "text_area", "button")
    missing = [(kind, w.label) for kind in kinds for w in getattr(at, kind) if not w.label or not w.help]
    assert not missing, missing


def test_scale_and_zero_point_entered_directly_from_a_link() -> None:
    """Your model links to the Number line with a tensor's own s and z: the page uses them as stored."""
    s = float(np.float32(0.03787451982498169))
    at = open_page("number_line.py", {"set": "sz", "s": repr(s), "z": "15", "bits": "8", "signed": "true"})
    no_exception(at)
    m = metrics(at)
    assert m["scale s"] == fmt(s, 8) and m["zero point z"] == "15" and m["grid"] == "[-128, 127]"
    assert any("They were not chosen here" in md.value for md in at.markdown)
    at = open_page("number_line.py", {"set": "sz", "s": "0.5", "z": "300", "bits": "8", "signed": "true"})
    assert any("outside the integer grid" in e.value for e in at.error)  # z = 300 has no code on int8


def test_worked_example_from_a_stored_scale_and_zero_point() -> None:
    at = open_page(
        "worked_examples.py", {"preset": "own", "set": "sz", "s": "0.5", "z": "-3", "bits": "4", "signed": "true"}
    )
    no_exception(at)
    text = " ".join(m.value for m in at.markdown)
    assert "s = 0.5, z = -3" in text and "Entered directly" in text
    qp = qv.QParams(0.5, -3, -8, 7)
    assert any(f"{fmt(qp.real_max)}" in t.label for t in at.tabs)  # a tab per value, the grid's top among them
