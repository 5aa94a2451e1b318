#include "tracking/validation.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <set>

namespace cairn::tracking {

namespace {

constexpr char kMissingKeyName[] = "A key name must be provided.";
constexpr char kBadCharacters[] =
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), "
    "colon(:) and slashes (/).";

std::string JoinPath(std::string_view base, std::string_view field) {
  if (base.empty()) return std::string(field);
  if (!field.empty() && field[0] == '[') return std::string(base) + std::string(field);
  return std::string(base) + "." + std::string(field);
}

// Python's \w on str: letters, digits, underscore, any Unicode letter. Non-ASCII bytes are
// accepted as part of a Unicode word character.
bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c >= 0x80;
}

bool ValidKeyChars(std::string_view name) {
  for (unsigned char c : name) {
    if (IsWordByte(c) || c == '/' || c == '.' || c == '-' || c == ' ' || c == ':') continue;
    return false;
  }
  return true;
}

// True when normpath(name) == name and the name is not ".", "..*" or "/*": no empty, "." or
// ".." segment and no leading or trailing slash. Allocation-free (the hot path of log-batch).
bool IsCanonicalRelativePath(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.back() == '/') return false;
  if (name.rfind("..", 0) == 0) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view seg = name.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    start = end + 1;
  }
  return true;
}

bool PathNotUnique(std::string_view name) {
  if (IsCanonicalRelativePath(name)) return false;
  std::string norm = NormPath(name);
  return norm != name || norm == "." || norm.rfind("..", 0) == 0 || norm.rfind("/", 0) == 0;
}

// Python's repr() of a str: single quotes unless it contains one and no double quote.
std::string PyRepr(std::string_view s) {
  const bool dq = s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos;
  const char q = dq ? '"' : '\'';
  std::string out(1, q);
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c == q) out += '\\';
        out += c;
    }
  }
  out += q;
  return out;
}

std::string BadPathMessage(std::string_view name) {
  return "Names may be treated as files in certain cases, and must not resolve to other names "
         "when treated as such. This name would resolve to " +
         PyRepr(NormPath(name));
}

Status ValidateKeyName(std::string_view name, std::string_view path) {
  if (!ValidKeyChars(name)) {
    return InvalidArgument(InvalidValueMessage(path, JsonQuote(name), kBadCharacters));
  }
  if (PathNotUnique(name)) {
    return InvalidArgument(InvalidValueMessage(path, JsonQuote(name), BadPathMessage(name)));
  }
  return OkStatus();
}

std::string ExceedsMaximumLength(std::string_view path, size_t limit) {
  return "'" + std::string(path) + "' exceeds the maximum length of " + std::to_string(limit) +
         " characters";
}

Status CheckLength(std::string_view entity, size_t limit, std::string_view value) {
  if (Utf8Length(value) <= limit) return OkStatus();
  return InvalidArgument(ExceedsMaximumLength(entity, limit));
}

void TruncateTo(std::string& value, size_t limit) {
  if (Utf8Length(value) > limit) value = Utf8Truncate(value, limit);
}

}  // namespace

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string Utf8Truncate(std::string_view s, size_t max_code_points) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (count == max_code_points) return std::string(s.substr(0, i));
      ++count;
    }
  }
  return std::string(s);
}

std::string NormPath(std::string_view path) {
  if (path.empty()) return ".";
  int initial_slashes = 0;
  if (path[0] == '/') {
    initial_slashes = 1;
    if (path.size() >= 2 && path[1] == '/' && (path.size() == 2 || path[2] != '/')) {
      initial_slashes = 2;
    }
  }
  std::vector<std::string_view> comps;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view comp = path.substr(i, j - i);
    if (comp.empty() || comp == ".") {
      // skip
    } else if (comp != ".." || (initial_slashes == 0 && comps.empty()) ||
               (!comps.empty() && comps.back() == "..")) {
      comps.push_back(comp);
    } else if (!comps.empty()) {
      comps.pop_back();
    }
    i = j + 1;
  }
  std::string out(initial_slashes, '/');
  for (size_t k = 0; k < comps.size(); ++k) {
    if (k) out += '/';
    out += comps[k];
  }
  return out.empty() ? "." : out;
}

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string InvalidValueMessage(std::string_view path, std::string_view json_value,
                                std::string_view message) {
  std::string out = "Invalid value " + std::string(json_value) + " for parameter '" +
                    std::string(path) + "' supplied";
  if (message.empty()) return out + ".";
  return out + ": " + std::string(message);
}

std::string MissingValueMessage(std::string_view path) {
  return "Missing value for required parameter '" + std::string(path) + "'.";
}

Status ValidateMetricName(std::string_view name, std::string_view path) {
  return ValidateKeyName(name, path);
}
Status ValidateParamName(std::string_view name, std::string_view path) {
  return ValidateKeyName(name, path);
}
Status ValidateTagName(std::string_view name, std::string_view path) {
  return ValidateKeyName(name, path);
}

Status ValidateMetric(const Metric& metric, std::string_view path) {
  RETURN_IF_ERROR(ValidateMetricName(metric.key, JoinPath(path, "name")));
  if (metric.timestamp < 0) {
    char value[64];
    auto res = std::to_chars(value, value + sizeof(value) - 1, metric.value);
    *res.ptr = '\0';
    return InvalidArgument(InvalidValueMessage(
        JoinPath(path, "timestamp"), std::to_string(metric.timestamp),
        "metric '" + metric.key + "' (value=" + value +
            "). Timestamp must be a nonnegative long (64-bit integer) "));
  }
  return CheckLength("Metric name", kMaxEntityKeyLength, metric.key);
}

