#!/usr/bin/env python3
"""The Python side of the monitor benchmark: the same work as cairn's configs, step by step.

Usage: nannyml_bench.py DATA_DIR [--suite drift|full]

drift (cairn_bench.yaml, monitoring engine I): read both CSVs; nannyML univariate drift
  (KS/JS/Wasserstein on continuous columns, chi2/JS on categorical ones), PCA reconstruction,
  missing/unseen/range data quality; 10 chunks per period.
full (cairn_bench_full.yaml, engines I + II): the drift steps, then
  - realized performance: nannyML's PerformanceCalculator (roc_auc, average_precision, f1,
    precision, recall, specificity, accuracy, confusion_matrix);
  - calibration: scikit-learn per chunk (nannyML has none): brier_score_loss, log_loss,
    calibration_curve (10 uniform bins) and the expected calibration error over 10
    equal-width and 10 equal-count bins (numpy);
  - CBPE: nannyML's CBPE with the same metrics but average_precision (cairn does not
    estimate it either);
  - fairness: fairlearn's MetricFrame per chunk (selection rate, TPR, FPR, precision by group)
    and its demographic-parity / equalized-odds / equal-opportunity differences and ratios,
    across `region` and `salary_range`. Skipped (and said so) when fairlearn is missing.
Prints one line "nannyml step=<wall s>/<cpu s> ..." with each step's wall and CPU time.
"""
import os
import sys
import time
import warnings

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"
warnings.filterwarnings("ignore")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import nannyml as nml  # noqa: E402

d = sys.argv[1]
suite = sys.argv[sys.argv.index("--suite") + 1] if "--suite" in sys.argv else "drift"
steps = []
clock = [time.perf_counter(), time.process_time()]


def step(name):
    now = [time.perf_counter(), time.process_time()]
    steps.append((name, now[0] - clock[0], now[1] - clock[1]))
    clock[:] = now


ref = pd.read_csv(os.path.join(d, "reference.csv"))
ana = pd.read_csv(os.path.join(d, "analysis.csv"))
step("read")
skip = ("id", "timestamp", "repaid")
cols = [c for c in ref.columns if c not in skip]
cont = [c for c in cols if ref[c].dtype.kind in "if"]
cat = [c for c in cols if c not in cont]
kw = dict(timestamp_column_name="timestamp", chunk_number=10)
u = nml.UnivariateDriftCalculator(column_names=cols, continuous_methods=["kolmogorov_smirnov", "jensen_shannon",
                                                                         "wasserstein"],
                                  categorical_methods=["chi2", "jensen_shannon"], **kw)
u.fit(ref)
u.calculate(ana)
step("univariate")
p = nml.DataReconstructionDriftCalculator(column_names=cols, **kw)
p.fit(ref)
p.calculate(ana)
step("pca")
m = nml.MissingValuesCalculator(column_names=cols, **kw)
m.fit(ref)
m.calculate(ana)
un = nml.UnseenValuesCalculator(column_names=cat, **kw)
un.fit(ref)
un.calculate(ana)
r = nml.NumericalRangeCalculator(column_names=cont, **kw)
r.fit(ref)
r.calculate(ana)
step("data_quality")

if suite == "full":
    out = dict(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="repaid", problem_type="classification_binary")
    metrics = ["roc_auc", "average_precision", "f1", "precision", "recall", "specificity", "accuracy",
               "confusion_matrix"]
    pc = nml.PerformanceCalculator(metrics=metrics, **out, **kw)
    pc.fit(ref)
    pc.calculate(ana)
    step("realized")

    from sklearn.calibration import calibration_curve  # noqa: E402
    from sklearn.metrics import brier_score_loss, log_loss  # noqa: E402

    def ece(y, prob, edges_or_none):
        if edges_or_none is None:  # equal-count bins
            order = np.argsort(prob, kind="stable")
            bins = np.array_split(order, 10)
        else:
            idx = np.clip(np.digitize(prob, edges_or_none[1:-1], right=False), 0, 9)
            bins = [np.flatnonzero(idx == b) for b in range(10)]
        return sum(abs(y[b].mean() - prob[b].mean()) * len(b) for b in bins if len(b)) / len(y)

    chunker = nml.chunk.CountBasedChunker(10)
    for frame in (ref, ana):
        for ch in chunker.split(frame):
            y = ch.data["repaid"].to_numpy()
            prob = ch.data["y_pred_proba"].to_numpy()
            brier_score_loss(y, prob)
            log_loss(y, prob)
            calibration_curve(y, prob, n_bins=10)
            ece(y, prob, np.linspace(0, 1, 11))
            ece(y, prob, None)
    step("calibration")

    cbpe = nml.CBPE(metrics=[x for x in metrics if x != "average_precision"], **out, **kw)
    cbpe.fit(ref)
    cbpe.estimate(ana.drop(columns=["repaid"]))
    step("cbpe")

    try:
        import fairlearn.metrics as fm  # noqa: E402
    except ImportError:
        fm = None
    if fm is not None:
        from functools import partial  # noqa: E402

        from sklearn.metrics import precision_score  # noqa: E402
        precision = partial(precision_score, zero_division=0)
        for frame in (ref, ana):
            for ch in chunker.split(frame):
                y = ch.data["repaid"].to_numpy()
                yhat = ch.data["y_pred"].to_numpy()
                for attr in ("region", "salary_range"):
                    g = ch.data[attr]
                    fm.MetricFrame(metrics={"selection_rate": fm.selection_rate,
                                            "true_positive_rate": fm.true_positive_rate,
                                            "false_positive_rate": fm.false_positive_rate,
                                            "precision": precision, "count": fm.count},
                                   y_true=y, y_pred=yhat, sensitive_features=g)
                    fm.demographic_parity_difference(y, yhat, sensitive_features=g)
                    fm.demographic_parity_ratio(y, yhat, sensitive_features=g)
                    fm.equalized_odds_difference(y, yhat, sensitive_features=g)
                    fm.equalized_odds_ratio(y, yhat, sensitive_features=g)
                    fm.equal_opportunity_difference(y, yhat, sensitive_features=g)
                    fm.equal_opportunity_ratio(y, yhat, sensitive_features=g)
        step("fairness")
    else:
        print("nannyml: fairlearn is not installed; fairness skipped")

total_wall = sum(s[1] for s in steps)
total_cpu = sum(s[2] for s in steps)
print("nannyml " + " ".join(f"{n}={w:.2f}/{c:.2f}" for n, w, c in steps) +
      f" total={total_wall:.2f}/{total_cpu:.2f} (wall s/CPU s of the process)")
