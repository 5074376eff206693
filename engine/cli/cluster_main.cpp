// r1-cluster: the SSH launcher's commands (`r1-worker cluster …`) in a binary that links no
// LibTorch, so that a launch from a shell starts in milliseconds instead of spending a second
// loading libtorch before the first ssh (docs/RESULTS.md, "Cluster launch").
#include "engine/cli/cluster_cmd.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"r1-cluster: launch, watch, stop and resume R1 jobs on SSH nodes (docs/CLUSTER.md)"};
  app.set_version_flag("--version", std::string("r1-cluster ") + R1_VERSION);
  app.fallthrough();  // `r1-cluster status --state-dir D` as well as `r1-cluster --state-dir D status`
  r1::cli::add_cluster_subcommands(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
