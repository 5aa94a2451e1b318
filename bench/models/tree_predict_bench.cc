// In-process tree-ensemble prediction: cairn's compiled trees against XGBoost's C API on the
// same model (binary:logistic, 100 trees, max_depth 6, 20 features, 10% missing values).
//
// The model is trained at start-up with Debian's libxgboost 1.7 and saved as JSON; cairn,
// libxgboost 1.7 and (when CAIRN_XGBOOST_WHEEL_LIB points at it) the libxgboost.so inside the
// PyPI xgboost-cpu 3.1.3 wheel all load that file. Before timing, all predictions over the
// 10k-row batch are compared and the largest difference is printed.
//
//   cmake -S . -B build-bench -G Ninja -DCAIRN_ONLY="common;models" -DCAIRN_BUILD_BENCH=ON \
//     -DCMAKE_BUILD_TYPE=Release && ninja -C build-bench tree_predict_bench
//   CAIRN_XGBOOST_WHEEL_LIB=$(python3 -c 'import xgboost,os;print(os.path.dirname(
//     xgboost.__file__)+"/lib/libxgboost.so")') build-bench/bench/models/tree_predict_bench
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <unistd.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "models/tree_model.h"
#include "models/xgboost_model.h"
#ifdef CAIRN_BENCH_WITH_SERVING
#include "serving/input_decoder.h"
#endif

namespace {

constexpr size_t kFeatures = 20;
constexpr int kTrees = 100;
constexpr size_t kBatchRows = 10000;
constexpr size_t kSingleRows = 256;  // single-row calls cycle over these rows

// The C API functions both libxgboost builds share.
struct XgbApi {
  std::string label;
  int (*create)(const DMatrixHandle[], bst_ulong, BoosterHandle*);
  int (*free)(BoosterHandle);
  int (*load)(BoosterHandle, const char*);
  int (*set_param)(BoosterHandle, const char*, const char*);
  int (*predict_dense)(BoosterHandle, const char*, const char*, DMatrixHandle,
                       const bst_ulong**, bst_ulong*, const float**);
  const char* (*last_error)();
};

XgbApi DebianApi() {
  return {"libxgboost_1.7", &XGBoosterCreate, &XGBoosterFree, &XGBoosterLoadModel,
          &XGBoosterSetParam, &XGBoosterPredictFromDense, &XGBGetLastError};
}

bool WheelApi(XgbApi* api) {
  const char* path = std::getenv("CAIRN_XGBOOST_WHEEL_LIB");
  if (path == nullptr || *path == '\0') return false;
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (h == nullptr) {
    std::fprintf(stderr, "cannot dlopen %s: %s\n", path, dlerror());
    return false;
  }
  api->label = "libxgboost_3.1.3_wheel";
  api->create = reinterpret_cast<decltype(api->create)>(dlsym(h, "XGBoosterCreate"));
  api->free = reinterpret_cast<decltype(api->free)>(dlsym(h, "XGBoosterFree"));
  api->load = reinterpret_cast<decltype(api->load)>(dlsym(h, "XGBoosterLoadModel"));
  api->set_param = reinterpret_cast<decltype(api->set_param)>(dlsym(h, "XGBoosterSetParam"));
  api->predict_dense =
      reinterpret_cast<decltype(api->predict_dense)>(dlsym(h, "XGBoosterPredictFromDense"));
  api->last_error = reinterpret_cast<decltype(api->last_error)>(dlsym(h, "XGBGetLastError"));
  return api->create && api->free && api->load && api->set_param && api->predict_dense &&
         api->last_error;
}

std::vector<float> MakeRows(size_t rows, uint32_t seed, std::vector<float>* labels) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> unit(0, 1);
  std::vector<float> x;
  x.reserve(rows * kFeatures);
  for (size_t r = 0; r < rows; ++r) {
    float score = 0;
    for (size_t c = 0; c < kFeatures; ++c) {
      const float v = normal(rng);
      score += (c % 2 ? 0.7f : -0.4f) * v * v * (c < 8 ? 1.0f : 0.2f) + (c == 3 ? v : 0.0f);
      x.push_back(unit(rng) < 0.1f ? NAN : v);
    }
    if (labels) labels->push_back(score + normal(rng) > 1.0f ? 1.0f : 0.0f);
  }
  return x;
}

