"""Run llm-compressor's GPTQ, AWQ and SmoothQuant (and compressed-tensors' Hadamard) on seeded layers.

Writes tests/fixtures/algorithm_cases.json, the light copy `tests/test_algorithms_reference.py` checks in
`make test`; `tests/oracles/test_llmcompressor.py` imports the same functions to run the reference live.
Needs the oracle venv (torch, llmcompressor, see requirements-oracles.txt):

    /work/venvs/llmc/bin/python tests/oracles/make_algorithm_cases.py     # or .venv-oracles/bin/python

Inputs are stored as a recipe (quantviz.algorithms.toy_layer's arguments), outputs as codes of the first rows
(zlib + base64), a CRC of every row's codes, hashes of the scales and zero points, and the layer-output MSE.
The reference is called the way llm-compressor calls it: GPTQ's ``quantize_weight`` with the min-max
observer's qparams on the original weight and H = 2/n·XᵀX; AWQ's ``_compute_best_scale`` on a one-layer
parent with quantization disabled around it, as its pipeline does; SmoothQuant's ``_calculate_smoothing_scales``
on the per-channel dynamic range its forward hook records (max − min of the smoothed layer's output).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import sys
import types
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from quantviz.algorithms.layer import toy_layer  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "algorithm_cases.json"
SHAPE = {"out_features": 32, "in_features": 256, "samples": 512}
KINDS = {"random": {"outliers": 0, "outlier_scale": 1.0}, "outliers": {"outliers": 4, "outlier_scale": 20.0}}
STORED_ROWS = 16
HADAMARD_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def layer(kind: str, seed: int):
    """The seeded toy layer of one case."""
    return toy_layer(**SHAPE, **KINDS[kind], seed=seed)


def gptq_cases() -> list[dict]:
    grid = itertools.product(KINDS, (32, 128, None), (False, True), (0.01, 0.1), (3, 4, 8), (True, False))
    return [
        {"kind": k, "seed": i, "group_size": g, "act_order": a, "damp": d, "bits": b, "symmetric": s}
        for i, (k, g, a, d, b, s) in enumerate(grid)
    ]


def awq_cases() -> list[dict]:
    grid = itertools.product(KINDS, (3, 4), (32, 128, None), (True, False), (False, True))
    return [
        {"kind": k, "seed": 1000 + i, "bits": b, "group_size": g, "duo_scaling": duo, "symmetric": s}
        for i, (k, b, g, duo, s) in enumerate(grid)
    ]


def smoothquant_cases() -> list[dict]:
    grid = itertools.product(KINDS, (0.0, 0.25, 0.5, 0.75, 1.0))
    return [{"kind": k, "seed": 2000 + i, "alpha": a} for i, (k, a) in enumerate(grid)]


def pack_codes(codes: np.ndarray) -> str:
    """The first STORED_ROWS rows of int codes (−128..127) as base64 of zlib'd int8 bytes."""
    return base64.b64encode(zlib.compress(codes[:STORED_ROWS].astype(np.int8).tobytes(), 9)).decode()


def unpack_codes(text: str, cols: int) -> np.ndarray:
    return np.frombuffer(zlib.decompress(base64.b64decode(text)), np.int8).reshape(-1, cols).astype(np.int64)


def row_crcs(codes: np.ndarray) -> list[int]:
    return [zlib.crc32(row.astype(np.int8).tobytes()) for row in codes]


def digest(a: np.ndarray, dtype) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, dtype).tobytes()).hexdigest()[:16]


def _quant_args(bits: int, group_size: int | None, symmetric: bool, actorder=None):
    from compressed_tensors.quantization import QuantizationArgs

    return QuantizationArgs(
        num_bits=bits,
        type="int",
        symmetric=symmetric,
        group_size=group_size,
        strategy="group" if group_size else "channel",
        actorder=actorder,
    )


def reference_gptq(case: dict) -> dict:
    """llm-compressor's GPTQ on one case: codes, qparams, output MSE, loss, fallback flag."""
    import torch
    from llmcompressor.modifiers.gptq.gptq_quantize import quantize_weight
    from llmcompressor.observers import Observer

    lay = layer(case["kind"], case["seed"])
    args = _quant_args(case["bits"], case["group_size"], case["symmetric"], "weight" if case["act_order"] else None)
    w = torch.from_numpy(lay.weight.copy())
    observer = Observer.load_from_registry("memoryless_minmax", base_name="weight", args=args)
    observer(w)
    qp = observer.get_qparams()
    x = torch.from_numpy(lay.inputs)
    h = 2.0 * x.T @ x / x.shape[0]  # what accumulate_hessian / num_samples gives, one sample per row
    out, loss, fallback = quantize_weight(
        w[None].clone(), h[None].clone(), qp["scale"][None], qp["zero_point"][None], None, args, 128, case["damp"]
    )
    deq = out[0]
    per_col = deq.shape[1] // qp["scale"].shape[1]
    s = qp["scale"].repeat_interleave(per_col, dim=1)
    z = qp["zero_point"].to(torch.float32).repeat_interleave(per_col, dim=1)
    codes = torch.round(deq / s + z).to(torch.int64).numpy()
    y = lay.inputs.astype(np.float64) @ (lay.weight.astype(np.float64) - deq.numpy().astype(np.float64)).T
    scales, zeros = qp["scale"].numpy(), qp["zero_point"].numpy().astype(np.int64)
    if case["group_size"] is None:
        scales, zeros = scales[:, 0], zeros[:, 0]
    return {
        "codes": codes,
        "scales": scales,
        "zero_points": zeros,
        "output_mse": float(np.mean(y**2)),
        "loss": float(loss[0]),
        "rtn_fallback": bool(fallback[0]),
    }


