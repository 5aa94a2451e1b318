"""`cairn pipeline compile`: the Argo output validates against the schema of Argo's API types
(shipped by the npm package @kubernetes-models/argo-workflows, pinned in
argo_schema/package-lock.json; see argo_schema/README.md) and the KFP output has the IR's
structure (kubeflow/pipelines api/v2alpha1/pipeline_spec.proto)."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

SPEC = """
name: nightly_train
image: ghcr.io/acme/cairn:1
params:
  lr: {type: float, default: 0.1}
  regions: [eu, us]
steps:
  prep:
    run: "mkdir -p out && cp data/raw.csv out/clean.csv"
    inputs: [data/raw.csv]
    outputs: [out/clean.csv]
  train:
    run: "echo ${params.lr} > out/model.txt"
    inputs: [out/clean.csv]
    outputs: [out/model.txt]
    retries: {limit: 2, backoff: 10s, factor: 2, max_backoff: 2m}
    timeout: 90s
    env: {OMP_NUM_THREADS: "1"}
  evaluate:
    run: "echo auc=0.9 > $CAIRN_OUTPUTS"
    needs: [train]
    cache: false
  register:
    when: steps.evaluate.outputs.auc > 0.8 and params.lr < 1
    run: "true"
  per_region:
    needs: [prep]
    foreach: ${params.regions}
    run: "echo ${item} > out/${item}.txt"
    outputs: ["out/${item}.txt"]
