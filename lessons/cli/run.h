// `nslab run [flags] [-c 'commands' | -- PROGRAM ARGS]`: start a box and wait for it; nslab's
// exit status is the box's (128+N when its first process dies of signal N).
#pragma once

#include <CLI/CLI.hpp>

#include "box_flags.h"

namespace nslab::cli {

struct RunOptions {
  BoxFlags box;
};

CLI::App* setup_run(CLI::App& app, RunOptions& options);
int run_run(const RunOptions& options);

}  // namespace nslab::cli
