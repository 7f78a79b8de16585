"""Tables for the pages (pandas): every DataFrame a page shows is built here, from a computed result.

Pure functions: a result object in, a ``pandas.DataFrame`` (or a ``Styler`` where cells are coloured) out; the
pages only pass them to ``widgets.show_table``. No quantizing happens here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from quantviz.app import figures
from quantviz.conventions import QuantizeTrace
from quantviz.grid import storage_bits, to_binary_array
from quantviz.qparams import QParams
from quantviz.teach.blocks import binary
from quantviz.teach.fmt import fmt

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

    from quantviz.formats import FormatResult
    from quantviz.intmath import WorkedFullyConnected
    from quantviz.tasks.sweeps import SchemePoint
    from quantviz.teach.blocks import BlockView
    from quantviz.teach.compare import ConventionRow
    from quantviz.teach.mix import MixSummary
    from quantviz.teach.superblock import ImatrixEffect, SuperBlockView
    from quantviz.teach.zero_point import ZeroPointFate

# A cell that differs from the first row's (figures.ORANGE at 35 %), and the colours of a block's byte fields
DIFFERS = "background-color: rgba(230, 159, 0, 0.35)"
FIELD_COLOURS = (figures.ORANGE, figures.SKY, figures.GREEN, figures.PURPLE)


def values_table(trace: QuantizeTrace, qp: QParams, *, limit: int | None = None):
    """Return a pandas DataFrame with one row per value: x, x/s, rounded, q, binary, dequantized, error, clipped.

    The binary column uses the storage type's width (two's complement when signed).
    """
    n = trace.x.size if limit is None else min(limit, trace.x.size)
    bits, signed = storage_bits(qp.storage_min, qp.storage_max)
    q = trace.q[:n]
    return pd.DataFrame(
        {
            "x": trace.x[:n],
            "x / s": trace.scaled[:n],
            "rounded (before clamp)": trace.unclamped[:n],
            "q": q,
            "binary": to_binary_array(q, bits, signed=signed),
            "dequantized": trace.dequantized[:n],
            "error": trace.error[:n],
            "clipped": trace.clipped[:n],
        }
    )


# ----------------------------------------------------------------------------- number line, frameworks, low bit
def zero_point_fates_table(fates: Sequence[ZeroPointFate]) -> pd.DataFrame:
    """One row per convention: the raw zero point of the range as given and what the convention does with it."""
    return pd.DataFrame(
        [
            {
                "convention": f.label,
                "grid": f"[{f.grid[0]}, {f.grid[1]}]",
                "raw z = qmin − rmin/s (range as given, exact)": fmt(f.raw, 8),
                "the number it rounds (its own arithmetic)": "—" if f.own_raw is None else fmt(f.own_raw, 10),
                "then": f.action,
                "z": f.zero_point,
                "representable": f"[{fmt(f.representable[0], 6)}, {fmt(f.representable[1], 6)}]"
                if f.representable
                else "—",
            }
            for f in fates
        ]
    )


def conventions_table(rows: Sequence[ConventionRow], probes: np.ndarray) -> Styler | None:
    """One row per supporting convention (s, z, grid, the probes' codes), cells unlike the first row's coloured.

    None when no convention supports the settings.
    """
    records = []
    for r in rows:
        if r.qparams is None:
            continue
        qp = r.qparams
        rec = {
            "convention": r.label,
            "scale": fmt(qp.scale, 10),
            "zero point": qp.zero_point,
            "grid": f"[{qp.qmin}, {qp.qmax}]",
            "representable": f"[{fmt(qp.real_min, 7)}, {fmt(qp.real_max, 7)}]",
        }
        rec.update({f"q({fmt(x, 8)})": q for x, q in zip(probes, r.codes, strict=True)})
        records.append(rec)
    table = pd.DataFrame(records)
    if not len(table):
        return None
    reference = table.iloc[0]

    def highlight(col: pd.Series) -> list[str]:
        return [DIFFERS if v != reference[col.name] else "" for v in col]

    return table.style.apply(highlight, subset=[c for c in table.columns if c not in ("convention",)])


def formats_table(results: Sequence[FormatResult]) -> pd.DataFrame:
    """One row per format: its MSE, SQNR and how many distinct values it has."""
    return pd.DataFrame(
        [
            {"format": r.name, "MSE": r.mse, "SQNR (dB)": round(r.sqnr_db, 2), "distinct values": int(r.grid.size)}
            for r in results
        ]
    )


# ----------------------------------------------------------------------------- integer arithmetic
def codes_table(codes: np.ndarray, prefix: str) -> pd.DataFrame:
    """A matrix of codes (a vector as one row), its columns named ``prefix`` + index."""
    a = np.atleast_2d(codes)
    return pd.DataFrame(a, columns=[f"{prefix}{j}" for j in range(a.shape[1])])


def _pairs(acc: np.ndarray) -> list[str]:
    return [f"{i}, {j}" for i in range(acc.shape[0]) for j in range(acc.shape[1])]


def accumulator_table(r: WorkedFullyConnected) -> pd.DataFrame:
    """One row per (row, output): Σ q₁q₂, the zero-point term, the int32 bias and the accumulator."""
    s = r.steps
    return pd.DataFrame(
        {
            "row, output": _pairs(s.acc),
            "Σ q₁·q₂": s.acc_raw.ravel(),
            "− z₁·Σ q₂": s.zero_point_term.ravel(),
            "+ bias (int32, scale s₁s₂)": np.tile(r.bias_int32, s.acc.shape[0]),
            "= acc": s.acc.ravel(),
        }
    )


def requantize_table(r: WorkedFullyConnected) -> pd.DataFrame:
    """One row per (row, output): the accumulator rescaled by M0 and the shift, q₃, and the error against float."""
    s = r.steps
    n = s.acc.shape[0]
    table = pd.DataFrame(
        {
            "row, output": _pairs(s.acc),
            "acc": s.acc.ravel(),
            "M (real)": np.tile(s.multipliers, n),
            "M0 (Q31)": np.tile(s.m0, n),
            "shift": np.tile(s.shifts, n),
            "acc·M rounded": s.scaled.ravel(),
            "+ z₃, clamp → q₃": s.output.ravel(),
            "dequantized": r.dequantized_output.ravel(),
            "float result": r.float_output.ravel(),
        }
    )
    table["error"] = table["dequantized"] - table["float result"]
    return table


def addition_table(
    a: np.ndarray, codes_a: np.ndarray, b: np.ndarray, codes_b: np.ndarray, out: np.ndarray, back: np.ndarray
) -> pd.DataFrame:
    """A quantized addition, one row per element: both inputs and codes, the output code, its value, a + b."""
    return pd.DataFrame(
        {"a": a, "q_a": codes_a, "b": b, "q_b": codes_b, "q_out": out, "dequantized": back, "a + b": a + b}
    )


# ----------------------------------------------------------------------------- block formats
def block_values_table(
    view: BlockView, *, importance: np.ndarray | None = None, other_codes: tuple[str, np.ndarray] | None = None
) -> pd.DataFrame:
    """One row per value of the block: x, its code and bits, the value back, the error (and its importance)."""
    table = {
        "x": view.values,
        "code": view.codes,
        "bits": [binary(c, view.code_bits) for c in view.codes],
        # + 0: a code whose sign bit is set on a zero (E2M1's code 8) decodes to −0.0, shown as 0
        "dequantized": view.decoded + np.float32(0),
        "error": view.decoded.astype(np.float64) - view.values,
    }
    if importance is not None:
        table["importance"] = importance
    if other_codes is not None:
        table[other_codes[0]] = other_codes[1]
    return pd.DataFrame(table)


def superblock_table(sb: SuperBlockView) -> pd.DataFrame:
    """One row per sub-block of a K-quant super-block: its scale (and min) searched, coded and stored."""
    table = {
        "sub-block": [r.index for r in sb.rows],
        "values": [f"{r.index * sb.sub_size}–{(r.index + 1) * sb.sub_size - 1}" for r in sb.rows],
    }
    if sb.rows[0].searched_scale is not None:
        table["searched scale"] = [r.searched_scale for r in sb.rows]
    table[f"scale code ({sb.scale_bits}-bit)"] = [r.scale_code for r in sb.rows]
    table["stored scale = d · code"] = [r.stored_scale for r in sb.rows]
    if sb.dmin is not None:
        table["searched min"] = [r.searched_min for r in sb.rows]
        table[f"min code ({sb.scale_bits}-bit)"] = [r.min_code for r in sb.rows]
        table["stored min = dmin · code"] = [r.stored_min for r in sb.rows]
    return pd.DataFrame(table)


def imatrix_blocks_table(effects: Sequence[ImatrixEffect]) -> pd.DataFrame:
    """One row per block: how many codes the importance matrix changed, and both errors with and without it."""
    return pd.DataFrame(
        [
            {
                "block": i,
                "codes changed": e.changed.size,
                "weighted error, no imatrix": e.plain_weighted_error,
                "weighted error, imatrix": e.imatrix_weighted_error,
                "plain error, no imatrix": e.plain_error,
                "plain error, imatrix": e.imatrix_error,
            }
            for i, e in enumerate(effects)
        ]
    )


def block_bytes_table(view: BlockView) -> Styler:
    """One row per byte of the block as stored (hex, bits, the field it belongs to), coloured by field."""
    rows = [
        {"byte": i, "hex": f"{int(view.data[i]):02x}", "bits": f"{int(view.data[i]):08b}", "field": field}
        for start, stop, field in view.fields
        for i in range(start, stop)
    ]
    table = pd.DataFrame(rows)
    colour_of = {f[2]: FIELD_COLOURS[i % len(FIELD_COLOURS)] for i, f in enumerate(view.fields)}
    return table.style.apply(lambda col: [f"background-color: {colour_of[v]}40" for v in table["field"]], axis=0)


def mix_table(summary: MixSummary) -> pd.DataFrame:
    """One row per tensor role of a GGUF file type: how many tensors get each type."""
    types = sorted({t for r in summary.rows for t in r.counts})
    return pd.DataFrame([{"tensor": r.role, **{t: r.counts.get(t, 0) for t in types}} for r in summary.rows])


def nf4_table(table: np.ndarray, derived: np.ndarray) -> pd.DataFrame:
    """NF4's 16 codes: bitsandbytes' values beside the ones derived from normal quantiles."""
    return pd.DataFrame(
        {
            "code": np.arange(16),
            "bits": [binary(c, 4) for c in range(16)],
            "bitsandbytes": table,
            "from the quantiles": derived,
            "difference": derived.astype(np.float64) - table,
        }
    )


# ----------------------------------------------------------------------------- what it costs
def _scheme_columns(points: Sequence[SchemePoint], metric: str) -> dict[str, list]:
    from quantviz.teach.costs import metric_text  # loads the tasks: only the page that shows them pays

    return {
        "weights": [p.weights for p in points],
        "bits/weight": [round(p.bits_per_weight, 3) for p in points],
        "weight SQNR (dB)": [round(p.weight_sqnr_db, 2) for p in points],
        metric: [metric_text(metric, p.value) for p in points],
        "KL (nats)": [float(f"{p.kl_divergence:.4g}") for p in points],
    }


def schemes_table(points: Sequence[SchemePoint], metric: str) -> pd.DataFrame:
    """One row per weight scheme: bits per weight, weight SQNR, the task metric, KL and top-1 agreement."""
    columns = _scheme_columns(points, metric)
    columns["same top answer"] = [f"{p.top1_agreement * 100:.2f} %" for p in points]
    return pd.DataFrame(columns)


def scheme_links_table(points: Sequence[SchemePoint], metric: str, links: Sequence[str]) -> pd.DataFrame:
    """One row per weight scheme, as :func:`schemes_table` without agreement, with a link that opens it."""
    return pd.DataFrame({**_scheme_columns(points, metric), "open": list(links)})
