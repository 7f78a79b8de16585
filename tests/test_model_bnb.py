"""bitsandbytes 4-bit checkpoints: read by tensor names, codes and absmax as written, dequantized as bitsandbytes does.

The bit-for-bit check against ``bitsandbytes.functional.dequantize_4bit`` runs in ``make oracles``
(``tests/oracles/test_model_bnb.py``); its outputs are committed in ``tests/fixtures/bnb_dequantized.json`` and
checked here without torch.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from safetensors.numpy import load_file, save

from quantviz.blocks import nf4
from quantviz.errors import ModelFileError
from quantviz.models import open_model
from quantviz.models.bnb_packs import dequantize
from quantviz.models.explain import CodeRow
from quantviz.models.summary import describe
from quantviz.teach.model_run import table_sentence
from tests.fixtures.make_examples import bnb_weight, float_weights

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "quantviz" / "models" / "examples" / "bnb_nf4.safetensors"


def test_example_reads_as_bitsandbytes_nf4() -> None:
    model = open_model(EXAMPLE)
    assert model.file_type == "bitsandbytes-nf4"
    nf4_tensors = {t.name: t for t in model.tensors if t.dtype == "nf4"}
    weights = float_weights()
    assert sorted(nf4_tensors) == sorted(n for n, w in weights.items() if w.ndim == 2)
    for name, t in nf4_tensors.items():
        absmax, codes = nf4.encode_blocks(weights[name].reshape(-1, 64))
        assert t.shape == weights[name].shape
        assert np.array_equal(t.load().reshape(-1, 64), codes), name  # the codes our encoder wrote
        q = t.quantization
        assert (q.block_size, q.axis, q.float_dtype) == (64, 1, "float16")
        if "layers.1." in name:  # not double-quantized: absmax exactly as stored
            assert q.scales.astype(np.float32).tobytes() == absmax.tobytes()
        else:  # double-quantized: the second level undone, as nf4.DoubleQuantized brings them back
            assert q.scales.astype(np.float32).tobytes() == nf4.DoubleQuantized(absmax).values().tobytes()
    assert not any(".absmax" in t.name or "quant_state" in t.name for t in model.tensors)
    assert "double-quantized" in " ".join(model.notes)
    lines = describe(model)
    assert lines[0].startswith("bitsandbytes 4-bit")
    positive, negative = int((nf4.TABLE > 0).sum()), int((nf4.TABLE < 0).sum())
    assert f"table of 16 values ({positive} positive, {negative} negative, 1 zero)" in lines[1]
    assert "no zero point, in blocks of 64 along axis 1; nf4." in lines[1]


def test_dequantized_equals_bitsandbytes_light_copy() -> None:
    reference = json.loads((ROOT / "tests" / "fixtures" / "bnb_dequantized.json").read_text())
    model = open_model(EXAMPLE)
    ours = {t.name: dequantize(t) for t in model.tensors if t.dtype == "nf4"}
    assert sorted(ours) == sorted(reference)
    for name, ref in reference.items():
        v = ours[name]
        assert (str(v.dtype), list(v.shape)) == (ref["dtype"], ref["shape"])
        assert [float(x) for x in v.reshape(-1)[:8]] == ref["first"]
        assert hashlib.sha256(v.tobytes()).hexdigest() == ref["sha256"], name


def _with_state(state: bytes) -> bytes:
    tensors = bnb_weight("w", np.linspace(-1, 1, 128, dtype=np.float32).reshape(2, 64), double=False)
    tensors["w.quant_state.bitsandbytes__nf4"] = np.frombuffer(state, np.uint8).copy()
    return save(tensors)


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"quant_type": "nf4", "blocksize": "64", "dtype": "float16", "shape": [2, 64]}', "blocksize"),
        (b'{"quant_type": "nf3", "blocksize": 64, "dtype": "float16", "shape": [2, 64]}', "'nf3'"),
        (b'{"quant_type": "nf4", "blocksize": 64, "dtype": "float16", "shape": [2, -64]}', "positive integers"),
        (b'{"quant_type": "nf4", "blocksize": 64, "dtype": "float16", "shape": [4, 64]}', "do not match"),
        (b'{"quant_type": "nf4", "blocksize": 64, "dtype": "float16", "shape": [2, 64]' + b" " * 70_000 + b"}", "64"),
    ],
)
def test_hostile_quant_state_is_refused_in_words(state: bytes, words: str) -> None:
    with pytest.raises(ModelFileError, match=r"m\.safetensors") as caught:
        open_model(_with_state(state), name="m.safetensors")
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda t: t.update({"lm_head.weight.nested_absmax": np.ones(3, np.float32)}), "3 nested scales"),
        (lambda t: t.update({"lm_head.weight.nested_quant_map": np.ones(16, np.float32)}), "16-value map"),
        (lambda t: t.update({"lm_head.weight.absmax": np.ones(256, np.float32)}), "float32 absmax codes"),
    ],
)
def test_a_second_level_that_does_not_fit_is_refused(change, words: str) -> None:
    tensors = load_file(str(EXAMPLE))
    change(tensors)
    with pytest.raises(ModelFileError, match=words):
        open_model(save(tensors), name="m.safetensors")


def test_a_zero_nested_block_size_is_refused() -> None:
    tensors = load_file(str(EXAMPLE))
    key = "lm_head.weight.quant_state.bitsandbytes__nf4"
    state = json.loads(tensors[key].tobytes())
    tensors[key] = np.frombuffer(json.dumps({**state, "nested_blocksize": 0}).encode(), np.uint8).copy()
    with pytest.raises(ModelFileError, match="blocks of 0"):
        open_model(save(tensors), name="m.safetensors")


def test_missing_parts_are_refused() -> None:
    tensors = load_file(str(EXAMPLE))
    del tensors["lm_head.weight.nested_absmax"]
    with pytest.raises(ModelFileError, match="lacks nested_absmax"):
        open_model(save(tensors), name="m.safetensors")


@given(st.lists(st.integers(0, 64), min_size=16, max_size=16), st.floats(1e-6, 10), st.booleans())
def test_the_block_sentence_matches_its_rows(counts: list, absmax: float, loaded: bool) -> None:
    rows = [
        CodeRow(code=c, table_value=float(v), value=float(v * np.float32(absmax)), count=n if loaded else None)
        for c, (v, n) in enumerate(zip(nf4.TABLE, counts, strict=True))
    ]
    words = table_sentence("nf4", 2, absmax, rows)
    assert words.startswith("nf4: code q stands for table[q] × absmax") and "in block 2" in words
    if not loaded:
        assert "codes used" not in words
        return
    top = max(rows, key=lambda r: r.count)
    assert f"{sum(n > 0 for n in counts)} of 16 codes used" in words
    assert f"most often code {top.code} ({top.count} values" in words
