# doctor_unit: the host probe against fake /proc, /sys and cgroupfs trees in a temporary
# directory (no root needed), the readiness rules, the report's layout; and one real run on this
# host, cross-checked against the kernel's own files (its row checks need root and say so).
add_executable(doctor_unit ${CMAKE_CURRENT_LIST_DIR}/doctor_test.cpp)
target_link_libraries(doctor_unit PRIVATE nslab_doctor_cli doctest_main test_support)
doctest_discover_tests(doctor_unit TEST_PREFIX "doctor: ")
add_test(NAME "names: doctor_unit"
         COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:doctor_unit>
                 -P ${PROJECT_SOURCE_DIR}/tests/check_test_names.cmake)
