# Networking for a box (--net, --veth): net.cpp (subnet choice, steps, the runner's and the box's
# part) over netlink.cpp (a thin RAII layer on libnl-route-3, Debian package libnl-route-3-dev).
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBNL_ROUTE REQUIRED IMPORTED_TARGET libnl-3.0 libnl-route-3.0)

add_library(sandbox_net STATIC
  ${CMAKE_CURRENT_LIST_DIR}/netlink.cpp
  ${CMAKE_CURRENT_LIST_DIR}/net.cpp
)
target_include_directories(sandbox_net PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sandbox_net PUBLIC sandbox fmt::fmt PRIVATE PkgConfig::LIBNL_ROUTE)
