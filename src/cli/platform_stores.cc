#include "cli/platform_stores.h"

#include "store/migrations.h"

#if CAIRN_HAVE_DEPLOYMENTS
#include "serving/deployment_store.h"
#include "serving/inference_log.h"
#endif

namespace cairn::cli {

StatusOr<PlatformStores> OpenPlatformStores(const std::string& db_path) {
  ASSIGN_OR_RETURN(std::vector<store::Migration> migrations,
                   store::MergeMigrations(
                       {tracking::SqliteTrackingStore::Migrations(),
                        registry::SqliteRegistryStore::Migrations(),
#if CAIRN_HAVE_DEPLOYMENTS
                        serving::InferenceLog::Migrations(),
                        serving::DeploymentStore::Migrations(),
#endif
#ifdef CAIRN_PIPELINE_HAVE_SERVICE
                        pipeline::PipelineStore::Migrations(),
#endif
                       }));
  PlatformStores stores;
  ASSIGN_OR_RETURN(stores.pool, store::ConnectionPool::Open(db_path, migrations));
  ASSIGN_OR_RETURN(stores.tracking, tracking::SqliteTrackingStore::OnPool(*stores.pool));
  registry::RegistryStoreOptions options;
  options.tracking = stores.tracking.get();
  stores.registry = std::make_unique<registry::SqliteRegistryStore>(*stores.pool, options);
#ifdef CAIRN_PIPELINE_HAVE_SERVICE
  stores.pipelines = std::make_unique<pipeline::PipelineStore>(stores.pool.get());
#endif
  return stores;
}

}  // namespace cairn::cli
