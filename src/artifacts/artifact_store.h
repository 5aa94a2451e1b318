// The artifact store: files under one root folder (the embedded default; object storage can
// implement the same contract later), addressed by relative paths such as
// "1/0a1b.../artifacts/model/MLmodel".
//
// Every relative path comes from a request and is treated as hostile: ValidateRelativePath
// rejects what MLflow's validate_path_is_safe rejects ('#', '..' segments, absolute paths,
// backslashes) plus NUL bytes, and Resolve() additionally refuses any path whose real
// location (after following symlinks) is outside the root.
//
// Writes are atomic: a file is written to a temp file under the root and renamed into place,
// so a reader sees the old content or the new, never a half-written file.
//
// Thread-safety: all methods may be called concurrently; concurrent writers to the same path
// race benignly (the last rename wins).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn::artifacts {

struct FileEntry {
  std::string path;  // relative to the listed directory's parent as the caller asked for
  bool is_dir = false;
  int64_t file_size = 0;  // meaningless for directories
};

// OK when `path` is a safe relative artifact path ("" means the root). InvalidArgument
// ("Invalid path") otherwise.
Status ValidateRelativePath(std::string_view path);

class LocalArtifactStore {
 public:
  // `root` is created by Init() if missing.
  explicit LocalArtifactStore(std::string root);

  // Creates the root and the upload staging folder. Internal on I/O failure.
  Status Init();

  const std::string& root() const { return root_; }
  // Where streamed uploads are staged (same filesystem as the root, so rename is atomic).
  std::string staging_dir() const;

  // The absolute filesystem path for a relative artifact path, after validation and the
  // symlink containment check. The file need not exist.
  StatusOr<std::string> Resolve(std::string_view rel) const;

  // Moves `temp_file` to `rel` atomically, creating parent folders. InvalidArgument when the
  // target is an existing directory.
  Status PutFromFile(std::string_view rel, const std::string& temp_file);
  Status PutBytes(std::string_view rel, std::string_view data);

  // The filesystem path of an existing regular file. NotFound when missing; InvalidArgument
  // when it is a directory.
  StatusOr<std::string> FileForRead(std::string_view rel) const;

  // Immediate children of directory `rel`, sorted by name, with basenames only. An absent
  // directory or a file lists as empty (as MLflow does).
  StatusOr<std::vector<FileEntry>> List(std::string_view rel) const;

  // Deletes a file or a whole directory. NotFound when nothing is there.
  Status Delete(std::string_view rel);

 private:
  std::string root_;
  std::string canonical_root_;
};

// Guesses a MIME type from a file name's extension, as Python's mimetypes does for the common
// cases; "application/octet-stream" when unknown.
std::string GuessMimeType(std::string_view file_name);

}  // namespace cairn::artifacts
