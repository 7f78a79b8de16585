"""The Beyond-rounding page shows quantviz.algorithms' numbers, takes its settings from a link, and refuses bad ones."""

from __future__ import annotations

import quantviz.algorithms as qa
from quantviz.teach.fmt import fmt
from tests.apptest_helpers import open_page

QUERY = {
    "ab_out": "16",
    "ab_in": "64",
    "ab_samples": "64",
    "ab_outliers": "2",
    "ab_seed": "3",
    "ab_bits": "3",
    "ab_group": "32",
    "ab_act": "true",
    "ab_damp": "0.1",
    "ab_alpha": "0.75",
    "ab_rseed": "5",
}


def metric_values(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_page_numbers_come_from_quantviz_and_the_link():
    at = open_page("beyond_rounding.py", QUERY)
    assert not at.exception
    lay = qa.toy_layer(16, 64, 64, outliers=2, outlier_scale=20.0, seed=3)
    r = qa.gptq(lay.weight, lay.inputs, bits=3, group_size=32, symmetric=True, act_order=True, damp=0.1)
    shown = metric_values(at)
    assert shown["Output MSE, GPTQ"] == fmt(r.output_mse, 4)
    assert shown["Output MSE, rounding"] == fmt(r.rtn_output_mse, 4)
    e = qa.rotation_errors(lay.weight, lay.inputs, 3, 32, True, 5)
    assert shown["int3 activations, after"] == f"{fmt(e.activations_after_db, 3)} dB"
    text = " ".join(m.value for m in at.markdown)
    before = qa.w8a8_error(lay.weight, lay.inputs)
    sq = qa.smoothquant(lay.weight, lay.inputs, 0.75)
    after = qa.w8a8_error(sq.weight, sq.inputs)
    assert f"with α = 0.75: {fmt(after.output_mse, 4)}" in text and fmt(before.output_mse, 4) in text
    # the compare table's links reopen each point: this layer, at that point's bit width and group size
    table = at.dataframe[0].value
    assert set(table["group"]) == {"32", "64", "one per row"}
    for link, g, b in zip(table["open"], table["group"], table["bits"], strict=True):
        assert "ab_out=16" in link and f"ab_bits={b}" in link
        assert ("ab_group=32" in link) == (g == "32")


def test_group_that_does_not_divide_is_refused_in_words():
    at = open_page("beyond_rounding.py", {"ab_in": "64", "ab_group": "128"})
    assert not at.exception
    assert any("does not divide the 64 inputs" in e.value for e in at.error)


def test_bad_link_value_falls_back_with_a_message():
    at = open_page("beyond_rounding.py", {"ab_alpha": "7", "ab_in": "100"})
    assert not at.exception
    warning = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "ab_alpha=7` must be between 0 and 1" in warning and "ab_in=100` must be one of 64, 128, 256" in warning


EXAMPLE_LINK = {"source": "example", "model": "onnx_qdq", "tensor": "fc1.weight_quantized", "ab_samples": "64"}


def test_example_tensor_link_opens_that_weight_as_the_layer():
    from quantviz.algorithms.example_layer import example_weight
    from quantviz.algorithms.layer import own_layer

    at = open_page("beyond_rounding.py", EXAMPLE_LINK)
    assert not at.exception
    e = example_weight("onnx_qdq", "fc1.weight_quantized")
    lay = own_layer(e.weight, samples=64, outliers=4, outlier_scale=20.0, seed=0)
    assert lay.weight.shape == (32, 256)  # (144, 32) MatMul weight → (32, 144), padded to 256
    r = qa.gptq(lay.weight, lay.inputs, bits=4)
    assert metric_values(at)["Output MSE, GPTQ"] == fmt(r.output_mse, 4)
    captions = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "transposed to (32, 144)" in captions and "112 zero input columns are appended" in captions
    assert "W is 32 × 256, with 64 calibration inputs" in captions
    assert at.selectbox(key="w_tensor").value == "fc1.weight_quantized"


def test_example_link_to_a_missing_tensor_says_so_and_shows_the_first():
    at = open_page("beyond_rounding.py", {**EXAMPLE_LINK, "tensor": "nope"})
    assert not at.exception
    assert any(
        "has no weight tensor named nope; showing conv.weight_quantized" in w.value.replace("\\", "")
        for w in at.warning
    )
    assert "reshaped to (4, 27)" in " ".join(c.value for c in at.caption).replace("\\", "")


def test_upload_without_a_file_asks_for_one():
    at = open_page("beyond_rounding.py", {"source": "upload"})
    assert not at.exception
    assert any("Upload a weight as a `.npy` file" in i.value for i in at.info)
