//===- ElementwiseOps.cpp - math functions and constants ------------------===//
#include "OpVerification.h"
#include "mlp/IR/MLPOps.h"

using namespace mlir;
using namespace mlp;

LogicalResult ConstantOp::verify() {
  if (getType().getRank() != 0)
    return emitOpError("result must be a rank-0 tensor, got ") << getType();
  return success();
}

LogicalResult DivOp::verify() {
  std::string error;
  auto expected = shape::broadcast(detail::shapeOf(getLhs()),
                                   detail::shapeOf(getRhs()), error);
  return detail::verifyResult(*this, expected, error);
}
