// Content-addressed step cache.
//
// A step's cache key is a SHA-256 over a canonical text of: its command (or built-in type and
// config), the content hashes of its declared inputs, the params it uses with their values,
// the env it declares, its declared output paths, and the cairn version (see CacheKeyText).
// A cache entry lists the step's output files by content hash plus the values it wrote to
// $CAIRN_OUTPUTS; file contents live once each under objects/<aa>/<sha256>.
//
// File hashes are memoised by (path, inode, size, mtime): an unchanged file is never re-read.
// As in git's "racy clean" rule, a memo entry is trusted only when the file's mtime is at
// least kRacyWindowNs older than the moment it was hashed: file systems stamp mtimes with a
// coarse clock, so a same-size rewrite right after hashing could keep the same mtime.
// Layout under the cache folder: objects/, entries/<key>.json, hashes.tsv (the memo).
// Thread-safety: none; one executor owns a HashMemo and a StepCache.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "pipeline/plan.h"

namespace cairn::pipeline {

class HashMemo {
 public:
  // Loads the memo file if it exists (a corrupt or missing file just starts empty).
  explicit HashMemo(std::string memo_path);
  // SHA-256 of a file's content, or for a folder a SHA-256 over its sorted
  // "relative path\0file hash\n" lines. NotFound when the path does not exist.
  StatusOr<std::string> Hash(const std::string& path);
  // Records that `path` (as it is on disk now) has content hash `sha` (after a restore).
  void Record(const std::string& path, const std::string& sha);
  // Writes the memo back if it changed (write to a temp file, then rename).
  Status Save();
  // Bytes read for hashing since construction (memo misses only).
  int64_t bytes_hashed() const { return bytes_hashed_; }

 private:
  static constexpr int64_t kRacyWindowNs = 100'000'000;  // 100 ms

  struct Entry {
    uint64_t inode = 0;
    int64_t size = 0;
    int64_t mtime_ns = 0;
    int64_t hashed_at_ns = 0;  // wall clock when the hash was taken
    std::string sha;
  };
  StatusOr<std::string> HashFile(const std::string& path);

  std::string memo_path_;
  std::map<std::string, Entry> entries_;
  bool dirty_ = false;
  int64_t bytes_hashed_ = 0;
};

// The canonical text hashed into a cache key (exposed for tests and for `compile`).
// `input_hashes` are aligned with step.inputs.
std::string CacheKeyText(const PlannedStep& step, const std::vector<std::string>& input_hashes,
                         const std::string& cairn_version);
// Hashes the step's inputs (resolved against base_dir) and returns the hex cache key.
// NotFound naming the input when a declared input does not exist.
StatusOr<std::string> ComputeCacheKey(const PlannedStep& step, const std::string& base_dir,
                                      const std::string& cairn_version, HashMemo* memo);

struct CacheEntry {
  struct File {
    std::string path;  // relative to the spec's folder
    std::string sha;
    bool executable = false;
  };
  std::vector<File> files;
  std::vector<std::string> dirs;  // declared output folders (recreated even when empty)
  std::map<std::string, std::string> values;  // what the step wrote to $CAIRN_OUTPUTS
};

class StepCache {
 public:
  explicit StepCache(std::string dir);
  // The entry for `key` when present and all its objects exist; nullopt otherwise.
  std::optional<CacheEntry> Lookup(const std::string& key) const;
  // Puts the entry's outputs in place under base_dir. Files whose current content already
  // matches (by the memo) are left alone. Internal on I/O errors.
  Status Restore(const CacheEntry& entry, const std::string& base_dir, HashMemo* memo) const;
  // Stores the step's declared outputs (files or folders under base_dir) and values.
  // NotFound naming the output when a declared output is missing (nothing is stored).
  Status Store(const std::string& key, const PlannedStep& step, const std::string& base_dir,
               const std::map<std::string, std::string>& values, HashMemo* memo);

 private:
  std::string ObjectPath(const std::string& sha) const;
  std::string dir_;
};

// Checks that every declared output of `step` exists under base_dir; NotFound naming the
// first missing one.
Status CheckOutputsExist(const PlannedStep& step, const std::string& base_dir);

}  // namespace cairn::pipeline
