#include "pipeline/cache.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/files.h"
#include "common/sha256.h"

namespace fs = std::filesystem;

namespace cairn::pipeline {
namespace {

std::string Join(const std::string& base, const std::string& rel) {
  if (!rel.empty() && rel[0] == '/') return rel;
  return (fs::path(base) / rel).lexically_normal().string();
}

// Lists the regular files under a folder, relative to it, sorted.
std::vector<std::string> ListFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(fs::relative(it->path(), dir, ec).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Wall-clock nanoseconds, comparable with file mtimes.
int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

HashMemo::HashMemo(std::string memo_path) : memo_path_(std::move(memo_path)) {
  std::ifstream in(memo_path_);
  std::string line;
  while (std::getline(in, line)) {
    // sha \t inode \t size \t mtime_ns \t hashed_at_ns \t path
    std::istringstream ss(line);
    Entry e;
    std::string path;
    if (!(ss >> e.sha >> e.inode >> e.size >> e.mtime_ns >> e.hashed_at_ns)) continue;
    ss.get();
    std::getline(ss, path);
    if (e.sha.size() == 64 && !path.empty()) entries_[path] = e;
  }
}

StatusOr<std::string> HashMemo::HashFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return NotFound(fmt::format("'{}' does not exist", path));
  int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  auto it = entries_.find(path);
  if (it != entries_.end() && it->second.inode == st.st_ino && it->second.size == st.st_size &&
      it->second.mtime_ns == mtime && mtime < it->second.hashed_at_ns - kRacyWindowNs) {
    return it->second.sha;
  }
  int64_t hashed_at = NowNs();
  ASSIGN_OR_RETURN(std::string sha, Sha256File(path));
  bytes_hashed_ += st.st_size;
  entries_[path] = Entry{st.st_ino, st.st_size, mtime, hashed_at, sha};
  dirty_ = true;
  return sha;
}

StatusOr<std::string> HashMemo::Hash(const std::string& path) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return NotFound(fmt::format("'{}' does not exist", path));
  if (!fs::is_directory(status)) return HashFile(path);
  Sha256 h;
  for (const auto& rel : ListFiles(path)) {
    ASSIGN_OR_RETURN(std::string sha, HashFile(Join(path, rel)));
    h.Update(rel);
    h.Update(std::string_view("\0", 1));
    h.Update(sha);
    h.Update("\n");
  }
  return h.HexDigest();
}

void HashMemo::Record(const std::string& path, const std::string& sha) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return;
  int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  entries_[path] = Entry{st.st_ino, st.st_size, mtime, NowNs(), sha};
  dirty_ = true;
}

Status HashMemo::Save() {
  if (!dirty_) return OkStatus();
  std::string out;
  for (const auto& [path, e] : entries_) {
    out += fmt::format("{}\t{}\t{}\t{}\t{}\t{}\n", e.sha, e.inode, e.size, e.mtime_ns,
                       e.hashed_at_ns, path);
  }
  RETURN_IF_ERROR(WriteFileAtomically(memo_path_, out));
  dirty_ = false;
  return OkStatus();
}

std::string CacheKeyText(const PlannedStep& step, const std::vector<std::string>& input_hashes,
                         const std::string& cairn_version) {
  // One field per line with length-prefixed values so no two different steps can produce the
  // same text.
  std::string t = "cairn-step-cache-v1\n";
  auto field = [&t](std::string_view name, const std::string& value) {
    t += fmt::format("{} {} {}\n", name, value.size(), value);
  };
  field("version", cairn_version);
  if (step.spec && step.spec->is_builtin()) {
    field("type", step.spec->type);
    for (const auto& [k, v] : step.with) field("with." + k, v);
  } else {
    for (const auto& a : step.argv) field("argv", a);
  }
  for (size_t i = 0; i < step.inputs.size(); ++i) {
    field("input", step.inputs[i]);
    field("input.sha256", i < input_hashes.size() ? input_hashes[i] : "");
  }
  for (const auto& [k, v] : step.params) field("param." + k, v.ToText());
  for (const auto& [k, v] : step.env) field("env." + k, v);
  for (const auto& o : step.outputs) field("output", o);
  return t;
}

StatusOr<std::string> ComputeCacheKey(const PlannedStep& step, const std::string& base_dir,
                                      const std::string& cairn_version, HashMemo* memo) {
  std::vector<std::string> hashes;
  for (const auto& in : step.inputs) {
    auto h = memo->Hash(Join(base_dir, in));
    if (!h.ok()) {
      return NotFound(fmt::format("step '{}': declared input '{}' does not exist", step.name, in));
    }
    hashes.push_back(*h);
  }
  return Sha256Hex(CacheKeyText(step, hashes, cairn_version));
}

