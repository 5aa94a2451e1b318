#!/usr/bin/env python3
"""Regenerates the search-grammar goldens from real MLflow (the pinned 3.6.0).

    python3 tests/tracking/search/goldens/make_goldens.py

Two kinds of goldens, both read by tests/tracking/search/*_test.cc:

1. Grammar cases (filters.txt, order_by.txt, page_tokens.txt). Each case is

       <kind> <entity>
       <input line(s)>
       ----
       <expected output>

   and this script rewrites every expected output with what MLflow answers:
   - filter: MLflow's parse (SearchUtils & co.) followed by its SQL-stage checks (the store
     functions that turn the parse into SQLAlchemy clauses); one line per clause
     `<type> <json key> <comparator> <value>`, or `error: <message>`.
   - order_by: one entry per input line; the store's order-by builder must accept the whole
     list: `ok` + one `<type> <key> ASC|DESC` line per entry, or `error: <message>`.
   - page_token: `offset N` or `error: <message>`.
   Python prints sets in hash order, so set literals inside messages are sorted here (cairn
   prints them sorted). Where MLflow fails with something other than an MlflowException (a
   500 in its server), the expected output is `error: *` (cairn must reject the input with
   some INVALID_PARAMETER_VALUE message).

2. Execution cases (runs_exec.txt, registry_exec.txt): this script builds a small data set
   with MLflow's own SQLAlchemy stores on SQLite, dumps it as INSERT statements over cairn's
   schema (runs_fixture.sql, registry_fixture.sql), runs every search case through MLflow's
   store and records the names it returns, page by page, with the page tokens.
"""
import hashlib
import json
import os
import re
import sqlite3
import sys
import tempfile
import uuid
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

import mlflow  # noqa: E402
import sqlalchemy  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.utils.search_utils import (  # noqa: E402
    SearchExperimentsUtils,
    SearchModelUtils,
    SearchModelVersionUtils,
    SearchUtils,
)

# CAIRN_SEARCH_GOLDEN_DIR redirects reading and writing (differential runs on generated cases;
# the C++ tests honour the same variable).
HERE = os.environ.get("CAIRN_SEARCH_GOLDEN_DIR") or os.path.dirname(os.path.abspath(__file__))
assert mlflow.__version__ == "3.6.0", mlflow.__version__

SET_RE = re.compile(r"\{'[^']*'(?:, '[^']*')*\}")


def normalize(message):
    def sort_set(m):
        items = re.findall(r"'([^']*)'", m.group(0))
        return "{" + ", ".join(f"'{i}'" for i in sorted(items)) + "}"

    return SET_RE.sub(sort_set, str(message))


def error_line(e):
    if isinstance(e, MlflowException):
        # One line: MLflow's own SQL failures (bugs) carry the multi-line statement.
        return "error: " + " ".join(normalize(e.message).split("\n"))
    return "error: *"


# ---------------------------------------------------------------- case files


def read_cases(path):
    """Returns a list of (prefix_lines, header, inputs, expected) keeping comments."""
    cases = []
    prefix = []
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == "" or line.startswith("#"):
            prefix.append(line)
            i += 1
            continue
        header = line
        i += 1
        inputs = []
        while i < len(lines) and lines[i] != "----":
            inputs.append(lines[i])
            i += 1
        i += 1  # ----
        expected = []
        while i < len(lines) and lines[i].strip() != "":
            expected.append(lines[i])
            i += 1
        cases.append((prefix, header, inputs, expected))
        prefix = []
    return cases, prefix


def write_cases(path, cases, trailer):
    out = []
    for prefix, header, inputs, expected in cases:
        out.extend(prefix)
        out.append(header)
        out.extend(inputs)
        out.append("----")
        out.extend(expected)
    out.extend(trailer)
    text = "\n".join(out)
    if not text.endswith("\n"):
        text += "\n"
    open(path, "w").write(text)


# ---------------------------------------------------------------- grammar goldens

TYPE_NAMES = {
    "metric": "metric",
    "parameter": "parameter",
    "tag": "tag",
    "attribute": "attribute",
    "dataset": "dataset",
}


def format_value(v, numeric):
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(json.dumps(x, ensure_ascii=False) for x in v) + "]"
    if numeric or isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v, ensure_ascii=False)