std::string TrainModel(const std::string& path) {
  std::vector<float> y;
  std::vector<float> x = MakeRows(20000, 11, &y);
  DMatrixHandle dm;
  XGDMatrixCreateFromMat(x.data(), y.size(), kFeatures, NAN, &dm);
  XGDMatrixSetFloatInfo(dm, "label", y.data(), y.size());
  BoosterHandle b;
  XGBoosterCreate(&dm, 1, &b);
  XGBoosterSetParam(b, "objective", "binary:logistic");
  XGBoosterSetParam(b, "max_depth", "6");
  XGBoosterSetParam(b, "eta", "0.1");
  XGBoosterSetParam(b, "nthread", "2");
  for (int i = 0; i < kTrees; ++i) XGBoosterUpdateOneIter(b, i, dm);
  XGBoosterSaveModel(b, path.c_str());
  XGBoosterFree(b);
  XGDMatrixFree(dm);
  return path;
}

std::string ArrayInterface(const float* data, size_t rows) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "{\"data\": [%llu, true], \"shape\": [%zu, %zu], \"typestr\": \"<f4\", "
                "\"version\": 3}",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(data)), rows,
                kFeatures);
  return buf;
}

const char* kPredictConfig =
    "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
    "\"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}";

struct Reference {
  XgbApi api;
  BoosterHandle booster = nullptr;
  int threads = 1;
};

