#include "pipeline/ml_steps.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/ids.h"
#include "models/mlflow_model.h"
#include "monitor/data_quality.h"
#include "monitor/data_source.h"
#include "monitor/performance.h"
#include "monitor/xgboost_c.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace cairn::pipeline {

namespace {

namespace xgb = monitor::xgb;

using With = std::map<std::string, std::string>;

Status CheckKeys(const std::string& type, const With& with, const std::set<std::string>& allowed,
                 const std::vector<std::string>& required) {
  for (const auto& [k, v] : with) {
    if (!allowed.count(k)) {
      std::string names;
      for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
      return InvalidArgument(fmt::format("{}: unknown config key '{}' ({})", type, k, names));
    }
  }
  for (const auto& r : required) {
    if (!with.count(r)) return InvalidArgument(fmt::format("{} needs 'with.{}'", type, r));
  }
  return OkStatus();
}

std::string Resolve(const StepContext& ctx, const std::string& path) {
  return !path.empty() && path[0] == '/' ? path : ctx.base_dir + "/" + path;
}

StatusOr<double> Number(const std::string& type, const With& with, const std::string& key,
                        double fallback) {
  auto it = with.find(key);
  if (it == with.end()) return fallback;
  double v = 0;
  if (!monitor::ParseNumber(it->second, &v) || !std::isfinite(v)) {
    return InvalidArgument(fmt::format("{}: '{}' must be a number, got '{}'", type, key,
                                       it->second));
  }
  return v;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

Status WriteJson(const std::string& path, const json& j) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::ofstream out(path, std::ios::trunc);
  out << j.dump(1) << '\n';
  out.close();
  if (!out) return Internal(fmt::format("cannot write '{}'", path));
  return OkStatus();
}

std::string Fixed(double v) { return fmt::format("{:.6g}", v); }

// ---------------------------------------------------------------------------------------------
// validate

class ValidateStepType final : public StepType {
 public:
  Status CheckConfig(const With& with) const override {
    RETURN_IF_ERROR(CheckKeys("validate", with,
                              {"data", "reference", "columns", "min_rows", "max_missing_rate",
                               "max_duplicate_rate", "max_unparseable", "binary",
                               "max_unseen_rate", "max_out_of_range_rate", "on_failure"},
                              {"data"}));
    for (const char* k : {"min_rows", "max_missing_rate", "max_duplicate_rate", "max_unparseable",
                          "max_unseen_rate", "max_out_of_range_rate"}) {
      auto it = with.find(k);
      if (it != with.end() && it->second.find("${") == std::string::npos) {
        RETURN_IF_ERROR(Number("validate", with, k, 0).status());
      }
    }
    auto f = with.find("on_failure");
    if (f != with.end() && f->second != "fail" && f->second != "warn") {
      return InvalidArgument("validate: on_failure must be fail or warn");
    }
    if ((with.count("max_unseen_rate") || with.count("max_out_of_range_rate")) &&
        !with.count("reference")) {
      return InvalidArgument(
          "validate: max_unseen_rate and max_out_of_range_rate need 'with.reference'");
    }
    return OkStatus();
  }

  std::vector<std::string> ImplicitInputs(const StepContext& ctx) const override {
    std::vector<std::string> in;
    for (const char* k : {"data", "reference"}) {
      if (ctx.with.count(k)) in.push_back(ctx.with.at(k));
    }
    return in;
  }

