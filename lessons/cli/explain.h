// `nslab explain [flags]`: print the plan for those flags — numbered steps, who runs each, the
// system calls and why — without running anything. Needs no root.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "box_flags.h"
#include "spec.h"

namespace nslab::cli {

struct ExplainOptions {
  BoxFlags box;
};

CLI::App* setup_explain(CLI::App& app, ExplainOptions& options);
int run_explain(const ExplainOptions& options);

// The text `nslab explain` prints for `flags` as `caller`, and its exit status.
struct Explanation {
  std::string text;
  int status = 0;
};
Explanation explain_text(const BoxFlags& flags, const sandbox::Caller& caller);

}  // namespace nslab::cli
