//===- TempDir.h - Scratch directories for the unit tests -------*- C++ -*-===//

#ifndef MLP_TEST_UNIT_TEMPDIR_H
#define MLP_TEST_UNIT_TEMPDIR_H

#include <cstdio>
#include <cstdlib>
#include <ftw.h>
#include <string>

namespace mlp::test {

/// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
public:
  TempDir() {
    char name[] = "/tmp/mlp-runtime-test-XXXXXX";
    if (char *dir = ::mkdtemp(name))
      Path = dir;
  }
  ~TempDir() {
    if (!Path.empty())
      ::nftw(Path.c_str(), removeEntry, 16, FTW_DEPTH | FTW_PHYS);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  bool ok() const { return !Path.empty(); }
  std::string file(const std::string &name) const { return Path + "/" + name; }

  /// Writes `bytes` verbatim to `name` and returns its path.
  std::string write(const std::string &name, const std::string &bytes) const {
    std::string path = file(name);
    if (FILE *f = std::fopen(path.c_str(), "wb")) {
      std::fwrite(bytes.data(), 1, bytes.size(), f);
      std::fclose(f);
    }
    return path;
  }

private:
  static int removeEntry(const char *path, const struct stat *, int,
                         struct FTW *) {
    return std::remove(path);
  }
  std::string Path;
};

} // namespace mlp::test

#endif // MLP_TEST_UNIT_TEMPDIR_H