def reference_awq(case: dict, n_grid: int = 20) -> dict:
    """llm-compressor's AWQ grid search on one case: the chosen ratio, the loss at every grid point, the scales."""
    import torch
    from compressed_tensors.quantization import QuantizationScheme, QuantizationStatus
    from compressed_tensors.quantization.lifecycle.initialize import initialize_module_for_quantization
    from llmcompressor.modifiers.transform.awq import AWQModifier
    from llmcompressor.utils.helpers import DisableQuantization

    class Parent(torch.nn.Module):
        def __init__(self, linear):
            super().__init__()
            self.linear = linear

        def forward(self, x):
            return self.linear(x)

    class Recording(AWQModifier):
        def _compute_loss(self, fp16_outputs, int_w_outputs):
            loss = super()._compute_loss(fp16_outputs, int_w_outputs)
            self._error_metrics.append({"grid_loss": loss})
            return loss

    lay = layer(case["kind"], case["seed"])
    args = _quant_args(case["bits"], case["group_size"], case["symmetric"])
    linear = torch.nn.Linear(lay.weight.shape[1], lay.weight.shape[0], bias=False)
    linear.weight.data = torch.from_numpy(lay.weight.copy())
    initialize_module_for_quantization(linear, QuantizationScheme(targets=["Linear"], weights=args))
    linear.quantization_status = QuantizationStatus.CALIBRATION
    parent = Parent(linear)
    modifier = Recording(n_grid=n_grid, duo_scaling=case["duo_scaling"])
    x = torch.from_numpy(lay.inputs)[None]
    # what its forward hook accumulates: the sum of |x| per channel and the token count
    modifier._smooth_activation_stats["smooth"] = [
        x.abs().flatten(0, -2).float().sum(dim=0),
        torch.tensor(lay.inputs.shape[0]),
    ]
    modifier._parent_args_cache[parent] = [{"x": x}]
    mapping = types.SimpleNamespace(smooth_name="smooth", parent=parent, parent_name="parent", balance_layers=[linear])
    with torch.no_grad(), DisableQuantization(parent):
        outputs = [parent(x)]
        scales = modifier._compute_best_scale(mapping, outputs, {linear: linear.weight.clone()})
    losses = [m["grid_loss"] for m in modifier._error_metrics if "grid_loss" in m]
    points = modifier._get_grid_search_params()
    best = int(np.argmin(losses))  # the first minimum, as its strict `<` keeps
    return {
        "ratio": float(points[best][0]),
        "duo": bool(points[best][1]),
        "losses": losses,
        "scales": scales.numpy().astype(np.float32),
    }


def reference_smoothquant(case: dict) -> np.ndarray:
    """llm-compressor's smoothing scales (float32) for one case."""
    import torch
    from llmcompressor.modifiers.transform.smoothquant import SmoothQuantModifier
    from llmcompressor.modifiers.transform.smoothquant.base import MINIMUM_SMOOTHING_SCALE

    lay = layer(case["kind"], case["seed"])
    x = torch.from_numpy(lay.inputs)
    linear = torch.nn.Linear(lay.weight.shape[1], lay.weight.shape[0], bias=False)
    linear.weight.data = torch.from_numpy(lay.weight.copy())
    modifier = SmoothQuantModifier(smoothing_strength=case["alpha"])
    dynamic_range = torch.max(x, dim=0)[0] - torch.min(x, dim=0)[0]
    with torch.no_grad():
        scales = modifier._calculate_smoothing_scales([linear], dynamic_range)
        scales = torch.maximum(scales, torch.Tensor([MINIMUM_SMOOTHING_SCALE]))
    return scales.numpy().astype(np.float32)


def reference_hadamard(n: int) -> np.ndarray:
    """compressed-tensors' Sylvester Hadamard matrix (entries ±1)."""
    import torch
    from compressed_tensors.transform.utils.hadamard import deterministic_hadamard_matrix

    return deterministic_hadamard_matrix(n, dtype=torch.float32).numpy()


def versions() -> dict:
    from importlib.metadata import version

    return {name: version(name) for name in ("llmcompressor", "compressed-tensors", "torch")}


def main() -> None:
    out = {
        "recipe": {
            "generator": "quantviz.algorithms.toy_layer",
            "shape": SHAPE,
            "kinds": KINDS,
            "stored_rows": STORED_ROWS,
        },
        "reference": versions(),
        "gptq": [],
        "awq": [],
        "smoothquant": [],
        "hadamard": [],
    }
    for case in gptq_cases():
        r = reference_gptq(case)
        out["gptq"].append(
            {
                **case,
                "codes": pack_codes(r["codes"]),
                "row_crc": row_crcs(r["codes"]),
                "scales_sha": digest(r["scales"], np.float32),
                "zero_points_sha": digest(r["zero_points"], np.int64),
                "output_mse": r["output_mse"],
                "loss": r["loss"],
                "rtn_fallback": r["rtn_fallback"],
            }
        )
    for case in awq_cases():
        r = reference_awq(case)
        out["awq"].append(
            {
                **case,
                "ratio": r["ratio"],
                "duo": r["duo"],
                "losses": r["losses"],
                "scales_sha": digest(r["scales"], np.float32),
            }
        )
    for case in smoothquant_cases():
        out["smoothquant"].append({**case, "scales": reference_smoothquant(case).tolist()})
    for n in HADAMARD_SIZES:
        out["hadamard"].append({"n": n, "sha": digest(reference_hadamard(n), np.int8)})
    FIXTURE.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(
        f"wrote {FIXTURE} ({FIXTURE.stat().st_size} bytes): {len(out['gptq'])} GPTQ, {len(out['awq'])} AWQ, "
        f"{len(out['smoothquant'])} SmoothQuant, {len(out['hadamard'])} Hadamard cases"
    )


if __name__ == "__main__":
    main()
