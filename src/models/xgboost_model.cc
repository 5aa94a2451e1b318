#include "models/xgboost_model.h"

#include <algorithm>     // for max
#include <charconv>      // for from_chars
#include <cmath>         // for logf, isfinite
#include <fstream>       // for ifstream
#include <map>           // for map
#include <system_error>  // for errc
#include <utility>       // for move

#include "models/json_value.h"

namespace cairn::models {
namespace {

// Integers in a model file are bounded by this before any narrowing conversion.
constexpr double kMaxFileInt = 4611686018427387904.0;  // 2^62

Status FieldError(std::string_view where, std::string_view what) {
  return InvalidArgument("xgboost model: " + std::string(where) + ": " + std::string(what));
}

StatusOr<const JsonValue*> Member(const JsonValue& obj, std::string_view key,
                                  std::string_view where) {
  if (!obj.is_object()) return FieldError(where, "expected an object");
  const JsonValue* v = obj.Find(key);
  if (v == nullptr) return FieldError(where, "missing '" + std::string(key) + "'");
  return v;
}

StatusOr<int64_t> ParseIntString(const std::string& s, std::string_view where) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    return FieldError(where, "expected an integer string, got '" + s + "'");
  }
  return v;
}

// An integer that XGBoost stores as a string ("num_nodes": "11") or, in some writers, as a
// number.
StatusOr<int64_t> IntParam(const JsonValue& obj, std::string_view key, std::string_view where,
                           std::optional<int64_t> fallback = std::nullopt) {
  const JsonValue* v = obj.is_object() ? obj.Find(key) : nullptr;
  if (v == nullptr) {
    if (fallback) return *fallback;
    return FieldError(where, "missing '" + std::string(key) + "'");
  }
  const std::string path = std::string(where) + "." + std::string(key);
  if (v->is_string()) return ParseIntString(v->str(), path);
  if (v->is_integer()) return v->int_value();
  return FieldError(path, "expected an integer");
}

StatusOr<std::vector<int64_t>> IntArray(const JsonValue& v, std::string_view where) {
  std::vector<int64_t> out;
  if (v.type() == JsonValue::Type::kNumArray) {
    out.reserve(v.nums().size());
    for (double d : v.nums()) {
      if (!(d > -kMaxFileInt && d < kMaxFileInt) || d != std::trunc(d)) {
        return FieldError(where, "expected integers");
      }
      out.push_back(static_cast<int64_t>(d));
    }
    return out;
  }
  if (v.type() == JsonValue::Type::kArray) {
    // Empty, or booleans (XGBoost accepts true/false for default_left).
    for (const auto& item : v.items()) {
      if (!item.is_bool()) return FieldError(where, "expected integers");
      out.push_back(item.bool_value() ? 1 : 0);
    }
    return out;
  }
  return FieldError(where, "expected an array");
}

StatusOr<std::vector<float>> FloatArray(const JsonValue& v, std::string_view where) {
  if (!v.is_numeric_array()) return FieldError(where, "expected an array of numbers");
  std::vector<float> out;
  out.reserve(v.nums().size());
  // XGBoost keeps every real as float; float64 typed arrays are narrowed the same way.
  for (double d : v.nums()) out.push_back(static_cast<float>(d));
  return out;
}

StatusOr<std::vector<std::string>> StringArray(const JsonValue& v, std::string_view where) {
  if (v.type() == JsonValue::Type::kNumArray) return FieldError(where, "expected strings");
  if (v.type() != JsonValue::Type::kArray) return FieldError(where, "expected an array");
  std::vector<std::string> out;
  for (const auto& item : v.items()) {
    if (!item.is_string()) return FieldError(where, "expected strings");
    out.push_back(item.str());
  }
  return out;
}

StatusOr<std::vector<int64_t>> IntArrayMember(const JsonValue& obj, std::string_view key,
                                              std::string_view where, size_t expected_size) {
  const std::string path = std::string(where) + "." + std::string(key);
  ASSIGN_OR_RETURN(const JsonValue* v, Member(obj, key, where));
  ASSIGN_OR_RETURN(auto out, IntArray(*v, path));
  if (expected_size != SIZE_MAX && out.size() != expected_size) {
    return FieldError(path, "has " + std::to_string(out.size()) + " elements, expected " +
                                std::to_string(expected_size));
  }
  return out;
}

