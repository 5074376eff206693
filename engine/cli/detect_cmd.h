#pragma once
// `r1-worker detect train|run|phantom`: the nodule detector from a shell (docs/IMAGING.md,
// "Detector"). Each subcommand runs in its CLI11 callback and ends parsing with its exit code
// (0 done, 1 the run failed or was stopped, 2 bad arguments, config, data or checkpoint), so
// main() only registers it.
#include <CLI/CLI.hpp>

namespace r1::cli {

void add_detect_command(CLI::App& app);

}  // namespace r1::cli
