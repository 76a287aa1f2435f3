# The lesson driver: the lesson format's parser (pure), the pseudo-terminal that talks to a box's
# tinysh, and the step runner every mode shares. nslab_cli links it for `nslab check` and
# `nslab lessons`.
add_library(lesson_driver STATIC
  driver/lesson.cpp
  driver/observe.cpp
  driver/screen.cpp
  driver/box_pty.cpp
  driver/steps.cpp
  driver/catalog.cpp
  driver/keyboard.cpp
  driver/shown_commands.cpp
  driver/live_shell.cpp
  driver/guided.cpp
  driver/guided_challenge.cpp
  driver/asciicast.cpp
  driver/terminal_out.cpp
  driver/side_by_side.cpp
  driver/probes.cpp
  driver/pager.cpp
  driver/prose.cpp
)
target_include_directories(lesson_driver PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/driver)
target_link_libraries(lesson_driver PUBLIC sandbox fmt::fmt-header-only util)
# The lessons of the source tree this nslab was built from (overridden by $NSLAB_LESSONS).
target_compile_definitions(lesson_driver PRIVATE NSLAB_LESSONS_DIR="${CMAKE_CURRENT_SOURCE_DIR}"
                                                  NSLAB_BUILD_DIR="${CMAKE_BINARY_DIR}")

target_sources(nslab_cli PRIVATE cli/lessons_cmd.cpp cli/check.cpp cli/lesson_cmd.cpp)
target_link_libraries(nslab_cli PUBLIC lesson_driver)
