// `cairn monitor run CONFIG --out DIR`: runs the monitor engine on the files a YAML config
// names and writes DIR/results.json and DIR/report.html.
//
// Exit codes: 0 no alerts in the analysis period, 3 alerts, 1 failed, 2 usage.

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/command.h"
#include "monitor/config.h"
#include "monitor/monitor.h"

namespace cairn::cli {
namespace {

constexpr int kExitAlerts = 3;

struct MonitorRunArgs {
  std::string config;
  std::string out;
  std::string on_bad_rows;
  int threads = 0;
  bool quiet = false;
};

int RunMonitorCommand(const MonitorRunArgs& args) {
  auto start = std::chrono::steady_clock::now();
  auto cfg = monitor::LoadMonitorConfig(args.config);
  if (!cfg.ok()) {
    std::fprintf(stderr, "cairn monitor: %s\n", cfg.status().message().c_str());
    return cfg.status().code() == Code::kInvalidArgument || cfg.status().code() == Code::kNotFound
               ? kExitFailed
               : kExitFailed;
  }
  if (args.on_bad_rows == "skip")
    cfg->on_bad_rows = monitor::BadRowPolicy::kSkip;
  else if (args.on_bad_rows == "error")
    cfg->on_bad_rows = monitor::BadRowPolicy::kError;
  if (args.threads > 0) cfg->threads = args.threads;
  monitor::RunOptions options;
  if (!args.quiet) {
    options.progress = [start](std::string_view msg) {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "[%7.3fs] %.*s\n", s, static_cast<int>(msg.size()), msg.data());
    };
  }
  auto result = monitor::RunMonitor(*cfg, options);
  if (!result.ok()) {
    std::fprintf(stderr, "cairn monitor: %s\n", result.status().message().c_str());
    return kExitFailed;
  }
  for (const auto& w : result->warnings)
    std::fprintf(stderr, "cairn monitor: warning: %s\n", w.c_str());
  Status st = monitor::WriteOutputs(*result, *cfg, args.out);
  if (!st.ok()) {
    std::fprintf(stderr, "cairn monitor: %s\n", st.message().c_str());
    return kExitFailed;
  }
  if (options.progress) {
    options.progress("wrote " + args.out + "/results.json and report.html (" +
                     std::to_string(result->records.size()) + " records, " +
                     std::to_string(result->alert_count) + " alerts)");
  }
  return result->alert_count > 0 ? kExitAlerts : kExitOk;
}

void AddMonitorCommand(CLI::App& app) {
  auto* monitor =
      app.add_subcommand("monitor", "Monitor data drift and data quality (reference vs analysis)");
  monitor->require_subcommand(1);
  auto args = std::make_shared<MonitorRunArgs>();
  auto* run = monitor->add_subcommand("run",
                                      "Run the checks a YAML config describes; exit 0 = no alerts, "
                                      "3 = alerts, 1 = failed, 2 = usage");
  run->add_option("config", args->config, "YAML config file")->required();
  run->add_option("--out", args->out, "Output directory for results.json and report.html")
      ->required();
  run->add_option("--on-bad-rows", args->on_bad_rows,
                  "error (default) or skip malformed CSV rows, counting them")
      ->check(CLI::IsMember({"error", "skip"}));
  run->add_option("--threads", args->threads, "Worker threads (default: the config's, 2)")
      ->check(CLI::Range(1, 64));
  run->add_flag("--quiet", args->quiet, "No progress on stderr");
  run->callback([args] { SetExitCode(RunMonitorCommand(*args)); });
}

}  // namespace
}  // namespace cairn::cli

CAIRN_REGISTER_COMMAND(cairn::cli::AddMonitorCommand);
