#!/usr/bin/env python3
"""nannyML side of the monitor benchmark: the same work as cairn_bench.yaml (read both CSVs,
univariate KS/JS/Wasserstein + chi2/JS, PCA reconstruction, missing/unseen/range data
quality, 10 chunks per period). Prints the wall time of each step."""
import os
import sys
import time
import warnings

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"
warnings.filterwarnings("ignore")
import pandas as pd  # noqa: E402
import nannyml as nml  # noqa: E402

d = sys.argv[1]
t0 = time.perf_counter()
ref = pd.read_csv(os.path.join(d, "reference.csv"))
ana = pd.read_csv(os.path.join(d, "analysis.csv"))
t_read = time.perf_counter()
cols = [c for c in ref.columns if c not in ("id", "timestamp")]
cont = [c for c in cols if ref[c].dtype.kind in "if"]
cat = [c for c in cols if c not in cont]
kw = dict(timestamp_column_name="timestamp", chunk_number=10)
u = nml.UnivariateDriftCalculator(column_names=cols, continuous_methods=["kolmogorov_smirnov", "jensen_shannon", "wasserstein"],
                                  categorical_methods=["chi2", "jensen_shannon"], **kw)
u.fit(ref)
u.calculate(ana)
t_uni = time.perf_counter()
p = nml.DataReconstructionDriftCalculator(column_names=cols, **kw)
p.fit(ref)
p.calculate(ana)
t_pca = time.perf_counter()
m = nml.MissingValuesCalculator(column_names=cols, **kw)
m.fit(ref)
m.calculate(ana)
un = nml.UnseenValuesCalculator(column_names=cat, **kw)
un.fit(ref)
un.calculate(ana)
r = nml.NumericalRangeCalculator(column_names=cont, **kw)
r.fit(ref)
r.calculate(ana)
t_dq = time.perf_counter()
print(f"nannyml read {t_read - t0:.2f}s univariate {t_uni - t_read:.2f}s pca {t_pca - t_uni:.2f}s "
      f"data_quality {t_dq - t_pca:.2f}s total {t_dq - t0:.2f}s")
