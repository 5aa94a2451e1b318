"""The artifact proxy with curl-like HTTP: upload, list, download, delete, path safety, and a
large upload that streams to disk without being held in memory."""

import os
from pathlib import Path

import pytest
import requests

ART = "/api/2.0/mlflow-artifacts/artifacts"


def test_put_list_get_delete(cairn_session_server):
    url = cairn_session_server.url
    assert requests.put(url + ART + "/7/r1/artifacts/dir/a.txt", data=b"alpha").json() == {}
    assert requests.put(url + ART + "/7/r1/artifacts/b.json", data=b"{}").json() == {}
    listing = requests.get(url + ART, params={"path": "7/r1/artifacts"}).json()
    assert listing == {"files": [{"path": "b.json", "is_dir": False, "file_size": 2},
                                 {"path": "dir", "is_dir": True}]}
    r = requests.get(url + ART + "/7/r1/artifacts/dir/a.txt")
    assert r.status_code == 200 and r.content == b"alpha"
    assert r.headers["Content-Disposition"] == "attachment; filename=a.txt"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Type"].startswith("text/plain")
    assert requests.get(url + ART, params={"path": "7/none"}).json() == {}
    assert requests.delete(url + ART + "/7/r1/artifacts/dir").json() == {}
    listing = requests.get(url + ART, params={"path": "7/r1/artifacts"}).json()
    assert [f["path"] for f in listing["files"]] == ["b.json"]
    missing = requests.get(url + ART + "/7/r1/artifacts/dir/a.txt")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize("path", [
    "/1/../../etc/passwd",
    "/1/%2e%2e/%2e%2e/etc/passwd",
    "/1/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/%2Fetc%2Fpasswd",
    "/1/a%5C..%5Cb",
    "/1/a%23b",
])
def test_paths_escaping_the_root_are_refused(cairn_session_server, path):
    url = cairn_session_server.url + ART + path
    for method in ("GET", "PUT", "DELETE"):
        req = requests.Request(method, url, data=b"x" if method == "PUT" else None).prepare()
        req.url = url  # keep the path exactly as written (no client-side normalisation)
        r = requests.Session().send(req)
        assert r.status_code == 400, (method, path, r.text)
        assert r.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}


def test_listing_outside_the_root_is_refused(cairn_session_server):
    r = requests.get(cairn_session_server.url + ART, params={"path": "../.."})
    assert r.status_code == 400


def test_symlink_out_of_the_root_is_refused(cairn_session_server, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    link_dir = cairn_session_server.artifact_root / "9"
    link_dir.mkdir(parents=True, exist_ok=True)
    os.symlink(tmp_path, link_dir / "escape")
    r = requests.get(cairn_session_server.url + ART + "/9/escape/secret.txt")
    assert r.status_code == 400
    r = requests.put(cairn_session_server.url + ART + "/9/escape/planted.txt", data=b"x")
    assert r.status_code == 400
    assert not (tmp_path / "planted.txt").exists()


def test_multipart_upload_is_not_implemented_for_local_store(cairn_session_server):
    r = requests.post(cairn_session_server.url + "/api/2.0/mlflow-artifacts/mpu/create/1/x",
                      json={"path": "1/x", "num_parts": 2})
    assert r.status_code == 501
    assert r.json()["error_code"] == "NOT_IMPLEMENTED"


def _rss_peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.slow
def test_large_upload_streams_without_buffering(cairn_server):
    size = 384 << 20  # well above the 64 MiB in-memory body limit

    def chunks():
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            yield block

    r = requests.put(cairn_server.url + ART + "/1/big/artifacts/blob.bin", data=chunks())
    assert r.status_code == 200, r.text
    stored = cairn_server.artifact_root / "1/big/artifacts/blob.bin"
    assert stored.stat().st_size == size
    # The server never held the body in memory: its peak RSS stays far below the file size.
    assert _rss_peak_kib(cairn_server.proc.pid) < (128 << 10)
    got = 0
    with requests.get(cairn_server.url + ART + "/1/big/artifacts/blob.bin", stream=True) as resp:
        for part in resp.iter_content(1 << 20):
            got += len(part)
    assert got == size
    assert _rss_peak_kib(cairn_server.proc.pid) < (128 << 10)
