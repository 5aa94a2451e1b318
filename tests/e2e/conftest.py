"""End-to-end fixtures: start the real cairn binary (and, for side-by-side checks, a real
MLflow server from the pinned package) on 127.0.0.1 with a free port and a temp data dir."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]

# The mlflow client must never phone home or retry for minutes on a failing test.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")


def cairn_binary() -> Path:
    path = Path(os.environ.get("CAIRN_BIN", REPO / "build" / "cairn")).resolve()
    if not path.exists():
        pytest.fail(f"cairn binary not found at {path}; build first or set CAIRN_BIN")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CairnServer:
    """A running `cairn server` process."""

    def __init__(self, data_dir: Path, extra_args=()):
        self.data_dir = data_dir
        self.db_path = data_dir / "cairn.db"
        self.artifact_root = data_dir / "artifacts"
        self.extra_args = list(extra_args)
        self.proc = None
        self.url = None
        self.log_path = data_dir / "server.log"

    def start(self, timeout=10.0):
        args = [
            str(cairn_binary()), "server", "--host", "127.0.0.1", "--port", "0",
            "--backend-store-uri", f"sqlite:///{self.db_path}",
            "--artifacts-destination", str(self.artifact_root),
        ] + self.extra_args
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log,
                                     cwd=self.data_dir)
        deadline = time.time() + timeout
        line = b""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if line:
                break
            if self.proc.poll() is not None:
                break
        m = re.search(rb"listening on (http://\S+)", line)
        if not m:
            self.stop()
            raise RuntimeError(f"cairn server did not start: {line!r}\n{self.log()}")
        self.url = m.group(1).decode()
        return self

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=15.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc.stdout.close()
        self._log.close()
        self.proc = None
        return rc

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc.stdout.close()
        self._log.close()
        self.proc = None


@pytest.fixture(scope="session")
def cairn_session_server(tmp_path_factory):
    """One cairn server shared by the tests that do not need isolation."""
    server = CairnServer(tmp_path_factory.mktemp("cairn-session")).start()
    yield server
    server.stop()


@pytest.fixture()
def cairn_server(tmp_path):
    """A fresh cairn server with its own database, for tests that need isolation."""
    server = CairnServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture()
def make_cairn_server(tmp_path):
    """Factory for servers with extra flags; all are stopped at the end of the test."""
    servers = []

    def make(extra_args=(), data_dir=None):
        d = data_dir or tmp_path / f"srv{len(servers)}"
        d.mkdir(parents=True, exist_ok=True)
        s = CairnServer(d, extra_args).start()
        servers.append(s)
        return s

    yield make
    for s in servers:
        if s.proc is not None:
            s.stop()


class MlflowServer:
    """A real `mlflow server` from the pinned package, for side-by-side comparisons."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self, timeout=90.0):
        args = [
            sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1",
            "--port", str(self.port),
            "--backend-store-uri", f"sqlite:///{self.data_dir / 'mlflow.db'}",
            "--artifacts-destination", str(self.data_dir / "artifacts"),
            "--workers", "1",
        ]
        self._log = open(self.data_dir / "mlflow-server.log", "ab")
        env = dict(os.environ)
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=self._log, cwd=self.data_dir,
                                     env=env, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mlflow server exited: " + self.log())
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError("mlflow server did not start: " + self.log())

    def log(self):
        return (self.data_dir / "mlflow-server.log").read_text(errors="replace")[-5000:]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


@pytest.fixture(scope="session")
def mlflow_reference_server(tmp_path_factory):
    """The anchor: a real MLflow server on SQLite, started once per test session."""
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-ref")).start()
    yield server
    server.stop()


@pytest.fixture()
def mlflow_client_for():
    """Returns a function that points the global mlflow client at a server URL and gives an
    MlflowClient for it (the tracking URI is restored afterwards)."""
    import mlflow
    from mlflow.tracking import MlflowClient

    previous = mlflow.get_tracking_uri()

    def make(url):
        mlflow.set_tracking_uri(url)
        return MlflowClient(url)

    yield make
    if mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(previous)