// "[5E-1]", "[3.2E-1,3.5E-1]", "5E-1" or "(5E-1)" -> floats (XGBoost's ParamArray).
StatusOr<std::vector<float>> ParseBaseScore(std::string s) {
  std::vector<float> out;
  size_t b = s.find_first_not_of(" \t\n");
  size_t e = s.find_last_not_of(" \t\n");
  if (b == std::string::npos) return FieldError("base_score", "empty");
  s = s.substr(b, e - b + 1);
  if ((s.front() == '[' && s.back() == ']') || (s.front() == '(' && s.back() == ')')) {
    s = s.substr(1, s.size() - 2);
  }
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    std::string item = s.substr(pos, comma - pos);
    size_t ib = item.find_first_not_of(" \t\n");
    size_t ie = item.find_last_not_of(" \t\n");
    if (ib == std::string::npos) return FieldError("base_score", "invalid value '" + s + "'");
    item = item.substr(ib, ie - ib + 1);
    float f = 0;
    const char* first = item.data() + (item[0] == '+' ? 1 : 0);
    auto [ptr, ec] = std::from_chars(first, item.data() + item.size(), f);
    if (ec != std::errc() || ptr != item.data() + item.size()) {
      return FieldError("base_score", "invalid value '" + item + "'");
    }
    out.push_back(f);
    pos = comma + 1;
  }
  return out;
}

struct ObjectiveInfo {
  OutputTransform transform;
  enum class Link { kIdentity, kLogit, kLog } link;
};

StatusOr<ObjectiveInfo> LookupObjective(const std::string& name) {
  using L = ObjectiveInfo::Link;
  static const std::map<std::string, ObjectiveInfo, std::less<>> kObjectives = {
      {"reg:squarederror", {OutputTransform::kIdentity, L::kIdentity}},
      {"reg:linear", {OutputTransform::kIdentity, L::kIdentity}},
      {"reg:squaredlogerror", {OutputTransform::kIdentity, L::kIdentity}},
      {"reg:pseudohubererror", {OutputTransform::kIdentity, L::kIdentity}},
      {"reg:absoluteerror", {OutputTransform::kIdentity, L::kIdentity}},
      {"reg:quantileerror", {OutputTransform::kIdentity, L::kIdentity}},
      {"rank:pairwise", {OutputTransform::kIdentity, L::kIdentity}},
      {"rank:ndcg", {OutputTransform::kIdentity, L::kIdentity}},
      {"reg:logistic", {OutputTransform::kSigmoid, L::kLogit}},
      {"binary:logistic", {OutputTransform::kSigmoid, L::kLogit}},
      {"binary:logitraw", {OutputTransform::kIdentity, L::kIdentity}},
      {"binary:hinge", {OutputTransform::kHinge, L::kIdentity}},
      {"count:poisson", {OutputTransform::kExp, L::kLog}},
      {"reg:gamma", {OutputTransform::kExp, L::kLog}},
      {"reg:tweedie", {OutputTransform::kExp, L::kLog}},
      {"multi:softprob", {OutputTransform::kSoftmax, L::kIdentity}},
      {"multi:softmax", {OutputTransform::kArgmax, L::kIdentity}},
  };
  auto it = kObjectives.find(name);
  if (it == kObjectives.end()) {
    return Unimplemented("xgboost model: objective '" + name + "' is not supported");
  }
  return it->second;
}

// XGBoost's ObjFunction::ProbToMargin, in float as XGBoost computes it.
StatusOr<float> ToMargin(float v, ObjectiveInfo::Link link, const std::string& objective) {
  switch (link) {
    case ObjectiveInfo::Link::kIdentity:
      return v;
    case ObjectiveInfo::Link::kLogit:
      if (!(v > 0.0f && v < 1.0f)) {
        return FieldError("base_score", "must be in (0,1) for " + objective);
      }
      return -logf(1.0f / v - 1.0f);
    case ObjectiveInfo::Link::kLog:
      if (!(v > 0.0f)) return FieldError("base_score", "must be > 0 for " + objective);
      return logf(v);
  }
  return v;
}

