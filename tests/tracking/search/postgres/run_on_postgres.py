#!/usr/bin/env python3
"""Replays the search execution goldens on PostgreSQL (manual check, not part of ctest).

    ninja -C build-search tracking_search_pg_driver
    python3 tests/tracking/search/postgres/run_on_postgres.py build-search

Starts a throwaway PostgreSQL (initdb + pg_ctl from PATH or /usr/lib/postgresql/*/bin, as the
`postgres` user when run as root, Unix socket only, C.UTF-8 collation) in a temporary folder,
creates the agreed schema (INTEGER -> BIGINT: times are milliseconds) and loads the fixtures,
then runs every case of runs_exec.txt and registry_exec.txt with the SQL compiled for
Dialect::kPostgres and compares the pages with MLflow's. Exit status 1 on any mismatch.
"""
import base64
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDENS = os.path.join(HERE, "..", "goldens")
sys.path.insert(0, GOLDENS)
from make_goldens import read_cases  # noqa: E402


def pg_bin(name):
    found = shutil.which(name) or next(iter(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")), None)
    if not found:
        raise SystemExit(f"{name} not found: install postgresql")
    return found


def as_pg_user(cmd):
    return (["runuser", "-u", "postgres", "--"] + cmd) if os.geteuid() == 0 else cmd


class Postgres:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cairn-pg-")
        os.chmod(self.dir, 0o777)
        self.data = os.path.join(self.dir, "data")
        self.sock = self.dir
        subprocess.run(as_pg_user([pg_bin("initdb"), "-D", self.data, "-U", "postgres",
                                   "--locale=C.UTF-8"]), check=True, capture_output=True)
        subprocess.run(as_pg_user([pg_bin("pg_ctl"), "-D", self.data, "-w", "-l",
                                   os.path.join(self.dir, "log"), "-o",
                                   f"-c listen_addresses='' -k {self.sock}", "start"]),
                       check=True, capture_output=True)

    def stop(self):
        subprocess.run(as_pg_user([pg_bin("pg_ctl"), "-D", self.data, "-m", "fast", "stop"]),
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def psql(self, sql, db="search"):
        r = subprocess.run(["psql", "-h", self.sock, "-U", "postgres", "-d", db, "-v",
                            "ON_ERROR_STOP=1", "-At", "-F", "/", "-q"],
                           input=sql, capture_output=True, text=True)
        return r.returncode, r.stdout, r.stderr


def literal(v):
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return repr(v) if isinstance(v, float) else str(v)


# (select, store filter, default max_results, fetch max+1, print tokens) as the stores do.
SHAPES = {
    "runs": ("SELECT r.name FROM runs r",
             "r.experiment_id = (SELECT experiment_id FROM experiments WHERE name = "
             "'search-exp') AND r.lifecycle_stage = 'active'", 1000, False, True),
    "experiments": ("SELECT e.name FROM experiments e", "e.lifecycle_stage = 'active'",
                    1000, True, True),
    "logged_models": ("SELECT lm.name FROM logged_models lm",
                      "lm.experiment_id = (SELECT experiment_id FROM experiments WHERE name = "
                      "'models-exp') AND lm.lifecycle_stage != 'deleted'", 50, True, False),
    "registered_models": ("SELECT rm.name FROM registered_models rm", "1 = 1", 100, True, True),
    "model_versions": ("SELECT mv.name, mv.version FROM model_versions mv", "1 = 1", 10000,
                       True, True),
}


def run_case(pg, driver, header, inputs, ids):
    req = {"entity": header, "filter": "", "order_by": [], "model_order_by": [],
           "datasets": []}
    max_results = None
    for line in inputs:
        for name, run_id in ids.items():
            line = line.replace("{" + name + "}", run_id)
        key, _, value = line.partition(": ")
        if key == "filter":
            req["filter"] = value
        elif key == "order_by":
            req["order_by"].append(value)
        elif key == "order_by_json":
            req["model_order_by"].append(json.loads(value))
        elif key == "dataset":
            req["datasets"].append(json.loads(value))
        elif key == "max_results":
            max_results = int(value)
    driver.stdin.write(json.dumps(req) + "\n")
    driver.stdin.flush()
    q = json.loads(driver.stdout.readline())
    if "error" in q:
        return ["error: " + q["error"]]
    select, store, default_max, one_more, tokens = SHAPES[header]
    max_results = max_results or default_max
    counter = iter(range(1, 10000))
    sql = re.sub(r"\?", lambda m: "$%d" % next(counter),
                 f"{select}{q['joins']} WHERE ({q['where']}) AND {store} ORDER BY {q['order_by']}"
                 " LIMIT $%d OFFSET $%d")
    n = len(q["binds"])
    sql = sql % (n + 1, n + 2)
    out, offset = [], 0
    for _ in range(50):
        limit = max_results + 1 if one_more else max_results
        args = ", ".join(literal(a) for a in q["binds"] + [limit, offset])
        rc, stdout, err = pg.psql(f"PREPARE q AS {sql};\nEXECUTE q({args});")
        if rc != 0:
            return ["postgres error: " + err.strip()]
        rows = [r for r in stdout.split("\n") if r]
        more = len(rows) == limit
        out.append("page: " + (" ".join(rows[:max_results]) or "(none)"))
        if not more:
            break
        offset += max_results
        if tokens:
            out.append("token: " + base64.b64encode(
                json.dumps({"offset": offset}).encode()).decode())
    return out


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build-search"
    driver_path = os.path.join(build, "tests", "tracking", "search", "tracking_search_pg_driver")
    driver = subprocess.Popen([driver_path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    src = open(os.path.join(HERE, "..", "search_sqlite_test.cc")).read()
    schema = src[src.index('R"sql(') + 6:src.index(')sql"')].replace("INTEGER", "BIGINT")
    pg = Postgres()
    total = bad = 0
    try:
        for fixture, cases_file in (("runs_fixture.sql", "runs_exec.txt"),
                                    ("registry_fixture.sql", "registry_exec.txt")):
            pg.psql("DROP DATABASE IF EXISTS search; CREATE DATABASE search;", "postgres")
            rc, _, err = pg.psql(schema + open(os.path.join(GOLDENS, fixture)).read())
            if rc != 0:
                raise SystemExit("loading " + fixture + ": " + err)
            _, stdout, _ = pg.psql("SELECT name, run_uuid FROM runs")
            ids = dict(line.split("/") for line in stdout.split("\n") if line)
            cases, _ = read_cases(os.path.join(GOLDENS, cases_file))
            for _, header, inputs, expected in cases:
                total += 1
                actual = run_case(pg, driver, header, inputs, ids)
                if actual != expected:
                    bad += 1
                    print(f"MISMATCH {cases_file}: {header} {inputs}\n  expected {expected}\n"
                          f"  actual   {actual}")
    finally:
        pg.stop()
        driver.stdin.close()
    print(f"{total} cases on PostgreSQL, {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
