"""OCP MX and NVFP4 against torchao's mx_formats (run with `make oracles`)."""

from __future__ import annotations

import numpy as np
import pytest

from quantviz import blocks
from quantviz.blocks import mx

torch = pytest.importorskip("torch")
mx_tensor = pytest.importorskip("torchao.prototype.mx_formats.mx_tensor")
nvfp4_tensor = pytest.importorskip("torchao.prototype.mx_formats.nvfp4_tensor")
constants = pytest.importorskip("torchao.prototype.mx_formats.constants")


def data(block: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = block * 1024
    ties = (rng.integers(-64, 65, n) / 8).astype(np.float32)
    outliers = rng.normal(size=n).astype(np.float32)
    outliers[rng.random(n) < 0.01] *= 100
    zeros = rng.normal(size=n).astype(np.float32)
    zeros[:block] = 0
    powers = (2.0 ** rng.integers(-10, 10, n) * rng.choice([-1, 1], n)).astype(np.float32)
    return {
        "normal": (rng.normal(size=n) * 3).astype(np.float32),
        "ties": ties,
        "outliers": outliers,
        "zeros": zeros,
        "powers": powers,
    }


ELEMENTS = {
    "MXFP8_E4M3": torch.float8_e4m3fn,
    "MXFP8_E5M2": torch.float8_e5m2,
    "MXFP6_E3M2": constants.DTYPE_FP6_E3M2,
    "MXFP6_E2M3": constants.DTYPE_FP6_E2M3,
    "MXFP4": torch.float4_e2m1fn_x2,
}


@pytest.mark.parametrize("name", list(ELEMENTS))
def test_ocp_mx_equals_torchao(name: str) -> None:
    for label, x in data(32, 1).items():
        scale, low = mx_tensor.to_mx(torch.from_numpy(x), ELEMENTS[name], 32)
        ref = mx_tensor.to_dtype(low, scale, ELEMENTS[name], 32, torch.float32).numpy().reshape(-1)
        ours = blocks.encode(x, name).reshape(-1, 1 + 32 * mx.ELEMENTS[name][2] // 8)
        assert scale.view(torch.uint8).numpy().reshape(-1).tobytes() == ours[:, 0].tobytes(), (name, label)
        assert blocks.fake_quantize(x, name).tobytes() == ref.astype(np.float32).tobytes(), (name, label)


def test_nvfp4_equals_torchao() -> None:
    for label, x in data(16, 2).items():
        t = torch.from_numpy(x.reshape(64, -1))
        s_t = nvfp4_tensor.per_tensor_amax_to_scale(t.abs().max())
        scales, packed = nvfp4_tensor.nvfp4_quantize(t, block_size=16, per_tensor_scale=s_t)
        ours = blocks.encode(x, "NVFP4")
        assert np.frombuffer(ours[:4].tobytes(), "<f4")[0] == np.float32(s_t.item()), label
        body = ours[4:].reshape(-1, 9)
        assert body[:, 0].tobytes() == scales.view(torch.uint8).numpy().reshape(-1).tobytes(), label
        q = nvfp4_tensor.NVFP4Tensor(packed, scales, 16, torch.float32, per_tensor_scale=s_t)
        ref = q.dequantize(torch.float32).numpy().reshape(-1)
        assert blocks.fake_quantize(x, "NVFP4").tobytes() == ref.astype(np.float32).tobytes(), label
