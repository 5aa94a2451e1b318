#include "serving/served_model.h"

#include <utility>

namespace cairn::serving {

StatusOr<std::shared_ptr<const ServedModel>> ServedModel::Load(const std::string& path,
                                                               std::string name,
                                                               std::string version) {
  ASSIGN_OR_RETURN(models::LoadedModel loaded, models::LoadModel(path));
  ASSIGN_OR_RETURN(InputDecoder decoder, InputDecoder::Create(*loaded.model, loaded.signature));
  auto m = std::make_shared<ServedModel>(
      ServedModel{std::move(name), std::move(version), std::move(loaded), std::move(decoder)});
  return std::shared_ptr<const ServedModel>(std::move(m));
}

}  // namespace cairn::serving
