#include "artifacts/artifact_store.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "common/ids.h"

namespace cairn::artifacts {

namespace fs = std::filesystem;

namespace {

Status InvalidPath() { return InvalidArgument("Invalid path"); }

bool IsWithin(const fs::path& child, const fs::path& root) {
  auto r = root.begin(), c = child.begin();
  for (; r != root.end(); ++r, ++c) {
    if (c == child.end() || *r != *c) return false;
  }
  return true;
}

}  // namespace

Status ValidateRelativePath(std::string_view path) {
  if (path.find('#') != std::string_view::npos) return InvalidPath();
  if (path.find('\\') != std::string_view::npos) return InvalidPath();
  if (path.find('\0') != std::string_view::npos) return InvalidPath();
  if (!path.empty() && path[0] == '/') return InvalidPath();
  if (path.size() >= 2 && path[1] == ':') return InvalidPath();  // a Windows drive
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (path.substr(i, j - i) == "..") return InvalidPath();
    i = j + 1;
  }
  return OkStatus();
}

LocalArtifactStore::LocalArtifactStore(std::string root) : root_(std::move(root)) {}

std::string LocalArtifactStore::staging_dir() const { return root_ + "/.staging"; }

Status LocalArtifactStore::Init() {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) return Internal("cannot create artifact root " + root_ + ": " + ec.message());
  fs::create_directories(staging_dir(), ec);
  if (ec) return Internal("cannot create " + staging_dir() + ": " + ec.message());
  canonical_root_ = fs::canonical(root_, ec).string();
  if (ec) return Internal("cannot resolve artifact root " + root_ + ": " + ec.message());
  return OkStatus();
}

StatusOr<std::string> LocalArtifactStore::Resolve(std::string_view rel) const {
  RETURN_IF_ERROR(ValidateRelativePath(rel));
  // The staging folder is the server's own.
  if (rel == ".staging" || rel.rfind(".staging/", 0) == 0) return InvalidPath();
  fs::path root(canonical_root_);
  fs::path target = root / fs::path(std::string(rel));
  std::error_code ec;
  // weakly_canonical follows every symlink that exists along the path, so a link that points
  // outside the root is caught here.
  fs::path real = fs::weakly_canonical(target, ec);
  if (ec) return InvalidPath();
  if (!IsWithin(real, root)) return InvalidPath();
  return target.lexically_normal().string();
}

Status LocalArtifactStore::PutFromFile(std::string_view rel, const std::string& temp_file) {
  ASSIGN_OR_RETURN(std::string dest, Resolve(rel));
  if (rel.empty() || rel.back() == '/') return InvalidArgument("artifact path names a directory");
  std::error_code ec;
  if (fs::is_directory(dest, ec)) return InvalidArgument("artifact path is a directory: " +
                                                          std::string(rel));
  fs::create_directories(fs::path(dest).parent_path(), ec);
  if (ec) return InvalidArgument("cannot create the folder for " + std::string(rel) + ": " +
                                 ec.message());
  // Re-check containment now that parents exist (a concurrent symlink could have appeared).
  ASSIGN_OR_RETURN(dest, Resolve(rel));
  fs::rename(temp_file, dest, ec);
  if (ec) return Internal("cannot store artifact " + std::string(rel) + ": " + ec.message());
  return OkStatus();
}

Status LocalArtifactStore::PutBytes(std::string_view rel, std::string_view data) {
  std::string temp = staging_dir() + "/put-" + NewUuidHex();
  {
    std::ofstream out(temp, std::ios::binary);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) return Internal("cannot write staging file " + temp);
  }
  Status st = PutFromFile(rel, temp);
  if (!st.ok()) {
    std::error_code ec;
    fs::remove(temp, ec);
  }
  return st;
}

StatusOr<std::string> LocalArtifactStore::FileForRead(std::string_view rel) const {
  ASSIGN_OR_RETURN(std::string path, Resolve(rel));
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return NotFound("artifact not found: " + std::string(rel));
  if (fs::is_directory(st)) return InvalidArgument("artifact is a directory: " + std::string(rel));
  return path;
}

StatusOr<std::vector<FileEntry>> LocalArtifactStore::List(std::string_view rel) const {
  ASSIGN_OR_RETURN(std::string path, Resolve(rel));
  std::vector<FileEntry> out;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return out;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    std::string name = entry.path().filename().string();
    if (rel.empty() && name == ".staging") continue;
    FileEntry fe;
    fe.path = name;
    std::error_code ec2;
    fe.is_dir = entry.is_directory(ec2);
    if (!fe.is_dir) fe.file_size = static_cast<int64_t>(entry.file_size(ec2));
    out.push_back(std::move(fe));
  }
  if (ec) return Internal("cannot list " + std::string(rel) + ": " + ec.message());
  std::sort(out.begin(), out.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
  return out;
}

Status LocalArtifactStore::Delete(std::string_view rel) {
  if (rel.empty()) return InvalidArgument("refusing to delete the artifact root");
  ASSIGN_OR_RETURN(std::string path, Resolve(rel));
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) {
    return NotFound("artifact not found: " + std::string(rel));
  }
  fs::remove_all(path, ec);
  if (ec) return Internal("cannot delete " + std::string(rel) + ": " + ec.message());
  return OkStatus();
}

std::string GuessMimeType(std::string_view file_name) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".txt", "text/plain"},        {".log", "text/plain"},
      {".json", "application/json"}, {".yaml", "application/x-yaml"},
      {".yml", "application/x-yaml"}, {".csv", "text/csv"},
      {".html", "text/html"},        {".htm", "text/html"},
      {".png", "image/png"},         {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},       {".gif", "image/gif"},
      {".svg", "image/svg+xml"},     {".pdf", "application/pdf"},
      {".py", "text/x-python"},      {".md", "text/markdown"},
      {".gz", "application/gzip"},   {".zip", "application/zip"},
      {".tar", "application/x-tar"}, {".pkl", "application/octet-stream"},
      {".xml", "application/xml"},   {".js", "text/javascript"},
      {".css", "text/css"},
  };
  size_t dot = file_name.rfind('.');
  if (dot != std::string_view::npos) {
    std::string ext(file_name.substr(dot));
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& [e, t] : kTypes)
      if (ext == e) return t;
  }
  return "application/octet-stream";
}

}  // namespace cairn::artifacts
