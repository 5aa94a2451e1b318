#!/usr/bin/env python3
"""PSI goldens from Evidently's own psi stattest (legacy calculations, which the new API wraps).

Run in a virtualenv with tests/monitor/goldens/requirements-evidently.txt:
    python3 -m venv /tmp/venv-monitor-ev
    /tmp/venv-monitor-ev/bin/pip install -r tests/monitor/goldens/requirements-evidently.txt
    /tmp/venv-monitor-ev/bin/python tests/monitor/goldens/make_evidently_goldens.py

Evidently does not chunk: each 5000-row chunk of the car loan data (reference and analysis,
cut as nannyML's SizeBasedChunker does) is compared with the whole reference, NaN dropped as
Evidently's data-drift calculation does. Drift when PSI >= 0.1 (Evidently's default).
"""
import gzip
import io
import os

import numpy as np
import pandas as pd
import evidently
from evidently.legacy.calculations.stattests.psi import psi_stat_test
from evidently.legacy.calculations.stattests.registry import get_stattest
from evidently.legacy.core import ColumnType

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("CAIRN_SHARED_DATA_DIR", os.path.join(HERE, "..", "..", "..", "..", "shared", "data"))


def main():
    print("evidently", evidently.__version__, "pandas", pd.__version__, "numpy", np.__version__)
    ref = pd.read_csv(os.path.join(DATA, "nannyml_car_loan_reference.csv.gz"))
    ana = pd.read_csv(os.path.join(DATA, "nannyml_car_loan_analysis.csv.gz"))
    cols = {"car_value": ColumnType.Numerical, "debt_to_income_ratio": ColumnType.Numerical,
            "loan_length": ColumnType.Numerical, "driver_tenure": ColumnType.Numerical,
            "y_pred_proba": ColumnType.Numerical, "salary_range": ColumnType.Categorical,
            "repaid_loan_on_prev_car": ColumnType.Categorical, "size_of_downpayment": ColumnType.Categorical}
    rows = []
    size = 5000
    for period, df in (("reference", ref), ("analysis", ana)):
        for idx, start in enumerate(range(0, len(df), size)):
            chunk = df.iloc[start:start + size]
            end = start + len(chunk) - 1
            for col, ftype in cols.items():
                r = ref[col].dropna()
                c = chunk[col].dropna()
                res = psi_stat_test(r, c, ftype, None)
                rows.append([period, idx, f"[{start}:{end}]", start, end, col, "psi", repr(float(res.drift_score)), "",
                             repr(float(res.actual_threshold)), "1" if res.drifted else "0", ""])
    write("car_loan_psi.csv.gz", rows)

    # Evidently's default test per column: chosen from reference ∪ the whole analysis period,
    # then applied to every chunk. Car loan (reference > 1000 rows: normed Wasserstein, JS).
    rows = []
    for period, df in (("reference", ref), ("analysis", ana)):
        for idx, start in enumerate(range(0, len(df), size)):
            chunk = df.iloc[start:start + size]
            end = start + len(chunk) - 1
            for col, ftype in cols.items():
                rows.append(preset_row(ref[col], ana[col], chunk[col], ftype, period, idx, f"[{start}:{end}]", start,
                                       end, col))
    write("car_loan_evidently.csv.gz", rows)

    # Bike sharing (daily): 2011 as reference (365 rows <= 1000: ks, chisquare, z), 2012 as
    # analysis, monthly chunks. The split files are committed beside the golden.
    day = pd.read_csv(os.path.join(DATA, "bike_sharing_day.csv.gz"))
    day = day.drop(columns=["instant"])
    bref, bana = day[day.yr == 0].reset_index(drop=True), day[day.yr == 1].reset_index(drop=True)
    for name, part in (("bike_day_reference.csv", bref), ("bike_day_analysis.csv", bana)):
        part.to_csv(os.path.join(HERE, name), index=False)
    bcols = {c: ColumnType.Numerical for c in day.columns if c != "dteday"}
    rows = []
    for period, df in (("reference", bref), ("analysis", bana)):
        months = pd.to_datetime(df["dteday"]).dt.to_period("M")
        for idx, m in enumerate(sorted(months.unique())):
            pos = np.flatnonzero((months == m).values)
            chunk = df.iloc[pos]
            for col, ftype in bcols.items():
                rows.append(preset_row(bref[col], bana[col], chunk[col], ftype, period, idx, str(m), int(pos[0]),
                                       int(pos[-1]), col))
    write("bike_day_evidently.csv.gz", rows)


def preset_row(ref_col, ana_col, chunk_col, ftype, period, idx, key, start, end, col):
    r, a, c = ref_col.dropna(), ana_col.dropna(), chunk_col.dropna()
    test = get_stattest(r, a, ftype, None)
    res = test(r, c, ftype, None)
    p_value = test.name in ("ks", "chisquare", "z")
    upper = "" if p_value else repr(float(res.actual_threshold))
    return [period, idx, key, start, end, col, "evidently:" + test.name, repr(float(res.drift_score)), "", upper,
            "1" if res.drifted else "0", repr(float(res.drift_score)) if p_value else ""]


def write(name, rows):
    header = "period,chunk_index,key,start_index,end_index,column,metric,value,lower,upper,alert,p_value"
    path = os.path.join(HERE, name)
    with io.TextIOWrapper(gzip.GzipFile(path, mode="wb", compresslevel=9, mtime=0), encoding="utf-8") as f:
        f.write(header + "\n")
        for row in rows:
            f.write(",".join(str(x) for x in row) + "\n")
    print(f"wrote {name}: {len(rows)} rows")


if __name__ == "__main__":
    main()
