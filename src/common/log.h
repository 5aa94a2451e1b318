// Process-wide logging (spdlog underneath, kept out of headers).
// Thread-safety: all functions may be called from any thread.
#pragma once

#include <string_view>

namespace cairn::log {

enum class Level { kDebug, kInfo, kWarn, kError, kOff };

// Sets the minimum level written to stderr. Default: kInfo.
void SetLevel(Level level);
void Debug(std::string_view message);
void Info(std::string_view message);
void Warn(std::string_view message);
void Error(std::string_view message);

}  // namespace cairn::log
