//===- LowerNormalizationOps.cpp - batch_norm to linalg -------------------===//
#include "LinalgBuilders.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlp::cpu;

namespace {

/// One elementwise generic: the statistics and affine vectors are read along
/// the last dimension.
struct BatchNormLowering : public OpConversionPattern<mlp::BatchNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::BatchNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    Value input = adaptor.getInput();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap feature = AffineMap::get(
        rank, 0, rewriter.getAffineDimExpr(rank - 1), getContext());
    SmallVector<Value> inputs = {input, adaptor.getMean(),
                                 adaptor.getVariance()};
    SmallVector<AffineMap> maps = {id, feature, feature};
    Value weight = adaptor.getWeight(), bias = adaptor.getBias();
    appendAffineOperands(inputs, maps, weight, bias, feature);
    double eps = op.getEps().convertToDouble();
    Value result = elementwise(
        rewriter, loc, type, inputs, maps,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value denom = b.create<math::SqrtOp>(
              l, b.create<arith::AddFOp>(l, args[2], constantF32(b, l, eps)));
          Value y = b.create<arith::DivFOp>(
              l, b.create<arith::SubFOp>(l, args[0], args[1]), denom);
          unsigned next = 3;
          if (weight)
            y = b.create<arith::MulFOp>(l, y, args[next++]);
          if (bias)
            y = b.create<arith::AddFOp>(l, y, args[next++]);
          return y;
        },
        emptyLike(rewriter, loc, type, input));
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlp::cpu::populateLowerNormalizationOpsPatterns(
    RewritePatternSet &patterns) {
  patterns.add<BatchNormLowering>(patterns.getContext());
}
