#!/usr/bin/env python3
"""Produces the nannyML goldens that tests/monitor/golden_test.cc compares cairn against.

Run (from the repo root, in a virtualenv holding tests/monitor/goldens/requirements.txt):
    python3 -m venv /tmp/venv-monitor
    /tmp/venv-monitor/bin/pip install -r tests/monitor/goldens/requirements.txt
    /tmp/venv-monitor/bin/python tests/monitor/goldens/make_goldens.py

Every golden is a flat CSV (gzip) with one row per (chunk, column, metric), the same shape as
cairn's results.json records, plus the YAML config cairn runs to reproduce it. p-values that
nannyML computes but does not report (chi2, exact KS) come from scipy on the same chunks.
"""
import gzip
import io
import os
import sys
import warnings

# nannyML phones home with usage statistics unless told not to; this machine has no network.
os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"

import numpy as np
import pandas as pd
import scipy
import scipy.stats
import nannyml as nml

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("CAIRN_SHARED_DATA_DIR", os.path.join(HERE, "..", "..", "..", "..", "shared", "data"))


def load(name):
    return pd.read_csv(os.path.join(DATA, name))


def gzip_text(path):
    """A gzip text stream with a fixed mtime, so that re-running the script is byte-stable."""
    return io.TextIOWrapper(gzip.GzipFile(path, mode="wb", compresslevel=9, mtime=0), encoding="utf-8", newline="")


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, float) and np.isnan(v):
        return "nan"
    return repr(float(v))


def write(name, rows):
    header = "period,chunk_index,key,start_index,end_index,column,metric,value,lower,upper,alert,p_value"
    with gzip_text(os.path.join(HERE, name)) as f:
        f.write(header + "\n")
        for r in rows:
            f.write(",".join(str(x) for x in r) + "\n")
    print(f"wrote {name}: {len(rows)} rows")


def chunks_of(calc, df):
    return calc.chunker.split(df)


def univariate_rows(result, columns, methods_for, extra_p=None):
    """Flattens a UnivariateDriftCalculator result."""
    d = result.to_df()
    rows = []
    for _, r in d.iterrows():
        period = r[("chunk", "chunk", "period")]
        idx = int(r[("chunk", "chunk", "chunk_index")])
        key = r[("chunk", "chunk", "key")]
        s = int(r[("chunk", "chunk", "start_index")])
        e = int(r[("chunk", "chunk", "end_index")])
        for col in columns:
            for m in methods_for(col):
                if (col, m, "value") not in d.columns:
                    continue
                p = ""
                if extra_p is not None:
                    p = extra_p.get((period, idx, col, m), "")
                rows.append([period, idx, key.replace(",", ";"), s, e, col, m, fmt(r[(col, m, "value")]),
                             fmt(r[(col, m, "lower_threshold")]), fmt(r[(col, m, "upper_threshold")]),
                             fmt(bool(r[(col, m, "alert")])), p])
    return rows


def chi2_and_ks_pvalues(calc, ref, ana, cat_cols, cont_cols, exact_ks):
    out = {}
    for period, df in (("reference", ref), ("analysis", ana)):
        for ch in calc.chunker.split(df):
            for col in cat_cols:
                rv = ref[col].dropna().value_counts()
                cv = ch.data[col].dropna().value_counts()
                if len(cv) == 0:
                    continue
                _, p, _, _ = scipy.stats.chi2_contingency(pd.concat([rv, cv], axis=1).fillna(0))
                out[(period, ch.chunk_index, col, "chi2")] = fmt(p)
            if exact_ks:
                for col in cont_cols:
                    x = ch.data[col].dropna()
                    if len(x) == 0:
                        continue
                    out[(period, ch.chunk_index, col, "kolmogorov_smirnov")] = fmt(
                        scipy.stats.ks_2samp(ref[col].dropna(), x).pvalue)
    return out


