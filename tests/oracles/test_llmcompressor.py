"""quantviz.algorithms against llm-compressor run live (the oracle venv; `make oracles`).

The same cases and reference calls as tests/oracles/make_algorithm_cases.py, compared with quantviz directly:
GPTQ ≥ 99 % codes identical and output MSE within 2 % (torch's and numpy's float32 Cholesky factors and inverses
are not bit-identical), AWQ the same ratio (asymmetric; symmetric: within 1 % of our best loss), x̄ summed as
torch sums, SmoothQuant's scales to float32 rounding, Hadamard matrices identical. Also checks the committed light
copy is current.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("llmcompressor")

from quantviz.algorithms import hadamard, smoothquant
from quantviz.algorithms.awq import cascade_sum
from tests.oracles.make_algorithm_cases import (
    HADAMARD_SIZES,
    awq_cases,
    gptq_cases,
    layer,
    reference_awq,
    reference_gptq,
    reference_hadamard,
    reference_smoothquant,
    smoothquant_cases,
)
from tests.test_algorithms_reference import CASES, label, run_awq, run_gptq


@pytest.mark.parametrize("case", gptq_cases()[::3], ids=label)
def test_gptq_live(case):
    ref = reference_gptq(case)
    _, r = run_gptq(case)
    assert np.mean(r.codes == ref["codes"]) >= 0.99
    assert r.output_mse == pytest.approx(ref["output_mse"], rel=0.02)
    assert np.array_equal(r.scales, ref["scales"]) and np.array_equal(r.zero_points, ref["zero_points"])
    assert r.loss == pytest.approx(ref["loss"], rel=0.02)


@pytest.mark.parametrize("case", [c for c in awq_cases() if not c["symmetric"]][::2], ids=label)
def test_awq_live(case):
    ref = reference_awq(case)
    r = run_awq(case)
    assert (r.ratio, r.duo_used) == (ref["ratio"], ref["duo"])
    assert np.allclose(r.scales, ref["scales"], rtol=1e-5)


@pytest.mark.parametrize("case", [c for c in awq_cases() if c["symmetric"]][::2], ids=label)
def test_awq_symmetric_live(case):
    """The reference's α is ours or within 1 % of our best loss (torch's pow is Sleef's; docs/algorithms.md)."""
    ref = reference_awq(case)
    r = run_awq(case)
    at = [k for k, (a, d) in enumerate(zip(r.ratios, r.duo, strict=True)) if a == ref["ratio"] and d == ref["duo"]]
    assert r.losses[at[0]] <= 1.01 * r.losses.min()


@pytest.mark.parametrize("rows", [1, 2, 7, 16, 17, 100, 256, 512, 1000, 2048, 4096, 5000])
@pytest.mark.parametrize("cols", [32, 96, 256])
def test_cascade_sum_is_torchs_sum(rows, cols):
    """Bit-identical for widths that are multiples of 32 (torch's 4 × 8-float vectors); past the last multiple
    of 32 torch sums the tail columns another way (measured: those columns can differ in the last bit)."""
    import torch

    x = np.abs(np.random.default_rng(rows).standard_normal((rows, cols))).astype(np.float32)
    assert np.array_equal(cascade_sum(x), torch.from_numpy(x).sum(dim=0).numpy())
    for case in awq_cases()[:4]:
        a = np.abs(layer(case["kind"], case["seed"]).inputs)
        assert np.array_equal(cascade_sum(a), torch.from_numpy(a).sum(dim=0).numpy())


@pytest.mark.parametrize("case", smoothquant_cases(), ids=label)
def test_smoothquant_live(case):
    lay = layer(case["kind"], case["seed"])
    ref = reference_smoothquant(case)
    assert np.allclose(
        smoothquant(lay.weight, lay.inputs, case["alpha"]).scales, ref, rtol=4 * np.finfo(np.float32).eps, atol=0
    )


@pytest.mark.parametrize("n", HADAMARD_SIZES)
def test_hadamard_live(n):
    assert np.array_equal(np.rint(hadamard(n) * np.sqrt(n)), reference_hadamard(n).astype(np.float64))


def test_light_copy_is_current():
    case = CASES["gptq"][7]
    ref = reference_gptq({k: case[k] for k in ("kind", "seed", "group_size", "act_order", "damp", "bits", "symmetric")})
    assert ref["output_mse"] == pytest.approx(case["output_mse"], rel=1e-6)
