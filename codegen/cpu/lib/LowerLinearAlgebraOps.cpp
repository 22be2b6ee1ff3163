//===- LowerLinearAlgebraOps.cpp - matmul and patch_embed to linalg -------===//
#include "LinalgBuilders.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlp::cpu;

namespace {

/// The (in, out) weight is what linalg.matmul reads: no transpose, so the
/// weight store keeps the checkpoint's layout.
struct MatmulLowering : public OpConversionPattern<mlp::MatmulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, buildRowMatmul(rewriter, op.getLoc(), adaptor.getInput(),
                           adaptor.getWeight(), adaptor.getBias(),
                           cast<RankedTensorType>(op.getType())));
    return success();
  }
};

} // namespace

void mlp::cpu::populateLowerLinearAlgebraOpsPatterns(
    RewritePatternSet &patterns) {
  patterns.add<MatmulLowering>(patterns.getContext());
}