def format_clause(c, numeric_keys):
    # Runs and experiments keep numeric literals as strings (typed by key); the registry
    # parsers convert them to int/float and leave quoted values as strings.
    if numeric_keys is None:
        numeric = isinstance(c["value"], (int, float))
    else:
        numeric = c["type"] == "metric" or (c["type"] == "attribute" and c["key"] in numeric_keys)
    return "%s %s %s %s" % (
        TYPE_NAMES[c["type"]],
        json.dumps(c["key"], ensure_ascii=False),
        c["comparator"],
        format_value(c["value"], numeric),
    )


def sqlalchemy_session():
    engine = sqlalchemy.create_engine("sqlite://")
    return sqlalchemy.orm.sessionmaker(bind=engine)()


def run_filter_case(entity, text):
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
    from mlflow.store.tracking import sqlalchemy_store as ts

    try:
        if entity == "runs":
            parsed = SearchUtils.parse_search_filter(text)
            ts._get_sqlalchemy_filter_clauses(parsed, sqlalchemy_session(), "sqlite")
            keys = SearchUtils.NUMERIC_ATTRIBUTES
        elif entity == "experiments":
            parsed = SearchExperimentsUtils.parse_search_filter(text)
            ts._get_search_experiments_filter_clauses(parsed, "sqlite")
            keys = SearchExperimentsUtils.NUMERIC_ATTRIBUTES
        elif entity == "registered_models":
            parsed = SearchModelUtils.parse_search_filter(text)
            RegistryStore._get_search_registered_model_filter_query(parsed, "sqlite")
            keys = None
        elif entity == "model_versions":
            parsed = SearchModelVersionUtils.parse_search_filter(text)
            RegistryStore._get_search_model_versions_filter_clauses(parsed, "sqlite")
            keys = None
        elif entity == "logged_models":
            return run_logged_model_filter_case(text)
        else:
            raise SystemExit("unknown entity " + entity)
    except Exception as e:  # noqa: BLE001
        return [error_line(e)]
    return [format_clause(c, keys) for c in parsed]


def run_logged_model_filter_case(text):
    from mlflow.store.tracking.dbmodels.models import SqlLoggedModel
    from mlflow.utils.search_logged_model_utils import EntityType, parse_filter_string

    names = {
        EntityType.ATTRIBUTE: "attribute",
        EntityType.METRIC: "metric",
        EntityType.PARAM: "parameter",
        EntityType.TAG: "tag",
    }
    try:
        comps = parse_filter_string(text)
    except Exception as e:  # noqa: BLE001
        return [error_line(e)]
    out = []
    for c in comps:
        if c.entity.type == EntityType.ATTRIBUTE:
            column = SqlLoggedModel.ALIASES.get(c.entity.key, c.entity.key)
            if not isinstance(getattr(SqlLoggedModel, column, None),
                              sqlalchemy.orm.attributes.InstrumentedAttribute):
                # MLflow's store fails with AttributeError (a 500); cairn answers 400.
                return ["error: *"]
        if isinstance(c.value, float):
            value = repr(c.value)
        elif isinstance(c.value, (list, tuple)):
            value = format_value(list(c.value), False)
        else:
            value = json.dumps(c.value, ensure_ascii=False)
        out.append("%s %s %s %s" % (names[c.entity.type], json.dumps(c.entity.key), c.op, value))
    return out


def run_order_by_case(entity, entries):
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
    from mlflow.store.tracking import sqlalchemy_store as ts

    try:
        if entity == "runs":
            ts._get_orderby_clauses(entries, sqlalchemy_session())
            parsed = [SearchUtils.parse_order_by_for_search_runs(e) for e in entries]
        elif entity == "experiments":
            ts._get_search_experiments_order_by_clauses(entries)
            parsed = [SearchExperimentsUtils.parse_order_by_for_search_experiments(e)
                      for e in entries]
        elif entity == "registered_models":
            RegistryStore._parse_search_registered_models_order_by(entries)
            parsed = [("attribute",) + SearchUtils.parse_order_by_for_search_registered_models(e)
                      for e in entries]
        elif entity == "model_versions":
            RegistryStore._parse_search_model_versions_order_by(entries)
            parsed = [SearchModelVersionUtils.parse_order_by_for_search_model_versions(e)
                      for e in entries]
        else:
            raise SystemExit("unknown entity " + entity)
    except Exception as e:  # noqa: BLE001
        return [error_line(e)]
    return ["ok"] + ["%s %s %s" % (t, json.dumps(k), "ASC" if asc else "DESC")
                     for t, k, asc in parsed]


def run_page_token_case(token):
    try:
        return ["offset %d" % SearchUtils.parse_start_offset_from_page_token(token)]
    except Exception as e:  # noqa: BLE001
        return [error_line(e)]


