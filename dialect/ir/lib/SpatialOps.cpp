//===- SpatialOps.cpp - conv2d and avg_pool2d -----------------------------===//
#include "OpVerification.h"
#include "mlp/IR/MLPOps.h"

using namespace mlir;
using namespace mlp;

// I64Attr accessors return the values as unsigned.

LogicalResult Conv2DOp::verify() {
  std::string error;
  auto expected = shape::conv2d(
      detail::shapeOf(getInput()), detail::shapeOf(getWeight()),
      detail::optionalShapeOf(getBias()), static_cast<int64_t>(getStride()),
      static_cast<int64_t>(getPadding()), error);
  return detail::verifyResult(*this, expected, error);
}

LogicalResult AvgPool2DOp::verify() {
  std::string error;
  auto expected = shape::avgPool2d(detail::shapeOf(getInput()),
                                   static_cast<int64_t>(getKernel()),
                                   static_cast<int64_t>(getStride()),
                                   static_cast<int64_t>(getPadding()), error);
  return detail::verifyResult(*this, expected, error);
}
