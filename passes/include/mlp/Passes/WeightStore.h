//===- WeightStore.h - weight values beside the IR --------------*- C++ -*-===//
//
// The IR names weights (mlp.param) and never holds their values: the store
// does. It starts as a memory-mapped .safetensors file; passes that change
// values (pruning, distillation) put owned tensors over the file's, and code
// generation reads whichever is current. See DESIGN.md, "Weights are data".
//
//===----------------------------------------------------------------------===//
#ifndef MLP_PASSES_WEIGHTSTORE_H
#define MLP_PASSES_WEIGHTSTORE_H

#include "mlp/safetensors.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mlp {

class WeightStore {
public:
  /// Opens a .safetensors file; nullptr and `error` on failure.
  static std::unique_ptr<WeightStore> open(const std::string &path,
                                           std::string &error);

  /// The current tensor called `name` (a replacement, else the file's).
  const TensorView *find(const std::string &name) const;
  /// The file the store started from.
  const std::string &path() const { return file->path(); }

  /// Replaces (or adds) a float32 tensor.
  void setFloat32(const std::string &name, std::vector<int64_t> shape,
                  std::vector<float> values);
  /// The values of a float32 tensor, as float64 (empty if absent or not
  /// float32); with `original`, the file's value even if replaced.
  std::vector<double> readAsDouble(const std::string &name,
                                   bool original = false) const;

  /// Writes the current value of every tensor named in `names` to a new
  /// .safetensors file (atomically).
  bool write(const std::string &path, const std::vector<std::string> &names,
             std::string &error) const;

private:
  struct Owned {
    std::vector<float> values;
    TensorView view;
  };
  std::unique_ptr<SafetensorsFile> file;
  std::map<std::string, std::unique_ptr<Owned>> replaced;
};

} // namespace mlp

#endif // MLP_PASSES_WEIGHTSTORE_H