def run_logged_model_token_case(inputs):
    """inputs: request JSON {experiment_ids, filter, order_by}, then `encode N` or `decode T`."""
    from mlflow.utils.search_utils import SearchLoggedModelsPaginationToken

    req = json.loads(inputs[0])
    order_by = [{"field_name": o["field_name"], "ascending": o.get("ascending", True),
                 "dataset_name": o.get("dataset_name") or None,
                 "dataset_digest": o.get("dataset_digest") or None}
                for o in req.get("order_by", [])] or None
    filter_string = req.get("filter") or None
    op, _, arg = inputs[1].partition(" ")
    try:
        if op == "encode":
            return ["token " + SearchLoggedModelsPaginationToken(
                experiment_ids=req["experiment_ids"], filter_string=filter_string,
                order_by=order_by, offset=int(arg)).encode()]
        token = SearchLoggedModelsPaginationToken.decode(arg)
        token.validate(req["experiment_ids"], filter_string, order_by)
        return ["offset %d" % token.offset]
    except Exception as e:  # noqa: BLE001
        return [error_line(e)]


def make_grammar_goldens():
    for name in ("filters.txt", "order_by.txt", "page_tokens.txt"):
        path = os.path.join(HERE, name)
        if not os.path.exists(path):
            continue
        cases, trailer = read_cases(path)
        new = []
        for prefix, header, inputs, _ in cases:
            kind, _, entity = header.partition(" ")
            if kind == "filter":
                expected = run_filter_case(entity, inputs[0])
            elif kind == "order_by":
                expected = run_order_by_case(entity, inputs)
            elif kind == "page_token":
                expected = run_page_token_case(inputs[0] if inputs else "")
            elif kind == "logged_model_page_token":
                expected = run_logged_model_token_case(inputs)
            else:
                raise SystemExit(f"{name}: unknown case kind {header!r}")
            new.append((prefix, header, inputs, expected))
        write_cases(path, new, trailer)


# ---------------------------------------------------------------- execution goldens


class DeterministicIds:
    """uuid4 replacement: md5-derived hex ids (always with a letter, so 'islower')."""

    def __init__(self, seed):
        self.seed = seed
        self.n = 0

    def __call__(self):
        self.n += 1
        return uuid.UUID(hashlib.md5(f"{self.seed}-{self.n}".encode()).hexdigest())


class FakeClock:
    def __init__(self, start):
        self.now = start

    def __call__(self):
        self.now += 1000
        return self.now


def sql_literal(v, tmp):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    # Temporary paths (artifact locations) would change on every run: make them stable.
    return "'" + str(v).replace(tmp, "/goldens").replace("'", "''") + "'"


CAIRN_COLUMNS = {
    "experiments": ["experiment_id", "name", "artifact_location", "lifecycle_stage",
                    "creation_time", "last_update_time"],
    "experiment_tags": ["experiment_id", "key", "value"],
    "runs": ["run_uuid", "name", "experiment_id", "user_id", "status", "start_time",
             "end_time", "lifecycle_stage", "artifact_uri", "deleted_time"],
    "latest_metrics": ["run_uuid", "key", "value", "is_nan", "timestamp", "step"],
    "params": ["run_uuid", "key", "value"],
    "tags": ["run_uuid", "key", "value"],
    "datasets": [("dataset_uuid", "dataset_uuid"), ("experiment_id", "experiment_id"),
                 ("name", "name"), ("digest", "digest"), ("source_type", "dataset_source_type"),
                 ("source", "dataset_source"), ("schema", "dataset_schema"),
                 ("profile", "dataset_profile")],
    "inputs": ["input_uuid", "source_type", "source_id", "destination_type", "destination_id"],
    "input_tags": ["input_uuid", "name", "value"],
    "logged_models": ["model_id", "experiment_id", "name", "artifact_location",
                      "creation_timestamp_ms", "last_updated_timestamp_ms", "status",
                      "lifecycle_stage", "model_type", "source_run_id", "status_message"],
    "logged_model_params": ["model_id", "experiment_id", "param_key", "param_value"],
    "logged_model_tags": ["model_id", "experiment_id", "tag_key", "tag_value"],
    "logged_model_metrics": ["model_id", "metric_name", "metric_timestamp_ms", "metric_step",
                             "metric_value", "experiment_id", "run_id", "dataset_uuid",
                             "dataset_name", "dataset_digest"],
    "registered_models": ["name", "creation_time", "last_updated_time", "description",
                          "user_id"],
    "registered_model_tags": ["name", "key", "value"],
    "model_versions": ["name", "version", "creation_time", "last_updated_time", "description",
                       "user_id", "current_stage", "source", "run_id", "run_link", "status",
                       "status_message", "storage_location"],
    "model_version_tags": ["name", "version", "key", "value"],
    "registered_model_aliases": ["name", "alias", "version"],
}


