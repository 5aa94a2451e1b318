// Termination-signal handling shared by long-running subcommands (server, serve).
#pragma once

namespace cairn::cli {

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts afterwards, so
// they can be received synchronously by WaitForTerminationSignal(). Call before starting
// worker threads.
void BlockTerminationSignals();
// Waits for SIGINT or SIGTERM and returns which one arrived.
int WaitForTerminationSignal();

}  // namespace cairn::cli
