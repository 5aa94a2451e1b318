"""Used by scripts/build-image.sh check: python3 scripts/argo_sim.py WORKFLOW.json > sim.sh

Turns a compiled Argo Workflow (JSON) into a bash script that runs its DAG the way Argo
would, inside one container of the step image: before each task the spec's folder goes back
to the image's content (a fresh pod), the task's input artifacts are put at their paths, its
container command runs in its workingDir with its env, and its output artifacts and
parameters are collected from their paths (a missing one fails the task, as in Argo).
`when` conditions over output parameters are numeric comparisons, evaluated with awk."""
import json
import re
import shlex
import sys

wf = json.load(open(sys.argv[1]))
spec = wf["spec"].get("workflowSpec", wf["spec"])
wf_params = {p["name"]: p.get("value", "") for p in spec.get("arguments", {}).get("parameters", [])}
templates = {t["name"]: t for t in spec["templates"]}
tasks = templates[spec["entrypoint"]]["dag"]["tasks"]
store = "/tmp/argo-sim"


def subst(text, task_params):
    text = re.sub(r"\{\{workflow\.parameters\.([\w-]+)\}\}", lambda m: wf_params[m.group(1)], text)
    return re.sub(r"\{\{inputs\.parameters\.([\w-]+)\}\}", lambda m: task_params[m.group(1)], text)


def when_shell(expr):
    # {{tasks.T.outputs.parameters.K}} -> the value the task wrote, then awk evaluates it.
    expr = re.sub(r"\{\{tasks\.([\w-]+)\.outputs\.parameters\.([\w-]+)\}\}",
                  lambda m: f'$(cat {store}/{m.group(1)}/params/{m.group(2)})', expr)
    return f'awk "BEGIN {{ exit !({expr}) }}"'


done, order = set(), []
while len(order) < len(tasks):
    progressed = False
    for t in tasks:
        deps = [d.strip() for d in t.get("depends", "").split("&&") if d.strip()]
        if t["name"] not in done and all(d in done for d in deps):
            order.append(t)
            done.add(t["name"])
            progressed = True
    if not progressed:
        sys.exit("argo-sim: the DAG has a cycle or an unknown dependency")

out = ["set -euo pipefail", f"mkdir -p {store}/pristine",
       "say() { echo \"argo-sim: $*\" >&2; }"]
first = True
for t in order:
    tpl = templates[t["template"]]
    c = tpl["container"]
    if "withItems" in t:
        sys.exit("argo-sim: withItems is not simulated")
    wd = c["workingDir"]
    # What a fresh pod resets: the folder of the spec (`cairn pipeline step SPEC ...`), where
    # steps write their outputs and the step cache.
    spec_dir = shlex.quote(c["command"][3].rsplit("/", 1)[0] or "/")
    if first:
        out.append(f"cp -a {spec_dir}/. {store}/pristine/")
        first = False
    params = {p["name"]: subst(p.get("value", ""), {}) for p in t.get("arguments", {}).get("parameters", [])}
    name = t["name"]
    deps = [d.strip() for d in t.get("depends", "").split("&&") if d.strip()]
    out.append(f"# task {name}")
    cond = [f"[ -e {store}/{d}/ok ]" for d in deps]
    if "when" in t:
        cond.append(when_shell(subst(t["when"], {})))
    out.append("if " + (" && ".join(cond) if cond else "true") + "; then")
    out.append(f"  say 'task {name}'")
    out.append(f"  find {spec_dir} -mindepth 1 -delete; cp -a {store}/pristine/. {spec_dir}/")
    out.append("  rm -rf /tmp/cairn-outputs")
    for a in t.get("arguments", {}).get("artifacts", []):
        m = re.fullmatch(r"\{\{tasks\.([\w-]+)\.outputs\.artifacts\.([\w-]+)\}\}", a["from"])
        path = next(x["path"] for x in tpl["inputs"]["artifacts"] if x["name"] == a["name"])
        out.append(f"  mkdir -p $(dirname {shlex.quote(path)}) && cp -a {store}/{m.group(1)}/artifacts/{m.group(2)} {shlex.quote(path)}")
    env = " ".join(shlex.quote(f"{e['name']}={e['value']}") for e in c.get("env", []))
    cmd = " ".join(shlex.quote(subst(x, params)) for x in c["command"])
    out.append(f"  (cd {shlex.quote(wd)} && env {env} {cmd} >/dev/null)")
    out.append(f"  mkdir -p {store}/{name}/artifacts {store}/{name}/params")
    for a in tpl.get("outputs", {}).get("artifacts", []):
        p = shlex.quote(a["path"])
        out.append(f"  [ -e {p} ] || {{ say 'task {name}: output artifact {a['path']} missing'; exit 1; }}")
        out.append(f"  cp -a {p} {store}/{name}/artifacts/{a['name']}")
    for p in tpl.get("outputs", {}).get("parameters", []):
        src = shlex.quote(p["valueFrom"]["path"])
        out.append(f"  [ -e {src} ] || {{ say 'task {name}: output parameter {p['name']} missing'; exit 1; }}")
        out.append(f"  cp {src} {store}/{name}/params/{p['name']}")
        out.append(f"  say \"task {name}: {p['name']} = $(cat {src})\"")
    out.append(f"  touch {store}/{name}/ok")
    out.append("else")
    out.append(f"  say 'task {name}: skipped'")
    out.append("fi")
out.append(f"say \"{len(order)} tasks: $(ls -d {store}/*/ok 2>/dev/null | wc -l) succeeded\"")
out.append(f"[ $(ls -d {store}/*/ok | wc -l) = {len(order)} ]")
print("\n".join(out))
