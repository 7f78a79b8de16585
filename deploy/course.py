"""Serve a course: N identical QuantViz servers behind HAProxy with cookie stickiness.

    python -m deploy.course serve --replicas 2 --port 8500     # what `make serve REPLICAS=2` runs; Ctrl-C stops all
    python -m deploy.course config --server 10.0.0.11:8501 --server 10.0.0.12:8501 > haproxy.cfg   # several machines

Every replica is a plain ``streamlit run app.py``; what makes them a course is in ``haproxy.cfg.in`` (stickiness,
websocket timeouts, health checks) and in three settings each replica gets from the environment: the shared cookie
secret (``STREAMLIT_SERVER_COOKIE_SECRET``, so a cookie signed by one replica holds on every other), its own name
(``QUANTVIZ_REPLICA``, which the app names when a student is moved to it), and the settings in ``.streamlit/``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("haproxy.cfg.in")
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
STICKY_COOKIE = "QVSERVER"


def haproxy_config(servers: Sequence[tuple[str, str]], bind: str, stats_socket: str) -> str:
    """The balancer's configuration for app servers given as ``(name, "host:port")``.

    >>> text = haproxy_config([("app1", "127.0.0.1:8601"), ("app2", "127.0.0.1:8602")], "127.0.0.1:8500", "/tmp/s")
    >>> [line.strip() for line in text.splitlines() if line.strip().startswith("server ")]
    ['server app1 127.0.0.1:8601 cookie app1', 'server app2 127.0.0.1:8602 cookie app2']
    """
    names = [name for name, _ in servers]
    if not servers or len(set(names)) != len(names):
        raise ValueError("give at least one server, each with its own name")
    lines = "\n".join(f"    server {name} {address} cookie {name}" for name, address in servers)
    return TEMPLATE.read_text().format(bind=bind, servers=lines, stats_socket=stats_socket)


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), 0.5).close()
        return True
    except OSError:
        return False


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen | None, grace: float = 10) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within ``grace`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(grace)


def warm_up(url: str, timeout: float = 60) -> None:
    """Run the landing page once on a fresh server, before the balancer sends it students.

    A server answers its health check before any page has run; the first run imports numpy, plotly and the
    library (about a second). Without this, the first students sent to a restarted server (all of the other
    server's, in a rolling restart) would wait for it.
    """
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    request = BackMsg()
    request.rerun_script.query_string = ""
    request.rerun_script.page_script_hash = ""
    with connect(
        url.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit"], max_size=2**26, open_timeout=timeout
    ) as ws:
        ws.send(request.SerializeToString())
        deadline = time.time() + timeout
        while time.time() < deadline:
            answer = ForwardMsg()
            answer.ParseFromString(ws.recv(timeout=timeout))
            if answer.WhichOneof("type") == "script_finished":
                return
    raise RuntimeError(f"{url} did not finish its first page run within {timeout:.0f} s")


@dataclass
class Replica:
    name: str
    port: int
    log: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Course:
    """N app servers on local ports and HAProxy in front of them on ``port``; a context manager.

    ``kill(name)`` stops one replica the hard way (a crashed server), ``stop_replica(name)`` the gentle way,
    ``start(name)`` brings it back (warmed up). Logs go to ``workdir``.
    """

    replicas: int = 2
    port: int = 0
    workdir: Path | None = None
    python: str = sys.executable
    cookie_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    servers: dict[str, Replica] = field(default_factory=dict)
    balancer: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise ValueError("REPLICAS must be at least 1")
        self.port = self.port or free_port()
        self.workdir = Path(self.workdir or tempfile.mkdtemp(prefix="quantviz-course-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        for i in range(1, self.replicas + 1):
            name = f"app{i}"
            self.servers[name] = Replica(name, free_port(), self.workdir / f"{name}.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, name: str, wait: float = 60) -> None:
        replica = self.servers[name]
        env = dict(os.environ, STREAMLIT_SERVER_COOKIE_SECRET=self.cookie_secret, QUANTVIZ_REPLICA=name)
        with open(replica.log, "a") as log:
            replica.proc = subprocess.Popen(
                [
                    self.python,
                    "-m",
                    "streamlit",
                    "run",
                    "app.py",
                    "--server.headless",
                    "true",
                    "--server.address",
                    "127.0.0.1",
                    "--server.port",
                    str(replica.port),
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait(
            lambda: healthy(replica.url),
            wait,
            f"{name} did not answer its health check; see {replica.log}",
            replica.proc,
        )
        warm_up(replica.url)

    def kill(self, name: str) -> None:
        """Stop a replica at once, as a crash would: its open websockets drop."""
        replica = self.servers[name]
        if replica.proc and replica.proc.poll() is None:
            replica.proc.kill()
            replica.proc.wait(10)

    def stop_replica(self, name: str) -> None:
        """Stop a replica as a service manager would (its websockets close; the balancer moves its students)."""
        stop(self.servers[name].proc)

    def config_text(self) -> str:
        return haproxy_config(
            [(r.name, f"127.0.0.1:{r.port}") for r in self.servers.values()],
            f"127.0.0.1:{self.port}",
            str(self.workdir / "haproxy.sock"),
        )

    def server_state(self) -> dict[str, str]:
        """Each replica's state as the balancer sees it (UP, DOWN, ...), from its admin socket."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(self.workdir / "haproxy.sock"))
            s.sendall(b"show stat\n")
            text = b""
            while chunk := s.recv(65536):
                text += chunk
        rows = [line.split(",") for line in text.decode().splitlines() if line and not line.startswith("#")]
        return {row[1]: row[17] for row in rows if row[0] == "app_servers" and row[1] in self.servers}

    def wait_in_rotation(self, name: str, wait: float = 30) -> None:
        self._wait(lambda: self.server_state().get(name) == "UP", wait, f"{name} did not come back into rotation")

    def __enter__(self) -> Course:
        if not Path(HAPROXY).exists():
            raise RuntimeError("haproxy is missing: `make serve` installs Debian's haproxy package")
        try:
            for name in self.servers:
                self.start(name)
            config = self.workdir / "haproxy.cfg"
            config.write_text(self.config_text())
            check = subprocess.run([HAPROXY, "-c", "-q", "-f", str(config)], capture_output=True, text=True)
            if check.returncode:
                raise RuntimeError(f"haproxy refused its configuration: {check.stdout}{check.stderr}")
            with open(self.workdir / "haproxy.log", "a") as log:
                self.balancer = subprocess.Popen(
                    [HAPROXY, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            self._wait(lambda: healthy(self.url), 30, "haproxy did not start", self.balancer)
            for name in self.servers:
                self.wait_in_rotation(name)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for name in self.servers:
            self.stop_replica(name)
        stop(self.balancer)

    @staticmethod
    def _wait(ready, seconds: float, message: str, proc: subprocess.Popen | None = None) -> None:
        deadline = time.time() + seconds
        while time.time() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{message} (it exited with {proc.returncode})")
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(message)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.course", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="N local app servers and HAProxy in front; Ctrl-C stops them all")
    serve.add_argument("--replicas", type=int, default=2)
    serve.add_argument("--port", type=int, default=8500)
    config = sub.add_parser("config", help="print haproxy.cfg for app servers on several machines")
    config.add_argument("--server", action="append", required=True, metavar="HOST:PORT")
    config.add_argument("--bind", default="*:80")
    config.add_argument("--stats-socket", default="/run/haproxy/quantviz.sock")
    args = parser.parse_args(argv)
    if args.command == "config":
        print(haproxy_config([(f"app{i}", s) for i, s in enumerate(args.server, 1)], args.bind, args.stats_socket))
        return 0
    if port_is_open(args.port):
        parser.error(f"port {args.port} is taken; choose another with PORT=...")
    stop = []
    for signum in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, or a service manager stopping it
        signal.signal(signum, lambda *_: stop.append(True))
    with Course(replicas=args.replicas, port=args.port, workdir=ROOT / "test-artifacts" / "course") as course:
        names = ", ".join(f"{r.name} on :{r.port}" for r in course.servers.values())
        print(f"QuantViz for a course: {course.url}  ({names}; logs in {course.workdir}). Ctrl-C stops.", flush=True)
        while not stop:
            for replica in course.servers.values():
                if replica.proc and replica.proc.poll() is not None:
                    print(f"{replica.name} exited ({replica.proc.returncode}); restarting it", flush=True)
                    course.start(replica.name)
            time.sleep(1)
    print("stopped: every app server and the balancer", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
