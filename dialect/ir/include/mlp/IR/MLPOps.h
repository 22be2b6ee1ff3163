//===- MLPOps.h - operations of the mlp dialect -----------------*- C++ -*-===//
#ifndef MLP_IR_MLPOPS_H
#define MLP_IR_MLPOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "mlp/IR/MLPDialect.h"

#define GET_OP_CLASSES
#include "mlp/IR/MLPOps.h.inc"

#include <string>

namespace mlp {

/// The safetensors / metadata name of an element type ("float32",
/// "float16", "bfloat16", "float64", "int64", "int32"), "" for others.
std::string dtypeName(mlir::Type type);

/// True if `op` swaps the last two axes of a tensor of rank >= 3 and keeps
/// the others (the transposes around token-mixing linears).
bool swapsLastTwoAxes(TransposeOp op);

} // namespace mlp

#endif // MLP_IR_MLPOPS_H
