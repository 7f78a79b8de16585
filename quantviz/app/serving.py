"""What a student is told when their browser comes back to a server that does not hold their session.

Pure functions over what the browser sends: Streamlit's frontend reopens its websocket with the subprotocols
``streamlit, <xsrf token>, <last session id>``. A server that still holds that session takes it up again (a network
blip: nothing to say); any other server starts a new session, and the settings come back from the link.
"""

from __future__ import annotations


def previous_session_id(websocket_protocols: str | None) -> str | None:
    """The session id a reconnecting browser names in its ``Sec-WebSocket-Protocol`` header (third entry), if any.

    >>> previous_session_id("streamlit, c2VjcmV0, 4f2a-77")
    '4f2a-77'
    >>> previous_session_id("streamlit, c2VjcmV0") is None   # a first visit names no session
    True
    """
    entries = [entry.strip() for entry in (websocket_protocols or "").split(",")]
    return entries[2] if len(entries) >= 3 and entries[2] else None


def reconnect_message(previous_session: str | None, current_session: str | None, replica: str | None) -> str | None:
    """The notice for a session that replaces one this server never held, or None when there is nothing to say.

    ``replica`` is this server's name in a course deployment (``QUANTVIZ_REPLICA``), None on a single server.

    >>> reconnect_message("old", "new", "app2")
    'Reconnected to server app2; your view was restored from the link. Re-upload any file.'
    >>> reconnect_message("old", "new", None)
    'The server restarted; your view was restored from the link. Re-upload any file.'
    >>> reconnect_message(None, "new", "app2") is None          # a first visit
    True
    >>> reconnect_message("same", "same", "app2") is None       # the same server took its session back
    True
    """
    if not previous_session or previous_session == current_session:
        return None
    # an uploaded file lived in the old server's memory: only the link's settings and the widgets came back
    where = f"Reconnected to server {replica}" if replica else "The server restarted"
    return f"{where}; your view was restored from the link. Re-upload any file."
