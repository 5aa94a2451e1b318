#!/usr/bin/env python3
"""Produces the goldens of the outcome analyses (fairness, business value, correlation ranker)
that tests/monitor/outcome_golden_test.cc compares `cairn monitor run`'s records against.

Run from the repo root in the virtualenv of requirements-outcomes.txt:
    python3 -m venv /tmp/venv-segments
    /tmp/venv-segments/bin/pip install -r tests/monitor/goldens/requirements-outcomes.txt
    /tmp/venv-segments/bin/python tests/monitor/goldens/make_outcome_goldens.py

- adult_{reference,analysis}.csv.gz: the UCI Adult data (shared/data) with the predictions of
  a scikit-learn LogisticRegression trained here on adult.data (numeric features only), '?'
  written as an empty (missing) cell. Inputs of fairness_adult.yaml and segments_adult.yaml.
- fairness_adult.csv.gz: fairlearn 0.15.0 per chunk (size 2000): per-group selection rate,
  TPR, FPR (fairlearn's base metrics in a MetricFrame), precision (scikit-learn,
  zero_division=0) and group sizes; demographic parity / equalized odds / equal opportunity
  differences and ratios from fairlearn's functions (between_groups, worst_case). Missing
  sensitive values are given to fairlearn as the group "(missing)", cairn's convention.
  Alerts: the limits of fairness_adult.yaml, applied here.
- fairness_credit_card.csv.gz: fairlearn 0.15.0 on the multiclass credit-card set (chunk size
  6000, targets joined on id), one-vs-rest: for each class c, y_true == c and y_pred == c are
  given to the same MetricFrame and functions as above (records suffixed _<c>); the attribute's
  worst case over the classes is the max of the per-class differences and the min of the ratios
  (Python's max/min in sorted class order). Limits: fairness_credit_card.yaml's.
- business_value_car_loan.csv.gz: nannyML 0.13.1's realized business_value (normalize None and
  'per_prediction') with its thresholds and alerts; portfolio figures (positive decisions,
  car_value summed over them, P&L against a target) computed with pandas from their definition.
- reliability_car_loan.csv.gz: scikit-learn's calibration_curve (10 uniform bins) over the
  reference and the analysis period of car loan (the reliability diagram's data).
- ranker_car_loan.csv.gz: nannyML 0.13.1's CorrelationRanker (Jensen-Shannon drift vs realized
  ROC AUC, chunk size 5000), fitted on the reference ROC AUC.
- ranker_cbpe_car_loan.csv.gz: the same ranker against CBPE's estimated ROC AUC (no analysis
  targets), fitted on the reference estimates.
"""
import gzip
import io
import os
import warnings

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"

import numpy as np
import pandas as pd
import nannyml as nml
import fairlearn.metrics as flm
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("CAIRN_SHARED_DATA_DIR", os.path.join(HERE, "..", "..", "..", "..", "shared", "data"))
ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
                 "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
                 "native_country", "income"]
NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
MISSING = "(missing)"
CHUNK = 2000
ROWS = 6000


def gzip_text(path):
    return io.TextIOWrapper(gzip.GzipFile(path, mode="wb", compresslevel=9, mtime=0), encoding="utf-8", newline="")


