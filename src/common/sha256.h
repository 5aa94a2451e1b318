// SHA-256 digests (OpenSSL underneath), for content addressing and artifact digests.
// Thread-safety: Sha256 objects are not shared; the free functions are reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cairn {

// Incremental hasher.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  // Finishes and returns 64 lowercase hex characters. The object must not be reused.
  std::string HexDigest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Hex digest of a byte string.
std::string Sha256Hex(std::string_view data);
// Hex digest of a file's content, read in chunks. NotFound / Internal on I/O errors.
StatusOr<std::string> Sha256File(const std::string& path);

}  // namespace cairn
