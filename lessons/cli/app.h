// The nslab command line: one subcommand per file (run.cpp, explain.cpp, ...), each with an
// options struct, setup_x() and run_x(). main() only calls nslab_main().
#pragma once

namespace nslab::cli {

int nslab_main(int argc, char** argv);

}  // namespace nslab::cli
