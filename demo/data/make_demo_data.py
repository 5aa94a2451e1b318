#!/usr/bin/env python3
"""Builds the demo's data from the shared NannyML car-loan files: every 5th row of the
reference and analysis periods (10,000 rows each), with the analysis targets joined on id.
Run from the repository root: python3 demo/data/make_demo_data.py ../shared/data"""
import csv
import gzip
import io
import sys
from pathlib import Path

src = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
out = Path(__file__).resolve().parent


def rows(name):
    with gzip.open(src / name, "rt", encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def write(name, table):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(table)
    (out / name).write_bytes(gzip.compress(buf.getvalue().encode(), compresslevel=9, mtime=0))


ref = rows("nannyml_car_loan_reference.csv.gz")
write("car_loan_reference.csv.gz", [ref[0]] + ref[1::5])

ana = rows("nannyml_car_loan_analysis.csv.gz")
targets = {r[0]: r[1] for r in rows("nannyml_car_loan_analysis_targets.csv.gz")[1:]}
header = ana[0] + ["repaid"]
write("car_loan_analysis.csv.gz", [header] + [r + [targets[r[0]]] for r in ana[1::5]])