Status ValidateParam(Param& param, std::string_view path) {
  RETURN_IF_ERROR(ValidateParamName(param.key, JoinPath(path, "key")));
  RETURN_IF_ERROR(CheckLength("Param key", kMaxEntityKeyLength, param.key));
  TruncateTo(param.value, kMaxParamValueLength);
  return OkStatus();
}

Status ValidateRunTag(Tag& tag, std::string_view path) {
  RETURN_IF_ERROR(ValidateTagName(tag.key, JoinPath(path, "key")));
  RETURN_IF_ERROR(CheckLength(JoinPath(path, "key"), kMaxEntityKeyLength, tag.key));
  TruncateTo(tag.value, kMaxTagValueLength);
  return OkStatus();
}

Status ValidateExperimentTag(const Tag& tag) {
  RETURN_IF_ERROR(ValidateTagName(tag.key));
  RETURN_IF_ERROR(CheckLength("key", kMaxExperimentTagKeyLength, tag.key));
  return CheckLength("value", kMaxExperimentTagValueLength, tag.value);
}

Status ValidateExperimentName(std::string_view name) {
  if (name.empty()) return InvalidArgument("Invalid experiment name: ''");
  if (Utf8Length(name) > kMaxExperimentNameLength) {
    return InvalidArgument(ExceedsMaximumLength("name", kMaxExperimentNameLength));
  }
  return OkStatus();
}

Status ValidateRunId(std::string_view run_id, std::string_view path) {
  bool ok = !run_id.empty() && run_id.size() <= 256 &&
            (std::isalnum(static_cast<unsigned char>(run_id[0])) != 0);
  for (size_t i = 1; ok && i < run_id.size(); ++i) {
    unsigned char c = run_id[i];
    ok = IsWordByte(c) || c == '-';
  }
  if (!ok) return InvalidArgument(InvalidValueMessage(path, JsonQuote(run_id)));
  return OkStatus();
}

Status ValidateBatchLimits(size_t metrics, size_t params, size_t tags) {
  auto check = [](std::string_view entity, size_t limit, size_t length) -> Status {
    if (length <= limit) return OkStatus();
    std::string e(entity);
    return InvalidArgument("A batch logging request can contain at most " + std::to_string(limit) +
                           " " + e + ". Got " + std::to_string(length) + " " + e +
                           ". Please split up " + e + " across multiple requests and try again.");
  };
  RETURN_IF_ERROR(check("metrics", kMaxMetricsPerBatch, metrics));
  RETURN_IF_ERROR(check("params", kMaxParamsTagsPerBatch, params));
  RETURN_IF_ERROR(check("tags", kMaxParamsTagsPerBatch, tags));
  return check("metrics, params, and tags", kMaxEntitiesPerBatch, metrics + params + tags);
}

Status ValidateParamKeysUnique(const std::vector<Param>& params) {
  std::set<std::string_view> seen;
  std::vector<std::string_view> dupes;
  for (const Param& p : params) {
    if (!seen.insert(p.key).second) dupes.push_back(p.key);
  }
  if (dupes.empty()) return OkStatus();
  std::string list = "[";
  for (size_t i = 0; i < dupes.size(); ++i) {
    if (i) list += ", ";
    list += "'" + std::string(dupes[i]) + "'";
  }
  list += "]";
  return InvalidArgument("Duplicate parameter keys have been submitted: " + list +
                         ". Please ensure the request contains only one param value per param "
                         "key.");
}

Status ValidateDatasetInputs(const std::vector<DatasetInput>& inputs) {
  for (const DatasetInput& in : inputs) {
    const Dataset& d = in.dataset;
    RETURN_IF_ERROR(CheckLength("name", kMaxDatasetNameSize, d.name));
    RETURN_IF_ERROR(CheckLength("digest", kMaxDatasetDigestSize, d.digest));
    RETURN_IF_ERROR(CheckLength("source", kMaxDatasetSourceSize, d.source));
    if (d.schema) RETURN_IF_ERROR(CheckLength("schema", kMaxDatasetSchemaSize, *d.schema));
    if (d.profile) RETURN_IF_ERROR(CheckLength("profile", kMaxDatasetProfileSize, *d.profile));
    for (const Tag& t : in.tags) {
      RETURN_IF_ERROR(CheckLength("key", kMaxInputTagKeySize, t.key));
      RETURN_IF_ERROR(CheckLength("value", kMaxInputTagValueSize, t.value));
    }
  }
  return OkStatus();
}

Status ValidateLoggedModelName(std::string_view name) {
  bool bad = name.empty() || name.find_first_of("/:.%\"'") != std::string_view::npos;
  if (!bad) return OkStatus();
  return InvalidArgument("Invalid model name (" + PyRepr(name) +
                         ") provided. Model name must be a non-empty string and cannot contain "
                         "the following characters: ('/', ':', '.', '%', '\"', \"'\")");
}

bool IsValidRunStatus(std::string_view s) {
  return s == "RUNNING" || s == "SCHEDULED" || s == "FINISHED" || s == "FAILED" || s == "KILLED";
}

}  // namespace cairn::tracking
