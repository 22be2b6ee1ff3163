//===- safetensors.h - Minimal safetensors reader and writer ----*- C++ -*-===//
//
// A small, defensive reader for the safetensors format
// (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header mapping tensor names to {dtype, shape, data_offsets},
// then the raw data section. Both the runtime (weights at model creation) and
// the compiler (weights at compile time) use it, so it has no dependency on
// LLVM/MLIR. Every malformed input yields an error message; no input makes it
// read outside the mapped file.
//
//===----------------------------------------------------------------------===//

#ifndef MLP_SAFETENSORS_H
#define MLP_SAFETENSORS_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mlp {

/// One tensor of a mapped file. `dtype` uses mlpc's names ("float32",
/// "bfloat16", "int64", "bool", ...), not the file's codes ("F32", ...).
/// `data` points into the mapping and lives as long as the SafetensorsFile.
struct TensorView {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  const uint8_t *data;
  uint64_t nbytes;
};

/// Why SafetensorsFile::open failed: the runtime reports these differently
/// (MLP_ERR_IO vs. MLP_ERR_FORMAT).
enum class SafetensorsError { None, Io, Format };

/// A read-only memory mapping of a validated safetensors file. The file
/// descriptor is closed right after mapping; the mapping keeps the data alive.
class SafetensorsFile {
public:
  /// Opens and validates `path`. Returns nullptr and sets `error` (a message
  /// naming the file and, where relevant, the tensor) on failure; `kind`, if
  /// given, says whether the file could not be read or is malformed.
  static std::unique_ptr<SafetensorsFile>
  open(const std::string &path, std::string &error,
       SafetensorsError *kind = nullptr);

  /// The tensor called `name`, or nullptr if the file has none.
  const TensorView *find(const std::string &name) const;
  /// All tensors, sorted by their offset in the data section.
  const std::vector<TensorView> &tensors() const { return Tensors; }
  const std::string &path() const { return Path; }

  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile &) = delete;
  SafetensorsFile &operator=(const SafetensorsFile &) = delete;

private:
  SafetensorsFile() = default;

  std::string Path;
  void *Base = nullptr;
  size_t Size = 0;
  std::vector<TensorView> Tensors;
};

/// A tensor to store with writeSafetensors; `dtype` uses mlpc's names.
struct TensorToWrite {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  const void *data;
  uint64_t nbytes;
};

/// Writes `tensors` to `path` as safetensors: the header is padded with
/// spaces to a multiple of 8 bytes and the data follow in the given order.
/// The file is written to `path + ".tmp"` and renamed, so readers never see a
/// partial file. Returns false and sets `error` on failure.
bool writeSafetensors(const std::string &path,
                      const std::vector<TensorToWrite> &tensors,
                      std::string &error);

/// Bytes per element of an mlpc dtype name ("float32" -> 4); 0 if unknown.
size_t dtypeSize(const std::string &dtype);

} // namespace mlp

#endif // MLP_SAFETENSORS_H
