#include "models/mlflow_model.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>   // for sort
#include <filesystem>  // for path, exists
#include <utility>     // for move

#include "models/json_value.h"
#include "models/linear_model.h"
#include "models/tree_model.h"
#include "models/xgboost_model.h"

namespace cairn::models {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxMlmodelBytes = size_t{1} << 20;
constexpr size_t kMaxExampleBytes = size_t{16} << 20;

// The scalar at node[key] as a string, "" if absent or null.
std::string Scalar(const YAML::Node& node, const char* key) {
  if (!node.IsMap()) return "";
  YAML::Node v = node[key];
  if (!v || v.IsNull() || !v.IsScalar()) return "";
  return v.as<std::string>();
}

// A relative path that stays inside the model directory.
StatusOr<fs::path> InsideDirectory(const fs::path& dir, const std::string& relative,
                                   const char* field) {
  fs::path rel(relative);
  if (relative.empty() || rel.is_absolute()) {
    return InvalidArgument(std::string("MLmodel: ") + field + " must be a relative path");
  }
  for (const auto& part : rel) {
    if (part == "..") {
      return InvalidArgument(std::string("MLmodel: ") + field + " must not contain '..'");
    }
  }
  return dir / rel;
}

// Reads an optional file inside the directory; "" when absent.
StatusOr<std::string> OptionalFile(const fs::path& dir, const std::string& relative,
                                   const char* field) {
  if (relative.empty()) return std::string();
  ASSIGN_OR_RETURN(fs::path p, InsideDirectory(dir, relative, field));
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::string();
  return ReadModelFile(p.string(), kMaxExampleBytes);
}

// Checks the signature against the model's features and returns the names to use.
StatusOr<std::vector<std::string>> NamesFromSignature(const Signature& sig,
                                                      const XGBoostModel& xgb) {
  if (sig.input_columns.empty()) return std::vector<std::string>{};
  const size_t n = xgb.ensemble.num_features();
  if (sig.input_columns.size() != n) {
    return InvalidArgument("signature has " + std::to_string(sig.input_columns.size()) +
                           " input columns but the model has " + std::to_string(n) +
                           " features");
  }
  std::vector<std::string> names;
  for (const auto& c : sig.input_columns) names.push_back(c.name);
  if (xgb.feature_names.empty()) return names;
  std::vector<std::string> a = names;
  std::vector<std::string> b = xgb.feature_names;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  if (a != b) {
    for (const auto& name : names) {
      if (!std::binary_search(b.begin(), b.end(), name)) {
        return InvalidArgument("signature column '" + name + "' is not a feature of the model");
      }
    }
    return InvalidArgument("signature columns do not match the model's features");
  }
  // Same set: keep the model's order (decoders map columns by name).
  return xgb.feature_names;
}

TreeOutput OutputForClass(const std::string& model_class) {
  // XGBClassifier / XGBRFClassifier.predict return labels; Booster and regressors return
  // predictions (what mlflow's pyfunc wrapper serves).
  return model_class.find("Classifier") != std::string::npos ? TreeOutput::kClassLabel
                                                             : TreeOutput::kPrediction;
}

StatusOr<LoadedModel> LoadMlflowModelImpl(const std::string& directory) {
  const fs::path dir(directory);
  const fs::path mlmodel_path = dir / "MLmodel";
  ASSIGN_OR_RETURN(std::string text, ReadModelFile(mlmodel_path.string(), kMaxMlmodelBytes));
  YAML::Node root = YAML::Load(text);
  if (!root.IsMap()) return InvalidArgument("MLmodel: expected a mapping");

  LoadedModel out;
  out.path = directory;
  out.mlflow_version = Scalar(root, "mlflow_version");
  out.model_uuid = Scalar(root, "model_uuid");
  out.run_id = Scalar(root, "run_id");
  out.utc_time_created = Scalar(root, "utc_time_created");

  YAML::Node flavors = root["flavors"];
  if (!flavors || !flavors.IsMap()) return InvalidArgument("MLmodel: missing 'flavors'");
  YAML::Node xgb_flavor = flavors["xgboost"];
  if (!xgb_flavor || !xgb_flavor.IsMap()) {
    std::string names;
    for (const auto& kv : flavors) names += (names.empty() ? "" : ", ") + kv.first.as<std::string>();
    return Unimplemented("MLmodel: no supported flavor (have: " + names +
                         "; supported: xgboost)");
  }
  out.flavor = "xgboost";
  out.model_class = Scalar(xgb_flavor, "model_class");
  if (out.model_class.empty()) out.model_class = "xgboost.core.Booster";
  out.model_format = Scalar(xgb_flavor, "model_format");
  out.xgb_version = Scalar(xgb_flavor, "xgb_version");
  std::string data = Scalar(xgb_flavor, "data");
  if (data.empty()) return InvalidArgument("MLmodel: flavors.xgboost.data is missing");

  if (YAML::Node sig = root["signature"]; sig && sig.IsMap()) {
    ASSIGN_OR_RETURN(out.signature, ParseSignature(Scalar(sig, "inputs"), Scalar(sig, "outputs")));
  }
  if (YAML::Node info = root["saved_input_example_info"]; info && info.IsMap()) {
    out.input_example_type = Scalar(info, "type");
    ASSIGN_OR_RETURN(out.input_example,
                     OptionalFile(dir, Scalar(info, "artifact_path"), "artifact_path"));
    ASSIGN_OR_RETURN(out.serving_input_example,
                     OptionalFile(dir, Scalar(info, "serving_input_path"), "serving_input_path"));
  }

  ASSIGN_OR_RETURN(fs::path model_file, InsideDirectory(dir, data, "flavors.xgboost.data"));
  // The scikit-learn wrappers (xgboost.sklearn.*) predict with best_iteration; a Booster
  // uses every round.
  XGBoostLoadOptions options;
  options.use_best_iteration = out.model_class.rfind("xgboost.sklearn.", 0) == 0;
  ASSIGN_OR_RETURN(XGBoostModel xgb, LoadXGBoostModelFile(model_file.string(), options));
  ASSIGN_OR_RETURN(std::vector<std::string> names, NamesFromSignature(out.signature, xgb));
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model,
                   MakeTreeModel(std::move(xgb), OutputForClass(out.model_class), names));
  out.model = std::move(model);
  return out;
}

}  // namespace

