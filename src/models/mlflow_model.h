// Loading models from disk: MLflow model directories (the MLmodel YAML with the xgboost
// flavor as mlflow 3.x writes it: model.ubj / model.json / model.xgb, signature, input
// example), bare XGBoost model files, and cairn linear-model JSON files.
//
// Predictions follow mlflow's pyfunc for the saved class: xgboost.sklearn classifiers give
// class labels and, like their predict(), use only best_iteration + 1 rounds when the model
// was early-stopped; a Booster gives Booster.predict's output over every round.
//
// Feature names come from the signature's input columns when present (they must name the
// model's features: same count, and the same set as the XGBoost file's own names when it
// has them); otherwise from the model file; otherwise f0..fN-1.
//
// Errors: NotFound for a missing path / MLmodel / data file; InvalidArgument for malformed
// YAML, signatures, a data path that escapes the directory, or a signature that does not
// match the model; Unimplemented for flavors other than xgboost; plus the model parsers'
// own errors. Never throws.
#pragma once

#include <memory>  // for shared_ptr
#include <string>  // for string

#include "common/status.h"
#include "models/model.h"

namespace cairn::models {

struct LoadedModel {
  std::string path;          // what was loaded (directory or file)
  std::string flavor;        // "xgboost" or "linear"
  std::string model_class;   // e.g. "xgboost.sklearn.XGBClassifier" (MLmodel only)
  std::string model_format;  // "ubj", "json", "xgb" (MLmodel only)
  std::string xgb_version;   // from the flavor (MLmodel only)
  std::string mlflow_version;
  std::string model_uuid;
  std::string run_id;
  std::string utc_time_created;
  Signature signature;
  // The input example files' contents as written by mlflow ("" when there is none), and
  // saved_input_example_info.type ("dataframe", "ndarray", "json_object").
  std::string input_example;
  std::string serving_input_example;
  std::string input_example_type;
  std::shared_ptr<const Model> model;
};

// Loads an MLflow model directory (must contain MLmodel).
StatusOr<LoadedModel> LoadMlflowModel(const std::string& directory);

// Loads a directory (as above) or a single file: an XGBoost model (JSON or UBJSON, by
// content) or a cairn linear model (JSON with "format": "cairn.linear/v1").
StatusOr<LoadedModel> LoadModel(const std::string& path);

}  // namespace cairn::models
