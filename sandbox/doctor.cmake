# `nslab doctor`: the host probe (pure readers of /proc, /sys and cgroupfs under a root prefix,
# and the lesson readiness rules) and the doctor subcommand of the command line.
#
# Kept apart until the subcommand is registered in lessons/cli/app.cpp: then host_probe.cpp
# joins the `sandbox` library (linking tinysh_core for the cgroup locator) and
# lessons/cli/doctor.cpp joins `nslab_cli`, and these two targets go away.
add_library(sandbox_host_probe STATIC ${CMAKE_CURRENT_LIST_DIR}/host_probe.cpp)
target_include_directories(sandbox_host_probe PUBLIC ${CMAKE_CURRENT_LIST_DIR})
# The parser of /proc/self/cgroup and mountinfo is tinysh's own (shell/builtins/cgroup_fs.h).
target_link_libraries(sandbox_host_probe PUBLIC tinysh_core fmt::fmt)

add_library(nslab_doctor_cli STATIC ${PROJECT_SOURCE_DIR}/lessons/cli/doctor.cpp)
target_include_directories(nslab_doctor_cli PUBLIC ${PROJECT_SOURCE_DIR}/lessons/cli)
target_link_libraries(nslab_doctor_cli PUBLIC sandbox_host_probe CLI11::CLI11 fmt::fmt)
