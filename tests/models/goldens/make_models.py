#!/usr/bin/env python3
"""Writes the model goldens for tests/models: small XGBoost models (JSON and UBJSON) trained
with XGBoost from PyPI on the shared datasets, input rows, and XGBoost's own predictions for
them; an MLflow model directory written by the mlflow client; and linear/logistic baselines
from scikit-learn.

Pinned by tests/requirements.txt (xgboost-cpu 3.1.3, mlflow 3.6.0, scikit-learn 1.7.2,
pandas 2.3.3, numpy 2.3.5). Run from anywhere:

    python3 tests/models/goldens/make_models.py

Each case <name> gets <name>.json, <name>.ubj (the same model in both formats) and
<name>.cases.json = {"features", "rows" (null = missing), "margin", "predictions"} where the
predictions come from loading the saved file into a fresh xgboost.Booster and calling
inplace_predict; the script asserts they equal the in-memory model's and, for categorical
models, the pandas (category-string) path.
"""
import json
import os
import shutil
import warnings

import numpy as np
import pandas as pd
import xgboost as xgb

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "shared", "data"))
SEED = 7
N_CASE_ROWS = 40


def rows_json(x):
    return [[None if (v is None or (isinstance(v, float) and np.isnan(v))) else float(v)
             for v in row] for row in np.asarray(x, dtype=np.float64)]


def sprinkle_nan(df, cols, frac, rng):
    df = df.copy()
    for c in cols:
        mask = rng.random(len(df)) < frac
        df.loc[mask, c] = np.nan
    return df


def write_case(name, booster, x_codes, x_frame=None):
    """Saves booster as JSON and UBJ and writes XGBoost's predictions for x_codes."""
    json_path = os.path.join(HERE, name + ".json")
    ubj_path = os.path.join(HERE, name + ".ubj")
    booster.save_model(json_path)
    booster.save_model(ubj_path)
    x32 = np.asarray(x_codes, dtype=np.float32)
    outputs = {}
    for path in (json_path, ubj_path):
        loaded = xgb.Booster(model_file=path)
        pred = loaded.inplace_predict(x32)
        margin = loaded.inplace_predict(x32, predict_type="margin")
        outputs[path] = (np.asarray(pred), np.asarray(margin))
    pj, mj = outputs[json_path]
    pu, mu = outputs[ubj_path]
    assert np.array_equal(pj, pu) and np.array_equal(mj, mu), name
    assert np.allclose(pj, booster.inplace_predict(x32), atol=1e-7), name
    if x_frame is not None:  # categorical strings through XGBoost's own re-coding
        loaded = xgb.Booster(model_file=json_path)
        pf = loaded.inplace_predict(x_frame)
        assert np.allclose(pf, pj, atol=1e-7), name
    case = {
        "features": list(booster.feature_names or []),
        "rows": rows_json(x_codes),
        "margin": np.asarray(mj, dtype=np.float64).reshape(len(x32), -1).tolist(),
        "predictions": np.asarray(pj, dtype=np.float64).reshape(len(x32), -1).tolist(),
    }
    with open(os.path.join(HERE, name + ".cases.json"), "w") as f:
        json.dump(case, f)
    print(name, os.path.getsize(json_path), "bytes json,", os.path.getsize(ubj_path), "ubj")


def codes(df, cat_cols):
    out = df.copy()
    for c in cat_cols:
        out[c] = out[c].astype("category").cat.codes.astype("float64")
        out.loc[df[c].isna(), c] = np.nan
    return out.astype("float64")


def car_loan(rng):
    ref = pd.read_csv(os.path.join(DATA, "nannyml_car_loan_reference.csv.gz"))
    cols = ["car_value", "salary_range", "debt_to_income_ratio", "loan_length",
            "repaid_loan_on_prev_car", "size_of_downpayment", "driver_tenure"]
    cat_cols = ["salary_range", "size_of_downpayment"]
    ref = ref.sample(6000, random_state=SEED)
    x = ref[cols].copy()
    x["repaid_loan_on_prev_car"] = x["repaid_loan_on_prev_car"].astype(float)
    x = codes(x, cat_cols)
    x = sprinkle_nan(x, ["car_value", "debt_to_income_ratio", "driver_tenure"], 0.05, rng)
    y = ref["repaid"].astype(int).values
    return x, y


def credit_card(rng):
    ref = pd.read_csv(os.path.join(DATA, "nannyml_credit_card_multiclass_reference.csv.gz"))
    cols = ["acq_channel", "app_behavioral_score", "requested_credit_limit", "app_channel",
            "credit_bureau_score", "stated_income", "is_customer"]
    ref = ref.sample(6000, random_state=SEED)
    x = ref[cols].copy()
    x["is_customer"] = x["is_customer"].astype(float)
    x = codes(x, ["acq_channel", "app_channel"])
    x = sprinkle_nan(x, ["app_behavioral_score", "stated_income"], 0.05, rng)
    y = ref["y_true"].astype("category").cat.codes.values
    return x, y


