"""The pytorch convention against PyTorch itself (run with `make oracles`; skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import quantviz as qv
from tests.oracle_cases import probe_values, random_ranges

torch = pytest.importorskip("torch")
from torch.ao.quantization.observer import MinMaxObserver  # noqa: E402

OPTIONS = [
    (bits, signed, symmetric, narrow, reduce_range)
    for bits in (8, 4, 2)
    for signed in (False, True)
    for symmetric in (False, True)
    for narrow in (False, True)
    for reduce_range in (False, True)
    if not (narrow and not signed) and not (symmetric and reduce_range and not signed)
]


def torch_observer(bits, signed, symmetric, narrow, reduce_range):
    qmin, qmax = qv.int_range(bits, signed=signed, narrow_range=narrow)
    custom = bits != 8 or narrow
    return MinMaxObserver(
        dtype=torch.qint8 if signed else torch.quint8,
        qscheme=torch.per_tensor_symmetric if symmetric else torch.per_tensor_affine,
        reduce_range=reduce_range,
        quant_min=qmin if custom else None,
        quant_max=qmax if custom else None,
    )


@pytest.mark.parametrize(("bits", "signed", "symmetric", "narrow", "reduce_range"), OPTIONS)
def test_pytorch_bit_exact(bits, signed, symmetric, narrow, reduce_range) -> None:
    mismatches = []
    cases = 0
    for i, (lo, hi) in enumerate(
        random_ranges(seed=bits * 31 + signed * 7 + symmetric * 3 + narrow * 2 + reduce_range, count=40)
    ):
        obs = torch_observer(bits, signed, symmetric, narrow, reduce_range)
        obs(torch.tensor([lo, hi], dtype=torch.float32))
        ref_s, ref_z = obs.calculate_qparams()
        qp = qv.choose_qparams(
            lo,
            hi,
            bits=bits,
            signed=signed,
            symmetric=symmetric,
            narrow_range=narrow,
            reduce_range=reduce_range,
            convention="pytorch",
        )
        assert (qp.qmin, qp.qmax) == (obs.quant_min, obs.quant_max)
        assert qp.scale == float(ref_s.item()), (lo, hi)
        assert qp.zero_point == int(ref_z.item()), (lo, hi)
        x = probe_values(qp, seed=i)
        xt = torch.from_numpy(x)
        dtype = torch.qint8 if signed else torch.quint8
        ref_q = torch.quantize_per_tensor(xt, qp.scale, qp.zero_point, dtype).int_repr().numpy().astype(np.int64)
        ours = qv.quantize(x, qp, convention="pytorch")
        bad = np.flatnonzero(ours != ref_q)
        mismatches += [("quantize", lo, hi, float(x[j]), int(ours[j]), int(ref_q[j])) for j in bad[:3]]
        ref_fq = torch.fake_quantize_per_tensor_affine(xt, qp.scale, qp.zero_point, qp.qmin, qp.qmax).numpy()
        ours_fq = qv.fake_quantize(x, qp, convention="pytorch")
        bad = np.flatnonzero(ours_fq.view(np.int32) != ref_fq.view(np.int32))
        mismatches += [("fake", lo, hi, float(x[j]), float(ours_fq[j]), float(ref_fq[j])) for j in bad[:3]]
        ref_dq = torch.quantize_per_tensor(xt, qp.scale, qp.zero_point, dtype).dequantize().numpy()
        ours_dq = qv.dequantize(ours, qp, convention="pytorch")
        assert np.array_equal(ours_dq, ref_dq)
        cases += x.size
    assert cases > 10_000
    assert not mismatches, mismatches[:10]


@pytest.mark.parametrize("n", [1, 3, 7, 8, 9, 31, 64, 1000, 1001])
def test_pytorch_any_length(n: int) -> None:
    """Vectorised body and scalar tail must agree: ties placed at every position of every length."""
    qp = qv.choose_qparams(-1000, 1000, convention="pytorch")
    x = np.resize(np.array([39.215686275, 0, 1000, -1000, 127.5 * qp.scale, -0.5 * qp.scale], np.float32), n)
    ref = torch.quantize_per_tensor(torch.from_numpy(x), qp.scale, qp.zero_point, torch.quint8).int_repr().numpy()
    assert qv.quantize(x, qp, convention="pytorch").tolist() == ref.astype(np.int64).tolist()


def test_pytorch_seed_example() -> None:
    qp = qv.choose_qparams(-1000, 1000, convention="pytorch")
    x = torch.tensor([39.215686275, 0, 1000, -1000])
    ref = torch.quantize_per_tensor(x, qp.scale, qp.zero_point, torch.quint8).int_repr().tolist()
    assert ref == [133, 128, 255, 1] == qv.quantize(x.numpy(), qp, convention="pytorch").tolist()
