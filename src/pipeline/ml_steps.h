// Built-in step types for the model-building part of a pipeline. Paths in `with` are relative
// to the spec's folder. Numbers in `with` are written as text (they usually come from
// `${params.x}`); a value that does not parse is InvalidArgument.
//
//   validate:      data-quality gate over a CSV file, with the monitor module's checks.
//     with {data, reference (optional), columns (comma list, default: all), min_rows (1),
//           max_missing_rate, max_duplicate_rate, max_unparseable (cells), binary (a column
//           that must hold only 0/1), max_unseen_rate and max_out_of_range_rate (need
//           `reference`: categories unseen in it / numbers outside its min..max),
//           on_failure: fail (default) | warn}
//     A check runs only when its threshold is given (min_rows always). The first declared
//     output (optional) receives a JSON report; metrics: rows and each measured rate.
//     Values: rows_in, rows_out (= rows_in: validate does not filter), failed_checks,
//     passed (true|false). on_failure: fail makes a failed check fail the step.
//   train-xgboost: trains an XGBoost model (libxgboost) and writes an MLflow model folder
//     (MLmodel with the xgboost and python_function flavors, model.ubj, a signature, the
//     environment files) that `mlflow.pyfunc.load_model` and cairn's models module load.
//     with {data, target, features (comma list; default: every numeric column except the
//           target), model (the output folder; default: the first declared output),
//           holdout (optional: file receiving the held-out rows, same header),
//           test_fraction (0.2: the last rows, in file order, are held out),
//           num_boost_round or n_estimators (100), and XGBoost params: objective
//           (binary:logistic), max_depth, eta or learning_rate, subsample,
//           colsample_bytree, min_child_weight, lambda, alpha, gamma, max_bin,
//           scale_pos_weight, tree_method (hist), seed (0), nthread (2), eval_metric}
//     Features must be numeric columns; a categorical feature is InvalidArgument (encode it
//     upstream). Metrics: the last round's train-/holdout- eval metrics. Values: rows_in,
//     rows_train, rows_holdout, features.
//   evaluate:      scores a model on labelled data with cairn's models module and the
//     monitor's binary metrics (roc_auc as scikit-learn computes it).
//     with {model (MLflow model folder or XGBoost file), data, target, threshold (0.5)}
//     Writes {"auc", "roc_auc", "average_precision", "log_loss", "accuracy", "f1",
//     "precision", "recall", "rows"} to the first declared output (name it metrics.json to
//     see them in lineage) and the step's metrics. Values: the same keys, so
//     `when: steps.evaluate.outputs.auc > 0.8` works.
// Thread-safety: immutable.
#pragma once

#include <memory>

#include "pipeline/step_types.h"

namespace cairn::pipeline {

std::unique_ptr<StepType> NewValidateStepType();
std::unique_ptr<StepType> NewTrainXgboostStepType();
std::unique_ptr<StepType> NewEvaluateStepType();

}  // namespace cairn::pipeline
