#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace cairn::log {

namespace {
spdlog::logger& Logger() {
  static spdlog::logger* logger = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto* l = new spdlog::logger("cairn", sink);
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    l->set_level(spdlog::level::info);
    return l;
  }();
  return *logger;
}
}  // namespace

void SetLevel(Level level) {
  static constexpr spdlog::level::level_enum kMap[] = {spdlog::level::debug, spdlog::level::info,
                                                       spdlog::level::warn, spdlog::level::err,
                                                       spdlog::level::off};
  Logger().set_level(kMap[static_cast<int>(level)]);
}
void Debug(std::string_view m) { Logger().debug("{}", m); }
void Info(std::string_view m) { Logger().info("{}", m); }
void Warn(std::string_view m) { Logger().warn("{}", m); }
void Error(std::string_view m) { Logger().error("{}", m); }

}  // namespace cairn::log
