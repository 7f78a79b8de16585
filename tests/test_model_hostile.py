"""Hostile model files and command lines: every refusal a ModelFileError naming the file and the problem, decided
from declared sizes before anything is inflated or allocated; exports that strict parsers load."""

from __future__ import annotations

import csv
import io
import json
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from quantviz.errors import ModelFileError
from quantviz.models import open_model

FIXTURES = Path(__file__).parent / "fixtures"


def npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    """An .npy version 1.0 header declaring ``shape`` (the format's spec: magic, length, padded dict literal)."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}".encode()
    text += b" " * (63 - (10 + len(text)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


def zip_of(entries: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def refused(data: bytes, name: str, match: str) -> ModelFileError:
    with pytest.raises(ModelFileError, match=match) as info:
        open_model(data, name=name)
    assert name in str(info.value)
    return info.value


def test_npz_declaring_2_to_the_40_elements_is_refused_before_allocating() -> None:
    data = zip_of({"w.npy": npy_header((2**20, 2**20)) + bytes(64)})
    refused(data, "huge.npz", r"'w'.*too large")
    refused(npy_header((2**20, 2**20)) + bytes(64), "huge.npy", r"too large")


def test_deflate_bomb_is_refused_from_the_zip_directory_without_inflating() -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, w=np.zeros((4096, 1024), np.float32))  # 16 MiB of zeros deflate ~1000x
    assert len(buffer.getvalue()) < 100_000
    start = time.perf_counter()
    refused(buffer.getvalue(), "bomb.npz", r"'w'.*expansion.*bomb")
    assert time.perf_counter() - start < 0.5


def test_npz_entry_whose_shape_lies_about_its_bytes() -> None:
    refused(zip_of({"w.npy": npy_header((100, 100)) + bytes(400)}), "short.npz", r"'w'.*40,000 bytes.*holds 400")
    refused(npy_header((100, 100)) + bytes(400), "short.npy", r"truncated")


@pytest.mark.parametrize(
    ("entries", "method", "match"),
    [
        ({"w.npy": npy_header((2,), "|O") + bytes(16)}, zipfile.ZIP_STORED, "unpickling"),
        ({"w.npy": npy_header((2,), "<U3") + bytes(24)}, zipfile.ZIP_STORED, "not numbers"),
        ({"notes.txt": b"hello"}, zipfile.ZIP_STORED, "not an .npy array"),
        ({"w.npy": b"\x93NUMPY\x01\x00\x05\x00{bad}"}, zipfile.ZIP_STORED, "no readable .npy header"),
        ({"w.npy": npy_header((4,)) + bytes(16)}, zipfile.ZIP_BZIP2, "compression method"),
    ],
)
def test_npz_read_errors_say_what_they_are(entries: dict[str, bytes], method: int, match: str) -> None:
    refused(zip_of(entries, method), "odd.npz", match)


@pytest.mark.parametrize("values", [16, 1 << 18])  # zipfile checks a small entry's CRC on the first read
def test_corrupt_npz_entry_is_reported_at_open_or_load(values: int) -> None:
    body = npy_header((values,)) + np.arange(values, dtype=np.float32).tobytes()
    data = bytearray(zip_of({"w.npy": body}))
    data[data.index(body) + len(body) - 1] ^= 0xFF  # flip one stored byte: the CRC no longer matches
    with pytest.raises(ModelFileError, match=r"crc.npz: entry 'w' is corrupt"):
        open_model(bytes(data), name="crc.npz").tensors[0].load()


def test_not_a_zip_and_not_an_npy() -> None:
    refused(b"hello, not an array at all", "plain.npz", r"neither an .npy array .* nor an .npz")


def safetensors_with(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


@pytest.mark.parametrize(
    ("header", "body", "match"),
    [
        ({"w": {"dtype": "F32", "shape": [2**20, 2**20], "data_offsets": [0, 16]}}, bytes(16), "too large"),
        ({"w": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 16]}}, bytes(16), r"64 bytes.*span 16"),
        ({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, bytes(8), "truncated"),
        ({"w": {"dtype": "F32", "shape": [4], "data_offsets": [16, 0]}}, bytes(16), "start after stop"),
        (
            {
                "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]},
            },
            bytes(24),
            "overlap",
        ),
        ({"w": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}, bytes(16), "negative"),
        ({"w": {"dtype": "F32", "shape": ["4"], "data_offsets": [0, 16]}}, bytes(16), "not a list of integers"),
        ({"w": {"dtype": "X9", "shape": [4], "data_offsets": [0, 16]}}, bytes(16), "does not read"),
        ({"w": {"dtype": "F32"}}, bytes(16), "lacks"),
    ],
)
def test_safetensors_headers_whose_sizes_lie(header: dict, body: bytes, match: str) -> None:
    refused(safetensors_with(header, body), "lying.safetensors", match)


def test_safetensors_header_not_an_object() -> None:
    refused(safetensors_with([1, 2], b""), "list.safetensors", "not a JSON object")  # type: ignore[arg-type]


def gguf_bytes(tmp_path: Path) -> bytes:
    gguf = pytest.importorskip("gguf")
    writer = gguf.GGUFWriter(str(tmp_path / "ok.gguf"), "llama")
    writer.add_tensor("w", np.ones((4, 64), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return (tmp_path / "ok.gguf").read_bytes()


@pytest.mark.parametrize(
    ("dims", "match"),
    [
        ((2**20, 2**20), "too large"),
        ((2**32, 2**32), "too large"),  # the product wraps to 0 in uint64: checked in Python integers
        ((64, 8), "truncated"),  # twice the bytes the file holds
    ],
)
def test_gguf_tensor_sizes_that_lie(tmp_path: Path, dims: tuple[int, int], match: str) -> None:
    data = bytearray(gguf_bytes(tmp_path))
    at = data.index(b"\x01\x00\x00\x00\x00\x00\x00\x00w") + 9 + 4  # name length, name, n_dims
    assert struct.unpack("<QQ", data[at : at + 16]) == (64, 4)
    data[at : at + 16] = struct.pack("<QQ", *dims)
    refused(bytes(data), "lying.gguf", match)


def test_gguf_loads_lazily_and_equal(tmp_path: Path) -> None:
    tensor = open_model(gguf_bytes(tmp_path), name="ok.gguf").tensors[0]
    assert (tensor.name, tensor.dtype, tensor.shape) == ("w", "float32", (4, 64))
    assert np.array_equal(tensor.load(), np.ones((4, 64), np.float32))


# ----------------------------------------------------------------------------- the command line
def run(argv: list[str], capsys) -> tuple[int, str]:
    from quantviz.__main__ import main

    status = main(argv)
    return status, capsys.readouterr().err


def test_command_line_directory_missing_file_and_missing_output_folder(tmp_path: Path, capsys) -> None:
    model = str(FIXTURES / "full_int8.tflite")
    for argv, match in [
        (["report", str(tmp_path)], "a directory, not a model file"),
        (["report", str(tmp_path / "nope.onnx")], "cannot be read"),
        (["report", model, "--json", str(tmp_path / "missing" / "r.json")], "does not exist"),
        (["report", model, "--csv", str(tmp_path / "missing" / "q.csv")], "does not exist"),
        (["report", model, "--json", str(tmp_path)], "a directory, not a file to write"),
    ]:
        status, err = run(argv, capsys)
        assert status == 2 and match in err and err.count("\n") == 1, (argv, err)
    (tmp_path / "bad.npz").write_bytes(zip_of({"w.npy": npy_header((2**20, 2**20))}))
    status, err = run(["report", str(tmp_path / "bad.npz")], capsys)
    assert status == 2 and "too large" in err and err.count("\n") == 1


def strict_loads(text: str) -> object:
    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_json_export_is_strict_and_says_why_a_number_is_null(tmp_path: Path, capsys) -> None:
    exact = np.tile(np.array([-127.0, 0.0, 127.0, 64.0], np.float32) / 127, (4, 8))  # int8 symmetric: zero error
    np.savez(tmp_path / "exact.npz", w=exact)
    status, _ = run(["report", str(tmp_path / "exact.npz"), "--json", str(tmp_path / "r.json")], capsys)
    assert status == 0
    report = strict_loads((tmp_path / "r.json").read_text())
    sqnr = report["float_tensors"][0]["sqnr_db"]
    nulls = [k for k, v in sqnr.items() if v is None]
    assert "TFLite default (int8 per channel)" in nulls  # float32 arithmetic reproduces k/127 exactly
    listed = {item["field"]: item for item in report["non_finite"]}
    for k in nulls:
        item = listed[f"float_tensors/0/sqnr_db/{k}"]
        assert item["value"] == "Infinity" and "error is 0" in item["why"]
    assert len(listed) == sum(v is None for m in report["float_tensors"] for v in m["sqnr_db"].values())


def test_strict_replaces_every_non_finite_number_and_nothing_else() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    from quantviz.models.export import strict

    @given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=20))
    def check(values: list[float]) -> None:
        out = strict({"x": values})
        text = json.dumps(out, allow_nan=False)
        back = strict_loads(text)
        assert [v if np.isfinite(v) else None for v in values] == back["x"]
        assert len(back["non_finite"]) == sum(not np.isfinite(v) for v in values)

    check()


def test_csv_export_holds_the_quantized_table_with_every_parameter(tmp_path: Path, capsys) -> None:
    fixture = "full_int8.tflite"
    out = tmp_path / "q.csv"
    status, _ = run(
        ["report", str(FIXTURES / fixture), "--csv", str(out), "--float-csv", str(tmp_path / "f.csv")], capsys
    )
    assert status == 0
    rows = {r["name"]: r for r in csv.DictReader(out.open())}
    expected = json.loads((FIXTURES / "tflite_details.json").read_text())[fixture]
    quantized = [d for d in expected if d["scales"]]
    assert set(rows) == {d["name"] for d in quantized}
    for d in quantized:
        r = rows[d["name"]]
        assert [float(v) for v in r["scales"].split()] == [float(np.float32(v)) for v in d["scales"]]
        assert [int(v) for v in r["zero_points"].split()] == d["zero_points"]
        assert r["axis"] == (str(d["axis"]) if len(d["scales"]) > 1 else "")
    assert (tmp_path / "f.csv").read_text().startswith("name,dtype,shape")


def test_report_names_the_file_type_and_its_likely_problems(tmp_path: Path, capsys) -> None:
    from quantviz.models.problems import likely_problems

    example = Path(__file__).parents[1] / "quantviz" / "models" / "examples" / "onnx_qdq.onnx"
    status = run(["report", str(example), "--json", str(tmp_path / "r.json")], capsys)[0]
    report = strict_loads((tmp_path / "r.json").read_text())
    expected = likely_problems(open_model(example))
    assert status == 0 and report["file_type"] == "onnx-qdq" and expected
    assert [(p["tensor"], p["text"]) for p in report["likely_problems"]] == [(p.tensor, p.text) for p in expected]
