// A fresh directory under /tmp for one test, removed with everything in it at the end.
#pragma once

#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <stdexcept>
#include <string>

namespace testing {

struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/nslab-test-XXXXXX";
    if (!::mkdtemp(name)) throw std::runtime_error("mkdtemp failed");
    path = name;
  }
  ~TempDir() {
    // FTW_PHYS: never follow a symlink out of the directory; FTW_DEPTH: contents first.
    auto remove_one = [](const char* p, const struct stat*, int, struct FTW*) {
      ::remove(p);
      return 0;
    };
    ::nftw(path.c_str(), remove_one, 16, FTW_DEPTH | FTW_PHYS);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

}  // namespace testing
