//===- LogitDistill.h - a few epochs of KL distillation ---------*- C++ -*-===//
#ifndef MLP_PASSES_LOGITDISTILL_H
#define MLP_PASSES_LOGITDISTILL_H

#include "mlp/Passes/Interpreter.h"
#include "mlp/Passes/WeightStore.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlp {

struct LogitDistillOptions {
  int64_t epochs = 0;
  double learningRate = 1e-3;
  double temperature = 2.0;
  int64_t batch = 64;
};

/// Trains every linear layer of `model` (a chain of linears, each followed by
/// activations and per-neuron affine maps: eval-mode batch norms, per-channel
/// or scalar scales and shifts, which stay fixed; one 2-D input and output)
/// for a few epochs of Adam on
/// T^2 KL(softmax(teacher / T) || softmax(student / T)) over the calibration
/// inputs, and writes the new weights to the store. With 500 or more
/// calibration rows, a tenth is held out and the epoch with the lowest
/// held-out loss is kept (early stopping). Returns failure with a
/// remark-free error only on bad input; a model of another shape is left
/// alone and `applied` says so.
mlir::LogicalResult logitDistill(mlir::func::FuncOp model, WeightStore &store,
                                 const HostTensor &input,
                                 const HostTensor &teacherLogits,
                                 const LogitDistillOptions &options,
                                 bool &applied);

} // namespace mlp

#endif // MLP_PASSES_LOGITDISTILL_H
