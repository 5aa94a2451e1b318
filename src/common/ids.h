// Identifiers: random ids in the formats MLflow uses.
// Thread-safety: all functions are safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>

namespace cairn {

// 32 lowercase hex characters (uuid4().hex): run ids, request ids.
std::string NewUuidHex();
// A uniformly random 64-bit value from a per-thread generator seeded from the OS.
uint64_t RandomU64();

}  // namespace cairn
