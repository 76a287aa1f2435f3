# Cgroup limits for a box (--pids, --memory, --cpus): v2 and v1, decided per controller.
#
# The parsing of /proc/self/cgroup and mountinfo is tinysh's (shell/builtins/cgroup_fs.cpp, the
# same code behind the `cgroup` builtin), and sizes are shell/size.h's, so a limit reads the same
# inside the box and out. tinysh_core is linked privately for them; its compile definitions
# (fmt header-only) do not reach libsandbox's users.
add_library(sandbox_cgroup STATIC
  cgroup.cpp     # what both versions share: decision, names, removal, join, OOM count, sweep
  cgroup_v1.cpp  # one hierarchy per controller
  cgroup_v2.cpp  # the unified hierarchy: subtree_control, the no-internal-processes rule
)
target_include_directories(sandbox_cgroup PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(sandbox_cgroup PUBLIC sandbox fmt::fmt PRIVATE tinysh_core)
