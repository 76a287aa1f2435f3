# Cgroup limits for a box.
#
# sandbox_cgroup_unit: flag values, v1/v2 per controller on fake cgroupfs trees (hybrid, pure v2,
# pure v1, nested own cgroup, ".."), the writes, names, the sweep's verdicts, explain. No root.
# sandbox_cgroup_integration: real cgroups made by the test process as the runner, with tinysh's
# spawn, hog and burn in a forked child; checked through cgroupfs and the kernel's counters. Needs
# root; each test says why it skips otherwise. Only cgroups named nslab-box-<pid> are made.
add_executable(sandbox_cgroup_unit ${CMAKE_CURRENT_LIST_DIR}/cgroup_test.cpp)
target_link_libraries(sandbox_cgroup_unit PRIVATE sandbox doctest_main test_support)
doctest_discover_tests(sandbox_cgroup_unit TEST_PREFIX "cgroup: ")

add_executable(sandbox_cgroup_integration ${CMAKE_CURRENT_LIST_DIR}/cgroup_box_test.cpp)
target_link_libraries(sandbox_cgroup_integration PRIVATE sandbox doctest_main test_support)
add_dependencies(sandbox_cgroup_integration tinysh)
doctest_discover_tests(sandbox_cgroup_integration TEST_PREFIX "cgroup box: ")

# Their test names must survive ctest's discovery, like every other suite's.
foreach(exe sandbox_cgroup_unit sandbox_cgroup_integration)
  add_test(NAME "names: ${exe}" COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:${exe}>
                                        -P ${PROJECT_SOURCE_DIR}/tests/check_test_names.cmake)
endforeach()
