"""The bitsandbytes NF4 example, dequantized by bitsandbytes itself: equal to QuantViz's reading, bit for bit.

Run with `make oracles`. As a script (``.venv-oracles/bin/python tests/oracles/test_model_bnb.py`` from the
repository root) it writes the light copy ``tests/fixtures/bnb_dequantized.json``: the SHA-256 and first values of
each weight as ``bitsandbytes.functional.dequantize_4bit`` returns it, checked in ``make test`` by
``tests/test_model_bnb.py`` without torch.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "quantviz" / "models" / "examples" / "bnb_nf4.safetensors"
LIGHT = ROOT / "tests" / "fixtures" / "bnb_dequantized.json"


def bitsandbytes_dequantized() -> dict[str, np.ndarray]:
    """Every 4-bit weight of the example as bitsandbytes' ``QuantState.from_dict`` + ``dequantize_4bit`` give it."""
    import torch
    from bitsandbytes.functional import QuantState, dequantize_4bit
    from safetensors.torch import load_file

    stored = load_file(str(EXAMPLE))
    bases = [k.split(".quant_state.")[0] for k in stored if ".quant_state.bitsandbytes__" in k]
    out = {}
    for base in bases:
        parts = {k[len(base) + 1 :]: v for k, v in stored.items() if k.startswith(f"{base}.")}
        state = QuantState.from_dict(parts, device=torch.device("cpu"))
        out[base] = dequantize_4bit(stored[base], state).numpy()
    return out


def light_copy(values: dict[str, np.ndarray]) -> dict[str, dict]:
    return {
        name: {
            "dtype": str(v.dtype),
            "shape": list(v.shape),
            "sha256": hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest(),
            "first": [float(x) for x in v.reshape(-1)[:8]],
        }
        for name, v in sorted(values.items())
    }


def test_dequantized_equals_bitsandbytes_bit_for_bit() -> None:
    pytest.importorskip("bitsandbytes")
    from quantviz.models import open_model
    from quantviz.models.bnb_packs import dequantize

    reference = bitsandbytes_dequantized()
    model = open_model(EXAMPLE)
    ours = {t.name: dequantize(t) for t in model.tensors if t.dtype == "nf4"}
    assert sorted(ours) == sorted(reference)
    for name, ref in reference.items():
        assert ours[name].dtype == ref.dtype, name
        assert ours[name].tobytes() == ref.tobytes(), name
    assert json.loads(LIGHT.read_text()) == light_copy(reference)  # the committed light copy is bitsandbytes' own


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    LIGHT.write_text(json.dumps(light_copy(bitsandbytes_dequantized()), indent=1) + "\n")
    print(f"wrote {LIGHT.relative_to(ROOT)}")