"""


def cairn_binary() -> Path:
    path = Path(os.environ.get("CAIRN_BIN", REPO / "build" / "cairn")).resolve()
    if not path.exists():
        pytest.fail(f"cairn binary not found at {path}; build first or set CAIRN_BIN")
    return path


ARGO_SCHEMA_DIR = REPO / "tests" / "pipeline" / "argo_schema"


@pytest.fixture()
def workspace(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw.csv").write_text("a,b\n1,2\n")
    return tmp_path


def compile_spec(workspace: Path, target: str, text: str = SPEC):
    spec = workspace / "pipeline.yaml"
    spec.write_text(text)
    out = subprocess.run(
        [str(cairn_binary()), "pipeline", "compile", str(spec), "--target", target],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


class ArgoValidator:
    """Runs argo_schema/validate.mjs (node) over documents; one list of errors per document."""

    def __init__(self, tmp_dir: Path):
        self.tmp_dir = tmp_dir

    def errors(self, docs):
        path = self.tmp_dir / "argo-docs.json"
        path.write_text(json.dumps(docs))
        out = subprocess.run(["node", str(ARGO_SCHEMA_DIR / "validate.mjs"), str(path)],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)


@pytest.fixture(scope="module")
def argo_validator(tmp_path_factory):
    # scripts/install-deps.sh runs `npm ci` there; a missing install is a failure, not a skip.
    assert (ARGO_SCHEMA_DIR / "node_modules" / "@kubernetes-models" / "argo-workflows").is_dir(), \
        "run scripts/install-deps.sh (npm ci in tests/pipeline/argo_schema)"
    return ArgoValidator(tmp_path_factory.mktemp("argo"))


def errors_of(validator, doc):
    return sorted(validator.errors([doc])[0])


def test_argo_workflow_validates(workspace, argo_validator):
    wf = compile_spec(workspace, "argo")
    assert wf["kind"] == "Workflow"
    assert errors_of(argo_validator, wf) == []
    tasks = {t["name"]: t for t in wf["spec"]["templates"][0]["dag"]["tasks"]}
    assert tasks["register"]["when"] == (
        "(({{tasks.evaluate.outputs.parameters.auc}} > 0.8) && "
        "({{workflow.parameters.lr}} < 1))")


def test_argo_cron_workflow_validates(workspace, argo_validator):
    text = SPEC.replace("image:", 'schedule: {cron: "30 2 * * 1-5", timezone: Europe/Paris}\nimage:')
    cron = compile_spec(workspace, "argo", text)
    assert cron["kind"] == "CronWorkflow"
    assert cron["spec"]["schedules"] == ["30 2 * * 1-5"]
    assert errors_of(argo_validator, cron) == []


def test_schema_check_can_fail(workspace, argo_validator):
    # The check is not vacuous: a wrongly typed field is caught.
    wf = compile_spec(workspace, "argo")
    wf["spec"]["templates"][1]["memoize"]["maxAge"] = 720
    wf["spec"]["templates"][0]["dag"]["tasks"][0]["depends"] = ["prep"]
    del wf["spec"]["templates"][1]["memoize"]["key"]
    errors = errors_of(argo_validator, wf)
    assert "/spec/templates/1/memoize/maxAge must be string" in errors
    assert "/spec/templates/1/memoize must have required property 'key'" in errors \
        or "/spec/templates/1/memoize must have required property key" in errors
    assert "/spec/templates/0/dag/tasks/0/depends must be string" in errors
    assert errors_of(argo_validator, {"kind": "Pod", "apiVersion": "v1"}) == [
        "kind must be one of Workflow, CronWorkflow, WorkflowTemplate"]


def test_examples_compile_and_validate(tmp_path, argo_validator):
    examples = sorted((REPO / "examples").glob("**/pipeline*.yaml"))
    assert examples, "no example pipelines"
    for spec in examples:
        out = subprocess.run(
            [str(cairn_binary()), "pipeline", "compile", str(spec), "--target", "argo"],
            capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, f"{spec}: {out.stderr}"
        doc = yaml.safe_load(out.stdout)
        assert errors_of(argo_validator, doc) == [], spec
        # Steps with outside effects (register, promote, deploy) are never memoized.
        spec_doc = doc["spec"].get("workflowSpec", doc["spec"])
        for t in spec_doc["templates"]:
            if t["name"] in ("register", "promote", "deploy"):
                assert "memoize" not in t, (spec, t["name"])


KFP_PARAM_TYPES = {"NUMBER_DOUBLE", "NUMBER_INTEGER", "STRING", "BOOLEAN", "LIST", "STRUCT",
                   "TASK_FINAL_STATUS"}


def test_kfp_ir_structure(workspace):
    ir = compile_spec(workspace, "kfp")
    assert set(ir) >= {"pipelineInfo", "components", "deploymentSpec", "root", "schemaVersion"}
    assert ir["schemaVersion"] == "2.1.0"
    components, executors = ir["components"], ir["deploymentSpec"]["executors"]
    tasks = ir["root"]["dag"]["tasks"]
    root_params = ir["root"]["inputDefinitions"]["parameters"]
    for p in root_params.values():
        assert p["parameterType"] in KFP_PARAM_TYPES
    for name, task in tasks.items():
        comp = components[task["componentRef"]["name"]]  # every ref resolves
        assert comp["executorLabel"] in executors
        container = executors[comp["executorLabel"]]["container"]
        assert container["image"] == "ghcr.io/acme/cairn:1"
        assert container["command"][:3] == ["cairn", "pipeline", "step"]
        for dep in task.get("dependentTasks", []):
            assert dep in tasks, f"{name} depends on unknown task {dep}"
        declared = comp.get("inputDefinitions", {}).get("parameters", {})
        for pname, binding in task.get("inputs", {}).get("parameters", {}).items():
            assert pname in declared, f"{name}: input {pname} not declared by its component"
            assert declared[pname]["parameterType"] in KFP_PARAM_TYPES
            (kind,) = binding.keys()
            assert kind in {"componentInputParameter", "taskOutputParameter", "runtimeValue"}
            if kind == "componentInputParameter":
                assert binding[kind] in root_params
            if kind == "taskOutputParameter":
                producer = components[tasks[binding[kind]["producerTask"]]["componentRef"]["name"]]
                assert binding[kind]["outputParameterKey"] in (
                    producer["outputDefinitions"]["parameters"])
    assert tasks["train"]["retryPolicy"]["maxRetryCount"] == 2
    assert tasks["evaluate"]["cachingOptions"] == {"enableCache": False}
    assert "triggerPolicy" in tasks["register"]
    assert json.loads(tasks["per-region"]["parameterIterator"]["items"]["raw"]) == [
        "per_region[eu]", "per_region[us]"]


def test_compile_reports_bad_specs(workspace):
    spec = workspace / "pipeline.yaml"
    spec.write_text("steps:\n  a: {run: x, needs: [b]}\n")
    out = subprocess.run(
        [str(cairn_binary()), "pipeline", "compile", str(spec), "--target", "argo"],
        capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "pipeline.yaml:2:" in out.stderr and "unknown step 'b'" in out.stderr
