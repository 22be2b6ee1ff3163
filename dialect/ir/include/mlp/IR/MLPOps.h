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

#endif // MLP_IR_MLPOPS_H
