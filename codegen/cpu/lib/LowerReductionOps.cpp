//===- LowerReductionOps.cpp - sum to linalg ------------------------------===//
#include "LinalgBuilders.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlp::cpu;

namespace {

/// A reduction generic into a zero-filled tensor, as mean's sums.
struct SumLowering : public OpConversionPattern<mlp::SumOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::SumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto axis = static_cast<int64_t>(op.getAxis());
    Value input = adaptor.getInput();
    int64_t count = cast<RankedTensorType>(input.getType()).getDimSize(axis);
    rewriter.replaceOp(op, sumOverAxis(rewriter, op.getLoc(), input, axis,
                                       Value(), count));
    return success();
  }
};

} // namespace

void mlp::cpu::populateLowerReductionOpsPatterns(RewritePatternSet &patterns) {
  patterns.add<SumLowering>(patterns.getContext());
}
