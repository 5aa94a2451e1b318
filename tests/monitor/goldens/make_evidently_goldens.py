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
    header = "period,chunk_index,key,start_index,end_index,column,metric,value,lower,upper,alert,p_value"
    path = os.path.join(HERE, "car_loan_psi.csv.gz")
    with io.TextIOWrapper(gzip.GzipFile(path, mode="wb", compresslevel=9, mtime=0), encoding="utf-8") as f:
        f.write(header + "\n")
        for row in rows:
            f.write(",".join(str(x) for x in row) + "\n")
    print(f"wrote car_loan_psi.csv.gz: {len(rows)} rows")


if __name__ == "__main__":
    main()