def dump_tables(db_path, tables, out_path, tmp):
    con = sqlite3.connect(db_path)
    lines = ["-- Generated by make_goldens.py from an MLflow %s SQLite store; do not edit."
             % mlflow.__version__]
    for table in tables:
        cols = [c if isinstance(c, tuple) else (c, c) for c in CAIRN_COLUMNS[table]]
        present = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
        # Columns cairn has and this MLflow table lacks (e.g. user_id) are NULL.
        src = ", ".join(s if s in present else "NULL" for _, s in cols)
        order = ", ".join(s for _, s in cols if s in present)
        for row in con.execute(f"SELECT {src} FROM {table} ORDER BY {order}"):
            if table == "logged_models":
                # MLflow stores the status as an enum number; cairn's column holds its name.
                from mlflow.entities import LoggedModelStatus

                row = list(row)
                row[6] = str(LoggedModelStatus.from_int(row[6]))
            lines.append("INSERT INTO %s (%s) VALUES (%s);" % (
                table, ", ".join(d for d, _ in cols), ", ".join(sql_literal(v, tmp) for v in row)))
    con.close()
    open(out_path, "w").write("\n".join(lines) + "\n")


def substitute(text, ids):
    return re.sub(r"\{([A-Za-z0-9_-]+)\}", lambda m: ids[m.group(1)], text)


def parse_exec_inputs(inputs):
    spec = {"filter": "", "order_by": [], "max_results": None}
    for line in inputs:
        key, _, value = line.partition(": ")
        if key == "filter":
            spec["filter"] = value
        elif key == "order_by":
            spec["order_by"].append(value)
        elif key == "max_results":
            spec["max_results"] = int(value)
        elif key == "order_by_json":
            spec["order_by"].append(json.loads(value))
        elif key == "dataset":
            spec.setdefault("datasets", []).append(json.loads(value))
        else:
            raise SystemExit("unknown exec input " + line)
    return spec


def run_paged(search, spec, default_max, print_tokens=True):
    """Calls search(filter, order_by, max_results, page_token) page by page."""
    out = []
    token = None
    max_results = spec["max_results"] or default_max
    for _ in range(50):
        try:
            items, token = search(spec["filter"], spec["order_by"] or None, max_results, token)
        except Exception as e:  # noqa: BLE001
            return out + [error_line(e)]
        out.append("page: " + (" ".join(items) or "(none)"))
        if token is None:
            break
        if isinstance(token, bytes):
            token = token.decode()
        if print_tokens:
            out.append("token: " + token)
    return out


