"""A course through the balancer: 60 students over 2 replicas behind HAProxy (deploy/), a replica killed, a rolling
restart, and a 10 MB upload in the middle of the load.

    PYTHONPATH=. .venv/bin/python -m bench.course            # the three runs below, about 4 minutes
    PYTHONPATH=. .venv/bin/python -m bench.course steady     # or: kill, rolling

Each student is one browser tab spoken for over Streamlit's own websocket protocol (``bench.protocol.Tab``), with
what a browser adds in front of a balancer: a cookie jar (the balancer's sticky cookie and Streamlit's XSRF cookie),
and, when its websocket drops, the frontend's reconnect: ask the balancer again, reopen the websocket naming the old
session, rerun with the link's query string. The link is all it sends back, so a view that comes
back the same came back from the link. Every answer is checked: the scale shown must be the one for the bit width
in the student's link.
"""

from __future__ import annotations

import asyncio
import io
import random
import statistics
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from bench.protocol import LostError, Tab
from bench.server import SCALES, _cpu_seconds
from deploy.course import STICKY_COOKIE, Course


def shows_its_link(tab: Tab) -> bool:
    """Whether the landing page shows the scale for the bit width in the tab's link."""
    return tab.metrics.get("scale s") == SCALES[tab.bits_in_link]


