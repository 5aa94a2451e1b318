"""Writes validation_goldens.jsonl: MLflow's own verdicts on tracking inputs.

Each line is {"kind": ..., "args": [...], "error": <message or null>, "result": <value>}.
Run with the pinned mlflow (tests/requirements.txt):
    python3 tests/tracking/goldens/make_validation_goldens.py > tests/tracking/goldens/validation_goldens.jsonl
"""
import json
import posixpath

from mlflow.entities import Dataset, DatasetInput, InputTag, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.utils import validation as v

NAMES = ["loss", "a/b", "a b", "with:colon", "x.y-z_1", "", ".", "..", "../x", "/abs", "a//b",
         "a/", "a/./b", "a/../b", "bad!", "tab\tkey", "quote'key", "ünïcode", "k" * 250,
         "k" * 251, "a\\b", "./a", "..a", "a..b"]

cases = []


def run(kind, fn, *args, result=None):
    try:
        out = fn(*args)
        err = None
    except MlflowException as e:
        out = None
        err = e.message
    entry = {"kind": kind, "args": list(args), "error": err}
    if result is not None and err is None:
        entry["result"] = result(out)
    cases.append(entry)


for n in NAMES:
    run("metric_name", v._validate_metric_name, n)
    run("param_name", v._validate_param_name, n)
    run("tag_name", v._validate_tag_name, n)
    run("normpath", posixpath.normpath, n, result=lambda x: x) if n else None

for n in ["loss", "a/../b", "k" * 251]:
    for ts in [0, 1700000000000, -1]:
        run("metric", lambda k, t: v._validate_metric(k, 0.5, t, 0), n, ts)
        run("metric_in_batch", lambda k, t: v._validate_metric(k, 0.5, t, 0, path="metrics[3]"), n, ts)

for key, val in [("p", "x"), ("p", "v" * 6000), ("p", "v" * 6001), ("k" * 251, "x"), ("bad!", "x")]:
    run("param", lambda k, x: v._validate_param(k, x), key, val, result=lambda p: len(p.value))
    run("param_in_batch", lambda k, x: v._validate_param(k, x, path="params[1]"), key, val,
        result=lambda p: len(p.value))

for key, val in [("t", "x"), ("t", "v" * 8000), ("t", "é" * 8001), ("k" * 251, "x"), ("bad!", "x")]:
    run("run_tag", lambda k, x: v._validate_tag(k, x), key, val, result=lambda t: len(t.value))
    run("run_tag_in_batch", lambda k, x: v._validate_tag(k, x, path="tags[0]"), key, val,
        result=lambda t: len(t.value))

for key, val in [("t", "x"), ("t", "v" * 5000), ("t", "v" * 5001), ("k" * 251, "x"), ("../t", "x")]:
    run("experiment_tag", v._validate_experiment_tag, key, val)

for name in ["exp", "", "n" * 500, "n" * 501]:
    run("experiment_name", v._validate_experiment_name, name)

for rid in ["0123456789abcdef0123456789abcdef", "abc-DEF_1", "-abc", "", "a" * 256, "a" * 257,
            "bad id", "a/b"]:
    run("run_id", v._validate_run_id, rid)

for m, p, t in [(1000, 100, 100), (1001, 0, 0), (0, 101, 0), (0, 0, 101), (900, 100, 1),
                (800, 100, 100)]:
    run("batch_limits", lambda a, b, c: v._validate_batch_log_limits([0] * a, [0] * b, [0] * c),
        m, p, t)

for keys in [["a", "b"], ["a", "b", "a"], ["x", "x", "y", "y"]]:
    run("param_keys_unique",
        lambda ks: v._validate_param_keys_unique([Param(k, "1") for k in ks]), keys)

for name in ["model", "my-model_1", "", "a/b", "a.b", "a:b", "50%", "it's"]:
    run("logged_model_name", v._validate_logged_model_name, name)

for name, digest, source, tk, tv in [("d", "abc", "s", "k", "v"), ("n" * 501, "abc", "s", "k", "v"),
                                    ("d", "x" * 37, "s", "k", "v"), ("d", "abc", "s", "k" * 256, "v"),
                                    ("d", "abc", "s", "k", "v" * 501)]:
    run("dataset_input",
        lambda *a: v._validate_dataset_inputs(
            [DatasetInput(Dataset(a[0], a[1], "local", a[2]), [InputTag(a[3], a[4])])]),
        name, digest, source, tk, tv)

for c in cases:
    print(json.dumps(c, ensure_ascii=False))