Status ParseCategoricalSplits(const JsonValue& jtree, size_t n_nodes, std::string_view where,
                              RawTree* tree) {
  ASSIGN_OR_RETURN(auto split_type, IntArrayMember(jtree, "split_type", where, n_nodes));
  ASSIGN_OR_RETURN(auto nodes, IntArrayMember(jtree, "categories_nodes", where, SIZE_MAX));
  ASSIGN_OR_RETURN(auto segments,
                   IntArrayMember(jtree, "categories_segments", where, nodes.size()));
  ASSIGN_OR_RETURN(auto sizes, IntArrayMember(jtree, "categories_sizes", where, nodes.size()));
  ASSIGN_OR_RETURN(auto categories, IntArrayMember(jtree, "categories", where, SIZE_MAX));
  std::vector<int64_t> segment_of(n_nodes, -1);
  for (size_t c = 0; c < nodes.size(); ++c) {
    if (nodes[c] < 0 || static_cast<size_t>(nodes[c]) >= n_nodes) {
      return FieldError(where, "categories_nodes has node " + std::to_string(nodes[c]) +
                                   " out of range");
    }
    if (c > 0 && nodes[c] <= nodes[c - 1]) {
      return FieldError(where, "categories_nodes is not increasing");
    }
    const int64_t begin = segments[c];
    const int64_t size = sizes[c];
    if (begin < 0 || size < 0 || static_cast<uint64_t>(begin) > categories.size() ||
        static_cast<uint64_t>(size) > categories.size() - static_cast<uint64_t>(begin)) {
      return FieldError(where, "categories segment out of range");
    }
    segment_of[nodes[c]] = static_cast<int64_t>(c);
  }
  for (size_t i = 0; i < n_nodes; ++i) {
    if (split_type[i] == 0) continue;
    if (split_type[i] != 1) {
      return FieldError(where, "split_type " + std::to_string(split_type[i]) + " is unknown");
    }
    std::vector<int64_t> set;
    // A categorical node without a segment has an empty set: every valid code goes left,
    // as in XGBoost.
    if (segment_of[i] >= 0) {
      const size_t c = static_cast<size_t>(segment_of[i]);
      set.assign(categories.begin() + segments[c], categories.begin() + segments[c] + sizes[c]);
    }
    tree->categorical.emplace_back(static_cast<int64_t>(i), std::move(set));
  }
  return OkStatus();
}

StatusOr<RawTree> ParseTree(const JsonValue& jtree, std::string_view where) {
  if (!jtree.is_object()) return FieldError(where, "expected an object");
  ASSIGN_OR_RETURN(const JsonValue* tparam, Member(jtree, "tree_param", where));
  const std::string tp_where = std::string(where) + ".tree_param";
  ASSIGN_OR_RETURN(int64_t n_nodes, IntParam(*tparam, "num_nodes", tp_where));
  ASSIGN_OR_RETURN(int64_t leaf_vector, IntParam(*tparam, "size_leaf_vector", tp_where,
                                                 int64_t{1}));
  if (leaf_vector > 1) {
    return Unimplemented("xgboost model: multi-output trees (size_leaf_vector > 1) are not "
                         "supported");
  }
  if (n_nodes <= 0 || n_nodes > (int64_t{1} << 30)) {
    return FieldError(tp_where, "num_nodes " + std::to_string(n_nodes) + " out of range");
  }
  const size_t n = static_cast<size_t>(n_nodes);
  RawTree tree;
  ASSIGN_OR_RETURN(tree.left, IntArrayMember(jtree, "left_children", where, n));
  ASSIGN_OR_RETURN(tree.right, IntArrayMember(jtree, "right_children", where, n));
  ASSIGN_OR_RETURN(tree.feature, IntArrayMember(jtree, "split_indices", where, n));
  ASSIGN_OR_RETURN(auto default_left, IntArrayMember(jtree, "default_left", where, n));
  tree.default_left.reserve(n);
  for (int64_t d : default_left) tree.default_left.push_back(d != 0 ? 1 : 0);
  ASSIGN_OR_RETURN(const JsonValue* conds, Member(jtree, "split_conditions", where));
  ASSIGN_OR_RETURN(tree.split_condition,
                   FloatArray(*conds, std::string(where) + ".split_conditions"));
  if (tree.split_condition.size() != n) {
    return FieldError(std::string(where) + ".split_conditions",
                      "has " + std::to_string(tree.split_condition.size()) +
                          " elements, expected " + std::to_string(n));
  }
  if (jtree.Find("split_type") != nullptr) {
    RETURN_IF_ERROR(ParseCategoricalSplits(jtree, n, where, &tree));
  }
  return tree;
}