def fmt(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "nan"
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    return repr(float(v))


def write_rows(name, header, rows):
    with gzip_text(os.path.join(HERE, name)) as f:
        f.write(header + "\n")
        for r in rows:
            f.write(",".join(str(x) for x in r) + "\n")
    print(f"wrote {name}: {len(rows)} rows")


def read_adult(name, skip):
    df = pd.read_csv(os.path.join(DATA, name), header=None, names=ADULT_COLUMNS, skipinitialspace=True,
                     skiprows=skip, na_values=["?"])
    df["income"] = df["income"].str.rstrip(".").map({"<=50K": 0, ">50K": 1})
    return df


def adult_inputs():
    train = read_adult("adult.data.gz", 0)
    test = read_adult("adult.test.gz", 1)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(train[NUMERIC], train["income"])
    out = {}
    for name, df in (("reference", train.head(ROWS).copy()), ("analysis", test.head(ROWS).copy())):
        df["y_pred_proba"] = np.round(model.predict_proba(df[NUMERIC])[:, 1], 6)
        df["y_pred"] = (df["y_pred_proba"] >= 0.5).astype(int)
        df.insert(0, "id", np.arange(len(df)) + (0 if name == "reference" else ROWS))
        keep = ["id", "age", "education_num", "hours_per_week", "sex", "race", "native_country", "income",
                "y_pred_proba", "y_pred"]
        df = df[keep].reset_index(drop=True)
        with gzip_text(os.path.join(HERE, f"adult_{name}.csv.gz")) as f:
            df.to_csv(f, index=False, na_rep="")
        print(f"wrote adult_{name}.csv.gz: {len(df)} rows")
        out[name] = df
    return out


def chunks(n, size):
    return [(i, s, min(s + size, n) - 1) for i, s in enumerate(range(0, n, size))]


def fairness(frames):
    limits = {"demographic_parity_ratio": (0.8, None), "demographic_parity_difference": (None, 0.1),
              "equalized_odds_difference": (None, 0.2)}
    attrs = [["sex"], ["race"], ["native_country"], ["sex", "race"]]
    rows = []
    for period in ("reference", "analysis"):
        df = frames[period].copy()
        for a in ("sex", "race", "native_country"):
            df[a] = df[a].fillna(MISSING)
        for idx, s, e in chunks(len(df), CHUNK):
            d = df.iloc[s:e + 1]
            key = f"[{s}:{e}]"
            y, yhat = d["income"], d["y_pred"]
            for attr in attrs:
                column = " & ".join(attr)
                sf = d[attr[0]] if len(attr) == 1 else d[attr]
                mf = flm.MetricFrame(
                    metrics={"selection_rate": flm.selection_rate, "true_positive_rate": flm.true_positive_rate,
                             "false_positive_rate": flm.false_positive_rate,
                             "precision": lambda t, p: skm.precision_score(t, p, zero_division=0),
                             "group_size": flm.count},
                    y_true=y, y_pred=yhat, sensitive_features=sf)
                for group, r in mf.by_group.iterrows():
                    label = " & ".join(group) if isinstance(group, tuple) else group
                    for metric in ("group_size", "selection_rate", "true_positive_rate", "false_positive_rate",
                                   "precision"):
                        rows.append([period, idx, key, s, e, column, label, metric, fmt(r[metric]), "nan", "nan",
                                     "0"])
                aggregates = {
                    "demographic_parity_difference": flm.demographic_parity_difference(y, yhat, sensitive_features=sf),
                    "demographic_parity_ratio": flm.demographic_parity_ratio(y, yhat, sensitive_features=sf),
                    "equalized_odds_difference": flm.equalized_odds_difference(y, yhat, sensitive_features=sf),
                    "equalized_odds_ratio": flm.equalized_odds_ratio(y, yhat, sensitive_features=sf),
                    "equal_opportunity_difference": flm.equal_opportunity_difference(y, yhat, sensitive_features=sf),
                    "equal_opportunity_ratio": flm.equal_opportunity_ratio(y, yhat, sensitive_features=sf),
                }
                for metric, v in aggregates.items():
                    lo, up = limits.get(metric, (None, None))
                    alert = (not np.isnan(v)) and ((lo is not None and v < lo) or (up is not None and v > up))
                    rows.append([period, idx, key, s, e, column, "", metric, fmt(v), fmt(lo), fmt(up), fmt(alert)])
    write_rows("fairness_adult.csv.gz",
               "period,chunk_index,key,start_index,end_index,column,group,metric,value,lower,upper,alert", rows)


CREDIT_CARD_CLASSES = ["highstreet_card", "prepaid_card", "upmarket_card"]
FAIRNESS_METRICS = ["demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference",
                    "equalized_odds_ratio", "equal_opportunity_difference", "equal_opportunity_ratio"]


def fairness_multiclass():
    ref = load("nannyml_credit_card_multiclass_reference.csv.gz")
    ana = load("nannyml_credit_card_multiclass_analysis.csv.gz").merge(
        load("nannyml_credit_card_multiclass_analysis_targets.csv.gz"), on="id", how="left")
    limits = {"demographic_parity_ratio": (0.8, None), "equalized_odds_difference": (None, 0.1)}
    attrs = [["acq_channel"], ["is_customer"], ["app_channel", "is_customer"]]
    size = 6000
    rows = []
    for period, df in (("reference", ref), ("analysis", ana)):
        df = df.copy()
        df["is_customer"] = df["is_customer"].map({True: "True", False: "False"})
        for idx, s, e in chunks(len(df), size):
            d = df.iloc[s:e + 1]
            key = f"[{s}:{e}]"
            for attr in attrs:
                column = " & ".join(attr)
                sf = d[attr[0]] if len(attr) == 1 else d[attr]
                sizes = flm.MetricFrame(metrics={"group_size": flm.count}, y_true=d["y_true"], y_pred=d["y_pred"],
                                        sensitive_features=sf)
                for group, r in sizes.by_group.iterrows():
                    label = " & ".join(group) if isinstance(group, tuple) else group
                    rows.append([period, idx, key, s, e, column, label, "group_size", fmt(r["group_size"]), "nan",
                                 "nan", "0"])
                per_class = {m: [] for m in FAIRNESS_METRICS}
                for c in CREDIT_CARD_CLASSES:
                    y, yhat = (d["y_true"] == c).astype(int), (d["y_pred"] == c).astype(int)
                    mf = flm.MetricFrame(
                        metrics={"selection_rate": flm.selection_rate, "true_positive_rate": flm.true_positive_rate,
                                 "false_positive_rate": flm.false_positive_rate,
                                 "precision": lambda t, p: skm.precision_score(t, p, zero_division=0)},
                        y_true=y, y_pred=yhat, sensitive_features=sf)
                    for group, r in mf.by_group.iterrows():
                        label = " & ".join(group) if isinstance(group, tuple) else group
                        for metric in ("selection_rate", "true_positive_rate", "false_positive_rate", "precision"):
                            rows.append([period, idx, key, s, e, column, label, f"{metric}_{c}", fmt(r[metric]),
                                         "nan", "nan", "0"])
                    for metric in FAIRNESS_METRICS:
                        v = getattr(flm, metric)(y, yhat, sensitive_features=sf)
                        per_class[metric].append(v)
                        rows.append([period, idx, key, s, e, column, "", f"{metric}_{c}", fmt(v), "nan", "nan", "0"])
                for metric, values in per_class.items():
                    v = max(values) if metric.endswith("difference") else min(values)
                    lo, up = limits.get(metric, (None, None))
                    alert = (not np.isnan(v)) and ((lo is not None and v < lo) or (up is not None and v > up))
                    rows.append([period, idx, key, s, e, column, "", metric, fmt(v), fmt(lo), fmt(up), fmt(alert)])
    write_rows("fairness_credit_card.csv.gz",
               "period,chunk_index,key,start_index,end_index,column,group,metric,value,lower,upper,alert", rows)


def load(name):
    return pd.read_csv(os.path.join(DATA, name))


def car_loan():
    ref = load("nannyml_car_loan_reference.csv.gz")
    ana = load("nannyml_car_loan_analysis.csv.gz").merge(
        load("nannyml_car_loan_analysis_targets.csv.gz"), on="id", how="left")
    return ref, ana


BV_MATRIX = [[0, -200], [-1000, 500]]
AMOUNT_MATRIX = [[0, -0.5], [0, 0.1]]
PNL_TARGET = 8000000.0


def business_value():
    ref, ana = car_loan()
    rows = []
    for norm, cname in ((None, "business_value"), ("per_prediction", "business_value_per_prediction")):
        calc = nml.PerformanceCalculator(
            y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="repaid", timestamp_column_name="timestamp",
            problem_type="classification_binary", chunk_size=5000, metrics=["business_value"],
            business_value_matrix=BV_MATRIX, normalize_business_value=norm)
        calc.fit(ref)
        res = calc.calculate(ana).to_df()
        for _, r in res.iterrows():
            rows.append([r[("chunk", "period")], int(r[("chunk", "chunk_index")]), r[("chunk", "key")],
                         int(r[("chunk", "start_index")]), int(r[("chunk", "end_index")]), "repaid", cname,
                         fmt(r[("business_value", "value")]), fmt(r[("business_value", "lower_threshold")]),
                         fmt(r[("business_value", "upper_threshold")]), fmt(bool(r[("business_value", "alert")])), ""])
    # Portfolio figures over the same chunks (rows sorted by timestamp as nannyML does).
    chunker = nml.chunk.SizeBasedChunker(5000, timestamp_column_name="timestamp")
    for period, df in (("reference", ref), ("analysis", ana)):
        for c in chunker.split(df):
            d = c.data
            pos = d["y_pred"] == 1
            y, p = d["repaid"].astype(int), d["y_pred"].astype(int)
            coef = np.array(AMOUNT_MATRIX)[y.to_numpy(), p.to_numpy()]
            pnl = float((d["car_value"].to_numpy() * coef).sum())
            meta = [period, c.chunk_index, c.key, c.start_index, c.end_index, "repaid"]
            rows.append(meta + ["positive_decisions", fmt(pos.sum()), "nan", "nan", "0", ""])
            rows.append(meta + ["amount_sum", fmt(d.loc[pos, "car_value"].sum()), "nan", "nan", "0", ""])
            rows.append(meta + ["profit_and_loss", fmt(pnl), fmt(PNL_TARGET), "nan", fmt(pnl < PNL_TARGET), ""])
    write_rows("business_value_car_loan.csv.gz",
               "period,chunk_index,key,start_index,end_index,column,metric,value,lower,upper,alert,p_value", rows)


def reliability():
    """scikit-learn's calibration_curve (10 uniform bins) over each whole period of car loan."""
    from sklearn.calibration import calibration_curve
    ref, ana = car_loan()
    rows = []
    for period, df in (("reference", ref), ("analysis", ana)):
        y, p = df["repaid"].to_numpy(), df["y_pred_proba"].to_numpy()
        prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
        binids = np.searchsorted(np.linspace(0.0, 1.0, 11)[1:-1], p)
        counts = np.bincount(binids, minlength=10)
        for b, t, m in zip(np.flatnonzero(counts), prob_true, prob_pred):
            rows.append([period, int(b), int(counts[b]), fmt(t), fmt(m)])
    write_rows("reliability_car_loan.csv.gz", "period,bin,count,fraction_positive,mean_predicted", rows)


def ranker():
    ref, ana = car_loan()
    features = ["car_value", "salary_range", "debt_to_income_ratio", "loan_length", "repaid_loan_on_prev_car",
                "size_of_downpayment", "driver_tenure", "y_pred_proba", "y_pred"]
    univ = nml.UnivariateDriftCalculator(column_names=features, timestamp_column_name="timestamp",
                                         continuous_methods=["jensen_shannon"], categorical_methods=["jensen_shannon"],
                                         chunk_size=5000)
    univ.fit(ref)
    drift = univ.calculate(ana)
    perf = nml.PerformanceCalculator(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="repaid",
                                     timestamp_column_name="timestamp", problem_type="classification_binary",
                                     metrics=["roc_auc"], chunk_size=5000)
    perf.fit(ref)
    perf_results = perf.calculate(ana)
    r = nml.CorrelationRanker()
    r.fit(perf_results.filter(period="reference", metrics=["roc_auc"]))
    ranked = r.rank(drift.filter(period="analysis", methods=["jensen_shannon"]),
                    perf_results.filter(period="analysis", metrics=["roc_auc"]), only_drifting=False)
    rows = [[row.column_name, fmt(row.pearsonr_correlation), fmt(row.pearsonr_pvalue), fmt(bool(row.has_drifted)),
             int(row["rank"])] for _, row in ranked.iterrows()]
    write_rows("ranker_car_loan.csv.gz", "column,correlation,p_value,has_drifted,rank", rows)


def ranker_cbpe():
    """The CorrelationRanker against CBPE's estimated ROC AUC (no analysis targets)."""
    ref = load("nannyml_car_loan_reference.csv.gz")
    ana = load("nannyml_car_loan_analysis.csv.gz")
    features = ["car_value", "salary_range", "debt_to_income_ratio", "loan_length", "repaid_loan_on_prev_car",
                "size_of_downpayment", "driver_tenure", "y_pred_proba", "y_pred"]
    univ = nml.UnivariateDriftCalculator(column_names=features, timestamp_column_name="timestamp",
                                         continuous_methods=["jensen_shannon"], categorical_methods=["jensen_shannon"],
                                         chunk_size=5000)
    univ.fit(ref)
    drift = univ.calculate(ana)
    cbpe = nml.CBPE(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="repaid", timestamp_column_name="timestamp",
                    problem_type="classification_binary", metrics=["roc_auc"], chunk_size=5000)
    cbpe.fit(ref)
    est = cbpe.estimate(ana)
    r = nml.CorrelationRanker()
    r.fit(est.filter(period="reference", metrics=["roc_auc"]))
    ranked = r.rank(drift.filter(period="analysis", methods=["jensen_shannon"]),
                    est.filter(period="analysis", metrics=["roc_auc"]), only_drifting=False)
    rows = [[row.column_name, fmt(row.pearsonr_correlation), fmt(row.pearsonr_pvalue), fmt(bool(row.has_drifted)),
             int(row["rank"])] for _, row in ranked.iterrows()]
    write_rows("ranker_cbpe_car_loan.csv.gz", "column,correlation,p_value,has_drifted,rank", rows)


def main():
    frames = adult_inputs()
    fairness(frames)
    fairness_multiclass()
    business_value()
    reliability()
    ranker()
    ranker_cbpe()


if __name__ == "__main__":
    main()