def car_loan():
    ref = load("nannyml_car_loan_reference.csv.gz")
    ana = load("nannyml_car_loan_analysis.csv.gz")
    cont = ["car_value", "debt_to_income_ratio", "loan_length", "driver_tenure", "y_pred_proba", "y_pred"]
    cat = ["salary_range", "repaid_loan_on_prev_car", "size_of_downpayment"]
    cm = ["kolmogorov_smirnov", "jensen_shannon", "wasserstein", "hellinger"]
    km = ["chi2", "jensen_shannon", "l_infinity", "hellinger"]
    calc = nml.UnivariateDriftCalculator(column_names=cont + cat, timestamp_column_name="timestamp",
                                         continuous_methods=cm, categorical_methods=km, chunk_size=5000)
    calc.fit(ref)
    res = calc.calculate(ana)
    pv = chi2_and_ks_pvalues(calc, ref, ana, cat, cont, exact_ks=False)
    rows = univariate_rows(res, cont + cat, lambda c: cm if c in cont else km, pv)

    pca = nml.DataReconstructionDriftCalculator(column_names=cont[:4] + cat, timestamp_column_name="timestamp",
                                                chunk_size=5000)
    pca.fit(ref)
    d = pca.calculate(ana).to_df()
    for _, r in d.iterrows():
        rows.append([r[("chunk", "period")], int(r[("chunk", "chunk_index")]), r[("chunk", "key")],
                     int(r[("chunk", "start_index")]), int(r[("chunk", "end_index")]), "*", "pca_reconstruction_error",
                     fmt(r[("reconstruction_error", "value")]), fmt(r[("reconstruction_error", "lower_threshold")]),
                     fmt(r[("reconstruction_error", "upper_threshold")]),
                     fmt(bool(r[("reconstruction_error", "alert")])), ""])
    write("car_loan.csv.gz", rows)


def dq_rows(result, metric, columns, value_key=None):
    d = result.to_df()
    out = []
    for _, r in d.iterrows():
        for col in columns:
            key = col if value_key is None else value_key
            out.append([r[("chunk", "period")], int(r[("chunk", "chunk_index")]), r[("chunk", "key")],
                        int(r[("chunk", "start_index")]), int(r[("chunk", "end_index")]), col if value_key is None else "*",
                        metric, fmt(r[(key, "value")]), fmt(r[(key, "lower_threshold")]),
                        fmt(r[(key, "upper_threshold")]), fmt(bool(r[(key, "alert")])), ""])
    return out


def stats_rows(ref, ana, cont, kw):
    rows = []
    for calc_cls, metric in ((nml.SummaryStatsAvgCalculator, "mean"), (nml.SummaryStatsStdCalculator, "std"),
                             (nml.SummaryStatsMedianCalculator, "median")):
        c = calc_cls(column_names=cont, **kw)
        c.fit(ref)
        rows += dq_rows(c.calculate(ana), metric, cont)
    rc = nml.SummaryStatsRowCountCalculator(**kw)
    rc.fit(ref)
    rows += dq_rows(rc.calculate(ana), "row_count", ["*"], value_key="rows_count")
    rg = nml.NumericalRangeCalculator(column_names=cont, **kw)
    rg.fit(ref)
    rows += dq_rows(rg.calculate(ana), "out_of_range_rate", cont)
    return rows


def car_loan_stats():
    ref = load("nannyml_car_loan_reference.csv.gz")
    ana = load("nannyml_car_loan_analysis.csv.gz")
    cont = ["car_value", "debt_to_income_ratio", "loan_length", "driver_tenure", "y_pred_proba"]
    write("car_loan_stats.csv.gz", stats_rows(ref, ana, cont, dict(timestamp_column_name="timestamp", chunk_size=5000)))


def housing_missing():
    """california_housing.csv (handson-ml) has 207 empty total_bedrooms: split by row into a
    reference (first 12000 rows) and an analysis period, keep four columns, and commit the
    split next to the golden."""
    df = load("california_housing.csv.gz")[["total_bedrooms", "median_income", "housing_median_age",
                                             "ocean_proximity"]]
    ref, ana = df.iloc[:12000].reset_index(drop=True), df.iloc[12000:].reset_index(drop=True)
    for name, part in (("housing_dq_reference.csv.gz", ref), ("housing_dq_analysis.csv.gz", ana)):
        with gzip_text(os.path.join(HERE, name)) as f:
            part.to_csv(f, index=False)
    kw = dict(chunk_size=1500)
    cols = list(df.columns)
    cont = cols[:3]
    rows = []
    mv = nml.MissingValuesCalculator(column_names=cols, **kw)
    mv.fit(ref)
    rows += dq_rows(mv.calculate(ana), "missing_values_rate", cols)
    un = nml.UnseenValuesCalculator(column_names=["ocean_proximity"], **kw)
    un.fit(ref)
    rows += dq_rows(un.calculate(ana), "unseen_values_rate", ["ocean_proximity"])
    rows += stats_rows(ref, ana, cont, kw)
    u = nml.UnivariateDriftCalculator(column_names=cols, continuous_methods=["jensen_shannon", "wasserstein"],
                                      categorical_methods=["chi2", "l_infinity"], **kw)
    u.fit(ref)
    rows += univariate_rows(u.calculate(ana), cols,
                            lambda c: ["jensen_shannon", "wasserstein"] if c in cont else ["chi2", "l_infinity"])
    write("housing_dq.csv.gz", rows)