  Status Run(const StepContext& ctx, std::map<std::string, std::string>* values) const override {
    RETURN_IF_ERROR(CheckConfig(ctx.with));
    const With& w = ctx.with;
    std::vector<std::string> columns = w.count("columns") ? SplitList(w.at("columns"))
                                                          : std::vector<std::string>{};
    monitor::ReadOptions options;
    options.columns = columns;
    std::optional<monitor::Table> reference;
    if (w.count("reference")) {
      auto ref_source = monitor::OpenCsvFile(Resolve(ctx, w.at("reference")));
      ASSIGN_OR_RETURN(options.types, ref_source->InferTypes(options));
      ASSIGN_OR_RETURN(reference, ref_source->Read(options));
    }
    auto source = monitor::OpenCsvFile(Resolve(ctx, w.at("data")));
    ASSIGN_OR_RETURN(monitor::Table table, source->Read(options));
    const int64_t n = static_cast<int64_t>(table.num_rows);

    json checks = json::array();
    std::map<std::string, double> metrics = {{"rows", static_cast<double>(n)}};
    int failed = 0;
    auto check = [&](const std::string& name, const std::string& column, double value,
                     double limit, bool ok) {
      checks.push_back({{"check", name}, {"column", column}, {"value", value},
                        {"threshold", limit}, {"passed", ok}});
      if (!ok) ++failed;
    };
    ASSIGN_OR_RETURN(double min_rows, Number("validate", w, "min_rows", 1));
    check("min_rows", "*", static_cast<double>(n), min_rows, static_cast<double>(n) >= min_rows);

    std::vector<const monitor::Column*> all;
    for (const auto& c : table.columns) all.push_back(&c);
    for (const auto& c : table.columns) {
      double missing = monitor::MissingRate(c, 0, n);
      metrics["missing_rate." + c.name] = std::isnan(missing) ? 0 : missing;
      if (w.count("max_missing_rate")) {
        ASSIGN_OR_RETURN(double lim, Number("validate", w, "max_missing_rate", 0));
        check("max_missing_rate", c.name, missing, lim, !(missing > lim));
      }
      if (w.count("max_unparseable")) {
        ASSIGN_OR_RETURN(double lim, Number("validate", w, "max_unparseable", 0));
        double bad = static_cast<double>(monitor::UnparseableCount(c, 0, n));
        check("max_unparseable", c.name, bad, lim, bad <= lim);
      }
      if (reference) {
        const monitor::Column* rc = reference->Find(c.name);
        if (rc && c.IsCategoricalLike() && w.count("max_unseen_rate")) {
          std::set<std::string> ref_values;
          bool missing_seen = false;
          for (size_t r = 0; r < rc->size(); ++r) {
            if (rc->codes[r] == monitor::kMissingCode) {
              missing_seen = true;
            } else {
              ref_values.insert(rc->dictionary[rc->codes[r]]);
            }
          }
          std::vector<bool> seen(c.dictionary.size());
          for (size_t k = 0; k < c.dictionary.size(); ++k) {
            seen[k] = ref_values.count(c.dictionary[k]) > 0;
          }
          double unseen = monitor::UnseenRate(c, 0, n, seen, missing_seen);
          metrics["unseen_rate." + c.name] = std::isnan(unseen) ? 0 : unseen;
          ASSIGN_OR_RETURN(double lim, Number("validate", w, "max_unseen_rate", 0));
          check("max_unseen_rate", c.name, unseen, lim, !(unseen > lim));
        }
        if (rc && c.type == monitor::ColumnType::kContinuous &&
            w.count("max_out_of_range_rate")) {
          monitor::SummaryStats s = monitor::Summarize(*rc, 0, static_cast<int64_t>(rc->size()));
          double out = monitor::OutOfRangeRate(c, 0, n, s.min, s.max);
          metrics["out_of_range_rate." + c.name] = std::isnan(out) ? 0 : out;
          ASSIGN_OR_RETURN(double lim, Number("validate", w, "max_out_of_range_rate", 0));
          check("max_out_of_range_rate", c.name, out, lim, !(out > lim));
        }
      }
    }
    if (w.count("max_duplicate_rate")) {
      double dup = monitor::DuplicateRate(all, 0, n);
      metrics["duplicate_rate"] = std::isnan(dup) ? 0 : dup;
      ASSIGN_OR_RETURN(double lim, Number("validate", w, "max_duplicate_rate", 0));
      check("max_duplicate_rate", "*", dup, lim, !(dup > lim));
    }
    if (w.count("binary")) {
      const monitor::Column* c = table.Find(w.at("binary"));
      if (!c) return NotFound(fmt::format("validate: no column '{}'", w.at("binary")));
      double bad = 0;
      for (int64_t r = 0; r < n; ++r) {
        if (c->type == monitor::ColumnType::kContinuous) {
          double v = c->numbers[r];
          bad += !(v == 0.0 || v == 1.0);
        } else {
          bad += 1;
        }
      }
      check("binary", c->name, bad, 0, bad == 0);
    }
    metrics["failed_checks"] = failed;

    bool passed = failed == 0;
    json report = {{"data", w.at("data")}, {"rows", n}, {"passed", passed},
                   {"failed_checks", failed}, {"checks", checks}};
    if (!ctx.outputs.empty()) RETURN_IF_ERROR(WriteJson(Resolve(ctx, ctx.outputs[0]), report));
    if (!ctx.metrics_path.empty()) RETURN_IF_ERROR(WriteJson(ctx.metrics_path, metrics));
    (*values)["rows_in"] = std::to_string(n);
    (*values)["rows_out"] = std::to_string(n);
    (*values)["failed_checks"] = std::to_string(failed);
    (*values)["passed"] = passed ? "true" : "false";
    if (!passed && (!w.count("on_failure") || w.at("on_failure") == "fail")) {
      std::string first;
      for (const auto& c : checks) {
        if (!c["passed"].get<bool>()) {
          first = fmt::format("{} on '{}': {} (threshold {})", c["check"].get<std::string>(),
                              c["column"].get<std::string>(), c["value"].get<double>(),
                              c["threshold"].get<double>());
          break;
        }
      }
      return FailedPrecondition(
          fmt::format("validate: {} check(s) failed; first: {}", failed, first));
    }
    return OkStatus();
  }
};

// ---------------------------------------------------------------------------------------------
// train-xgboost

struct DMatrixDeleter {
  void operator()(void* h) const { XGDMatrixFree(h); }
};
struct BoosterDeleter {
  void operator()(void* h) const { XGBoosterFree(h); }
};
using DMatrixPtr = std::unique_ptr<void, DMatrixDeleter>;
using BoosterPtr = std::unique_ptr<void, BoosterDeleter>;

const std::set<std::string>& XgbParamKeys() {
  static const std::set<std::string> keys = {
      "objective", "max_depth",  "eta",       "learning_rate", "subsample", "colsample_bytree",
      "min_child_weight", "lambda", "alpha", "gamma", "max_bin", "scale_pos_weight",
      "tree_method", "seed", "nthread", "eval_metric"};
  return keys;
}

// Feature matrix (row-major float, NaN = missing) and labels read with the monitor's reader.
struct Matrix {
  std::vector<float> x;
  std::vector<float> y;
  size_t rows = 0;
  std::vector<std::string> features;
};

StatusOr<Matrix> LoadMatrix(const std::string& type, const std::string& path,
                            const std::string& target, std::vector<std::string> features) {
  auto source = monitor::OpenCsvFile(path);
  ASSIGN_OR_RETURN(std::vector<std::string> names, source->ColumnNames());
  if (std::find(names.begin(), names.end(), target) == names.end()) {
    return NotFound(fmt::format("{}: '{}' has no target column '{}'", type, path, target));
  }
  monitor::ReadOptions options;
  if (features.empty()) {
    // Every numeric column except the target.
    ASSIGN_OR_RETURN(auto types, source->InferTypes(options));
    for (const auto& n : names) {
      if (n != target && types[n] == monitor::ColumnType::kContinuous) features.push_back(n);
    }
    if (features.empty()) return InvalidArgument(fmt::format("{}: no numeric feature", type));
  }
  options.columns = features;
  options.columns.push_back(target);
  ASSIGN_OR_RETURN(auto types, source->InferTypes(options));
  for (const auto& f : features) {
    if (types[f] != monitor::ColumnType::kContinuous) {
      return InvalidArgument(fmt::format(
          "{}: feature '{}' is {}, not numeric; encode it upstream or leave it out", type, f,
          monitor::ColumnTypeName(types[f])));
    }
  }
  options.types[target] = monitor::ColumnType::kContinuous;
  for (const auto& f : features) options.strict_columns.insert(f);
  options.strict_columns.insert(target);
  ASSIGN_OR_RETURN(monitor::Table table, source->Read(options));
  Matrix m;
  m.rows = table.num_rows;
  m.features = features;
  m.x.assign(m.rows * features.size(), NAN);
  for (size_t c = 0; c < features.size(); ++c) {
    const monitor::Column* col = table.Find(features[c]);
    for (size_t r = 0; r < m.rows; ++r) {
      m.x[r * features.size() + c] = static_cast<float>(col->numbers[r]);
    }
  }
  const monitor::Column* y = table.Find(target);
  m.y.resize(m.rows);
  for (size_t r = 0; r < m.rows; ++r) {
    double v = y->numbers[r];
    if (!std::isfinite(v)) {
      return InvalidArgument(
          fmt::format("{}: target '{}' is missing on data row {}", type, target, r + 1));
    }
    m.y[r] = static_cast<float>(v);
  }
  return m;
}

StatusOr<DMatrixPtr> MakeDMatrix(const Matrix& m, size_t begin, size_t end) {
  DMatrixHandle h = nullptr;
  size_t cols = m.features.size();
  RETURN_IF_ERROR(xgb::Check(XGDMatrixCreateFromMat(m.x.data() + begin * cols, end - begin, cols, NAN,
                                             &h),
                      "DMatrix"));
  DMatrixPtr ptr(h);
  RETURN_IF_ERROR(xgb::Check(XGDMatrixSetFloatInfo(h, "label", m.y.data() + begin, end - begin),
                      "label"));
  std::vector<const char*> names;
  for (const auto& f : m.features) names.push_back(f.c_str());
  RETURN_IF_ERROR(xgb::Check(XGDMatrixSetStrFeatureInfo(h, "feature_name", names.data(), names.size()),
                      "feature names"));
  std::vector<const char*> types(m.features.size(), "float");
  RETURN_IF_ERROR(xgb::Check(XGDMatrixSetStrFeatureInfo(h, "feature_type", types.data(), types.size()),
                      "feature types"));
  return ptr;
}

// Copies the header and the data lines from `first_row` on (0-based data rows) of a CSV.
Status WriteHoldout(const std::string& src, const std::string& dest, size_t first_row) {
  std::ifstream in(src, std::ios::binary);
  if (!in) return NotFound(fmt::format("cannot read '{}'", src));
  std::error_code ec;
  fs::create_directories(fs::path(dest).parent_path(), ec);
  std::ofstream out(dest, std::ios::binary | std::ios::trunc);
  std::string line;
  size_t row = 0;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      out << line << '\n';
      header = false;
      continue;
    }
    if (line.empty() || line == "\r") continue;
    if (row++ >= first_row) out << line << '\n';
  }
  out.close();
  if (!out) return Internal(fmt::format("cannot write '{}'", dest));
  return OkStatus();
}

