"""Hugging Face quantized checkpoints: GPTQ, AWQ, compressed-tensors pack-quantized and FP8, written here in each
packer's layout (plain loops as AutoGPTQ's, AutoAWQ's and compressed-tensors' packers write them) and read back
by tensor names: codes, scales and zero points equal to what was packed; the scales are not measured as weights."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from safetensors.numpy import save

from quantviz.models import open_model
from quantviz.models.summary import describe, measure_floats

N, K, GROUP = 16, 64, 32  # out features, in features, group size
RNG = np.random.default_rng(11)
CODES = RNG.integers(0, 16, (N, K)).astype(np.uint8)  # the Linear's codes [out, in]
SCALES = (RNG.random((K // GROUP, N)) * 0.01 + 0.001).astype(np.float16)  # [groups, out], as the packers store
ZEROS = RNG.integers(1, 16, (K // GROUP, N)).astype(np.uint8)


def pack_gptq() -> dict[str, np.ndarray]:
    """AutoGPTQ's pack(): qweight[k // 8, n] |= w[k, n] << 4 (k % 8); qzeros[g, n // 8] |= (z - 1) << 4 (n % 8)."""
    intweight = CODES.T.astype(np.uint32)  # [K, N]
    qweight = np.zeros((K // 8, N), np.uint32)
    for row in range(K // 8):
        for j in range(8):
            qweight[row] |= intweight[row * 8 + j] << (4 * j)
    qzeros = np.zeros((K // GROUP, N // 8), np.uint32)
    for g in range(K // GROUP):
        for col in range(N // 8):
            for j in range(8):
                qzeros[g, col] |= np.uint32(ZEROS[g, col * 8 + j] - 1) << np.uint32(4 * j)
    return {
        "layer.qweight": qweight.view(np.int32),
        "layer.qzeros": qzeros.view(np.int32),
        "layer.scales": SCALES,
        "layer.g_idx": (np.arange(K) // GROUP).astype(np.int32),
        "layer.bias": np.zeros(N, np.float16),
    }


def pack_awq() -> dict[str, np.ndarray]:
    """AutoAWQ's GEMM pack: qweight[k, c] |= w[k, 8c + order[i]] << 4i with order = [0, 2, 4, 6, 1, 3, 5, 7]."""
    order = [0, 2, 4, 6, 1, 3, 5, 7]
    intweight = CODES.T.astype(np.uint32)
    qweight = np.zeros((K, N // 8), np.uint32)
    qzeros = np.zeros((K // GROUP, N // 8), np.uint32)
    for col in range(N // 8):
        for i in range(8):
            qweight[:, col] |= intweight[:, col * 8 + order[i]] << np.uint32(4 * i)
            qzeros[:, col] |= ZEROS[:, col * 8 + order[i]].astype(np.uint32) << np.uint32(4 * i)
    return {"layer.qweight": qweight.view(np.int32), "layer.qzeros": qzeros.view(np.int32), "layer.scales": SCALES}


def pack_compressed_tensors() -> dict[str, np.ndarray]:
    """compressed-tensors pack_to_int32: int4 codes + 8, eight per int32 along the last dim, lowest bits first."""
    signed = CODES.astype(np.int16) - 8
    stored = (signed + 8).astype(np.uint32)
    packed = np.zeros((N, K // 8), np.uint32)
    for j in range(8):
        packed |= stored[:, j::8] << np.uint32(4 * j)
    return {
        "layer.weight_packed": packed.view(np.int32),
        "layer.weight_scale": np.ascontiguousarray(SCALES.T).astype(ml_dtypes.bfloat16),
        "layer.weight_shape": np.array([N, K], np.int64),
    }


def opened(tensors: dict[str, np.ndarray]):
    return open_model(save(tensors), name="model.safetensors")


@pytest.mark.parametrize(("pack", "file_type"), [(pack_gptq, "gptq"), (pack_awq, "awq")])
def test_gptq_and_awq_unpack_to_the_packed_codes_and_zero_points(pack, file_type: str) -> None:
    m = opened(pack())
    assert m.file_type == file_type
    by_name = {t.name: t for t in m.tensors}
    w = by_name["layer.weight"]
    assert (w.dtype, w.shape, w.op) == ("uint4", (N, K), "Linear")
    assert np.array_equal(w.load(), CODES)
    q = w.quantization
    assert (q.axis, q.block_size) == (1, GROUP)
    assert q.scales.tolist() == SCALES.T.astype(np.float64).reshape(-1).tolist()
    assert q.zero_points.tolist() == ZEROS.T.astype(np.int64).reshape(-1).tolist()  # GPTQ's z - 1 undone
    assert not {"layer.qweight", "layer.scales", "layer.qzeros", "layer.g_idx"} & set(by_name)
    assert [r.name for r in measure_floats(m)] == []  # the scales are not measured as a weight
    assert describe(m)[0].startswith({"gptq": "GPTQ", "awq": "AWQ"}[file_type])


def test_compressed_tensors_pack_quantized_is_int4_with_its_shape() -> None:
    m = opened(pack_compressed_tensors())
    w = {t.name: t for t in m.tensors}["layer.weight"]
    assert m.file_type == "compressed-tensors" and (w.dtype, w.shape) == ("int4", (N, K))
    assert np.array_equal(w.load(), CODES.astype(np.int16) - 8)
    assert w.quantization.scales.tolist() == SCALES.T.astype(ml_dtypes.bfloat16).astype(np.float64).reshape(-1).tolist()
    assert (w.quantization.zero_points == 0).all() and w.quantization.block_size == GROUP


def test_fp8_weights_with_per_channel_scales() -> None:
    values = RNG.normal(size=(N, K)).astype(ml_dtypes.float8_e4m3fn)
    scale = (RNG.random((N, 1)) * 0.01).astype(np.float32)
    m = opened({"layer.weight": values, "layer.weight_scale": scale, "norm.weight": np.ones(K, np.float32)})
    by_name = {t.name: t for t in m.tensors}
    w = by_name["layer.weight"]
    assert m.file_type == "fp8" and w.dtype == "float8_e4m3fn" and w.quantization.axis == 0
    assert w.quantization.scales.tolist() == scale.astype(np.float64).reshape(-1).tolist()
    assert np.array_equal(w.load().astype(np.float32), values.astype(np.float32))
    assert "layer.weight_scale" not in by_name and "norm.weight" in by_name


def test_a_pack_whose_shapes_fit_no_layout_is_refused() -> None:
    from quantviz.errors import ModelFileError

    bad = pack_gptq()
    bad["layer.qweight"] = bad["layer.qweight"][:, :3]
    with pytest.raises(ModelFileError, match="neither GPTQ nor AWQ"):
        opened(bad)