Status ParseCats(const JsonValue& jcats, XGBoostModel* model) {
  const JsonValue* enc = jcats.Find("enc");
  if (enc == nullptr) return OkStatus();
  if (enc->type() != JsonValue::Type::kArray) return FieldError("cats.enc", "expected an array");
  if (enc->items().empty()) return OkStatus();
  if (enc->items().size() != static_cast<size_t>(model->num_features)) {
    return FieldError("cats.enc", "has " + std::to_string(enc->items().size()) +
                                      " features, model has " +
                                      std::to_string(model->num_features));
  }
  model->categories.assign(model->num_features, {});
  for (size_t f = 0; f < enc->items().size(); ++f) {
    const JsonValue& col = enc->items()[f];
    const std::string where = "cats.enc[" + std::to_string(f) + "]";
    const JsonValue* offsets = col.Find("offsets");
    if (offsets == nullptr) continue;  // numeric categories: codes are the values
    ASSIGN_OR_RETURN(auto offs, IntArray(*offsets, where + ".offsets"));
    ASSIGN_OR_RETURN(auto values, IntArrayMember(col, "values", where, SIZE_MAX));
    std::string chars;
    chars.reserve(values.size());
    for (int64_t c : values) {
      if (c < -128 || c > 255) return FieldError(where, "invalid character");
      chars.push_back(static_cast<char>(c));
    }
    for (size_t i = 0; i + 1 < offs.size(); ++i) {
      if (offs[i] < 0 || offs[i + 1] < offs[i] ||
          static_cast<uint64_t>(offs[i + 1]) > chars.size()) {
        return FieldError(where, "offsets out of range");
      }
      model->categories[f].push_back(chars.substr(offs[i], offs[i + 1] - offs[i]));
    }
  }
  return OkStatus();
}

Status ParseLearnerParams(const JsonValue& learner, XGBoostModel* model) {
  ASSIGN_OR_RETURN(const JsonValue* mp, Member(learner, "learner_model_param", "learner"));
  const std::string where = "learner.learner_model_param";
  ASSIGN_OR_RETURN(model->num_features, IntParam(*mp, "num_feature", where));
  ASSIGN_OR_RETURN(model->num_class, IntParam(*mp, "num_class", where));
  ASSIGN_OR_RETURN(model->num_target, IntParam(*mp, "num_target", where, int64_t{1}));
  if (model->num_features < 1 || model->num_features > (int64_t{1} << 30)) {
    return FieldError(where, "num_feature out of range");
  }
  if (model->num_class < 0 || model->num_class > (1 << 20) || model->num_target < 1 ||
      model->num_target > (1 << 20)) {
    return FieldError(where, "num_class or num_target out of range");
  }
  if (model->num_class > 1 && model->num_target > 1) {
    return Unimplemented("xgboost model: multi-target multi-class models are not supported");
  }
  ASSIGN_OR_RETURN(const JsonValue* bs, Member(*mp, "base_score", where));
  if (bs->is_string()) {
    ASSIGN_OR_RETURN(model->base_score, ParseBaseScore(bs->str()));
  } else if (bs->is_number()) {
    model->base_score = {static_cast<float>(bs->number())};
  } else {
    return FieldError(where + ".base_score", "expected a string");
  }
  ASSIGN_OR_RETURN(const JsonValue* obj, Member(learner, "objective", "learner"));
  ASSIGN_OR_RETURN(const JsonValue* name, Member(*obj, "name", "learner.objective"));
  if (!name->is_string()) return FieldError("learner.objective.name", "expected a string");
  model->objective = name->str();
  if (const JsonValue* fn = learner.Find("feature_names")) {
    ASSIGN_OR_RETURN(model->feature_names, StringArray(*fn, "learner.feature_names"));
  }
  if (const JsonValue* ft = learner.Find("feature_types")) {
    ASSIGN_OR_RETURN(model->feature_types, StringArray(*ft, "learner.feature_types"));
  }
  for (const auto* names : {&model->feature_names, &model->feature_types}) {
    if (!names->empty() && names->size() != static_cast<size_t>(model->num_features)) {
      return FieldError("learner", "feature names/types do not match num_feature");
    }
  }
  if (const JsonValue* attrs = learner.Find("attributes")) {
    if (const JsonValue* best = attrs->Find("best_iteration"); best && best->is_string()) {
      ASSIGN_OR_RETURN(int64_t b, ParseIntString(best->str(), "attributes.best_iteration"));
      model->best_iteration = b;
    }
  }
  return OkStatus();
}

