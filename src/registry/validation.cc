#include "registry/validation.h"

#include <cctype>
#include <vector>

#include "tracking/validation.h"

namespace cairn::registry {

namespace {

constexpr char kBadAliasCharacters[] =
    "Names may only contain alphanumerics, underscores (_), and dashes (-).";

std::string ExceedsMaximumLength(std::string_view what, size_t limit) {
  return "'" + std::string(what) + "' exceeds the maximum length of " + std::to_string(limit) +
         " characters";
}

// Python's `\w` is Unicode-aware; every non-ASCII byte is taken as part of a word character.
bool IsWordByte(unsigned char c) { return std::isalnum(c) || c == '_' || c >= 0x80; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// urllib.parse.unquote_plus.
std::string UnquotePlus(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 &&
               HexValue(in[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

bool IsLocalUri(const UriParts& parts) { return parts.scheme.empty() || parts.scheme == "file"; }

std::string ImproperModelUri(std::string_view uri) {
  return "Not a proper models:/ URI: " + std::string(uri) +
         ". Models URIs must be of the form 'models:/name/suffix' or 'models:/name@alias' where "
         "suffix is a version, stage, or the string 'latest' and where alias is a registered "
         "model alias. Only one of suffix or alias can be defined at a time.";
}

std::string Strip(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

UriParts SplitUri(std::string_view uri, bool allow_fragments) {
  UriParts parts;
  std::string_view rest = uri;
  size_t colon = uri.find(':');
  if (colon != std::string_view::npos && colon > 0 &&
      std::isalpha(static_cast<unsigned char>(uri[0]))) {
    bool valid = true;
    for (size_t i = 0; i < colon; ++i) {
      unsigned char c = static_cast<unsigned char>(uri[i]);
      if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') valid = false;
    }
    if (valid) {
      parts.scheme = Lower(uri.substr(0, colon));
      rest = uri.substr(colon + 1);
    }
  }
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    size_t end = rest.find_first_of(allow_fragments ? "/?#" : "/?");
    parts.netloc = std::string(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  }
  size_t end = rest.find_first_of(allow_fragments ? "?#" : "?");
  parts.path = std::string(rest.substr(0, end));
  return parts;
}

Status ValidateModelName(std::string_view name) {
  if (name.empty()) return InvalidArgument(tracking::MissingValueMessage("name"));
  return OkStatus();
}

Status ValidateNewModelName(std::string_view new_name) {
  if (new_name.empty()) return InvalidArgument(tracking::MissingValueMessage("new_name"));
  return OkStatus();
}

StatusOr<int64_t> ParseVersion(std::string_view version) {
  std::string text = Strip(version);
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  bool ok = !digits.empty() && digits.size() <= 18;
  for (char c : digits) ok = ok && std::isdigit(static_cast<unsigned char>(c));
  if (!ok) {
    return InvalidArgument("Parameter 'version' must be an integer, got '" +
                           std::string(version) + "'.");
  }
  int64_t value = std::stoll(std::string(digits));
  return negative ? -value : value;
}

Status ValidateAliasName(std::string_view alias) {
  if (alias.empty()) return InvalidArgument("Registered model alias name cannot be empty.");
  for (char c : alias) {
    if (!IsWordByte(static_cast<unsigned char>(c)) && c != '-') {
      return InvalidArgument("Invalid alias name: '" + std::string(alias) + "'. " +
                             kBadAliasCharacters);
    }
  }
  if (tracking::Utf8Length(alias) > kMaxAliasLength) {
    return InvalidArgument(ExceedsMaximumLength("Registered model alias name", kMaxAliasLength));
  }
  return OkStatus();
}

Status ValidateAliasNotReserved(std::string_view alias) {
  if (Lower(alias) == "latest") {
    return InvalidArgument("'latest' alias name (case insensitive) is reserved.");
  }
  if (alias.size() >= 2 && (alias[0] == 'v' || alias[0] == 'V')) {
    bool digits = true;
    for (char c : alias.substr(1)) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (digits) {
      return InvalidArgument("Version alias name '" + std::string(alias) + "' is reserved.");
    }
  }
  return OkStatus();
}

Status ValidateRegisteredModelTag(const Tag& tag) {
  RETURN_IF_ERROR(tracking::ValidateTagName(tag.key));
  if (tracking::Utf8Length(tag.key) > kMaxRegistryTagKeyLength) {
    return InvalidArgument(ExceedsMaximumLength("key", kMaxRegistryTagKeyLength));
  }
  if (tracking::Utf8Length(tag.value) > kMaxRegistryTagValueLength) {
    return InvalidArgument(ExceedsMaximumLength("value", kMaxRegistryTagValueLength));
  }
  return OkStatus();
}

Status ValidateModelVersionTag(const Tag& tag) { return ValidateRegisteredModelTag(tag); }

StatusOr<std::string> CanonicalStage(std::string_view stage) {
  static const char* const kStages[] = {kStageNone, kStageStaging, kStageProduction,
                                        kStageArchived};
  std::string lower = Lower(stage);
  for (const char* s : kStages) {
    if (Lower(s) == lower) return std::string(s);
  }
  return InvalidArgument("Invalid Model Version stage: " + std::string(stage) +
                         ". Value must be one of None, Staging, Production, Archived.");
}

Status ValidateModelVersionSource(std::string_view source, bool model_id_given) {
  UriParts parts = SplitUri(source);
  if (IsLocalUri(parts)) {
    std::string owner = model_id_given ? "model_id" : "run_id";
    return InvalidArgument(
        "Invalid model version source: '" + std::string(source) +
        "'. To use a local path as a model version source, the " + owner +
        " request parameter has to be specified and the local path has to be contained within "
        "the artifact directory of the run specified by the " +
        owner + ".");
  }
  // _validate_non_local_source_contains_relative_paths: decode until stable, then refuse NUL,
  // ".." segments and any path that normalisation would change.
  std::string decoded(source);
  for (int i = 0; i < 16; ++i) {
    std::string next = UnquotePlus(decoded);
    if (next == decoded) break;
    decoded = next;
  }
  std::string path = SplitUri(decoded).path;
  std::string collapsed;
  for (char c : path) {
    if (c == '/' && !collapsed.empty() && collapsed.back() == '/') continue;
    collapsed += c;
  }
  while (!collapsed.empty() && collapsed.back() == '/') collapsed.pop_back();
  bool bad = decoded.find('\0') != std::string::npos || collapsed.empty() ||
             collapsed[0] != '/';
  size_t start = 0;
  while (!bad && start <= decoded.size()) {
    size_t slash = decoded.find('/', start);
    std::string_view seg = std::string_view(decoded).substr(
        start, slash == std::string::npos ? std::string::npos : slash - start);
    if (seg == "..") bad = true;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  for (size_t i = 0; !bad && i < collapsed.size();) {
    size_t slash = collapsed.find('/', i + 1);
    std::string_view seg = std::string_view(collapsed).substr(
        i + 1, slash == std::string::npos ? std::string::npos : slash - i - 1);
    if (seg == "." || seg == "..") bad = true;
    if (slash == std::string::npos) break;
    i = slash;
  }
  if (bad) {
    return InvalidArgument(
        "Invalid model version source: '" + std::string(source) +
        "'. If supplying a source as an http, https, local file path, ftp, objectstore, or "
        "mlflow-artifacts uri, an absolute path must be provided without relative path "
        "references present. Please provide an absolute path.");
  }
  if (parts.scheme != "runs" && parts.scheme != "models" && parts.scheme != "mlflow-artifacts") {
    return InvalidArgument("Invalid model version source: '" + std::string(source) +
                           "'. The source must be in cairn's artifact store: a runs:/, "
                           "models:/ or mlflow-artifacts:/ URI.");
  }
  return OkStatus();
}

StatusOr<ModelUri> ParseModelUri(std::string_view uri) {
  UriParts parts = SplitUri(uri, /*allow_fragments=*/false);
  if (parts.scheme != "models") return InvalidArgument(ImproperModelUri(uri));
  const std::string& path = parts.path;
  if (path.size() <= 1 || path[0] != '/') return InvalidArgument(ImproperModelUri(uri));
  size_t first = path.find_first_not_of('/');
  std::string body = path.substr(first);
  std::vector<std::string> segments;
  size_t start = 0;
  while (true) {
    size_t slash = body.find('/', start);
    segments.push_back(body.substr(start, slash == std::string::npos ? std::string::npos
                                                                        : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (segments.size() > 2 || Strip(segments[0]).empty()) {
    return InvalidArgument(ImproperModelUri(uri));
  }
  ModelUri out;
  if (segments.size() == 2) {
    out.name = segments[0];
    const std::string& suffix = segments[1];
    if (Strip(suffix).empty()) return InvalidArgument(ImproperModelUri(uri));
    bool digits = true;
    for (char c : suffix) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (digits) {
      out.version = suffix;
    } else if (Lower(suffix) != "latest") {
      out.stage = suffix;
    }
    return out;
  }
  size_t at = body.rfind('@');
  if (at != std::string::npos) {
    out.name = body.substr(0, at);
    std::string alias = body.substr(at + 1);
    if (Strip(alias).empty()) return InvalidArgument(ImproperModelUri(uri));
    out.alias = alias;
    return out;
  }
  out.model_id = segments[0];
  return out;
}

}  // namespace cairn::registry
