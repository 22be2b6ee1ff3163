//===- DialectRegistration.h - dialects of the CPU pipeline -----*- C++ -*-===//
#ifndef MLP_CODEGEN_CPU_DIALECTREGISTRATION_H
#define MLP_CODEGEN_CPU_DIALECTREGISTRATION_H

#include "mlir/IR/DialectRegistry.h"

namespace mlp::cpu {
/// Registers exactly the dialects, bufferization models and LLVM
/// translations that mlp IR meets on its way to LLVM IR, and nothing more.
void registerCodegenDialects(mlir::DialectRegistry &registry);
} // namespace mlp::cpu

#endif // MLP_CODEGEN_CPU_DIALECTREGISTRATION_H