def car_price(rng):
    ref = pd.read_csv(os.path.join(DATA, "nannyml_car_price_reference.csv.gz"))
    cols = ["car_age", "km_driven", "price_new", "accident_count", "door_count", "fuel",
            "transmission"]
    ref = ref.sample(6000, random_state=SEED)
    x = codes(ref[cols].copy(), ["fuel", "transmission"])
    x = sprinkle_nan(x, ["km_driven", "price_new"], 0.05, rng)
    return x, ref["y_true"].values


ADULT_COLS = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
              "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
              "hours_per_week", "native_country", "income"]
ADULT_CATS = ["workclass", "education", "marital_status", "occupation", "relationship", "race",
              "sex", "native_country"]


def adult():
    df = pd.read_csv(os.path.join(DATA, "adult.data.gz"), header=None, names=ADULT_COLS,
                     skipinitialspace=True, na_values="?")
    df = df.sample(8000, random_state=SEED)
    y = (df["income"] == ">50K").astype(int).values
    x = df.drop(columns=["income"])
    for c in ADULT_CATS:
        x[c] = x[c].astype("category")
    return x, y


def train(x, y, params, rounds):
    d = xgb.DMatrix(x, label=y, enable_categorical=True)
    return xgb.train({"seed": SEED, "nthread": 1, **params}, d, num_boost_round=rounds)


def main():
    rng = np.random.default_rng(SEED)

    x, y = car_loan(rng)
    xt = x.iloc[:N_CASE_ROWS]
    b = train(x, y, {"objective": "binary:logistic", "max_depth": 5, "eta": 0.3}, 20)
    write_case("car_loan_logistic", b, xt)
    b = train(x, y, {"objective": "binary:logitraw", "max_depth": 3}, 8)
    write_case("car_loan_logitraw", b, xt)
    b = train(x, y, {"objective": "reg:logistic", "max_depth": 3}, 8)
    write_case("car_loan_reglogistic", b, xt)
    b = train(x, y, {"objective": "binary:hinge", "max_depth": 2}, 4)
    write_case("car_loan_hinge", b, xt)
    b = train(x, y, {"objective": "binary:logistic", "booster": "dart", "max_depth": 3,
                     "rate_drop": 0.3, "skip_drop": 0.0}, 8)
    write_case("car_loan_dart", b, xt)

    x, y = credit_card(rng)
    xt = x.iloc[:N_CASE_ROWS]
    b = train(x, y, {"objective": "multi:softprob", "num_class": 3, "max_depth": 4}, 10)
    write_case("credit_card_softprob", b, xt)
    b = train(x, y, {"objective": "multi:softmax", "num_class": 3, "max_depth": 3}, 5)
    write_case("credit_card_softmax", b, xt)
    write_early_stopping(x, y, xt)

    x, y = car_price(rng)
    xt = x.iloc[:N_CASE_ROWS]
    b = train(x, y, {"objective": "reg:squarederror", "max_depth": 6, "eta": 0.3}, 20)
    write_case("car_price_squarederror", b, xt)
    b = train(x, np.maximum(y, 1.0), {"objective": "count:poisson", "max_depth": 3}, 8)
    write_case("car_price_poisson", b, xt)
    # Two targets, one tree per target per round; XGBoost 3.1 keeps one intercept each.
    y2 = np.stack([y, np.log1p(np.maximum(y, 0.0))], axis=1)
    b = train(x, y2, {"objective": "reg:squarederror", "max_depth": 3,
                      "multi_strategy": "one_output_per_tree"}, 6)
    write_case("car_price_multi_target", b, xt)
    for objective in ("reg:gamma", "reg:tweedie", "reg:absoluteerror", "reg:pseudohubererror",
                      "reg:squaredlogerror"):
        b = train(x, np.maximum(y, 1.0), {"objective": objective, "max_depth": 2}, 4)
        write_case("car_price_" + objective.replace(":", "_"), b, xt)
    b = train(x, y, {"objective": "reg:quantileerror", "quantile_alpha": [0.1, 0.5, 0.9],
                     "max_depth": 2}, 4)
    write_case("car_price_quantiles", b, xt)
    # A ranker: queries of 20 rows, relevance = price decile.
    qid = np.arange(len(x)) // 20
    rel = pd.qcut(y, 5, labels=False)
    d = xgb.DMatrix(x, label=rel, qid=qid)
    for objective in ("rank:pairwise", "rank:ndcg"):
        b = xgb.train({"objective": objective, "max_depth": 2, "seed": SEED, "nthread": 1}, d,
                      num_boost_round=4)
        write_case("car_price_" + objective.replace(":", "_"), b, xt)

    x, y = adult()
    xt = x.iloc[:N_CASE_ROWS]
    xt_codes = xt.copy()
    for c in ADULT_CATS:
        xt_codes[c] = xt[c].cat.codes.astype("float64")
        xt_codes.loc[xt[c].isna(), c] = np.nan
    b = train(x, y, {"objective": "binary:logistic", "max_depth": 4, "max_cat_to_onehot": 1,
                     "tree_method": "hist"}, 15)
    write_case("adult_categorical", b, xt_codes.astype("float64"), x_frame=xt)
    with open(os.path.join(HERE, "adult_categorical.categories.json"), "w") as f:
        json.dump({c: list(map(str, x[c].cat.categories)) for c in ADULT_CATS}, f)

    write_mlflow_dir(rng)
    write_linear(rng)


