# Fails when a doctest test case name holds a ';'. CTest test lists are ';'-separated, so such a
# name is cut in two at discovery, and each half then runs a filter that matches no test at all:
# a test that can never fail. Run as: cmake -DEXE=path/to/test-binary -P check_test_names.cmake
execute_process(COMMAND ${EXE} --list-test-cases OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} --list-test-cases failed (${rc})")
endif()
string(FIND "${listing}" ";" at)
if(NOT at EQUAL -1)
  string(REGEX MATCHALL "[^\n]*;[^\n]*" bad "${listing}")
  message(FATAL_ERROR "test names with ';' cannot run under ctest; use ',' or '—' instead:\n${bad}")
endif()
message(STATUS "${EXE}: no test name holds a ';'")
