//===- EmbeddingOps.cpp - embedding and padding_mask ----------------------===//
#include "OpVerification.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlp;

/// The result's element type is the table's (the ids are integers).
LogicalResult EmbeddingOp::verify() {
  std::string error;
  auto expected = shape::embedding(detail::shapeOf(getIds()),
                                   detail::shapeOf(getTable()), error);
  if (!expected)
    return emitOpError(error);
  if (getType().getElementType() != getTable().getType().getElementType())
    return emitOpError("result element type ")
           << getType().getElementType()
           << " differs from the table element type "
           << getTable().getType().getElementType();
  if (getType().getShape() != ArrayRef<int64_t>(*expected))
    return emitOpError("result shape ")
           << shape::format(getType().getShape()) << " should be "
           << shape::format(*expected);
  return success();
}

LogicalResult PaddingMaskOp::verify() {
  if (getType().getShape() != getIds().getType().getShape())
    return emitOpError("result shape ")
           << shape::format(getType().getShape()) << " should be "
           << shape::format(getIds().getType().getShape());
  return success();
}
