# The `nslab doctor` subcommand of the command line, apart from nslab_cli only until
# lessons/CMakeLists.txt lists lessons/cli/doctor.cpp in nslab_cli (with the subcommand registered
# in lessons/cli/app.cpp); then this library and its include line go, and doctor_unit links
# nslab_cli. The host probe itself is part of `sandbox`.
add_library(nslab_doctor_cli STATIC ${PROJECT_SOURCE_DIR}/lessons/cli/doctor.cpp)
target_include_directories(nslab_doctor_cli PUBLIC ${PROJECT_SOURCE_DIR}/lessons/cli)
target_link_libraries(nslab_doctor_cli PUBLIC sandbox CLI11::CLI11 fmt::fmt)
