// Small file helpers shared by every module.
#pragma once

#include <string>

#include "common/status.h"

namespace cairn {

// Writes `content` to `path` atomically: into `path`.tmp, then renamed over `path`, so a
// reader sees the old file or the whole new one. Errors: kInternal on I/O failure (the
// temporary file is removed).
Status WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace cairn
