"""gguf_mix against llama.cpp's own quantizer: llama_model_quantize on a tiny llama GGUF (run with `make oracles`)."""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

import pytest

from quantviz import blocks

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_tiny_llama

llama_cpp = pytest.importorskip("llama_cpp")
gguf = pytest.importorskip("gguf")


def quantize(src: Path, dst: Path, file_type: str) -> dict[str, str]:
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{file_type}")
    params.nthread = 1
    assert llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(params)) == 0
    return {t.name: t.tensor_type.name for t in gguf.GGUFReader(str(dst)).tensors}


@pytest.mark.parametrize(("n_layers", "tied"), [(16, False), (10, False), (12, True)])
def test_the_mix_is_what_llama_quantize_writes(tmp_path: Path, n_layers: int, tied: bool) -> None:
    src = tmp_path / "tiny.gguf"
    names = make_tiny_llama.write(str(src), n_layers, tied)
    for file_type in blocks.mix.FILE_TYPES:
        written = quantize(src, tmp_path / f"{file_type}.gguf", file_type)
        assert written == blocks.gguf_mix(file_type, names, n_layers), file_type


def test_match_mix_names_the_file_type_llama_quantize_used(tmp_path: Path) -> None:
    src = tmp_path / "tiny.gguf"
    make_tiny_llama.write(str(src), 16)
    for file_type in ("Q4_K_M", "Q3_K_M", "Q5_K_M"):
        written = quantize(src, tmp_path / f"{file_type}.gguf", file_type)
        found = blocks.mix.match_mix(written)
        assert (found.file_type, found.agree) == (file_type, found.total)