std::vector<float> RefPredict(const Reference& ref, const std::string& iface) {
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  if (ref.api.predict_dense(ref.booster, iface.c_str(), kPredictConfig, nullptr, &shape, &dim,
                            &out) != 0) {
    std::fprintf(stderr, "%s: %s\n", ref.api.label.c_str(), ref.api.last_error());
    std::exit(1);
  }
  size_t n = 1;
  for (bst_ulong i = 0; i < dim; ++i) n *= shape[i];
  return std::vector<float>(out, out + n);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("cairn_tree_bench_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string model_path = TrainModel(dir + "/model.json");

  auto loaded = cairn::models::LoadXGBoostModelFile(model_path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "cairn: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  static cairn::models::XGBoostModel model = std::move(*loaded);
  std::fprintf(stderr, "model: %zu trees, %zu nodes, %zu features\n",
               model.ensemble.num_trees(), model.ensemble.num_nodes(),
               model.ensemble.num_features());

  static std::vector<float> batch = MakeRows(kBatchRows, 99, nullptr);
  static std::vector<float> ours(kBatchRows);
  model.ensemble.PredictBatch(batch.data(), kBatchRows, ours.data(), 1);

  std::vector<XgbApi> apis = {DebianApi()};
  XgbApi wheel;
  if (WheelApi(&wheel)) apis.push_back(wheel);
  static std::vector<Reference> refs;
  for (const auto& api : apis) {
    for (int threads : {1, 2}) {
      Reference ref{api, nullptr, threads};
      api.create(nullptr, 0, &ref.booster);
      if (api.load(ref.booster, model_path.c_str()) != 0) {
        std::fprintf(stderr, "%s: %s\n", api.label.c_str(), api.last_error());
        return 1;
      }
      api.set_param(ref.booster, "nthread", std::to_string(threads).c_str());
      refs.push_back(ref);
    }
    std::vector<float> want = RefPredict(refs.back(), ArrayInterface(batch.data(), kBatchRows));
    double max_diff = 0;
    size_t identical = 0;
    for (size_t i = 0; i < kBatchRows; ++i) {
      max_diff = std::max(max_diff, std::fabs(double{want[i]} - ours[i]));
      identical += want[i] == ours[i];
    }
    std::fprintf(stderr, "cairn vs %s on %zu rows: max |diff| = %.3g, bit-identical %zu\n",
                 api.label.c_str(), kBatchRows, max_diff, identical);
  }

  static std::vector<std::string> single_ifaces;
  for (size_t r = 0; r < kSingleRows; ++r) {
    single_ifaces.push_back(ArrayInterface(batch.data() + r * kFeatures, 1));
  }

  benchmark::RegisterBenchmark("cairn/single_row", [](benchmark::State& state) {
    size_t r = 0;
    float out;
    for (auto _ : state) {
      model.ensemble.PredictRow(batch.data() + r * kFeatures, &out);
      benchmark::DoNotOptimize(out);
      r = (r + 1) % kSingleRows;
    }
    state.SetItemsProcessed(state.iterations());
  });
  for (const Reference& ref : refs) {
    if (ref.threads != 1) continue;
    benchmark::RegisterBenchmark(
        (ref.api.label + "/single_row").c_str(), [&ref](benchmark::State& state) {
          size_t r = 0;
          for (auto _ : state) {
            const bst_ulong* shape = nullptr;
            bst_ulong dim = 0;
            const float* out = nullptr;
            ref.api.predict_dense(ref.booster, single_ifaces[r].c_str(), kPredictConfig,
                                  nullptr, &shape, &dim, &out);
            benchmark::DoNotOptimize(out);
            r = (r + 1) % kSingleRows;
          }
          state.SetItemsProcessed(state.iterations());
        });
  }
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark(
        ("cairn/batch_10k/threads:" + std::to_string(threads)).c_str(),
        [threads](benchmark::State& state) {
          for (auto _ : state) {
            model.ensemble.PredictBatch(batch.data(), kBatchRows, ours.data(), threads);
            benchmark::DoNotOptimize(ours.data());
          }
          state.SetItemsProcessed(state.iterations() * kBatchRows);
        })->UseRealTime();
  }
  static const std::string batch_iface = ArrayInterface(batch.data(), kBatchRows);
  for (const Reference& ref : refs) {
    benchmark::RegisterBenchmark(
        (ref.api.label + "/batch_10k/threads:" + std::to_string(ref.threads)).c_str(),
        [&ref](benchmark::State& state) {
          for (auto _ : state) {
            const bst_ulong* shape = nullptr;
            bst_ulong dim = 0;
            const float* out = nullptr;
            ref.api.predict_dense(ref.booster, batch_iface.c_str(), kPredictConfig, nullptr,
                                  &shape, &dim, &out);
            benchmark::DoNotOptimize(out);
          }
          state.SetItemsProcessed(state.iterations() * kBatchRows);
        })->UseRealTime();
  }

#ifdef CAIRN_BENCH_WITH_SERVING
  // The in-process part of one /invocations request: decode a one-row dataframe_split body,
  // predict through the Model interface, encode {"predictions": [...]}.
  {
    auto xgb = cairn::models::LoadXGBoostModelFile(model_path);
    auto tree_model =
        cairn::models::MakeTreeModel(std::move(*xgb), cairn::models::TreeOutput::kPrediction);
    static std::shared_ptr<const cairn::models::Model> served(std::move(*tree_model));
    auto decoder = cairn::serving::InputDecoder::Create(*served, {});
    static cairn::serving::InputDecoder input_decoder = std::move(*decoder);
    static std::vector<std::string> bodies;
    for (size_t r = 0; r < kSingleRows; ++r) {
      std::string body = "{\"dataframe_split\": {\"columns\": [";
      for (size_t c = 0; c < kFeatures; ++c) {
        body += (c ? ", \"f" : "\"f") + std::to_string(c) + "\"";
      }
      body += "], \"data\": [[";
      for (size_t c = 0; c < kFeatures; ++c) {
        const float v = batch[r * kFeatures + c];
        body += (c ? ", " : "") + (std::isnan(v) ? std::string("null") : std::to_string(v));
      }
      body += "]]}}";
      bodies.push_back(body);
    }
    benchmark::RegisterBenchmark("cairn/invocations_decode_predict_encode",
                                 [](benchmark::State& state) {
      size_t r = 0;
      std::vector<double> out(1);
      for (auto _ : state) {
        auto in = input_decoder.DecodeInvocations("application/json", bodies[r]);
        if (!in.ok() || !served->Predict(in->rows, in->n_rows, out).ok()) {
          state.SkipWithError("decode or predict failed");
          break;
        }
        std::string response = cairn::serving::EncodeInvocationsResponse(
            out, 1, served->output_kind());
        benchmark::DoNotOptimize(response);
        r = (r + 1) % kSingleRows;
      }
      state.SetItemsProcessed(state.iterations());
    });
  }
#endif

  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (const Reference& ref : refs) ref.api.free(ref.booster);
  std::filesystem::remove_all(dir);
  return 0;
}
