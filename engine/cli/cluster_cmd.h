#pragma once
// `r1-worker cluster probe|trust|launch|status|attach|stop|resume|profile|ssh-hosts`, the same
// as `r1-cluster probe|…`: the SSH launcher from a shell (docs/CLUSTER.md). Each subcommand runs
// in its CLI11 callback and ends parsing with its exit code, so main() only registers it.
#include <CLI/CLI.hpp>

#include <map>
#include <string>

namespace r1::cli {

// Exit codes of `r1-worker cluster ...` (documented in docs/CLUSTER.md).
enum ClusterExit : int {
  kExitOk = 0,          // done; a followed job completed; a stop was verified
  kExitJobFailed = 1,   // the job failed (a rank or a node), or was found failed
  kExitUsage = 2,       // bad arguments, profile, hostfile, experiment or job record
  kExitNode = 3,        // a node is unreachable, refused ssh, or its host key is not trusted
  kExitStopped = 4,     // the followed job was stopped
  kExitDetached = 130,  // interrupted while following: the job keeps running
};

void add_cluster_command(CLI::App& app);
// The same subcommands directly on `app` (r1-cluster: the launcher without LibTorch).
void add_cluster_subcommands(CLI::App& app);

// `info --versions`: one "key value" line each, r1-worker's version first.
void print_versions(const std::map<std::string, std::string>& more);

}  // namespace r1::cli
