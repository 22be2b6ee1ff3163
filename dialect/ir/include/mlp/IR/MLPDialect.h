//===- MLPDialect.h - the mlp dialect ---------------------------*- C++ -*-===//
#ifndef MLP_IR_MLPDIALECT_H
#define MLP_IR_MLPDIALECT_H

#include "mlir/IR/Dialect.h"

#include "mlp/IR/MLPDialect.h.inc"

#endif // MLP_IR_MLPDIALECT_H
