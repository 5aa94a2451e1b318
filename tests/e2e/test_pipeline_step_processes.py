"""Built-in steps run as `cairn pipeline step ... --context` child processes of the real
binary: they run next to command steps under -j 2, their timeout kills them, retries and the
cache and resume behave as for commands (pipeline/executor.h, pipeline/step_process.h)."""

import json
import subprocess
from pathlib import Path

import pandas as pd

from conftest import REPO, cairn_binary

DATA = REPO.parent / "shared" / "data" / "nannyml_car_loan_reference.csv.gz"
FEATURES = "car_value,debt_to_income_ratio,loan_length,driver_tenure"

# Waits (at most 60 s) until a process whose command line holds argv[1] and argv[2] runs,
# then writes "seen <pid>" to argv[3]; exits 1 when none showed up.
WAIT_FOR_PROCESS = """
import os, sys, time
needles = [a.encode() for a in sys.argv[1:3]]
for _ in range(6000):
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\\0", b" ")
        except OSError:
            continue
        if all(n in cmdline for n in needles):
            open(sys.argv[3], "w").write("seen " + pid + "\\n")
            sys.exit(0)
    time.sleep(0.01)
sys.exit(1)
"""


def workspace(root: Path, spec: str, rows=3000) -> Path:
    (root / "data").mkdir(parents=True)
    pd.read_csv(DATA, nrows=rows).to_csv(root / "data" / "car.csv", index=False)
    (root / "wait_for_process.py").write_text(WAIT_FOR_PROCESS)
    (root / "pipeline.yaml").write_text(spec)
    return root


def run(ws: Path, *args, timeout=300):
    return subprocess.run([str(cairn_binary()), "pipeline", "run", "pipeline.yaml", *args],
                          cwd=ws, capture_output=True, text=True, timeout=timeout,
                          env={"PATH": "/usr/bin:/bin"})


def line_of(stderr: str, text: str) -> int:
    for i, line in enumerate(stderr.splitlines()):
        if text in line:
            return i
    return -1


def test_a_builtin_runs_beside_a_command_and_its_timeout_kills_it(tmp_path):
    # train-xgboost with far more rounds than its timeout allows, listed first; the command
    # step looks for the train step's own process (its context file on the command line).
    # With the built-in on the executor's thread the command could only start after it.
    ws_path = tmp_path / "ws"
    ws = workspace(ws_path, f"""
name: overlap
steps:
  train:
    type: train-xgboost
    inputs: [data/car.csv]
    with: {{data: data/car.csv, target: repaid, features: "{FEATURES}", n_estimators: 100000}}
    outputs: [out/model]
    timeout: 5s
  watch:
    run: ["python3", "wait_for_process.py", "{ws_path}/.cairn/", "steps/train.json", "seen.txt"]
    outputs: [seen.txt]
""")
    out = run(ws, "-j", "2")
    assert out.returncode == 1, out.stderr
    err = out.stderr
    assert line_of(err, "start   train") < line_of(err, "start   watch") < line_of(err, "FAILED  train")
    assert line_of(err, "ok      watch") >= 0, err
    seen_pid = int((ws / "seen.txt").read_text().split()[1])
    assert "FAILED  train: timed out after 5000 ms (process group killed)" in err
    assert not (ws / "out" / "model" / "MLmodel").exists()
    # The built-in's process is gone (killed, then reaped by the executor).
    assert not Path(f"/proc/{seen_pid}").exists()
    run_id = out.stdout.strip()
    context = json.loads((ws / ".cairn" / "pipelines" / "runs" / run_id / "steps" /
                          "train.json").read_text())
    assert context["type"] == "train-xgboost" and context["step"] == "train"


def test_builtin_retries_cache_and_resume(tmp_path):
    ws = workspace(tmp_path / "ws", f"""
name: retry
steps:
  ingest:
    type: ingest
    with: {{path: "data/*.csv", columns: "{FEATURES},repaid"}}
    outputs: [out/data.csv]
  late:
    type: ingest
    with: {{path: "late/*.csv"}}
    outputs: [out/late.csv]
    retries: {{limit: 2, backoff: 10ms}}
  train:
    type: train-xgboost
    needs: [late]
    inputs: [out/data.csv]
    with: {{data: out/data.csv, target: repaid, features: "{FEATURES}", n_estimators: 5}}
    outputs: [out/model]
""", rows=500)
    first = run(ws, "-j", "2")
    assert first.returncode == 1
    assert "start   late (attempt 3/3)" in first.stderr
    assert "retry   late in 10 ms: ingest: no file matches 'late/*.csv'" in first.stderr
    assert "FAILED  late: ingest: no file matches 'late/*.csv'" in first.stderr
    assert "not-run train" in first.stderr
    run_id = first.stdout.strip()

    (ws / "late").mkdir()
    (ws / "late" / "a.csv").write_text("x\n1\n")
    resumed = run(ws, "--resume", run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert "start   ingest" not in resumed.stderr
    assert "ok      late" in resumed.stderr and "ok      train" in resumed.stderr
    assert (ws / "out" / "model" / "MLmodel").exists()
    log = ws / ".cairn" / "pipelines" / "runs" / run_id / "logs" / "train.out"
    assert "rows_train=400" in log.read_text()

    again = run(ws)
    assert again.returncode == 0, again.stderr
    assert "0 ran, 3 cached" in again.stderr
