"""The Markdown table every benchmark prints its rows as (one place, so no benchmark imports the runner)."""

from __future__ import annotations


def table(rows: list[dict]) -> str:
    keys = list(dict.fromkeys(k for row in rows for k in row))  # every row's columns, in first-seen order
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines)
