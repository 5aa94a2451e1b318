// A model ready to score: what src/models loaded (compiled once) plus the protocol decoder
// built from its features and signature. Shared by `cairn serve` (one model) and the
// deployments of `cairn server` (a cache of versions).
//
// Thread-safety: immutable after Load(); share it as std::shared_ptr<const ServedModel>.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "models/mlflow_model.h"
#include "serving/input_decoder.h"

namespace cairn::serving {

struct ServedModel {
  std::string name;
  std::string version;
  models::LoadedModel loaded;
  InputDecoder decoder;

  // Loads from a local path (an MLflow model directory or a bare model file).
  // Errors: those of models::LoadModel (NotFound, InvalidArgument for a corrupt file,
  // Unimplemented for an unsupported flavor or objective) and InputDecoder::Create.
  static StatusOr<std::shared_ptr<const ServedModel>> Load(const std::string& path,
                                                           std::string name,
                                                           std::string version);
};

}  // namespace cairn::serving
