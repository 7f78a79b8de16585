"""Your model on the page: the first visit opens an example and shows its summary, a tensor and a debug run whose
words and chart come from the computation; every example opens; the run's words match the rows."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantviz.app.model_figures import sqnr_along_graph_figure
from quantviz.models import open_model
from quantviz.models.debug import DebugRow, debug_run, inputs_from_file, sample_inputs
from quantviz.models.examples import EXAMPLES, example_path
from quantviz.models.summary import describe
from quantviz.teach.model_run import debug_verdict

pytest.importorskip("onnxruntime")


def open_page(query: dict[str, str] | None = None):
    from tests.apptest_helpers import open_page as open_app_page

    return open_app_page("your_model.py", query)


def unescape(text: str) -> str:
    return text.replace("\\", "")


def test_first_visit_shows_an_example_summary_tensor_and_debug_run() -> None:
    at = open_page()
    assert not at.exception, [e.value for e in at.exception]
    example = EXAMPLES["onnx_qdq"]
    quantized, original = open_model(example_path(example.quantized)), open_model(example_path(example.original))
    text = " ".join(unescape(m.value) for m in at.markdown)
    assert describe(quantized)[0] in text
    run = debug_run(original, quantized, sample_inputs(original, 4, 0))
    for line in debug_verdict(run.rows):
        assert line in text
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # the tensor's number line and SQNR along the graph
    assert any(
        "Ran onnx_float.onnx and onnx_qdq.onnx with onnxruntime on 4 inputs" in unescape(c.value) for c in at.caption
    )
    assert any(c.value.startswith(f"Read {len(quantized.tensors)} tensors in ") for c in at.caption)


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_every_example_opens_and_runs(example: str) -> None:
    at = open_page({"model_src": example})
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    text = " ".join(unescape(m.value) for m in at.markdown)
    assert describe(open_model(example_path(EXAMPLES[example].quantized)))[0] in text
    assert ("The last tensor" in text) == bool(EXAMPLES[example].original)  # a debug run where there is an original


def test_the_seed_changes_the_inputs_and_stays_in_the_link() -> None:
    at = open_page()
    first = [m.value for m in at.markdown if "The last tensor" in m.value]
    at.number_input(key="w_model_seed").set_value(5).run()
    assert not at.exception
    assert at.query_params["model_seed"] == ["5"] or at.query_params["model_seed"] == "5"
    assert [m.value for m in at.markdown if "The last tensor" in m.value] != first


def test_uploaded_inputs_name_their_inputs() -> None:
    original = open_model(example_path("onnx_llm_float.onnx"))
    buffer = io.BytesIO()
    np.savez(buffer, ids=np.array([[[1, 2, 3, 4]], [[5, 6, 7, 8]]], np.int64))  # two batches of [1, 4]
    batches = inputs_from_file(original, "ids.npz", buffer.getvalue())
    assert [b["ids"].tolist() for b in batches] == [[[1, 2, 3, 4]], [[5, 6, 7, 8]]]
    buffer = io.BytesIO()
    np.savez(buffer, tokens=np.zeros((1, 4), np.int64), other=np.zeros((1, 4), np.int64))
    assert len(inputs_from_file(original, "two.npz", buffer.getvalue())) == 2  # one-input model: every entry a batch
    from quantviz.errors import ModelFileError

    with pytest.raises(ModelFileError, match="dimensions"):
        inputs_from_file(original, "bad.npy", _npy(np.zeros(3, np.int64)))
    with pytest.raises(ModelFileError, match=r"\.npy or \.npz"):
        inputs_from_file(original, "x.csv", b"1,2")


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


rows_strategy = st.lists(
    st.tuples(st.floats(-20, 80), st.floats(0, 10), st.one_of(st.none(), st.floats(0, 1))), min_size=1, max_size=12
)


def build_rows(values: list[tuple]) -> list[DebugRow]:
    rows = []
    for i, (db, error, *clip) in enumerate(values):
        previous = rows[-1] if rows else None
        rows.append(
            DebugRow(
                name=f"t{i}",
                op="Conv",
                quantized_name=f"t{i}_q",
                sqnr_db=db,
                max_abs_error=error,
                previous=previous.name if previous else "",
                added_db=None if previous is None else previous.sqnr_db - db,
                clipped=clip[0] if clip else None,
            )
        )
    return rows


@settings(max_examples=60, deadline=None)
@given(rows_strategy)
def test_debug_verdict_matches_the_rows(values: list[tuple]) -> None:
    rows = build_rows(values)
    lines = debug_verdict(rows)
    assert lines[0].startswith(f"The last tensor, {rows[-1].name}, ends at")
    losses = [r for r in rows if r.added_db is not None and r.added_db > 0]
    clipped = [r for r in rows if r.clipped is not None and r.clipped > 0.01]
    assert len(lines) == 1 + bool(losses) + bool(clipped)
    if losses:
        most = max(losses, key=lambda r: r.added_db)
        assert f"at {most.name} (Conv)" in lines[1] and f"since {most.previous}." in lines[1]
    if clipped:
        worst = max(clipped, key=lambda r: r.clipped)
        assert lines[-1].startswith(f"Clipped at an end of the grid: {worst.name} ")


@settings(max_examples=30, deadline=None)
@given(rows_strategy)
def test_sqnr_figure_draws_the_rows_in_order_and_marks_the_biggest_loss(values: list[tuple]) -> None:
    rows = build_rows(values)
    fig = sqnr_along_graph_figure(rows)
    assert list(fig.data[0].x) == [r.name for r in rows]
    losses = [r for r in rows if r.added_db is not None]
    assert len(fig.data) == (2 if losses else 1)
    if losses:
        assert fig.data[1].x == (max(losses, key=lambda r: r.added_db).name,)


def test_sqnr_figure_stays_small_for_a_large_graph() -> None:
    rows = build_rows([(30.0 - i * 0.001, 0.1) for i in range(5000)])
    fig = sqnr_along_graph_figure(rows)
    assert len(fig.data[0].x) <= 402 and len(fig.to_json()) < 60_000
    assert sqnr_along_graph_figure([]).layout.annotations  # empty: a message, not an exception


def test_debug_rows_link_to_their_tensor_and_the_link_opens_it() -> None:
    at = open_page()
    table = at.dataframe[-1].value
    assert (
        table["explain"].iloc[1]
        == f"your_model?model_src=onnx_qdq&model_tensor={table['tensor'].iloc[1]}_QuantizeLinear_Output"
    )
    linked = open_page({"model_tensor": "fc1_mm_QuantizeLinear_Output"})
    assert not linked.exception and linked.selectbox(key="w_model_tensor").value == "fc1_mm_QuantizeLinear_Output"
    wrong = open_page({"model_tensor": "no_such_tensor"})
    assert not wrong.exception and wrong.selectbox(key="w_model_tensor").value == "conv.weight_quantized"
    assert any("has no quantized tensor named no\\_such\\_tensor" in c.value for c in wrong.caption)


def test_an_nf4_tensor_is_explained_block_by_block_with_its_code_table() -> None:
    from quantviz.models.explain import table_codes
    from quantviz.teach.model_run import table_sentence

    at = open_page({"model_src": "bnb_nf4"})
    assert not at.exception, [e.value for e in at.exception]
    model = open_model(example_path("bnb_nf4.safetensors"))
    tensor = next(t for t in model.tensors if t.name == at.selectbox(key="w_model_tensor").value)
    at.number_input(key="w_model_channel").set_value(5).run()
    rows = table_codes(tensor, 5)
    text = " ".join(unescape(m.value) for m in at.markdown)
    assert table_sentence("nf4", 5, float(tensor.quantization.scales[5]), rows) in text
    table = next(d.value for d in at.dataframe if "code q" in d.value.columns)
    assert table["values"].sum() == 64 and list(table["code q"]) == list(range(16))
    assert table["table[q] × absmax"].tolist() == [r.value for r in rows]


def test_an_example_weight_links_to_beyond_rounding_and_the_link_opens_that_layer() -> None:
    from tests.apptest_helpers import open_page as open_app_page

    at = open_page({"model_tensor": "fc1.weight_quantized"})
    links = [m.value for m in at.markdown if "beyond_rounding?" in m.value]
    assert links == [
        "[Open this weight as the layer on Beyond rounding]"
        "(beyond_rounding?source=example&model=onnx_qdq&tensor=fc1.weight_quantized)"
    ]
    activation = open_page({"model_tensor": "fc1_mm_QuantizeLinear_Output"})  # not a weight: no layer to run
    assert not [m.value for m in activation.markdown if "beyond_rounding?" in m.value]
    there = open_app_page(
        "beyond_rounding.py", {"source": "example", "model": "onnx_qdq", "tensor": "fc1.weight_quantized"}
    )
    assert not there.exception, [e.value for e in there.exception]
    assert there.selectbox(key="w_tensor").value == "fc1.weight_quantized"
    assert any("fc1.weight_quantized (int8 codes" in unescape(c.value) for c in there.caption)
