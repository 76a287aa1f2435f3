# Networking for a box.
#
# sandbox_net_unit: subnet choice, address text, link names, the runner-to-box message, the
# steps and the refusal without root. No root needed.
# sandbox_net_integration: real veth pairs between this test process (as the runner) and forked
# children in network namespaces of their own, checked from the host with ip(8) and
# /sys/class/net, and a TCP exchange both ways with tinysh. Needs root; each test says why it
# skips otherwise. Only addresses in 10.213.0.0/16 of pairs the tests made are ever used.
add_executable(sandbox_net_unit ${CMAKE_CURRENT_LIST_DIR}/net_test.cpp)
target_link_libraries(sandbox_net_unit PRIVATE sandbox doctest_main test_support)
doctest_discover_tests(sandbox_net_unit TEST_PREFIX "net: ")

add_executable(sandbox_net_integration ${CMAKE_CURRENT_LIST_DIR}/net_box_test.cpp)
target_link_libraries(sandbox_net_integration PRIVATE sandbox doctest_main test_support)
add_dependencies(sandbox_net_integration tinysh)
doctest_discover_tests(sandbox_net_integration TEST_PREFIX "net box: ")

# Their test names must survive ctest's discovery, like every other suite's.
foreach(exe sandbox_net_unit sandbox_net_integration)
  add_test(NAME "names: ${exe}" COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:${exe}>
                                        -P ${PROJECT_SOURCE_DIR}/tests/check_test_names.cmake)
endforeach()
