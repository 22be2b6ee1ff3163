//===- ElementwiseOps.cpp - math functions and constants ------------------===//
#include "mlp/IR/MLPOps.h"

using namespace mlir;
using namespace mlp;

LogicalResult ConstantOp::verify() {
  if (getType().getRank() != 0)
    return emitOpError("result must be a rank-0 tensor, got ") << getType();
  return success();
}
