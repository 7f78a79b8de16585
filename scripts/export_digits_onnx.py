"""Write the digits network's integer graphs (quantviz/tasks/onnx_export.py) to quantviz/tasks/data/*.onnx.

``.venv/bin/python scripts/export_digits_onnx.py`` (the app's venv: onnx is a runtime requirement). The files are
what tests/test_tasks_onnx.py runs in onnxruntime; the test also rebuilds them and checks the bytes are the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from quantviz.tasks.onnx_export import digits_model  # noqa: E402

EXPORTED = ("int8-per-tensor", "int8-per-channel", "int4-per-channel")


def main() -> None:
    for weights in EXPORTED:
        out = ROOT / "quantviz" / "tasks" / "data" / f"digits_{weights}.onnx"
        out.write_bytes(digits_model(weights).SerializeToString())
        print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
