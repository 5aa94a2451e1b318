// Multivariate drift by PCA data reconstruction error, as nannyML's
// DataReconstructionDriftCalculator: impute (mean for continuous, most frequent for
// categorical), frequency-encode categoricals, standardise, keep the components explaining
// `variance` of the reference variance, and measure ‖x − x̂‖₂ per row.
//
// Thread-safety: Calculate() is const and may run concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "monitor/table.h"

namespace cairn::monitor {

class PcaDrift {
 public:
  ~PcaDrift();
  PcaDrift(PcaDrift&&) noexcept;
  PcaDrift& operator=(PcaDrift&&) noexcept;

  // Fits on `columns` of the reference. Errors: InvalidArgument (no columns, a timestamp
  // column, fewer than 2 rows).
  static StatusOr<PcaDrift> Fit(const Table& reference, const std::vector<std::string>& columns,
                                double variance);

  struct ChunkError {
    double mean = 0;  // mean reconstruction error
    double std = 0;   // sample std (ddof 1)
  };
  // Rows [begin, end) of `table`, which must hold the fitted columns with the same types.
  ChunkError Calculate(const Table& table, int64_t begin, int64_t end) const;

  int components() const;

 private:
  struct Impl;
  explicit PcaDrift(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::monitor
