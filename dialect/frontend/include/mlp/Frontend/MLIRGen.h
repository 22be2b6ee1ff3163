//===- MLIRGen.h - .mlp AST to the mlp dialect ------------------*- C++ -*-===//
//
// Turns a parsed `.mlp` file into one `func.func @<model>` of mlp ops: defs
// are inlined, repeats unrolled, parameters named and shapes checked with
// mlp::shape (ShapeRules.h), so that whatever is emitted verifies.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_FRONTEND_MLIRGEN_H
#define MLP_FRONTEND_MLIRGEN_H

#include "mlp/Frontend/AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace mlp::frontend {

/// Emits the mlp dialect for `module`, loading the mlp and func dialects into
/// `context`. Errors are reported as MLIR diagnostics on FileLineColLoc
/// locations of the `.mlp` source (install a SourceMgrDiagnosticHandler to
/// print them with the source line); returns null on error. A returned
/// module verifies.
mlir::OwningOpRef<mlir::ModuleOp> emitMLIR(mlir::MLIRContext &context,
                                           const ModuleAST &module);

} // namespace mlp::frontend

#endif // MLP_FRONTEND_MLIRGEN_H
