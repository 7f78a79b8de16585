"""Page rerun time (AppTest, median after a widget change) and chart weight (JSON bytes per figure).

Large inputs (1M and 10M values) go in through the session, as the Your values page leaves them,
and are measured on the pages that take the user's values.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from quantviz.app.pages import PAGES as REGISTRY
from tests.apptest_helpers import open_page

PAGES = [page.slug for page in REGISTRY]
USER_VALUE_PAGES = {"rounding_error": "w_source", "calibration": "w_cal_source"}


def _chart_bytes(at) -> int:
    charts = at.get("plotly_chart")
    return max((len(c.proto.spec) for c in charts), default=0)


def _median_rerun(at, reruns: int) -> float:
    times = []
    has_bits = any(s.key == "w_bits" for s in at.slider)
    for i in range(reruns):
        if has_bits:
            at.slider(key="w_bits").set_value(7 if i % 2 == 0 else 8)
        else:  # a page without the shared bit width: its presenter switch still reruns the whole page
            at.toggle(key="w_present").set_value(i % 2 == 0)
        start = time.perf_counter()
        at.run(timeout=120)
        times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    return statistics.median(times)


def run(reruns: int = 5, sizes: tuple[int, ...] = (1_000_000, 10_000_000)) -> list[dict]:
    rows = []
    for page in PAGES:
        at = open_page(f"{page}.py", timeout=120)
        rows.append(
            {
                "page": page,
                "input": "defaults",
                "median rerun (ms)": round(_median_rerun(at, reruns) * 1000),
                "largest figure (KB)": round(_chart_bytes(at) / 1024, 1),
            }
        )
    for size in sizes:
        values = np.random.default_rng(0).normal(size=size) * 300
        for page, radio in USER_VALUE_PAGES.items():
            at = open_page(f"{page}.py", timeout=300)
            at.session_state["_qv_user_values"] = (values, "bench")
            at.radio(key=radio).set_value("yours").run(timeout=300)
            rows.append(
                {
                    "page": page,
                    "input": f"{size:,} values",
                    "median rerun (ms)": round(_median_rerun(at, reruns) * 1000),
                    "largest figure (KB)": round(_chart_bytes(at) / 1024, 1),
                }
            )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
