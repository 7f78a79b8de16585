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


async def run(scenario: str = "steady", students: int = 60, seconds: float = 60.0, think: float = 1.0,
              replicas: int = 2) -> dict:
    """``steady``: load and an upload at half time; ``kill``: one replica killed at a third of the run;
    ``rolling``: every replica restarted in turn, starting at a third of the run."""
    with Course(replicas=replicas) as course:
        latencies: list[float] = []
        errors: list[str] = []
        reconnects: list[float] = []
        down: dict[str, float] = {}  # replica -> when it was stopped
        spread: dict[str, int] = {}
        upload: dict = {}
        everyone: list[Tab] = []
        start_line = asyncio.Event()
        opened: list[int] = []
        noticed: list[float] = []  # from the stop to the student's websocket reporting it

        async def student(index: int) -> None:
            me = Tab(course.url, query_string=f"bits={8 if index % 2 else 7}")
            everyone.append(me)
            try:
                await asyncio.to_thread(me.http, "GET", "/")
                await me.connect()
                await me.rerun(timeout=120)
                spread[me.server] = spread.get(me.server, 0) + 1
            except Exception as exc:
                errors.append(f"student {index} could not open the page: {type(exc).__name__}: {exc}")
                return
            finally:
                opened.append(index)
                if len(opened) == students:  # everyone in class: the minute starts for all at once
                    start_line.set()
            await start_line.wait()
            deadline = time.perf_counter() + seconds
            # a class does not move in step: each student's first move comes at its own moment in the first second
            await asyncio.sleep(think * random.Random(index).random())
            while time.perf_counter() < deadline:
                bits = 15 - me.bits_in_link  # 7 <-> 8
                held = me.server
                try:
                    latencies.append(await me.set_bits(bits))
                    if not shows_its_link(me):
                        errors.append(f"wrong answer: {me.metrics.get('scale s')} for {me.query_string}")
                except LostError:
                    noticed.append(time.perf_counter() - down.get(held, time.perf_counter()))
                    if held not in down:
                        errors.append(f"student {index} lost its websocket on {held}, which was running")
                        return
                    try:
                        await me.reconnect()
                    except Exception as exc:
                        errors.append(f"student {index} did not come back: {type(exc).__name__}: {exc}")
                        return
                    reconnects.append(time.perf_counter() - down[held])  # from the kill to the view drawn again
                    if me.server == held and scenario == "kill":
                        errors.append(f"student {index} came back to {held}, which is down")
                    if not shows_its_link(me):
                        errors.append(f"student {index} came back to a different view: {me.metrics.get('scale s')}")
                    if not any(f"Reconnected to server {me.server}" in t for t in me.toasts):
                        errors.append(f"student {index} was not told it moved to {me.server}: {me.toasts}")
                except Exception as exc:
                    errors.append(f"student {index}: {type(exc).__name__}: {exc}")
                    return
                await asyncio.sleep(think)

        async def events() -> None:
            await start_line.wait()
            if scenario == "steady":
                await asyncio.sleep(seconds / 2)
                me = next(s for s in everyone if s.session_id)
                payload = npy_bytes(10)
                t = time.perf_counter()
                status = await asyncio.to_thread(me.upload, payload)
                upload.update({"upload (10 MB .npy) status": status, "upload s": round(time.perf_counter() - t, 2),
                               "upload landed on": me.server})
                # the control: the same request carrying another replica's cookie is refused by that replica
                for name in course.servers:
                    if name != me.server:
                        stray = Tab(course.url, cookies={**me.cookies, STICKY_COOKIE: name}, session_id=me.session_id)
                        upload["same upload sent to the other replica"] = await asyncio.to_thread(stray.upload, payload[:4096])
            elif scenario == "kill":
                await asyncio.sleep(seconds / 3)
                victim = max(spread, key=spread.get)
                upload["killed"] = f"{victim} ({spread[victim]} students)"
                down[victim] = time.perf_counter()
                course.kill(victim)
            elif scenario == "rolling":
                await asyncio.sleep(seconds / 3)
                for name in course.servers:
                    down[name] = time.perf_counter()
                    await asyncio.to_thread(course.stop_replica, name)
                    await asyncio.to_thread(course.start, name)
                    await asyncio.to_thread(course.wait_in_rotation, name)
                upload["rolling restart"] = "every replica, one at a time"

        pids = {name: r.proc.pid for name, r in course.servers.items()}
        cpu_before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
        await asyncio.gather(events(), *(student(i) for i in range(students)))
        cpu = {name: round(_cpu_seconds(pid) - cpu_before[name], 1) for name, pid in pids.items()
               if course.servers[name].proc.pid == pid and course.servers[name].proc.poll() is None}
    lat = np.array(latencies)
    even = students / replicas
    return {"scenario": scenario, "students": students, "replicas": replicas, "seconds": seconds,
            "sessions per replica": dict(sorted(spread.items())),
            "spread from even (%)": round(100 * max(abs(n - even) for n in spread.values()) / even, 1) if spread else None,
            "moves answered": int(lat.size), "errors": len(errors),
            "p50 (s)": round(float(np.percentile(lat, 50)), 3) if lat.size else None,
            "p95 (s)": round(float(np.percentile(lat, 95)), 3) if lat.size else None,
            "students moved": len(reconnects),
            "slowest reconnect (s)": round(max(reconnects), 2) if reconnects else None,
            "median reconnect (s)": round(statistics.median(reconnects), 2) if reconnects else None,
            "slowest loss noticed (s)": round(max(noticed), 2) if noticed else None,
            "server CPU (s)": cpu, **upload, "first errors": errors[:3]}


if __name__ == "__main__":
    chosen = sys.argv[1:] or ["steady", "kill", "rolling"]
    for name in chosen:
        print(asyncio.run(run(name)), flush=True)