std::string UtcNowText() {
  time_t t = time(nullptr);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[40];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S.000000", &tm);
  return buf;
}

Status WriteMlflowModel(const std::string& dir, BoosterHandle booster,
                        const std::vector<std::string>& features) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal(fmt::format("cannot create '{}': {}", dir, ec.message()));
  RETURN_IF_ERROR(xgb::Check(XGBoosterSaveModel(booster, (dir + "/model.ubj").c_str()), "save model"));
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  std::string xgb_version = fmt::format("{}.{}.{}", major, minor, patch);
  json inputs = json::array();
  for (const auto& f : features) {
    inputs.push_back({{"type", "double"}, {"name", f}, {"required", true}});
  }
  json outputs = json::array(
      {{{"type", "tensor"}, {"tensor-spec", {{"dtype", "float32"}, {"shape", {-1}}}}}});
  // MLmodel is YAML; JSON strings are valid YAML scalars, so values are written with dump().
  std::ofstream mlmodel(dir + "/MLmodel", std::ios::trunc);
  mlmodel << "flavors:\n"
          << "  python_function:\n"
          << "    data: model.ubj\n"
          << "    env:\n"
          << "      conda: conda.yaml\n"
          << "      virtualenv: python_env.yaml\n"
          << "    loader_module: mlflow.xgboost\n"
          << "    python_version: 3.11.2\n"
          << "  xgboost:\n"
          << "    code: null\n"
          << "    data: model.ubj\n"
          << "    model_class: xgboost.core.Booster\n"
          << "    model_format: ubj\n"
          << "    xgb_version: " << xgb_version << "\n"
          << "mlflow_version: 3.6.0\n"
          << "model_uuid: " << NewUuidHex() << "\n"
          << "signature:\n"
          << "  inputs: " << json(inputs.dump()).dump() << "\n"
          << "  outputs: " << json(outputs.dump()).dump() << "\n"
          << "  params: null\n"
          << "utc_time_created: '" << UtcNowText() << "'\n";
  mlmodel.close();
  std::ofstream(dir + "/requirements.txt", std::ios::trunc)
      << "mlflow==3.6.0\nxgboost==" << xgb_version << "\n";
  std::ofstream(dir + "/conda.yaml", std::ios::trunc)
      << "channels:\n- conda-forge\ndependencies:\n- python=3.11.2\n- pip\n- pip:\n"
      << "  - mlflow==3.6.0\n  - xgboost==" << xgb_version << "\nname: mlflow-env\n";
  std::ofstream(dir + "/python_env.yaml", std::ios::trunc)
      << "python: 3.11.2\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n";
  if (!mlmodel) return Internal(fmt::format("cannot write '{}/MLmodel'", dir));
  return OkStatus();
}