def california_housing():
    """Reference < 10k rows: KS and Wasserstein use the exact scipy path; last chunk incomplete."""
    ref = load("nannyml_california_housing_reference.csv.gz")
    ana = load("nannyml_california_housing_analysis.csv.gz")
    cont = ["MedInc", "HouseAge", "AveRooms", "Population", "Latitude", "y_pred_proba"]
    cm = ["kolmogorov_smirnov", "jensen_shannon", "wasserstein", "hellinger"]
    calc = nml.UnivariateDriftCalculator(column_names=cont, timestamp_column_name="timestamp",
                                         continuous_methods=cm, categorical_methods=["chi2"], chunk_size=1000)
    calc.fit(ref)
    res = calc.calculate(ana)
    pv = chi2_and_ks_pvalues(calc, ref, ana, [], cont, exact_ks=True)
    rows = univariate_rows(res, cont, lambda c: cm, pv)
    write("california_housing.csv.gz", rows)


def hotel_booking():
    """Monthly period chunks, missing values, unseen categories, categorical drift with unseen values."""
    ref = load("nannyml_hotel_booking_reference.csv.gz")
    ana = load("nannyml_hotel_booking_monitoring.csv.gz")
    cat = ["country", "meal", "market_segment", "hotel"]
    cont = ["lead_time", "adr", "children"]
    km = ["chi2", "jensen_shannon", "l_infinity", "hellinger"]
    calc = nml.UnivariateDriftCalculator(column_names=cat + cont, timestamp_column_name="timestamp",
                                         continuous_methods=["jensen_shannon"], categorical_methods=km,
                                         chunk_period="M")
    calc.fit(ref)
    res = calc.calculate(ana)
    pv = chi2_and_ks_pvalues(calc, ref, ana, cat, [], exact_ks=False)
    rows = univariate_rows(res, cat + cont, lambda c: km if c in cat else ["jensen_shannon"], pv)

    miss_cols = ["children", "country", "agent"]
    mv = nml.MissingValuesCalculator(column_names=miss_cols, timestamp_column_name="timestamp", chunk_period="M")
    mv.fit(ref)
    rows += dq_rows(mv.calculate(ana), "missing_values_rate", miss_cols)
    un = nml.UnseenValuesCalculator(column_names=cat, timestamp_column_name="timestamp", chunk_period="M")
    un.fit(ref)
    rows += dq_rows(un.calculate(ana), "unseen_values_rate", cat)
    write("hotel_booking.csv.gz", rows)


def california_domain_classifier():
    """nannyML's domain classifier (LightGBM, stratified 5-fold OOF AUROC). cairn uses XGBoost,
    so the test compares with a tolerance rather than exactly."""
    ref = load("nannyml_california_housing_reference.csv.gz")
    ana = load("nannyml_california_housing_analysis.csv.gz")
    cols = ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"]
    dc = nml.DomainClassifierCalculator(feature_column_names=cols, timestamp_column_name="timestamp", chunk_size=2000)
    dc.fit(ref)
    d = dc.calculate(ana).to_df()
    rows = []
    for _, r in d.iterrows():
        rows.append([r[("chunk", "period")], int(r[("chunk", "chunk_index")]), r[("chunk", "key")],
                     int(r[("chunk", "start_index")]), int(r[("chunk", "end_index")]), "*", "domain_classifier_auroc",
                     fmt(r[("domain_classifier_auroc", "value")]), fmt(r[("domain_classifier_auroc", "lower_threshold")]),
                     fmt(r[("domain_classifier_auroc", "upper_threshold")]),
                     fmt(bool(r[("domain_classifier_auroc", "alert")])), ""])
    write("california_dc.csv.gz", rows)


def main():
    print("nannyml", nml.__version__, "pandas", pd.__version__, "numpy", np.__version__, "scipy", scipy.__version__)
    car_loan()
    california_housing()
    hotel_booking()
    car_loan_stats()
    housing_missing()
    california_domain_classifier()


if __name__ == "__main__":
    sys.exit(main())
