//===- ShapeOps.cpp - concat and slice: verifiers and folds ---------------===//
#include "OpVerification.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlp;

LogicalResult ConcatOp::verify() {
  // I64Attr accessors return the value as unsigned.
  auto axis = static_cast<int64_t>(getAxis());
  if (axis < 0)
    return emitOpError("axis must be non-negative, got ") << axis;
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value input : getInputs())
    shapes.push_back(detail::shapeOf(input));
  std::string error;
  auto expected = shape::concat(shapes, axis, error);
  return detail::verifyResult(*this, expected, error);
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  return {};
}

namespace {
/// concat(concat(a, b), c) == concat(a, b, c) along one axis.
struct FlattenConcats : public OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<Value> inputs;
    bool changed = false;
    for (Value input : op.getInputs()) {
      auto inner = input.getDefiningOp<ConcatOp>();
      if (inner && inner.getAxis() == op.getAxis() && inner->hasOneUse()) {
        llvm::append_range(inputs, inner.getInputs());
        changed = true;
      } else {
        inputs.push_back(input);
      }
    }
    if (!changed)
      return failure();
    rewriter.replaceOpWithNewOp<ConcatOp>(op, op.getType(), inputs,
                                          op.getAxisAttr());
    return success();
  }
};
} // namespace

void ConcatOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                           MLIRContext *context) {
  results.add<FlattenConcats>(context);
}

//===----------------------------------------------------------------------===//
// SliceOp
//===----------------------------------------------------------------------===//

LogicalResult SliceOp::verify() {
  // I64Attr accessors return the values as unsigned.
  std::string error;
  auto expected = shape::slice(
      detail::shapeOf(getInput()), static_cast<int64_t>(getAxis()),
      static_cast<int64_t>(getStart()), static_cast<int64_t>(getEnd()), error);
  return detail::verifyResult(*this, expected, error);
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// BroadcastToOp
//===----------------------------------------------------------------------===//

LogicalResult BroadcastToOp::verify() {
  std::string error;
  auto expected = shape::broadcastTo(detail::shapeOf(getInput()),
                                     getType().getShape(), error);
  return detail::verifyResult(*this, expected, error);
}

OpFoldResult BroadcastToOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}
