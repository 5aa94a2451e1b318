#!/usr/bin/env python3
"""Evidently side of the monitor benchmark: read both CSVs and run DataDriftPreset (its
default per-column tests) on the whole analysis period (Evidently does not chunk). The
target column `repaid` is left out, as in cairn_bench.yaml."""
import os
import sys
import time
import warnings

warnings.filterwarnings("ignore")
import pandas as pd  # noqa: E402
from evidently import Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402

d = sys.argv[1]
t0 = time.perf_counter()
ref = pd.read_csv(os.path.join(d, "reference.csv")).drop(columns=["id", "timestamp", "repaid"])
ana = pd.read_csv(os.path.join(d, "analysis.csv")).drop(columns=["id", "timestamp", "repaid"])
t_read = time.perf_counter()
snap = Report([DataDriftPreset()]).run(current_data=ana, reference_data=ref)
t_run = time.perf_counter()
print(f"evidently read {t_read - t0:.2f}s drift {t_run - t_read:.2f}s total {t_run - t0:.2f}s")
