// Random names for runs and logged models created without one: "<adjective>-<noun>-<NNN>",
// the shape MLflow generates (NNN is 0..999, not zero-padded).
// Thread-safety: safe to call concurrently.
#pragma once

#include <string>

namespace cairn::tracking {

std::string GenerateRunName();

}  // namespace cairn::tracking