class TrainXgboostStepType final : public StepType {
 public:
  Status CheckConfig(const With& with) const override {
    std::set<std::string> allowed = {"data", "target", "features", "model", "holdout",
                                     "test_fraction", "num_boost_round", "n_estimators"};
    allowed.insert(XgbParamKeys().begin(), XgbParamKeys().end());
    return CheckKeys("train-xgboost", with, allowed, {"data", "target"});
  }

  std::vector<std::string> ImplicitInputs(const StepContext& ctx) const override {
    auto it = ctx.with.find("data");
    return it == ctx.with.end() ? std::vector<std::string>{} : std::vector{it->second};
  }

  Status Run(const StepContext& ctx, std::map<std::string, std::string>* values) const override {
    RETURN_IF_ERROR(CheckConfig(ctx.with));
    const With& w = ctx.with;
    std::string model_rel = w.count("model") ? w.at("model")
                            : ctx.outputs.empty() ? ""
                                                  : ctx.outputs[0];
    if (model_rel.empty()) {
      return InvalidArgument("train-xgboost needs 'with.model' or a declared output");
    }
    ASSIGN_OR_RETURN(double test_fraction, Number("train-xgboost", w, "test_fraction", 0.2));
    if (test_fraction < 0 || test_fraction >= 1) {
      return InvalidArgument("train-xgboost: test_fraction must be in [0, 1)");
    }
    ASSIGN_OR_RETURN(double rounds_d,
                     Number("train-xgboost", w, w.count("n_estimators") ? "n_estimators"
                                                                        : "num_boost_round",
                            100));
    if (rounds_d < 1 || rounds_d > 100000 || rounds_d != std::floor(rounds_d)) {
      return InvalidArgument("train-xgboost: num_boost_round must be an integer in 1..100000");
    }
    int rounds = static_cast<int>(rounds_d);
    std::string data_path = Resolve(ctx, w.at("data"));
    ASSIGN_OR_RETURN(Matrix m, LoadMatrix("train-xgboost", data_path, w.at("target"),
                                          w.count("features") ? SplitList(w.at("features"))
                                                              : std::vector<std::string>{}));
    size_t n_train = static_cast<size_t>(std::floor(m.rows * (1.0 - test_fraction)));
    if (n_train < 2) return InvalidArgument("train-xgboost: too few training rows");
    bool have_holdout = n_train < m.rows;

    ASSIGN_OR_RETURN(DMatrixPtr dtrain, MakeDMatrix(m, 0, n_train));
    DMatrixPtr dvalid;
    std::vector<DMatrixHandle> mats = {dtrain.get()};
    std::vector<const char*> names = {"train"};
    if (have_holdout) {
      ASSIGN_OR_RETURN(dvalid, MakeDMatrix(m, n_train, m.rows));
      mats.push_back(dvalid.get());
      names.push_back("holdout");
    }
    BoosterHandle raw = nullptr;
    RETURN_IF_ERROR(xgb::Check(XGBoosterCreate(mats.data(), 1, &raw), "create booster"));
    BoosterPtr booster(raw);
    std::map<std::string, std::string> params = {{"objective", "binary:logistic"},
                                                 {"tree_method", "hist"},
                                                 {"seed", "0"},
                                                 {"nthread", "2"}};
    for (const auto& [k, v] : w) {
      if (XgbParamKeys().count(k)) params[k == "learning_rate" ? "eta" : k] = v;
    }
    for (const auto& [k, v] : params) {
      RETURN_IF_ERROR(xgb::Check(XGBoosterSetParam(raw, k.c_str(), v.c_str()), k.c_str()));
    }
    std::map<std::string, double> last;
    for (int i = 0; i < rounds; ++i) {
      RETURN_IF_ERROR(xgb::Check(XGBoosterUpdateOneIter(raw, i, dtrain.get()), "update"));
      if (i + 1 == rounds) {
        const char* eval = nullptr;
        RETURN_IF_ERROR(xgb::Check(XGBoosterEvalOneIter(raw, i, mats.data(), names.data(), mats.size(),
                                                 &eval),
                            "eval"));
        last = xgb::ParseEval(eval);
      }
    }
    RETURN_IF_ERROR(WriteMlflowModel(Resolve(ctx, model_rel), raw, m.features));
    if (w.count("holdout")) {
      RETURN_IF_ERROR(WriteHoldout(data_path, Resolve(ctx, w.at("holdout")), n_train));
    }
    if (!ctx.metrics_path.empty()) {
      json metrics = json::object();
      for (const auto& [k, v] : last) {
        if (std::isfinite(v)) metrics[k] = v;
      }
      metrics["rows_train"] = n_train;
      metrics["rows_holdout"] = m.rows - n_train;
      RETURN_IF_ERROR(WriteJson(ctx.metrics_path, metrics));
    }
    std::ofstream log(ctx.log_path, std::ios::app);
    for (const auto& [k, v] : last) log << k << ": " << v << '\n';
    (*values)["rows_in"] = std::to_string(m.rows);
    (*values)["rows_train"] = std::to_string(n_train);
    (*values)["rows_holdout"] = std::to_string(m.rows - n_train);
    (*values)["features"] = std::to_string(m.features.size());
    return OkStatus();
  }
};

