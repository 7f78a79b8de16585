"""The command line: ``python -m quantviz report MODEL [--csv F] [--json F]``.

Reads a model file from a path (the web app never reads server paths; this is for files too big to upload) and
prints the summary in words, then writes every tensor's quantization as JSON and the float tensors measured as CSV.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys

from quantviz.errors import QuantVizError


def report(path: str, json_out: str | None = None, csv_out: str | None = None, largest: int = 20) -> dict:
    """Return (and write where asked) the report of one model file."""
    from quantviz.models import open_model
    from quantviz.models.summary import describe, measure_floats, quantized_rows

    model = open_model(path)
    result = {
        "file": model.name, "format": model.format, "summary": describe(model),
        "tensors": [
            {"name": t.name, "dtype": t.dtype, "shape": list(t.shape), "role": t.role, "op": t.op,
             "quantization": None if t.quantization is None else {
                 "scales": t.quantization.scales.tolist(), "zero_points": t.quantization.zero_points.tolist(),
                 "axis": t.quantization.axis, "block_size": t.quantization.block_size}}
            for t in model.tensors
        ],
        "quantized": [r._asdict() for r in quantized_rows(model)],
    }
    measured = measure_floats(model, largest=largest)
    result["float_tensors"] = [{"name": m.name, "dtype": m.dtype, "shape": list(m.shape), "sqnr_db": m.sqnr,
                                "max_abs_error": m.max_error} for m in measured]
    if json_out:
        with open(json_out, "w") as f:
            json.dump(result, f, indent=1)
    if csv_out:
        keys = sorted({k for m in measured for k in m.sqnr})
        with open(csv_out, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["name", "dtype", "shape", *(f"SQNR {k} (dB)" for k in keys), *(f"max |error| {k}" for k in keys)])
            for m in measured:
                writer.writerow([m.name, m.dtype, "x".join(map(str, m.shape)), *(m.sqnr.get(k, "") for k in keys),
                                 *(m.max_error.get(k, "") for k in keys)])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quantviz", description="QuantViz on the command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="how a model file is quantized: summary, every tensor, float tensors measured")
    rep.add_argument("model", help="a .tflite, .onnx, .safetensors, .gguf, .npz or .npy file")
    rep.add_argument("--json", help="write the full report as JSON here")
    rep.add_argument("--csv", help="write the float tensors' SQNR table as CSV here")
    rep.add_argument("--largest", type=int, default=20, help="how many of the largest float tensors to measure")
    args = parser.parse_args(argv)
    try:
        result = report(args.model, args.json, args.csv, args.largest)
    except QuantVizError as exc:
        print(f"quantviz: {exc}", file=sys.stderr)
        return 2
    print("\n".join(result["summary"]))
    print(f"{len(result['tensors'])} tensors, {len(result['quantized'])} quantized, {len(result['float_tensors'])} float tensors measured.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
