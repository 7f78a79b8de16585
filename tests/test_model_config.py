"""A config.json beside a safetensors checkpoint: its quantization_config decides the reading where tensor names are
ambiguous (GPTQ's bits, its z − 1 offset), is checked against the tensors, and a hostile one is refused in words."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from safetensors.numpy import save

from quantviz.__main__ import main
from quantviz.errors import ModelFileError
from quantviz.models import open_files, open_model
from quantviz.models.hf_config import KEYS, QuantConfig, config_sentence, read_config
from quantviz.models.problems import likely_problems
from quantviz.models.summary import describe
from tests.test_model_hf import CODES, GROUP, SCALES, ZEROS, K, N, pack_gptq


def config(**fields) -> bytes:
    return json.dumps({"architectures": ["LlamaForCausalLM"], "quantization_config": fields}).encode()


def pack_gptq8(offset: int) -> dict[str, np.ndarray]:
    """GPTQ 8-bit: four codes per int32 along K; zero points four per int32 along N, stored z − ``offset``."""
    codes = (CODES.astype(np.uint32) * 16 + 3).T  # [K, N], 8-bit codes
    qweight = np.zeros((K // 4, N), np.uint32)
    for j in range(4):
        qweight |= codes[j::4] << np.uint32(8 * j)
    zeros = ZEROS.astype(np.uint32) * 16 - offset
    qzeros = np.zeros((K // GROUP, N // 4), np.uint32)
    for j in range(4):
        qzeros |= zeros[:, j::4] << np.uint32(8 * j)
    return {"layer.qweight": qweight.view(np.int32), "layer.qzeros": qzeros.view(np.int32), "layer.scales": SCALES}


@pytest.mark.parametrize(("offset", "checkpoint_format"), [(1, "gptq"), (0, "gptq_v2")])
def test_config_decides_gptq_bits_and_zero_offset(offset: int, checkpoint_format: str) -> None:
    cfg = config(quant_method="gptq", bits=8, group_size=GROUP, checkpoint_format=checkpoint_format)
    m = open_model(save(pack_gptq8(offset)), name="model.safetensors", config=cfg)
    w = next(t for t in m.tensors if t.name == "layer.weight")
    assert (m.file_type, w.dtype, w.shape) == ("gptq", "uint8", (N, K))
    assert np.array_equal(w.load(), CODES.astype(np.int64) * 16 + 3)
    assert np.array_equal(w.quantization.zero_points.reshape(N, -1), ZEROS.T.astype(np.int64) * 16)
    text = " ".join(describe(m))
    assert "From config.json (quantization_config): quant_method gptq, bits 8" in text
    assert "decided the bits per packed code (8)" in text
    assert "8-bit codes, 4 per int32 (config.json)" in " ".join(m.notes)
    assert likely_problems(m) == []


def test_without_config_the_note_says_4_bits_were_assumed() -> None:
    m = open_model(save(pack_gptq()), name="model.safetensors")
    assert m.config is None and "assumed: no config.json says" in " ".join(m.notes)


@pytest.mark.parametrize(
    ("claims", "tensor", "words"),
    [
        ({"quant_method": "awq", "bits": 4}, "config.json", "says quant_method awq but the tensors read as gptq"),
        ({"quant_method": "gptq", "bits": 4, "group_size": 128}, "layer.weight", "group_size 128 but layer.weight"),
        ({"quant_method": "gptq", "bits": 4, "sym": True}, "layer.weight", "sym true (every z = 8)"),
        ({"quant_method": "gptq", "bits": 4, "group_size": -1}, "layer.weight", f"has groups of {GROUP}"),
    ],
)
def test_a_config_contradicting_the_tensors_is_a_likely_problem(claims: dict, tensor: str, words: str) -> None:
    m = open_model(save(pack_gptq()), name="model.safetensors", config=config(**claims))
    problems = likely_problems(m)
    assert [p.tensor for p in problems] == [tensor]
    assert words in problems[0].text


def test_a_consistent_config_raises_no_problem() -> None:
    cfg = config(quant_method="gptq", bits=4, group_size=GROUP, sym=False, desc_act=False)
    assert likely_problems(open_model(save(pack_gptq()), name="model.safetensors", config=cfg)) == []


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"{" * 10 + b"x", "not valid JSON"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b" " * (2 << 20), "more than a config.json holds"),
        (config(quant_method="gptq", bits="4"), "bits is '4', not a int"),
        (config(quant_method="gptq", bits=64), "not between 1 and 16"),
        (config(quant_method="gptq", sym="yes"), "sym is 'yes', not a bool"),
        (config(quant_method="hqq"), "quant_method is 'hqq'"),
        (config(quant_method="gptq", bits=3), "3-bit packs cross int32 boundaries"),
        (json.dumps({"quantization_config": [1]}).encode(), "quantization_config is list"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
)
def test_hostile_config_is_refused_in_words(data: bytes, words: str) -> None:
    with pytest.raises(ModelFileError) as caught:
        open_model(save(pack_gptq()), name="model.safetensors", config=data)
    assert words in str(caught.value) and "config.json" in str(caught.value)


def test_command_line_reads_config_beside_the_model_and_by_flag(tmp_path, capsys) -> None:
    (tmp_path / "model.safetensors").write_bytes(save(pack_gptq()))
    (tmp_path / "config.json").write_bytes(config(quant_method="gptq", bits=4, group_size=GROUP))
    assert main(["report", str(tmp_path / "model.safetensors"), "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["config"]["group_size"] == GROUP and report["likely_problems"] == []
    other = tmp_path / "other.json"
    other.write_bytes(config(quant_method="gptq", bits=4, group_size=128))
    assert main(["report", str(tmp_path / "model.safetensors"), "--config", str(other)]) == 0
    assert "Likely problem 1: layer.weight: other.json says group_size 128" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "model.safetensors"), "--config", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: not a file" in capsys.readouterr().err


VALUES = {
    "bits": st.integers(1, 16),
    "group_size": st.sampled_from([-1, 32, 128]),
    "sym": st.booleans(),
    "desc_act": st.booleans(),
    "zero_point": st.booleans(),
    "checkpoint_format": st.sampled_from(["gptq", "gptq_v2"]),
    "quant_type": st.sampled_from(["nf4", "fp4"]),
    "format": st.sampled_from(["pack-quantized", "float-quantized"]),
}


@given(st.sampled_from(["gptq", "awq", "fp8"]), st.fixed_dictionaries({}, optional=VALUES))
def test_the_sentence_names_exactly_the_claims_the_config_makes(method: str, fields: dict) -> None:
    c = read_config("config.json", config(quant_method=method, **fields))
    sentence = config_sentence(c)
    listed = sentence.split(": ", 1)[1].split(";")[0].split(", ")
    expected = [f"quant_method {method}"] + [
        f"{k} {str(fields[k]).lower() if isinstance(fields[k], bool) else fields[k]}" for k in KEYS if k in fields
    ]
    assert listed == expected
    assert ("bits per packed code" in sentence) == (method in ("gptq", "awq") and "bits" in fields)
    assert ("z − 1 offset" in sentence) == (method == "gptq" and "checkpoint_format" in fields)
    assert config_sentence(None) == ""


def test_compressed_tensors_and_bitsandbytes_fields_are_read_from_where_they_live() -> None:
    ct = {"quant_method": "compressed-tensors", "format": "pack-quantized"}
    ct["config_groups"] = {"group_0": {"weights": {"num_bits": 4, "group_size": 32, "symmetric": True}}}
    assert read_config("config.json", config(**ct)) == QuantConfig(
        source="config.json",
        quant_method="compressed-tensors",
        bits=4,
        group_size=32,
        sym=True,
        format="pack-quantized",
    )
    bnb = read_config("config.json", config(quant_method="bitsandbytes", load_in_4bit=True, bnb_4bit_quant_type="nf4"))
    assert (bnb.bits, bnb.quant_type) == (4, "nf4")


def test_shards_with_their_config_read_as_one_checkpoint() -> None:
    tensors = pack_gptq8(1)
    first = {"layer.qweight": tensors["layer.qweight"]}  # a pack split across shards, as big checkpoints are
    second = {k: v for k, v in tensors.items() if k not in first}
    files = [
        ("model-00001-of-00002.safetensors", save(first)),
        ("model-00002-of-00002.safetensors", save(second)),
        ("model.safetensors.index.json", b"{}"),
        ("config.json", config(quant_method="gptq", bits=8, group_size=GROUP)),
    ]
    m = open_files(files)
    assert m.name == "model-00001-of-00002.safetensors + 1 more shard"
    w = next(t for t in m.tensors if t.name == "layer.weight")
    assert w.dtype == "uint8" and np.array_equal(w.load(), CODES.astype(np.int64) * 16 + 3)
    assert m.config.bits == 8 and likely_problems(m) == []


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ([("config.json", config(quant_method="gptq"))], "no model file among the files"),
        ([("a.safetensors", b""), ("config.json", b"{}"), ("other.json", b"{}")], "one config.json at a time"),
        ([("a.safetensors", save({"w": np.ones(2, np.float32)})), ("b.onnx", b"x")], "only as safetensors shards"),
        ([("m.npz", b"PK\x05\x06" + bytes(18)), ("config.json", b"{}")], "m.npz: a config.json describes"),
        (
            [("a.safetensors", save({"w": np.ones(2, np.float32)})), ("b.safetensors", save({"w": np.ones(2)}))],
            "tensor 'w' is also in a.safetensors",
        ),
    ],
)
def test_files_that_do_not_go_together_are_refused(files: list, words: str) -> None:
    with pytest.raises(ModelFileError, match=words):
        open_files(files)
