"""ROC AUC on the holdout; writes it to $CAIRN_OUTPUTS so `when` conditions can read it."""
import json
import os
import sys

import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

model_dir, report = sys.argv[1], sys.argv[2]
holdout = pd.read_csv(os.path.join(model_dir, "holdout.csv"))
model = xgb.XGBClassifier()
model.load_model(os.path.join(model_dir, "model.json"))
proba = model.predict_proba(holdout.drop(columns=["repaid"]))[:, 1]
auc = roc_auc_score(holdout["repaid"], proba)
os.makedirs(os.path.dirname(report), exist_ok=True)
json.dump({"auc": auc, "rows": len(holdout)}, open(report, "w"), indent=1)
with open(os.environ["CAIRN_OUTPUTS"], "w") as out:
    out.write(f"auc={auc:.6f}\n")
print(f"auc={auc:.4f}")
