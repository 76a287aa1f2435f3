// `nslab doctor`: what this host supports and which lessons will run on it, and for each one
// that will not, why and what would fix it. Run it before class on every laptop. Needs no root;
// exits 0 when every lesson can run, 1 otherwise.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>

#include "host_probe.h"
#include "lesson_needs.h"

namespace nslab::cli {

struct DoctorOptions {
  std::string color = "auto";  // auto | always | never
  std::string root = "/";      // read /proc, /sys and /lib/modules under this directory
  std::string lessons;         // the lessons folder; "" for the default
};

CLI::App* setup_doctor(CLI::App& app, DoctorOptions& options);
int run_doctor(const DoctorOptions& options);

// Colors only on a terminal, and never when NO_COLOR is set to anything but "" (no-color.org).
bool use_color(std::string_view mode, bool on_terminal, const char* no_color);

// The text `nslab doctor` prints for these facts and these lessons' needs (lines of at most 80
// columns) and its exit status.
struct DoctorReport {
  std::string text;
  int status = 0;
};
DoctorReport doctor_report(const sandbox::HostFacts& facts, const std::vector<LessonNeeds>& lessons,
                           bool color);

}  // namespace nslab::cli
