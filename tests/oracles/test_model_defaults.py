"""PyTorch's default per-channel weight observer chooses the scales Your model reports (run with `make oracles`)."""

from __future__ import annotations

import numpy as np
import pytest

from quantviz.models.summary import framework_scales

torch = pytest.importorskip("torch")


def test_pytorch_per_channel_symmetric_weight_scales() -> None:
    from torch.ao.quantization.observer import PerChannelMinMaxObserver

    rng = np.random.default_rng(3)
    for _ in range(5):
        w = (rng.normal(size=(16, 32)) * rng.uniform(0.01, 10, (16, 1))).astype(np.float32)
        observer = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
        observer(torch.from_numpy(w))
        scales, zeros = observer.calculate_qparams()
        assert scales.numpy().astype(np.float32).tolist() == framework_scales(w, "pytorch", "channel").tolist()
        assert (zeros.numpy() == 0).all()
