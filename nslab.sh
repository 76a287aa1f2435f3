#!/usr/bin/env bash
# The README's two commands, on a fresh Debian 12 / Ubuntu 22.04+ machine:
#   ./nslab.sh         install what is missing, build, and start lesson 1
#   ./nslab.sh test    install what is missing, build, and run every test
# Packages are installed with apt-get (through sudo when not root, and only when one is
# missing); nothing else is downloaded. The lessons themselves start as you, without sudo.
set -euo pipefail
cd "$(dirname "$0")"

# What the build and the tests need, as Debian package names.
packages=(
  g++ cmake make pkg-config            # the compiler and the build
  libfmt-dev libcli11-dev doctest-dev  # the libraries nslab is written with
  libnl-route-3-dev                    # netlink, for the network lesson
  util-linux iproute2 procps           # unshare, ip, ps: the tests check the kernel with them
  uidmap                               # newuidmap, newgidmap: lesson 4 maps your /etc/subuid range
)
# Only for the tests: the lessons on Debian's own kernels under qemu (tests/kernels) need the
# emulator, the guest's init and tools, and what unpacks the kernel's modules; the guest also
# gets this machine's ps and ss (procps, iproute2), nsenter and setpriv (util-linux) and dash.
# The Debian package is tested in a fresh Debian root that mmdebstrap makes (tests/package).
if [ "${1:-start}" = test ]; then
  packages+=(clang)      # libFuzzer, for the parsers' fuzz tests
  packages+=(lld)        # links nslab with the code that starts a box side by side (bench/)
  packages+=(asciinema)  # plays back what nslab lesson --record wrote (the recording tests)
  packages+=(qemu-system-x86 busybox-static kmod xz-utils zstd cpio dash mmdebstrap)
fi

# Not Debian or Ubuntu: no apt-get to install with. Say what to install, by each family's names.
if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
  missing_tools=()
  for tool in g++ cmake make pkg-config; do command -v "$tool" >/dev/null || missing_tools+=("$tool"); done
  if ((${#missing_tools[@]})) || ! [ -e /usr/include/CLI/CLI.hpp ] || ! [ -e /usr/include/fmt/format.h ]; then
    cat >&2 <<'HELP'
nslab: this machine has no apt-get, so ./nslab.sh cannot install what the build needs. Install:
  Fedora:
    sudo dnf install gcc-c++ cmake make pkgconf-pkg-config fmt-devel cli11-devel doctest-devel libnl3-devel glibc-static libstdc++-static shadow-utils iproute procps-ng
  Arch:
    sudo pacman -S --needed base-devel cmake fmt cli11 doctest libnl shadow iproute2 procps-ng
then run ./nslab.sh again. Or skip the build: the nslab file from a machine that built it
(strip build/bin/nslab) carries tinysh and the lessons, and runs here as it is.
HELP
    exit 1
  fi
  [ "${1:-start}" = test ] && echo "nslab: no apt-get: the tests' tools (qemu, busybox, mmdebstrap) are not installed" >&2
fi

missing=()
command -v dpkg-query >/dev/null || packages=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# libFuzzer's runtime is a package of its own on Debian 12 (part of clang on older Ubuntu).
if [ "${1:-start}" = test ] && apt-cache show libclang-rt-dev >/dev/null 2>&1 &&
   ! dpkg-query -W -f='${Status}' libclang-rt-dev 2>/dev/null | grep -q "install ok installed"; then
  missing+=(libclang-rt-dev)
fi
if ((${#missing[@]})); then
  echo "nslab: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

jobs=$(nproc 2>/dev/null || echo 2)

build_main() {  # FUZZ_BUILD_DIR [TARGETS] [BUILD_TYPE]
  cmake --preset default -DNSLAB_FUZZ_BUILD_DIR="${1:-}" ${3:+-DCMAKE_BUILD_TYPE=$3} >/dev/null
  cmake --build --preset default -j"$jobs" ${2:+--target $2}
}

# The first build for a lesson skips debug info and most optimisation: it is what takes the
# compiler longest, and a lesson does not need it (about half the time on 2 cores). A build
# tree made before keeps its own kind; ./nslab.sh test makes it a full one.
lesson_build_type() {
  local cache=build/CMakeCache.txt
  if [ -f "$cache" ]; then
    sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache"
  else
    echo Quick
  fi
}

case "${1:-start}" in
  start)
    # Only what the lessons run: nslab and tinysh (the tests are built by ./nslab.sh test).
    [ -x build/bin/nslab ] || echo "nslab: building nslab and tinysh (a few minutes the first time)"
    build_main "" "nslab tinysh" "$(lesson_build_type)"
    # Lessons 0 to 3 give each box a user namespace of its own and run as you; the lesson says
    # when one needs root here (sudo), and nslab lists which (build/bin/nslab).
    exec build/bin/nslab lesson 1
    ;;
  test)
    # The fuzz build is a second build with clang, holding only the parsers and their targets;
    # the main test run then fuzzes each for a bounded time as one of its tests.
    cmake --preset fuzz >/dev/null
    cmake --build --preset fuzz -j"$jobs"
    build_main "$PWD/build-fuzz" "" RelWithDebInfo
    # The unit suites once more, built with AddressSanitizer and UndefinedBehaviorSanitizer: a
    # bad read, a leak or an overflow in the parsers, the plan or the lesson format aborts them.
    cmake --preset sanitize >/dev/null
    cmake --build --preset sanitize -j"$jobs"
    for suite in shell_unit sandbox_unit lesson_unit; do
      echo "nslab: $suite under ASan and UBSan"
      # The control: a suite that is not instrumented would pass here without checking anything.
      ldd build-sanitize/bin/$suite | grep -q libasan ||
        { echo "nslab: build-sanitize/bin/$suite is not built with AddressSanitizer" >&2; exit 1; }
      build-sanitize/bin/$suite --minimal
    done
    ctest --preset default -j1
    ;;
  *)
    echo "usage: $0 [start | test]" >&2
    exit 2
    ;;
esac
