// The eight-row binary classifier fixture the performance and estimation tests share: id, one
// feature x, the score p, the label yhat and the target y, chunks of four rows.
#pragma once

#include <string>

#include "monitor/config.h"

namespace cairn::monitor::testing_fixture {

inline MonitorConfig SmallBinaryConfig() {
  MonitorConfig cfg;
  cfg.config_path = "test.yaml";
  cfg.id_columns = {"id"};
  cfg.target_column = "y";
  cfg.y_pred_proba = "p";
  cfg.y_pred = "yhat";
  cfg.features = {"x"};
  cfg.chunking.kind = ChunkingKind::kSize;
  cfg.chunking.size = 4;
  cfg.data_quality = false;
  cfg.summary_stats = false;
  return cfg;
}

inline const std::string kSmallBinaryReference =
    "id,x,p,yhat,y\n"
    "1,1,0.9,1,1\n2,2,0.2,0,0\n3,3,0.7,1,0\n4,4,0.4,0,1\n"
    "5,5,0.8,1,1\n6,6,0.3,0,0\n7,7,0.6,1,1\n8,8,0.1,0,0\n";

}  // namespace cairn::monitor::testing_fixture
