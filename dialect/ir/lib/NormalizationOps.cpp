//===- NormalizationOps.cpp - batch_norm ----------------------------------===//
#include "OpVerification.h"
#include "mlp/IR/MLPOps.h"

using namespace mlir;
using namespace mlp;

LogicalResult BatchNormOp::verify() {
  if (!(getEps().convertToDouble() > 0.0))
    return emitOpError("eps must be positive");
  std::string error;
  auto expected = shape::batchNorm(
      detail::shapeOf(getInput()), detail::shapeOf(getMean()),
      detail::shapeOf(getVariance()), detail::optionalShapeOf(getWeight()),
      detail::optionalShapeOf(getBias()), error);
  return detail::verifyResult(*this, expected, error);
}