def make_runs_exec(tmp):
    from mlflow.entities import (
        Dataset,
        DatasetInput,
        ExperimentTag,
        InputTag,
        Metric,
        Param,
        RunStatus,
        RunTag,
        ViewType,
    )
    from mlflow.store.tracking import sqlalchemy_store as ts

    ids = DeterministicIds("runs")
    uuid.uuid4 = ids
    ts.get_current_time_millis = FakeClock(1_700_000_000_000)
    db = os.path.join(tmp, "runs.db")
    store = ts.SqlAlchemyStore("sqlite:///" + db, os.path.join(tmp, "artifacts"))
    exp = store.create_experiment("search-exp", tags=[ExperimentTag("team", "vision")])
    store.create_experiment("Other-Exp", tags=[ExperimentTag("team", "nlp")])
    store.create_experiment("third_exp")
    gone = store.create_experiment("deleted-exp")
    store.delete_experiment(gone)

    run_ids = {}

    def run(name, start, user, status, end=None, metrics=(), params=(), tags=(), datasets=()):
        r = store.create_run(exp, user, start, [RunTag(k, v) for k, v in tags], name)
        rid = r.info.run_id
        run_ids[name] = rid
        store.update_run_info(rid, RunStatus.from_string(status), end, name)
        for i, (k, v, step) in enumerate(metrics):
            store.log_metric(rid, Metric(k, v, start + i, step))
        for k, v in params:
            store.log_param(rid, Param(k, v))
        if datasets:
            store.log_inputs(rid, datasets=[
                DatasetInput(Dataset(n, d, "local", "{}"),
                             tags=[InputTag("mlflow.data.context", c)])
                for n, d, c in datasets])
        return rid

    nan = float("nan")
    run("alpha", 1000, "alice", "FINISHED", 1500,
        metrics=[("acc", 0.5, 0), ("acc", 0.9, 1), ("loss", 0.3, 0)],
        params=[("lr", "0.01"), ("model", "xgb")], tags=[("team", "Vision"), ("env", "prod")],
        datasets=[("train-ds", "abc123", "training")])
    run("beta", 2000, "bob", "FINISHED", 2600,
        metrics=[("acc", 0.7, 0), ("loss", nan, 0)],
        params=[("lr", "0.1"), ("model", "XGB-large")], tags=[("team", "vision")])
    run("gamma", 3000, "alice", "RUNNING",
        metrics=[("acc", 0.2, 0), ("acc", nan, 3)], params=[("lr", "0.01")],
        tags=[("env", "dev")], datasets=[("eval-ds", "def456", "evaluation")])
    run("Delta", 3000, "carol", "FAILED", 3100, params=[("model", "lgbm%_x")],
        tags=[("team", "nlp")])
    run("epsilon", 5000, "bob", "KILLED", 5200,
        metrics=[("acc", 0.7, 0), ("loss", 0.1, 0)],
        datasets=[("train-ds", "abc123", "training"), ("Eval-DS", "fff000", "eval")])
    run("zeta", 6000, "dave", "FINISHED", 6500, metrics=[("acc", 1.5, 0), ("loss", -2.0, 0)],
        params=[("lr", "1e-3")], tags=[("env", "PROD")])
    run("eta", 500, "alice", "FINISHED", 700, metrics=[("acc", -1.0, 0)])
    deleted = run("theta", 7000, "alice", "FINISHED", 7100, metrics=[("acc", 2.0, 0)])
    store.delete_run(deleted)

    # Logged models in their own experiment.
    from mlflow.entities import LoggedModelParameter, LoggedModelStatus, LoggedModelTag

    lm_exp = store.create_experiment("models-exp")
    lm_run = store.create_run(lm_exp, "alice", 100, [], "trainer").info.run_id
    models = {}

    def model(name, model_type=None, params=(), tags=(), metrics=(), ready=True):
        m = store.create_logged_model(
            lm_exp, name, lm_run, [LoggedModelTag(k, v) for k, v in tags],
            [LoggedModelParameter(k, v) for k, v in params], model_type)
        models[name] = m.model_id
        if ready:
            store.finalize_logged_model(m.model_id, LoggedModelStatus.READY)
        if metrics:
            store.log_batch(lm_run, [Metric(k, v, ts, step, model_id=m.model_id,
                                            dataset_name=dn, dataset_digest=dd)
                                     for k, v, ts, step, dn, dd in metrics], [], [])
        return m.model_id

    model("xgb-small", "xgboost", params=[("lr", "0.1")], tags=[("team", "vision")],
          metrics=[("acc", 0.8, 10, 0, "eval", "d1"), ("acc", 0.85, 20, 1, "eval", "d1"),
                   ("acc", 0.5, 30, 0, "train", "d2")])
    model("xgb-large", "xgboost", params=[("lr", "0.01")], tags=[("team", "Vision")],
          metrics=[("acc", 0.9, 10, 0, "eval", "d1"), ("loss", 0.2, 10, 0, None, None)])
    model("Linear", "sklearn", params=[("alpha", "1")],
          metrics=[("acc", 0.7, 5, 0, "train", "d2")])
    model("pending-one", None, ready=False)
    gone_model = model("removed", "xgboost", metrics=[("acc", 0.99, 1, 0, "eval", "d1")])
    store.delete_logged_model(gone_model)

    dump_tables(db, ["experiments", "experiment_tags", "runs", "latest_metrics", "params",
                     "tags", "datasets", "inputs", "input_tags", "logged_models",
                     "logged_model_params", "logged_model_tags", "logged_model_metrics"],
                os.path.join(HERE, "runs_fixture.sql"), tmp)

    def search_runs(filter_string, order_by, max_results, token):
        page = store.search_runs([exp], filter_string, ViewType.ACTIVE_ONLY, max_results,
                                 order_by, token)
        return [r.info.run_name for r in page], page.token

    def search_experiments(filter_string, order_by, max_results, token):
        page = store.search_experiments(ViewType.ACTIVE_ONLY, max_results, filter_string,
                                        order_by, token)
        return [e.name for e in page], page.token

    def search_logged_models(spec):
        def search(filter_string, order_by, max_results, token):
            page = store.search_logged_models([lm_exp], filter_string or None,
                                              spec.get("datasets"), max_results, order_by, token)
            return [m.name for m in page], page.token
        return search

    path = os.path.join(HERE, "runs_exec.txt")
    cases, trailer = read_cases(path)
    new = []
    for prefix, header, inputs, _ in cases:
        spec = parse_exec_inputs([substitute(line, run_ids) for line in inputs])
        if header == "runs":
            expected = run_paged(search_runs, spec, 1000)
        elif header == "experiments":
            expected = run_paged(search_experiments, spec, 1000)
        elif header == "logged_models":
            # Logged-model page tokens carry the whole request (store-side); not compared.
            expected = run_paged(search_logged_models(spec), spec, 50, print_tokens=False)
        else:
            raise SystemExit("runs_exec.txt: unknown entity " + header)
        new.append((prefix, header, inputs, expected))
    write_cases(path, new, trailer)


