"""The HTTP layer as a client sees it: health/version, error shapes, limits, stalls, keep-alive,
graceful shutdown."""

import socket
import time

import requests


def test_health_and_version(cairn_session_server):
    r = requests.get(cairn_session_server.url + "/health")
    assert r.status_code == 200 and r.text == "OK"
    v = requests.get(cairn_session_server.url + "/version")
    assert v.status_code == 200
    major, minor = (int(x) for x in v.text.split(".")[:2])
    assert (major, minor) >= (3, 4)  # the mlflow 3.x client gates log_spans on >= 3.4


def test_unknown_route_is_endpoint_not_found(cairn_session_server):
    r = requests.get(cairn_session_server.url + "/api/2.0/mlflow/no-such-rpc")
    assert r.status_code == 404
    assert r.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_keep_alive_serves_many_requests_on_one_connection(cairn_session_server):
    with requests.Session() as s:
        for _ in range(50):
            assert s.get(cairn_session_server.url + "/health").text == "OK"


def _raw(url, payload: bytes, read_timeout=10.0) -> bytes:
    host, port = url.replace("http://", "").split(":")
    with socket.create_connection((host, int(port)), timeout=read_timeout) as sock:
        sock.sendall(payload)
        chunks = []
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
        except socket.timeout:
            pass
        return b"".join(chunks)


def test_malformed_request_line_gets_400(cairn_session_server):
    out = _raw(cairn_session_server.url, b"THIS IS NOT HTTP\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400")


def test_body_over_the_limit_gets_413(make_cairn_server):
    server = make_cairn_server(["--max-body-mb", "1"])
    body = b"{" + b" " * (2 << 20) + b"}"
    r = requests.post(server.url + "/api/2.0/mlflow/runs/create", data=body,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error_code"] == "RESOURCE_EXHAUSTED"
    # The server is still fine afterwards.
    assert requests.get(server.url + "/health").text == "OK"


def test_client_stalling_mid_body_is_cut_off_and_server_keeps_serving(make_cairn_server):
    server = make_cairn_server(["--read-timeout-ms", "500"])
    host, port = server.url.replace("http://", "").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(b"POST /api/2.0/mlflow/runs/create HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"exp")
    start = time.time()
    data = sock.recv(65536)  # the server answers 408 and closes
    elapsed = time.time() - start
    sock.close()
    assert data.startswith(b"HTTP/1.1 408"), data
    assert elapsed < 8
    assert requests.get(server.url + "/health").text == "OK"


def test_sigterm_finishes_cleanly(make_cairn_server):
    server = make_cairn_server()
    assert requests.get(server.url + "/health").status_code == 200
    assert server.stop() == 0


def test_sigterm_with_idle_keep_alive_connections_does_not_deadlock(make_cairn_server):
    """Regression: Stop() dropped the last reference to a session while holding the session
    registry's lock, and ~Session took the same lock (a hang after SIGTERM)."""
    for _ in range(5):
        server = make_cairn_server()
        host, port = server.url.replace("http://", "").split(":")
        socks = []
        for _ in range(20):
            s = socket.create_connection((host, int(port)), timeout=5)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            s.recv(1024)  # now idle, kept alive
            socks.append(s)
        start = time.time()
        assert server.stop(timeout=10) == 0
        assert time.time() - start < 8
        for s in socks:
            s.close()