def write_early_stopping(x, y, xt):
    """An XGBClassifier stopped early: sklearn's predict_proba uses best_iteration + 1 rounds,
    Booster.predict (the .cases.json predictions) uses all of them."""
    clf = xgb.XGBClassifier(n_estimators=60, max_depth=2, learning_rate=1.0,
                            early_stopping_rounds=3, random_state=SEED, n_jobs=1)
    n = len(x) // 2
    clf.fit(x.iloc[:n], y[:n], eval_set=[(x.iloc[n:], y[n:])], verbose=False)
    b = clf.get_booster()
    assert clf.best_iteration + 1 < b.num_boosted_rounds(), "early stopping did not trim"
    write_case("credit_card_early_stopping", b, xt)
    path = os.path.join(HERE, "credit_card_early_stopping.cases.json")
    with open(path) as f:
        case = json.load(f)
    reloaded = xgb.XGBClassifier()
    reloaded.load_model(os.path.join(HERE, "credit_card_early_stopping.json"))
    case["best_iteration"] = int(reloaded.best_iteration)
    case["sklearn_proba"] = reloaded.predict_proba(xt).astype(np.float64).tolist()
    with open(path, "w") as f:
        json.dump(case, f)


def write_mlflow_dir(rng):
    import mlflow
    from mlflow.models import infer_signature

    x, y = car_loan(rng)
    x = x.fillna(0.0)
    model = xgb.XGBClassifier(n_estimators=10, max_depth=3, random_state=SEED, n_jobs=1)
    model.fit(x, y)
    path = os.path.join(HERE, "mlflow_car_loan")
    shutil.rmtree(path, ignore_errors=True)
    sig = infer_signature(x, model.predict(x))
    mlflow.xgboost.save_model(model, path, signature=sig, input_example=x.head(3))
    rows = x.iloc[:N_CASE_ROWS]
    pyfunc = mlflow.pyfunc.load_model(path)
    labels = np.asarray(pyfunc.predict(rows))
    proba = model.predict_proba(rows)[:, 1]
    with open(os.path.join(HERE, "mlflow_car_loan.cases.json"), "w") as f:
        json.dump({"features": list(x.columns), "rows": rows_json(rows),
                   "pyfunc_predictions": labels.astype(float).tolist(),
                   "probabilities": proba.astype(float).tolist()}, f)
    print("mlflow_car_loan", sorted(os.listdir(path)))


def write_linear(rng):
    from sklearn.linear_model import LinearRegression, LogisticRegression

    x, y = car_price(rng)
    x = x.fillna(0.0)
    reg = LinearRegression().fit(x, y)
    save_linear("car_price_linear", list(x.columns), reg.coef_.tolist(),
                float(reg.intercept_), "identity", x.iloc[:N_CASE_ROWS],
                reg.predict(x.iloc[:N_CASE_ROWS]).reshape(-1, 1))

    x, y = car_loan(rng)
    x = x.fillna(0.0)
    clf = LogisticRegression(max_iter=2000).fit(x, y)
    save_linear("car_loan_logistic_linear", list(x.columns), clf.coef_[0].tolist(),
                float(clf.intercept_[0]), "logit", x.iloc[:N_CASE_ROWS],
                clf.predict_proba(x.iloc[:N_CASE_ROWS])[:, 1:2])

    x, y = credit_card(rng)
    x = x.fillna(0.0)
    clf = LogisticRegression(max_iter=5000).fit(x, y)
    save_linear("credit_card_softmax_linear", list(x.columns), clf.coef_.tolist(),
                clf.intercept_.tolist(), "softmax", x.iloc[:N_CASE_ROWS],
                clf.predict_proba(x.iloc[:N_CASE_ROWS]))


def save_linear(name, features, coef, intercept, link, rows, expected):
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump({"format": "cairn.linear/v1", "features": features, "coefficients": coef,
                   "intercept": intercept, "link": link}, f)
    with open(os.path.join(HERE, name + ".cases.json"), "w") as f:
        json.dump({"features": features, "rows": rows_json(rows),
                   "predictions": np.asarray(expected, dtype=np.float64).tolist()}, f)
    print(name)


if __name__ == "__main__":
    main()