// ---------------------------------------------------------------------------------------------
// evaluate

class EvaluateStepType final : public StepType {
 public:
  Status CheckConfig(const With& with) const override {
    return CheckKeys("evaluate", with, {"model", "data", "target", "threshold"},
                     {"model", "data", "target"});
  }

  std::vector<std::string> ImplicitInputs(const StepContext& ctx) const override {
    std::vector<std::string> in;
    for (const char* k : {"model", "data"}) {
      if (ctx.with.count(k)) in.push_back(ctx.with.at(k));
    }
    return in;
  }

  Status Run(const StepContext& ctx, std::map<std::string, std::string>* values) const override {
    RETURN_IF_ERROR(CheckConfig(ctx.with));
    const With& w = ctx.with;
    ASSIGN_OR_RETURN(double threshold, Number("evaluate", w, "threshold", 0.5));
    ASSIGN_OR_RETURN(models::LoadedModel loaded, models::LoadModel(Resolve(ctx, w.at("model"))));
    const models::Model& model = *loaded.model;
    if (model.output_kind() != models::OutputKind::kProbability || model.output_width() > 2) {
      return InvalidArgument("evaluate: the model does not output binary class probabilities");
    }
    std::vector<std::string> features;
    for (const auto& f : model.features()) {
      if (f.kind != models::FeatureInfo::Kind::kNumeric) {
        return InvalidArgument(
            fmt::format("evaluate: categorical feature '{}' is not supported", f.name));
      }
      features.push_back(f.name);
    }
    ASSIGN_OR_RETURN(Matrix m,
                     LoadMatrix("evaluate", Resolve(ctx, w.at("data")), w.at("target"), features));
    std::vector<double> rows(m.x.begin(), m.x.end());
    std::vector<double> out(m.rows * model.output_width());
    RETURN_IF_ERROR(model.Predict(rows, m.rows, out));
    std::vector<double> y(m.y.begin(), m.y.end()), proba(m.rows), pred(m.rows);
    for (size_t r = 0; r < m.rows; ++r) {
      proba[r] = model.output_width() == 2 ? out[r * 2 + 1] : out[r];
      pred[r] = proba[r] >= threshold ? 1.0 : 0.0;
    }
    for (double v : y) {
      if (v != 0.0 && v != 1.0) {
        return InvalidArgument(
            fmt::format("evaluate: target '{}' must hold 0/1, found {}", w.at("target"), v));
      }
    }
    auto infos = monitor::BinaryMetricInfos(true);
    auto results = monitor::BinaryMetrics(y, proba, pred);
    json metrics = json::object();
    for (size_t i = 0; i < infos.size() && i < results.size(); ++i) {
      if (results[i].reason.empty() && std::isfinite(results[i].value)) {
        metrics[infos[i].name] = results[i].value;
      }
    }
    if (metrics.contains("roc_auc")) metrics["auc"] = metrics["roc_auc"];
    metrics["rows"] = m.rows;
    if (!ctx.outputs.empty()) RETURN_IF_ERROR(WriteJson(Resolve(ctx, ctx.outputs[0]), metrics));
    if (!ctx.metrics_path.empty()) RETURN_IF_ERROR(WriteJson(ctx.metrics_path, metrics));
    for (const auto& [k, v] : metrics.items()) {
      (*values)[k] = v.is_number_integer() ? std::to_string(v.get<int64_t>())
                                           : Fixed(v.get<double>());
    }
    (*values)["rows_in"] = std::to_string(m.rows);
    return OkStatus();
  }
};

}  // namespace

std::unique_ptr<StepType> NewValidateStepType() { return std::make_unique<ValidateStepType>(); }
std::unique_ptr<StepType> NewTrainXgboostStepType() {
  return std::make_unique<TrainXgboostStepType>();
}
std::unique_ptr<StepType> NewEvaluateStepType() { return std::make_unique<EvaluateStepType>(); }

}  // namespace cairn::pipeline
