"""The words of a debug run (float model against its quantized version): built from the computed rows only."""

from __future__ import annotations

from quantviz.teach.fmt import fmt

CLIPPED = 0.01  # a share of codes at the grid's ends (not the zero point) above which the activation is clipped


def debug_verdict(rows: list) -> list[str]:
    """Return the run's verdict: where the output ends, and the tensor that loses the most since the one before it.

    Sentences that do not apply are left out (no loss row: no "biggest loss" sentence; no activation with more
    than 1 % of its codes at an end of its grid: no clipping sentence).

    >>> from quantviz.models.debug import DebugRow
    >>> rows = [DebugRow("a", "Conv", "a", 30.0, 0.1, "", None), DebugRow("y", "Gemm", "y", 20.0, 0.5, "a", 10.0)]
    >>> for line in debug_verdict(rows): print(line)
    The last tensor, y, ends at 20 dB SQNR (max |error| 0.5).
    The biggest loss is at y (Gemm): 10 dB lost since a.
    """
    if not rows:
        return []
    last = rows[-1]
    lines = [
        f"The last tensor, {last.name}, ends at {fmt(round(last.sqnr_db, 2))} dB SQNR "
        f"(max |error| {fmt(last.max_abs_error, 4)})."
    ]
    losses = [r for r in rows if r.added_db is not None and r.added_db > 0]
    if losses:
        most = max(losses, key=lambda r: r.added_db)
        lines.append(
            f"The biggest loss is at {most.name} ({most.op}): {fmt(round(most.added_db, 2))} dB lost since "
            f"{most.previous}."
        )
    clipped = sorted((r for r in rows if r.clipped is not None and r.clipped > CLIPPED), key=lambda r: -r.clipped)
    if clipped:
        lines.append(
            "Clipped at an end of the grid: "
            + ", ".join(f"{r.name} {fmt(round(100 * r.clipped, 2))} % of its values" for r in clipped[:3])
            + "."
        )
    return lines


def table_sentence(dtype: str, block: int, absmax: float, rows: list) -> str:
    """A table-coded block (NF4/FP4) in words: what a code stands for, this block's absmax, the codes it uses.

    >>> from quantviz.models.explain import CodeRow
    >>> rows = [CodeRow(0, -1.0, -0.5, 4), CodeRow(1, 0.0, 0.0, 0), CodeRow(2, 1.0, 0.5, 60)]
    >>> for part in table_sentence("nf4", 3, 0.5, rows).split("; "): print(part)
    nf4: code q stands for table[q] × absmax, absmax = 0.5 in block 3
    2 of 3 codes used, most often code 2 (60 values, 0.5).
    """
    counted = [r for r in rows if r.count is not None]
    head = f"{dtype}: code q stands for table[q] × absmax, absmax = {fmt(absmax, 8)} in block {block}"
    if not counted:
        return head + "."
    used = [r for r in counted if r.count > 0]
    top = max(counted, key=lambda r: r.count)
    return (
        f"{head}; {len(used)} of {len(rows)} codes used, most often code {top.code} "
        f"({top.count} values, {fmt(top.value, 8)})."
    )
