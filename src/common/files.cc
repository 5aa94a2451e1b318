#include "common/files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace cairn {

Status WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Internal(tmp + ": cannot write: " + std::strerror(errno));
  size_t n = std::fwrite(content.data(), 1, content.size(), f);
  bool ok = n == content.size() && std::fflush(f) == 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    return Internal(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Internal(path + ": cannot rename into place: " + std::strerror(errno));
  }
  return OkStatus();
}

}  // namespace cairn
