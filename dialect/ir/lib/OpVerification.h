//===- OpVerification.h - helpers shared by the op verifiers ----*- C++ -*-===//
//
// Private to dialect/ir/lib: every verifier asks mlp::shape for the expected
// result shape and reports its message through verifyResult.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_IR_LIB_OPVERIFICATION_H
#define MLP_IR_LIB_OPVERIFICATION_H

#include "mlp/IR/ShapeRules.h"

#include "mlir/IR/Operation.h"

namespace mlp::detail {

llvm::ArrayRef<int64_t> shapeOf(mlir::Value value);
shape::OptionalShape optionalShapeOf(mlir::Value value);

/// Checks that every operand has the element type of the result and that the
/// result shape is `expected` (or reports `error` when there is none).
mlir::LogicalResult verifyResult(mlir::Operation *op,
                                 const std::optional<shape::Shape> &expected,
                                 const std::string &error);

} // namespace mlp::detail

#endif // MLP_IR_LIB_OPVERIFICATION_H
