#include "http/router.h"

#include <algorithm>
#include <cctype>

namespace cairn::http {

namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  if (!path.empty() && path[0] == '/') i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

bool IsCapture(std::string_view seg) {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

bool IsRestCapture(std::string_view seg) {
  return IsCapture(seg) && seg.size() > 5 && seg.substr(seg.size() - 4) == "...}";
}

using Captures = std::vector<std::pair<std::string_view, std::string_view>>;

// Matches a pattern already split into segments against the split path. Returns the number
// of literal segments matched (for precedence), or -1 on no match; captures are views into
// the pattern (names) and the path (values).
int MatchSegments(const std::vector<std::string>& pat, std::string_view path,
                  const std::vector<std::string_view>& segs, Captures* captures) {
  int literals = 0;
  for (size_t i = 0; i < pat.size(); ++i) {
    std::string_view seg = pat[i];
    if (IsRestCapture(seg)) {
      // The rest of the path after the previous segment, possibly empty.
      if (i > segs.size()) return -1;
      size_t offset = 0;
      for (size_t k = 0; k < i && k < segs.size(); ++k) offset += segs[k].size() + 1;
      std::string_view p = path.substr(path.empty() || path[0] != '/' ? 0 : 1);
      std::string_view rest = offset <= p.size() ? p.substr(offset) : std::string_view();
      captures->emplace_back(seg.substr(1, seg.size() - 5), rest);
      return literals;
    }
    if (i >= segs.size()) return -1;
    if (IsCapture(seg)) {
      if (segs[i].empty()) return -1;
      captures->emplace_back(seg.substr(1, seg.size() - 2), segs[i]);
    } else {
      if (seg != segs[i]) return -1;
      ++literals;
    }
  }
  return pat.size() == segs.size() ? literals : -1;
}

}  // namespace

const std::string& Request::Header(std::string_view name) const {
  static const std::string kEmpty;
  auto it = headers.find(std::string(name));
  return it == headers.end() ? kEmpty : it->second;
}

std::optional<std::string> Request::QueryParam(std::string_view key) const {
  for (const auto& [k, v] : query_params)
    if (k == key) return v;
  return std::nullopt;
}

std::string Request::ContentType() const {
  std::string ct = Header("content-type");
  size_t semi = ct.find(';');
  if (semi != std::string::npos) ct.resize(semi);
  while (!ct.empty() && std::isspace(static_cast<unsigned char>(ct.back()))) ct.pop_back();
  size_t start = 0;
  while (start < ct.size() && std::isspace(static_cast<unsigned char>(ct[start]))) ++start;
  ct = ct.substr(start);
  std::transform(ct.begin(), ct.end(), ct.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ct;
}

Response Response::Json(std::string json_body, int status) {
  Response r;
  r.status = status;
  r.body = std::move(json_body);
  return r;
}

Response Response::Text(std::string text, int status) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(text);
  return r;
}

void Router::Add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  CAIRN_CHECK(!pattern.empty() && pattern[0] == '/');
  auto segs = SplitPath(pattern);
  for (size_t i = 0; i < segs.size(); ++i) {
    if (IsRestCapture(segs[i])) CAIRN_CHECK(i + 1 == segs.size());
  }
  auto route = std::make_unique<Route>();
  route->method = std::move(method);
  route->segments.assign(segs.begin(), segs.end());
  route->pattern = std::move(pattern);
  route->handler = std::move(handler);
  route->options = std::move(options);
  routes_.push_back(std::move(route));
}

RouteMatch Router::Match(std::string_view method, std::string_view path) const {
  RouteMatch best;
  int best_literals = -1;
  const auto segs = SplitPath(path);
  Captures captures, best_captures;
  for (const auto& route : routes_) {
    captures.clear();
    int literals = MatchSegments(route->segments, path, segs, &captures);
    if (literals < 0) continue;
    if (route->method != method && !(method == "HEAD" && route->method == "GET")) {
      best.path_matched_other_method = true;
      continue;
    }
    if (literals > best_literals) {
      best_literals = literals;
      best.route = route.get();
      best_captures.swap(captures);
    }
  }
  if (best.route != nullptr) {
    best.path_matched_other_method = false;
    for (const auto& [name, value] : best_captures) {
      best.path_params[std::string(name)] = std::string(value);
    }
  }
  return best;
}

}  // namespace cairn::http
