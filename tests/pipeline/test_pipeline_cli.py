"""`cairn pipeline run|validate|step` driven as a user would: exit codes, progress lines,
failure propagation, resume, the cache, one-line errors for bad input, and Ctrl-C."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def cairn_binary() -> Path:
    path = Path(os.environ.get("CAIRN_BIN", REPO / "build" / "cairn")).resolve()
    if not path.exists():
        pytest.fail(f"cairn binary not found at {path}; build first or set CAIRN_BIN")
    return path


def cairn(*args, cwd, timeout=60):
    return subprocess.run([str(cairn_binary()), "pipeline", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


SPEC = """
params: {greeting: hello}
steps:
  a: {run: "echo ${params.greeting} > a.txt", outputs: [a.txt]}
  b: {run: "test -f fixed && cat a.txt > b.txt", inputs: [a.txt], outputs: [b.txt]}
  c: {run: "cat b.txt > c.txt", inputs: [b.txt], outputs: [c.txt]}
  d: {run: "echo d > d.txt", outputs: [d.txt]}
"""


def test_run_fail_resume_and_cache(tmp_path):
    (tmp_path / "pipeline.yaml").write_text(SPEC)
    first = cairn("run", "pipeline.yaml", "-j", "2", cwd=tmp_path)
    assert first.returncode == 1
    run_id = first.stdout.strip()
    assert "FAILED  b" in first.stderr
    assert "not-run c: upstream step 'b' did not succeed" in first.stderr
    assert f"--resume {run_id}" in first.stderr
    assert (tmp_path / "d.txt").exists()  # independent step went on
    assert (tmp_path / ".cairn" / "pipelines" / "runs" / run_id / "logs" / "b.err").exists()

    (tmp_path / "fixed").write_text("")
    resumed = cairn("run", "pipeline.yaml", "--resume", run_id, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "start   a" not in resumed.stderr and "start   b" in resumed.stderr
    assert (tmp_path / "c.txt").read_text() == "hello\n"

    again = cairn("run", "pipeline.yaml", cwd=tmp_path)
    assert again.returncode == 0
    assert "0 ran, 4 cached" in again.stderr

    other = cairn("run", "pipeline.yaml", "--param", "greeting=hi", cwd=tmp_path)
    assert other.returncode == 0
    assert "3 ran, 1 cached" in other.stderr  # d does not use the param
    assert (tmp_path / "c.txt").read_text() == "hi\n"


@pytest.mark.parametrize("spec,args,message", [
    ("steps:\n  a: {run: x, needs: [a]}\n", [], "pipeline.yaml:2:"),
    ("steps:\n  a: {run: x\n", [], "malformed YAML"),
    ("params: {n: 1}\nsteps:\n  a: {run: x}\n", ["--param", "n=one"], "'one' is not a valid int"),
    ("steps:\n  a: {type: train-lightgbm}\n", [], "unknown step type 'train-lightgbm'"),
    ("steps:\n  a: {type: train-xgboost}\n", [], "train-xgboost needs 'with.data'"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, spec, args, message):
    (tmp_path / "pipeline.yaml").write_text(spec)
    for cmd in ("validate", "run"):
        out = cairn(cmd, "pipeline.yaml", *args, cwd=tmp_path)
        assert out.returncode == 2, out.stderr
        assert message in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1


def test_missing_spec_and_unknown_resume(tmp_path):
    out = cairn("run", "nope.yaml", cwd=tmp_path)
    assert out.returncode == 1 and "cannot read pipeline spec" in out.stderr
    (tmp_path / "pipeline.yaml").write_text(SPEC)
    out = cairn("run", "pipeline.yaml", "--resume", "no-such-run", cwd=tmp_path)
    assert out.returncode == 1 and "no run 'no-such-run'" in out.stderr


def test_validate_and_step(tmp_path):
    (tmp_path / "pipeline.yaml").write_text(SPEC)
    out = cairn("validate", "pipeline.yaml", cwd=tmp_path)
    assert out.returncode == 0 and "ok (4 steps" in out.stdout
    out = cairn("step", "pipeline.yaml", "d", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "d.txt").read_text() == "d\n"
    assert not (tmp_path / "a.txt").exists()  # only the named step ran


def test_ctrl_c_kills_running_steps(tmp_path):
    (tmp_path / "pipeline.yaml").write_text(
        "steps:\n  slow: {run: \"echo $$ > pid; sleep 30\"}\n  after: {needs: [slow], run: \"true\"}\n")
    proc = subprocess.Popen([str(cairn_binary()), "pipeline", "run", "pipeline.yaml"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid_file = tmp_path / "pid"
    for _ in range(3000):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        time.sleep(0.01)
    step_pid = int(pid_file.read_text())
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert "cancelled" in err
    for _ in range(1000):
        try:
            os.kill(step_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.01)
    else:
        os.kill(step_pid, signal.SIGKILL)
        pytest.fail("the step kept running after Ctrl-C")
