#include "pipeline/step_types.h"

#include <fmt/format.h>
#include <glob.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace cairn::pipeline {

void StepTypeRegistry::Register(const std::string& name, std::unique_ptr<StepType> type) {
  types_[name] = std::shared_ptr<const StepType>(std::move(type));
}

const StepType* StepTypeRegistry::Find(const std::string& name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : it->second.get();
}

std::vector<std::string> StepTypeRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [k, v] : types_) names.push_back(k);
  return names;
}

StepTypeRegistry StepTypeRegistry::WithBuiltins() {
  StepTypeRegistry r;
  r.Register("ingest", NewIngestStepType());
  return r;
}

Status CheckStepTypes(const PipelineSpec& spec, const StepTypeRegistry& registry) {
  for (const auto& s : spec.steps) {
    if (!s.is_builtin()) continue;
    std::string where = s.mark.line ? fmt::format("{}:{}:{}: ", spec.source_path, s.mark.line,
                                                  s.mark.column)
                                    : spec.source_path + ": ";
    const StepType* t = registry.Find(s.type);
    if (!t) {
      std::string known;
      for (const auto& n : registry.Names()) known += (known.empty() ? "" : ", ") + n;
      return InvalidArgument(fmt::format("{}step '{}': unknown step type '{}' (this build has: {})",
                                         where, s.name, s.type, known));
    }
    Status st = t->CheckConfig(s.with);
    if (!st.ok()) {
      return InvalidArgument(fmt::format("{}step '{}': {}", where, s.name, st.message()));
    }
  }
  return OkStatus();
}

namespace {

// Splits one CSV record (RFC 4180 quoting; no embedded newlines) into its field count.
size_t CountFields(const std::string& line) {
  size_t n = 1;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) ++n;
  }
  return n;
}

std::vector<std::string> SplitHeader(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

class IngestStepType final : public StepType {
 public:
  Status CheckConfig(const std::map<std::string, std::string>& with) const override {
    for (const auto& [k, v] : with) {
      if (k != "path" && k != "columns") {
        return InvalidArgument(fmt::format("ingest: unknown config key '{}' (path, columns)", k));
      }
    }
    if (!with.count("path")) return InvalidArgument("ingest needs 'with.path'");
    return OkStatus();
  }

  std::vector<std::string> ImplicitInputs(const StepContext& ctx) const override {
    return Matches(ctx);
  }

  Status Run(const StepContext& ctx, std::map<std::string, std::string>* values) const override {
    RETURN_IF_ERROR(CheckConfig(ctx.with));
    if (ctx.outputs.empty()) return InvalidArgument("ingest needs one declared output");
    std::vector<std::string> files = Matches(ctx);
    if (files.empty()) {
      return NotFound(fmt::format("ingest: no file matches '{}'", ctx.with.at("path")));
    }

    std::string out_path = ctx.base_dir + "/" + ctx.outputs[0];
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(out_path).parent_path(), ec);
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    if (!out) return Internal(fmt::format("ingest: cannot write '{}'", out_path));
    std::string header;
    int64_t rows = 0;
    for (const auto& f : files) {
      ASSIGN_OR_RETURN(int64_t n, CopyRows(f, &header, out));
      rows += n;
    }
    auto cols = SplitHeader(header);
    if (ctx.with.count("columns")) {
      std::set<std::string> have(cols.begin(), cols.end());
      std::stringstream ss(ctx.with.at("columns"));
      std::string c;
      while (std::getline(ss, c, ',')) {
        if (!c.empty() && !have.count(c)) {
          return InvalidArgument(fmt::format("ingest: required column '{}' is missing", c));
        }
      }
    }
    out.close();
    if (!out) return Internal(fmt::format("ingest: cannot write '{}'", out_path));
    (*values)["rows"] = std::to_string(rows);
    (*values)["files"] = std::to_string(files.size());
    (*values)["columns"] = std::to_string(cols.size());
    return OkStatus();
  }

 private:
  // The files `with.path` matches, sorted (absolute when the pattern is).
  static std::vector<std::string> Matches(const StepContext& ctx) {
    auto it = ctx.with.find("path");
    if (it == ctx.with.end() || it->second.empty()) return {};
    std::string pattern = it->second;
    if (pattern[0] != '/') pattern = ctx.base_dir + "/" + pattern;
    glob_t g{};
    int rc = glob(pattern.c_str(), 0, nullptr, &g);
    std::vector<std::string> files;
    if (rc == 0) files.assign(g.gl_pathv, g.gl_pathv + g.gl_pathc);
    globfree(&g);
    return files;
  }

  // Appends the data rows of one file (gzip or plain) to `out`; the first file's header is
  // written and remembered, later files must repeat it. Returns the data row count.
  static StatusOr<int64_t> CopyRows(const std::string& path, std::string* header,
                                    std::ofstream& out) {
    gzFile in = gzopen(path.c_str(), "rb");
    if (!in) return NotFound(fmt::format("ingest: cannot read '{}'", path));
    std::string line, pending;
    int64_t rows = 0, line_no = 0;
    size_t fields = 0;
    char buf[1 << 16];
    Status st = OkStatus();
    auto handle = [&](std::string& l) -> Status {
      if (!l.empty() && l.back() == '\r') l.pop_back();
      ++line_no;
      if (line_no == 1) {
        if (header->empty()) {
          *header = l;
          out << l << '\n';
        } else if (*header != l) {
          return InvalidArgument(fmt::format("ingest: '{}' has a different header", path));
        }
        fields = CountFields(l);
        return OkStatus();
      }
      if (l.empty()) return OkStatus();
      if (CountFields(l) != fields) {
        return InvalidArgument(fmt::format("ingest: '{}' line {}: {} fields, header has {}", path,
                                           line_no, CountFields(l), fields));
      }
      out << l << '\n';
      ++rows;
      return OkStatus();
    };
    int n;
    while (st.ok() && (n = gzread(in, buf, sizeof buf)) > 0) {
      for (int i = 0; i < n && st.ok(); ++i) {
        if (buf[i] == '\n') {
          st = handle(pending);
          pending.clear();
        } else {
          pending += buf[i];
        }
      }
    }
    if (st.ok() && !pending.empty()) st = handle(pending);
    int err = 0;
    const char* msg = gzerror(in, &err);
    gzclose(in);
    if (!st.ok()) return st;
    if (err < 0) return InvalidArgument(fmt::format("ingest: cannot read '{}': {}", path, msg));
    if (line_no == 0) return InvalidArgument(fmt::format("ingest: '{}' is empty", path));
    return rows;
  }
};

}  // namespace

std::unique_ptr<StepType> NewIngestStepType() { return std::make_unique<IngestStepType>(); }

}  // namespace cairn::pipeline
