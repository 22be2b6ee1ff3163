//===- Interpreter.h - evaluating mlp IR on calibration data ----*- C++ -*-===//
//
// Pruning and distillation need the model's activations on calibration
// data. This evaluates a model function of the mlp dialect directly, in
// float64, with the weights of a WeightStore: no code generation, so the
// passes work in mlp-opt as in mlpc. It is not a fast path; calibration sets
// are small.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_PASSES_INTERPRETER_H
#define MLP_PASSES_INTERPRETER_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <vector>

namespace mlp {
class WeightStore;

struct HostTensor {
  std::vector<int64_t> shape;
  std::vector<double> data; // row-major
  int64_t numElements() const;
};

/// Evaluates `func` on `inputs` (one per argument, in order). `observe` sees
/// every op result as it is computed. Fails, with an error at the op, on an
/// op it cannot evaluate or a weight the store lacks.
mlir::LogicalResult
interpret(mlir::func::FuncOp func, const WeightStore &weights,
          llvm::ArrayRef<HostTensor> inputs, std::vector<HostTensor> &outputs,
          llvm::function_ref<void(mlir::Value, const HostTensor &)> observe =
              nullptr);

} // namespace mlp

#endif // MLP_PASSES_INTERPRETER_H