// Tree offsets of each boosting round: the file's iteration_indptr (XGBoost >= 2), else
// rounds of num_parallel_tree * num_groups trees (gbtree_model.cc's MakeIndptr).
StatusOr<std::vector<int64_t>> IterationIndptr(const JsonValue& jmodel, const JsonValue& gparam,
                                               int64_t num_trees, int64_t num_groups) {
  if (const JsonValue* v = jmodel.Find("iteration_indptr")) {
    ASSIGN_OR_RETURN(auto indptr, IntArray(*v, "gradient_booster.model.iteration_indptr"));
    bool ok = !indptr.empty() && indptr.front() == 0 && indptr.back() == num_trees;
    for (size_t i = 1; ok && i < indptr.size(); ++i) ok = indptr[i] >= indptr[i - 1];
    if (!ok) {
      return FieldError("gradient_booster.model.iteration_indptr",
                        "must rise from 0 to num_trees");
    }
    return indptr;
  }
  ASSIGN_OR_RETURN(int64_t parallel, IntParam(gparam, "num_parallel_tree",
                                              "gradient_booster.model.gbtree_model_param",
                                              int64_t{1}));
  const int64_t layer = parallel * num_groups;
  if (parallel < 1 || layer < 1 || num_trees % layer != 0) {
    return FieldError("gbtree_model_param", "num_trees is not a multiple of a round's trees");
  }
  std::vector<int64_t> indptr;
  for (int64_t t = 0; t <= num_trees; t += layer) indptr.push_back(t);
  return indptr;
}

StatusOr<XGBoostModel> ParseDocument(const JsonValue& root, const XGBoostLoadOptions& options) {
  XGBoostModel model;
  if (!root.is_object()) return FieldError("document", "expected an object");
  if (const JsonValue* version = root.Find("version")) {
    ASSIGN_OR_RETURN(model.version, IntArray(*version, "version"));
  }
  ASSIGN_OR_RETURN(const JsonValue* learner, Member(root, "learner", "document"));
  RETURN_IF_ERROR(ParseLearnerParams(*learner, &model));
  ASSIGN_OR_RETURN(ObjectiveInfo objective, LookupObjective(model.objective));

  ASSIGN_OR_RETURN(const JsonValue* gb, Member(*learner, "gradient_booster", "learner"));
  ASSIGN_OR_RETURN(const JsonValue* gb_name, Member(*gb, "name", "learner.gradient_booster"));
  if (!gb_name->is_string()) return FieldError("gradient_booster.name", "expected a string");
  model.booster = gb_name->str();
  const JsonValue* gbtree = gb;
  std::vector<float> weight_drop;
  if (model.booster == "dart") {
    ASSIGN_OR_RETURN(gbtree, Member(*gb, "gbtree", "learner.gradient_booster"));
    ASSIGN_OR_RETURN(const JsonValue* wd, Member(*gb, "weight_drop", "learner.gradient_booster"));
    ASSIGN_OR_RETURN(weight_drop, FloatArray(*wd, "gradient_booster.weight_drop"));
  } else if (model.booster != "gbtree") {
    return Unimplemented("xgboost model: booster '" + model.booster +
                         "' is not supported (only gbtree and dart)");
  }
  ASSIGN_OR_RETURN(const JsonValue* jmodel, Member(*gbtree, "model", "gradient_booster"));
  const std::string mwhere = "gradient_booster.model";
  ASSIGN_OR_RETURN(const JsonValue* gparam, Member(*jmodel, "gbtree_model_param", mwhere));
  ASSIGN_OR_RETURN(int64_t num_trees, IntParam(*gparam, "num_trees", mwhere));
  ASSIGN_OR_RETURN(const JsonValue* jtrees, Member(*jmodel, "trees", mwhere));
  if (jtrees->type() != JsonValue::Type::kArray &&
      !(jtrees->is_numeric_array() && jtrees->size() == 0)) {
    return FieldError(mwhere + ".trees", "expected an array");
  }
  if (num_trees < 0 || static_cast<size_t>(num_trees) != jtrees->items().size()) {
    return FieldError(mwhere, "num_trees does not match the trees array");
  }
  ASSIGN_OR_RETURN(auto tree_info,
                   IntArrayMember(*jmodel, "tree_info", mwhere, static_cast<size_t>(num_trees)));
  if (model.booster == "dart" && weight_drop.size() != static_cast<size_t>(num_trees)) {
    return FieldError("gradient_booster.weight_drop", "length differs from num_trees");
  }
  if (const JsonValue* cats = jmodel->Find("cats")) RETURN_IF_ERROR(ParseCats(*cats, &model));

  EnsembleSpec spec;
  spec.num_features = model.num_features;
  spec.num_groups = std::max<int64_t>({model.num_target, model.num_class, 1});
  spec.transform = objective.transform;
  spec.dart = model.booster == "dart";
  if (model.base_score.size() == 1 && spec.num_groups > 1) {
    model.base_score.resize(static_cast<size_t>(spec.num_groups), model.base_score[0]);
  }
  if (model.base_score.size() != static_cast<size_t>(spec.num_groups)) {
    return FieldError("base_score", "has " + std::to_string(model.base_score.size()) +
                                        " values for " + std::to_string(spec.num_groups) +
                                        " outputs");
  }
  for (float b : model.base_score) {
    ASSIGN_OR_RETURN(float margin, ToMargin(b, objective.link, model.objective));
    spec.base_margin.push_back(margin);
  }

  // Trees go where their "id" says (XGBoost's trees.at(id)).
  spec.trees.resize(static_cast<size_t>(num_trees));
  std::vector<bool> seen(static_cast<size_t>(num_trees), false);
  for (size_t i = 0; i < jtrees->items().size(); ++i) {
    const std::string where = "trees[" + std::to_string(i) + "]";
    const JsonValue& jtree = jtrees->items()[i];
    ASSIGN_OR_RETURN(int64_t id, IntParam(jtree, "id", where, static_cast<int64_t>(i)));
    if (id < 0 || id >= num_trees || seen[id]) {
      return FieldError(where, "tree id " + std::to_string(id) + " out of range or repeated");
    }
    seen[id] = true;
    ASSIGN_OR_RETURN(spec.trees[id], ParseTree(jtree, where));
  }
  for (size_t t = 0; t < spec.trees.size(); ++t) {
    spec.trees[t].group = tree_info[t];
    if (!weight_drop.empty()) spec.trees[t].weight = weight_drop[t];
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> indptr,
                   IterationIndptr(*jmodel, *gparam, num_trees, spec.num_groups));
  model.boosted_rounds = static_cast<int64_t>(indptr.size()) - 1;
  int64_t rounds = options.iteration_end;
  if (options.use_best_iteration && model.best_iteration) rounds = *model.best_iteration + 1;
  if (rounds < 0 || rounds > model.boosted_rounds) {
    return FieldError("iteration range", "asks for " + std::to_string(rounds) +
                                             " rounds but the model has " +
                                             std::to_string(model.boosted_rounds));
  }
  model.rounds_used = rounds == 0 ? model.boosted_rounds : rounds;
  spec.trees.resize(static_cast<size_t>(indptr[model.rounds_used]));
  ASSIGN_OR_RETURN(model.ensemble, CompileEnsemble(std::move(spec)));
  return model;
}

}  // namespace