Status CheckOutputsExist(const PlannedStep& step, const std::string& base_dir) {
  for (const auto& o : step.outputs) {
    std::error_code ec;
    if (!fs::exists(Join(base_dir, o), ec)) {
      return NotFound(fmt::format("declared output '{}' is missing after the step ran", o));
    }
  }
  return OkStatus();
}

StepCache::StepCache(std::string dir) : dir_(std::move(dir)) {}

std::string StepCache::ObjectPath(const std::string& sha) const {
  return fmt::format("{}/objects/{}/{}", dir_, sha.substr(0, 2), sha);
}

std::optional<CacheEntry> StepCache::Lookup(const std::string& key) const {
  std::ifstream in(fmt::format("{}/entries/{}.json", dir_, key));
  if (!in) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  CacheEntry e;
  try {
    for (const auto& f : j.value("files", nlohmann::json::array())) {
      e.files.push_back({f.at("path").get<std::string>(), f.at("sha256").get<std::string>(),
                         f.value("executable", false)});
    }
    for (const auto& d : j.value("dirs", nlohmann::json::array())) {
      e.dirs.push_back(d.get<std::string>());
    }
    const nlohmann::json values = j.value("values", nlohmann::json::object());
    for (const auto& [k, v] : values.items()) {
      e.values[k] = v.get<std::string>();
    }
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  std::error_code ec;
  for (const auto& f : e.files) {
    if (!fs::exists(ObjectPath(f.sha), ec)) return std::nullopt;
  }
  return e;
}

Status StepCache::Restore(const CacheEntry& entry, const std::string& base_dir,
                          HashMemo* memo) const {
  std::error_code ec;
  for (const auto& d : entry.dirs) fs::create_directories(Join(base_dir, d), ec);
  for (const auto& f : entry.files) {
    std::string dest = Join(base_dir, f.path);
    auto current = memo->Hash(dest);
    if (current.ok() && *current == f.sha) continue;
    fs::create_directories(fs::path(dest).parent_path(), ec);
    std::string tmp = dest + ".cairn-restore";
    fs::copy_file(ObjectPath(f.sha), tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) return Internal(fmt::format("cannot restore '{}': {}", f.path, ec.message()));
    fs::permissions(tmp,
                    f.executable ? fs::perms(0755) : fs::perms(0644), ec);
    fs::rename(tmp, dest, ec);
    if (ec) return Internal(fmt::format("cannot restore '{}': {}", f.path, ec.message()));
    memo->Record(dest, f.sha);
  }
  return OkStatus();
}

Status StepCache::Store(const std::string& key, const PlannedStep& step,
                        const std::string& base_dir,
                        const std::map<std::string, std::string>& values, HashMemo* memo) {
  RETURN_IF_ERROR(CheckOutputsExist(step, base_dir));
  std::error_code ec;
  nlohmann::json files = nlohmann::json::array();
  nlohmann::json dirs = nlohmann::json::array();
  auto store_file = [&](const std::string& rel) -> Status {
    std::string src = Join(base_dir, rel);
    ASSIGN_OR_RETURN(std::string sha, memo->Hash(src));
    std::string obj = ObjectPath(sha);
    if (!fs::exists(obj, ec)) {
      fs::create_directories(fs::path(obj).parent_path(), ec);
      std::string tmp = obj + ".tmp";
      fs::copy_file(src, tmp, fs::copy_options::overwrite_existing, ec);
      if (ec) return Internal(fmt::format("cannot store '{}': {}", rel, ec.message()));
      fs::rename(tmp, obj, ec);
      if (ec) return Internal(fmt::format("cannot store '{}': {}", rel, ec.message()));
    }
    auto perms = fs::status(src, ec).permissions();
    bool exec = (perms & fs::perms::owner_exec) != fs::perms::none;
    files.push_back({{"path", rel}, {"sha256", sha}, {"executable", exec}});
    return OkStatus();
  };
  for (const auto& o : step.outputs) {
    std::string abs = Join(base_dir, o);
    if (fs::is_directory(abs, ec)) {
      dirs.push_back(o);
      for (const auto& rel : ListFiles(abs)) {
        RETURN_IF_ERROR(store_file((fs::path(o) / rel).lexically_normal().string()));
      }
    } else {
      RETURN_IF_ERROR(store_file(o));
    }
  }
  nlohmann::json j = {{"key", key}, {"step", step.name}, {"files", files}, {"dirs", dirs},
                      {"values", values}};
  fs::create_directories(dir_ + "/entries", ec);
  return WriteFileAtomically(fmt::format("{}/entries/{}.json", dir_, key), j.dump(1));
}

}  // namespace cairn::pipeline
