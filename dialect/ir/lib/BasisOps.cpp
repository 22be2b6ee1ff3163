//===- BasisOps.cpp - bspline_basis ---------------------------------------===//
#include "OpVerification.h"
#include "mlp/IR/MLPOps.h"

using namespace mlir;
using namespace mlp;

LogicalResult BSplineBasisOp::verify() {
  // I64Attr accessors return the value as unsigned.
  std::string error;
  auto expected = shape::bsplineBasis(detail::shapeOf(getInput()),
                                      detail::shapeOf(getGrid()),
                                      static_cast<int64_t>(getOrder()), error);
  return detail::verifyResult(*this, expected, error);
}
