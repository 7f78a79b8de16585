"""A browser tab spoken for over Streamlit's own websocket protocol: what a tab sends and receives, without a browser.

Lets a 2-core machine simulate a class without 30 browser renderers competing for the CPU. A tab keeps what a browser
keeps: a cookie jar (a balancer's sticky cookie, Streamlit's XSRF cookie), its session id, the query string its address
bar shows; and it reconnects as the frontend does. Used by ``bench.server`` (one server) and ``bench.course`` (a
balancer in front of several).
"""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from deploy.course import STICKY_COOKIE


class LostError(Exception):
    """The tab's websocket dropped (its server went away)."""


@dataclass
class Tab:
    """One browser tab on the app: its cookie jar, its session, what its page last showed."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    session_id: str | None = None
    query_string: str = ""
    widgets: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)
    toasts: list[str] = field(default_factory=list)
    ws: object = None

    @property
    def server(self) -> str | None:
        return self.cookies.get(STICKY_COOKIE)

    @property
    def bits_in_link(self) -> int:
        return int(parse_qs(self.query_string).get("bits", ["8"])[0])

    def http(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> int:
        """A request with this tab's cookies; the answer's cookies are kept, as a browser does."""
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = urllib.request.Request(
            self.base + path,
            data=body,
            method=method,
            headers={**(headers or {}), **({"Cookie": cookie} if cookie else {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, set_cookies = answer.status, answer.headers.get_all("Set-Cookie") or []
                answer.read()
        except urllib.error.HTTPError as error:
            status, set_cookies = error.code, error.headers.get_all("Set-Cookie") or []
        for line in set_cookies:
            jar = SimpleCookie()
            jar.load(line)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        return status

    async def connect(self) -> None:
        """Open the websocket as the frontend does: XSRF token and, on a reconnect, the last session id."""
        import websockets

        # the frontend's first calls: the health check answers with the XSRF cookie, the balancer with its own
        await asyncio.to_thread(self.http, "GET", "/_stcore/health")
        await asyncio.to_thread(self.http, "GET", "/_stcore/host-config")
        protocols = ["streamlit", self.cookies.get("_streamlit_xsrf", "PLACEHOLDER_AUTH_TOKEN")]
        protocols += [self.session_id] if self.session_id else []
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.ws = await websockets.connect(
            self.base.replace("http", "ws") + "/_stcore/stream",
            subprotocols=protocols,
            origin=self.base,
            additional_headers={"Cookie": cookie},
            max_size=2**26,
            open_timeout=10,
        )

    async def rerun(self, widget_states: list | None = None, timeout: float = 60) -> float:
        """Ask for a rerun; return seconds until the script finished. Raises LostError if the websocket drops."""
        import websockets
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        msg.rerun_script.query_string = self.query_string
        msg.rerun_script.page_script_hash = ""
        msg.rerun_script.widget_states.widgets.extend(widget_states or [])
        start = time.perf_counter()
        try:
            await self.ws.send(msg.SerializeToString())
            while True:
                fwd = ForwardMsg()
                fwd.ParseFromString(await asyncio.wait_for(self.ws.recv(), timeout))
                kind = fwd.WhichOneof("type")
                if kind == "new_session":
                    self.session_id = fwd.new_session.initialize.session_id
                elif kind == "page_info_changed":
                    self.query_string = fwd.page_info_changed.query_string  # what the browser's address bar shows
                elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                    self._read_element(fwd.delta.new_element)
                elif kind == "script_finished" and fwd.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    return time.perf_counter() - start
        except (websockets.ConnectionClosed, ConnectionError) as exc:
            raise LostError(str(exc)) from exc

    def _read_element(self, element) -> None:
        """Keep what the tab needs from a new element: slider ids, metric values, toasts; raise on an exception."""
        which = element.WhichOneof("type")
        if which == "slider":
            self.widgets[element.slider.label] = element.slider.id
        elif which == "metric":
            self.metrics[element.metric.label] = element.metric.body
        elif which == "toast":
            self.toasts.append(element.toast.body)
        elif which == "exception":
            raise RuntimeError(element.exception.message)

    async def set_bits(self, bits: int) -> float:
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        state = WidgetState(id=self.widgets["Bit width"])
        state.double_array_value.data.append(bits)
        return await self.rerun([state])

    async def reconnect(self, give_up: float = 30) -> None:
        """What the frontend does when its websocket drops: try again until a server answers, rerun from the link."""
        deadline = time.perf_counter() + give_up
        while True:
            try:
                await self.connect()
                self.toasts.clear()
                await self.rerun()
                return
            except Exception:  # refused, reset, timed out, dropped again: the frontend retries the same way
                if time.perf_counter() > deadline:
                    raise
                await asyncio.sleep(0.25)

    def upload(self, payload: bytes, name: str = "weights.npy") -> int:
        """PUT a file to this session's upload address, as the file uploader does; the status code."""
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + payload
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self.http(
            "PUT",
            f"/_stcore/upload_file/{self.session_id}/{uuid.uuid4()}",
            body,
            {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-Xsrftoken": self.cookies.get("_streamlit_xsrf", ""),
            },
        )