def make_registry_exec(tmp):
    from mlflow.entities.model_registry import ModelVersionTag, RegisteredModelTag
    from mlflow.store.model_registry import sqlalchemy_store as rs
    from mlflow.store.model_registry.dbmodels import models as rmodels

    uuid.uuid4 = DeterministicIds("registry")
    clock = FakeClock(1_700_000_000_000)
    rs.get_current_time_millis = clock
    rmodels.get_current_time_millis = clock
    db = os.path.join(tmp, "registry.db")
    store = rs.SqlAlchemyStore("sqlite:///" + db)
    prompt = "mlflow.prompt.is_prompt"

    def rm(name, tags=()):
        store.create_registered_model(name, [RegisteredModelTag(k, v) for k, v in tags])

    def mv(name, source, run_id=None, tags=()):
        store.create_model_version(name, source, run_id,
                                   [ModelVersionTag(k, v) for k, v in tags])

    rm("model-a", [("team", "vision")])
    rm("Model-B")
    rm("prompt-1", [(prompt, "true")])
    rm("model-c", [(prompt, "false"), ("team", "nlp")])
    rm("model_d", [("team", "Vision")])
    mv("model-a", "s3://bucket/a/1", "0123456789abcdef0123456789abcdef", [("stage", "prod")])
    mv("model-a", "s3://bucket/a/2", "fedcba9876543210fedcba9876543210")
    mv("Model-B", "s3://bucket/B/1", "0123456789abcdef0123456789abcdef", [("stage", "Prod")])
    mv("prompt-1", "prompt://1", None, [(prompt, "true")])
    mv("model-c", "s3://bucket/c/1", None, [(prompt, "false")])
    mv("model-a", "runs:/0123456789abcdef0123456789abcdef/model", None)
    mv("model_d", "s3://bucket/d/1", "aaaabbbbccccddddeeeeffff00001111")
    store.transition_model_version_stage("model-a", "2", "Production", False)
    store.delete_model_version("model_d", "1")
    store.update_registered_model("model-a", "touched")  # later last_updated_time

    dump_tables(db, ["registered_models", "registered_model_tags", "model_versions",
                     "model_version_tags", "registered_model_aliases"],
                os.path.join(HERE, "registry_fixture.sql"), tmp)

    def search_models(filter_string, order_by, max_results, token):
        page = store.search_registered_models(filter_string, max_results, order_by, token)
        return [m.name for m in page], page.token

    def search_versions(filter_string, order_by, max_results, token):
        page = store.search_model_versions(filter_string, max_results, order_by, token)
        return [f"{v.name}/{v.version}" for v in page], page.token

    path = os.path.join(HERE, "registry_exec.txt")
    cases, trailer = read_cases(path)
    new = []
    for prefix, header, inputs, _ in cases:
        spec = parse_exec_inputs(inputs)
        if header == "registered_models":
            expected = run_paged(search_models, spec, 100)
        elif header == "model_versions":
            expected = run_paged(search_versions, spec, 10000)
        else:
            raise SystemExit("registry_exec.txt: unknown entity " + header)
        new.append((prefix, header, inputs, expected))
    write_cases(path, new, trailer)


def main():
    make_grammar_goldens()
    real_uuid4 = uuid.uuid4
    with tempfile.TemporaryDirectory() as tmp:
        make_runs_exec(tmp)
        make_registry_exec(tmp)
    uuid.uuid4 = real_uuid4
    print("goldens written to", HERE)


if __name__ == "__main__":
    sys.exit(main())
