//===- ExportModel.h - mlp IR back to the .mlp language ---------*- C++ -*-===//
#ifndef MLPC_EXPORTMODEL_H
#define MLPC_EXPORTMODEL_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/raw_ostream.h"

namespace mlpc {

/// Prints the model function as a .mlp file whose parameter names are the
/// IR's (so that the weights written beside it load unchanged). Fails, with
/// an error at the op, on an op the language cannot express that way.
mlir::LogicalResult exportModel(mlir::func::FuncOp model,
                                llvm::raw_ostream &os);

} // namespace mlpc

#endif // MLPC_EXPORTMODEL_H
