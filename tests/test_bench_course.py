"""bench.course: the report row is computed from what a run saw (``summary``), apart from running the course."""

from __future__ import annotations

import numpy as np

from bench.course import Observations, summary


def test_summary_reports_what_was_seen():
    rng = np.random.default_rng(0)
    latencies = rng.uniform(0.2, 1.5, size=200).tolist()
    seen = Observations(
        latencies=latencies,
        spread={"r1": 28, "r0": 32},
        reconnects=[1.2, 2.5, 0.9],
        noticed=[0.1, 0.8],
        errors=[f"e{i}" for i in range(5)],
        cpu={"r0": 26.5},
        events={"killed": "r0 (32 students)"},
    )
    row = summary(seen, scenario="kill", students=60, replicas=2, seconds=60.0)
    assert row["p50 (s)"] == round(float(np.percentile(latencies, 50)), 3)
    assert row["p95 (s)"] == round(float(np.percentile(latencies, 95)), 3)
    assert row["moves answered"] == 200 and row["errors"] == 5 and row["first errors"] == ["e0", "e1", "e2"]
    assert row["sessions per replica"] == {"r0": 32, "r1": 28}  # sorted by replica
    assert row["spread from even (%)"] == round(100 * 2 / 30, 1)
    assert (row["students moved"], row["slowest reconnect (s)"], row["median reconnect (s)"]) == (3, 2.5, 1.2)
    assert row["slowest loss noticed (s)"] == 0.8 and row["killed"] == "r0 (32 students)"
    assert row["server CPU (s)"] == {"r0": 26.5}


def test_summary_of_a_run_that_saw_nothing():
    row = summary(Observations(), scenario="steady", students=4, replicas=2, seconds=5.0)
    assert row["moves answered"] == 0
    assert all(
        row[k] is None
        for k in (
            "p50 (s)",
            "p95 (s)",
            "spread from even (%)",
            "slowest reconnect (s)",
            "median reconnect (s)",
            "slowest loss noticed (s)",
        )
    )
