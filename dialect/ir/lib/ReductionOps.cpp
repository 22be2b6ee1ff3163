//===- ReductionOps.cpp - sum and softmax ---------------------------------===//
#include "OpVerification.h"
#include "mlp/IR/MLPOps.h"

using namespace mlir;
using namespace mlp;

LogicalResult SumOp::verify() {
  // I64Attr accessors return the value as unsigned.
  auto axis = static_cast<int64_t>(getAxis());
  if (axis < 0)
    return emitOpError("axis must be non-negative, got ") << axis;
  std::string error;
  auto expected = shape::sum(detail::shapeOf(getInput()), axis, error);
  return detail::verifyResult(*this, expected, error);
}

LogicalResult SoftmaxOp::verify() {
  auto axis = static_cast<int64_t>(getAxis());
  if (axis < 0)
    return emitOpError("axis must be non-negative, got ") << axis;
  std::string error;
  auto expected = shape::softmax(detail::shapeOf(getInput()), axis, error);
  return detail::verifyResult(*this, expected, error);
}
