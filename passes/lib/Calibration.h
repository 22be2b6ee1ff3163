//===- Calibration.h - calibration inputs and shared helpers ----*- C++ -*-===//
#ifndef MLP_PASSES_CALIBRATION_H
#define MLP_PASSES_CALIBRATION_H

#include "mlp/Passes/Interpreter.h"
#include "mlp/Passes/WeightStore.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <memory>
#include <string>
#include <vector>

namespace mlp::calibration {

/// The model function (`mlp.model`) of `module`, or null with an error.
mlir::func::FuncOp findModel(mlir::ModuleOp module);

/// Reads one float32 tensor per model input (named like the input) from a
/// .safetensors file: the input's shape with the batch as the sample count,
/// the same count for every input, finite values only. Every failure is an
/// error at the model naming the input and the problem.
mlir::FailureOr<std::vector<HostTensor>>
load(mlir::func::FuncOp model, const std::string &path, int64_t &samples);

/// The store to work on: the driver's, or one opened from `path` (kept in
/// `owned`) for mlp-opt.
WeightStore *storeFor(WeightStore *given, const std::string &path,
                      std::shared_ptr<WeightStore> &owned,
                      mlir::Operation *anchor);

} // namespace mlp::calibration

#endif // MLP_PASSES_CALIBRATION_H