StatusOr<LoadedModel> LoadMlflowModel(const std::string& directory) {
  try {
    return LoadMlflowModelImpl(directory);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("MLmodel: invalid YAML: ") + e.what());
  } catch (const std::exception& e) {
    return Internal(std::string("loading model '") + directory + "': " + e.what());
  }
}

StatusOr<LoadedModel> LoadModel(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (!fs::exists(fs::path(path) / "MLmodel", ec)) {
      return NotFound("'" + path + "' is a directory without an MLmodel file");
    }
    return LoadMlflowModel(path);
  }
  ASSIGN_OR_RETURN(std::string bytes, ReadModelFile(path));
  LoadedModel out;
  out.path = path;
  if (!LooksLikeUbjson(bytes) && LinearModel::Sniff(bytes)) {
    ASSIGN_OR_RETURN(std::unique_ptr<LinearModel> linear, LinearModel::Parse(bytes));
    out.flavor = "linear";
    out.model = std::move(linear);
    return out;
  }
  StatusOr<XGBoostModel> xgb = ParseXGBoostModel(bytes);
  if (!xgb.ok()) {
    return Status(xgb.status().code(), xgb.status().message() + " (file '" + path + "')");
  }
  out.flavor = "xgboost";
  out.xgb_version.clear();
  for (size_t i = 0; i < xgb->version.size(); ++i) {
    out.xgb_version += (i ? "." : "") + std::to_string(xgb->version[i]);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model,
                   MakeTreeModel(std::move(*xgb), TreeOutput::kPrediction));
  out.model = std::move(model);
  return out;
}

}  // namespace cairn::models