def npy_bytes(megabytes: int = 10) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.random.default_rng(0).normal(size=megabytes * 2**20 // 4).astype(np.float32))
    return buffer.getvalue()


@dataclass
class Observations:
    """What one course run saw, raw: filled in by the students and the scenario's events, summarised by ``summary``."""

    latencies: list[float] = field(default_factory=list)  # every answered move, seconds
    errors: list[str] = field(default_factory=list)
    reconnects: list[float] = field(default_factory=list)  # from a replica's stop to the student's view drawn again
    noticed: list[float] = field(default_factory=list)  # from the stop to the student's websocket reporting it
    down: dict[str, float] = field(default_factory=dict)  # replica -> when it was stopped
    spread: dict[str, int] = field(default_factory=dict)  # replica -> students it took at the start
    events: dict = field(default_factory=dict)  # the scenario's own findings (upload statuses, who was killed)
    cpu: dict[str, float] = field(default_factory=dict)  # replica -> CPU seconds over the run (those still running)
    everyone: list[Tab] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    start_line: asyncio.Event = field(default_factory=asyncio.Event)


async def _student(
    index: int, course: Course, seen: Observations, *, scenario: str, students: int, seconds: float, think: float
) -> None:
    """One student: open the landing page, then move the bit width (7 <-> 8) every ``think`` seconds, checking
    each answer, and come back through the balancer when the websocket drops."""
    me = Tab(course.url, query_string=f"bits={8 if index % 2 else 7}")
    seen.everyone.append(me)
    try:
        await asyncio.to_thread(me.http, "GET", "/")
        await me.connect()
        await me.rerun(timeout=120)
        seen.spread[me.server] = seen.spread.get(me.server, 0) + 1
    except Exception as exc:
        seen.errors.append(f"student {index} could not open the page: {type(exc).__name__}: {exc}")
        return
    finally:
        seen.opened.append(index)
        if len(seen.opened) == students:  # everyone in class: the minute starts for all at once
            seen.start_line.set()
    await seen.start_line.wait()
    deadline = time.perf_counter() + seconds
    # a class does not move in step: each student's first move comes at its own moment in the first second
    await asyncio.sleep(think * random.Random(index).random())
    while time.perf_counter() < deadline:
        bits = 15 - me.bits_in_link  # 7 <-> 8
        held = me.server
        try:
            seen.latencies.append(await me.set_bits(bits))
            if not shows_its_link(me):
                seen.errors.append(f"wrong answer: {me.metrics.get('scale s')} for {me.query_string}")
        except LostError:
            seen.noticed.append(time.perf_counter() - seen.down.get(held, time.perf_counter()))
            if held not in seen.down:
                seen.errors.append(f"student {index} lost its websocket on {held}, which was running")
                return
            if not await _come_back(index, me, held, seen, scenario=scenario):
                return
        except Exception as exc:
            seen.errors.append(f"student {index}: {type(exc).__name__}: {exc}")
            return
        await asyncio.sleep(think)


async def _come_back(index: int, me: Tab, held: str, seen: Observations, *, scenario: str) -> bool:
    """Reconnect a student whose replica went down and check what it came back to; False if it did not come back."""
    try:
        await me.reconnect()
    except Exception as exc:
        seen.errors.append(f"student {index} did not come back: {type(exc).__name__}: {exc}")
        return False
    seen.reconnects.append(time.perf_counter() - seen.down[held])  # from the kill to the view drawn again
    if me.server == held and scenario == "kill":
        seen.errors.append(f"student {index} came back to {held}, which is down")
    if not shows_its_link(me):
        seen.errors.append(f"student {index} came back to a different view: {me.metrics.get('scale s')}")
    if not any(f"Reconnected to server {me.server}" in t for t in me.toasts):
        seen.errors.append(f"student {index} was not told it moved to {me.server}: {me.toasts}")
    return True


async def _events(course: Course, seen: Observations, *, scenario: str, seconds: float) -> None:
    """The scenario's events once the class has started: an upload, a kill, or a rolling restart."""
    await seen.start_line.wait()
    if scenario == "steady":
        await asyncio.sleep(seconds / 2)
        me = next(s for s in seen.everyone if s.session_id)
        payload = npy_bytes(10)
        t = time.perf_counter()
        status = await asyncio.to_thread(me.upload, payload)
        seen.events.update(
            {
                "upload (10 MB .npy) status": status,
                "upload s": round(time.perf_counter() - t, 2),
                "upload landed on": me.server,
            }
        )
        # the control: the same request carrying another replica's cookie is refused by that replica
        for name in course.servers:
            if name != me.server:
                stray = Tab(course.url, cookies={**me.cookies, STICKY_COOKIE: name}, session_id=me.session_id)
                seen.events["same upload sent to the other replica"] = await asyncio.to_thread(
                    stray.upload, payload[:4096]
                )
    elif scenario == "kill":
        await asyncio.sleep(seconds / 3)
        victim = max(seen.spread, key=seen.spread.get)
        seen.events["killed"] = f"{victim} ({seen.spread[victim]} students)"
        seen.down[victim] = time.perf_counter()
        course.kill(victim)
    elif scenario == "rolling":
        await asyncio.sleep(seconds / 3)
        for name in course.servers:
            seen.down[name] = time.perf_counter()
            await asyncio.to_thread(course.stop_replica, name)
            await asyncio.to_thread(course.start, name)
            await asyncio.to_thread(course.wait_in_rotation, name)
        seen.events["rolling restart"] = "every replica, one at a time"


async def measure(
    scenario: str = "steady", students: int = 60, seconds: float = 60.0, think: float = 1.0, replicas: int = 2
) -> Observations:
    """Run one scenario on a fresh course and return what it saw. ``steady``: load and an upload at half time;
    ``kill``: one replica killed at a third of the run; ``rolling``: every replica restarted in turn, starting at a
    third of the run."""
    seen = Observations()
    with Course(replicas=replicas) as course:
        pids = {name: r.proc.pid for name, r in course.servers.items()}
        cpu_before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
        await asyncio.gather(
            _events(course, seen, scenario=scenario, seconds=seconds),
            *(
                _student(i, course, seen, scenario=scenario, students=students, seconds=seconds, think=think)
                for i in range(students)
            ),
        )
        seen.cpu = {
            name: round(_cpu_seconds(pid) - cpu_before[name], 1)
            for name, pid in pids.items()
            if course.servers[name].proc.pid == pid and course.servers[name].proc.poll() is None
        }
    return seen


def summary(seen: Observations, *, scenario: str, students: int, replicas: int, seconds: float) -> dict:
    """The report row of one run: percentiles of the moves, the spread over replicas, the reconnects, the errors.

    >>> seen = Observations(latencies=[0.5, 0.7, 0.9], spread={"r0": 2, "r1": 1}, reconnects=[1.0, 2.0])
    >>> row = summary(seen, scenario="kill", students=3, replicas=2, seconds=5.0)
    >>> row["p50 (s)"], row["spread from even (%)"], row["slowest reconnect (s)"], row["errors"]
    (0.7, 33.3, 2.0, 0)
    """
    lat = np.array(seen.latencies)
    even = students / replicas
    return {
        "scenario": scenario,
        "students": students,
        "replicas": replicas,
        "seconds": seconds,
        "sessions per replica": dict(sorted(seen.spread.items())),
        "spread from even (%)": round(100 * max(abs(n - even) for n in seen.spread.values()) / even, 1)
        if seen.spread
        else None,
        "moves answered": int(lat.size),
        "errors": len(seen.errors),
        "p50 (s)": round(float(np.percentile(lat, 50)), 3) if lat.size else None,
        "p95 (s)": round(float(np.percentile(lat, 95)), 3) if lat.size else None,
        "students moved": len(seen.reconnects),
        "slowest reconnect (s)": round(max(seen.reconnects), 2) if seen.reconnects else None,
        "median reconnect (s)": round(statistics.median(seen.reconnects), 2) if seen.reconnects else None,
        "slowest loss noticed (s)": round(max(seen.noticed), 2) if seen.noticed else None,
        "server CPU (s)": seen.cpu,
        **seen.events,
        "first errors": seen.errors[:3],
    }


async def run(
    scenario: str = "steady", students: int = 60, seconds: float = 60.0, think: float = 1.0, replicas: int = 2
) -> dict:
    """Measure one scenario (see ``measure``) and return its report row (``summary``)."""
    seen = await measure(scenario, students, seconds, think, replicas)
    return summary(seen, scenario=scenario, students=students, replicas=replicas, seconds=seconds)


if __name__ == "__main__":
    chosen = sys.argv[1:] or ["steady", "kill", "rolling"]
    for name in chosen:
        print(asyncio.run(run(name)), flush=True)