StatusOr<XGBoostModel> ParseXGBoostModel(std::string_view bytes,
                                         const XGBoostLoadOptions& options) {
  if (bytes.empty()) return InvalidArgument("xgboost model: empty file");
  StatusOr<JsonValue> doc = LooksLikeUbjson(bytes)
                                ? ParseUbjson(bytes)
                                : ParseJsonText(bytes, NumberPrecision::kFloat32);
  if (!doc.ok()) {
    const char first = bytes.find_first_not_of(" \t\r\n") == std::string_view::npos
                           ? '\0'
                           : bytes[bytes.find_first_not_of(" \t\r\n")];
    if (first != '{') {
      return Unimplemented(
          "xgboost model: not a JSON or UBJSON model (the legacy binary format is not "
          "supported; re-save the model as .json or .ubj)");
    }
    return InvalidArgument("xgboost model: " + doc.status().message());
  }
  return ParseDocument(*doc, options);
}

StatusOr<std::string> ReadModelFile(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open model file '" + path + "'");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return Internal("cannot read model file '" + path + "'");
  if (static_cast<uint64_t>(size) > max_bytes) {
    return ResourceExhausted("model file '" + path + "' is larger than " +
                             std::to_string(max_bytes) + " bytes");
  }
  in.seekg(0, std::ios::beg);
  std::string bytes(static_cast<size_t>(size), '\0');
  if (size > 0 && !in.read(bytes.data(), size)) {
    return Internal("cannot read model file '" + path + "'");
  }
  return bytes;
}

StatusOr<XGBoostModel> LoadXGBoostModelFile(const std::string& path,
                                            const XGBoostLoadOptions& options) {
  ASSIGN_OR_RETURN(std::string bytes, ReadModelFile(path));
  StatusOr<XGBoostModel> model = ParseXGBoostModel(bytes, options);
  if (!model.ok()) {
    return Status(model.status().code(), model.status().message() + " (file '" + path + "')");
  }
  return model;
}

}  // namespace cairn::models
