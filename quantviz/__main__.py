"""The command line: ``python -m quantviz report MODEL [--config C] [--json F] [--csv F] [--float-csv F]``.

Reads a model file from a path (the web app never reads server paths; this is for files too big to upload) and
prints the summary in words, then writes every tensor's quantization as strict JSON (no NaN or Infinity), the
quantized-tensor table with every parameter as CSV, and the float tensors measured as CSV. Whatever is wrong (a
directory, a missing file or output folder, a broken model) is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys

from quantviz.errors import QuantVizError


class OutputError(QuantVizError):
    """An output file that cannot be written (its folder is missing, or it names a directory)."""


def _check_output(path: str | None) -> None:
    """Refuse an output path before any work is done: its folder must exist and it must not be a directory."""
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OutputError(f"{path}: the folder {folder} does not exist")
    if os.path.isdir(path):
        raise OutputError(f"{path}: a directory, not a file to write")


def _write(path: str, write) -> None:
    try:
        with open(path, "w", newline="") as f:
            write(f)
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written ({exc.strerror})") from None


def _tensor_record(t) -> dict:
    """One tensor of the JSON report: its stored name, type, shape, role, operator and quantization."""
    q = t.quantization
    return {
        "name": t.name,
        "dtype": t.dtype,
        "shape": list(t.shape),
        "role": t.role,
        "op": t.op,
        "quantization": None
        if q is None
        else {
            "scales": q.scales.tolist(),
            "zero_points": q.zero_points.tolist(),
            "axis": q.axis,
            "block_size": q.block_size,
            **({"table": q.table.tolist()} if q.table is not None else {}),
        },
    }


def _write_quantized_csv(path: str, model) -> None:
    """The quantized-tensor table with every scale and zero point."""
    from quantviz.models.export import quantized_table

    table = quantized_table(model)
    columns = (
        list(table[0])
        if table
        else ["name", "role", "op", "dtype", "shape", "granularity", "axis", "block_size", "scales", "zero_points"]
    )

    def write(f) -> None:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(table)

    _write(path, write)


def _write_float_csv(path: str, measured: list) -> None:
    """The float tensors' SQNR and max |error| per scheme."""
    keys = sorted({k for m in measured for k in m.sqnr})

    def write(f) -> None:
        writer = csv.writer(f)
        writer.writerow(
            ["name", "dtype", "shape", *(f"SQNR {k} (dB)" for k in keys), *(f"max |error| {k}" for k in keys)]
        )
        for m in measured:
            shape = "x".join(map(str, m.shape))
            errors = [m.max_error.get(k, "") for k in keys]
            writer.writerow([m.name, m.dtype, shape, *(m.sqnr.get(k, "") for k in keys), *errors])

    _write(path, write)


def report(
    path: str,
    json_out: str | None = None,
    csv_out: str | None = None,
    largest: int = 20,
    float_csv_out: str | None = None,
    config: str | None = None,
) -> dict:
    """Return (and write where asked) the report of one model file.

    ``json_out``: the whole report as strict JSON; ``csv_out``: the quantized-tensor table with every scale and
    zero point; ``float_csv_out``: the float tensors' SQNR and max |error| per scheme; ``config``: a Hugging Face
    ``config.json`` for a safetensors checkpoint (else one in the model's folder is read).
    """
    from quantviz.models import open_model
    from quantviz.models.export import strict
    from quantviz.models.problems import likely_problems
    from quantviz.models.summary import describe, measure_floats, quantized_rows

    for out in (json_out, csv_out, float_csv_out):
        _check_output(out)
    model = open_model(path, config=config)
    measured = measure_floats(model, largest=largest)
    result = {
        "file": model.name,
        "format": model.format,
        "file_type": model.file_type,
        "config": None if model.config is None else model.config._asdict(),
        "summary": describe(model),
        "likely_problems": [p._asdict() for p in likely_problems(model)],
        "notes": model.notes,
        "tensors": [_tensor_record(t) for t in model.tensors],
        "quantized": [r._asdict() for r in quantized_rows(model)],
        "float_tensors": [
            {"name": m.name, "dtype": m.dtype, "shape": list(m.shape), "sqnr_db": m.sqnr, "max_abs_error": m.max_error}
            for m in measured
        ],
    }
    result = strict(result)
    if json_out:
        _write(json_out, lambda f: json.dump(result, f, indent=1, allow_nan=False))
    if csv_out:
        _write_quantized_csv(csv_out, model)
    if float_csv_out:
        _write_float_csv(float_csv_out, measured)
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m quantviz report MODEL ...``: the summary on stdout; whatever is wrong, one line and status 2."""
    parser = argparse.ArgumentParser(prog="python -m quantviz", description="QuantViz on the command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="how a model file is quantized: summary, every tensor, float tensors measured")
    rep.add_argument("model", help="a .tflite, .onnx, .safetensors, .gguf, .npz or .npy file")
    rep.add_argument("--json", help="write the full report as JSON here")
    rep.add_argument("--csv", help="write the quantized-tensor table (every scale and zero point) as CSV here")
    rep.add_argument("--float-csv", help="write the float tensors' SQNR table as CSV here")
    rep.add_argument("--largest", type=int, default=20, help="how many of the largest float tensors to measure")
    rep.add_argument(
        "--config", help="the checkpoint's config.json (default: a config.json beside a .safetensors model)"
    )
    args = parser.parse_args(argv)
    try:
        result = report(args.model, args.json, args.csv, args.largest, args.float_csv, args.config)
    except QuantVizError as exc:
        print(f"quantviz: {exc}", file=sys.stderr)
        return 2
    print("\n".join(result["summary"]))
    for i, problem in enumerate(result["likely_problems"][:10], 1):
        print(f"Likely problem {i}: {problem['tensor']}: {problem['text']}")
    counts = (len(result["tensors"]), len(result["quantized"]), len(result["float_tensors"]))
    print(f"{counts[0]} tensors, {counts[1]} quantized, {counts[2]} float tensors measured.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
