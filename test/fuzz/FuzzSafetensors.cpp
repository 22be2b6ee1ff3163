//===- FuzzSafetensors.cpp - libFuzzer target: the safetensors loader -----===//
//
// The bytes become a file, which mlp::SafetensorsFile::open maps and
// validates like any weights file. The contract under test
// (runtime/include/mlp/safetensors.h): every malformed file gives an error
// message and no view; every accepted file describes tensors that lie wholly
// inside the mapping, do not overlap, and agree with their dtype and shape.
// The harness checks all of that independently of the loader's code, and
// reads every byte of every tensor. The mapping is not heap memory, so ASan
// does not watch it: a view past the mapping's last page faults when read,
// and the bounds are checked arithmetically as well (the views, sorted and
// disjoint, must span no more than the file's data section, whose size the
// harness reads from the length prefix itself).
//
// The file is a memfd (anonymous, in memory) reopened through
// /proc/self/fd/N, so the loader's API stays path-based and unchanged and no
// disk I/O slows the fuzzer. Accepted files are also written back with
// writeSafetensors and re-read, which must give the same tensors.
//
//===----------------------------------------------------------------------===//

#include "mlp/safetensors.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

namespace {

[[noreturn]] void violated(const char *what, const std::string &detail) {
  std::fprintf(stderr, "fuzz-safetensors: %s: %s\n", what, detail.c_str());
  __builtin_trap();
}

/// One memfd reused for every input, and its /proc path.
struct MemFile {
  int fd = -1;
  std::string path;
  MemFile() {
    fd = ::memfd_create("fuzz.safetensors", MFD_CLOEXEC);
    if (fd < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path = "/proc/self/fd/" + std::to_string(fd);
  }
  void write(const uint8_t *data, size_t size) {
    if (::ftruncate(fd, 0) != 0 ||
        (size && ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size))) {
      std::perror("memfd write");
      std::abort();
    }
  }
};

/// A scratch directory for the round trip (writeSafetensors renames a
/// temporary file, which a memfd cannot do).
const std::string &scratchDir() {
  static const std::string *dir = [] {
    char name[] = "/tmp/mlpc-fuzz-safetensors-XXXXXX";
    if (!::mkdtemp(name)) {
      std::perror("mkdtemp");
      std::abort();
    }
    std::atexit([] {
      std::string d = scratchDir();
      ::unlink((d + "/rt.safetensors").c_str());
      ::rmdir(d.c_str());
    });
    return new std::string(name);
  }();
  return *dir;
}

uint64_t checkAndSum(const mlp::SafetensorsFile &file, const uint8_t *bytes,
                     size_t fileSize) {
  // An accepted file has a length prefix and a header within the file.
  if (fileSize < 8)
    violated("a file shorter than the length prefix was accepted", "");
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = (headerLen << 8) | bytes[i];
  if (headerLen > fileSize - 8)
    violated("a header longer than the file was accepted", "");
  const uint64_t dataSize = fileSize - 8 - headerLen;
  const uint8_t *first = nullptr, *end = nullptr; // span of non-empty views
  uint64_t sum = 0;
  const mlp::TensorView *previous = nullptr;
  for (const mlp::TensorView &t : file.tensors()) {
    size_t elem = mlp::dtypeSize(t.dtype);
    if (elem == 0)
      violated("unknown dtype accepted", t.name + ": " + t.dtype);
    unsigned __int128 want = elem;
    for (int64_t d : t.shape) {
      if (d < 0)
        violated("negative dimension accepted", t.name);
      want *= static_cast<uint64_t>(d);
      if (want > UINT64_MAX)
        violated("byte count beyond 64 bits accepted", t.name);
    }
    if (want != t.nbytes)
      violated("nbytes disagrees with dtype and shape", t.name);
    if (t.nbytes > fileSize)
      violated("tensor larger than the file", t.name);
    if (file.find(t.name) != &t)
      violated("find() does not return the tensor", t.name);
    // Sorted by offset, non-empty tensors must not overlap.
    if (previous && t.nbytes && previous->nbytes) {
      if (t.data < previous->data)
        violated("tensors not sorted by offset", t.name);
      if (t.data < previous->data + previous->nbytes)
        violated("overlapping tensors accepted",
                 previous->name + ", " + t.name);
    }
    if (t.nbytes) {
      previous = &t;
      if (!first)
        first = t.data;
      end = t.data + t.nbytes;
      if (static_cast<uint64_t>(end - first) > dataSize)
        violated("tensors span more than the data section", t.name);
    }
    // Every byte: ASan/the page end catch a view outside the mapping.
    for (uint64_t i = 0; i < t.nbytes; ++i)
      sum += t.data[i];
  }
  return sum;
}

void roundTrip(const mlp::SafetensorsFile &file) {
  std::vector<mlp::TensorToWrite> out;
  for (const mlp::TensorView &t : file.tensors())
    out.push_back({t.name, t.dtype, t.shape, t.data, t.nbytes});
  const std::string path = scratchDir() + "/rt.safetensors";
  std::string error;
  if (!mlp::writeSafetensors(path, out, error))
    violated("an accepted file cannot be written back", error);
  auto again = mlp::SafetensorsFile::open(path, error);
  if (!again)
    violated("a written file cannot be read back", error);
  if (again->tensors().size() != file.tensors().size())
    violated("round trip changed the tensor count", path);
  for (size_t i = 0; i < out.size(); ++i) {
    const mlp::TensorView &a = file.tensors()[i], &b = again->tensors()[i];
    if (a.name != b.name || a.dtype != b.dtype || a.shape != b.shape ||
        a.nbytes != b.nbytes ||
        (a.nbytes && std::memcmp(a.data, b.data, a.nbytes) != 0))
      violated("round trip changed a tensor", a.name);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static MemFile memFile;
  memFile.write(data, size);
  std::string error;
  mlp::SafetensorsError kind = mlp::SafetensorsError::None;
  auto file = mlp::SafetensorsFile::open(memFile.path, error, &kind);
  if (!file) {
    if (error.empty() || kind == mlp::SafetensorsError::None)
      violated("failure without a message or kind", error);
    return 0;
  }
  if (kind != mlp::SafetensorsError::None)
    violated("success with an error kind", error);
  volatile uint64_t sink = checkAndSum(*file, data, size);
  (void)sink;
  roundTrip(*file);
  return 0;
}
