"""Trains an XGBoost classifier on the first 80% of the rows (time order)."""
import argparse
import json
import os

import pandas as pd
import xgboost as xgb

p = argparse.ArgumentParser()
p.add_argument("data")
p.add_argument("model_dir")
p.add_argument("--max-depth", type=int)
p.add_argument("--n-estimators", type=int)
p.add_argument("--learning-rate", type=float)
a = p.parse_args()

df = pd.read_csv(a.data)
X = pd.get_dummies(df[["car_value", "salary_range", "debt_to_income_ratio", "loan_length",
                       "repaid_loan_on_prev_car", "size_of_downpayment", "driver_tenure"]],
                   dtype=float)
y = df["repaid"]
cut = int(len(df) * 0.8)
model = xgb.XGBClassifier(max_depth=a.max_depth, n_estimators=a.n_estimators,
                          learning_rate=a.learning_rate, n_jobs=2, random_state=0)
model.fit(X[:cut], y[:cut])
os.makedirs(a.model_dir, exist_ok=True)
model.save_model(os.path.join(a.model_dir, "model.json"))
X[cut:].assign(repaid=y[cut:]).to_csv(os.path.join(a.model_dir, "holdout.csv"), index=False)
json.dump({"features": list(X.columns)}, open(os.path.join(a.model_dir, "features.json"), "w"))
