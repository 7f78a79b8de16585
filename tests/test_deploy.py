"""The course deployment's configuration and the reconnect notice, without starting anything."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy.course import HAPROXY, STICKY_COOKIE, haproxy_config, main
from quantviz.app.serving import previous_session_id, reconnect_message

SERVERS = [("app1", "10.0.0.11:8501"), ("app2", "10.0.0.12:8501"), ("app3", "10.0.0.13:8501")]


def seconds(text: str) -> float:
    value, unit = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", text).groups()
    return int(value) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 0.001}[unit]


def setting(config: str, name: str) -> str:
    return re.search(rf"^\s*{name}\s+(.+)$", config, re.M).group(1).strip()


def test_each_server_is_named_by_the_sticky_cookie_and_health_checked():
    config = haproxy_config(SERVERS, "*:80", "/run/q.sock")
    assert f"cookie {STICKY_COOKIE} insert" in config
    for name, address in SERVERS:
        assert re.search(rf"^\s*server {name} {re.escape(address)} cookie {name}$", config, re.M)
    assert "option httpchk GET /_stcore/health" in config and "default-server check" in config
    assert "option redispatch" in config  # a dead server's students are sent to a live one
    assert "balance source" not in config  # a class behind one NAT would all land on one server


def test_a_websocket_outlives_a_lesson_and_the_default_timeouts_do_not_cut_it():
    config = haproxy_config(SERVERS, "*:80", "/run/q.sock")
    assert seconds(setting(config, "timeout tunnel")) >= 45 * 60
    assert seconds(setting(config, "timeout server")) >= 60  # a 100 MB upload is parsed before the answer


def test_haproxy_accepts_the_configuration(tmp_path):
    if not Path(HAPROXY).exists():
        pytest.skip("haproxy is missing: `make test` installs it")
    path = tmp_path / "haproxy.cfg"
    path.write_text(haproxy_config(SERVERS, "127.0.0.1:8500", str(tmp_path / "s.sock")))
    check = subprocess.run([HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_servers_need_distinct_names():
    with pytest.raises(ValueError):
        haproxy_config([("app1", "a:1"), ("app1", "b:1")], "*:80", "/s")
    with pytest.raises(ValueError):
        haproxy_config([], "*:80", "/s")


def test_the_config_command_prints_one_server_line_per_machine(capsys):
    assert main(["config", "--server", "10.0.0.11:8501", "--server", "10.0.0.12:8501"]) == 0
    out = capsys.readouterr().out
    assert re.findall(r"^\s*server (\S+) (\S+)", out, re.M) == [("app1", "10.0.0.11:8501"), ("app2", "10.0.0.12:8501")]


ids = st.text(alphabet="0123456789abcdef-", min_size=1, max_size=36)


@given(previous=st.none() | ids, current=ids, replica=st.none() | st.sampled_from(["app1", "app2", "eu-3"]))
def test_the_notice_speaks_exactly_when_the_session_was_not_this_servers(previous, current, replica):
    header = "streamlit, dG9rZW4" + (f", {previous}" if previous else "")
    message = reconnect_message(previous_session_id(header), current, replica)
    moved = previous is not None and previous != current
    assert (message is not None) == moved
    if moved:
        assert "your view was restored from the link" in message
        assert (f"server {replica}" in message) if replica else message.startswith("The server restarted")
        assert "dG9rZW4" not in message  # the XSRF token beside the id is never shown
