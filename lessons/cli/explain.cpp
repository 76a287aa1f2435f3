#include "explain.h"

#include <cstdio>

#include <fmt/format.h>

#include "cgroup.h"
#include "plan.h"
#include "text_wrap.h"

namespace nslab::cli {

CLI::App* setup_explain(CLI::App& app, ExplainOptions& options) {
  CLI::App* explain = app.add_subcommand(
      "explain", "print the steps a box with these flags is made of: the system calls and why");
  add_box_flags(*explain, options.box);
  return explain;
}

Explanation explain_text(const BoxFlags& flags, const sandbox::Caller& caller) {
  auto spec = to_spec(flags, find_tinysh());
  if (!spec) return {fmt::format("nslab: {}\n", spec.error().message()), 2};
  // Cgroup limits are planned on this host's layout (v1 or v2 per controller), unless the caller
  // already brings one.
  sandbox::Caller here = caller;
  if (!here.cgroup_layout)
    if (auto found = sandbox::cgroup::find_cgroups(spec->limits, here); !found)
      return {fmt::format("nslab: {}\n", found.error().message()), 2};
  auto plan = sandbox::plan(*spec, here);
  if (plan) return {sandbox::describe(*plan), 0};
  // Refused for this user, but maybe only because it is not root: show what root would get,
  // and why this user cannot run it as it is.
  if (!caller.privileged) {
    sandbox::Caller root = here;
    root.privileged = true;
    root.cgroup_refusal.reset();
    if (auto as_root = sandbox::plan(*spec, root)) {
      return {sandbox::describe(*as_root) +
                  fmt::format("note: as uid {}, `nslab run` refuses this: {}\n", caller.uid,
                              plan.error().message()),
              0};
    }
  }
  return {fmt::format("nslab: {}\n", plan.error().message()), 2};
}

int run_explain(const ExplainOptions& options) {
  auto explanation = explain_text(options.box, sandbox::current_caller(true));
  // On a terminal, fit its width; into a pipe or file, one line a call, for grep.
  FILE* to = explanation.status ? stderr : stdout;
  int width = terminal_width(::fileno(to));
  fmt::print(to, "{}", width ? wrap_text(explanation.text, width) : explanation.text);
  return explanation.status;
}

}  // namespace nslab::cli
